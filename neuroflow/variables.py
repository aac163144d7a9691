"""tf.Variable: mutable state that ops read and gradient tapes watch."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.abstract import is_abstract
from neuroflow.backend import device_of
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import operators
from neuroflow.ops.convert import DTypeMismatchError
from neuroflow.ops.registry import init_scope, record_variable_read, recording
from neuroflow.tensor import (
    Reference,
    Tensor,
    TensorShape,
    convert_to_tensor,
    host_array,
    numpy_text,
)


def _array(value):
    # NumPy returns a scalar, not a 0-d array, for arithmetic on 0-d arrays.
    return np.asarray(value) if isinstance(value, np.generic) else value


class Variable:
    """A named, mutable tensor, as ``tf.Variable``.

    Reading a variable inside an op gives a snapshot of its current value; a
    gradient tape records the read, so gradients flow to the variable.
    Assignment replaces the stored array rather than writing into it, so values
    saved by a tape for the backward pass never change under it.

    The ``assign*`` methods return the variable itself (TensorFlow returns a
    view of it that reads the new value), so ``v.assign(x).numpy()`` and chains
    like ``v.assign(x).assign_add(y)`` work as in TF.

    >>> import neuroflow as tf
    >>> v = tf.Variable([1.0, 2.0], name="w")
    >>> _ = v.assign_add([0.5, 0.5])
    >>> v.numpy(), v.name, v.trainable
    (array([1.5, 2.5], dtype=float32), 'w:0', True)
    """

    __array_priority__ = 100

    def __init__(self, initial_value: Any = None, trainable: bool | None = None,
                 validate_shape: bool = True, caching_device=None, name: str | None = None,
                 variable_def=None, dtype=None, import_scope=None, constraint=None,
                 synchronization=None, aggregation=None, shape=None, **kwargs: Any):
        if initial_value is None:
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified; "
                             "received None. Pass a value or a callable that returns one, "
                             "e.g. tf.Variable(tf.zeros([3])).")
        if callable(initial_value):
            with init_scope():  # the initial value is computed eagerly, even in a trace
                initial_value = initial_value()
        value = convert_to_tensor(initial_value, dtype=dtype)._value
        if is_abstract(value):
            raise ValueError(
                "A tf.Variable's initial value depends on the inputs of the tf.function "
                "being traced. Create variables outside the function (or on its first call "
                "from values that do not depend on its inputs, e.g. an initializer "
                "callable).")
        # Conversion copies NumPy and Python values; tensors and variables are copied here,
        # so the variable never shares memory with its initial value.
        shared = isinstance(initial_value, Tensor) or hasattr(initial_value, "_read_for_op")
        self._value = value.copy() if shared else value
        # True while some tensor may share self._value: compiled code that updates the
        # variable in place copies the array first (copy on write).
        self._shared = False
        self._trainable = True if trainable is None else bool(trainable)
        self._shape = TensorShape(self._value.shape)
        if shape is not None:
            declared = TensorShape(shape)
            if not declared.is_compatible_with(self._shape):
                raise ValueError(f"The initial value's shape {self._shape} is not compatible "
                                 f"with the explicitly supplied `shape` argument {declared}.")
            self._shape = declared
        self._name = f"{'Variable' if name is None else name}:0"
        self.constraint = constraint
        self.synchronization = synchronization
        self.aggregation = aggregation

    # --- what a variable is ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_numpy(self._value.dtype)

    @property
    def shape(self) -> TensorShape:
        """The declared shape: the value's shape unless ``shape=`` left dimensions unknown."""
        return self._shape

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        return device_of(self._value).name

    def numpy(self) -> np.ndarray:
        return Tensor(self._value).numpy()

    def value(self) -> Tensor:
        return self._read_for_op()

    def read_value(self) -> Tensor:
        return self._read_for_op()

    def get_shape(self) -> TensorShape:
        return self._shape

    def ref(self) -> Reference:
        """A hashable reference to this variable, usable as a dict key or set member."""
        return Reference(self)

    experimental_ref = ref

    def _read_for_op(self) -> Tensor:
        """The tensor an op sees; active tapes record the read to link it to this variable."""
        if recording.tracer is not None:
            return recording.tracer.read_variable(self)
        snapshot = Tensor(self._value)
        self._shared = True
        if recording.tapes:
            record_variable_read(self, snapshot)
        return snapshot

    # --- the small API compiled graph code uses ------------------------------------------
    # Generated code reads and writes a variable's array only through these four methods.
    # ``_shared`` is True while some tensor may hold the current array: writing into it in
    # place would change that tensor, so the writer copies first (copy on write).

    def current_array(self):
        """The array, for a read whose value does not leave the graph call."""
        return self._value

    def shared_array(self):
        """The array, for a read whose value is returned to the caller."""
        self._shared = True
        return self._value

    def writable_array(self):
        """The array, to update in place: copied first if a tensor may share it."""
        if self._shared:
            self._value = self._value.copy()
            self._shared = False
        return self._value

    def replace_array(self, array) -> None:
        """Make ``array`` (a new array of this variable's shape and dtype) the value."""
        self._value = array
        self._shared = True

    # --- assignment --------------------------------------------------------------------
    def _converted(self, value: Any, op: str) -> np.ndarray:
        """``value`` as an array of this variable's dtype, with TF's conversion rules."""
        if type(value) is Tensor and value._value.dtype == self._value.dtype:
            array = value._value  # the optimizer's case, kept fast
        else:
            array = self._converted_slow(value, op)
        if type(array) is not type(self._value):  # the value lives on another device
            if type(self._value) is np.ndarray:
                return host_array(array)
            array = device_of(self._value).asarray(array)
        return array

    def _converted_slow(self, value: Any, op: str):
        try:
            tensor = convert_to_tensor(value, dtype=self.dtype)
        except (TypeError, ValueError) as error:
            if not (isinstance(value, Tensor) or hasattr(value, "_read_for_op")):
                raise TypeError(f"{op}: cannot assign {value!r} to the variable "
                                f"{self._name!r} of dtype {self.dtype.name}: {error}") from None
            raise DTypeMismatchError(
                f"{op}: the variable {self._name!r} has dtype {self.dtype.name} but the "
                f"value has dtype {value.dtype.name}. Use tf.cast(value, "
                f"tf.{self.dtype.name}).", op) from None
        return tensor._value

    def _shape_error(self, op: str, shape: tuple, expected: Any) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"{op}: cannot {'assign' if op == 'assign' else 'update'} the variable "
            f"{self._name!r} of shape {expected} with a value of shape {shape}; the shapes "
            f"must be equal (no broadcasting).", op)

    def assign(self, value: Any, use_locking=None, name=None, read_value=True):
        """Replace the value; the new value must have this variable's dtype and shape."""
        if recording.tracer is not None:
            return recording.tracer.assign_variable(self, value, "assign")
        array = self._converted(value, "assign")
        if array.shape != self._value.shape and not self._shape.is_compatible_with(array.shape):
            raise self._shape_error("assign", tuple(array.shape), self._shape)
        # No copy: conversion copied NumPy values, and tensors' arrays are never written to
        # (assignment replaces a variable's array rather than writing into it).
        self._value = array
        self._shared = True  # the array may be the value of a tensor the caller holds
        return self if read_value else None

    def assign_add(self, delta: Any, use_locking=None, name=None, read_value=True):
        """Add ``delta`` (same dtype and shape) to the value."""
        if recording.tracer is not None:
            return recording.tracer.assign_variable(self, delta, "assign_add")
        array = self._converted(delta, "assign_add")
        if array.shape != self._value.shape:
            raise self._shape_error("assign_add", tuple(array.shape), tuple(self._value.shape))
        self._value = _array(self._value + array)
        return self if read_value else None

    def assign_sub(self, delta: Any, use_locking=None, name=None, read_value=True):
        """Subtract ``delta`` (same dtype and shape) from the value."""
        if recording.tracer is not None:
            return recording.tracer.assign_variable(self, delta, "assign_sub")
        array = self._converted(delta, "assign_sub")
        if array.shape != self._value.shape:
            raise self._shape_error("assign_sub", tuple(array.shape), tuple(self._value.shape))
        self._value = _array(self._value - array)
        return self if read_value else None

    # --- Python protocol ---------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        return Tensor(self._value).__array__(dtype, copy)

    def __len__(self) -> int:
        return len(Tensor(self._value))

    def __iter__(self):
        return iter(self._read_for_op())

    def __bool__(self) -> bool:
        return bool(Tensor(self._value))

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        return Tensor(self._value).__index__()

    def __hash__(self) -> int:
        # Identity, as for tensors (TF makes variables unhashable; v.ref() works too).
        return id(self)

    def __repr__(self) -> str:
        text = numpy_text(host_array(self._value), is_repr=True)
        return (f"<tf.Variable {self._name!r} shape={self._shape} dtype={self.dtype.name}, "
                f"numpy={text}>")

    __str__ = __repr__

    def __copy__(self) -> Variable:
        return self  # as in TF: a shallow copy of a variable is the variable

    def __deepcopy__(self, memo) -> Variable:
        # Copy every attribute (the value array included), so subclasses copy too.
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            clone.__dict__[key] = copy.deepcopy(value, memo)
        return clone


operators.install(Variable)
