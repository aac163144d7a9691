"""Transformer blocks as KerasHub builds them: ``TransformerEncoder`` (self-attention and
a feedforward network, each with a residual connection and layer normalization, after
the sum by default or before it with ``normalize_first``) and ``TransformerDecoder``
(causal self-attention, optional cross-attention to an encoder's sequence, then the
feedforward network).

Sublayers carry KerasHub's names (``self_attention_layer``, ``feedforward_layer_norm``,
...), so weight paths read ``transformer_encoder/self_attention_layer/query/kernel``.
"""

from __future__ import annotations

import numbers

from neuroflow.keras import activations, initializers
from neuroflow.keras.layers import symbolic
from neuroflow.keras.layers.attention import MultiHeadAttention
from neuroflow.keras.layers.base import Layer, get_keras_mask
from neuroflow.keras.layers.core import Dense
from neuroflow.keras.layers.normalization import LayerNormalization
from neuroflow.keras.layers.regularization import Dropout
from neuroflow.keras.layers.stacked_rnn_cells import adopt_weights
from neuroflow.keras.saving.object_registry import register_keras_serializable
from neuroflow.ops import creation
from neuroflow.ops import elementwise as ew
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor


def _copy(initializer):
    return initializers.get(initializers.serialize(initializer))


def merge_padding_and_attention_mask(inputs, padding_mask, attention_mask):
    """One ``(batch, 1 or target, source)`` int mask from a ``(batch, source)`` padding
    mask (the inputs' own mask when None) and a ``(batch, target, source)`` attention
    mask; None when there is neither."""
    mask = padding_mask if padding_mask is not None else get_keras_mask(inputs)
    if mask is not None:
        mask = as_tensor(mask)
        if mask._value.ndim != 2:
            raise ValueError(f"`padding_mask` should have shape (batch_size, target_length). "
                             f"Received shape `{tuple(mask.shape)}`.")
        mask = ew.cast(so.expand_dims(mask, 1), "int32")
    if attention_mask is None:
        return mask
    attention_mask = as_tensor(attention_mask)
    if attention_mask._value.ndim != 3:
        raise ValueError(f"`attention_mask` should have shape (batch_size, target_length, "
                         f"source_length). Received shape `{tuple(attention_mask.shape)}`.")
    attention_mask = ew.cast(attention_mask, "int32")
    return attention_mask if mask is None else ew.minimum(mask, attention_mask)


def compute_causal_mask(length):
    """``(1, length, length)`` int mask: position ``i`` sees positions ``j <= i``."""
    positions = creation.range_(length)
    causal = ew.greater_equal(so.expand_dims(positions, 1), so.expand_dims(positions, 0))
    return ew.cast(so.expand_dims(causal, 0), "int32")


def _check_arguments(kind, intermediate_dim, num_heads, dropout) -> None:
    for name, value in (("intermediate_dim", intermediate_dim), ("num_heads", num_heads)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"{kind}: `{name}` must be a positive integer. Received: "
                             f"{name}={value!r}")
    if not 0 <= dropout <= 1:
        raise ValueError(f"{kind}: `dropout` must be in [0, 1]. Received: dropout={dropout!r}")


class _TransformerBlock(Layer):
    """Arguments, sublayer factory and config the encoder and decoder share."""

    supports_masking = True

    def __init__(self, intermediate_dim, num_heads, dropout=0, activation="relu",
                 layer_norm_epsilon=1e-05, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", normalize_first=False, **kwargs):
        super().__init__(**kwargs)
        _check_arguments(type(self).__name__, intermediate_dim, num_heads, dropout)
        self.intermediate_dim = int(intermediate_dim)
        self.num_heads = int(num_heads)
        self.dropout = dropout
        self.activation = activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.normalize_first = bool(normalize_first)

    def _head_dim(self, hidden_dim: int) -> int:
        head_dim = int(hidden_dim // self.num_heads)
        if head_dim == 0:
            raise ValueError(f"Attention `key_dim` computed cannot be zero. The `hidden_dim` "
                             f"value of {hidden_dim} has to be equal to or greater than "
                             f"`num_heads` value of {self.num_heads}.")
        return head_dim

    def _sublayer(self, layer, *shapes):
        """Build ``layer`` for ``shapes`` now (KerasHub builds every sublayer in build) and
        file its weights under this layer's name."""
        if isinstance(layer, MultiHeadAttention):
            layer.build(*shapes)
            layer.built = True
        elif shapes:
            layer._build_from_shape(tuple(shapes[0]))
        adopt_weights(self.name, layer)
        return layer

    def _attention(self, name, query_shape, value_shape, head_dim, **extra):
        return self._sublayer(MultiHeadAttention(
            self.num_heads, head_dim, dropout=self.dropout, dtype=self.dtype, name=name,
            kernel_initializer=_copy(self.kernel_initializer),
            bias_initializer=_copy(self.bias_initializer), **extra), query_shape, value_shape)

    def _norm(self, name, shape):
        return self._sublayer(LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                 dtype=self.dtype, name=name), shape)

    def _dropout(self, name):
        return Dropout(self.dropout, dtype=self.dtype, name=name)

    def _feedforward(self, shape) -> None:
        self._feedforward_intermediate_dense = self._sublayer(Dense(
            self.intermediate_dim, activation=self.activation, dtype=self.dtype,
            kernel_initializer=_copy(self.kernel_initializer),
            bias_initializer=_copy(self.bias_initializer),
            name="feedforward_intermediate_dense"), shape)
        self._feedforward_output_dense = self._sublayer(Dense(
            shape[-1], dtype=self.dtype, kernel_initializer=_copy(self.kernel_initializer),
            bias_initializer=_copy(self.bias_initializer), name="feedforward_output_dense"),
            (*shape[:-1], self.intermediate_dim))

    def _residual(self, x, sublayer, norm, dropout, training):
        """``norm(x + dropout(sublayer(x)))``, or ``x + dropout(sublayer(norm(x)))`` when
        normalizing first."""
        y = sublayer(norm(x) if self.normalize_first else x)
        y = dropout(y, training=training) + x
        return y if self.normalize_first else norm(y)

    def _feedforward_call(self, x):
        return self._feedforward_output_dense(self._feedforward_intermediate_dense(x))

    def compute_output_shape(self, inputs_shape, *args):
        return tuple(inputs_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads, "dropout": self.dropout,
                "activation": activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "normalize_first": self.normalize_first}


@register_keras_serializable(package="keras_hub")
@register_keras_serializable(package="keras_nlp")
class TransformerEncoder(_TransformerBlock):
    """One encoder block of "Attention is all you need" over ``(batch, sequence,
    hidden)`` inputs; ``padding_mask`` (or the inputs' mask) hides padded positions.

    >>> import numpy as np
    >>> encoder = TransformerEncoder(intermediate_dim=16, num_heads=2)
    >>> encoder(np.ones((2, 5, 8), "float32")).shape
    TensorShape([2, 5, 8])
    """

    # KerasHub's module of this class: saved configs name it as KerasHub's do.
    _keras_module = "keras_hub.src.layers.modeling.transformer_encoder"

    def build(self, inputs_shape) -> None:
        shape = tuple(inputs_shape)
        head_dim = self._head_dim(shape[-1])
        # Keras orders weights by when the sublayers are made: keep KerasHub's order.
        self._self_attention_layer = self._attention("self_attention_layer", shape, shape,
                                                     head_dim)
        self._self_attention_layer_norm = self._norm("self_attention_layer_norm", shape)
        self._self_attention_dropout = self._dropout("self_attention_dropout")
        self._feedforward_layer_norm = self._norm("feedforward_layer_norm", shape)
        self._feedforward(shape)
        self._feedforward_dropout = self._dropout("feedforward_dropout")

    def call(self, inputs, padding_mask=None, attention_mask=None, training=None,
             return_attention_scores=False):
        mask = merge_padding_and_attention_mask(inputs, padding_mask, attention_mask)
        scores = []

        def attend(x):
            out = self._self_attention_layer(x, x, attention_mask=mask, training=training,
                                             return_attention_scores=return_attention_scores)
            if return_attention_scores:
                out, found = out
                scores.append(found)
            return out

        x = self._residual(inputs, attend, self._self_attention_layer_norm,
                           self._self_attention_dropout, training)
        x = self._residual(x, self._feedforward_call, self._feedforward_layer_norm,
                           self._feedforward_dropout, training)
        return (x, scores[0]) if return_attention_scores else x


@register_keras_serializable(package="keras_hub")
@register_keras_serializable(package="keras_nlp")
class TransformerDecoder(_TransformerBlock):
    """One decoder block: causal self-attention (``use_causal_mask=True``), then, when
    called with an ``encoder_sequence``, cross-attention to it, then the feedforward
    network. The incremental-decoding caches of KerasHub's layer are not supported.

    >>> import numpy as np
    >>> decoder = TransformerDecoder(intermediate_dim=16, num_heads=2)
    >>> decoder(np.ones((2, 5, 8), "float32"), np.ones((2, 3, 8), "float32")).shape
    TensorShape([2, 5, 8])
    """

    # KerasHub's module of this class: saved configs name it as KerasHub's do.
    _keras_module = "keras_hub.src.layers.modeling.transformer_decoder"

    def __init__(self, intermediate_dim, num_heads, dropout=0, activation="relu",
                 layer_norm_epsilon=1e-05, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", normalize_first=False, **kwargs):
        decoder_shape = kwargs.pop("decoder_sequence_shape", None)
        encoder_shape = kwargs.pop("encoder_sequence_shape", None)
        super().__init__(intermediate_dim, num_heads, dropout, activation, layer_norm_epsilon,
                         kernel_initializer, bias_initializer, normalize_first, **kwargs)
        self._decoder_sequence_shape = self._encoder_sequence_shape = None
        if decoder_shape:
            self.build(decoder_shape, encoder_shape)

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None) -> None:
        shape = tuple(decoder_sequence_shape)
        self._decoder_sequence_shape = shape
        self._encoder_sequence_shape = None if encoder_sequence_shape is None else \
            tuple(encoder_sequence_shape)
        head_dim = self._head_dim(shape[-1])
        self._self_attention_layer = self._attention("self_attention", shape, shape,
                                                     head_dim)
        self._self_attention_layer_norm = self._norm("self_attention_layer_norm", shape)
        self._self_attention_dropout = self._dropout("self_attention_dropout")
        # Set here, not in __init__: attribute order is weight order, as in Keras.
        self._cross_attention_layer = None
        if encoder_sequence_shape:
            self._cross_attention_layer = self._attention(
                "cross_attention", shape, tuple(encoder_sequence_shape), head_dim,
                value_dim=head_dim)
            self._cross_attention_layer_norm = self._norm("cross_attention_layer_norm", shape)
            self._cross_attention_dropout = self._dropout("cross_attention_dropout")
        self._feedforward(shape)
        self._feedforward_layer_norm = self._norm("feedforward_layer_norm", shape)
        self._feedforward_dropout = self._dropout("feedforward_dropout")

    def __call__(self, decoder_sequence, encoder_sequence=None, *args, **kwargs):
        if not self.built and not symbolic.has_keras_tensors(decoder_sequence,
                                                             (encoder_sequence,), kwargs):
            decoder = self._convert_inputs(decoder_sequence)
            encoder = None if encoder_sequence is None else \
                self._convert_inputs(encoder_sequence)
            from neuroflow.ops.registry import init_scope

            with init_scope():
                self.build(tuple(decoder.shape),
                           None if encoder is None else tuple(encoder.shape))
            self.built = True
            decoder_sequence, encoder_sequence = decoder, encoder
        return super().__call__(decoder_sequence, encoder_sequence, *args, **kwargs)

    def call(self, decoder_sequence, encoder_sequence=None, decoder_padding_mask=None,
             decoder_attention_mask=None, encoder_padding_mask=None,
             encoder_attention_mask=None, self_attention_cache=None,
             self_attention_cache_update_index=None, cross_attention_cache=None,
             cross_attention_cache_update_index=None, use_causal_mask=True, training=None):
        if self_attention_cache is not None or cross_attention_cache is not None:
            raise NotImplementedError(
                "TransformerDecoder: incremental decoding caches (self_attention_cache, "
                "cross_attention_cache) are not supported yet. Call the layer on the whole "
                "sequence so far with use_causal_mask=True instead.")
        has_cross = getattr(self, "_cross_attention_layer", None) is not None
        if has_cross != (encoder_sequence is not None):
            raise ValueError(
                "The number of call arguments to `keras_hub.layers.TransformerDecoder` "
                "should not change. Use `layer(decoder_sequence, encoder_sequence)` to "
                "build a layer with cross attention, or `layer(decoder_sequence)` to build a "
                f"layer without. This layer has been built {'with' if has_cross else 'without'}"
                f" cross attention, but you {'did not provide' if has_cross else 'passed'} "
                f"encoder_sequence.")
        mask = merge_padding_and_attention_mask(decoder_sequence, decoder_padding_mask,
                                                decoder_attention_mask)
        if use_causal_mask:
            length = decoder_sequence.shape[1] if decoder_sequence.shape[1] is not None \
                else so.shape(decoder_sequence)[1]
            causal = compute_causal_mask(length)
            mask = causal if mask is None else ew.minimum(mask, causal)

        def attend(x):
            return self._self_attention_layer(x, x, attention_mask=mask, training=training)

        x = self._residual(decoder_sequence, attend, self._self_attention_layer_norm,
                           self._self_attention_dropout, training)
        if has_cross:
            cross_mask = merge_padding_and_attention_mask(
                encoder_sequence, encoder_padding_mask, encoder_attention_mask)

            def cross(x):
                return self._cross_attention_layer(x, encoder_sequence,
                                                   attention_mask=cross_mask,
                                                   training=training)

            x = self._residual(x, cross, self._cross_attention_layer_norm,
                               self._cross_attention_dropout, training)
        return self._residual(x, self._feedforward_call, self._feedforward_layer_norm,
                              self._feedforward_dropout, training)

    def get_config(self) -> dict:
        return {**super().get_config(),
                "decoder_sequence_shape": self._decoder_sequence_shape,
                "encoder_sequence_shape": self._encoder_sequence_shape}
