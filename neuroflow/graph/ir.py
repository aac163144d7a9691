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

_SHORT_DTYPES = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8",
                 "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8", "uint16": "u16",
                 "uint32": "u32", "uint64": "u64", "bool": "b1", "complex64": "c64",
                 "complex128": "c128"}

# Nodes that change state: passes keep them, in order. ``assign_sub_matmul v a b s``
# (made by fusion) is ``assign_sub v (s * (a @ b))`` in one BLAS call.
ASSIGN_OPS = ("assign", "assign_add", "assign_sub", "assign_sub_matmul")
# Stateful primitives whose only effect is advancing their own random stream: running
# one again is invisible to the user (unlike an assignment or a print).
REPEATABLE_OPS = ("random",)


def type_string(shape: tuple, dtype: np.dtype) -> str:
    """``f32[32,10]``: a value's dtype and shape, compactly."""
    return f"{_SHORT_DTYPES.get(np.dtype(dtype).name, str(dtype))}[{','.join(map(str, shape))}]"


class Value:
    """One value of the graph: an input, a constant, or a node's output."""

    __slots__ = ("name", "shape", "dtype", "kind", "index")

    def __init__(self, name: str, shape: tuple, dtype: np.dtype, kind: str, index: int = -1):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.kind = kind  # "input", "const" or "node"
        self.index = index  # position among the graph's inputs, for kind == "input"

    def __repr__(self) -> str:
        return f"{self.name}: {type_string(self.shape, self.dtype)}"


@dataclass(frozen=True)
class GraphOp:
    """What computes a node that only graph passes make: no gradient rule, not registered.

    ``forward(xp, *arrays, **attrs)`` returns the node's results, a tuple when there are
    several, so the interpreter and the code generator run it as they run a primitive.
    """

    name: str
    forward: Callable
    stateful: bool = False


@dataclass
class Node:
    """An operation: a primitive applied to values, a variable read, or an assignment."""

    op: str
    inputs: list[Value]
    attrs: dict
    output: Value | None
    primitive: Any = None  # what computes it: a Primitive, a GraphOp, or None (codegen)
    variable: int = -1  # index into Graph.variables for read/assign nodes
    location: str = ""  # the user's source line that created the node
    extra_outputs: tuple[Value, ...] = ()  # values made besides ``output`` (fused ops)

    @property
    def results(self) -> list[Value]:
        """Every value the node makes: ``output``, then ``extra_outputs``."""
        if self.output is None:
            return []
        return [self.output, *self.extra_outputs] if self.extra_outputs else [self.output]

    @property
    def stateful(self) -> bool:
        return self.op in ASSIGN_OPS or (self.primitive is not None and self.primitive.stateful)

    @property
    def has_effect(self) -> bool:
        """Whether running the node again would be visible (it assigns or prints)."""
        return self.stateful and self.op not in REPEATABLE_OPS

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

    def variable_label(self, index: int) -> str:
        variable = self.variables[index]
        return getattr(variable, "path", None) or variable.name

    def copy(self, nodes: list[Node] | None = None, outputs: list[Value] | None = None) -> Graph:
        """A graph sharing everything but with new nodes/outputs (passes never mutate)."""
        return Graph(self.name, list(self.inputs), dict(self.constants), list(self.variables),
                     list(self.nodes if nodes is None else nodes),
                     list(self.outputs if outputs is None else outputs))

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
