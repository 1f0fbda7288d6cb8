"""Convolution plumbing: output-size arithmetic and the pictures of kernels and feature maps.

The chapter on convolution writes its own small, readable convolution; this module holds
what supports it:

* :func:`output_size` and :func:`output_shape`, the arithmetic that says how big a feature
  map is, with every argument checked;
* :func:`sliding_kernel_gif`, the animation of a kernel sliding over an image while the
  feature map fills in;
* :func:`plot_kernel`, :func:`plot_feature_map`, :func:`plot_filter_gallery` and
  :func:`plot_response_overlay`, the figures of kernels and what they respond to.

Like PyTorch and TensorFlow, "convolution" here means cross-correlation: the kernel is laid
on the image as it is, without flipping it first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

from . import figures
from .checks import check_int
from .figures import DIVERGING, PALETTE, SEQUENTIAL


# --------------------------------------------------------------------------- arithmetic


def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (height, width), each checked against ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one integer or a (height, width) pair, got {value!r}")
        return (check_int(value[0], f"{name}[0]", minimum), check_int(value[1], f"{name}[1]", minimum))
    number = check_int(value, name, minimum)
    return number, number


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Length of a convolution's output along one axis.

    ``floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``, the
    formula PyTorch and TensorFlow use.  A kernel that does not fit in the padded input is
    an error rather than a size of zero.
    """
    size = check_int(size, "size", 1)
    kernel_size = check_int(kernel_size, "kernel_size", 1)
    stride = check_int(stride, "stride", 1)
    padding = check_int(padding, "padding", 0)
    dilation = check_int(dilation, "dilation", 1)
    span = dilation * (kernel_size - 1) + 1  # how many input cells the (dilated) kernel covers
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(
            f"the kernel covers {span} cells (kernel_size={kernel_size}, dilation={dilation}) but the "
            f"padded input has only {padded} (size={size}, padding={padding}): use a smaller kernel or more padding"
        )
    return (padded - span) // stride + 1


def output_shape(input_shape, kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, int]:
    """``(height, width)`` of a 2-D convolution's output.

    ``input_shape`` is ``(height, width)``; every other argument is an int or a
    ``(height, width)`` pair, as in ``torch.nn.Conv2d``.
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
        raise ValueError(f"input_shape must be a (height, width) pair, got {input_shape!r}")
    kernel, step, pad, dil = (
        _pair(kernel_size, "kernel_size", 1), _pair(stride, "stride", 1),
        _pair(padding, "padding", 0), _pair(dilation, "dilation", 1),
    )
    return tuple(output_size(input_shape[a], kernel[a], step[a], pad[a], dil[a]) for a in (0, 1))


# --------------------------------------------------------------------------- pictures


def _check_map(array, name: str) -> np.ndarray:
    array = np.asarray(array, dtype=float)
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _symmetric_limit(array) -> float:
    limit = float(np.max(np.abs(array)))
    return limit if limit > 0 else 1.0


def _axes(ax):
    return figures.get_axes(ax, figsize=(3, 3))


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_kernel(kernel, ax=None, *, title: str | None = None, annotate: bool = True, fontsize: float = 10):
    """Show a small kernel with a diverging colour map (negative vs positive), values written in."""
    kernel = _check_map(kernel, "kernel")
    ax = _axes(ax)
    limit = _symmetric_limit(kernel)
    ax.imshow(kernel, cmap=DIVERGING, vmin=-limit, vmax=limit)
    if annotate:
        for (i, j), value in np.ndenumerate(kernel):
            text = f"{value:g}" if float(value).is_integer() else f"{value:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if abs(value) > 0.6 * limit else "black")
    _bare(ax)
    if title:
        ax.set_title(title)
    return ax


def plot_feature_map(feature_map, ax=None, *, title: str | None = None, signed: bool = True):
    """Show a feature map: a diverging colour map centred on 0 when ``signed``, else sequential."""
    feature_map = _check_map(feature_map, "feature_map")
    ax = _axes(ax)
    if signed:
        limit = _symmetric_limit(feature_map)
        ax.imshow(feature_map, cmap=DIVERGING, vmin=-limit, vmax=limit)
    else:
        ax.imshow(feature_map, cmap=SEQUENTIAL)
    _bare(ax)
    if title:
        ax.set_title(title)
    return ax


def plot_filter_gallery(image, kernels: Mapping[str, np.ndarray], feature_maps: Mapping[str, np.ndarray], *,
                        annotate: bool = True, panel_size: float = 1.9):
    """A figure with the input image, then one column per kernel: the kernel above its feature map.

    ``kernels`` and ``feature_maps`` are dictionaries with the same names, in display order.
    Returns the Matplotlib figure; the chapter adds the caption.
    """
    import matplotlib.pyplot as plt

    image = _check_map(image, "image")
    if not isinstance(kernels, Mapping) or not isinstance(feature_maps, Mapping):
        raise TypeError("kernels and feature_maps must be dictionaries {name: 2-D array}")
    if not kernels:
        raise ValueError("kernels is empty: give at least one {name: kernel}")
    if list(kernels) != list(feature_maps):
        raise ValueError(f"kernels and feature_maps must have the same names in the same order, "
                         f"got {list(kernels)} and {list(feature_maps)}")
    columns = len(kernels) + 1
    fig, axes = plt.subplots(2, columns, figsize=(panel_size * columns, 2 * panel_size + 0.3),
                             gridspec_kw={"height_ratios": [1, 1.4]})
    axes[0, 0].axis("off")
    axes[1, 0].imshow(image, cmap="gray_r")
    axes[1, 0].set_title("input")
    _bare(axes[1, 0])
    for column, name in enumerate(kernels, start=1):
        plot_kernel(kernels[name], axes[0, column], title=name, annotate=annotate, fontsize=8)
        plot_feature_map(feature_maps[name], axes[1, column])
    fig.tight_layout()
    return fig


def plot_response_overlay(image, response, ax=None, *, title: str | None = None, alpha: float = 0.9):
    """Where a kernel responds: the image in grey with its (non-negative) response laid over it.

    ``response`` must have the image's shape (use "same" padding); negative values are
    treated as no response, as a ReLU after the convolution would.
    """
    image = _check_map(image, "image")
    response = _check_map(response, "response")
    if response.shape != image.shape:
        raise ValueError(f"response must have the image's shape {image.shape} (pad the convolution), "
                         f"got {response.shape}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    ax = _axes(ax)
    positive = np.maximum(response, 0.0)
    top = max(float(positive.max()), 1e-12)
    # The image is drawn faint (its darkest ink a light grey) so the colours stand out, and
    # responses under 5% of the strongest are left out rather than painted dark.
    low, high = float(image.min()), float(image.max())
    ax.imshow(image, cmap="gray_r", vmin=low, vmax=low + 3.0 * (high - low if high > low else 1.0))
    ax.imshow(np.ma.masked_less(positive, 0.05 * top), cmap=SEQUENTIAL, alpha=alpha, vmin=0.0, vmax=top)
    _bare(ax)
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------- animation


def sliding_kernel_gif(image, kernel, feature_map, path: str | os.PathLike, *, stride: int = 1,
                       duration_ms: int = 120, final_pause_ms: int = 2000, dpi: int = 72,
                       colors: int = 48) -> Path:
    """Animate ``kernel`` sliding over ``image`` while ``feature_map`` fills in, one cell a frame.

    ``feature_map`` is the convolution's result (no padding, the given stride), computed by
    the caller; the animation only shows it being built.  Each frame outlines the patch
    under the kernel, shows the kernel, and reveals the feature map up to the current cell,
    with the patch's sum of products written above.  One extra frame at the end shows the
    finished map.  The file is the same byte for byte on every run (frames are rendered
    here and written by :func:`lesson4_support.animation.write_gif`); each frame's position
    and sum go beside it (:func:`lesson4_support.animation.write_frame_notes`).
    """
    from matplotlib.patches import Rectangle

    from . import animation

    image = _check_map(image, "image")
    kernel = _check_map(kernel, "kernel")
    feature_map = _check_map(feature_map, "feature_map")
    stride = check_int(stride, "stride", 1)
    duration_ms = check_int(duration_ms, "duration_ms")
    final_pause_ms = check_int(final_pause_ms, "final_pause_ms", 0)
    dpi = check_int(dpi, "dpi", 10)
    colors = check_int(colors, "colors", 2, 256)
    expected = output_shape(image.shape, kernel.shape, stride)
    if feature_map.shape != expected:
        raise ValueError(f"feature_map has shape {feature_map.shape}, but a {kernel.shape} kernel with stride "
                         f"{stride} on a {image.shape} image gives {expected}")
    kh, kw = kernel.shape
    out_h, out_w = expected
    cells = out_h * out_w
    if cells > 400:
        raise ValueError(f"the feature map has {cells} cells, one frame each; crop or shrink the image "
                         "so there are at most 400")
    limit = _symmetric_limit(feature_map)

    import matplotlib.pyplot as plt

    # Draw the still parts once, then for each frame paste that background back and draw
    # only the moving parts on top ("blitting"): redrawing every panel for every frame
    # would be many times slower.
    fig = plt.figure(figsize=(7.0, 2.9), dpi=dpi)
    try:
        left, middle, right = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 0.55, 1]})
        left.imshow(image, cmap="gray_r", vmin=image.min(), vmax=image.max())
        left.set_title("input")
        plot_kernel(kernel, middle, title="kernel", fontsize=9)
        shown = np.full(feature_map.shape, np.nan)
        revealed = right.imshow(shown, cmap=DIVERGING, vmin=-limit, vmax=limit)
        right.set_title("feature map")
        for ax, (rows, cols) in ((left, image.shape), (right, feature_map.shape)):
            _bare(ax)
            ax.set_xticks(np.arange(cols + 1) - 0.5, minor=True)
            ax.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
            ax.tick_params(which="minor", length=0)
            ax.grid(True, which="minor", color="0.7", linewidth=0.5)
            ax.set_axisbelow(False)  # pixel grid over the image
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color("0.5")
        patch = Rectangle((-0.5, -0.5), kw, kh, fill=False, edgecolor=PALETTE[5], linewidth=2.5)
        cell = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor=PALETTE[5], linewidth=2.5)
        left.add_patch(patch)
        right.add_patch(cell)
        heading = fig.suptitle("", fontsize=11)
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=0.8, wspace=0.15)
        moving = (revealed, patch, cell, heading)
        for artist in moving:
            artist.set_animated(True)  # left out of the full draw below
        canvas = fig.canvas
        canvas.draw()
        background = canvas.copy_from_bbox(fig.bbox)
        frames = []
        for frame in range(cells + 1):
            shown.flat[:frame + 1] = feature_map.flat[:frame + 1]
            revealed.set_data(shown)
            if frame < cells:
                i, j = divmod(frame, out_w)
                patch.set_xy((j * stride - 0.5, i * stride - 0.5))
                cell.set_xy((j - 0.5, i - 0.5))
                heading.set_text(f"row {i}, column {j}: sum of products = {feature_map[i, j]:.2f}")
            else:
                patch.set_visible(False)
                cell.set_visible(False)
                heading.set_text(f"finished: a {out_h}x{out_w} feature map")
            canvas.restore_region(background)
            for artist in moving:
                fig.draw_artist(artist)
            frames.append(animation.figure_to_rgb(fig, draw=False))
    finally:
        plt.close(fig)
    gif = animation.write_gif(frames, path, duration_ms=duration_ms, final_pause_ms=final_pause_ms, colors=colors)
    positions = [divmod(frame, out_w) for frame in range(cells)]
    animation.write_frame_notes(
        gif, [f"output position {k + 1} of {cells}" for k in range(cells)] + ["the finished feature map"],
        [f"row {i}, column {j}: sum of products = {feature_map[i, j]:.2f}" for i, j in positions]
        + [f"all {cells} cells, {out_h} rows by {out_w} columns"])
    return gif
