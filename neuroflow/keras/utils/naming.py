"""Name lookup for string identifiers (``"adam"``, ``"mse"``, ``"relu"``) with helpful errors.

Keras answers an unknown name with "Could not interpret ... identifier"; here the
error also suggests the closest valid names, so a typo is a one-glance fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["closest_names", "get_by_name", "to_snake_case"]


def closest_names(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """The valid names closest to ``name`` (best first), compared case-insensitively.

    >>> closest_names("spars_categorical_crossentropy",
    ...               ["sparse_categorical_crossentropy", "mse", "huber"])
    ['sparse_categorical_crossentropy']
    """
    by_lower: dict[str, list[str]] = {}
    for candidate in valid:
        by_lower.setdefault(candidate.lower(), []).append(candidate)
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)
    # Among spellings that differ only in case ('L2', 'l2'), suggest the one closest to `name`.
    return [max(by_lower[m], key=lambda c: difflib.SequenceMatcher(None, name, c).ratio())
            for m in matches]


def get_by_name(kind: str, identifier: str, table: Mapping[str, Any]) -> Any:
    """``table[identifier]``, or a ``ValueError`` that names the closest valid names.

    ``kind`` says what is looked up ("loss function", "optimizer", ...).

    >>> get_by_name("loss function", "mse", {"mse": 1})
    1
    >>> get_by_name("loss function", "msee", {"mse": 1})
    Traceback (most recent call last):
    ...
    ValueError: Unknown loss function: 'msee'. Did you mean 'mse'? Valid names: 'mse'.
    """
    if identifier in table:
        return table[identifier]
    suggestions = closest_names(identifier, table)
    hint = ""
    if suggestions:
        hint = " Did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
    valid = ", ".join(repr(k) for k in sorted(table, key=str.lower))
    raise ValueError(f"Unknown {kind}: {identifier!r}.{hint} Valid names: {valid}.")


def to_snake_case(name: str) -> str:
    """``"SparseCategoricalAccuracy"`` -> ``"sparse_categorical_accuracy"`` (as Keras)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
