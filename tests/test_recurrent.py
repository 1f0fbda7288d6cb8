"""Tests for lesson4_support.recurrent: weight copying (checked through a reference RNN), gradients, the diagram."""

import numpy as np
import pytest
import torch

from lesson4_support import recurrent


def random_params(n_inputs, n_hidden, seed, scale=0.5):
    rng = np.random.default_rng(seed)
    return {
        "W_xh": rng.normal(scale=scale, size=(n_hidden, n_inputs)).astype(np.float32),
        "W_hh": rng.normal(scale=scale, size=(n_hidden, n_hidden)).astype(np.float32),
        "b": rng.normal(scale=scale, size=n_hidden).astype(np.float32),
    }


def reference_rnn_forward(x, params, h0=None):
    """A from-scratch tanh RNN in float64: every hidden state ``(batch, steps, hidden)`` and the last.

    The weights are in the from-scratch layout of ``recurrent.PARAM_NAMES``; running the
    same weights through ``torch.nn.RNN`` and Keras checks the package's weight copying.
    """
    W_xh, W_hh, b = (np.asarray(params[name], dtype=np.float64) for name in recurrent.PARAM_NAMES)
    h = np.zeros((x.shape[0], len(b))) if h0 is None else np.asarray(h0, dtype=np.float64)
    states = np.empty((x.shape[0], x.shape[1], len(b)))
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t].astype(np.float64) @ W_xh.T + h @ W_hh.T + b)
        states[:, t] = h
    return states, h


# --------------------------------------------------------------------------- equivalence with the libraries


@pytest.mark.parametrize("seed", range(6))
def test_reference_rnn_forward_matches_torch_rnn_on_random_shapes(seed):
    rng = np.random.default_rng(100 + seed)
    batch, steps, n_inputs, n_hidden = (int(v) for v in rng.integers(1, 9, size=4))
    params = random_params(n_inputs, n_hidden, seed)
    x = rng.normal(size=(batch, steps, n_inputs)).astype(np.float32)
    h0 = rng.normal(scale=0.3, size=(batch, n_hidden)).astype(np.float32)

    rnn = torch.nn.RNN(n_inputs, n_hidden, batch_first=True)
    recurrent.copy_params_to_torch(params, rnn)
    with torch.no_grad():
        out, h_last = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    states, last = reference_rnn_forward(x, params, h0)

    assert states.shape == (batch, steps, n_hidden)
    np.testing.assert_allclose(out.numpy(), states, atol=2e-5)
    np.testing.assert_allclose(h_last[0].numpy(), last, atol=2e-5)
    np.testing.assert_array_equal(states[:, -1], last)


def test_reference_rnn_forward_is_a_real_recurrence():
    params = random_params(3, 4, seed=1)
    x = np.random.default_rng(2).normal(size=(2, 5, 3))
    states, _ = reference_rnn_forward(x, params)
    # Changing only the first step must change every later state: the state carries memory.
    x2 = x.copy()
    x2[:, 0] += 1.0
    states2, _ = reference_rnn_forward(x2, params)
    assert np.all(np.abs(states2 - states).max(axis=(0, 2)) > 1e-6)
    # Without a starting state the first step is tanh(W_xh x_1 + b).
    first = np.tanh(x[:, 0] @ params["W_xh"].T.astype(np.float64) + params["b"])
    np.testing.assert_allclose(states[:, 0], first, atol=1e-6)


def test_params_round_trip_through_torch_and_sum_the_biases():
    params = random_params(5, 7, seed=3)
    rnn = torch.nn.RNN(5, 7)
    recurrent.copy_params_to_torch(params, rnn)
    assert torch.count_nonzero(rnn.bias_hh_l0) == 0
    back = recurrent.params_from_torch(rnn)
    for name in recurrent.PARAM_NAMES:
        np.testing.assert_array_equal(back[name], params[name])

    fresh = torch.nn.RNN(2, 3)
    read = recurrent.params_from_torch(fresh)
    expected = (fresh.bias_ih_l0 + fresh.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(read["b"], expected, rtol=0, atol=1e-7)


def test_keras_weights_are_transposed_and_match_a_row_vector_step():
    params = random_params(4, 3, seed=4)
    kernel, recurrent_kernel, bias = recurrent.keras_weights(params)
    assert kernel.shape == (4, 3) and recurrent_kernel.shape == (3, 3) and bias.shape == (3,)
    x = np.random.default_rng(5).normal(size=(2, 1, 4))
    h_keras_style = np.tanh(x[:, 0] @ kernel + bias)  # Keras's first step, zero initial state
    _, last = reference_rnn_forward(x, params)
    np.testing.assert_allclose(h_keras_style, last, atol=1e-6)
    kernel[0, 0] += 1.0  # a copy, not a view of the caller's weights
    assert params["W_xh"][0, 0] != kernel[0, 0]


# --------------------------------------------------------------------------- bad inputs


def test_bad_params_are_rejected():
    good = random_params(3, 4, seed=0)
    with pytest.raises(TypeError, match="dict"):
        recurrent.check_params([1, 2, 3])
    with pytest.raises(KeyError, match="W_hh"):
        recurrent.check_params({"W_xh": good["W_xh"], "b": good["b"]})
    with pytest.raises(ValueError, match="W_hh must have shape"):
        recurrent.check_params({**good, "W_hh": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="b must have shape"):
        recurrent.check_params({**good, "b": np.zeros(3)})
    with pytest.raises(ValueError, match="W_xh must be a 2-D"):
        recurrent.check_params({**good, "W_xh": np.zeros(4)})
    with pytest.raises(ValueError, match="finite"):
        recurrent.check_params({**good, "b": np.full(4, np.nan)})
    assert recurrent.check_params(good) == (3, 4)


def test_incompatible_torch_layers_are_rejected():
    params = random_params(3, 4, seed=0)
    with pytest.raises(ValueError, match="hidden_size=5"):
        recurrent.copy_params_to_torch(params, torch.nn.RNN(3, 5))
    with pytest.raises(ValueError, match="num_layers=2"):
        recurrent.copy_params_to_torch(params, torch.nn.RNN(3, 4, num_layers=2))
    with pytest.raises(ValueError, match="relu"):
        recurrent.copy_params_to_torch(params, torch.nn.RNN(3, 4, nonlinearity="relu"))
    with pytest.raises(TypeError, match="torch.nn.RNN"):
        recurrent.params_from_torch(torch.nn.GRU(3, 4))


# --------------------------------------------------------------------------- gradients through time


class LastState(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.head = torch.nn.Linear(layer.hidden_size, 3)

    def forward(self, x):
        states, _ = self.layer(x)
        return self.head(states[:, -1])


def test_gradient_norms_match_autograd_per_sequence():
    torch.manual_seed(0)
    model = LastState(torch.nn.RNN(2, 5, batch_first=True))
    x = torch.randn(4, 6, 2)
    y = torch.tensor([0, 1, 2, 1])
    before = [p.detach().clone() for p in model.parameters()]
    norms = recurrent.gradient_norms_through_time(model, x, y)
    assert norms.shape == (6,)
    for old, new in zip(before, model.parameters()):  # weights and their .grad untouched
        assert torch.equal(old, new) and new.grad is None

    expected = np.zeros(6)
    for i in range(4):  # one sequence at a time, by hand
        xi = x[i : i + 1].clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(model(xi), y[i : i + 1]).backward()
        expected += xi.grad[0].norm(dim=1).numpy() / 4
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


def test_plain_rnn_gradients_vanish_towards_early_steps():
    torch.manual_seed(1)
    model = LastState(torch.nn.RNN(3, 16, batch_first=True))
    norms = recurrent.gradient_norms_through_time(model, torch.randn(32, 30, 3), torch.randint(0, 3, (32,)))
    assert norms[0] < 1e-3 * norms[-1]


def test_gradient_norms_reject_bad_inputs():
    model = LastState(torch.nn.RNN(2, 3, batch_first=True))
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        recurrent.gradient_norms_through_time(model, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="one label per sequence"):
        recurrent.gradient_norms_through_time(model, torch.zeros(4, 3, 2), torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="floating-point"):
        recurrent.gradient_norms_through_time(model, torch.zeros(4, 3, 2, dtype=torch.long), torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="integer class labels"):
        recurrent.gradient_norms_through_time(model, torch.zeros(4, 3, 2), torch.zeros(4))
    with pytest.raises(TypeError, match="callable"):
        recurrent.gradient_norms_through_time("model", torch.zeros(4, 3, 2), torch.zeros(4, dtype=torch.long))
