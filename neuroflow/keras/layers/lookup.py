"""Categorical preprocessing layers: StringLookup, IntegerLookup, CategoryEncoding, Hashing.

The lookup layers follow Keras 3's ``IndexLookup``: a vocabulary set with ``vocabulary=``
/ ``set_vocabulary`` or learned with ``adapt`` (most frequent tokens first, ties broken
by the tokens themselves, largest first, as Keras sorts them), a mask token at index 0
(``"int"`` output only), ``num_oov_indices`` out-of-vocabulary indices after it (several
are assigned by hashing: FarmHash64 for strings, ``token % n`` for integers by default),
and the outputs ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` and ``"tf_idf"``.
The vocabulary is a tensor the lookup op reads (``ops/lookup.py``), so calls trace.

Not supported (each raises): ``sparse=True`` (neuroflow has no SparseTensor), and
saving the vocabulary as a Keras asset file (it is in ``get_config`` when it was given).
"""

from __future__ import annotations

import collections
import math
import os

import numpy as np

from neuroflow import dtypes
from neuroflow.errors import FailedPreconditionError, InvalidArgumentError, UnimplementedError
from neuroflow.keras.layers.base import Layer
from neuroflow.ops import elementwise as ew
from neuroflow.ops import indexing, lookup, shape_ops, strings
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.ragged import RaggedTensor, map_flat_values
from neuroflow.tensor import Tensor, host_array
from neuroflow.variables import Variable

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_INT64_MAX = np.iinfo(np.int64).max


def check_choice(value, allowed: tuple, caller: str, arg: str, allow_none: bool = False,
                 allow_callables: bool = False) -> None:
    """Keras's check of a string argument, with its message."""
    if (allow_none and value is None) or (allow_callables and callable(value)):
        return
    if isinstance(value, str) and value in allowed:
        return
    raise ValueError(f"Unknown value for `{arg}` argument of {caller}. Allowed values are: "
                     f"{allowed}. Received: {arg}={value}")


def refuse_sparse(layer: str, sparse: bool) -> None:
    if sparse:
        raise NotImplementedError(f"{layer}: sparse=True is not supported (neuroflow has no "
                                  f"SparseTensor); received sparse=True. Use the dense "
                                  f"output (sparse=False).")


def listify(value):
    """Tensors and arrays as lists, for configs (as Keras's ``listify_tensors``)."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return value


def encode_categorical(inputs: Tensor, output_mode: str, depth: int, dtype,
                       count_weights: Tensor | None = None) -> Tensor:
    """Keras's encoding of integer indices: one-hot rows, or per-sample (last axis) presence
    (``"multi_hot"``) or counts (``"count"``) over ``depth`` bins. Indices past ``depth`` are
    dropped; negative ones are an error (as TensorFlow's bincount)."""
    if output_mode == "int":
        return ew.cast(inputs, dtype)
    if inputs.shape.rank == 0:
        inputs = shape_ops.expand_dims(inputs, -1)
    if output_mode == "one_hot":
        if inputs.shape.rank > 1 and inputs.shape[-1] == 1:
            inputs = shape_ops.squeeze(inputs, -1)
        return shape_ops.one_hot(inputs, depth, dtype=dtype)
    if inputs.shape.rank > 2:
        raise ValueError(f"When output_mode is not `'int'`, maximum supported output rank is "
                         f"2. Received output_mode {output_mode} and input shape "
                         f"{inputs.shape}, which would result in output rank "
                         f"{inputs.shape.rank}.")
    counts = indexing.bincount(inputs, weights=count_weights, minlength=depth, maxlength=depth,
                               dtype=dtype, axis=-1, binary_output=output_mode == "multi_hot")
    return ew.cast(counts, dtype)


class PreprocessingLayer(Layer):
    """A layer whose inputs keep their dtype (ids, tokens, text) and may be ragged."""

    def _convert_inputs(self, inputs):
        if isinstance(inputs, (Tensor, RaggedTensor)):
            return inputs
        return as_tensor(inputs)


class IndexLookup(PreprocessingLayer):
    """What StringLookup and IntegerLookup share (Keras's ``IndexLookup``)."""

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: "
                             f"max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be greater than or equal to 0. Received: "
                             f"num_oov_indices={num_oov_indices}")
        check_choice(oov_method, ("floormod", "farmhash"), type(self).__name__, "oov_method")
        integer_keys = dtypes.as_dtype(vocabulary_dtype).is_integer
        if salt is not None:
            if integer_keys and oov_method != "farmhash":
                raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. "
                                 f"Received: oov_method={oov_method}")
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                raise ValueError(f"The `salt` argument for `IndexLookup` can only be a tuple "
                                 f"of 2 integers, or a single integer. Received: salt={salt}.")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        check_choice(output_mode, _MODES, type(self).__name__, "output_mode")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: "
                             f"output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError(f"`sparse` may only be true if `output_mode` is `'one_hot'`, "
                             f"`'multi_hot'`, `'count'` or `'tf_idf'`. Received: "
                             f"sparse={sparse} and output_mode={output_mode}")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        refuse_sparse(type(self).__name__, sparse)
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)  # as Keras: the outputs' dtypes are fixed by the mode
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = dtypes.as_dtype(vocabulary_dtype).name
        self.oov_method = oov_method
        self.salt = salt
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._tokens: Tensor | None = None  # the vocabulary without special tokens
        self.idf_weights: Variable | None = None
        self._reset_counts()
        if self.output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output "
                             "mode, the `idf_weights` argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # Subclasses say what their tokens are: ``_token_array(tokens)`` (the key array),
    # ``_token_value(token)`` (a token as get_vocabulary shows it) and ``_key_tensor(inputs)``
    # (the inputs as keys, or the error TensorFlow gives for the wrong dtype).

    # --- indices ---------------------------------------------------------------------------
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        learned = 0 if self._tokens is None else int(self._tokens.shape[0])
        return learned + self._token_start_index()

    def _config_vocabulary(self):
        """The vocabulary a config carries: the one given, else the one ``adapt`` learned
        (Keras 3 keeps a learned one in the file's assets; neuroflow writes it inline, which
        Keras reads too), so a saved model keeps it."""
        if self.input_vocabulary is not None or self._tokens is None:
            return listify(self.input_vocabulary)
        return self.get_vocabulary(include_special_tokens=False)

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary, in index order (with the mask and OOV tokens first, by default)."""
        tokens = [] if self._tokens is None else host_array(self._tokens._value).tolist()
        vocab = [self.oov_token] * self._token_start_index()
        vocab += [self._token_value(t) for t in tokens]
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def _record_vocabulary_size(self) -> None:
        if self.output_mode != "int" and not self.pad_to_max_tokens:
            size = self.vocabulary_size()
            if self._frozen_vocab_size is not None and size != self._frozen_vocab_size:
                raise RuntimeError(
                    f"When using `output_mode={self.output_mode}` and "
                    f"`pad_to_max_tokens=False`, the vocabulary size cannot be changed after "
                    f"the layer is called. Old vocab size is {self._frozen_vocab_size}, new "
                    f"vocab size is {size}")
        self._frozen_vocab_size = self.vocabulary_size()

    # --- setting the vocabulary ------------------------------------------------------------
    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list, array or 1-D tensor of tokens, or a text file with one
        token per line) and, in ``"tf_idf"`` mode, the inverse document frequencies."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            if not os.path.exists(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary "
                                 "from file.")
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            vocabulary = lines if self.vocabulary_dtype == "string" else [int(v) for v in lines]
        tokens = self._as_token_list(vocabulary)
        if not tokens:
            raise ValueError(f"Cannot set an empty vocabulary. Received: "
                             f"vocabulary={vocabulary}")
        start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * \
            self.num_oov_indices
        found_special = tokens[:start] == special
        learned = tokens[start:] if found_special else tokens
        repeated = [t for t, n in collections.Counter(learned).items() if n > 1]
        if repeated:
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: {repeated}")
        self._check_reserved(learned, tokens, special)
        size = start + len(learned)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {size}; `max_tokens` is "
                             f"{self.max_tokens}.")
        self._tokens = Tensor(self._token_array(learned))
        self._record_vocabulary_size()
        if self.output_mode == "tf_idf" and idf_weights is not None:
            self._set_idf(np.asarray(listify(idf_weights), dtype=np.float64), len(tokens),
                          found_special)

    def _as_token_list(self, vocabulary) -> list:
        if isinstance(vocabulary, Tensor) or hasattr(vocabulary, "_read_for_op"):
            vocabulary = as_tensor(vocabulary).numpy()
        items = np.asarray(vocabulary, dtype=object).reshape(-1).tolist() \
            if not isinstance(vocabulary, (list, tuple)) else list(vocabulary)
        return [self._token_value(t) for t in items]

    def _check_reserved(self, learned: list, tokens: list, special: list) -> None:
        for token, what, applies in ((self.mask_token, "mask_token", True),
                                     (self.oov_token, "oov_token", self.invert)):
            if token is not None and applies and token in learned:
                index = len(tokens) - 1 - tokens[::-1].index(token)
                raise ValueError(
                    f"Found reserved {what.split('_')[0].replace('oov', 'OOV')} token at "
                    f"unexpected location in `vocabulary`. Note that passed `vocabulary` does "
                    f"not need to include the OOV and mask tokens. Either remove all mask and "
                    f"OOV tokens, or include them only at the start of the vocabulary in "
                    f"precisely this order: {special}. Received: {what}={token} at "
                    f"vocabulary index [{index}]")

    def _set_idf(self, weights: np.ndarray, vocab_length: int, found_special: bool) -> None:
        if len(weights) != vocab_length:
            raise ValueError(f"`idf_weights` must be the same length as vocabulary. "
                             f"len(idf_weights) is {len(weights)}; len(vocabulary) is "
                             f"{vocab_length}")
        if weights.ndim != 1:
            raise ValueError(f"TF-IDF data must be a 1-index array. Received: "
                             f"type(idf_weights)={type(weights)}")
        # Without the special tokens given, their weight is the average of the given ones.
        front = 0 if found_special else self._token_start_index()
        front_value = 0.0 if found_special else float(np.average(weights))
        back = (self.max_tokens - front - len(weights)
                if self.pad_to_max_tokens and self.max_tokens is not None else 0)
        padded = np.pad(weights, (front, back), "constant", constant_values=(front_value, 0))
        self.idf_weights = Variable(padded.astype(np.float32), trainable=False)

    # --- adapt -----------------------------------------------------------------------------
    def _reset_counts(self) -> None:
        self._token_counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    def reset_state(self) -> None:
        if not self._has_input_vocabulary:
            self._reset_counts()

    def adapt(self, data, steps=None) -> None:
        """Learn the vocabulary (and document frequencies, for ``"tf_idf"``) from ``data``: a
        dataset of batches, an iterable of batches, or an array, list or tensor."""
        from neuroflow.data.dataset import is_dataset

        self.reset_state()
        if is_dataset(data):
            for batch in (data if steps is None else data.take(steps)):
                self.update_state(batch)
        elif hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray,
                                                                 Tensor, RaggedTensor)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            data = self._key_tensor(data)
            if data.shape.rank == 1:
                data = shape_ops.expand_dims(data, -1)
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data) -> None:
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             f"vocabulary via `vocabulary` argument or `set_vocabulary()` "
                             f"method.")
        data = data if isinstance(data, RaggedTensor) else self._key_tensor(data)
        if isinstance(data, Tensor):
            if data.shape.rank == 0:
                data = shape_ops.expand_dims(data, 0)
            if data.shape.rank == 1:
                data = shape_ops.expand_dims(data, 0)  # one document
        rows = _rows(data)
        for row in rows:
            self._token_counts.update(row)
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row))
            self._num_documents += len(rows)

    def finalize_state(self) -> None:
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                self._token_counts.pop(self._token_array([special])[0], None)
        # Keras's order: most frequent first, ties broken by the larger token first.
        ordered = sorted(self._token_counts.items(), key=lambda kv: (kv[1], kv[0]),
                         reverse=True)
        if self.max_tokens:
            ordered = ordered[:self.max_tokens - self._token_start_index()]
        keys = np.empty(len(ordered), dtype=object)
        keys[:] = [token for token, _ in ordered]
        self._tokens = Tensor(self._token_array(keys.tolist()))
        if self.output_mode == "tf_idf":
            documents = np.array([self._document_counts[t] for t, _ in ordered], np.float64)
            idf = np.log(1 + self._num_documents / (1 + documents)).astype(np.float32)
            mean = np.float32(idf.mean()) if idf.size else np.float32(math.nan)
            padded = np.concatenate([np.full(self._token_start_index(), mean, np.float32), idf])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                padded = np.pad(padded, (0, self.max_tokens - len(padded)))
            self.idf_weights = Variable(padded, trainable=False)
        self._reset_counts()
        self._record_vocabulary_size()

    # --- calling ---------------------------------------------------------------------------
    def call(self, inputs):
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                f"you must set the layer's vocabulary before calling it. Either pass a "
                f"`vocabulary` argument to the layer, or call `adapt` with some sample data.")
        if self._tokens is None and not self.invert:
            raise FailedPreconditionError(
                f"Table not initialized: layer {self.name!r} has no vocabulary yet. Call "
                f"adapt(data) or set_vocabulary(tokens) first.", "LookupTableFindV2")
        if isinstance(inputs, RaggedTensor):
            lookups = map_flat_values(self._lookup_dense, inputs)
        else:
            inputs = self._key_tensor(inputs) if not self.invert else as_tensor(inputs)
            scalar = inputs.shape.rank == 0
            if scalar:
                inputs = shape_ops.expand_dims(inputs, -1)
            lookups = self._lookup_dense(inputs)
            if self.output_mode == "int":
                return shape_ops.squeeze(lookups, -1) if scalar else lookups
        if self.output_mode == "int":
            return lookups
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        if isinstance(lookups, RaggedTensor):
            if mode == "one_hot":
                raise NotImplementedError(f"{type(self).__name__}: output_mode='one_hot' on "
                                          f"ragged inputs is not supported; use 'multi_hot'.")
            # Rows padded with an index past every bin: padding adds nothing to a count.
            lookups = lookups.to_tensor(default_value=_INT64_MAX)
        encoded = encode_categorical(lookups, mode, depth, dtypes.int64)
        if self.output_mode == "tf_idf":
            return ew.cast(encoded, dtypes.float32) * self.idf_weights
        return encoded

    def _lookup_dense(self, inputs: Tensor) -> Tensor:
        if self.invert:
            return self._invert(inputs)
        oov_start = self._oov_start_index()
        default = {0: -1, 1: oov_start}.get(self.num_oov_indices, -1)
        lookups = lookup.vocabulary_lookup(inputs, self._tokens, offset=self._token_start_index(),
                                           default=default)
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else _INT64_MAX  # dropped by encoding
            mask = ew.equal(inputs, self._mask_key())
            lookups = ew.where(mask, Tensor(np.array(mask_value, np.int64)), lookups)
        if self.num_oov_indices == 0:
            return _refuse_oov(inputs, lookups)
        if self.num_oov_indices > 1:
            oov = ew.equal(lookups, Tensor(np.array(-1, np.int64)))
            buckets = self._oov_buckets(inputs) + oov_start
            lookups = ew.where(oov, buckets, lookups)
        return lookups

    def _oov_buckets(self, inputs: Tensor) -> Tensor:
        integer = inputs.dtype.is_integer
        if integer and self.oov_method != "farmhash":
            return ew.floormod(ew.cast(inputs, dtypes.int64), self.num_oov_indices)
        text = strings.as_string(inputs) if integer else inputs
        if self.salt is not None:
            return strings.to_hash_bucket_strong(text, self.num_oov_indices, self.salt)
        return strings.to_hash_bucket_fast(text, self.num_oov_indices)

    def _mask_key(self) -> Tensor:
        return Tensor(self._token_array([self.mask_token]).reshape(()))

    def _invert(self, indices: Tensor) -> Tensor:
        tokens = self._tokens if self._tokens is not None else \
            Tensor(self._token_array([]))
        default = Tensor(self._token_array([self.oov_token]).reshape(()))
        out = lookup.vocabulary_invert(ew.cast(indices, dtypes.int64), tokens, default,
                                       offset=self._token_start_index())
        if self.mask_token is not None:
            out = ew.where(ew.equal(indices, 0), self._mask_key(), out)
        return out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def get_config(self) -> dict:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": listify(self.input_idf_weights),
                "vocabulary": self._config_vocabulary(),
                "vocabulary_size": self._frozen_vocab_size, "oov_method": self.oov_method,
                "salt": self.salt}


def _rows(data) -> list[list]:
    """The tokens of each row (the last axis) of a dense or ragged tensor of rank >= 2."""
    if isinstance(data, RaggedTensor):
        values = host_array(data.flat_values._value).tolist()
        splits = host_array(data.nested_row_splits[-1]._value).tolist()
        return [values[a:b] for a, b in zip(splits[:-1], splits[1:])]
    array = host_array(data._value)
    return array.reshape(-1, array.shape[-1] if array.ndim else 1).tolist()


def _refuse_oov(inputs: Tensor, lookups: Tensor) -> Tensor:
    """``lookups``, or Keras's error when some input is not in the vocabulary (-1)."""
    found = host_array(lookups._value) if type(lookups._value) is np.ndarray else None
    if found is None:
        raise UnimplementedError("num_oov_indices=0 checks the inputs' values, which a traced "
                                 "function does not know; call the layer eagerly, or set "
                                 "num_oov_indices=1.", "IndexLookup")
    missing = host_array(inputs._value)[found == -1]
    if missing.size:
        shown = strings.format("{}", Tensor(missing)).numpy().decode()
        raise InvalidArgumentError(f"When `num_oov_indices=0` all inputs should be in "
                                   f"vocabulary, found OOV values {shown}, consider setting "
                                   f"`num_oov_indices=1`.", "IndexLookup")
    return lookups


class StringLookup(IndexLookup):
    """Map strings to indices of a vocabulary (or back, with ``invert=True``), as Keras 3.

    >>> from neuroflow.keras import layers
    >>> layer = layers.StringLookup(vocabulary=["a", "b", "c"])
    >>> layer([["a", "c"], ["d", "b"]]).numpy().tolist()
    [[1, 3], [0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def _token_array(self, tokens: list) -> np.ndarray:
        out = np.empty(len(tokens), dtype=object)
        out[:] = [t if isinstance(t, bytes) else str(t).encode(self.encoding) for t in tokens]
        return out

    def _token_value(self, token):
        return token.decode(self.encoding) if isinstance(token, bytes) else token

    def _key_tensor(self, inputs) -> Tensor:
        tensor = as_tensor(inputs)
        if tensor.dtype != dtypes.string:
            raise UnimplementedError(f"Cast {tensor.dtype.name} to string is not supported: "
                                     f"StringLookup {self.name!r} looks up strings. Use "
                                     f"IntegerLookup for integer ids, or tf.strings.as_string.",
                                     "Cast")
        return tensor

    def get_config(self) -> dict:
        config = super().get_config()
        del config["vocabulary_dtype"]  # strings have one dtype
        return {**config, "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Map integer ids to indices of a vocabulary (or back, with ``invert=True``), as Keras 3.

    >>> from neuroflow.keras import layers
    >>> layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])([12, 1138, 7]).numpy().tolist()
    [1, 3, 0]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, oov_method="floormod",
                 salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If `max_tokens` is set for `IntegerLookup`, it must be greater "
                             f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"The value of `num_oov_indices` argument for `IntegerLookup` "
                             f"must >= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError(f"Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method, salt=salt,
                         name=name, **kwargs)

    def _token_array(self, tokens: list) -> np.ndarray:
        return np.array([int(t) for t in tokens], dtype=np.int64)

    def _token_value(self, token):
        return int(token)

    def _key_tensor(self, inputs) -> Tensor:
        tensor = as_tensor(inputs)
        if tensor.dtype == dtypes.string:
            raise UnimplementedError(f"Cast string to int64 is not supported: IntegerLookup "
                                     f"{self.name!r} looks up integers. Use StringLookup for "
                                     f"strings, or tf.strings.to_number.", "Cast")
        return tensor if tensor.dtype == dtypes.int64 else ew.cast(tensor, dtypes.int64)

    def get_config(self) -> dict:
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config


class CategoryEncoding(PreprocessingLayer):
    """Encode integer ids below ``num_tokens`` as one-hot rows or per-sample multi-hot or count
    vectors, as Keras 3.

    >>> from neuroflow.keras import layers
    >>> layers.CategoryEncoding(num_tokens=4)([[0, 1], [3, 3]]).numpy().tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        refuse_sparse("CategoryEncoding", sparse)
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(f"`count_weights` is not used when `output_mode` is not "
                                 f"`'count'`. Received `count_weights={count_weights}`.")
            count_weights = as_tensor(count_weights, dtype=self.dtype) \
                if not isinstance(count_weights, Tensor) else ew.cast(count_weights, self.dtype)
        return encode_categorical(inputs, self.output_mode, self.num_tokens, self.dtype,
                                  count_weights)

    def compute_output_shape(self, input_shape):
        if input_shape is not None and len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return tuple(input_shape) + (self.num_tokens,)
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode}


class Hashing(PreprocessingLayer):
    """Hash values (strings, or numbers via their text) into ``num_bins`` bins: FarmHash64 as
    TensorFlow (``pyfarmhash`` package), or SipHash64 keyed by ``salt``.

    >>> from neuroflow.keras import layers
    >>> layers.Hashing(num_bins=3, salt=133)(["A", "B", "C"]).numpy().tolist()
    [0, 0, 2]
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(f'When `output_mode="int"`, `dtype` should be an integer type, '
                             f"'int32' or 'in64'. Received: dtype={kwargs['dtype']}")
        accepted = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in accepted:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of "
                             f"{accepted}. Received: output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError(f'`sparse` may only be true if `output_mode` is `"one_hot"`, '
                             f'`"multi_hot"`, or `"count"`. Received: sparse={sparse} and '
                             f"output_mode={output_mode}")
        refuse_sparse("Hashing", sparse)
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError(f"The `salt` argument for `Hashing` can only be a tuple of "
                                 f"size 2 integers, or a single integer. Received: salt={salt}.")

    def call(self, inputs):
        inputs = as_tensor(inputs)
        if self.output_mode == "one_hot" and inputs.shape.rank and inputs.shape[-1] == 1:
            inputs = shape_ops.squeeze(inputs, -1)
        bins = self._hash_values_to_bins(inputs)
        return encode_categorical(bins, self.output_mode, self.num_bins, self.dtype)

    def _hash_values_to_bins(self, values: Tensor) -> Tensor:
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = ew.equal(values, self.mask_value)
        if values.dtype.is_floating:
            values = ew.cast(values, dtypes.int64)
        if values.dtype != dtypes.string:
            values = strings.as_string(values)
        if self.strong_hash:
            hashed = strings.to_hash_bucket_strong(values, bins, self.salt)
        else:
            hashed = strings.to_hash_bucket_fast(values, bins)
        if mask is not None:
            hashed = ew.where(mask, ew.zeros_like_value(hashed), hashed + 1)
        return hashed

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}
