// Heatmaps on canvas: the contract's encoding (N×N bytes, row 0 at x₂ = max, byte b means
// b/127.5 − 1 in [−1, 1]), TF Playground's colour scale (orange − / white 0 / blue +), and the
// data points drawn over the output.

export const ORANGE = [245, 147, 34];   // #f59322: negative values, class 0
export const BLUE = [8, 119, 189];      // #0877bd: positive values, class 1
export const WHITE = [232, 234, 235];   // TF's "white": light grey, so a 0 region stays visible

// 256-entry lookup table byte → RGB, so painting a heatmap is one pass over the bytes. alpha < 1:
// the colours as if painted with that opacity over white (the output's lighter picture).
function makeLut(discrete, alpha = 1) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let b = 0; b < 256; b++) {
    let v = b / 127.5 - 1;
    if (discrete) v = v > 0 ? 1 : -1;
    const [from, to, f] = v < 0 ? [WHITE, ORANGE, -v] : [WHITE, BLUE, v];
    for (let c = 0; c < 3; c++) {
      lut[b * 3 + c] = alpha * (from[c] + (to[c] - from[c]) * f) + (1 - alpha) * 255;
    }
  }
  return lut;
}
const LUT = makeLut(false);
const LUT_DISCRETE = makeLut(true);
const luts = new Map();          // the tables for other opacities, made when first asked for
function lutFor(discrete, alpha) {
  if (alpha === 1) return discrete ? LUT_DISCRETE : LUT;
  const key = `${discrete}|${alpha}`;
  if (!luts.has(key)) luts.set(key, makeLut(discrete, alpha));
  return luts.get(key);
}

// A value in [−1, 1] as the byte that stands for it (0–255), and its colour [r, g, b].
export function colorByte(v) { return Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))); }
export function colorRgb(v) {
  const b = colorByte(v);
  return [LUT[b * 3], LUT[b * 3 + 1], LUT[b * 3 + 2]];
}

// The colour of a value in [−1, 1], as a CSS string (points, links, legends).
export function colorOf(v, alpha = 1) {
  return `rgba(${colorRgb(v).join(",")},${alpha})`;
}

// base64 → Uint8Array, cached on the heatmap object (a frame may be drawn twice). The
// browser's own decoder where it has one (about twice as fast for a frame's 80 neurons).
const fromBase64 = typeof Uint8Array.fromBase64 === "function"
  ? (text) => Uint8Array.fromBase64(text)
  : (text) => {
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  };
export function decode(hm) {
  if (!hm) return null;
  if (!hm._bytes) hm._bytes = fromBase64(hm.data);
  return hm._bytes;
}

// A colour table as opaque 32-bit pixels (a Uint32Array over ImageData's bytes): painting a
// heatmap is then one read and one write per pixel. Made once per table.
const pixelTables = new WeakMap();
function pixelTable(lut) {
  let px = pixelTables.get(lut);
  if (!px) {
    px = new Uint32Array(256);
    for (let b = 0; b < 256; b++) px[b] = pixel(lut[3 * b], lut[3 * b + 1], lut[3 * b + 2], 255);
    pixelTables.set(lut, px);
  }
  return px;
}

// r, g, b, a (0–255; fractions are dropped) as one pixel of a Uint32Array over ImageData's bytes (R, G, B, A
// in memory order, whatever the machine's byte order).
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
export function pixel(r, g, b, a) {
  return LITTLE_ENDIAN ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

// One N×N heatmap's bytes, coloured by `table` (pixelTable), into the pixels `out` of an image
// `width` pixels wide, its left column at x0.
function fillPixels(bytes, n, table, out, width, x0) {
  for (let r = 0, i = 0; r < n; r++) {
    for (let o = r * width + x0, end = o + n; o < end; o++, i++) out[o] = table[bytes[i]];
  }
}

// An offscreen canvas of width × height pixels with its ImageData and a Uint32Array over it.
function offscreen(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(width, height);
  return { canvas, ctx, img, pixels: new Uint32Array(img.data.buffer) };
}

// A heatmap as an N×N canvas, to be drawn (scaled) at once: the canvas and its ImageData are
// kept per size and reused, so a frame paints its heatmaps without allocating.
const scratch = new Map();
export function heatmapImage(hm, { discrete = false, lut = null, alpha = 1 } = {}) {
  const bytes = decode(hm);
  if (!bytes) return null;
  const n = hm.n;
  if (!scratch.has(n)) scratch.set(n, offscreen(n, n));
  const s = scratch.get(n);
  fillPixels(bytes, n, pixelTable(lut || lutFor(discrete, alpha)), s.pixels, n, 0);
  s.ctx.putImageData(s.img, 0, 0);
  return s.canvas;
}

// Many N×N heatmaps (a network's neurons) side by side on one canvas, painted with one
// putImageData: heatmap k sits at column k of the strip. Drawing each from its own canvas would
// make the browser copy a canvas per neuron and frame.
let strip = null;
export function heatmapStrip(hms, { lut = null } = {}) {
  const list = hms.filter(Boolean);
  if (!list.length) return null;
  const n = list[0].n, count = hms.length;
  if (!strip || strip.n !== n || strip.count < count) strip = { ...offscreen(n * count, n), n, count };
  const table = pixelTable(lut || LUT), width = strip.n * strip.count;
  hms.forEach((hm, k) => {
    const bytes = decode(hm);
    if (bytes && hm.n === n) fillPixels(bytes, n, table, strip.pixels, width, k * n);
  });
  strip.ctx.putImageData(strip.img, 0, 0);
  return { canvas: strip.canvas, n };
}

// Paint an N×N heatmap onto a whole canvas: smoothly (soft boundaries), or pixelated when
// discretized (a hard decision boundary); alpha: lighter, as if with that opacity over white.
export function paint(canvas, hm, { discrete = false, smooth = true, lut = null, alpha = 1 } = {}) {
  const ctx = canvas.getContext("2d");
  const img = heatmapImage(hm, { discrete, lut, alpha });
  if (!img) { ctx.clearRect(0, 0, canvas.width, canvas.height); return; }
  const smoothing = smooth && !discrete;
  if (ctx.imageSmoothingEnabled !== smoothing) ctx.imageSmoothingEnabled = smoothing;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
}

// The domain is [min, max] for both axes, or [[x0, x1], [y0, y1]].
export function axes(domain) {
  if (Array.isArray(domain?.[0])) return { x: domain[0], y: domain[1] };
  const d = domain || [-6, 6];
  return { x: d, y: d };
}

// Data points: [x1, x2, label]. Classification labels ≤ 0 are class 0 (orange), > 0 class 1
// (blue); a regression label is coloured by its value. Test points get a dark outline.
export function drawPoints(canvas, points, domain, { test = false, regression = false,
  radius = 3.2 } = {}) {
  if (!points) return;
  const ctx = canvas.getContext("2d");
  const { x, y } = axes(domain);
  const w = canvas.width, h = canvas.height;
  ctx.lineWidth = 1;
  ctx.strokeStyle = test ? "#000" : "#fff";
  for (const [x1, x2, label] of points) {
    const px = ((x1 - x[0]) / (x[1] - x[0])) * w;
    const py = (1 - (x2 - y[0]) / (y[1] - y[0])) * h;
    ctx.fillStyle = regression ? colorOf(Math.max(-1, Math.min(1, label)))
      : (label > 0 ? colorOf(1) : colorOf(-1));
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
}

// Client-side feature pictures for input features that are switched off (the server sends
// heatmaps only for the active ones). Display only: value scaled into [−1, 1] over [−6, 6].
const FEATURE_FN = {
  x: (a) => a, y: (a, b) => b, xSquared: (a) => 2 * a * a - 1, ySquared: (a, b) => 2 * b * b - 1,
  xTimesY: (a, b) => a * b, sinX: (a) => Math.sin(6 * a), sinY: (a, b) => Math.sin(6 * b),
  cosX: (a) => Math.cos(6 * a), cosY: (a, b) => Math.cos(6 * b),
};
export function featureHeatmap(name, n = 20) {
  const bytes = new Uint8Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const a = (c + 0.5) / n * 2 - 1, b = 1 - (r + 0.5) / n * 2;
      const v = Math.max(-1, Math.min(1, FEATURE_FN[name](a, b)));
      bytes[r * n + c] = Math.round((v + 1) * 127.5);
    }
  }
  return { n, _bytes: bytes };
}

// Small pictures of the data sets for the data-set chooser (a sketch of each, not the data).
export function drawThumbnail(canvas, name) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const dot = (u, v, val) => {           // u, v in [−1, 1]
    ctx.fillStyle = colorOf(val);
    ctx.beginPath();
    ctx.arc((u + 1) / 2 * w, (1 - (v + 1) / 2) * h, Math.max(1.3, w / 36), 0, 2 * Math.PI);
    ctx.fill();
  };
  if (name === "reg-plane" || name === "reg-gauss") {
    const n = 24;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const u = (j + 0.5) / n * 2 - 1, v = 1 - (i + 0.5) / n * 2;
        let val = (u + v) / 2;
        if (name === "reg-gauss") {
          val = Math.exp(-((u - 0.4) ** 2 + (v - 0.4) ** 2) * 8) - Math.exp(-((u + 0.4) ** 2 + (v + 0.4) ** 2) * 8)
            + 0.7 * Math.exp(-((u + 0.4) ** 2 + (v - 0.4) ** 2) * 8) - 0.7 * Math.exp(-((u - 0.4) ** 2 + (v + 0.4) ** 2) * 8);
        }
        ctx.fillStyle = colorOf(val);
        ctx.fillRect(j * w / n, i * h / n, w / n + 1, h / n + 1);
      }
    }
    return;
  }
  if (name === "csv") {
    ctx.fillStyle = "#f2f4f5";
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = "#666";
    ctx.font = `bold ${Math.round(w / 4)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("CSV", w / 2, h / 2);
    return;
  }
  for (let i = 0; i < 90; i++) {
    if (name === "circle") {
      const r = rnd() < 0.5 ? rnd() * 0.35 : 0.6 + rnd() * 0.3, a = rnd() * 2 * Math.PI;
      dot(r * Math.cos(a), r * Math.sin(a), r < 0.5 ? 1 : -1);
    } else if (name === "xor") {
      const u = rnd() * 1.8 - 0.9, v = rnd() * 1.8 - 0.9;
      dot(u, v, u * v > 0 ? 1 : -1);
    } else if (name === "gauss") {
      const c = rnd() < 0.5 ? 1 : -1;
      const g = () => (rnd() + rnd() + rnd() - 1.5) * 0.35;
      dot(c * 0.45 + g(), c * 0.45 + g(), c);
    } else if (name === "spiral") {
      const c = i % 2 ? 1 : -1, s = rnd(), a = s * 2.6 * Math.PI + (c > 0 ? 0 : Math.PI);
      dot(0.85 * s * Math.cos(a), 0.85 * s * Math.sin(a), c);
    }
  }
}
