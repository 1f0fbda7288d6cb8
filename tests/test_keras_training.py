"""Tests for lesson4_support.keras_training, on small synthetic data (no timing assertions)."""

import io

import numpy as np
import pytest

from lesson4_support import runtime
from site_server import in_ci

runtime.quiet_frameworks()
try:
    from lesson4_support import keras_training
except ImportError as error:  # a PyTorch-only machine; under CI every test must run
    if in_ci():
        raise
    pytest.skip(f"TensorFlow cannot be imported: {error}", allow_module_level=True)
tf = keras_training.tf
keras = keras_training.keras


SPARSE_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def fake_mnist(n=10, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    return images, labels


def small_model():
    inputs = keras.Input(shape=(784,))
    outputs = keras.layers.Dense(10)(keras.layers.Dense(4, activation="relu")(inputs))
    return keras.Model(inputs, outputs)


# --------------------------------------------------------------------------- mnist_dataset


def test_batches_are_flat_standardized_floats_in_order():
    images, labels = fake_mnist(10)
    batches = list(keras_training.mnist_dataset(images, labels, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype == tf.float32 and x.shape == (4, 784)
    assert y.dtype == tf.int32
    expected = (images[:4].reshape(4, -1) / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), labels)


def test_flat_images_are_accepted():
    images, labels = fake_mnist(6)
    flat = list(keras_training.mnist_dataset(images.reshape(6, 784), labels, batch_size=6))
    square = list(keras_training.mnist_dataset(images, labels, batch_size=6))
    np.testing.assert_array_equal(flat[0][0].numpy(), square[0][0].numpy())


def test_shuffle_is_a_seeded_permutation_that_changes_each_epoch():
    images, labels = fake_mnist(50)
    labels = np.arange(50)  # distinct labels reveal the order

    def orders(seed):
        data = keras_training.mnist_dataset(images, labels, batch_size=50, shuffle=True, seed=seed)
        return [next(iter(data))[1].numpy() for _ in range(2)]

    first, second = orders(7)
    assert sorted(first) == list(range(50))
    assert not np.array_equal(first, np.arange(50))
    assert not np.array_equal(first, second)  # a new order every epoch
    again = orders(7)
    np.testing.assert_array_equal(first, again[0])  # ... the same sequence for the same seed
    np.testing.assert_array_equal(second, again[1])


@pytest.mark.parametrize(
    "images, labels, kwargs, error, match",
    [
        (np.zeros((4, 28, 28), np.float32), np.zeros(4, int), {}, TypeError, "uint8"),
        (np.zeros((4, 28, 27), np.uint8), np.zeros(4, int), {}, ValueError, "shape"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(3, int), {}, ValueError, "one label per image"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(4, float), {}, TypeError, "integers"),
        (np.zeros((0, 28, 28), np.uint8), np.zeros(0, int), {}, ValueError, "empty"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(4, int), {"batch_size": 0}, ValueError, "batch_size"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(4, int), {"batch_size": 2.5}, TypeError, "batch_size"),
        (np.zeros((4, 28, 28), np.uint8), np.zeros(4, int), {"seed": -1}, ValueError, "seed"),
    ],
)
def test_mnist_dataset_rejects_bad_input(images, labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        keras_training.mnist_dataset(images, labels, **kwargs)


# --------------------------------------------------------------------------- time_tf_steps


def test_time_tf_steps_times_both_ways_and_trains_the_model():
    keras.utils.set_random_seed(0)
    images, labels = fake_mnist(32)
    model = small_model()
    before = [w.copy() for w in model.get_weights()]
    data = keras_training.mnist_dataset(images, labels, batch_size=8)
    step = keras_training.gradient_step(model, keras.optimizers.SGD(0.01), SPARSE_CE)
    times = keras_training.time_tf_steps(step, data, steps=3, repeats=2, warmup=1)
    assert times.steps == 3
    assert times.eager > 0 and times.compiled > 0 and times.trace > 0
    assert times.ratio == pytest.approx(times.eager / times.compiled)
    assert times.per_epoch(10) == pytest.approx((10 * times.eager, 10 * times.compiled))
    assert "ms/step" in str(times)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_gradient_step_adds_the_models_penalties_to_the_loss():
    keras.utils.set_random_seed(0)
    images, labels = fake_mnist(8)
    x, y = next(iter(keras_training.mnist_dataset(images, labels, batch_size=8)))
    inputs = keras.Input(shape=(784,))
    model = keras.Model(inputs, keras.layers.Dense(10, kernel_regularizer=keras.regularizers.L2(0.5))(inputs))
    data_loss = float(SPARSE_CE(y, model(x)))
    penalty = float(0.5 * tf.reduce_sum(model.layers[-1].kernel ** 2))
    loss = keras_training.gradient_step(model, keras.optimizers.SGD(0.0), SPARSE_CE)(x, y)
    assert penalty > 1.0
    assert float(loss) == pytest.approx(data_loss + penalty, rel=1e-5)


def test_time_tf_steps_accepts_a_tf_function_and_counts_calls():
    calls = {"n": 0}

    def step(x, y):
        calls["n"] += 1  # a Python side effect: runs on every eager call, once per trace when compiled
        return tf.reduce_sum(x) + tf.cast(tf.reduce_sum(y), tf.float32)

    batches = [(tf.ones((2, 3)), tf.zeros(2, tf.int32))] * 2
    times = keras_training.time_tf_steps(tf.function(step), batches, steps=4, repeats=2, warmup=2)
    assert calls["n"] == 2 + 2 * 4 + 1  # eager warm-up and timed rounds, then a single trace
    assert times.steps == 4


@pytest.mark.parametrize(
    "step, batches, kwargs, error, match",
    [
        ("not callable", [(1, 2)], {}, TypeError, "step"),
        (lambda x, y: x, [(1, 2)], {"steps": 0}, ValueError, "steps"),
        (lambda x, y: x, [(1, 2)], {"repeats": 0}, ValueError, "repeats"),
        (lambda x, y: x, [(1, 2)], {"warmup": -1}, ValueError, "warmup"),
        (lambda x, y: x, [], {}, ValueError, "nothing"),
        (lambda x, y: x, [(1, 2, 3)], {}, ValueError, "pairs"),
    ],
)
def test_time_tf_steps_rejects_bad_input(step, batches, kwargs, error, match):
    with pytest.raises(error, match=match):
        keras_training.time_tf_steps(step, batches, **kwargs)


def test_per_epoch_rejects_bad_step_count():
    times = keras_training.StepTimes(eager=0.02, compiled=0.002, trace=0.5, steps=10)
    assert times.ratio == pytest.approx(10.0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        times.per_epoch(0)


# --------------------------------------------------------------------------- epoch lines


def test_epoch_logger_prints_one_line_per_epoch():
    keras.utils.set_random_seed(0)
    images, labels = fake_mnist(16)
    data = keras_training.mnist_dataset(images, labels, batch_size=8)
    model = small_model()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    stream = io.StringIO()
    logger = keras_training.EpochLogger(metrics=["loss", "val_accuracy"], stream=stream)
    model.fit(data, validation_data=data, epochs=3, shuffle=False, verbose=0, callbacks=[logger])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    for number, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch {number}/3  loss ")  # the PyTorch loops' line
        assert "val_accuracy" in line and line.endswith(" s")
        assert "accuracy " not in line.replace("val_accuracy ", "")  # only the metrics asked for
    assert len(logger.seconds) == 3 and all(seconds > 0 for seconds in logger.seconds)
    assert [line.split()[-2] for line in lines] == [f"{seconds:.1f}" for seconds in logger.seconds]


def test_epoch_logger_names_missing_metrics():
    logger = keras_training.EpochLogger(metrics=["val_loss"], stream=io.StringIO())
    logger.on_epoch_begin(0)
    with pytest.raises(KeyError, match="val_loss"):
        logger.on_epoch_end(0, {"loss": 0.5})


@pytest.mark.parametrize("kwargs, error", [({"metrics": ["loss", ""]}, ValueError), ({"stream": 42}, TypeError)])
def test_epoch_logger_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        keras_training.EpochLogger(**kwargs)
