"""Seeds, devices, quiet frameworks and paths that work from any working directory.

This module is the only place in the package that owns process-wide state: the random
seeds, the framework log levels and the device choice.  Importing it is cheap: neither
PyTorch nor TensorFlow is imported until a function here needs it.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import random
import sys
import warnings
from pathlib import Path

import numpy as np

#: Environment variable that forces a device ("cpu", "cuda", "cuda:1", "mps").
DEVICE_ENV = "LESSON4_DEVICE"
#: Environment variable that moves the data cache (MNIST files) somewhere else.
DATA_ENV = "LESSON4_DATA"
#: Environment variable that moves the media folder (figures and GIFs written by chapters).
MEDIA_ENV = "LESSON4_MEDIA"

_REPO_MARKERS = ("_toc.yml", "_config.yml")
_KNOWN_DEVICES = ("cpu", "cuda", "mps")
#: Whether TensorFlow, once imported, was handed to :func:`follow_device_choice`.
_tensorflow_follows = False


@contextlib.contextmanager
def native_stderr_silenced():
    """Send the process's C-level stderr (file descriptor 2) to /dev/null for a moment.

    TensorFlow writes a few lines from C++ while it loads (``Could not find cuda
    drivers``), before its own log settings take effect, so ``TF_CPP_MIN_LOG_LEVEL`` does
    not reach them; in a notebook they would land in the cell's stderr.  Python
    exceptions are unaffected: they are raised, not printed, inside this block.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real file descriptor 2 (some embedded consoles)
        yield
        return
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietTensorFlowLoader(importlib.abc.Loader):
    """Wraps TensorFlow's own loader: torchvision first, then TensorFlow with C++ stderr muted."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # resource readers and the like come from the real loader
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        try:
            import torchvision  # noqa: F401
        except ImportError:  # without torchvision there is nothing to protect
            pass
        global _tensorflow_follows

        with native_stderr_silenced():
            self.loader.exec_module(module)
        follow_device_choice(module)
        module.config.experimental.enable_tensor_float_32_execution(False)  # see full_float32()
        _tensorflow_follows = True


class _TensorFlowImportHook(importlib.abc.MetaPathFinder):
    """Makes a plain ``import tensorflow`` safe and quiet.

    With the pinned builds, importing torchvision *after* TensorFlow crashes the process
    (a segmentation fault inside torchvision's compiled operators); the other order is
    fine.  And TensorFlow's start-up lines from C++ escape its log settings.  This finder
    only reacts to the first ``import tensorflow``: it finds TensorFlow as usual and wraps
    its loader, so pages that never use TensorFlow pay nothing.
    """

    busy = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self.busy:
            return None
        self.busy = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        finally:
            self.busy = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietTensorFlowLoader(spec.loader)
        return spec


def import_torchvision_first() -> None:
    """Make any later ``import tensorflow`` safe and quiet (see :class:`_TensorFlowImportHook`).

    Raises if TensorFlow was already imported without torchvision, since that process
    would crash as soon as torchvision is imported.
    """
    if "tensorflow" in sys.modules and "torchvision" not in sys.modules:
        raise RuntimeError(
            "TensorFlow was imported before torchvision, which crashes with these builds; "
            "call lesson4_support.runtime.setup() before importing tensorflow"
        )
    if not any(isinstance(finder, _TensorFlowImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowImportHook())


def quiet_frameworks() -> None:
    """Silence TensorFlow's C++ log lines and the Python warnings that only add noise.

    TensorFlow reads its log settings once, when it is first imported, and writes its
    start-up messages from C++ straight to the process's stderr, where a notebook cell
    cannot catch them.  So this must run before ``import tensorflow``; calling it after
    the import still quiets the Python side.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN custom ops print a banner on import and make float results depend on the
    # order of threads; switching them off keeps runs repeatable and the output clean.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="tensorflow")
    warnings.filterwarnings("ignore", message=".*np.object.*")
    if "tensorflow" in sys.modules:
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy, PyTorch and TensorFlow (the last two only if installed).

    Returns the seed so a notebook can print or glue it.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but chapters may run without it
        torch = None
    if torch is not None:
        torch.manual_seed(seed)  # also seeds every CUDA device
    if "tensorflow" in sys.modules:
        # Only seed TensorFlow when a chapter has already imported it: importing it here
        # would cost seconds in chapters that never use it.
        sys.modules["tensorflow"].keras.utils.set_random_seed(seed)
    return seed


def _parse_device(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a device must be named by a string such as 'cpu' or 'cuda:1', got {type(name).__name__}: "
                        f"{name!r}")
    cleaned = name.strip().lower()
    kind = cleaned.split(":", 1)[0]
    if kind not in _KNOWN_DEVICES:
        raise ValueError(
            f"unknown device {name!r}: expected one of {', '.join(_KNOWN_DEVICES)} "
            "(optionally with an index, such as 'cuda:1')"
        )
    if ":" in cleaned:
        index = cleaned.split(":", 1)[1]
        if kind != "cuda" or not index.isdigit():
            raise ValueError(f"bad device index in {name!r}: only 'cuda:N' takes an index")
    return cleaned


def _requested_device(prefer) -> str | None:
    """``prefer`` when given, else ``$LESSON4_DEVICE``; an empty name means no preference."""
    if prefer is not None and not isinstance(prefer, str):
        raise TypeError(f"a device must be named by a string such as 'cpu' or 'cuda:1', got "
                        f"{type(prefer).__name__}: {prefer!r}")
    return prefer if prefer is not None else os.environ.get(DEVICE_ENV)


def torch_device(prefer: str | None = None):
    """Choose the PyTorch device: ``prefer``, else ``$LESSON4_DEVICE``, else CUDA, MPS, CPU.

    Asking for a device that this machine lacks is an error, not a silent fallback, so a
    GPU run never quietly becomes a CPU run.
    """
    import torch

    requested = _requested_device(prefer)
    if requested:
        name = _parse_device(requested)
        kind = name.split(":", 1)[0]
        if kind == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {requested!r} was requested but CUDA is not available here")
        if kind == "mps" and not (
            getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
        ):
            raise RuntimeError(f"device {requested!r} was requested but Apple MPS is not available here")
        if name.startswith("cuda:") and int(name[5:]) >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {requested!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_description(device=None) -> str:
    """A short human-readable name for a torch device, e.g. ``'cuda (NVIDIA H100)'``."""
    import torch

    if isinstance(device, str):
        device = _parse_device(device)
    device = torch_device() if device is None else torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({os.cpu_count()} cores)"


def import_tensorflow():
    """``import tensorflow``, quietly and after torchvision; returns the module.

    The log settings must be in place before TensorFlow's first import, and the import
    hook must see it: :func:`quiet_frameworks`, then :func:`import_torchvision_first`.
    """
    quiet_frameworks()
    import_torchvision_first()
    import tensorflow as tf

    return tf


def full_float32() -> None:
    """Keep float32 arithmetic at float32's full precision on GPUs too.

    On NVIDIA GPUs from the Ampere generation on, TensorFlow runs float32 matrix products
    and convolutions in TF32 by default, and so does cuDNN for PyTorch's convolutions:
    inputs rounded to a 10-bit mantissa, about 1e-3 relative error instead of float32's
    1e-7.  The pages compare PyTorch with TensorFlow and with hand-written code to float32's
    own precision, so both frameworks are asked for full float32.  On a CPU nothing changes.
    """
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].config.experimental.enable_tensor_float_32_execution(False)


def follow_device_choice(tf) -> None:
    """Show TensorFlow only the device ``$LESSON4_DEVICE`` names, as PyTorch gets it.

    TensorFlow places every operation on a GPU when it sees one, so ``LESSON4_DEVICE=cpu``
    must hide the GPUs from it, and ``cuda:N`` must leave it that GPU alone.  The import
    hook calls this right after TensorFlow's first import, before any operation has run;
    without the variable TensorFlow keeps its own choice.  A TensorFlow that has already
    set up its devices can no longer be steered, and that is an error, not a quiet run on
    a device the variable did not name.
    """
    requested = _requested_device(None)
    if not requested:
        return
    chosen = tf_device()
    gpus = tf.config.list_physical_devices("GPU")
    keep = [] if chosen == "/CPU:0" else [gpus[int(chosen.rsplit(":", 1)[1])]]
    try:
        tf.config.set_visible_devices(keep, "GPU")
    except RuntimeError as error:
        raise RuntimeError(
            f"${DEVICE_ENV}={requested!r} cannot reach TensorFlow: it was imported and set up its devices "
            "before lesson4_support.runtime.setup() ran, so it would use a device of its own choice. Restart "
            "the kernel (or the process) and call runtime.setup() before importing tensorflow") from error


def _on_macos() -> bool:
    """True on macOS, where TensorFlow's GPU is Apple's (through the Metal plug-in), never CUDA."""
    return sys.platform == "darwin"


def tf_device(prefer: str | None = None) -> str:
    """The TensorFlow device for the same choice :func:`torch_device` makes: ``'/CPU:0'`` or ``'/GPU:N'``.

    ``prefer``, else ``$LESSON4_DEVICE``, names the device exactly as for PyTorch: ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps``.  TensorFlow numbers its GPUs ``/GPU:0``, ``/GPU:1``, ...
    in the order CUDA does, so ``cuda:1`` is ``/GPU:1``; on macOS its GPU is Apple's, which
    PyTorch calls ``mps``.  As with :func:`torch_device`, asking for a device that TensorFlow
    cannot see is an error rather than a quiet run somewhere else.  With no preference it
    picks the first GPU, else the CPU.  Use it as ``with tf.device(runtime.tf_device()):``.
    """
    tf = import_tensorflow()

    requested = _requested_device(prefer)
    gpus = tf.config.list_physical_devices("GPU")
    if not requested:
        return "/GPU:0" if gpus else "/CPU:0"
    name = _parse_device(requested)
    kind, _, index = name.partition(":")
    if kind == "cpu":
        return "/CPU:0"
    if kind == "mps" and not (_on_macos() and gpus):
        raise RuntimeError(f"device {requested!r} was requested but Apple MPS is not available to TensorFlow here "
                           "(it needs macOS and the tensorflow-metal plug-in)")
    if kind == "cuda" and (_on_macos() or not gpus):
        raise RuntimeError(f"device {requested!r} was requested but CUDA is not available to TensorFlow here")
    number = int(index) if index else 0
    if number >= len(gpus):
        raise RuntimeError(f"device {requested!r} was requested but TensorFlow sees only {len(gpus)} GPU(s)")
    return f"/GPU:{number}"


def _find_repo(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if all((folder / marker).is_file() for marker in _REPO_MARKERS):
            return folder
    return None


def repo_root() -> Path | None:
    """The clone this package belongs to, or ``None`` when installed on its own (e.g. Colab).

    Looks upward from the package's own location first (an editable install), then from
    the working directory (a notebook opened inside a clone).
    """
    return _find_repo(Path(__file__).resolve().parent) or _find_repo(Path.cwd().resolve())


def _folder_setting(variable: str) -> str | None:
    """The value of an environment variable naming a folder; set but blank, or relative, is an error.

    A relative path would name a different folder from every working directory (pages run
    in chapters/, scripts in the clone), so it is refused rather than guessed at.
    """
    value = os.environ.get(variable)
    if value is not None and value.strip() == "":
        raise ValueError(f"${variable} is set but empty: unset it to use the default, or name a folder")
    if value is not None and not Path(value).expanduser().is_absolute():
        raise ValueError(f"${variable} is {value!r}, a relative path, which would name a different folder from "
                         f"every working directory (pages run in chapters/): set it to an absolute path, such "
                         f"as \"$PWD/{value}\"")
    return value


def _make_folder(path: Path, purpose: str, origin: str) -> Path:
    """Create ``path`` if needed, or say exactly why it cannot be a folder.

    ``mkdir(exist_ok=True)`` only says "File exists" for a link to nowhere, a loop of
    links or a plain file, which leaves the reader guessing which setting is wrong.
    """
    where = f"the {purpose} {path} ({origin})"
    if path.is_symlink() and not path.exists():
        raise NotADirectoryError(f"{where} is a symbolic link that leads nowhere (its target is missing, "
                                 "or the links form a loop): fix or remove the link")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{where} exists but is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(error.errno, f"cannot create {where}: {error.strerror or error}") from error
    return path


def media_dir() -> Path:
    """Where chapters write figures and GIFs: ``$LESSON4_MEDIA``, else ``<repo>/media``.

    Outside a clone (Colab) it is ``./media`` under the working directory.  The folder is
    created if needed.
    """
    override = _folder_setting(MEDIA_ENV)
    if override is not None:
        return _make_folder(Path(override).expanduser(), "media folder", f"from ${MEDIA_ENV}")
    root = repo_root()
    return _make_folder((root if root is not None else Path.cwd()) / "media", "media folder", "the default")


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data cache: ``override``, else ``$LESSON4_DATA``, else ``~/.cache/lesson4``.

    The default lives outside the clone, so every clone and every build on a machine
    shares one copy of MNIST.  The folder is created if needed.
    """
    if override is not None and str(override).strip() == "":
        raise ValueError("the data directory must not be an empty string")
    if override is not None:
        # made absolute now: a later change of working directory must not move the data
        return _make_folder(Path(override).expanduser().absolute(), "data folder", "given as an argument")
    chosen = _folder_setting(DATA_ENV)
    if chosen is not None:
        return _make_folder(Path(chosen).expanduser(), "data folder", f"from ${DATA_ENV}")
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return _make_folder(base / "lesson4", "data folder", f"the default; set ${DATA_ENV} to move it")


def write_file_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that no reader ever sees half a file.

    The bytes go to a temporary file of a name of their own beside ``path``, which is
    renamed over ``path`` once complete; if anything fails, or the run is interrupted, the
    temporary file is removed and ``path`` keeps what it held.  Two processes writing the
    same file at once each rename a complete file of their own.
    """
    import tempfile

    path = Path(path)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide the file from the other users of a clone
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return path


def setup(seed: int = 0) -> None:
    """What every chapter runs first: quiet logs, safe import order, seeds, plot style."""
    global _tensorflow_follows

    quiet_frameworks()
    import_torchvision_first()
    if "tensorflow" in sys.modules and not _tensorflow_follows:
        # imported before the hook was in place: apply $LESSON4_DEVICE now, or say why it cannot be
        follow_device_choice(sys.modules["tensorflow"])
        _tensorflow_follows = True
    seed_everything(seed)
    full_float32()
    from . import figures

    figures.use_house_style()


def glue(name: str, value, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the page's prose (MyST-NB's glue).

    Outside a Jupyter Book build (Colab, a plain Jupyter install without MyST-NB) there
    is no page to paste into, and nothing happens.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue names must be identifiers such as 'test_accuracy', got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)


def glue_many(**values) -> None:
    """:func:`glue` each keyword: ``glue_many(cores=2, speedup=3.1)``."""
    for name, value in values.items():
        glue(name, value)
