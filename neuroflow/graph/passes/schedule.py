"""Scheduling: compute data-dependent shapes before the call's first side effect.

The compiled code checks the shape of each data-dependent value (what
``boolean_mask`` makes) against the traced one; when it differs, the function
is traced again for the new shape. That is only possible while the call has
done nothing visible yet, so this pass moves each such op, with the pure nodes
it depends on, ahead of the first assignment or print, where it can.
"""

from __future__ import annotations

from neuroflow.graph.ir import Graph, Node
from neuroflow.ops.shape_ops import DYNAMIC_SHAPE_OPS


def hoist_data_dependent_shapes(graph: Graph) -> Graph:
    nodes = graph.nodes
    first_effect = next((i for i, node in enumerate(nodes) if node.has_effect), None)
    if first_effect is None:
        return graph
    producer = {value.name: i for i, node in enumerate(nodes) for value in node.results}
    hoisted: set[int] = set()
    for i in range(first_effect + 1, len(nodes)):
        if nodes[i].op in DYNAMIC_SHAPE_OPS:
            needed = _ancestors(i, nodes, producer)
            if all(_movable(nodes[k], k, first_effect) for k in needed):
                hoisted |= {k for k in needed if k > first_effect}
    if not hoisted:
        return graph
    order = [*range(first_effect), *sorted(hoisted),
             *(i for i in range(first_effect, len(nodes)) if i not in hoisted)]
    return graph.copy(nodes=[nodes[i] for i in order])


def _ancestors(index: int, nodes: list[Node], producer: dict[str, int]) -> set[int]:
    found, stack = {index}, [index]
    while stack:
        for value in nodes[stack.pop()].inputs:
            k = producer.get(value.name)
            if k is not None and k not in found:
                found.add(k)
                stack.append(k)
    return found


def _movable(node: Node, index: int, first_effect: int) -> bool:
    """Whether the node may run before the first side effect (it need not wait for it)."""
    if index < first_effect:
        return True
    # A variable read after an assignment must stay after it: it sees the new value.
    return not node.has_effect and node.op != "read_variable"
