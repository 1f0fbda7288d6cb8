"""TensorFlow plumbing for the Keras chapter: input pipelines, step timing, quiet epoch logs.

The training loop itself (the ``GradientTape`` step, early stopping) is written in the
chapter, where the reader sees it.  This module holds what would only distract there:

* :func:`mnist_dataset` turns the uint8 arrays of :func:`lesson4_support.datasets.load_mnist`
  into a ``tf.data`` pipeline of flattened, standardized batches (the same split the
  PyTorch chapters use);
* :func:`gradient_step` builds the chapter's ``GradientTape`` step for a given model, for
  timing it outside the chapter, and :func:`time_tf_steps` measures seconds per training
  step run eagerly and compiled with ``tf.function``;
* :class:`EpochLogger` is a Keras callback that prints one plain line per epoch, to use
  with ``fit(..., verbose=0)`` instead of Keras's progress bar.  Its line is
  :func:`epoch_line`, imported from :mod:`lesson4_support.torch_training` so that the
  Keras loops and the PyTorch loops print their epochs the same way.

Importing this module imports TensorFlow, quietly (see ``runtime.import_torchvision_first``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from . import runtime
from .checks import check_int
from .datasets import MNIST_MEAN, MNIST_STD
from .torch_training import epoch_line


tf = runtime.import_tensorflow()  # quietly, and after torchvision
import keras  # noqa: E402  (must come after TensorFlow)

#: Pixels in one flattened MNIST image.
IMAGE_PIXELS = 28 * 28


# --------------------------------------------------------------------------- input pipeline


def mnist_dataset(images, labels, batch_size: int = 64, *, shuffle: bool = False, seed: int = 0) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of ``(images, labels)`` batches made from uint8 MNIST arrays.

    ``images`` has shape ``(N, 28, 28)`` (or already flat, ``(N, 784)``) and dtype uint8;
    ``labels`` has shape ``(N,)``.  Each batch holds float32 images of shape
    ``(batch, 784)``, scaled to [0, 1] and standardized with MNIST's mean and standard
    deviation (what ``ToTensor`` and ``Normalize`` do in the PyTorch chapters), and int32
    labels.  The conversion happens per batch, inside TensorFlow, so no float copy of the
    whole set is ever made.

    With ``shuffle=True`` the order changes every epoch, but follows the same sequence
    every time a pipeline is built with the same ``seed``; the last batch may be smaller.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 pixel values (0-255), got dtype {images.dtype}")
    if images.ndim == 3 and images.shape[1:] == (28, 28):
        images = images.reshape(len(images), IMAGE_PIXELS)
    elif not (images.ndim == 2 and images.shape[1] == IMAGE_PIXELS):
        raise ValueError(f"images must have shape (N, 28, 28) or (N, {IMAGE_PIXELS}), got {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be 1-D with one label per image ({len(images)}), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if len(images) == 0:
        raise ValueError("images and labels are empty")
    top = np.iinfo(np.int32).max  # the labels travel as int32, which would wrap larger numbers round
    if labels.min() < 0 or labels.max() > top:
        raise ValueError(f"labels must be class numbers from 0 to {top}, got values from {labels.min()} "
                         f"to {labels.max()}")
    batch_size = check_int(batch_size, "batch_size")
    seed = check_int(seed, "seed", 0)

    with tf.device("/CPU:0"):  # the pipeline runs on the CPU; batches move to a GPU when used
        pixels = tf.constant(images)
        targets = tf.constant(labels.astype(np.int32))

    def gather_batch(indices):
        scaled = tf.cast(tf.gather(pixels, indices), tf.float32) / 255.0
        return (scaled - MNIST_MEAN) / MNIST_STD, tf.gather(targets, indices)

    # Shuffle and batch the example numbers, then fetch each batch in one gather: far less
    # work per example than slicing the arrays into 50,000 separate tensors.
    order = tf.data.Dataset.range(len(images))
    if shuffle:
        order = order.shuffle(len(images), seed=int(seed), reshuffle_each_iteration=True)
    return order.batch(batch_size).map(gather_batch).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- step timing


@dataclass(frozen=True)
class StepTimes:
    """Seconds per training step, eager and compiled, from :func:`time_tf_steps`."""

    eager: float  # seconds per step, Python running every operation
    compiled: float  # seconds per step, the tf.function graph
    trace: float  # seconds of the first compiled call (tracing the graph, plus one step)
    steps: int  # steps in each timed round

    @property
    def ratio(self) -> float:
        """How many times faster the compiled step is."""
        return self.eager / self.compiled

    def per_epoch(self, steps_per_epoch: int) -> tuple[float, float]:
        """Extrapolated seconds per epoch of ``steps_per_epoch`` steps: ``(eager, compiled)``."""
        steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch")
        return self.eager * steps_per_epoch, self.compiled * steps_per_epoch

    def __str__(self) -> str:
        return (
            f"eager {1000 * self.eager:.2f} ms/step, compiled {1000 * self.compiled:.2f} ms/step "
            f"(x{self.ratio:.1f}), tracing {self.trace:.2f} s"
        )


def gradient_step(model, optimizer, loss_function) -> Callable:
    """A plain (eager) training step ``step(x, y) -> loss`` for ``model``, as chapter 10 writes it.

    The loss is ``loss_function(y, model(x))`` plus the model's own penalties
    (``model.losses``, such as L2 regularizers) when it has any.
    """
    if not callable(model):
        raise TypeError(f"model must be a Keras model (callable on a batch), got {type(model).__name__}")
    if not hasattr(optimizer, "apply_gradients"):
        raise TypeError(f"optimizer must be a Keras optimizer, got {type(optimizer).__name__}")
    if not callable(loss_function):
        raise TypeError(f"loss_function must be a function loss(y_true, y_pred), such as a Keras loss object, "
                        f"got {type(loss_function).__name__}: {loss_function!r}")

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_function(y, model(x, training=True))
            if model.losses:
                loss += tf.add_n(model.losses)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    return step


def _collect_batches(batches: Iterable, count: int) -> list:
    collected = []
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"batches must yield (inputs, labels) pairs, got {type(batch).__name__}")
        collected.append(tuple(batch))
        if len(collected) == count:
            break
    if not collected:
        raise ValueError("batches yielded nothing to time")
    return collected


def _run(step: Callable, batches: list, count: int) -> float:
    """Seconds for ``count`` calls of ``step``, cycling through ``batches``."""
    started = time.perf_counter()
    result = None
    for i in range(count):
        x, y = batches[i % len(batches)]
        result = step(x, y)
    if result is not None and hasattr(result, "numpy"):
        result.numpy()  # wait for the last step to finish
    return time.perf_counter() - started


def time_tf_steps(step: Callable, batches: Iterable, *, steps: int = 20, repeats: int = 3, warmup: int = 3) -> StepTimes:
    """Time one training step run eagerly and compiled with ``tf.function``.

    ``step(x, y)`` is a training step: a plain Python function, or one already wrapped in
    ``tf.function`` (its Python original is then used for the eager timing).  ``batches``
    yields ``(x, y)`` pairs, for instance a :func:`mnist_dataset`; the first ``steps``
    are taken once and reused, so the input pipeline is not part of the timing.

    Both versions first run ``warmup`` untimed steps (the compiled version's first call,
    which traces the graph, is timed on its own).  Then ``repeats`` rounds of ``steps``
    eager steps and ``steps`` compiled steps alternate, and each version's fastest round
    counts: on a shared machine, interruptions only ever add time.  The steps really train
    the model they close over, so time a throwaway model, not the one you mean to train.
    """
    if not callable(step):
        raise TypeError(f"step must be a function step(x, y), got {type(step).__name__}")
    steps = check_int(steps, "steps")
    repeats = check_int(repeats, "repeats")
    warmup = check_int(warmup, "warmup", 0)
    eager_step = getattr(step, "python_function", step)
    data = _collect_batches(batches, steps)

    _run(eager_step, data, warmup)
    compiled_step = tf.function(eager_step)
    trace = _run(compiled_step, data, 1)
    _run(compiled_step, data, warmup)
    eager_rounds, compiled_rounds = [], []
    for _ in range(repeats):
        eager_rounds.append(_run(eager_step, data, steps))
        compiled_rounds.append(_run(compiled_step, data, steps))
    return StepTimes(eager=min(eager_rounds) / steps, compiled=min(compiled_rounds) / steps, trace=trace, steps=steps)


# --------------------------------------------------------------------------- epoch log lines


class EpochLogger(keras.callbacks.Callback):
    """Print one :func:`lesson4_support.torch_training.epoch_line` per epoch; use with ``fit(..., verbose=0)``.

    Keras's progress bar rewrites one line of the terminal many times a second, which
    leaves a mess of control characters in a saved notebook.  This callback writes a
    single clean line when each epoch ends, with the metrics Keras logged (in
    ``metrics`` order when given) and the epoch's wall-clock time, which it also keeps in
    ``seconds``, one entry per epoch.
    """

    def __init__(self, metrics: Iterable[str] | None = None, stream=None):
        super().__init__()
        if metrics is not None:
            metrics = list(metrics)
            if not all(isinstance(name, str) and name for name in metrics):
                raise ValueError(f"metrics must be a list of metric names such as 'val_loss', got {metrics!r}")
        if stream is not None and not hasattr(stream, "write"):
            raise TypeError(f"stream must be a writable text stream, got {type(stream).__name__}")
        self.metrics = metrics
        self.stream = stream
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.metrics is not None:
            missing = [name for name in self.metrics if name not in logs]
            if missing:
                raise KeyError(f"Keras logged no {', '.join(missing)}; it logged {', '.join(logs) or 'nothing'}")
            logs = {name: logs[name] for name in self.metrics}
        self.seconds.append(time.perf_counter() - self._started)
        line = epoch_line(epoch + 1, self.params["epochs"], logs, self.seconds[-1])
        print(line, file=self.stream if self.stream is not None else sys.stdout, flush=True)
