"""``keras.backend``: the few global helpers Keras users still call."""

from __future__ import annotations

from neuroflow.keras.layers.base import clear_session as _clear_names

_EPSILON = 1e-7


def epsilon() -> float:
    """The fuzz factor of probabilistic losses (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Change the fuzz factor returned by ``epsilon()``."""
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    """The default float type of layer weights and inputs."""
    return "float32"


def set_floatx(value: str) -> None:
    if value != "float32":
        raise ValueError(f"neuroflow layers compute in float32 only; received {value!r}. "
                         f"Leave floatx at 'float32'; inputs of other dtypes are cast to it.")


def image_data_format() -> str:
    """Images are (batch, height, width, channels), as Keras's default."""
    return "channels_last"


def clear_session() -> None:
    """Forget automatic layer names, so the next Dense is ``dense`` again."""
    _clear_names()


__all__ = ["clear_session", "epsilon", "floatx", "image_data_format", "set_epsilon",
           "set_floatx"]
