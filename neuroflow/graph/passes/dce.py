"""Dead-code removal: drop nodes whose results nothing uses (state changes stay).

A size only known when the graph runs (``Graph.size_sources``) is read from the value
that first has it: a node whose attributes hold such a size keeps that value alive.
"""

from __future__ import annotations

from neuroflow.abstract import Dim
from neuroflow.graph.ir import Graph


def remove_dead_code(graph: Graph) -> Graph:
    live = {v.name for v in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if node.stateful or any(v.name in live for v in node.results):
            kept.append(node)
            live.update(v.name for v in node.inputs)
            live.update(graph.size_sources[symbol][0] for symbol in _symbols(node.attrs)
                        if symbol in graph.size_sources)
    result = graph.copy(nodes=kept[::-1])
    result.constants = {name: array for name, array in graph.constants.items() if name in live}
    return result


def _symbols(value) -> set[str]:
    """The names of the unknown sizes an attribute value holds."""
    if isinstance(value, Dim):
        return {symbol.name for symbol in value.symbols}
    if isinstance(value, (tuple, list)):
        return set().union(*map(_symbols, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*map(_symbols, value.values())) if value else set()
    if isinstance(value, slice):
        return _symbols((value.start, value.stop, value.step))
    return set()
