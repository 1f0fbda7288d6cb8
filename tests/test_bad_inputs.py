"""Bad input is refused with a clear message where a learner or the outside world can send it.

Full validation lives where input comes from outside the program (MNIST files and their
cache, the runtime's environment variables, the data handed to the training pipelines);
the teaching modules check only the mistakes a learner really makes: a shape that does
not fit, an unknown name, "epoch 5/3".  Each case is a call with one wrong argument, and
must raise a ValueError or TypeError whose message names what was wrong, instead of
returning an answer computed from nonsense (a label cast from 1.7 to 1, an int32 that
wrapped round).
"""


import numpy as np
import pytest

from lesson4_support import backprop, convolution, datasets, figures, mnist_fetch, runtime, torch_training
from site_server import in_ci

NAN, INF = float("nan"), float("inf")
MNIST_LIKE = np.zeros((4, 28, 28), dtype=np.uint8)
LABELS = np.arange(4)


def network(**changes):
    """The backprop chapter's tiny network: x (2, 3), y (2, 1), W1 (3, 2), b1 (2,), W2 (2, 1), b2 (1,)."""
    rng = np.random.default_rng(0)
    values = dict(x=rng.normal(size=(2, 3)), y=np.array([[0.0], [1.0]]), W1=rng.normal(size=(3, 2)),
                  b1=np.zeros(2), W2=rng.normal(size=(2, 1)), b2=np.zeros(1))
    values.update(changes)
    return values


CASES = {
    # ---- datasets
    "torch_tensors float labels": (lambda: datasets.torch_tensors(MNIST_LIKE[:2], np.array([1.7, -3.0])),
                                   TypeError, "labels must be integer"),
    "torch_tensors integral float labels": (lambda: datasets.torch_tensors(MNIST_LIKE, LABELS.astype(float)),
                                            TypeError, "labels must be integer"),
    "torch_tensors negative labels": (lambda: datasets.torch_tensors(MNIST_LIKE[:2], np.array([1, -3])),
                                      ValueError, "labels must be class numbers"),
    "torch_tensors uint64 label beyond int64": (
        lambda: datasets.torch_tensors(MNIST_LIKE[:1], np.array([2**63], dtype=np.uint64)),
        ValueError, "labels must be class numbers"),
    "torch_tensors 2-D labels": (lambda: datasets.torch_tensors(MNIST_LIKE, LABELS[:, None]),
                                 ValueError, "labels must be 1-D"),
    "torch_tensors empty": (lambda: datasets.torch_tensors(MNIST_LIKE[:0], LABELS[:0]), ValueError, "empty"),
    "torch_tensors float images": (lambda: datasets.torch_tensors(MNIST_LIKE.astype(float), LABELS),
                                   TypeError, "uint8"),
    "torch_tensors 1-D images": (lambda: datasets.torch_tensors(np.zeros(4, np.uint8), LABELS),
                                 ValueError, "images"),
    "torch_tensors flat images kept unflattened": (
        lambda: datasets.torch_tensors(MNIST_LIKE.reshape(4, 784), LABELS, flatten=False),
        ValueError, r"\(N, height, width\)"),
    "to_float empty flattened": (lambda: datasets.to_float(MNIST_LIKE[:0], flatten=True), ValueError, "empty"),
    "to_float int64 pixels": (lambda: datasets.to_float(MNIST_LIKE.astype(np.int64)), TypeError, "uint8"),
    "toy_data NaN noise": (lambda: datasets.toy_data("moons", noise=NAN), ValueError, "noise"),
    "toy_data infinite noise": (lambda: datasets.toy_data("moons", noise=INF), ValueError, "noise"),
    "toy_data text noise": (lambda: datasets.toy_data("moons", noise="0.2"), TypeError, "noise"),
    "toy_data seed None (not repeatable)": (lambda: datasets.toy_data("moons", seed=None), TypeError, "seed"),
    "toy_data negative seed": (lambda: datasets.toy_data("moons", seed=-1), ValueError, "seed"),
    "toy_data float seed": (lambda: datasets.toy_data("moons", seed=2.5), TypeError, "seed"),
    "toy_data 1.5 samples": (lambda: datasets.toy_data("moons", 10.5), TypeError, "n_samples"),
    "toy_data unknown name": (lambda: datasets.toy_data("spiral"), ValueError, "unknown toy data set"),
    "split_indices seed None (not repeatable)": (lambda: datasets.split_indices(10, 2, seed=None),
                                                 TypeError, "seed"),
    "split_indices negative seed": (lambda: datasets.split_indices(10, 2, seed=-1), ValueError, "seed"),
    "split_indices n_val NaN": (lambda: datasets.split_indices(10, NAN), TypeError, "n_val"),
    "md5sum chunk 0 (hashes nothing)": (lambda: mnist_fetch.md5sum(__file__, chunk=0), ValueError, "chunk"),
    "md5sum chunk 2.5": (lambda: mnist_fetch.md5sum(__file__, chunk=2.5), TypeError, "chunk"),
    "verify_raw_dir with no expected files": (lambda: mnist_fetch.verify_raw_dir(".", {}), ValueError, "expected"),
    "check_file negative size": (lambda: mnist_fetch.check_file(__file__, -1, "0" * 32), ValueError, "size"),
    "check_file NaN size": (lambda: mnist_fetch.check_file(__file__, NAN, "0" * 32), TypeError, "size"),
    "check_file short md5": (lambda: mnist_fetch.check_file(__file__, 10, "abc"), ValueError, "md5"),
    "ensure_mnist NaN timeout": (lambda: mnist_fetch.ensure_mnist(".", timeout=NAN, sources=[]), ValueError, "timeout"),
    "ensure_mnist infinite deadline": (lambda: mnist_fetch.ensure_mnist(".", deadline=INF, sources=[]),
                                       ValueError, "deadline"),
    "ensure_mnist source without a name": (lambda: mnist_fetch.ensure_mnist(".", sources=[print]),
                                           TypeError, "sources"),
    # ---- runtime
    "torch_device number": (lambda: runtime.torch_device(3), TypeError, "device"),
    "torch_device unknown": (lambda: runtime.torch_device("gpu"), ValueError, "unknown device"),
    "tf_device number": (lambda: runtime.tf_device(0), TypeError, "device"),
    "device_description unknown": (lambda: runtime.device_description("gpu"), ValueError, "unknown device"),
    "seed_everything NaN": (lambda: runtime.seed_everything(NAN), TypeError, "seed"),
    "seed_everything negative": (lambda: runtime.seed_everything(-1), ValueError, "seed"),
    "glue name with a space": (lambda: runtime.glue("test accuracy", 1), ValueError, "identifiers"),
    # ---- training
    "epoch_line epoch 5 of 3": (lambda: torch_training.epoch_line(5, 3, {"loss": 0.1}), ValueError, "epoch 5"),
    "epoch_line epoch 0": (lambda: torch_training.epoch_line(0, 3, {"loss": 0.1}), ValueError, "epoch"),
    # ---- backprop
    "two_layer_gradients target 2": (lambda: backprop.two_layer_gradients(**network(y=np.array([[0.0], [2.0]]))),
                                     ValueError, "y"),
    "two_layer_gradients bias of the wrong length": (
        lambda: backprop.two_layer_gradients(**network(b1=np.zeros(3))), ValueError, "b1"),
    # ---- figures
    "plot_confusion_matrix not square": (lambda: figures.plot_confusion_matrix(np.ones((2, 3))),
                                         ValueError, "square"),
    "plot_class_counts ragged": (lambda: figures.plot_class_counts({"train": [3, 1], "test": [1]}),
                                 ValueError, "same length"),
    "plot_function_and_derivative ragged": (
        lambda: figures.plot_function_and_derivative([0, 1], [0, 1], [0], "relu"), ValueError, "equal length"),
    # ---- convolution
    "output_size NaN size": (lambda: convolution.output_size(NAN, 3), TypeError, "size"),
    "output_size kernel larger than input": (lambda: convolution.output_size(2, 5), ValueError, "kernel"),
    "output_size negative padding": (lambda: convolution.output_size(5, 3, padding=-1), ValueError, "padding"),
    "output_size stride 0": (lambda: convolution.output_size(5, 3, stride=0), ValueError, "stride"),
    "output_shape three numbers": (lambda: convolution.output_shape((5, 5, 5), 3), ValueError, "input_shape"),
    "plot_kernel NaN": (lambda: convolution.plot_kernel(np.array([[NAN, 1.0]])), ValueError, "NaN"),
    "plot_kernel empty": (lambda: convolution.plot_kernel(np.zeros((0, 3))), ValueError, "non-empty"),
    "plot_feature_map 3-D": (lambda: convolution.plot_feature_map(np.zeros((2, 2, 2))), ValueError, "2-D"),
    "plot_response_overlay NaN alpha": (
        lambda: convolution.plot_response_overlay(np.ones((3, 3)), np.ones((3, 3)), alpha=NAN), ValueError, "alpha"),
    "plot_response_overlay shape mismatch": (
        lambda: convolution.plot_response_overlay(np.ones((3, 3)), np.ones((2, 2))), ValueError, "shape"),
    "plot_filter_gallery names differ": (
        lambda: convolution.plot_filter_gallery(np.ones((3, 3)), {"a": np.ones((2, 2))}, {"b": np.ones((2, 2))}),
        ValueError, "same names"),
    "sliding_kernel_gif stride 0": (
        lambda: convolution.sliding_kernel_gif(np.ones((4, 4)), np.ones((2, 2)), np.ones((3, 3)), "x.gif", stride=0),
        ValueError, "stride"),
    "sliding_kernel_gif NaN duration": (
        lambda: convolution.sliding_kernel_gif(np.ones((4, 4)), np.ones((2, 2)), np.ones((3, 3)), "x.gif",
                                               duration_ms=NAN), TypeError, "duration_ms"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_gets_a_clear_error(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a broken check let through would write here, not in the clone
    call, error, match = CASES[case]
    with pytest.raises(error, match=match):
        call()


def keras_training_or_skip():
    """The Keras helpers, or a skip on a PyTorch-only machine (never under CI, where every test must run)."""
    try:
        from lesson4_support import keras_training
    except ImportError as error:
        if in_ci():
            raise
        pytest.skip(f"TensorFlow cannot be imported: {error}")
    return keras_training


def keras_cases():
    keras_training = keras_training_or_skip()
    keras = keras_training.keras
    return {
        "mnist_dataset label 2**31 (wraps in int32)": (
            lambda: keras_training.mnist_dataset(MNIST_LIKE[:1], np.array([2**31])), ValueError, "labels"),
        "mnist_dataset negative label": (
            lambda: keras_training.mnist_dataset(MNIST_LIKE[:1], np.array([-1])), ValueError, "labels"),
        "mnist_dataset float labels": (
            lambda: keras_training.mnist_dataset(MNIST_LIKE[:2], np.array([1.7, 3.0])), TypeError, "labels"),
        "mnist_dataset empty": (lambda: keras_training.mnist_dataset(MNIST_LIKE[:0], LABELS[:0]), ValueError, "empty"),
        "mnist_dataset batch 0": (lambda: keras_training.mnist_dataset(MNIST_LIKE, LABELS, 0), ValueError,
                                  "batch_size"),
        "mnist_dataset float images": (lambda: keras_training.mnist_dataset(MNIST_LIKE * 1.0, LABELS), TypeError,
                                       "uint8"),
        "gradient_step loss that is not a function": (
            lambda: keras_training.gradient_step(lambda x, training=False: x, keras.optimizers.SGD(), "mse"), TypeError,
            "loss_function"),
        "time_tf_steps 0 steps": (lambda: keras_training.time_tf_steps(lambda x, y: x, [(1, 2)], steps=0),
                                  ValueError, "steps"),
    }


KERAS_CASES = ["mnist_dataset label 2**31 (wraps in int32)", "mnist_dataset negative label",
               "mnist_dataset float labels", "mnist_dataset empty", "mnist_dataset batch 0",
               "mnist_dataset float images", "gradient_step loss that is not a function", "time_tf_steps 0 steps"]


@pytest.mark.parametrize("case", KERAS_CASES)
def test_bad_input_to_the_keras_helpers_gets_a_clear_error(case):
    call, error, match = keras_cases()[case]
    with pytest.raises(error, match=match):
        call()


def test_the_keras_case_list_is_complete():
    assert sorted(keras_cases()) == sorted(KERAS_CASES)
