"""``keras.backend``: the few global helpers Keras users still call."""

from __future__ import annotations

from neuroflow.keras.layers.base import clear_session as _clear_names

_EPSILON = 1e-7


def epsilon() -> float:
    """The fuzz factor of probabilistic losses (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    return "float32"


def clear_session() -> None:
    """Forget automatic layer names, so the next Dense is ``dense`` again."""
    _clear_names()
