"""A reference interpreter: runs a graph node by node with each primitive's forward.

It is the oracle for the compiler: tests check that eager execution, this
interpreter and the generated code agree.
"""

from __future__ import annotations

import numpy as np

from neuroflow.graph.ir import Graph


def run_graph(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Evaluate ``graph`` on input arrays; variables are read and assigned for real."""
    if len(inputs) != len(graph.inputs):
        raise ValueError(f"Graph {graph.name} takes {len(graph.inputs)} inputs, "
                         f"received {len(inputs)}.")
    env: dict[str, np.ndarray] = dict(graph.constants)
    env.update({value.name: array for value, array in zip(graph.inputs, inputs)})
    for node in graph.nodes:
        args = [env[v.name] for v in node.inputs]
        if node.op == "read_variable":
            variable = graph.variables[node.variable]
            variable._shared = True  # the value may outlive the call (copy on write)
            env[node.output.name] = variable._value
        elif node.op == "assign":
            graph.variables[node.variable]._value = np.array(args[0])
        elif node.op == "assign_add":
            variable = graph.variables[node.variable]
            variable._value = np.asarray(variable._value + args[0])
        elif node.op == "assign_sub":
            variable = graph.variables[node.variable]
            variable._value = np.asarray(variable._value - args[0])
        elif node.op == "assign_sub_matmul":
            variable = graph.variables[node.variable]
            delta = np.multiply(np.matmul(args[0], args[1]), args[2])
            variable._value = np.asarray(variable._value - delta)
        else:
            made = node.primitive.forward(np, *args, **node.attrs)
            arrays = made if node.extra_outputs else (made,)
            env.update((v.name, np.asarray(a)) for v, a in zip(node.results, arrays))
    return [env[v.name] for v in graph.outputs]
