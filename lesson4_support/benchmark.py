"""How much faster is the optimized loop?  One epoch each way, timed side by side.

Chapter 09 calls :func:`compare` on its own data; ``python -m lesson4_support.benchmark_cli``
(see :mod:`lesson4_support.benchmark_cli`) runs it on the machine at hand.

The ways train the same 784-100-10 network with Adam (learning rate 1e-3) on the same
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
* **graphed** (CUDA only): the optimized step recorded once as a CUDA graph and replayed,
  so that each step is one launch instead of dozens (chapter 09 explains why that matters).

Each way's time is the fastest of several epochs, taken in turn, and the machine's load
average is recorded with it: a busy machine slows a round, and the fastest round is the
one least disturbed.  :func:`eager_and_graphed` trains for several epochs eagerly and as a
graph and compares test accuracy, for the lesson's MLP and for chapter 12's CNN
(:func:`small_cnn`).

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

    ``indices`` restricts it to a subset (the lesson's 50,000 training images).  Only the
    verified raw files are read (see :func:`lesson4_support.datasets.mnist_dataset`).
    """
    from torch.utils.data import Subset

    from .datasets import mnist_dataset

    full = mnist_dataset(root, train=True, transform=per_image_transform())
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
    max_batches = None if max_batches is None else check_int(max_batches, "max_batches")
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


def optimized_epochs(model, x, y, *, epochs: int = 1, graphed: bool = False, batch_size: int = BATCH_SIZE,
                     lr: float = LEARNING_RATE, seed: int = 0, max_batches: int | None = None) -> list[Epoch]:
    """Train on tensors already on the device, sliced with a shuffled index; one :class:`Epoch` each.

    ``graphed=True`` records the whole step once as a CUDA graph
    (:func:`lesson4_support.torch_training.capture_training_step`) and replays it.  A graph
    has fixed shapes, so its epochs use full batches only: 781 batches of 64 out of 50,000
    images, leaving out 16 (different ones each epoch).  The capture and its three warm-up
    steps come before the first epoch and are not timed.  Eager epochs use fused Adam; the
    graphed ones Adam with ``capturable=True``, which keeps its step count on the GPU.
    """
    import torch

    batch_size = _check_batch_size(batch_size)
    max_batches = None if max_batches is None else check_int(max_batches, "max_batches")
    epochs = check_int(epochs, "epochs")
    if x.ndim < 2 or len(x) != len(y) or len(x) < batch_size:
        raise ValueError(f"x must hold at least one batch ({batch_size}) of images with one label each, "
                         f"got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    if x.device != y.device:
        raise ValueError(f"images are on {x.device} but labels on {y.device}: put both on one device")
    device = x.device
    model = model.to(device)
    loss_function = torch.nn.CrossEntropyLoss()
    shuffler = torch.Generator().manual_seed(seed)
    if graphed:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, capturable=True)
        warm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + 1)).to(device)
        warmup = [(x[batch], y[batch]) for batch in warm[:3 * batch_size].split(batch_size)]
        step = torch_training.capture_training_step(model, optimizer, loss_function, warmup)
        used = len(x) - len(x) % batch_size  # whole batches only
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # one update for all weights
        used = len(x)
    results = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=shuffler).to(device)[:used]
        seen, loss_sum = 0, torch.zeros((), device=device)
        with torch_training.Timer(device) as timer:
            for number, batch in enumerate(order.split(batch_size), start=1):
                if graphed:
                    loss = step(x[batch], y[batch])
                else:
                    loss = loss_function(model(x[batch]), y[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                loss_sum += loss.detach()  # stays on the device: no wait for the GPU each step
                seen += len(batch)
                if max_batches is not None and number >= max_batches:
                    break
            mean_loss = loss_sum.item() / number  # read once, inside the timed epoch
        results.append(Epoch(timer.seconds, seen, mean_loss))
    return results


def accuracy(model, x, y, batch_size: int = 2000) -> float:
    """Fraction of ``(x, y)`` the model classifies correctly."""
    import torch

    batch_size = _check_batch_size(batch_size)  # a negative one would count nothing and report 0
    if y.ndim != 1:
        raise ValueError(f"y must hold one class number per input, got shape {tuple(y.shape)} "
                         "(one-hot labels? pass y.argmax(dim=1))")
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels: accuracy needs one label per input")
    if len(x) == 0:
        raise ValueError("x and y are empty: there is no accuracy to measure")
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(x[i:i + batch_size]).argmax(dim=1) == y[i:i + batch_size]).sum())
                      for i in range(0, len(x), batch_size))
    return correct / len(x)


def small_cnn(seed: int = 0):
    """Chapter 12's convolutional network, freshly seeded: two 3x3 convolutions (16 and 32
    channels), each with ReLU and 2x2 max pooling, then one dense layer to 10 scores."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):  # as make_mlp: the caller's random numbers stay
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for channels_in, channels_out in ((1, 16), (16, 32)):
            layers += [nn.Conv2d(channels_in, channels_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


@dataclass
class Training:
    """Several epochs of one way: the fastest epoch's seconds and the final test accuracy."""

    way: str
    epochs: int
    seconds_per_epoch: float
    test_accuracy: float


def eager_and_graphed(make_model, x, y, x_test, y_test, *, epochs: int = 4, seed: int = 0,
                      batch_size: int = BATCH_SIZE) -> list[Training]:
    """Train ``make_model(seed)`` for ``epochs`` eagerly and as a replayed CUDA graph.

    Both start from the same weights and see the same shuffles; the accuracy on
    ``(x_test, y_test)`` says whether the graph changed what was learned.
    """
    rows = []
    for way, graphed in (("eager", False), ("graphed", True)):
        model = make_model(seed)
        runs = optimized_epochs(model, x, y, epochs=epochs, graphed=graphed, seed=seed, batch_size=batch_size)
        rows.append(Training(way, epochs, min(run.seconds for run in runs), accuracy(model, x_test, y_test)))
    return rows


# --------------------------------------------------------------------------- one device


@dataclass
class EpochTimes:
    """One epoch each way on one device, each the fastest of ``rounds`` timed epochs."""

    device: str
    workers_seconds: float  # the original notebook's loop as written, with LOADER_WORKERS workers
    single_process_seconds: float  # the same loop, num_workers=0
    optimized_seconds: float
    conversion_seconds: float
    samples: int
    workers: int = LOADER_WORKERS
    cores: int = 1
    rounds: int = 1
    load_average: float = 0.0  # the machine's one-minute load average when the timing began
    graphed_seconds: float | None = None  # CUDA only: the optimized step replayed as a graph
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


def load_average() -> float:
    """The one-minute load average: how many processes wanted a core, on average (0 where unknown)."""
    import os

    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def compare(device, dataset, images: np.ndarray, labels: np.ndarray, *, batch_size: int = BATCH_SIZE,
            rounds: int = 3, warmup_batches: int = 20, max_batches: int | None = None, seed: int = 0,
            workers: int = LOADER_WORKERS) -> EpochTimes:
    """Time one epoch each way: the original notebook's loop with ``workers`` workers and with none
    (both on ``dataset``), and the optimized loop (on ``images``, ``labels``); on a CUDA device
    also the optimized loop replayed as a CUDA graph.

    Each way's time is the fastest of ``rounds`` epochs, taken in turn (one epoch of every way,
    then the next round), so that a busy moment on the machine slows one round, not one way.
    ``dataset`` and the arrays must hold the same images.  A few warm-up batches run first
    (a GPU's first kernels include start-up costs); every timed epoch starts from the same
    freshly seeded model.  ``max_batches`` shortens the epochs alike (for tests).
    """
    import torch

    images, labels = np.asarray(images), np.asarray(labels)
    if len(dataset) != len(images) or len(images) != len(labels):
        raise ValueError(f"the dataset ({len(dataset)}), images ({len(images)}) and labels ({len(labels)}) "
                         "must hold the same number of samples")
    rounds = check_int(rounds, "rounds")
    device = torch.device(device)
    caught: list[str] = []
    options = dict(batch_size=batch_size, seed=seed, max_batches=max_batches)

    def model():  # the same starting weights for every way
        return torch_models.make_mlp(n_hidden=HIDDEN, seed=seed)

    load = load_average()
    x, y, conversion = to_device_tensors(images, labels, device)
    if warmup_batches:
        dataloader_epoch(model(), dataset, device, batch_size=batch_size, max_batches=warmup_batches)
        optimized_epochs(model(), x, y, batch_size=batch_size, max_batches=warmup_batches)
    times: dict[str, list[Epoch]] = {"written": [], "one_process": [], "optimized": [], "graphed": []}
    for _ in range(rounds):
        times["written"].append(dataloader_epoch(model(), dataset, device, num_workers=workers, caught=caught,
                                                 **options))
        times["one_process"].append(dataloader_epoch(model(), dataset, device, **options))
        times["optimized"] += optimized_epochs(model(), x, y, **options)
        if device.type == "cuda":
            times["graphed"] += optimized_epochs(model(), x, y, graphed=True, **options)
    fastest = {way: min(run.seconds for run in runs) if runs else None for way, runs in times.items()}
    seen = {run.images for way in ("written", "one_process", "optimized") for run in times[way]}
    if len(seen) != 1:  # pragma: no cover - the same batches every way
        raise RuntimeError(f"the loops saw different numbers of images: {sorted(seen)}")
    return EpochTimes(runtime.device_description(device), fastest["written"], fastest["one_process"],
                      fastest["optimized"], conversion, seen.pop(), workers, usable_cores(), rounds, load,
                      fastest["graphed"], caught)


def format_table(rows: list[EpochTimes]) -> str:
    """The side-by-side table the command line prints, with any warnings the workers' loader raised."""
    if not rows:
        raise ValueError("no timings to format")
    header = (f"{'device':<28} {'DataLoader loop':>14} {'one process':>12} {'optimized':>10} {'graphed':>9} "
              f"{'speed-up':>16} {'optimized images/s':>19} {'one-off conversion':>19}")
    lines = [header, f"{'':<28} {f'({rows[0].workers} workers)':>14} {'(0 workers)':>12} {'':>10} {'':>9} "
                     f"{f'(vs {rows[0].workers}w / vs 0w)':>16}", "-" * len(header)]
    for row in rows:
        graphed = "-" if row.graphed_seconds is None else f"{row.graphed_seconds:.3f} s"
        lines.append(f"{row.device:<28} {row.workers_seconds:>12.2f} s {row.single_process_seconds:>10.2f} s "
                     f"{row.optimized_seconds:>8.2f} s {graphed:>9} "
                     f"{row.ratio:>7.1f}x /{row.single_process_ratio:>6.1f}x "
                     f"{row.samples_per_second:>19,.0f} {row.conversion_seconds:>17.2f} s")
    lines.append(f"each the fastest of {rows[0].rounds} epochs; one-minute load average when the timing began: "
                 + ", ".join(f"{row.load_average:.2f} ({row.device})" for row in rows))
    for row in rows:
        if row.graphed_seconds is not None:
            lines.append(f"graphed epoch on {row.device}: {row.workers_seconds / row.graphed_seconds:.1f}x faster "
                         f"than the {row.workers}-worker loop, "
                         f"{row.single_process_seconds / row.graphed_seconds:.1f}x than the one-process loop, "
                         f"{row.optimized_seconds / row.graphed_seconds:.1f}x than the eager optimized loop")
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
