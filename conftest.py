"""pytest settings shared by the unit tests and nbval's notebook checks."""

import matplotlib

matplotlib.use("Agg")  # tests draw figures without a screen

import matplotlib.pyplot as plt
import pytest

from lesson4_support import runtime

# Tests import both frameworks; torchvision must come before TensorFlow (see runtime).
runtime.quiet_frameworks()
runtime.import_order_guard()

# Values glued for the page's prose are printed in the same cells, where nbval compares
# them (through tests/sanitize.cfg); the glue records themselves are not stored in the
# .ipynb reference outputs, so nbval must not expect them.
GLUE_MIME_PREFIX = "application/papermill.record/"
GLUE_MIMES = tuple(GLUE_MIME_PREFIX + kind for kind in ("text/plain", "text/html", "text/markdown", "image/png"))


def pytest_collectstart(collector):
    if collector.__class__.__name__ == "IPyNbFile":
        collector.skip_compare = tuple(collector.skip_compare) + GLUE_MIMES


@pytest.fixture(autouse=True)
def close_figures():
    """Tests that draw leave no figures behind for the next test."""
    yield
    plt.close("all")
