"""TextVectorization: text in, token indices (or bag-of-words vectors) out, as Keras 3.

Each call standardizes the text (lower case and ASCII punctuation removed, by default),
splits it into tokens (on whitespace, into characters, or with a callable), optionally
makes n-grams, and looks the tokens up in a vocabulary with a ``StringLookup`` whose
mask token is ``""`` (index 0, the padding) and whose OOV token is ``"[UNK]"`` (index 1).
``adapt`` learns the vocabulary, most frequent tokens first. Every step is a string op
(``tf.strings``), so the layer runs eagerly, in ``tf.data`` pipelines, and traced in a
``tf.function``.
"""

from __future__ import annotations

import numpy as np

from neuroflow import dtypes
from neuroflow.keras.layers.lookup import (
    PreprocessingLayer,
    StringLookup,
    check_choice,
    listify,
    refuse_sparse,
)
from neuroflow.ops import shape_ops, strings
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.ragged import RaggedTensor
from neuroflow.tensor import Tensor

# Keras's punctuation: ASCII punctuation, as an RE2 character class.
_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


class TextVectorization(PreprocessingLayer):
    """Map text to integer sequences (``output_mode="int"``) or to multi-hot, count or
    TF-IDF vectors over a vocabulary, as ``keras.layers.TextVectorization``.

    >>> from neuroflow.keras import layers
    >>> layer = layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog ran!"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'ran', 'dog', 'cat']
    >>> layer(["the cat ran away"]).numpy().tolist()
    [[2, 6, 4, 1]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        check_choice(standardize, ("lower_and_strip_punctuation", "lower", "strip_punctuation"),
                     "TextVectorization", "standardize", allow_none=True, allow_callables=True)
        check_choice(split, ("whitespace", "character"), "TextVectorization", "split",
                     allow_none=True, allow_callables=True)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        check_choice(output_mode, ("int", "one_hot", "multi_hot", "count", "tf_idf"),
                     "TextVectorization", "output_mode")
        if not (ngrams is None or isinstance(ngrams, int) or isinstance(ngrams, tuple)
                and all(isinstance(item, int) for item in ngrams)):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        if output_mode == "int" and not (isinstance(output_sequence_length, int)
                                         or output_sequence_length is None):
            raise ValueError(f"`output_sequence_length` must be either None or an integer when "
                             f"`output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}.")
        if ragged and output_mode != "int":
            raise ValueError(f"`ragged` must not be true if `output_mode` is `'int'`. Received: "
                             f"ragged={ragged} and output_mode={output_mode}")
        refuse_sparse("TextVectorization", sparse)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=self._has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    def build(self, input_shape=None) -> None:
        pass  # no weights: the vocabulary is set by adapt or set_vocabulary

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = tuple(input_shape) + (1,)
        else:
            input_shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # --- the vocabulary --------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary from ``data``: a dataset of batches of strings, an iterable of
        batches, or a list, array or tensor of strings."""
        from neuroflow.data.dataset import is_dataset

        self.reset_state()
        if is_dataset(data):
            for batch in (data if steps is None else data.take(steps)):
                self.update_state(batch)
        elif hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray,
                                                                 Tensor)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            data = _text(data)
            if data.shape.rank == 1:
                data = shape_ops.expand_dims(data, -1)
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data) -> None:
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order: ``""`` (padding) and ``"[UNK]"`` first by default."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # --- calling ---------------------------------------------------------------------------
    def _preprocess(self, inputs):
        inputs = _text(inputs)
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            inputs = strings.lower(inputs)
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            inputs = strings.regex_replace(inputs, _PUNCTUATION, "")
        if callable(self._standardize):
            inputs = self._standardize(inputs)
        if self._split is not None:
            if inputs.shape.rank > 1:
                if inputs.shape[-1] != 1:
                    raise ValueError(f"When using `TextVectorization` to tokenize strings, the "
                                     f"input rank must be 1 or the last shape dimension must be "
                                     f"1. Received: inputs.shape={inputs.shape} with "
                                     f"rank={inputs.shape.rank}")
                inputs = shape_ops.squeeze(inputs, -1)
            if self._split == "whitespace":
                inputs = strings.split(inputs)
            elif self._split == "character":
                inputs = strings.unicode_split(inputs, "UTF-8")
            else:
                inputs = self._split(inputs)
        if self._ngrams is not None:
            inputs = strings.ngrams(inputs, ngram_width=self._ngrams, separator=" ")
        return inputs

    def call(self, inputs):
        lookups = self._lookup_layer.call(self._preprocess(inputs))
        if self._output_mode != "int":
            return lookups
        length = self._output_sequence_length
        if isinstance(lookups, RaggedTensor):
            if self._ragged:
                return lookups
            shape = list(lookups.shape)
            shape[-1] = length
            return lookups.to_tensor(default_value=0, shape=shape)
        if length is None:
            return lookups
        # A dense result (no split): cut or pad the last axis to the sequence length.
        lookups = lookups[..., :length]
        if self._ragged:
            return lookups
        width = lookups.shape[-1]
        if width is None:
            raise NotImplementedError("TextVectorization with split=None pads to "
                                      "output_sequence_length inputs whose last size is known; "
                                      f"received shape {lookups.shape}.")
        pad = [[0, 0]] * (lookups.shape.rank - 1) + [[0, length - width]]
        return shape_ops.pad(lookups, pad)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_tokens": self._lookup_layer.max_tokens,
                "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
                "sparse": self._lookup_layer.sparse, "ragged": self._ragged,
                "vocabulary": self._lookup_layer._config_vocabulary(),
                "idf_weights": listify(self._lookup_layer.input_idf_weights),
                "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str) \
                    and not callable(config[key]):
                raise NotImplementedError(f"TextVectorization.from_config: a serialized "
                                          f"callable `{key}` cannot be restored; pass the "
                                          f"callable itself in the config.")
        return cls(**config)


def _text(inputs) -> Tensor:
    """The inputs as a string tensor; numbers are refused as TensorFlow refuses them."""
    if isinstance(inputs, RaggedTensor):
        return inputs
    # Python numbers are refused by the conversion itself, as TensorFlow's conversion does.
    tensor = inputs if isinstance(inputs, Tensor) else as_tensor(inputs, dtype=dtypes.string)
    if tensor.dtype != dtypes.string:
        raise TypeError(f"Cannot convert a {tensor.dtype.name} tensor to EagerTensor of dtype "
                        f"string: TextVectorization takes strings. Use tf.strings.as_string to "
                        f"format numbers as text.")
    return tensor
