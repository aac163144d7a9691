"""Constant folding: evaluate, once, every node whose inputs are all constants.

Ops that read only their inputs' shapes (``tf.shape``, ``tf.size``) fold as soon as
those shapes are known, which they are after specialisation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuroflow.abstract import contains_dim
from neuroflow.graph.ir import Graph, Value


def fold_constants(graph: Graph) -> Graph:
    constants = dict(graph.constants)
    rename: dict[str, Value] = {}
    kept = []
    for node in graph.nodes:
        inputs = [rename.get(v.name, v) for v in node.inputs]
        by_shape = node.primitive.shape_only and all(v.is_static for v in inputs)
        # A size only known when the graph runs (the length of a boolean_mask result) may
        # still sit in the attributes: such a node is computed at run time, not folded.
        foldable = node.variable < 0 and not node.stateful and (
            by_shape or all(v.kind == "const" for v in inputs)) and not contains_dim(node.attrs)
        if foldable:
            arrays = [constants[v.name] if v.kind == "const" else _stand_in(v) for v in inputs]
            made = node.primitive.forward(np, *arrays, **node.attrs)
            arrays = made if node.extra_outputs else (made,)
            for value, array in zip(node.results, map(np.asarray, arrays)):
                folded = Value(value.name, array.shape, array.dtype, "const")
                constants[folded.name] = array
                rename[folded.name] = folded
            continue
        kept.append(dataclasses.replace(node, inputs=inputs) if inputs != node.inputs else node)
    result = graph.copy(nodes=kept, outputs=[rename.get(v.name, v) for v in graph.outputs])
    result.constants = constants
    return result


def _stand_in(value: Value) -> np.ndarray:
    """An array of the value's shape and dtype taking no memory (for shape-only ops)."""
    return np.broadcast_to(np.zeros((), value.dtype), value.shape)
