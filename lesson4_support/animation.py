"""Animated GIFs from Matplotlib figures, written byte for byte the same on every run.

A chapter draws each frame with ordinary Matplotlib calls inside a function; this module
renders the frames to pixels, maps them onto one shared palette and writes the GIF.  With
the same inputs the file is identical, so regenerating the media of an unchanged chapter
leaves ``git status`` clean.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable, Iterable

import numpy as np


def figure_to_rgb(fig) -> np.ndarray:
    """Render a Matplotlib figure to an ``(height, width, 3)`` uint8 array."""
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
    if duration_ms <= 0 or final_pause_ms <= 0:
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
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)
    return path


def animate(draw: Callable[[object, int], None], n_frames: int, path: str | os.PathLike, *,
            figsize=(5.0, 4.0), dpi: int = 80, **gif_options) -> Path:
    """Call ``draw(fig, i)`` for each frame ``i`` on a cleared figure and write the GIF.

    ``draw`` receives a blank figure and the frame number, and draws that frame.
    """
    import matplotlib.pyplot as plt

    if not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise ValueError(f"n_frames must be a positive integer, got {n_frames!r}")
    if not callable(draw):
        raise TypeError("draw must be a function draw(fig, frame_number)")
    fig = plt.figure(figsize=figsize, dpi=dpi)
    try:
        frames = []
        for i in range(n_frames):
            fig.clear()
            draw(fig, i)
            frames.append(figure_to_rgb(fig))
    finally:
        plt.close(fig)
    return write_gif(frames, path, **gif_options)


def gif_info(path: str | os.PathLike) -> dict:
    """Frame count, pixel size and byte size of a GIF (for tests and captions)."""
    from PIL import Image

    path = Path(path)
    with Image.open(path) as image:
        if image.format != "GIF":
            raise ValueError(f"{path} is a {image.format} file, not a GIF")
        return {"frames": getattr(image, "n_frames", 1), "size": image.size, "bytes": path.stat().st_size}
