"""The memory sampler behind `make memory` and the chapters' memory checks counts a
process and everything it starts, and sees memory that is really in use."""

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("measure_memory", ROOT / "scripts" / "measure_memory.py")
measure_memory = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(measure_memory)

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
