"""Indexing by index tensors: gather_nd, scatters, segment reductions, searches and counts.

The primitives here take integer index tensors and move or combine the values they
point at. Their gradients move the gradient back the other way: ``gather_nd`` <->
``scatter_nd``; a segment reduction's gradient gathers per element what its segment
received. Every forward checks its indices and raises TensorFlow's
``InvalidArgumentError`` (as TensorFlow does on CPU), so compiled graphs check them too.

Everything else (``tensor_scatter_nd_*``'s gradients, segment means, ``confusion_matrix``,
``strided_slice``) is built from these and the ops of the other families.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, is_known
from neuroflow.errors import InvalidArgumentError, NotFoundError
from neuroflow.ops import shape_ops
from neuroflow.ops.convert import (
    DTypeMismatchError,
    as_tensor,
    binary_operands,
    check_same_dtype,
)
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor, host_array

_FRESH = Lowering(result="fresh")
_INDEX_DTYPES = ("int16", "int32", "int64")


def _product(sizes) -> int:
    total = 1
    for size in sizes:
        total *= int(size)
    return total


def _index_tensor(value, op: str, what: str) -> Tensor:
    """``value`` as an integer tensor (int16, int32 or int64, as TensorFlow's index ops)."""
    t = as_tensor(value)
    if t._value.dtype.name not in _INDEX_DTYPES:
        raise DTypeMismatchError(f"{op}: {what} must be int32 or int64 (or int16), received "
                                 f"{t.dtype.name}; use tf.cast({what}, tf.int32).", op)
    return t


# --- gather_nd and scatter_nd --------------------------------------------------------------
#
# Both address the ``batch + indexed`` leading axes of a tensor of shape
# ``batch + indexed + rest`` with the rows of ``indices`` (shape ``batch + ... + [K]``). The
# forwards turn each row into one position along those axes flattened (a linear index),
# then take or add whole ``rest``-shaped slices.


def _nd_shapes(indices_shape: tuple, shape: tuple, batch_dims: int, op: str) -> tuple:
    """Check an nd-index against ``shape``; returns (indexed axes, rest of the shape)."""
    if len(indices_shape) < batch_dims + 1:
        raise ValueError(f"{op}: indices must have rank at least {batch_dims + 1} (batch_dims "
                         f"plus the index axis), received shape {list(indices_shape)}")
    depth = indices_shape[-1]
    if not is_known(depth):
        raise ValueError(f"{op}: the last dimension of indices (the index depth) must be known "
                         f"when the function is traced; received shape {list(indices_shape)}")
    if batch_dims + depth > len(shape):
        raise ValueError(f"{op}: index innermost dimension length must be <= the rank of the "
                         f"indexed tensor (less batch_dims {batch_dims}); saw: {depth} vs. "
                         f"{len(shape) - batch_dims} (shape {list(shape)})")
    return tuple(shape[batch_dims:batch_dims + depth]), tuple(shape[batch_dims + depth:])


def _linear_positions(xp, indices, batch_dims: int, indexed: tuple, op: str, where: str):
    """One linear position per index row (shape: the rows), checked against ``indexed``."""
    depth = len(indexed)
    rows = indices.reshape(-1, depth).astype(np.int64) if depth else None
    count = _product(indices.shape[:-1])
    bounds = xp.asarray(indexed, dtype=np.int64)
    if depth and count:
        bad = xp.any((rows < 0) | (rows >= bounds), axis=1)
        if bad.any():
            first = int(host_array(xp.argmax(bad)))
            row = host_array(rows[first]).tolist()
            raise InvalidArgumentError(
                f"indices[{first}] = {row} does not index into {where} "
                f"{list(indexed)}; every index along an axis of size n must be in [0, n).", op)
    strides = np.cumprod((1,) + indexed[::-1][:-1])[::-1] if depth else ()
    linear = rows @ xp.asarray(strides, dtype=np.int64) if depth else xp.zeros(count, np.int64)
    if batch_dims:
        per_batch = count // max(_product(indices.shape[:batch_dims]), 1)
        batch = xp.arange(count, dtype=np.int64) // max(per_batch, 1)
        linear = linear + batch * _product(indexed)
    return linear


def _check_batch(indices_shape: tuple, shape: tuple, batch_dims: int, op: str) -> None:
    for axis in range(batch_dims):
        a, b = indices_shape[axis], shape[axis]
        if is_known(a) and is_known(b) and a != b:
            raise ValueError(f"{op}: batch dimension {axis} of indices ({a}) must equal that "
                             f"of the indexed tensor ({b}); shapes {list(indices_shape)} and "
                             f"{list(shape)}")


def _gather_nd_shape(params, indices, batch_dims):
    if indices.dtype.name not in _INDEX_DTYPES:
        raise ValueError(f"gather_nd: indices must be integers, received {indices.dtype.name}")
    _check_batch(indices.shape, params.shape, batch_dims, "gather_nd")
    _, rest = _nd_shapes(indices.shape, params.shape, batch_dims, "gather_nd")
    return AbstractArray(tuple(indices.shape[:-1]) + rest, params.dtype)


@primitive("gather_nd", save_inputs=True, shape=_gather_nd_shape, lowering=_FRESH)
def _gather_nd(xp, params, indices, batch_dims):
    _check_batch(indices.shape, params.shape, batch_dims, "gather_nd")
    indexed, rest = _nd_shapes(indices.shape, params.shape, batch_dims, "gather_nd")
    if params.size == 0 and _product(indices.shape[:-1]):
        raise InvalidArgumentError(f"gather_nd: Requested more than 0 entries, but params is "
                                   f"empty. Params shape: {list(params.shape)}.", "gather_nd")
    linear = _linear_positions(xp, indices, batch_dims, indexed, "gather_nd", "param shape")
    blocks = params.reshape((_product(params.shape[:batch_dims + len(indexed)]),) + rest)
    return blocks[linear].reshape(tuple(indices.shape[:-1]) + rest)


@_gather_nd.defvjp
def _gather_nd_vjp(ctx, g):
    params_shape = ctx.input_shapes[0]
    return (_scatter_nd(ctx.inputs[1], g, shape=params_shape,
                        batch_dims=ctx.attrs["batch_dims"]), None)


def _scatter_nd_target(shape: tuple, sizes: tuple) -> tuple:
    """The result's shape: ``shape``, with None sizes read from the run-time ``sizes``."""
    if sizes and any(d is None for d in shape):
        return tuple(int(d) for d in host_array(sizes[0]).reshape(-1).tolist())
    return shape


def _check_updates(indices_shape, updates_shape, rest, op: str) -> None:
    expected = tuple(indices_shape[:-1]) + tuple(rest)
    if len(expected) != len(updates_shape) or any(
            is_known(a) and is_known(b) and a != b for a, b in zip(expected, updates_shape)):
        raise ValueError(f"{op}: updates must have shape indices.shape[:-1] + "
                         f"shape[index depth:] = {list(expected)}, received "
                         f"{list(updates_shape)}")


def _scatter_nd_shape(indices, updates, *sizes, shape, batch_dims):
    if indices.dtype.name not in _INDEX_DTYPES:
        raise ValueError(f"scatter_nd: indices must be integers, received {indices.dtype.name}")
    for s in sizes:
        if s.dtype.kind not in "iu" or len(s.shape) != 1:
            raise ValueError(f"scatter_nd: the shape input must be a vector of integers, "
                             f"received {s.dtype.name}{list(s.shape)}")
    target = tuple(Dim.fresh("n") if d is None else d for d in shape)
    _check_batch(indices.shape, target, batch_dims, "scatter_nd")
    _, rest = _nd_shapes(indices.shape, target, batch_dims, "scatter_nd")
    _check_updates(indices.shape, updates.shape, rest, "scatter_nd")
    return AbstractArray(target, updates.dtype)


def _scatter_into(xp, out, indices, updates, batch_dims, op, combine):
    """Combine ``updates`` into ``out`` (in place) at the rows of ``indices``."""
    _check_batch(indices.shape, out.shape, batch_dims, op)
    indexed, rest = _nd_shapes(indices.shape, out.shape, batch_dims, op)
    try:
        _check_updates(indices.shape, updates.shape, rest, op)
    except ValueError as error:
        raise InvalidArgumentError(str(error).split(": ", 1)[1], op) from None
    linear = _linear_positions(xp, indices, batch_dims, indexed, op, "shape")
    blocks = out.reshape((_product(out.shape[:batch_dims + len(indexed)]),) + rest)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, as in TensorFlow
        combine(xp, blocks, linear, updates.reshape((linear.shape[0],) + rest))
    return out


def _add_at(xp, blocks, linear, values):
    xp.add.at(blocks, linear, values)


# ``sizes``, given when ``shape`` holds None (sizes only known when the graph runs): the
# shape as a vector. ``batch_dims`` serves gather_nd's gradient.
@primitive("scatter_nd", save_inputs=True, shape=_scatter_nd_shape, lowering=_FRESH)
def _scatter_nd(xp, indices, updates, *sizes, shape, batch_dims):
    target = _scatter_nd_target(shape, sizes)
    if any(d < 0 for d in target):
        raise InvalidArgumentError(f"scatter_nd: the shape must be non-negative, received "
                                   f"{list(target)}.", "scatter_nd")
    out = xp.zeros(target, dtype=updates.dtype)
    if out.dtype == np.bool_:
        return _scatter_into(xp, out, indices, updates, batch_dims, "scatter_nd", _or_at)
    return _scatter_into(xp, out, indices, updates, batch_dims, "scatter_nd", _add_at)


def _or_at(xp, blocks, linear, values):
    xp.logical_or.at(blocks, linear, values)


@_scatter_nd.defvjp
def _scatter_nd_vjp(ctx, g):
    grads = [None] * len(ctx.input_shapes)
    if ctx.needs(1):
        grads[1] = _gather_nd(g, ctx.inputs[0], batch_dims=ctx.attrs["batch_dims"])
    return tuple(grads)


# --- tensor_scatter_nd_* -------------------------------------------------------------------


def _in_rounds(xp, blocks, linear, values, step):
    """Apply ``step(xp, old, new) -> combined`` to each update in order. Updates are taken in
    rounds where no position repeats (a position's k-th update goes in round k), so
    repeated indices combine one after another, as TensorFlow's CPU kernels do."""
    if linear.size == 0:
        return
    order = xp.argsort(linear, kind="stable")
    ranked = linear[order]
    starts = xp.concatenate([xp.ones(1, bool), ranked[1:] != ranked[:-1]])
    group_start = xp.maximum.accumulate(xp.where(starts, xp.arange(ranked.size), 0))
    rank = xp.empty_like(order)
    rank[order] = xp.arange(ranked.size) - group_start
    for k in range(int(rank.max()) + 1):
        chosen = rank == k
        where = linear[chosen]
        blocks[where] = step(xp, blocks[where], values[chosen])


def _update_last_wins(xp, blocks, linear, values):
    """Assign the updates; of repeated indices the last one stays, as on TensorFlow's CPU."""
    _, last_from_end = xp.unique(linear[::-1], return_index=True)
    last = linear.size - 1 - last_from_end
    blocks[linear[last]] = values[last]


def _combiner(mode: str):
    if mode == "add":
        return _add_at
    if mode == "sub":
        return lambda xp, blocks, linear, values: xp.subtract.at(blocks, linear, values)
    if mode == "update":
        return _update_last_wins
    # TensorFlow keeps the old value unless the update compares greater (less), so a NaN
    # on either side keeps the old value (NumPy's maximum would spread the NaN).
    step = {"max": lambda xp, old, new: xp.where(new > old, new, old),
            "min": lambda xp, old, new: xp.where(new < old, new, old)}[mode]
    return lambda xp, blocks, linear, values: _in_rounds(xp, blocks, linear, values, step)


def _tensor_scatter_shape(tensor, indices, updates, mode):
    if indices.dtype.name not in _INDEX_DTYPES:
        raise ValueError(f"tensor_scatter_nd_{mode}: indices must be integers, received "
                         f"{indices.dtype.name}")
    op = f"tensor_scatter_nd_{mode}"
    _, rest = _nd_shapes(indices.shape, tensor.shape, 0, op)
    _check_updates(indices.shape, updates.shape, rest, op)
    return AbstractArray(tensor.shape, tensor.dtype)


@primitive("tensor_scatter", save_inputs=True, save_output=True, shape=_tensor_scatter_shape,
           lowering=_FRESH)
def _tensor_scatter(xp, tensor, indices, updates, mode):
    out = xp.array(tensor, copy=True)
    return _scatter_into(xp, out, indices, updates, 0, f"tensor_scatter_nd_{mode}",
                         _combiner(mode))


@_tensor_scatter.defvjp
def _tensor_scatter_vjp(ctx, g):
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops.creation import zeros_like

    tensor, indices, updates = ctx.inputs
    mode = ctx.attrs["mode"]
    if mode in ("add", "sub"):
        gathered = _gather_nd(g, indices, batch_dims=0) if ctx.needs(2) else None
        return (g, None, ew.negative(gathered) if mode == "sub" and gathered is not None
                else gathered)
    if mode == "update":
        # Overwritten entries of the tensor get no gradient; each update gets its entry's.
        gathered = _gather_nd(g, indices, batch_dims=0)
        tensor_grad = (_tensor_scatter(g, indices, zeros_like(gathered), mode="update")
                       if ctx.needs(0) else None)
        return (tensor_grad, None, gathered if ctx.needs(2) else None)
    # max / min: the gradient goes to whichever values equal the result, split among ties.
    out = ctx.output
    tensor_won = ew.cast(ew.equal(tensor, out), g.dtype)
    update_won = ew.cast(ew.equal(updates, _gather_nd(out, indices, batch_dims=0)), g.dtype)
    ties = tensor_won + _scatter_nd(indices, update_won, shape=ctx.input_shapes[0],
                                    batch_dims=0)
    share = ew.divide_no_nan(g, ties)
    return (share * tensor_won, None, _gather_nd(share, indices, batch_dims=0) * update_won)


# --- segment reductions --------------------------------------------------------------------

_SEGMENT_UFUNCS = {"sum": "add", "prod": "multiply", "max": "maximum", "min": "minimum",
                   "mean": "add"}


def _identity(kind: str, dtype: np.dtype):
    """What an empty segment holds in TensorFlow's unsorted reductions."""
    if kind in ("sum", "mean"):
        return 0
    if kind == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if kind == "max" else info.max


def _segment_shape(data, segment_ids, *count, kind, num_segments, sorted_ids):
    if segment_ids.dtype.name not in _INDEX_DTYPES:
        raise ValueError(f"segment_ids must be integers, received {segment_ids.dtype.name}")
    k = segment_ids.ndim
    if sorted_ids and k != 1:
        raise ValueError(f"segment_ids should be a vector, received shape "
                         f"{list(segment_ids.shape)}")
    if len(data.shape) < k or any(is_known(a) and is_known(b) and a != b
                                  for a, b in zip(data.shape, segment_ids.shape)):
        raise ValueError(f"data.shape = {list(data.shape)} does not start with "
                         f"segment_ids.shape = {list(segment_ids.shape)}")
    n = Dim.fresh("n") if num_segments is None else num_segments
    return AbstractArray((n,) + tuple(data.shape[k:]), data.dtype)


def _check_segment_ids(xp, ids, data, sorted_ids: bool, op: str):
    """The number of segments (sorted ids: the last id + 1), after TensorFlow's checks."""
    if sorted_ids:
        if ids.ndim != 1:
            raise InvalidArgumentError(f"{op}: segment_ids should be a vector, received shape "
                                       f"{list(ids.shape)}.", op)
        if data.ndim == 0 or ids.shape[0] != data.shape[0]:
            raise InvalidArgumentError(
                f"{op}: segment_ids should be the same size as dimension 0 of input: "
                f"{ids.shape[0]} ids for data of shape {list(data.shape)}.", op)
        if ids.size == 0:
            return 0
        if ids[0] < 0:
            raise InvalidArgumentError(f"{op}: segment id {int(ids[0])} is out of range: ids "
                                       f"must be non-negative.", op)
        if ids.size > 1 and bool(xp.any(ids[1:] < ids[:-1])):
            raise InvalidArgumentError(f"{op}: segment ids are not increasing; sort them, or "
                                       f"use tf.math.unsorted_{op}.", op)
        return int(ids[-1]) + 1
    if data.shape[:ids.ndim] != ids.shape:
        raise InvalidArgumentError(f"{op}: data.shape = {list(data.shape)} does not start "
                                   f"with segment_ids.shape = {list(ids.shape)}.", op)
    return None


@primitive("segment_reduce", save_inputs=True, save_output=True, shape=_segment_shape,
           lowering=_FRESH)
def _segment_reduce(xp, data, segment_ids, *count, kind, num_segments, sorted_ids):
    """``kind`` of the rows of ``data`` in each segment. ``count``, given when
    ``num_segments`` is None for unsorted ids: the number of segments, known when it runs."""
    op = ("" if sorted_ids else "unsorted_") + f"segment_{kind}"
    n = _check_segment_ids(xp, segment_ids, data, sorted_ids, op)
    if n is None:
        n = int(host_array(count[0])) if num_segments is None else int(num_segments)
        if n < 0:
            raise InvalidArgumentError(f"{op}: num_segments == {n} must not be negative.", op)
    ids = segment_ids.reshape(-1).astype(np.int64)
    rest = data.shape[segment_ids.ndim:]
    rows = data.reshape((ids.size,) + rest)
    if not sorted_ids:
        if data.size == 0:  # TensorFlow's unsorted kernels check no ids then
            return xp.full((n,) + rest, _identity(kind, data.dtype), dtype=data.dtype)
        if ids.size and int(ids.max()) >= n:
            bad = int(xp.argmax(ids >= n))
            raise InvalidArgumentError(f"{op}: segment_ids[{bad}] = {int(ids[bad])} is out of "
                                       f"range [0, {n}).", op)
        kept = ids >= 0  # TensorFlow drops rows with a negative id
        ids, rows = ids[kept], rows[kept]
    # Sorted kernels leave an empty segment 0 (1 for products); the unsorted ones leave the
    # reduction's identity (the dtype's lowest value for a maximum).
    empty = (1 if kind == "prod" else 0) if sorted_ids else _identity(kind, data.dtype)
    out = xp.full((n,) + rest, empty, dtype=data.dtype)
    if ids.size == 0:
        return out
    segments, starts, rows = _segment_groups(xp, ids, rows, sorted_ids)
    ufunc = getattr(xp, _SEGMENT_UFUNCS[kind])
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN, as in TensorFlow
        if kind in ("max", "min") and data.dtype.kind == "f":
            reduced = _extremum_after_last_nan(xp, rows, starts, ufunc,
                                               _identity(kind, data.dtype))
        else:
            reduced = ufunc.reduceat(rows, starts, axis=0)
        if kind == "mean":
            sizes = xp.diff(xp.append(starts, ids.size)).reshape((-1,) + (1,) * len(rest))
            reduced = _divide_by_count(xp, reduced, sizes)
        if not sorted_ids and kind == "sum" and data.dtype.kind in "fc":
            # The unsorted kernels add each row to a 0: a segment of -0.0 sums to +0.0.
            reduced = reduced + xp.zeros((), data.dtype)
    out[segments] = reduced
    return out


def _segment_groups(xp, ids, rows, sorted_ids: bool):
    """The rows ordered by segment (stably: each segment keeps its rows' order), the segment
    of each run of rows, and where each run starts."""
    if not sorted_ids:
        order = xp.argsort(ids, kind="stable")
        ids, rows = ids[order], rows[order]
    starts = xp.flatnonzero(xp.concatenate([xp.ones(1, bool), ids[1:] != ids[:-1]]))
    return ids[starts], starts, rows


def _extremum_after_last_nan(xp, rows, starts, ufunc, identity):
    """Segment maxima (minima) as TensorFlow's kernels fold each segment in order: the
    running value takes each new row unless it compares less (greater), so a NaN row
    replaces it and the next row replaces the NaN. The result is the extremum of the rows
    after the segment's last NaN, or NaN when no row follows it."""
    position = xp.arange(rows.shape[0]).reshape((-1,) + (1,) * (rows.ndim - 1))
    last_nan = xp.maximum.reduceat(xp.where(xp.isnan(rows), position, -1), starts, axis=0)
    run_starts = xp.zeros(rows.shape[0], dtype=np.int64)
    run_starts[starts] = 1
    run = xp.cumsum(run_starts) - 1  # the run each row belongs to
    kept = position > last_nan[run]
    reduced = ufunc.reduceat(xp.where(kept, rows, identity), starts, axis=0)
    followers = xp.add.reduceat(kept.astype(np.int64), starts, axis=0)
    return xp.where((last_nan >= 0) & (followers == 0), xp.asarray(np.nan, rows.dtype), reduced)


def _divide_by_count(xp, total, count):
    """``total / count`` in the dtype of ``total``; integers truncate toward zero (C's)."""
    if total.dtype.kind in "iu":
        quotient = xp.abs(total) // count
        return (xp.sign(total) * quotient).astype(total.dtype)
    return (total / count).astype(total.dtype)


@_segment_reduce.defvjp
def _segment_reduce_vjp(ctx, g):
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops.creation import ones_like

    data, ids = ctx.inputs[0], ctx.inputs[1]
    rest = (None,) * (len(ctx.input_shapes[0]) - len(ctx.input_shapes[1]))
    kind, attrs = ctx.attrs["kind"], ctx.attrs
    nones = (None,) * (len(ctx.input_shapes) - 1)

    def segment_sum(values):
        return _segment_reduce(values, ids, *ctx.inputs[2:], kind="sum",
                               num_segments=attrs["num_segments"],
                               sorted_ids=attrs["sorted_ids"])

    def per_row(values):
        """Each row's segment's entry of ``values`` (0 for rows with a dropped id)."""
        return _gather_dropping_negatives(values, ids, rest, attrs["sorted_ids"])

    if kind == "sum":
        return (per_row(g),) + nones
    if kind == "mean":
        counts = segment_sum(ones_like(data))
        one = ew.ones_like_value(counts)
        return (per_row(ew.truediv(g, ew.maximum(counts, one))),) + nones
    if kind in ("max", "min"):
        chosen = ew.equal(data, per_row(ctx.output))
        ties = segment_sum(ew.cast(chosen, g.dtype))
        share = per_row(ew.divide_no_nan(g, ties))
        return (ew.where(chosen, share, ew.zeros_like_value(share)),) + nones
    # prod: the product of the other rows of the segment; with one zero in the segment
    # only that zero's row has a gradient, with two or more none has.
    zero = ew.zeros_like_value(data)
    is_zero = ew.equal(data, zero)
    zeros = segment_sum(ew.cast(is_zero, data.dtype))
    g = ew.where(ew.greater(zeros, ew.ones_like_value(zeros)), ew.zeros_like_value(g), g)
    nonzero = ew.where(is_zero, ew.ones_like_value(data), data)
    nonzero_prod = _segment_reduce(nonzero, ids, *ctx.inputs[2:], kind="prod",
                                   num_segments=attrs["num_segments"],
                                   sorted_ids=attrs["sorted_ids"])
    others = ew.where(is_zero, per_row(nonzero_prod), ew.truediv(per_row(ctx.output), nonzero))
    return (per_row(g) * others,) + nones


def _gather_dropping_negatives(values, ids, rest: tuple, sorted_ids: bool):
    from neuroflow.ops import elementwise as ew

    if sorted_ids:
        return shape_ops.gather(values, ids)
    zero = ew.zeros_like_value(ids)
    gathered = shape_ops.gather(values, ew.maximum(ids, zero))
    kept = shape_ops.getitem(ew.greater_equal(ids, zero), (Ellipsis,) + rest)
    return ew.where(kept, gathered, ew.zeros_like_value(gathered))


def _segment_arguments(data, segment_ids, op: str, kinds: str = "numeric"):
    x = as_tensor(data)
    ids = _index_tensor(segment_ids, op, "segment_ids")
    kind = x._value.dtype.kind
    if kind == "b" or (kinds == "real" and kind == "c"):
        raise DTypeMismatchError(f"{op}: data of dtype {x.dtype.name} is not supported; use "
                                 f"a {'real ' if kinds == 'real' else ''}numeric dtype "
                                 f"(e.g. tf.cast(data, tf.float32)).", op)
    if ids._value.ndim > x._value.ndim:
        raise InvalidArgumentError(f"{op}: segment_ids (shape {list(ids.shape)}) has a higher "
                                   f"rank than data (shape {list(x.shape)}).", op)
    return x, ids


def _sorted_segment(kind: str, kinds: str = "numeric"):
    op = f"segment_{kind}"

    def reduce(data, segment_ids, name=None) -> Tensor:
        x, ids = _segment_arguments(data, segment_ids, op, kinds)
        return _segment_reduce(x, ids, kind=kind, num_segments=None, sorted_ids=True)

    reduce.__name__ = reduce.__qualname__ = op
    reduce.__doc__ = (f"``tf.math.{op}``: the {kind} of the rows of ``data`` in each segment. "
                      f"``segment_ids`` (1-D, sorted, non-negative) give each row's segment; "
                      f"the result has ``segment_ids[-1] + 1`` rows (empty segments hold 0).")
    return reduce


segment_sum = _sorted_segment("sum")
segment_prod = _sorted_segment("prod")
segment_max = _sorted_segment("max", "real")
segment_min = _sorted_segment("min", "real")
segment_mean = _sorted_segment("mean")


def _num_segments(num_segments, op: str) -> tuple:
    """``(static count or None, run-time count inputs)``."""
    if isinstance(num_segments, (float, np.floating)):
        raise DTypeMismatchError(f"{op}: num_segments must be an int32 or int64 count, "
                                 f"received {num_segments!r}.", op)
    count = shape_ops.run_time_count(num_segments, op, "num_segments")
    if count:
        return None, count
    n = shape_ops._static_size(num_segments, op, "num_segments")
    if type(n) is int and n < 0:
        raise InvalidArgumentError(f"{op}: num_segments == {n} must not be negative.", op)
    return n, ()


def _unsorted(kind: str, data, segment_ids, num_segments, kinds: str = "numeric") -> Tensor:
    op = f"unsorted_segment_{kind}"
    x, ids = _segment_arguments(data, segment_ids, op, kinds)
    n, count = _num_segments(num_segments, op)
    return _segment_reduce(x, ids, *count, kind=kind, num_segments=n, sorted_ids=False)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None) -> Tensor:
    """The sum of the rows of ``data`` in each of ``num_segments`` segments.

    ``segment_ids`` (shape: a prefix of ``data``'s) give each row's segment, in any order;
    a negative id drops its row, an id >= ``num_segments`` is an error.
    """
    return _unsorted("sum", data, segment_ids, num_segments)


def unsorted_segment_prod(data, segment_ids, num_segments, name=None) -> Tensor:
    """As :func:`unsorted_segment_sum`, with products (empty segments hold 1)."""
    return _unsorted("prod", data, segment_ids, num_segments)


def unsorted_segment_max(data, segment_ids, num_segments, name=None) -> Tensor:
    """As :func:`unsorted_segment_sum`, with maxima (empty segments hold the dtype's lowest
    value, as in TensorFlow)."""
    return _unsorted("max", data, segment_ids, num_segments, "real")


def unsorted_segment_min(data, segment_ids, num_segments, name=None) -> Tensor:
    """As :func:`unsorted_segment_sum`, with minima (empty segments hold the dtype's largest
    value)."""
    return _unsorted("min", data, segment_ids, num_segments, "real")


def _segment_sizes(x: Tensor, ids: Tensor, n, count: tuple) -> Tensor:
    """How many rows each segment holds, in ``x``'s dtype, at least 1, shaped to divide
    the segment sums."""
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops.creation import ones_like

    ones = ones_like(ids, dtype=x.dtype)
    sizes = _segment_reduce(ones, ids, *count, kind="sum", num_segments=n, sorted_ids=False)
    sizes = ew.maximum(sizes, ew.ones_like_value(sizes))
    extra = x._value.ndim - ids._value.ndim
    return shape_ops.getitem(sizes, (Ellipsis,) + (None,) * extra) if extra else sizes


def unsorted_segment_mean(data, segment_ids, num_segments, name=None) -> Tensor:
    """The mean of each segment's rows (empty segments hold 0). Integer data give
    ``tf.truediv``'s floating dtype, as in TensorFlow."""
    from neuroflow.ops import elementwise as ew

    op = "unsorted_segment_mean"
    x, ids = _segment_arguments(data, segment_ids, op)
    n, count = _num_segments(num_segments, op)
    total = _segment_reduce(x, ids, *count, kind="sum", num_segments=n, sorted_ids=False)
    return ew.truediv(total, _segment_sizes(x, ids, n, count))


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None) -> Tensor:
    """Each segment's sum divided by the square root of its number of rows (floats only)."""
    from neuroflow.ops import elementwise as ew

    op = "unsorted_segment_sqrt_n"
    x, ids = _segment_arguments(data, segment_ids, op)
    if x._value.dtype.kind not in "fc":
        raise DTypeMismatchError(f"{op}: data must be floating point (it is divided by a "
                                 f"square root), received {x.dtype.name}; use "
                                 f"tf.cast(data, tf.float32).", op)
    n, count = _num_segments(num_segments, op)
    total = _segment_reduce(x, ids, *count, kind="sum", num_segments=n, sorted_ids=False)
    return ew.truediv(total, ew.sqrt(_segment_sizes(x, ids, n, count)))


# --- searchsorted ------------------------------------------------------------------------


def _searchsorted_shape(sorted_sequence, values, side, out_type):
    if sorted_sequence.ndim < 1 or values.ndim < 1:
        raise ValueError("searchsorted: sorted_sequence and values must have rank >= 1")
    return AbstractArray(values.shape, out_type)


@primitive("searchsorted", differentiable=False, shape=_searchsorted_shape, lowering=_FRESH)
def _searchsorted(xp, sorted_sequence, values, side, out_type):
    """The insertion points of ``values`` in each row of ``sorted_sequence``.

    A binary search that only ever asks ``pivot < value`` (left) or ``value < pivot``
    (right), step for step as C++'s lower_bound/upper_bound, which TensorFlow runs: so
    NaN lands where TensorFlow puts it (NumPy's searchsorted sorts NaN last instead).
    """
    n = sorted_sequence.shape[-1]
    rows = _product(sorted_sequence.shape[:-1])
    if rows != _product(values.shape[:-1]):
        raise InvalidArgumentError(
            f"searchsorted: Leading dim_size of both tensors must match: sorted_sequence has "
            f"shape {list(sorted_sequence.shape)} and values {list(values.shape)}.",
            "searchsorted")
    seq = sorted_sequence.reshape(rows, n)
    vals = values.reshape(rows, values.shape[-1])
    first = xp.zeros(vals.shape, dtype=np.int64)
    remaining = xp.full(vals.shape, n, dtype=np.int64)
    row = xp.arange(rows)[:, None]
    with np.errstate(invalid="ignore"):
        while remaining.any():
            step = remaining // 2
            probe = first + step
            pivot = seq[row, xp.minimum(probe, n - 1)]
            right = (pivot < vals) if side == "left" else ~(vals < pivot)
            right &= remaining > 0
            first = xp.where(right, probe + 1, first)
            remaining = xp.where(right, remaining - step - 1, step)
    return first.astype(out_type).reshape(values.shape)


def searchsorted(sorted_sequence, values, side="left", out_type="int32", name=None) -> Tensor:
    """Where each of ``values`` would go in the innermost rows of ``sorted_sequence``.

    The leading sizes of both hold the same number of rows; ``side="left"`` gives the first
    position, ``"right"`` the one past equal entries. The result has ``values``'s shape.
    """
    from neuroflow.dtypes import as_dtype

    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: "
                         f"`side` = {side!r}.")
    kind = np.dtype(as_dtype(out_type).np)
    if kind.name not in ("int32", "int64"):
        raise DTypeMismatchError(f"searchsorted: out_type must be int32 or int64, received "
                                 f"{kind.name}.", "searchsorted")
    seq, vals = as_tensor(sorted_sequence), as_tensor(values)
    check_same_dtype("searchsorted", seq, vals, names=("sorted_sequence", "values"))
    if seq._value.dtype.kind in "bc":
        raise NotFoundError(f"searchsorted: no kernel for dtype {seq.dtype.name}: values must "
                            f"be ordered numbers.", "searchsorted")
    if seq._value.ndim == 0 or vals._value.ndim == 0:
        raise InvalidArgumentError(
            f"searchsorted: sorted_sequence and values must have rank >= 1, received shapes "
            f"{list(seq.shape)} and {list(vals.shape)}; wrap a scalar in a list.",
            "searchsorted")
    return _searchsorted(seq, vals, side=side, out_type=kind)


# --- counting ------------------------------------------------------------------------------


def _bincount_shape(arr, *inputs, given, minlength, maxlength, dtype, binary, per_row):
    if isinstance(minlength, int) and isinstance(maxlength, int) and minlength >= maxlength:
        length = max(maxlength, 0)
    else:
        length = Dim.fresh("n")
    return AbstractArray(((arr.shape[0],) if per_row else ()) + (length,), dtype)


@primitive("bincount", differentiable=False, shape=_bincount_shape, lowering=_FRESH)
def _bincount(xp, arr, *inputs, given, minlength, maxlength, dtype, binary, per_row):
    """How often each value occurs in ``arr`` (per row with ``per_row``), or the sum of the
    weights at its positions. ``given`` says which of weights, minlength and maxlength come
    as ``inputs`` (the bounds when only known as the graph runs)."""
    supplied = iter(inputs)
    weights = next(supplied) if given[0] else None
    if given[1]:
        minlength = int(host_array(next(supplied)))
    if given[2]:
        maxlength = int(host_array(next(supplied)))
    if arr.size and int(arr.min()) < 0:
        raise InvalidArgumentError("bincount: Input arr must be non-negative! Received "
                                   f"{int(arr.min())}.", "bincount")
    if weights is not None and weights.shape != arr.shape:
        raise InvalidArgumentError(
            f"bincount: `weights` must be the same shape as `arr`, received {list(weights.shape)}"
            f" and {list(arr.shape)}.", "bincount")
    length = int(arr.max()) + 1 if arr.size else 0
    if minlength is not None:
        length = max(length, minlength)
    if maxlength is not None:
        length = max(min(length, maxlength), 0)
    rows = arr.shape[0] if per_row else 1
    values = arr.reshape(rows, -1).astype(np.int64) if arr.size else xp.zeros((rows, 0), np.int64)
    kept = values < length
    flat = (values + xp.arange(rows)[:, None] * length)[kept]
    out = xp.zeros(rows * length, dtype=dtype)
    if binary:
        out[flat] = 1
    elif weights is None:
        out = xp.bincount(flat, minlength=rows * length).astype(dtype)
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            xp.add.at(out, flat, weights.reshape(rows, -1)[kept])
    return out.reshape((rows, length) if per_row else (length,))


def _length_argument(value, op: str, what: str):
    """A bincount bound as (static int or None, run-time inputs)."""
    if value is None:
        return None, ()
    count = shape_ops.run_time_count(value, op, what)
    if count:
        return None, count
    size = shape_ops._static_size(value, op, what)
    if isinstance(size, Dim):  # a size from tf.shape, known when the graph runs
        return None, (as_tensor(value),)
    return int(size), ()


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype="int32", name=None,
             axis=None, binary_output=False) -> Tensor:
    """Count the occurrences of each value of ``arr`` (non-negative integers).

    The result has ``max(arr) + 1`` entries, at least ``minlength`` and at most
    ``maxlength`` (larger values are dropped). With ``weights`` (``arr``'s shape) each
    occurrence adds its weight, and the result has the weights' dtype. ``axis=-1`` counts
    each row of a 2-D ``arr`` separately; ``binary_output`` marks presence with 1.
    """
    from neuroflow.dtypes import as_dtype
    from neuroflow.ops import elementwise as ew

    op = "bincount"
    values = as_tensor(arr)
    if values._value.dtype.kind in "fb":
        values = ew.cast(values, np.int32)  # TensorFlow casts floats and bools to int32 first
    elif values._value.dtype.name not in ("int32", "int64"):
        raise DTypeMismatchError(f"bincount: arr must be int32 or int64 (floats and bools are "
                                 f"cast to int32), received {values.dtype.name}; use "
                                 f"tf.cast(arr, tf.int32).", op)
    if axis not in (None, 0, -1):
        raise ValueError(f"Unsupported value for argument axis={axis}. Only 0 and -1 are "
                         f"currently supported.")
    per_row = axis == -1 and values._value.ndim > 1
    if per_row and values._value.ndim != 2:
        raise InvalidArgumentError(f"bincount: axis=-1 counts the rows of a 2-D arr; received "
                                   f"shape {list(values.shape)}. Reshape it to "
                                   f"[-1, last size] first.", op)
    inputs, given = [], [False, False, False]
    kind = np.dtype(as_dtype(dtype).np)
    if weights is not None:
        w = as_tensor(weights)
        if w._value.dtype.name not in ("int32", "int64", "float32", "float64"):
            raise DTypeMismatchError(f"bincount: weights must be int32, int64, float32 or "
                                     f"float64, received {w.dtype.name}.", op)
        inputs.append(w)
        given[0] = True
        kind = w._value.dtype
    low, low_input = _length_argument(minlength, op, "minlength")
    high, high_input = _length_argument(maxlength, op, "maxlength")
    inputs += [*low_input, *high_input]
    given[1], given[2] = bool(low_input), bool(high_input)
    return _bincount(values, *inputs, given=tuple(given), minlength=low, maxlength=high,
                     dtype=kind, binary=bool(binary_output), per_row=per_row)


# --- index arithmetic ----------------------------------------------------------------------


def _unravel_index_shape(indices, dims):
    if dims.ndim != 1:
        raise ValueError(f"unravel_index: dims must be a vector, received shape "
                         f"{list(dims.shape)}")
    return AbstractArray((dims.shape[0],) + tuple(indices.shape), indices.dtype)


@primitive("unravel_index", differentiable=False, shape=_unravel_index_shape, lowering=_FRESH)
def _unravel_index(xp, indices, dims):
    op = "unravel_index"
    if indices.ndim > 1:
        raise InvalidArgumentError(f"unravel_index: The indices can only be scalar or vector, "
                                   f"got shape {list(indices.shape)}.", op)
    sizes = host_array(dims).tolist()
    for i, d in enumerate(sizes):
        if d < 0:
            raise InvalidArgumentError(f"unravel_index: Input dims cannot be negative. Got dim "
                                       f"= {d} at index {i}.", op)
        if d == 0:
            raise InvalidArgumentError(f"unravel_index: Input dims cannot contain a dim of "
                                       f"zero, but dims contains zero at index {i}.", op)
    if indices.ndim == 1 and indices.size == 0:
        raise InvalidArgumentError("unravel_index: received empty tensor indices; give at "
                                   "least one index.", op)
    flat = indices.astype(np.int64)
    if flat.size and int(flat.max()) >= _product(sizes):
        raise InvalidArgumentError(f"unravel_index: index {int(flat.max())} is out of bound as "
                                   f"with dims {sizes} (valid: below {_product(sizes)}).", op)
    out = xp.empty((len(sizes),) + indices.shape, dtype=np.int64)
    for k in range(len(sizes) - 1, -1, -1):
        # C's remainder and truncating division, as TensorFlow (a negative index gives
        # negative coordinates instead of an error there).
        out[k] = xp.fmod(flat, sizes[k])
        flat = (flat - out[k]) // sizes[k]
    return out.astype(indices.dtype)


def unravel_index(indices, dims, name=None) -> Tensor:
    """The coordinates of flat ``indices`` (a scalar or a vector) in an array of shape
    ``dims``: one row per dimension."""
    index = _index_tensor(indices, "unravel_index", "indices")
    if index._value.dtype.name == "int16":
        raise DTypeMismatchError("unravel_index: indices must be int32 or int64, received "
                                 "int16.", "unravel_index")
    if shape_ops._is_tensor(dims):
        sizes = _index_tensor(dims, "unravel_index", "dims")
        if sizes._value.dtype != index._value.dtype:
            raise DTypeMismatchError(f"unravel_index: indices ({index.dtype.name}) and dims "
                                     f"({sizes.dtype.name}) must have the same dtype.",
                                     "unravel_index")
    else:
        sizes = as_tensor(dims, dtype=index.dtype)
    if sizes._value.ndim != 1:
        raise InvalidArgumentError(f"unravel_index: dims must be a vector, received shape "
                                   f"{list(sizes.shape)}.", "unravel_index")
    return _unravel_index(index, sizes)


def _invert_permutation_shape(x):
    if x.ndim != 1:
        raise ValueError(f"invert_permutation expects a 1D vector, received shape "
                         f"{list(x.shape)}")
    return AbstractArray(x.shape, x.dtype)


@primitive("invert_permutation", differentiable=False, shape=_invert_permutation_shape,
           lowering=_FRESH)
def _invert_permutation(xp, x):
    n = x.shape[0]
    if x.size and (int(x.min()) < 0 or int(x.max()) >= n):
        bad = host_array(x)[(host_array(x) < 0) | (host_array(x) >= n)][0]
        raise InvalidArgumentError(f"invert_permutation: {int(bad)} is not between 0 and {n}.",
                                   "invert_permutation")
    out = xp.full(n, -1, dtype=x.dtype)
    out[x] = xp.arange(n, dtype=x.dtype)
    if n and bool((out < 0).any()):
        seen = np.bincount(host_array(x), minlength=n)
        raise InvalidArgumentError(f"invert_permutation: {int(np.argmax(seen > 1))} is "
                                   f"duplicated in the input.", "invert_permutation")
    return out


def invert_permutation(x, name=None) -> Tensor:
    """The inverse of the permutation ``x`` of ``0 .. n-1``: ``y[x[i]] = i``."""
    t = _index_tensor(x, "invert_permutation", "x")
    if t._value.dtype.name == "int16":
        raise DTypeMismatchError("invert_permutation: x must be int32 or int64, received "
                                 "int16.", "invert_permutation")
    if t._value.ndim != 1:
        raise InvalidArgumentError(f"invert_permutation expects a 1D vector, received shape "
                                   f"{list(t.shape)}.", "invert_permutation")
    return _invert_permutation(t)


# --- public wrappers: gather_nd, scatter_nd, tensor_scatter_nd_* ---------------------------


def gather_nd(params, indices, batch_dims=0, name=None) -> Tensor:
    """Gather slices of ``params`` at the index rows of ``indices`` (last axis: one index per
    leading axis of ``params`` after the ``batch_dims`` shared batch axes).

    The result has shape ``indices.shape[:-1] + params.shape[batch_dims + K:]``.
    Out-of-range indices raise InvalidArgumentError when the op runs, as on TensorFlow's CPU.
    """
    x = as_tensor(params)
    idx = _index_tensor(indices, "gather_nd", "indices")
    batch = _batch_dims(batch_dims, x, idx, "gather_nd")
    try:
        _check_batch(idx._value.shape, x._value.shape, batch, "gather_nd")
        _nd_shapes(idx._value.shape, x._value.shape, batch, "gather_nd")
    except ValueError as error:
        raise InvalidArgumentError(str(error).split(": ", 1)[1], "gather_nd") from None
    return _gather_nd(x, idx, batch_dims=batch)


def _batch_dims(batch_dims, x: Tensor, idx: Tensor, op: str) -> int:
    if isinstance(batch_dims, (bool, np.bool_)) or not isinstance(batch_dims,
                                                                  (int, np.integer)):
        if shape_ops._is_tensor(batch_dims):
            batch_dims = shape_ops._static_size(batch_dims, op, "batch_dims")
        else:
            raise TypeError(f"{op}: batch_dims must be an integer, received {batch_dims!r}.")
    batch = int(batch_dims)
    if batch < 0:
        raise ValueError(f"{op}: batch_dims must be non-negative, received {batch_dims} "
                         f"(TensorFlow's gather_nd does not allow negative batch_dims).")
    if batch and (batch >= idx._value.ndim or batch > x._value.ndim):
        raise ValueError(f"{op}: batch_dims = {batch_dims} must be less than the rank of "
                         f"indices ({idx._value.ndim}) and at most the rank of params "
                         f"({x._value.ndim}).")
    return batch


def _check_scatter_rows(indices_shape: tuple, target: tuple, op: str) -> None:
    """What TensorFlow's scatters refuse beyond the shapes: a vector of indices (one row per
    update is needed; allowed only when nothing goes into an empty tensor), any index into
    an empty tensor, and rows of depth 0 (which address the whole tensor)."""
    from neuroflow.abstract import num_elements

    if len(indices_shape) == 1 and not (indices_shape[0] == 0 and target and target[0] == 0):
        raise InvalidArgumentError(
            f"{op}: indices of shape {list(indices_shape)} hold a single index, but a scatter "
            f"takes one index row per update: indices must have rank >= 2, e.g. "
            f"tf.reshape(indices, [1, -1]) for one update or [-1, 1] for one per element.", op)
    size, indices_size = num_elements(target), num_elements(indices_shape)
    if not is_known(size):
        return
    if size == 0 and is_known(indices_size) and indices_size > 0:
        raise InvalidArgumentError(f"{op}: Indices and updates specified for empty output "
                                   f"shape {list(target)} (indices of shape "
                                   f"{list(indices_shape)}).", op)
    if size and indices_shape[-1] == 0:
        raise InvalidArgumentError(f"{op}: index rows must have depth >= 1 (indices of shape "
                                   f"{list(indices_shape)} address the whole tensor); for "
                                   f"one update of everything use tf.reshape instead.", op)


def scatter_nd(indices, updates, shape, name=None) -> Tensor:
    """Zeros of ``shape`` with ``updates`` added at the index rows of ``indices``
    (repeated indices add up). Out-of-range indices raise InvalidArgumentError."""
    idx = _index_tensor(indices, "scatter_nd", "indices")
    values = as_tensor(updates)
    dims, make = shape_ops.shape_argument(shape, "scatter_nd")
    for d in dims:
        if type(d) is int and d < 0:
            raise InvalidArgumentError(f"scatter_nd: the shape must be non-negative, received "
                                       f"{list(dims)}.", "scatter_nd")
    sizes = (make(),) if make is not None and any(d is None for d in dims) else ()
    target = tuple(Dim.fresh("n") if d is None else d for d in dims)
    try:
        _, rest = _nd_shapes(idx._value.shape, target, 0, "scatter_nd")
        _check_updates(idx._value.shape, values._value.shape, rest, "scatter_nd")
    except ValueError as error:
        raise InvalidArgumentError(str(error).split(": ", 1)[1], "scatter_nd") from None
    _check_scatter_rows(idx._value.shape, target, "scatter_nd")
    return _scatter_nd(idx, values, *sizes, shape=tuple(dims), batch_dims=0)


def _tensor_scatter_nd(mode: str):
    op = f"tensor_scatter_nd_{mode}"

    def scatter(tensor, indices, updates, name=None) -> Tensor:
        x, values = binary_operands(tensor, updates, op)
        idx = _index_tensor(indices, op, "indices")
        kind = x._value.dtype.kind
        if (mode != "update" and kind == "b") or (mode in ("max", "min") and kind == "c"):
            raise NotFoundError(f"{op}: no kernel for dtype {x.dtype.name}; cast the tensor "
                                f"to a numeric dtype first.", op)
        try:
            _, rest = _nd_shapes(idx._value.shape, x._value.shape, 0, op)
            _check_updates(idx._value.shape, values._value.shape, rest, op)
        except ValueError as error:
            raise InvalidArgumentError(str(error).split(": ", 1)[1], op) from None
        _check_scatter_rows(idx._value.shape, x._value.shape, op)
        return _tensor_scatter(x, idx, values, mode=mode)

    scatter.__name__ = scatter.__qualname__ = op
    scatter.__doc__ = (f"``tf.{op}``: a copy of ``tensor`` whose slices at the index rows of "
                       f"``indices`` are combined with ``updates`` ({mode}).")
    return scatter


tensor_scatter_nd_update = _tensor_scatter_nd("update")
tensor_scatter_nd_add = _tensor_scatter_nd("add")
tensor_scatter_nd_sub = _tensor_scatter_nd("sub")
tensor_scatter_nd_max = _tensor_scatter_nd("max")
tensor_scatter_nd_min = _tensor_scatter_nd("min")


# --- confusion_matrix ------------------------------------------------------------------


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype="int32",
                     name=None) -> Tensor:
    """``[num_classes, num_classes]`` counts (or summed ``weights``) of each (label,
    prediction) pair: rows are labels, columns predictions.

    Without ``num_classes`` it is one more than the largest label or prediction.
    """
    from neuroflow.dtypes import as_dtype
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops import reductions
    from neuroflow.ops.creation import ones_like

    op = "confusion_matrix"
    kind = np.dtype(as_dtype(dtype).np)
    truth = ew.cast(as_tensor(labels), np.int64)
    guess = ew.cast(as_tensor(predictions), np.int64)
    for what, t in (("labels", truth), ("predictions", guess)):
        if t._value.ndim != 1:
            raise InvalidArgumentError(f"{op}: {what} must be a vector, received shape "
                                       f"{list(t.shape)}.", op)
    a, b = truth._value.shape[0], guess._value.shape[0]
    if is_known(a) and is_known(b) and a != b:
        raise InvalidArgumentError(f"{op}: labels and predictions must have the same length, "
                                   f"received {a} and {b}.", op)
    concrete = not shape_ops._is_symbolic(truth) and not shape_ops._is_symbolic(guess)
    if concrete:
        for what, t in (("labels", truth), ("predictions", guess)):
            if t._value.size and int(t._value.min()) < 0:
                raise InvalidArgumentError(f"{op}: `{what}` contains negative values: "
                                           f"{host_array(t._value).tolist()}.", op)
    if num_classes is None:
        if concrete:
            if truth._value.size == 0:
                raise InvalidArgumentError(f"{op}: num_classes cannot be inferred from empty "
                                           f"labels; pass num_classes.", op)
            n = int(max(truth._value.max(), guess._value.max())) + 1
        else:
            n = ew.add(ew.maximum(reductions.reduce_max(truth), reductions.reduce_max(guess)),
                       Tensor(np.asarray(1, np.int64)))
    else:
        n = num_classes
        known = shape_ops.known_sizes(as_tensor(n)) if shape_ops._is_tensor(n) else int(n)
        if concrete and type(known) is int:
            for what, t in (("labels", truth), ("predictions", guess)):
                if t._value.size and int(t._value.max()) >= known:
                    raise InvalidArgumentError(
                        f"{op}: `{what}` out of bound: {host_array(t._value).tolist()} must "
                        f"be < num_classes = {known}.", op)
    if weights is None:
        values = ones_like(truth, dtype=kind)
    else:
        values = ew.cast(as_tensor(weights), kind)
    pairs = shape_ops.stack([truth, guess], axis=1)
    shape = [n, n] if not shape_ops._is_tensor(n) else shape_ops.stack(
        [ew.cast(as_tensor(n), np.int64)] * 2)
    return scatter_nd(pairs, values, shape)


# --- strided_slice ----------------------------------------------------------------------


def _slice_spec(value, op: str, what: str) -> list:
    """begin/end/strides as a list of ints and scalar tensors (entries of a tensor only
    known when the graph runs)."""
    if shape_ops._is_tensor(value) or isinstance(value, np.ndarray):
        t = as_tensor(value)
        if t._value.dtype.name not in _INDEX_DTYPES:
            raise DTypeMismatchError(f"{op}: {what} must be int32 or int64, received "
                                     f"{t.dtype.name}.", op)
        if t._value.ndim != 1:
            raise InvalidArgumentError(f"{op}: Expected begin, end, and strides to be 1D "
                                       f"tensors, but {what} has shape {list(t.shape)}.", op)
        if not shape_ops._is_symbolic(t):
            return host_array(t._value).tolist()
        known = shape_ops.known_sizes(t)
        if known is not None and all(type(v) is int for v in known):
            return list(known)
        length = t._value.shape[0]
        if not is_known(length):
            raise ValueError(f"{op}: {what} must have a length known when the function is "
                             f"traced.")
        return [shape_ops.getitem(t, i) for i in range(length)]
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if any(shape_ops._is_tensor(v) for v in items):  # scalar tensors among ints
        return [v if shape_ops._is_tensor(v) else int(v) for v in items]
    array = np.asarray(items)
    if array.ndim != 1:
        raise InvalidArgumentError(f"{op}: Expected begin, end, and strides to be 1D "
                                   f"tensors, but {what} has shape {list(array.shape)}.", op)
    if array.size and array.dtype.kind not in "iu":
        raise DTypeMismatchError(f"{op}: {what} must hold integers, received {value!r}.", op)
    return [int(v) for v in array.tolist()]


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0,
                  ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0, var=None,
                  name=None) -> Tensor:
    """``tf.strided_slice``: ``input_[begin:end:strides]`` spelled as vectors and bit masks.

    Bit ``i`` of ``begin_mask``/``end_mask`` ignores ``begin[i]``/``end[i]`` (the full
    range); of ``ellipsis_mask`` makes spec ``i`` a ``...``; of ``new_axis_mask`` a new
    axis of size 1; of ``shrink_axis_mask`` an index that drops its axis. The gradient is
    that of indexing.
    """
    op = "strided_slice"
    x = as_tensor(input_)
    first = _slice_spec(begin, op, "begin")
    last = _slice_spec(end, op, "end")
    steps = [1] * len(first) if strides is None else _slice_spec(strides, op, "strides")
    if not len(first) == len(last) == len(steps):
        raise InvalidArgumentError(
            f"{op}: Expected begin, end, and strides to be 1D equal size tensors, but got "
            f"lengths {len(first)}, {len(last)} and {len(steps)} instead.", op)
    if x._value.ndim == 0:
        raise InvalidArgumentError(f"{op}: Attempting to slice scalar input.", op)
    key = []
    for i, (b, e, s) in enumerate(zip(first, last, steps)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            if type(s) is int and s <= 0:
                raise InvalidArgumentError(f"{op}: only stride 1 allowed on non-range "
                                           f"indexing (shrink_axis_mask bit {i} with stride "
                                           f"{s}).", op)
            if type(s) is not int:
                b = _refuse_unless_positive(b, s)
            key.append(b)
        else:
            key.append(slice(None if begin_mask & bit else b, None if end_mask & bit else e,
                             s))
    return shape_ops.getitem(x, tuple(key))


def _refuse_unless_positive(index, stride):
    """``index`` where the run-time ``stride`` is positive, else an index no axis has, so the
    indexing raises InvalidArgumentError when the graph runs (TensorFlow refuses shrinking
    with a stride <= 0 then)."""
    from neuroflow.ops import elementwise as ew

    index = ew.cast(as_tensor(index), np.int64)
    stride = ew.cast(stride, np.int64)
    nowhere = Tensor(np.asarray(np.iinfo(np.int64).min, np.int64))
    return ew.where(ew.greater(stride, ew.zeros_like_value(stride)), index, nowhere)
