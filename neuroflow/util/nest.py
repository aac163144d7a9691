"""Nested structures (lists, tuples, dicts, namedtuples) of leaves, as ``tf.nest``.

Dicts are walked in sorted key order, as TensorFlow does, so flattening is
deterministic; everything else (tensors, arrays, numbers, None) is a leaf.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def is_nested(value: Any) -> bool:
    """True for lists, tuples (namedtuples included) and dicts."""
    return isinstance(value, (list, tuple, dict))


def _sort_key(key: Any):
    return (str(type(key)), key) if not isinstance(key, str) else ("", key)


def _children(structure: Any) -> list:
    if isinstance(structure, dict):
        return [structure[key] for key in sorted(structure, key=_sort_key)]
    return list(structure)


def flatten(structure: Any) -> list:
    """The leaves of ``structure`` in a deterministic order.

    >>> flatten({"b": 1, "a": [2, (3, None)]})
    [2, 3, None, 1]
    """
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


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
        items = [(key, packed[key]) for key in structure]  # keep the dict's own key order
        if isinstance(structure, collections.defaultdict):
            return type(structure)(structure.default_factory, items)
        return type(structure)(items)
    if _is_namedtuple(structure):
        return type(structure)(*(_pack(item, leaves) for item in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(item, leaves) for item in structure)
    leaf = next(leaves, _END)
    if leaf is _END:
        raise ValueError("pack_sequence_as: fewer leaves than the structure holds.")
    return leaf


def assert_same_structure(first: Any, second: Any, check_types: bool = True) -> None:
    """Raise ValueError (TypeError for differing sequence types) unless the nesting matches."""
    stack = [(first, second)]
    while stack:
        a, b = stack.pop()
        if is_nested(a) != is_nested(b):
            raise ValueError(f"The two structures don't have the same nested structure: "
                             f"{a!r} and {b!r}.")
        if not is_nested(a):
            continue
        if check_types and type(a) is not type(b):
            raise TypeError(f"The two structures don't have the same sequence type: "
                            f"{type(a).__name__} and {type(b).__name__} ({a!r} and {b!r}).")
        if isinstance(a, dict) and sorted(a, key=_sort_key) != sorted(b, key=_sort_key):
            raise ValueError(f"The two dictionaries don't have the same keys: {sorted(a)} and "
                             f"{sorted(b)}.")
        if len(a) != len(b):
            raise ValueError(f"The two structures don't have the same length: {a!r} and {b!r}.")
        stack.extend(zip(_children(a), _children(b)))


def map_structure(fn: Callable, *structures: Any, check_types: bool = True) -> Any:
    """Apply ``fn`` to corresponding leaves of structures of the same nesting."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types=check_types)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
