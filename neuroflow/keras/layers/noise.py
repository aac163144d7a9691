"""Random regularization layers, active only in training: SpatialDropout1D/2D/3D,
GaussianNoise, GaussianDropout, AlphaDropout (Keras 3's arguments, formulas, configs).

Outside training each returns its inputs unchanged. The draws are neuroflow random ops
(``seed=`` makes them repeatable), so the layers also run inside a compiled train step,
where the batch size is unknown until the step runs.
"""

from __future__ import annotations

import math
import numbers

from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.convolutional import normalize_data_format
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops
from neuroflow.ops.random_ops import draw
from neuroflow.tensor import Tensor

# SELU's constants: AlphaDropout keeps the mean and variance of SELU activations.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_fraction(layer: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{layer}: invalid value received for argument `{name}`. Expected a "
                         f"float value between 0 and 1. Received: {name}={value!r}")
    return value


def _floating(inputs: Tensor) -> Tensor:
    return inputs if inputs._value.dtype.kind == "f" else ew.cast(inputs, "float32")


class _SpatialDropout(Layer):
    """Dropout of whole feature maps: one keep/drop draw per sample and channel."""

    rank = 1

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.rate = _check_fraction(type(self).__name__, "rate", rate)
        self.seed = seed
        self.data_format = ("channels_last" if self.rank == 1
                            else normalize_data_format(data_format, type(self).__name__))
        self.built = True

    def _noise_shape(self, shape) -> list:
        batch = shape[0]
        if self.data_format == "channels_first":
            return [batch, shape[1]] + [1] * self.rank
        return [batch] + [1] * self.rank + [shape[-1]]

    def call(self, inputs: Tensor, training=None) -> Tensor:
        shape = inputs._value.shape
        if len(shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects inputs of rank "
                             f"{self.rank + 2} (batch, {self.rank} spatial "
                             f"dimension{'s' * (self.rank > 1)}, channels); received inputs "
                             f"of shape {tuple(inputs.shape)}.")
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0
        return nn_ops.dropout(_floating(inputs), self.rate,
                              noise_shape=self._noise_shape(shape), seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        # Keras 3 writes these configs without `trainable` and with a plain dtype name.
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drop whole channels of ``(batch, steps, channels)`` inputs in training."""

    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drop whole feature maps of image inputs in training."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drop whole feature maps of volume inputs in training."""

    rank = 3


class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` in training."""

    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _check_fraction("GaussianNoise", "stddev", stddev)
        self.seed = seed
        self.built = True

    def call(self, inputs: Tensor, training=None) -> Tensor:
        if not training or self.stddev == 0:
            return inputs
        inputs = _floating(inputs)
        dtype = inputs._value.dtype
        noise = draw("normal", inputs._value.shape, dtype, self.seed)
        return inputs + noise * ew.cast(self.stddev, dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiply by Gaussian noise of mean 1 and variance ``rate / (1 - rate)`` in training.

    ``rate=1`` gives zeros (Keras 3 divides by zero there).
    """

    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_fraction("GaussianDropout", "rate", rate)
        self.seed = seed
        self.built = True

    def call(self, inputs: Tensor, training=None) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0
        inputs = _floating(inputs)
        dtype = inputs._value.dtype
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = draw("normal", inputs._value.shape, dtype, self.seed)
        return inputs * (noise * ew.cast(stddev, dtype) + ew.cast(1.0, dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout for SELU networks: dropped inputs become SELU's negative saturation value,
    then an affine map restores the inputs' mean and variance (in training only)."""

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_fraction("AlphaDropout", "rate", rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self.built = True

    def call(self, inputs: Tensor, training=None) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        inputs = _floating(inputs)
        dtype = inputs._value.dtype
        shape = inputs._value.shape
        if self.noise_shape is not None:
            shape = tuple(s if d is None else d for d, s in zip(self.noise_shape, shape))
        rate = self.rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        kept = ew.cast(ew.greater_equal(draw("uniform", shape, dtype, self.seed),
                                        ew.cast(rate, dtype)), dtype)
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        dropped_value = ew.cast(alpha_p, dtype)
        x = inputs * kept + dropped_value * (1 - kept)
        return ew.cast(a, dtype) * x + ew.cast(b, dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
