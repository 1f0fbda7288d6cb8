"""The long-running scripts check every argument before any slow work, and gpu_check.sh
unpacks MNIST so that a damaged archive leaves nothing behind."""

import gzip
import importlib.util
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))[0]
NOTEBOOK = CHAPTER.with_suffix(".ipynb")


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SlowWorkStarted(Exception):
    """Raised in place of the slow work: the script got past its checks."""


def started(*args, **kwargs):
    raise SlowWorkStarted


@pytest.mark.parametrize("script, slow, extra, message", [
    ("colab_check", "make_environment", ["notebooks/99_missing.ipynb"], "is not a notebook file"),
    ("colab_check", "make_environment", [str(CHAPTER)], "is not a notebook file"),
    ("colab_check", "make_environment", ["--timeout", "0"], "--timeout must be at least 1"),
    ("measure_memory", "measure", ["chapters/99_missing.md"], "is not a chapter .md file"),
    ("measure_memory", "measure", ["--budget", "0"], "--budget must be a positive number"),
    ("measure_memory", "measure", ["--budget", "nan"], "--budget must be a positive number"),
    ("measure_memory", "measure", ["--json", str(ROOT / "chapters")], "is a folder"),
    ("refresh_notebooks", "refresh", ["chapters/99_missing.md"], "is not a chapter .md file"),
    ("refresh_notebooks", "refresh", ["--timeout", "-5"], "--timeout must be at least 1"),
])
def test_every_argument_is_checked_before_the_slow_work(monkeypatch, capsys, script, slow, extra, message):
    module = load(script)
    monkeypatch.setattr(module, slow, started)
    # a script that gets past its checks may set variables for the kernels it starts
    # (measure_memory sets MPLBACKEND); set here, they are undone after the test, so that the
    # chapters nbval runs later in this process still show their figures
    monkeypatch.setenv("MPLBACKEND", "Agg")
    first = str(NOTEBOOK if script == "colab_check" else CHAPTER)  # a good argument ahead of the bad one
    with pytest.raises(SystemExit) as stopped:
        module.main([first, *extra])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    # the good argument alone goes on to the slow work
    with pytest.raises(SlowWorkStarted):
        module.main([first])


@pytest.fixture
def gpu_check(tmp_path):
    """``gpu_check(data, cwd)`` runs scripts/gpu_check.sh up to its CUDA check (a Python that fails)."""
    def run(data: str, cwd: Path = tmp_path):
        env = {**os.environ, "LESSON4_DATA": data, "PYTHON": "false", "LESSON4_MEDIA": str(tmp_path / "media")}
        return subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)

    return run


def test_a_truncated_archive_is_not_unpacked_halfway(tmp_path, gpu_check):
    data = tmp_path / "data"
    data.mkdir()
    whole = gzip.compress(os.urandom(200_000))
    (data / "train-labels-idx1-ubyte.gz").write_bytes(whole[: len(whole) // 2])
    result = gpu_check(str(data))
    assert result.returncode == 1 and "could not unpack" in result.stdout
    raw = data / "MNIST" / "raw"
    assert list(raw.iterdir()) == [], "a truncated archive left a file that a later run would take as complete"
    # a complete archive is unpacked, and the run goes on to the CUDA check
    (data / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"labels"))
    result = gpu_check(str(data))
    assert "FAILED: PyTorch sees no CUDA device" in result.stdout
    assert [p.name for p in raw.iterdir()] == ["train-labels-idx1-ubyte"]
    assert (raw / "train-labels-idx1-ubyte").read_bytes() == b"labels"


def test_a_relative_data_folder_is_taken_from_where_the_script_starts(tmp_path, gpu_check):
    name = f"gpu-check-data-{uuid.uuid4().hex}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"labels"))
    try:
        gpu_check(name, cwd=tmp_path)
        assert not (ROOT / name).exists(), "the relative folder was taken inside the clone"
        assert (tmp_path / name / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").read_bytes() == b"labels"
    finally:
        shutil.rmtree(ROOT / name, ignore_errors=True)
