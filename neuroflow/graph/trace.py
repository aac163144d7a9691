"""Tracing: run a Python function once and record the primitives it applies.

neuroflow traces *by example*: the function runs on the real arguments of its
first call with a :class:`Tracer` installed, so every op wrapper, shape rule and
error check works exactly as in eager mode, and the trace's result is the
call's result. Each primitive reports itself after it runs (see
``ops/registry.apply``); each value it makes is linked to the node that made it.
Tensors the function did not derive from its inputs or variables become
constants.

A value derived from the inputs is only *symbolic* for later calls, so Python
control flow that looks at it (``if x > 0:``) would silently freeze one branch.
Such uses raise :class:`SymbolicValueError`, pointing at the user's line.
"""

from __future__ import annotations

import os
import sys

from neuroflow.graph.ir import Graph, Node, Value
from neuroflow.ops.registry import recording

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SymbolicValueError(TypeError):
    """A traced tensor was used where a concrete Python value is needed."""


def user_location(skip_package: bool = True) -> str:
    """``file.py:12`` of the innermost frame outside neuroflow (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (skip_package and filename.startswith(_PACKAGE_DIR)):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


class Tracer:
    """Builds a :class:`Graph` from the primitives applied while it is installed."""

    def __init__(self, name: str):
        self.graph = Graph(name)
        self._values: dict[int, Value] = {}
        # Keeps every tensor seen alive, so ids stay unique while tracing.
        self._alive: list = []
        self._variables: dict[int, int] = {}
        self._counter = 0

    # --- values -------------------------------------------------------------------------
    def _new_name(self, prefix: str) -> str:
        name = f"{prefix}{self._counter}"
        self._counter += 1
        return name

    def add_input(self, tensor) -> Value:
        value = Value(self._new_name("v"), tensor._value.shape, tensor._value.dtype, "input",
                      index=len(self.graph.inputs))
        self.graph.inputs.append(value)
        self._bind(tensor, value)
        return value

    def _bind(self, tensor, value: Value) -> None:
        self._values[id(tensor)] = value
        self._alive.append(tensor)

    def value_of(self, tensor) -> Value:
        """The graph value of ``tensor``; a tensor never seen before becomes a constant."""
        value = self._values.get(id(tensor))
        if value is None:
            array = tensor._value
            value = Value(self._new_name("c"), array.shape, array.dtype, "const")
            self.graph.constants[value.name] = array
            self._bind(tensor, value)
        return value

    def is_symbolic(self, tensor) -> bool:
        value = self._values.get(id(tensor))
        return value is not None and value.kind != "const"

    # --- what the registry and Variable report -------------------------------------------------
    def record(self, prim, inputs, attrs, result) -> None:
        in_values = [self.value_of(t) for t in inputs]
        if not prim.stateful and all(v.kind == "const" for v in in_values):
            # Nothing here depends on the inputs or variables: the result is a constant.
            self.value_of(result)
            return
        out = Value(self._new_name("v"), result._value.shape, result._value.dtype, "node")
        self.graph.nodes.append(Node(prim.name, in_values, dict(attrs), out, primitive=prim,
                                     location=user_location()))
        self._bind(result, out)

    def _variable_index(self, variable) -> int:
        index = self._variables.get(id(variable))
        if index is None:
            index = len(self.graph.variables)
            self.graph.variables.append(variable)
            self._variables[id(variable)] = index
        return index

    def record_read(self, variable, snapshot) -> None:
        out = Value(self._new_name("v"), snapshot._value.shape, snapshot._value.dtype, "node")
        self.graph.nodes.append(Node("read_variable", [], {}, out,
                                     variable=self._variable_index(variable),
                                     location=user_location()))
        self._bind(snapshot, out)

    def record_assign(self, variable, kind: str, tensor) -> None:
        self.graph.nodes.append(Node(kind, [self.value_of(tensor)], {}, None,
                                     variable=self._variable_index(variable),
                                     location=user_location()))

    # --- the interface Variable calls while a function traces -----------------------------
    def read_variable(self, variable):
        """Read ``variable`` for an op: a snapshot tensor, linked to tapes and to the graph."""
        from neuroflow.ops.registry import record_variable_read
        from neuroflow.tensor import Tensor

        snapshot = Tensor(variable._value)
        variable._shared = True
        if recording.tapes:
            record_variable_read(variable, snapshot)
        self.record_read(variable, snapshot)
        return snapshot

    def assign_variable(self, variable, value, kind: str):
        """Run an assignment for real (tracing is a first call) and record it."""
        from neuroflow.tensor import convert_to_tensor

        tensor = value if hasattr(value, "_value") and not hasattr(value, "_read_for_op") \
            else convert_to_tensor(value, dtype=variable.dtype)
        recording.tracer = None
        try:
            getattr(variable, kind)(tensor)
        finally:
            recording.tracer = self
        self.record_assign(variable, kind, tensor)
        return variable

    def finish(self, flat_outputs: list) -> tuple[list, list]:
        """Set the graph outputs from the leaves the function returned.

        Returns, per leaf, a Value or the Python constant, and the leaves as this call
        returns them: a returned variable is returned as its value at the end of the
        call, as in TF.
        """
        kept, leaves = [], []
        for leaf in flat_outputs:
            if hasattr(leaf, "_read_for_op"):
                leaf = self.read_variable(leaf)
            if hasattr(leaf, "_value"):
                value = self.value_of(leaf)
                self.graph.outputs.append(value)
                kept.append(value)
            else:
                kept.append(leaf)
            leaves.append(leaf)
        return kept, leaves


class tracing:
    """Context manager installing a tracer (nested tracers are not allowed)."""

    def __init__(self, tracer: Tracer):
        self.tracer = tracer

    def __enter__(self) -> Tracer:
        from neuroflow import tensor

        if recording.tracer is not None:
            raise RuntimeError("A tf.function is already being traced.")
        recording.tracer = self.tracer
        tensor.symbolic_check = check_concrete
        return self.tracer

    def __exit__(self, *exc) -> None:
        from neuroflow import tensor

        recording.tracer = None
        tensor.symbolic_check = None


def check_concrete(tensor, what: str) -> None:
    """Raise if ``tensor`` is symbolic in the function being traced (used by Tensor)."""
    tracer = recording.tracer
    if tracer is None or not tracer.is_symbolic(tensor):
        return
    advice = {
        "bool": "Python `if`/`while` on a tensor freezes one branch into the graph. Use "
                "tf.where(condition, x, y) to choose values, or compute the condition "
                "outside the tf.function",
        "numpy": "`.numpy()` needs a concrete value. Return the tensor from the function "
                 "and call .numpy() on the result",
    }.get(what, "Python needs a concrete value here")
    raise SymbolicValueError(
        f"At {user_location()}: using a symbolic tf.Tensor as a Python {what} is not allowed "
        f"inside tf.function: its value is only known when the compiled graph runs. "
        f"{advice}; or debug with tf.config.run_functions_eagerly(True).")


__all__ = ["SymbolicValueError", "Tracer", "check_concrete", "tracing", "user_location"]
