// The engine against the NumPy float64 reference (parity.json, written by reference.py;
// $PLAYGROUND_PARITY names another copy), and its gradients against finite differences.
// Run: node --test browser/playground/tests/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ACTIVATIONS, backward, createNetwork, crossEntropy, evaluate, forward, fromWeights,
  makeRandom, penalty, perceptronUpdate, sgdStep, trainEpoch,
} from "../engine.js";

const reference = JSON.parse(readFileSync(process.env.PLAYGROUND_PARITY || new URL("./parity.json", import.meta.url)));
const TOLERANCE = 1e-12;

// largest difference over the largest reference value, for one array
function relativeError(actual, expected) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.equal(actual.length, expected.length, "arrays of different lengths");
  return scale === 0 ? diff : diff / scale;
}

function close(actual, expected, what) {
  const err = relativeError(actual, expected);
  assert.ok(err <= TOLERANCE, `${what}: relative error ${err.toExponential(2)} > ${TOLERANCE}`);
  return err;
}

let worst = 0;
for (const c of reference.mlp) {
  test(`parity with NumPy: ${c.name}`, () => {
    const net = fromWeights(c.sizes, c.activation, c.W0, c.b0);
    const X = Float64Array.from(c.X);
    const n = c.labels.length;
    for (let t = 0; t < 100; t++) {
      const idx = Array.from({ length: c.batch }, (_, i) => (t * c.batch + i) % n);
      const { loss, grads } = sgdStep(net, X, c.labels, idx, c.lr, c.l2);
      const expected = c.checkpoints[String(t + 1)];
      if (!expected) continue;
      const at = `step ${t + 1}`;
      worst = Math.max(worst, close([loss], [expected.loss], `${at} loss`));
      for (let l = 1; l < c.sizes.length; l++) {
        worst = Math.max(worst,
          close(grads.gradW[l], expected.gradW[l - 1], `${at} dL/dW${l}`),
          close(grads.gradB[l], expected.gradB[l - 1], `${at} dL/db${l}`),
          close(net.W[l], expected.W[l - 1], `${at} W${l}`),
          close(net.b[l], expected.b[l - 1], `${at} b${l}`));
      }
    }
  });
}

test("parity with NumPy: the perceptron rule", () => {
  const c = reference.perceptron;
  const n = c.labels.length;
  const d = c.X.length / n;
  const p = { w: new Float64Array(d), b: 0 };
  let mistakes = 0;
  for (let t = 0; t < 100; t++) {
    const i = t % n;
    mistakes += Math.abs(perceptronUpdate(p, c.X.slice(i * d, i * d + d), c.labels[i], c.lr).error);
    const expected = c.checkpoints[String(t + 1)];
    if (!expected) continue;
    worst = Math.max(worst, close([...p.w, p.b], [...expected.w, expected.b], `step ${t + 1} w, b`));
    assert.equal(mistakes, expected.mistakes, `step ${t + 1}: mistakes`);
  }
  assert.ok(mistakes > 0, "the reference data should make the rule fire");
});

test("report the largest parity error", () => {
  console.log(`largest relative difference from NumPy: ${worst.toExponential(2)}`);
});

// Central differences of the loss against the backward pass, for every parameter.
for (const activation of ["sigmoid", "tanh", "relu"]) {
  for (const sizes of [[2, 3, 1], [2, 4, 3, 3]]) {
    test(`finite differences: ${activation}, ${sizes.join("-")}`, () => {
      const net = createNetwork(sizes, activation, 7);
      const rng = makeRandom(11);
      const n = 5;
      const X = Float64Array.from({ length: n * 2 }, () => rng.normal());
      const K = sizes[sizes.length - 1];
      const labels = Array.from({ length: n }, (_, i) => i % Math.max(K, 2));
      const l2 = 0.01;
      const lossOf = () => {
        const cache = forward(net, X, n);
        return crossEntropy(net, cache.h[cache.h.length - 1], labels, n) + penalty(net, l2);
      };
      const grads = backward(net, forward(net, X, n), labels, l2);
      const h = 1e-6;
      for (let l = 1; l < sizes.length; l++) {
        for (const [params, g, name] of [[net.W[l], grads.gradW[l], "W"], [net.b[l], grads.gradB[l], "b"]]) {
          for (let i = 0; i < params.length; i++) {
            const keep = params[i];
            params[i] = keep + h;
            const up = lossOf();
            params[i] = keep - h;
            const down = lossOf();
            params[i] = keep;
            const numeric = (up - down) / (2 * h);
            assert.ok(Math.abs(numeric - g[i]) <= 1e-7 * Math.max(1, Math.abs(numeric)),
              `d L / d ${name}${l}[${i}]: backward ${g[i]}, finite differences ${numeric}`);
          }
        }
      }
    });
  }
}

test("step has a zero derivative, so only the output layer learns", () => {
  const net = createNetwork([2, 3, 2], "step", 1);
  const X = Float64Array.from([0.5, -1, 1, 2]);
  const grads = backward(net, forward(net, X, 2), [0, 1]);
  assert.ok(grads.gradW[1].every((g) => g === 0));
  assert.ok(grads.gradW[2].some((g) => g !== 0));
  assert.equal(ACTIVATIONS.step.f(0), 1);
});

test("the same seed gives the same run, another seed another one", () => {
  const run = (seed) => {
    const net = createNetwork([2, 4, 2], "tanh", seed);
    const rng = makeRandom(seed);
    const X = Float64Array.from({ length: 40 }, () => rng.normal());
    const labels = Array.from({ length: 20 }, (_, i) => (X[2 * i] * X[2 * i + 1] > 0 ? 1 : 0));
    trainEpoch(net, X, labels, 20, { lr: 0.3, batchSize: 5, rng });
    return evaluate(net, X, labels, 20).loss;
  };
  assert.equal(run(3), run(3));
  assert.notEqual(run(3), run(4));
});
