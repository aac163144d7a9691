"""Common-subexpression elimination: compute each distinct (op, inputs, attrs) once.

Variable reads are merged too, but only between assignments to that variable.
"""

from __future__ import annotations

import dataclasses

from neuroflow.graph.ir import ASSIGN_OPS, Graph, Node, Value


def _attrs_key(attrs: dict):
    try:
        key = tuple(sorted((k, repr(v)) for k, v in attrs.items()))
        hash(key)
        return key
    except TypeError:
        return None


def eliminate_common_subexpressions(graph: Graph) -> Graph:
    seen: dict[tuple, Value] = {}
    rename: dict[str, Value] = {}
    kept: list[Node] = []
    for node in graph.nodes:
        inputs = [rename.get(v.name, v) for v in node.inputs]
        if inputs != node.inputs:
            node = dataclasses.replace(node, inputs=inputs)
        if node.op in ASSIGN_OPS:
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
            rename[node.output.name] = earlier
            continue
        seen[key] = node.output
        kept.append(node)
    outputs = [rename.get(v.name, v) for v in graph.outputs]
    return graph.copy(nodes=kept, outputs=outputs)
