"""Tracing: run a Python function once on symbolic tensors and record its primitives.

A traced function's arguments are tensors holding an
:class:`~neuroflow.abstract.AbstractArray`: a shape (sizes may be unknown) and a
dtype, no value. A primitive applied to one runs its shape rule only, and the
tracer appends a node (``ops/registry.apply``); so the graph is the same for
every value, and nothing the function computes from its inputs can be frozen
into it. Reading a symbolic value (``bool(x)``, ``np.asarray(x)``, ``x.numpy()``)
raises :class:`~neuroflow.abstract.SymbolicValueError` naming the user's line.

Tensors the function makes without its inputs (``tf.constant``, ``tf.ones``) are
concrete and become constants of the graph. Variables are captured by
reference: a read is a ``read_variable`` node, an assignment an ``assign*``
node; tracing never changes a variable.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, SymbolicValueError, user_location
from neuroflow.errors import UnimplementedError
from neuroflow.graph.ir import ASSIGN, ASSIGN_ADD, ASSIGN_SUB, Graph, Node, Value
from neuroflow.ops.checks import current_scope
from neuroflow.ops.registry import READ_VARIABLE, record_variable_read, recording
from neuroflow.tensor import Tensor, convert_to_tensor

_ASSIGNMENTS = {"assign": ASSIGN, "assign_add": ASSIGN_ADD, "assign_sub": ASSIGN_SUB}


class Tracer:
    """Builds a :class:`Graph` from the primitives applied to symbolic tensors."""

    def __init__(self, name: str):
        self.graph = Graph(name)
        # Concrete tensors captured as constants, by id; holding them keeps ids unique.
        self._constants: dict[int, tuple[Value, Tensor]] = {}
        self._variables: dict[int, int] = {}
        self._counter = 0

    def _new_name(self, prefix: str) -> str:
        name = f"{prefix}{self._counter}"
        self._counter += 1
        return name

    def _symbolic(self, value: Value) -> Tensor:
        return Tensor(AbstractArray(value.shape, value.dtype, source=value))

    # --- values -------------------------------------------------------------------------
    def add_input(self, shape: tuple, dtype) -> Tensor:
        """A new graph input; returns the symbolic tensor the function receives."""
        value = Value(self._new_name("v"), shape, dtype, "input",
                      index=len(self.graph.inputs), graph_id=id(self.graph))
        self.graph.inputs.append(value)
        return self._symbolic(value)

    def value_of(self, tensor: Tensor) -> Value:
        """The graph value of ``tensor``; a concrete tensor becomes a constant."""
        array = tensor._value
        if type(array) is AbstractArray:
            if array.source is None or array.source.graph_id != id(self.graph):
                raise SymbolicValueError(
                    f"At {user_location()}: a symbolic tensor from another tf.function "
                    f"trace was used here. Return tensors from a function instead of "
                    f"keeping them in globals or attributes.")
            return array.source
        known = self._constants.get(id(tensor))
        if known is not None:
            return known[0]
        array = np.asarray(array)
        value = Value(self._new_name("c"), array.shape, array.dtype, "const")
        self.graph.constants[value.name] = array
        self._constants[id(tensor)] = (value, tensor)
        return value

    # --- what the registry and Variable report --------------------------------------------
    def record(self, prim, inputs, attrs, aval: AbstractArray) -> Tensor:
        """A node applying ``prim``; returns its symbolic result."""
        in_values = [self.value_of(t) for t in inputs]
        out = Value(self._new_name("v"), aval.shape, aval.dtype, "node",
                    graph_id=id(self.graph))
        self.graph.nodes.append(Node(prim.name, in_values, dict(attrs), out, primitive=prim,
                                     location=user_location(), scope=current_scope()))
        return self._symbolic(out)

    def record_several(self, prim, inputs, attrs, avals: tuple) -> tuple[Tensor, ...]:
        """A node applying ``prim``, which makes several (at least one) results."""
        in_values = [self.value_of(t) for t in inputs]
        outs = [Value(self._new_name("v"), aval.shape, aval.dtype, "node",
                      graph_id=id(self.graph)) for aval in avals]
        self.graph.nodes.append(Node(prim.name, in_values, dict(attrs), outs[0], primitive=prim,
                                     location=user_location(), extra_outputs=tuple(outs[1:]),
                                     scope=current_scope()))
        return tuple(self._symbolic(v) for v in outs)

    def _variable_index(self, variable) -> int:
        index = self._variables.get(id(variable))
        if index is None:
            index = len(self.graph.variables)
            self.graph.variables.append(variable)
            self._variables[id(variable)] = index
        return index

    def read_variable(self, variable) -> Tensor:
        """Read ``variable`` for an op: a symbolic tensor, linked to tapes and to the graph."""
        array = variable._value
        out = Value(self._new_name("v"), array.shape, array.dtype, "node",
                    graph_id=id(self.graph))
        self.graph.nodes.append(Node("read_variable", [], {}, out, primitive=READ_VARIABLE,
                                     variable=self._variable_index(variable),
                                     location=user_location()))
        snapshot = self._symbolic(out)
        if recording.tapes:
            record_variable_read(variable, snapshot)
        return snapshot

    def assign_variable(self, variable, value, kind: str):
        """Record an assignment (``kind``: assign, assign_add, assign_sub)."""
        tensor = convert_to_tensor(value, dtype=variable.dtype)
        got, want = tensor._value.shape, variable._value.shape
        if len(got) != len(want) or any(isinstance(g, int) and g != w
                                        for g, w in zip(got, want)):
            raise ValueError(
                f"{kind}: cannot {'assign' if kind == 'assign' else 'update'} the variable "
                f"{variable.name!r} of shape {tuple(want)} with a value of shape "
                f"{tuple(got)}; the shapes must be equal (no broadcasting).")
        self.graph.nodes.append(Node(kind, [self.value_of(tensor)], {}, None,
                                     primitive=_ASSIGNMENTS[kind],
                                     variable=self._variable_index(variable),
                                     location=user_location()))
        return variable

    def finish(self, flat_outputs: list) -> list:
        """Set the graph outputs from the leaves the function returned.

        Returns, per leaf, a Value or the Python constant it is. A returned variable is
        returned as its value at the end of the call, as in TF.
        """
        kept = []
        for leaf in flat_outputs:
            if hasattr(leaf, "_read_for_op"):
                leaf = self.read_variable(leaf)
            if isinstance(leaf, Tensor):
                value = self.value_of(leaf)
                self.graph.outputs.append(value)
                kept.append(value)
            else:
                kept.append(leaf)
        return kept


class CapturingTracer(Tracer):
    """Traces a function called inside another trace: a ``tf.cond`` branch, a loop body.

    Its graph is separate (it runs only when the enclosing graph decides to), so the
    symbolic tensors of the enclosing traces that it uses become inputs of its graph,
    after the explicit ones: ``captured`` lists those tensors, in that order, for the
    enclosing trace to pass in. A variable is read once by the enclosing trace (where
    the tapes see the read) and captured. Variables cannot be assigned here: the
    assignment would run whether or not the branch is taken.
    """

    def __init__(self, name: str, parent: Tracer, outer_tapes: tuple):
        super().__init__(name)
        self.parent = parent
        self.outer_tapes = outer_tapes
        self.captured: list[Tensor] = []
        self._captures: dict[int, Value] = {}  # id of the enclosing trace's Value -> input
        self._reads: dict[int, Tensor] = {}  # id of a variable -> its captured read

    def _encloses(self, graph_id: int) -> bool:
        tracer = self.parent
        while tracer is not None:
            if id(tracer.graph) == graph_id:
                return True
            tracer = getattr(tracer, "parent", None)
        return False

    def value_of(self, tensor: Tensor) -> Value:
        array = tensor._value
        if type(array) is AbstractArray and array.source is not None and \
                array.source.graph_id != id(self.graph) and self._encloses(array.source.graph_id):
            return self._capture(tensor)
        return super().value_of(tensor)

    def _capture(self, tensor: Tensor) -> Value:
        source = tensor._value.source
        value = self._captures.get(id(source))
        if value is None:
            value = Value(self._new_name("v"), source.shape, source.dtype, "input",
                          index=len(self.graph.inputs), graph_id=id(self.graph))
            self.graph.inputs.append(value)
            self.captured.append(tensor)
            self._captures[id(source)] = value
        return value

    def read_variable(self, variable) -> Tensor:
        read = self._reads.get(id(variable))
        if read is None:
            tokens = (recording.set_tracer(self.parent), recording._tapes.set(self.outer_tapes))
            try:
                read = self.parent.read_variable(variable)
            finally:
                recording._tapes.reset(tokens[1])
                recording.reset_tracer(tokens[0])
            self._reads[id(variable)] = read
        return self._symbolic(self._capture(read))

    def assign_variable(self, variable, value, kind: str):
        raise UnimplementedError(
            f"At {user_location()}: {kind} of the variable {variable.name!r} inside a tf.cond "
            f"branch or a tf.while_loop body is not supported. Compute the new value with "
            f"tf.cond or tf.while_loop and assign it after, outside the branch or loop.",
            kind)


class nested_tracing:
    """Context manager tracing ``tracer`` inside the current trace (or anywhere): the
    enclosing trace and the tapes are set aside until it ends."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def __enter__(self) -> Tracer:
        self._tokens = (recording.set_tracer(self.tracer), recording._tapes.set(()))
        return self.tracer

    def __exit__(self, *exc) -> None:
        recording.reset_tracer(self._tokens[0])
        recording._tapes.reset(self._tokens[1])


class tracing:
    """Context manager installing a tracer in this thread (nested traces are inlined)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def __enter__(self) -> Tracer:
        if recording.tracer is not None:
            raise RuntimeError("A tf.function is already being traced in this thread.")
        # Tapes opened outside the function do not see its trace.
        self._tokens = (recording.set_tracer(self.tracer), recording._tapes.set(()))
        return self.tracer

    def __exit__(self, *exc) -> None:
        recording.reset_tracer(self._tokens[0])
        recording._tapes.reset(self._tokens[1])


def symbolic_inputs(shapes: list[tuple]) -> list[tuple]:
    """Shapes for a trace's inputs: each ``None`` size becomes a fresh unknown dim (a Dim
    already there stays: inputs naming the same Dim share that size)."""
    return [tuple(Dim.fresh("d") if d is None else d for d in shape) for shape in shapes]


__all__ = ["CapturingTracer", "SymbolicValueError", "Tracer", "nested_tracing",
           "symbolic_inputs", "tracing", "user_location"]
