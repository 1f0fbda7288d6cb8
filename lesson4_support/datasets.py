"""Data for the lesson as arrays: MNIST with its fixed validation split, and small 2-D toy sets.

:func:`load_mnist` reads MNIST through torchvision's standard dataset class, after
:func:`lesson4_support.mnist_fetch.ensure_mnist` has made sure the files are there and
genuine; the same uint8 arrays feed PyTorch and TensorFlow.  :func:`toy_data` draws the
small classification sets of the perceptron and activation chapters.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import check_int
from .mnist_fetch import ensure_mnist

#: Size of the validation split carved out of MNIST's 60,000 training images.
VALIDATION_SIZE = 10_000
SPLIT_SEED = 2024
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081




@dataclass
class MnistArrays:
    """MNIST as uint8 images and int64 labels, with the lesson's fixed validation split."""

    train_images: np.ndarray  # (50000, 28, 28) uint8
    train_labels: np.ndarray
    val_images: np.ndarray  # (10000, 28, 28) uint8
    val_labels: np.ndarray
    test_images: np.ndarray  # (10000, 28, 28) uint8
    test_labels: np.ndarray
    source: str
    root: Path  # the folder torchvision's MNIST class reads (its MNIST/raw holds the files)
    train_indices: np.ndarray  # which of torchvision's 60,000 training images are train_images

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_labels), "validation": len(self.val_labels), "test": len(self.test_labels)}


def split_indices(n: int, n_val: int = VALIDATION_SIZE, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, seeded permutation of ``range(n)`` cut into (train, validation) indices."""
    n = check_int(n, "n", 2)
    n_val = check_int(n_val, "n_val", 1, n - 1)
    seed = check_int(seed, "seed", 0)  # None would draw a different split on every run
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def mnist_dataset(root: str | os.PathLike, *, train: bool = True, transform=None):
    """torchvision's MNIST dataset, read from the IDX files in ``root/MNIST/raw`` and nothing else.

    torchvision's class prefers the ``MNIST/processed/training.pt`` and ``test.pt`` of its
    old versions whenever they exist, without checking them; this one never reads them,
    so what it returns is what :func:`~lesson4_support.mnist_fetch.ensure_mnist` verified.
    """
    from torchvision import datasets

    class RawMNIST(datasets.MNIST):
        raw_folder = property(lambda self: os.path.join(self.root, "MNIST", "raw"))
        processed_folder = property(lambda self: os.path.join(self.root, "MNIST", "processed"))

        def _check_legacy_exist(self) -> bool:
            return False

    return RawMNIST(str(root), train=train, transform=transform)


def load_mnist(root: str | os.PathLike | None = None, *, n_val: int = VALIDATION_SIZE, verbose: bool = True) -> MnistArrays:
    """MNIST through torchvision's standard dataset class, as uint8 NumPy arrays.

    The same arrays feed PyTorch and TensorFlow, so both frameworks see the same split.
    Only the verified raw files are read (see :func:`mnist_dataset`).
    """
    files = ensure_mnist(root, verbose=verbose)
    train = mnist_dataset(files.root, train=True)
    test = mnist_dataset(files.root, train=False)
    images, labels = train.data.numpy(), train.targets.numpy()
    train_idx, val_idx = split_indices(len(labels), n_val)
    return MnistArrays(
        images[train_idx], labels[train_idx],
        images[val_idx], labels[val_idx],
        test.data.numpy(), test.targets.numpy(),
        files.source, files.root, train_idx,
    )


def to_float(images: np.ndarray, *, normalize: bool = True, flatten: bool = False) -> np.ndarray:
    """uint8 images to float32: scaled to [0, 1], then standardized with MNIST's mean and std.

    This is what ``ToTensor()`` followed by ``Normalize((0.1307,), (0.3081,))`` does to one
    image, done once for a whole array.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images (0-255), got dtype {images.dtype}")
    if images.ndim < 2:
        raise ValueError(f"expected images with at least 2 dimensions, got shape {images.shape}")
    if images.size == 0:
        raise ValueError(f"images is empty (shape {images.shape}): there is nothing to convert")
    out = images.astype(np.float32)
    # in place: a whole training set is 150 MB as float32, and each temporary copy costs as much
    out /= 255.0
    if normalize:
        out -= MNIST_MEAN
        out /= MNIST_STD
    if flatten:
        out = out.reshape(len(out), -1)
    return out


def torch_tensors(images: np.ndarray, labels: np.ndarray, device=None, *, flatten: bool = True):
    """Float image tensor and int64 label tensor on ``device``, converted once.

    ``images`` are uint8 pixels, ``(N, height, width)`` (or already flat, ``(N, pixels)``,
    when ``flatten`` is true); ``labels`` are ``N`` integer class numbers from 0 up.
    Labels of another dtype are refused rather than cast: a cast would quietly turn a
    float label of 1.7 into class 1.
    """
    import torch

    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim < 2:
        raise ValueError(f"images must have shape (N, height, width), got {images.shape}")
    if not flatten and images.ndim != 3:
        raise ValueError(f"with flatten=False images must have shape (N, height, width), got {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, one class number per image, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integer class numbers, got dtype {labels.dtype}")
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if len(labels) == 0:
        raise ValueError("images and labels are empty")
    if labels.min() < 0 or labels.max() > np.iinfo(np.int64).max:
        raise ValueError(f"labels must be class numbers from 0 up, got values from {labels.min()} to {labels.max()}")
    x = torch.from_numpy(to_float(images, flatten=flatten))
    if not flatten:
        x = x.unsqueeze(1)  # add the channel dimension: (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    if device is not None:
        x, y = x.to(device), y.to(device)
    return x, y


# --------------------------------------------------------------------------- toy data

TOY_DATASETS = ("separable", "moons", "circles", "xor", "blobs3", "blobs4")


def toy_data(name: str, n_samples: int = 200, *, noise: float | None = None, seed: int = 0):
    """A small 2-D classification set by name; returns ``(X, y)`` as float64 and int64 arrays.

    ``separable``: two linearly separable clusters; ``moons`` and ``circles``: scikit-learn's
    classic non-linear sets; ``xor``: four clusters labelled by the XOR of their corners;
    ``blobs3``/``blobs4``: three or four well-separated clusters.
    """
    from sklearn import datasets as skd

    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy data set {name!r}; choose one of {', '.join(TOY_DATASETS)}")
    n_samples = check_int(n_samples, "n_samples", 4)
    seed = check_int(seed, "seed", 0, 2**32 - 4)  # None would give different data on every run
    if noise is not None:
        if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
            raise TypeError(f"noise must be a number (a standard deviation) or None, got {type(noise).__name__}")
        if not math.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite, non-negative standard deviation, got {noise}")
    if name == "separable":
        X, y = skd.make_blobs(n_samples, centers=[(-2.0, -1.5), (2.0, 1.5)],
                              cluster_std=1.0 if noise is None else noise, random_state=seed)
    elif name == "moons":
        X, y = skd.make_moons(n_samples, noise=0.2 if noise is None else noise, random_state=seed)
    elif name == "circles":
        X, y = skd.make_circles(n_samples, noise=0.08 if noise is None else noise, factor=0.45, random_state=seed)
    elif name == "xor":
        corners = [(-1, -1), (1, 1), (-1, 1), (1, -1)]
        X, cluster = skd.make_blobs(n_samples, centers=corners, cluster_std=0.3 if noise is None else noise,
                                    random_state=seed)
        y = (cluster >= 2).astype(int)
    else:
        k = int(name[-1])
        X, y = skd.make_blobs(n_samples, centers=k, cluster_std=0.8 if noise is None else noise,
                              random_state=seed + 3)
    return X.astype(np.float64), y.astype(np.int64)
