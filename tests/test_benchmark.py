"""Tests for lesson4_support.benchmark on small synthetic data (no timing assertions)."""

import dataclasses

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from lesson4_support import benchmark, datasets, torch_models


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
    run = benchmark.optimized_epoch(model, x, y, batch_size=64)
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
    row = benchmark.compare("cpu", dataset, images, labels, warmup_batches=1, max_batches=2, workers=1)
    assert row.samples == 128 and row.workers == 1 and row.cores == benchmark.usable_cores()
    assert row.ratio == pytest.approx(row.workers_seconds / row.optimized_seconds)
    assert row.single_process_ratio == pytest.approx(row.single_process_seconds / row.optimized_seconds)
    assert row.samples_per_second == pytest.approx(128 / row.optimized_seconds)
    table = benchmark.format_table([row])
    assert "DataLoader loop" in table and "(1 workers)" in table and "cpu" in table
    assert f"{row.ratio:.1f}x" in table and f"{row.single_process_ratio:.1f}x" in table
    assert "warning from the DataLoader loop" not in table
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
        benchmark.optimized_epoch(torch_models.make_mlp(seed=0), x, y[:5])
    with pytest.raises(ValueError, match="no timings"):
        benchmark.format_table([])
    with pytest.raises(ValueError, match="at least one batch"):
        benchmark.tensorflow_step_times(images[:10], labels[:10])


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
