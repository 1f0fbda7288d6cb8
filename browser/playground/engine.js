// The playground's network: the arithmetic of the backpropagation chapter, in float64.
//
// A network with layer sizes [d, h1, ..., K] keeps, for each layer l = 1..L, a weight
// matrix W[l] of shape (inputs, outputs) and a bias b[l]. For a batch X of n rows,
// one example per row, with f the hidden activation:
//
//     Z_l = H_{l-1} W_l + b_l,    H_l = f(Z_l),    H_0 = X
//
// and at the output y_hat = sigmoid(Z_L) (K = 1, binary cross-entropy) or
// y_hat = softmax(Z_L) (K >= 2, cross-entropy). In both cases the first delta is
//
//     delta_L = (y_hat - Y) / n            (Y: the labels, one-hot when K >= 2)
//
// and the backward pass walks down the layers:
//
//     dL/dW_l = H_{l-1}^T delta_l,   dL/db_l = sum over rows of delta_l,
//     delta_{l-1} = (delta_l W_l^T) * f'(Z_{l-1})   (element by element).
//
// In the code z[l] is Z_l and h[l] is H_l (h[L] is y_hat). Matrices are Float64Arrays in
// row-major order; a batch of n examples with d features is one Float64Array of n * d.

export const ACTIVATIONS = {
  // f(z), and its derivative written with z and a = f(z), as the chapters write them
  sigmoid: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z, a) => a * (1 - a) },
  tanh: { f: (z) => Math.tanh(z), df: (z, a) => 1 - a * a },
  relu: { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) },
  // the perceptron's step: its derivative is 0, so no gradient flows through it
  step: { f: (z) => (z >= 0 ? 1 : 0), df: () => 0 },
};

// A small seeded generator (mulberry32): the same seed gives the same weights and order.
export function makeRandom(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = 1 - uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  const permutation = (n) => {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  };
  return { uniform, normal, permutation };
}

// Weights drawn from N(0, 1/fan_in) (the dense-layer chapter's scaling), biases at zero.
export function createNetwork(sizes, activation, seed) {
  if (!ACTIVATIONS[activation]) throw new Error(`unknown activation ${activation}`);
  const rng = makeRandom(seed);
  const W = [null];
  const b = [null];
  for (let l = 1; l < sizes.length; l++) {
    const w = new Float64Array(sizes[l - 1] * sizes[l]);
    const scale = 1 / Math.sqrt(sizes[l - 1]);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * scale;
    W.push(w);
    b.push(new Float64Array(sizes[l]));
  }
  return { sizes: sizes.slice(), activation, W, b };
}

// A network with given weights: W and b list the layers' matrices (flat, row-major) in order.
export function fromWeights(sizes, activation, W, b) {
  return {
    sizes: sizes.slice(), activation,
    W: [null, ...W.map((w) => Float64Array.from(w))],
    b: [null, ...b.map((v) => Float64Array.from(v))],
  };
}

// Forward pass over n rows of X; keeps every Z_l and H_l for the backward pass.
export function forward(net, X, n) {
  const L = net.sizes.length - 1;
  const z = [null];
  const h = [X];
  const f = ACTIVATIONS[net.activation].f;
  for (let l = 1; l <= L; l++) {
    const nin = net.sizes[l - 1];
    const nout = net.sizes[l];
    const W = net.W[l];
    const prev = h[l - 1];
    const zl = new Float64Array(n * nout);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < nout; k++) {
        let s = 0;
        for (let j = 0; j < nin; j++) s += prev[i * nin + j] * W[j * nout + k];
        zl[i * nout + k] = s + net.b[l][k];
      }
    }
    z.push(zl);
    h.push(l < L ? zl.map(f) : outputProbabilities(zl, n, nout));
  }
  return { n, z, h };
}

function outputProbabilities(zl, n, K) {
  if (K === 1) return zl.map(ACTIVATIONS.sigmoid.f);
  const p = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, zl[i * K + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += (p[i * K + k] = Math.exp(zl[i * K + k] - max));
    for (let k = 0; k < K; k++) p[i * K + k] /= sum;
  }
  return p;
}

// Mean cross-entropy of the probabilities p for integer labels (0/1 for a sigmoid output).
export function crossEntropy(net, p, labels, n) {
  const K = net.sizes[net.sizes.length - 1];
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (K === 1) total -= labels[i] === 1 ? Math.log(p[i]) : Math.log(1 - p[i]);
    else total -= Math.log(p[i * K + labels[i]]);
  }
  return total / n;
}

// L2 penalty (lambda / 2) * sum of squared weights; biases are not penalised.
export function penalty(net, l2) {
  let s = 0;
  for (let l = 1; l < net.sizes.length; l++) for (const w of net.W[l]) s += w * w;
  return 0.5 * l2 * s;
}

// Backward pass: every delta_l and every gradient, from the cached forward pass.
export function backward(net, cache, labels, l2 = 0) {
  const L = net.sizes.length - 1;
  const { n, z, h } = cache;
  const K = net.sizes[L];
  const df = ACTIVATIONS[net.activation].df;
  const delta = new Array(L + 1).fill(null);
  const gradW = new Array(L + 1).fill(null);
  const gradB = new Array(L + 1).fill(null);
  const dL = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const target = K === 1 ? labels[i] : labels[i] === k ? 1 : 0;
      dL[i * K + k] = (h[L][i * K + k] - target) / n; // delta_L = (y_hat - Y) / n
    }
  }
  delta[L] = dL;
  for (let l = L; l >= 1; l--) {
    const nin = net.sizes[l - 1];
    const nout = net.sizes[l];
    const d = delta[l];
    const prev = h[l - 1];
    const gW = new Float64Array(nin * nout);
    const gb = new Float64Array(nout);
    for (let j = 0; j < nin; j++) {
      for (let k = 0; k < nout; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += prev[i * nin + j] * d[i * nout + k]; // H_{l-1}^T delta_l
        gW[j * nout + k] = s + l2 * net.W[l][j * nout + k];
      }
    }
    for (let k = 0; k < nout; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += d[i * nout + k];
      gb[k] = s;
    }
    gradW[l] = gW;
    gradB[l] = gb;
    if (l > 1) {
      const below = new Float64Array(n * nin);
      const W = net.W[l];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < nin; j++) {
          let s = 0;
          for (let k = 0; k < nout; k++) s += d[i * nout + k] * W[j * nout + k]; // delta_l W_l^T
          below[i * nin + j] = s * df(z[l - 1][i * nin + j], h[l - 1][i * nin + j]);
        }
      }
      delta[l - 1] = below;
    }
  }
  return { delta, gradW, gradB };
}

// The rows of X and labels picked by idx, as a new batch.
export function gather(X, labels, d, idx) {
  const Xb = new Float64Array(idx.length * d);
  const yb = new Int32Array(idx.length);
  idx.forEach((r, i) => {
    for (let j = 0; j < d; j++) Xb[i * d + j] = X[r * d + j];
    yb[i] = labels[r];
  });
  return { Xb, yb };
}

// One step of gradient descent on the batch idx: returns the loss and gradients it used.
export function sgdStep(net, X, labels, idx, lr, l2 = 0) {
  const { Xb, yb } = gather(X, labels, net.sizes[0], idx);
  const cache = forward(net, Xb, idx.length);
  const loss = crossEntropy(net, cache.h[cache.h.length - 1], yb, idx.length) + penalty(net, l2);
  const grads = backward(net, cache, yb, l2);
  for (let l = 1; l < net.sizes.length; l++) {
    const W = net.W[l];
    for (let i = 0; i < W.length; i++) W[i] -= lr * grads.gradW[l][i];
    for (let k = 0; k < net.b[l].length; k++) net.b[l][k] -= lr * grads.gradB[l][k];
  }
  return { loss, cache, grads };
}

// One epoch: the training rows in a shuffled order, cut into mini-batches.
export function trainEpoch(net, X, labels, n, { lr, l2 = 0, batchSize, rng }) {
  const order = rng.permutation(n);
  for (let start = 0; start < n; start += batchSize) {
    sgdStep(net, X, labels, order.slice(start, start + batchSize), lr, l2);
  }
}

// Loss and accuracy of the network on n rows.
export function evaluate(net, X, labels, n) {
  const cache = forward(net, X, n);
  const p = cache.h[cache.h.length - 1];
  const K = net.sizes[net.sizes.length - 1];
  let correct = 0;
  for (let i = 0; i < n; i++) correct += predictedClass(p, i, K) === labels[i] ? 1 : 0;
  return { loss: crossEntropy(net, p, labels, n), accuracy: n ? correct / n : 0 };
}

export function predictedClass(p, i, K) {
  if (K === 1) return p[i] >= 0.5 ? 1 : 0;
  let best = 0;
  for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + best]) best = k;
  return best;
}

// The perceptron rule on one example (x, y), y in {0, 1}:
//     error = step(x . w + b) - y,   w <- w - lr * error * x,   b <- b - lr * error
// It returns the error (+1, 0 or -1) and the change it made to w.
export function perceptronUpdate(p, x, y, lr) {
  let s = p.b;
  for (let j = 0; j < x.length; j++) s += x[j] * p.w[j];
  const error = (s >= 0 ? 1 : 0) - y;
  const dw = Array.from(x, (xj) => -lr * error * xj);
  for (let j = 0; j < x.length; j++) p.w[j] += dw[j];
  p.b -= lr * error;
  return { error, dw, db: -lr * error };
}
