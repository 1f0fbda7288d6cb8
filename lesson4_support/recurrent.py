"""Plumbing for the recurrent-network page.

The page writes its own recurrent loop and copies its weights into ``torch.nn.RNN`` and
Keras's ``SimpleRNN`` in a few visible lines; this module holds what would only distract
from it: the measurement of gradient norms through time.
"""

from __future__ import annotations

import numpy as np


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
