"""The GPU record: its schema, how it is written and read, and that the pages state where it came from."""

import copy
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lesson4_support import benchmark, gpu_record

ROOT = Path(__file__).resolve().parents[1]


def example_record() -> dict:
    """A record of the right shape, as make_record builds it (the numbers are only a shape)."""
    times = benchmark.EpochTimes("cuda (NVIDIA H200)", 2.5, 7.2, 0.9, 0.1, 50_000, workers=4, cores=16,
                                 rounds=3, load_average=0.4, graphed_seconds=0.14)
    measured = {"device": "NVIDIA H200", "driver": "580.159.03", "torch": "2.11.0+cu130", "cuda": "13.0",
                "date": "2026-12-01T10:00:00+00:00", "commit": "0123456789abcdef", "cpu_cores": 16,
                "load_average": 0.4}
    trainings = {network: [benchmark.Training("eager", 4, 1.3, 0.974), benchmark.Training("graphed", 4, 0.14, 0.973)]
                 for network in ("mlp", "cnn")}
    return gpu_record.make_record(measured, times, 64, trainings)


def test_a_complete_record_is_accepted():
    record = example_record()
    assert gpu_record.validate(record) is record
    assert record["mlp_epoch"]["seconds"] == {"workers": 2.5, "one_process": 7.2, "optimized": 0.9, "graphed": 0.14}
    assert record["training"]["cnn"]["graphed"] == {"seconds_per_epoch": 0.14, "test_accuracy": 0.973}


@pytest.mark.parametrize("path, value, message", [
    (("schema",), 2, "schema 1"),
    (("measured", "commit"), None, "measured.commit"),
    (("measured", "date"), "yesterday", "not an ISO date"),
    (("measured", "cpu_cores"), True, "measured.cpu_cores"),
    (("mlp_epoch", "seconds", "graphed"), None, "mlp_epoch.seconds.graphed must be a number"),
    (("mlp_epoch", "seconds", "optimized"), 0.0, "cannot be a measurement"),
    (("training", "cnn", "graphed", "test_accuracy"), 97.3, "cannot be a measurement"),
    (("training", "mlp"), None, "no 'mlp' section"),
    (("schema",), True, "schema 1"),
    (("schema",), 1.0, "schema 1"),
    (("measured", "device"), "", "measured.device is empty"),
    (("measured", "commit"), "  ", "measured.commit is empty"),
    (("measured", "cpu_cores"), 0, "measured.cpu_cores is 0"),
    (("measured", "load_average"), float("nan"), "measured.load_average is nan"),
    (("measured", "load_average"), -0.5, "measured.load_average is -0.5"),
    (("measured", "load_average"), float("inf"), "measured.load_average is inf"),
    (("mlp_epoch", "workers"), float("nan"), "mlp_epoch.workers must be a whole number"),
    (("mlp_epoch", "workers"), -1, "mlp_epoch.workers is -1"),
    (("mlp_epoch", "rounds"), 2.5, "mlp_epoch.rounds must be a whole number"),
    (("mlp_epoch", "seconds", "graphed"), float("inf"), "cannot be a measurement"),
    (("mlp_epoch", "seconds", "graphed"), 1e-9, "cannot be a measurement"),
    (("training", "mlp", "epochs"), 2.5, "training.mlp.epochs must be a whole number"),
    (("training", "mlp", "epochs"), float("inf"), "training.mlp.epochs must be a whole number"),
    (("training", "cnn", "eager", "seconds_per_epoch"), float("inf"), "cannot be a measurement"),
    (("training", "cnn", "graphed", "seconds_per_epoch"), 1e-9, "cannot be a measurement"),
    (("training", "cnn", "graphed", "test_accuracy"), float("nan"), "cannot be a measurement"),
])
def test_an_incomplete_or_impossible_record_is_refused(path, value, message):
    record = copy.deepcopy(example_record())
    *parents, key = path
    section = record
    for name in parents:
        section = section[name]
    section[key] = value
    with pytest.raises(gpu_record.RecordError, match=re.escape(message)):
        gpu_record.validate(record)


def test_written_records_read_back_and_no_partial_file_is_left(tmp_path):
    path = gpu_record.write(example_record(), tmp_path / "gpu_record.json")
    assert gpu_record.load(path) == example_record()
    assert [p.name for p in tmp_path.iterdir()] == ["gpu_record.json"]
    with pytest.raises(gpu_record.RecordError):
        gpu_record.write({"schema": 1}, path)
    assert gpu_record.load(path) == example_record()  # a refused record leaves the old one
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(gpu_record.RecordError, match="not valid JSON"):
        gpu_record.load(tmp_path / "broken.json")


def test_a_path_that_names_no_record_is_an_error_not_no_record(tmp_path):
    with pytest.raises(gpu_record.RecordError, match="no GPU record at .*none.json: no such file"):
        gpu_record.load(tmp_path / "none.json")
    with pytest.raises(gpu_record.RecordError, match="it is a folder"):
        gpu_record.load(tmp_path)


def test_the_absent_default_file_means_no_record(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_record, "default_path", lambda: tmp_path / gpu_record.FILE_NAME)
    assert gpu_record.load() is None
    gpu_record.write(example_record(), tmp_path / gpu_record.FILE_NAME)
    assert gpu_record.load() == example_record()
    monkeypatch.setattr(gpu_record, "default_path", lambda: tmp_path)
    with pytest.raises(gpu_record.RecordError, match="it is a folder"):
        gpu_record.load()


@pytest.mark.parametrize("content, message", [
    (b'{"schema": 1, "measured": {"device": "\xff"}}', "is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"schema": 1, "x": NaN}', "no 'measured' section"),
])
def test_files_that_cannot_be_records_raise_the_modules_error(tmp_path, content, message):
    (tmp_path / "odd.json").write_bytes(content)
    with pytest.raises(gpu_record.RecordError, match=message):
        gpu_record.load(tmp_path / "odd.json")


def test_a_record_on_disk_with_nan_is_refused(tmp_path):
    text = (gpu_record.write(example_record(), tmp_path / "r.json").read_text()
            .replace('"load_average": 0.4', '"load_average": NaN'))
    (tmp_path / "r.json").write_text(text)
    with pytest.raises(gpu_record.RecordError, match="load_average is nan"):
        gpu_record.load(tmp_path / "r.json")


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "gpu_record.json"
    target.mkdir()  # the rename onto a folder fails after the partial file was written
    with pytest.raises(OSError):
        gpu_record.write(example_record(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu_record.json"]


def test_write_never_emits_nan(tmp_path):
    record = example_record()
    record["extra"] = float("nan")  # a field validate does not read
    with pytest.raises(ValueError, match="not JSON compliant"):
        gpu_record.write(record, tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_the_sentence_and_title_name_the_device_and_date():
    record = example_record()
    sentence = gpu_record.training_sentence(record, "mlp")
    assert "NVIDIA H200 (2026-12-01)" in sentence and "1.300 s" in sentence and "0.140 s" in sentence
    assert "9.3 times faster" in sentence and "97.40%" in sentence and "after 4 epochs" in sentence
    assert gpu_record.title(record).startswith("measured on NVIDIA H200, 2026-12-01, commit 0123456789")
    assert "no GPU record yet" in gpu_record.training_sentence(None, "cnn")


def test_only_a_cuda_device_makes_a_record():
    with pytest.raises(gpu_record.RecordError, match="not a CUDA device"):
        gpu_record.provenance("cpu", 2, 0.1)
    run = subprocess.run([sys.executable, "-m", "lesson4_support.benchmark_cli", "--device", "cpu",
                          "--record", "unused.json"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "no CUDA device is among those timed" in run.stderr
    assert not (ROOT / "unused.json").exists()


def committed_record() -> dict | None:
    assert gpu_record.default_path() == ROOT / "media" / gpu_record.FILE_NAME
    return gpu_record.load()


def test_the_committed_record_if_any_is_complete():
    """A record in media/ must pass the schema (load validates it); none at all is allowed."""
    record = committed_record()
    assert record is None or record["measured"]["device"]


@pytest.mark.usefixtures("built_site")
@pytest.mark.parametrize("page, network", [("09_mnist_optimized", "mlp"), ("12_cnn_mnist", "cnn")])
def test_pages_state_where_their_gpu_numbers_come_from(page, network):
    """The page says there is no record, or names the device, date and commit it shows."""
    from site_server import site_dir

    html_text = (site_dir() / "chapters" / f"{page}.html").read_text()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())
    record = committed_record()
    if record is None:
        # chapter 09 has just named the record's file and script, so it says only that there is none
        assert re.search(r"holds (no GPU record|none) yet\b.{0,120}?no recorded GPU time", text), (
            f"{page} does not say that the repository holds no GPU record")
        return
    assert " ".join(gpu_record.training_sentence(record, network).split()) in text
    if network == "mlp":
        assert gpu_record.title(record) in text


def test_concurrent_writes_each_leave_a_complete_record(tmp_path):
    import threading

    path = tmp_path / gpu_record.FILE_NAME
    errors = []

    def write():
        try:
            for _ in range(20):
                gpu_record.write(example_record(), path)
        except OSError as error:
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], f"a writer failed: {errors[0]!r}"
    assert gpu_record.load(path) == example_record()
    assert [p.name for p in tmp_path.iterdir()] == [gpu_record.FILE_NAME]
