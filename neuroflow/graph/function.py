"""``tf.function``: trace a Python function into a graph, optimize it, compile it.

A :class:`Function` keeps one :class:`ConcreteFunction` per input signature:
the shapes, dtypes and device of tensor arguments, the values of Python
arguments, and the nesting of the arguments. The first call with a new
signature traces: the Python function runs once on symbolic tensors (shape and
dtype, no value; see ``trace.py``), and the call then runs the compiled code,
like every later call.

Sizes may be unknown in a trace: with an ``input_signature``, each ``None``
dimension accepts any size, and the Python function runs once for all sizes;
with ``reduce_retracing=True``, a second trace relaxes the dimensions that
changed to unknown. A :class:`ConcreteFunction` compiles one plan per concrete
set of input sizes (``passes/specialize.py``), without running Python again.

Both caches are bounded (``config.settings``): the least recently used trace or
plan is dropped, and with it its generated source. Compiled code owns no state
two calls could share: each call takes its memory plan's buffers from a pool,
so any number of threads may call one function at once.

The generated code calls NumPy: a call with tensors on a GPU runs the Python
function eagerly (on CuPy), as does a call under an active outer GradientTape.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import time
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from neuroflow.abstract import Dim, ValueNeeded, public_shape
from neuroflow.config import settings
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph import codegen, jit, passes
from neuroflow.graph.interpret import run_graph
from neuroflow.graph.ir import Graph, Node, Value
from neuroflow.graph.passes.memory import MemoryPlan
from neuroflow.graph.passes.specialize import specialize
from neuroflow.graph.trace import Tracer, symbolic_inputs, tracing
from neuroflow.ops.checks import all_finite, numerics_checked, numerics_error
from neuroflow.ops.elementwise import quiet
from neuroflow.ops.registry import op_watchers, recording
from neuroflow.profiler import session as profiler_session
from neuroflow.tensor import Tensor, convert_to_tensor, host_array
from neuroflow.util import nest


class TensorSpec:
    """The shape and dtype a tensor argument must have (``None`` dims are free).

    Inside neuroflow a size may also be a :class:`~neuroflow.abstract.Dim`: an unknown
    size shared by every argument that names it (Keras steps give the inputs, labels and
    weights of a batch one batch size).
    """

    def __init__(self, shape, dtype="float32", name=None):
        from neuroflow.dtypes import as_dtype

        self.shape = None if shape is None else tuple(
            d if d is None or isinstance(d, Dim) else int(d) for d in shape)
        self.dtype = as_dtype(dtype)
        self.name = name

    def is_compatible_with(self, array: np.ndarray) -> bool:
        if array.dtype != self.dtype.np:
            return False
        if self.shape is None:
            return True
        return len(array.shape) == len(self.shape) and all(
            type(want) is not int or want == got for want, got in zip(self.shape, array.shape))

    def __repr__(self) -> str:
        shape = None if self.shape is None else public_shape(self.shape)
        return f"TensorSpec(shape={shape}, dtype={self.dtype!r}, name={self.name!r})"


# --- arguments: what a call passes, and the key of its signature -------------------------------


def _placeholder_for(spec: TensorSpec) -> np.ndarray:
    """An array matching ``spec`` (unknown sizes as 1) to trace with; its values are never
    read, since a signature's trace keeps those sizes unknown."""
    if spec.shape is None:
        raise ValueError(f"get_concrete_function() needs arguments for {spec!r}: a spec of "
                         f"unknown rank gives no shape to trace with. Pass a tensor, or give "
                         f"the spec a shape (None for unknown sizes).")
    return np.zeros([1 if size is None else size for size in spec.shape], dtype=spec.dtype.np)


def _is_tensor_leaf(leaf: Any) -> bool:
    return isinstance(leaf, (Tensor, np.ndarray))


def _array_of(leaf: Any) -> np.ndarray:
    if type(leaf) is Tensor:
        return leaf._value
    # NumPy arrays are copied, as converting them to tensors does: the caller may change
    # them later, and an output may share memory with an input.
    return convert_to_tensor(leaf)._value


def _leaf_key(leaf: Any, array: np.ndarray | None):
    if array is not None:
        device = "cpu" if type(array) is np.ndarray else type(array).__module__
        return ("tensor", array.shape, array.dtype.str, device)
    if hasattr(leaf, "_read_for_op"):
        return ("variable", id(leaf))
    try:
        hash(leaf)
    except TypeError:
        return ("object", id(leaf))
    return ("python", type(leaf).__name__, leaf)


def _skeleton(structure: Any):
    """The nesting of ``structure`` without its leaves (part of the cache key)."""
    if isinstance(structure, dict):
        return ("dict", tuple(sorted((repr(k), _skeleton(v)) for k, v in structure.items())))
    if isinstance(structure, (list, tuple)):
        return (type(structure).__name__, tuple(_skeleton(v) for v in structure))
    return None


@functools.lru_cache(maxsize=16)
def _flat_skeleton(count: int):
    return _skeleton(((None,) * count, {}))


def _paths(structure: Any, prefix: str):
    """``structure`` with each leaf replaced by its path (``x``, ``batch['image']``)."""
    if isinstance(structure, dict):
        return {k: _paths(v, f"{prefix}[{k!r}]") for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_paths(v, f"{prefix}[{i}]") for i, v in enumerate(structure)]
    return prefix


# Integer or boolean arguments of at most this many elements may key traces by value.
_MAX_VALUE_KEY = 64


def _keys_by_value(array) -> bool:
    return array.size <= _MAX_VALUE_KEY and array.dtype.kind in "biu"


class _Call:
    """One call's arguments, flattened: the leaves, their arrays, and the signature key."""

    __slots__ = ("args", "kwargs", "flat", "arrays", "key", "python_key", "on_host", "by_value")

    def __init__(self, args: tuple, kwargs: dict, fixed_key: tuple | None = None,
                 by_value: frozenset = frozenset()):
        self.args, self.kwargs = args, kwargs
        # Positions (among the tensor arguments) whose values, not just shapes, key the
        # trace: tensors the function reads as Python values (an axis, a count).
        self.by_value = by_value
        if not kwargs and not by_value and all(type(a) is Tensor for a in args):
            # The common case, kept fast: tensors only, no nesting.
            self.flat = list(args)
            arrays = [a._value for a in args]
            skeleton = _flat_skeleton(len(args))
        else:
            self.flat = nest.flatten((args, kwargs))
            arrays = [_array_of(leaf) if _is_tensor_leaf(leaf) else None for leaf in self.flat]
            skeleton = _skeleton((args, kwargs))
        leaf_keys = [_leaf_key(leaf, a) for leaf, a in zip(self.flat, arrays)]
        if by_value:
            tensor_positions = [i for i, a in enumerate(arrays) if a is not None]
            kept = set()
            for position in by_value:
                index = tensor_positions[position] if position < len(tensor_positions) else None
                if index is None or not _keys_by_value(arrays[index]):
                    continue  # another structure of arguments: an input as usual
                array = host_array(arrays[index])
                leaf_keys[index] = ("value", array.shape, array.dtype.str, array.tobytes())
                arrays[index] = None  # not an input of the graph: a constant of the trace
                kept.add(position)
            self.by_value = frozenset(kept)
        self.arrays = [a for a in arrays if a is not None]
        # The signature without the tensors' shapes: what a trace with unknown sizes matches.
        self.python_key = (skeleton, *(k[:1] + k[2:] if k[0] == "tensor" else k
                                       for k in leaf_keys))
        self.key = fixed_key if fixed_key is not None else (skeleton, *leaf_keys)
        self.on_host = all(type(a) is np.ndarray for a in self.arrays)

    def with_leaves(self, leaves: list) -> tuple[tuple, dict]:
        return nest.pack_sequence_as((self.args, self.kwargs), leaves)


class Function:
    """A Python function compiled per input signature; see :func:`function`."""

    def __init__(self, python_function, input_signature=None, reduce_retracing=False,
                 name: str | None = None, optimize: bool = True, instance=None):
        functools.update_wrapper(self, python_function)
        self.python_function = python_function
        self.input_signature = None if input_signature is None else list(input_signature)
        self.reduce_retracing = reduce_retracing
        self.optimize = optimize
        self._name = name or getattr(python_function, "__name__", "function")
        self._instance = instance  # a weak reference, for methods: see __get__
        self._signature = _signature_of(python_function, bound=instance is not None)
        # Signature key -> its trace, the most recently used last (an LRU cache).
        self._concrete: OrderedDict[tuple, ConcreteFunction] = OrderedDict()
        self._relaxed: list[ConcreteFunction] = []  # traces with unknown sizes
        self._last: ConcreteFunction | None = None
        self._trace_count = 0
        self._warned = False
        self._lock = threading.RLock()  # one trace at a time; calls never wait on it
        self._by_value: frozenset = frozenset()  # tensor arguments read as values
        self._bound: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # Methods decorated with @tf.function get one Function (and cache) per instance. It holds
    # the instance weakly, so the cache does not keep the instance alive.
    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        bound = self._bound.get(instance)
        if bound is None:
            bound = Function(self.python_function, self.input_signature, self.reduce_retracing,
                             self._name, self.optimize, instance=weakref.ref(instance))
            self._bound[instance] = bound
        return bound

    def _run_python(self, args, kwargs):
        if self._instance is None:
            return self.python_function(*args, **kwargs)
        return self.python_function(self._instance(), *args, **kwargs)

    def __call__(self, *args, **kwargs):
        if recording.tracer is not None:
            return self._run_python(args, kwargs)  # called while another traces: inlined
        if settings.run_functions_eagerly or _taping():
            # Eager debugging, or an outer GradientTape that must see the ops. Arguments
            # are still converted and checked as the input_signature says.
            if self.input_signature is not None:
                call = self._bind(args, kwargs)
                args, kwargs = call.args, call.kwargs
            return self._run_python(args, kwargs)
        call = self._bind(args, kwargs)
        if not call.on_host:
            return self._run_python(args, kwargs)  # the generated code calls NumPy
        concrete, call = self._concrete_for(call)
        return concrete._run(call.arrays)

    def _concrete_for(self, call: _Call) -> tuple[ConcreteFunction, _Call]:
        """The trace that runs this call (cached, compatible with it, or traced now), and
        the call as that trace takes it."""
        concrete = self._concrete.get(call.key)
        if concrete is not None:
            return concrete, call
        with self._lock:
            concrete = self._concrete.get(call.key)
            if concrete is None:
                concrete = next((c for c in self._relaxed if c.accepts(call)), None)
                if concrete is None:
                    concrete, call = self._trace_reading_values(call)
                self._remember(call.key, concrete)
            return concrete, call

    def _trace_reading_values(self, call: _Call) -> tuple[ConcreteFunction, _Call]:
        """Trace; if the function reads an argument tensor's value (an axis, a count, a
        flag), trace again with that argument's value fixed, as for a Python number: the
        trace then serves calls with that value, and another value traces anew."""
        while True:
            try:
                return self._trace(call), call
            except ValueNeeded as error:
                position = self._argument_read(call, error.source)
                if position is None:
                    raise
                self._by_value = self._by_value | {position}
                call = self._bind(call.args, call.kwargs)

    def _argument_read(self, call: _Call, source) -> int | None:
        """The position (among tensor arguments) of the argument ``source`` stands for, if it
        is an argument small enough to key traces by value."""
        if source is None or getattr(source, "kind", None) != "input" or \
                self.input_signature is not None:
            return None
        positions = [i for i in range(len(call.arrays) + len(call.by_value))
                     if i not in call.by_value]
        if source.index >= len(positions):
            return None
        return positions[source.index] if _keys_by_value(call.arrays[source.index]) else None

    def _remember(self, key: tuple, concrete: ConcreteFunction) -> None:
        self._concrete[key] = concrete
        while len(self._concrete) > settings.function_cache_size:
            _, dropped = self._concrete.popitem(last=False)
            if dropped not in self._concrete.values():
                if dropped in self._relaxed:
                    self._relaxed.remove(dropped)
                dropped.release()

    # --- arguments ------------------------------------------------------------------------------
    def _bind(self, args: tuple, kwargs: dict) -> _Call:
        """The call's arguments, in one canonical form (``f(x, y=2)`` is ``f(x, 2)``)."""
        if kwargs and self._signature is not None:
            bound = self._signature.bind(*args, **kwargs)
            args, kwargs = bound.args, bound.kwargs
        if self.input_signature is not None:
            args = self._apply_input_signature(args, kwargs)
            return _Call(tuple(args), kwargs, fixed_key=("input_signature",))
        return _Call(tuple(args), kwargs, by_value=self._by_value)

    def _argument_paths(self, call: _Call) -> list[str]:
        names = [] if self._signature is None else list(self._signature.parameters)
        positional = [_paths(arg, names[i] if i < len(names) else f"args[{i}]")
                      for i, arg in enumerate(call.args)]
        keyword = {k: _paths(v, k) for k, v in call.kwargs.items()}
        return nest.flatten((positional, keyword))

    def _apply_input_signature(self, args: tuple, kwargs: dict) -> tuple:
        specs = self.input_signature
        names = [] if self._signature is None else list(self._signature.parameters)
        if kwargs or len(args) != len(specs):
            raise TypeError(f"{self._name} was declared with an input_signature of "
                            f"{len(specs)} arguments but received {len(args)} positional and "
                            f"{len(kwargs)} keyword arguments.")
        checked = []
        for index, (spec, arg) in enumerate(zip(specs, args)):
            name = names[index] if index < len(names) else f"args[{index}]"
            if isinstance(spec, TensorSpec):  # the argument is one tensor (or a list to convert)
                checked.append(self._conform(spec, arg, name))
                continue
            try:
                nest.assert_same_structure(spec, arg, check_types=False)
            except (TypeError, ValueError):
                raise TypeError(f"{self._name}: argument {name!r} does not have the nesting of "
                                f"its input_signature {spec!r}; received {arg!r}.") from None
            leaves = [self._conform(s, leaf, path) for s, leaf, path in zip(
                nest.flatten(spec), nest.flatten(arg), nest.flatten(_paths(arg, name)))]
            checked.append(nest.pack_sequence_as(arg, leaves))
        return tuple(checked)

    def _conform(self, spec: TensorSpec, leaf: Any, path: str) -> Tensor:
        tensor = leaf if isinstance(leaf, Tensor) else convert_to_tensor(leaf, dtype=spec.dtype)
        if not spec.is_compatible_with(tensor._value):
            raise TypeError(
                f"{self._name}: argument {path!r} has shape {tuple(tensor.shape)} and dtype "
                f"{tensor.dtype.name}, which does not match its input_signature {spec!r}.")
        return tensor

    # --- tracing ------------------------------------------------------------------------------
    def _trace_shapes(self, call: _Call) -> list[tuple]:
        """The shapes the trace's inputs get, ``None`` where a size stays unknown."""
        shapes = [tuple(a.shape) for a in call.arrays]
        if self.input_signature is not None:
            specs = nest.flatten(self.input_signature)
            return [(None,) * len(shape) if spec.shape is None else spec.shape
                    for spec, shape in zip(specs, shapes)]
        if self.reduce_retracing:
            previous = next((c for c in reversed(self._concrete.values())
                             if c.relaxes_with(call)), None)
            if previous is not None:
                return [tuple(d if d == p else None for d, p in zip(shape, old))
                        for shape, old in zip(shapes, previous.input_shapes)]
        return shapes

    def _trace(self, call: _Call) -> ConcreteFunction:
        self._warn_if_retracing(call)
        shapes = self._trace_shapes(call)
        tracer = Tracer(self._name)
        traced = []
        with tracing(tracer):
            arrays = iter(zip(call.arrays, symbolic_inputs(shapes)))
            position = 0
            for leaf in call.flat:
                if _is_tensor_leaf(leaf):
                    if position in call.by_value:
                        traced.append(convert_to_tensor(leaf))
                    else:
                        array, shape = next(arrays)
                        traced.append(tracer.add_input(shape, array.dtype))
                    position += 1
                else:
                    traced.append(leaf)
            args, kwargs = call.with_leaves(traced)
            result = self._run_python(args, kwargs)
            leaves = tracer.finish(nest.flatten(result))
        concrete = ConcreteFunction(self, tracer.graph, result, leaves, self.optimize,
                                    call, shapes)
        if any(type(d) is not int for shape in shapes for d in shape):
            self._relaxed.append(concrete)
        self._last = concrete
        self._trace_count += 1
        return concrete

    def _warn_if_retracing(self, call: _Call) -> None:
        if self._warned or self._trace_count + 1 < settings.retrace_warning_threshold:
            return
        self._warned = True
        warnings.warn(
            f"{self._name} has been traced {self._trace_count + 1} times; the latest "
            f"retrace was caused by {self._what_changed(call)}. Each new shape, dtype or "
            f"Python value traces a new graph. Pass tensors instead of Python numbers, keep "
            f"shapes fixed, give an input_signature with None for dimensions that vary, or "
            f"use reduce_retracing=True. (This warning is shown once per function.)",
            stacklevel=_user_stacklevel())

    def _what_changed(self, call: _Call) -> str:
        previous = next(reversed(self._concrete), None) if self._concrete else None
        if previous is None or len(previous) != len(call.key) or previous[0] != call.key[0]:
            return "a change in the number or nesting of the arguments"
        paths = self._argument_paths(call)
        for index, (old, new) in enumerate(zip(previous[1:], call.key[1:])):
            if old != new:
                return f"argument {paths[index]!r} ({_describe(old)} -> {_describe(new)})"
        return "an unknown change"

    # --- introspection --------------------------------------------------------------------------
    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The concrete function for these arguments, tracing if needed (nothing runs).

        With an ``input_signature`` the arguments may be left out, as in TensorFlow: the
        trace then takes its shapes and dtypes from the signature alone."""
        if not args and not kwargs and self.input_signature:
            args = tuple(nest.map_structure(_placeholder_for, self.input_signature))
        call = self._bind(args, kwargs)
        return self._concrete_for(call)[0]

    def experimental_get_tracing_count(self) -> int:
        return self._trace_count

    @property
    def graph(self) -> Graph:
        """The optimized graph of the most recently used trace, for its latest sizes."""
        return self._require_trace().optimized

    @property
    def source(self) -> str:
        """The generated Python source of the most recently used trace and sizes."""
        return self._require_trace().source

    def _require_trace(self) -> ConcreteFunction:
        if self._last is None:
            raise ValueError(f"{self._name} has not been traced yet: call it first.")
        return self._last

    def __repr__(self) -> str:
        return f"<neuroflow.function {self._name}: {self._trace_count} trace(s)>"


_PLAIN = (False, False)  # neither numeric checks nor timers


class _Plan:
    """One trace compiled for one set of input sizes, with a pool of buffer sets.

    While numeric checks or the profiler are on (``registry.op_watchers`` is not empty),
    ``run`` runs an instrumented variant instead, compiled on first use for that setting
    (``mode``: check numerics, time ops) and kept beside the plain code, which stays as it
    is. Checking runs the graph before fusion, so that the first op making an infinity or
    a NaN is found and named; timing runs the optimized graph that normally runs.
    """

    __slots__ = ("graph", "memory", "source", "compiled", "_quiet", "_specs", "_pool",
                 "_traced", "_optimize", "_variants", "_timer", "__weakref__")

    def __init__(self, graph: Graph, optimize: bool, mode: tuple[bool, bool] = _PLAIN):
        checking, timing = mode
        self._traced, self._optimize = graph, optimize
        if not optimize:
            self.graph, self.memory = graph, MemoryPlan()
        else:
            self.graph = _unfused(graph) if checking else passes.optimize(graph)
            self.memory = passes.plan_memory(self.graph)
        self._timer = profiler_session.NodeTimer(self.graph) if timing else None
        instruments = None if mode == _PLAIN else codegen.Instruments(
            check=_numerics_check(self.graph) if checking else None, timer=self._timer)
        kernels = jit.new_lowering() if optimize else None  # Numba kernels, when installed
        self.source, namespace = codegen.emit_source(self.graph, self.memory, instruments,
                                                     kernels)
        self.compiled = codegen.compile_source(self.source, namespace, self.graph.name)
        # inf and NaN are answers, given silently as in eager mode and TensorFlow.
        self._quiet = quiet(self.compiled)
        self._specs = list(self.memory.specs.values())
        self._pool: list[tuple] = []
        self._variants: dict | None = {} if mode == _PLAIN else None

    def run(self, arrays) -> list:
        if op_watchers and self._variants is not None:
            variant = self._variant()
            if variant is not None:
                return variant.run(arrays)
        # list.pop and list.append are atomic: concurrent calls never share a buffer set.
        try:
            buffers = self._pool.pop()
        except IndexError:
            buffers = tuple(np.empty(shape, dtype) for shape, dtype in self._specs)
        start = time.perf_counter() if self._timer is not None else 0.0
        try:
            return self._quiet(buffers, *arrays)
        finally:
            self._pool.append(buffers)
            if self._timer is not None:
                self._timer.call_ended(start)

    def _variant(self) -> _Plan | None:
        """The instrumented code for this thread's setting, or None for the plain code."""
        mode = (numerics_checked(), profiler_session.recording())
        if mode == _PLAIN:
            return None
        variant = self._variants.get(mode)
        if variant is None:
            with _variants_lock:
                variant = self._variants.get(mode)
                if variant is None:
                    if not self._variants:  # dropping the plan forgets the variants' sources
                        weakref.finalize(self, _release_variants, self._variants)
                    variant = self._variants[mode] = _Plan(self._traced, self._optimize, mode)
        return variant

    def failing_node(self, traceback) -> Node | None:
        """The node whose generated line (plain or instrumented) raised."""
        for code in (self, *(self._variants or {}).values()):
            node = codegen.failing_node(code.graph, code.compiled, code.source, traceback)
            if node is not None:
                return node
        return None


_variants_lock = threading.Lock()


def _release_variants(variants: dict) -> None:
    for variant in variants.values():
        codegen.release_source(variant.compiled)


def _unfused(graph: Graph) -> Graph:
    """The passes that keep every op of the trace its own node (no fusion, no folding)."""
    return passes.remove_dead_code(passes.eliminate_common_subexpressions(graph))


def _numerics_check(graph: Graph) -> Callable:
    """The check compiled code calls for a result whose sum is an infinity or a NaN."""

    def check(index: int, output: int, array) -> None:
        if all_finite(array):
            return  # a sum of finite float16 values overflowed: nothing is wrong
        node = graph.nodes[index]
        raise numerics_error(node.op, output, len(node.results), array, graph=graph.name,
                             layer=node.scope, location=node.location)

    return check


class ConcreteFunction:
    """One trace of a :class:`Function`, compiled per concrete set of input sizes.

    ``graph`` is the traced graph (sizes may be unknown); ``optimized`` and ``source``
    show the plan most recently compiled for concrete sizes.
    """

    def __init__(self, function: Function, graph: Graph, result, output_leaves: list,
                 optimize: bool, call: _Call, input_shapes: list[tuple]):
        self._function = function
        self.graph = graph
        self.optimize = optimize
        self.input_shapes = input_shapes  # None where a size is unknown
        self._python_key = call.python_key
        self._dtypes = [a.dtype for a in call.arrays]
        # Inputs of known sizes: one plan serves every call. Sizes known only when an op
        # runs still go through specialisation, which notes where codegen reads them.
        self._static = all(v.is_static for v in graph.inputs)
        self._sizes_known = self._static and all(
            v.is_static for node in graph.nodes for v in node.results)
        self._plans: OrderedDict[tuple, _Plan] = OrderedDict()
        self._last_plan: _Plan | None = None
        self._only_plan: _Plan | None = None
        self._lock = threading.Lock()
        # The output structure, with the leaves replaced (so no traced tensor is kept alive).
        self._structure = nest.pack_sequence_as(result, [None] * len(output_leaves))
        self._leaves = output_leaves  # per output leaf: a graph Value, or a Python constant

    # --- which calls it serves ----------------------------------------------------------------
    def accepts(self, call: _Call) -> bool:
        """Whether this trace (with unknown sizes) serves ``call``."""
        return (call.python_key == self._python_key
                and [a.dtype for a in call.arrays] == self._dtypes
                and all(len(a.shape) == len(s) and all(type(w) is not int or w == g
                                                       for w, g in zip(s, a.shape))
                        for a, s in zip(call.arrays, self.input_shapes)))

    def relaxes_with(self, call: _Call) -> bool:
        """Whether ``call`` differs from this trace only in sizes (reduce_retracing)."""
        return (call.python_key == self._python_key
                and [a.dtype for a in call.arrays] == self._dtypes
                and [len(a.shape) for a in call.arrays] == [len(s) for s in self.input_shapes])

    # --- running ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        return self._run(self._function._bind(args, kwargs).arrays)

    def run_arrays(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Run the compiled code on input arrays, returning the output arrays.

        The entry for hot loops (Keras steps): no argument matching, no packing. Errors
        name the op and the user's line, as calls of the function do.
        """
        return self._run_plan(self._only_plan or self._plan_for(arrays), arrays)

    def runner(self, arrays: list[np.ndarray]) -> Callable[[list], list]:
        """``run_arrays`` for arrays of exactly these shapes, with the plan looked up once
        (for a hot loop calling with the same shapes; other shapes are an error)."""
        return functools.partial(self._run_plan, self._only_plan or self._plan_for(arrays))

    def _run_plan(self, plan: _Plan, arrays: list[np.ndarray]) -> list[np.ndarray]:
        try:
            return plan.run(arrays)
        except (ValueError, IndexError, TypeError, ZeroDivisionError, OverflowError) as error:
            if getattr(error, "op", None) == "CheckNumericsV2":
                raise  # a numeric check's error already names the op, layer and line
            node = plan.failing_node(error.__traceback__)
            if node is None:
                raise
            raise self._explain(error, node, plan.graph.name) from error

    def _run(self, arrays: list[np.ndarray]):
        return self._pack(self.run_arrays(arrays))

    def _plan_for(self, arrays) -> _Plan:
        key = None if self._static else tuple(a.shape for a in arrays)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key)
                if plan is None:
                    graph = self.graph if self._sizes_known else specialize(
                        self.graph, [a.shape for a in arrays])
                    plan = _Plan(graph, self.optimize)
                    self._plans[key] = plan
                    if self._static:
                        self._only_plan = plan  # inputs of known sizes: one plan for all
                    while len(self._plans) > settings.plans_per_trace:
                        codegen.release_source(self._plans.popitem(last=False)[1].compiled)
        self._last_plan = plan
        return plan

    def interpret(self, *args, **kwargs):
        """Run the unoptimized graph with the reference interpreter (for checking)."""
        return self._pack(run_graph(self.graph, self._function._bind(args, kwargs).arrays))

    def _pack(self, results: list[np.ndarray]):
        results = iter(results)
        flat = [Tensor(next(results)) if isinstance(leaf, Value) else leaf
                for leaf in self._leaves]
        return nest.pack_sequence_as(self._structure, flat)

    def _explain(self, error: Exception, node, name: str) -> Exception:
        """An error naming the op (and the user's line) whose generated code failed."""
        where = f", created at {node.location}" if node.location else ""
        return InvalidArgumentError(
            f"{name}: the op {node.op}{where}, failed in the compiled function: {error}",
            node.op)

    def release(self) -> None:
        """Drop every compiled plan and its generated source."""
        with self._lock:
            for plan in self._plans.values():
                codegen.release_source(plan.compiled)
            self._plans.clear()
            self._last_plan = self._only_plan = None

    # --- introspection --------------------------------------------------------------------------
    @property
    def optimized(self) -> Graph:
        return self._latest_plan().graph

    @property
    def plan(self) -> MemoryPlan:
        return self._latest_plan().memory

    @property
    def source(self) -> str:
        return self._latest_plan().source

    def _latest_plan(self) -> _Plan:
        if self._last_plan is not None:
            return self._last_plan
        if not self._static:
            raise ValueError(f"{self.graph.name} has unknown input sizes: call it once so a "
                             f"plan is compiled for concrete sizes.")
        # Stand-ins of the inputs' known shapes, taking no memory: a plan needs sizes only.
        return self._plan_for([np.broadcast_to(np.zeros((), v.dtype), v.shape)
                               for v in self.graph.inputs])

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self.graph.name}: {len(self.graph.nodes)} nodes>"


def _signature_of(python_function, bound: bool) -> inspect.Signature | None:
    try:
        signature = inspect.signature(python_function)
    except (TypeError, ValueError):
        return None
    if bound:
        parameters = list(signature.parameters.values())[1:]
        signature = signature.replace(parameters=parameters)
    return signature


def _taping() -> bool:
    return any(tape.recording for tape in recording.tapes)


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this module (the user's call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def _describe(key) -> str:
    kind = key[0]
    if kind == "tensor":
        return f"shape={key[1]} dtype={np.dtype(key[2]).name}"
    if kind == "python":
        return f"Python {key[1]} {key[2]!r}"
    return kind


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_compile=None, name=None):
    """Compile ``func`` into a graph, as ``tf.function`` (decorator or wrapper).

    >>> import neuroflow as tf
    >>> @tf.function
    ... def affine(x, w):
    ...     return tf.matmul(x, w) + 1.0
    >>> affine(tf.ones([2, 3]), tf.ones([3, 1])).numpy().ravel().tolist()
    [4.0, 4.0]
    """
    if func is None:
        return functools.partial(function, input_signature=input_signature,
                                 reduce_retracing=reduce_retracing, name=name)
    return Function(func, input_signature, reduce_retracing, name)
