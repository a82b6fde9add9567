// descentlab playground: the page's state, URL hash, WebSocket client, controls and modes.
// Training runs in the server; this page renders what it is sent (docs/playground.md).
//
// Stable hooks for tests
// ----------------------
//   #mode-play #mode-compare #mode-surfaces   mode tabs          #lang        ko/en switch
//   #play-pause #step #reset                  run controls       #epoch       epoch counter
//   #loss-train #loss-test (#loss-train-b #loss-test-b in compare mode)
//   #learning-rate #activation #regularization #regularization-rate #problem #optimizer #flavor
//   #momentum #beta1 #beta2 #rho #epsilon #weight-decay #initializer #dropout #batch-norm
//   #perc-train #noise #batch-size #batch-full #seed #regenerate #show-test-data #discretize
//   #layers-add #layers-remove #num-layers    #neurons-add-<l> #neurons-remove-<l> (l from 0)
//   #per-layer #layer-activation-<l> #layer-initializer-<l> #grad-tint #feature-<name>
//   .dataset[data-dataset=circle|xor|gauss|spiral|reg-plane|reg-gauss|csv]
//   #network #output-heatmap (#output-heatmap-b) #output-points #loss-chart
//   #grad-chart (#grad-chart-b) #grad-profile #saturation-bars #diagnosis (.apply-fix buttons)
//   #formula #edit-a #edit-b #preset-depth #preset-adam
//   #csv-file #csv-info #csv-x1 #csv-x2 #csv-label
//   #surface #surface-canvas #surface-steps #surface-runs #surface-add-run #surface-play
//   #surface-scrub #surface-loss            #messages (role=alert; .message .dismiss)
//   document.body.dataset.status: connecting | connected | ready | playing | paused
//     ("ready": a network was (re)built and has not been played or stepped since)
//   document.body.dataset.surface: playing | paused (surfaces animation)
//   window.descentlab = {state, lastFrame, ready, updated, hello, trajectories, dataset, send(msg)}
//     (ready / updated / trajectories / dataset: the server's last message of that type;
//      updated is its `config`, the validated configuration a live change put in force)

import { DEFAULTS, FEATURES, SCHEMA, DISPLAY_KEYS, SHARED_KEYS, SURFACE_KEYS, clone, configB, freshState,
  parseHash, sameValue, toHash, trainingConfig } from "./state.js";
import { applyLang, formulaLines, getLang, OPT_NOTES, optionName, setLang, t } from "./i18n.js";
import { axes, drawPoints, drawThumbnail, paint } from "./heatmap.js";
import { NetworkView } from "./network.js";
import { depthColor, fractionBars, lineChart } from "./charts.js";
import { RUN_COLORS, SurfacesView } from "./surfaces.js";
import { isVisible, onResize, onVisible, sizeOf } from "./size.js";

const $ = (sel) => document.querySelector(sel);
const $$ = (sel) => [...document.querySelectorAll(sel)];

const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const EPSILONS = [1e-10, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1];
const BATCH_STOPS = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 200, 250, 500];
const CLASS_SETS = ["circle", "xor", "gauss", "spiral"];
const REG_SETS = ["reg-plane", "reg-gauss"];
const OUTPUT_ALPHA = 0.8;  // the output's picture, lighter than the data points drawn over it
const HISTORY_MAX = 600;    // points per curve before the history is thinned by half (the
                           // charts are narrower than that in pixels)

// ---- the page's state --------------------------------------------------------------------
let state = parseHash(location.hash, freshState(DEFAULTS));
const ui = {
  editing: "A",         // which configuration the controls change in compare mode
  perLayer: state.activations.length > 0 || state.initializers.length > 0,
  tint: false,
  explain: true,
};
let hello = null;       // the server's hello: limits, options, defaults
let ready = null;       // the last `ready`
let lastFrame = null;
let played = false;     // since the last ready: was play or step pressed (status "paused")
let uploaded = null;    // {name, text, answer}: the CSV the server accepted on this connection
let uploading = null;   // {name, text}: the one sent, until the server answers `dataset`
const runsView = [];    // per run: {loss: [[epoch, train, test]], grads: [[epoch, norms…]], inputs, diagnosis}
let trajectories = null;
let updated = null;     // the config of the last `updated` (a live change the server applied)

window.descentlab = {
  get state() { return state; },
  get lastFrame() { return lastFrame; },
  get ready() { return ready; },
  get hello() { return hello; },
  get trajectories() { return trajectories; },
  get updated() { return updated; },
  get dataset() { return uploaded?.answer ?? null; },
  send: (m) => send(m),
};

setLang(state.lang);

// ---- WebSocket -----------------------------------------------------------------------------
let ws = null;
let retry = 500;
function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.addEventListener("open", () => { retry = 500; dismissById("disconnected"); });
  ws.addEventListener("message", (e) => onMessage(JSON.parse(e.data)));
  ws.addEventListener("close", () => {
    document.body.dataset.status = "connecting";
    uploaded = uploading = null;  // the server forgets an upload with its connection
    showMessage(t("disconnected"), "disconnected", "info");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 8000);
  });
}
function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function onMessage(m) {
  switch (m.type) {
    case "hello": onHello(m); break;
    case "ready": onReady(m); break;
    case "frame": onFrame(m); break;
    case "updated": updated = m.config; changeAnswered = true; break;  // the next frame shows it
    case "dataset": onDataset(m); break;
    case "trajectories": onTrajectories(m); break;
    case "error": onError(m); break;
    default: break;
  }
}

function onHello(m) {
  hello = m;
  // the server's defaults, then the hash on top (lang: the hash, else the server's --lang)
  const defaults = { ...DEFAULTS, ...m.defaults, lang: m.lang || DEFAULTS.lang };
  const surfaces = m.options.surfaces || [];
  if (surfaces.length && !surfaces.some((s) => s.name === defaults.surface)) defaults.surface = surfaces[0].name;
  const hadUpload = state.dataset === "csv" || state.regDataset === "csv";
  state = parseHash(location.hash, freshState(defaults));
  if (!location.hash.includes("lang=")) state.lang = defaults.lang;
  if (hadUpload && !uploaded) dropCsv();
  setLang(state.lang);
  document.body.dataset.status = "connected";
  fillOptions();
  renderAll();
  sendConfig();
  if (state.mode === "surfaces") requestSurface();
}

// A link cannot carry an uploaded file: fall back to the default data set, and say so.
function dropCsv() {
  for (const [key, dflt] of [["dataset", "circle"], ["regDataset", "reg-plane"]]) {
    if (state[key] === "csv") {
      state[key] = hello?.defaults?.[key] && hello.defaults[key] !== "csv" ? hello.defaults[key] : dflt;
      showMessage(t("csv.none", { ds: optionName("ds", state[key]) }), null, "info");
    }
    if (state.b[key] === "csv") delete state.b[key];
  }
}

let readySerial = 0;     // counts `ready` messages: the data drawn under the output changes with it
function onReady(m) {
  ready = m;
  changeAnswered = true;
  readySerial += 1;
  played = false;
  runsView.length = 0;
  m.runs.forEach(() => runsView.push({ loss: [], grads: [], inputs: null, diagnosis: null }));
  document.body.dataset.status = "ready";
  buildNetwork();
  updateAxes();
}

// Frames are drawn in requestAnimationFrame; only the newest is drawn, and it is acknowledged
// after drawing, so the server never runs more than 2 frames ahead of the screen.
let pending = null;
function onFrame(m) {
  if (!ready) return;
  m.runs.forEach((run, i) => {
    const v = runsView[i];
    if (!v) return;
    if (run.inputs) v.inputs = run.inputs;
    if (run.diagnosis) v.diagnosis = run.diagnosis;
    const epoch = run.epoch ?? m.epoch;
    pushHistory(v.loss, [epoch, run.loss?.train ?? NaN, run.loss?.test ?? NaN]);
    if (run.gradients?.length) pushHistory(v.grads, [epoch, ...run.gradients.map((g) => g.kernel_norm ?? NaN)]);
  });
  if (m.playing) played = true;
  // the first frame after the server answered a change shows all of it at once, numbers too
  if (changeAnswered) { changeAnswered = false; slowDue = true; }
  pending = m;
  requestAnimationFrame(drawPending);
}

function pushHistory(list, row) {
  const last = list[list.length - 1];
  if (last && row[0] < last[0]) list.length = 0;        // a rebuild started over
  if (last && row[0] === last[0]) list[list.length - 1] = row; else list.push(row);
  if (list.length > HISTORY_MAX) {                       // keep every other point (and the last)
    const kept = list.filter((_, i) => i % 2 === 0 || i === list.length - 1);
    list.length = 0;
    list.push(...kept);
  }
}

function drawPending() {
  const m = pending;
  if (!m) return;
  pending = null;
  lastFrame = m;
  drawFrame(m, { stream: !!m.playing });
  send({ type: "ack", frame: m.frame });
  document.body.dataset.status = m.playing ? "playing" : (played ? "paused" : "ready");
  document.body.classList.toggle("playing", !!m.playing);
}

function onError(m) {
  showMessage(m.message, null, "error");
  if (m.key) {
    const el = document.querySelector(`.control[data-key="${CSS.escape(m.key.split("[")[0])}"]`);
    if (el) { el.classList.add("flash"); setTimeout(() => el.classList.remove("flash"), 1500); }
  }
}

// ---- sending the configuration ------------------------------------------------------------
// Sent at once, before anything is redrawn: the server starts on it while the page updates
// its controls (a timer here would wait behind the frame being drawn).
function sendConfig() {
  if (!hello || state.mode === "surfaces") return;
  send({ type: "config", config: trainingConfig(state),
    b: state.mode === "compare" ? clone(state.b) : null });
}

function requestSurface() {
  if (!hello) return;
  send({ type: "surface", surface: state.surface, start: state.start.length === 2 ? state.start : null,
    runs: state.runs, steps: state.steps });
}

function onTrajectories(m) {
  trajectories = m;
  surfacesView.show(m);
  renderSurfaceControls();
}

// ---- state changes --------------------------------------------------------------------------
// The configuration the controls show and change: A, or B (A with B's differences).
function editingB() { return state.mode === "compare" && ui.editing === "B"; }
function view() { return editingB() ? configB(state) : state; }

// Set one key on the configuration being edited. In B, a value equal to A's is no difference.
function setKey(key, value) {
  if (editingB() && !DISPLAY_KEYS.has(key) && !SURFACE_KEYS.has(key) && !SHARED_KEYS.has(key)) {
    if (sameValue(value, state[key])) delete state.b[key]; else state.b[key] = clone(value);
  } else {
    state[key] = clone(value);
    if (key in state.b && sameValue(state.b[key], value)) delete state.b[key];
  }
}

// A control changed `keys` of the state: tell the server first, then update the page.
function changed(keys) {
  const training = keys.some((k) => !DISPLAY_KEYS.has(k) && !SURFACE_KEYS.has(k));
  if (training) sendConfig();
  if (keys.some((k) => SURFACE_KEYS.has(k))) requestSurface();
  writeHash();
  renderControls();
  if (keys.some((k) => DISPLAY_KEYS.has(k)) && lastFrame) drawFrame(lastFrame);
}

// The URL hash follows the state, written at most every HASH_EVERY ms (history.replaceState
// is not free, and a slider dragged across its range would call it dozens of times a second);
// the last write always carries the latest state.
const HASH_EVERY = 200;
let hashTimer = 0;
let hashWritten = -Infinity;
let hashOwn = location.hash;    // the hash as the page last wrote (or read) it
function writeHash() {
  if (hashTimer) return;                                 // a write is due: it will read the state then
  const wait = Math.max(0, hashWritten + HASH_EVERY - performance.now());
  hashTimer = setTimeout(flushHash, wait);
}
function flushHash() {
  clearTimeout(hashTimer);
  hashTimer = 0;
  // a link pasted since the page last wrote the hash wins: its hashchange reads it
  if (location.hash !== hashOwn) return;
  hashWritten = performance.now();
  const h = `#${toHash(state)}`;
  if (location.hash !== h) history.replaceState(null, "", h);
  hashOwn = location.hash;
}

// A pasted link (the hash changed by hand): read it back and rebuild.
window.addEventListener("hashchange", () => {
  clearTimeout(hashTimer);
  hashTimer = 0;
  hashOwn = location.hash;
  if (`#${toHash(state)}` === location.hash) return;
  const before = state.mode;
  state = parseHash(location.hash, freshState({ ...DEFAULTS, ...(hello?.defaults || {}) }));
  setLang(state.lang);
  renderAll();
  if (state.mode !== before) setMode(state.mode); else sendConfig();
});

// ---- filling and rendering controls -------------------------------------------------------
function option(value, text) {
  const o = document.createElement("option");
  o.value = String(value);
  o.textContent = text;
  return o;
}

// Replaces the options only when the list or the language changed (controls are rendered on
// every change; rebuilding every select each time would cost more than the change itself).
function fillSelect(sel, values, label = (v) => v) {
  const texts = values.map((v) => String(label(v)));
  const key = `${getLang()}|${values.join("\u0001")}|${texts.join("\u0001")}`;
  if (sel._options === key) return;
  sel._options = key;
  const keep = sel.value;
  sel.replaceChildren(...values.map((v, i) => option(v, texts[i])));
  if (values.map(String).includes(keep)) sel.value = keep;
}

// The select's list, plus the current value when a link brought one that is not in it.
function withCurrent(values, current) {
  return values.includes(current) ? values : [...values, current].sort((a, b) => a - b);
}

function fillOptions() {
  const o = hello?.options || {};
  fillSelect($("#activation"), o.activations || ["linear", "sigmoid", "tanh", "relu"], (v) => optionName("act", v));
  fillSelect($("#initializer"), o.initializers || ["glorot_uniform"]);
  fillSelect($("#optimizer"), Object.keys(o.optimizers || { sgd: [] }), (v) => optionName("opt", v));
  fillSelect($("#regularization"), o.regularizations || ["none", "L1", "L2"], (v) => optionName("reg", v));
  fillSelect($("#problem"), o.problems || ["classification", "regression"], (v) => optionName("problem", v));
  fillSelect($("#surface"), (o.surfaces || []).map((s) => s.name));
  $("#batch-size").max = String(BATCH_STOPS.length - 1);
  buildDatasetList();
}

// The data-set boxes are built when the problem or the language changes; otherwise only the
// selection moves.
let datasetListKey = "";
function buildDatasetList() {
  const list = $("#dataset-list");
  const v = view();
  const regression = v.problem === "regression";
  const key = regression ? "regDataset" : "dataset";
  const listKey = `${regression}|${getLang()}`;
  if (listKey === datasetListKey) {
    for (const box of list.children) box.classList.toggle("selected", box.dataset.dataset === v[key]);
    return;
  }
  datasetListKey = listKey;
  list.replaceChildren();
  for (const name of [...(regression ? REG_SETS : CLASS_SETS), "csv"]) {
    const box = document.createElement("button");
    box.type = "button";
    box.className = "dataset" + (v[key] === name ? " selected" : "");
    box.dataset.dataset = name;
    box.title = optionName("ds", name);
    box.setAttribute("aria-label", optionName("ds", name));
    // drawn on a canvas, shown as an image: a canvas in the page is a layer of its own that
    // the browser composites with every frame, and these pictures never change
    const c = document.createElement("canvas");
    c.width = c.height = 96;
    drawThumbnail(c, name);
    const img = document.createElement("img");
    img.src = c.toDataURL();
    img.alt = "";
    box.append(img);
    box.addEventListener("click", () => {
      if (name === "csv" && !uploaded) { $("#csv-file").click(); return; }
      const k = view().problem === "regression" ? "regDataset" : "dataset";
      setKey(k, name);
      changed([k]);
    });
    list.append(box);
  }
}

function renderControls() {
  const v = view();
  const B = editingB();
  document.body.classList.toggle("editing-b", B);
  // plain selects and inputs bound to one key
  for (const el of $$("select[data-key], input[data-key]")) {
    const key = el.dataset.key;
    if (!(key in SCHEMA) || key === "batchSize" || SURFACE_KEYS.has(key)) continue;
    const value = v[key];
    if (el.type === "checkbox") el.checked = !!value;
    else if (el.tagName === "SELECT" && key === "learningRate") {
      fillSelect(el, withCurrent(LEARNING_RATES, value), String); el.value = String(value);
    } else if (el.tagName === "SELECT" && key === "regularizationRate") {
      fillSelect(el, withCurrent(REG_RATES, value), String); el.value = String(value);
    } else if (el.tagName === "SELECT" && key === "epsilon") {
      fillSelect(el, withCurrent(EPSILONS, value), (x) => x.toExponential(0).replace("e+0", "")); el.value = String(value);
    } else if (document.activeElement !== el) el.value = String(value);
  }
  $("#perc-train-value").textContent = v.percTrainData;
  $("#noise-value").textContent = v.noise;
  $("#dropout-value").textContent = v.dropout;
  // batch size: a slider over BATCH_STOPS, and "full"
  const full = v.batchSize === "full" || v.optimizer === "gd";
  $("#batch-full").checked = full;
  $("#batch-full").disabled = v.optimizer === "gd";
  $("#batch-size").disabled = full;
  const bs = full ? 10 : v.batchSize;
  const idx = BATCH_STOPS.reduce((best, s, i) => (Math.abs(s - bs) < Math.abs(BATCH_STOPS[best] - bs) ? i : best), 0);
  $("#batch-size").value = String(idx);
  $("#batch-size-value").textContent = full ? t("full") : String(v.batchSize);

  // only the chosen optimizer's hyperparameters
  const keys = hello?.options?.optimizers?.[v.optimizer] ?? [];
  for (const k of ["momentum", "beta1", "beta2", "rho", "epsilon", "weightDecay"]) {
    $(`#hyperparams .control[data-key="${k}"]`).classList.toggle("irrelevant", !keys.includes(k));
  }
  renderFormula(v);

  // which differences B has (compare mode)
  for (const el of $$(".control[data-key]")) {
    el.classList.toggle("differs", state.mode === "compare" && el.dataset.key in state.b);
    el.hidden = state.hide.has(el.dataset.key);
  }
  $("#edit-a").classList.toggle("on", !B);
  $("#edit-b").classList.toggle("on", B);
  const diffs = Object.keys(state.b);
  $("#b-summary").textContent = diffs.length
    ? `B: ${diffs.map((k) => `${k} = ${Array.isArray(state.b[k]) ? state.b[k].join(",") : state.b[k]}`).join(" · ")}` : "B = A";
  // the network's header
  $("#num-layers").textContent = v.networkShape.length;
  $("#layers-label").textContent = t(v.networkShape.length === 1 ? "hiddenLayer" : "hiddenLayers");
  const maxLayers = hello?.limits?.maxLayers ?? 16;
  $("#layers-add").disabled = v.networkShape.length >= maxLayers;
  $("#layers-remove").disabled = v.networkShape.length === 0;
  $("#per-layer").checked = ui.perLayer;
  $("#grad-tint").checked = ui.tint;
  $("#network-side").textContent = state.mode === "compare" ? (B ? "B" : "A") : "";
  $("#network-side").className = `network-side tag ${B ? "run-b" : "run-a"}`;
  buildDatasetList();
  // modes and language
  for (const b of $$(".modes button")) b.classList.toggle("on", b.dataset.mode === state.mode);
  document.body.classList.toggle("mode-play", state.mode === "play");
  document.body.classList.toggle("mode-compare", state.mode === "compare");
  document.body.classList.toggle("mode-surfaces", state.mode === "surfaces");
  document.body.classList.toggle("regression", v.problem === "regression");
  $("#train-view").hidden = state.mode === "surfaces";
  $("#surfaces-view").hidden = state.mode !== "surfaces";
  document.body.classList.toggle("no-help", !ui.explain);
}

function renderFormula(v) {
  $("#formula-name").textContent = `${optionName("opt", v.optimizer)} · ${v.flavor === "pytorch" ? "PyTorch" : "Keras"}`;
  const box = $("#formula");
  box.replaceChildren(...formulaLines(v.optimizer, v.flavor).map((line) => {
    const d = document.createElement("div");
    d.textContent = line;
    return d;
  }));
  $("#formula-note").textContent = OPT_NOTES[getLang()][v.optimizer] || "";
}

function renderAll() {
  applyLang();
  fillOptions();
  renderControls();
  renderSurfaceControls();
  if (ready) buildNetwork();
  if (lastFrame) drawFrame(lastFrame);
  renderDiagnosis();
}

// ---- binding controls -----------------------------------------------------------------------
function parseControl(el, key) {
  if (el.type === "checkbox") return el.checked;
  const type = SCHEMA[key];
  if (type === "num" || type === "int") return Number(el.value);
  return el.value;
}

function bindControls() {
  for (const el of $$("select[data-key], input[data-key]")) {
    const key = el.dataset.key;
    if (key === "batchSize" || SURFACE_KEYS.has(key)) continue;
    if (el.type === "range") {
      el.addEventListener("input", () => {
        const out = $(`#${el.id}-value`);
        if (out) out.textContent = el.value;
      });
    }
    el.addEventListener("change", () => {
      const value = parseControl(el, key);
      if ((SCHEMA[key] === "num" || SCHEMA[key] === "int") && !Number.isFinite(value)) return;
      setKey(key, value);
      if (key === "problem") {
        // a CSV is classification or regression by its label: keep data set and problem apart
        buildDatasetList();
      }
      changed([key]);
    });
  }
  $("#batch-size").addEventListener("input", () => {
    $("#batch-size-value").textContent = String(BATCH_STOPS[Number($("#batch-size").value)]);
  });
  $("#batch-size").addEventListener("change", () => {
    setKey("batchSize", BATCH_STOPS[Number($("#batch-size").value)]);
    changed(["batchSize"]);
  });
  $("#batch-full").addEventListener("change", () => {
    setKey("batchSize", $("#batch-full").checked ? "full" : BATCH_STOPS[Number($("#batch-size").value)]);
    changed(["batchSize"]);
  });
  $("#regenerate").addEventListener("click", () => {
    setKey("seed", Math.floor(Math.random() * 2 ** 31));
    changed(["seed"]);
  });

  $("#play-pause").addEventListener("click", () => {
    if (document.body.dataset.status === "playing") send({ type: "pause" });
    else { played = true; send({ type: "play" }); }
  });
  $("#step").addEventListener("click", () => { played = true; send({ type: "step" }); });
  $("#reset").addEventListener("click", () => send({ type: "reset" }));

  $("#layers-add").addEventListener("click", () => changeLayers(1));
  $("#layers-remove").addEventListener("click", () => changeLayers(-1));
  $("#per-layer").addEventListener("change", () => {
    ui.perLayer = $("#per-layer").checked;
    if (!ui.perLayer) {
      const v = view();
      if (v.activations.length || v.initializers.length) {
        setKey("activations", []);
        setKey("initializers", []);
        changed(["activations", "initializers"]);
      }
    }
    renderControls();
    buildNetwork();
  });
  $("#grad-tint").addEventListener("change", () => {
    ui.tint = $("#grad-tint").checked;
    network.setTint(ui.tint);
  });
  $("#explain").addEventListener("change", () => {
    ui.explain = $("#explain").checked;
    renderControls();
  });
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "ko" ? "en" : "ko";
    setLang(state.lang);
    writeHash();
    renderAll();
  });
  for (const b of $$(".modes button")) b.addEventListener("click", () => setMode(b.dataset.mode));
  $("#edit-a").addEventListener("click", () => { ui.editing = "A"; renderControls(); buildNetwork(); redraw(); });
  $("#edit-b").addEventListener("click", () => { ui.editing = "B"; renderControls(); buildNetwork(); redraw(); });
  $("#preset-depth").addEventListener("click", () => preset("depth"));
  $("#preset-adam").addEventListener("click", () => preset("adam"));
  $("#csv-file").addEventListener("change", readCsv);
  for (const id of ["#csv-x1", "#csv-x2", "#csv-label"]) $(id).addEventListener("change", resendCsv);

  // surfaces
  $("#surface").addEventListener("change", () => {
    state.surface = $("#surface").value;
    state.start = [];
    changed(["surface"]);
  });
  $("#surface-steps").addEventListener("change", () => {
    const n = Math.round(Number($("#surface-steps").value));
    if (n >= 1) { state.steps = n; changed(["steps"]); }
  });
  $("#surface-default-start").addEventListener("click", () => { state.start = []; changed(["start"]); });
  $("#surface-add-run").addEventListener("click", () => {
    const max = hello?.limits?.maxSurfaceRuns ?? 9;
    if (state.runs.length >= max) return;
    const opts = hello?.options?.surfaceOptimizers || ["sgd"];
    const next = opts.find((o) => !state.runs.some((r) => r.optimizer === o)) || opts[0];
    state.runs.push({ optimizer: next, learningRate: 0.01 });
    changed(["runs"]);
    renderSurfaceControls();
  });

  // tooltips for the network (weights, biases, gradients)
  document.addEventListener("scroll", () => tooltip(null), true);
}

function redraw() { if (lastFrame) drawFrame(lastFrame); }

function setMode(mode) {
  const before = state.mode;
  state.mode = mode;
  if (mode !== "compare") ui.editing = "A";
  // back from surfaces to the same runs: nothing to rebuild
  const same = before === "surfaces" && ready && (ready.runs.length === 2) === (mode === "compare");
  if (mode === "surfaces") {
    send({ type: "pause" });
    requestSurface();
  } else if (!same) sendConfig();
  writeHash();
  renderControls();
  if (mode === "surfaces") requestAnimationFrame(() => surfacesView.draw());
  else if (same) { buildNetwork(); redraw(); }
}

function changeLayers(delta) {
  const v = view();
  const shape = [...v.networkShape];
  const maxLayers = hello?.limits?.maxLayers ?? 16;
  if (delta > 0 && shape.length < maxLayers) shape.push(shape.length ? shape[shape.length - 1] : 2);
  if (delta < 0 && shape.length > 0) shape.pop();
  const keys = ["networkShape"];
  setKey("networkShape", shape);
  // per-layer lists follow the depth (the server wants one entry per layer, or none)
  for (const [list, glob] of [["activations", "activation"], ["initializers", "initializer"]]) {
    if (v[list].length) {
      const next = shape.map((_, i) => v[list][i] ?? v[glob]);
      setKey(list, next);
      keys.push(list);
    }
  }
  changed(keys);
}

function changeNeurons(layer, delta) {
  const v = view();
  const shape = [...v.networkShape];
  const maxNeurons = hello?.limits?.maxNeurons ?? 16;
  shape[layer] = Math.max(1, Math.min(maxNeurons, shape[layer] + delta));
  setKey("networkShape", shape);
  changed(["networkShape"]);
}

function changeLayerOption(layer, list, value) {
  const v = view();
  const glob = list === "activations" ? "activation" : "initializer";
  const next = v.networkShape.map((_, i) => (i === layer ? (value || v[glob]) : (v[list][i] || v[glob])));
  setKey(list, next.every((x) => x === v[glob]) ? [] : next);
  changed([list]);
}

function toggleFeature(name) {
  const v = view();
  if (v[name] && FEATURES.filter((f) => v[f]).length === 1) return;   // keep at least one
  setKey(name, !v[name]);
  changed([name]);
}

// Compare presets: A and B for a classic lesson of the chapter.
function preset(which) {
  const deep = [8, 8, 8, 8, 8, 8, 8, 8];
  const base = { activations: [], initializers: [], batchNorm: false, dropout: 0,
    regularization: "none", regularizationRate: 0, flavor: "keras", problem: "classification" };
  let a, b;
  if (which === "depth") {
    a = { ...base, dataset: "circle", networkShape: deep, activation: "sigmoid",
      initializer: "glorot_uniform", optimizer: "sgd", learningRate: 0.03, batchSize: 10 };
    b = { activation: "relu", initializer: "he_normal" };
  } else {
    a = { ...base, dataset: "spiral", networkShape: [8, 8, 8], activation: "tanh",
      initializer: "glorot_uniform", optimizer: "sgd", learningRate: 0.03, batchSize: 10 };
    b = { optimizer: "adam", learningRate: 0.01 };
  }
  Object.assign(state, clone(a));
  state.b = clone(b);
  state.mode = "compare";
  ui.editing = "A";
  ui.perLayer = false;
  sendConfig();
  writeHash();
  renderControls();
}

// ---- own data (CSV) -----------------------------------------------------------------------
function readCsv() {
  const file = $("#csv-file").files[0];
  if (!file) return;
  const limit = hello?.limits?.maxUploadBytes ?? 1 << 20;
  if (file.size > limit) {
    showMessage(t("csv.tooBig", { name: file.name, size: file.size.toLocaleString(), limit: limit.toLocaleString() }), null, "error");
    $("#csv-file").value = "";
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    const text = String(reader.result);
    if (new TextEncoder().encode(text).length > limit) {
      showMessage(t("csv.tooBig", { name: file.name, size: file.size.toLocaleString(), limit: limit.toLocaleString() }), null, "error");
      return;
    }
    uploading = { name: file.name, text };
    send({ type: "upload", name: file.name, text });
  };
  reader.readAsText(file);
}

// The same file again with other columns. A new label column takes the x₁/x₂ columns that
// stay features; one that was x₁ or x₂ lets the server choose those again.
function resendCsv(event) {
  if (!uploaded) return;
  const label = $("#csv-label").value;
  const m = { type: "upload", name: uploaded.name, text: uploaded.text, label };
  const x1 = $("#csv-x1").value, x2 = $("#csv-x2").value;
  if (event?.target?.id !== "csv-label" || (x1 !== label && x2 !== label)) { m.x1 = x1; m.x2 = x2; }
  send(m);
}

function onDataset(m) {
  // the file the server has now (a refused one leaves the last accepted one in place)
  if (uploading) uploaded = { ...uploading, answer: m };
  else if (uploaded) uploaded.answer = m;
  uploading = null;
  $("#csv-info").textContent = t("csv.loaded", { name: m.name, rows: m.rows });
  // `columns`: every column, the label's included; `label`: the label column's name. x₁ and x₂
  // are chosen among the others (numeric ones: the server says which in an error otherwise).
  const cols = m.columns || [];
  const features = cols.filter((c) => c !== m.label);
  fillSelect($("#csv-x1"), features);
  fillSelect($("#csv-x2"), features);
  fillSelect($("#csv-label"), cols);
  $("#csv-x1").value = m.x1;
  $("#csv-x2").value = m.x2;
  $("#csv-label").value = m.label;
  $("#csv-columns").hidden = false;
  // the label decides the problem: two classes → classification, numbers → regression
  const problem = m.classes ? "classification" : "regression";
  const key = problem === "classification" ? "dataset" : "regDataset";
  const same = state.problem === problem && state[key] === "csv";
  state.problem = problem;
  state[key] = "csv";
  if (same) {
    send({ type: "reset" });     // same configuration, new data: the server rebuilds on reset
    writeHash();
    renderControls();
  } else changed(["problem", key]);
}

// ---- drawing a frame ------------------------------------------------------------------------
const network = new NetworkView($("#network"), {
  onToggleFeature: toggleFeature,
  onNeurons: changeNeurons,
  onLayerOption: changeLayerOption,
  tooltip,
});

function sideIndex() { return editingB() && ready?.runs.length > 1 ? 1 : 0; }

function buildNetwork() {
  if (!ready || state.mode === "surfaces") return;
  const i = sideIndex();
  const run = ready.runs[i];
  const v = view();
  network.build({ features: run.features, shape: run.shape, layers: run.layers, state: v,
    options: hello?.options || {}, limits: hello?.limits || { maxNeurons: 16, maxLayers: 16 },
    perLayer: ui.perLayer, hide: state.hide });
  network.tint = ui.tint;
  const f = lastFrame?.runs?.[i];
  if (f) network.update(f, runsView[i]?.inputs, state.discretize);
}

function updateAxes() {
  const { x, y } = axes(ready?.domain);
  const f = (v) => String(Math.round(v * 10) / 10).replace("-", "−");
  for (const el of $$(".axis-x")) el.replaceChildren(...[x[0], (x[0] + x[1]) / 2, x[1]].map((v) => span(f(v))));
  for (const el of $$(".axis-y")) el.replaceChildren(...[y[1], (y[0] + y[1]) / 2, y[0]].map((v) => span(f(v))));
}
function span(text) { const s = document.createElement("span"); s.textContent = text; return s; }

function fmtLoss(v) { return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(3); }

// The elements a frame writes to, looked up once.
const frameEls = ["", "-b"].map((sfx, i) => ({
  lossTrain: $(`#loss-train${sfx}`), lossTest: $(`#loss-test${sfx}`),
  diverged: $(`#diverged-${i === 0 ? "a" : "b"}`), heat: $(`#output-heatmap${sfx}`),
  points: $(`#output-points${sfx}`),
}));
const epochEl = $("#epoch");

// textContent / hidden written only when they change: an unchanged write still dirties the page.
function setText(el, text) { if (el._text !== text) { el._text = text; el.textContent = text; } }
function setHidden(el, hidden) { if (el.hidden !== hidden) el.hidden = hidden; }

// While playing, the numbers (epoch, losses) and the charts are drawn at most every SLOW_EVERY
// ms, not with every frame: they lie far from the network and the output, and the browser
// composites the one rectangle that holds everything a frame changed, so a frame that also
// changes them costs the compositor about twice as much. The first frames after the server
// answered a change draw them at once (slowDue), and so does any frame drawn while paused.
const SLOW_EVERY = 100;
let slowDrawn = -Infinity;     // when the numbers and charts were last drawn
let slowDue = true;
let changeAnswered = false;    // a `ready` or `updated` arrived; the next frame shows its effect

// A frame draws only what a frame changes: numbers, heatmaps, the network's colours and the
// charts. The data points under the output are drawn again only when the data, the canvas size
// or "show test data" changed; no element's size is read from the layout (size.js).
// stream: a frame of a playing run (the numbers and charts may wait, above).
function drawFrame(m, { stream = false } = {}) {
  if (!ready) return;
  const now = performance.now();
  const slow = !stream || slowDue || now - slowDrawn >= SLOW_EVERY;
  if (slow) {
    slowDrawn = now;
    const epoch = String(m.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    // after a change, every frame shows its numbers until the epoch moves on (the frame that
    // comes with the server's answer repeats the epoch of the one before)
    if (epoch !== epochEl._text) slowDue = false;
    setText(epochEl, epoch);
  }
  const regression = ready.problem === "regression";
  m.runs.forEach((run, i) => {
    const el = frameEls[i];
    if (!el) return;
    if (slow) {
      setText(el.lossTrain, fmtLoss(run.loss?.train));
      setText(el.lossTest, fmtLoss(run.loss?.test));
    }
    setHidden(el.diverged, !run.diverged);
    if (run.output) {
      if (el.heat.width !== run.output.n) el.heat.width = el.heat.height = run.output.n;
      // 80 % over white: a point of the region's own colour stays visible (style.css)
      paint(el.heat, run.output, { discrete: state.discretize && !regression, alpha: OUTPUT_ALPHA });
    }
    drawDataPoints(el.points, regression);
  });
  const i = sideIndex();
  if (m.runs[i]) network.update(m.runs[i], runsView[i]?.inputs, state.discretize && !regression);
  if (slow) drawCharts(m);
  renderDiagnosis();
}

// The charts, each only when some of it is in the window (a chart scrolled out of sight is
// drawn when it comes back: onVisible below).
function drawCharts(m) {
  if (isVisible($("#loss-chart"))) drawLossChart();
  drawGradCharts(m);
}

function drawDataPoints(pts, regression) {
  const dpr = window.devicePixelRatio || 1;
  const size = Math.round((sizeOf(pts).w || 300) * dpr);
  const key = `${readySerial}|${size}|${state.showTestData}`;
  if (pts._drawn === key) return;
  pts._drawn = key;
  if (pts.width !== size) pts.width = pts.height = size;
  else pts.getContext("2d").clearRect(0, 0, pts.width, pts.height);
  drawPoints(pts, ready.data.train, ready.domain, { regression, radius: 3.2 * dpr });
  if (state.showTestData) drawPoints(pts, ready.data.test, ready.domain, { test: true, regression, radius: 3.2 * dpr });
}

function drawLossChart() {
  const series = [];
  const names = ready.runs.length > 1 ? ["A ", "B "] : ["", ""];
  runsView.forEach((v, i) => {
    const dash = i === 1 ? [6, 3] : [];
    series.push({ points: v.loss.map((r) => [r[0], r[2]]), color: i ? "#0d5f8f" : "#000", dash, label: `${names[i]}${t("testLoss")}` });
    series.push({ points: v.loss.map((r) => [r[0], r[1]]), color: i ? "#7fb2d4" : "#888", dash, label: `${names[i]}${t("trainLoss")}` });
  });
  lineChart($("#loss-chart"), series, { legend: true, yMin: 0 });
}

// Is every hidden layer sigmoid? Then draw the 0.25ᴸ bound.
function sigmoidNet(run) {
  const hidden = run.layers.slice(0, -1);
  return hidden.length > 0 && hidden.every((l) => l.activation === "sigmoid");
}

function drawGradCharts(m) {
  runsView.forEach((v, i) => {
    const canvas = $(i === 0 ? "#grad-chart" : "#grad-chart-b");
    if (!canvas || !isVisible(canvas)) return;
    const L = (v.grads[0]?.length ?? 1) - 1;
    const series = [];
    for (let l = 0; l < L; l++) {
      series.push({ points: v.grads.map((r) => [r[0], r[l + 1]]), color: depthColor(l, L),
        label: l === L - 1 ? `${t("layer")} ${l + 1} (${t("output")})` : `${t("layer")} ${l + 1}` });
    }
    const guides = [];
    if (L > 1 && sigmoidNet(ready.runs[i])) {
      guides.push({ points: v.grads.map((r) => [r[0], r[L] * 0.25 ** (L - 1)]), color: "#c0392b",
        label: `${t("guide")}: ${t("layer")} 1` });
    }
    lineChart(canvas, series, { log: true, guides, legend: true, yFloor: 1e-12 });
  });
  // "now": norms by layer, and saturated/dead bars, for the side being edited
  const i = sideIndex();
  const g = m.runs[i]?.gradients || [];
  const L = g.length;
  const profile = [{ points: g.map((x, l) => [l + 1, x.kernel_norm ?? NaN]), color: "#0877bd", width: 2, label: "‖∂L/∂W‖" }];
  const guides = [];
  if (L > 1 && ready.runs[i] && sigmoidNet(ready.runs[i]) && g[L - 1]?.kernel_norm) {
    guides.push({ points: g.map((_, l) => [l + 1, g[L - 1].kernel_norm * 0.25 ** (L - 1 - l)]), color: "#c0392b", label: t("guide") });
  }
  if (isVisible($("#grad-profile"))) {
    lineChart($("#grad-profile"), profile, { log: true, guides, legend: true, xMin: 1, xMax: Math.max(2, L), yFloor: 1e-12 });
  }
  if (isVisible($("#saturation-bars"))) {
    fractionBars($("#saturation-bars"), g.slice(0, -1), { saturated: t("saturated"), dead: t("dead") });
  }
}

// ---- diagnosis ------------------------------------------------------------------------------
// Built again only when a new diagnosis arrived (about once a second) or the language changed,
// not on every frame: its buttons stay the same buttons between two diagnoses.
let diagnosisShown = null;
function renderDiagnosis() {
  const box = $("#diagnosis");
  const lang = getLang();
  const shown = [ready, lang, ...runsView.map((v) => v.diagnosis)];
  if (diagnosisShown && shown.length === diagnosisShown.length
      && shown.every((x, k) => x === diagnosisShown[k])) return;
  diagnosisShown = shown;
  box.replaceChildren();
  if (!ready || !runsView.length) { box.append(para(t("diag.wait"), "sub")); return; }
  runsView.forEach((v, i) => {
    const found = v.diagnosis?.[lang] ?? v.diagnosis?.en;
    if (runsView.length > 1) {
      const h = document.createElement("div");
      h.className = `tag run-${i ? "b" : "a"}`;
      h.textContent = i ? "B" : "A";
      box.append(h);
    }
    if (!found) { box.append(para(t("diag.wait"), "sub")); return; }
    if (!found.length) { box.append(para(t("diag.none"), "ok")); return; }
    for (const f of found) {
      const card = document.createElement("div");
      card.className = `finding ${f.severity || ""}`;
      card.dataset.kind = f.kind;
      const title = document.createElement("div");
      title.className = "finding-title";
      title.textContent = f.title || f.kind;
      card.append(title, para(f.text, "finding-text"));
      const rem = document.createElement("div");
      rem.className = "remedy";
      rem.append(span(f.remedy || ""));
      if (f.fix && Object.keys(f.fix).length) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "basic apply-fix";
        btn.textContent = t("apply");
        btn.title = `${t("help.apply")}: ${Object.entries(f.fix).map(([k, x]) => `${k}=${Array.isArray(x) ? x.join(",") : x}`).join(", ")}`;
        btn.addEventListener("click", () => applyFix(f.fix, i));
        rem.append(btn);
      }
      card.append(rem);
      box.append(card);
    }
  });
}

function para(text, cls) { const p = document.createElement("p"); p.className = cls; p.textContent = text; return p; }

function applyFix(fix, runIndex) {
  const saved = ui.editing;
  ui.editing = runIndex === 1 ? "B" : "A";
  for (const [k, v] of Object.entries(fix)) if (k in SCHEMA) setKey(k, v);
  ui.editing = saved;
  if (("activations" in fix && !fix.activations.length) && ("initializers" in fix && !fix.initializers.length)) ui.perLayer = false;
  changed(Object.keys(fix));
}

// ---- surfaces ---------------------------------------------------------------------------------
const surfacesView = new SurfacesView({
  canvas: $("#surface-canvas"), loss: $("#surface-loss"), scrub: $("#surface-scrub"),
  play: $("#surface-play"), stepLabel: $("#surface-step"),
}, {
  onStart: (p) => { state.start = p; changed(["start"]); },
});

function renderSurfaceControls() {
  const info = (hello?.options?.surfaces || []).find((s) => s.name === state.surface);
  $("#surface").value = state.surface;
  $("#surface-formula").textContent = info ? `f(x, y) = ${info.formula}` : "";
  $("#surface-notes").textContent = info?.notes || "";
  $("#surface-steps").value = String(state.steps);
  const start = state.start.length === 2 ? state.start : (trajectories?.start || info?.start);
  $("#surface-start").textContent = start ? `(${start.map((v) => Number(v).toPrecision(3)).join(", ")})` : "";
  const box = $("#surface-runs");
  box.replaceChildren();
  const opts = hello?.options?.surfaceOptimizers || ["sgd", "momentum", "adam"];
  state.runs.forEach((r, i) => {
    const row = document.createElement("div");
    row.className = "run-row";
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = RUN_COLORS[i % RUN_COLORS.length];
    const sel = document.createElement("select");
    sel.id = `surface-opt-${i}`;
    fillSelect(sel, opts, (v) => optionName("opt", v));
    sel.value = r.optimizer;
    sel.addEventListener("change", () => { state.runs[i].optimizer = sel.value; changed(["runs"]); });
    const lr = document.createElement("select");
    lr.id = `surface-lr-${i}`;
    lr.title = t("learningRate");
    fillSelect(lr, withCurrent([...LEARNING_RATES, 0.05, 0.5, 0.95, 1.5].sort((a, b) => a - b), r.learningRate), String);
    lr.value = String(r.learningRate);
    lr.addEventListener("change", () => { state.runs[i].learningRate = Number(lr.value); changed(["runs"]); });
    const rm = document.createElement("button");
    rm.type = "button";
    rm.className = "mini";
    rm.textContent = "×";
    rm.title = t("remove");
    rm.disabled = state.runs.length <= 1;
    rm.addEventListener("click", () => { state.runs.splice(i, 1); changed(["runs"]); renderSurfaceControls(); });
    const diverged = trajectories?.runs?.[i]?.diverged && trajectories.runs[i].optimizer === r.optimizer;
    row.append(sw, sel, lr, rm);
    if (diverged) { const d = span(t("diverged")); d.className = "diverged-flag"; row.append(d); }
    box.append(row);
  });
  $("#surface-add-run").disabled = state.runs.length >= (hello?.limits?.maxSurfaceRuns ?? 9);
}

// ---- messages and tooltip --------------------------------------------------------------------
function showMessage(text, id = null, kind = "error") {
  const box = $("#messages");
  if (id) dismissById(id);
  const div = document.createElement("div");
  div.className = `message ${kind}`;
  if (id) div.dataset.id = id;
  div.append(span(text));
  const x = document.createElement("button");
  x.type = "button";
  x.className = "dismiss";
  x.textContent = "×";
  x.title = t("dismiss");
  x.setAttribute("aria-label", t("dismiss"));
  x.addEventListener("click", () => div.remove());
  div.append(x);
  box.append(div);
  while (box.children.length > 4) box.firstElementChild.remove();
}
function dismissById(id) {
  for (const el of $$(`#messages .message[data-id="${id}"]`)) el.remove();
}

function tooltip(text, event) {
  const tip = $("#tooltip");
  if (!text) { tip.hidden = true; return; }
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${event.clientX + 12}px`;
  tip.style.top = `${event.clientY + 12}px`;
}

// Canvases follow their boxes' sizes (size.js reports them after the browser's layout).
let resizeFrame = 0;
onResize((els) => {
  if (els.includes($("#surface-canvas"))) { surfacesView.image = null; surfacesView.draw(); }
  if (!resizeFrame && lastFrame) resizeFrame = requestAnimationFrame(() => { resizeFrame = 0; redraw(); });
});
// A chart scrolled (or switched) into sight is drawn from the last frame.
onVisible(["#loss-chart", "#grad-chart", "#grad-chart-b", "#grad-profile", "#saturation-bars"].map($),
  () => { if (lastFrame && ready) drawCharts(lastFrame); });
// The network is laid out for the window's width.
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    buildNetwork();
    redraw();
    if (state.mode === "surfaces") { surfacesView.image = null; surfacesView.draw(); }
  }, 150);
});

// ---- start ------------------------------------------------------------------------------------
bindControls();
renderAll();
connect();
// Text laid out before the Korean font arrived can keep its missing-glyph boxes in Chromium:
// once the font is in, lay the page's text out again.
document.fonts.load("14px NanumGothic", "한").then(() => renderAll()).catch(() => {});
