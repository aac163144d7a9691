"""Dropout."""

from __future__ import annotations

from neuroflow.keras.layers.base import Layer
from neuroflow.ops import nn_ops


class Dropout(Layer):
    """Randomly zero a fraction ``rate`` of inputs during training (scaling the rest)."""

    supports_masking = True

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = [d if d is not None else s
                           for d, s in zip(self.noise_shape, inputs.shape)]
        return nn_ops.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
