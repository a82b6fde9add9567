// Every string of the page in English and Korean, the one-line explanation of every control
// ("help.KEY"), and each optimizer's update rule per flavor (from the docstrings of
// src/descentlab/optimizers.py and docs OPTIMIZERS.md).
//
// Markup: elements carry data-i18n="key" (text), data-i18n-title="key" (tooltip) or
// data-i18n-html="key" (trusted markup from this file only); applyLang() fills them in.

const en = {
  title: "descentlab playground",
  subtitle: "Chapter 9 you can turn the knobs of: vanishing gradients and optimizers, live.",
  "mode.play": "Play", "mode.compare": "Compare", "mode.surfaces": "Surfaces",
  "help.mode": "Play: one network. Compare: configurations A and B side by side. Surfaces: optimizers on 2-D functions.",
  lang: "한국어", "help.lang": "Switch the interface to Korean",
  explain: "Explanations", "help.explain": "Show or hide the one-line explanation under every control",
  epoch: "Epoch",
  play: "Run / pause", "help.play": "Start or pause training",
  step: "One step", "help.step": "Train one epoch, then stop",
  reset: "Reset", "help.reset": "Rebuild the network with the same seed: the same initial weights, epoch 0",
  learningRate: "Learning rate", "help.learningRate": "How far each update moves the weights (lr)",
  activation: "Activation", "help.activation": "The hidden layers' nonlinearity; sigmoid's slope is at most 0.25",
  regularization: "Regularization", "help.regularization": "A penalty on large kernel weights (L1: |w|, L2: w²)",
  regularizationRate: "Regularization rate", "help.regularizationRate": "How strong that penalty is",
  problem: "Problem type", "help.problem": "Classification: two colours of points. Regression: a value at each point",
  "problem.classification": "Classification", "problem.regression": "Regression",
  optimizer: "Optimizer", "help.optimizer": "The update rule that turns the gradient into a weight change",
  flavor: "Flavor", "help.flavor": "Whose update equations: Keras 3 or PyTorch (defaults stay Keras')",
  data: "Data", "data.which": "Which data set do you want to use?",
  "help.dataset": "The points the network learns to separate (or fit)",
  "ds.circle": "Circle", "ds.xor": "Exclusive or", "ds.gauss": "Two Gaussians", "ds.spiral": "Spiral",
  "ds.reg-plane": "Plane", "ds.reg-gauss": "Multi Gaussian", "ds.csv": "Your CSV",
  percTrainData: "Ratio of training to test data", "help.percTrainData": "Share of the points used for training; the rest measure the test loss",
  noise: "Noise", "help.noise": "How much the labels and points are perturbed",
  batchSize: "Batch size", "help.batchSize": "Points per update; 'full' uses all of them: plain gradient descent",
  full: "full",
  seed: "Seed", "help.seed": "Fixes the data, the initial weights and the batch order",
  regenerate: "Regenerate", "help.regenerate": "A new random seed: new data and new initial weights",
  csv: "Your own data (CSV)", "help.csv": "A CSV file read in this page (never a path on disk): two numeric columns and a label",
  "csv.choose": "Choose a CSV file…",
  "csv.x1": "x₁ column", "csv.x2": "x₂ column", "csv.label": "label column", "csv.lastColumn": "(last column)",
  "csv.tooBig": "The file {name} has {size} bytes; the limit is {limit} bytes. Choose a smaller file.",
  "csv.loaded": "{name}: {rows} rows",
  "csv.none": "This link uses an uploaded CSV, which a link cannot carry; showing {ds} instead. Choose the file again.",
  features: "Features", "features.which": "Which properties do you want to feed in?",
  "help.features": "Click a feature to switch it on or off as an input",
  hiddenLayers: "hidden layers", hiddenLayer: "hidden layer",
  "help.layers": "Add or remove a hidden layer (up to {max})",
  neurons: "neurons", neuron: "neuron",
  "help.neurons": "Add or remove a neuron in this layer (up to {max})",
  perLayer: "per layer", "help.perLayer": "Choose an activation and an initializer for every layer separately",
  output: "Output", testLoss: "Test loss", trainLoss: "Training loss",
  showTestData: "Show test data", "help.showTestData": "Draw the test points too (with a dark outline)",
  discretize: "Discretize output", "help.discretize": "Show only the decided class, not the probability",
  colorsNote: "Colours show data, neuron and weight values.",
  initializer: "Initializer", "help.initializer": "How the kernels start: the scale of the first weights",
  batchNorm: "Batch normalization", "help.batchNorm": "Dense → BatchNormalization → activation: keeps each layer's input centred and scaled",
  dropout: "Dropout", "help.dropout": "Share of hidden units switched off at random during training",
  momentum: "Momentum μ", "help.momentum": "How much of the previous step is kept",
  beta1: "β₁", "help.beta1": "Decay of the first moment m (the mean of g)",
  beta2: "β₂", "help.beta2": "Decay of the second moment v (the mean of g²)",
  rho: "ρ", "help.rho": "Decay of the running mean of g²",
  epsilon: "ε", "help.epsilon": "Keeps the division finite when v is near 0",
  weightDecay: "Weight decay λ", "help.weightDecay": "Decoupled shrinkage of every weight, p ← p − lr·λ·p",
  updateRule: "Update rule", chapter: "Optimizer and network",
  "help.updateRule": "g gradient, p parameter, t step (1 at the first update), lr learning rate",
  gradFlow: "Gradient flow", "help.gradFlow": "‖∂L/∂W‖ of each layer's kernel over epochs, on a log axis; layer 1 is next to the input",
  gradProfile: "Gradient by layer (now)", "help.gradProfile": "Each layer's kernel gradient norm now; the dashed line is the sigmoid bound 0.25^(L−l) × the last layer's",
  guide: "0.25ᴸ bound", layer: "layer",
  saturation: "Saturated and dead units", "help.saturation": "Per layer: share of units saturated (slope near 0) and dead (never active)",
  saturated: "saturated", dead: "dead",
  tint: "Tint by gradient", "help.tint": "Darken each neuron by the size of its gradient (log scale 1e-8 → 1): a vanishing gradient fades toward the input",
  diagnosis: "Diagnosis", "help.diagnosis": "What descentlab's dl.diagnose finds in the gradient flow, with its remedy",
  "diag.none": "No problem found so far.", "diag.wait": "The diagnosis appears once training runs.",
  apply: "Apply", "help.apply": "Apply this remedy to the configuration",
  lossChart: "Loss", diverged: "diverged",
  editing: "Editing", "help.editing": "Which configuration the controls change: A, or B's differences",
  presets: "Presets", "preset.depth": "sigmoid vs ReLU at depth 8", "preset.adam": "SGD vs Adam",
  "help.preset": "Load a ready-made comparison",
  surface: "Surface", "help.surface": "The function the optimizers descend",
  steps: "Steps", "help.steps": "How many updates each optimizer takes",
  start: "Start", "help.start": "Click on the contour map to choose where every optimizer starts",
  defaultStart: "default start",
  addRun: "+ optimizer", "help.addRun": "Add an optimizer to the race (up to 9)",
  remove: "remove", run: "Run",
  scrub: "Step", "help.scrub": "Drag to see the trajectories at any step",
  lossPerStep: "Loss per step", "help.lossPerStep": "f(p) at each step, on a log axis when every value is positive; ✕ marks a divergence",
  clickStart: "Click the map to set the start.",
  disconnected: "Disconnected from the server; reconnecting…",
  dismiss: "Dismiss",
  weightIs: "Weight {v}", biasIs: "Bias {v}", gradIs: "‖∂L/∂W[:, j]‖ {v}",
  "act.linear": "Linear", "act.sigmoid": "Sigmoid", "act.tanh": "Tanh", "act.relu": "ReLU",
  "act.softplus": "Softplus", "act.leaky_relu": "Leaky ReLU", "act.elu": "ELU", "act.selu": "SELU",
  "act.gelu": "GELU", "act.silu": "SiLU",
  "opt.gd": "GD (full batch)", "opt.sgd": "SGD", "opt.momentum": "Momentum", "opt.nesterov": "NAG (Nesterov)", "opt.nag": "NAG (Nesterov)",
  "opt.adagrad": "Adagrad", "opt.rmsprop": "RMSprop", "opt.adam": "Adam", "opt.adamw": "AdamW", "opt.nadam": "Nadam",
  "reg.none": "None", "reg.L1": "L1", "reg.L2": "L2", inherit: "(global)",
  "feat.x": "X₁", "feat.y": "X₂", "feat.xSquared": "X₁²", "feat.ySquared": "X₂²", "feat.xTimesY": "X₁X₂",
  "feat.sinX": "sin(X₁)", "feat.sinY": "sin(X₂)", "feat.cosX": "cos(X₁)", "feat.cosY": "cos(X₂)",
};

const ko = {
  title: "descentlab 플레이그라운드",
  subtitle: "손잡이를 돌려 보는 9장: 기울기 소실과 옵티마이저를 실시간으로.",
  "mode.play": "학습", "mode.compare": "비교", "mode.surfaces": "손실 곡면",
  "help.mode": "학습: 신경망 하나. 비교: A와 B 두 설정을 나란히. 손실 곡면: 2차원 함수 위의 옵티마이저.",
  lang: "English", "help.lang": "화면을 영어로 바꿉니다",
  explain: "설명", "help.explain": "각 조정 항목 아래의 한 줄 설명을 보이거나 숨깁니다",
  epoch: "에포크",
  play: "실행 / 일시정지", "help.play": "학습을 시작하거나 멈춥니다",
  step: "한 단계", "help.step": "에포크 하나만 학습하고 멈춥니다",
  reset: "초기화", "help.reset": "같은 시드로 신경망을 다시 만듭니다: 같은 초기 가중치, 에포크 0",
  learningRate: "학습률", "help.learningRate": "한 번의 업데이트로 가중치가 움직이는 크기 (lr)",
  activation: "활성화 함수", "help.activation": "은닉층의 비선형 함수. 시그모이드의 기울기는 최대 0.25입니다",
  regularization: "규제", "help.regularization": "큰 가중치에 주는 벌점 (L1: |w|, L2: w²)",
  regularizationRate: "규제 강도", "help.regularizationRate": "그 벌점의 크기",
  problem: "문제 유형", "help.problem": "분류: 두 가지 색의 점. 회귀: 각 점의 값",
  "problem.classification": "분류", "problem.regression": "회귀",
  optimizer: "옵티마이저", "help.optimizer": "기울기를 가중치 변화로 바꾸는 업데이트 규칙",
  flavor: "방식", "help.flavor": "어느 라이브러리의 업데이트 식인가: Keras 3 또는 PyTorch (기본값은 Keras)",
  data: "데이터", "data.which": "어떤 데이터셋을 쓸까요?",
  "help.dataset": "신경망이 구분하도록 (또는 맞추도록) 배우는 점들",
  "ds.circle": "원", "ds.xor": "배타적 논리합 (XOR)", "ds.gauss": "두 가우시안", "ds.spiral": "나선",
  "ds.reg-plane": "평면", "ds.reg-gauss": "여러 가우시안", "ds.csv": "내 CSV",
  percTrainData: "학습 데이터 비율", "help.percTrainData": "학습에 쓰는 점의 비율. 나머지로 테스트 손실을 잽니다",
  noise: "노이즈", "help.noise": "점과 레이블을 흔드는 정도",
  batchSize: "배치 크기", "help.batchSize": "한 번 업데이트에 쓰는 점의 수. 'full'은 전부: 경사 하강법",
  full: "전체",
  seed: "시드", "help.seed": "데이터, 초기 가중치, 배치 순서를 고정합니다",
  regenerate: "다시 생성", "help.regenerate": "새 무작위 시드: 새 데이터와 새 초기 가중치",
  csv: "내 데이터 (CSV)", "help.csv": "이 페이지에서 읽는 CSV 파일 (디스크 경로는 보내지 않음): 숫자 열 두 개와 레이블",
  "csv.choose": "CSV 파일 고르기…",
  "csv.x1": "x₁ 열", "csv.x2": "x₂ 열", "csv.label": "레이블 열", "csv.lastColumn": "(마지막 열)",
  "csv.tooBig": "파일 {name}의 크기는 {size}바이트로, 한도 {limit}바이트를 넘습니다. 더 작은 파일을 고르세요.",
  "csv.loaded": "{name}: {rows}행",
  "csv.none": "이 링크는 업로드한 CSV를 쓰지만 링크에는 파일이 담기지 않습니다. 대신 {ds} 데이터를 보여 줍니다. 파일을 다시 고르세요.",
  features: "입력 특성", "features.which": "어떤 특성을 입력할까요?",
  "help.features": "특성을 눌러 입력으로 켜거나 끕니다",
  hiddenLayers: "은닉층", hiddenLayer: "은닉층",
  "help.layers": "은닉층을 더하거나 뺍니다 (최대 {max}개)",
  neurons: "뉴런", neuron: "뉴런",
  "help.neurons": "이 층의 뉴런을 더하거나 뺍니다 (최대 {max}개)",
  perLayer: "층별 설정", "help.perLayer": "층마다 활성화 함수와 초기화를 따로 고릅니다",
  output: "출력", testLoss: "테스트 손실", trainLoss: "학습 손실",
  showTestData: "테스트 데이터 표시", "help.showTestData": "테스트 점도 그립니다 (진한 테두리)",
  discretize: "출력 이산화", "help.discretize": "확률 대신 결정된 클래스만 보여 줍니다",
  colorsNote: "색은 데이터, 뉴런, 가중치의 값을 나타냅니다.",
  initializer: "가중치 초기화", "help.initializer": "커널의 시작 방법: 첫 가중치의 크기",
  batchNorm: "배치 정규화", "help.batchNorm": "Dense → BatchNormalization → 활성화: 각 층의 입력을 가운데로 모으고 크기를 맞춥니다",
  dropout: "드롭아웃", "help.dropout": "학습 중 무작위로 끄는 은닉 유닛의 비율",
  momentum: "모멘텀 μ", "help.momentum": "이전 이동을 얼마나 이어 가는가",
  beta1: "β₁", "help.beta1": "1차 모멘트 m(g의 평균)의 감쇠율",
  beta2: "β₂", "help.beta2": "2차 모멘트 v(g²의 평균)의 감쇠율",
  rho: "ρ", "help.rho": "g² 이동 평균의 감쇠율",
  epsilon: "ε", "help.epsilon": "v가 0에 가까울 때 나눗셈이 무한대가 되지 않게 합니다",
  weightDecay: "가중치 감쇠 λ", "help.weightDecay": "모든 가중치를 분리해서 줄입니다, p ← p − lr·λ·p",
  updateRule: "업데이트 규칙", chapter: "옵티마이저와 신경망",
  "help.updateRule": "g 기울기, p 파라미터, t 단계 (첫 업데이트가 1), lr 학습률",
  gradFlow: "기울기 흐름", "help.gradFlow": "층마다 커널 기울기의 크기 ‖∂L/∂W‖를 에포크에 따라 로그 축에 그립니다. 1층이 입력 쪽입니다",
  gradProfile: "층별 기울기 (현재)", "help.gradProfile": "지금 각 층의 커널 기울기 크기. 점선은 시그모이드 한계 0.25^(L−l) × 마지막 층의 값",
  guide: "0.25ᴸ 한계", layer: "층",
  saturation: "포화된 유닛과 죽은 유닛", "help.saturation": "층마다 포화된 유닛(기울기가 0에 가까움)과 죽은 유닛(한 번도 활성화되지 않음)의 비율",
  saturated: "포화", dead: "죽음",
  tint: "기울기로 색칠", "help.tint": "뉴런을 기울기 크기에 따라 어둡게 합니다 (로그 척도 1e-8 → 1): 기울기가 소실되면 입력 쪽으로 갈수록 어두워집니다",
  diagnosis: "진단", "help.diagnosis": "descentlab의 dl.diagnose가 기울기 흐름에서 찾은 문제와 해결책",
  "diag.none": "아직 발견된 문제가 없습니다.", "diag.wait": "학습을 시작하면 진단이 나타납니다.",
  apply: "적용", "help.apply": "이 해결책을 설정에 적용합니다",
  lossChart: "손실", diverged: "발산",
  editing: "편집 대상", "help.editing": "조정 항목이 바꾸는 설정: A, 또는 B의 차이",
  presets: "예시", "preset.depth": "깊이 8에서 시그모이드 vs ReLU", "preset.adam": "SGD vs Adam",
  "help.preset": "미리 만들어 둔 비교를 불러옵니다",
  surface: "곡면", "help.surface": "옵티마이저가 내려가는 함수",
  steps: "단계 수", "help.steps": "각 옵티마이저가 하는 업데이트 횟수",
  start: "시작점", "help.start": "등고선 지도를 눌러 모든 옵티마이저의 시작점을 고릅니다",
  defaultStart: "기본 시작점",
  addRun: "+ 옵티마이저", "help.addRun": "경주에 옵티마이저를 더합니다 (최대 9개)",
  remove: "삭제", run: "실행",
  scrub: "단계", "help.scrub": "끌어서 원하는 단계의 궤적을 봅니다",
  lossPerStep: "단계별 손실", "help.lossPerStep": "각 단계의 f(p). 모든 값이 양수이면 로그 축. ✕는 발산한 곳",
  clickStart: "지도를 눌러 시작점을 정하세요.",
  disconnected: "서버와 연결이 끊겼습니다. 다시 연결하는 중…",
  dismiss: "닫기",
  weightIs: "가중치 {v}", biasIs: "편향 {v}", gradIs: "‖∂L/∂W[:, j]‖ {v}",
  "act.linear": "선형", "act.sigmoid": "시그모이드", "act.tanh": "Tanh", "act.relu": "ReLU",
  "act.softplus": "Softplus", "act.leaky_relu": "Leaky ReLU", "act.elu": "ELU", "act.selu": "SELU",
  "act.gelu": "GELU", "act.silu": "SiLU",
  "opt.gd": "경사 하강법 (GD, 전체 배치)", "opt.sgd": "확률적 경사 하강법 (SGD)", "opt.momentum": "모멘텀",
  "opt.nesterov": "네스테로프 모멘텀 (NAG)", "opt.nag": "네스테로프 모멘텀 (NAG)", "opt.adagrad": "아다그라드 (Adagrad)",
  "opt.rmsprop": "알엠에스프롭 (RMSprop)", "opt.adam": "아담 (Adam)", "opt.adamw": "AdamW", "opt.nadam": "Nadam",
  "reg.none": "없음", "reg.L1": "L1", "reg.L2": "L2", inherit: "(전체 설정)",
  "feat.x": "X₁", "feat.y": "X₂", "feat.xSquared": "X₁²", "feat.ySquared": "X₂²", "feat.xTimesY": "X₁X₂",
  "feat.sinX": "sin(X₁)", "feat.sinY": "sin(X₂)", "feat.cosX": "cos(X₁)", "feat.cosY": "cos(X₂)",
};

export const STRINGS = { en, ko };

let current = "en";
export function setLang(lang) { current = lang === "ko" ? "ko" : "en"; }
export function getLang() { return current; }

// t("csv.tooBig", {name: "a.csv", …}); falls back to English, then to the key itself.
export function t(key, vars) {
  let s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

// A human name for an option value of a select: "act.relu", "opt.adam", … or the value itself.
export function optionName(prefix, value) {
  const key = `${prefix}.${value}`;
  return STRINGS[current][key] ?? STRINGS.en[key] ?? value;
}

export function applyLang(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-html]")) el.innerHTML = t(el.dataset.i18nHtml);
}

// ---- update rules ----------------------------------------------------------------------
// One line per equation; the formulas are the same in both languages, the notes are not.
// Symbols: μ momentum, ρ rho, β₁ β₂, ε epsilon, λ weight decay.
const SGD = ["p ← p − lr·g"];
export const FORMULAS = {
  gd: { keras: SGD, pytorch: SGD },
  sgd: { keras: SGD, pytorch: SGD },
  momentum: {
    keras: ["m ← μ·m − lr·g", "p ← p + m"],
    pytorch: ["buf ← μ·buf + g   (buf = g at t = 1)", "p ← p − lr·buf"],
  },
  nesterov: {
    keras: ["m ← μ·m − lr·g", "p ← p + μ·m − lr·g"],
    pytorch: ["buf ← μ·buf + g   (buf = g at t = 1)", "p ← p − lr·(g + μ·buf)"],
  },
  adagrad: {
    keras: ["acc ← acc + g²   (acc starts at 0.1)", "p ← p − lr·g / √(acc + ε)"],
    pytorch: ["acc ← acc + g²   (acc starts at 0)", "p ← p − lr·g / (√acc + ε)"],
  },
  rmsprop: {
    keras: ["v ← ρ·v + (1−ρ)·g²", "p ← p − lr·g / √(v + ε)"],
    pytorch: ["v ← ρ·v + (1−ρ)·g²", "p ← p − lr·g / (√v + ε)"],
  },
  adam: {
    keras: ["α = lr·√(1−β₂ᵗ) / (1−β₁ᵗ)", "m ← m + (g − m)(1−β₁)", "v ← v + (g² − v)(1−β₂)",
      "p ← p − α·m / (√v + ε)"],
    pytorch: ["m ← β₁·m + (1−β₁)·g", "v ← β₂·v + (1−β₂)·g²",
      "p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)"],
  },
  adamw: {
    keras: ["p ← p − lr·λ·p   (decoupled, before the step)", "α = lr·√(1−β₂ᵗ) / (1−β₁ᵗ)",
      "m ← m + (g − m)(1−β₁)", "v ← v + (g² − v)(1−β₂)", "p ← p − α·m / (√v + ε)"],
    pytorch: ["p ← p·(1 − lr·λ)   (decoupled, before the step)", "m ← β₁·m + (1−β₁)·g",
      "v ← β₂·v + (1−β₂)·g²", "p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)"],
  },
  nadam: {
    keras: ["uₜ = β₁(1 − ½·0.96ᵗ) ;  uₜ₊₁ = β₁(1 − ½·0.96ᵗ⁺¹) ;  Πₜ = Πₜ₋₁·uₜ",
      "m ← m + (g − m)(1−β₁) ;  v ← v + (g² − v)(1−β₂)",
      "m̂ = uₜ₊₁·m/(1 − Πₜ·uₜ₊₁) + (1 − uₜ)·g/(1 − Πₜ) ;  v̂ = v/(1 − β₂ᵗ)",
      "p ← p − lr·m̂ / (√v̂ + ε)"],
    pytorch: ["μₜ = β₁(1 − ½·0.96^(t·0.004)) ;  Πₜ = Πₜ₋₁·μₜ",
      "m ← β₁·m + (1−β₁)·g ;  v ← β₂·v + (1−β₂)·g² ;  denom = √(v/(1−β₂ᵗ)) + ε",
      "p ← p − lr(1−μₜ)/(1−Πₜ)·g/denom − lr·μₜ₊₁/(1−Πₜ·μₜ₊₁)·m/denom"],
  },
};

// One sentence per optimizer: the idea behind the rule.
export const OPT_NOTES = {
  en: {
    gd: "Every update uses the gradient over the whole training set (batch size full).",
    sgd: "Every update uses the gradient of one mini-batch: cheaper, noisier steps.",
    momentum: "Remembers the previous step: zig-zags cancel, steps along a valley add up.",
    nesterov: "Momentum that looks ahead: the step is corrected by where momentum is heading.",
    adagrad: "Each weight's step shrinks with its accumulated squared gradients.",
    rmsprop: "Divides the step by a running root-mean-square of recent gradients (forgets the old ones).",
    adam: "Momentum (m) and RMSprop (v) together, bias-corrected for the first steps.",
    adamw: "Adam with weight decay applied directly to the weights, not through the gradient.",
    nadam: "Adam with Nesterov's look-ahead momentum.",
  },
  ko: {
    gd: "매 업데이트에 학습 데이터 전체의 기울기를 씁니다 (배치 크기 전체).",
    sgd: "매 업데이트에 미니배치 하나의 기울기를 씁니다: 계산은 싸고 걸음은 흔들립니다.",
    momentum: "이전 이동을 기억합니다: 지그재그는 상쇄되고 골짜기를 따르는 이동은 쌓입니다.",
    nesterov: "앞을 내다보는 모멘텀: 모멘텀이 향하는 곳의 기울기로 보정합니다.",
    adagrad: "가중치마다 지금까지의 기울기 제곱 합이 클수록 보폭을 줄입니다.",
    rmsprop: "최근 기울기의 제곱 평균의 제곱근으로 보폭을 나눕니다 (오래된 기울기는 잊습니다).",
    adam: "모멘텀(m)과 RMSprop(v)을 합치고, 처음 몇 단계의 편향을 보정합니다.",
    adamw: "가중치 감쇠를 기울기가 아니라 가중치에 직접 적용하는 Adam.",
    nadam: "네스테로프의 앞을 내다보는 모멘텀을 쓰는 Adam.",
  },
};

// In Korean, the parenthesised notes inside the formulas are translated on the fly.
const FORMULA_KO = [
  ["(buf = g at t = 1)", "(t = 1에서 buf = g)"],
  ["(acc starts at 0.1)", "(acc는 0.1에서 시작)"],
  ["(acc starts at 0)", "(acc는 0에서 시작)"],
  ["(decoupled, before the step)", "(분리된 감쇠, 업데이트 전에)"],
];

export function formulaLines(optimizer, flavor) {
  const lines = (FORMULAS[optimizer] || FORMULAS.sgd)[flavor === "pytorch" ? "pytorch" : "keras"];
  if (current !== "ko") return lines;
  return lines.map((l) => FORMULA_KO.reduce((s, [a, b]) => s.replace(a, b), l));
}
