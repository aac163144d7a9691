"""``tf.RaggedTensor``: rows of different lengths, as ``tf.strings.split`` returns them.

A ragged tensor is a tensor of ``values`` (the rows one after another) and ``row_splits``
(an integer vector: row ``i`` is ``values[row_splits[i]:row_splits[i + 1]]``), the
row-partitioned encoding TensorFlow uses; ``values`` may itself be ragged (a tensor
ragged in several dimensions, ``ragged_rank`` > 1). The parts are ordinary tensors, so
a ragged tensor made inside a ``tf.function`` holds symbolic parts and the operations on
it (``to_tensor``, ``row_lengths``, ``map_flat_values``) trace like any op; reading rows
(``to_list``, ``rt[i]``, iteration) needs concrete values, as ``.numpy()`` does.

What this minimal version has: construction (``from_row_splits``,
``from_row_lengths``, ``from_value_rowids``, ``from_nested_row_splits``,
``from_tensor``, ``tf.ragged.constant``), the partition (``values``, ``flat_values``,
``row_splits``, ``nested_row_splits``, ``nrows``, ``row_lengths``, ``row_starts``,
``row_limits``, ``value_rowids``, ``bounding_shape``), ``to_tensor(default_value,
shape)``, ``to_list``, ``numpy``, row indexing (``rt[i]``, ``rt[i:j]``, ``rt[i, j]``),
iteration, ``with_values``/``with_flat_values`` and ``tf.ragged.map_flat_values``.
Operators (``rt + 1``, ``rt == x``, ``-rt`` ...) apply to the flat values, with a scalar
or a ragged tensor of the same row partition. What it lacks: TensorFlow's dispatch of
``tf.*`` ops to ragged tensors (``tf.equal(rt, x)``; use ``tf.ragged.map_flat_values``),
``uniform_row_length`` partitions, ragged tensors as ``tf.data`` elements and
``tf.function`` arguments, ``RaggedTensorSpec``, and sparse conversions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.abstract import AbstractArray, Dim
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor, TensorShape, convert_to_tensor, host_array

_SPLIT_DTYPES = ("int32", "int64")


def _is_concrete(t: Tensor) -> bool:
    return type(t._value) is not AbstractArray


def _splits_tensor(row_splits: Any, what: str) -> Tensor:
    splits = as_tensor(row_splits) if isinstance(row_splits, Tensor) else convert_to_tensor(
        row_splits, dtype_hint=dtypes.int64)
    if splits.dtype.name not in _SPLIT_DTYPES:
        raise ValueError(f"RaggedTensor: {what} must be int32 or int64, received "
                         f"{splits.dtype.name}. Use tf.cast({what}, tf.int64).")
    if splits.shape.rank != 1:
        raise ValueError(f"RaggedTensor: {what} must be a vector, received shape {splits.shape}.")
    return splits


class RaggedTensor:
    """A tensor whose rows have different lengths (``values`` split by ``row_splits``).

    >>> import neuroflow as tf
    >>> rt = tf.RaggedTensor.from_row_splits([1, 2, 3, 4, 5], row_splits=[0, 2, 2, 5])
    >>> rt
    <tf.RaggedTensor [[1, 2], [], [3, 4, 5]]>
    >>> rt.to_tensor(default_value=-1).numpy().tolist()
    [[1, 2, -1], [-1, -1, -1], [3, 4, 5]]
    """

    __slots__ = ("_values", "_row_splits")

    def __init__(self, values, row_splits, internal: bool = False):
        if not internal:
            raise ValueError("RaggedTensor constructor is private; please use one of the "
                             "factory methods instead (e.g., RaggedTensor.from_row_lengths())")
        self._values = values
        self._row_splits = row_splits

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True) -> RaggedTensor:
        """Rows ``values[row_splits[i]:row_splits[i + 1]]``; ``row_splits`` starts at 0, never
        decreases, and ends at the number of values."""
        values = values if isinstance(values, RaggedTensor) else as_tensor(values)
        splits = _splits_tensor(row_splits, "row_splits")
        if validate and _is_concrete(splits) and _values_known(values):
            _check_splits(host_array(splits._value), _nvalues(values), "from_row_splits")
        return cls(values, splits, internal=True)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True) -> RaggedTensor:
        """Rows of ``row_lengths[i]`` values each, in order."""
        lengths = _splits_tensor(row_lengths, "row_lengths")
        if _is_concrete(lengths):
            array = host_array(lengths._value)
            if validate and array.size and array.min() < 0:
                raise InvalidArgumentError("Arguments to from_row_lengths do not form a valid "
                                           "RaggedTensor: row lengths must be non-negative, "
                                           f"received {array.tolist()}.", "RaggedTensor")
            splits = np.concatenate([[0], np.cumsum(array)]).astype(array.dtype)
            return cls.from_row_splits(values, Tensor(splits), validate=validate)
        from neuroflow.ops import creation, reductions, shape_ops

        splits = shape_ops.concat([creation.zeros([1], lengths.dtype),
                                   reductions.cumsum(lengths)], axis=0)
        return cls.from_row_splits(values, splits, validate=False)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None,
                          validate=True) -> RaggedTensor:
        """Value ``i`` goes to row ``value_rowids[i]`` (sorted); ``nrows`` defaults to the
        last row id plus one."""
        ids = host_array(_splits_tensor(value_rowids, "value_rowids")._value)
        if validate and ids.size and (ids.min() < 0 or np.any(np.diff(ids) < 0)):
            raise InvalidArgumentError("Arguments to from_value_rowids do not form a valid "
                                       "RaggedTensor: value_rowids must be sorted and "
                                       f"non-negative, received {ids.tolist()}.", "RaggedTensor")
        rows = int(ids[-1]) + 1 if nrows is None and ids.size else int(nrows or 0)
        if ids.size and int(ids[-1]) >= rows:
            raise InvalidArgumentError(f"Arguments to from_value_rowids do not form a valid "
                                       f"RaggedTensor: row id {int(ids[-1])} is not below "
                                       f"nrows={rows}.", "RaggedTensor")
        lengths = np.bincount(ids, minlength=rows).astype(ids.dtype)
        return cls.from_row_lengths(values, Tensor(lengths), validate=False)

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None,
                               validate=True) -> RaggedTensor:
        """A tensor ragged in ``len(nested_row_splits)`` dimensions, outermost splits first."""
        result = flat_values
        for splits in reversed(list(nested_row_splits)):
            result = cls.from_row_splits(result, splits, validate=validate)
        return result

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank=1,
                    name=None) -> RaggedTensor:
        """The rows of a 2-D (or higher) tensor, each cut at its length: ``lengths[i]``, or
        after its last value that is not ``padding``."""
        if ragged_rank != 1:
            raise NotImplementedError(f"RaggedTensor.from_tensor: only ragged_rank=1 is "
                                      f"supported; received ragged_rank={ragged_rank}.")
        if lengths is not None and padding is not None:
            raise ValueError("Specify argument `lengths` or `padding`, but not both.")
        dense = as_tensor(tensor)
        array = host_array(dense._value)
        if array.ndim < 2:
            raise ValueError(f"RaggedTensor.from_tensor needs a tensor of rank 2 or more, "
                             f"received shape {dense.shape}.")
        rows, width = array.shape[:2]
        if lengths is not None:
            cut = np.minimum(host_array(as_tensor(lengths)._value).astype(np.int64), width)
        elif padding is not None:
            pad = host_array(as_tensor(padding, dtype=dense.dtype)._value)
            kept = ~np.all((array == pad).reshape(rows, width, -1), axis=2)
            # The length of a row ends after its last non-padding value.
            cut = np.where(kept.any(axis=1), width - np.argmax(kept[:, ::-1], axis=1), 0)
        else:
            cut = np.full(rows, width, np.int64)
        mask = np.arange(width)[None, :] < cut[:, None]
        splits = np.concatenate([[0], np.cumsum(cut)]).astype(np.int64)
        return cls.from_row_splits(Tensor(array[mask]), Tensor(splits))

    # --- the partition ----------------------------------------------------------------------
    @property
    def values(self):
        """The rows concatenated: a tensor, or a ragged tensor when ``ragged_rank`` > 1."""
        return self._values

    @property
    def flat_values(self) -> Tensor:
        """The innermost values, a dense tensor."""
        values = self._values
        while isinstance(values, RaggedTensor):
            values = values._values
        return values

    @property
    def row_splits(self) -> Tensor:
        return self._row_splits

    @property
    def nested_row_splits(self) -> tuple:
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt._row_splits)
            rt = rt._values
        return tuple(out)

    @property
    def ragged_rank(self) -> int:
        return len(self.nested_row_splits)

    @property
    def dtype(self):
        return self.flat_values.dtype

    @property
    def shape(self) -> TensorShape:
        rows = self._row_splits.shape[0]
        inner = self._values.shape
        return TensorShape([None if rows is None else rows - 1, None, *list(inner)[1:]])

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self) -> int:
        return self.shape.rank

    def nrows(self, out_type=None, name=None) -> Tensor:
        from neuroflow.ops import elementwise, shape_ops

        count = shape_ops.shape(self._row_splits, out_type=self._row_splits.dtype)[0] - 1
        return count if out_type is None else elementwise.cast(count, out_type)

    def row_starts(self, name=None) -> Tensor:
        return self._row_splits[:-1]

    def row_limits(self, name=None) -> Tensor:
        return self._row_splits[1:]

    def row_lengths(self, axis=1, name=None) -> Tensor:
        if axis not in (1, -self.shape.rank + 1):
            raise NotImplementedError(f"row_lengths: only axis=1 is supported, received "
                                      f"axis={axis}.")
        return self._row_splits[1:] - self._row_splits[:-1]

    def value_rowids(self, name=None) -> Tensor:
        splits = host_array(self._row_splits._value)
        ids = np.repeat(np.arange(len(splits) - 1), np.diff(splits))
        return Tensor(ids.astype(splits.dtype))

    def bounding_shape(self, axis=None, name=None, out_type=None) -> Tensor:
        """The smallest dense shape holding every row (its ragged sizes are the longest)."""
        dims = [int(d) for d in _bounding(self)]
        dtype = self._row_splits.dtype if out_type is None else dtypes.as_dtype(out_type)
        shape = Tensor(np.array(dims, dtype=dtype.np))
        return shape if axis is None else shape[axis]

    def with_values(self, new_values) -> RaggedTensor:
        new_values = new_values if isinstance(new_values, RaggedTensor) else as_tensor(new_values)
        return RaggedTensor(new_values, self._row_splits, internal=True)

    def with_flat_values(self, new_values) -> RaggedTensor:
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    # --- conversion -------------------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None) -> Tensor:
        """A dense tensor: rows padded with ``default_value`` (0, or ``b""`` for strings) to the
        longest row, or padded and cut to ``shape`` (``None`` entries take the longest)."""
        rank = self.shape.rank
        dims = [None] * rank if shape is None else list(TensorShape(shape))
        if len(dims) != rank:
            raise ValueError(f"to_tensor: shape {dims} must have rank {rank}, the rank of the "
                             f"ragged tensor.")
        values = self._values
        if isinstance(values, RaggedTensor):
            values = values.to_tensor(default_value, shape=[None, *dims[2:]])
        elif any(d is not None for d in dims[2:]):
            raise NotImplementedError("to_tensor: shape may only fix the first two dimensions "
                                      "of a ragged tensor whose values are dense.")
        default = _default_for(values, default_value)
        dense = _ragged_to_dense(values, self._row_splits, default, width=dims[1])
        if dims[0] is not None:
            dense = _fit_rows(dense, dims[0], default)
        return dense

    def to_list(self) -> list:
        """The rows as nested Python lists (strings stay ``bytes``, as in TensorFlow)."""
        splits = host_array(self._row_splits._value).tolist()
        if isinstance(self._values, RaggedTensor):
            inner = self._values.to_list()
        else:
            inner = host_array(self._values._value).tolist()
        return [inner[a:b] for a, b in zip(splits[:-1], splits[1:])]

    def numpy(self) -> np.ndarray:
        """An object array of the rows, each a NumPy array (ragged_rank 1) or ragged tensor."""
        rows = list(self)
        out = np.empty(len(rows), dtype=object)
        out[:] = [row.numpy() for row in rows]
        return out

    # --- rows -------------------------------------------------------------------------------
    def __getitem__(self, key):
        if isinstance(key, tuple):
            if not key:
                return self
            row = self[key[0]]
            if len(key) == 1:
                return row
            if isinstance(key[0], slice):
                raise ValueError("Cannot index into an inner ragged dimension.")
            return row[key[1:]] if len(key) > 2 else row[key[1]]
        splits = host_array(self._row_splits._value)
        rows = len(splits) - 1
        if isinstance(key, slice):
            start, stop, step = key.indices(rows)
            if step != 1:
                raise NotImplementedError("RaggedTensor: slices of rows take step 1 only.")
            stop = max(stop, start)
            part = splits[start:stop + 1]
            values = self._values[int(part[0]):int(part[-1])]
            return RaggedTensor(values, Tensor(part - part[0]), internal=True)
        index = int(key)
        if not -rows <= index < rows:
            raise IndexError(f"Row key {index} out of bounds")
        index %= rows
        return self._values[int(splits[index]):int(splits[index + 1])]

    def __iter__(self):
        splits = host_array(self._row_splits._value)
        return (self[i] for i in range(len(splits) - 1))

    def __repr__(self) -> str:
        if not (_is_concrete(self._row_splits) and _values_known(self._values)):
            return f"tf.RaggedTensor(values={self._values!r}, row_splits={self._row_splits!r})"
        return f"<tf.RaggedTensor {self.to_list()!r}>"

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)  # == is elementwise, as for tensors


def _elementwise(name: str, reflected: bool = False):
    """An operator applied to the flat values, keeping the rows (scalars broadcast)."""

    def method(self, other=None):
        from neuroflow.ops import elementwise

        fn = getattr(elementwise, name)
        if other is None and name in ("negative", "logical_not"):
            return map_flat_values(fn, self)
        if isinstance(other, RaggedTensor) and other.nested_row_splits is not \
                self.nested_row_splits and not _same_partition(self, other):
            raise InvalidArgumentError(f"{name}: the ragged tensors have different row "
                                       f"partitions.", name)
        args = (other, self) if reflected else (self, other)
        return map_flat_values(fn, *args)

    return method


def _same_partition(a: RaggedTensor, b: RaggedTensor) -> bool:
    left, right = a.nested_row_splits, b.nested_row_splits
    return len(left) == len(right) and all(
        _is_concrete(x) and _is_concrete(y) and np.array_equal(host_array(x._value),
                                                                host_array(y._value))
        for x, y in zip(left, right))


for _name, _op in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                   ("truediv", "truediv"), ("floordiv", "floordiv"), ("mod", "floormod")):
    setattr(RaggedTensor, f"__{_name}__", _elementwise(_op))
    setattr(RaggedTensor, f"__r{_name}__", _elementwise(_op, reflected=True))
for _name, _op in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"),
                   ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
                   ("and", "logical_and"), ("or", "logical_or")):
    setattr(RaggedTensor, f"__{_name}__", _elementwise(_op))
RaggedTensor.__neg__ = _elementwise("negative")
RaggedTensor.__invert__ = _elementwise("logical_not")


def _values_known(values) -> bool:
    if isinstance(values, RaggedTensor):
        return _is_concrete(values._row_splits) and _values_known(values._values)
    return _is_concrete(values)


def _nvalues(values) -> int:
    return values.shape[0]  # a ragged tensor's shape[0] is its number of rows


def _check_splits(splits: np.ndarray, count, where: str) -> None:
    problem = None
    if splits.size == 0:
        problem = "row_splits must have at least one entry (0)"
    elif splits[0] != 0:
        problem = f"row_splits must start with 0, received {splits.tolist()}"
    elif np.any(np.diff(splits) < 0):
        problem = f"row_splits must never decrease, received {splits.tolist()}"
    elif count is not None and splits[-1] != count:
        problem = (f"the last row split ({int(splits[-1])}) must be the number of values "
                   f"({count})")
    if problem:
        raise InvalidArgumentError(f"Arguments to {where} do not form a valid RaggedTensor: "
                                   f"{problem}.", "RaggedTensor")


def _bounding(rt: RaggedTensor) -> list:
    splits = host_array(rt._row_splits._value)
    lengths = np.diff(splits)
    dims = [len(splits) - 1, int(lengths.max()) if lengths.size else 0]
    inner = _bounding(rt._values)[1:] if isinstance(rt._values, RaggedTensor) \
        else list(rt._values.shape)[1:]
    return dims + inner


def _default_for(values: Tensor, default_value) -> Tensor:
    if default_value is None:
        array = np.array(b"", dtype=object) if values.dtype == dtypes.string else \
            np.zeros((), values.dtype.np)
        return Tensor(array)
    default = as_tensor(default_value, dtype=values.dtype)
    if default.shape.rank != 0:
        raise NotImplementedError(f"to_tensor: default_value must be a scalar, received shape "
                                  f"{default.shape}.")
    return default


def _fit_rows(dense: Tensor, rows: int, default: Tensor) -> Tensor:
    """``dense`` cut or padded (with ``default``) to ``rows`` rows."""
    from neuroflow.ops import shape_ops

    have = dense.shape[0]
    if have is not None and have >= rows:
        return dense[:rows]
    extra = shape_ops.concat([[rows - shape_ops.shape(dense)[0]], shape_ops.shape(dense)[1:]],
                             axis=0)
    from neuroflow.ops import creation

    padding = creation.fill(extra, default)
    return shape_ops.concat([dense, padding], axis=0)


def _to_dense_shape(values, splits, default, *, width):
    rows = splits.shape[0] - 1
    cols = Dim.fresh("w") if width is None else width
    return AbstractArray((rows, cols, *values.shape[1:]), values.dtype)


# The width of the result is the longest row's length: only known when the op runs.
@primitive("ragged_to_dense", differentiable=False, shape=_to_dense_shape,
           lowering=Lowering(result="fresh"))
def _ragged_to_dense(xp, values, splits, default, *, width):
    splits = splits.astype(np.int64)
    lengths = np.diff(splits)
    rows = len(lengths)
    cols = (int(lengths.max()) if rows else 0) if width is None else width
    out = np.empty((rows, cols, *values.shape[1:]), dtype=values.dtype)
    out[...] = default
    row_of = np.repeat(np.arange(rows), lengths)
    position = np.arange(len(row_of)) - np.repeat(splits[:-1], lengths)
    keep = position < cols
    out[row_of[keep], position[keep]] = values[:len(row_of)][keep]
    return out


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None,
             row_splits_dtype=dtypes.int64) -> RaggedTensor | Tensor:
    """A ragged tensor from nested Python lists (``tf.ragged.constant``).

    >>> import neuroflow as tf
    >>> tf.ragged.constant([["a", "b"], ["c"]])
    <tf.RaggedTensor [[b'a', b'b'], [b'c']]>
    """
    if inner_shape is not None:
        raise NotImplementedError("tf.ragged.constant: inner_shape is not supported; nest the "
                                  "values as lists instead.")
    depth = _depth(pylist)
    rank = depth - 1 if ragged_rank is None else ragged_rank
    if rank < 0 or rank >= max(depth, 1):
        raise ValueError(f"tf.ragged.constant: ragged_rank={ragged_rank} must be between 0 and "
                         f"{max(depth - 1, 0)} for values nested {depth} deep.")
    splits_type = dtypes.as_dtype(row_splits_dtype).np
    nested, level = [], pylist
    for _ in range(rank):
        lengths = [len(row) for row in level]
        nested.append(np.concatenate([[0], np.cumsum(lengths)]).astype(splits_type))
        level = [item for row in level for item in row]
    if level:
        flat = convert_to_tensor(level, dtype=dtype)
    else:
        flat = convert_to_tensor(np.zeros((0,), (dtypes.as_dtype(dtype) if dtype else
                                                 dtypes.float32).np))
    if not nested:
        return flat
    return RaggedTensor.from_nested_row_splits(flat, [Tensor(s) for s in nested])


def _depth(value) -> int:
    """How deep lists nest in ``value`` (the deepest branch; strings are scalars)."""
    if isinstance(value, (list, tuple)):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def map_flat_values(op, *args, **kwargs):
    """``op`` applied to the flat values of the ragged arguments, keeping their row
    partition (``tf.ragged.map_flat_values``); the ragged arguments must share it."""
    partition = None

    def flat(value):
        nonlocal partition
        if isinstance(value, RaggedTensor):
            partition = partition or value
            return value.flat_values
        return value

    new_args = [flat(a) for a in args]
    new_kwargs = {k: flat(v) for k, v in kwargs.items()}
    if partition is None:
        raise ValueError("map_flat_values: at least one argument must be a RaggedTensor.")
    return partition.with_flat_values(op(*new_args, **new_kwargs))


def is_ragged(value) -> bool:
    return isinstance(value, RaggedTensor)
