"""Keras activation functions (``keras.activations``), built from neuroflow ops.

``softmax`` and ``sigmoid`` remember the logits they were applied to (Keras keeps
them on ``output._keras_logits``). The cross-entropy losses look them up and
compute from the logits, so a ``Dense(10, activation="softmax")`` model trained
with a probability loss gets the stable logits formula, exactly as in Keras 3.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from neuroflow.keras.utils.naming import get_by_name
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops as nn
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor

__all__ = [
    "deserialize", "elu", "exponential", "gelu", "get", "hard_sigmoid", "hard_silu",
    "leaky_relu", "linear", "log_sigmoid", "log_softmax", "logits_of", "mish", "relu", "relu6",
    "selu", "serialize", "sigmoid", "silu", "softmax", "softplus", "softsign", "swish", "tanh",
]

# id(output) -> (weak reference to output, logits, "softmax" or "sigmoid"). Tensors
# have __slots__, so the link lives here; an entry leaves when its output is freed.
_LOGITS: dict[int, tuple[weakref.ref, Tensor, str]] = {}


def _remember_logits(output: Any, logits: Tensor, kind: str) -> None:
    key = id(output)
    try:
        ref = weakref.ref(output, lambda _, key=key: _LOGITS.pop(key, None))
    except TypeError:
        return  # an object that cannot be weakly referenced simply has no link
    _LOGITS[key] = (ref, logits, kind)


def logits_of(output: Any, kind: str) -> Tensor | None:
    """The logits ``output`` was computed from by :func:`softmax`/:func:`sigmoid` (``kind``)."""
    entry = _LOGITS.get(id(output))
    if entry is None or entry[0]() is not output or entry[2] != kind:
        return None
    return entry[1]


def relu(x, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Tensor:
    """``max(x, 0)``; with options, a leaky, capped or thresholded ReLU (as Keras)."""
    x = as_tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return nn.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return nn.leaky_relu(x, alpha=negative_slope)
    negative_part = nn.relu(threshold - x) if negative_slope != 0.0 else None
    if threshold != 0.0:
        y = ew.where(ew.greater(x, threshold), x, ew.zeros_like_value(x))
    else:
        y = nn.relu(x)
    if max_value is not None:
        y = ew.clip_by_value(y, 0.0, float(max_value))
    if negative_part is not None:
        y = y - negative_part * negative_slope
    return y


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    return nn.leaky_relu(x, alpha=negative_slope)


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return nn.relu6(x)


def softmax(x, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``; remembers ``x`` for the cross-entropies.

    >>> import neuroflow as tf
    >>> [round(float(p), 4) for p in softmax(tf.constant([1.0, 2.0, 3.0]))]
    [0.09, 0.2447, 0.6652]
    """
    x = as_tensor(x)
    output = nn.softmax(x, axis=axis)
    _remember_logits(output, x, "softmax")
    return output


def sigmoid(x) -> Tensor:
    """``1 / (1 + exp(-x))``; remembers ``x`` for binary cross-entropy."""
    x = as_tensor(x)
    output = ew.sigmoid(x)
    _remember_logits(output, x, "sigmoid")
    return output


def elu(x, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = as_tensor(x)
    y = nn.elu(x)
    if alpha == 1.0:
        return y
    return ew.where(ew.greater(x, 0), y, y * alpha)


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalizing constants (alpha 1.6733, scale 1.0507)."""
    return nn.selu(x)


def softplus(x) -> Tensor:
    """``log(exp(x) + 1)``, computed without overflow."""
    return nn.softplus(x)


def softsign(x) -> Tensor:
    """``x / (abs(x) + 1)``."""
    return nn.softsign(x)


def silu(x) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return nn.silu(x)


swish = silu


def gelu(x, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit: ``x * P(X <= x)`` for a standard normal ``X``."""
    return nn.gelu(x, approximate=approximate)


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return ew.tanh(x)


def exponential(x) -> Tensor:
    """``exp(x)``."""
    return ew.exp(x)


def hard_sigmoid(x) -> Tensor:
    """Keras 3's piecewise-linear sigmoid: ``relu6(x + 3) / 6``."""
    x = as_tensor(x)
    return nn.relu6(x + 3.0) / 6.0


def hard_silu(x) -> Tensor:
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    x = as_tensor(x)
    return x * hard_sigmoid(x)


def linear(x) -> Any:
    """The identity: returns ``x`` unchanged."""
    return x


def mish(x) -> Tensor:
    """``x * tanh(softplus(x))``."""
    x = as_tensor(x)
    return x * ew.tanh(nn.softplus(x))


def log_softmax(x, axis: int = -1) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``axis``."""
    return nn.log_softmax(x, axis=axis)


def log_sigmoid(x) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``."""
    return ew.negative(nn.softplus(ew.negative(as_tensor(x))))


_ALL = (relu, leaky_relu, relu6, softmax, sigmoid, elu, selu, softplus, softsign, silu, gelu,
        tanh, exponential, hard_sigmoid, hard_silu, linear, mish, log_softmax, log_sigmoid)
_BY_NAME: dict[str, Callable] = {fn.__name__: fn for fn in _ALL}
_BY_NAME.update(swish=silu, hard_swish=hard_silu)


def get(identifier: str | Callable | dict | None) -> Callable:
    """The activation function for ``identifier``: a name, a callable, a config, or None.

    None gives :func:`linear`. An unknown name raises ``ValueError`` suggesting the
    closest valid names.

    >>> get("relu") is relu, get(None) is linear
    (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return get_by_name("activation function", identifier, _BY_NAME)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}. "
                     f"Pass a name such as 'relu', a callable, or None.")


def serialize(activation: Callable) -> str | dict:
    """A built-in activation's name; objects with ``get_config`` give a config dict.

    Other functions give their ``__name__``: loading them back needs the function
    itself, as Keras' ``custom_objects`` does.
    """
    if hasattr(activation, "get_config") and not isinstance(activation, type(serialize)):
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    name = getattr(activation, "__name__", None)
    if name is None:
        raise TypeError(f"Cannot serialize the activation {activation!r}: it has no name and "
                        f"no get_config(). Use a function or a built-in name such as 'relu', "
                        f"or give the object a get_config() method.")
    return name


def deserialize(config: str | dict) -> Callable:
    """Inverse of :func:`serialize` for built-in activations (a name, or Keras' dict form)."""
    name = config.get("config") if isinstance(config, dict) else config
    if not isinstance(name, str):
        raise ValueError(f"Could not interpret the activation config {config!r}: expected a "
                         f"name such as 'relu', or a dict whose 'config' is one.")
    return get_by_name("activation function", name, _BY_NAME)
