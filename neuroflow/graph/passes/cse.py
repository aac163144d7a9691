"""Common-subexpression elimination: compute each distinct (op, inputs, attrs) once.

Equal small constants become one, and variable reads are merged too, but only
between assignments to that variable. Stateful nodes (random draws, prints)
are never merged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuroflow.graph.ir import Graph, Node, Value


def _frozen(value):
    """A hashable stand-in for an attribute value that compares like the value."""
    if isinstance(value, np.ndarray):
        # Not repr: NumPy abbreviates large arrays, so two different ones could look equal.
        return ("array", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, slice):
        return ("slice", _frozen(value.start), _frozen(value.stop), _frozen(value.step))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    hash(value)
    return (type(value).__name__, value)


def _attrs_key(attrs: dict):
    try:
        return _frozen(attrs)
    except TypeError:
        return None  # an unhashable attribute: never merged


# Larger constants are rarely equal, and comparing them costs a copy of their bytes.
_MAX_MERGED_CONSTANT = 1024


def _equal_constants(graph: Graph) -> dict[str, Value]:
    """Constant name -> the first constant with the same dtype, shape and values."""
    first: dict[tuple, Value] = {}
    rename: dict[str, Value] = {}
    for node in graph.nodes:
        for value in node.inputs:
            array = graph.constants.get(value.name) if value.kind == "const" else None
            if array is None or array.size > _MAX_MERGED_CONSTANT or value.name in rename:
                continue
            key = (array.shape, array.dtype.str, np.ascontiguousarray(array).tobytes())
            canonical = first.setdefault(key, value)
            if canonical is not value:
                rename[value.name] = canonical
    return rename


def eliminate_common_subexpressions(graph: Graph) -> Graph:
    seen: dict[tuple, list[Value]] = {}
    rename: dict[str, Value] = _equal_constants(graph)
    kept: list[Node] = []
    for node in graph.nodes:
        inputs = [rename.get(v.name, v) for v in node.inputs]
        if inputs != node.inputs:
            node = dataclasses.replace(node, inputs=inputs)
        if node.assigns:
            # Reads of this variable made before the assignment are stale after it.
            seen = {k: v for k, v in seen.items()
                    if not (k[0] == "read_variable" and k[1] == node.variable)}
            kept.append(node)
            continue
        attrs = _attrs_key(node.attrs)
        if node.stateful or attrs is None or node.output is None:
            kept.append(node)
            continue
        key = (node.op, node.variable, tuple(v.name for v in inputs), attrs)
        earlier = seen.get(key)
        if earlier is not None:
            rename.update((v.name, e) for v, e in zip(node.results, earlier))
            continue
        seen[key] = node.results
        kept.append(node)
    outputs = [rename.get(v.name, v) for v in graph.outputs]
    result = graph.copy(nodes=kept, outputs=outputs)
    # A size only known at run time is read from the value that first has it: when that
    # value merged into an earlier one, the size is read there.
    result.size_sources = {symbol: (rename[name].name if name in rename else name, axis)
                           for symbol, (name, axis) in graph.size_sources.items()}
    return result
