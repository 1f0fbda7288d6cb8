"""Tests for lesson4_support.benchmark on small synthetic data (no timing assertions)."""

import dataclasses

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from lesson4_support import benchmark, torch_models


class PerSampleImages(Dataset):
    """Like torchvision's MNIST: uint8 images turned into tensors one sample at a time."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels
        self.transform = benchmark.per_image_transform()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index], mode="L")), int(self.labels[index])


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=200)
    return images, labels, PerSampleImages(images, labels)


def test_per_sample_transforms_match_the_one_off_conversion(tiny):
    images, labels, dataset = tiny
    x, y, seconds = benchmark.to_device_tensors(images, labels, "cpu")
    assert x.shape == (200, 784) and y.dtype == torch.int64 and seconds >= 0
    first, label = dataset[0]
    assert first.shape == (1, 28, 28) and label == labels[0]
    assert torch.allclose(first.reshape(-1), x[0], atol=1e-5)


def test_both_epochs_train_on_every_sample(tiny):
    images, labels, dataset = tiny
    run = benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", batch_size=64)
    assert run.images == 200 and run.seconds > 0
    assert 1.0 < run.mean_loss < 5.0  # ten random classes: about ln 10 = 2.3 at the start
    x, y, _ = benchmark.to_device_tensors(images, labels, "cpu")
    model = torch_models.make_mlp(seed=0)
    before = model[1].weight.detach().clone()
    (run,) = benchmark.optimized_epochs(model, x, y, batch_size=64)
    assert run.images == 200 and run.seconds > 0 and 1.0 < run.mean_loss < 5.0
    assert not torch.equal(before, model[1].weight)  # the weights were trained


def test_worker_processes_see_the_same_images(tiny):
    """The original notebook's loader with worker processes trains on the same batches as without."""
    images, labels, dataset = tiny
    one = benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", batch_size=64)
    two = benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", batch_size=64, num_workers=2)
    assert two.images == one.images == 200
    assert two.mean_loss == pytest.approx(one.mean_loss, rel=1e-5)


def test_loader_warnings_are_collected_not_printed(tiny, recwarn):
    _, _, dataset = tiny
    caught = []
    too_many = benchmark.usable_cores() + 1
    benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", batch_size=64, max_batches=1,
                             num_workers=too_many, caught=caught)
    assert len(caught) == 1 and f"create {too_many} worker processes" in caught[0]
    assert not [w for w in recwarn if "worker" in str(w.message)]


def test_compare_reports_the_times_and_both_ratios(tiny):
    images, labels, dataset = tiny
    row = benchmark.compare("cpu", dataset, images, labels, warmup_batches=1, max_batches=2, workers=1, rounds=2)
    assert row.samples == 128 and row.workers == 1 and row.cores == benchmark.usable_cores()
    assert row.rounds == 2 and row.load_average >= 0
    assert row.graphed_seconds is None  # CUDA graphs need a CUDA device
    assert row.ratio == pytest.approx(row.workers_seconds / row.optimized_seconds)
    assert row.single_process_ratio == pytest.approx(row.single_process_seconds / row.optimized_seconds)
    assert row.samples_per_second == pytest.approx(128 / row.optimized_seconds)
    table = benchmark.format_table([row])
    assert "DataLoader loop" in table and "(1 workers)" in table and "cpu" in table
    assert f"{row.ratio:.1f}x" in table and f"{row.single_process_ratio:.1f}x" in table
    assert "warning from the DataLoader loop" not in table
    assert "fastest of 2 epochs" in table and f"{row.load_average:.2f}" in table
    graphed = benchmark.format_table([dataclasses.replace(row, graphed_seconds=row.optimized_seconds / 4)])
    assert f"{row.workers_seconds / (row.optimized_seconds / 4):.1f}x faster than the 1-worker loop" in graphed
    assert "4.0x than the eager optimized loop" in graphed
    warned = benchmark.format_table([dataclasses.replace(row, loader_warnings=["too many workers"])])
    assert warned.endswith("warning from the DataLoader loop: too many workers")


def test_bad_input_is_refused(tiny):
    images, labels, dataset = tiny
    with pytest.raises(ValueError, match="same number"):
        benchmark.compare("cpu", dataset, images[:10], labels[:10])
    with pytest.raises(ValueError, match="batch_size"):
        benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", num_workers=-1)
    x, y, _ = benchmark.to_device_tensors(images, labels, "cpu")
    with pytest.raises(ValueError, match="one label each"):
        benchmark.optimized_epochs(torch_models.make_mlp(seed=0), x, y[:5])
    with pytest.raises(ValueError, match="rounds"):
        benchmark.compare("cpu", dataset, images, labels, rounds=0)
    for bad in (0, -1):  # an epoch of "at most 0 batches" must not quietly train one
        with pytest.raises(ValueError, match="max_batches must be a positive integer"):
            benchmark.dataloader_epoch(torch_models.make_mlp(seed=0), dataset, "cpu", max_batches=bad)
        with pytest.raises(ValueError, match="max_batches must be a positive integer"):
            benchmark.optimized_epochs(torch_models.make_mlp(seed=0), x, y, max_batches=bad)
    with pytest.raises(ValueError, match="no timings"):
        benchmark.format_table([])
    with pytest.raises(ValueError, match="at least one batch"):
        benchmark.tensorflow_step_times(images[:10], labels[:10])


def test_later_epochs_keep_the_optimizer_state(tiny):
    """Two epochs in one call train on: the second starts where the first ended."""
    images, labels, _ = tiny
    x, y, _ = benchmark.to_device_tensors(images, labels, "cpu")
    first, second = benchmark.optimized_epochs(torch_models.make_mlp(seed=0), x, y, epochs=2, batch_size=64)
    assert first.images == second.images == 200
    (again,) = benchmark.optimized_epochs(torch_models.make_mlp(seed=0), x, y, batch_size=64)
    assert again.mean_loss == pytest.approx(first.mean_loss)  # the same shuffle and weights
    assert second.mean_loss < first.mean_loss


def test_graphed_epochs_need_a_cuda_device(tiny):
    images, labels, _ = tiny
    x, y, _ = benchmark.to_device_tensors(images, labels, "cpu")
    with pytest.raises(ValueError, match="CUDA graphs record work on a CUDA device"):
        benchmark.optimized_epochs(torch_models.make_mlp(seed=0), x, y, graphed=True)


def test_small_cnn_is_chapter_12s_network():
    cnn = benchmark.small_cnn(seed=0)
    assert cnn(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    kinds = [type(layer).__name__ for layer in cnn]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert sum(p.numel() for p in cnn.parameters()) == 160 + 4_640 + 15_690
    assert torch.equal(cnn[0].weight, benchmark.small_cnn(seed=0)[0].weight)


def test_accuracy_counts_correct_answers():
    model = torch.nn.Identity()
    scores = torch.eye(10)[[1, 2, 3, 3]]
    assert benchmark.accuracy(model, scores, torch.tensor([1, 2, 3, 4]), batch_size=3) == 0.75


@pytest.mark.parametrize("inputs, labels", [(4, 2), (2, 4), (4, 12)])
def test_accuracy_needs_one_label_per_input(inputs, labels):
    model = torch.nn.Identity()
    with pytest.raises(ValueError, match=f"{inputs} inputs but {labels} labels"):
        benchmark.accuracy(model, torch.eye(5)[:inputs], torch.zeros(labels, dtype=torch.int64), batch_size=3)
    with pytest.raises(ValueError, match="empty"):
        benchmark.accuracy(model, torch.zeros((0, 5)), torch.zeros(0, dtype=torch.int64))


@pytest.mark.parametrize("batch_size", [0, -1])
def test_accuracy_refuses_a_batch_size_that_counts_nothing(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        benchmark.accuracy(torch.nn.Identity(), torch.eye(3), torch.tensor([0, 1, 2]), batch_size=batch_size)


def test_accuracy_refuses_one_hot_labels():
    """Compared with one-hot rows, the predictions would broadcast to a square of matches."""
    model = torch.nn.Identity()
    scores = torch.eye(10)
    with pytest.raises(ValueError, match=r"one class number per input, got shape \(10, 10\)"):
        benchmark.accuracy(model, scores, torch.eye(10, dtype=torch.int64))


def test_step_times_line():
    from lesson4_support.keras_training import StepTimes

    times = StepTimes(eager=0.03, compiled=0.003, trace=0.4, steps=10)
    line = benchmark.format_steps(times)
    assert "eager 30.00 ms" in line and "tf.function 3.00 ms" in line and "10.0x faster" in line


def test_tensorflow_step_times_measures_both_variants():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 28, 28), dtype=np.uint8)
    times = benchmark.tensorflow_step_times(images, rng.integers(0, 10, 256), batch_size=64, steps=3)
    assert times.steps == 3 and times.eager > 0 and times.compiled > 0


class TrainingStarted(Exception):
    """Raised in place of loading MNIST: the command got past its checks."""


@pytest.fixture
def cli(monkeypatch):
    """``cli(*argv)`` runs benchmark_cli's main until it would load MNIST; returns how it stopped."""
    from lesson4_support import benchmark_cli

    def refuse(*args, **kwargs):
        raise TrainingStarted

    monkeypatch.setattr(benchmark_cli.datasets, "load_mnist", refuse)

    def run(*argv):
        with pytest.raises((SystemExit, TrainingStarted)) as stopped:
            benchmark_cli.main(list(argv))
        return stopped.value

    return run


@pytest.mark.parametrize("argv", [["--max-batches", "0"], ["--max-batches", "-1"], ["--max-batches", "1.5"],
                                  ["--rounds", "0"], ["--epochs", "-2"]])
def test_counts_on_the_command_line_must_be_positive_whole_numbers(cli, capsys, argv):
    stopped = cli(*argv)
    assert isinstance(stopped, SystemExit) and stopped.code == 2
    assert f"argument {argv[0]}:" in capsys.readouterr().err


@pytest.mark.parametrize("setting, message", [("cuda", "CUDA is not available here"), ("gpu", "unknown device 'gpu'")])
def test_the_device_setting_is_honoured_or_refused(cli, capsys, monkeypatch, setting, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("LESSON4_DEVICE", setting)
    stopped = cli("--no-tensorflow")
    assert isinstance(stopped, SystemExit) and stopped.code == 2
    assert message in capsys.readouterr().err
    monkeypatch.setenv("LESSON4_DEVICE", "cpu")
    assert isinstance(cli("--no-tensorflow"), TrainingStarted)


def test_an_unwritable_record_is_refused_before_training(cli, capsys, monkeypatch, tmp_path):
    from lesson4_support import benchmark_cli

    monkeypatch.setattr(benchmark_cli.runtime, "torch_device", lambda name: torch.device("cuda"))
    for bad, why in ((tmp_path / "missing" / "gpu_record.json", "No such file or directory"),
                     (tmp_path, "it is a folder")):
        stopped = cli("--device", "cuda", "--record", str(bad))
        assert isinstance(stopped, SystemExit) and stopped.code == 2
        assert f"the GPU record could not be written there ({why})" in capsys.readouterr().err
    good = tmp_path / "gpu_record.json"
    assert isinstance(cli("--device", "cuda", "--record", str(good)), TrainingStarted)
    assert list(tmp_path.iterdir()) == [], "the check must leave nothing behind"
