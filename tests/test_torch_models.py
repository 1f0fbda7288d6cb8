"""The hand-written PyTorch dense layer, the small MLP and the weight-exchange helpers."""

import numpy as np
import pytest
import torch
from torch import nn

from lesson4_support import torch_models

SEEDS = [0, 1, 2, 3]


@pytest.mark.parametrize("seed", SEEDS)
def test_dense_layer_matches_numpy(seed, random_shapes):
    rng, n_in, n_out, batch = random_shapes(seed)
    torch.manual_seed(seed)
    layer = torch_models.DenseLayer(n_in, n_out)
    kernel, bias = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    torch_models.set_dense_weights(layer, kernel, bias)
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    expected = 1 / (1 + np.exp(-(x.astype(np.float64) @ kernel.astype(np.float32) + bias.astype(np.float32))))
    got = layer(torch.from_numpy(x)).detach().numpy()
    assert got.shape == (batch, n_out)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_dense_layer_without_activation_equals_nn_linear(seed, random_shapes):
    rng, n_in, n_out, batch = random_shapes(seed)
    torch.manual_seed(seed)
    mine, builtin = torch_models.DenseLayer(n_in, n_out, activation=None), nn.Linear(n_in, n_out)
    torch_models.set_dense_weights(mine, *torch_models.dense_weights(builtin))
    x = torch.from_numpy(rng.normal(size=(batch, n_in)).astype(np.float32))
    np.testing.assert_allclose(mine(x).detach().numpy(), builtin(x).detach().numpy(), rtol=0, atol=1e-6)


def test_dense_layer_parameters_are_trainable_and_laid_out_like_nn_linear():
    layer = torch_models.DenseLayer(4, 3)
    names = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    assert names == {"weight": (3, 4), "bias": (3,)}
    layer(torch.randn(5, 4)).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_weights_round_trip_and_kernel_is_transposed():
    layer = nn.Linear(3, 2)
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    bias = np.array([0.5, -0.5], dtype=np.float32)
    torch_models.set_dense_weights(layer, kernel, bias)
    assert torch.equal(layer.weight.detach(), torch.from_numpy(kernel.T.copy()))
    got_kernel, got_bias = torch_models.dense_weights(layer)
    assert got_kernel.shape == (3, 2) and got_kernel.dtype == np.float32
    np.testing.assert_array_equal(got_kernel, kernel)
    np.testing.assert_array_equal(got_bias, bias)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_make_mlp_structure_and_model_weights(activation):
    torch.manual_seed(0)
    model = torch_models.make_mlp(5, 7, 3, activation)
    assert isinstance(model[2], torch_models.ACTIVATIONS[activation])
    shapes = [(k.shape, b.shape) for k, b in torch_models.model_weights(model)]
    assert shapes == [((5, 7), (7,)), ((7, 3), (3,))]
    other = torch_models.make_mlp(5, 7, 3, activation)
    torch_models.set_model_weights(other, torch_models.model_weights(model))
    x = torch.randn(4, 5)
    assert torch.equal(model(x), other(x))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="expects inputs with 2 features"):
        torch_models.DenseLayer(2, 3)(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        torch_models.make_mlp(2, 3, 2, "gelu")
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"kernel must have shape \(n_inputs, n_outputs\) = \(3, 2\)"):
        torch_models.set_dense_weights(layer, np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        torch_models.set_dense_weights(layer, np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="has 2 dense layers but 1"):
        torch_models.set_model_weights(torch_models.make_mlp(3, 4, 2), [(np.zeros((3, 4)), np.zeros(4))])


def test_the_default_mlp_is_the_lessons_mnist_network():
    model = torch_models.make_mlp(seed=0)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)  # images are flattened first
    assert sum(p.numel() for p in model.parameters()) == 784 * 100 + 100 + 100 * 10 + 10


def test_a_seeded_mlp_repeats_and_leaves_the_callers_random_state_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first, second, other = (torch_models.make_mlp(seed=s) for s in (1, 1, 2))
    assert torch.equal(torch.rand(3), expected_next)
    assert torch.equal(first[1].weight, second[1].weight)
    assert not torch.equal(first[1].weight, other[1].weight)


@pytest.mark.parametrize("where", ["kernel", "bias"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e40])
def test_weights_that_are_not_finite_float32_numbers_are_refused(where, bad):
    layer = nn.Linear(3, 2)
    before = [p.detach().clone() for p in layer.parameters()]
    kernel, bias = np.ones((3, 2)), np.ones(2)
    (kernel if where == "kernel" else bias).flat[0] = bad
    with pytest.raises(ValueError, match=f"{where} holds 1 value\\(s\\) that are NaN, infinite or beyond float32"):
        torch_models.set_dense_weights(layer, kernel, bias)
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters(), strict=True)), "nothing may be loaded"
