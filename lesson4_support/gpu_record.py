"""The GPU record: what ``scripts/gpu_check.sh`` measured on a CUDA machine, with its provenance.

The site is built on a machine without a GPU, so chapter 09 cannot time the GPU itself.
``python -m lesson4_support.benchmark_cli --record media/gpu_record.json``, run by
``scripts/gpu_check.sh`` on a CUDA machine, writes what it measured there into
``media/gpu_record.json``; chapter 09 reads that file and plots it under the name of the
device and the date and commit it was measured at.  Nothing else writes the file, and
:func:`validate` refuses a record that is incomplete or holds impossible numbers.

The record holds:

* ``measured``: the device, its driver, the PyTorch and CUDA versions, the date (UTC), the
  commit, the host's CPU cores and its one-minute load average;
* ``mlp_epoch``: one epoch of the 784-100-10 network each way (see
  :mod:`lesson4_support.benchmark`), each the fastest of ``rounds`` epochs;
* ``training``: for the MLP and chapter 12's CNN, several epochs eagerly and as a replayed
  CUDA graph, with the fastest epoch's seconds and the test accuracy after the last.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import subprocess
from pathlib import Path

from . import runtime

SCHEMA = 1
FILE_NAME = "gpu_record.json"
WAYS = ("workers", "one_process", "optimized", "graphed")
MEASURED = {"device": str, "driver": str, "torch": str, "cuda": str, "date": str, "commit": str,
            "cpu_cores": int, "load_average": (int, float)}
#: No epoch of either network, however fast the GPU, takes less than a microsecond.
SHORTEST_EPOCH = 1e-6


class RecordError(ValueError):
    """A GPU record that is missing a field or holds a value that cannot be right."""


def default_path() -> Path | None:
    """``media/gpu_record.json`` in the course's clone, or ``None`` outside one (on Colab)."""
    root = runtime.repo_root()
    return None if root is None else root / "media" / FILE_NAME


def _git_commit() -> str:
    root = runtime.repo_root()
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        raise RecordError(f"a GPU record names the commit it measured, and git could not say it: {error}") from None
    return head + ("+changes" if dirty else "")


def _driver_version() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, check=True, timeout=30).stdout.split()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown (nvidia-smi did not answer)"


def provenance(device, cores: int, load_average: float) -> dict:
    """Where and when: the CUDA device's name, driver, versions, date, commit and host load."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        raise RecordError(f"the GPU record holds CUDA measurements; {device} is not a CUDA device")
    return {"device": torch.cuda.get_device_name(device), "driver": _driver_version(),
            "torch": torch.__version__, "cuda": str(torch.version.cuda), "commit": _git_commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "cpu_cores": int(cores), "load_average": round(float(load_average), 2)}


def make_record(measured: dict, epoch_times, batch_size: int, trainings: dict[str, list]) -> dict:
    """The record from :func:`provenance`, one CUDA :class:`~lesson4_support.benchmark.EpochTimes`
    and ``{"mlp": [...], "cnn": [...]}`` of :class:`~lesson4_support.benchmark.Training` rows."""
    record = {
        "schema": SCHEMA,
        "measured": measured,
        "mlp_epoch": {"images": epoch_times.samples, "batch_size": batch_size, "rounds": epoch_times.rounds,
                      "workers": epoch_times.workers,
                      "seconds": dict(zip(WAYS, (epoch_times.workers_seconds, epoch_times.single_process_seconds,
                                                 epoch_times.optimized_seconds, epoch_times.graphed_seconds),
                                          strict=True))},
        "training": {network: {"epochs": rows[0].epochs,
                               **{row.way: {"seconds_per_epoch": row.seconds_per_epoch,
                                            "test_accuracy": row.test_accuracy} for row in rows}}
                     for network, rows in trainings.items()},
    }
    validate(record)
    return record


def _number(value, where: str, *, at_least: float = 0.0, above: bool = True, at_most: float | None = None,
            count: bool = False) -> float:
    """``value`` as a float when it is a finite number in range (``> at_least``, or ``>=`` it when
    ``above`` is false, and ``<= at_most``), and a whole ``int`` when it is a ``count``."""
    kinds = int if count else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise RecordError(f"{where} must be {'a whole number' if count else 'a number'}, got {value!r}")
    too_small = value <= at_least if above else value < at_least
    if not math.isfinite(value) or too_small or at_most is not None and value > at_most:
        raise RecordError(f"{where} is {value!r}, which cannot be a measurement")
    return float(value)


def _section(record: dict, key: str, where: str = "the record") -> dict:
    value = record.get(key)
    if not isinstance(value, dict):
        raise RecordError(f"{where} has no '{key}' section")
    return value


def validate(record) -> dict:
    """Return ``record`` when it has every field with a plausible value; raise :class:`RecordError` otherwise."""
    if not isinstance(record, dict) or type(record.get("schema")) is not int or record["schema"] != SCHEMA:
        raise RecordError(f"not a GPU record of schema {SCHEMA}")
    measured = _section(record, "measured")
    for key, kind in MEASURED.items():
        if not isinstance(measured.get(key), kind) or isinstance(measured.get(key), bool):
            raise RecordError(f"measured.{key} is missing or not a {getattr(kind, '__name__', 'number')}")
        if kind is str and not measured[key].strip():
            raise RecordError(f"measured.{key} is empty")
    _number(measured["cpu_cores"], "measured.cpu_cores", count=True)
    _number(measured["load_average"], "measured.load_average", above=False)
    try:
        datetime.datetime.fromisoformat(measured["date"])
    except ValueError:
        raise RecordError(f"measured.date is not an ISO date: {measured['date']!r}") from None
    epoch = _section(record, "mlp_epoch")
    for key in ("images", "batch_size", "rounds", "workers"):
        _number(epoch.get(key), f"mlp_epoch.{key}", above=key != "workers", count=True)
    seconds = _section(epoch, "seconds", "mlp_epoch")
    for way in WAYS:
        _number(seconds.get(way), f"mlp_epoch.seconds.{way}", at_least=SHORTEST_EPOCH, above=False)
    training = _section(record, "training")
    for network in ("mlp", "cnn"):
        runs = _section(training, network, "training")
        _number(runs.get("epochs"), f"training.{network}.epochs", count=True)
        for way in ("eager", "graphed"):
            row = _section(runs, way, f"training.{network}")
            _number(row.get("seconds_per_epoch"), f"training.{network}.{way}.seconds_per_epoch",
                    at_least=SHORTEST_EPOCH, above=False)
            _number(row.get("test_accuracy"), f"training.{network}.{way}.test_accuracy", at_most=1.0)
    return record


def write(record: dict, path: str | os.PathLike) -> Path:
    """Validate ``record`` and write it as JSON, replacing ``path`` only once it is complete."""
    validate(record)
    text = json.dumps(record, indent=2, allow_nan=False) + "\n"
    return runtime.write_file_atomically(path, text.encode("utf-8"))


def load(path: str | os.PathLike | None = None) -> dict | None:
    """The validated record at ``path``, or at :func:`default_path` when ``path`` is None.

    Only the default file may be absent (there is no record yet, or no clone): then this
    returns ``None``.  A ``path`` that names nothing, or a folder, is an error, since a
    mistyped name must not read as "no record".
    """
    default = path is None
    path = default_path() if default else Path(path)
    if path is None or default and not path.exists() and not path.is_symlink():
        return None
    if not path.is_file():
        raise RecordError(f"no GPU record at {path}: " + ("it is a folder" if path.is_dir() else "no such file"))
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RecordError(f"{path} is not UTF-8 text: {error}") from None
    except json.JSONDecodeError as error:
        raise RecordError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise RecordError(f"{path} is nested too deeply to be a GPU record") from None
    return validate(record)


def title(record: dict) -> str:
    """Where and when a record was measured, for a figure's title: device, date, commit."""
    measured = record["measured"]
    return (f"measured on {measured['device']}, {measured['date'][:10]}, "
            f"commit {measured['commit'][:10]}, PyTorch {measured['torch']}")


def training_sentence(record: dict | None, network: str) -> str:
    """One sentence for a page: the record's eager and graphed epochs of ``network`` ("mlp" or
    "cnn"), or that there is no record yet."""
    if record is None:
        return ("The repository holds no GPU record yet (media/gpu_record.json, made by "
                "scripts/gpu_check.sh on a CUDA machine), so there is no recorded GPU time to show.")
    runs, measured = record["training"][network], record["measured"]
    eager, graphed = runs["eager"], runs["graphed"]
    return (f"On {measured['device']} ({measured['date'][:10]}), an epoch of this network took "
            f"{eager['seconds_per_epoch']:.3f} s as ordinary steps and {graphed['seconds_per_epoch']:.3f} s "
            f"replayed as a CUDA graph, {eager['seconds_per_epoch'] / graphed['seconds_per_epoch']:.1f} times "
            f"faster, with test accuracies of {eager['test_accuracy']:.2%} and {graphed['test_accuracy']:.2%} "
            f"after {runs['epochs']} epochs.")
