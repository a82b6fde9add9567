// The network's links, painted by the page into one RGBA buffer instead of stroked by the
// canvas. A link runs from a node on the left to a node on the right along TF Playground's
// curve, the cubic Bézier (x1, y1) → (m, y1) → (m, y2) → (x2, y2) with m the middle, so it
// crosses each pixel column once: in column x it covers a vertical run centred on the curve's
// y(x), w·√(1 + y′(x)²) tall for a link w pixels wide (measured across the curve). Painting a
// link is filling those runs, antialiased (two samples per column, exact coverage along it).
//
// Why not ctx.stroke(): a canvas strokes a curve wider than one pixel by filling its outline,
// and 600 such curves (a 10 × 8 network) cost the browser ~14 ms a frame on this machine —
// most of a frame's budget. The columns, centres and slopes here depend on the network's shape
// only: computed once (geometry), a frame just fills runs (~2 ms for the same network).

import { pixel } from "./heatmap.js";

// Points of the curve for parameter t: x(t) = x1 + Δx·(3t/2 − 3t²/2 + t³) (monotone: its
// derivative is at least ¾Δx), y(t) = y1 + Δy·(3t² − 2t³).
function curveX(t) { return 1.5 * t - 1.5 * t * t + t * t * t; }
function curveDX(t) { return 1.5 - 3 * t + 3 * t * t; }

/** The runs of one link in device pixels: for each column x0 + c and each of its two samples
 *  (at x + ¼ and x + ¾), the curve's centre y and the stretch √(1 + y′²). */
export function linkGeometry(x1, y1, x2, y2) {
  const x0 = Math.floor(x1);
  const n = Math.max(0, Math.ceil(x2) - x0);
  const center = new Float32Array(2 * n);
  const stretch = new Float32Array(2 * n);
  const dx = x2 - x1, dy = y2 - y1;
  for (let c = 0; c < n; c++) {
    for (let s = 0; s < 2; s++) {
      const x = Math.min(x2, Math.max(x1, x0 + c + 0.25 + 0.5 * s));
      // solve x(t) = x by Newton's method from the straight line's t
      let t = dx > 0 ? (x - x1) / dx : 0;
      for (let it = 0; it < 5; it++) {
        t -= (curveX(t) - (x - x1) / (dx || 1)) / curveDX(t);
        t = Math.min(1, Math.max(0, t));
      }
      const slope = dx > 0 ? (dy * 6 * t * (1 - t)) / (dx * curveDX(t)) : 0;
      center[2 * c + s] = y1 + dy * (3 * t * t - 2 * t * t * t);
      stretch[2 * c + s] = Math.sqrt(1 + slope * slope);
    }
  }
  return { x0, x1, x2, n, center, stretch };
}

export class LinkPainter {
  /** A painter for a canvas of width × height device pixels. Links are painted down pixel
   *  columns, so the buffer is kept column by column (a run is contiguous in memory) and put on
   *  the canvas row by row. background: [r, g, b] to paint over that opaque colour (an opaque
   *  canvas), null for transparency. */
  constructor(ctx, width, height, { background = null } = {}) {
    this.ctx = ctx;
    this.width = width;
    this.height = height;
    this.background = background;
    this.acc = new Float32Array(width * height * 4);   // premultiplied RGB (0–255) and alpha
    this.image = ctx.createImageData(width, height);
    this.pixels = new Uint32Array(this.image.data.buffer);   // the same bytes, a pixel apiece
  }

  /** Paint pixel columns [from, to) afresh with `links` in order, each {geometry, rgb: [r, g,
   *  b], width (device px), alpha}, over transparency (or the background): source-over, as the
   *  canvas would have blended them. The links must be all that cross those columns; the rest of the canvas is
   *  left as it is (a network's layers of links lie in columns of their own). */
  paint(links, from = 0, to = this.width) {
    const { acc, width: W, height: H } = this;
    from = Math.max(0, Math.floor(from));
    to = Math.min(W, Math.ceil(to));
    if (to <= from) return;
    acc.fill(0, from * H * 4, to * H * 4);
    for (const link of links) this._blend(link, from, to);
    this._unpremultiply(from, to);
    this.ctx.putImageData(this.image, 0, 0, from, 0, to - from, H);
  }

  // One link into the premultiplied buffer, in the pixel columns [from, to).
  _blend({ geometry: g, rgb, width, alpha }, from, to) {
    const acc = this.acc, H = this.height;
    const half = width / 2, R = rgb[0], G = rgb[1], B = rgb[2];
    const { center, stretch, x0, x1, x2 } = g;
    const cEnd = Math.min(g.n, to - x0);
    for (let c = Math.max(0, from - x0); c < cEnd; c++) {
      const x = x0 + c;
      // the column's share of the link: its part between x1 and x2 (the ends are cut square)
      const share = Math.min(1, x + 1 - x1, x2 - x);
      if (share <= 0) continue;
      const h0 = half * stretch[2 * c], h1 = half * stretch[2 * c + 1];
      const t0 = center[2 * c] - h0, b0 = center[2 * c] + h0;
      const t1 = center[2 * c + 1] - h1, b1 = center[2 * c + 1] + h1;
      const first = Math.max(0, Math.floor(t0 < t1 ? t0 : t1));
      const last = Math.min(H - 1, Math.floor(b0 > b1 ? b0 : b1));
      const weight = 0.5 * alpha * share;
      for (let r = first, i = (x * H + first) * 4; r <= last; r++, i += 4) {
        // the pixel's coverage: the mean of the two samples' overlaps with the row
        const o0 = (b0 < r + 1 ? b0 : r + 1) - (t0 > r ? t0 : r);
        const o1 = (b1 < r + 1 ? b1 : r + 1) - (t1 > r ? t1 : r);
        const a = weight * ((o0 > 0 ? o0 : 0) + (o1 > 0 ? o1 : 0));
        if (a <= 0) continue;
        const keep = 1 - a;
        acc[i] = R * a + acc[i] * keep;
        acc[i + 1] = G * a + acc[i + 1] * keep;
        acc[i + 2] = B * a + acc[i + 2] * keep;
        acc[i + 3] = a + acc[i + 3] * keep;
      }
    }
  }

  // Premultiplied, column by column → the canvas's straight RGBA, row by row (over the
  // background, when there is one: opaque).
  _unpremultiply(from, to) {
    if (this.background) { this._overBackground(from, to); return; }
    const { acc, width: W, height: H } = this;
    const out = this.pixels;
    for (let x = from; x < to; x++) {
      for (let r = 0, i = x * H * 4, o = x; r < H; r++, i += 4, o += W) {
        const a = acc[i + 3];
        if (a <= 0) { out[o] = 0; continue; }
        const k = 1 / a;
        out[o] = pixel(acc[i] * k + 0.5, acc[i + 1] * k + 0.5, acc[i + 2] * k + 0.5, a * 255 + 0.5);
      }
    }
  }

  _overBackground(from, to) {
    const { acc, width: W, height: H } = this;
    const out = this.pixels;
    const [R, G, B] = this.background;
    for (let x = from; x < to; x++) {
      for (let r = 0, i = x * H * 4, o = x; r < H; r++, i += 4, o += W) {
        const keep = 1 - acc[i + 3];
        out[o] = pixel(acc[i] + R * keep + 0.5, acc[i + 1] + G * keep + 0.5,
          acc[i + 2] + B * keep + 0.5, 255);
      }
    }
  }
}
