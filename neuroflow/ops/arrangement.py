"""Arranging values: unique, repeat, roll, meshgrid, sequence masks, reverse_sequence.

Also the small shape utilities TensorFlow keeps beside them (``shape_n``,
``ensure_shape``, ``broadcast_dynamic_shape``, ``broadcast_static_shape``,
``get_static_value``, ``identity_n``, ``parallel_stack``).

Primitives here are those whose result depends on values in a way the ops of
``shape_ops`` cannot express: ``unique_*`` (sizes only known when they run),
``repeat_positions`` (which positions ``tf.repeat`` takes, for counts that may be
tensors), ``roll`` (the shift may be a tensor), ``reverse_sequence`` (per-row
lengths), ``ensure_shape`` (a check when the graph runs) and ``broadcast_shapes``.
The rest is composite.
"""

from __future__ import annotations

import collections

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, ValueNeeded, is_known
from neuroflow.dtypes import as_dtype
from neuroflow.errors import InvalidArgumentError, NotFoundError
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import DTypeMismatchError, as_tensor, normalize_axis
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.ops.shape_ops import (
    _certainly_different,
    _gather,
    _is_symbolic,
    _remember,
    _size_tensor,
    _static_size,
    broadcast_to,
    concat,
    expand_dims,
    identity,
    known_sizes,
    reshape,
    shape,
    stack,
    static_axis,
    traced_source,
)
from neuroflow.tensor import Tensor, TensorShape, host_array

_FRESH = Lowering(result="fresh")

Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _index_dtype(out_type, op: str, what: str) -> np.dtype:
    dtype = np.dtype(as_dtype(out_type).np)
    if dtype not in (np.int32, np.int64):
        # TensorFlow raises InvalidArgumentError eagerly, TypeError in graphs: this is both.
        raise DTypeMismatchError(f"{op}: {what} must be int32 or int64, received "
                                 f"{dtype.name}.", op)
    return dtype


def _int_tensor(value, op: str, what: str) -> Tensor:
    t = as_tensor(value)
    if t._value.dtype.kind not in "iu":
        raise DTypeMismatchError(f"{op}: {what} must be int32 or int64, received "
                                 f"{t.dtype.name}; use tf.cast({what}, tf.int32).", op)
    return t


# --- unique ----------------------------------------------------------------------------------


def _first_occurrences(xp, x):
    """Unique values in order of first appearance: (positions of the first occurrences,
    index of each element's value, counts). Equal values compare as ``==`` does (0.0 and
    -0.0 are one value), and every NaN is a value of its own, as in TensorFlow."""
    _, first, inverse, counts = np.unique(host_array(x), return_index=True,
                                          return_inverse=True, return_counts=True,
                                          equal_nan=False)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return (xp.asarray(first[order]), xp.asarray(rank[inverse.reshape(-1)]),
            xp.asarray(counts[order]))


def _unique_shape(x, dtype=None):
    return AbstractArray((Dim.fresh("u"),), x.dtype if dtype is None else dtype)


def _same_size_shape(x, dtype):
    return AbstractArray(x.shape, dtype)


# Three primitives because a primitive makes one result: each runs the same search.
@primitive("unique_values", differentiable=False, shape=_unique_shape, lowering=_FRESH)
def _unique_values(xp, x):
    first, _, _ = _first_occurrences(xp, x)
    return x[first]


@primitive("unique_index", differentiable=False, shape=_same_size_shape, lowering=_FRESH)
def _unique_index(xp, x, dtype):
    _, index, _ = _first_occurrences(xp, x)
    return index.astype(dtype)


@primitive("unique_counts", differentiable=False, shape=_unique_shape, lowering=_FRESH)
def _unique_counts(xp, x, dtype):
    _, _, counts = _first_occurrences(xp, x)
    return counts.astype(dtype)


def _vector(x, op: str) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.kind == "c":
        # TensorFlow has no kernel for it (NotFoundError); neither answer would carry over.
        raise NotFoundError(f"{op} has no kernel for {x.dtype.name} tensors (as in "
                            f"TensorFlow); compare the real and imaginary parts instead.", op)
    if x._value.ndim != 1:
        raise InvalidArgumentError(f"{op} expects a 1D vector, received shape "
                                   f"{tuple(x.shape)}; flatten it with tf.reshape(x, [-1]).",
                                   op)
    return x


def unique(x, out_idx="int32", name=None) -> Unique:
    """The distinct values of a vector in order of first appearance, and for each element
    the position of its value among them (as ``tf.unique``; no gradient, as in TF)."""
    dtype = _index_dtype(out_idx, "unique", "out_idx")
    x = _vector(x, "unique")
    return Unique(_unique_values(x), _unique_index(x, dtype=dtype))


def unique_with_counts(x, out_idx="int32", name=None) -> UniqueWithCounts:
    """:func:`unique`, with how often each distinct value occurs."""
    dtype = _index_dtype(out_idx, "unique_with_counts", "out_idx")
    x = _vector(x, "unique_with_counts")
    return UniqueWithCounts(_unique_values(x), _unique_index(x, dtype=dtype),
                            _unique_counts(x, dtype=dtype))


# --- repeat ----------------------------------------------------------------------------------


def _repeat_positions_shape(repeats, size):
    return AbstractArray((Dim.fresh("r"),), np.int64)


# The positions along an axis of ``size`` that tf.repeat takes: position i, repeats[i]
# times (repeats: one count for all, or one per position). The counts are checked here so
# compiled graphs check them too.
@primitive("repeat_positions", differentiable=False, shape=_repeat_positions_shape,
           lowering=_FRESH)
def _repeat_positions(xp, repeats, size):
    count = int(size)
    if repeats.ndim == 1 and repeats.shape[0] not in (1, count):
        raise InvalidArgumentError(f"repeat: repeats has {repeats.shape[0]} entries but the "
                                   f"axis has size {count}; give one count, or one per "
                                   f"element of the axis.", "repeat")
    if repeats.size and int(repeats.min()) < 0:
        raise InvalidArgumentError(f"repeat: repeats must be non-negative, received "
                                   f"{host_array(repeats).tolist()}.", "repeat")
    # On the host: CuPy's repeat takes the counts only as an int or a list.
    counts = host_array(repeats).reshape(-1)
    counts = np.broadcast_to(counts, (count,)) if repeats.ndim else int(counts[0])
    return xp.asarray(np.repeat(np.arange(count, dtype=np.int64), counts))


def repeat(input, repeats, axis=None, name=None) -> Tensor:  # noqa: A002
    """Repeat each element (``axis=None``: of the flattened input) ``repeats`` times, as
    ``tf.repeat``. The gradient sums the copies back."""
    x = as_tensor(input)
    counts = as_tensor(repeats)
    if counts._value.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be of type integer, received "
                        f"{counts.dtype.name}; use tf.cast(repeats, tf.int32).")
    if counts._value.ndim > 1:
        raise ValueError(f"repeat: repeats must have rank at most 1, received shape "
                         f"{tuple(counts.shape)}.")
    if axis is None:
        x = reshape(x, [-1])
        axis = 0
    (a,) = normalize_axis(static_axis(axis, "repeat"), x._value.ndim, "repeat")
    size = x._value.shape[a]
    if counts._value.ndim == 1 and not _is_symbolic(counts) and _certainly_different(
            counts._value.shape[0], size) and counts._value.shape[0] != 1:
        raise ValueError(f"repeat: repeats has {counts._value.shape[0]} entries but axis {a} "
                         f"has size {size}; give one count, or one per element.")
    positions = _repeat_positions(counts, _size_tensor(x, a))
    return _gather(x, positions, axis=a)


# --- roll ------------------------------------------------------------------------------------


def _roll_shape(x, shift, axes):
    return AbstractArray(x.shape, x.dtype)


@primitive("roll", save_inputs=True, shape=_roll_shape, lowering=_FRESH)
def _roll(xp, x, shift, axes):
    """``x`` rolled by ``shift[k]`` along ``axes[k]`` (shifts of one axis add up)."""
    total = dict.fromkeys(range(x.ndim), 0)
    for s, a in zip(host_array(shift).reshape(-1).tolist(), axes):
        total[a] += int(s)
    moves = [(s, a) for a, s in total.items() if s and x.shape[a]]
    if not moves:
        return x.copy()
    shifts, axes_ = zip(*moves)
    return xp.roll(x, shifts, axes_)


@_roll.defvjp
def _roll_vjp(ctx, g):
    return (_roll(g, ew.negative(ctx.inputs[1]), axes=ctx.attrs["axes"]), None)


def roll(input, shift, axis, name=None) -> Tensor:  # noqa: A002
    """Shift elements cyclically along ``axis``, as ``tf.roll``; ``shift`` and ``axis`` are
    an int each, or lists of one length (one axis may appear several times: shifts add)."""
    x = as_tensor(input)
    shifts = _int_tensor(shift, "roll", "shift")
    if x._value.ndim == 0:
        raise InvalidArgumentError("roll: input must be 1-D or higher, received a scalar.",
                                   "roll")
    axes = _axis_list(axis, "roll")
    count = shifts._value.shape[0] if shifts._value.ndim == 1 else 1
    if shifts._value.ndim > 1 or count != len(axes):
        raise InvalidArgumentError(f"roll: shift and axis must have the same size, received "
                                   f"shift of shape {tuple(shifts.shape)} and axis {axes}.",
                                   "roll")
    rank = x._value.ndim
    for a in axes:
        if not -rank <= a < rank:
            raise InvalidArgumentError(f"roll: axis {a} is out of range for a tensor of rank "
                                       f"{rank}.", "roll")
    return _roll(x, shifts, axes=tuple(a % rank for a in axes))


def _axis_list(axis, op: str) -> list[int]:
    """Axes given as an int, a list, or an integer tensor known when the function traces."""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        return [int(axis)]
    t = _int_tensor(axis, op, "axis")
    if _is_symbolic(t):
        sizes = known_sizes(t)
        if sizes is None:
            raise ValueNeeded(f"{op}: the axis must be known when the function is traced; "
                              f"received a tensor only known when the graph runs.",
                              traced_source(t))
        return [sizes] if isinstance(sizes, int) else list(sizes)
    return [int(a) for a in host_array(t._value).reshape(-1).tolist()]


# --- meshgrid, sequence_mask ----------------------------------------------------------------


def meshgrid(*args, **kwargs) -> list[Tensor]:
    """Coordinate grids from 1-D inputs (others are flattened), as ``tf.meshgrid``:
    ``indexing="xy"`` (default, Cartesian: the first two axes swapped) or ``"ij"``."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}; only "
                        f"indexing= and name= are accepted.")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: Argument `indexing` parameter must be either 'xy' or "
                         f"'ij', got {indexing!r}.")
    vectors = [reshape(as_tensor(a), [-1]) for a in args]
    for k, v in enumerate(vectors[1:], 1):
        if v._value.dtype != vectors[0]._value.dtype:
            raise DTypeMismatchError(f"meshgrid: all inputs must have one dtype; input {k} is "
                                     f"{v.dtype.name}, input 0 is {vectors[0].dtype.name}.",
                                     "meshgrid")
    sizes = [v._value.shape[0] for v in vectors]
    if indexing == "xy" and len(vectors) > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for k, v in enumerate(vectors):
        axis = {0: 1, 1: 0}.get(k, k) if indexing == "xy" and len(vectors) > 1 else k
        column = [1] * len(vectors)
        column[axis] = sizes[axis]
        grids.append(broadcast_to(reshape(v, column), sizes))
    return grids


def sequence_mask(lengths, maxlen=None, dtype="bool", name=None) -> Tensor:
    """``mask[..., j] = j < lengths[...]`` for ``j < maxlen`` (default: the largest length,
    at least 0), cast to ``dtype``, as ``tf.sequence_mask``."""
    from neuroflow.ops.creation import range_
    from neuroflow.ops.reductions import reduce_max

    lengths = as_tensor(lengths)
    if maxlen is None:
        # The 0 joined in keeps the mask of no lengths (or negative ones) empty.
        floor = Tensor(np.zeros(1, lengths._value.dtype))
        limit = reduce_max(concat([reshape(lengths, [-1]), floor], 0))
    else:
        limit = as_tensor(maxlen)
        if limit._value.ndim != 0:
            raise ValueError(f"sequence_mask: Argument `maxlen` must be scalar, received "
                             f"shape {tuple(limit.shape)}.")
    positions = range_(Tensor(np.zeros((), limit._value.dtype)), limit, dtype=limit.dtype)
    mask = ew.less(positions, expand_dims(ew.cast(lengths, limit.dtype), -1))
    kind = as_dtype(dtype)
    return mask if kind.np == np.bool_ else ew.cast(mask, kind)


# --- reverse_sequence ------------------------------------------------------------------------


def _reverse_sequence_shape(x, lengths, seq_axis, batch_axis):
    return AbstractArray(x.shape, x.dtype)


@primitive("reverse_sequence", save_inputs=True, shape=_reverse_sequence_shape,
           lowering=_FRESH)
def _reverse_sequence(xp, x, lengths, seq_axis, batch_axis):
    """Row ``b`` (along ``batch_axis``) has its first ``lengths[b]`` entries along
    ``seq_axis`` reversed; the lengths are checked here, so compiled graphs check them."""
    batch, steps = x.shape[batch_axis], x.shape[seq_axis]
    if lengths.shape[0] != batch:
        raise InvalidArgumentError(f"reverse_sequence: Length of seq_lengths != "
                                   f"input.dims({batch_axis}), ({lengths.shape[0]} vs. "
                                   f"{batch}).", "reverse_sequence")
    counts = host_array(lengths).astype(np.int64)
    if counts.size and (counts.min() < 0 or counts.max() > steps):
        bad = int(np.flatnonzero((counts < 0) | (counts > steps))[0])
        raise InvalidArgumentError(f"reverse_sequence: seq_lengths({bad}) = {counts[bad]} is "
                                   f"not in [0, {steps}], the size of axis {seq_axis}.",
                                   "reverse_sequence")
    moved = xp.moveaxis(x, (batch_axis, seq_axis), (0, 1))
    step = np.arange(steps)
    ends = counts[:, None]
    source = np.where(step < ends, ends - 1 - step, step)
    source = source.reshape(source.shape + (1,) * (moved.ndim - 2))
    out = xp.take_along_axis(moved, xp.asarray(source), axis=1)
    return xp.moveaxis(out, (0, 1), (batch_axis, seq_axis))


@_reverse_sequence.defvjp
def _reverse_sequence_vjp(ctx, g):
    # Reversing the same prefixes again puts every entry back: the op is its own transpose.
    return (_reverse_sequence(g, ctx.inputs[1], **ctx.attrs), None)


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None,  # noqa: A002
                     name=None) -> Tensor:
    """Reverse the first ``seq_lengths[b]`` entries along ``seq_axis`` of each row ``b``
    along ``batch_axis`` (default 0), as ``tf.reverse_sequence``."""
    x = as_tensor(input)
    lengths = _int_tensor(seq_lengths, "reverse_sequence", "seq_lengths")
    rank = x._value.ndim
    batch_axis = 0 if batch_axis is None else _static_size(batch_axis, "reverse_sequence",
                                                           "batch_axis")
    if seq_axis is None:
        raise TypeError("reverse_sequence: seq_axis is required; pass the axis of the "
                        "sequences, e.g. seq_axis=1.")
    seq_axis = _static_size(seq_axis, "reverse_sequence", "seq_axis")
    for what, a in (("seq_dim", seq_axis), ("batch_dim", batch_axis)):
        if not 0 <= a < rank:
            raise InvalidArgumentError(f"reverse_sequence: Invalid {what} {a}: it must be in "
                                       f"[0, {rank}) for an input of rank {rank}.",
                                       "reverse_sequence")
    if seq_axis == batch_axis:
        raise InvalidArgumentError(f"reverse_sequence: batch_dim == seq_dim == {seq_axis}; "
                                   f"they must differ.", "reverse_sequence")
    if lengths._value.ndim != 1:
        raise InvalidArgumentError(f"reverse_sequence: seq_lengths must be 1-dim, not "
                                   f"{lengths._value.ndim}.", "reverse_sequence")
    if _certainly_different(lengths._value.shape[0], x._value.shape[batch_axis]):
        raise InvalidArgumentError(f"reverse_sequence: Length of seq_lengths != "
                                   f"input.dims({batch_axis}), ({lengths._value.shape[0]} vs. "
                                   f"{x._value.shape[batch_axis]}).", "reverse_sequence")
    return _reverse_sequence(x, lengths, seq_axis=seq_axis, batch_axis=batch_axis)


# --- small shape utilities --------------------------------------------------------------------


def identity_n(input, name=None) -> list[Tensor]:  # noqa: A002
    """Each tensor of a list, passed through (gradients too), as ``tf.identity_n``."""
    tensors = list(input)
    if not tensors:
        raise InvalidArgumentError("identity_n: the list is empty; pass at least one tensor.",
                                   "identity_n")
    return [identity(t) for t in tensors]


def shape_n(input, out_type="int32", name=None) -> list[Tensor]:  # noqa: A002
    """The shape of each tensor of a list, as ``tf.shape_n``."""
    dtype = _index_dtype(out_type, "shape_n", "out_type")
    return [shape(t, out_type=dtype) for t in input]


def _spec_dims(spec) -> tuple | None:
    if spec is None:
        return None
    spec = spec if isinstance(spec, TensorShape) else TensorShape(
        host_array(as_tensor(spec)._value).tolist() if _is_tensorlike(spec) else spec)
    return None if spec.rank is None else tuple(spec.as_list())


def _is_tensorlike(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray)) or hasattr(value, "_read_for_op")


def _compatible(actual: tuple, expected: tuple) -> bool:
    return len(actual) == len(expected) and not any(
        e is not None and _certainly_different(a, e) for a, e in zip(actual, expected))


def _ensure_shape_shape(x, expected):
    # Where the trace does not know a size the spec names, the result has the spec's. Sizes
    # that turn out incompatible are refused by the forward, when the graph runs (as
    # TensorFlow's EnsureShape does).
    if len(x.shape) != len(expected):
        return AbstractArray(x.shape, x.dtype)
    return AbstractArray(tuple(a if e is None or is_known(a) else e
                               for a, e in zip(x.shape, expected)), x.dtype)


@primitive("ensure_shape", shape=_ensure_shape_shape, lowering=Lowering(result="any"))
def _ensure_shape(xp, x, expected):
    if not _compatible(x.shape, expected):
        raise InvalidArgumentError(
            f"Shape of tensor input {list(x.shape)} is not compatible with expected shape "
            f"{['?' if e is None else e for e in expected]}.", "ensure_shape")
    return x


@_ensure_shape.defvjp
def _ensure_shape_vjp(ctx, g):
    return (g,)


def ensure_shape(x, shape, name=None) -> Tensor:  # noqa: A002
    """``x``, after checking its shape is compatible with ``shape`` (None: any size), when
    the op runs (in compiled graphs too), as ``tf.ensure_shape``."""
    x = as_tensor(x)
    expected = _spec_dims(shape)
    if expected is None:
        return x
    if not _compatible(x._value.shape, expected):
        raise InvalidArgumentError(
            f"ensure_shape: Shape of tensor input {list(x._value.shape)} is not compatible "
            f"with expected shape {['?' if e is None else e for e in expected]}.",
            "ensure_shape")
    return _ensure_shape(x, expected=expected)


def _broadcast_shapes_shape(a, b):
    for s in (a, b):
        if s.ndim != 1 or s.dtype.kind not in "iu":
            raise ValueError(f"shapes must be integer vectors, received "
                             f"{s.dtype.name}{list(s.shape)}")
    if is_known(a.shape[0]) and is_known(b.shape[0]):
        return AbstractArray((max(a.shape[0], b.shape[0]),), a.dtype)
    return AbstractArray((Dim.fresh("n"),), a.dtype)


@primitive("broadcast_shapes", differentiable=False, shape=_broadcast_shapes_shape,
           lowering=_FRESH)
def _broadcast_shapes(xp, a, b):
    left, right = (tuple(host_array(s).tolist()) for s in (a, b))
    try:
        out = np.broadcast_shapes(left, right)
    except ValueError:
        raise InvalidArgumentError(f"broadcast_dynamic_shape: Incompatible shapes: "
                                   f"{list(left)} vs. {list(right)}; each size must match "
                                   f"the other's or be 1.", "broadcast_dynamic_shape") from None
    return xp.asarray(out, dtype=a.dtype)


def broadcast_dynamic_shape(shape_x, shape_y) -> Tensor:
    """The shape two shapes (1-D integer tensors) broadcast to, as a tensor."""
    # An empty list is a shape of rank 0 (Python's [] would otherwise become float32).
    a, b = (_int_tensor(np.zeros(0, np.int32) if isinstance(s, (list, tuple)) and not s else s,
                        "broadcast_dynamic_shape", which)
            for s, which in ((shape_x, "shape_x"), (shape_y, "shape_y")))
    if a._value.dtype != b._value.dtype:
        raise DTypeMismatchError(f"broadcast_dynamic_shape: shape_x is {a.dtype.name} but "
                                 f"shape_y is {b.dtype.name}; cast one to the other's dtype.",
                                 "broadcast_dynamic_shape")
    for which, t in (("shape_x", a), ("shape_y", b)):
        if t._value.ndim != 1:
            raise InvalidArgumentError(f"broadcast_dynamic_shape: {which} must be a vector, "
                                       f"received shape {tuple(t.shape)}.",
                                       "broadcast_dynamic_shape")
    out = _broadcast_shapes(a, b)
    left, right = known_sizes(a), known_sizes(b)
    if _is_symbolic(out) and left is not None and right is not None:
        try:
            sizes = _broadcast_sizes(left, right)
        except ValueError:
            sizes = None  # refused when the graph runs
        _remember(out, sizes)
    return out


def _broadcast_sizes(left: tuple, right: tuple) -> tuple:
    width = max(len(left), len(right))
    left = (1,) * (width - len(left)) + tuple(left)
    right = (1,) * (width - len(right)) + tuple(right)
    return tuple(Dim.broadcast(p, q) for p, q in zip(left, right))


def broadcast_static_shape(shape_x, shape_y) -> TensorShape:
    """The TensorShape two TensorShapes broadcast to (None: unknown), as
    ``tf.broadcast_static_shape``."""
    left, right = TensorShape(shape_x), TensorShape(shape_y)
    if left.rank is None or right.rank is None:
        return TensorShape(None)
    width = max(left.rank, right.rank)
    a = [1] * (width - left.rank) + left.as_list()
    b = [1] * (width - right.rank) + right.as_list()
    out = []
    for p, q in zip(a, b):
        if p is not None and q is not None and p != q and 1 not in (p, q):
            raise ValueError(f"Incompatible shapes for broadcasting. Two shapes are "
                             f"compatible if for each dimension pair they are either equal "
                             f"or one of them is 1. Received: {tuple(left.as_list())} and "
                             f"{tuple(right.as_list())}.")
        if p is None or q is None:
            known = q if p is None else p
            out.append(known if known is not None and known != 1 else None)
        else:
            out.append(max(p, q) if 1 in (p, q) else p)
    return TensorShape(out)


def get_static_value(tensor, partial=False):
    """The value of ``tensor`` as a NumPy array if it is known without running a graph,
    else None (a tensor only known when a tf.function runs, or a Variable, whose value may
    change), as ``tf.get_static_value``. Values that are not tensors come back as given."""
    if hasattr(tensor, "_read_for_op"):
        return None
    if not isinstance(tensor, Tensor):
        return tensor
    if not _is_symbolic(tensor):
        return host_array(tensor._value)
    sizes = known_sizes(tensor)
    flat = sizes if isinstance(sizes, tuple) else (sizes,)
    if sizes is not None and all(type(d) is int for d in flat):
        return np.asarray(sizes, dtype=tensor._value.dtype)
    return None


def parallel_stack(values, name=None) -> Tensor:
    """``tf.stack(values)`` along a new first axis, as ``tf.parallel_stack``.

    TensorFlow refuses it eagerly; here it also runs eagerly (the same result as in a
    ``tf.function``), so code can be debugged eagerly.
    """
    tensors = [as_tensor(v) for v in values]
    if not tensors:
        raise ValueError("parallel_stack: values is empty; pass a list of at least one "
                         "tensor.")
    return stack(tensors)
