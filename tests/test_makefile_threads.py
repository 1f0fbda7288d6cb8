"""The Makefile refuses a thread count that OpenMP would reject, before anything runs."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*arguments):
    """``make -n clean`` (print the commands, run none) with extra arguments."""
    return subprocess.run(["make", "-n", "-C", str(ROOT), "clean", *arguments],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("threads", ["0", "-1", "two", "2.5", "", "2 3", "08"])
def test_a_bad_thread_count_stops_make_with_a_plain_message(threads):
    result = dry_run(f"THREADS={threads}")
    assert result.returncode != 0, f"make accepted THREADS={threads!r}"
    assert "THREADS must be a positive whole number" in result.stderr
    assert f"got '{threads}'" in result.stderr


@pytest.mark.parametrize("threads", ["1", "2", "16"])
def test_a_positive_thread_count_is_accepted(threads):
    result = dry_run(f"THREADS={threads}")
    assert result.returncode == 0, result.stderr
    assert "rm -rf _build" in result.stdout


def test_the_default_thread_count_is_accepted():
    assert dry_run().returncode == 0


@pytest.mark.parametrize("template", ["1'; touch {marker}; echo '1", "$(shell touch {marker})", "`touch {marker}`",
                                      "1;touch {marker}"])
def test_a_thread_count_never_reaches_a_shell(tmp_path, template):
    """Even under ``make -n``, the check runs no shell code a THREADS value carries."""
    marker = tmp_path / "INJECTED"
    threads = template.format(marker=marker)
    result = subprocess.run(["make", "-n", "-C", str(ROOT), "book", f"THREADS={threads}"],
                            capture_output=True, text=True, timeout=60)
    assert not marker.exists(), f"THREADS={threads!r} ran a command"
    assert result.returncode != 0, f"make accepted THREADS={threads!r}"
    assert "THREADS must be a positive whole number" in result.stderr
    assert f"got '{threads}'" in result.stderr
