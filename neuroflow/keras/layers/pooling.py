"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global poolings."""

from __future__ import annotations

from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.convolutional import (
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)
from neuroflow.ops import convolution as conv_ops
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions
from neuroflow.tensor import Tensor

_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _check_rank(layer: Layer, shape, rank: int) -> None:
    if len(shape) != rank + 2:
        hint = (" If each sample has a single channel, add a channel axis, e.g. x[..., None]."
                if len(shape) == rank + 1 else "")
        raise ValueError(f"{type(layer).__name__} {layer.name!r} expects inputs of rank "
                         f"{rank + 2} (batch, {rank} spatial dimension{'s' * (rank > 1)}, "
                         f"channels); received inputs of shape {tuple(shape)}.{hint}")


class _Pooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size=None, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if pool_size is None:
            pool_size = 2 if self.rank == 1 else (2,) * self.rank
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", name)
        self.strides = (self.pool_size if strides is None
                        else normalize_tuple(strides, self.rank, "strides", name))
        self.padding = normalize_padding(padding, name)
        self.data_format = normalize_data_format(data_format, name)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        _check_rank(self, inputs.shape, self.rank)
        fmt = _FORMATS[self.rank][self.data_format == "channels_first"]
        op = conv_ops.max_pool if self.kind == "max" else conv_ops.avg_pool
        return op(inputs, self.pool_size, self.strides, self.padding.upper(), fmt)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        first = self.data_format == "channels_first"
        spatial = input_shape[2:] if first else input_shape[1:-1]
        out = [conv_output_length(size, k, self.padding, s)
               for size, k, s in zip(spatial, self.pool_size, self.strides)]
        channels = input_shape[1] if first else input_shape[-1]
        return (input_shape[0], channels, *out) if first else (input_shape[0], *out, channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """The maximum over windows of ``pool_size`` steps (default 2, strides = pool_size)."""

    rank, kind = 1, "max"


class MaxPooling2D(_Pooling):
    """The maximum over ``pool_size`` windows of an image (default (2, 2))."""

    rank, kind = 2, "max"


class MaxPooling3D(_Pooling):
    rank, kind = 3, "max"


class AveragePooling1D(_Pooling):
    """The mean over windows; with ``padding="same"`` the padding is not averaged in."""

    rank, kind = 1, "avg"


class AveragePooling2D(_Pooling):
    rank, kind = 2, "avg"


class AveragePooling3D(_Pooling):
    rank, kind = 3, "avg"


class _GlobalPooling(Layer):
    rank = 2
    kind = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self.built = True

    def _axes(self) -> list[int]:
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def call(self, inputs: Tensor, mask=None) -> Tensor:
        _check_rank(self, inputs.shape, self.rank)
        axes = self._axes()
        if mask is not None:
            if self.rank != 1:
                raise ValueError(f"{type(self).__name__} {self.name!r} takes a mask only for "
                                 f"1-D inputs (batch, steps, channels).")
            return self._masked(inputs, mask, axes)
        if self.kind == "max":
            return reductions.reduce_max(inputs, axis=axes, keepdims=self.keepdims)
        return reductions.reduce_mean(inputs, axis=axes, keepdims=self.keepdims)

    def _masked(self, inputs, mask, axes):
        # The mask is (batch, steps): masked steps count for nothing.
        step_axis = axes[0]
        keep = ew.cast(mask, inputs.dtype)
        keep = keep[:, None, :] if step_axis == 2 else keep[:, :, None]
        if self.kind == "max":
            lowest = ew.cast(-3.4e38, inputs.dtype)
            masked = ew.where(ew.greater(keep, 0.0), inputs, lowest)
            return reductions.reduce_max(masked, axis=axes, keepdims=self.keepdims)
        total = reductions.reduce_sum(inputs * keep, axis=axes, keepdims=self.keepdims)
        return total / reductions.reduce_sum(keep, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over all steps: ``(batch, steps, channels) -> (batch, channels)``."""

    _reads_masks = False  # Keras 3 takes the maximum over every step, masked or not

    rank, kind = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    rank, kind = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    rank, kind = 3, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over all steps (masked steps left out when a mask is given)."""

    rank, kind = 1, "avg"


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width: ``(batch, h, w, c) -> (batch, c)``."""

    rank, kind = 2, "avg"


class GlobalAveragePooling3D(_GlobalPooling):
    rank, kind = 3, "avg"
