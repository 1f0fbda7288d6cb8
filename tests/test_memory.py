"""The memory sampler behind `make memory` and the chapters' memory checks counts a
process and everything it starts, and sees memory that is really in use; the check that
runs after each chapter under nbval measures its kernel, and its list of exceptions holds
only pages that still need one."""

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("measure_memory", ROOT / "scripts" / "measure_memory.py")
measure_memory = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(measure_memory)
CONFTEST_SPEC = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
root_conftest = importlib.util.module_from_spec(CONFTEST_SPEC)
CONFTEST_SPEC.loader.exec_module(root_conftest)

pytestmark = pytest.mark.skipif(not measure_memory.supported(), reason="PSS needs Linux's /proc")

# A parent that holds 100 MB and starts a child that holds 200 MB more, both touched.
HOLDERS = """
import subprocess, sys, time
held = bytearray(100 * 2**20)
child = subprocess.Popen([sys.executable, "-c",
    "import time; held = bytearray(200 * 2**20); print('ready', flush=True); time.sleep(30)"],
    stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print("ready", flush=True)
time.sleep(30)
"""


def test_the_sampler_adds_up_a_process_and_its_children():
    parent = subprocess.Popen([sys.executable, "-c", HOLDERS], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        sampler = measure_memory.PeakSampler(parent.pid, interval=0.05)
        sampler.start()
        time.sleep(0.5)
        sampler.done.set()
        sampler.join()
        family = measure_memory.descendants(parent.pid)
        assert len(family) == 2, family
        alone = measure_memory.pss_bytes(parent.pid)
    finally:
        for pid in measure_memory.descendants(parent.pid)[::-1]:
            subprocess.run(["kill", str(pid)], check=False)
        parent.wait()
    assert 300e6 < sampler.peak < 500e6, sampler.peak
    assert 100e6 < alone < 200e6, alone


def test_a_finished_process_counts_as_nothing():
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert measure_memory.pss_bytes(finished.pid) == 0


def test_the_chapter_check_measures_the_kernel_nbval_starts(tmp_path):
    """nbval runs a notebook that holds 200 MB; the check after its last cell measured it."""
    cell = nbformat.v4.new_code_cell("held = bytearray(200 * 2**20)\nprint(len(held))", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{200 * 2**20}\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, tmp_path / "holder.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "--nbval",
                          "-rA", "holder.ipynb"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "PASSED holder.ipynb::peak memory" in run.stdout, run.stdout[-3000:]
    peak = re.search(r"^holder\.ipynb +(\d+\.\d+) GB", run.stdout, re.MULTILINE)
    assert peak and float(peak[1]) > 0.2, run.stdout[-3000:]


@pytest.mark.parametrize("name", sorted(root_conftest.MEMORY_OVER_BUDGET))
def test_each_page_over_the_budget_still_loads_both_frameworks(name):
    """The reason every exception gives: the page holds PyTorch and TensorFlow at once."""
    source = (ROOT / "chapters" / name).with_suffix(".md")
    assert source.is_file(), f"MEMORY_OVER_BUDGET names {name}, which is not a chapter"
    code = source.read_text()
    assert re.search(r"^\s*import torch\b|^\s*from torch\b", code, re.MULTILINE), (
        f"{name} no longer imports PyTorch: its memory exception may no longer be needed")
    assert re.search(r"^\s*(import|from) (tensorflow|keras)\b", code, re.MULTILINE), (
        f"{name} no longer imports TensorFlow or Keras: its memory exception may no longer be needed")
