"""Input checks shared by the analytics functions (raise :class:`~statarb.errors.InputError`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from statarb._typing import Float64Array
from statarb.errors import InputError


def as_float_array(x: Any, name: str) -> Float64Array:
    """Coerce a list, numpy array or pandas Series to a contiguous 1-D float64 array."""
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    try:
        arr = np.ascontiguousarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric, got {type(x).__name__}: {exc}") from exc
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_finite(x: Float64Array, name: str) -> None:
    """Refuse NaN or infinite values, naming the first bad index."""
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{name} has a non-finite value {x[i]!r} at index {i}; drop or fill it")


def check_same_length(**arrays: Float64Array) -> int:
    """All arrays must have the same length; return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"inputs must have the same length, got {lengths}")
    return next(iter(lengths.values()))


def check_min_length(x: Float64Array, n: int, name: str, why: str = "") -> None:
    """At least ``n`` observations."""
    if len(x) < n:
        reason = f" ({why})" if why else ""
        raise InputError(f"{name} needs at least {n} observations{reason}, got {len(x)}")


def check_window(window: int, n: int, name: str = "window") -> int:
    """A window is an integer of at least 2 and at most ``n``."""
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise InputError(f"{name} must be an integer, got {window!r}")
    if window < 2:
        raise InputError(f"{name} must be at least 2, got {window}")
    if window > n:
        raise InputError(f"{name}={window} is longer than the data ({n} observations)")
    return int(window)


def check_not_constant(x: Float64Array, name: str) -> None:
    """A regressor must vary."""
    if len(x) and np.ptp(x) == 0:
        raise InputError(f"{name} is constant ({x[0]!r}); a hedge ratio needs a moving regressor")


def pair_arrays(
    y: Any, x: Any, *, min_length: int = 3, transform: str = "price"
) -> tuple[Float64Array, Float64Array]:
    """Validate a pair of price series (and take logs when ``transform='log'``)."""
    ya, xa = as_float_array(y, "y"), as_float_array(x, "x")
    check_same_length(y=ya, x=xa)
    check_finite(ya, "y")
    check_finite(xa, "x")
    check_min_length(ya, min_length, "y")
    if transform == "log":
        if (ya <= 0).any() or (xa <= 0).any():
            raise InputError("transform='log' needs strictly positive prices")
        ya, xa = np.log(ya), np.log(xa)
    elif transform != "price":
        raise InputError(f"transform must be 'price' or 'log', got {transform!r}")
    return ya, xa


__all__ = [
    "as_float_array",
    "check_finite",
    "check_min_length",
    "check_not_constant",
    "check_same_length",
    "check_window",
    "pair_arrays",
]
