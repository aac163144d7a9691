"""Layers that change shape only: Flatten, Reshape."""

from __future__ import annotations

import numpy as np

from neuroflow.keras.layers.base import Layer
from neuroflow.ops import shape_ops


class Flatten(Layer):
    """Flatten each sample to a vector: ``(batch, 28, 28) -> (batch, 784)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        shape = inputs._value.shape
        if len(shape) == 2:
            return inputs
        if self.data_format == "channels_first" and len(shape) > 2:
            perm = [0, *range(2, len(shape)), 1]
            inputs = shape_ops.transpose(inputs, perm)
        return shape_ops.reshape(inputs, (shape[0], -1))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size) if rest else (input_shape[0], 1)


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (one dimension may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        self.built = True

    def call(self, inputs):
        batch, *sample = inputs._value.shape  # sizes a trace leaves unknown are Dims
        if all(type(d) is int for d in sample):  # else the reshape checks when it runs
            size = int(np.prod(sample, dtype=np.int64))
            known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
            if (-1 not in self.target_shape and known != size) or (known and size % known):
                raise ValueError(
                    f"Reshape {self.name!r}: cannot reshape samples of shape {tuple(sample)} "
                    f"({size} values) to target_shape {self.target_shape}.")
        return shape_ops.reshape(inputs, (batch, *self.target_shape))

    def compute_output_shape(self, input_shape):
        shape = list(self.target_shape)
        if -1 in shape and None not in input_shape[1:]:
            size = int(np.prod(input_shape[1:], dtype=np.int64))
            known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
            shape[shape.index(-1)] = size // known
        return (input_shape[0], *[None if d == -1 else d for d in shape])

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}
