"""Nested structures (lists, tuples, dicts, namedtuples) of leaves, as ``tf.nest``.

Dicts are walked in sorted key order, as TensorFlow does, so flattening is
deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def is_nested(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict))


def flatten(structure: Any) -> list:
    """The leaves of ``structure`` in a deterministic order."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure, key=_sort_key)
                for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def _sort_key(key: Any):
    return (str(type(key)), key) if not isinstance(key, str) else ("", key)


def pack_sequence_as(structure: Any, flat: list) -> Any:
    """Rebuild ``structure`` with the leaves taken in order from ``flat``."""
    leaves = iter(flat)
    result = _pack(structure, leaves)
    if next(leaves, _END) is not _END:
        raise ValueError("pack_sequence_as: more leaves than the structure holds.")
    return result


_END = object()


def _pack(structure: Any, leaves) -> Any:
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], leaves) for key in sorted(structure, key=_sort_key)}
        return type(structure)((key, packed[key]) for key in structure)
    if _is_namedtuple(structure):
        return type(structure)(*(_pack(item, leaves) for item in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(item, leaves) for item in structure)
    leaf = next(leaves, _END)
    if leaf is _END:
        raise ValueError("pack_sequence_as: fewer leaves than the structure holds.")
    return leaf


def map_structure(fn: Callable, *structures: Any) -> Any:
    """Apply ``fn`` to corresponding leaves of one or more structures of the same shape."""
    flats = [flatten(s) for s in structures]
    if any(len(f) != len(flats[0]) for f in flats):
        raise ValueError("map_structure: the structures do not have the same number of leaves.")
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
