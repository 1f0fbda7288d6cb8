"""Animated GIFs from Matplotlib figures, written byte for byte the same on every run.

A chapter draws each frame with ordinary Matplotlib calls; this module renders the frames
to pixels, maps them onto one shared palette and writes the GIF.  With
the same inputs the file is identical, so regenerating the media of an unchanged chapter
leaves ``git status`` clean.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from . import runtime


def figure_to_rgb(fig, *, draw: bool = True) -> np.ndarray:
    """Render a Matplotlib figure to an ``(height, width, 3)`` uint8 array.

    ``draw=False`` takes the canvas as it stands, for frames whose changed artists were
    drawn onto a saved background by hand (blitting).
    """
    if draw:
        fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def _shared_palette(frames: list[np.ndarray], colors: int):
    from PIL import Image

    # One palette for all frames, computed from a mosaic of them, so colours do not flicker
    # between frames and the quantization is the same on every run.
    stride = max(1, len(frames) // 8)
    mosaic = Image.fromarray(np.concatenate(frames[::stride], axis=0))
    return mosaic.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def write_gif(frames: Iterable[np.ndarray], path: str | os.PathLike, *, duration_ms: int = 250,
              final_pause_ms: int = 1200, colors: int = 64, loop: int = 0) -> Path:
    """Write RGB frames (all the same shape, uint8) as a looping GIF; returns the path.

    The last frame is held for ``final_pause_ms`` so a reader sees the end state.  The file
    is first written under a temporary name and renamed into place when complete.
    """
    frames = [np.asarray(f) for f in frames]
    if not frames:
        raise ValueError("write_gif needs at least one frame")
    shape = frames[0].shape
    for i, frame in enumerate(frames):
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frame {i} must be an (height, width, 3) uint8 array, got {frame.dtype} {frame.shape}")
        if frame.shape != shape:
            raise ValueError(f"frame {i} has shape {frame.shape}, but frame 0 has {shape}: all frames must match")
    if not 2 <= colors <= 256:
        raise ValueError(f"colors must be between 2 and 256, got {colors}")
    if not (duration_ms > 0 and final_pause_ms > 0):  # NaN fails this test too
        raise ValueError("frame durations must be positive")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"the file name must end in .gif, got {path.name!r}")

    from PIL import Image

    palette = _shared_palette(frames, colors)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    durations = [duration_ms] * (len(images) - 1) + [final_pause_ms]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations,
                   loop=loop, optimize=False, disposal=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    return runtime.write_file_atomically(path, buffer.getvalue())


def gif_info(path: str | os.PathLike) -> dict:
    """Frame count, pixel size and byte size of a GIF (for tests and captions)."""
    from PIL import Image

    path = Path(path)
    with Image.open(path) as image:
        if image.format != "GIF":
            raise ValueError(f"{path} is a {image.format} file, not a GIF")
        return {"frames": getattr(image, "n_frames", 1), "size": image.size, "bytes": path.stat().st_size}


def write_frame_notes(gif: str | os.PathLike, labels, notes=None) -> Path:
    """Write what each frame of the GIF at ``gif`` shows, for the site's frame player.

    ``labels`` names each frame ("pass 3 of 20"); ``notes`` optionally adds the numbers the
    frame carries ("4 mistakes in this pass").  They go to ``NAME.frames.json`` beside
    ``NAME.gif`` (returned), written the same byte for byte for the same text.
    """
    import json

    gif = Path(gif)
    count = gif_info(gif)["frames"]
    labels = list(labels)
    notes = [""] * count if notes is None else list(notes)
    for name, texts in (("labels", labels), ("notes", notes)):
        if len(texts) != count or not all(isinstance(text, str) for text in texts):
            raise ValueError(f"{name} must be {count} strings, one per frame of {gif.name}")
    path = gif.with_name(f"{gif.stem}.frames.json")
    lines = [json.dumps({"label": label, "note": note}, ensure_ascii=False)
             for label, note in zip(labels, notes, strict=True)]
    path.write_text(f'{{"gif": {json.dumps(gif.name)}, "frames": [\n' + ",\n".join(lines) + "\n]}\n",
                    encoding="utf-8")
    return path


def _check_linear_states(states, n_features: int) -> list[tuple[np.ndarray, float]]:
    if isinstance(states, np.ndarray) or not hasattr(states, "__len__") or len(states) == 0:
        raise ValueError("states must be a non-empty list of (weights, bias) pairs, one per frame")
    checked = []
    for i, state in enumerate(states):
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(f"states[{i}] must be a (weights, bias) pair, got {state!r}")
        w = np.asarray(state[0], dtype=float).reshape(-1)
        b = np.asarray(state[1], dtype=float)
        if w.shape != (n_features,) or b.size != 1:
            raise ValueError(f"states[{i}] must hold {n_features} weights and one bias, "
                             f"got weights of shape {np.shape(state[0])} and bias of shape {b.shape}")
        if not (np.all(np.isfinite(w)) and np.isfinite(b).all()):
            raise ValueError(f"states[{i}] contains a non-finite weight or bias")
        checked.append((w, float(b.reshape(-1)[0])))
    return checked


def animate_linear_boundary(states, X, y, path: str | os.PathLike, *, notes=None, title: str | None = None,
                            frame_label: str = "pass", margin: float = 0.5, figsize=(5.0, 4.2), dpi: int = 80,
                            **gif_options) -> Path:
    """A GIF of a linear classifier's boundary, one frame per ``(weights, bias)`` state.

    Frame ``i`` shades the two half-planes of ``weights @ x + bias >= 0``, draws the line
    where it equals zero, scatters the 2-D points ``X`` coloured by ``y`` and writes
    "``frame_label`` i of n" in a corner (frame 0 is the state before training).  ``notes``
    is an optional list with one extra line of text per frame.  The remaining options go to
    :func:`write_gif`; the same labels and notes go beside the GIF (:func:`write_frame_notes`).
    """
    from matplotlib.colors import ListedColormap

    from . import figures

    X, y = figures.check_points(X, y)
    states = _check_linear_states(states, X.shape[1])
    if notes is not None:
        notes = list(notes)
        if len(notes) != len(states) or not all(isinstance(n, str) for n in notes):
            raise ValueError(f"notes must be a list of {len(states)} strings, one per frame")
    if margin < 0:
        raise ValueError(f"margin must be non-negative, got {margin}")

    import matplotlib.pyplot as plt

    xx, yy, grid = figures.grid_for(X, margin, steps=160)
    lo, hi = grid.min(axis=0), grid.max(axis=0)
    reach = 2.0 * float(np.linalg.norm(hi - lo))  # long enough to cross the whole plot
    last = len(states) - 1

    # The figure is laid out once; each frame only updates the shading, the line and the text.
    fig = plt.figure(figsize=figsize, dpi=dpi)
    try:
        ax = fig.add_subplot()
        shading = ax.imshow(np.zeros(xx.shape), origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]),
                            cmap=ListedColormap(figures.PALETTE[:2]), vmin=0, vmax=1, alpha=0.18,
                            interpolation="nearest", aspect="auto")
        figures.scatter_classes(X, y, ax, size=24)
        (line,) = ax.plot([], [], color="0.15", lw=2)
        label = ax.text(0.02, 0.98, "", transform=ax.transAxes, ha="left", va="top", fontsize=11,
                        bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor="0.6"))
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        if title:
            ax.set_title(title)
        fig.tight_layout()
        frames = []
        for i, (w, b) in enumerate(states):
            shading.set_data((grid @ w + b >= 0).astype(float).reshape(xx.shape))
            if np.any(w != 0):
                point = -b * w / (w @ w)                       # the point of the line nearest the origin
                along = np.array([-w[1], w[0]]) / np.linalg.norm(w)
                ends = point + np.outer([-reach - np.linalg.norm(point), reach + np.linalg.norm(point)], along)
                line.set_data(ends[:, 0], ends[:, 1])
            else:
                line.set_data([], [])                          # all-zero weights: no line yet
            text = f"{frame_label} {i} of {last}"
            label.set_text(text if notes is None else f"{text}\n{notes[i]}")
            frames.append(figure_to_rgb(fig))
    finally:
        plt.close(fig)
    gif = write_gif(frames, path, **gif_options)
    write_frame_notes(gif, [f"{frame_label} {i} of {last}" for i in range(len(states))], notes)
    return gif
