// Small canvas charts: loss curves (linear), gradient norms over epochs (log axis, one line
// per layer coloured by depth, the 0.25ᴸ guide for sigmoid), gradient norm by layer, and the
// per-layer bars of saturated and dead units. No library: a few hundred points per line.

import { sizeOf } from "./size.js";

// Depth colours, input side → output side (viridis-like, stopping before its pale yellow).
const DEPTH_STOPS = [[180, 200, 30], [94, 190, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]];
export function depthColor(l, L) {
  const f = L <= 1 ? 1 : l / (L - 1);
  const x = f * (DEPTH_STOPS.length - 1), i = Math.min(DEPTH_STOPS.length - 2, Math.floor(x));
  const a = DEPTH_STOPS[i], b = DEPTH_STOPS[i + 1], u = x - i;
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * u)).join(",")})`;
}

// Korean labels take the served font first (see style.css).
export function chartFont(px = 10) {
  return document.documentElement.lang === "ko" ? `${px}px NanumGothic, system-ui, sans-serif`
    : `${px}px system-ui, NanumGothic, sans-serif`;
}

// Size the canvas backing store to its CSS box × devicePixelRatio; returns a 2-D context in
// CSS pixels and the box size.
function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const box = sizeOf(canvas);    // cached: no layout forced in the middle of a frame
  const w = box.w || canvas.width / dpr, h = box.h || canvas.height / dpr;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = chartFont(10);
  return { ctx, w, h };
}

function fmtTick(v, log) {
  if (log) return `1e${Math.round(Math.log10(v))}`;
  if (v === 0) return "0";
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * A line chart. series: [{points: [[x, y], …], color, dash?, width?, label?}]
 * opts: {log (y axis), xMin, xMax, yMin, yMax, guides: [{points, color, label}], cursorX,
 *        marks: [{x, y, color}] (an ✕, e.g. where a run diverged), legend (bool), yFloor}
 */
export function lineChart(canvas, series, opts = {}) {
  const { ctx, w, h } = setup(canvas);
  const pad = { l: 38, r: 8, t: 8, b: 16 };
  const all = [...series, ...(opts.guides || [])];
  // the legend gets its own strip on the right, so it never hides a line
  const legendItems = opts.legend ? [...series.filter((s) => s.label), ...(opts.guides || [])
    .filter((g) => g.label).map((g) => ({ ...g, dash: [5, 4] }))] : [];
  if (legendItems.length) {
    ctx.font = chartFont(10);
    const perCol = Math.max(1, Math.floor((h - 8) / 12));
    const colW = Math.max(...legendItems.map((s) => ctx.measureText(s.label).width)) + 22;
    pad.r = Math.min(w * 0.45, Math.ceil(legendItems.length / perCol) * colW + 10);
  }
  let xMin = opts.xMin ?? Infinity, xMax = opts.xMax ?? -Infinity;
  let yMin = Infinity, yMax = -Infinity;
  const ok = (y) => Number.isFinite(y) && (!opts.log || y > 0);
  for (const s of all) {
    for (const [x, y] of s.points) {
      if (!ok(y)) continue;
      if (opts.xMin === undefined) xMin = Math.min(xMin, x);
      if (opts.xMax === undefined) xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  if (!Number.isFinite(yMin)) { drawFrame(ctx, pad, w, h); return; }
  if (opts.yFloor !== undefined) yMin = Math.max(yMin, opts.yFloor);
  if (opts.yMin !== undefined) yMin = opts.yMin;
  if (opts.yMax !== undefined) yMax = opts.yMax;
  if (!(xMax > xMin)) xMax = xMin + 1;
  let ly0, ly1;
  if (opts.log) {
    ly0 = Math.floor(Math.log10(yMin));
    ly1 = Math.ceil(Math.log10(Math.max(yMax, yMin * 1.0001)));
    if (ly1 === ly0) ly1 = ly0 + 1;
  } else {
    ly0 = Math.min(0, yMin);
    ly1 = yMax > ly0 ? yMax * 1.05 : ly0 + 1;
  }
  const X = (x) => pad.l + ((x - xMin) / (xMax - xMin)) * (w - pad.l - pad.r);
  const Y = (y) => {
    const v = opts.log ? Math.log10(Math.max(y, 10 ** ly0)) : y;
    return h - pad.b - ((v - ly0) / (ly1 - ly0)) * (h - pad.t - pad.b);
  };

  // grid and ticks
  ctx.strokeStyle = "#e4e4e4";
  ctx.fillStyle = "#777";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const ticks = [];
  if (opts.log) {
    const stepE = Math.max(1, Math.ceil((ly1 - ly0) / 5));
    for (let e = ly0; e <= ly1; e += stepE) ticks.push(10 ** e);
  } else {
    for (let i = 0; i <= 4; i++) ticks.push(ly0 + ((ly1 - ly0) * i) / 4);
  }
  for (const v of ticks) {
    const y = Y(v);
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
    ctx.fillText(fmtTick(v, opts.log), pad.l - 4, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText(fmtTick(xMin, false).replace(/\.0+$/, ""), X(xMin) + 6, h - pad.b + 3);
  ctx.fillText(String(Math.round(xMax)), X(xMax) - 10, h - pad.b + 3);
  drawFrame(ctx, pad, w, h);

  const line = (s) => {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width || 1.6;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    let pen = false;
    for (const [x, y] of s.points) {
      if (!ok(y)) { pen = false; continue; }
      if (pen) ctx.lineTo(X(x), Y(y)); else ctx.moveTo(X(x), Y(y));
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.points.length === 1 && ok(s.points[0][1])) {   // a single point: show it
      ctx.fillStyle = s.color;
      ctx.beginPath(); ctx.arc(X(s.points[0][0]), Y(s.points[0][1]), 2, 0, 7); ctx.fill();
    }
  };
  ctx.save();
  ctx.beginPath();
  ctx.rect(pad.l, pad.t - 2, w - pad.l - pad.r, h - pad.t - pad.b + 4);
  ctx.clip();
  for (const g of opts.guides || []) line({ ...g, dash: [5, 4], width: 1.2 });
  for (const s of series) line(s);
  for (const m of opts.marks || []) {
    const x = X(m.x), y = Y(m.y);
    ctx.strokeStyle = m.color || "#c00";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y + 4);
    ctx.moveTo(x + 4, y - 4); ctx.lineTo(x - 4, y + 4);
    ctx.stroke();
  }
  if (opts.cursorX !== undefined) {
    ctx.strokeStyle = "rgba(0,0,0,0.35)";
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(X(opts.cursorX), pad.t); ctx.lineTo(X(opts.cursorX), h - pad.b); ctx.stroke();
  }
  ctx.restore();
  if (legendItems.length) legend(ctx, legendItems, w - pad.r + 10, pad.t, h);
}

function drawFrame(ctx, pad, w, h) {
  ctx.strokeStyle = "#bbb";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, h - pad.b); ctx.lineTo(w - pad.r, h - pad.b);
  ctx.stroke();
}

// The legend, in the strip right of the plot (wraps into columns when there are many lines).
function legend(ctx, items, left, top, h) {
  ctx.font = chartFont(10);
  const rowH = 12;
  const perCol = Math.max(1, Math.floor((h - 8) / rowH));
  const colW = Math.max(...items.map((s) => ctx.measureText(s.label).width)) + 22;
  const x0 = left, y0 = top;
  items.forEach((s, k) => {
    const cx = x0 + Math.floor(k / perCol) * colW, cy = y0 + (k % perCol) * rowH + 6;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(cx + 14, cy); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#444";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(s.label, cx + 17, cy);
  });
}

/**
 * Per-layer bars: for every layer two bars in [0, 1], saturated (red) and dead (grey).
 * layers: [{saturated_fraction, dead_fraction, activation}] (the hidden layers).
 */
export function fractionBars(canvas, layers, labels) {
  const { ctx, w, h } = setup(canvas);
  const pad = { l: 30, r: 8, t: 16, b: 16 };
  drawFrame(ctx, pad, w, h);
  ctx.fillStyle = "#777";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of [0, 0.5, 1]) {
    const y = h - pad.b - v * (h - pad.t - pad.b);
    ctx.fillText(`${v * 100}%`, pad.l - 3, y);
    ctx.strokeStyle = "#eee";
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
  }
  const n = layers.length;
  if (!n) return;
  const slot = (w - pad.l - pad.r) / n;
  const bw = Math.max(2, Math.min(14, slot / 2.8));
  layers.forEach((g, l) => {
    const x = pad.l + slot * (l + 0.5);
    const H = h - pad.t - pad.b;
    const sat = g.saturated_fraction || 0, dead = g.dead_fraction || 0;
    ctx.fillStyle = "#d9534f";
    ctx.fillRect(x - bw - 1, h - pad.b - sat * H, bw, sat * H);
    ctx.fillStyle = "#6b6b6b";
    ctx.fillRect(x + 1, h - pad.b - dead * H, bw, dead * H);
    ctx.fillStyle = "#777";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    if (n <= 12 || l % 2 === 0) ctx.fillText(String(l + 1), x, h - pad.b + 3);
  });
  // legend
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillStyle = "#d9534f"; ctx.fillRect(pad.l + 4, 3, 9, 8);
  ctx.fillStyle = "#444"; ctx.fillText(labels.saturated, pad.l + 16, 7);
  const off = pad.l + 24 + ctx.measureText(labels.saturated).width;
  ctx.fillStyle = "#6b6b6b"; ctx.fillRect(off, 3, 9, 8);
  ctx.fillStyle = "#444"; ctx.fillText(labels.dead, off + 12, 7);
}
