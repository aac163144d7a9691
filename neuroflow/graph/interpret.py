"""A reference interpreter: runs a graph node by node with each op's forward.

It is the oracle for the compiler: tests check that eager execution, this
interpreter and the generated code agree. It runs graphs whose sizes are not
all known (each forward sees the real arrays).
"""

from __future__ import annotations

import numpy as np

from neuroflow.graph.fused_ops import ASSIGN_SUB_MATMUL
from neuroflow.graph.ir import ASSIGN, ASSIGN_ADD, ASSIGN_SUB, Graph


def run_graph(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Evaluate ``graph`` on input arrays; variables are read and assigned for real."""
    if len(inputs) != len(graph.inputs):
        raise ValueError(f"Graph {graph.name} takes {len(graph.inputs)} inputs, "
                         f"received {len(inputs)}.")
    env: dict[str, np.ndarray] = dict(graph.constants)
    env.update({value.name: array for value, array in zip(graph.inputs, inputs)})
    for node in graph.nodes:
        args = [env[v.name] for v in node.inputs]
        op = node.primitive
        if node.op == "read_variable":
            # shared: the value may outlive the call (copy on write)
            env[node.output.name] = graph.variables[node.variable].shared_array()
        elif node.assigns:
            variable = graph.variables[node.variable]
            current = variable.current_array()
            if op is ASSIGN:
                new = np.array(args[0])
            elif op is ASSIGN_ADD:
                new = np.asarray(current + args[0])
            elif op is ASSIGN_SUB:
                new = np.asarray(current - args[0])
            elif op is ASSIGN_SUB_MATMUL:
                new = op.forward(np, current, *args)
            else:
                raise NotImplementedError(f"interpreter: unknown assignment {node.op}")
            variable.replace_array(new)
        else:
            made = op.forward(np, *args, **node.attrs)
            arrays = made if node.extra_outputs else (made,)
            env.update((v.name, np.asarray(a)) for v, a in zip(node.results, arrays))
    return [env[v.name] for v in graph.outputs]
