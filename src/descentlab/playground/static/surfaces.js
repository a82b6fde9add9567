// Surfaces mode: the optimizer lab's 2-D functions. Choose a surface, click the contour map to
// set the start, pick optimizers with their learning rates; the server answers `trajectories`
// and this view animates them step by step (play / pause / scrub) with the loss per step.

import { decode } from "./heatmap.js";
import { lineChart } from "./charts.js";
import { t } from "./i18n.js";
import { sizeOf } from "./size.js";

// Short names for the loss chart's legend (the full names are in the runs list).
const SHORT = { sgd: "SGD", momentum: "Momentum", nag: "NAG", nesterov: "NAG", adagrad: "Adagrad",
  rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW", nadam: "Nadam" };

export const RUN_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
  "#e377c2", "#17becf", "#555555"];

// The contour map's colours: low (near the minimum) pale, high dark; 14 bands with a thin
// darker line at each band edge so the level sets read as contours.
const STOPS = [[255, 252, 230], [199, 233, 180], [127, 205, 187], [65, 182, 196],
  [44, 127, 184], [37, 52, 148], [20, 30, 90]];
const BANDS = 14;
function contourColor(v) {                       // v in [0, 1]
  const x = v * (STOPS.length - 1), i = Math.min(STOPS.length - 2, Math.floor(x)), u = x - i;
  return STOPS[i].map((c, k) => c + (STOPS[i + 1][k] - c) * u);
}

export class SurfacesView {
  /** els: {canvas, loss, scrub, play, stepLabel, legend}; request(): asks for trajectories;
   *  onStart([x, y]): a click on the map */
  constructor(els, { onStart }) {
    this.els = els;
    this.onStart = onStart;
    this.data = null;        // the last `trajectories` message
    this.k = 0;              // the step shown
    this.playing = false;
    this.image = null;       // the contour picture, cached per message
    els.canvas.addEventListener("click", (e) => this._click(e));
    els.scrub.addEventListener("input", () => {
      this.pause();
      this.k = Number(els.scrub.value);
      this.draw();
    });
    els.play.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
  }

  show(message) {
    this.data = message;
    this.image = null;
    // the map keeps the surface box's proportions, so a circle looks round
    const { x, y } = message.grid;
    this.els.canvas.style.aspectRatio = String((x[1] - x[0]) / (y[1] - y[0]));
    const steps = Math.max(0, ...message.runs.map((r) => r.path.length - 1));
    this.els.scrub.max = String(steps);
    this.k = 0;
    this.play();
  }

  play() {
    if (!this.data) return;
    const steps = Number(this.els.scrub.max);
    if (this.k >= steps) this.k = 0;
    this.playing = true;
    this.els.play.textContent = "❚❚";
    document.body.dataset.surface = "playing";
    // about 4 seconds for a whole run, at least 2 frames a step for short runs
    const perFrame = Math.max(steps / 240, 0.5);
    let acc = this.k;
    const tick = () => {
      if (!this.playing) return;
      acc = Math.min(steps, acc + perFrame);
      this.k = Math.floor(acc);
      this.draw();
      if (this.k >= steps) { this.pause(); return; }
      this.raf = requestAnimationFrame(tick);
    };
    cancelAnimationFrame(this.raf);
    this.raf = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.els.play.textContent = "▶";
    document.body.dataset.surface = "paused";
  }

  _box() {
    const g = this.data.grid;
    return { x: g.x, y: g.y };
  }

  _click(e) {
    if (!this.data) return;
    const r = this.els.canvas.getBoundingClientRect();
    const { x, y } = this._box();
    const px = (e.clientX - r.left) / r.width, py = (e.clientY - r.top) / r.height;
    const sx = x[0] + px * (x[1] - x[0]), sy = y[1] - py * (y[1] - y[0]);
    this.onStart([Number(sx.toPrecision(4)), Number(sy.toPrecision(4))]);
  }

  // The contour picture at canvas resolution: bilinear interpolation of the grid, banded.
  _contour(w, h) {
    const g = this.data.grid;
    const n = g.z.n ?? g.size;
    const z = decode(g.z);
    const img = new ImageData(w, h);
    const val = (r, c) => z[Math.min(n - 1, r) * n + Math.min(n - 1, c)] / 255;
    const band = new Float32Array(w * h);
    for (let py = 0; py < h; py++) {
      const fy = (py / (h - 1)) * (n - 1), r0 = Math.floor(fy), dy = fy - r0;
      for (let px = 0; px < w; px++) {
        const fx = (px / (w - 1)) * (n - 1), c0 = Math.floor(fx), dx = fx - c0;
        const v = val(r0, c0) * (1 - dx) * (1 - dy) + val(r0, c0 + 1) * dx * (1 - dy)
          + val(r0 + 1, c0) * (1 - dx) * dy + val(r0 + 1, c0 + 1) * dx * dy;
        band[py * w + px] = Math.floor(v * BANDS);
        const [R, G, B] = contourColor(v);
        const i = (py * w + px) * 4;
        img.data[i] = R; img.data[i + 1] = G; img.data[i + 2] = B; img.data[i + 3] = 255;
      }
    }
    // a pixel whose band differs from its right or lower neighbour lies on a contour line
    for (let py = 0; py < h - 1; py++) {
      for (let px = 0; px < w - 1; px++) {
        const b = band[py * w + px];
        if (b !== band[py * w + px + 1] || b !== band[(py + 1) * w + px]) {
          const i = (py * w + px) * 4;
          img.data[i] *= 0.6; img.data[i + 1] *= 0.6; img.data[i + 2] *= 0.6;
        }
      }
    }
    const off = document.createElement("canvas");
    off.width = w; off.height = h;
    off.getContext("2d").putImageData(img, 0, 0);
    return off;
  }

  draw() {
    const c = this.els.canvas;
    const dpr = window.devicePixelRatio || 1;
    const { w, h } = sizeOf(c);     // cached: the animation never forces a layout
    if (w < 2 || h < 2) return;       // hidden: drawn when its size is known (app.js onResize)
    if (c.width !== Math.round(w * dpr)) c.width = Math.round(w * dpr);
    if (c.height !== Math.round(h * dpr)) c.height = Math.round(h * dpr);
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (!this.data) return;
    if (!this.image || this.image.width !== Math.round(w) || this.image.height !== Math.round(h)) this.image = this._contour(Math.round(w), Math.round(h));
    ctx.drawImage(this.image, 0, 0, w, h);
    const { x, y } = this._box();
    const X = (v) => ((v - x[0]) / (x[1] - x[0])) * w;
    const Y = (v) => (1 - (v - y[0]) / (y[1] - y[0])) * h;

    // the minimum: a star
    const m = this.data.minimum;
    if (m) {
      ctx.fillStyle = "#111";
      ctx.font = "18px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("★", X(m[0]), Y(m[1]));
    }
    // each run's path up to step k
    this.data.runs.forEach((run, i) => {
      const color = RUN_COLORS[i % RUN_COLORS.length];
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let last = null, lastIdx = 0;
      const end = Math.min(this.k, run.path.length - 1);
      for (let s = 0; s <= end; s++) {
        const p = run.path[s];
        if (!p || p[0] === null || p[1] === null) break;
        if (last) ctx.lineTo(X(p[0]), Y(p[1])); else ctx.moveTo(X(p[0]), Y(p[1]));
        last = p; lastIdx = s;
      }
      ctx.stroke();
      for (let s = 0; s <= lastIdx; s++) {               // small dots at the steps
        const p = run.path[s];
        ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 1.8, 0, 7); ctx.fill();
      }
      if (last) {
        ctx.beginPath(); ctx.arc(X(last[0]), Y(last[1]), 5, 0, 7); ctx.fill();
        ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
      }
      // divergence: an ✕ where the path stops being finite (or leaves the picture)
      const broke = run.diverged && end > lastIdx;
      if (broke && last) {
        const px = Math.max(8, Math.min(w - 8, X(last[0]))), py = Math.max(8, Math.min(h - 8, Y(last[1])));
        ctx.strokeStyle = "#000"; ctx.lineWidth = 3;
        ctx.beginPath(); ctx.moveTo(px - 7, py - 7); ctx.lineTo(px + 7, py + 7);
        ctx.moveTo(px + 7, py - 7); ctx.lineTo(px - 7, py + 7); ctx.stroke();
        ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.stroke();
      }
    });
    // the start: a white ring
    const s0 = this.data.start || this.data.runs[0]?.path[0];
    if (s0) {
      ctx.strokeStyle = "#000"; ctx.fillStyle = "#fff"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(X(s0[0]), Y(s0[1]), 6, 0, 7); ctx.fill(); ctx.stroke();
    }
    this.els.scrub.value = String(this.k);
    this.els.stepLabel.textContent = `${this.k} / ${this.els.scrub.max}`;
    this._lossChart();
  }

  _lossChart() {
    const runs = this.data.runs;
    const finite = runs.flatMap((r) => r.loss.filter((v) => v !== null));
    const log = finite.length > 0 && finite.every((v) => v > 0);
    const series = runs.map((r, i) => ({
      points: r.loss.map((v, s) => [s, v === null ? NaN : v]),
      color: RUN_COLORS[i % RUN_COLORS.length],
      label: `${SHORT[r.optimizer] || r.optimizer} ${r.learningRate}` + (r.diverged ? ` (${t("diverged")})` : ""),
    }));
    // A diverging run would stretch the axis to 1e40 and flatten every other curve: the axis
    // then ends a little above the start and the runs that stayed finite, and a diverging
    // curve leaves through the top, its ✕ on the edge.
    let yMax;
    if (runs.some((r) => r.diverged)) {
      const kept = [runs[0]?.loss[0], ...runs.filter((r) => !r.diverged).flatMap((r) => r.loss)]
        .filter((v) => v !== null && v !== undefined && Number.isFinite(v));
      if (kept.length) {
        const top = Math.max(...kept), low = Math.min(...kept);
        yMax = log ? top * 10 : top + 0.1 * Math.max(top - low, Math.abs(top), 1e-12);
      }
    }
    const marks = [];
    runs.forEach((r, i) => {
      if (!r.diverged) return;
      let s = r.loss.length - 1;
      while (s > 0 && (r.loss[s] === null || !(log ? r.loss[s] > 0 : true))) s--;
      const y = yMax === undefined ? r.loss[s] : Math.min(r.loss[s], yMax);
      marks.push({ x: s, y, color: RUN_COLORS[i % RUN_COLORS.length] });
    });
    lineChart(this.els.loss, series, { log, cursorX: this.k, marks, legend: true, yMax,
      xMin: 0, xMax: Math.max(1, Number(this.els.scrub.max)) });
  }
}
