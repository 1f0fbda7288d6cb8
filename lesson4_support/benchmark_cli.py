"""Time one MNIST epoch the original notebook's way and the optimized way, on this machine.

    python -m lesson4_support.benchmark_cli            # $LESSON4_DEVICE, else CPU and CUDA when present
    python -m lesson4_support.benchmark_cli --device cpu
    python -m lesson4_support.benchmark_cli --record media/gpu_record.json   # on a CUDA machine

The ways and the table are :mod:`lesson4_support.benchmark`'s; this module only reads the
command line, loads MNIST and prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import datasets, gpu_record, runtime, torch_models
from .benchmark import (BATCH_SIZE, HIDDEN, LEARNING_RATE, compare, eager_and_graphed, format_steps,
                        format_table, per_image_dataset, small_cnn, tensorflow_step_times, usable_cores)


def default_devices() -> list[str]:
    """The device ``$LESSON4_DEVICE`` names, else CPU, plus CUDA when PyTorch sees a GPU."""
    import torch

    requested = os.environ.get(runtime.DEVICE_ENV, "").strip()
    if requested:
        return [requested]
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def positive_int(text: str) -> int:
    """An argument that must be a whole number from 1 up."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_writable(path: Path) -> str | None:
    """Why the record could not be written to ``path``, or None when it can (tried, then removed)."""
    if path.is_dir():
        return "it is a folder"
    try:  # gpu_record.write writes a temporary file beside the record, then renames it
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        return error.strerror or str(error)
    return None


def graph_trainings(device, mnist, epochs: int) -> dict:
    """Train the MLP and the CNN eagerly and as a CUDA graph on ``device``; print and return the rows."""
    # (N, 1, 28, 28) for the CNN; the MLP's first layer flattens them
    x, y = datasets.torch_tensors(mnist.train_images, mnist.train_labels, device, flatten=False)
    x_test, y_test = datasets.torch_tensors(mnist.test_images, mnist.test_labels, device, flatten=False)

    def mlp(seed):
        return torch_models.make_mlp(n_hidden=HIDDEN, seed=seed)

    trainings = {}
    for network, make_model in (("mlp", mlp), ("cnn", small_cnn)):
        trainings[network] = eager_and_graphed(make_model, x, y, x_test, y_test, epochs=epochs)
        eager, graphed = trainings[network]
        print(f"{network.upper()} on {device}, {epochs} epochs each, batch {BATCH_SIZE}: "
              f"eager {eager.seconds_per_epoch:.3f} s per epoch, test accuracy {eager.test_accuracy:.2%}; "
              f"graphed {graphed.seconds_per_epoch:.3f} s per epoch "
              f"({eager.seconds_per_epoch / graphed.seconds_per_epoch:.1f}x faster), "
              f"test accuracy {graphed.test_accuracy:.2%}", flush=True)
    return trainings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time one MNIST epoch the original notebook's way, the optimized way and, on CUDA, as a graph.")
    parser.add_argument("--device", action="append", help="cpu, cuda, cuda:N or mps (repeatable; "
                        "default: cpu, plus cuda when present)")
    parser.add_argument("--no-tensorflow", action="store_true", help="skip the TensorFlow step timing")
    parser.add_argument("--max-batches", type=positive_int, default=None, help="shorten each epoch (quick checks)")
    parser.add_argument("--rounds", type=positive_int, default=3,
                        help="timed epochs per way; the fastest counts (default 3)")
    parser.add_argument("--epochs", type=positive_int, default=4, help="epochs of the eager-against-graphed training "
                        "on CUDA (default 4)")
    parser.add_argument("--record", metavar="PATH", help="write the CUDA measurements there as the GPU record "
                        "(media/gpu_record.json); needs a CUDA device")
    args = parser.parse_args(argv)

    runtime.quiet_frameworks()
    try:
        devices = [str(runtime.torch_device(name)) for name in (args.device or default_devices())]
    except (ValueError, RuntimeError) as error:
        parser.error(str(error))
    cuda = next((device for device in devices if device.startswith("cuda")), None)
    if args.record and cuda is None:
        parser.error("--record writes the GPU record, and no CUDA device is among those timed")
    if args.record and (problem := check_writable(Path(args.record))):
        parser.error(f"--record {args.record}: the GPU record could not be written there ({problem}); "
                     "name a file in an existing folder, before the measurement runs")
    mnist = datasets.load_mnist(verbose=False)
    dataset = per_image_dataset(mnist.root, mnist.train_indices)
    print(f"MNIST from {mnist.source}: {len(mnist.train_labels):,} training images, batch {BATCH_SIZE}, "
          f"784-{HIDDEN}-10 network, Adam lr {LEARNING_RATE:g}, the fastest of {args.rounds} epochs each way, "
          f"{usable_cores()} CPU cores", flush=True)
    rows = []
    for device in devices:
        rows.append(compare(device, dataset, mnist.train_images, mnist.train_labels, rounds=args.rounds,
                            max_batches=args.max_batches))
        print(f"  timed {rows[-1].device}", flush=True)
    print()
    print("PyTorch, seconds per epoch")
    print(format_table(rows))
    print()
    if cuda is not None:
        trainings = graph_trainings(cuda, mnist, args.epochs)
        if args.record:
            row = rows[devices.index(cuda)]
            measured = gpu_record.provenance(cuda, row.cores, row.load_average)
            path = gpu_record.write(gpu_record.make_record(measured, row, BATCH_SIZE, trainings), args.record)
            print(f"GPU record written to {path}: {gpu_record.title(gpu_record.load(path))}")
        print()
    if args.no_tensorflow:
        print("TensorFlow: skipped (--no-tensorflow)")
    else:
        steps = tensorflow_step_times(mnist.train_images, mnist.train_labels)
        print(format_steps(steps) if steps is not None else "TensorFlow: not installed, step timing skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
