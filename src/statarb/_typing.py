"""Shared type aliases."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

Float64Array: TypeAlias = npt.NDArray[np.float64]
Int64Array: TypeAlias = npt.NDArray[np.int64]
Int8Array: TypeAlias = npt.NDArray[np.int8]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ArrayLike: TypeAlias = npt.ArrayLike

HedgeMethod: TypeAlias = Literal["ols", "huber", "theil-sen", "kalman"]
PriceTransform: TypeAlias = Literal["price", "log"]
EmptyBars: TypeAlias = Literal["omit", "carry"]

__all__ = [
    "ArrayLike",
    "BoolArray",
    "EmptyBars",
    "Float64Array",
    "HedgeMethod",
    "Int8Array",
    "Int64Array",
    "PriceTransform",
]
