"""EinsumDense: a dense layer written as an einsum equation (``"abc,cde->abde"``).

The kernel's shape comes from the equation, the input shape and ``output_shape``, by
Keras 3's rules: each kernel index takes its size from the output (``output_shape``,
with the batch and the axes ``...`` covers added) or else from the input. Keras 3 draws
variance-scaling kernels with the fans of the equation (input axes, output axes), so a
``(dim, heads, key_dim)`` kernel gets ``fan_in = dim`` and ``fan_out = heads * key_dim``.

An equation of the projection form ``FC,CO->FO`` (free input axes, contracted axes,
new output axes, in that order: every MultiHeadAttention projection) runs as one
matrix product of reshaped operands, 3x faster than NumPy's einsum here; others run as
``tf.einsum``.
"""

from __future__ import annotations

import math
import numbers
import re

from neuroflow.keras import activations, initializers, regularizers
from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.keras.layers.rnn_cells import serialize_initializer, serialize_regularizer
from neuroflow.ops import linalg
from neuroflow.ops import shape_ops as so

_FORMS = (  # (pattern of the equation with '...' written as '0', where the ellipsis is)
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), None),
    (re.compile(r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)"), "left"),
    (re.compile(r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0"), "right"),
)


def parse_equation(equation: str) -> tuple[str, str, str, str | None]:
    """``(input spec, kernel spec, output spec, side of the ellipsis or None)``."""
    written = equation.replace(" ", "").replace("...", "0")
    for pattern, side in _FORMS:
        found = pattern.fullmatch(written)
        if found:
            return found.group(1), found.group(2), found.group(3), side
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     f"[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze(equation: str, bias_axes, input_shape, output_shape) -> tuple:
    """``(kernel shape, bias shape or None, full output shape, kernel input axes, kernel
    output axes)`` for inputs of ``input_shape``."""
    inputs, kernel, outputs, side = parse_equation(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(inputs)
    full = [input_shape[0], *((output_shape,) if isinstance(output_shape, int)
                              else output_shape)]
    if elided > 0 and side == "left":
        full[1:1] = input_shape[1:elided]
    elif elided > 0 and side == "right":
        full += input_shape[len(input_shape) - elided:]
    if side == "left":  # the letters name the last axes
        in_axis = {c: i + elided - len(input_shape) for i, c in enumerate(inputs)}
        out_axis = {c: i + elided for i, c in enumerate(outputs)}
    else:
        in_axis = {c: i for i, c in enumerate(inputs)}
        out_axis = {c: i for i, c in enumerate(outputs)}
    for c in inputs:
        if c in out_axis:
            expected, found = full[out_axis[c]], input_shape[in_axis[c]]
            if expected is not None and expected != found:
                raise ValueError(f"Input shape and output shape do not match at shared "
                                 f"dimension '{c}'. Input shape is {found}, and output shape "
                                 f"is {expected}.")
    for c in outputs:
        if c not in inputs and c not in kernel:
            raise ValueError(f"Dimension '{c}' was specified in the output '{outputs}' but "
                             f"has no corresponding dim in the input spec '{inputs}' or "
                             f"weight spec '{kernel}'")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, c in enumerate(kernel):
        if c in out_axis:
            kernel_shape.append(full[out_axis[c]])
            output_axes.append(i)
        elif c in in_axis:
            kernel_shape.append(input_shape[in_axis[c]])
            input_axes.append(i)
        else:
            raise ValueError(f"Weight dimension '{c}' did not have a match in either the "
                             f"input spec '{inputs}' or the output spec '{outputs}'. For this "
                             f"layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in outputs:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of "
                                 f"the output spec '{outputs}'")
        # The bias covers the output axes from the first biased one on (1 where unbiased),
        # so it broadcasts against the output from the right.
        first = min(outputs.index(c) for c in bias_axes)
        offset = elided if side == "left" else 0
        bias_shape = [full[i + offset] if c in bias_axes else 1
                      for i, c in enumerate(outputs) if i >= first]
        if side != "left":
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, full, input_axes, output_axes


def _projection_split(equation: str) -> int | None:
    """For ``FC,CO->FO`` (no ellipsis on the right): how many axes the kernel contracts;
    else None."""
    inputs, kernel, outputs, side = parse_equation(equation)
    contracted = "".join(c for c in inputs if c in kernel and c not in outputs)
    new = kernel[len(contracted):]
    free = inputs[:len(inputs) - len(contracted)]
    if side == "right" or not contracted or any(len(set(s)) != len(s)
                                                 for s in (inputs, kernel, outputs)):
        return None
    ok = inputs == free + contracted and kernel == contracted + new and outputs == free + new
    return len(contracted) if ok else None


def _fan_shaped(initializer, input_axes, output_axes):
    """An initializer drawing a variance-scaling kernel with the fans of the equation:
    it draws ``(fan_in, fan_out)`` (i.i.d. values) and reshapes."""
    def draw(shape, dtype=None):
        fan_in = math.prod(shape[i] for i in input_axes)
        fan_out = math.prod(shape[i] for i in output_axes)
        return so.reshape(initializer((fan_in, fan_out), dtype=dtype), tuple(shape))
    return draw


class EinsumDense(Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)``.

    >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
    >>> layer(np.ones((2, 32, 128), "float32")).shape
    TensorShape([2, 32, 64])
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None,
                 activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        refuse_unsupported("EinsumDense", kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint, lora_rank=lora_rank,
                           lora_alpha=lora_alpha,
                           gptq_unpacked_column_size=gptq_unpacked_column_size,
                           quantization_config=quantization_config)
        parse_equation(equation)
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, numbers.Integral)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._contracted = _projection_split(equation)
        self.kernel = self.bias = None

    def build(self, input_shape) -> None:
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        if any(not isinstance(d, numbers.Integral) for d in kernel_shape + (bias_shape or [])):
            raise ValueError(f"EinsumDense {self.name!r}: the kernel of {self.equation!r} for "
                             f"inputs of shape {tuple(input_shape)} and output_shape "
                             f"{self.partial_output_shape} would have shape "
                             f"{tuple(kernel_shape)}; give every size it takes from the "
                             f"inputs or from output_shape.")
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling):
            init = _fan_shaped(init, input_axes, output_axes)
        self.kernel = self.add_weight("kernel", tuple(kernel_shape), init,
                                      self.kernel_regularizer)
        if bias_shape is not None:
            self.bias = self.add_weight("bias", tuple(bias_shape), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, inputs, training=None):
        if self._contracted is not None:
            outputs = self._project(inputs)
        else:
            outputs = linalg.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def _project(self, inputs):
        """``FC,CO->FO`` as ``(F, C) @ (C, O)``."""
        n = self._contracted
        kernel_shape = tuple(self.kernel.shape)
        shape = inputs._value.shape  # sizes a trace leaves unknown are Dims
        if tuple(shape[len(shape) - n:]) != kernel_shape[:n]:
            raise ValueError(f"EinsumDense {self.name!r} ({self.equation!r}) was built for "
                             f"inputs ending in {kernel_shape[:n]}, but received inputs of "
                             f"shape {tuple(inputs.shape)}.")
        contracted, new = math.prod(kernel_shape[:n]), kernel_shape[n:]
        flat = linalg.matmul(so.reshape(inputs, (-1, contracted)),
                             so.reshape(self.kernel, (contracted, math.prod(new))))
        return so.reshape(flat, (*shape[:len(shape) - n], *new))

    def compute_output_shape(self, input_shape):
        return tuple(analyze(self.equation, self.bias_axes, input_shape,
                             self.partial_output_shape)[2])

    def get_config(self) -> dict:
        return {**super().get_config(), "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer),
                "activity_regularizer": serialize_regularizer(self.activity_regularizer),
                "kernel_constraint": None, "bias_constraint": None,
                "quantization_config": None}
