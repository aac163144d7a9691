"""``tf.function``: trace a Python function into a graph, optimize it, compile it.

A :class:`Function` keeps one :class:`ConcreteFunction` per input signature:
the shapes, dtypes and device of tensor arguments, the values of Python
arguments, and the nesting of the arguments. The first call with a new
signature traces: it runs the Python function with a tracer installed, which
is also that call's result. Later calls with the same signature run the
generated code only.

Graphs are specialized to the shapes they were traced with (ops compute sizes
and counts from shapes in Python), so:

* with an ``input_signature``, a ``None`` dimension accepts any size, and each
  new size gets its own trace, without retracing warnings;
* an op whose output shape depends on the data (``tf.boolean_mask``) is guarded
  in the compiled code: when its shape differs from the traced one, the
  function is traced again for that shape (once per shape) -- unless a side
  effect (an assignment, a print) already ran in that call, which is an error.

The generated code calls NumPy: a call with tensors on a GPU runs the Python
function eagerly (on CuPy), as does a call under an active outer GradientTape.
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
import weakref
from typing import Any

import numpy as np

from neuroflow.config import settings
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph import codegen, passes
from neuroflow.graph.codegen import ShapeChanged
from neuroflow.graph.interpret import run_graph
from neuroflow.graph.ir import Graph, Value
from neuroflow.graph.passes.memory import MemoryPlan
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops.registry import recording
from neuroflow.ops.shape_ops import DYNAMIC_SHAPE_OPS
from neuroflow.tensor import Tensor, convert_to_tensor
from neuroflow.util import nest


class TensorSpec:
    """The shape and dtype a tensor argument must have (``None`` dims are free)."""

    def __init__(self, shape, dtype="float32", name=None):
        from neuroflow.dtypes import as_dtype

        self.shape = None if shape is None else tuple(None if d is None else int(d)
                                                      for d in shape)
        self.dtype = as_dtype(dtype)
        self.name = name

    def is_compatible_with(self, array: np.ndarray) -> bool:
        if array.dtype != self.dtype.np:
            return False
        if self.shape is None:
            return True
        return len(array.shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, array.shape))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


# --- arguments: what a call passes, and the key of its signature -------------------------------


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


class _Call:
    """One call's arguments, flattened: the leaves, their arrays, and the signature key."""

    __slots__ = ("args", "kwargs", "flat", "arrays", "key", "on_host")

    def __init__(self, args: tuple, kwargs: dict):
        self.args, self.kwargs = args, kwargs
        if not kwargs and all(type(a) is Tensor for a in args):
            # The common case, kept fast: tensors only, no nesting.
            self.flat = list(args)
            arrays = [a._value for a in args]
            skeleton = _flat_skeleton(len(args))
        else:
            self.flat = nest.flatten((args, kwargs))
            arrays = [_array_of(leaf) if _is_tensor_leaf(leaf) else None for leaf in self.flat]
            skeleton = _skeleton((args, kwargs))
        self.arrays = [a for a in arrays if a is not None]
        self.key = (skeleton, *(_leaf_key(leaf, a) for leaf, a in zip(self.flat, arrays)))
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
        # Per signature key: its concrete functions, the most recently used first (more
        # than one only where data-dependent shapes made variants).
        self._concrete: dict[tuple, list[ConcreteFunction]] = {}
        self._last: ConcreteFunction | None = None
        self._trace_count = 0
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
        if settings.run_functions_eagerly or recording.tracer is not None or _taping():
            # Eager debugging; a function called while another traces (its ops join that
            # graph: it is inlined); or an outer GradientTape that must see the ops.
            return self._run_python(args, kwargs)
        call = self._bind(args, kwargs)
        if not call.on_host:
            return self._run_python(args, kwargs)  # the generated code calls NumPy
        variants = self._concrete.get(call.key)
        if variants is None:
            return self._trace(call)
        return self._run_variants(call, variants)

    def _run_variants(self, call: _Call, variants: list[ConcreteFunction]):
        """Run the compiled code; a data-dependent shape it was not traced for retraces."""
        for concrete in list(variants):
            try:
                result = concrete._run(call.arrays)
            except ShapeChanged as change:
                concrete.check_retrace_safe(change)
                continue
            if variants[0] is not concrete:
                variants.remove(concrete)
                variants.insert(0, concrete)
            self._last = concrete
            return result
        return self._trace(call, reason="a data-dependent shape")

    def compiled_code(self, *tensors: Tensor):
        """The generated function for calls like ``self(*tensors)``, to call with arrays.

        For hot loops (Keras steps) that call with the same shapes many times: it skips
        matching the signature on every call. None when the call would not run the plain
        compiled code (not traced yet, eager mode, data-dependent shapes).
        """
        if settings.run_functions_eagerly or recording.tracer is not None or _taping():
            return None
        call = self._bind(tensors, {})
        variants = self._concrete.get(call.key)
        if not call.on_host or not variants or len(variants) != 1:
            return None
        concrete = variants[0]
        if any(node.op in DYNAMIC_SHAPE_OPS for node in concrete.optimized.nodes):
            return None
        return concrete._compiled

    # --- arguments ------------------------------------------------------------------------------
    def _bind(self, args: tuple, kwargs: dict) -> _Call:
        """The call's arguments, in one canonical form (``f(x, y=2)`` is ``f(x, 2)``)."""
        if kwargs and self._signature is not None:
            bound = self._signature.bind(*args, **kwargs)
            args, kwargs = bound.args, bound.kwargs
        if self.input_signature is not None:
            args = self._apply_input_signature(args, kwargs)
        return _Call(tuple(args), kwargs)

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
    def _trace(self, call: _Call, reason: str | None = None):
        self._warn_if_retracing(call, reason)
        tracer = Tracer(self._name)
        arrays = iter(call.arrays)
        traced = []
        for leaf in call.flat:
            if _is_tensor_leaf(leaf):
                tensor = Tensor(next(arrays))  # a fresh object: its id identifies this input
                tracer.add_input(tensor)
                traced.append(tensor)
            else:
                traced.append(leaf)
        args, kwargs = call.with_leaves(traced)
        with tracing(tracer):
            result = self._run_python(args, kwargs)
            leaves, returned = tracer.finish(nest.flatten(result))
        result = nest.pack_sequence_as(result, returned)
        concrete = ConcreteFunction(self, tracer.graph, result, leaves, self.optimize)
        self._concrete.setdefault(call.key, []).insert(0, concrete)
        self._last = concrete
        self._trace_count += 1
        return result

    def _warn_if_retracing(self, call: _Call, reason: str | None) -> None:
        if self._trace_count + 1 < settings.retrace_warning_threshold:
            return
        if reason is None and self.input_signature is not None:
            return  # a new size in a free dimension: the signature asked for it
        if reason is None:
            reason = self._what_changed(call)
        warnings.warn(
            f"{self._name} has been traced {self._trace_count + 1} times; the latest "
            f"retrace was caused by {reason}. Each new shape, dtype or Python value traces a "
            f"new graph. Pass tensors instead of Python numbers, keep shapes fixed, or give "
            f"an input_signature with None for dimensions that vary.",
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
        """The concrete function for these arguments, tracing (and so running) if needed."""
        call = self._bind(args, kwargs)
        if call.key not in self._concrete:
            self._trace(call)
        return self._concrete[call.key][0]

    def experimental_get_tracing_count(self) -> int:
        return self._trace_count

    @property
    def graph(self) -> Graph:
        """The optimized graph of the most recently used trace."""
        return self._require_trace().optimized

    @property
    def source(self) -> str:
        """The generated Python source of the most recently used trace."""
        return self._require_trace().source

    def _require_trace(self) -> ConcreteFunction:
        if self._last is None:
            raise ValueError(f"{self._name} has not been traced yet: call it first.")
        return self._last

    def __repr__(self) -> str:
        return f"<neuroflow.function {self._name}: {self._trace_count} trace(s)>"


class ConcreteFunction:
    """One traced and compiled specialization of a :class:`Function`.

    Calling it runs the generated code on the tensors of the arguments, without
    checking their shapes: an array of another shape fails inside the generated
    code, and the traceback shows the generated line and the op it came from.
    """

    def __init__(self, function: Function, graph: Graph, result, output_leaves: list,
                 optimize: bool = True):
        self._function = function
        self.graph = graph
        self.optimized = passes.optimize(graph) if optimize else graph
        self.plan = passes.plan_memory(self.optimized) if optimize else MemoryPlan()
        self.source, namespace = codegen.emit_source(self.optimized, self.plan)
        self._compiled = codegen.compile_source(self.source, namespace, self.optimized.name)
        # The output structure, with the leaves replaced (so no traced tensor is kept alive).
        self._structure = nest.pack_sequence_as(result, [None] * len(output_leaves))
        self._leaves = output_leaves  # per output leaf: a graph Value, or a Python constant

    def __call__(self, *args, **kwargs):
        return self._run(self._function._bind(args, kwargs).arrays)

    def interpret(self, *args, **kwargs):
        """Run the unoptimized graph with the reference interpreter (for checking)."""
        return self._pack(run_graph(self.graph, self._function._bind(args, kwargs).arrays))

    def _run(self, arrays: list[np.ndarray]):
        try:
            results = self._compiled(*arrays)
        except ShapeChanged:
            raise
        except (ValueError, IndexError, TypeError) as error:
            node = codegen.failing_node(self.optimized, self._compiled, error.__traceback__)
            if node is None:
                raise
            raise self._explain(error, node) from error
        return self._pack(results)

    def _pack(self, results: list[np.ndarray]):
        results = iter(results)
        flat = [Tensor(next(results)) if isinstance(leaf, Value) else leaf
                for leaf in self._leaves]
        return nest.pack_sequence_as(self._structure, flat)

    def _explain(self, error: Exception, node) -> Exception:
        """An error naming the op (and the user's line) whose generated code failed."""
        where = f", created at {node.location}" if node.location else ""
        return InvalidArgumentError(
            f"{self.optimized.name}: the op {node.op}{where}, failed in the compiled function: "
            f"{error}", node.op)

    def check_retrace_safe(self, change: ShapeChanged) -> None:
        """Raise unless nothing visible happened before the shape guard that failed."""
        for node in self.optimized.nodes:
            if node.output is not None and node.output.name == change.value:
                return
            if node.has_effect:
                raise InvalidArgumentError(
                    f"{self.optimized.name}: {change.value} (see .source) has shape "
                    f"{change.shape}, but the function was traced with shape {change.traced}, "
                    f"and a side effect it depends on ({node.op} at {node.location}) already "
                    f"ran in this call, so the function cannot be traced again for the new "
                    f"shape. Compute data-dependent shapes (boolean_mask, where) from the "
                    f"inputs before assignments and prints, or keep their shapes fixed.",
                    node.op)

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
