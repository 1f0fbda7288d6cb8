"""Plumbing for the recurrent-network chapter.

The chapter writes its own recurrent loop; this module holds what would only distract
from it: moving one set of weights between the from-scratch form and ``torch.nn.RNN`` or
Keras's ``SimpleRNN``, and the measurement of gradient norms through time.  (The unit
tests check the weight copying against a from-scratch forward pass of their own.)

The from-scratch form of a single-layer tanh RNN is a dict of three NumPy arrays::

    {"W_xh": (hidden, inputs), "W_hh": (hidden, hidden), "b": (hidden,)}

with the update ``h_t = tanh(W_xh x_t + W_hh h_{t-1} + b)``.  PyTorch stores the same
matrices (as ``weight_ih_l0`` and ``weight_hh_l0``) but splits the bias in two
(``bias_ih_l0 + bias_hh_l0``); Keras stores the matrices transposed.
"""

from __future__ import annotations

import numpy as np


PARAM_NAMES = ("W_xh", "W_hh", "b")


# --------------------------------------------------------------------------- weights


def check_params(params) -> tuple[int, int]:
    """Validate a from-scratch parameter dict; return ``(n_inputs, n_hidden)``."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES}, got {type(params).__name__}")
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise KeyError(f"params is missing {missing}; expected the keys {PARAM_NAMES}")
    W_xh, W_hh, b = (np.asarray(params[name]) for name in PARAM_NAMES)
    if W_xh.ndim != 2:
        raise ValueError(f"W_xh must be a 2-D (hidden, inputs) matrix, got shape {W_xh.shape}")
    n_hidden, n_inputs = W_xh.shape
    if W_hh.shape != (n_hidden, n_hidden):
        raise ValueError(f"W_hh must have shape (hidden, hidden) = {(n_hidden, n_hidden)}, got {W_hh.shape}")
    if b.shape != (n_hidden,):
        raise ValueError(f"b must have shape (hidden,) = {(n_hidden,)}, got {b.shape}")
    for name, value in zip(PARAM_NAMES, (W_xh, W_hh, b)):
        if not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must hold finite floating-point numbers")
    return n_inputs, n_hidden


def _check_torch_rnn(rnn):
    import torch

    if not isinstance(rnn, torch.nn.RNN):
        raise TypeError(f"expected a torch.nn.RNN, got {type(rnn).__name__}")
    if rnn.num_layers != 1 or rnn.bidirectional or not rnn.bias or rnn.nonlinearity != "tanh":
        raise ValueError(
            "only a single-layer, one-directional tanh torch.nn.RNN with biases matches the "
            f"from-scratch cell; got num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}, "
            f"bias={rnn.bias}, nonlinearity={rnn.nonlinearity!r}"
        )
    if getattr(rnn, "proj_size", 0):
        raise ValueError("a torch.nn.RNN with proj_size does not match the from-scratch cell")


def copy_params_to_torch(params, rnn) -> None:
    """Load from-scratch weights into a ``torch.nn.RNN`` (in place).

    The whole bias goes into ``bias_ih_l0`` and ``bias_hh_l0`` is set to zero, so the
    sum PyTorch adds at every step equals ``b``.
    """
    import torch

    n_inputs, n_hidden = check_params(params)
    _check_torch_rnn(rnn)
    if (rnn.input_size, rnn.hidden_size) != (n_inputs, n_hidden):
        raise ValueError(
            f"the RNN has input_size={rnn.input_size}, hidden_size={rnn.hidden_size}, but the "
            f"weights are for {n_inputs} inputs and {n_hidden} hidden units"
        )
    with torch.no_grad():
        for target, source in (
            (rnn.weight_ih_l0, params["W_xh"]),
            (rnn.weight_hh_l0, params["W_hh"]),
            (rnn.bias_ih_l0, params["b"]),
        ):
            target.copy_(torch.as_tensor(np.asarray(source), dtype=target.dtype))
        rnn.bias_hh_l0.zero_()


def params_from_torch(rnn) -> dict[str, np.ndarray]:
    """The from-scratch weights equivalent to a ``torch.nn.RNN`` (its two biases summed)."""
    _check_torch_rnn(rnn)
    as_numpy = lambda t: t.detach().cpu().numpy().copy()  # noqa: E731
    return {
        "W_xh": as_numpy(rnn.weight_ih_l0),
        "W_hh": as_numpy(rnn.weight_hh_l0),
        "b": as_numpy(rnn.bias_ih_l0) + as_numpy(rnn.bias_hh_l0),
    }


def keras_weights(params) -> list[np.ndarray]:
    """The list ``keras.layers.SimpleRNN.set_weights`` expects: kernel, recurrent kernel, bias.

    Keras multiplies row vectors from the left (``x @ kernel``), so both matrices are the
    transposes of the from-scratch ones.
    """
    check_params(params)
    return [np.asarray(params["W_xh"]).T.copy(), np.asarray(params["W_hh"]).T.copy(), np.asarray(params["b"]).copy()]


# --------------------------------------------------------------------------- gradients through time


def gradient_norms_through_time(model, x, y) -> np.ndarray:
    """How strongly the loss reacts to the input at each time step.

    ``model`` maps a float tensor ``(batch, steps, features)`` to class scores
    ``(batch, classes)``; ``y`` holds the integer labels.  Returns, for each step ``t``,
    the mean over the batch of ``|| dL_i / dx_i,t ||``, where ``L_i`` is one sequence's
    cross-entropy loss.  The model's parameters are left untouched.
    """
    import torch

    if not callable(model):
        raise TypeError(f"model must be callable on a (batch, steps, features) tensor, got {type(model).__name__}")
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (batch, steps, features) with batch, steps >= 1, got {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be 1-D with one label per sequence ({len(x)}), got shape {tuple(y.shape)}")
    if y.dtype not in (torch.int64, torch.int32, torch.uint8):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    if params:
        x, y = x.to(params[0].device), y.to(params[0].device)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        scores = model(x)
        if scores.ndim != 2 or scores.shape[0] != len(x):
            raise ValueError(f"the model must return (batch, classes) scores, got shape {tuple(scores.shape)}")
        # Summing (not averaging) the losses makes x.grad[i] the gradient of sequence i's own loss.
        loss = torch.nn.functional.cross_entropy(scores, y.long(), reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return grad.norm(dim=2).mean(dim=0).detach().cpu().numpy()
