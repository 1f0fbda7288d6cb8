"""The reference hand-written gradients against PyTorch autograd, and the graph diagram."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lesson4_support import backprop


def random_network(seed):
    rng = np.random.default_rng(seed)
    n, n_in, n_hidden, n_out = (int(v) for v in rng.integers(1, 9, size=4))
    return (rng.normal(size=(n, n_in)), rng.integers(0, 2, size=(n, n_out)).astype(float),
            rng.normal(size=(n_in, n_hidden)), rng.normal(size=n_hidden),
            rng.normal(size=(n_hidden, n_out)), rng.normal(size=n_out))


def autograd(x, y, W1, b1, W2, b2):
    params = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for name, v in zip(backprop.PARAMETERS, (W1, b1, W2, b2), strict=True)}
    hidden = torch.sigmoid(torch.from_numpy(x) @ params["W1"] + params["b1"])
    logits = hidden @ params["W2"] + params["b2"]
    loss = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(y))
    loss.backward()
    return loss.item(), {name: p.grad.numpy() for name, p in params.items()}


def assert_gradients_match(grads, expected):
    assert set(grads) == set(backprop.PARAMETERS)
    for name in backprop.PARAMETERS:
        assert grads[name].shape == expected[name].shape
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", range(8))
def test_hand_gradients_match_torch_autograd(seed):
    network = random_network(seed)
    loss, grads = backprop.two_layer_gradients(*network)
    expected_loss, expected = autograd(*network)
    assert loss == pytest.approx(expected_loss, rel=1e-9, abs=1e-9)
    assert_gradients_match(grads, expected)


@pytest.mark.parametrize("name", backprop.PARAMETERS)
def test_a_one_percent_error_in_any_gradient_is_caught(name):
    network = random_network(3)
    _, grads = backprop.two_layer_gradients(*network)
    _, expected = autograd(*network)
    assert np.abs(expected[name]).max() > 1e-3, "the example needs a non-zero gradient"
    wrong = dict(grads, **{name: grads[name] * 1.01})
    with pytest.raises(AssertionError, match=name):
        assert_gradients_match(wrong, expected)


def test_gradients_point_downhill():
    x, y, W1, b1, W2, b2 = random_network(5)
    loss, grads = backprop.two_layer_gradients(x, y, W1, b1, W2, b2)
    step = 1e-3
    new_loss, _ = backprop.two_layer_gradients(x, y, W1 - step * grads["W1"], b1 - step * grads["b1"],
                                               W2 - step * grads["W2"], b2 - step * grads["b2"])
    assert new_loss < loss


def test_bad_shapes_raise_clear_errors():
    x, y, W1, b1, W2, b2 = random_network(1)
    with pytest.raises(ValueError, match="x must be a 2-D array"):
        backprop.two_layer_gradients(x[0], y, W1, b1, W2, b2)
    with pytest.raises(ValueError, match="W1 must have one row per input feature"):
        backprop.two_layer_gradients(x, y, np.vstack([W1, W1]), b1, W2, b2)
    with pytest.raises(ValueError, match="b1 must have shape"):
        backprop.two_layer_gradients(x, y, W1, np.append(b1, 0.0), W2, b2)
    with pytest.raises(ValueError, match="W2 must have one row per hidden unit"):
        backprop.two_layer_gradients(x, y, W1, b1, np.vstack([W2, W2]), b2)
    with pytest.raises(ValueError, match="y must have shape"):
        backprop.two_layer_gradients(x, np.vstack([y, y]), W1, b1, W2, b2)
    with pytest.raises(ValueError, match="targets between 0 and 1"):
        backprop.two_layer_gradients(x, y + 2, W1, b1, W2, b2)
