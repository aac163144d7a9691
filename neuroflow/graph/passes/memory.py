"""Memory planning: give values reusable buffers, written through ``out=``.

Buffers are allocated once per compiled function and reused on every call, so
a training step allocates almost nothing. A buffer is handed to the next value
of the same shape and dtype once every value that may share its memory (views
made by reshape, transpose, indexing) has been read for the last time.

What never lives in a buffer: the graph's outputs (the caller keeps them), values
whose shape depends on the data, and anything produced by an op that cannot
write through ``out=``. Elementwise ops may write into the buffer of an input
they read for the last time (in place); matmul-like ops never alias inputs.

It also marks assignments that may update a variable's array in place: those
after which no earlier read of that variable is used again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuroflow.graph.codegen import IN_PLACE_OK, OUT_CAPABLE, VIEW_OPS
from neuroflow.graph.ir import ASSIGN_OPS, Graph
from neuroflow.ops.shape_ops import DYNAMIC_SHAPE_OPS

_FOREVER = 1 << 60


@dataclass
class MemoryPlan:
    """Value name -> buffer name, buffer name -> (shape, dtype), in-place assignments."""

    buffers: dict[str, str] = field(default_factory=dict)
    specs: dict[str, tuple] = field(default_factory=dict)
    inplace_assigns: set[int] = field(default_factory=set)

    def summary(self) -> str:
        reused = len(self.buffers) - len(self.specs)
        return (f"{len(self.buffers)} values in {len(self.specs)} buffers "
                f"({reused} reuses), {len(self.inplace_assigns)} in-place assignments")


def _roots_and_last_uses(graph: Graph):
    """For each value: the value owning its memory, and the last node reading that memory."""
    root: dict[str, str] = {}
    dynamic: set[str] = set()
    for node in graph.nodes:
        if node.output is None:
            continue
        name = node.output.name
        if node.op in VIEW_OPS and node.inputs:
            root[name] = root.get(node.inputs[0].name, node.inputs[0].name)
        else:
            root[name] = name
        if node.op in DYNAMIC_SHAPE_OPS or any(v.name in dynamic for v in node.inputs):
            dynamic.add(name)
    last_use: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for value in node.inputs:
            owner = root.get(value.name, value.name)
            last_use[owner] = i
    for value in graph.outputs:
        last_use[root.get(value.name, value.name)] = _FOREVER
    return root, last_use, dynamic


def plan_memory(graph: Graph) -> MemoryPlan:
    plan = MemoryPlan()
    root, last_use, dynamic = _roots_and_last_uses(graph)
    free: dict[tuple, list[str]] = {}
    holder: dict[str, str] = {}  # buffer name -> value currently in it

    def release_finished(i: int) -> None:
        for buffer, owner in list(holder.items()):
            if last_use.get(owner, -1) <= i:
                spec = plan.specs[buffer]
                free.setdefault(spec, []).append(buffer)
                del holder[buffer]

    for i, node in enumerate(graph.nodes):
        out = node.output
        wants_buffer = (out is not None and node.op in OUT_CAPABLE and out.shape != ()
                        and out.name not in dynamic
                        and last_use.get(out.name, -1) != _FOREVER)
        if wants_buffer and node.op in IN_PLACE_OK:
            release_finished(i)  # inputs read for the last time here may be overwritten
        if wants_buffer:
            spec = (out.shape, out.dtype.str)
            pool = free.get(spec)
            buffer = pool.pop() if pool else f"B{len(plan.specs)}"
            plan.specs.setdefault(buffer, (out.shape, out.dtype))
            plan.buffers[out.name] = buffer
            holder[buffer] = out.name
        release_finished(i)
    plan.inplace_assigns = _inplace_assigns(graph, root, last_use)
    return plan


def _inplace_assigns(graph: Graph, root: dict, last_use: dict) -> set[int]:
    """Assignments after which no earlier read of the variable is used again."""
    reads: dict[int, list[str]] = {}
    safe: set[int] = set()
    for i, node in enumerate(graph.nodes):
        if node.op == "read_variable":
            reads.setdefault(node.variable, []).append(node.output.name)
        elif node.op in ASSIGN_OPS and node.op != "assign":
            earlier = reads.get(node.variable, [])
            if all(last_use.get(name, -1) <= i for name in earlier):
                safe.add(i)
    return safe
