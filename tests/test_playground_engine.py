"""The playground's engine (browser/playground/engine.js) against NumPy, run by Node's test runner.

The NumPy float64 reference is computed afresh (browser/playground/tests/reference.py) and
``node --test`` replays it with the JavaScript engine: losses, gradients and weights after
1, 10 and 100 steps for every activation and the perceptron rule agree to 1e-12, and the
gradients agree with finite differences.  Without ``node`` this is skipped, except under
CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "browser" / "playground" / "tests"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        message = "node is not installed: the playground engine's tests need Node.js 20 or later"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return found


def test_engine_matches_numpy_and_finite_differences(tmp_path):
    runner = node()
    reference = tmp_path / "parity.json"
    made = subprocess.run([sys.executable, str(TESTS / "reference.py"), str(reference)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, f"the NumPy reference failed:\n{made.stderr}"
    env = {**os.environ, "PLAYGROUND_PARITY": str(reference)}
    result = subprocess.run([runner, "--test", str(TESTS)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert "# fail 0" in result.stdout
    assert "largest relative difference from NumPy" in result.stdout


def test_the_playground_weighs_under_30_kb_gzipped():
    """Everything a page loads for its playground: script, styles and data, gzipped."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import playground

    shipped = playground.classic_script() + (ROOT / "browser" / "playground" / "playground.css").read_text() \
        + playground.data_script()
    size = len(gzip.compress(shipped.encode(), compresslevel=9))
    assert size <= 30 * 1024, f"the playground is {size / 1024:.1f} KB gzipped, over its 30 KB budget"


def test_the_playground_trains_on_the_chapters_own_points():
    """Each exported set holds exactly the points the chapters draw, split into train and test."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "_ext"))
    import playground
    from lesson4_support import datasets

    exported = playground.datasets_for_page()
    for key, name in (("blobs", "separable"), ("xor", "xor"), ("circles", "circles")):
        X, y = datasets.toy_data(name)
        rows = np.array(exported[key]["x"]).reshape(-1, 2)
        order, expected = np.lexsort(rows.T), np.lexsort(np.round(X, 4).T)
        assert np.array_equal(rows[order], np.round(X, 4)[expected]), key
        assert np.array_equal(np.array(exported[key]["y"])[order], y[expected]), key
        assert 0 < exported[key]["nTrain"] < len(y)
    assert exported["blobs3"]["classes"] == 3
