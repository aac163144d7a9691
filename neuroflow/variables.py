"""tf.Variable: mutable state that ops read and gradient tapes watch."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import operators
from neuroflow.ops.registry import record_variable_read, recording
from neuroflow.tensor import Tensor, TensorShape, constant, convert_to_tensor

_unnamed = itertools.count()


class Variable:
    """A named, mutable tensor, as ``tf.Variable``.

    Reading a variable inside an op gives a snapshot of its current value; a
    gradient tape records the read, so gradients flow to the variable.
    Assignment replaces the stored array rather than writing into it, so values
    saved by a tape for the backward pass never change under it.

    >>> import neuroflow as tf
    >>> v = tf.Variable([1.0, 2.0], name="w")
    >>> _ = v.assign_add([0.5, 0.5])
    >>> v.numpy(), v.name, v.trainable
    (array([1.5, 2.5], dtype=float32), 'w:0', True)
    """

    __array_priority__ = 100

    def __init__(self, initial_value: Any = None, trainable: bool = True, validate_shape=True,
                 name: str | None = None, dtype=None, shape=None, **kwargs: Any):
        if initial_value is None:
            raise ValueError("Variable needs an initial_value.")
        if callable(initial_value):
            initial_value = initial_value()
        value = constant(np.asarray(initial_value) if isinstance(initial_value, Tensor)
                         else initial_value, dtype=dtype)
        self._value = value._value.copy()
        self._trainable = bool(trainable)
        self._shape = TensorShape(shape) if shape is not None else TensorShape(self._value.shape)
        base = name if name is not None else "Variable"
        self._name = base if base.endswith(":0") else f"{base}:0"
        self._unique_id = next(_unnamed)

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
        return TensorShape(self._value.shape)

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        from neuroflow.backend import device_of

        return device_of(self._value).name

    def numpy(self) -> np.ndarray:
        return Tensor(self._value).numpy()

    def value(self) -> Tensor:
        return self._read_for_op()

    def read_value(self) -> Tensor:
        return self._read_for_op()

    def get_shape(self) -> TensorShape:
        return self.shape

    def _read_for_op(self) -> Tensor:
        """The tensor an op sees; active tapes record the read to link it to this variable."""
        if recording.tracer is not None:
            return recording.tracer.read_variable(self)
        snapshot = Tensor(self._value)
        if recording.tapes:
            record_variable_read(self, snapshot)
        return snapshot

    # --- assignment --------------------------------------------------------------------
    def _converted(self, value: Any, op: str) -> np.ndarray:
        if isinstance(value, Tensor) or hasattr(value, "_read_for_op"):
            tensor = convert_to_tensor(value)
            if tensor.dtype != self.dtype:
                raise InvalidArgumentError(
                    f"{op}: the variable {self._name!r} has dtype {self.dtype.name} but the "
                    f"value has dtype {tensor.dtype.name}. Use tf.cast(value, "
                    f"tf.{self.dtype.name}).", op)
            array = tensor._value
        else:
            array = np.asarray(value, dtype=self._value.dtype)
        if array.shape != self._value.shape and not self._shape.is_compatible_with(array.shape):
            raise InvalidArgumentError(
                f"{op}: cannot assign a value of shape {tuple(array.shape)} to the variable "
                f"{self._name!r} of shape {tuple(self._value.shape)}.", op)
        return array

    def assign(self, value: Any, use_locking=None, name=None, read_value=True):
        if recording.tracer is not None:
            return recording.tracer.assign_variable(self, value, "assign")
        self._value = self._converted(value, "assign").copy()
        return self if read_value else None

    def assign_add(self, delta: Any, use_locking=None, name=None, read_value=True):
        if recording.tracer is not None:
            return recording.tracer.assign_variable(self, delta, "assign_add")
        self._value = self._value + self._converted(delta, "assign_add")
        return self if read_value else None

    def assign_sub(self, delta: Any, use_locking=None, name=None, read_value=True):
        if recording.tracer is not None:
            return recording.tracer.assign_variable(self, delta, "assign_sub")
        self._value = self._value - self._converted(delta, "assign_sub")
        return self if read_value else None

    # --- Python protocol ---------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        return self._value if dtype is None else self._value.astype(dtype, copy=False)

    def __len__(self) -> int:
        return len(self._value)

    def __iter__(self):
        return iter(self._read_for_op())

    def __bool__(self) -> bool:
        return bool(self._read_for_op())

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        return self._read_for_op().__index__()

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self._value, separator=", ")
        return (f"<tf.Variable {self._name!r} shape={self.shape} dtype={self.dtype.name}, "
                f"numpy={body}>")

    def __deepcopy__(self, memo):
        copy = Variable(self._value.copy(), trainable=self._trainable,
                        name=self._name[:-2])
        memo[id(self)] = copy
        return copy


operators.install(Variable)
