"""Convolution layers: Conv1D, Conv2D, Conv3D (Keras 3's arguments, weights and configs).

The kernel has Keras's layout, ``(*kernel_size, input_channels // groups, filters)``, so
weights move between Keras and neuroflow unchanged. The math is ``tf.nn.convolution``
(``ops/convolution.py``); ``groups > 1`` splits the channels into groups convolved apart.
"""

from __future__ import annotations

import numbers

from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.ops import convolution as conv_ops
from neuroflow.ops import shape_ops
from neuroflow.tensor import Tensor


def normalize_tuple(value, n: int, name: str, layer: str, allow_zero: bool = False) -> tuple:
    """``3`` or ``(3, 3)`` -> ``(3, 3)``, checked: what Keras accepts for sizes and strides."""
    values = (value,) * n if isinstance(value, numbers.Integral) else tuple(value)
    low = 0 if allow_zero else 1
    if (len(values) != n or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                or v < low for v in values)):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{layer}: the `{name}` argument must be a {kind} integer or a tuple "
                         f"of {n} {kind} integers. Received: {name}={value!r}")
    return tuple(int(v) for v in values)


def normalize_data_format(value, layer: str) -> str:
    if value is None:
        from neuroflow.keras import backend

        return backend.image_data_format()
    fmt = str(value).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: the `data_format` argument must be one of "
                         f"\"channels_first\", \"channels_last\". Received: "
                         f"data_format={value!r}")
    return fmt


def normalize_padding(value, layer: str, allowed=("valid", "same")) -> str:
    padding = str(value).lower()
    if padding not in allowed:
        raise ValueError(f"{layer}: the `padding` argument must be one of "
                         f"{', '.join(repr(p) for p in allowed)}. Received: padding={value!r}")
    return padding


def conv_output_length(size, kernel: int, padding: str, stride: int, dilation: int = 1):
    """One spatial size after a convolution or pooling window (None stays None)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "same":
        return -(-size // stride)
    if padding == "causal":
        return -(-size // stride)
    return max(-(-(size - span + 1) // stride), 0)


class _Conv(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        from neuroflow.keras import activations, regularizers

        kind = type(self).__name__
        refuse_unsupported(kind, kernel_constraint=kernel_constraint,
                       bias_constraint=bias_constraint, lora_rank=lora_rank)
        if isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters!r}.")
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: "
                             f"groups={groups!r}.")
        if filters % groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number "
                             f"of groups. Received: groups={groups}, filters={filters}.")
        n = self.rank
        self.filters = int(filters)
        self.groups = int(groups)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size", kind)
        self.strides = normalize_tuple(strides, n, "strides", kind)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate", kind)
        allowed = ("valid", "same", "causal") if n == 1 else ("valid", "same")
        self.padding = normalize_padding(padding, kind, allowed)
        self.data_format = normalize_data_format(data_format, kind)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel = None
        self.bias = None

    @property
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _check_rank(self, shape) -> None:
        if len(shape) != self.rank + 2:
            kind = type(self).__name__
            sample = "(steps, channels)" if self.rank == 1 else (
                "(height, width, channels)" if self.rank == 2 else
                "(depth, height, width, channels)")
            hint = ""
            if len(shape) == self.rank + 1:
                hint = (" If each sample has a single channel, add a channel axis, e.g. "
                        "x[..., None] or keras.layers.Reshape((*shape, 1)).")
            raise ValueError(f"{kind} {self.name!r} expects inputs of rank {self.rank + 2}, "
                             f"batches of samples shaped {sample}; received inputs of shape "
                             f"{tuple(shape)}.{hint}")

    def build(self, input_shape) -> None:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        kind = type(self).__name__
        if channels is None:
            raise ValueError(f"{kind} {self.name!r}: the channel dimension of the inputs must "
                             f"be known, received input shape {tuple(input_shape)}.")
        if channels % self.groups:
            raise ValueError(f"{kind} {self.name!r}: the number of input channels must be "
                             f"evenly divisible by the number of groups. Received groups="
                             f"{self.groups}, but the input has {channels} channels (full "
                             f"input shape is {tuple(input_shape)}).")
        self.kernel = self.add_weight(
            "kernel", (*self.kernel_size, channels // self.groups, self.filters),
            self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, inputs: Tensor) -> Tensor:
        self._check_rank(inputs.shape)
        expected = self.kernel._value.shape[-2] * self.groups
        got = inputs._value.shape[self._channel_axis]
        if got != expected:
            raise ValueError(f"{type(self).__name__} {self.name!r} was built for inputs with "
                             f"{expected} channels, but received inputs of shape "
                             f"{tuple(inputs.shape)} ({got} channels).")
        first = self.data_format == "channels_first"
        fmt = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[self.rank] if first else None
        padding = self.padding.upper()
        if self.padding == "causal":  # left padding only: no output sees a later step
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            padding = [[0, 0], [0, 0], [left, 0]] if first else [[0, 0], [left, 0], [0, 0]]
        if self.groups == 1:
            outputs = conv_ops.convolution(inputs, self.kernel, self.strides, padding, fmt,
                                           self.dilation_rate)
        else:
            axis = 1 if first else self.rank + 1
            parts = shape_ops.split(inputs, self.groups, axis=axis)
            kernels = shape_ops.split(self.kernel, self.groups, axis=-1)
            outputs = shape_ops.concat(
                [conv_ops.convolution(x, k, self.strides, padding, fmt, self.dilation_rate)
                 for x, k in zip(parts, kernels)], axis=axis)
        if self.bias is not None:
            if first:
                outputs = outputs + shape_ops.reshape(self.bias, (-1,) + (1,) * self.rank)
            else:
                outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        first = self.data_format == "channels_first"
        spatial = input_shape[2:] if first else input_shape[1:-1]
        out = [conv_output_length(size, k, self.padding, s, d) for size, k, s, d in
               zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        if first:
            return (input_shape[0], self.filters, *out)
        return (input_shape[0], *out, self.filters)

    def get_config(self) -> dict:
        from neuroflow.keras import activations, initializers, regularizers

        def ser(module, value):
            return None if value is None else module.serialize(module.get(value))

        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": ser(initializers, self.kernel_initializer),
                "bias_initializer": ser(initializers, self.bias_initializer),
                "kernel_regularizer": ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": ser(regularizers, self.bias_regularizer),
                "activity_regularizer": ser(regularizers, self.activity_regularizer),
                "kernel_constraint": None, "bias_constraint": None}


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding="causal"`` too."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over images ``(batch, height, width, channels)``."""

    rank = 2


class Conv3D(_Conv):
    """3-D convolution over volumes ``(batch, depth, height, width, channels)``."""

    rank = 3


def deconv_output_length(size, kernel: int, padding: str, output_padding, stride: int,
                         dilation: int = 1):
    """One spatial size after a transposed convolution, by Keras's rule (None stays None)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        return size * stride + (max(span - stride, 0) if padding == "valid" else 0)
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


class _ConvTranspose(_Conv):
    """The transpose of a convolution: each input position spreads over a kernel-sized
    window of the (larger) output. The kernel is ``(*kernel_size, filters, in_channels)``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        if self.padding == "causal":
            raise ValueError(f"{type(self).__name__}: padding='causal' is not supported for "
                             f"transposed convolutions; use 'valid' or 'same'.")
        self.output_padding = (None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", type(self).__name__, allow_zero=True))
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__}: each output_padding must be smaller than "
                             f"its stride; received output_padding={self.output_padding}, "
                             f"strides={self.strides}.")

    def build(self, input_shape) -> None:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the channel dimension of "
                             f"the inputs must be known, received {tuple(input_shape)}.")
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.filters, channels),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)

    def _out_spatial(self, spatial):
        paddings = self.output_padding or (None,) * self.rank
        return [deconv_output_length(size, k, self.padding, p, s, d) for size, k, p, s, d in
                zip(spatial, self.kernel_size, paddings, self.strides, self.dilation_rate)]

    def call(self, inputs: Tensor) -> Tensor:
        self._check_rank(inputs.shape)
        first = self.data_format == "channels_first"
        spatial = tuple(inputs.shape)[2:] if first else tuple(inputs.shape)[1:-1]
        out = self._out_spatial(spatial)
        batch = shape_ops.shape(inputs)[0]
        output_shape = ([batch, self.filters, *out] if first else [batch, *out, self.filters])
        fmt = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[self.rank] if first else None
        # The output size (output_padding included) picks the padding, as for the forward
        # convolution of the output: positions no input reaches stay zero before the bias.
        outputs = conv_ops.conv_transpose(inputs, self.kernel, output_shape, self.strides,
                                          self.padding.upper(), fmt, self.dilation_rate,
                                          _op=type(self).__name__, _rank=self.rank)
        if self.bias is not None:
            outputs = outputs + (shape_ops.reshape(self.bias, (-1,) + (1,) * self.rank)
                                 if first else self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        first = self.data_format == "channels_first"
        out = self._out_spatial(input_shape[2:] if first else input_shape[1:-1])
        if first:
            return (input_shape[0], self.filters, *out)
        return (input_shape[0], *out, self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("groups")
        return {**config, "output_padding": self.output_padding}


class Conv1DTranspose(_ConvTranspose):
    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Upsampling by a learned kernel: ``(batch, h, w, c) -> (batch, h*s, w*s, filters)``
    with ``padding="same"``."""

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    rank = 3


class DepthwiseConv2D(_Conv):
    """Each input channel convolved with its own ``depth_multiplier`` filters."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        if isinstance(depth_multiplier, bool) or not isinstance(
                depth_multiplier, numbers.Integral) or depth_multiplier <= 0:
            raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a "
                             f"strictly positive value. Received "
                             f"depth_multiplier={depth_multiplier!r}.")
        super().__init__(1, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)

    def build(self, input_shape) -> None:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"DepthwiseConv2D {self.name!r}: the channel dimension of the "
                             f"inputs must be known, received {tuple(input_shape)}.")
        self.filters = channels * self.depth_multiplier
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels,
                                                 self.depth_multiplier),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)

    def _depthwise(self, inputs):
        first = self.data_format == "channels_first"
        return conv_ops.depthwise_conv2d(inputs, self.kernel, self.strides,
                                         self.padding.upper(), "NCHW" if first else None,
                                         self.dilation_rate)

    def call(self, inputs: Tensor) -> Tensor:
        self._check_rank(inputs.shape)
        outputs = self._depthwise(inputs)
        if self.bias is not None:
            outputs = outputs + (shape_ops.reshape(self.bias, (-1, 1, 1))
                                 if self.data_format == "channels_first" else self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        first = self.data_format == "channels_first"
        channels = input_shape[1 if first else -1]
        self.filters = None if channels is None else channels * self.depth_multiplier
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("filters", "groups"):
            config.pop(key)
        for old, new in (("kernel_initializer", "depthwise_initializer"),
                         ("kernel_regularizer", "depthwise_regularizer"),
                         ("kernel_constraint", "depthwise_constraint")):
            config[new] = config.pop(old)
        return {**config, "depth_multiplier": self.depth_multiplier}


class SeparableConv2D(_Conv):
    """A depthwise convolution, then a 1x1 convolution to ``filters`` channels."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        refuse_unsupported("SeparableConv2D", depthwise_constraint=depthwise_constraint,
                           pointwise_constraint=pointwise_constraint)
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         None, bias_constraint, **kwargs)
        if isinstance(depth_multiplier, bool) or not isinstance(
                depth_multiplier, numbers.Integral) or depth_multiplier <= 0:
            raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a "
                             f"strictly positive value. Received "
                             f"depth_multiplier={depth_multiplier!r}.")
        self.depth_multiplier = int(depth_multiplier)
        self.pointwise_initializer = pointwise_initializer
        self.pointwise_regularizer = pointwise_regularizer

    def build(self, input_shape) -> None:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"SeparableConv2D {self.name!r}: the channel dimension of the "
                             f"inputs must be known, received {tuple(input_shape)}.")
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
            self.kernel_initializer, self.kernel_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, self.pointwise_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, inputs: Tensor) -> Tensor:
        self._check_rank(inputs.shape)
        first = self.data_format == "channels_first"
        outputs = conv_ops.separable_conv2d(inputs, self.depthwise_kernel,
                                            self.pointwise_kernel, self.strides,
                                            self.padding.upper(), "NCHW" if first else None,
                                            self.dilation_rate)
        if self.bias is not None:
            outputs = outputs + (shape_ops.reshape(self.bias, (-1, 1, 1)) if first
                                 else self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self) -> dict:
        from neuroflow.keras import initializers, regularizers

        def ser(module, value):
            return None if value is None else module.serialize(module.get(value))

        config = super().get_config()
        config.pop("groups")
        for old, new in (("kernel_initializer", "depthwise_initializer"),
                         ("kernel_regularizer", "depthwise_regularizer"),
                         ("kernel_constraint", "depthwise_constraint")):
            config[new] = config.pop(old)
        return {**config, "depth_multiplier": self.depth_multiplier,
                "pointwise_initializer": ser(initializers, self.pointwise_initializer),
                "pointwise_regularizer": ser(regularizers, self.pointwise_regularizer),
                "pointwise_constraint": None}
