"""How much faster is the optimized loop?  One epoch each way, timed side by side.

Chapter 09 calls :func:`compare` on its own data; ``python -m lesson4_support.benchmark_cli``
(see :mod:`lesson4_support.benchmark_cli`) runs it on the machine at hand.

All three ways train the same 784-100-10 network with Adam (learning rate 1e-3) on the same
50,000 training images (the lesson's split), 64 images per batch, for one epoch, and keep
the epoch's average loss:

* **the original notebook's loop, as written**: torchvision's ``MNIST`` dataset with the per-sample
  transforms ``ToTensor()`` and ``Normalize(...)``, read through a ``DataLoader`` with
  ``num_workers=4`` (and ``pin_memory=True`` when the device is a GPU), as the original notebook's
  GPU-ready loop sets it; each batch is moved to the device and ``loss.item()`` is read
  every step.  Every image goes through PIL and two transforms in Python.
* **the same loop in one process**: the same loop with ``num_workers=0``, the loader of the
  previous page's MNIST loop; on a machine with few cores this is the faster of the two.
* **optimized**: the images are converted once into one float tensor that lives on the
  device, and each epoch slices it with a shuffled index; no per-sample Python work.
  Adam runs as its fused implementation (``fused=True``), one update for all parameters,
  and the loss is summed on the device and read once per epoch.

The one-off conversion is timed separately.  When TensorFlow is installed, a second
section times one training step of the same network run eagerly and compiled with
``tf.function`` (skip it with ``--no-tensorflow``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import runtime, torch_models, torch_training
from .checks import check_int

BATCH_SIZE = 64
LOADER_WORKERS = 4  # the original notebook's DataLoader setting
LEARNING_RATE = 1e-3
HIDDEN = 100


def _check_batch_size(batch_size: int) -> int:
    return check_int(batch_size, "batch_size")


# --------------------------------------------------------------------------- the ways


class Epoch(NamedTuple):
    """One timed epoch: wall-clock seconds, images trained on, and their average loss."""

    seconds: float
    images: int
    mean_loss: float


def per_image_transform():
    """The per-sample transform of the original notebook's loop: PIL image -> ``ToTensor`` -> ``Normalize``."""
    from torchvision import transforms

    from .datasets import MNIST_MEAN, MNIST_STD

    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])


def per_image_dataset(root, indices=None):
    """torchvision's MNIST training set with :func:`per_image_transform` applied per sample.

    ``indices`` restricts it to a subset (the lesson's 50,000 training images).
    """
    from torch.utils.data import Subset
    from torchvision import datasets as tv_datasets

    full = tv_datasets.MNIST(str(root), train=True, download=True, transform=per_image_transform())
    return full if indices is None else Subset(full, [int(i) for i in indices])


def dataloader_epoch(model, dataset, device, *, batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE,
                   seed: int = 0, max_batches: int | None = None, num_workers: int = 0,
                   caught: list[str] | None = None) -> Epoch:
    """Train one epoch the original notebook's way.

    ``dataset`` yields ``(image tensor, label)`` pairs, transformed one sample at a time.
    ``num_workers`` worker processes prepare the batches (0: the training process itself);
    their start-up is part of the epoch, as it is in the original notebook's loop.  Warnings the
    loop raises (PyTorch warns when there are more workers than cores) are
    appended to ``caught`` instead of being printed.
    """
    import torch
    from torch.utils.data import DataLoader

    batch_size = _check_batch_size(batch_size)
    num_workers = check_int(num_workers, "num_workers", 0)
    if len(dataset) == 0:
        raise ValueError("the dataset is empty")
    device = torch.device(device)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_function = torch.nn.CrossEntropyLoss()
    seen, epoch_loss = 0, 0.0
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                            pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(seed))
        with torch_training.Timer(device) as timer:
            for number, (images, labels) in enumerate(loader, start=1):
                images, labels = images.to(device), labels.to(device)
                loss = loss_function(model(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item()
                seen += len(labels)
                if max_batches is not None and number >= max_batches:
                    break
    for warning in raised:
        message = " ".join(str(warning.message).split())
        if caught is None:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        elif message not in caught:
            caught.append(message)
    return Epoch(timer.seconds, seen, epoch_loss / number)


def to_device_tensors(images: np.ndarray, labels: np.ndarray, device):
    """Convert uint8 images once (scale, standardize) into tensors on ``device``; also returns seconds."""
    from .datasets import torch_tensors

    with torch_training.Timer(device) as timer:
        x, y = torch_tensors(images, labels, device)
    return x, y, timer.seconds


def optimized_epoch(model, x, y, *, batch_size: int = BATCH_SIZE, lr: float = LEARNING_RATE,
                    seed: int = 0, max_batches: int | None = None) -> Epoch:
    """Train one epoch on tensors already on the device, sliced with a shuffled index."""
    import torch

    batch_size = _check_batch_size(batch_size)
    if x.ndim < 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of images with one label each, got shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    if x.device != y.device:
        raise ValueError(f"images are on {x.device} but labels on {y.device}: put both on one device")
    device = x.device
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # one fused update for all parameters
    loss_function = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(device)
    seen, loss_sum = 0, torch.zeros((), device=device)
    with torch_training.Timer(device) as timer:
        for number, start in enumerate(range(0, len(x), batch_size), start=1):
            batch = order[start:start + batch_size]
            loss = loss_function(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach()  # stays on the device: no wait for the GPU each step
            seen += len(batch)
            if max_batches is not None and number >= max_batches:
                break
        mean_loss = loss_sum.item() / number  # read once, inside the timed epoch
    return Epoch(timer.seconds, seen, mean_loss)


# --------------------------------------------------------------------------- one device


@dataclass
class EpochTimes:
    """One epoch each way on one device."""

    device: str
    workers_seconds: float  # the original notebook's loop as written, with LOADER_WORKERS workers
    single_process_seconds: float  # the same loop, num_workers=0
    optimized_seconds: float
    conversion_seconds: float
    samples: int
    workers: int = LOADER_WORKERS
    cores: int = 1
    loader_warnings: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """How many times faster the optimized epoch ran than the original notebook's loop as written."""
        return self.workers_seconds / self.optimized_seconds

    @property
    def single_process_ratio(self) -> float:
        """How many times faster the optimized epoch ran than the one-process DataLoader loop."""
        return self.single_process_seconds / self.optimized_seconds

    @property
    def samples_per_second(self) -> float:
        """Training images per second in the optimized loop."""
        return torch_training.per_second(self.samples, self.optimized_seconds)


def usable_cores() -> int:
    """CPU cores this process may run on (what PyTorch's DataLoader compares workers with)."""
    import os

    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def compare(device, dataset, images: np.ndarray, labels: np.ndarray, *, batch_size: int = BATCH_SIZE,
            warmup_batches: int = 20, max_batches: int | None = None, seed: int = 0,
            workers: int = LOADER_WORKERS) -> EpochTimes:
    """Time one epoch each way: the original notebook's loop with ``workers`` workers and with none
    (both on ``dataset``), and the optimized loop (on ``images``, ``labels``).

    ``dataset`` and the arrays must hold the same images.  A few warm-up batches run first
    (a GPU's first kernels include start-up costs); every timed epoch starts from the same
    freshly seeded model.  ``max_batches`` shortens the epochs alike (for tests).
    """
    import torch

    images, labels = np.asarray(images), np.asarray(labels)
    if len(dataset) != len(images) or len(images) != len(labels):
        raise ValueError(f"the dataset ({len(dataset)}), images ({len(images)}) and labels ({len(labels)}) "
                         "must hold the same number of samples")
    device = torch.device(device)
    caught: list[str] = []
    options = dict(batch_size=batch_size, seed=seed, max_batches=max_batches)

    def model():  # the same starting weights for every way
        return torch_models.make_mlp(n_hidden=HIDDEN, seed=seed)

    if warmup_batches:
        dataloader_epoch(model(), dataset, device, batch_size=batch_size, max_batches=warmup_batches)
    written = dataloader_epoch(model(), dataset, device, num_workers=workers, caught=caught, **options)
    one_process = dataloader_epoch(model(), dataset, device, **options)
    x, y, conversion = to_device_tensors(images, labels, device)
    if warmup_batches:
        optimized_epoch(model(), x, y, batch_size=batch_size, max_batches=warmup_batches)
    optimized = optimized_epoch(model(), x, y, **options)
    if not written.images == one_process.images == optimized.images:  # pragma: no cover - same batches
        raise RuntimeError(f"the loops saw different numbers of images ({written.images}, "
                           f"{one_process.images}, {optimized.images})")
    return EpochTimes(runtime.device_description(device), written.seconds, one_process.seconds, optimized.seconds,
                      conversion, optimized.images, workers, usable_cores(), caught)


def format_table(rows: list[EpochTimes]) -> str:
    """The side-by-side table the command line prints, with any warnings the workers' loader raised."""
    if not rows:
        raise ValueError("no timings to format")
    header = (f"{'device':<28} {'DataLoader loop':>14} {'one process':>12} {'optimized':>10} "
              f"{'speed-up':>16} {'optimized images/s':>19} {'one-off conversion':>19}")
    lines = [header, f"{'':<28} {f'({rows[0].workers} workers)':>14} {'(0 workers)':>12} {'':>10} "
                     f"{f'(vs {rows[0].workers}w / vs 0w)':>16}", "-" * len(header)]
    for row in rows:
        lines.append(f"{row.device:<28} {row.workers_seconds:>12.2f} s {row.single_process_seconds:>10.2f} s "
                     f"{row.optimized_seconds:>8.2f} s {row.ratio:>7.1f}x /{row.single_process_ratio:>6.1f}x "
                     f"{row.samples_per_second:>19,.0f} {row.conversion_seconds:>17.2f} s")
    for message in dict.fromkeys(m for row in rows for m in row.loader_warnings):
        lines.append(f"warning from the DataLoader loop: {message}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- TensorFlow (optional)


def tensorflow_step_times(images: np.ndarray, labels: np.ndarray, *, batch_size: int = BATCH_SIZE,
                          steps: int = 100, seed: int = 0):
    """Seconds per ``GradientTape`` step of the Keras twin of the model, eager and compiled.

    Returns a :class:`lesson4_support.keras_training.StepTimes`, or ``None`` when
    TensorFlow is not installed (as on some GPU machines).
    """
    import importlib.util

    steps = check_int(steps, "steps")
    batch_size = _check_batch_size(batch_size)
    if len(images) < batch_size or len(images) != len(labels):
        raise ValueError(f"need at least one batch ({batch_size}) of images with one label each, "
                         f"got {len(images)} images and {len(labels)} labels")
    if importlib.util.find_spec("tensorflow") is None:
        return None
    from . import keras_training
    from .keras_training import keras, tf

    runtime.seed_everything(seed)
    with tf.device(runtime.tf_device()):
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(HIDDEN, activation="relu"),
                                  keras.layers.Dense(10)])
        step = keras_training.gradient_step(model, keras.optimizers.Adam(LEARNING_RATE),
                                            keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        batches = keras_training.mnist_dataset(images, labels, batch_size)
        return keras_training.time_tf_steps(step, batches, steps=steps)


def format_steps(times) -> str:
    return (f"TensorFlow step on {runtime.tf_device()}: eager {times.eager * 1e3:.2f} ms, "
            f"tf.function {times.compiled * 1e3:.2f} ms ({times.ratio:.1f}x faster, "
            f"fastest of several rounds of {times.steps} steps)")
