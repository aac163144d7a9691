"""Dead-code removal: drop nodes whose results nothing uses (state changes stay)."""

from __future__ import annotations

from neuroflow.graph.ir import Graph


def remove_dead_code(graph: Graph) -> Graph:
    live = {v.name for v in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if node.stateful or any(v.name in live for v in node.results):
            kept.append(node)
            live.update(v.name for v in node.inputs)
    result = graph.copy(nodes=kept[::-1])
    result.constants = {name: array for name, array in graph.constants.items() if name in live}
    return result
