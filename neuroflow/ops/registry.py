"""The primitive registry: how every op runs, and how it is recorded for gradients.

A :class:`Primitive` declares, in one place,

* its forward computation, written against ``xp`` (NumPy or CuPy) on arrays;
* what it saves for the backward pass (inputs and/or output), explicitly,
  so a tape keeps alive only what a gradient rule needs;
* its vector-Jacobian product (``vjp``), written in neuroflow's own ops, so
  that nested tapes give higher-order gradients and tracing a function that
  calls ``tape.gradient`` captures forward and backward in one graph;
* its shape rule: the shapes and dtypes of its results from those of its
  inputs (sizes may be unknown, see ``abstract.py``), which is all a trace runs;
* its lowering: the facts graph mode needs to emit it (the NumPy call it
  becomes, whether that call takes ``out=``, whether its result is fresh memory,
  a view of its input or possibly an input itself, whether it may overwrite an
  input, whether it is stateful). Codegen, the interpreter, fusion and memory
  planning read these facts here, never from lists of names.

:func:`apply` is the one entry point that runs a primitive. It checks devices,
runs the forward, turns NumPy errors into errors that name the op and the
shapes, and appends a :class:`TapeEntry` to every active tape that watches an
input. Gradient tapes live in :mod:`neuroflow.autodiff`; this module only
knows the small interface they expose (``watched``, ``entries``,
``watch_accessed_variables``).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroflow.abstract import AbstractArray, InconclusiveDimension, contains_dim
from neuroflow.backend.device import CPU, device_of
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import Tensor

REGISTRY: dict[str, Primitive] = {}

# Watchers of eager ops: ``watch(prim, arrays, out, start, end)`` is called after each op
# runs, with its result and its perf_counter times (tf.debugging's numeric checks raise
# from one; the profiler records). Empty unless one is on, so ops pay one truth test.
op_watchers: list[Callable] = []


@dataclass(frozen=True)
class Lowering:
    """How generated code runs a primitive, and what memory its result may share.

    ``template`` is the Python expression generated code evaluates: ``{0}``, ``{1}``
    stand for the inputs, ``{name}`` for the attribute ``name`` (a literal, a dtype
    such as ``np.float32``, or a name bound in the generated module), ``{out}`` for
    ``, out=BUFFER`` when memory planning gave the result a buffer (or nothing). It
    may also be a function of the node returning such a template, or None to call
    the forward. Without a template, generated code calls the primitive's forward.

    ``emit`` is for ops a template cannot express (several statements): a function
    ``(node, input_names, buffer_or_None, bind) -> statement`` that must assign the
    node's results; ``bind(prefix, obj)`` names an object in the generated module.

    ``out``: the template writes into ``{out}`` (the planner may give it a buffer).
    ``result``: ``"fresh"`` (new memory or the buffer), ``"view"`` (may view its first
    input), or ``"any"`` (may return any input, or a view of it).
    ``in_place``: elementwise, so the result may take the buffer of an input read for
    the last time. ``ufunc``: the NumPy ufunc computing it elementwise, for fusion (with
    fewer inputs than the ufunc takes, the missing operands are 0: relu is maximum(x, 0)).
    """

    template: str | Callable | None = None
    emit: Callable | None = None
    out: bool = False
    result: str = "any"
    in_place: bool = False
    ufunc: str | None = None


DEFAULT_LOWERING = Lowering()


def ufunc_lowering(ufunc: str, arity: int) -> Lowering:
    """An elementwise primitive computed by one NumPy ufunc (``np.add``)."""
    operands = ", ".join(f"{{{i}}}" for i in range(arity))
    return Lowering(f"np.{ufunc}({operands}{{out}})", out=True, result="fresh",
                    in_place=True, ufunc=ufunc)


class Primitive:
    """One primitive operation: forward, saved values and gradient rule together.

    ``forward(xp, *arrays, **attrs) -> array``;
    ``vjp(ctx, grad) -> tuple`` of one gradient (Tensor or None) per input;
    ``shape(*abstract_arrays, **attrs) -> AbstractArray`` (a tuple for several results).

    A primitive with ``multiple_results`` (graph control flow: ``tf.cond`` returns what
    its branches return) makes a tuple of results: its forward returns a tuple (one
    array alone when there is one), applying it returns a tuple of tensors, and its
    gradient rule receives a tuple of gradients, None for results nothing depends on.
    """

    __slots__ = ("name", "forward", "vjp", "shape_rule", "lowering", "save_inputs",
                 "save_output", "differentiable", "smooth", "stateful", "effect", "shape_only",
                 "multiple_results")

    def __init__(self, name: str, forward: Callable, *, shape: Callable | None = None,
                 lowering: Lowering = DEFAULT_LOWERING, save_inputs: bool = False,
                 save_output: bool = False, differentiable: bool = True, smooth: bool = True,
                 stateful: bool = False, effect: bool | None = None, shape_only: bool = False,
                 multiple_results: bool = False):
        if name in REGISTRY:
            raise ValueError(f"A primitive named {name!r} is already registered.")
        if not name.isidentifier():
            raise ValueError(f"A primitive's name must be a Python identifier (it names "
                             f"generated code); received {name!r}.")
        self.name = name
        self.forward = forward
        self.vjp: Callable | None = None
        self.shape_rule = shape
        self.lowering = lowering
        self.save_inputs = save_inputs
        self.save_output = save_output
        self.differentiable = differentiable
        # Smooth primitives get second-derivative tests; kinks (relu, abs) do not.
        self.smooth = smooth
        # Stateful primitives (random draws, printing) must run on every call of a
        # compiled function: graph passes never fold, merge or drop them.
        self.stateful = stateful
        # Whether running it is visible beyond its result (a print is; a random draw only
        # advances its own stream). Effects never run twice or out of order.
        self.effect = stateful if effect is None else effect
        # The result depends only on the inputs' shapes (tf.shape, tf.size): graph passes
        # fold it once the shapes are known.
        self.shape_only = shape_only
        self.multiple_results = multiple_results
        REGISTRY[name] = self

    def defvjp(self, rule: Callable) -> Callable:
        """Decorator: attach the gradient rule."""
        self.vjp = rule
        return rule

    def defshape(self, rule: Callable) -> Callable:
        """Decorator: attach the shape rule."""
        self.shape_rule = rule
        return rule

    def abstract_eval(self, inputs: list, attrs: dict) -> tuple[AbstractArray, ...]:
        """The abstract results for abstract (or concrete) input arrays: the shape rule."""
        if self.shape_rule is None:
            raise NotImplementedError(f"The primitive {self.name} has no shape rule, so it "
                                      f"cannot be traced by tf.function.")
        avals = [a if type(a) is AbstractArray else AbstractArray(a.shape, a.dtype)
                 for a in inputs]
        out = self.shape_rule(*avals, **attrs)
        return out if isinstance(out, tuple) else (out,)

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
    lets a rule skip the gradient of an input nothing asked for. For a primitive with
    several results, ``output_id`` (and ``output``, if saved) is a tuple, one per result.
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
    """Per-thread (per-context) recording state: the active tapes and the graph tracer.

    Tapes are a tuple, innermost last; a tracer (see ``neuroflow/graph/trace.py``) is
    told of every primitive applied to a traced tensor, and of every variable read and
    assignment, while a ``tf.function`` traces. Both live in context variables, so a
    tape or a trace in one thread never sees the ops of another (as in TensorFlow).
    """

    __slots__ = ()
    _tapes: contextvars.ContextVar = contextvars.ContextVar("neuroflow_tapes", default=())
    _tracer: contextvars.ContextVar = contextvars.ContextVar("neuroflow_tracer", default=None)

    @property
    def tapes(self) -> tuple:
        return self._tapes.get()

    @property
    def tracer(self):
        return self._tracer.get()

    def push_tape(self, tape) -> None:
        self._tapes.set((*self._tapes.get(), tape))

    def remove_tape(self, tape) -> None:
        self._tapes.set(tuple(t for t in self._tapes.get() if t is not tape))

    def set_tracer(self, tracer):
        """Install ``tracer`` (None to remove it); returns a token for :meth:`reset_tracer`."""
        return self._tracer.set(tracer)

    def reset_tracer(self, token) -> None:
        self._tracer.reset(token)


recording = _Recording()


def apply(prim: Primitive, inputs: tuple[Tensor, ...], attrs: dict) -> Tensor:
    """Run ``prim`` on ``inputs`` and record it on every tape that watches an input.

    If an input is symbolic (a ``tf.function`` is tracing), only the shape rule runs and
    the tracer records a node. While tracing, a primitive on constant inputs is recorded
    too when it is stateful (a random draw, a print: it must run on every call) or when
    an attribute holds an unknown size.
    """
    arrays = [t._value for t in inputs]
    for array in arrays:
        if type(array) is not np.ndarray:
            if type(array) is AbstractArray:
                return _apply_symbolic(prim, inputs, arrays, attrs)
            xp = _array_module(prim, arrays)
            break
    else:
        xp = np  # the common case: every input is a NumPy array
    if recording.tracer is not None and (prim.stateful or contains_dim(attrs)):
        # Concrete inputs, but the op must be in the graph: it runs on every call, or its
        # attributes hold a size that is only known per call (a seed broadcast to the
        # batch's shape).
        return _apply_symbolic(prim, inputs, arrays, attrs)
    if op_watchers:
        out = _watched_forward(prim, xp, arrays, attrs)
    else:
        try:
            out = prim.forward(xp, *arrays, **attrs)
        except (ValueError, IndexError) as error:
            raise _explain(prim, arrays, error) from None
    if prim.multiple_results:
        return _several_results(prim, inputs, attrs, out)
    if type(out) is not np.ndarray and isinstance(out, np.generic):
        out = np.asarray(out)  # NumPy returns scalars, not arrays, for 0-d results
    result = Tensor(out)
    if prim.differentiable and recording.tapes:
        _record(prim, inputs, attrs, result)
    return result


def _watched_forward(prim: Primitive, xp, arrays: list, attrs: dict):
    """The forward, timed, its result shown to every watcher."""
    start = time.perf_counter()
    try:
        out = prim.forward(xp, *arrays, **attrs)
    except (ValueError, IndexError) as error:
        raise _explain(prim, arrays, error) from None
    end = time.perf_counter()
    for watch in op_watchers:
        watch(prim, arrays, out, start, end)
    return out


def _apply_symbolic(prim: Primitive, inputs: tuple, arrays: list, attrs: dict) -> Tensor:
    tracer = recording.tracer
    if tracer is None:
        raise RuntimeError(
            f"{prim.name}: a symbolic tensor made while a tf.function traced was used "
            f"outside that trace (was it stored in a global or an attribute?). Return it "
            f"from the function instead.")
    try:
        avals = prim.abstract_eval(arrays, attrs)
    except (ValueError, IndexError) as error:
        raise _explain(prim, arrays, error) from None
    if prim.multiple_results:
        results = tracer.record_several(prim, inputs, attrs, avals)
        if prim.differentiable and recording.tapes:
            _record(prim, inputs, attrs, results)
        return results
    if len(avals) != 1:
        raise ValueError(f"{prim.name}: a primitive makes one result; its shape rule gave "
                         f"{len(avals)}.")
    result = tracer.record(prim, inputs, attrs, avals[0])
    if prim.differentiable and recording.tapes:
        _record(prim, inputs, attrs, result)
    return result


def _several_results(prim: Primitive, inputs: tuple, attrs: dict, out) -> tuple:
    """The tensors of a primitive with several results (its forward gave one or a tuple)."""
    arrays = out if isinstance(out, tuple) else (out,)
    results = tuple(Tensor(a if type(a) is np.ndarray else np.asarray(a)) for a in arrays)
    if prim.differentiable and recording.tapes:
        _record(prim, inputs, attrs, results)
    return results


def executing_eagerly() -> bool:
    """False while a ``tf.function`` traces in this thread, as ``tf.executing_eagerly``."""
    return recording.tracer is None


def inside_function() -> bool:
    """True while a ``tf.function`` traces in this thread, as ``tf.inside_function``."""
    return recording.tracer is not None


class init_scope:
    """Run ops eagerly inside a trace, as ``tf.init_scope``: for creating variables and
    their initial values (Keras layers build their weights under it)."""

    def __enter__(self):
        self._tokens = (recording._tracer.set(None), recording._tapes.set(()))
        return self

    def __exit__(self, *exc) -> None:
        recording._tracer.reset(self._tokens[0])
        recording._tapes.reset(self._tokens[1])


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
    if isinstance(error, (InvalidArgumentError, InconclusiveDimension)):
        return error
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
    return InvalidArgumentError(
        f"{prim.name} received incompatible inputs with shapes {shapes}: {error}", prim.name)


def _record(prim: Primitive, inputs: tuple, attrs: dict, result: Tensor | tuple) -> None:
    several = type(result) is tuple
    results = result if several else (result,)
    if not any(r._value.dtype.kind in "fc" for r in results):
        return  # integer and boolean results carry no gradient
    output_id = tuple(id(r) for r in results) if several else id(result)
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
                result if prim.save_output else None, output_id, attrs)
        tape.entries.append(entry)
        for r in results:
            watched[id(r)] = r


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


READ_VARIABLE = Primitive("read_variable", _read_forward, shape=lambda x: x,
                          lowering=Lowering("{0}", result="view"))


@READ_VARIABLE.defvjp
def _read_vjp(ctx, g):
    return (g,)
