// The playgrounds on the pages: a <div class="l4-playground" data-kind="..."> becomes
//   mlp:        an MLP trained on 2-D points, with its decision boundary and hidden units;
//   perceptron: the perceptron rule, one example at a time;
//   backprop:   one training step of the backpropagation chapter's network, stage by stage.
// The state lives in the URL fragment, #playground:data=xor;layers=1;units=2;act=tanh,
// so a link in the text opens a ready configuration. Nothing starts moving by itself.
import {
  backward, createNetwork, crossEntropy, evaluate, forward, fromWeights, makeRandom,
  perceptronUpdate, trainEpoch,
} from "./engine.js";

// the chapters' figures: class 0 blue circles, class 1 orange squares, class 2 green triangles
const COLOURS = [[0, 114, 178], [230, 159, 0], [0, 158, 115]];
const SHAPE_NAMES = ["circles", "squares", "triangles"];
const COLOUR_NAMES = ["blue", "orange", "green"];
const GRID = 50;
const FRAGMENT = "#playground:";

const SETTINGS = {
  data: { label: "Data", options: null },
  layers: { label: "Hidden layers", min: 0, max: 4, step: 1 },
  units: { label: "Units per hidden layer", min: 1, max: 8, step: 1 },
  act: { label: "Activation", options: ["sigmoid", "tanh", "relu", "step"] },
  lr: { label: "Learning rate", min: 0.001, max: 10, step: "any" },
  l2: { label: "L2 penalty", min: 0, max: 1, step: "any" },
  batch: { label: "Batch size", min: 1, max: 500, step: 1 },
  seed: { label: "Seed", min: 0, max: 99999, step: 1 },
};
const FIELDS = {
  mlp: ["data", "layers", "units", "act", "lr", "l2", "batch", "seed"],
  perceptron: ["data", "lr", "seed"],
};
const DEFAULTS = { data: "circles", layers: 1, units: 4, act: "tanh", lr: 0.3, l2: 0, batch: 10, seed: 1 };

let counter = 0;
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
};
const fmt = (v, digits = 3) => (Object.is(v, -0) ? 0 : v).toFixed(digits);
const pct = (v) => `${Math.round(100 * v)} %`;

function parseState(text, base, fields, datasets) {
  const state = { ...base };
  for (const part of (text || "").split(";")) {
    const [key, raw] = part.split("=");
    const spec = SETTINGS[key];
    if (!spec || raw === undefined || !fields.includes(key)) continue;
    if (key === "data") {
      if (raw in datasets) state.data = raw;
    } else if (spec.options) {
      if (spec.options.includes(raw)) state[key] = raw;
    } else {
      const v = Number(raw);
      if (Number.isFinite(v)) state[key] = Math.min(spec.max, Math.max(spec.min, v));
    }
  }
  return state;
}
const stateText = (state, fields) => fields.map((k) => `${k}=${state[k]}`).join(";");

// Points as markers: the class is told by shape as well as colour, the split by fill.
// Each (class, split) group is one path, filled and stroked once.
function drawMarkers(ctx, points, cls, hollow, r = 4) {
  ctx.beginPath();
  for (const [x, y] of points) {
    if (cls === 0) {
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, 2 * Math.PI);
    } else if (cls === 1) {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    } else {
      ctx.moveTo(x, y - r - 1);
      ctx.lineTo(x + r + 1, y + r);
      ctx.lineTo(x - r - 1, y + r);
      ctx.closePath();
    }
  }
  const [red, green, blue] = COLOURS[cls];
  ctx.lineWidth = hollow ? 2 : 1;
  ctx.fillStyle = hollow ? "#fff" : `rgb(${red},${green},${blue})`;
  ctx.strokeStyle = hollow ? `rgb(${red},${green},${blue})` : "#111";
  ctx.fill();
  ctx.stroke();
}

function legend(classes) {
  const items = [];
  for (let k = 0; k < classes; k++) items.push(`class ${k}: ${COLOUR_NAMES[k]} ${SHAPE_NAMES[k]}`);
  return `${items.join(", ")}; filled: training points, hollow: test points. The background shades toward the colour of the class the network predicts.`;
}

class Base {
  constructor(root, kind) {
    this.root = root;
    this.kind = kind;
    this.id = `l4pg${++counter}`;
    this.data = window.LESSON4_PLAYGROUND;
    this.playing = false;
    root.classList.add("l4-pg");
    this.reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  button(text, onClick, extra = {}) {
    const b = el("button", { type: "button", ...extra, text });
    b.addEventListener("click", onClick);
    return b;
  }

  controls(fields) {
    const form = el("form", { class: "l4-pg-controls", "aria-label": "Settings" });
    form.addEventListener("submit", (e) => e.preventDefault());
    this.inputs = {};
    for (const key of fields) {
      const spec = SETTINGS[key];
      const id = `${this.id}-${key}`;
      let input;
      if (spec.options || key === "data") {
        input = el("select", { id });
        const options = key === "data" ? this.datasetChoices : spec.options;
        for (const o of options) {
          input.append(el("option", { value: o, text: key === "data" ? this.data.datasets[o].label : o }));
        }
      } else {
        input = el("input", { id, type: "number", min: spec.min, max: spec.max, step: spec.step, inputmode: "decimal" });
      }
      input.addEventListener("change", () => this.fromControls());
      this.inputs[key] = input;
      form.append(el("div", { class: "l4-pg-field" }, el("label", { for: id, text: spec.label }), input));
    }
    return form;
  }

  showState() {
    for (const [key, input] of Object.entries(this.inputs)) input.value = String(this.state[key]);
  }

  fromControls() {
    const text = Object.entries(this.inputs).map(([k, input]) => `${k}=${input.value}`).join(";");
    this.state = parseState(text, this.state, this.fields, this.data.datasets);
    this.showState();
    history.replaceState(null, "", FRAGMENT + stateText(this.state, this.fields));
    this.reset();
  }

  applyFragment(scroll) {
    const hash = decodeURIComponent(window.location.hash);
    if (!hash.startsWith(FRAGMENT)) return;
    this.state = parseState(hash.slice(FRAGMENT.length), this.defaults, this.fields, this.data.datasets);
    this.showState();
    this.reset();
    if (scroll) this.root.scrollIntoView({ block: "start" });
  }

  setPlaying(on) {
    this.playing = on;
    this.playButton.textContent = on ? "Pause" : "Play";
    this.playButton.setAttribute("aria-pressed", String(on));
    if (on) {
      const tick = () => {
        if (!this.playing) return;
        this.advance();
        this.draw();
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    } else {
      this.announce();
    }
  }

  // Play/Pause and Reset buttons shared by the trainable widgets; the caller places them.
  playAndReset() {
    this.playButton = this.button("Play", () => this.setPlaying(!this.playing), { "aria-pressed": "false" });
    return [this.playButton, this.button("Reset", () => this.reset())];
  }

  // Lays out settings, buttons, views and statistics with a legend under them, then starts
  // from the preset (or from the address's fragment when it names this widget's settings).
  assemble(buttons, views, stats) {
    this.legendText = el("p", { class: "l4-pg-legend" });
    this.frame([this.controls(this.fields), buttons, views, stats, this.legendText]);
    this.showState();
    this.reset();
    this.applyFragment(false);
  }

  frame(children) {
    this.summary = el("p", { class: "l4-pg-summary", "aria-live": "polite", role: "status" });
    this.root.replaceChildren(...children, this.summary);
    window.addEventListener("hashchange", () => this.applyFragment(true));
  }

  canvas(label, size) {
    return el("canvas", { width: size, height: size, role: "img", "aria-label": label, class: "l4-pg-canvas" });
  }

  dataset() {
    const d = this.data.datasets[this.state.data];
    return { ...d, X: Float64Array.from(d.x), n: d.y.length };
  }

  // canvas pixel -> data coordinates and back, for the data set's extent
  toPixel(x, y, size) {
    const [x0, x1, y0, y1] = this.set.extent;
    return [((x - x0) / (x1 - x0)) * size, (1 - (y - y0) / (y1 - y0)) * size];
  }

  gridPoints() {
    const [x0, x1, y0, y1] = this.set.extent;
    const g = new Float64Array(GRID * GRID * 2);
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        g[2 * (r * GRID + c)] = x0 + ((c + 0.5) / GRID) * (x1 - x0);
        g[2 * (r * GRID + c) + 1] = y1 - ((r + 0.5) / GRID) * (y1 - y0);
      }
    }
    return g;
  }

  // test points hollow; where every point is trained on (the perceptron), all filled
  paintPoints(ctx, size, split = true) {
    const { X, y, nTrain, n, classes } = this.set;
    const groups = Array.from({ length: 2 * classes }, () => []);
    for (let i = 0; i < n; i++) {
      groups[2 * y[i] + (split && i >= nTrain ? 1 : 0)].push(this.toPixel(X[2 * i], X[2 * i + 1], size));
    }
    groups.forEach((points, g) => drawMarkers(ctx, points, g >> 1, g % 2 === 1));
  }
}

// Probabilities for every grid cell -> an image, each class's colour weighted by its probability.
function heatmap(image, values, K, lo = 0, hi = 1) {
  for (let i = 0; i < GRID * GRID; i++) {
    let r = 0, g = 0, b = 0;
    if (K === 1 || K === 0) {
      const t = Math.min(1, Math.max(0, (values[i] - lo) / (hi - lo)));
      for (let c = 0; c < 3; c++) {
        const mix = (1 - t) * COLOURS[0][c] + t * COLOURS[1][c];
        if (c === 0) r = mix; else if (c === 1) g = mix; else b = mix;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const p = values[i * K + k];
        r += p * COLOURS[k][0]; g += p * COLOURS[k][1]; b += p * COLOURS[k][2];
      }
    }
    // washed toward white so that the points stand out
    image.data[4 * i] = 255 - 0.45 * (255 - r);
    image.data[4 * i + 1] = 255 - 0.45 * (255 - g);
    image.data[4 * i + 2] = 255 - 0.45 * (255 - b);
    image.data[4 * i + 3] = 255;
  }
}

class MlpPlayground extends Base {
  constructor(root) {
    super(root, "mlp");
    this.fields = FIELDS.mlp;
    this.datasetChoices = Object.keys(this.data.datasets);
    this.defaults = parseState(root.dataset.preset, DEFAULTS, this.fields, this.data.datasets);
    this.state = { ...this.defaults };
    this.board = this.canvas("Decision boundary", 300);
    this.net = this.canvas("Network", 300);
    this.net.classList.add("l4-pg-network");
    this.stats = el("table", { class: "l4-pg-stats" });
    const [play, reset] = this.playAndReset();
    const buttons = el("div", { class: "l4-pg-buttons" }, play,
      this.button("Step one epoch", () => { this.advance(); this.draw(); this.announce(); }), reset);
    this.assemble(buttons,
      el("div", { class: "l4-pg-views" },
        el("figure", {}, this.board, el("figcaption", { text: "Decision boundary, training and test points" })),
        el("figure", {}, this.net, el("figcaption", { text: "Each hidden unit's output over the plane; links: solid for positive weights, dashed for negative, wider for larger" }))),
      this.stats);
  }

  reset() {
    if (this.playing) this.setPlaying(false);
    const s = this.state;
    this.set = this.dataset();
    const K = this.set.classes === 2 ? 2 : this.set.classes;
    this.sizes = [2, ...Array(s.layers).fill(s.units), K];
    this.model = createNetwork(this.sizes, s.act, s.seed);
    this.rng = makeRandom(s.seed + 1);
    this.epoch = 0;
    this.grid = this.gridPoints();
    const { X, y, nTrain, n } = this.set;
    this.train = { X: X.subarray(0, 2 * nTrain), y: y.slice(0, nTrain), n: nTrain };
    this.test = { X: X.subarray(2 * nTrain), y: y.slice(nTrain), n: n - nTrain };
    this.losses = [];
    this.legendText.textContent = legend(this.set.classes);
    this.draw();
    this.announce();
  }

  advance() {
    const s = this.state;
    trainEpoch(this.model, this.train.X, this.train.y, this.train.n,
      { lr: s.lr, l2: s.l2, batchSize: Math.min(s.batch, this.train.n), rng: this.rng });
    this.epoch += 1;
  }

  measure() {
    this.trainScore = evaluate(this.model, this.train.X, this.train.y, this.train.n);
    this.testScore = evaluate(this.model, this.test.X, this.test.y, this.test.n);
  }

  draw() {
    this.measure();
    this.losses.push(this.trainScore.loss);
    const cache = forward(this.model, this.grid, GRID * GRID);
    this.paintBoundary(cache);
    this.paintNetwork(cache);
    const rows = [["", "loss", "accuracy"],
      ["training", fmt(this.trainScore.loss), pct(this.trainScore.accuracy)],
      ["test", fmt(this.testScore.loss), pct(this.testScore.accuracy)]];
    this.stats.replaceChildren(el("caption", { text: `Epoch ${this.epoch}` }),
      ...rows.map((r, i) => el("tr", {}, ...r.map((v, j) => el(i === 0 || j === 0 ? "th" : "td", i === 0 ? { scope: "col", text: v } : j === 0 ? { scope: "row", text: v } : { text: v })))));
    this.board.setAttribute("aria-label", `Decision boundary after epoch ${this.epoch}: test accuracy ${pct(this.testScore.accuracy)}`);
  }

  announce() {
    if (!this.trainScore) return;
    this.summary.textContent = `Epoch ${this.epoch}, train loss ${fmt(this.trainScore.loss)}, ` +
      `test loss ${fmt(this.testScore.loss)}, test accuracy ${pct(this.testScore.accuracy)}.`;
  }

  paintBoundary(cache) {
    const ctx = this.board.getContext("2d");
    const K = this.sizes[this.sizes.length - 1];
    const image = new ImageData(GRID, GRID);
    heatmap(image, cache.h[cache.h.length - 1], K);
    this.offscreen ??= el("canvas", { width: GRID, height: GRID });
    this.offscreen.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.offscreen, 0, 0, this.board.width, this.board.height);
    this.paintPoints(ctx, this.board.width);
  }

  paintNetwork(cache) {
    const ctx = this.net.getContext("2d");
    const w = this.net.width, h = this.net.height;
    ctx.clearRect(0, 0, w, h);
    const L = this.sizes.length - 1;
    const box = Math.min(36, Math.floor((h - 10) / Math.max(...this.sizes)) - 4);
    const pos = this.sizes.map((n, l) => Array.from({ length: n }, (_, j) => [
      12 + (l * (w - 24 - box)) / L, (h - n * (box + 4)) / 2 + j * (box + 4)]));
    // links first, under the units
    for (let l = 1; l <= L; l++) {
      const W = this.model.W[l], nout = this.sizes[l];
      for (let j = 0; j < this.sizes[l - 1]; j++) {
        for (let k = 0; k < nout; k++) {
          const v = W[j * nout + k];
          ctx.lineWidth = 0.5 + Math.min(4, Math.abs(v) * 1.5);
          ctx.setLineDash(v < 0 ? [4, 3] : []);
          ctx.strokeStyle = v < 0 ? "rgba(213,94,0,0.85)" : "rgba(0,114,178,0.85)";
          ctx.beginPath();
          ctx.moveTo(pos[l - 1][j][0] + box, pos[l - 1][j][1] + box / 2);
          ctx.lineTo(pos[l][k][0], pos[l][k][1] + box / 2);
          ctx.stroke();
        }
      }
    }
    ctx.setLineDash([]);
    const image = new ImageData(GRID, GRID);
    const small = this.small ??= el("canvas", { width: GRID, height: GRID });
    for (let l = 0; l <= L; l++) {
      for (let j = 0; j < this.sizes[l]; j++) {
        const [x, y] = pos[l][j];
        if (l === 0 || l === L) {
          ctx.fillStyle = "#fff";
          ctx.fillRect(x, y, box, box);
          ctx.fillStyle = "#111";
          ctx.font = "11px sans-serif";
          ctx.fillText(l === 0 ? `x${j + 1}` : `class ${this.sizes[L] === 1 ? 1 : j}`, x + 2, y + box / 2 + 4, box - 4);
        } else {
          const n = this.sizes[l], values = new Float64Array(GRID * GRID);
          for (let i = 0; i < GRID * GRID; i++) values[i] = cache.h[l][i * n + j];
          const [lo, hi] = this.state.act === "tanh" ? [-1, 1] : this.state.act === "relu" ? [0, Math.max(1e-9, ...values)] : [0, 1];
          heatmap(image, values, 1, lo, hi);
          small.getContext("2d").putImageData(image, 0, 0);
          ctx.drawImage(small, x, y, box, box);
        }
        ctx.strokeStyle = "#111";
        ctx.lineWidth = 1;
        ctx.strokeRect(x, y, box, box);
      }
    }
    this.net.setAttribute("aria-label", `Network with layer sizes ${this.sizes.join(", ")}; ` +
      `hidden activation ${this.state.act}; each hidden unit drawn as a small map of its output`);
  }
}

class PerceptronPlayground extends Base {
  constructor(root) {
    super(root, "perceptron");
    this.fields = FIELDS.perceptron;
    this.datasetChoices = ["blobs", "circles", "xor"];
    this.defaults = parseState(root.dataset.preset, { data: "blobs", lr: 1, seed: 0 }, this.fields, this.data.datasets);
    this.state = { ...this.defaults };
    this.board = this.canvas("Perceptron", 300);
    this.stats = el("p", { class: "l4-pg-stats" });
    const [play, reset] = this.playAndReset();
    const buttons = el("div", { class: "l4-pg-buttons" },
      this.button("Step one example", () => { this.advance(); this.draw(); this.announce(); }),
      this.button("Run one pass", () => { this.pass(); this.draw(); this.announce(); }),
      play, reset);
    this.assemble(buttons,
      el("div", { class: "l4-pg-views" }, el("figure", {}, this.board, el("figcaption", {
        text: "The line w·x + b = 0; the ringed point is the example just looked at; the solid arrow is w, the dashed arrow the change the last update made to w" }))),
      this.stats);
  }

  reset() {
    if (this.playing) this.setPlaying(false);
    this.set = this.dataset();
    this.p = { w: new Float64Array(2), b: 0 };
    this.rng = makeRandom(this.state.seed);
    this.order = this.rng.permutation(this.set.n);
    this.position = 0;
    this.passes = 0;
    this.mistakes = 0;
    this.lastPass = null;
    this.last = null;
    this.grid = this.gridPoints();
    this.legendText.textContent = "class 0: blue circles, class 1: orange squares; every point is used for " +
      "training. The background shows the side of the line: blue where the perceptron says class 0, orange where it says class 1.";
    this.draw();
    this.announce();
  }

  advance() {
    const i = this.order[this.position];
    const x = this.set.X.subarray(2 * i, 2 * i + 2);
    const update = perceptronUpdate(this.p, x, this.set.y[i], this.state.lr);
    this.mistakes += Math.abs(update.error);
    this.last = { i, ...update };
    if (++this.position === this.set.n) {
      this.passes += 1;
      this.lastPass = this.mistakes;
      this.mistakes = 0;
      this.position = 0;
      this.order = this.rng.permutation(this.set.n);
    }
  }

  pass() {
    const start = this.passes;
    while (this.passes === start) this.advance();
  }

  draw() {
    const ctx = this.board.getContext("2d");
    const size = this.board.width;
    const image = new ImageData(GRID, GRID);
    const side = new Float64Array(GRID * GRID);
    for (let i = 0; i < GRID * GRID; i++) {
      side[i] = this.grid[2 * i] * this.p.w[0] + this.grid[2 * i + 1] * this.p.w[1] + this.p.b >= 0 ? 1 : 0;
    }
    heatmap(image, side, 1);
    this.offscreen ??= el("canvas", { width: GRID, height: GRID });
    this.offscreen.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.offscreen, 0, 0, size, size);
    this.paintPoints(ctx, size, false);
    const [w1, w2] = this.p.w;
    const norm = Math.hypot(w1, w2);
    if (norm > 0) {
      // the point of the line nearest the origin, and w drawn from it
      const foot = [(-this.p.b * w1) / (norm * norm), (-this.p.b * w2) / (norm * norm)];
      const [x0, x1] = this.set.extent;
      const span = x1 - x0;
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(...this.toPixel(foot[0] - w2 / norm * span * 2, foot[1] + w1 / norm * span * 2, size));
      ctx.lineTo(...this.toPixel(foot[0] + w2 / norm * span * 2, foot[1] - w1 / norm * span * 2, size));
      ctx.stroke();
      const tip = [foot[0] + (w1 / norm) * span * 0.15, foot[1] + (w2 / norm) * span * 0.15];
      arrow(ctx, this.toPixel(...foot, size), this.toPixel(...tip, size), []);
      if (this.last && this.last.error !== 0) {
        const d = [this.last.dw[0] / norm * span * 0.15, this.last.dw[1] / norm * span * 0.15];
        arrow(ctx, this.toPixel(...tip, size), this.toPixel(tip[0] + d[0], tip[1] + d[1], size), [5, 3]);
      }
    }
    if (this.last) {
      const [px, py] = this.toPixel(this.set.X[2 * this.last.i], this.set.X[2 * this.last.i + 1], size);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.arc(px, py, 10, 0, 2 * Math.PI);
      ctx.stroke();
    }
    this.stats.textContent = this.describe();
    this.board.setAttribute("aria-label", `Perceptron line after ${this.passes} passes and ${this.position} examples: ${this.accuracyText()}`);
  }

  accuracyText() {
    let right = 0;
    const { X, y, n } = this.set;
    for (let i = 0; i < n; i++) right += (X[2 * i] * this.p.w[0] + X[2 * i + 1] * this.p.w[1] + this.p.b >= 0 ? 1 : 0) === y[i] ? 1 : 0;
    return `${right} of ${n} points on the right side`;
  }

  // Where the pass stands, e.g. "Pass 2: 37 of 200 examples seen, 4 mistakes so far, 11 in pass 1"
  progress() {
    const previous = this.lastPass === null ? "" : `, ${this.lastPass} in pass ${this.passes}`;
    return `Pass ${this.passes + 1}: ${this.position} of ${this.set.n} examples seen, ` +
      `${this.mistakes} mistakes so far${previous}`;
  }

  describe() {
    let text = `${this.progress()}. w = (${fmt(this.p.w[0], 2)}, ` +
      `${fmt(this.p.w[1], 2)}), b = ${fmt(this.p.b, 2)}; ${this.accuracyText()}.`;
    if (this.last) {
      const { i, error, dw } = this.last;
      text += error === 0
        ? ` Example ${i} (class ${this.set.y[i]}) is on the right side: no update.`
        : ` Example ${i} (class ${this.set.y[i]}) is misclassified: w changes by (${fmt(dw[0], 2)}, ${fmt(dw[1], 2)}) and b by ${fmt(-this.state.lr * error, 2)}.`;
    }
    return text;
  }

  announce() {
    this.summary.textContent = `${this.progress()}; ${this.accuracyText()}.`;
  }
}

function arrow(ctx, [ax, ay], [bx, by], dash) {
  ctx.setLineDash(dash);
  ctx.strokeStyle = "#111";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(ax, ay);
  ctx.lineTo(bx, by);
  ctx.stroke();
  ctx.setLineDash([]);
  const angle = Math.atan2(by - ay, bx - ax);
  ctx.beginPath();
  ctx.moveTo(bx, by);
  ctx.lineTo(bx - 9 * Math.cos(angle - 0.4), by - 9 * Math.sin(angle - 0.4));
  ctx.lineTo(bx - 9 * Math.cos(angle + 0.4), by - 9 * Math.sin(angle + 0.4));
  ctx.closePath();
  ctx.fillStyle = "#111";
  ctx.fill();
}

// One step of the backpropagation chapter's network, shown stage by stage.
const STAGES = [
  "Stage 1 of 5: the data X, the labels y and the starting weights",
  "Stage 2 of 5: forward through the hidden layer, Z1 = X W1 + b1 and H1 = σ(Z1)",
  "Stage 3 of 5: forward to the output, Z2 = H1 W2 + b2, ŷ = σ(Z2), and the loss",
  "Stage 4 of 5: backward through the output layer, δ2 = (ŷ − y) / n, dL/dW2 = H1ᵀ δ2, dL/db2 = Σ δ2",
  "Stage 5 of 5: backward through the hidden layer, δ1 = (δ2 W2ᵀ) ⊙ H1 (1 − H1), dL/dW1 = Xᵀ δ1, dL/db1 = Σ δ1",
];

class BackpropPlayground extends Base {
  constructor(root) {
    super(root, "backprop");
    const d = this.data.backprop;
    this.model = fromWeights(d.sizes, d.activation, d.W, d.b);
    this.X = Float64Array.from(d.x);
    this.cache = forward(this.model, this.X, d.y.length);
    this.grads = backward(this.model, this.cache, d.y);
    this.loss = crossEntropy(this.model, this.cache.h[2], d.y, d.y.length);
    this.stage = 0;
    this.heading = el("p", { class: "l4-pg-stage" });
    this.tables = el("div", { class: "l4-pg-matrices" });
    this.back = this.button("Previous stage", () => this.go(-1));
    this.next = this.button("Next stage", () => this.go(1));
    this.frame([el("div", { class: "l4-pg-buttons" }, this.back, this.next,
      this.button("Start again", () => this.go(-this.stage))), this.heading, this.tables]);
    this.show();
  }

  go(delta) {
    this.stage = Math.min(STAGES.length - 1, Math.max(0, this.stage + delta));
    this.show();
    this.summary.textContent = STAGES[this.stage];
  }

  matrix(name, values, rows, cols, digits = 4) {
    const table = el("table", { class: "l4-pg-matrix", "data-name": name });
    table.append(el("caption", { text: `${name} (${rows} × ${cols})` }));
    for (let r = 0; r < rows; r++) {
      table.append(el("tr", {}, ...Array.from({ length: cols }, (_, c) => el("td", { text: fmt(values[r * cols + c], digits) }))));
    }
    return table;
  }

  show() {
    const { X, cache, grads, model } = this;
    const n = this.data.backprop.y.length;
    const shown = [[this.matrix("X", X, n, 2), this.matrix("y", this.data.backprop.y, n, 1, 0),
      this.matrix("W1", model.W[1], 2, 3), this.matrix("b1", model.b[1], 1, 3),
      this.matrix("W2", model.W[2], 3, 1), this.matrix("b2", model.b[2], 1, 1)],
    [this.matrix("Z1", cache.z[1], n, 3), this.matrix("H1", cache.h[1], n, 3)],
    [this.matrix("Z2", cache.z[2], n, 1), this.matrix("ŷ", cache.h[2], n, 1, 3),
      el("p", { class: "l4-pg-loss", text: `loss: ${fmt(this.loss, 4)}` })],
    [this.matrix("δ2", grads.delta[2], n, 1), this.matrix("dL/dW2", grads.gradW[2], 3, 1),
      this.matrix("dL/db2", grads.gradB[2], 1, 1)],
    [this.matrix("δ1", grads.delta[1], n, 3), this.matrix("dL/dW1", grads.gradW[1], 2, 3),
      this.matrix("dL/db1", grads.gradB[1], 1, 3)]];
    this.heading.textContent = STAGES[this.stage];
    this.tables.replaceChildren(...shown.slice(0, this.stage + 1).map((group, i) =>
      el("div", { class: i === this.stage ? "l4-pg-group l4-pg-current" : "l4-pg-group" }, ...group)));
    this.back.disabled = this.stage === 0;
    this.next.disabled = this.stage === STAGES.length - 1;
  }
}

const KINDS = { mlp: MlpPlayground, perceptron: PerceptronPlayground, backprop: BackpropPlayground };

function mountAll() {
  for (const root of document.querySelectorAll(".l4-playground:not(.l4-pg)")) {
    const Kind = KINDS[root.dataset.kind];
    if (!Kind || !window.LESSON4_PLAYGROUND) {
      root.textContent = "This playground could not start: its data did not load.";
      continue;
    }
    root.playground = new Kind(root);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
