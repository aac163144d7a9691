"""Position information for sequences of vectors: learned (``PositionEmbedding``) or fixed
sinusoids (``SinePositionEncoding``), and token plus position embeddings in one layer
(``TokenAndPositionEmbedding``), as KerasHub's layers compute them.

Each takes ``(..., sequence, features)`` inputs and returns values of the same shape (the
position part only: the caller adds it), so that one call serves any batch.
"""

from __future__ import annotations

import numbers

from neuroflow.keras import initializers
from neuroflow.keras.layers.base import Layer, get_keras_mask, set_keras_mask
from neuroflow.keras.layers.embedding import Embedding
from neuroflow.keras.layers.stacked_rnn_cells import adopt_weights
from neuroflow.keras.saving.object_registry import register_keras_serializable
from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor


def _size(value, name: str) -> int:
    if value is None:
        raise ValueError(f"`{name}` must be an Integer, received `None`.")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, received {value!r}.")
    return int(value)


def _shape(x):
    """``x``'s shape: a tuple of ints when the trace knows every size, else a tensor."""
    return tuple(x.shape) if None not in tuple(x.shape) else so.shape(x)


def _positions(positions):
    positions = as_tensor(positions)
    return so.expand_dims(positions, 0) if positions._value.ndim == 1 else positions


def _copy(initializer):
    """A fresh initializer of the same config, so that sublayers draw different values."""
    return initializers.get(initializers.serialize(initializer))


@register_keras_serializable(package="keras_hub")
@register_keras_serializable(package="keras_nlp")
class PositionEmbedding(Layer):
    """A learned ``(sequence_length, features)`` table; a call returns the rows of the
    input's positions (from ``start_index``, or at ``positions``), broadcast to its shape.

    >>> import numpy as np
    >>> layer = PositionEmbedding(sequence_length=10)
    >>> layer(np.zeros((2, 4, 3), "float32")).shape
    TensorShape([2, 4, 3])
    """

    # KerasHub's module of this class: saved configs name it as KerasHub's do.
    _keras_module = "keras_hub.src.layers.modeling.position_embedding"

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = _size(sequence_length, "sequence_length")
        self.initializer = initializers.get(initializer)
        self.position_embeddings = None

    def build(self, inputs_shape) -> None:
        self.position_embeddings = self.add_weight(
            "embeddings", (self.sequence_length, inputs_shape[-1]), self.initializer)

    def call(self, inputs, start_index=0, positions=None):
        table = as_tensor(self.position_embeddings)
        if positions is not None:
            return so.broadcast_to(so.gather(table, _positions(positions)), _shape(inputs))
        length = inputs.shape[-2]
        if isinstance(start_index, numbers.Integral) and length is not None and \
                start_index + length > self.sequence_length:
            raise ValueError(f"PositionEmbedding {self.name!r} holds {self.sequence_length} "
                             f"positions (its sequence_length); received a sequence of "
                             f"{length} steps from start_index={start_index}. Build the "
                             f"layer with a larger sequence_length.")
        if length is None:
            length = so.shape(inputs)[-2]
        rows = so.slice_tensor(table, ew.cast(so.stack([as_tensor(start_index), 0]), "int32"),
                        so.stack([as_tensor(length), -1]))
        return so.broadcast_to(rows, _shape(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": initializers.serialize(self.initializer)}


@register_keras_serializable(package="keras_hub")
@register_keras_serializable(package="keras_nlp")
class SinePositionEncoding(Layer):
    """The fixed sinusoids of "Attention is all you need": feature ``2k`` of position
    ``p`` is ``sin(p / max_wavelength ** (2k / d))``, feature ``2k + 1`` its cosine.

    >>> import numpy as np
    >>> SinePositionEncoding()(np.zeros((1, 3, 4), "float32")).numpy()[0, 0].tolist()
    [0.0, 1.0, 0.0, 1.0]
    """

    # KerasHub's module of this class: saved configs name it as KerasHub's do.
    _keras_module = "keras_hub.src.layers.modeling.sine_position_encoding"

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        dtype = self.dtype
        width = inputs.shape[-1]
        if positions is None:
            length = inputs.shape[-2] if inputs.shape[-2] is not None else \
                so.shape(inputs)[-2]
            from neuroflow.ops import creation

            positions = ew.cast(creation.range_(length) + start_index, dtype)
        positions = ew.cast(_positions(positions), dtype)
        features = as_tensor(list(range(width)))
        exponent = ew.cast(2 * (features // 2), dtype) / float(width)
        timescales = ew.pow(ew.cast(as_tensor(1.0 / self.max_wavelength), dtype), exponent)
        angles = linalg.einsum("bi,j->bij", positions, timescales)
        odd = ew.cast(features % 2, dtype)
        encodings = ew.sin(angles) * (1 - odd) + ew.cos(angles) * odd
        return so.broadcast_to(encodings, _shape(inputs))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


@register_keras_serializable(package="keras_hub")
@register_keras_serializable(package="keras_nlp")
class ReversibleEmbedding(Embedding):
    """An Embedding that also maps vectors back to logits over the vocabulary
    (``reverse=True``): by the transposed table (``tie_weights=True``) or a table of its
    own, ``reverse_embeddings``."""

    # KerasHub's module of this class: saved configs name it as KerasHub's do.
    _keras_module = "keras_hub.src.layers.modeling.reversible_embedding"

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self.reverse_embeddings = None

    def build(self, input_shape=None) -> None:
        super().build(input_shape)
        if not self.tie_weights and self.reverse_embeddings is None:
            self.reverse_embeddings = self.add_weight(
                "reverse_embeddings", (self.output_dim, self.input_dim),
                self.embeddings_initializer)

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = so.transpose(self.embeddings) if self.tie_weights else \
            as_tensor(self.reverse_embeddings)
        if self.reverse_dtype is not None:
            inputs, kernel = ew.cast(inputs, self.reverse_dtype), \
                ew.cast(kernel, self.reverse_dtype)
        logits = linalg.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = ew.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_output_shape(self, input_shape, reverse=False):
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}


@register_keras_serializable(package="keras_hub")
@register_keras_serializable(package="keras_nlp")
class TokenAndPositionEmbedding(Layer):
    """Token ids to ``token embedding + position embedding`` (both learned).

    >>> import numpy as np
    >>> layer = TokenAndPositionEmbedding(vocabulary_size=50, sequence_length=8,
    ...                                   embedding_dim=4)
    >>> layer(np.array([[1, 2, 3]])).shape
    TensorShape([1, 3, 4])
    """

    # KerasHub's module of this class: saved configs name it as KerasHub's do.
    _keras_module = "keras_hub.src.layers.modeling.token_and_position_embedding"

    supports_masking = True

    def __init__(self, vocabulary_size, sequence_length, embedding_dim, tie_weights=True,
                 embeddings_initializer="uniform", mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = _size(vocabulary_size, "vocabulary_size")
        self.sequence_length = _size(sequence_length, "sequence_length")
        self.embedding_dim = _size(embedding_dim, "embedding_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.token_embedding = ReversibleEmbedding(
            self.vocabulary_size, self.embedding_dim, tie_weights=tie_weights,
            embeddings_initializer=_copy(self.embeddings_initializer), mask_zero=mask_zero,
            dtype=self.dtype, name="token_embedding")
        self.position_embedding = PositionEmbedding(
            self.sequence_length, initializer=_copy(self.embeddings_initializer),
            dtype=self.dtype, name="position_embedding")

    def _convert_inputs(self, inputs):
        return self.token_embedding._convert_inputs(inputs)  # token ids stay integers

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        self.token_embedding._build_from_shape(input_shape)
        self.position_embedding._build_from_shape(input_shape + (self.embedding_dim,))
        for layer in (self.token_embedding, self.position_embedding):
            adopt_weights(self.name, layer)

    def call(self, inputs, start_index=0, positions=None):
        tokens = self.token_embedding(inputs)
        outputs = tokens + self.position_embedding(tokens, start_index=start_index,
                                                   positions=positions)
        mask = get_keras_mask(tokens)
        if mask is not None:
            set_keras_mask(outputs, mask)
        return outputs

    def compute_mask(self, inputs, mask=None):
        return self.token_embedding.compute_mask(inputs) if self.token_embedding.mask_zero \
            else None

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.embedding_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length, "embedding_dim": self.embedding_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "tie_weights": self.token_embedding.tie_weights,
                "mask_zero": self.token_embedding.mask_zero}
