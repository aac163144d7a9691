"""Shape and layout: reshape, transpose, broadcast, concat, indexing, gather, pad.

Primitives here move data around without arithmetic; their gradients move it
back (``getitem`` <-> ``scatter into zeros``, ``gather`` <-> ``scatter_add``).
Everything else (stack, split, tile, reverse, one_hot, ...) is composite.

While a ``tf.function`` traces, sizes may be unknown (a :class:`~neuroflow.abstract.Dim`)
and shape arguments may be symbolic tensors. ``tf.shape(x)`` of a traced ``x`` with
unknown sizes is a ``shape_of`` node, and the sizes it holds (``(d0, 28, 28)``) are
noted on its abstract value, so ``tf.zeros(tf.shape(x))`` or
``tf.reshape(x, [tf.shape(x)[0], -1])`` keep them in their shapes. A shape computed
from values (only known when the graph runs) is given to the op as an input instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuroflow.abstract import (
    AbstractArray,
    Dim,
    InconclusiveDimension,
    ValueNeeded,
    is_known,
    num_elements,
)
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops.convert import DTypeMismatchError, as_tensor, check_same_dtype, normalize_axis
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor, TensorShape, host_array

_FRESH = Lowering(result="fresh")


def _is_symbolic(t: Tensor) -> bool:
    return type(t._value) is AbstractArray


def traced_source(value):
    """The graph value a traced tensor stands for (None for anything else): what
    ``ValueNeeded`` carries, so tf.function can trace again with that input's value."""
    array = getattr(value, "_value", None)
    return array.source if type(array) is AbstractArray else None


def _is_tensor(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_read_for_op")


def _certainly_different(a, b) -> bool:
    """Whether two sizes certainly differ (unknown ones, Dims or None, may turn out equal)."""
    return isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer)) and a != b


def _same_shape(a: tuple, b: tuple) -> bool:
    """Whether two shapes are certainly equal."""
    try:
        return tuple(a) == tuple(b)
    except InconclusiveDimension:
        return False


def _may_match(a: tuple, b: tuple, skip: int = -1) -> bool:
    """False if two shapes certainly differ (outside axis ``skip``)."""
    if skip < 0 and _same_shape(a, b):
        return True  # the common case, kept fast
    return len(a) == len(b) and not any(_certainly_different(p, q)
                                        for k, (p, q) in enumerate(zip(a, b)) if k != skip)


def _minus_one(d) -> bool:
    return type(d) is int and d == -1


# --- sizes held by symbolic tensors ---------------------------------------------------------

def _remember(tensor: Tensor, sizes) -> Tensor:
    """Note on a symbolic integer tensor the sizes it holds (an int or Dim for a scalar, a
    tuple of them for a vector): tf.shape sets them, indexing, stack and concat keep them,
    the ways shape arguments are assembled."""
    if sizes is not None and type(tensor._value) is AbstractArray:
        tensor._value.sizes = sizes
    return tensor


def known_sizes(tensor: Tensor):
    """What a 0-d or 1-D integer tensor holds, if known while tracing, else None.

    A concrete tensor gives its values (ints); a symbolic one the sizes it was made from
    (ints and Dims: ``tf.shape(x)`` of a traced ``x``, indexed, stacked or concatenated).
    """
    value = tensor._value
    if type(value) is AbstractArray:
        return value.sizes
    if value.dtype.kind not in "iu" or value.ndim > 1:
        return None
    array = host_array(value)
    return int(array) if array.ndim == 0 else tuple(array.tolist())


def _constant_sizes(sizes, dtype) -> Tensor | None:
    """A constant tensor of ``sizes`` (a size or a tuple) if they are all ints, else None."""
    flat = sizes if isinstance(sizes, tuple) else (sizes,)
    if all(type(d) is int for d in flat):
        return Tensor(np.asarray(sizes, dtype=dtype))
    return None


# --- shape arguments ----------------------------------------------------------------------


def _refuse_shape_dtype(op: str, what: str) -> DTypeMismatchError:
    # TensorFlow raises InvalidArgumentError for float shape tensors and lists and
    # TypeError for a float scalar; this error is both.
    return DTypeMismatchError(f"{op}: a shape must hold integers (int32 or int64), received "
                              f"{what}. Use integer sizes, or tf.cast(shape, tf.int32).", op)


def _check_int_tensor(t: Tensor, op: str) -> None:
    if t._value.dtype.kind not in "iu":
        raise _refuse_shape_dtype(op, f"a {t.dtype.name} tensor")


def shape_argument(shape, op: str) -> tuple[tuple, Callable[[], Tensor] | None]:
    """A shape argument as its sizes, and how to make a tensor of them if it is symbolic.

    ``shape``: an int, a list or tuple of ints and scalar integer tensors, a 1-D integer
    tensor or array, or a TensorShape. Each size is an int, a Dim (known to the trace as an
    unknown size: from ``tf.shape(x)`` of a traced ``x``) or None (only known when the
    graph runs). When some size is not an int, the second result makes the 1-D tensor of
    the sizes, for an op that needs it as an input (it is only made if asked for); it is
    None otherwise.
    """
    if type(shape) in (list, tuple) and all(type(d) is int for d in shape):
        return tuple(shape), None  # the common case, kept fast
    if isinstance(shape, (bool, np.bool_)):
        raise _refuse_shape_dtype(op, f"the bool {shape!r}")
    if isinstance(shape, (int, np.integer)):
        return (int(shape),), None
    if isinstance(shape, TensorShape):
        if shape.rank is None or None in shape.as_list():
            raise ValueError(f"{op}: the shape {shape} has unknown sizes (None); use "
                             f"tf.shape(x) for sizes only known when the graph runs.")
        return tuple(shape.as_list()), None
    if _is_tensor(shape):
        return _tensor_sizes(as_tensor(shape), op)
    if isinstance(shape, np.ndarray):
        if shape.dtype.kind not in "iu":
            raise _refuse_shape_dtype(op, f"an array of {shape.dtype.name}")
        return tuple(int(d) for d in shape.reshape(-1).tolist()), None
    if isinstance(shape, (float, np.floating, complex)):
        raise _refuse_shape_dtype(op, f"the {type(shape).__name__} {shape!r}")
    try:
        items = list(shape)
    except TypeError:
        # TensorFlow raises ValueError here; this error is also a TypeError.
        raise DTypeMismatchError(f"{op}: expected a shape (a list of ints, or a 1-D integer "
                                 f"tensor), received {shape!r}.", op) from None
    return _sequence_sizes(items, op)


def _tensor_sizes(t: Tensor, op: str) -> tuple[tuple, Callable[[], Tensor] | None]:
    _check_int_tensor(t, op)
    ndim = t._value.ndim
    if ndim > 1:
        raise InvalidArgumentError(f"{op}: a shape tensor must be 1-D, received shape "
                                   f"{tuple(t.shape)}; flatten it with tf.reshape(shape, "
                                   f"[-1]).", op)
    sizes = known_sizes(t)
    if ndim == 0:
        sizes = (sizes,)
    elif sizes is None:
        length = t._value.shape[0]
        if not is_known(length):
            raise ValueError(f"{op}: the shape tensor has an unknown length, so the rank of "
                             f"the result is unknown; give it a fixed length.")
        sizes = (None,) * length
    if all(type(d) is int for d in sizes):
        return tuple(sizes), None
    return tuple(sizes), ((lambda: reshape(t, [1])) if ndim == 0 else (lambda: t))


def _sequence_sizes(items: list, op: str) -> tuple[tuple, Callable[[], Tensor] | None]:
    sizes, symbolic = [], []
    for d in items:
        if isinstance(d, (bool, np.bool_)):
            raise _refuse_shape_dtype(op, f"the bool {d!r} in {items!r}")
        if isinstance(d, (int, np.integer)):
            sizes.append(int(d))
        elif isinstance(d, Dim):
            sizes.append(d)
        elif _is_tensor(d):
            t = as_tensor(d)
            _check_int_tensor(t, op)
            if t._value.ndim != 0:
                raise InvalidArgumentError(f"{op}: each size in a shape list must be a "
                                           f"scalar, received a tensor of shape "
                                           f"{tuple(t.shape)}; index it (t[0]) or join "
                                           f"shape tensors with tf.concat.", op)
            sizes.append(known_sizes(t))
            if _is_symbolic(t):
                symbolic.append(len(sizes) - 1)
        elif d is None:
            raise ValueError(f"{op}: the shape {items!r} has an unknown size (None); use "
                             f"tf.shape(x)[i] for a size only known when the graph runs.")
        else:
            raise _refuse_shape_dtype(op, f"{d!r} in {items!r}")
    if not symbolic or all(type(d) is int for d in sizes):
        return tuple(sizes), None
    return tuple(sizes), lambda: _pack_sizes(items, sizes, op)


def _pack_sizes(items: list, sizes: list, op: str) -> Tensor:
    """One int64 vector of the sizes of a shape list holding symbolic scalars."""
    from neuroflow.ops.elementwise import cast

    parts = []
    for item, size in zip(items, sizes):
        if _is_tensor(item):
            parts.append(cast(as_tensor(item), np.int64))
        elif type(size) is int:
            parts.append(Tensor(np.asarray(size, np.int64)))
        else:
            raise ValueError(f"{op}: cannot mix the unknown size {size} with tensors in one "
                             f"shape; use tf.shape(x)[i] for it.")
    return stack(parts)


def _static_ints(values, op: str, what: str) -> list[int]:
    """Integers an op needs while tracing (a permutation, multiples, split sizes)."""
    sizes, _ = shape_argument(values, op)
    if not all(type(d) is int for d in sizes):
        raise ValueNeeded(f"{op}: {what} must be known when the function is traced, received "
                          f"{list(sizes)} (None: only known when the graph runs).",
                          traced_source(values))
    return list(sizes)


def _static_size(value, op: str, what: str):
    """One size an op needs while tracing: an int, or a Dim known from tf.shape."""
    if _is_tensor(value):
        t = as_tensor(value)
        _check_int_tensor(t, op)
        if t._value.ndim != 0:
            raise InvalidArgumentError(f"{op}: {what} must be a scalar, received a tensor of "
                                       f"shape {tuple(t.shape)}; index it, e.g. t[0].", op)
        size = known_sizes(t)
        if size is None:
            raise ValueNeeded(f"{op}: {what} must be known when the function is traced (an "
                              f"int, or a size from tf.shape); received a tensor only known "
                              f"when the graph runs.", traced_source(t))
        return size
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, Dim)):
        raise TypeError(f"{op}: {what} must be an integer, received {value!r}.")
    return value if isinstance(value, Dim) else int(value)


def run_time_count(value, op: str, what: str) -> tuple:
    """``(tensor,)`` when ``value`` is a count only known when the graph runs (a symbolic
    scalar not made from tf.shape), else ``()``: the op then takes the count as an input and
    its result gets an unknown size."""
    if not _is_tensor(value):
        return ()
    t = as_tensor(value)
    if not _is_symbolic(t) or known_sizes(t) is not None:
        return ()
    _check_int_tensor(t, op)
    if t._value.ndim != 0:
        raise InvalidArgumentError(f"{op}: {what} must be a scalar, received a tensor of "
                                   f"shape {tuple(t.shape)}.", op)
    return (t,)


def static_axis(axis, op: str):
    """An axis argument (an int, a list, or an integer tensor) as Python ints, which the op
    needs while tracing: a symbolic tensor must hold sizes known to the trace, else a clear
    ValueError says to pass a Python int."""
    if not _is_tensor(axis):
        return axis
    t = as_tensor(axis)
    if not _is_symbolic(t):
        return t
    sizes = known_sizes(t)
    flat = sizes if isinstance(sizes, tuple) else (sizes,)
    if sizes is None or not all(type(d) is int for d in flat):
        raise ValueNeeded(f"{op}: the axis must be known when the function is traced; "
                          f"received a tensor only known when the graph runs. Pass a Python "
                          f"int.", traced_source(t))
    return sizes


def _check_nonnegative(dims, op: str) -> None:
    for d in dims:
        if type(d) is int and d < 0:
            raise InvalidArgumentError(f"{op}: dimensions must be non-negative (Dimension {d} "
                                       f"must be >= 0), received shape {list(dims)}.", op)


def _run_time_shape(sizes: np.ndarray) -> tuple[int, ...]:
    return tuple(int(d) for d in host_array(sizes).reshape(-1).tolist())


# --- primitives ---------------------------------------------------------------------


def reshaped_shape(old: tuple, target: tuple) -> tuple:
    """The shape reshaping ``old`` to ``target`` gives (ints, Dims, one -1, and None for
    sizes only known when the graph runs); ValueError if it certainly cannot."""
    inferred = [i for i, d in enumerate(target) if _minus_one(d)]
    if len(inferred) > 1:
        raise ValueError(f"only one dimension can be -1, received {list(target)}")
    for d in target:
        if type(d) is int and d < -1:
            raise ValueError(f"sizes must be non-negative (or -1), not {d}")
    if any(d is None for d in target):
        return tuple(Dim.fresh("n") if d is None or _minus_one(d) else d for d in target)
    if not inferred:
        size, total = num_elements(old), num_elements(target)
        if _certainly_different(size, total):
            raise ValueError(f"cannot reshape {size} elements to shape {tuple(target)}, which "
                             f"holds {total}; give sizes whose product is {size}")
        return tuple(target)
    size, known = _inference_sizes(old, target)
    if is_known(size) and is_known(known):
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape {size} elements to shape {tuple(target)}: "
                             f"{size} is not a multiple of {known}, the product of the other "
                             f"sizes")
        missing = size // known
    else:
        try:
            missing = size // known
        except InconclusiveDimension:
            # Not a polynomial in the unknown sizes: computed when the graph is specialised.
            missing = Dim.fresh("n")
    return tuple(missing if _minus_one(d) else d for d in target)


def _inference_sizes(old: tuple, target: tuple) -> tuple:
    """The element count a ``-1`` in ``target`` is inferred from, and the product of the
    other sizes of ``target``.

    As TensorFlow does, when ``target`` holds a 0 the zero sizes of both shapes are left
    out of the products, so the -1 still gets a size: ``(0, 3)`` reshaped to ``[0, -1]`` is
    ``(0, 3)``, not an error.
    """
    if any(type(d) is int and d == 0 for d in target):
        size = num_elements(d for d in old if not (type(d) is int and d == 0))
        known = num_elements(d for d in target if not (type(d) is int and d in (0, -1)))
        return size, known
    return num_elements(old), num_elements(d for d in target if not _minus_one(d))


def _check_sizes_input(sizes: tuple, shape: tuple) -> None:
    """The optional input holding a shape when the graph runs: a vector of len(shape) ints."""
    for s in sizes:
        if s.dtype.kind not in "iu" or len(s.shape) != 1 or (is_known(s.shape[0])
                                                             and s.shape[0] != len(shape)):
            raise ValueError(f"the sizes input must be {len(shape)} integers, received "
                             f"{s.dtype.name}{list(s.shape)}")


def _reshape_shape(x, *sizes, shape):
    _check_sizes_input(sizes, shape)
    return AbstractArray(reshaped_shape(x.shape, shape), x.dtype)


def _sized_template(template: str):
    """A template for ops whose ``shape`` attribute may hold None (sizes only known when the
    graph runs, read from an input): those call the forward instead."""

    def choose(node):
        return None if any(d is None for d in node.attrs["shape"]) else template

    return choose


# ``sizes``, given when ``shape`` holds None (sizes only known when the graph runs): the
# target shape as a tensor.
def _reshape_template(node):
    ints = [d for d in node.attrs["shape"] if type(d) is int]
    if -1 in ints and 0 in ints:
        return None  # the forward infers the -1 beside a 0 as TensorFlow does; NumPy cannot
    return _sized_template("{0}.reshape({shape})")(node)


@primitive("reshape", shape=_reshape_shape,
           lowering=Lowering(_reshape_template, result="view"))
def _reshape(xp, x, *sizes, shape):
    if sizes and any(d is None for d in shape):
        shape = _run_time_shape(sizes[0])
    if x.size == 0 and any(type(d) is int and d == -1 for d in shape):
        shape = reshaped_shape(x.shape, shape)  # NumPy cannot infer a size from 0 elements
    return xp.reshape(x, shape)


@_reshape.defvjp
def _reshape_vjp(ctx, g):
    return (_reshape(g, shape=ctx.input_shapes[0]),) + (None,) * (len(ctx.input_shapes) - 1)


def _transpose_shape(x, perm):
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"perm {list(perm)} is not a permutation of the {x.ndim} axes")
    return AbstractArray(tuple(x.shape[p] for p in perm), x.dtype)


@primitive("transpose", shape=_transpose_shape,
           lowering=Lowering("{0}.transpose({perm})", result="view"))
def _transpose(xp, x, perm):
    return xp.transpose(x, perm)


@_transpose.defvjp
def _transpose_vjp(ctx, g):
    return (_transpose(g, perm=tuple(np.argsort(ctx.attrs["perm"]).tolist())),)


def _broadcast_fits(old: tuple, target: tuple) -> bool:
    """False if ``old`` certainly does not broadcast to ``target``."""
    if len(old) > len(target):
        return False
    return not any(_certainly_different(a, b) and a != 1
                   for a, b in zip(old[::-1], target[::-1]))


def _broadcast_to_shape(x, *sizes, shape):
    _check_sizes_input(sizes, shape)
    target = tuple(Dim.fresh("n") if d is None else d for d in shape)
    if not _broadcast_fits(x.shape, target):
        raise ValueError(f"cannot broadcast shape {x.shape} to {tuple(shape)}; each size must "
                         f"match the target's or be 1")
    return AbstractArray(target, x.dtype)


# ``sizes`` as in reshape: the target shape when only the run knows it.
@primitive("broadcast_to", shape=_broadcast_to_shape,
           lowering=Lowering(_sized_template("np.broadcast_to({0}, {shape})"), result="view"))
def _broadcast_to(xp, x, *sizes, shape):
    if sizes and any(d is None for d in shape):
        shape = _run_time_shape(sizes[0])
    return xp.broadcast_to(x, shape)


@_broadcast_to.defvjp
def _broadcast_to_vjp(ctx, g):
    # The tape sums g back to the input's shape.
    return (g,) + (None,) * (len(ctx.input_shapes) - 1)


def _concat_shape(*xs, axis):
    first = xs[0]
    shape = list(first.shape)
    total = 0
    for x in xs:
        if x.ndim != first.ndim or x.dtype != first.dtype:
            raise ValueError(f"cannot concatenate {x.dtype.name}{list(x.shape)} with "
                             f"{first.dtype.name}{list(first.shape)}")
        for k, d in enumerate(x.shape):
            if k == axis:
                continue
            if _certainly_different(d, shape[k]):
                raise ValueError(f"shapes {first.shape} and {x.shape} differ outside axis "
                                 f"{axis}; they must match on every other axis")
            if not is_known(shape[k]) and is_known(d):
                shape[k] = d  # the sizes must match when the graph runs: this is the one
        total = total + x.shape[axis]
    shape[axis] = total
    return AbstractArray(shape, first.dtype)


@primitive("concat", shape=_concat_shape, lowering=_FRESH)
def _concat(xp, *xs, axis):
    return xp.concatenate(xs, axis=axis)


def _span(start, stop, total) -> slice:
    """``slice(start, stop)`` on an axis of ``total``, with bounds counted from the end
    where that makes them ints: a key holding unknown sizes must be specialised."""
    if not is_known(start) and is_known(start - total) and start - total:
        start = start - total
    if not is_known(stop) and is_known(stop - total):
        stop = (stop - total) or None
    return slice(start, stop)


@_concat.defvjp
def _concat_vjp(ctx, g):
    axis = ctx.attrs["axis"]
    total = g._value.shape[axis]
    grads, start = [], 0
    for shape in ctx.input_shapes:
        index = [slice(None)] * len(shape)
        index[axis] = _span(start, start + shape[axis], total)
        grads.append(_getitem(g, key=tuple(index)))
        start = start + shape[axis]
    return tuple(grads)


def _decided(test) -> bool | None:
    """The answer of a comparison of sizes, or None when it depends on unknown sizes."""
    try:
        return bool(test())
    except InconclusiveDimension:
        return None


def _clamped(bound, size, low, high, default):
    """A slice bound as Python clamps it for an axis of ``size``: negative counts from
    the end, then within [low, high] (ints or Dims); InconclusiveDimension if undecided."""
    if bound is None:
        return default
    if type(bound) is int and bound < 0:
        bound = bound + size
    if _decided(lambda: bound <= low):
        return low
    if _decided(lambda: bound >= high):
        return high
    if _decided(lambda: bound >= low) and _decided(lambda: bound <= high):
        return bound
    raise InconclusiveDimension(f"where the slice bound {bound} falls depends on the size")


def slice_length(size, part: slice):
    """The length of ``part`` on an axis of ``size``; a fresh unknown size when that
    depends on sizes in a way a polynomial cannot say (``x[:2]`` of an axis of size d0)."""
    step = 1 if part.step is None else part.step
    if is_known(size) and all(v is None or type(v) is int for v in (part.start, part.stop)):
        return len(range(*part.indices(size)))
    if not is_known(step):
        return Dim.fresh("s")
    try:
        if step > 0:
            start = _clamped(part.start, size, 0, size, 0)
            stop = _clamped(part.stop, size, 0, size, size)
        else:
            start = _clamped(part.start, size, -1, size - 1, size - 1)
            stop = _clamped(part.stop, size, -1, size - 1, -1)
        span = stop - start if step > 0 else start - stop
        if _decided(lambda: span <= 0):
            return 0
        if not _decided(lambda: span >= 0):
            raise InconclusiveDimension(f"whether the slice is empty depends on {span}")
        return span if abs(step) == 1 else -(-span // abs(step))
    except InconclusiveDimension:
        return Dim.fresh("s")


def _check_index(index, size, axis: int) -> None:
    if type(index) is int and is_known(size) and not -size <= index < size:
        # TensorFlow raises InvalidArgumentError (StridedSlice) here.
        raise InvalidArgumentError(
            f"Index {index} is out of bounds for axis {axis} with size {size} "
            f"(valid: {-size} to {size - 1}).", "getitem")


def _check_key(shape: tuple, key: tuple) -> int:
    """Check the rank and the integer indices ``key`` can be checked for; returns the
    number of axes it indexes."""
    ellipses = key.count(Ellipsis)
    if ellipses > 1:
        raise InvalidArgumentError(f"An index can only have a single ellipsis ('...'), "
                                   f"received {ellipses}; remove all but one.", "getitem")
    consumed = len(key) - ellipses - key.count(None)
    if consumed > len(shape):
        raise InvalidArgumentError(f"Too many indices: the tensor has rank {len(shape)} but "
                                   f"{consumed} dimensions were indexed.", "getitem")
    axis = 0
    for p in key:
        if p is Ellipsis:
            axis += len(shape) - consumed
        elif p is not None:
            if not isinstance(p, slice):
                _check_index(p, shape[axis], axis)
            axis += 1
    return consumed


def indexed_shape(shape: tuple, key: tuple) -> tuple:
    """The shape ``x[key]`` has (key: ints or Dims, slices, None and at most one ...)."""
    consumed = _check_key(shape, key)
    out, axis = [], 0
    for p in key:
        if p is None:
            out.append(1)
        elif p is Ellipsis:
            rest = len(shape) - consumed
            out.extend(shape[axis:axis + rest])
            axis += rest
        elif isinstance(p, slice):
            out.append(slice_length(shape[axis], p))
            axis += 1
        else:
            axis += 1
    out.extend(shape[axis:])
    return tuple(out)


def _getitem_shape(x, key):
    return AbstractArray(indexed_shape(x.shape, key), x.dtype)


@primitive("getitem", shape=_getitem_shape, lowering=Lowering("{0}[{key}]", result="view"))
def _getitem(xp, x, key):
    return x[key]


@_getitem.defvjp
def _getitem_vjp(ctx, g):
    return (_scatter_into_zeros(g, shape=ctx.input_shapes[0], key=ctx.attrs["key"]),)


def _scatter_into_zeros_shape(g, shape, key):
    return AbstractArray(shape, g.dtype)


@primitive("scatter_into_zeros", shape=_scatter_into_zeros_shape, lowering=_FRESH)
def _scatter_into_zeros(xp, g, shape, key):
    out = xp.zeros(shape, dtype=g.dtype)
    out[key] = g  # basic indexing never repeats an element, so assignment suffices
    return out


@_scatter_into_zeros.defvjp
def _scatter_into_zeros_vjp(ctx, g):
    return (_getitem(g, key=ctx.attrs["key"]),)


def _gather_shape(params, indices, axis, negative=False):
    if indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers, received {indices.dtype.name}")
    if not 0 <= axis < params.ndim:
        raise ValueError(f"axis {axis} is out of range for rank {params.ndim}")
    shape = params.shape
    return AbstractArray(shape[:axis] + indices.shape + shape[axis + 1:], params.dtype)


# The forward checks the indices (NumPy would wrap negative ones around), so compiled
# graphs check them too. ``negative``: indices may count from the end, as x[i] does.
@primitive("gather", save_inputs=True, shape=_gather_shape, lowering=_FRESH)
def _gather(xp, params, indices, axis, negative=False):
    size = params.shape[axis]
    if indices.size:
        low = -size if negative else 0
        if indices.min() < low or indices.max() >= size:
            flat = host_array(indices).reshape(-1)
            bad = int(flat[(flat < low) | (flat >= size)][0])
            raise InvalidArgumentError(f"gather: index {bad} is out of range for axis {axis} "
                                       f"with size {size} (valid: {low} to {size - 1}).",
                                       "gather")
    return xp.take(params, indices, axis=axis)


@_gather.defvjp
def _gather_vjp(ctx, g):
    indices = ctx.inputs[1]
    return (_scatter_add(g, indices, shape=ctx.input_shapes[0], axis=ctx.attrs["axis"]), None)


def _scatter_add_shape(updates, indices, shape, axis):
    return AbstractArray(shape, updates.dtype)


@primitive("scatter_add", save_inputs=True, shape=_scatter_add_shape, lowering=_FRESH)
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
    # The indices were checked where they were gathered (they may count from the end).
    return (_gather(g, ctx.inputs[1], axis=ctx.attrs["axis"], negative=True), None)


def _pad_shape(x, *value, paddings, constant_values=0):
    if len(paddings) != x.ndim:
        raise ValueError(f"paddings {paddings} do not match rank {x.ndim}")
    if value and value[0].ndim != 0:
        raise ValueError(f"constant_values must be a scalar, received shape {value[0].shape}")
    return AbstractArray(tuple(d + before + after for d, (before, after)
                               in zip(x.shape, paddings)), x.dtype)


# ``value``, when given, is the padding value as a 0-d tensor (a traced constant_values).
@primitive("pad", shape=_pad_shape, lowering=_FRESH)
def _pad(xp, x, *value, paddings, constant_values=0):
    fill = value[0] if value else constant_values
    return xp.pad(x, paddings, mode="constant", constant_values=fill)


@_pad.defvjp
def _pad_vjp(ctx, g):
    # Bounds from both ends, so they hold no unknown size.
    key = tuple(slice(before, -after if after else None)
                for before, after in ctx.attrs["paddings"])
    return (_getitem(g, key=key),) + (None,) * (len(ctx.input_shapes) - 1)


def _same(x):
    return AbstractArray(x.shape, x.dtype)


@primitive("stop_gradient", differentiable=False, shape=_same,
           lowering=Lowering("{0}", result="view"))
def _stop_gradient(xp, x):
    return x


@primitive("identity", shape=_same, lowering=Lowering("{0}", result="view"))
def _identity(xp, x):
    return x


@_identity.defvjp
def _identity_vjp(ctx, g):
    return (g,)


def _shape_of_shape(x, dtype):
    return AbstractArray((x.ndim,), dtype)


# tf.shape of a tensor whose sizes are unknown while tracing: read when the graph runs
# (graph passes fold it once the graph is specialised to concrete sizes).
@primitive("shape_of", differentiable=False, shape_only=True, shape=_shape_of_shape,
           lowering=_FRESH)
def _shape_of(xp, x, dtype):
    return xp.asarray(x.shape, dtype=dtype)


def _scalar_ints(*arrays) -> None:
    for a in arrays:
        if a.ndim != 0 or a.dtype.kind not in "iu":
            raise ValueError(f"expected integer scalars, received {a.dtype.name}{list(a.shape)}")


def _slice_positions_shape(size, *bounds, given):
    _scalar_ints(size, *bounds)
    return AbstractArray((Dim.fresh("n"),), np.int64)


# The positions x[start:stop:step] takes along an axis of ``size``, for bounds only known
# when the graph runs (``given`` says which of start, stop, step are inputs): Python's
# clamping of out-of-range bounds, which is TensorFlow's too. Gathered, they are the slice.
@primitive("slice_positions", differentiable=False, shape=_slice_positions_shape,
           lowering=_FRESH)
def _slice_positions(xp, size, *bounds, given):
    values = iter(bounds)
    start, stop, step = (int(next(values)) if g else None for g in given)
    return xp.arange(*slice(start, stop, step).indices(int(size)), dtype=np.int64)


def _flat_nonzero_shape(mask):
    return AbstractArray((Dim.fresh("n"),), np.int64)


# The number of true entries is only known when the op runs: the shape of what
# follows depends on the data (the graph compiler keeps such values off its buffers).
@primitive("flat_nonzero", differentiable=False, shape=_flat_nonzero_shape, lowering=_FRESH)
def _flat_nonzero(xp, mask):
    return xp.flatnonzero(mask).astype(np.int64)


def _where_indices_shape(condition):
    return AbstractArray((Dim.fresh("n"), condition.ndim), np.int64)


@primitive("where_indices", differentiable=False, shape=_where_indices_shape, lowering=_FRESH)
def where_indices(xp, condition):
    """Coordinates of the true entries of ``condition``, one row each (int64)."""
    return xp.argwhere(condition).astype(np.int64)


def _one_hot_shape(indices, *count, depth, on, off, dtype, axis):
    _scalar_ints(*count)
    if depth is not None and is_known(depth) and depth < 0:
        raise ValueError(f"depth must be non-negative, received {depth}")
    shape = list(indices.shape)
    shape.insert(axis % (len(shape) + 1), Dim.fresh("n") if depth is None else depth)
    return AbstractArray(shape, dtype)


# ``count``, given when ``depth`` is None: the depth as a 0-d tensor, only known when the
# graph runs.
@primitive("one_hot", differentiable=False, shape=_one_hot_shape, lowering=_FRESH)
def _one_hot(xp, indices, *count, depth, on, off, dtype, axis):
    if depth is None:
        depth = int(host_array(count[0]))
    if depth < 0:  # TensorFlow refuses it; NumPy would give an empty axis
        raise InvalidArgumentError(f"one_hot: depth must be non-negative, received {depth}. "
                                   f"Pass the number of classes, e.g. depth=10.", "one_hot")
    hot = xp.expand_dims(indices, -1) == xp.arange(depth)
    out = xp.where(hot, xp.asarray(on, dtype), xp.asarray(off, dtype))
    return out if axis == -1 else xp.moveaxis(out, -1, axis)


# --- public wrappers ---------------------------------------------------------------


def _check_reshape(old: tuple, dims: tuple) -> None:
    inferred = sum(1 for d in dims if _minus_one(d))
    if inferred > 1:
        raise InvalidArgumentError(f"reshape: only one dimension can be -1, received "
                                   f"{list(dims)}.", "reshape")
    for i, d in enumerate(dims):
        if type(d) is int and d < -1:
            raise InvalidArgumentError(f"reshape: Size {i} must be non-negative, not {d} "
                                       f"(shape {list(dims)}; -1 infers one size).", "reshape")
    if any(d is None for d in dims):
        return
    size, known = _inference_sizes(old, dims) if inferred else (num_elements(old),
                                                                num_elements(dims))
    if is_known(size) and is_known(known):
        wrong = (known == 0 or size % known) if inferred else known != size
    else:
        wrong = bool(inferred) and _decided(lambda: known == 0)
    if wrong:
        raise InvalidArgumentError(
            f"reshape: cannot reshape a tensor with {num_elements(old)} elements (shape "
            f"{tuple(old)}) to shape {list(dims)}.", "reshape")


def reshape(tensor, shape, name=None) -> Tensor:
    """Reshape, with at most one ``-1`` inferred, as ``tf.reshape``."""
    x = as_tensor(tensor)
    dims, sizes = shape_argument(shape, "reshape")
    old = x._value.shape
    _check_reshape(old, dims)
    if sizes is not None and any(d is None for d in dims):
        return _reshape(x, sizes(), shape=dims)
    if _same_shape(dims, old):
        return x
    if any(_minus_one(d) for d in dims) and all(type(d) is int for d in (*old, *dims)):
        dims = reshaped_shape(old, dims)  # all sizes known: the graph needs no -1
    return _reshape(x, shape=dims)


def transpose(a, perm=None, conjugate=False, name=None) -> Tensor:
    x = as_tensor(a)
    ndim = x._value.ndim
    if perm is None:
        perm = tuple(range(ndim))[::-1]
    else:
        perm = tuple(_static_ints(perm, "transpose", "perm"))
    if sorted(p % ndim if ndim else p for p in perm) != list(range(ndim)):
        raise InvalidArgumentError(
            f"transpose: perm {list(perm)} is not a permutation of 0..{ndim - 1} for a tensor "
            f"of shape {tuple(x._value.shape)}.", "transpose")
    if conjugate and x._value.dtype.kind == "c":
        # Refused rather than silently skipping the conjugate TensorFlow would take.
        raise NotImplementedError("transpose: conjugate=True of a complex tensor is not "
                                  "supported (neuroflow has no complex conjugate yet).")
    return _transpose(x, perm=tuple(p % ndim for p in perm))


def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    dims, sizes = shape_argument(shape, "broadcast_to")
    old = x._value.shape
    if _same_shape(old, dims):
        return x
    if not _broadcast_fits(old, dims):
        raise InvalidArgumentError(
            f"broadcast_to: cannot broadcast a tensor of shape {tuple(old)} to "
            f"shape {list(dims)}; each dimension must match or be 1.", "broadcast_to")
    if sizes is not None and any(d is None for d in dims):
        return _broadcast_to(x, sizes(), shape=dims)
    return _broadcast_to(x, shape=dims)


def expand_dims(input, axis, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    ndim = x._value.ndim
    axis = _single_axis(axis, "expand_dims")
    if not -ndim - 1 <= axis <= ndim:
        raise InvalidArgumentError(
            f"expand_dims: axis {axis} is out of range for a tensor of rank {ndim} (valid: "
            f"{-ndim - 1} to {ndim}).", "expand_dims")
    axis = axis % (ndim + 1)
    shape = list(x._value.shape)
    shape.insert(axis, 1)
    return _reshape(x, shape=tuple(shape))


def _single_axis(axis, op: str) -> int:
    """One axis given as an int, or as a list, array or integer tensor of one value (as
    TensorFlow takes it); it must be known when the function is traced."""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        return int(axis)
    if isinstance(axis, (list, tuple, np.ndarray)) or _is_tensor(axis):
        t = as_tensor(axis)
        if t._value.dtype.kind in "iu":
            if _is_symbolic(t):
                values = known_sizes(t) if t._value.ndim <= 1 else None
                if values is None:
                    raise ValueNeeded(f"{op}: the axis must be known when the function is "
                                      f"traced; received a tensor only known when the graph "
                                      f"runs. Pass a Python int.", traced_source(t))
                values = values if isinstance(values, tuple) else (values,)
            else:
                values = tuple(host_array(t._value).reshape(-1).tolist())
            if len(values) != 1:
                raise InvalidArgumentError(f"{op}: 'dim' must be a tensor with a single value, "
                                           f"received {t._value.size} values of shape "
                                           f"{tuple(t.shape)}; pass one axis.", op)
            if type(values[0]) is int:
                return values[0]
    raise TypeError(f"{op}: axis must be an integer, received {axis!r}; pass e.g. axis=0 or "
                    f"axis=-1.")


def squeeze(input, axis=None, name=None) -> Tensor:  # noqa: A002
    x = as_tensor(input)
    shape = x._value.shape
    if axis is None:
        for i, d in enumerate(shape):
            if not is_known(d):
                raise InconclusiveDimension(
                    f"squeeze: whether axis {i} (of unknown size {d}) has size 1 depends on "
                    f"the size; pass axis= to name the axes to squeeze.")
        axes = [i for i, d in enumerate(shape) if d == 1]
    else:
        axes = list(normalize_axis(static_axis(axis, "squeeze"), len(shape), "squeeze"))
        for a in axes:
            if _certainly_different(shape[a], 1):
                raise InvalidArgumentError(
                    f"squeeze: cannot squeeze axis {a}, its size is {shape[a]}, not 1 "
                    f"(shape {tuple(shape)}).", "squeeze")
    return _reshape(x, shape=tuple(d for i, d in enumerate(shape) if i not in axes))


def _known_all(tensors: list, ndim: int):
    """The sizes a list of 0-d (ndim 0) or 1-D (ndim 1) integer tensors holds, or None."""
    known = []
    for t in tensors:
        sizes = known_sizes(t) if t._value.ndim == ndim else None
        if sizes is None:
            return None
        known.append(sizes)
    return tuple(known) if ndim == 0 else tuple(d for sizes in known for d in sizes)


def concat(values, axis, name=None) -> Tensor:
    tensors = [as_tensor(v) for v in values]
    if not tensors:
        raise InvalidArgumentError("concat: values is empty; pass a list of at least one "
                                   "tensor.", "concat")
    check_same_dtype("concat", *tensors, names=tuple(f"values[{i}]" for i in range(len(tensors))))
    if len(tensors) == 1:
        return tensors[0]  # as TensorFlow: one tensor comes back as it is, whatever the axis
    ndim = tensors[0]._value.ndim
    (a,) = normalize_axis(static_axis(axis, "concat"), ndim, "concat")
    s0 = tensors[0]._value.shape
    for i, t in enumerate(tensors):
        s = t._value.shape
        if not _may_match(s0, s, skip=a):
            raise InvalidArgumentError(
                f"concat: values[{i}] has shape {tuple(s)}, which does not match values[0]'s "
                f"shape {tuple(s0)} outside axis {a}.", "concat")
    if ndim == 1 and any(_is_symbolic(t) for t in tensors):
        known = _known_all(tensors, 1)  # a shape assembled from parts
        if known is not None:
            constant = _constant_sizes(known, tensors[0]._value.dtype)
            return constant if constant is not None else _remember(_concat(*tensors, axis=a),
                                                                   known)
    return _concat(*tensors, axis=a)


def stack(values, axis=0, name=None) -> Tensor:
    tensors = [as_tensor(v) for v in values]
    if not tensors:
        raise ValueError("stack: values is empty; pass a list of at least one tensor.")
    first = tensors[0]._value.shape
    for i, t in enumerate(tensors):
        s = t._value.shape
        if not _may_match(first, s):
            raise InvalidArgumentError(
                f"stack: values[{i}] has shape {tuple(s)}, but values[0] has "
                f"shape {tuple(first)}; all must match.", "stack")
    if not first and any(_is_symbolic(t) for t in tensors):
        known = _known_all(tensors, 0)  # a shape assembled from sizes
        if known is not None:
            constant = _constant_sizes(known, tensors[0]._value.dtype)
            if constant is not None:
                return constant
            return _remember(concat([expand_dims(t, axis) for t in tensors], axis=axis), known)
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)


def _element(x: Tensor, key: tuple) -> Tensor:
    """``x[key]`` for a key the caller built, keeping the sizes ``x`` is known to hold."""
    if type(x._value) is AbstractArray and x._value.ndim == 1 and len(key) == 1 \
            and _plain(key[0]):
        sizes = known_sizes(x)
        if sizes is not None:
            part = sizes[key[0]]
            constant = _constant_sizes(part, x._value.dtype)
            return constant if constant is not None else _remember(_getitem(x, key=key), part)
    return _getitem(x, key=key)


def _plain(part) -> bool:
    """Whether an index part is an int or a slice of ints (one Python can apply)."""
    if isinstance(part, slice):
        return all(v is None or type(v) is int for v in (part.start, part.stop, part.step))
    return type(part) is int


def unstack(value, num=None, axis=0, name=None) -> list[Tensor]:
    x = as_tensor(value)
    if x._value.ndim == 0:
        raise ValueError("unstack: the input is a scalar, which has no axis to unstack; give "
                         "a tensor of rank 1 or more.")
    (a,) = normalize_axis(static_axis(axis, "unstack"), x._value.ndim, "unstack")
    count = x._value.shape[a]
    if not is_known(count):
        if num is None:
            raise ValueError(f"unstack: cannot infer num: axis {a} has a size only known when "
                             f"the graph runs; pass num=.")
        count = int(num)
    elif num is not None and num != count:
        raise InvalidArgumentError(f"unstack: num={num} but axis {a} has size {count}; pass "
                                   f"num={count} or leave num=None.", "unstack")
    prefix = (slice(None),) * a
    return [_element(x, prefix + (i,)) for i in range(count)]


def split(value, num_or_size_splits, axis=0, num=None, name=None) -> list[Tensor]:
    x = as_tensor(value)
    (a,) = normalize_axis(static_axis(axis, "split"), x._value.ndim, "split")
    size = x._value.shape[a]
    if _is_tensor(num_or_size_splits) and as_tensor(num_or_size_splits)._value.ndim == 0:
        # As TensorFlow: a scalar tensor is the number of parts, as an int is.
        num_or_size_splits = _static_size(num_or_size_splits, "split", "the number of parts")
    if isinstance(num_or_size_splits, (int, np.integer)):
        n = int(num_or_size_splits)
        if n <= 0 or (is_known(size) and size % n):
            raise InvalidArgumentError(
                f"split: axis {a} has size {size}, which is not divisible by {n}.", "split")
        try:
            sizes = [size // n] * n
        except InconclusiveDimension:
            raise InconclusiveDimension(
                f"split: whether axis {a} (of unknown size {size}) splits into {n} equal "
                f"parts depends on the size; give the sizes of the parts.") from None
    else:
        sizes, _ = shape_argument(num_or_size_splits, "split")
        if any(d is None for d in sizes):
            raise ValueError("split: the sizes must be known when the function is traced.")
        sizes = list(sizes)
        inferred = [i for i, d in enumerate(sizes) if _minus_one(d)]
        if len(inferred) == 1:
            rest = [d for i, d in enumerate(sizes) if i != inferred[0]]
            sizes[inferred[0]] = size - _total(rest)
        if (is_known(size) and all(is_known(d) for d in sizes)
                and (sum(sizes) != size or min(sizes, default=0) < 0)):
            raise InvalidArgumentError(
                f"split: sizes {sizes} do not add up to axis {a}'s size {size}.", "split")
    prefix = (slice(None),) * a
    out, start = [], 0
    for s in sizes:
        out.append(_getitem(x, key=prefix + (_span(start, start + s, size),)))
        start = start + s
    return out


def _total(sizes) -> Dim | int:
    total = 0
    for d in sizes:
        total = total + d
    return total


def tile(input, multiples, name=None) -> Tensor:  # noqa: A002
    """Repeat ``input`` ``multiples[i]`` times along axis i (composite of reshape+broadcast)."""
    x = as_tensor(input)
    reps, make = shape_argument(multiples, "tile")
    shape = x._value.shape
    if len(reps) != len(shape):
        raise InvalidArgumentError(
            f"tile: multiples has length {len(reps)} but the input has rank {len(shape)}.",
            "tile")
    for i, r in enumerate(reps):
        if type(r) is int and r < 0:
            raise InvalidArgumentError(f"tile: Expected multiples[{i}] >= 0, but got {r} "
                                       f"(multiples {list(reps)}).", "tile")
    expanded = reshape(x, [d for s in shape for d in (1, s)])
    if any(r is None for r in reps):
        return _tile_at_run_time(x, expanded, make())
    wide = broadcast_to(expanded, [d for r, s in zip(reps, shape) for d in (r, s)])
    return reshape(wide, [r * s for r, s in zip(reps, shape)])


def _tile_at_run_time(x: Tensor, expanded: Tensor, multiples: Tensor) -> Tensor:
    """tile with multiples only known when the graph runs: the broadcast and the final
    reshape take their shapes as tensors (a negative multiple is refused when it runs)."""
    from neuroflow.ops import elementwise as ew

    counts = ew.cast(multiples, np.int64)
    sizes = shape(x, out_type="int64")
    wide = broadcast_to(expanded, reshape(stack([counts, sizes], axis=1), [-1]))
    return reshape(wide, ew.multiply(counts, sizes))


def reverse(tensor, axis, name=None) -> Tensor:
    x = as_tensor(tensor)
    axis = static_axis(axis, "reverse")
    axes = normalize_axis(axis, x._value.ndim, "reverse")
    given = _axis_values(axis)
    if len(axes) != len(given):
        raise InvalidArgumentError(f"reverse: an axis is specified more than once in {given}; "
                                   f"name each axis once.", "reverse")
    key = tuple(slice(None, None, -1) if i in axes else slice(None)
                for i in range(x._value.ndim))
    return _getitem(x, key=key)


def _axis_values(axis) -> list:
    """The axes as given (an int, a list, or a concrete tensor), repeats kept."""
    if isinstance(axis, (int, np.integer)):
        return [axis]
    if _is_tensor(axis):
        return host_array(as_tensor(axis)._value).reshape(-1).tolist()
    return list(axis)


def slice_tensor(input_, begin, size, name=None) -> Tensor:
    """``tf.slice``: the block of ``size`` elements starting at ``begin`` (-1: to the end)."""
    x = as_tensor(input_)
    begin_sizes, begin_t = shape_argument(begin, "slice")
    size_sizes, size_t = shape_argument(size, "slice")
    shape = x._value.shape
    if len(begin_sizes) != len(shape) or len(size_sizes) != len(shape):
        raise InvalidArgumentError(
            f"slice: begin {list(begin_sizes)} and size {list(size_sizes)} must each have one "
            f"entry per dimension of the input's shape {tuple(shape)}.", "slice")
    parts = []
    for axis, (b, s, d) in enumerate(zip(begin_sizes, size_sizes, shape)):
        if b is None or s is None:
            parts.append(None)  # bounds only known when the graph runs
            continue
        end = d if _minus_one(s) else b + s
        if all(is_known(v) for v in (b, s, d)) and not 0 <= b <= end <= d:
            raise InvalidArgumentError(
                f"slice: begin {b} with size {s} is out of range for axis {axis} of size {d}.",
                "slice")
        parts.append(slice(b, None if _minus_one(s) else end))
    if all(p is not None for p in parts):
        return _getitem(x, key=tuple(parts))
    return _slice_at_run_time(x, parts, (begin_sizes, begin_t), (size_sizes, size_t))


def _slice_at_run_time(x: Tensor, parts: list, begin: tuple, size: tuple) -> Tensor:
    """tf.slice where some bounds are only known when the graph runs. The bounds clamp to
    the axis, as slices do (TensorFlow would refuse bounds past the end)."""
    from neuroflow.ops import elementwise as ew

    made: dict = {}

    def entry(argument, i):
        sizes, make = argument
        if type(sizes[i]) is int:
            return Tensor(np.asarray(sizes[i], np.int64))
        if id(argument) not in made:
            made[id(argument)] = make()
        return ew.cast(_getitem(made[id(argument)], key=(i,)), np.int64)

    dynamic = []
    for axis, part in enumerate(parts):
        if part is not None:
            continue
        start, count = entry(begin, axis), size[0][axis]
        if _minus_one(count):
            end = None
        elif type(count) is int:
            end = ew.add(start, Tensor(np.asarray(count, np.int64)))
        else:
            count = entry(size, axis)  # -1 means "to the end"
            end = ew.where(ew.less(count, Tensor(np.asarray(0, np.int64))),
                           Tensor(np.asarray(np.iinfo(np.int64).max)), ew.add(start, count))
        dynamic.append((axis, (start, end, None)))
        parts[axis] = slice(None)
    return _index_at_run_time(x, tuple(parts), dynamic)


def getitem(x, key) -> Tensor:
    """``x[key]`` with TensorFlow's rules: ints, slices, ``...``, ``None``, scalar tensors."""
    x = as_tensor(x)
    if _is_mask(key):
        return boolean_mask(x, key)  # as TensorFlow: x[mask] for a boolean tensor or array
    parts, dynamic = _normalize_key(key, x._value.shape)
    if dynamic:
        return _index_at_run_time(x, parts, dynamic)
    return _element(x, parts)


def _is_mask(key) -> bool:
    """Whether an index is a boolean tensor or NumPy array (not a Python bool: x[True] is
    refused as TensorFlow refuses it)."""
    if isinstance(key, np.ndarray):
        return key.dtype == np.bool_
    return _is_tensor(key) and as_tensor(key)._value.dtype.kind == "b"


def _normalize_key(key, shape: tuple) -> tuple[tuple, list]:
    """The key as ints (or Dims), slices, None and ..., and the parts only known when the
    graph runs: (position, index tensor or (start, stop, step)), left as ``slice(None)``."""
    if not isinstance(key, tuple):
        key = (key,)
    parts, dynamic = [], []
    for item in key:
        if _is_tensor(item):
            item = as_tensor(item)
            if item._value.ndim != 0 or item._value.dtype.kind not in "iu":
                if item._value.dtype.kind == "b":
                    raise TypeError("A boolean tensor is a valid index only on its own "
                                    "(x[mask]); inside a tuple use tf.boolean_mask(x, mask, "
                                    "axis=...).")
                raise TypeError(
                    f"Only integers, slices, ellipsis, tf.newaxis and scalar integer tensors "
                    f"are valid indices, received a {item.dtype.name} tensor of shape "
                    f"{tuple(item.shape)}. Use tf.gather for a list of indices.")
            index = known_sizes(item)
            if index is None:
                dynamic.append((len(parts), item))
                item = slice(None)
            else:
                item = index
        elif isinstance(item, slice):
            start, stop, step = item.start, item.stop, item.step
            if not ((start is None or type(start) is int) and (stop is None or type(stop) is int)
                    and (step is None or type(step) is int)):
                bounds = [_slice_bound(v) for v in (start, stop, step)]
                if any(static is None and tensor is not None for static, tensor in bounds):
                    dynamic.append((len(parts), tuple(static if tensor is None else tensor
                                                      for static, tensor in bounds)))
                    parts.append(slice(None))
                    continue
                item = slice(*(static for static, _ in bounds))
                step = item.step
            if type(step) is int and step == 0:
                raise InvalidArgumentError(f"Slice step cannot be zero, received {item}; use a "
                                           f"positive step, or a negative one to go backwards.",
                                           "getitem")
        elif isinstance(item, (bool, np.bool_)):
            # TensorFlow raises ValueError here; this error is also a TypeError.
            raise DTypeMismatchError(f"Booleans are not valid indices, received {item!r}. Use "
                                     f"an integer, or tf.boolean_mask(x, mask) to select by a "
                                     f"mask.", "getitem")
        elif isinstance(item, (int, np.integer)):
            item = int(item)
        elif item is not None and item is not Ellipsis and not isinstance(item, Dim):
            raise TypeError(
                f"Only integers, slices, ellipsis (...), tf.newaxis (None) and scalar integer "
                f"tensors are valid indices, received {item!r}. Use tf.gather for a list of "
                f"indices.")
        parts.append(item)
    parts = tuple(parts)
    _check_key(shape, parts)
    return parts, dynamic


def _slice_bound(value) -> tuple:
    """A slice bound as (what the trace knows: int, Dim or None; the symbolic tensor)."""
    if value is None or isinstance(value, Dim):
        return value, None
    if _is_tensor(value):
        t = as_tensor(value)
        if t._value.ndim != 0 or t._value.dtype.kind not in "iu":
            raise TypeError(f"Slice bounds must be integers or scalar integer tensors, "
                            f"received a {t.dtype.name} tensor of shape {tuple(t.shape)}.")
        return known_sizes(t), (t if _is_symbolic(t) else None)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Slice bounds must be integers or scalar integer tensors, "
                        f"received {value!r}.")
    return int(value), None


def _size_tensor(x: Tensor, axis: int) -> Tensor:
    """The size of ``x`` along ``axis`` as an int64 scalar (a constant when it is known)."""
    size = x._value.shape[axis]
    if is_known(size):
        return Tensor(np.asarray(size, np.int64))
    from neuroflow.ops.reductions import _size_of

    return _size_of(x, axes=(axis,), dtype=np.dtype(np.int64))


def _index_at_run_time(x: Tensor, parts: tuple, dynamic: list) -> Tensor:
    """``x[parts]``, then each part only known when the graph runs, gathered along its
    axis of the result: a scalar index drops the axis, a slice gathers its positions."""
    trivial = all(isinstance(p, slice) and p == slice(None) for p in parts)
    y = x if trivial else _getitem(x, key=parts)
    ndim = x._value.ndim
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    axis_of, out_axis = {}, 0
    for i, p in enumerate(parts):
        if p is None:
            out_axis += 1
        elif p is Ellipsis:
            out_axis += ndim - consumed
        elif isinstance(p, slice):
            axis_of[i] = out_axis
            out_axis += 1
    # From the last to the first, so a dropped axis never moves the axes still to come.
    for position, item in reversed(dynamic):
        axis = axis_of[position]
        if isinstance(item, tuple):
            given = tuple(v is not None for v in item)
            bounds = [v if _is_tensor(v) else Tensor(np.asarray(v, np.int64))
                      for v in item if v is not None]
            positions = _slice_positions(_size_tensor(y, axis), *bounds, given=given)
            y = _gather(y, positions, axis=axis)
        else:
            y = _gather(y, item, axis=axis, negative=True)
    return y


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None) -> Tensor:
    """Take slices of ``params`` at ``indices`` along ``axis`` (default 0).

    Out-of-range indices raise InvalidArgumentError when the op runs (in compiled graphs
    too), naming the index and the axis size.
    """
    x = as_tensor(params)
    idx = as_tensor(indices)
    if x._value.ndim == 0:
        raise InvalidArgumentError("gather: params must be at least 1 dimensional, received a "
                                   "scalar.", "gather")
    if idx._value.dtype not in (np.int16, np.int32, np.int64):
        # TensorFlow raises InvalidArgumentError eagerly, TypeError in graphs: this is both.
        raise DTypeMismatchError(f"gather: indices must be integers (int16, int32 or int64), "
                                 f"received {idx.dtype.name}; use tf.cast(indices, tf.int32).",
                                 "gather")
    batch_dims = _static_size(batch_dims, "gather", "batch_dims")
    rank = idx._value.ndim
    if not -rank <= batch_dims <= rank:
        raise InvalidArgumentError(f"gather: Expected batch_dims in the range [{-rank}, "
                                   f"{rank}], but got {batch_dims} (the rank of indices is "
                                   f"{rank}).", "gather")
    if batch_dims < 0:
        batch_dims += rank
    (a,) = normalize_axis(batch_dims if axis is None else static_axis(axis, "gather"),
                          x._value.ndim, "gather")
    if not batch_dims:
        return _gather(x, idx, axis=a)
    if a < batch_dims:
        raise InvalidArgumentError(f"gather: batch_dims ({batch_dims}) must be less than or "
                                   f"equal to axis ({a}).", "gather")
    for k in range(batch_dims):
        p, q = x._value.shape[k], idx._value.shape[k]
        if _certainly_different(p, q):
            raise InvalidArgumentError(f"gather: params.shape[{k}]: {p} should be equal to "
                                       f"indices.shape[{k}]: {q} (the first batch_dims="
                                       f"{batch_dims} axes are batch axes).", "gather")
    return _batch_gather(x, idx, a, batch_dims)


def _batch_gather(x: Tensor, idx: Tensor, axis: int, batch_dims: int) -> Tensor:
    """gather with batch axes: each batch gathers from its own slice of ``x``.

    Moving ``axis`` next to the batch axes and folding them together turns it into one
    plain gather, with each index offset by its batch's start (so the gradient is
    gather's). The indices are checked against the axis size first: an offset index
    would otherwise read a neighbouring batch.
    """
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops.creation import range_
    from neuroflow.ops.reductions import reduce_prod

    b, ndim = batch_dims, x._value.ndim
    middle = list(range(b, axis))
    rest = list(range(axis + 1, ndim))
    moved = transpose(x, list(range(b)) + [axis] + middle + rest)
    shape_ = moved._value.shape
    flat = reshape(moved, [-1, *shape_[b + 1:]])
    size = _size_tensor(x, axis)
    if not _is_symbolic(idx) and is_known(x._value.shape[axis]) and idx._value.size:
        values = host_array(idx._value)
        bad = values[(values < 0) | (values >= x._value.shape[axis])]
        if bad.size:
            raise InvalidArgumentError(f"gather: index {int(bad[0])} is out of range for axis "
                                       f"{axis} with size {x._value.shape[axis]} (valid: 0 to "
                                       f"{x._value.shape[axis] - 1}).", "gather")
    # Gathering the positions 0..size-1 at the indices gives the indices, checked when the
    # graph runs too.
    checked = _gather(range_(size, dtype="int64"), idx, axis=0)
    batch_shape = shape(idx, out_type="int64")[:b]
    batch_ids = range_(reduce_prod(batch_shape), dtype="int64")
    inner = idx._value.ndim - b
    batch_ids = reshape(batch_ids, concat([batch_shape, Tensor(np.ones(inner, np.int64))], 0))
    out = _gather(flat, ew.add(checked, ew.multiply(batch_ids, size)), axis=0)
    # out: batch axes, index axes, middle axes, rest; gather puts the index axes after middle.
    index_axes = list(range(b, b + inner))
    middle_axes = list(range(b + inner, b + inner + len(middle)))
    tail = list(range(b + inner + len(middle), out._value.ndim))
    return transpose(out, list(range(b)) + middle_axes + index_axes + tail)


def boolean_mask(tensor, mask, axis=None, name=None) -> Tensor:
    """The entries of ``tensor`` where ``mask`` is true (non-zero: TensorFlow takes numeric
    masks too), the mask covering axes ``axis`` (default 0) to ``axis + mask.ndim - 1``."""
    x, m = as_tensor(tensor), as_tensor(mask)
    k = m._value.ndim
    if k == 0:
        raise ValueError("boolean_mask: mask cannot be scalar; give a mask with one entry per "
                         "element of the axes it selects from.")
    a = 0 if axis is None else _static_size(axis, "boolean_mask", "axis")
    if not is_known(a) or not -x._value.ndim <= a < max(x._value.ndim, 1):
        raise InvalidArgumentError(f"boolean_mask: axis {a} is out of range for a tensor of "
                                   f"rank {x._value.ndim}.", "boolean_mask")
    a %= max(x._value.ndim, 1)
    shape = x._value.shape
    covered = shape[a:a + k]
    if len(covered) != k or any(_certainly_different(p, q)
                                for p, q in zip(covered, m._value.shape)):
        raise InvalidArgumentError(
            f"boolean_mask: mask shape {tuple(m._value.shape)} must match the tensor's shape "
            f"{tuple(shape)} at axes {a}..{a + k - 1}.", "boolean_mask")
    flat = reshape(x, [*shape[:a], -1, *shape[a + k:]]) if k != 1 else x
    return _gather(flat, _flat_nonzero(m), axis=a)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    x = as_tensor(tensor)
    mode = mode.upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected CONSTANT, REFLECT or SYMMETRIC.")
    if _holds_symbolic(paddings):
        return _pad_at_run_time(x, _packed(paddings), mode, constant_values)
    pads = _paddings(paddings)
    if pads.shape != (x._value.ndim, 2):
        raise InvalidArgumentError(
            f"pad: paddings must have shape ({x._value.ndim}, 2) for a tensor of rank "
            f"{x._value.ndim}, received {pads.shape}.", "pad")
    if pads.size and pads.min() < 0:
        raise InvalidArgumentError(f"pad: paddings must be non-negative, received "
                                   f"{pads.tolist()}.", "pad")
    pairs = tuple(map(tuple, pads.tolist()))
    if mode == "CONSTANT":
        value = _pad_value(x, constant_values)
        if _is_symbolic(value):
            return _pad(x, value, paddings=pairs)
        return _pad(x, paddings=pairs, constant_values=host_array(value._value).item())
    # Mirror padding is a gather along each padded axis, so it needs no gradient rule.
    for axis, (before, after) in enumerate(pads.tolist()):
        if before or after:
            size = x._value.shape[axis]
            if not is_known(size):
                raise ValueError(f"pad: {mode} padding of axis {axis} needs its size, which "
                                 f"is only known when the graph runs; give it a fixed size.")
            index = _mirror_index(size, before, after, mode, axis)
            x = _gather(x, Tensor(index), axis=axis)
    return x


def _pad_value(x: Tensor, constant_values) -> Tensor:
    """The padding value as a 0-d tensor of ``x``'s dtype."""
    if _is_tensor(constant_values):
        value = as_tensor(constant_values)
    elif type(constant_values) is int and constant_values == 0:
        value = Tensor(np.zeros((), x._value.dtype))  # the default pads any dtype
    else:  # a Python 1.5 for an int tensor is a TypeError, as in TensorFlow
        value = as_tensor(constant_values, dtype=x.dtype)
    if value._value.ndim != 0:
        raise InvalidArgumentError(f"pad: constant_values must be a scalar, received shape "
                                   f"{tuple(value.shape)}; give one number, e.g. "
                                   f"constant_values=0.", "pad")
    if _is_symbolic(value):
        check_same_dtype("pad", x, value, names=("tensor", "constant_values"))
    return value


def _pad_at_run_time(x: Tensor, paddings: Tensor, mode: str, constant_values) -> Tensor:
    """Constant padding by amounts only known when the graph runs: blocks of the value,
    shaped from tensors, joined on each side of each axis."""
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops.creation import fill

    _check_int_tensor(paddings, "pad")
    rank = x._value.ndim
    if _certainly_different_shape(paddings._value.shape, (rank, 2)):
        raise InvalidArgumentError(
            f"pad: paddings must have shape ({rank}, 2) for a tensor of rank {rank}, received "
            f"{tuple(paddings.shape)}.", "pad")
    if mode != "CONSTANT":
        raise ValueError(f"pad: {mode} padding needs paddings known when the function is "
                         f"traced; received a tensor only known when the graph runs.")
    value = _pad_value(x, constant_values)
    amounts = ew.cast(paddings, np.int64)
    for axis in range(rank):
        sizes = shape(x, out_type="int64")
        blocks = [fill(concat([sizes[:axis], reshape(amounts[axis, side], [1]),
                               sizes[axis + 1:]], 0), value) for side in (0, 1)]
        x = concat([blocks[0], x, blocks[1]], axis)
    return x


def _holds_symbolic(value) -> bool:
    """Whether ``value`` is, or is a nested list holding, a symbolic tensor."""
    if isinstance(value, (list, tuple)):
        return any(_holds_symbolic(v) for v in value)
    return _is_tensor(value) and _is_symbolic(as_tensor(value))


def _packed(value) -> Tensor:
    """A nested list of ints and integer scalar tensors as one int64 tensor (TensorFlow packs
    such lists the same way)."""
    from neuroflow.ops import elementwise as ew

    if isinstance(value, (list, tuple)):
        return stack([_packed(v) for v in value])
    t = as_tensor(value)
    _check_int_tensor(t, "pad")
    return ew.cast(t, np.int64)


def _certainly_different_shape(a: tuple, b: tuple) -> bool:
    return len(a) != len(b) or any(_certainly_different(p, q) for p, q in zip(a, b))


def _paddings(paddings) -> np.ndarray:
    """Paddings known while tracing, as an int64 array."""
    if _is_tensor(paddings):
        pads = host_array(as_tensor(paddings)._value)
    else:
        pads = np.asarray(paddings)
    if pads.size and pads.dtype.kind not in "iu":
        raise _refuse_shape_dtype("pad", f"paddings of {pads.dtype.name}")
    return pads.astype(np.int64)


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
    if idx._value.dtype not in (np.uint8, np.int8, np.int32, np.int64):
        raise DTypeMismatchError(f"one_hot: indices must be uint8, int8, int32 or int64, "
                                 f"received {idx.dtype.name}; use tf.cast(indices, tf.int32).",
                                 "one_hot")
    given = [as_tensor(v) for v in (on_value, off_value) if v is not None]
    if len(given) == 2 and given[0]._value.dtype != given[1]._value.dtype:
        raise TypeError(f"one_hot: dtype {given[0].dtype.name} of on_value does not match dtype "
                        f"{given[1].dtype.name} of off_value; give both the same dtype.")
    kind = np.dtype(as_dtype(dtype).np if dtype is not None else (
        given[0]._value.dtype if given else np.float32))
    count = run_time_count(depth, "one_hot", "depth")
    depth = None if count else _static_size(depth, "one_hot", "depth")
    axis = -1 if axis is None else _static_size(axis, "one_hot", "axis")
    if not -1 <= axis <= idx._value.ndim:
        raise InvalidArgumentError(f"one_hot: Expected axis to be -1 or between [0, "
                                   f"{idx._value.ndim}], but received {axis}.", "one_hot")
    if any(_is_symbolic(t) for t in given):
        # Values only known when the graph runs: pick them where the indices are hot.
        from neuroflow.ops import elementwise as ew

        on = as_tensor(1 if on_value is None else on_value, dtype=kind)
        off = as_tensor(0 if off_value is None else off_value, dtype=kind)
        hot = _one_hot(idx, *count, depth=depth, on=True, off=False, dtype=np.dtype(bool),
                       axis=axis)
        return ew.where(hot, on, off)
    on = 1 if on_value is None else host_array(as_tensor(on_value)._value).item()
    off = 0 if off_value is None else host_array(as_tensor(off_value)._value).item()
    return _one_hot(idx, *count, depth=depth, on=on, off=off, dtype=kind, axis=axis)


def stop_gradient(input, name=None) -> Tensor:  # noqa: A002
    return _stop_gradient(as_tensor(input))


def identity(input, name=None) -> Tensor:  # noqa: A002
    return _identity(as_tensor(input))


def shape(input, out_type="int32", name=None) -> Tensor:  # noqa: A002
    """The shape as a 1-D tensor: a constant when every size is known, else computed when
    the graph runs (and known to the trace as the unknown sizes it holds)."""
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input)
    dtype = as_dtype(out_type).np
    if np.dtype(dtype) not in (np.int32, np.int64):
        raise DTypeMismatchError(f"shape: out_type must be int32 or int64, received "
                                 f"{np.dtype(dtype).name}.", "shape")
    sizes = x._value.shape
    if type(x._value) is not AbstractArray or all(type(d) is int for d in sizes):
        return Tensor(np.asarray(sizes, dtype=dtype))
    return _remember(_shape_of(x, dtype=np.dtype(dtype)), sizes)


def size(input, out_type="int32", name=None) -> Tensor:  # noqa: A002
    from neuroflow.dtypes import as_dtype

    x = as_tensor(input)
    dtype = as_dtype(out_type).np
    count = x._value.size
    if is_known(count):
        return Tensor(np.asarray(count, dtype=dtype))
    from neuroflow.ops.reductions import _size_of

    return _remember(_size_of(x, axes=None, dtype=np.dtype(dtype)), count)


def rank(input, name=None) -> Tensor:  # noqa: A002
    return Tensor(np.asarray(as_tensor(input)._value.ndim, dtype=np.int32))
