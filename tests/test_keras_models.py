"""The hand-written Keras dense layer and MLP, and their parity with the PyTorch versions."""

import numpy as np
import pytest
import torch

# conftest.py has already run runtime.quiet_frameworks() and runtime.import_torchvision_first()
import keras

from lesson4_support import keras_models, torch_models

SEEDS = [0, 1, 2, 3, 4]
FLOAT32_TOL = 1e-5  # float32 carries about 7 significant digits


@pytest.mark.parametrize("seed", SEEDS)
def test_keras_dense_layer_matches_numpy_and_infers_input_width(seed, random_shapes):
    rng, n_in, n_out, batch = random_shapes(100 + seed)
    layer = keras_models.DenseLayer(n_out)
    assert not layer.built
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    out = np.asarray(layer(x))
    assert layer.built and tuple(layer.kernel.shape) == (n_in, n_out)
    kernel, bias = keras_models.dense_weights(layer)
    expected = 1 / (1 + np.exp(-(x.astype(np.float64) @ kernel + bias)))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)


def test_keras_layer_keeps_the_reserved_weights_attribute():
    layer = keras_models.DenseLayer(3)
    layer(np.zeros((2, 4), dtype=np.float32))
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]
    assert len(layer.trainable_weights) == 2


@pytest.mark.parametrize("seed", SEEDS)
def test_hand_written_layers_agree_across_frameworks(seed, random_shapes):
    rng, n_in, n_out, batch = random_shapes(100 + seed)
    torch.manual_seed(seed)
    t_layer = torch_models.DenseLayer(n_in, n_out)
    k_layer = keras_models.DenseLayer(n_out)
    kernel, bias = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    torch_models.set_dense_weights(t_layer, kernel, bias)
    keras_models.set_dense_weights(k_layer, *torch_models.dense_weights(t_layer))
    np.testing.assert_array_equal(keras_models.dense_weights(k_layer)[0], kernel.astype(np.float32))
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    t_out = t_layer(torch.from_numpy(x)).detach().numpy()
    k_out = np.asarray(k_layer(x))
    assert t_out.shape == k_out.shape == (batch, n_out)
    np.testing.assert_allclose(k_out, t_out, rtol=0, atol=FLOAT32_TOL)


@pytest.mark.parametrize(("seed", "activation"), zip(SEEDS, ["relu", "tanh", "sigmoid", "relu", "tanh"], strict=True))
def test_two_layer_sequential_models_agree_across_frameworks(seed, activation, random_shapes):
    rng, n_in, n_out, batch = random_shapes(100 + seed)
    n_hidden = int(rng.integers(1, 33))
    torch.manual_seed(seed)
    t_model = torch_models.make_mlp(n_in, n_hidden, n_out, activation)
    k_model = keras_models.make_mlp(n_hidden, n_out, activation)  # not built: no input width yet
    keras_models.set_model_weights(k_model, torch_models.model_weights(t_model))
    x = (3 * rng.normal(size=(batch, n_in))).astype(np.float32)
    t_out = t_model(torch.from_numpy(x)).detach().numpy()
    k_out = np.asarray(k_model(x))
    np.testing.assert_allclose(k_out, t_out, rtol=0, atol=FLOAT32_TOL * max(1.0, np.abs(t_out).max()))
    # and back again: Keras weights into a fresh PyTorch model
    t_again = torch_models.make_mlp(n_in, n_hidden, n_out, activation)
    torch_models.set_model_weights(t_again, keras_models.model_weights(k_model))
    assert torch.equal(t_again(torch.from_numpy(x)), t_model(torch.from_numpy(x)))


def test_a_wrong_weight_breaks_parity():
    """The parity check can fail: change one weight and the outputs differ."""
    torch.manual_seed(0)
    t_model = torch_models.make_mlp(3, 5, 2)
    k_model = keras_models.make_mlp(5, 2, n_inputs=3)
    weights = torch_models.model_weights(t_model)
    weights[1][1][0] += 0.5  # the first output's bias
    keras_models.set_model_weights(k_model, weights)
    x = np.ones((4, 3), dtype=np.float32)
    assert np.abs(np.asarray(k_model(x)) - t_model(torch.from_numpy(x)).detach().numpy()).max() > 1e-3


def test_make_mlp_with_input_width_is_built():
    model = keras_models.make_mlp(4, 2, "tanh", n_inputs=6)
    assert model.built
    assert [k.shape for k, _ in keras_models.model_weights(model)] == [(6, 4), (4, 2)]


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        keras_models.make_mlp(3, 2, "swish")
    layer = keras.layers.Dense(2)
    with pytest.raises(ValueError, match=r"kernel must have shape \(n_inputs, n_outputs\) = \(3, 2\)"):
        layer.build((None, 3))
        keras_models.set_dense_weights(layer, np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        keras_models.set_dense_weights(layer, np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="has 2 dense layers but 1"):
        keras_models.set_model_weights(keras_models.make_mlp(4, 2, n_inputs=3), [(np.zeros((3, 4)), np.zeros(4))])


@pytest.mark.parametrize("where", ["kernel", "bias"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e40])
def test_weights_that_are_not_finite_float32_numbers_are_refused(where, bad):
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    kernel, bias = np.ones((3, 2)), np.ones(2)
    (kernel if where == "kernel" else bias).flat[0] = bad
    with pytest.raises(ValueError, match=f"{where} holds 1 value\\(s\\) that are NaN, infinite or beyond float32"):
        keras_models.set_dense_weights(layer, kernel, bias)
    assert np.isfinite(layer.kernel.numpy()).all() and np.isfinite(layer.bias.numpy()).all()
