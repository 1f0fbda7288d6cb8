"""pytest settings shared by the unit tests and nbval's notebook checks."""

import importlib.util
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests draw figures without a screen

import matplotlib.pyplot as plt
import pytest

from lesson4_support import runtime

# Tests import both frameworks; torchvision must come before TensorFlow (see runtime).
runtime.quiet_frameworks()
runtime.import_torchvision_first()

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


# --------------------------------------------------------------------------- chapter memory
# mybinder.org restarts a kernel that passes 2 GB.  While nbval runs a chapter, a sampler
# follows the PSS of its kernel and every process the kernel starts (DataLoader workers,
# for example), and one extra test per chapter, after its last cell, fails when the peak
# passed the budget.  `make memory` measures the same outside the tests.
MEMORY_BUDGET_GB = 1.5
#: What mybinder.org allows at most: above it the kernel is restarted. No page may pass it.
BINDER_LIMIT_GB = 2.0
#: Pages known to reach the budget, with why and the range of peaks measured. Each loads
#: PyTorch and TensorFlow together, about 1.3 GB before any data. PSS counts the library
#: pages a process has mapped, shared fairly with other processes, and the same page has
#: measured up to 0.35 GB apart between runs on one machine: a listed page under the
#: budget passes, and one over Binder's limit fails like any other.
MEMORY_OVER_BUDGET = {
    "05_dense_layers.ipynb": "PyTorch layers beside their Keras twins (1.23-1.55 GB measured)",
    "10_tensorflow_keras.ipynb": "Keras training beside a PyTorch version of the model (1.54-1.90 GB measured)",
    "13_recurrent.ipynb": "PyTorch training of three recurrent networks after a Keras parity check of the RNN (1.42-1.82 GB measured)",
}
_SPEC = importlib.util.spec_from_file_location("measure_memory", Path(__file__).parent / "scripts" / "measure_memory.py")
measure_memory = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(measure_memory)
#: How far apart two runs of the same page have measured: a listed page that peaks further
#: than this below the budget no longer needs its place on the list.
MEMORY_SPREAD_GB = 0.35
_peaks: dict[str, int] = {}
_cells_run: set[str] = set()


def _is_notebook_file(node) -> bool:
    return node.__class__.__name__ == "IPyNbFile"


class ChapterMemory(pytest.Item):
    """Passes when the chapter's kernel and its children stayed within the budget."""

    def runtest(self):
        if self.parent.nodeid not in _cells_run:
            pytest.skip("no cell of this chapter ran, so there is no memory to check")
        assert self.parent.nodeid in _peaks, (
            f"the cells of {self.parent.name} ran but their kernel process was not found "
            "(nbval's IPyNbFile.kernel.km.provisioner.process): the memory check measured nothing")
        peak_gb = _peaks[self.parent.nodeid] / 1e9
        known = MEMORY_OVER_BUDGET.get(self.parent.name)
        assert peak_gb <= BINDER_LIMIT_GB, (
            f"{self.parent.name} peaked at {peak_gb:.2f} GB (PSS of its kernel and children): "
            f"Binder restarts a kernel above {BINDER_LIMIT_GB} GB")
        assert not known or peak_gb > MEMORY_BUDGET_GB - MEMORY_SPREAD_GB, (
            f"{self.parent.name} is listed in MEMORY_OVER_BUDGET ({known}) but peaked at {peak_gb:.2f} GB, "
            f"further below the {MEMORY_BUDGET_GB} GB budget than the {MEMORY_SPREAD_GB} GB two runs can differ "
            "by: take it off the list")
        if known and peak_gb > MEMORY_BUDGET_GB:
            pytest.xfail(f"known to pass the budget, {peak_gb:.2f} GB this run: {known}")
        assert peak_gb <= MEMORY_BUDGET_GB, (
            f"{self.parent.name} peaked at {peak_gb:.2f} GB (PSS of its kernel and children), "
            f"over the {MEMORY_BUDGET_GB} GB a Binder session can hold")

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}: peak memory"


# --------------------------------------------------------------------------- after the chapters
# nbval runs the chapters after tests/, in the same session, and they rewrite media/. A test
# marked `after_chapters` (the media comparison) runs after the last chapter's last cell.


def pytest_configure(config):
    config.addinivalue_line("markers", "after_chapters: runs after every chapter nbval runs in the same session")


def run_after_the_chapters(items):
    later = [item for item in items if item.get_closest_marker("after_chapters")]
    items[:] = [item for item in items if not item.get_closest_marker("after_chapters")] + later


def pytest_collection_modifyitems(session, config, items):
    run_after_the_chapters(items)
    if not measure_memory.supported():
        return
    last_cell = {}
    for index, item in enumerate(items):
        if _is_notebook_file(item.parent):
            last_cell[item.parent] = index
    for parent, index in sorted(last_cell.items(), key=lambda pair: pair[1], reverse=True):
        items.insert(index + 1, ChapterMemory.from_parent(parent, name="peak memory"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not _is_notebook_file(item.parent) or not measure_memory.supported():
        yield
        return
    _cells_run.add(item.parent.nodeid)
    kernel = getattr(item.parent, "kernel", None)
    if kernel is None:  # ChapterMemory reports it: the cells ran unmeasured
        yield
        return
    sampler = measure_memory.PeakSampler(kernel.km.provisioner.process.pid)
    sampler.start()
    try:
        yield
    finally:
        sampler.done.set()
        sampler.join()
        _peaks[item.parent.nodeid] = max(_peaks.get(item.parent.nodeid, 0), sampler.peak)


def pytest_terminal_summary(terminalreporter):
    if not _peaks:
        return
    terminalreporter.section("peak memory per chapter (PSS of the kernel and its children)")
    for nodeid, peak in _peaks.items():
        flag = "" if peak / 1e9 <= MEMORY_BUDGET_GB else f"  over the {MEMORY_BUDGET_GB} GB budget"
        terminalreporter.write_line(f"{Path(nodeid).name:32s} {peak / 1e9:5.2f} GB{flag}")
