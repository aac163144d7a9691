"""Activation layers: Softmax, ReLU."""

from __future__ import annotations

from neuroflow.keras.layers.base import Layer
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops
from neuroflow.ops.convert import as_tensor


class Softmax(Layer):
    """Softmax along ``axis``; an optional boolean ``mask`` excludes entries."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.built = True

    def call(self, inputs, mask=None):
        if mask is None:
            return nn_ops.softmax(inputs, axis=self.axis)
        # Masked entries get a huge negative logit, then an exact 0 (a fully masked
        # row is all zeros rather than uniform), as Keras 3 does.
        keep = ew.cast(as_tensor(mask), inputs.dtype)
        outputs = nn_ops.softmax(inputs + (1.0 - keep) * -1e9, axis=self.axis)
        return outputs * keep

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class ReLU(Layer):
    """``min(max(x, threshold) ..., max_value)`` with a ``negative_slope`` below threshold."""

    supports_masking = True

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value of a ReLU layer cannot be negative, received "
                             f"{max_value}.")
        if negative_slope < 0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be negative, received "
                             f"{negative_slope}.")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.built = True

    def call(self, inputs):
        if self.negative_slope == 0 and self.threshold == 0:
            out = nn_ops.relu(inputs)
        else:
            below = (inputs - self.threshold) * self.negative_slope
            out = ew.where(ew.greater_equal(inputs, self.threshold), inputs, below)
        return out if self.max_value is None else ew.minimum(out, self.max_value)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}
