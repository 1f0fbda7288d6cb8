"""Ship the in-page playground (browser/playground/) with the site, and its data.

After an HTML build, ``_static/playground/`` holds:

- ``playground.js``: ``engine.js`` and ``widget.js`` joined into one classic script.  The
  sources are ES modules, but a browser refuses to load a module from ``file://``; one
  plain script runs from a downloaded copy of the site as well as from a server.
- ``playground.css``: the widget's styles.
- ``data.js``: the points the playgrounds train on, drawn here by the chapters' own code
  (``lesson4_support.datasets`` with the chapters' seeds), and the backpropagation
  chapter's small network with its weights.

Pages embed a playground with a raw-HTML block: a ``<div class="l4-playground">`` with
``data-kind`` and ``data-preset`` attributes, and the two scripts and the style sheet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).resolve().parents[1] / "browser" / "playground"
MODULES = ("engine.js", "widget.js")


def classic_script() -> str:
    """The ES modules as one script: imports dropped, ``export`` keywords removed."""
    parts = []
    for name in MODULES:
        text = (SOURCE / name).read_text(encoding="utf-8")
        text = re.sub(r'^import [^;]*;\n', "", text, flags=re.M)
        text = re.sub(r"^export ", "", text, flags=re.M)
        parts.append(f"// {name}\n{text}")
    return "(() => {\n\"use strict\";\n" + "\n".join(parts) + "\n})();\n"


def _spiral(n_per_arm: int = 150, noise: float = 0.15, seed: int = 0):
    """Two interleaved spiral arms, one per class."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1.0, size=(2, n_per_arm))) * 3.2 * np.pi
    X, y = [], []
    for arm in (0, 1):
        angle = t[arm] + arm * np.pi
        radius = t[arm] / (3.2 * np.pi) * 2.5
        points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
        X.append(points + rng.normal(scale=noise, size=points.shape))
        y.append(np.full(n_per_arm, arm))
    return np.concatenate(X), np.concatenate(y)


def datasets_for_page() -> dict:
    """Each data set as training rows then test rows, with its plotting extent."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from lesson4_support import datasets

    chosen = {
        "blobs": ("two blobs (separable)", *datasets.toy_data("separable"), 0.25, 0),
        "xor": ("XOR", *datasets.toy_data("xor"), 0.25, 0),
        "circles": ("circles", *datasets.toy_data("circles"), 0.25, 0),
        # the dense-layer chapter's moons: its split, standardized with its training points
        # (and the three blobs standardized alike, so one learning rate suits all sets)
        "moons": ("moons", *datasets.toy_data("moons", n_samples=500, noise=0.2, seed=42), 0.2, 42),
        "spiral": ("spiral", *_spiral(), 0.25, 0),
        "blobs3": ("three classes", *datasets.toy_data("blobs3"), 0.25, 0),
    }
    out = {}
    for key, (label, X, y, test_size, seed) in chosen.items():
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                            random_state=seed, stratify=y)
        if key in ("moons", "blobs3"):
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        rows = np.concatenate([X_train, X_test])
        low, high = rows.min(axis=0), rows.max(axis=0)
        pad = 0.1 * (high - low)
        out[key] = {
            "label": label,
            "x": np.round(rows, 4).ravel().tolist(),
            "y": np.concatenate([y_train, y_test]).astype(int).tolist(),
            "nTrain": len(y_train),
            "classes": int(y.max()) + 1,
            "extent": np.round([low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]], 3).tolist(),
        }
    return out


def backprop_network() -> dict:
    """The backpropagation chapter's network: the same draws from ``default_rng(0)``."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 2))
    y = [0, 1, 1, 0]
    W1 = rng.normal(size=(2, 3))
    b1 = rng.normal(size=3) * 0.1
    W2 = rng.normal(size=(3, 1))
    b2 = np.zeros(1)
    return {"x": X.ravel().tolist(), "y": y, "sizes": [2, 3, 1], "activation": "sigmoid",
            "W": [W1.ravel().tolist(), W2.ravel().tolist()], "b": [b1.tolist(), b2.tolist()]}


def data_script() -> str:
    data = {"datasets": datasets_for_page(), "backprop": backprop_network()}
    return "window.LESSON4_PLAYGROUND = " + json.dumps(data, separators=(",", ":")) + ";\n"


def write_assets(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "playground.js").write_text(classic_script(), encoding="utf-8")
    (folder / "playground.css").write_text((SOURCE / "playground.css").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "data.js").write_text(data_script(), encoding="utf-8")


def _build_finished(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        write_assets(Path(app.outdir) / "_static" / "playground")


def setup(app):
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
