"""The argument checks the support package shares: counts and sizes are integers, weights are finite."""

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


def finite_float32(values, name: str) -> np.ndarray:
    """``values`` as a float32 array, or a ``ValueError`` if any is NaN, infinite or beyond float32.

    Casting to float32 turns a value above about 3.4e38 into ``inf`` without a word, and a
    NaN weight makes every output NaN; either is a mistake to report, not to load.
    """
    wide = np.asarray(values, dtype=np.float64)
    limit = np.finfo(np.float32).max
    bad = ~np.isfinite(wide) | (np.abs(wide) > limit)
    if bad.any():
        raise ValueError(f"{name} holds {int(bad.sum())} value(s) that are NaN, infinite or beyond float32's range "
                         f"(about {limit:.1e}), such as {float(wide[bad].flat[0])!r}")
    return wide.astype(np.float32)
