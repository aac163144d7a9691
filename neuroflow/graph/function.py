"""``tf.function``: trace a Python function into a graph, optimize it, compile it.

A :class:`Function` keeps one :class:`ConcreteFunction` per input signature
(shapes and dtypes of tensor arguments, values of Python arguments). The first
call with a new signature traces: it runs the Python function with a tracer
installed, which is also that call's result. Later calls with the same
signature run the generated code only.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from typing import Any

import numpy as np

from neuroflow.config import settings
from neuroflow.graph import codegen, passes
from neuroflow.graph.interpret import run_graph
from neuroflow.graph.ir import Graph
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops.registry import recording
from neuroflow.tensor import Tensor
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


def _is_tensor_leaf(leaf: Any) -> bool:
    return type(leaf) is Tensor or isinstance(leaf, (Tensor, np.ndarray))


def _leaf_key(leaf: Any):
    if _is_tensor_leaf(leaf):
        array = leaf._value if isinstance(leaf, Tensor) else leaf
        return ("tensor", array.shape, array.dtype.str)
    if hasattr(leaf, "_read_for_op"):
        return ("variable", id(leaf))
    try:
        hash(leaf)
    except TypeError:
        return ("object", id(leaf))
    return ("python", type(leaf).__name__, leaf)


class ConcreteFunction:
    """One traced and compiled specialization of a :class:`Function`."""

    def __init__(self, graph: Graph, optimized: Graph, plan, structure, output_leaves):
        self.graph = graph
        self.optimized = optimized
        self.plan = plan
        self.source, namespace = codegen.emit_source(optimized, plan)
        self._compiled = codegen.compile_source(self.source, namespace, optimized.name)
        self._structure = structure
        self._leaves = output_leaves  # per output leaf: a graph Value, or a Python constant

    def __call__(self, arrays: list[np.ndarray]):
        results = iter(self._compiled(*arrays))
        flat = [Tensor(next(results)) if hasattr(leaf, "kind") else leaf
                for leaf in self._leaves]
        return nest.pack_sequence_as(self._structure, flat)

    def interpret(self, arrays: list[np.ndarray]):
        """Run the unoptimized graph with the reference interpreter (for checking)."""
        results = iter(run_graph(self.graph, arrays))
        flat = [Tensor(next(results)) if hasattr(leaf, "kind") else leaf
                for leaf in self._leaves]
        return nest.pack_sequence_as(self._structure, flat)


class Function:
    """A Python function compiled per input signature; see :func:`function`."""

    def __init__(self, python_function, input_signature=None, reduce_retracing=False,
                 name: str | None = None, optimize: bool = True):
        functools.update_wrapper(self, python_function)
        self.python_function = python_function
        self.input_signature = None if input_signature is None else list(input_signature)
        self.reduce_retracing = reduce_retracing
        self.optimize = optimize
        self._name = name or getattr(python_function, "__name__", "function")
        self._concrete: dict[tuple, ConcreteFunction] = {}
        self._last: ConcreteFunction | None = None
        self._trace_count = 0
        self._bound: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # Methods decorated with @tf.function get one Function per instance.
    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        bound = self._bound.get(instance)
        if bound is None:
            bound = Function(self.python_function.__get__(instance, owner),
                             self.input_signature, self.reduce_retracing, self._name,
                             self.optimize)
            self._bound[instance] = bound
        return bound

    def __call__(self, *args, **kwargs):
        if settings.run_functions_eagerly or recording.tracer is not None:
            # Eager debugging, or a function called while another traces: run inline.
            return self.python_function(*args, **kwargs)
        flat = nest.flatten((args, kwargs))
        self._check_signature(flat)
        key = tuple(_leaf_key(leaf) for leaf in flat)
        concrete = self._concrete.get(key)
        if concrete is None:
            return self._trace(key, args, kwargs)
        arrays = [leaf._value if isinstance(leaf, Tensor) else leaf
                  for leaf in flat if _is_tensor_leaf(leaf)]
        return concrete(arrays)

    def _check_signature(self, flat: list) -> None:
        if self.input_signature is None:
            return
        tensors = [leaf for leaf in flat if _is_tensor_leaf(leaf)]
        specs = nest.flatten(self.input_signature)
        if len(tensors) != len(specs):
            raise TypeError(f"{self._name} was declared with input_signature of "
                            f"{len(specs)} tensors but received {len(tensors)}.")
        for index, (spec, leaf) in enumerate(zip(specs, tensors)):
            array = leaf._value if isinstance(leaf, Tensor) else leaf
            if not spec.is_compatible_with(array):
                raise TypeError(
                    f"{self._name}: argument {index} has shape {array.shape} and dtype "
                    f"{array.dtype}, which does not match its input_signature {spec!r}.")

    # --- tracing ------------------------------------------------------------------------------
    def _trace(self, key: tuple, args, kwargs):
        self._warn_if_retracing(key)
        tracer = Tracer(self._name)
        flat = nest.flatten((args, kwargs))
        traced = []
        for leaf in flat:
            if _is_tensor_leaf(leaf):
                array = leaf._value if isinstance(leaf, Tensor) else leaf
                tensor = Tensor(array)  # a fresh object: its id identifies this input
                tracer.add_input(tensor)
                traced.append(tensor)
            else:
                traced.append(leaf)
        call_args, call_kwargs = nest.pack_sequence_as((args, kwargs), traced)
        with tracing(tracer):
            result = self.python_function(*call_args, **call_kwargs)
        leaves = tracer.finish(nest.flatten(result))
        graph = tracer.graph
        optimized = passes.optimize(graph) if self.optimize else graph
        plan = passes.plan_memory(optimized) if self.optimize else passes.MemoryPlan()
        concrete = ConcreteFunction(graph, optimized, plan, result, leaves)
        self._concrete[key] = concrete
        self._last = concrete
        self._trace_count += 1
        return result

    def _warn_if_retracing(self, key: tuple) -> None:
        if len(self._concrete) + 1 < settings.retrace_warning_threshold:
            return
        previous = list(self._concrete)[-1]
        changed = [i for i, (a, b) in enumerate(zip(previous, key)) if a != b]
        where = f"argument #{changed[0]} ({key[changed[0]][0]} {_describe(key[changed[0]])})" \
            if changed else "the number of arguments"
        warnings.warn(
            f"{self._name} has been traced {len(self._concrete) + 1} times; the latest "
            f"retrace was caused by {where}. Each new shape, dtype or Python value traces a "
            f"new graph. Pass tensors instead of Python numbers, keep shapes fixed, or give "
            f"an input_signature with None for dimensions that vary.", stacklevel=3)

    # --- introspection --------------------------------------------------------------------------
    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        flat = nest.flatten((args, kwargs))
        key = tuple(_leaf_key(leaf) for leaf in flat)
        if key not in self._concrete:
            self._trace(key, args, kwargs)
        return self._concrete[key]

    def experimental_get_tracing_count(self) -> int:
        return self._trace_count

    @property
    def graph(self) -> Graph:
        """The optimized graph of the most recent trace."""
        return self._require_trace().optimized

    @property
    def source(self) -> str:
        """The generated Python source of the most recent trace."""
        return self._require_trace().source

    def _require_trace(self) -> ConcreteFunction:
        if self._last is None:
            raise ValueError(f"{self._name} has not been traced yet: call it first.")
        return self._last

    def __repr__(self) -> str:
        return f"<neuroflow.function {self._name}: {len(self._concrete)} trace(s)>"


def _describe(key) -> str:
    kind = key[0]
    if kind == "tensor":
        return f"shape={key[1]} dtype={np.dtype(key[2]).name}"
    if kind == "python":
        return f"value={key[2]!r}"
    return ""


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
