"""The one argument check the support package shares: counts and sizes must be integers."""

from __future__ import annotations

import numpy as np


def check_int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as a Python ``int``, or an error that names ``name``, the range and the value.

    A non-integer (``2.5``, ``"3"``, ``True``) raises ``TypeError``; an integer below
    ``minimum`` or above ``maximum`` raises ``ValueError``.
    """
    if maximum is not None:
        wanted = f"an integer from {minimum} to {maximum}"
    else:
        wanted = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be {wanted}, got {type(value).__name__}: {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(value)
