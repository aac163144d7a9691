"""Embedding and Masking, and how a mask travels from them to the recurrent layers.

Keras 3 attaches a mask to the tensor a layer returns (``Embedding(mask_zero=True)``,
``Masking``) and gives it to the next layer's ``call(mask=...)``. Tensors here have
``__slots__``, so the link lives in a table keyed by the tensor (dropped with it):
:func:`set_keras_mask` / :func:`get_keras_mask` in ``base.py``. A layer whose ``call``
takes ``mask`` receives it (GlobalAveragePooling1D averages the kept steps only, the
recurrent layers skip masked steps); layers that work per position (Dense, Dropout,
LayerNormalization, the merges, ...: ``supports_masking``) pass it on, as in Keras 3.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.keras import regularizers
from neuroflow.keras.layers.base import (  # noqa: F401 - the mask table, shared
    Layer,
    get_keras_mask,
    refuse_unsupported,
    set_keras_mask,
)
from neuroflow.keras.layers.rnn_cells import (
    get_initializer,
    serialize_initializer,
    serialize_regularizer,
)
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor


class Embedding(Layer):
    """Rows of a trainable ``(input_dim, output_dim)`` table at integer indices.

    Indices must lie in ``[0, input_dim)`` (negative ones count from the end, as Keras's
    ``take``): others raise ``InvalidArgumentError``, as TensorFlow's CPU kernel does.
    With ``mask_zero=True`` index 0 is padding: the output carries a mask
    (``inputs != 0``) that recurrent layers read.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 activity_regularizer=None, **kwargs):
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: "
                                 f"{name}={value!r} (of type {type(value).__name__}).")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.",
                          stacklevel=2)
        super().__init__(**kwargs)
        refuse_unsupported("Embedding", embeddings_constraint=embeddings_constraint,
                           lora_rank=lora_rank, lora_alpha=lora_alpha,
                           quantization_config=quantization_config)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = get_initializer(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.mask_zero = bool(mask_zero)
        self.embeddings = None
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1
                             else [weights])

    def build(self, input_shape=None) -> None:
        if self.embeddings is None:
            self.embeddings = self.add_weight(
                "embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                self.embeddings_regularizer)

    def _convert_inputs(self, inputs):
        # Indices stay integers (Keras does not autocast an Embedding's inputs).
        tensor = inputs if type(inputs) is Tensor else as_tensor(inputs)
        return tensor

    def call(self, inputs):
        if inputs.dtype.name not in ("int32", "int64"):
            inputs = ew.cast(inputs, "int32")
        # Keras's take: negative indices count from the end of the table.
        indices = ew.where(ew.less(inputs, 0), inputs + self.input_dim, inputs)
        try:
            outputs = so.gather(self.embeddings, indices)
        except InvalidArgumentError as error:
            found = np.asarray(inputs._value).reshape(-1)
            bad = found[(found < -self.input_dim) | (found >= self.input_dim)]
            raise InvalidArgumentError(
                f"Embedding {self.name!r}: indices must be in [0, {self.input_dim}) (its "
                f"input_dim; negative ones count from the end); received {int(bad[0])}. Give "
                f"the layer a larger input_dim, or map the indices into range first.",
                "GatherV2") from error
        if outputs.dtype.name != self.dtype:
            outputs = ew.cast(outputs, self.dtype)
        if self.mask_zero:
            set_keras_mask(outputs, self.compute_mask(inputs))
        return outputs

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ew.not_equal(as_tensor(inputs), 0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": serialize_initializer(self.embeddings_initializer),
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
                "activity_regularizer": serialize_regularizer(self.activity_regularizer),
                "embeddings_constraint": None, "mask_zero": self.mask_zero,
                "quantization_config": None}


class Masking(Layer):
    """Zero the time steps whose features all equal ``mask_value``, and mask them."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.built = True

    def call(self, inputs):
        keep = red.reduce_any(ew.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = ew.where(keep, inputs, ew.zeros_like_value(inputs))
        set_keras_mask(outputs, so.squeeze(keep, axis=-1))
        return outputs

    def compute_mask(self, inputs, mask=None):
        return red.reduce_any(ew.not_equal(as_tensor(inputs), self.mask_value), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
