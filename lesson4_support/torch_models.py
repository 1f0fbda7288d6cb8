"""The lesson's dense layer and small networks in PyTorch (and only PyTorch).

:mod:`lesson4_support.keras_models` holds the same things written for Keras.  The two
modules exchange weights as plain NumPy arrays in one agreed layout, so either side can
load the other's numbers without importing the other framework:

* ``kernel`` has shape ``(n_inputs, n_outputs)``, so a layer computes ``x @ kernel + bias``
  (this is Keras's own layout);
* ``bias`` has shape ``(n_outputs,)``.

PyTorch stores the transpose: ``nn.Linear.weight`` has shape ``(n_outputs, n_inputs)`` and
computes ``x @ weight.T + bias``.  The helpers here do that transposition, in one place.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .checks import finite_float32

#: Hidden-layer activations by name, as PyTorch modules.
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class DenseLayer(nn.Module):
    """A fully connected layer written by hand: ``activation(x @ weight.T + bias)``.

    Several perceptrons that read the same input, with their weight vectors stacked as the
    rows of one ``(n_outputs, n_inputs)`` matrix, laid out like ``nn.Linear`` so the two
    can swap weights.  ``activation`` is a function of one tensor (``torch.sigmoid``,
    ``torch.relu``...) or ``None`` for the plain weighted sums.
    """

    def __init__(self, n_inputs: int, n_outputs: int, activation: Callable | None = torch.sigmoid):
        super().__init__()
        # Scaled so the weighted sums start with a spread near 1 whatever the input width.
        self.weight = nn.Parameter(torch.randn(n_outputs, n_inputs) / n_inputs**0.5)
        self.bias = nn.Parameter(torch.zeros(n_outputs))
        self.activation = activation

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.shape[-1] != self.weight.shape[1]:
            raise ValueError(
                f"DenseLayer expects inputs with {self.weight.shape[1]} features in the last dimension, "
                f"got shape {tuple(inputs.shape)}"
            )
        z = inputs @ self.weight.T + self.bias
        return z if self.activation is None else self.activation(z)


def make_mlp(n_inputs: int = 28 * 28, n_hidden: int = 100, n_outputs: int = 10, activation: str = "relu", *,
             seed: int | None = None) -> nn.Sequential:
    """``Flatten -> Linear(n_inputs, n_hidden) -> activation -> Linear(n_hidden, n_outputs)``.

    The defaults build the lesson's 784-100-10 MNIST network with a ReLU.  With ``seed``
    the weights are drawn from that seed on a forked random state, so the same seed gives
    the same network and the caller's random numbers stay as they were.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")

    def build():
        return nn.Sequential(nn.Flatten(), nn.Linear(n_inputs, n_hidden), ACTIVATIONS[activation](),
                             nn.Linear(n_hidden, n_outputs))

    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def dense_weights(layer) -> tuple[np.ndarray, np.ndarray]:
    """A layer's ``(kernel, bias)`` as float32 NumPy arrays, kernel shaped ``(n_inputs, n_outputs)``."""
    kernel = layer.weight.detach().cpu().numpy().T.astype(np.float32)
    bias = layer.bias.detach().cpu().numpy().astype(np.float32)
    return np.ascontiguousarray(kernel), bias


def set_dense_weights(layer, kernel, bias) -> None:
    """Load a ``(n_inputs, n_outputs)`` kernel and ``(n_outputs,)`` bias into an nn.Linear or DenseLayer.

    The shapes are checked because ``copy_`` would broadcast a wrong one (a single row, a
    single number) over the whole layer without a word.
    """
    kernel = finite_float32(kernel, "kernel")
    bias = finite_float32(bias, "bias")
    n_outputs, n_inputs = layer.weight.shape
    if kernel.shape != (n_inputs, n_outputs):
        raise ValueError(
            f"kernel must have shape (n_inputs, n_outputs) = {(n_inputs, n_outputs)} for this layer, "
            f"got {kernel.shape}"
        )
    if bias.shape != (n_outputs,):
        raise ValueError(f"bias must have shape {(n_outputs,)} for this layer, got {bias.shape}")
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(kernel.T.copy()))
        layer.bias.copy_(torch.from_numpy(bias))


def dense_layers(model: nn.Module) -> list[nn.Module]:
    """The nn.Linear and DenseLayer modules of a model, in the order they were registered."""
    return [m for m in model.modules() if isinstance(m, (nn.Linear, DenseLayer))]


def model_weights(model: nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(kernel, bias)`` for every dense layer of ``model``, in order."""
    return [dense_weights(layer) for layer in dense_layers(model)]


def set_model_weights(model: nn.Module, weights: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
    """Load one ``(kernel, bias)`` pair into each dense layer of ``model``, in order."""
    layers = dense_layers(model)
    weights = list(weights)
    if len(weights) != len(layers):  # zip would quietly skip the extra layers or pairs
        raise ValueError(f"the model has {len(layers)} dense layers but {len(weights)} (kernel, bias) pairs were given")
    for layer, (kernel, bias) in zip(layers, weights, strict=True):
        set_dense_weights(layer, kernel, bias)
