"""Keras weight regularizers: ``L2(0.01)(kernel)`` is a scalar penalty added to the loss.

>>> import neuroflow as tf
>>> float(L2(0.5)(tf.constant([1.0, -2.0])))
2.5
"""

from __future__ import annotations

import math
from typing import Any

from neuroflow.keras.utils.naming import get_by_name, to_snake_case
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor


def _factor(value: Any, name: str) -> float:
    if not isinstance(value, (float, int)) or math.isinf(value) or math.isnan(value) \
            or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar tensor``."""

    def __call__(self, x) -> Tensor:
        return ew.cast(as_tensor(0.0), as_tensor(x).dtype)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()}>"


class L1(Regularizer):
    """``l1 * sum(abs(x))``."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _factor(l1, "l1")

    def __call__(self, x) -> Tensor:
        return red.reduce_sum(ew.abs(as_tensor(x))) * self.l1

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(square(x))``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _factor(l2, "l2")

    def __call__(self, x) -> Tensor:
        return red.reduce_sum(ew.square(as_tensor(x))) * self.l2

    def get_config(self) -> dict:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(abs(x)) + l2 * sum(square(x))``; both factors default to 0.0."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor(l1, "l1")
        self.l2 = _factor(l2, "l2")

    def __call__(self, x) -> Tensor:
        x = as_tensor(x)
        penalty = ew.cast(as_tensor(0.0), x.dtype)
        if self.l1:
            penalty = penalty + red.reduce_sum(ew.abs(x)) * self.l1
        if self.l2:
            penalty = penalty + red.reduce_sum(ew.square(x)) * self.l2
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An ``L1L2`` with both factors 0.01 by default (Keras 2's helper)."""
    return L1L2(l1=l1, l2=l2)


l1, l2 = L1, L2

_CLASSES = (Regularizer, L1, L2, L1L2)
_BY_NAME: dict[str, Any] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
# The string 'l1_l2' means 0.01 for both factors, as the Keras docs describe.
_BY_NAME["l1_l2"] = l1_l2


def get(identifier: Any):
    """The regularizer for ``identifier``: a name (``"l2"``), config, instance, or callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return get_by_name("regularizer", identifier, _BY_NAME)()
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}. Expected "
                     f"a name such as 'l2', a Regularizer, a callable or a config dict.")


def serialize(regularizer: Regularizer) -> dict:
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict) -> Regularizer:
    cls = get_by_name("regularizer", config["class_name"], _BY_NAME)
    return cls.from_config(dict(config.get("config") or {}))
