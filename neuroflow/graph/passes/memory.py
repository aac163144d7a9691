"""Memory planning: give values reusable buffers, written through ``out=``.

Buffers are allocated once per compiled function and reused on every call, so
a training step allocates almost nothing. A buffer is handed to the next value
of the same shape and dtype once every value that may share its memory (views
made by reshape, transpose, indexing, and whatever an unknown primitive returns)
has been read for the last time.

What never lives in a buffer: the graph's outputs and anything sharing their
memory (the caller keeps them), values whose shape depends on the data, 0-d
values, the extra results of multi-output nodes, and anything produced by an op
that cannot write through ``out=``.
Elementwise ops may write into the buffer of an input they read for the last
time (in place), if they read it before their first write; matmul-like ops
never alias inputs.

It also marks assignments that may update a variable's array in place: those
after which no earlier read of that variable is used again (and, for the BLAS
update ``assign_sub_matmul``, whose inputs do not share that array's memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuroflow.graph.ir import Graph, Node

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


@dataclass
class Lifetimes:
    """Which memory each value may share, and when each piece of memory is last read."""

    roots: dict[str, frozenset[str]]  # value -> the values owning memory it may share
    last_use: dict[str, int]  # owning value -> index of the last node reading it
    dynamic: set[str]  # values whose shape is only known when the graph runs


def lifetimes(graph: Graph) -> Lifetimes:
    roots: dict[str, frozenset[str]] = {}
    dynamic: set[str] = set()

    def roots_of(name: str) -> frozenset[str]:
        return roots.get(name, frozenset((name,)))  # inputs and constants own their memory

    for node in graph.nodes:
        for value in node.results:
            name = value.name
            result = node.lowering.result
            if result == "view" and node.inputs:
                roots[name] = roots_of(node.inputs[0].name)
            elif result in ("view", "fresh"):
                roots[name] = frozenset((name,))
            else:
                roots[name] = frozenset((name,)).union(*(roots_of(v.name) for v in node.inputs))
            if not value.is_static:
                dynamic.add(name)
    last_use: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for value in node.inputs:
            for owner in roots_of(value.name):
                last_use[owner] = i
    for value in graph.outputs:
        for owner in roots_of(value.name):
            last_use[owner] = _FOREVER
    return Lifetimes({**{v.name: roots_of(v.name) for v in graph.inputs}, **roots},
                     last_use, dynamic)


def _read_after_first_write(node: Node, life: Lifetimes) -> set[str]:
    """Memory the node still reads after it first writes its output (must not be its buffer)."""
    if node.op != "fused_elementwise":
        return set()  # a single ufunc reads each element before writing it
    later = {o for _, operands in node.attrs["steps"][1:] for o in operands
             if isinstance(o, int) and o >= 0}
    return {owner for o in later for owner in life.roots.get(node.inputs[o].name,
                                                              {node.inputs[o].name})}


def plan_memory(graph: Graph) -> MemoryPlan:
    plan = MemoryPlan()
    life = lifetimes(graph)
    free: dict[tuple, list[str]] = {}
    holder: dict[str, str] = {}  # buffer name -> value currently in it

    def release_finished(i: int, keep: set[str] = frozenset()) -> None:
        for buffer, owner in list(holder.items()):
            if life.last_use.get(owner, -1) <= i and owner not in keep:
                spec = plan.specs[buffer]
                free.setdefault((spec[0], spec[1].str), []).append(buffer)
                del holder[buffer]

    for i, node in enumerate(graph.nodes):
        out = node.output
        wants_buffer = (out is not None and node.lowering.out and out.shape != ()
                        and out.name not in life.dynamic
                        and life.last_use.get(out.name, -1) != _FOREVER)
        if wants_buffer and node.lowering.in_place:
            # Inputs read for the last time here may be overwritten by the output.
            release_finished(i, keep=_read_after_first_write(node, life))
        if wants_buffer:
            pool = free.get((out.shape, out.dtype.str))
            buffer = pool.pop() if pool else f"B{len(plan.specs)}"
            plan.specs.setdefault(buffer, (out.shape, out.dtype))
            plan.buffers[out.name] = buffer
            holder[buffer] = out.name
        release_finished(i)
    plan.inplace_assigns = _inplace_assigns(graph, life)
    return plan


def _inplace_assigns(graph: Graph, life: Lifetimes) -> set[int]:
    """Assignments after which no earlier read of the variable is used again.

    An ``assign_sub_matmul`` must not read the variable's memory either: BLAS writes
    the array while it still reads its inputs (an elementwise ufunc may alias them).
    """
    reads: dict[int, list[str]] = {}
    safe: set[int] = set()
    for i, node in enumerate(graph.nodes):
        if node.op == "read_variable":
            reads.setdefault(node.variable, []).append(node.output.name)
        elif node.assigns and node.op != "assign":
            earlier = reads.get(node.variable, [])
            if not all(life.last_use.get(name, -1) <= i for name in earlier):
                continue
            if node.op == "assign_sub_matmul" and any(
                    set(earlier) & life.roots.get(v.name, {v.name}) for v in node.inputs):
                continue
            safe.add(i)
    return safe


def escaping_reads(graph: Graph) -> set[int]:
    """Indices of variable reads whose array may be returned by the function."""
    life = lifetimes(graph)
    returned = {owner for v in graph.outputs for owner in life.roots.get(v.name, {v.name})}
    return {i for i, node in enumerate(graph.nodes)
            if node.op == "read_variable" and node.output.name in returned}
