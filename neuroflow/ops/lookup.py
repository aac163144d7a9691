"""Vocabulary lookups: token -> index and index -> token, for Keras's lookup layers.

TensorFlow keeps a vocabulary in a hash table resource; here the vocabulary is a 1-D
tensor (``keys``: strings, or int64 tokens) passed to the op as an input, so a traced
function reads it as it reads any tensor. The table built from it (a dict for strings, a
sorted copy for integers) is cached per ``keys`` array, which never changes: a new
vocabulary is a new tensor.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.ops.registry import Lowering, primitive

_FRESH = Lowering(result="fresh")
_TABLES: OrderedDict[int, tuple] = OrderedDict()
_CACHED = 32


def _table(keys: np.ndarray):
    """The lookup structure for ``keys``, built once per array (kept alive by the cache)."""
    entry = _TABLES.get(id(keys))
    if entry is not None and entry[0] is keys:
        _TABLES.move_to_end(id(keys))
        return entry[1]
    if keys.dtype.kind == "O":
        table = {token: position for position, token in enumerate(keys.tolist())}
    else:
        order = np.argsort(keys, kind="stable")
        table = (keys[order], order)
    _TABLES[id(keys)] = (keys, table)
    if len(_TABLES) > _CACHED:
        _TABLES.popitem(last=False)
    return table


def positions(x: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The position of each element of ``x`` in ``keys``, or -1 where it is not there."""
    table = _table(keys)
    if keys.dtype.kind == "O":
        found = [table.get(item, -1) for item in x.ravel().tolist()]
        return np.array(found, dtype=np.int64).reshape(x.shape)
    ordered, order = table
    if not len(ordered):
        return np.full(x.shape, -1, np.int64)
    where = np.clip(np.searchsorted(ordered, x), 0, len(ordered) - 1)
    return np.where(ordered[where] == x, order[where], -1).astype(np.int64)


@primitive("vocabulary_lookup", differentiable=False, lowering=_FRESH,
           shape=lambda x, keys, **attrs: AbstractArray(x.shape, np.int64))
def vocabulary_lookup(xp, x, keys, *, offset, default):
    """``offset`` plus the position of each element of ``x`` in ``keys``; ``default`` where
    it is missing."""
    found = positions(x, keys)
    return np.where(found >= 0, found + offset, default).astype(np.int64)


@primitive("vocabulary_invert", differentiable=False, lowering=_FRESH,
           shape=lambda x, tokens, default, **attrs: AbstractArray(x.shape, tokens.dtype))
def vocabulary_invert(xp, x, tokens, default, *, offset):
    """``tokens[x - offset]``, or ``default`` where that index is outside ``tokens``."""
    index = x.astype(np.int64) - offset
    valid = (index >= 0) & (index < len(tokens))
    out = np.empty(x.shape, dtype=tokens.dtype)
    out[...] = default
    out[valid] = tokens[index[valid]]
    return out
