import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lesson4_support import runtime

ROOT = Path(__file__).resolve().parents[1]


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    runtime.seed_everything(123)
    first = draw()
    runtime.seed_everything(123)
    assert draw() == first
    runtime.seed_everything(124)
    assert draw() != first


@pytest.mark.parametrize("bad", [1.5, "0", None, True])
def test_seed_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="seed must be an int"):
        runtime.seed_everything(bad)


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_seed_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match="seed must be in"):
        runtime.seed_everything(bad)


def test_quiet_frameworks_sets_tensorflow_variables(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    runtime.quiet_frameworks()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_torch_device_defaults_to_cpu_without_accelerators(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.torch_device() == torch.device("cpu")
    assert runtime.device_description(torch.device("cpu")).startswith("cpu (")


def test_torch_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.torch_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.torch_device() == torch.device("cuda")


def test_environment_variable_overrides_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv(runtime.DEVICE_ENV, "CPU")
    assert runtime.torch_device() == torch.device("cpu")


def test_an_explicit_argument_wins_over_the_environment(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv(runtime.DEVICE_ENV, "cuda")
    assert runtime.torch_device() == torch.device("cuda")
    assert runtime.torch_device("cpu") == torch.device("cpu")


def test_an_empty_setting_means_no_preference(monkeypatch):
    monkeypatch.setenv(runtime.DEVICE_ENV, "")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.torch_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.torch_device() == torch.device("cuda")


@pytest.mark.parametrize("name", ["gpu", "tpu", "cuda:x", "cpu:0"])
def test_unknown_device_names_are_rejected(name, monkeypatch):
    monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    with pytest.raises(ValueError, match="device"):
        runtime.torch_device(name)


def test_requesting_a_missing_accelerator_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        runtime.torch_device("cuda")
    with pytest.raises(RuntimeError, match="MPS is not available"):
        runtime.torch_device("mps")


def test_requesting_a_missing_cuda_index_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(RuntimeError, match="only 1 CUDA device"):
        runtime.torch_device("cuda:3")


def test_tf_device_follows_the_cpu_override(monkeypatch):
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    assert runtime.tf_device() == "/CPU:0"


def test_repo_root_is_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = runtime.repo_root()
    assert root is not None
    assert (root / "_toc.yml").is_file() and (root / "lesson4_support").is_dir()


def test_media_dir_defaults_to_the_clone_and_can_be_moved(tmp_path, monkeypatch):
    monkeypatch.delenv(runtime.MEDIA_ENV, raising=False)
    assert runtime.media_dir() == runtime.repo_root() / "media"
    monkeypatch.setenv(runtime.MEDIA_ENV, str(tmp_path / "elsewhere"))
    assert runtime.media_dir() == tmp_path / "elsewhere"
    assert (tmp_path / "elsewhere").is_dir()


def test_data_dir_argument_environment_and_default(tmp_path, monkeypatch):
    monkeypatch.delenv(runtime.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert runtime.data_dir() == tmp_path / "cache" / "lesson4"
    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "env"))
    assert runtime.data_dir() == tmp_path / "env"
    assert runtime.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert (tmp_path / "arg").is_dir()


def test_data_dir_rejects_empty_and_file_paths(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        runtime.data_dir("  ")
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(NotADirectoryError, match="not a folder"):
        runtime.data_dir(not_a_folder)


def test_setup_seeds_and_applies_the_house_style():
    import matplotlib as mpl

    runtime.setup(seed=7)
    a = np.random.rand()
    runtime.setup(seed=7)
    assert np.random.rand() == a
    assert mpl.rcParams["image.cmap"] == "cividis"


def test_setup_asks_both_frameworks_for_full_float32_not_tf32():
    import tensorflow as tf
    import torch

    torch.backends.cudnn.allow_tf32 = True
    tf.config.experimental.enable_tensor_float_32_execution(True)
    try:
        runtime.setup(seed=0)
        assert not torch.backends.cuda.matmul.allow_tf32
        assert not torch.backends.cudnn.allow_tf32
        assert not tf.config.experimental.tensor_float_32_execution_enabled()
    finally:
        torch.backends.cudnn.allow_tf32 = True  # PyTorch's default, for the tests after this one


def test_glue_rejects_bad_names():
    with pytest.raises(ValueError, match="identifiers"):
        runtime.glue("test accuracy", 0.9)
    with pytest.raises(ValueError, match="identifiers"):
        runtime.glue(3, 0.9)


@pytest.fixture
def published(monkeypatch):
    """What the IPython display system publishes, as (data, metadata) pairs."""
    from IPython.core.interactiveshell import InteractiveShell

    records = []
    shell = InteractiveShell.instance()
    monkeypatch.setattr(shell.display_pub, "publish",
                        lambda data, metadata=None, **kwargs: records.append((data, metadata)))
    return records


def test_glue_records_a_value_for_myst_nb(published, capsys):
    runtime.glue("answer", 42)
    runtime.glue("shown", 7, display=True)
    (hidden_data, hidden_meta), (shown_data, shown_meta) = published
    # a hidden record carries only MyST-NB's glue MIME type, under the name the page refers to
    assert hidden_data == {"application/papermill.record/text/plain": "42"}
    assert hidden_meta["scrapbook"]["name"] == "answer"
    assert shown_data == {"text/plain": "7"} and shown_meta["scrapbook"]["name"] == "shown"
    assert capsys.readouterr().out == ""


def test_glue_many_records_each_value_under_its_name(published):
    runtime.glue_many(cores=2, ratio=3.5)
    assert [(meta["scrapbook"]["name"], data["application/papermill.record/text/plain"])
            for data, meta in published] == [("cores", "2"), ("ratio", "3.5")]
    with pytest.raises(ValueError, match="identifiers"):
        runtime.glue_many(**{"two words": 1})


def test_glue_does_nothing_without_myst_nb(published, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as on Colab: importing it fails
    runtime.glue("answer", 42)
    assert published == []
    assert capsys.readouterr().out == ""


def test_import_torchvision_first_refuses_tensorflow_before_torchvision(monkeypatch):
    import sys
    import types

    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    with pytest.raises(RuntimeError, match="before torchvision"):
        runtime.import_torchvision_first()


def test_import_hook_loads_torchvision_first_and_keeps_tensorflow_quiet():
    import subprocess
    import sys

    code = ("import sys; from lesson4_support import runtime; runtime.import_torchvision_first(); runtime.import_torchvision_first();"
            "assert 'torchvision' not in sys.modules;"
            "assert sum(type(f).__name__ == '_TensorFlowImportHook' for f in sys.meta_path) == 1;"
            "import tensorflow as tf; assert 'torchvision' in sys.modules; import torchvision.ops;"
            "print(tf.constant(2.0).numpy() * 3)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "6.0"
    assert result.stderr == "", "TensorFlow's start-up lines reached stderr"


# --------------------------------------------------------------------------- TensorFlow follows the same choice


@pytest.fixture
def tf_gpus(monkeypatch):
    """``tf_gpus(n, macos=False)`` makes TensorFlow report ``n`` GPUs (on macOS: Metal ones)."""
    tf = runtime.import_tensorflow()
    real = tf.config.list_physical_devices

    def install(n, macos=False):
        gpus = [tf.config.PhysicalDevice(name=f"/physical_device:GPU:{i}", device_type="GPU") for i in range(n)]

        def listed(device_type=None):
            if device_type == "GPU":
                return list(gpus)
            return real(device_type) + (gpus if device_type is None else [])

        monkeypatch.setattr(tf.config, "list_physical_devices", listed)
        monkeypatch.setattr(runtime, "_on_macos", lambda: macos)

    return install


@pytest.mark.parametrize("setting, n_gpus, expected", [
    (None, 0, "/CPU:0"), (None, 2, "/GPU:0"), ("", 1, "/GPU:0"),
    ("cpu", 2, "/CPU:0"), ("CPU", 0, "/CPU:0"),
    ("cuda", 1, "/GPU:0"), ("cuda:0", 1, "/GPU:0"), ("cuda:1", 2, "/GPU:1"), ("cuda:3", 4, "/GPU:3"),
])
def test_tf_device_honours_the_device_setting(tf_gpus, monkeypatch, setting, n_gpus, expected):
    tf_gpus(n_gpus)
    if setting is None:
        monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    else:
        monkeypatch.setenv(runtime.DEVICE_ENV, setting)
    assert runtime.tf_device() == expected


@pytest.mark.parametrize("setting, n_gpus, macos, match", [
    ("cuda", 0, False, "CUDA is not available"),
    ("cuda:7", 1, False, "only 1 GPU"),
    ("cuda:1", 1, False, "only 1 GPU"),
    ("mps", 1, False, "MPS is not available"),
    ("mps", 0, True, "MPS is not available"),
    ("cuda", 1, True, "CUDA is not available"),
])
def test_tf_device_refuses_a_device_this_machine_lacks(tf_gpus, monkeypatch, setting, n_gpus, macos, match):
    tf_gpus(n_gpus, macos=macos)
    monkeypatch.setenv(runtime.DEVICE_ENV, setting)
    with pytest.raises(RuntimeError, match=match):
        runtime.tf_device()


def test_tf_device_uses_apple_gpus_for_mps(tf_gpus, monkeypatch):
    tf_gpus(1, macos=True)
    monkeypatch.setenv(runtime.DEVICE_ENV, "mps")
    assert runtime.tf_device() == "/GPU:0"


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "cpu:0", "mps:1"])
def test_tf_device_rejects_unknown_names_like_torch_device(tf_gpus, monkeypatch, name):
    tf_gpus(1)
    monkeypatch.setenv(runtime.DEVICE_ENV, name)
    with pytest.raises(ValueError, match="device"):
        runtime.tf_device()


def test_tf_device_takes_an_explicit_choice_over_the_environment(tf_gpus, monkeypatch):
    tf_gpus(2)
    monkeypatch.setenv(runtime.DEVICE_ENV, "cuda:1")
    assert runtime.tf_device() == "/GPU:1"
    assert runtime.tf_device("cpu") == "/CPU:0"


def test_both_frameworks_make_the_same_choice(tf_gpus, monkeypatch):
    tf_gpus(2)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    for setting, torch_choice, tf_choice in [("cpu", "cpu", "/CPU:0"), ("cuda:1", "cuda:1", "/GPU:1")]:
        monkeypatch.setenv(runtime.DEVICE_ENV, setting)
        assert str(runtime.torch_device()) == torch_choice and runtime.tf_device() == tf_choice
    monkeypatch.setenv(runtime.DEVICE_ENV, "cuda:5")
    with pytest.raises(RuntimeError):
        runtime.torch_device()
    with pytest.raises(RuntimeError):
        runtime.tf_device()


# --------------------------------------------------------------------------- folders named by the environment


def test_a_dangling_link_as_the_data_folder_is_named(tmp_path, monkeypatch):
    (tmp_path / "cache").symlink_to(tmp_path / "gone")
    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "cache"))
    with pytest.raises(OSError, match="symbolic link") as error:
        runtime.data_dir()
    assert runtime.DATA_ENV in str(error.value) and str(tmp_path / "cache") in str(error.value)


def test_a_symlink_loop_as_the_data_folder_is_named(tmp_path, monkeypatch):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    monkeypatch.setenv(runtime.DATA_ENV, str(tmp_path / "a"))
    with pytest.raises(OSError, match="symbolic link"):
        runtime.data_dir()


def test_a_file_as_the_media_folder_is_named(tmp_path, monkeypatch):
    (tmp_path / "figures.png").write_bytes(b"not a folder")
    monkeypatch.setenv(runtime.MEDIA_ENV, str(tmp_path / "figures.png"))
    with pytest.raises(NotADirectoryError, match="not a folder") as error:
        runtime.media_dir()
    assert runtime.MEDIA_ENV in str(error.value)


def test_a_folder_that_cannot_be_created_is_named(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv(runtime.MEDIA_ENV, str(tmp_path / "file" / "media"))
    with pytest.raises(OSError, match="cannot create") as error:
        runtime.media_dir()
    assert str(tmp_path / "file" / "media") in str(error.value)


@pytest.mark.parametrize("variable, function", [(runtime.DATA_ENV, runtime.data_dir),
                                                (runtime.MEDIA_ENV, runtime.media_dir)])
@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_folder_setting_is_refused_alike(monkeypatch, variable, function, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"{variable} is set but empty"):
        function()


@pytest.mark.parametrize("setting, n_gpus, visible", [
    (None, 2, None), ("cpu", 2, []), ("cuda", 2, [0]), ("cuda:1", 2, [1]),
])
def test_tensorflow_is_shown_only_the_chosen_device(tf_gpus, monkeypatch, setting, n_gpus, visible):
    tf = runtime.import_tensorflow()
    tf_gpus(n_gpus)
    if setting is None:
        monkeypatch.delenv(runtime.DEVICE_ENV, raising=False)
    else:
        monkeypatch.setenv(runtime.DEVICE_ENV, setting)
    calls = []
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda devices, kind: calls.append((devices, kind)))
    runtime.follow_device_choice(tf)
    if visible is None:
        assert calls == [], "without LESSON4_DEVICE TensorFlow keeps its own choice"
    else:
        (devices, kind), = calls
        gpus = tf.config.list_physical_devices("GPU")
        assert kind == "GPU" and devices == [gpus[i] for i in visible]


def test_the_first_import_of_tensorflow_applies_the_device_choice():
    """In a fresh process, the import hook hands TensorFlow to follow_device_choice
    before anything else can use it."""
    code = ("from lesson4_support import runtime\n"
            "runtime.setup()\n"
            "seen = []\n"
            "runtime.follow_device_choice = lambda tf: seen.append(tf.__name__)\n"
            "import tensorflow\n"
            "print(seen)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['tensorflow']"


@pytest.mark.parametrize("variable, function", [(runtime.DATA_ENV, runtime.data_dir),
                                                (runtime.MEDIA_ENV, runtime.media_dir)])
@pytest.mark.parametrize("value", ["data", "./media", "../elsewhere"])
def test_a_relative_folder_setting_is_refused_with_the_reason(monkeypatch, tmp_path, variable, function, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"{variable} is '{re.escape(value)}', a relative path, which would name "
                                         "a different folder from every working directory"):
        function()
    assert list(tmp_path.iterdir()) == [], "nothing may be created for a refused setting"
    monkeypatch.setenv(variable, str(tmp_path / "absolute"))
    assert function() == tmp_path / "absolute"


def test_a_device_setting_that_can_no_longer_reach_tensorflow_is_an_error(tf_gpus, monkeypatch):
    """TensorFlow imported before setup() and already set up: $LESSON4_DEVICE cannot steer it."""
    tf = runtime.import_tensorflow()
    tf_gpus(1)

    def initialised(devices, kind):
        raise RuntimeError("Visible devices cannot be modified after being initialized")

    monkeypatch.setattr(tf.config, "set_visible_devices", initialised)
    monkeypatch.setattr(runtime, "_tensorflow_follows", False, raising=False)
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    with pytest.raises(RuntimeError, match=r"\$LESSON4_DEVICE='cpu' cannot reach TensorFlow: it was imported"):
        runtime.setup()
    # without the setting TensorFlow keeps its own choice, as it does when the hook imports it
    monkeypatch.delenv(runtime.DEVICE_ENV)
    runtime.setup()
    # a TensorFlow the setting can still steer is steered, once
    calls = []
    monkeypatch.setattr(tf.config, "set_visible_devices", lambda devices, kind: calls.append((devices, kind)))
    monkeypatch.setattr(runtime, "_tensorflow_follows", False, raising=False)
    monkeypatch.setenv(runtime.DEVICE_ENV, "cpu")
    runtime.setup()
    runtime.setup()
    assert calls == [([], "GPU")]


def test_write_file_atomically_replaces_a_file_only_when_complete(tmp_path, monkeypatch):
    target = tmp_path / "figure.png"
    runtime.write_file_atomically(target, b"old")
    assert target.read_bytes() == b"old" and target.stat().st_mode & 0o777 == 0o644

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(runtime.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runtime.write_file_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"], "the temporary file was left behind"


def test_concurrent_writers_each_leave_a_complete_file(tmp_path):
    import threading

    target = tmp_path / "record.json"
    contents = [bytes([65 + i]) * 2_000_000 for i in range(4)]
    errors = []

    def write(data):
        try:
            for _ in range(5):
                runtime.write_file_atomically(target, data)
        except OSError as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(data,)) for data in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_bytes() in contents
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_relative_data_dir_argument_is_made_absolute_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = runtime.data_dir("data")
    assert folder == tmp_path / "data" and folder.is_absolute()
