"""A tested reference version of the gradients the backpropagation chapter works out by hand.

The network is the chapter's tiny one, written with kernels in the ``x @ W + b`` layout::

    z1 = x @ W1 + b1        a1 = sigmoid(z1)          (hidden layer)
    z2 = a1 @ W2 + b2       p  = sigmoid(z2)          (output: probability of class 1)
    L  = mean(-y log p - (1 - y) log(1 - p))          (binary cross-entropy)
"""

from __future__ import annotations

import numpy as np


#: The parameter names, in the order the gradients are reported.
PARAMETERS = ("W1", "b1", "W2", "b2")


def _check_network(x, y, W1, b1, W2, b2):
    """The six arrays as float64, or an error naming the one whose shape does not fit.

    NumPy would broadcast a wrong bias or target shape into a wrong answer without a word.
    """
    x, y, W1, b1, W2, b2 = (np.asarray(v).astype(np.float64) for v in (x, y, W1, b1, W2, b2))
    for name, array in (("x", x), ("W1", W1), ("W2", W2)):
        if array.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array, got shape {array.shape}")
    n, n_in = x.shape
    if W1.shape[0] != n_in:
        raise ValueError(f"W1 must have one row per input feature ({n_in}), got shape {W1.shape}")
    if b1.shape != (W1.shape[1],):
        raise ValueError(f"b1 must have shape {(W1.shape[1],)}, got {b1.shape}")
    if W2.shape[0] != W1.shape[1]:
        raise ValueError(f"W2 must have one row per hidden unit ({W1.shape[1]}), got shape {W2.shape}")
    if b2.shape != (W2.shape[1],):
        raise ValueError(f"b2 must have shape {(W2.shape[1],)}, got {b2.shape}")
    if y.shape != (n, W2.shape[1]):
        raise ValueError(f"y must have shape {(n, W2.shape[1])} (one row per sample), got {y.shape}")
    if np.any((y < 0) | (y > 1)):  # labels such as -1/+1 or 0..9 give a loss that means nothing
        raise ValueError("y must hold targets between 0 and 1")
    return x, y, W1, b1, W2, b2


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def two_layer_gradients(x, y, W1, b1, W2, b2) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients ``{"W1": ..., "b1": ..., "W2": ..., "b2": ...}`` of the network above.

    ``x`` is ``(n, n_inputs)``, ``y`` is ``(n, n_outputs)`` with targets in [0, 1]; the
    result is computed in float64 with the chain rule, layer by layer from the loss back.
    """
    x, y, W1, b1, W2, b2 = _check_network(x, y, W1, b1, W2, b2)
    a1 = _sigmoid(x @ W1 + b1)
    p = _sigmoid(a1 @ W2 + b2)
    eps = 1e-12
    loss = float(np.mean(-y * np.log(p + eps) - (1 - y) * np.log(1 - p + eps)))
    dz2 = (p - y) / y.size          # sigmoid followed by cross-entropy: the two derivatives collapse
    da1 = dz2 @ W2.T
    dz1 = da1 * a1 * (1 - a1)
    grads = {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dz2, "b2": dz2.sum(axis=0)}
    return loss, grads
