// The page's state: one flat object whose keys are the URL hash keys of docs/playground.md.
//
//   state = { problem, dataset, …, lang, mode, surface, start, runs, steps,
//             b: {KEY: value, …},      // compare mode: configuration B's differences from A
//             hide: Set of KEY }        // KEY_hide=true in the hash hides that control
//
// The server (config.py) is the authority on what is valid; this file only knows each key's
// type, so the hash can be read back, and which keys are display-only (never sent).

export const FEATURES = ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY", "cosX", "cosY"];

// Each key's type: "enum" and "str" are strings, "num" a number, "int" an integer, "bool",
// "batch" a number or "full", "nums" / "strs" comma-separated lists, "runs" the surfaces runs.
export const SCHEMA = {
  problem: "str", dataset: "str", regDataset: "str", noise: "num", percTrainData: "num",
  batchSize: "batch",
  x: "bool", y: "bool", xSquared: "bool", ySquared: "bool", xTimesY: "bool",
  sinX: "bool", sinY: "bool", cosX: "bool", cosY: "bool",
  networkShape: "nums", activation: "str", activations: "strs", initializer: "str",
  initializers: "strs", optimizer: "str", learningRate: "num", momentum: "num", beta1: "num",
  beta2: "num", rho: "num", epsilon: "num", weightDecay: "num", flavor: "str",
  regularization: "str", regularizationRate: "num", batchNorm: "bool", dropout: "num",
  seed: "int", showTestData: "bool", discretize: "bool", mode: "str", lang: "str",
  surface: "str", start: "nums", runs: "runs", steps: "int",
};

// Never sent to the server: they change only what the page shows.
export const DISPLAY_KEYS = new Set(["showTestData", "discretize", "mode", "lang"]);
// Compare mode trains A and B on the same data from the same seed: these keys are never B's
// differences (the server refuses them), so a change to one applies to both.
export const SHARED_KEYS = new Set(["problem", "dataset", "regDataset", "noise", "percTrainData", "seed"]);
// Sent in the `surface` message, not in `config`.
export const SURFACE_KEYS = new Set(["surface", "start", "runs", "steps"]);

// The contract's defaults; replaced by hello.defaults once the server has said hello.
export const DEFAULTS = {
  problem: "classification", dataset: "circle", regDataset: "reg-plane", noise: 0,
  percTrainData: 50, batchSize: 10,
  x: true, y: true, xSquared: false, ySquared: false, xTimesY: false,
  sinX: false, sinY: false, cosX: false, cosY: false,
  networkShape: [4, 2], activation: "tanh", activations: [], initializer: "glorot_uniform",
  initializers: [], optimizer: "sgd", learningRate: 0.03, momentum: 0.9, beta1: 0.9,
  beta2: 0.999, rho: 0.9, epsilon: 1e-7, weightDecay: 0.004, flavor: "keras",
  regularization: "none", regularizationRate: 0, batchNorm: false, dropout: 0, seed: 0,
  showTestData: false, discretize: false, mode: "play", lang: "en",
  // surfaces mode: the lab's defaults, the DLFS book's figure (docs/playground.md)
  surface: "dlfs", start: [], runs: [{ optimizer: "sgd", learningRate: 0.95 },
    { optimizer: "momentum", learningRate: 0.1 }, { optimizer: "adagrad", learningRate: 1.5 },
    { optimizer: "adam", learningRate: 0.3 }],
  steps: 100,
};

export function clone(v) {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

export function freshState(defaults = DEFAULTS) {
  const s = {};
  for (const k of Object.keys(SCHEMA)) s[k] = clone(k in defaults ? defaults[k] : DEFAULTS[k]);
  s.b = {};
  s.hide = new Set();
  return s;
}

// ---- one value <-> its text in the hash --------------------------------------------------
function parseValue(type, text) {
  switch (type) {
    case "bool": return text === "true" || text === "1";
    case "num": { const v = Number(text); return Number.isFinite(v) ? v : undefined; }
    case "int": { const v = Number(text); return Number.isInteger(v) ? v : undefined; }
    case "batch": {
      if (text === "full") return "full";
      const v = Number(text); return Number.isInteger(v) ? v : undefined;
    }
    case "nums": {
      if (text === "") return [];
      const vs = text.split(",").map(Number);
      return vs.every(Number.isFinite) ? vs : undefined;
    }
    case "strs": return text === "" ? [] : text.split(",");
    case "runs": {
      // "sgd:0.01,adam:0.1" — the surfaces runs, optimizer and learning rate
      if (text === "") return [];
      const runs = text.split(",").map((r) => {
        const [optimizer, lr] = r.split(":");
        return { optimizer, learningRate: Number(lr) };
      });
      return runs.every((r) => r.optimizer && Number.isFinite(r.learningRate)) ? runs : undefined;
    }
    default: return text;
  }
}

function formatValue(type, v) {
  if (type === "nums" || type === "strs") return (v || []).join(",");
  if (type === "runs") return (v || []).map((r) => `${r.optimizer}:${r.learningRate}`).join(",");
  return String(v);
}

// ---- the whole hash ----------------------------------------------------------------------
// Unknown keys (TF Playground's collectStats, tutorial, …) are ignored, so a TF link works.
export function parseHash(hash, base) {
  const s = base;
  const text = hash.replace(/^#/, "");
  if (!text) return s;
  for (const part of text.split("&")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = decodeURIComponent(part.slice(0, eq));
    const raw = decodeURIComponent(part.slice(eq + 1));
    if (key.endsWith("_hide")) {
      if (raw === "true") s.hide.add(key.slice(0, -5)); else s.hide.delete(key.slice(0, -5));
      continue;
    }
    if (key.startsWith("b.")) {
      const k = key.slice(2);
      if (!(k in SCHEMA) || DISPLAY_KEYS.has(k) || SURFACE_KEYS.has(k) || SHARED_KEYS.has(k)) continue;
      const v = parseValue(SCHEMA[k], raw);
      if (v !== undefined) s.b[k] = v;
      continue;
    }
    if (!(key in SCHEMA)) continue;
    const v = parseValue(SCHEMA[key], raw);
    if (v !== undefined) s[key] = v;
  }
  return s;
}

// Every key is written (as TF Playground does), so a link keeps meaning the same lesson even
// if a later version changes a default.
export function toHash(s) {
  const enc = (t) => encodeURIComponent(t).replace(/%2C/g, ",").replace(/%3A/g, ":");
  const parts = [];
  for (const [k, type] of Object.entries(SCHEMA)) parts.push(`${k}=${enc(formatValue(type, s[k]))}`);
  for (const [k, v] of Object.entries(s.b)) parts.push(`b.${k}=${enc(formatValue(SCHEMA[k], v))}`);
  for (const k of s.hide) parts.push(`${k}_hide=true`);
  return parts.join("&");
}

// ---- what goes to the server ------------------------------------------------------------
export function trainingConfig(s) {
  const c = {};
  for (const k of Object.keys(SCHEMA)) {
    if (DISPLAY_KEYS.has(k) || SURFACE_KEYS.has(k)) continue;
    c[k] = clone(s[k]);
  }
  return c;
}

// B's effective configuration: A's with B's differences on top.
export function configB(s) {
  return { ...trainingConfig(s), ...clone(s.b) };
}

export function sameValue(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
