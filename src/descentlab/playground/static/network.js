// The network drawing: input features | hidden layers | output, every node a small heatmap of
// its output over the input plane, every link a curve coloured by its weight (blue +, orange −,
// width ∝ |w|). Built once per `ready` (the shape changes only then) and updated per frame.
//
// Everything inside the drawing — links, node boxes, pictures, biases, gradient tint — is
// painted on one opaque canvas (the feature names and the layers' buttons around it stay HTML).
// Above the canvas, invisible boxes for the nodes and an SVG of invisible link paths take the
// mouse. One opaque canvas is what costs the browser least to put on the screen every frame:
// no transparent layers to blend, nothing under it to draw (each such layer cost the
// compositor more than a millisecond a frame). So a frame of a 16 × 16 network changes one
// canvas, not a thousand DOM elements. Sizes shrink to fit: 16 layers × 16 neurons fit the
// same box as TF Playground's 6 × 8.

import { FEATURES } from "./state.js";
import { BLUE, ORANGE, colorByte, colorRgb, featureHeatmap, heatmapImage, heatmapStrip,
  paint } from "./heatmap.js";
import { LinkPainter, linkGeometry } from "./links.js";
import { optionName, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const HEADER = 30;         // room for a layer's +/− buttons above its column
const HEADER_PER_LAYER = 74;  // … and its activation/initializer selects
const LABEL_W = 58;        // room for the feature names left of the inputs
// Node boxes as the page's CSS once drew them: a 1-px border of rgba(0, 0, 0, 0.3) over white
// (an input switched off: its picture at 28 % and a lighter border, 55 % under the mouse); the
// output's 1.5-px border #333.
const BORDER = "#b3b3b3";
const BORDER_OFF = "#eaeaea";
const BORDER_OFF_HOVER = "#d5d5d5";
const BORDER_OUTPUT = "#333";
const PICTURE_OFF = 0.28;
const PICTURE_OFF_HOVER = 0.55;
// A bias's colours by colour byte (heatmap.js): its square, and its edge 35 % darker.
const BIAS_FILL = [], BIAS_EDGE = [];
for (let b = 0; b < 256; b++) {
  const rgb = colorRgb(b / 127.5 - 1);
  BIAS_FILL.push(`rgb(${rgb.join(",")})`);
  BIAS_EDGE.push(`rgb(${rgb.map((v) => Math.round(0.65 * v)).join(",")})`);
}

// Gradient size → darkness of the tint: log scale, 1e-8 (dark) to 1 (clear).
export function gradBrightness(g) {
  if (!(g > 0)) return 0;
  return Math.max(0, Math.min(1, (Math.log10(g) + 8) / 8));
}

export class NetworkView {
  /** callbacks: onToggleFeature(name), onNeurons(layer, delta), onLayerOption(layer, key, value),
   *  tooltip(text | null, event) */
  constructor(root, callbacks) {
    this.root = root;
    this.cb = callbacks;
    this.tint = false;
    this.spec = null;
  }

  // spec: {features (active, in order), shape, layers, state, options, limits, perLayer}
  build(spec) {
    this.spec = spec;
    this.inputsPainted = null;
    const root = this.root;
    root.replaceChildren();
    const { shape, features } = spec;
    const hidden = shape.slice(1, -1);
    const W = Math.max(300, root.clientWidth || 600);
    const header = spec.perLayer ? HEADER_PER_LAYER : HEADER;
    const rows = Math.max(FEATURES.length, ...hidden, 1);
    const H = Math.max(360, Math.min(560, 40 + rows * 34)) + header;
    root.style.height = `${H}px`;
    const nCols = hidden.length + 2;
    const spacing = (W - LABEL_W - 24) / Math.max(1, nCols - 1);
    // node size: as TF (30 px) when there is room, smaller so 16 rows and 18 columns still fit
    const size = Math.max(10, Math.min(30, (H - header - 10) / (rows * 1.22), spacing * 0.62));
    this.size = size;
    const colX = (c) => LABEL_W + size / 2 + c * spacing;
    const rowY = (r, n) => {
      const gap = Math.min(size * 1.22, (H - header - 10) / n);
      return header + (H - header) / 2 + (r - (n - 1) / 2) * gap;
    };

    this.W = W;
    this.H = H;
    // the canvas: right of the feature names, below the layers' buttons (nothing of the page
    // overlaps it, so nothing has to be drawn over it but the invisible mouse targets), as far
    // right as the output's box, which sticks out of the drawing's box a little
    const right = Math.max(W, colX(nCols - 1) + size * 0.65 + 2);
    const area = { x: LABEL_W - 3, y: header + 4, w: Math.ceil(right) - (LABEL_W - 3), h: H - header - 4 };
    this.area = area;
    this.ctx = this._canvas(area);
    const dpr = window.devicePixelRatio || 1;
    this.linkPainter = new LinkPainter(this.ctx, this.ctx.canvas.width, this.ctx.canvas.height,
      { background: [255, 255, 255] });
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "links");
    svg.setAttribute("width", area.w);
    svg.setAttribute("height", area.h);
    svg.style.left = `${area.x}px`;
    svg.style.top = `${area.y}px`;
    root.append(svg);
    this.svg = svg;

    // nodes: column 0 lists every feature (inactive ones greyed, no links), then hidden, output
    this.nodes = [];           // nodes[col][row] = {x, y, s, el, canvas (inputs only)}
    const inputCol = [];
    FEATURES.forEach((name, r) => {
      const active = features.includes(name);
      const node = this._node(colX(0), rowY(r, FEATURES.length), size, "input", active);
      node.el.dataset.feature = name;
      node.el.id = `feature-${name}`;
      node.el.title = t("help.features");
      node.el.addEventListener("click", () => this.cb.onToggleFeature(name));
      if (!active) {            // a switched-off input brightens under the mouse
        node.el.addEventListener("mouseenter", () => { node.hover = true; this._drawNode(node); });
        node.el.addEventListener("mouseleave", () => { node.hover = false; this._drawNode(node); });
      }
      const label = document.createElement("div");
      label.className = "feature-label" + (active ? " active" : "");
      label.textContent = optionName("feat", name);
      label.style.top = `${node.y - 8}px`;
      label.style.left = "0px";
      label.style.width = `${LABEL_W - 6}px`;
      label.addEventListener("click", () => this.cb.onToggleFeature(name));
      root.append(label);
      if (!active) paint(node.canvas, featureHeatmap(name));
      node.feature = name;
      node.active = active;
      inputCol.push(node);
    });
    this.nodes.push(inputCol);
    // the inputs that are wired, in the server's order (weights[0] rows)
    this.inputNodes = features.map((f) => inputCol.find((n) => n.feature === f));

    hidden.forEach((width, l) => {
      const col = [];
      for (let j = 0; j < width; j++) {
        const node = this._node(colX(l + 1), rowY(j, width), size, "hidden", true);
        node.el.addEventListener("mouseenter", (e) => this._hoverNode(l, j, e));
        node.el.addEventListener("mouseleave", () => this.cb.tooltip(null));
        col.push(node);
      }
      this.nodes.push(col);
      this._layerHeader(l, colX(l + 1), spacing, width);
    });
    const out = this._node(colX(nCols - 1), rowY(0, 1), size * 1.3, "output", true);
    out.el.addEventListener("mouseenter", (e) => this._hoverNode(hidden.length, 0, e));
    out.el.addEventListener("mouseleave", () => this.cb.tooltip(null));
    this.nodes.push([out]);

    // links, layer by layer: links[l][i][j] is the geometry (links.js) of the curve from node i
    // of column l to node j of column l+1, painted on the link canvas; an invisible SVG path
    // along the same curve finds the link under the mouse
    this.links = [];
    this.linkSpans = [];       // per layer: the pixel columns [from, to) its links cross
    const columns = [this.inputNodes, ...this.nodes.slice(1)];
    for (let l = 0; l < columns.length - 1; l++) {
      const from = columns[l], to = columns[l + 1];
      const rowsL = [];
      from.forEach((a, i) => {
        const row = [];
        to.forEach((b, j) => {
          const p = document.createElementNS(SVG, "path");
          // in the canvas's (and the SVG's) coordinates
          const x1 = a.x + a.s / 2 - area.x, x2 = b.x - b.s / 2 - area.x, mx = (x1 + x2) / 2;
          const y1 = a.y - area.y, y2 = b.y - area.y;
          p.setAttribute("d", `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
          p.setAttribute("class", "link");
          row.push(linkGeometry(x1 * dpr, y1 * dpr, x2 * dpr, y2 * dpr));
          p.addEventListener("mouseenter", (e) => {
            const w = this.weights?.[l]?.[i]?.[j];
            if (w !== undefined) this.cb.tooltip(t("weightIs", { v: fmt(w) }), e);
          });
          p.addEventListener("mouseleave", () => this.cb.tooltip(null));
          svg.append(p);
        });
        rowsL.push(row);
      });
      this.links.push(rowsL);
      const spans = rowsL.flat();
      this.linkSpans.push([Math.min(...spans.map((g) => g.x0)),
        Math.max(...spans.map((g) => g.x0 + g.n))]);
    }
    this.lastDraw = null;
    this.linkLooks = null;
    this._drawNodes(null, null, false);     // the boxes, until the first frame
  }

  // The opaque canvas over `area` of the drawing, at the screen's resolution, white, drawn in
  // its device pixels.
  _canvas(area) {
    const c = document.createElement("canvas");
    c.className = "net-canvas";
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(area.w * dpr);
    c.height = Math.round(area.h * dpr);
    c.style.left = `${area.x}px`;
    c.style.top = `${area.y}px`;
    c.style.width = `${area.w}px`;
    c.style.height = `${area.h}px`;
    this.root.append(c);
    const ctx = c.getContext("2d", { alpha: false });
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, c.width, c.height);
    return ctx;
  }

  // A node: its place, and an invisible box over the canvas for the mouse. Inputs keep their
  // pictures on small canvases of their own (not in the page): they change only with `ready`.
  _node(x, y, s, kind, active) {
    const el = document.createElement("div");
    el.className = `node ${kind}` + (active ? "" : " inactive");
    el.style.left = `${x - s / 2}px`;
    el.style.top = `${y - s / 2}px`;
    el.style.width = el.style.height = `${s}px`;
    let canvas = null;
    if (kind === "input") {
      canvas = document.createElement("canvas");
      canvas.width = canvas.height = 20;
    }
    this.root.append(el);
    // the box in the canvas's device pixels, its edges on pixel boundaries as CSS would put
    // them, and the border (1 px; 1.5 px for the output, which the browser draws 1 px wide on
    // a 1× screen)
    const dpr = window.devicePixelRatio || 1;
    const left = x - s / 2 - this.area.x, top = y - s / 2 - this.area.y;
    const x0 = Math.round(left * dpr), x1 = Math.round((left + s) * dpr);
    const y0 = Math.round(top * dpr), y1 = Math.round((top + s) * dpr);
    const b = kind === "output" ? Math.max(1, Math.floor(1.5 * dpr)) : Math.max(1, Math.round(dpr));
    // the bias's square, bs CSS px, left of the box's lower left corner; its 1-px edge
    const bs = Math.max(3, Math.round(s / 5)), e = Math.max(1, Math.round(dpr));
    const bx = Math.round((left - bs - 1) * dpr), by = Math.round((top + s - bs) * dpr);
    const bw = Math.round(bs * dpr);
    return { x, y, s, el, canvas, kind, active, hover: false,
      box: [x0, y0, x1 - x0, y1 - y0], picture: [x0 + b, y0 + b, x1 - x0 - 2 * b, y1 - y0 - 2 * b],
      bias: [bx, by, bw, bw], biasInner: [bx + e, by + e, bw - 2 * e, bw - 2 * e] };
  }

  // Above each hidden column: "+ −", the width, and (per-layer mode) two small selects.
  _layerHeader(l, x, spacing, width) {
    const spec = this.spec;
    const box = document.createElement("div");
    box.className = "layer-header";
    const w = Math.max(28, Math.min(96, spacing - 4));
    box.style.left = `${x - w / 2}px`;
    box.style.width = `${w}px`;
    const btns = document.createElement("div");
    btns.className = "neuron-buttons";
    const mk = (txt, id, delta, disabled) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "mini";
      b.id = id;
      b.textContent = txt;
      b.disabled = disabled;
      b.title = t("help.neurons", { max: spec.limits.maxNeurons });
      b.addEventListener("click", () => this.cb.onNeurons(l, delta));
      return b;
    };
    btns.append(mk("+", `neurons-add-${l}`, 1, width >= spec.limits.maxNeurons),
      mk("−", `neurons-remove-${l}`, -1, width <= 1));
    const count = document.createElement("div");
    count.className = "neuron-count";
    count.textContent = spacing > 60 ? `${width} ${t(width === 1 ? "neuron" : "neurons")}` : `${width}`;
    box.append(btns, count);
    if (spec.perLayer) {
      const st = spec.state;
      const mkSel = (key, list, values, prefix, id) => {
        const sel = document.createElement("select");
        sel.className = "layer-select";
        sel.id = id;
        sel.title = t(`help.${key === "activations" ? "activation" : "initializer"}`);
        const inherit = document.createElement("option");
        inherit.value = "";
        inherit.textContent = spacing > 80 ? t("inherit") : "–";
        sel.append(inherit);
        for (const v of values) {
          const o = document.createElement("option");
          o.value = v;
          o.textContent = prefix ? optionName(prefix, v) : v;
          sel.append(o);
        }
        sel.value = list?.[l] || "";
        sel.addEventListener("change", () => this.cb.onLayerOption(l, key, sel.value));
        return sel;
      };
      box.append(mkSel("activations", st.activations, spec.options.activations, "act",
        `layer-activation-${l}`));
      box.append(mkSel("initializers", st.initializers, spec.options.initializers, "",
        `layer-initializer-${l}`));
    }
    this.root.append(box);
  }

  _hoverNode(l, j, e) {
    const g = this.run?.gradients?.[l];
    const b = this.run?.biases?.[l]?.[j];
    const parts = [];
    if (b !== undefined) parts.push(t("biasIs", { v: fmt(b) }));
    if (g?.neuron) parts.push(t("gradIs", { v: g.neuron[j].toExponential(2) }));
    if (parts.length) this.cb.tooltip(parts.join("  ·  "), e);
  }

  setTint(on) {
    this.tint = on;
    if (this.run) this.update(this.run, null, this.discrete);
  }

  // run: one entry of frame.runs. inputs: the input heatmaps kept from the first frame.
  update(run, inputs, discrete = false) {
    if (!this.spec) return;
    this.run = run;
    this.weights = run.weights;
    this.discrete = discrete;
    // the input pictures do not change while a network trains: paint them when they arrive
    // (onto their own small canvases, copied onto the drawing with every frame)
    if (inputs && inputs !== this.inputsPainted) {
      this.inputNodes.forEach((node, i) => inputs[i] && paint(node.canvas, inputs[i]));
      this.inputsPainted = inputs;
      this.lastDraw = null;
    }
    // the same frame drawn again (a resize, a language switch): nothing changed
    const key = `${this.tint}|${discrete}`;
    if (this.lastDraw?.run === run && this.lastDraw.key === key) return;
    this.lastDraw = { run, key };

    // gradient tint: brightness of each non-input node from gradients[l].neuron[j]
    const bright = [];
    for (let c = 1; c < this.nodes.length; c++) {
      const gl = run.gradients?.[c - 1]?.neuron;
      bright[c] = this.nodes[c].map((_, j) => (this.tint && gl ? gradBrightness(gl[j]) : 1));
    }
    const repainted = this._drawLinks(run, bright);
    this._drawNodes(run, bright, discrete, repainted);
  }

  // Links: colour by sign, width by |w|; with the tint on, links into dark neurons fade too.
  // Widths (¼ px) and opacities (1/32) are rounded to steps too small to see. Each layer's
  // links lie in pixel columns of their own, so only the layers where some link's look changed
  // are painted again (late in training most frames change few). Within a layer, thin and
  // faint links are painted first, so the strong ones lie on top. Returns the layers painted.
  _drawLinks(run, bright) {
    const scale = this.size / 30;
    let maxAbs = 1e-12;
    for (const layer of run.weights || []) for (const row of layer) for (const w of row) {
      maxAbs = Math.max(maxAbs, Math.abs(w));
    }
    // widths are relative to a fixed range (as TF) but shrink when every weight is tiny
    const ref = Math.max(1, maxAbs);
    const dpr = window.devicePixelRatio || 1;
    if (!this.linkLooks) this.linkLooks = [];
    const repainted = new Set();      // the layers painted again (returned)
    this.links.forEach((layer, l) => {
      const wl = run.weights?.[l];
      const looks = [];               // per link: sign | width step | opacity step, or -1
      layer.forEach((row, i) => {
        row.forEach((_, j) => {
          const w = wl?.[i]?.[j];
          if (w === undefined) { looks.push(-1); return; }
          const a = Math.abs(w) / ref;
          const fade = this.tint ? 0.15 + 0.85 * bright[l + 1][j] : 1;
          const width = Math.round(4 * Math.max(0.4, (0.5 + 6 * Math.min(1, a)) * scale));
          const alpha = Math.round(32 * (0.35 + 0.6 * Math.min(1, a * 2)) * fade);
          looks.push((w >= 0 ? 1 : 0) | (width << 1) | (alpha << 8));
        });
      });
      const before = this.linkLooks[l];
      if (before && before.length === looks.length && looks.every((x, k) => x === before[k])) {
        return;
      }
      this.linkLooks[l] = looks;
      const painted = [];
      let k = 0;
      for (const row of layer) for (const geometry of row) {
        const look = looks[k++];
        if (look < 0) continue;
        painted.push({ geometry, look, rgb: look & 1 ? BLUE : ORANGE,
          width: (((look >> 1) & 127) / 4) * dpr, alpha: (look >> 8) / 32 });
      }
      painted.sort((a, b) => (a.look >> 1) - (b.look >> 1));   // stable: equal looks keep order
      const [from, to] = this.linkSpans[l];
      this.linkPainter.paint(painted, from, to);
      repainted.add(l);
    });
    return repainted;
  }

  // Every node over the links (painting a layer's links may have covered the edges of the
  // boxes beside them): its box, its picture, the tint over it, and its bias, a small square at
  // its lower left. run null: the empty boxes (before the first frame). All in device pixels
  // (the canvas's transform is the identity). repainted: the layers of links painted this
  // frame (the biases left of a layer's nodes lie among the links into them).
  _drawNodes(run, bright, discrete, repainted = null) {
    const strip = run && heatmapStrip(run.neurons || []);   // hidden neurons, in layer order
    let k = 0;
    const last = this.nodes.length - 1;
    this.nodes.forEach((column, c) => column.forEach((node, j) => {
      let picture = null, from = null;          // an image, and its square within it
      if (c === 0) picture = node.active && !this.inputsPainted ? null : node.canvas;
      else if (c === last) picture = run?.output && heatmapImage(run.output, { discrete });
      else if (strip && k < run.neurons.length) {
        picture = strip.canvas;
        from = [k * strip.n, 0, strip.n, strip.n];
      }
      if (c > 0 && c < last) k++;
      const dark = c > 0 && this.tint && bright?.[c][j] < 1 ? 0.88 * (1 - bright[c][j]) : 0;
      this._drawNode(node, picture, from, { smooth: !(c === last && discrete), dark });
      const b = run?.biases?.[c - 1]?.[j];
      if (c > 0 && b !== undefined) this._drawBias(node, b, !repainted || repainted.has(c - 1));
    }));
  }

  // One node's box and picture. An input's picture is its own canvas; a switched-off input's
  // is faded over white (more under the mouse), with a lighter border.
  _drawNode(node, picture = node.canvas, from = null, { smooth = true, dark = 0 } = {}) {
    const ctx = this.ctx;
    const off = node.kind === "input" && !node.active;
    ctx.fillStyle = node.kind === "output" ? BORDER_OUTPUT
      : off ? (node.hover ? BORDER_OFF_HOVER : BORDER_OFF) : BORDER;
    ctx.fillRect(...node.box);
    if (!picture || node.kind === "input") {    // (an input's picture may be missing or faded)
      ctx.fillStyle = "#fff";
      ctx.fillRect(...node.picture);
    }
    if (picture) {
      if (ctx.imageSmoothingEnabled !== smooth) ctx.imageSmoothingEnabled = smooth;
      if (off) ctx.globalAlpha = node.hover ? PICTURE_OFF_HOVER : PICTURE_OFF;
      if (from) ctx.drawImage(picture, ...from, ...node.picture);
      else ctx.drawImage(picture, ...node.picture);
      if (off) ctx.globalAlpha = 1;
    }
    if (dark > 0) {
      ctx.fillStyle = `rgba(16,24,32,${dark.toFixed(3)})`;
      ctx.fillRect(...node.picture);
    }
  }

  // A neuron's bias: a small square coloured by tanh(bias) with an edge 35 % darker (as a
  // stroke of rgba(0, 0, 0, 0.35) over it would be), two opaque fills; only when its colour
  // changed or the links around it were painted over it (`force`).
  _drawBias(node, b, force) {
    const ctx = this.ctx;
    const byte = colorByte(Math.tanh(b));
    if (!force && node.biasByte === byte) return;
    node.biasByte = byte;
    ctx.fillStyle = BIAS_EDGE[byte];
    ctx.fillRect(...node.bias);
    ctx.fillStyle = BIAS_FILL[byte];
    ctx.fillRect(...node.biasInner);
  }
}

function fmt(v) {
  return Math.abs(v) >= 0.001 || v === 0 ? v.toFixed(3) : v.toExponential(2);
}
