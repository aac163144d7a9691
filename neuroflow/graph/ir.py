"""The graph IR: a flat list of nodes, each value assigned once.

A node makes one value (``output``), none (assignments), or, for ops that
fusion creates, several (``extra_outputs`` after ``output``). A graph prints one
line per node, with the shape and dtype of what it makes::

    v4: f32[32,100] = matmul v0 v3
    v9: f32[32], v10: f32[32,10] = sparse_softmax_xent_with_grad v7 v1
    assign_sub dense/kernel v12

Inputs are the traced function's tensor arguments; constants are arrays captured
at trace time; variables are captured by reference, read by ``read_variable``
nodes and written by ``assign*`` nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroflow.ops.registry import DEFAULT_LOWERING, Lowering

_SHORT_DTYPES = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8",
                 "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8", "uint16": "u16",
                 "uint32": "u32", "uint64": "u64", "bool": "b1", "complex64": "c64",
                 "complex128": "c128"}



def type_string(shape: tuple, dtype: np.dtype) -> str:
    """``f32[32,10]``: a value's dtype and shape, compactly."""
    return f"{_SHORT_DTYPES.get(np.dtype(dtype).name, str(dtype))}[{','.join(map(str, shape))}]"


class Value:
    """One value of the graph: an input, a constant, or a node's output."""

    __slots__ = ("name", "shape", "dtype", "kind", "index", "graph_id")

    def __init__(self, name: str, shape: tuple, dtype: np.dtype, kind: str, index: int = -1,
                 graph_id: int = 0):
        self.name = name
        self.shape = tuple(shape)  # ints, and Dims for sizes unknown until the graph runs
        self.dtype = np.dtype(dtype)
        self.kind = kind  # "input", "const" or "node"
        self.index = index  # position among the graph's inputs, for kind == "input"
        self.graph_id = graph_id  # the id of the graph being traced that made it

    @property
    def is_static(self) -> bool:
        """Whether every size of the value is known."""
        return all(type(d) is int for d in self.shape)

    def __repr__(self) -> str:
        return f"{self.name}: {type_string(self.shape, self.dtype)}"


@dataclass(frozen=True)
class GraphOp:
    """An op only graphs have: a variable assignment, or a fusion of primitives.

    It declares what a primitive declares, except a gradient rule (it exists only after
    differentiation): ``forward(xp, *arrays, **attrs)`` returns the node's results (a
    tuple when there are several), ``shape_rule`` their abstract values, ``lowering``
    how generated code runs it (see ``ops/registry.Lowering``). Assignments have
    ``effect`` (they change a variable) and make no result.
    """

    name: str
    forward: Callable | None = None
    shape_rule: Callable | None = None
    lowering: Lowering = DEFAULT_LOWERING
    stateful: bool = False
    effect: bool = False
    assigns: bool = False  # writes the node's variable
    shape_only: bool = False


# Assignments write ``Graph.variables[node.variable]``; codegen and the interpreter run
# them through the Variable's small graph API (``variables.py``). An assignment's forward
# is ``forward(xp, current_value, *inputs) -> new value``.
ASSIGN = GraphOp("assign", lambda xp, current, value: np.array(value), stateful=True,
                 effect=True, assigns=True)
ASSIGN_ADD = GraphOp("assign_add", lambda xp, current, delta: np.asarray(current + delta),
                     stateful=True, effect=True, assigns=True)
ASSIGN_SUB = GraphOp("assign_sub", lambda xp, current, delta: np.asarray(current - delta),
                     stateful=True, effect=True, assigns=True)


@dataclass
class Node:
    """An operation: a primitive applied to values, a variable read, or an assignment."""

    op: str
    inputs: list[Value]
    attrs: dict
    output: Value | None
    primitive: Any = None  # what computes it: a Primitive or a GraphOp
    variable: int = -1  # index into Graph.variables for read/assign nodes
    location: str = ""  # the user's source line that created the node
    extra_outputs: tuple[Value, ...] = ()  # values made besides ``output`` (fused ops)
    scope: str = ""  # the Keras layers it was traced in (``sequential/dense``), if any

    @property
    def results(self) -> list[Value]:
        """Every value the node makes: ``output``, then ``extra_outputs``."""
        if self.output is None:
            return []
        return [self.output, *self.extra_outputs] if self.extra_outputs else [self.output]

    @property
    def stateful(self) -> bool:
        """Whether the node must run on every call (passes never fold, merge or drop it)."""
        return self.primitive.stateful

    @property
    def has_effect(self) -> bool:
        """Whether running the node again would be visible (it assigns or prints)."""
        return self.primitive.effect

    @property
    def assigns(self) -> bool:
        return getattr(self.primitive, "assigns", False)

    @property
    def lowering(self) -> Lowering:
        return self.primitive.lowering

    def format(self, graph: Graph) -> str:
        args = " ".join(v.name for v in self.inputs)
        if self.variable >= 0:
            args = f"{graph.variable_label(self.variable)} {args}".strip()
        attrs = ", ".join(f"{k}={_short(v)}" for k, v in self.attrs.items()
                          if not k.startswith("_"))
        text = f"{self.op} {args}".strip() + (f" {{{attrs}}}" if attrs else "")
        made = ", ".join(repr(v) for v in self.results)
        return f"{made} = {text}" if made else text


def _short(value: Any) -> str:
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, tuple) and value and all(isinstance(v, slice) for v in value):
        return "[" + ",".join(_slice_text(v) for v in value) + "]"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _slice_text(s: slice) -> str:
    parts = ["" if p is None else str(p) for p in (s.start, s.stop, s.step)]
    return ":".join(parts[:2] if s.step is None else parts)


@dataclass
class Graph:
    """A traced function: inputs, captured constants and variables, nodes, outputs."""

    name: str
    inputs: list[Value] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    variables: list[Any] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    # For sizes only known when the graph runs (after ``boolean_mask``, ``tf.range(n)``):
    # unknown's name -> (value, axis) whose size it is, set by specialisation.
    size_sources: dict[str, tuple[str, int]] = field(default_factory=dict)

    def variable_label(self, index: int) -> str:
        variable = self.variables[index]
        return getattr(variable, "path", None) or variable.name

    def copy(self, nodes: list[Node] | None = None, outputs: list[Value] | None = None) -> Graph:
        """A graph sharing everything but with new nodes/outputs (passes never mutate)."""
        return Graph(self.name, list(self.inputs), dict(self.constants), list(self.variables),
                     list(self.nodes if nodes is None else nodes),
                     list(self.outputs if outputs is None else outputs),
                     dict(self.size_sources))

    def uses(self) -> dict[str, int]:
        """How many times each value is read (by nodes and as an output)."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            for value in node.inputs:
                counts[value.name] = counts.get(value.name, 0) + 1
        for value in self.outputs:
            counts[value.name] = counts.get(value.name, 0) + 1
        return counts

    def __str__(self) -> str:
        lines = [f"graph {self.name}({', '.join(repr(v) for v in self.inputs)}):"]
        for name, array in self.constants.items():
            lines.append(f"  {name}: {type_string(array.shape, array.dtype)} = const "
                         f"{_const_text(array)}")
        lines += [f"  {node.format(self)}" for node in self.nodes]
        lines.append(f"  return {', '.join(v.name for v in self.outputs)}")
        return "\n".join(lines)


def _const_text(array: np.ndarray) -> str:
    if array.size <= 4:
        return np.array2string(array, separator=",").replace("\n", "")
    return f"<{array.size} values>"
