"""Plumbing for the backpropagation chapter: the computation-graph diagram, and a tested
reference version of the gradients the chapter works out by hand.

The network is the chapter's tiny one, written with kernels in the ``x @ W + b`` layout::

    z1 = x @ W1 + b1        a1 = sigmoid(z1)          (hidden layer)
    z2 = a1 @ W2 + b2       p  = sigmoid(z2)          (output: probability of class 1)
    L  = mean(-y log p - (1 - y) log(1 - p))          (binary cross-entropy)
"""

from __future__ import annotations

import numpy as np

from . import figures

#: The parameter names, in the order the gradients are reported.
PARAMETERS = ("W1", "b1", "W2", "b2")


def _as_float_array(value, name: str, ndim: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if 0 in array.shape:
        raise ValueError(f"{name} is empty (shape {array.shape}): {_SIZES[name]}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


_SIZES = {
    "x": "it needs at least one sample and one input feature",
    "y": "it needs at least one sample and one output",
    "W1": "it needs at least one input and one hidden unit",
    "W2": "it needs at least one hidden unit and one output",
    "b1": "it needs one number per hidden unit",
    "b2": "it needs one number per output",
}


def _check_network(x, y, W1, b1, W2, b2):
    x, y, W1, W2 = (_as_float_array(v, n, 2) for v, n in ((x, "x"), (y, "y"), (W1, "W1"), (W2, "W2")))
    b1, b2 = _as_float_array(b1, "b1", 1), _as_float_array(b2, "b2", 1)
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
    if np.any((y < 0) | (y > 1)):
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


# --------------------------------------------------------------------------- diagram

# Node name -> (x, y, label, kind).  kind: "value" (computed), "param" (learned), "data".
_NODES = {
    "x": (0.0, 0.0, "$x$", "data"),
    "W1": (1.0, 1.25, "$W_1$", "param"),
    "b1": (1.9, 1.25, "$b_1$", "param"),
    "z1": (1.5, 0.0, "$z_1$", "value"),
    "a1": (3.0, 0.0, "$a_1$", "value"),
    "W2": (4.0, 1.25, "$W_2$", "param"),
    "b2": (4.9, 1.25, "$b_2$", "param"),
    "z2": (4.5, 0.0, "$z_2$", "value"),
    "p": (6.0, 0.0, "$p$", "value"),
    "y": (7.5, 1.25, "$y$", "data"),
    "L": (7.5, 0.0, "$L$", "value"),
}
_FORWARD = [("x", "z1"), ("W1", "z1"), ("b1", "z1"), ("z1", "a1"), ("a1", "z2"), ("W2", "z2"),
            ("b2", "z2"), ("z2", "p"), ("p", "L"), ("y", "L")]
# (from, to, label of the local derivative carried backwards)
_BACKWARD = [
    ("L", "p", r"$\partial L / \partial p$"),
    ("p", "z2", r"$p(1-p)$"),
    ("z2", "a1", r"$W_2^{\top}$"),
    ("a1", "z1", r"$a_1(1-a_1)$"),
]
_PARAM_GRADS = [("z2", "W2", r"$a_1^{\top}\,\delta_2$"), ("z1", "W1", r"$x^{\top}\,\delta_1$")]
_OPERATIONS = {"z1": r"$xW_1{+}b_1$", "a1": r"$\sigma$", "z2": r"$a_1W_2{+}b_2$", "p": r"$\sigma$", "L": "cross-entropy"}


def draw_computation_graph(ax=None, *, backward: bool = True):
    """Draw the chapter's two-layer network as a computation graph; returns the figure.

    Forward edges are solid and dark; with ``backward`` the gradient flow is drawn in
    orange, dashed, from the loss back to the weights, each edge labelled with the
    local derivative the chain rule multiplies in.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a Matplotlib Axes or None, got {type(ax).__name__}")
    if not isinstance(backward, bool):
        raise TypeError(f"backward must be True or False, got {backward!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 3.6))
    else:
        fig = ax.figure
    colours = {"value": "white", "param": figures.PALETTE[4], "data": "0.85"}
    for name, (x, y, label, kind) in _NODES.items():
        ax.text(x, y, label, ha="center", va="center", fontsize=15, zorder=3,
                bbox=dict(boxstyle="circle,pad=0.35", facecolor=colours[kind], edgecolor="0.15", lw=1.3))

    def arrow(a, b, **style):
        (xa, ya), (xb, yb) = _NODES[a][:2], _NODES[b][:2]
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya), zorder=2,
                    arrowprops=dict(arrowstyle="-|>", shrinkA=17, shrinkB=17, **style))

    for a, b in _FORWARD:
        arrow(a, b, color="0.15", lw=1.4)
    chain = ["x", "z1", "a1", "z2", "p", "L"]
    for a, b in zip(chain, chain[1:]):  # the operation each step of the chain applies
        xm = (_NODES[a][0] + _NODES[b][0]) / 2
        ax.text(xm, 0.1, _OPERATIONS[b], ha="center", va="bottom", fontsize=9, color="0.3")
    if backward:
        orange = figures.PALETTE[5]
        for a, b, label in _BACKWARD:
            arrow(a, b, color=orange, lw=1.8, ls="--", connectionstyle="arc3,rad=-0.5")
            xm = (_NODES[a][0] + _NODES[b][0]) / 2
            ax.text(xm, -0.5, label, ha="center", va="top", fontsize=11, color=orange)
        for a, b, label in _PARAM_GRADS:
            arrow(a, b, color=orange, lw=1.5, ls="--", connectionstyle="arc3,rad=-0.3")
            xm, ym = (_NODES[a][0] + _NODES[b][0]) / 2, (_NODES[a][1] + _NODES[b][1]) / 2
            ax.text(xm - 0.45, ym + 0.1, label, ha="right", va="center", fontsize=10, color=orange)
        ax.plot([], [], color="0.15", lw=1.4, label="forward: compute values")
        ax.plot([], [], color=orange, lw=1.8, ls="--", label="backward: multiply local derivatives")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, -0.04), fontsize=9, ncol=2)
    ax.set_xlim(-0.9, 8.0)
    ax.set_ylim(-1.45, 1.75)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
