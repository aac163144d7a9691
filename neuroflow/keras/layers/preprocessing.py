"""Rescaling: ``inputs * scale + offset`` (e.g. ``Rescaling(1/255)`` for images)."""

from __future__ import annotations

from neuroflow.keras.layers.base import Layer
from neuroflow.ops import elementwise as ew


class Rescaling(Layer):
    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs):
        # As Keras 3, integer inputs (uint8 pixels) are cast to the layer's dtype first;
        # float inputs were already cast when the layer was called.
        if inputs._value.dtype.kind != "f":
            inputs = ew.cast(inputs, self.dtype)
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
