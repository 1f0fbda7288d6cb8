"""The lesson's dense layer and small networks in Keras (and only Keras/TensorFlow).

:mod:`lesson4_support.torch_models` holds the same things written for PyTorch.  The two
modules exchange weights as plain NumPy arrays: ``kernel`` shaped ``(n_inputs, n_outputs)``
(Keras's own layout, ``x @ kernel + bias``) and ``bias`` shaped ``(n_outputs,)``.

Importing this module imports TensorFlow through
:func:`lesson4_support.runtime.import_tensorflow` (quietly, and in an order that is safe
for torchvision), then Keras.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from . import runtime
from .checks import finite_float32

runtime.import_tensorflow()  # quietly, and after torchvision

import keras  # noqa: E402  (must come after TensorFlow)

#: Hidden-layer activations accepted by :func:`make_mlp` (Keras's own names).
ACTIVATIONS = ("relu", "sigmoid", "tanh")


class DenseLayer(keras.layers.Layer):
    """A fully connected layer written by hand: ``activation(x @ kernel + bias)``.

    Unlike the PyTorch version it needs no input width: Keras calls :meth:`build` with the
    shape of the first input it sees and the kernel is created then.  The weights are
    named ``kernel`` and ``bias``; ``self.weights`` is Keras's own list of every variable
    of the layer and must not be assigned.
    """

    def __init__(self, units: int, activation: Callable | None = keras.ops.sigmoid, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        z = keras.ops.matmul(inputs, self.kernel) + self.bias
        return z if self.activation is None else self.activation(z)


def make_mlp(n_hidden: int, n_outputs: int, activation: str = "relu", n_inputs: int | None = None) -> keras.Sequential:
    """``Dense(n_hidden, activation) -> Dense(n_outputs)``, returning scores.

    With ``n_inputs`` the model is built at once; without it Keras builds it on the first
    batch, taking the input width from the data.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    layers = [] if n_inputs is None else [keras.Input(shape=(n_inputs,))]
    layers += [keras.layers.Dense(n_hidden, activation=activation), keras.layers.Dense(n_outputs)]
    return keras.Sequential(layers)


def dense_weights(layer) -> tuple[np.ndarray, np.ndarray]:
    """A built layer's ``(kernel, bias)`` as float32 NumPy arrays, kernel shaped ``(n_inputs, n_outputs)``."""
    return (np.asarray(layer.kernel.numpy(), dtype=np.float32),
            np.asarray(layer.bias.numpy(), dtype=np.float32))


def set_dense_weights(layer, kernel, bias) -> None:
    """Load a ``(n_inputs, n_outputs)`` kernel and ``(n_outputs,)`` bias into a Dense or DenseLayer.

    A layer that has not seen data yet is built for ``kernel``'s input width first.
    """
    kernel = finite_float32(kernel, "kernel")
    bias = finite_float32(bias, "bias")
    if not layer.built:
        layer.build((None, kernel.shape[0]))
    expected = tuple(layer.kernel.shape)
    if kernel.shape != expected:
        raise ValueError(f"kernel must have shape (n_inputs, n_outputs) = {expected} for this layer, got {kernel.shape}")
    if bias.shape != (expected[1],):
        raise ValueError(f"bias must have shape {(expected[1],)} for this layer, got {bias.shape}")
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)


def dense_layers(model) -> list:
    """The Dense and DenseLayer layers of a Keras model, in order."""
    return [layer for layer in model.layers if isinstance(layer, (keras.layers.Dense, DenseLayer))]


def model_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(kernel, bias)`` for every dense layer of a built ``model``, in order."""
    return [dense_weights(layer) for layer in dense_layers(model)]


def set_model_weights(model, weights: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
    """Load one ``(kernel, bias)`` pair into each dense layer of ``model``, in order.

    A model that has not seen data yet is built for the first kernel's input width.
    """
    layers = dense_layers(model)
    weights = list(weights)
    if len(weights) != len(layers):  # zip would quietly skip the extra layers or pairs
        raise ValueError(f"the model has {len(layers)} dense layers but {len(weights)} (kernel, bias) pairs were given")
    if not model.built:
        model.build((None, np.shape(weights[0][0])[0]))
    for layer, (kernel, bias) in zip(layers, weights, strict=True):
        set_dense_weights(layer, kernel, bias)
