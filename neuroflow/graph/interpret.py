"""A reference interpreter: runs a graph node by node with each op's forward.

It is the oracle for the compiler: tests check that eager execution, this
interpreter and the generated code agree. A graph with unknown sizes is first
specialised to the inputs' sizes; sizes only known when an op runs are read
from the arrays, as generated code reads them.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import contains_dim, substitute
from neuroflow.graph.ir import Graph
from neuroflow.graph.passes.specialize import specialize


def run_graph(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Evaluate ``graph`` on input arrays; variables are read and assigned for real."""
    if len(inputs) != len(graph.inputs):
        raise ValueError(f"Graph {graph.name} takes {len(graph.inputs)} inputs, "
                         f"received {len(inputs)}.")
    if not all(v.is_static for v in graph.inputs) or any(
            not v.is_static for node in graph.nodes for v in node.results):
        graph = specialize(graph, [np.shape(a) for a in inputs])
    env: dict[str, np.ndarray] = dict(graph.constants)
    env.update({value.name: array for value, array in zip(graph.inputs, inputs)})
    for node in graph.nodes:
        args = [env[v.name] for v in node.inputs]
        attrs = _with_run_time_sizes(node.attrs, graph, env)
        op = node.primitive
        if node.op == "read_variable":
            # shared: the value may outlive the call (copy on write)
            env[node.output.name] = graph.variables[node.variable].shared_array()
        elif node.assigns:  # an assignment's forward makes the variable's new value
            variable = graph.variables[node.variable]
            variable.replace_array(op.forward(np, variable.current_array(), *args))
        else:
            made = op.forward(np, *args, **attrs)
            arrays = made if node.extra_outputs else (made,)
            env.update((v.name, np.asarray(a)) for v, a in zip(node.results, arrays))
    return [env[v.name] for v in graph.outputs]


def _with_run_time_sizes(attrs: dict, graph: Graph, env: dict) -> dict:
    """``attrs`` with sizes only known when the graph runs read from the arrays."""
    if not contains_dim(attrs):
        return attrs
    sizes = {symbol: env[name].shape[axis] for symbol, (name, axis) in graph.size_sources.items()
             if name in env}
    return substitute(attrs, sizes)
