"""Core layers: Input/InputLayer, Dense, Activation."""

from __future__ import annotations

import numbers
import warnings

from neuroflow.keras.layers import symbolic
from neuroflow.keras.layers.base import Layer, check_last_dim, refuse_unsupported
from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg
from neuroflow.tensor import Tensor


class InputLayer(Layer):
    """Declares the per-sample input shape of a model (``shape=`` excludes the batch).

    Its output is the :class:`KerasTensor` ``keras.Input`` returns.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, input_shape=None, ragged=None,
                 **kwargs):
        if input_shape is not None:
            warnings.warn("Argument `input_shape` is deprecated. Use `shape` instead.",
                          UserWarning, stacklevel=2)
            shape = input_shape if shape is None else shape
        refuse_unsupported("InputLayer", sparse=sparse or None, ragged=ragged or None,
                           input_tensor=input_tensor, optional=optional or None)
        if batch_shape is not None:
            if shape is not None:
                raise ValueError(f"You cannot pass both `shape` and `batch_shape` at the same "
                                 f"time; received shape={shape}, batch_shape={batch_shape}. "
                                 f"Pass only one, e.g. shape=(28, 28) for (None, 28, 28).")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("You must pass a `shape` argument: the shape of one sample, "
                             "without the batch dimension, e.g. InputLayer(shape=(28, 28)).")
        super().__init__(name=name or None, dtype=dtype, **kwargs)
        self.shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        self.batch_size = batch_size
        self.built = True
        self.output = symbolic.input_tensor(self, self.batch_shape, self.dtype, self.name)
        self._output_shape_for_summary = self.batch_shape

    @property
    def batch_shape(self) -> tuple:
        return (self.batch_size, *self.shape)

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self) -> dict:
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("trainable", None)
        for flag in ("sparse", "ragged", "optional"):
            if config.get(flag) is False:
                config.pop(flag)
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None,  # noqa: N802 - Keras's name
          batch_shape=None, name=None, tensor=None, optional=False):
    """``keras.Input``: the symbolic input of a model (``shape`` excludes the batch)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional)
    return layer.output


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis of the inputs."""

    supports_masking = True

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        from neuroflow.keras import activations

        refuse_unsupported("Dense", kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint, lora_rank=lora_rank,
                           quantization_config=quantization_config)

        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units!r}")
        from neuroflow.keras import regularizers

        self.units = int(units)
        self.activation = activations.get(activation)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel = None
        self.bias = None

    def build(self, input_shape) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense {self.name!r} needs inputs of shape (batch, ..., features) "
                             f"with a known number of features, received shape {input_shape}. "
                             f"Build it with e.g. layer.build((None, 784)).")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, inputs: Tensor) -> Tensor:
        if inputs._value.dtype.kind == "O":
            raise ValueError(
                f"Dense {self.name!r} received a string tensor ({tuple(inputs.shape)}); "
                f"dtype='string' is not a valid dtype for Keras type promotion. Turn text into "
                f"numbers first, e.g. with keras.layers.TextVectorization or StringLookup.")
        if inputs._value.dtype.kind != "f":
            # Keras's matmul promotes integer and boolean inputs to the kernel's float dtype.
            inputs = ew.cast(inputs, self.kernel.dtype)
        expected = self.kernel._value.shape[0]
        if inputs._value.shape[-1:] != (expected,):
            hint = (" Add a Flatten layer before it to turn each sample into a vector."
                    if inputs._value.ndim > 2 else "")
            check_last_dim(self, inputs, expected, hint)
        outputs = linalg.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict:
        from neuroflow.keras import activations, initializers, regularizers

        def ser(module, value):
            return None if value is None else module.serialize(module.get(value))

        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": ser(initializers, self.kernel_initializer),
                "bias_initializer": ser(initializers, self.bias_initializer),
                "kernel_regularizer": ser(regularizers, self.kernel_regularizer),
                "bias_regularizer": ser(regularizers, self.bias_regularizer),
                "activity_regularizer": ser(regularizers, self.activity_regularizer)}


class Activation(Layer):
    """Applies an activation function (by name or callable)."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        from neuroflow.keras import activations

        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        from neuroflow.keras import activations

        return {**super().get_config(), "activation": activations.serialize(self.activation)}
