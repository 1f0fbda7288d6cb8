"""Tests for lesson4_support.recurrent: gradient norms through time."""

import numpy as np
import pytest
import torch

from lesson4_support import recurrent


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
    for old, new in zip(before, model.parameters(), strict=True):  # weights and their .grad untouched
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
