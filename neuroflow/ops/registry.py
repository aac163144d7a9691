"""The primitive registry: how every op runs, and how it is recorded for gradients.

A :class:`Primitive` declares, in one place,

* its forward computation, written against ``xp`` (NumPy or CuPy) on arrays;
* what it saves for the backward pass (inputs and/or output), explicitly,
  so a tape keeps alive only what a gradient rule needs;
* its vector-Jacobian product (``vjp``), written in neuroflow's own ops, so
  that nested tapes give higher-order gradients and tracing a function that
  calls ``tape.gradient`` captures forward and backward in one graph.

:func:`apply` is the one entry point that runs a primitive. It checks devices,
runs the forward, turns NumPy errors into errors that name the op and the
shapes, and appends a :class:`TapeEntry` to every active tape that watches an
input. Gradient tapes live in :mod:`neuroflow.autodiff`; this module only
knows the small interface they expose (``watched``, ``entries``,
``watch_accessed_variables``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuroflow.backend.device import CPU, device_of
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import Tensor

REGISTRY: dict[str, Primitive] = {}


class Primitive:
    """One primitive operation: forward, saved values and gradient rule together.

    ``forward(xp, *arrays, **attrs) -> array``;
    ``vjp(ctx, grad) -> tuple`` of one gradient (Tensor or None) per input.
    """

    __slots__ = ("name", "forward", "vjp", "save_inputs", "save_output", "differentiable",
                 "smooth", "stateful")

    def __init__(self, name: str, forward: Callable, *, save_inputs: bool = False,
                 save_output: bool = False, differentiable: bool = True, smooth: bool = True,
                 stateful: bool = False):
        if name in REGISTRY:
            raise ValueError(f"A primitive named {name!r} is already registered.")
        self.name = name
        self.forward = forward
        self.vjp: Callable | None = None
        self.save_inputs = save_inputs
        self.save_output = save_output
        self.differentiable = differentiable
        # Smooth primitives get second-derivative tests; kinks (relu, abs) do not.
        self.smooth = smooth
        # Stateful primitives (random draws, printing) must run on every call of a
        # compiled function: graph passes never fold, merge or drop them.
        self.stateful = stateful
        REGISTRY[name] = self

    def defvjp(self, rule: Callable) -> Callable:
        """Decorator: attach the gradient rule."""
        self.vjp = rule
        return rule

    def __call__(self, *inputs: Tensor, **attrs: Any) -> Tensor:
        return apply(self, inputs, attrs)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def primitive(name: str | None = None, **options) -> Callable[[Callable], Primitive]:
    """Decorator that turns a forward function into a registered :class:`Primitive`."""

    def wrap(forward: Callable) -> Primitive:
        return Primitive(name or forward.__name__, forward, **options)

    return wrap


class TapeEntry:
    """One recorded application of a primitive, as a gradient tape keeps it.

    It is also the ``ctx`` a gradient rule receives: ``ctx.inputs`` (saved inputs),
    ``ctx.output``, ``ctx.attrs``, ``ctx.input_shapes`` and ``ctx.needs(i)``, which
    lets a rule skip the gradient of an input nothing asked for.
    """

    __slots__ = ("primitive", "input_ids", "input_shapes", "input_dtypes", "inputs", "output",
                 "output_id", "attrs")

    def __init__(self, prim, input_ids, input_shapes, input_dtypes, inputs, output, output_id,
                 attrs):
        self.primitive = prim
        # ids of the inputs the tape watched when the op ran (None elsewhere): only
        # those receive gradients, and the tape keeps them alive so ids stay unique.
        self.input_ids = input_ids
        self.input_shapes = input_shapes
        self.input_dtypes = input_dtypes
        self.inputs = inputs  # the saved inputs (None where not saved)
        self.output = output  # the output if saved, else None
        self.output_id = output_id
        self.attrs = attrs

    def needs(self, index: int) -> bool:
        """Whether the tape wants the gradient of input ``index``."""
        return self.input_ids[index] is not None


class _Recording:
    """The stack of active tapes (innermost last) and the active graph tracer.

    A tracer (see ``neuroflow/graph/trace.py``) sees every primitive applied while a
    ``tf.function`` traces, after it has run, and every variable read and assignment.
    """

    tapes: list = []
    tracer = None


recording = _Recording()


def apply(prim: Primitive, inputs: tuple[Tensor, ...], attrs: dict) -> Tensor:
    """Run ``prim`` on ``inputs`` and record it on every tape that watches an input."""
    arrays = [t._value for t in inputs]
    for array in arrays:
        if type(array) is not np.ndarray:
            xp = _array_module(prim, arrays)
            break
    else:
        xp = np  # the common case: every input is a NumPy array
    try:
        out = prim.forward(xp, *arrays, **attrs)
    except (ValueError, IndexError) as error:
        raise _explain(prim, arrays, error) from None
    if type(out) is not np.ndarray and isinstance(out, np.generic):
        out = np.asarray(out)  # NumPy returns scalars, not arrays, for 0-d results
    result = Tensor(out)
    if recording.tapes and prim.differentiable:
        _record(prim, inputs, attrs, result)
    if recording.tracer is not None:
        recording.tracer.record(prim, inputs, attrs, result)
    return result


def _array_module(prim: Primitive, arrays: list):
    """The array module of the one device all inputs share."""
    devices = {device_of(a).name: device_of(a) for a in arrays}
    if len(devices) > 1:
        names = " and ".join(sorted(devices))
        raise InvalidArgumentError(
            f"{prim.name}: inputs live on different devices ({names}). "
            "Move them to one device first, e.g. with tf.identity under tf.device(...).",
            prim.name)
    return next(iter(devices.values()), CPU).xp


def _explain(prim: Primitive, arrays: list, error: Exception) -> Exception:
    """Turn a NumPy error into one that names the op and the shapes it received."""
    if isinstance(error, InvalidArgumentError):
        return error
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
    return InvalidArgumentError(
        f"{prim.name} received incompatible inputs with shapes {shapes}: {error}", prim.name)


def _record(prim: Primitive, inputs: tuple, attrs: dict, result: Tensor) -> None:
    if result._value.dtype.kind not in "fc":
        return  # integer and boolean results carry no gradient
    entry = None
    for tape in recording.tapes:
        if not tape.recording:
            continue
        watched = tape.watched
        ids = tuple(id(t) if id(t) in watched else None for t in inputs)
        if not any(i is not None for i in ids):
            continue
        if entry is None or entry.input_ids != ids:
            entry = TapeEntry(
                prim, ids, tuple(t._value.shape for t in inputs),
                tuple(t._value.dtype for t in inputs),
                inputs if prim.save_inputs else None,
                result if prim.save_output else None, id(result), attrs)
        tape.entries.append(entry)
        watched[id(result)] = result


def record_variable_read(variable, snapshot: Tensor) -> None:
    """Link a Variable to the tensor an op reads from it, on every tape that watches it."""
    for tape in recording.tapes:
        if not tape.recording:
            continue
        if tape.watch_accessed_variables and variable.trainable:
            tape.watch_variable(variable)
        if id(variable) in tape.watched:
            tape.entries.append(TapeEntry(
                READ_VARIABLE, (id(variable),), (snapshot._value.shape,),
                (snapshot._value.dtype,), None, None, id(snapshot), {}))
            tape.watched[id(snapshot)] = snapshot


def _read_forward(xp, x):
    return x


READ_VARIABLE = Primitive("read_variable", _read_forward)


@READ_VARIABLE.defvjp
def _read_vjp(ctx, g):
    return (g,)
