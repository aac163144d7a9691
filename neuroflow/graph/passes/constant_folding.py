"""Constant folding: evaluate, once, every node whose inputs are all constants."""

from __future__ import annotations

import dataclasses

import numpy as np

from neuroflow.graph.ir import Graph, Value


def fold_constants(graph: Graph) -> Graph:
    constants = dict(graph.constants)
    rename: dict[str, Value] = {}
    kept = []
    for node in graph.nodes:
        inputs = [rename.get(v.name, v) for v in node.inputs]
        foldable = (node.primitive is not None and not node.stateful
                    and all(v.kind == "const" for v in inputs))
        if foldable:
            made = node.primitive.forward(np, *(constants[v.name] for v in inputs), **node.attrs)
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
