"""The ONNX graph being written: node and value names, initializers, unknown sizes.

Each traced value gets an ONNX name when its node is written (``walk.py``). Values known
while exporting (variables, constants, and what small ops compute from them alone) are
kept as arrays and become initializers where they are read, so a Conv's weights are one
transposed initializer rather than a Transpose node on every run. A fold never makes an
array larger than its largest input: ``broadcast_to`` of a scalar stays a node.

A size unknown while tracing (a ``Dim``, the batch) becomes a ``dim_param`` on the
inputs and outputs, and, where an op needs it as a number (``Reshape`` to ``(d0, 5, 8)``),
a one-element int64 tensor read with ``Shape`` from the first value that has it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from neuroflow.abstract import Dim
from neuroflow.errors import UnimplementedError
from neuroflow.graph.ir import Graph, Node, Value

DEFAULT_OPSET = 17
# Shape with start/end (15) reads one size of an input without a Gather.
MIN_OPSET = 15

INT64_MAX = int(np.iinfo(np.int64).max)  # "to the end" for ONNX's Slice


class LastStepOnly:
    """A value whose every step ONNX's recurrent ops do not give, only the last one
    (the cell states of an LSTM): ``x[:, -1]`` of it is ``last``."""

    def __init__(self, last: str, node: Node):
        self.last, self.node = last, node


def unsupported(node: Node, why: str) -> UnimplementedError:
    """The error for a node the ONNX writer cannot express, naming op and layer."""
    layer = f" in layer {node.scope!r}" if node.scope else ""
    where = f" (created at {node.location})" if node.location else ""
    return UnimplementedError(
        f"ONNX export: the op {node.op!r}{layer}{where} {why}", node.op)


class Writer:
    """The ONNX graph being built: nodes, initializers, and the names of IR values."""

    def __init__(self, graph: Graph, opset: int, parent: Writer | None = None,
                 same_body: bool = False):
        import onnx  # the optional `export` extra

        self.onnx = onnx
        self.helper = onnx.helper
        self.graph = graph
        self.opset = opset
        # A writer of another traced graph may append to its parent's ONNX graph
        # (``scope``) or make a subgraph of its own (``subgraph``).
        self.nodes: list = parent.nodes if same_body else []
        self.initializers: dict[str, Any] = parent.initializers if same_body else {}
        self.names: dict[str, Any] = {}  # IR value name -> ONNX name (or LastStepOnly)
        self.static: dict[str, np.ndarray] = {}  # IR value name -> its array, if known
        self._dims: dict[str, str] = {}  # symbol name -> ONNX name of an int64[1] tensor
        self._transposes: dict[str, tuple[str, list[int]]] = {}  # result -> (source, perm)
        self._sources: dict[str, tuple[Value, int]] = {}
        self.note_sizes(graph.inputs)
        # A subgraph (a Scan's body) shares its parent's numbering: names must be unique
        # across the whole model.
        self._ids = parent._ids if parent is not None else itertools.count(1)

    def subgraph(self, graph: Graph | None = None) -> Writer:
        """A writer for the body of a Scan, Loop or If node of this graph (writing the
        traced ``graph``, by default this one)."""
        return Writer(graph or self.graph, self.opset, parent=self)

    def scope(self, graph: Graph) -> Writer:
        """A writer adding the traced ``graph``'s nodes to this ONNX graph (its value
        names are its own: traced graphs name their values independently)."""
        return Writer(graph, self.opset, parent=self, same_body=True)

    # --- names ------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        return f"{hint}_{next(self._ids)}"

    def name_of(self, value: Value) -> str:
        """The ONNX name holding ``value`` (an initializer if its array is known)."""
        name = self.names.get(value.name)
        if isinstance(name, LastStepOnly):
            raise unsupported(name.node, "gives cell states of every step that are read; "
                                         "ONNX's LSTM gives only the last one (what "
                                         "return_state gives).")
        if name is None:  # the walk is in order: a value not named yet is known now
            name = self.const(self.static[value.name], value.name)
            self.names[value.name] = name
        return name

    def const(self, array, hint: str = "const") -> str:
        """An initializer holding ``array``."""
        array = np.asarray(array)
        name = self.fresh(hint.replace("/", "_"))
        self.initializers[name] = self.onnx.numpy_helper.from_array(array, name)
        return name

    def ints(self, values, hint: str = "ints") -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint)

    def scalar(self, value, dtype) -> str:
        return self.const(np.asarray(value, dtype=dtype), "scalar")

    # --- nodes ------------------------------------------------------------------------------
    def op(self, op_type: str, inputs: list, outputs: int = 1, **attrs):
        """Append an ONNX node; returns its output name (a list if ``outputs`` > 1)."""
        names = [self.fresh(op_type) for _ in range(outputs)]
        inputs = ["" if i is None else i for i in inputs]
        self.nodes.append(self.helper.make_node(op_type, inputs, names, **attrs))
        return names[0] if outputs == 1 else names

    def transpose(self, name: str, perm) -> str:
        """``name`` transposed; a transpose of a transpose is one (or none): a layout
        change and its inverse (between stacked recurrent layers) cancel."""
        perm = [int(p) for p in perm]
        if name in self._transposes:
            name, inner = self._transposes[name]
            perm = [inner[p] for p in perm]
        if perm == list(range(len(perm))):
            return name
        result = self.op("Transpose", [name], perm=perm)
        self._transposes[result] = (name, perm)
        return result

    def cast(self, name: str, dtype) -> str:
        return self.op("Cast", [name], to=self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def squeeze(self, name: str, axes) -> str:
        return self.op("Squeeze", [name, self.ints(list(axes), "axes")])

    def unsqueeze(self, name: str, axes) -> str:
        return self.op("Unsqueeze", [name, self.ints(list(axes), "axes")])

    def reduce(self, op_type: str, name: str, axes, keepdims: bool) -> str:
        """A reduction over ``axes``: they became an input in opset 13 (ReduceSum) or 18."""
        axes = [int(a) for a in axes]
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if as_input:
            return self.op(op_type, [name, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.op(op_type, [name], axes=axes, keepdims=int(keepdims))

    # --- unknown sizes ----------------------------------------------------------------------
    def size(self, size, node: Node) -> str:
        """A one-element int64 tensor holding ``size`` (an int or a ``Dim``)."""
        if type(size) is int:
            return self.ints([size], "size")
        total = None
        for monomial, coeff in size.terms:
            term = None if coeff == 1 and monomial else self.ints([coeff], "coeff")
            for symbol in monomial:
                factor = self._symbol(symbol, node)
                term = factor if term is None else self.op("Mul", [term, factor])
            total = term if total is None else self.op("Add", [total, term])
        return total

    def _symbol(self, symbol, node: Node) -> str:
        name = self._dims.get(symbol.name)
        if name is not None:
            return name
        if symbol.rule is not None and symbol.rule[0] == "broadcast":
            # Two sizes that broadcast: one is 1 or both are equal, so the larger one.
            _, a, b = symbol.rule
            name = self.op("Max", [self.size(a, node), self.size(b, node)])
        else:
            # Every free unknown is the size of an axis of a value written before its use.
            value, axis = self._sources[symbol.name]
            name = self.op("Shape", [self.name_of(value)], start=axis, end=axis + 1)
        self._dims[symbol.name] = name
        return name

    def note_sizes(self, values) -> None:
        """Remember where each unknown size first appears (an input's axis, or the axis of
        a result whose size only the run knows), to read it with Shape."""
        for value in values:
            for axis, size in enumerate(value.shape):
                if isinstance(size, Dim) and size.symbol is not None:
                    self._sources.setdefault(size.symbol.name, (value, axis))

    def shape(self, shape, node: Node) -> str:
        """An int64 tensor holding ``shape`` (ints and Dims)."""
        if all(type(d) is int for d in shape):
            return self.ints(list(shape), "shape")
        parts = [self.size(d, node) for d in shape]
        return self.op("Concat", parts, axis=0)


def dim_names(graph: Graph) -> dict[str, str]:
    """``dim_param`` names, as Keras's ONNX export gives them: the first unknown size on
    axis 0 of the inputs is ``batch``, another is ``dim_{input}_{axis}``."""
    names: dict[str, str] = {}
    for index, value in enumerate(graph.inputs):
        for axis, size in enumerate(value.shape):
            if isinstance(size, Dim) and size.symbol is not None:
                symbol = size.symbol.name
                if symbol not in names:
                    taken = "batch" in names.values()
                    names[symbol] = "batch" if axis == 0 and not taken else \
                        f"dim_{index}_{axis}"
    return names


def value_info(helper, name: str, value: Value, dims: dict[str, str]):
    """A graph input's or output's type: sizes, ``dim_param`` names for unknown ones."""
    shape = []
    for size in value.shape:
        if type(size) is int:
            shape.append(size)
        elif isinstance(size, Dim) and size.symbol is not None and size.symbol.name in dims:
            shape.append(dims[size.symbol.name])
        else:
            shape.append(None)  # an expression of unknown sizes: left unnamed
    return helper.make_tensor_value_info(
        name, helper.np_dtype_to_tensor_dtype(value.dtype), shape)


def fold(node: Node, arrays: list[np.ndarray]) -> np.ndarray | None:
    """The node's result computed now, if that is safe and keeps the model small."""
    primitive = node.primitive
    # Random draws and effects (prints, assertions) stay nodes, as do fused multi-result ops.
    if (getattr(primitive, "stateful", False)
            or getattr(primitive, "effect", False) or node.extra_outputs
            or node.output is None or not node.output.is_static
            or getattr(primitive, "forward", None) is None):
        return None
    largest = max((a.size for a in arrays), default=1)
    size = int(np.prod(node.output.shape, dtype=np.int64))
    if size > max(largest, 16):
        return None
    try:
        with np.errstate(all="ignore"):
            result = primitive.forward(np, *arrays, **node.attrs)
    except (ValueError, TypeError, IndexError, ArithmeticError):
        return None  # an op refusing these arrays (an index out of range) stays a node
    result = np.asarray(result)
    if result.shape != tuple(node.output.shape):
        return None
    return result.astype(node.output.dtype, copy=False)
