"""The house style and the plots the chapters share.

One palette (Okabe and Ito's, distinguishable with the common colour-vision deficiencies),
one sequential colour map (cividis, designed for the same), one place for sizes and fonts.
Every function here draws on a Matplotlib ``Axes`` it is given (or makes one) and returns
it, so a chapter decides the layout and the caption.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable

import numpy as np

#: Okabe-Ito colours, in the order chapters use them.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Sequential colour map for heat maps and images of values.
SEQUENTIAL = "cividis"
#: Diverging colour map for signed values (weights, kernels).
DIVERGING = "PuOr"
#: Marker shapes, so classes differ by shape as well as colour.
MARKERS = ("o", "s", "^", "D", "v", "P")

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": SEQUENTIAL,
    "svg.hashsalt": "lesson4",
}


def use_house_style() -> None:
    """Apply the lesson's Matplotlib settings (palette, sizes, grid) to this process."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)


def get_axes(ax=None, figsize=None):
    """``ax`` itself, or the axes of a new figure of ``figsize`` when ``ax`` is None."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def save_figure(fig, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Write ``fig`` as a PNG into the media folder, byte for byte repeatable.

    The file carries no creation date or software version, so regenerating an unchanged
    figure does not change the file, and it replaces the old one only once complete.
    """
    from . import runtime

    if Path(name).suffix.lower() != ".png":
        raise ValueError(f"save_figure writes PNG files, so the name must end in .png, got {name!r} "
                         "(fig.savefig writes other formats)")
    target = Path(folder) if folder is not None else runtime.media_dir()
    target.mkdir(parents=True, exist_ok=True)
    image = io.BytesIO()
    fig.savefig(image, format="png", metadata={"Software": None})
    return runtime.write_file_atomically(target / name, image.getvalue())


# --------------------------------------------------------------------------- activations


def plot_function_and_derivative(x, values, derivative, name: str, ax=None):
    """One activation and its derivative on the same axes."""
    x, values, derivative = (np.asarray(a, dtype=float) for a in (x, values, derivative))
    if not (x.ndim == values.ndim == derivative.ndim == 1) or not (len(x) == len(values) == len(derivative)):
        raise ValueError(
            f"x, values and derivative must be 1-D and of equal length, got shapes "
            f"{x.shape}, {values.shape}, {derivative.shape}"
        )
    ax = get_axes(ax)
    ax.plot(x, values, color=PALETTE[0], lw=2.2, label=name)
    ax.plot(x, derivative, color=PALETTE[1], lw=1.8, ls="--", label="derivative")
    ax.axhline(0, color="0.4", lw=0.8)
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_title(name)
    ax.set_xlabel("z")
    ax.legend(loc="upper left")
    return ax


# --------------------------------------------------------------------------- 2-D classification


def check_points(X, y=None):
    """``X`` as an ``(n, 2)`` array of points, and ``y`` as one label per point when given."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must be a 2-D array of shape (n_samples, 2), got shape {X.shape}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1-D with one label per row of X ({len(X)}), got shape {y.shape}")
    return X, y


def scatter_classes(X, y, ax=None, *, size: float = 28, alpha: float = 0.9):
    """Scatter 2-D points with one colour and marker per class."""
    X, y = check_points(X, y)
    ax = get_axes(ax)
    for i, label in enumerate(np.unique(y)):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, alpha=alpha, color=PALETTE[i % len(PALETTE)],
                   marker=MARKERS[i % len(MARKERS)], edgecolor="white", linewidth=0.5, label=f"class {label}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def grid_for(X, margin: float = 0.5, steps: int = 250):
    """A mesh covering the points plus a margin: returns ``(xx, yy, flat_points)``."""
    X, _ = check_points(X)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return xx, yy, np.c_[xx.ravel(), yy.ravel()]


def _scores_function(model) -> Callable[[np.ndarray], np.ndarray]:
    """Turn a model into ``f(points) -> class scores or labels``."""
    if hasattr(model, "predict_proba"):
        def probabilities(pts):
            p = np.asarray(model.predict_proba(pts))
            if p.ndim == 2 and p.shape[1] == 1:
                raise ValueError("predict_proba returned one column: a classifier gives one probability per "
                                 "class, so a one-column answer names no boundary (was it fitted on one class?)")
            # Two classes: the probability of the second, split at the threshold.  More:
            # every column, so the region is the most probable class (what predict returns).
            return p[:, -1] if p.ndim == 2 and p.shape[1] == 2 else p

        return probabilities
    if hasattr(model, "decision_function"):
        return lambda pts: np.asarray(model.decision_function(pts))
    if callable(model):
        return lambda pts: np.asarray(model(pts))
    raise TypeError(
        f"cannot draw a decision boundary for {type(model).__name__}: pass a fitted model with "
        "decision_function or predict_proba, or a function mapping an (n, 2) array to n scores"
    )


def _are_labels(z: np.ndarray) -> bool:
    """Whether one value per point reads as class labels rather than scores."""
    if z.dtype == bool or np.issubdtype(z.dtype, np.integer):
        return True
    return bool(np.issubdtype(z.dtype, np.floating) and np.all(z == np.round(z)) and len(np.unique(z)) > 2)


def plot_decision_boundary(model, X, y, ax=None, *, threshold: float | None = None, title: str | None = None,
                           margin: float = 0.5, steps: int = 250):
    """Shade the regions a classifier assigns to each class and overlay the data.

    ``model`` is a fitted scikit-learn style estimator (``decision_function`` or
    ``predict_proba``) or a callable returning one score per point, one score per class
    and point, or one class label per point.  With one score per point, scores above
    ``threshold`` (0 for decision functions, 0.5 for probabilities) form class 1.  With
    several classes each point goes to its highest-scoring class, as ``predict`` would
    assign it.  Labels (integers, or whole numbers of more than two values) are drawn as
    they are, one region per label, coloured as :func:`scatter_classes` colours that label.
    """
    X, y = check_points(X, y)
    score = _scores_function(model)
    if threshold is None:
        threshold = 0.5 if hasattr(model, "predict_proba") else 0.0
    xx, yy, pts = grid_for(X, margin, steps)
    z = score(pts)
    if np.issubdtype(z.dtype, np.number) and not np.issubdtype(z.dtype, np.integer):
        undefined = int(np.count_nonzero(~np.isfinite(z)))
        if undefined:
            raise ValueError(f"the model returned {undefined} scores that are NaN or infinite, for "
                             f"{pts.shape[0]} grid points: such a model has no decision boundary to draw")
    if z.ndim == 1 and z.shape[0] == pts.shape[0] and _are_labels(z):
        # class labels: the region of each label is coloured as scatter_classes colours its points
        classes = np.union1d(np.unique(y), np.unique(z))
        if len(classes) > len(PALETTE):
            raise ValueError(f"the data and the model's labels name {len(classes)} classes; a decision boundary "
                             f"plot shows at most {len(PALETTE)} classes (one colour each)")
        regions = np.searchsorted(classes, z).reshape(xx.shape)
        levels = np.arange(max(len(classes), 2) + 1) - 0.5
    elif z.ndim == 2 and z.shape[1] > 1:  # multi-class scores: colour by the arg-max
        if z.shape[0] != pts.shape[0]:
            raise ValueError(f"the model returned scores of shape {z.shape} for {pts.shape[0]} points")
        if z.shape[1] > len(PALETTE):
            raise ValueError(f"the model scores {z.shape[1]} classes; a decision boundary plot shows at most "
                             f"{len(PALETTE)} classes (one colour each)")
        regions = z.argmax(axis=1).reshape(xx.shape)
        levels = np.arange(z.shape[1] + 1) - 0.5
    else:
        z = z.reshape(-1)
        if z.shape[0] != pts.shape[0]:
            raise ValueError(f"the model returned {z.shape[0]} scores for {pts.shape[0]} points")
        regions = (z > threshold).astype(int).reshape(xx.shape)
        levels = [-0.5, 0.5, 1.5]
    ax = get_axes(ax)
    from matplotlib.colors import ListedColormap

    n_regions = len(levels) - 1
    ax.contourf(xx, yy, regions, levels=levels, cmap=ListedColormap(PALETTE[:n_regions]), alpha=0.18)
    ax.contour(xx, yy, regions, levels=levels[1:-1], colors="0.2", linewidths=1.2)
    scatter_classes(X, y, ax)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- MNIST and training


def plot_digit_grid(images, titles=None, *, ncols: int = 8, size: float = 1.1, cmap: str = "gray_r"):
    """Draw images in a grid, each with an optional title (its label, say); returns the figure.

    ``images`` is ``(n, height, width)`` (or ``(n, 1, height, width)``); ``titles`` holds one
    string per image.  Dark ink on white paper (``gray_r``) by default.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:  # (N, 1, H, W) tensors with a channel dimension
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width) or (n, 1, height, width), got {images.shape}")
    n = len(images)
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images: pass one title per image")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * (1.25 if titles else 1.0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap=cmap, interpolation="nearest")
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9, color="black", pad=2)
    fig.tight_layout(pad=0.3)
    return fig


def plot_class_counts(counts: dict, ax=None, *, class_names=None):
    """Grouped bars: how many examples of each class every split holds.

    ``counts`` maps a split name to an array of per-class counts (all of one length).
    """
    arrays = {name: np.asarray(values, dtype=float) for name, values in counts.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"every split needs a 1-D array of per-class counts of the same length, got shapes "
                         f"{ {k: a.shape for k, a in arrays.items()} }")
    n_classes = len(next(iter(arrays.values())))
    names = list(range(n_classes)) if class_names is None else list(class_names)
    if len(names) != n_classes:
        raise ValueError(f"got {len(names)} class names for {n_classes} classes")
    ax = get_axes(ax, figsize=(8, 3.4))
    positions = np.arange(n_classes)
    width = 0.8 / len(arrays)
    for i, (split, values) in enumerate(arrays.items()):
        ax.bar(positions + (i - (len(arrays) - 1) / 2) * width, values, width, color=PALETTE[i % len(PALETTE)],
               label=split)
    ax.set_xticks(positions, [str(n) for n in names])
    ax.set_xlabel("class")
    ax.set_ylabel("number of images")
    ax.legend(ncols=len(arrays), loc="upper center", bbox_to_anchor=(0.5, 1.15))
    return ax


def plot_curves(curves: dict, ax=None, *, xlabel: str = "epoch", ylabel: str = "loss", log: bool = False,
                marker_at: int | None = None, marker_label: str = "best epoch", x=None):
    """Several named curves against the epoch (1, 2, 3, ... unless ``x`` is given).

    ``marker_at`` draws a dashed vertical line at that x value (the epoch early stopping
    kept, say); ``log`` puts the y axis on a log scale.
    """
    ax = get_axes(ax)
    for i, (name, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"curve {name!r} must be a 1-D sequence, got shape {values.shape}")
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x, dtype=float)
        if len(xs) != len(values):
            raise ValueError(f"curve {name!r} has {len(values)} values but x has {len(xs)}")
        ax.plot(xs, values, color=PALETTE[i % len(PALETTE)], marker=MARKERS[i % len(MARKERS)], ms=4, lw=1.8,
                label=name)
    if marker_at is not None:
        ax.axvline(marker_at, color="0.3", ls="--", lw=1.2, label=marker_label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_confusion_matrix(matrix, ax=None, *, class_names=None, normalize: bool = False):
    """A confusion matrix as a heat map with the count (or row fraction) written in each cell.

    Rows are true classes, columns predicted ones.  Whole numbers are written as counts,
    anything else to three significant digits, row fractions to two decimals.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square (true classes x predicted classes), got shape {matrix.shape}")
    n = matrix.shape[0]
    names = list(range(n)) if class_names is None else list(class_names)
    if len(names) != n:
        raise ValueError(f"got {len(names)} class names for a {n}x{n} matrix")
    if normalize:  # each row as fractions of its true class; a row with no examples stays at zero
        sums = matrix.sum(axis=1, keepdims=True)
        values = np.divide(matrix, sums, out=np.zeros(matrix.shape), where=sums != 0)
    else:
        values = matrix
    counts = not normalize and np.array_equal(values, np.round(values))
    ax = get_axes(ax, figsize=(6.4, 5.6))
    shown = np.log1p(values) if not normalize else values  # a log scale lets the small mistakes show
    ax.imshow(shown, cmap=SEQUENTIAL)
    ax.grid(False)
    threshold = shown.max() / 2
    for i in range(n):
        for j in range(n):
            text = f"{int(values[i, j])}" if counts else f"{values[i, j]:.2f}" if normalize else f"{values[i, j]:.3g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="black" if shown[i, j] > threshold else "white")
    ax.set_xticks(range(n), [str(c) for c in names])
    ax.set_yticks(range(n), [str(c) for c in names])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def plot_seconds_per_epoch(seconds: dict, ax=None, *, title: str | None = None):
    """Horizontal bars of seconds per epoch, one per training loop, each labelled with its time
    to enough decimals that the shortest shows two significant digits."""
    names = list(seconds)
    values = np.asarray([seconds[name] for name in names], dtype=float)
    if values.ndim != 1 or not len(values) or not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"seconds per epoch must be positive, finite numbers, one per loop, got {seconds!r}")
    # as many decimals as give the smallest bar two significant digits, and at least one
    decimals = max(1, 1 - int(np.floor(np.log10(values.min()))))
    ax = get_axes(ax, figsize=(7, 0.8 + 0.7 * len(names)))
    positions = np.arange(len(names))[::-1]
    ax.barh(positions, values, color=[PALETTE[i % len(PALETTE)] for i in range(len(names))], height=0.6)
    for pos, value in zip(positions, values, strict=True):
        ax.text(value, pos, f" {value:.{decimals}f} s", va="center", fontsize=10)
    ax.set_yticks(positions, names)
    ax.set_xlabel("seconds per epoch")
    ax.set_xlim(0, values.max() * 1.2)
    ax.grid(axis="y", visible=False)
    if title:
        ax.set_title(title)
    return ax
