"""Shape and layout: reshape, transpose, broadcast, concat, indexing, gather, pad.

Primitives here move data around without arithmetic; their gradients move it
back (``getitem`` <-> ``scatter into zeros``, ``gather`` <-> ``scatter_add``).
Everything else (stack, split, tile, reverse, one_hot, ...) is composite.
"""

from __future__ import annotations

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.ops.convert import as_tensor, check_same_dtype, normalize_axis
from neuroflow.ops.registry import primitive
from neuroflow.tensor import Tensor


def _shape_list(shape) -> list[int]:
    if isinstance(shape, Tensor):
        return [int(d) for d in np.asarray(shape).reshape(-1)]
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [int(d) for d in shape]


# --- primitives ---------------------------------------------------------------------


@primitive("reshape")
def _reshape(xp, x, shape):
    return xp.reshape(x, shape)


@_reshape.defvjp
def _reshape_vjp(ctx, g):
    return (_reshape(g, shape=ctx.input_shapes[0]),)


@primitive("transpose")
def _transpose(xp, x, perm):
    return xp.transpose(x, perm)


@_transpose.defvjp
def _transpose_vjp(ctx, g):
    return (_transpose(g, perm=tuple(np.argsort(ctx.attrs["perm"]).tolist())),)


@primitive("broadcast_to")
def _broadcast_to(xp, x, shape):
    return xp.broadcast_to(x, shape)


@_broadcast_to.defvjp
def _broadcast_to_vjp(ctx, g):
    return (g,)  # the tape sums it back to the input's shape


@primitive("concat")
def _concat(xp, *xs, axis):
    return xp.concatenate(xs, axis=axis)


@_concat.defvjp
def _concat_vjp(ctx, g):
    axis = ctx.attrs["axis"]
    grads, start = [], 0
    for shape in ctx.input_shapes:
        index = [slice(None)] * len(shape)
        index[axis] = slice(start, start + shape[axis])
        grads.append(_getitem(g, key=tuple(index)))
        start += shape[axis]
    return tuple(grads)


@primitive("getitem")
def _getitem(xp, x, key):
    return x[key]


@_getitem.defvjp
def _getitem_vjp(ctx, g):
    return (_scatter_into_zeros(g, shape=ctx.input_shapes[0], key=ctx.attrs["key"]),)


@primitive("scatter_into_zeros")
def _scatter_into_zeros(xp, g, shape, key):
    out = xp.zeros(shape, dtype=g.dtype)
    out[key] = g  # basic indexing never repeats an element, so assignment suffices
    return out


@_scatter_into_zeros.defvjp
def _scatter_into_zeros_vjp(ctx, g):
    return (_getitem(g, key=ctx.attrs["key"]),)


@primitive("gather", save_inputs=True)
def _gather(xp, params, indices, axis):
    return xp.take(params, indices, axis=axis)


@_gather.defvjp
def _gather_vjp(ctx, g):
    indices = ctx.inputs[1]
    return (_scatter_add(g, indices, shape=ctx.input_shapes[0], axis=ctx.attrs["axis"]), None)


@primitive("scatter_add", save_inputs=True)
def _scatter_add(xp, updates, indices, shape, axis):
    """Sum ``updates`` into zeros of ``shape`` at ``indices`` along ``axis``."""
    out = xp.zeros(shape, dtype=updates.dtype)
    moved = xp.moveaxis(out, axis, 0)
    flat_idx = indices.reshape(-1)
    # Bring the indexed axes of updates to the front, matching `moved`.
    upd = xp.moveaxis(updates.reshape(updates.shape[:axis] + (flat_idx.size,)
                                      + updates.shape[axis + indices.ndim:]), axis, 0)
    xp.add.at(moved, flat_idx, upd)
    return out


@_scatter_add.defvjp
def _scatter_add_vjp(ctx, g):
    return (_gather(g, ctx.inputs[1], axis=ctx.attrs["axis"]), None)


@primitive("pad")
def _pad(xp, x, paddings, constant_values):
    return xp.pad(x, paddings, mode="constant", constant_values=constant_values)


@_pad.defvjp
def _pad_vjp(ctx, g):
    key = tuple(slice(before, before + size) for (before, _), size
                in zip(ctx.attrs["paddings"], ctx.input_shapes[0]))
    return (_getitem(g, key=key),)


@primitive("stop_gradient", differentiable=False)
def _stop_gradient(xp, x):
    return x


@primitive("identity")
def _identity(xp, x):
    return x


@_identity.defvjp
def _identity_vjp(ctx, g):
    return (g,)


# --- public wrappers ---------------------------------------------------------------


def reshape(tensor, shape, name=None) -> Tensor:
    """Reshape, with at most one ``-1`` inferred, as ``tf.reshape``."""
    x = as_tensor(tensor)
    dims = _shape_list(shape)
    size = x._value.size
    known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
    if dims.count(-1) > 1:
        raise InvalidArgumentError(f"reshape: only one dimension can be -1, received {dims}.",
                                   "reshape")
    if (-1 in dims and (known == 0 or size % known)) or (-1 not in dims and known != size):
        raise InvalidArgumentError(
            f"reshape: cannot reshape a tensor with {size} elements (shape "
            f"{tuple(x._value.shape)}) to shape {dims}.", "reshape")
    if tuple(dims) == x._value.shape:
        return x
    return _reshape(x, shape=tuple(dims))


def transpose(a, perm=None, conjugate=False, name=None) -> Tensor:
    x = as_tensor(a)
    ndim = x._value.ndim
    perm = tuple(range(ndim))[::-1] if perm is None else tuple(_shape_list(perm))
    if sorted(p % ndim if ndim else p for p in perm) != list(range(ndim)):
        raise InvalidArgumentError(
            f"transpose: perm {list(perm)} is not a permutation of 0..{ndim - 1} for a tensor "
            f"of shape {tuple(x._value.shape)}.", "transpose")
    return _transpose(x, perm=tuple(p % ndim for p in perm))


def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    dims = tuple(_shape_list(shape))
    if x._value.shape == dims:
        return x
    try:
        fits = np.broadcast_shapes(x._value.shape, dims) == dims
    except ValueError:
        fits = False
    if not fits:
        raise InvalidArgumentError(
            f"broadcast_to: cannot broadcast a tensor of shape {tuple(x._value.shape)} to "
            f"shape {list(dims)}; each dimension must match or be 1.", "broadcast_to")
    return _broadcast_to(x, shape=dims)


def expand_dims(input, axis, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    ndim = x._value.ndim
    axis = int(axis)
    if not -ndim - 1 <= axis <= ndim:
        raise InvalidArgumentError(
            f"expand_dims: axis {axis} is out of range for a tensor of rank {ndim} (valid: "
            f"{-ndim - 1} to {ndim}).", "expand_dims")
    axis = axis % (ndim + 1)
    shape = list(x._value.shape)
    shape.insert(axis, 1)
    return _reshape(x, shape=tuple(shape))


def squeeze(input, axis=None, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    shape = x._value.shape
    if axis is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    else:
        axes = list(normalize_axis(axis, len(shape), "squeeze"))
        for a in axes:
            if shape[a] != 1:
                raise InvalidArgumentError(
                    f"squeeze: cannot squeeze axis {a}, its size is {shape[a]}, not 1 "
                    f"(shape {tuple(shape)}).", "squeeze")
    return _reshape(x, shape=tuple(d for i, d in enumerate(shape) if i not in axes))


def concat(values, axis, name=None) -> Tensor:
    tensors = [as_tensor(v) for v in values]
    if not tensors:
        raise ValueError("concat needs at least one tensor.")
    check_same_dtype("concat", *tensors, names=tuple(f"values[{i}]" for i in range(len(tensors))))
    ndim = tensors[0]._value.ndim
    (a,) = normalize_axis(axis, ndim, "concat")
    for i, t in enumerate(tensors):
        s0, s = tensors[0]._value.shape, t._value.shape
        if len(s) != ndim or any(p != q for k, (p, q) in enumerate(zip(s0, s)) if k != a):
            raise InvalidArgumentError(
                f"concat: values[{i}] has shape {tuple(s)}, which does not match values[0]'s "
                f"shape {tuple(s0)} outside axis {a}.", "concat")
    if len(tensors) == 1:
        return tensors[0]
    return _concat(*tensors, axis=a)


def stack(values, axis=0, name=None) -> Tensor:
    tensors = [as_tensor(v) for v in values]
    if not tensors:
        raise ValueError("stack needs at least one tensor.")
    first = tensors[0]._value.shape
    for i, t in enumerate(tensors):
        if t._value.shape != first:
            raise InvalidArgumentError(
                f"stack: values[{i}] has shape {tuple(t._value.shape)}, but values[0] has "
                f"shape {tuple(first)}; all must match.", "stack")
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)


def stack_nested(value) -> Tensor:
    """Turn nested lists of tensors and numbers into one tensor (``tf.constant([t1, t2])``)."""
    items = [stack_nested(v) if isinstance(v, (list, tuple)) else as_tensor(v) for v in value]
    floats = [t for t in items if t._value.dtype.kind == "f"]
    if floats:
        dtype = floats[0].dtype
        items = [t if t.dtype == dtype else Tensor(t._value.astype(dtype.np)) for t in items]
    return stack(items)


def unstack(value, num=None, axis=0, name=None) -> list[Tensor]:
    x = as_tensor(value)
    (a,) = normalize_axis(axis, x._value.ndim, "unstack")
    count = x._value.shape[a]
    if num is not None and num != count:
        raise ValueError(f"unstack: num={num} but axis {a} has size {count}.")
    prefix = (slice(None),) * a
    return [_getitem(x, key=prefix + (i,)) for i in range(count)]


def split(value, num_or_size_splits, axis=0, num=None, name=None) -> list[Tensor]:
    x = as_tensor(value)
    (a,) = normalize_axis(axis, x._value.ndim, "split")
    size = x._value.shape[a]
    if isinstance(num_or_size_splits, (int, np.integer)):
        n = int(num_or_size_splits)
        if n <= 0 or size % n:
            raise InvalidArgumentError(
                f"split: axis {a} has size {size}, which is not divisible by {n}.", "split")
        sizes = [size // n] * n
    else:
        sizes = _shape_list(num_or_size_splits)
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = size - (sum(sizes) + 1)
        if sum(sizes) != size or min(sizes, default=0) < 0:
            raise InvalidArgumentError(
                f"split: sizes {sizes} do not add up to axis {a}'s size {size}.", "split")
    prefix = (slice(None),) * a
    out, start = [], 0
    for s in sizes:
        out.append(_getitem(x, key=prefix + (slice(start, start + s),)))
        start += s
    return out


def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along axis i (composite of reshape+broadcast)."""
    x = as_tensor(input)
    reps = _shape_list(multiples)
    shape = x._value.shape
    if len(reps) != len(shape):
        raise InvalidArgumentError(
            f"tile: multiples has length {len(reps)} but the input has rank {len(shape)}.",
            "tile")
    expanded = reshape(x, [d for s in shape for d in (1, s)])
    wide = broadcast_to(expanded, [d for r, s in zip(reps, shape) for d in (r, s)])
    return reshape(wide, [r * s for r, s in zip(reps, shape)])


def reverse(tensor, axis, name=None) -> Tensor:
    x = as_tensor(tensor)
    axes = normalize_axis(axis, x._value.ndim, "reverse")
    key = tuple(slice(None, None, -1) if i in axes else slice(None)
                for i in range(x._value.ndim))
    return _getitem(x, key=key)


def slice_tensor(input_, begin, size, name=None) -> Tensor:
    """``tf.slice``: the block of ``size`` elements starting at ``begin`` (-1: to the end)."""
    x = as_tensor(input_)
    begin, size = _shape_list(begin), _shape_list(size)
    shape = x._value.shape
    if len(begin) != len(shape) or len(size) != len(shape):
        raise InvalidArgumentError(
            f"slice: begin {begin} and size {size} must each have one entry per dimension of "
            f"the input's shape {tuple(shape)}.", "slice")
    key = []
    for axis, (b, s, d) in enumerate(zip(begin, size, shape)):
        end = d if s == -1 else b + s
        if not 0 <= b <= end <= d:
            raise InvalidArgumentError(
                f"slice: begin {b} with size {s} is out of range for axis {axis} of size {d}.",
                "slice")
        key.append(slice(b, end))
    return _getitem(x, key=tuple(key))


def getitem(x, key) -> Tensor:
    """``x[key]`` with TensorFlow's rules: ints, slices, ``...``, ``None``, scalar tensors."""
    x = as_tensor(x)
    key = _normalize_key(key, x._value.shape)
    return _getitem(x, key=key)


def _normalize_key(key, shape: tuple) -> tuple:
    if not isinstance(key, tuple):
        key = (key,)
    parts = []
    for item in key:
        if isinstance(item, Tensor) or hasattr(item, "_read_for_op"):
            item = as_tensor(item)
            if item._value.ndim != 0 or item._value.dtype.kind not in "iu":
                if item._value.dtype.kind == "b":
                    raise TypeError("Boolean tensors are not valid indices; use "
                                    "tf.boolean_mask(x, mask).")
                raise TypeError(
                    f"Only integers, slices, ellipsis, tf.newaxis and scalar integer tensors "
                    f"are valid indices, received a {item.dtype.name} tensor of shape "
                    f"{tuple(item._value.shape)}. Use tf.gather for a list of indices.")
            item = int(item._value)
        elif isinstance(item, slice):
            item = slice(*(None if v is None else _index_int(v)
                                   for v in (item.start, item.stop, item.step)))
            if item.step == 0:
                raise ValueError("Slice step cannot be zero.")
        elif isinstance(item, (bool, np.bool_)):
            raise TypeError("Booleans are not valid indices.")
        elif isinstance(item, (int, np.integer)):
            item = int(item)
        elif item is not None and item is not Ellipsis:
            raise TypeError(
                f"Only integers, slices, ellipsis (...), tf.newaxis (None) and scalar integer "
                f"tensors are valid indices, received {item!r}. Use tf.gather for a list of "
                f"indices.")
        parts.append(item)
    _check_bounds(parts, shape)
    return tuple(parts)


def _index_int(value) -> int:
    if isinstance(value, Tensor) or hasattr(value, "_read_for_op"):
        return int(as_tensor(value)._value)
    return int(value)


def _check_bounds(parts: list, shape: tuple) -> None:
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if parts.count(Ellipsis) > 1:
        raise ValueError("An index can only have a single ellipsis ('...').")
    if consumed > len(shape):
        raise InvalidArgumentError(f"Too many indices: the tensor has rank {len(shape)} but "
                                   f"{consumed} dimensions were indexed.", "getitem")
    axis = 0
    for p in parts:
        if p is Ellipsis:
            axis += len(shape) - consumed
        elif p is None:
            continue
        else:
            if isinstance(p, int) and not -shape[axis] <= p < shape[axis]:
                # TensorFlow raises InvalidArgumentError (StridedSlice) here.
                raise InvalidArgumentError(
                    f"Index {p} is out of bounds for axis {axis} with size {shape[axis]} "
                    f"(valid: {-shape[axis]} to {shape[axis] - 1}).", "getitem")
            axis += 1


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None) -> Tensor:
    """Take slices of ``params`` at ``indices`` along ``axis`` (default 0)."""
    x = as_tensor(params)
    idx = as_tensor(indices)
    if idx._value.dtype.kind not in "iu":
        raise TypeError(f"gather: indices must be integers, received {idx.dtype.name}.")
    (a,) = normalize_axis(0 if axis is None else axis, x._value.ndim, "gather")
    if batch_dims:
        raise NotImplementedError("gather with batch_dims is not supported yet; use "
                                  "tf.gather_nd or reshape to fold the batch axes.")
    size = x._value.shape[a]
    values = idx._value
    if values.size and (values.min() < 0 or values.max() >= size):
        bad = int(values[(values < 0) | (values >= size)].reshape(-1)[0])
        raise InvalidArgumentError(f"gather: index {bad} is out of range for axis {a} with "
                                   f"size {size} (valid: 0 to {size - 1}).", "gather")
    return _gather(x, idx, axis=a)


def boolean_mask(tensor, mask, axis=None, name=None) -> Tensor:
    x, m = as_tensor(tensor), as_tensor(mask)
    if m._value.dtype.kind != "b":
        raise TypeError(f"boolean_mask: mask must be bool, received {m.dtype.name}.")
    a = 0 if axis is None else int(axis) % x._value.ndim
    k = m._value.ndim
    if x._value.shape[a:a + k] != m._value.shape:
        raise InvalidArgumentError(
            f"boolean_mask: mask shape {tuple(m._value.shape)} must match the tensor's shape "
            f"{tuple(x._value.shape)} at axes {a}..{a + k - 1}.", "boolean_mask")
    shape = x._value.shape
    flat = reshape(x, [*shape[:a], -1, *shape[a + k:]]) if k != 1 else x
    return _gather(flat, _flat_nonzero(m), axis=a)


# The number of true entries is only known when the op runs: the shape of what
# follows depends on the data (the graph compiler keeps such values off its buffers).
@primitive("flat_nonzero", differentiable=False)
def _flat_nonzero(xp, mask):
    return xp.flatnonzero(mask).astype(np.int64)


@primitive("where_indices", differentiable=False)
def where_indices(xp, condition):
    """Coordinates of the true entries of ``condition``, one row each (int64)."""
    return xp.argwhere(condition).astype(np.int64)


DYNAMIC_SHAPE_OPS = {"flat_nonzero", "where_indices"}


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    x = as_tensor(tensor)
    pads = np.asarray(paddings, dtype=np.int64)
    if pads.shape != (x._value.ndim, 2):
        raise InvalidArgumentError(
            f"pad: paddings must have shape ({x._value.ndim}, 2) for a tensor of rank "
            f"{x._value.ndim}, received {pads.shape}.", "pad")
    if pads.size and pads.min() < 0:
        raise InvalidArgumentError(f"pad: paddings must be non-negative, received "
                                   f"{pads.tolist()}.", "pad")
    mode = mode.upper()
    if mode == "CONSTANT":
        value = np.asarray(as_tensor(constant_values)._value).item()
        return _pad(x, paddings=tuple(map(tuple, pads.tolist())), constant_values=value)
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected CONSTANT, REFLECT or SYMMETRIC.")
    # Mirror padding is a gather along each padded axis, so it needs no gradient rule.
    for axis, (before, after) in enumerate(pads.tolist()):
        if before or after:
            index = _mirror_index(x._value.shape[axis], before, after, mode, axis)
            x = _gather(x, Tensor(index), axis=axis)
    return x


def _mirror_index(size: int, before: int, after: int, mode: str, axis: int) -> np.ndarray:
    """Source positions of a mirror-padded axis: REFLECT skips the edge, SYMMETRIC repeats it."""
    edge = 0 if mode == "SYMMETRIC" else 1
    if max(before, after) > size - edge:
        relation = "no greater than" if edge == 0 else "less than"
        raise InvalidArgumentError(
            f"pad: {mode} paddings must be {relation} the dimension size: axis {axis} has size "
            f"{size} but paddings ({before}, {after}).", "pad")
    position = np.arange(-before, size + after)
    low = position < 0
    high = position >= size
    position[low] = -position[low] - 1 + edge
    position[high] = 2 * size - 1 - position[high] - edge
    return position.astype(np.int64)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None,
            name=None) -> Tensor:
    """One-hot encode integer ``indices``; out-of-range indices give all-off rows (as TF).

    The dtype is ``dtype``, else that of ``on_value``/``off_value``, else float32.
    """
    from neuroflow.dtypes import as_dtype

    idx = as_tensor(indices)
    given = [as_tensor(v) for v in (on_value, off_value) if v is not None]
    kind = as_dtype(dtype).np if dtype is not None else (
        given[0]._value.dtype if given else np.dtype(np.float32))
    on = 1 if on_value is None else as_tensor(on_value)._value.item()
    off = 0 if off_value is None else as_tensor(off_value)._value.item()
    return _one_hot(idx, depth=int(depth), on=on, off=off, dtype=np.dtype(kind),
                    axis=-1 if axis is None else int(axis))


@primitive("one_hot", differentiable=False)
def _one_hot(xp, indices, depth, on, off, dtype, axis):
    hot = xp.expand_dims(indices, -1) == xp.arange(depth)
    out = xp.where(hot, xp.asarray(on, dtype), xp.asarray(off, dtype))
    return out if axis == -1 else xp.moveaxis(out, -1, axis)


def stop_gradient(input, name=None) -> Tensor:  # noqa: A002
    return _stop_gradient(as_tensor(input))


def identity(input, name=None) -> Tensor:  # noqa: A002
    return _identity(as_tensor(input))


def shape(input, out_type="int32", name=None) -> Tensor:  # noqa: A002
    from neuroflow.dtypes import as_dtype

    return Tensor(np.asarray(as_tensor(input)._value.shape, dtype=as_dtype(out_type).np))


def size(input, out_type="int32", name=None) -> Tensor:  # noqa: A002
    from neuroflow.dtypes import as_dtype

    return Tensor(np.asarray(as_tensor(input)._value.size, dtype=as_dtype(out_type).np))


def rank(input, name=None) -> Tensor:  # noqa: A002
    return Tensor(np.asarray(as_tensor(input)._value.ndim, dtype=np.int32))
