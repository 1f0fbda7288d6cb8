"""PyTorch training plumbing: an epoch progress line, a timer, and CUDA graph capture.

The training loops, their records and their stopping rules are written in the chapters,
where the reader can see them.  What lives here is what would only distract from them:

* :class:`EpochProgress` draws a live bar in Jupyter and leaves exactly one clean
  summary line per epoch in a saved notebook (it writes to stdout only, never stderr);
* :class:`Timer` measures wall-clock seconds, waiting for a GPU to finish first;
* :func:`count_operations` counts the operations a step runs, and
  :func:`capture_training_step` records a whole step as one CUDA graph (chapter 09 shows
  it and explains why it helps).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Iterable, Mapping, TextIO


# --------------------------------------------------------------------------- progress


def _in_jupyter() -> bool:
    """True inside an IPython kernel (Jupyter, Colab), where a display can be redrawn in place."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:  # pragma: no cover - very old IPython
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _check_epoch(epoch: int, n_epochs: int) -> None:
    """Epochs count from 1 to ``n_epochs``: a loop over ``range(n_epochs)`` would print ``epoch 0/3``."""
    if not 1 <= epoch <= n_epochs:
        raise ValueError(f"epoch {epoch} is beyond the run's epochs, which count from 1 to n_epochs = {n_epochs}")


def epoch_line(epoch: int, n_epochs: int, metrics: Mapping[str, float], seconds: float | None = None) -> str:
    """One epoch's summary line, e.g. ``epoch  3/10  train_loss 0.1234  val_accuracy 0.9712  2.1 s``.

    Both frameworks' loops print this line: :class:`EpochProgress` in the PyTorch chapters,
    and ``keras_training.EpochLogger`` for Keras's ``fit``.
    """
    _check_epoch(epoch, n_epochs)
    width = len(str(n_epochs))
    parts = [f"epoch {epoch:>{width}}/{n_epochs}"]
    parts += [f"{name} {float(value):.4f}" for name, value in metrics.items()]
    if seconds is not None:
        parts.append(f"{float(seconds):.1f} s")
    return "  ".join(parts)


class EpochProgress:
    """A progress bar while an epoch runs, and one clean summary line per finished epoch.

    Where the bar is drawn depends on where the code runs:

    * in Jupyter (``live=None``, the default there) the bar lives in one display area that
      is redrawn in place; after every epoch that area shows only the header line again,
      and the summary is printed below it.  A notebook executed without a screen (the site
      build, the tests) therefore stores the header and the summary lines, never a bar;
    * in a terminal the bar is redrawn with carriage returns (``live=True`` forces this);
    * anywhere else (a pipe, a log file, ``live=False``) only the lines are written.

    The bar advances in fixed steps (``steps`` per epoch, not by time), so what is written
    is the same on every run.  Text goes to ``stream`` (stdout by default), never to stderr.
    """

    def __init__(self, n_epochs: int, n_batches: int, *, steps: int = 10, width: int = 20,
                 live: bool | None = None, stream: TextIO | None = None, header: str | None = None) -> None:
        self.n_epochs = n_epochs
        self.n_batches = n_batches
        self.steps = steps
        self.width = width
        self.stream = sys.stdout if stream is None else stream
        self.header = header if header is not None else (
            f"training: up to {self.n_epochs} epochs of {self.n_batches} batches")
        if live is None:
            self.mode = "display" if _in_jupyter() else (
                "carriage" if getattr(self.stream, "isatty", lambda: False)() else "off")
        else:
            self.mode = "carriage" if live else "off"
        self._handle = None
        self._started = False
        self._shown = -1  # the last step drawn in this epoch
        self._bar_length = 0

    @property
    def live(self) -> bool:
        """Whether a moving bar is drawn at all."""
        return self.mode != "off"

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.mode == "display":
            from IPython.display import display

            self._handle = display({"text/plain": self.header}, raw=True, display_id=True)
        else:
            self.stream.write(self.header + "\n")
            self.stream.flush()

    def _bar(self, epoch: int, fraction: float) -> str:
        filled = int(round(fraction * self.width))
        width = len(str(self.n_epochs))
        return f"epoch {epoch:>{width}}/{self.n_epochs} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}"

    def update(self, epoch: int, batch: int) -> None:
        """Report that ``batch`` (1-based) of ``n_batches`` in ``epoch`` is done."""
        _check_epoch(epoch, self.n_epochs)
        if batch > self.n_batches:  # the bar would run past 100%
            raise ValueError(f"batch {batch} is beyond the {self.n_batches} batches per epoch")
        self._start()
        if not self.live:
            return
        step = batch * self.steps // self.n_batches
        if step == self._shown:
            return
        self._shown = step
        text = self._bar(epoch, step / self.steps)
        if self.mode == "display":
            self._handle.update({"text/plain": f"{self.header}\n{text}"}, raw=True)
            return
        self._bar_length = len(text)
        self.stream.write("\r" + text)
        self.stream.flush()

    def track(self, batches: Iterable, epoch: int):
        """Yield the batches of ``epoch`` one by one, moving the bar after each."""
        for batch, item in enumerate(batches, start=1):
            yield item
            self.update(epoch, batch)

    def end_epoch(self, epoch: int, seconds: float | None = None, **metrics) -> str:
        """Replace the bar with the epoch's summary line; returns the line."""
        line = epoch_line(epoch, self.n_epochs, metrics, seconds)
        self._start()
        if self.mode == "display":
            # back to the header alone: what a saved notebook keeps, whenever training stops
            self._handle.update({"text/plain": self.header}, raw=True)
            self.stream.write(line + "\n")
        elif self.mode == "carriage" and self._bar_length:
            # pad so a terminal, which only moves the cursor on \r, loses the whole bar
            self.stream.write("\r" + line.ljust(self._bar_length) + "\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = -1
        self._bar_length = 0
        return line


# --------------------------------------------------------------------------- timing


def synchronize(device=None) -> None:
    """Wait until queued GPU work on ``device`` has finished (no-op on CPU)."""
    if device is None:
        return
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


class Timer:
    """Wall-clock seconds of a ``with`` block; on a GPU it waits for the work to finish.

    >>> with Timer() as timer:
    ...     pass
    >>> timer.seconds >= 0
    True
    """

    def __init__(self, device=None) -> None:
        self.device = device
        self.seconds: float = math.nan
        self._start: float | None = None

    def __enter__(self) -> "Timer":
        synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._start


def per_second(count: float, seconds: float) -> float:
    """``count / seconds`` (samples per second, say), as a Python float."""
    return float(count) / float(seconds)


# --------------------------------------------------------------------------- launches and graphs


def count_operations(function) -> int:
    """How many tensor operations ``function()`` asks PyTorch to run.

    Counted where PyTorch hands each operation to its device code, after autograd, so a
    backward pass and an optimizer step are counted too.  On a GPU each operation is at
    least one kernel the processor has to launch.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    class Counter(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Counter.count += 1
            return func(*args, **(kwargs or {}))

    with Counter():
        function()
    return Counter.count


def capture_training_step(model, optimizer, loss_function, warmup):
    """Record one whole training step (forward, backward, update) as a CUDA graph.

    ``warmup`` holds a few ``(images, labels)`` batches on the GPU, all of the shape
    the graph will replay.  They are trained on first, as ordinary steps, on a side
    stream, so that the optimizer's state and every buffer the step needs exist
    before the capture.  The optimizer must be built with ``capturable=True``.
    Returns ``step(images, labels)``: it copies a batch into the graph's own input
    tensors, replays the whole step as one launch and returns the graph's loss
    tensor (overwritten by the next replay).
    """
    import torch

    first_images, first_labels = warmup[0]
    if first_images.device.type != "cuda":
        raise ValueError("CUDA graphs record work on a CUDA device; "
                         f"the batches are on {first_images.device}")
    images_in = torch.empty_like(first_images)  # the graph reads its inputs here
    labels_in = torch.empty_like(first_labels)

    def one_step():
        loss = loss_function(model(images_in), labels_in)
        loss.backward()
        optimizer.step()
        return loss.detach()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for images, labels in warmup:
            images_in.copy_(images)
            labels_in.copy_(labels)
            optimizer.zero_grad(set_to_none=True)
            one_step()
    torch.cuda.current_stream().wait_stream(side)

    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)  # the graph's backward writes fresh gradients
    with torch.cuda.graph(graph):
        loss_out = one_step()

    def step(images, labels):
        images_in.copy_(images)
        labels_in.copy_(labels)
        graph.replay()
        return loss_out

    return step
