"""Tensor and TensorShape, and conversion of Python and NumPy values to tensors.

A :class:`Tensor` is an immutable wrapper around one array on one device.
Its operators (``+``, ``@``, indexing, comparisons) call the ops in
:mod:`neuroflow.ops`, which record onto active gradient tapes. The ops module
fills in the operator table at import (see ``ops/operators.py``), so this module
stays free of op logic.

Conversion follows TensorFlow: Python floats become float32 and ints int32
(int64 when they do not fit); NumPy values keep their dtype; an explicit
``dtype`` casts NumPy values but refuses Python values that would change kind
(``tf.constant(1.5, tf.int32)`` is a TypeError). NumPy arrays are copied, so a
tensor never changes when the caller's array does.

Text becomes ``tf.string`` tensors: ``str`` is encoded as UTF-8, ``bytes`` kept as is,
and the tensor holds a NumPy object array of ``bytes`` (see ``dtypes.py``), which is
exactly what TensorFlow's ``.numpy()`` returns. String tensors always live on the host,
as TensorFlow keeps them on the CPU.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.abstract import AbstractArray, public_shape, symbolic_value_error
from neuroflow.backend import CPU, device_of, placement
from neuroflow.dtypes import DType

# The few ops tensors need for iteration and conversion (``unstack``, ``stack``, ``cast``)
# live in the ops layer above this one, which installs them here when it is imported
# (``neuroflow/ops/__init__.py``), as it installs the operators.
OPS: dict = {}


class TensorShape:
    """The shape of a tensor: tuple-like, with ``None`` for unknown dimensions.

    >>> import neuroflow as tf
    >>> s = tf.zeros([2, 3]).shape
    >>> s, s.as_list(), s[0], s == (2, 3), s.rank
    (TensorShape([2, 3]), [2, 3], 2, True, 2)
    """

    __slots__ = ("_dims",)

    def __init__(self, dims: Iterable[int | None] | None):
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif dims is None:
            self._dims = None
        elif isinstance(dims, (int, np.integer)):
            self._dims = (int(dims),)  # TensorShape(3) is a rank-1 shape, as in TF
        else:
            self._dims = tuple(None if d is None else int(d) for d in dims)

    @property
    def rank(self) -> int | None:
        return None if self._dims is None else len(self._dims)

    ndims = rank

    @property
    def dims(self) -> list[int | None] | None:
        return None if self._dims is None else list(self._dims)

    def as_list(self) -> list[int | None]:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and None not in self._dims

    def num_elements(self) -> int | None:
        if not self.is_fully_defined():
            return None
        return int(np.prod(self._dims, dtype=np.int64))

    def is_compatible_with(self, other: Any) -> bool:
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._dims is None or other._dims is None:
            return True
        return len(self._dims) == len(other._dims) and all(
            a is None or b is None or a == b for a, b in zip(self._dims, other._dims)
        )

    def assert_is_compatible_with(self, other: Any) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {TensorShape(other)} are incompatible.")

    def merge_with(self, other: Any) -> TensorShape:
        """The most specific shape compatible with both (unknown dims filled from either)."""
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        self.assert_is_compatible_with(other)
        return TensorShape(a if a is not None else b for a, b in zip(self._dims, other._dims))

    def concatenate(self, other: Any) -> TensorShape:
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank: len() needs "
                             "a shape of known rank, such as TensorShape([None, 3]). Use "
                             "tf.rank(x) for the rank of a tensor whose shape is unknown.")
        return len(self._dims)

    def __bool__(self) -> bool:
        # As in TF: any shape of known rank is truthy, even the scalar shape ().
        return self._dims is not None

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank: iterating needs "
                             "a shape of known rank, such as TensorShape([None, 3]). Check "
                             "shape.rank is not None first, or use tf.shape(x).")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else None
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other) -> bool:
        if isinstance(other, TensorShape):
            return self._dims == other._dims
        try:
            return self._dims == tuple(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._dims)

    def __add__(self, other) -> TensorShape:
        return self.concatenate(other)

    def __radd__(self, other) -> TensorShape:
        return TensorShape(other).concatenate(self)

    def __repr__(self) -> str:
        return "TensorShape(None)" if self._dims is None else f"TensorShape({list(self._dims)})"

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        inner = ", ".join("None" if d is None else str(d) for d in self._dims)
        return f"({inner},)" if len(self._dims) == 1 else f"({inner})"


def _known_shape(dims: tuple) -> TensorShape:
    """A TensorShape around an array's shape tuple, skipping validation (hot path)."""
    shape = object.__new__(TensorShape)
    shape._dims = dims
    return shape


def host_array(value) -> np.ndarray:
    """The array itself for NumPy arrays; a host copy for device (CuPy) arrays."""
    if type(value) is np.ndarray:
        return value
    if type(value) is AbstractArray:
        raise symbolic_value_error("array", value.source)
    return np.asarray(value) if isinstance(value, np.generic) else value.get()


def numpy_text(value: np.ndarray, is_repr: bool) -> str:
    """The ``numpy=...`` text of a tensor's or variable's repr and str, as TensorFlow writes it."""
    if value.ndim == 0:
        text = repr(value.item()) if is_repr else str(value[()])
    else:
        text = repr(value) if is_repr else str(value)
    return "\n" + text if "\n" in text else text


class Reference:
    """A hashable handle to a tensor or variable, as returned by ``x.ref()``."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any):
        self._obj = obj

    def deref(self) -> Any:
        return self._obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reference) and other._obj is self._obj

    def __hash__(self) -> int:
        return id(self._obj)

    def __repr__(self) -> str:
        return f"<Reference wrapping {self._obj!r}>"


class Tensor:
    """An immutable multi-dimensional array with a dtype and a device.

    >>> import neuroflow as tf
    >>> x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    >>> (x * 2 + 1).numpy()
    array([[3., 5.],
           [7., 9.]], dtype=float32)
    """

    __slots__ = ("_value", "__weakref__")
    # Makes NumPy defer to Tensor's reflected operators (ndarray + Tensor).
    __array_priority__ = 100

    def __init__(self, value):
        if type(value) is bytes:
            # NumPy hands out an object array's element, not a 0-d array, for a scalar
            # result (``x[0]`` of a string tensor): keep the array a tensor promises.
            value = np.array(value, dtype=object)
        self._value = value

    # --- what a tensor is -------------------------------------------------
    @property
    def dtype(self) -> DType:
        return dtypes.from_numpy(self._value.dtype)

    @property
    def shape(self) -> TensorShape:
        value = self._value
        if type(value) is AbstractArray:
            return TensorShape(public_shape(value.shape))  # None for unknown sizes, as TF
        return _known_shape(value.shape)

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        if type(self._value) is AbstractArray:
            return "/job:localhost/replica:0/task:0/device:CPU:0"
        return device_of(self._value).name

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape: Any) -> None:
        """Check that the shape is compatible with ``shape`` (a tensor's shape is fixed)."""
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self.shape} is not compatible with supplied "
                             f"shape {TensorShape(shape)}. A tensor's shape is fixed; use "
                             f"tf.reshape(x, shape) for a tensor of another shape.")

    def numpy(self) -> np.ndarray:
        """A copy of the value as a NumPy array (a NumPy scalar for rank-0 tensors, as in TF)."""
        value = self._value
        if type(value) is not np.ndarray:
            return host_array(value)[()]  # a GPU array: get() already copies to the host
        return value.copy() if value.ndim else value[()]

    def __array__(self, dtype=None, copy=None):
        value = host_array(self._value)
        if dtype is not None and value.dtype != dtype:
            return value.astype(dtype)
        if copy:
            return value.copy()
        # A read-only view, as TF gives: writing to it must not change the tensor.
        view = value.view()
        view.flags.writeable = False
        return view

    def ref(self) -> Reference:
        """A hashable reference to this tensor, usable as a dict key or set member."""
        return Reference(self)

    experimental_ref = ref

    # --- Python protocol ---------------------------------------------------
    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        size = self._value.shape[0]
        if type(size) is not int:
            raise symbolic_value_error("size")
        return size

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return iter(OPS["unstack"](self))

    def __bool__(self) -> bool:
        if type(self._value) is AbstractArray:
            raise symbolic_value_error("bool", self._value.source)
        value = self._value
        if value.size == 1:
            return bool(value.reshape(()))
        if value.size == 0:
            return False  # as in TF: an empty tensor is falsy
        raise ValueError(
            f"The truth value of a tensor with shape {tuple(value.shape)} is ambiguous. "
            "Use tf.reduce_any(...) or tf.reduce_all(...).")

    def __float__(self) -> float:
        if type(self._value) is AbstractArray:
            raise symbolic_value_error("float", self._value.source)
        return float(self._value)

    def __int__(self) -> int:
        if type(self._value) is AbstractArray:
            raise symbolic_value_error("int", self._value.source)
        return int(self._value)

    def __index__(self) -> int:
        if type(self._value) is AbstractArray:
            raise symbolic_value_error("index", self._value.source)
        value = self._value
        if value.dtype.kind not in "iu" or value.ndim:
            raise TypeError(f"Only scalar integer tensors can be used as an index, "
                            f"received {self.dtype.name} with shape {tuple(value.shape)}.")
        return int(value)

    def __hash__(self) -> int:
        # TensorFlow makes tensors unhashable because == is elementwise. Hashing by identity
        # is a superset that keeps sets and dict keys of tensors working; x.ref() works too.
        return id(self)

    def __copy__(self) -> Tensor:
        return self  # immutable

    def __deepcopy__(self, memo) -> Tensor:
        return self

    def __repr__(self) -> str:
        if type(self._value) is AbstractArray:
            return f"<tf.Tensor (symbolic) shape={self.shape}, dtype={self.dtype.name}>"
        text = numpy_text(host_array(self._value), is_repr=True)
        return f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, numpy={text}>"

    def __str__(self) -> str:
        if type(self._value) is AbstractArray:
            return f"Tensor(shape={self.shape}, dtype={self.dtype.name})"
        text = numpy_text(host_array(self._value), is_repr=False)
        return f"tf.Tensor({text}, shape={self.shape}, dtype={self.dtype.name})"

    def __format__(self, spec: str) -> str:
        value = host_array(self._value)
        return format(value[()] if value.ndim == 0 else value, spec)

    # Operators are installed by neuroflow.ops.operators.


# --- conversion --------------------------------------------------------------------------

# Which dtype kinds a Python value of each kind may take when a dtype is asked for:
# TF refuses to change a Python value's kind (1.5 -> int32, 1 -> bool, 1j -> float32).
_PYTHON_KIND_TARGETS = {"b": "biufc", "i": "iufc", "u": "iufc", "f": "fc", "c": "c"}
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _is_variable(value: Any) -> bool:
    return hasattr(value, "_read_for_op")


def _python_array(value: Any) -> np.ndarray:
    """NumPy's array for a Python scalar or nested sequence, refusing what TF refuses."""
    try:
        try:
            array = np.asarray(value)
        except UnicodeDecodeError:  # str and non-ASCII bytes together: NumPy cannot mix them
            array = np.array(value, dtype=object)
    except ValueError:
        raise ValueError(f"Can't convert non-rectangular Python sequence to a tensor: "
                         f"{value!r}.") from None
    kind = array.dtype.kind
    if kind in "biufc":
        return array
    if kind in "USO" and _has_text(array):
        return _text_array(np.array(value, dtype=object), "Python sequence")
    raise ValueError(f"Attempt to convert a value ({value!r}) with an unsupported type "
                     f"({type(value).__name__}) to a tensor. Expected numbers (bool, int, "
                     f"float, complex) of 64 bits or less, or nested lists of them.")


def _has_text(array: np.ndarray) -> bool:
    if array.dtype.kind in "SU":
        return True
    return any(isinstance(item, (str, bytes)) for item in array.ravel().tolist())


def _as_bytes(item: Any, what: str) -> bytes:
    """One element of a string tensor: bytes as they are, str encoded as UTF-8."""
    if type(item) is bytes:
        return item
    if isinstance(item, bytes):
        return bytes(item)  # np.bytes_ and other subclasses: plain bytes, as TF hands out
    try:
        return item.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"Error converting unicode string while converting {what} to "
                         f"Tensor: {error}.") from None


def _text_array(array: np.ndarray, what: str) -> np.ndarray:
    """An object array of bytes from an array of str, bytes (or objects that must be those)."""
    items = array.ravel().tolist()
    for item in items:
        if not isinstance(item, (str, bytes)):
            if what == "Python sequence":
                raise ValueError("Can't convert Python sequence with mixed types to Tensor: "
                                 f"found {item!r} of type {type(item).__name__} among strings. "
                                 "A tensor holds one dtype; convert every element to str "
                                 "(or every element to a number).")
            raise ValueError(f"Failed to convert a NumPy array to a Tensor (Unsupported object "
                             f"type {type(item).__name__}): a tf.string tensor holds str or "
                             f"bytes. Use tf.strings.as_string to format numbers as strings.")
    out = np.empty(len(items), dtype=object)
    out[:] = [_as_bytes(item, what) for item in items]
    return out.reshape(array.shape)


def _numpy_text(array: np.ndarray, dtype: DType | None) -> np.ndarray:
    """A NumPy array with text (or one converted to ``tf.string``) as a string tensor's array."""
    if dtype is not None and dtype.np.kind != "O":
        # TF parses NumPy text arrays into numbers with NumPy's own conversion.
        text = array if array.dtype.kind in "SU" else _text_array(array, "NumPy array")
        return np.asarray(text.tolist() if text.dtype.kind == "O" else text).astype(dtype.np)
    if array.dtype.kind not in "OSU" and array.size:
        raise ValueError(f"Failed to convert a NumPy array to a Tensor (Unsupported object "
                         f"type {array.dtype.name}): a tf.string tensor holds str or bytes. "
                         f"Use tf.strings.as_string(x) to format numbers as strings.")
    return _text_array(array, "NumPy array")


def _with_default_dtype(array: np.ndarray, value: Any) -> np.ndarray:
    """TF's dtypes for Python data: float32, int32 (int64 if needed), bool, complex128."""
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(np.float32, copy=False)
    if kind in "iu":
        if array.size == 0:
            return array.astype(np.int32)
        low, high = int(array.min()), int(array.max())
        if _INT32_MIN <= low and high <= _INT32_MAX:
            return array.astype(np.int32, copy=False)
        if high < 2**63:
            return array.astype(np.int64, copy=False)
        raise ValueError(f"Can't convert {value!r} to a tensor: an integer is out of the "
                         f"int64 range. Give dtype=tf.uint64 for values up to 2**64 - 1.")
    if kind == "c":
        return array.astype(np.complex128, copy=False)
    return array


def _as_array(value: Any, dtype: DType | None) -> np.ndarray:
    """A fresh array holding ``value`` with TF's dtype rules (see the module docstring)."""
    if type(value) is float and dtype is None:
        return np.array(value, dtype=np.float32)  # the most common case, kept fast
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind in "OSU" or (dtype is not None and dtype.np.kind == "O"):
            return _numpy_text(array, dtype)
        dtypes.from_numpy(array.dtype)  # refuses datetimes, records and other unsupported arrays
        if dtype is None or array.dtype == dtype.np:
            return array.copy() if array is value else array
        return array.astype(dtype.np)
    array = _python_array(value)
    if array.dtype.kind == "O" or (dtype is not None and dtype.np.kind == "O"):
        return _python_text(array, value, dtype)
    if dtype is None:
        return _with_default_dtype(array, value)
    if dtype.np.kind not in _PYTHON_KIND_TARGETS[array.dtype.kind] and array.size:
        kind = {"b": "bool", "i": "int", "u": "int", "f": "float", "c": "complex"}
        raise TypeError(
            f"Cannot convert {value!r} to a tensor of dtype {dtype.name}: Python "
            f"{kind[array.dtype.kind]} values are not converted to {dtype.name} implicitly. "
            f"Convert explicitly with tf.cast(tf.constant(value), tf.{dtype.name}).")
    return array.astype(dtype.np)  # integers wrap around, as TF's conversion does


def _python_text(array: np.ndarray, value: Any, dtype: DType | None) -> np.ndarray:
    """Python text as a string tensor's array; text and numbers never convert to each other."""
    if dtype is None or (array.dtype.kind == "O") == (dtype.np.kind == "O"):
        return array
    if array.size == 0:  # tf.constant([], tf.string)
        return np.empty(array.shape, dtype=object)
    hint = ("tf.strings.to_number" if array.dtype.kind == "O" else "tf.strings.as_string")
    raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}: text and "
                    f"numbers do not convert to each other implicitly. Use {hint} on a tensor "
                    f"of the value's own dtype.")


def _contains_tensor(value: list | tuple) -> bool:
    stack = [value]
    while stack:
        for item in stack.pop():
            if isinstance(item, (list, tuple)):
                stack.append(item)
            elif isinstance(item, Tensor) or _is_variable(item):
                return True
    return False


def _first_tensor_dtype(value: list | tuple) -> DType:
    for item in value:
        if isinstance(item, (list, tuple)):
            found = _first_tensor_dtype(item)
            if found is not None:
                return found
        elif isinstance(item, Tensor) or _is_variable(item):
            return item.dtype
    return None


def _autopack(value: list | tuple, want: DType | None) -> Tensor:
    """``tf.constant([t1, t2])``: stack the elements, so gradients flow to each tensor.

    The dtype is ``want`` or else the first tensor's; Python numbers convert to it with
    the usual rules, and tensors of another dtype are an error unless ``want`` is given.
    """
    cast, stack = OPS["cast"], OPS["stack"]
    dtype = want or _first_tensor_dtype(value)

    def pack(item):
        if isinstance(item, (list, tuple)):
            return stack([pack(element) for element in item])
        if isinstance(item, Tensor) or _is_variable(item):
            tensor = convert_to_tensor(item)
            if tensor.dtype == dtype:
                return tensor
            if want is None:
                raise TypeError(f"Cannot pack a {tensor.dtype.name} tensor with {dtype.name} "
                                f"tensors into one tensor; use tf.cast so their dtypes match.")
            return cast(tensor, want)
        return _placed(_as_array(item, dtype))

    return pack(value)


def convert_to_tensor(value: Any, dtype=None, dtype_hint=None, name: str | None = None) -> Tensor:
    """Convert a Python value, NumPy array, Tensor or Variable to a Tensor.

    Python floats become float32 and ints int32; NumPy arrays keep their dtype.
    ``dtype`` forces a dtype (and refuses a tensor of another dtype, as TF does);
    ``dtype_hint`` is used where ``value`` converts to it, and ignored otherwise.

    >>> import neuroflow as tf
    >>> tf.convert_to_tensor(1.5).dtype, tf.convert_to_tensor([1, 2]).dtype
    (tf.float32, tf.int32)
    """
    if type(value) is Tensor and dtype is None:
        return value
    want = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if want is not None and value._value.dtype != want.np:
            raise ValueError(f"Tensor conversion requested dtype {want.name} for a Tensor with "
                             f"dtype {value.dtype.name}. Use tf.cast(x, tf.{want.name}).")
        return value
    read = getattr(value, "_read_for_op", None)
    if read is not None:  # a Variable: reading it is what the tape records
        tensor = read()
        if want is not None and tensor._value.dtype != want.np:
            raise ValueError(f"Incompatible type conversion requested to type {want.name} for "
                             f"a variable of type {tensor.dtype.name}. Use "
                             f"tf.cast(v, tf.{want.name}).")
        return tensor
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return _autopack(value, want)
    if isinstance(value, TensorShape):
        if not value.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {value} to a "
                             f"Tensor: every dimension must be known. Use tf.shape(x) for the "
                             f"shape a tensor has when it runs.")
        value = value.as_list()
    if want is None and dtype_hint is not None:
        try:
            return _placed(_as_array(value, dtypes.as_dtype(dtype_hint)))
        except (TypeError, ValueError):
            pass  # the hint does not fit: fall back to the value's own dtype
    return _placed(_as_array(value, want))


def constant(value: Any, dtype=None, shape=None, name: str | None = None) -> Tensor:
    """Create a constant tensor, as ``tf.constant``.

    ``dtype`` converts NumPy values and tensors; Python values must fit it
    (``tf.constant(1, tf.float32)`` works, ``tf.constant(1.5, tf.int32)`` is a
    TypeError). ``shape`` broadcasts a one-element value or reshapes a value of
    matching size.

    >>> import neuroflow as tf
    >>> tf.constant(0.5, shape=[2, 2]).numpy()
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    want = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(value, Tensor) or _is_variable(value):
        tensor = convert_to_tensor(value)
        if want is not None and tensor._value.dtype != want.np:
            tensor = OPS["cast"](tensor, want)
        if shape is None:
            return tensor
        array = np.array(host_array(tensor._value))
    else:
        array = _as_array(value, want)
    if shape is not None:
        array = _fit_to_shape(array, value, shape)
    return _placed(array)


def _placed(array: np.ndarray) -> Tensor:
    """A tensor of a new host array, on the device ``tf.device`` asks for (usually the CPU)."""
    target = placement()
    # Strings stay on the host (as TF keeps them on the CPU): device arrays hold numbers only.
    if target is CPU or array.dtype.kind == "O":
        return Tensor(array)
    return Tensor(target.asarray(array))


def _fit_to_shape(array: np.ndarray, value: Any, shape: Any) -> np.ndarray:
    dims = tuple(int(d) for d in TensorShape(shape))
    count = int(np.prod(dims, dtype=np.int64))
    if array.size == 1:
        return np.broadcast_to(array.reshape(()), dims).copy()
    if array.size == count:
        return array.reshape(dims)
    raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor {value!r} "
                    f"(converted from {array.shape}) has {array.size} elements, but got "
                    f"`shape` {dims} with {count} elements).")


def is_tensor(value: Any) -> bool:
    """True for tensors and variables (what ``tf.is_tensor`` accepts)."""
    return isinstance(value, Tensor) or _is_variable(value)
