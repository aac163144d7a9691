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
    try:
        result = _pack(structure, leaves)
    except _TooFew:
        raise ValueError(_pack_message(structure, flat)) from None
    if next(leaves, _END) is not _END:
        raise ValueError(_pack_message(structure, flat))
    return result


class _TooFew(Exception):
    """Internal: ``flat`` ran out before the structure was filled."""


def _pack_message(structure: Any, flat: list) -> str:
    return (f"Could not pack sequence: the structure has {len(flatten(structure))} leaves, but "
            f"flat_sequence has {len(flat)} items. Pass exactly one item per leaf of "
            f"{structure!r}.")


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
        raise _TooFew
    return leaf


_SAME = "Both must nest the same lists, tuples and dicts, with the same lengths and keys"


def assert_same_structure(first: Any, second: Any, check_types: bool = True) -> None:
    """Raise ValueError (TypeError for differing sequence types) unless the nesting matches."""
    stack = [(first, second)]
    while stack:
        a, b = stack.pop()
        if is_nested(a) != is_nested(b):
            raise ValueError(f"The two structures don't have the same nested structure: "
                             f"{a!r} and {b!r}. {_SAME}")
        if not is_nested(a):
            continue
        if check_types and type(a) is not type(b):
            raise TypeError(f"The two structures don't have the same sequence type: "
                            f"{type(a).__name__} and {type(b).__name__} ({a!r} and {b!r}). "
                            f"{_SAME} (or pass check_types=False).")
        if isinstance(a, dict) and sorted(a, key=_sort_key) != sorted(b, key=_sort_key):
            raise ValueError(f"The two dictionaries don't have the same keys: {sorted(a)} and "
                             f"{sorted(b)}. {_SAME}")
        if len(a) != len(b):
            raise ValueError(f"The two structures don't have the same length: {a!r} and {b!r}. "
                             f"{_SAME}")
        stack.extend(zip(_children(a), _children(b)))


def map_structure(fn: Callable, *structures: Any, check_types: bool = True) -> Any:
    """Apply ``fn`` to corresponding leaves of structures of the same nesting."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types=check_types)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
