"""NumPy float64 reference for the playground engine's parity test.

Writes ``parity.json`` next to this file: for fixed data, initial weights and settings,
the loss and gradients of steps 1, 10 and 100 of mini-batch gradient descent with L2, the
weights after each of those steps, and the same for the perceptron rule.  Step ``t``
(counted from 0) uses the rows ``(t * batch + i) % n`` for ``i < batch``.
``engine.test.mjs`` replays every case with ``engine.js`` and compares.

    python browser/playground/tests/reference.py          # rewrite parity.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from lesson4_support import datasets

HERE = Path(__file__).resolve().parent
CHECKPOINTS = (1, 10, 100)

HIDDEN = {
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, a: a * (1 - a)),
    "tanh": (np.tanh, lambda z, a: 1 - a * a),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z, a: (z > 0).astype(float)),
    "step": (lambda z: (z >= 0).astype(float), lambda z, a: np.zeros_like(z)),
}


def step(Ws, bs, X, labels, activation, lr, l2):
    """One gradient-descent step in place; returns the loss and gradients it used."""
    f, df = HIDDEN[activation]
    n, L = len(X), len(Ws)
    zs, acts = [], [X]
    for l in range(L):
        z = acts[-1] @ Ws[l] + bs[l]
        zs.append(z)
        if l < L - 1:
            acts.append(f(z))
        elif z.shape[1] == 1:
            acts.append(1.0 / (1.0 + np.exp(-z)))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            acts.append(e / e.sum(axis=1, keepdims=True))
    p = acts[-1]
    if p.shape[1] == 1:
        Y = labels[:, None].astype(float)
        loss = -np.mean(np.where(labels == 1, np.log(p[:, 0]), np.log(1 - p[:, 0])))
    else:
        Y = np.eye(p.shape[1])[labels]
        loss = -np.mean(np.log(p[np.arange(n), labels]))
    loss += 0.5 * l2 * sum(float((W * W).sum()) for W in Ws)
    delta = (p - Y) / n
    gW, gb = [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        gW[l] = acts[l].T @ delta + l2 * Ws[l]
        gb[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ Ws[l].T) * df(zs[l - 1], acts[l])
    for l in range(L):
        Ws[l] -= lr * gW[l]
        bs[l] -= lr * gb[l]
    return float(loss), gW, gb


def flat(arrays):
    return [np.asarray(a, dtype=float).ravel().tolist() for a in arrays]


def mlp_case(name, X, labels, sizes, activation, lr, l2, batch, seed):
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(sizes[l], sizes[l + 1])) / np.sqrt(sizes[l]) for l in range(len(sizes) - 1)]
    bs = [rng.normal(size=sizes[l + 1]) * 0.1 for l in range(len(sizes) - 1)]
    case = {"name": name, "sizes": sizes, "activation": activation, "lr": lr, "l2": l2, "batch": batch,
            "X": X.ravel().tolist(), "labels": labels.tolist(), "W0": flat(Ws), "b0": flat(bs), "checkpoints": {}}
    n = len(X)
    for t in range(max(CHECKPOINTS)):
        idx = [(t * batch + i) % n for i in range(batch)]
        loss, gW, gb = step(Ws, bs, X[idx], labels[idx], activation, lr, l2)
        if t + 1 in CHECKPOINTS:
            case["checkpoints"][str(t + 1)] = {"loss": loss, "gradW": flat(gW), "gradB": flat(gb),
                                               "W": flat(Ws), "b": flat(bs)}
    return case


def perceptron_case(X, labels, lr):
    """The perceptron chapter's rule, one example at a time, example t % n at step t."""
    w, b = np.zeros(X.shape[1]), 0.0
    case = {"X": X.ravel().tolist(), "labels": labels.tolist(), "lr": lr, "checkpoints": {}}
    mistakes = 0
    for t in range(max(CHECKPOINTS)):
        i = t % len(X)
        error = int(X[i] @ w + b >= 0) - labels[i]
        w = w - lr * error * X[i]
        b = b - lr * error
        mistakes += abs(int(error))
        if t + 1 in CHECKPOINTS:
            case["checkpoints"][str(t + 1)] = {"w": w.tolist(), "b": float(b), "mistakes": mistakes}
    return case


def build() -> dict:
    X3, y3 = datasets.toy_data("blobs3", n_samples=30, seed=0)
    X3 = (X3 - X3.mean(axis=0)) / X3.std(axis=0)
    Xx, yx = datasets.toy_data("xor", n_samples=24, seed=0)
    Xs, ys = datasets.toy_data("separable", n_samples=40, noise=2.0, seed=0)
    cases = [mlp_case(f"3 classes, {act}", X3, y3, [2, 4, 3, 3], act, 0.5, 1e-3, 8, 1)
             for act in HIDDEN]
    cases.append(mlp_case("XOR, 2 classes, softmax, tanh", Xx, yx, [2, 5, 2], "tanh", 0.8, 1e-3, 6, 2))
    cases.append(mlp_case("sigmoid output, sigmoid hidden", Xx, yx, [2, 3, 1], "sigmoid", 1.0, 0.0, 24, 3))
    return {"mlp": cases, "perceptron": perceptron_case(Xs, ys, 0.5)}


def main() -> int:
    text = json.dumps(build(), indent=None, separators=(",", ":")) + "\n"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "parity.json"
    out.write_text(text)
    print(f"wrote {out} ({len(text) // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
