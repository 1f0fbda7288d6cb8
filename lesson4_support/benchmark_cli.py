"""Time one MNIST epoch the original notebook's way and the optimized way, on this machine.

    python -m lesson4_support.benchmark_cli            # CPU, and CUDA when present
    python -m lesson4_support.benchmark_cli --device cpu

The ways and the table are :mod:`lesson4_support.benchmark`'s; this module only reads the
command line, loads MNIST and prints.
"""

from __future__ import annotations

import argparse
import sys

from . import datasets, runtime
from .benchmark import (BATCH_SIZE, HIDDEN, LEARNING_RATE, compare, format_steps, format_table,
                        per_image_dataset, tensorflow_step_times, usable_cores)


def default_devices() -> list[str]:
    """CPU, plus CUDA when PyTorch sees a GPU."""
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time one MNIST epoch the original notebook's way and the optimized way.")
    parser.add_argument("--device", action="append", help="cpu, cuda, cuda:N or mps (repeatable; "
                        "default: cpu, plus cuda when present)")
    parser.add_argument("--no-tensorflow", action="store_true", help="skip the TensorFlow step timing")
    parser.add_argument("--max-batches", type=int, default=None, help="shorten each epoch (quick checks)")
    args = parser.parse_args(argv)

    runtime.quiet_frameworks()
    devices = [str(runtime.torch_device(name)) for name in (args.device or default_devices())]
    mnist = datasets.load_mnist(verbose=False)
    dataset = per_image_dataset(mnist.root, mnist.train_indices)
    print(f"MNIST from {mnist.source}: {len(mnist.train_labels):,} training images, batch {BATCH_SIZE}, "
          f"784-{HIDDEN}-10 network, Adam lr {LEARNING_RATE:g}, one epoch each way, "
          f"{usable_cores()} CPU cores", flush=True)
    rows = []
    for device in devices:
        rows.append(compare(device, dataset, mnist.train_images, mnist.train_labels, max_batches=args.max_batches))
        print(f"  timed {rows[-1].device}", flush=True)
    print()
    print("PyTorch, seconds per epoch")
    print(format_table(rows))
    print()
    if args.no_tensorflow:
        print("TensorFlow: skipped (--no-tensorflow)")
    else:
        steps = tensorflow_step_times(mnist.train_images, mnist.train_labels)
        print(format_steps(steps) if steps is not None else "TensorFlow: not installed, step timing skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
