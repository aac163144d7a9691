"""Convolution and pooling over 1, 2 or 3 spatial dimensions (``tf.nn.conv2d`` and kin).

The primitives work on channels-last arrays, ``(batch, *spatial, channels)``, with the
filter laid out as TensorFlow's, ``(*kernel, in_channels, out_channels)``; the public
wrappers turn ``data_format="NCHW"`` into transposes around them. Padding is resolved
by the wrappers into explicit ``(before, after)`` pairs per spatial axis, so a primitive
never needs to know whether the user said ``"SAME"``.

A convolution is a matrix product over extracted patches (im2col): the patches of every
output position are a strided *view* of the padded input, copied into a ``(positions,
kernel * in_channels)`` matrix that BLAS multiplies by the filter, a block of the batch
at a time so that the copy is still in cache when BLAS reads it. The two gradients are
primitives of their own, and each is the adjoint of the others (``conv_input_grad`` is
the transpose of ``conv`` in its input, ``conv_filter_grad`` in its filter), so their own
gradients close the family and second derivatives work. The input gradient is one
product per block followed by one strided add per kernel position (col2im).

Pooling takes windows the same way; windows that tile the input (strides = window, as
in Keras's default) are a reshaped view, one ``maximum`` per window position. Max
pooling's gradient sends each output's gradient to the first maximum of its window (the
position TensorFlow's CPU kernel picks); average pooling divides by the number of input
elements under the window, padding not counted, as TensorFlow does for ``"SAME"``.

Where these results are large, generated code passes the memory plan's buffer as
``out`` (``_emit_into_buffer``) and every forward here fills it completely.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from neuroflow.abstract import AbstractArray, is_known
from neuroflow.errors import InvalidArgumentError, UnimplementedError
from neuroflow.ops import shape_ops as so
from neuroflow.ops import shape_rules as rules
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor, host_array

# The dtypes TensorFlow's CPU kernels take, by op family.
_FLOATS = (np.float16, np.float32, np.float64)
_CONV_DTYPES = (*_FLOATS, np.int32)
_MAX_POOL_DTYPES = (*_FLOATS, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16)


# --- windows: strided views of a padded input ---------------------------------------------


def _pad(xp, x, pads, value=0):
    if not any(lo or hi for lo, hi in pads):
        return x
    return xp.pad(x, [(0, 0), *pads, (0, 0)], constant_values=value)


def _windows(xp, padded, kernel, strides, dilations, out):
    """A view ``(batch, *out, *kernel, channels)`` of the windows of a padded input."""
    step = padded.strides
    spatial = range(1, 1 + len(kernel))
    shape = (padded.shape[0], *out, *kernel, padded.shape[-1])
    strides_ = (step[0], *(step[a] * s for a, s in zip(spatial, strides)),
                *(step[a] * d for a, d in zip(spatial, dilations)), step[-1])
    return xp.lib.stride_tricks.as_strided(padded, shape, strides_, writeable=False)


def _out_size(size, k, stride, dilation, lo, hi):
    # A window larger than the padded input fits nowhere: an empty output, as in TensorFlow.
    return max((size + lo + hi - (k - 1) * dilation - 1) // stride + 1, 0)


def _out_sizes(spatial, kernel, strides, dilations, pads):
    return tuple(_out_size(n, k, s, d, lo, hi) for n, k, s, d, (lo, hi)
                 in zip(spatial, kernel, strides, dilations, pads))


def _offset_slices(offset, strides, dilations, out):
    """The padded-input slice that kernel position ``offset`` reads for every output."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                 for i, s, d, o in zip(offset, strides, dilations, out))


def _offset_regions(kernel, strides, dilations, out):
    """Per kernel position, in the filter's order: the region of a padded input it reads."""
    return [(slice(None), *_offset_slices(offset, strides, dilations, out), slice(None))
            for offset in itertools.product(*map(range, kernel))]


# --- patch matrices (im2col), a block of the batch at a time ------------------------------

# The patch matrix of a block of the batch is about this many bytes, so that it is still
# in the processor's cache when BLAS reads it (or, for the input gradient, when its rows
# are added back). On the Keras MNIST convnet's second layer (batch 128, 13x13x32 inputs,
# 3x3x32x64 filter) 1-2 MiB blocks ran its forward pass and filter gradient 10-25%
# faster than one matrix for the whole batch (smaller blocks lose it again).
_BLOCK_BYTES = 2 ** 21

# With fewer input channels than this, the patch matrix is built transposed: a row per
# kernel position and channel, each a copy of one slice of the input, in runs along an
# output row. From it on, a row per output position, copied from the windows view in runs
# of kernel width x channels. Measured on 3x3 kernels over 28x28 images: with 1 channel
# transposed builds 3.5x faster, with 3 as fast, from 4 on rows are faster (16: 3.6x).
_TRANSPOSED_PATCHES_BELOW = 4

# The same choice for the input gradient's adjoint (col2im), whose adds run along output
# rows a channel at a time when transposed, and along the channels otherwise: transposed
# was 3x faster with 3 channels, 1.3x with 8, even with 10, slower from 12 on.
_TRANSPOSED_COL2IM_BELOW = 10


def _batch_blocks(batch, bytes_per_sample):
    step = max(1, _BLOCK_BYTES // max(1, bytes_per_sample))
    return [slice(start, min(start + step, batch)) for start in range(0, batch, step)]


def _patches(xp, padded, kernel, strides, dilations, out):
    """The patch matrix ``(positions, kernel positions * channels)`` of a padded input, its
    columns in the order of the filter's rows; a transposed view when channels are few."""
    batch, channels = padded.shape[0], padded.shape[-1]
    positions, size = batch * math.prod(out), math.prod(kernel) * channels
    if channels < _TRANSPOSED_PATCHES_BELOW:
        columns = xp.empty((math.prod(kernel), channels, batch, *out), padded.dtype)
        for index, region in enumerate(_offset_regions(kernel, strides, dilations, out)):
            columns[index] = xp.moveaxis(padded[region], -1, 0)
        return columns.reshape(size, positions).T
    return _windows(xp, padded, kernel, strides, dilations, out).reshape(positions, size)


# --- lowering: results written into planned buffers -------------------------------------


def _emit_into_buffer(node, args, buffer, bind) -> str:
    """Generated code calls the forward with the buffer memory planning gave the result.

    The results here are large (a layer's activations or their gradient) and a new array
    of that size is new pages for the operating system to map on each step: on the Keras
    MNIST convnet, about 6,500 page faults a step, and the step took 1.35x as long as
    with buffers. A planned buffer is the same warm memory on every call. (The attributes are plain
    ints: the public ops require spatial sizes known when tracing.)
    """
    forward = bind(f"P_{node.op}_", node.primitive.forward)
    out = f", out={buffer}" if buffer else ""
    return (f"{node.output.name} = {forward}(np, {', '.join(args)}{out}, "
            f"**{bind('A', node.attrs)})")


_INTO_BUFFER = Lowering(emit=_emit_into_buffer, out=True, result="fresh")


# --- conv and its two gradients -----------------------------------------------------------


def _conv_shape(x, w, *, strides, dilations, pads):
    out = _out_sizes(x.shape[1:-1], w.shape[:-2], strides, dilations, pads)
    return AbstractArray((x.shape[0], *out, w.shape[-1]), x.dtype)


@primitive("conv", save_inputs=True, shape=_conv_shape, lowering=_INTO_BUFFER)
def _conv(xp, x, w, out=None, *, strides, dilations, pads):
    kernel, filters = w.shape[:-2], w.shape[-1]
    sizes = _out_sizes(x.shape[1:-1], kernel, strides, dilations, pads)
    padded = _pad(xp, x, pads)
    size = math.prod(kernel) * x.shape[-1]
    flat_w = w.reshape(size, filters)
    y = xp.empty((x.shape[0], *sizes, filters), x.dtype) if out is None else out
    positions = math.prod(sizes)
    for block in _batch_blocks(x.shape[0], positions * size * x.itemsize):
        patches = _patches(xp, padded[block], kernel, strides, dilations, sizes)
        xp.matmul(patches, flat_w, out=y[block].reshape(patches.shape[0], filters))
    return y


@_conv.defvjp
def _conv_vjp(ctx, g):
    x, w = ctx.inputs
    attrs = ctx.attrs
    return (_conv_input_grad(g, w, spatial=tuple(x.shape[1:-1]), **attrs)
            if ctx.needs(0) else None,
            _conv_filter_grad(x, g, kernel=tuple(w.shape[:-2]), **attrs)
            if ctx.needs(1) else None)


def _conv_input_grad_shape(g, w, *, spatial, strides, dilations, pads):
    return AbstractArray((g.shape[0], *spatial, w.shape[-2]), g.dtype)


@primitive("conv_input_grad", save_inputs=True, shape=_conv_input_grad_shape,
           lowering=_INTO_BUFFER)
def _conv_input_grad(xp, g, w, out=None, *, spatial, strides, dilations, pads):
    kernel, channels, filters = w.shape[:-2], w.shape[-2], w.shape[-1]
    sizes = g.shape[1:-1]
    padded_shape = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))
    unpadded = padded_shape == tuple(spatial)
    dx = (out if out is not None and unpadded
          else xp.empty((g.shape[0], *padded_shape, channels), g.dtype))
    size = math.prod(kernel) * channels
    flat_w = w.reshape(size, filters)
    regions = _offset_regions(kernel, strides, dilations, sizes)
    positions = math.prod(sizes)
    # With unit strides the first kernel position reads the corner [0, out) of every axis:
    # its share is copied there and only the rest is zero-filled (one pass fewer).
    copy_first = all(s == 1 for s in strides)
    # Per block: one product for all kernel positions (the patch matrix's adjoint), then
    # each position adds its share back while the block is in cache (col2im).
    for block in _batch_blocks(g.shape[0], positions * size * g.itemsize):
        part = dx[block]
        count = part.shape[0]
        flat_g = g[block].reshape(count * positions, filters)
        if channels < _TRANSPOSED_COL2IM_BELOW:  # a channel at a time: runs along rows
            columns = (flat_w @ flat_g.T).reshape(len(regions) * channels, count, *sizes)
            targets = [(*region[:-1], c) for region in regions for c in range(channels)]
        else:
            columns = (flat_g @ flat_w.T).reshape(count, *sizes, len(regions), channels)
            columns = [columns[..., index, :] for index in range(len(regions))]
            targets = regions
        if copy_first:
            for axis, size in enumerate(sizes):
                part[(slice(None),) * (1 + axis) + (slice(size, None),)] = 0
            first = len(targets) // len(regions)  # the first kernel position's targets
            for target, share in zip(targets[:first], columns[:first]):
                part[target] = share
        else:
            part[...] = 0
            first = 0
        for target, share in zip(targets[first:], columns[first:]):
            part[target] += share
    return _cropped(xp, dx, spatial, pads, out)


@_conv_input_grad.defvjp
def _conv_input_grad_vjp(ctx, h):
    g, w = ctx.inputs
    attrs = {k: v for k, v in ctx.attrs.items() if k != "spatial"}
    return (_conv(h, w, **attrs) if ctx.needs(0) else None,
            _conv_filter_grad(h, g, kernel=tuple(w.shape[:-2]), **attrs)
            if ctx.needs(1) else None)


def _conv_filter_grad_shape(x, g, *, kernel, strides, dilations, pads):
    return AbstractArray((*kernel, x.shape[-1], g.shape[-1]), x.dtype)


@primitive("conv_filter_grad", save_inputs=True, shape=_conv_filter_grad_shape,
           lowering=_INTO_BUFFER)
def _conv_filter_grad(xp, x, g, out=None, *, kernel, strides, dilations, pads):
    sizes, filters = g.shape[1:-1], g.shape[-1]
    padded = _pad(xp, x, pads)
    size = math.prod(kernel) * x.shape[-1]
    positions = math.prod(sizes)
    dw = xp.empty((*kernel, x.shape[-1], filters), x.dtype) if out is None else out
    flat_dw = dw.reshape(size, filters)
    flat_dw[...] = 0
    # The patch matrix is rebuilt here, block by block, rather than kept from the forward
    # pass: rebuilding a block in cache costs less than reading a whole saved one back.
    for block in _batch_blocks(x.shape[0], positions * size * x.itemsize):
        patches = _patches(xp, padded[block], kernel, strides, dilations, sizes)
        flat_dw += patches.T @ g[block].reshape(patches.shape[0], filters)
    return dw


@_conv_filter_grad.defvjp
def _conv_filter_grad_vjp(ctx, h):
    x, g = ctx.inputs
    attrs = {k: v for k, v in ctx.attrs.items() if k != "kernel"}
    return (_conv_input_grad(g, h, spatial=tuple(x.shape[1:-1]), **attrs)
            if ctx.needs(0) else None,
            _conv(x, h, **attrs) if ctx.needs(1) else None)


# --- pooling ------------------------------------------------------------------------------


def _lowest(dtype):
    """The padding value max pooling never picks."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_shape(x, *, kernel, strides, pads):
    out = _out_sizes(x.shape[1:-1], kernel, strides, (1,) * len(kernel), pads)
    return AbstractArray((x.shape[0], *out, x.shape[-1]), x.dtype)


def _tiles(a, kernel, out):
    """``(batch, out_1, kernel_1, ..., out_n, kernel_n, channels)``: the part of ``a`` that
    windows tiling it cover (strides = window), as a view (splitting axes never copies)."""
    covered = a[(slice(None), *(slice(0, o * k) for o, k in zip(out, kernel)), slice(None))]
    return covered.reshape(a.shape[0], *itertools.chain(*zip(out, kernel)), a.shape[-1])


def _window_positions(kernel):
    """Index tuples picking each window position (in row-major order) out of ``_tiles``."""
    return [(slice(None), *itertools.chain(*((slice(None), i) for i in offset)), slice(None))
            for offset in itertools.product(*map(range, kernel))]


def _maximum_of(xp, arrays, out):
    """The elementwise maximum of ``arrays`` (NaN wins, as in ``max``), written into ``out``."""
    if len(arrays) == 1:
        xp.copyto(out, arrays[0])
        return
    xp.maximum(arrays[0], arrays[1], out=out)
    for array in arrays[2:]:
        xp.maximum(out, array, out=out)


def _tiled_max(xp, tiles, kernel, out=None):
    """The maximum over the windows of ``_tiles``, one ``maximum`` per window position.

    Not ``max(axis=...)``: a reduction over the window axes loops over one window's
    channels at a time, 2.5x slower on 2x2 windows of 32 channels. With two or more
    spatial axes, the rows of each window are first reduced (their slices are whole rows
    of tiles: long runs), a block of the batch at a time so that the partial maximum is
    still in cache for the rest of the window (25% faster again).
    """
    positions = _window_positions(kernel)
    if out is None:
        out = xp.empty(tiles[positions[0]].shape, tiles.dtype)
    if len(kernel) < 2 or kernel[0] == 1:
        _maximum_of(xp, [tiles[at] for at in positions], out)
        return out
    rest = _window_positions(kernel[1:])
    rows = out.shape[1]
    partial = None
    for block in _batch_blocks(tiles.shape[0], tiles[:1, :, 0].nbytes):
        count = block.stop - block.start
        firsts = [tiles[block, :, i] for i in range(kernel[0])]
        if partial is None:
            partial = xp.empty(firsts[0].shape, tiles.dtype)
        part = partial[:count]
        _maximum_of(xp, firsts, part)
        part = part.reshape(count * rows, *part.shape[2:])
        _maximum_of(xp, [part[at] for at in rest],
                    out[block].reshape(count * rows, *out.shape[2:]))
    return out


@primitive("max_pool", save_inputs=True, save_output=True, smooth=False, shape=_pool_shape,
           lowering=_INTO_BUFFER)
def _max_pool(xp, x, out=None, *, kernel, strides, pads):
    ones = (1,) * len(kernel)
    sizes = _out_sizes(x.shape[1:-1], kernel, strides, ones, pads)
    padded = _pad(xp, x, pads, _lowest(x.dtype))
    if tuple(strides) == tuple(kernel):
        return _tiled_max(xp, _tiles(padded, kernel, sizes), kernel, out)
    windows = _windows(xp, padded, kernel, strides, ones, sizes)
    return windows.max(axis=tuple(range(1 + len(kernel), 1 + 2 * len(kernel))), out=out)


@_max_pool.defvjp
def _max_pool_vjp(ctx, g):
    return (_max_pool_grad(ctx.inputs[0], ctx.output, g, **ctx.attrs),)


def _max_pool_grad_shape(x, y, g, **attrs):
    return AbstractArray(x.shape, x.dtype)


@primitive("max_pool_grad", differentiable=False, shape=_max_pool_grad_shape,
           lowering=_INTO_BUFFER)
def _max_pool_grad(xp, x, y, g, out=None, *, kernel, strides, pads):
    padded = _pad(xp, x, pads, _lowest(x.dtype))
    if tuple(strides) == tuple(kernel):
        dx = _tiled_max_pool_grad(xp, padded, y, g, kernel, y.shape[1:-1],
                                  out if padded is x else None)
    else:
        dx = _looped_max_pool_grad(xp, padded, y, g, kernel, strides)
    return _cropped(xp, dx, x.shape[1:-1], pads, out)


def _looped_max_pool_grad(xp, padded, y, g, kernel, strides):
    """The general case: one pass per window position."""
    ones = (1,) * len(kernel)
    out = y.shape[1:-1]
    dx = xp.zeros(padded.shape, g.dtype)
    # Each output's gradient goes to the first position of its window holding the maximum
    # (NaN counts as the maximum, as it is what max returned).
    unclaimed = xp.ones(y.shape, bool)
    for offset in itertools.product(*map(range, kernel)):
        region = (slice(None), *_offset_slices(offset, strides, ones, out), slice(None))
        values = padded[region]
        hit = unclaimed & ((values == y) | (xp.isnan(values) & xp.isnan(y)))
        dx[region] += xp.where(hit, g, 0)
        unclaimed &= ~hit
    return dx


def _bits(a):
    """Floats as unsigned integers of their size (a view), other numbers as they are:
    multiplying those by a boolean mask keeps or zeroes each value exactly, where a float
    product would turn an infinite or NaN gradient times False into NaN."""
    return a.view(f"u{a.itemsize}") if a.dtype.kind == "f" else a


def _tiled_max_pool_grad(xp, padded, y, g, kernel, out_sizes, out=None):
    """The gradient when windows tile the input (strides = window, the common case).

    Each window position is then a strided view of the input split into tiles: the
    gradient is written once per position, with no accumulation and no zero fill except
    where no window reaches. Outputs holding NaN take the general path.
    """
    if y.dtype.kind == "f" and xp.isnan(y).any():
        return _looped_max_pool_grad(xp, padded, y, g, kernel, kernel)
    dx = xp.empty(padded.shape, g.dtype) if out is None else out
    for axis, (o, k) in enumerate(zip(out_sizes, kernel)):
        dx[(slice(None),) * (1 + axis) + (slice(o * k, None),)] = 0
    tiles, dx_bits, g_bits = (_tiles(padded, kernel, out_sizes),
                              _bits(_tiles(dx, kernel, out_sizes)), _bits(g))
    *positions, last = _window_positions(kernel)
    claimed = None
    for at in positions:
        hit = tiles[at] == y
        if claimed is not None:
            xp.greater(hit, claimed, out=hit)  # a maximum no earlier position claimed
        xp.multiply(g_bits, hit, out=dx_bits[at])
        claimed = hit if claimed is None else xp.logical_or(claimed, hit, out=claimed)
    # y is the windows' maximum and holds no NaN: a window that no earlier position
    # claimed has its (first) maximum at the last position.
    xp.multiply(g_bits, True if claimed is None else xp.logical_not(claimed, out=claimed),
                out=dx_bits[last])
    return dx


def _cropped(xp, padded, spatial, pads, out):
    """``padded`` without its padding, written into ``out`` when given."""
    if padded is out:
        return out
    crop = tuple(slice(lo, lo + n) for n, (lo, _) in zip(spatial, pads))
    result = padded[(slice(None), *crop, slice(None))]
    if out is None:
        return result
    xp.copyto(out, result)
    return out


def _window_counts(xp, spatial, kernel, strides, pads, dtype):
    """How many real (unpadded) elements each window covers, shaped to broadcast."""
    counts = None
    for axis, (n, k, s, (lo, hi)) in enumerate(zip(spatial, kernel, strides, pads)):
        starts = xp.arange(_out_size(n, k, s, 1, lo, hi)) * s - lo
        count = xp.minimum(starts + k, n) - xp.maximum(starts, 0)
        shape = [1] * (len(kernel) + 2)
        shape[1 + axis] = count.size
        count = count.reshape(shape).astype(dtype)
        counts = count if counts is None else counts * count
    return counts


@primitive("avg_pool", shape=_pool_shape)
def _avg_pool(xp, x, *, kernel, strides, pads):
    ones = (1,) * len(kernel)
    out = _out_sizes(x.shape[1:-1], kernel, strides, ones, pads)
    windows = _windows(xp, _pad(xp, x, pads), kernel, strides, ones, out)
    total = windows.sum(axis=tuple(range(1 + len(kernel), 1 + 2 * len(kernel))))
    return (total / _window_counts(xp, x.shape[1:-1], kernel, strides, pads, x.dtype)
            ).astype(x.dtype)


@_avg_pool.defvjp
def _avg_pool_vjp(ctx, g):
    return (_avg_pool_grad(g, spatial=tuple(ctx.input_shapes[0][1:-1]), **ctx.attrs),)


def _avg_pool_grad_shape(g, *, spatial, kernel, strides, pads):
    return AbstractArray((g.shape[0], *spatial, g.shape[-1]), g.dtype)


@primitive("avg_pool_grad", shape=_avg_pool_grad_shape)
def _avg_pool_grad(xp, g, *, spatial, kernel, strides, pads):
    ones = (1,) * len(kernel)
    share = g / _window_counts(xp, spatial, kernel, strides, pads, g.dtype)
    padded_shape = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))
    dx = xp.zeros((g.shape[0], *padded_shape, g.shape[-1]), g.dtype)
    for offset in itertools.product(*map(range, kernel)):
        region = (slice(None), *_offset_slices(offset, strides, ones, g.shape[1:-1]),
                  slice(None))
        dx[region] += share
    crop = tuple(slice(lo, lo + n) for n, (lo, _) in zip(spatial, pads))
    return dx[(slice(None), *crop, slice(None))].astype(g.dtype)


@_avg_pool_grad.defvjp
def _avg_pool_grad_vjp(ctx, h):
    attrs = {k: v for k, v in ctx.attrs.items() if k != "spatial"}
    return (_avg_pool(h, **attrs),)


# --- argument checking shared by the public ops ------------------------------------------


def _spatial_rank(x: Tensor, op: str, rank: int | None) -> int:
    ndim = x._value.ndim
    if ndim < 3 or ndim > 5 or (rank is not None and ndim != rank + 2):
        want = f"rank {rank + 2}" if rank is not None else "rank 3, 4 or 5"
        raise InvalidArgumentError(f"{op}: the input must have {want} (batch, spatial "
                                   f"dimensions, channels), received shape "
                                   f"{rules.shape_text(x._value.shape)}.", op)
    return ndim - 2


def _channels_first(data_format: str | None, op: str, n: int) -> bool:
    last = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[n]
    first = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[n]
    if data_format in (None, last) or (n == 1 and data_format == "NHWC"):
        return False
    if data_format == first or (n == 1 and data_format == "NCHW"):
        return True
    raise ValueError(f"{op}: data_format must be {last!r} or {first!r} for {n} spatial "
                     f"dimension{'s' if n > 1 else ''}, received {data_format!r}.")


def _per_axis(value, n: int, op: str, what: str, channels_first: bool) -> tuple[int, ...]:
    """``strides``/``dilations``/``ksize``: an int, n ints, or n + 2 ints (batch, channel 1)."""
    if isinstance(value, Tensor):
        value = value.numpy().tolist()
    values = [value] if isinstance(value, (int, np.integer)) else list(value)
    if len(values) == 1:
        values = values * n
    elif len(values) == n + 2:
        outer = (values[0], values[1]) if channels_first else (values[0], values[-1])
        if any(v != 1 for v in outer):
            raise UnimplementedError(f"{op}: {what} in the batch and channel dimensions "
                                     f"must be 1, received {value}.", op)
        values = values[2:] if channels_first else values[1:-1]
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and v > 0
                                   for v in values):
        raise InvalidArgumentError(f"{op}: {what} must be a positive int or a list of {n} "
                                   f"or {n + 2} positive ints, received {value!r}.", op)
    return tuple(int(v) for v in values)


def _pads(padding, spatial, kernel, strides, dilations, op, channels_first):
    """Explicit ``(before, after)`` pairs per spatial axis from TensorFlow's padding forms."""
    n = len(spatial)
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return ((0, 0),) * n
        if mode == "SAME":
            pads = []
            for size, k, s, d in zip(spatial, kernel, strides, dilations):
                total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise InvalidArgumentError(f"{op}: padding must be 'SAME', 'VALID' or a list of "
                                   f"pairs, received {padding!r}.", op)
    pairs = [tuple(p) for p in padding]
    if len(pairs) != n + 2 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"{op}: explicit padding must be {n + 2} (before, after) pairs, one "
                         f"per dimension of the input, received {padding!r}.")
    outer = (pairs[0], pairs[1]) if channels_first else (pairs[0], pairs[-1])
    if any(p != (0, 0) for p in outer):
        raise InvalidArgumentError(f"{op}: explicit padding of the batch and channel "
                                   f"dimensions must be (0, 0), received {padding!r}.", op)
    inner = pairs[2:] if channels_first else pairs[1:-1]
    if any(v < 0 for p in inner for v in p):
        raise InvalidArgumentError(f"{op}: padding must be non-negative, received "
                                   f"{padding!r}.", op)
    return tuple((int(a), int(b)) for a, b in inner)


def _to_channels_last(x: Tensor, channels_first: bool) -> Tensor:
    if not channels_first:
        return x
    n = x._value.ndim
    return so.transpose(x, [0, *range(2, n), 1])


def _from_channels_last(y: Tensor, channels_first: bool) -> Tensor:
    if not channels_first:
        return y
    n = y._value.ndim
    return so.transpose(y, [0, n - 1, *range(1, n - 1)])


def _checked_input(x, op: str, allowed: tuple) -> Tensor:
    x = as_tensor(x)
    if x._value.dtype.type not in allowed:
        names = ", ".join(np.dtype(t).name for t in allowed)
        raise InvalidArgumentError(f"{op}: the input's dtype must be one of {names}; "
                                   f"received {x._value.dtype}. Cast it first: "
                                   f"tf.cast(x, tf.float32).", op)
    return x


def _known_spatial(x: Tensor, op: str) -> tuple[int, ...]:
    spatial = tuple(x._value.shape[1:-1])
    if not all(is_known(s) for s in spatial):
        raise InvalidArgumentError(f"{op}: the spatial sizes must be known when tracing, "
                                   f"received shape {rules.shape_text(x._value.shape)}; "
                                   f"only the batch size may be None.", op)
    return spatial


# --- public ops ---------------------------------------------------------------------------


def convolution(input, filters, strides=None, padding="VALID", data_format=None,
                dilations=None, name=None, *, _op: str = "convolution",
                _rank: int | None = None) -> Tensor:
    """N-D convolution (``tf.nn.convolution``); ``filters`` is ``(*kernel, in, out)``."""
    op = _op
    # TensorFlow's CPU has an int32 kernel for 1-D and 2-D convolutions, not for 3-D ones.
    x = _checked_input(input, op, _FLOATS if _rank == 3 or as_tensor(input).ndim == 5
                       else _CONV_DTYPES)
    # A filter given as a list or array takes the input's dtype, as in TensorFlow.
    w = as_tensor(filters, None if isinstance(filters, Tensor) else x.dtype)
    n = _spatial_rank(x, op, _rank)
    if w._value.dtype != x._value.dtype:
        raise InvalidArgumentError(f"{op}: input and filters must have the same dtype, "
                                   f"received {x._value.dtype} and {w._value.dtype}.", op)
    if w._value.ndim != n + 2:
        raise InvalidArgumentError(f"{op}: filters must have rank {n + 2} (*kernel, "
                                   f"in_channels, out_channels), received shape "
                                   f"{rules.shape_text(w._value.shape)}.", op)
    first = _channels_first(data_format, op, n)
    strides = _per_axis(1 if strides is None else strides, n, op, "strides", first)
    dilations = _per_axis(1 if dilations is None else dilations, n, op, "dilations", first)
    x = _to_channels_last(x, first)
    spatial = _known_spatial(x, op)
    kernel = tuple(w._value.shape[:-2])
    if rules.dims_differ(x._value.shape[-1], w._value.shape[-2]):
        raise InvalidArgumentError(
            f"{op}: the input has {x._value.shape[-1]} channels but the filters expect "
            f"{w._value.shape[-2]} (filter shape {rules.shape_text(w._value.shape)}).", op)
    pads = _pads(padding, spatial, kernel, strides, dilations, op, first)
    y = _conv(x, w, strides=strides, dilations=dilations, pads=pads)
    return _from_channels_last(y, first)


def conv1d(input, filters, stride=1, padding="VALID", data_format="NWC", dilations=None,
           name=None) -> Tensor:
    """1-D convolution over ``(batch, width, channels)``; ``filters`` is ``(k, in, out)``."""
    return convolution(input, filters, stride, padding, data_format, dilations,
                       _op="conv1d", _rank=1)


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=None,
           name=None) -> Tensor:
    """2-D convolution (``tf.nn.conv2d``); ``filters`` is ``(kh, kw, in, out)``."""
    return convolution(input, filters, strides, padding, data_format, dilations,
                       _op="conv2d", _rank=2)


def conv3d(input, filters, strides=1, padding="VALID", data_format="NDHWC", dilations=None,
           name=None) -> Tensor:
    """3-D convolution; ``filters`` is ``(kd, kh, kw, in, out)``."""
    return convolution(input, filters, strides, padding, data_format, dilations,
                       _op="conv3d", _rank=3)


def _output_spatial(output_shape, n: int, first: bool, op: str) -> tuple[int, ...]:
    """The spatial sizes of a transposed convolution's ``output_shape`` (batch and channels
    included, as TensorFlow takes it; a tensor is read for its values)."""
    if isinstance(output_shape, Tensor):
        # A tensor made in a trace from tf.shape holds sizes the trace knows.
        known = so.known_sizes(output_shape) if type(output_shape._value) is AbstractArray \
            else None
        output_shape = (list(known) if isinstance(known, tuple) else
                        host_array(output_shape._value).tolist())
    dims = list(output_shape)
    if len(dims) != n + 2:
        raise InvalidArgumentError(f"{op}: output_shape must have {n + 2} entries (batch, "
                                   f"{n} spatial, channels), received {output_shape!r}.", op)
    # Only the spatial sizes matter (the batch may be unknown while tracing).
    return tuple(int(d) for d in (dims[2:] if first else dims[1:-1]))


def conv_transpose(input, filters, output_shape, strides, padding="SAME", data_format=None,
                   dilations=None, name=None, *, _op: str = "conv_transpose",
                   _rank: int | None = None) -> Tensor:
    """The transpose of a convolution (the gradient of ``conv`` with respect to its input):
    ``filters`` is ``(*kernel, out_channels, in_channels)``, ``output_shape`` the shape of
    the result, batch and channels included."""
    op = _op
    x = _checked_input(input, op, _FLOATS)
    w = as_tensor(filters, None if isinstance(filters, Tensor) else x.dtype)
    n = _spatial_rank(x, op, _rank)
    if w._value.dtype != x._value.dtype or w._value.ndim != n + 2:
        raise InvalidArgumentError(f"{op}: filters must be a rank {n + 2} tensor (*kernel, "
                                   f"out_channels, in_channels) of the input's dtype "
                                   f"{x.dtype.name}, received {w.dtype.name} of shape "
                                   f"{rules.shape_text(w._value.shape)}.", op)
    first = _channels_first(data_format, op, n)
    strides = _per_axis(1 if strides is None else strides, n, op, "strides", first)
    dilations = _per_axis(1 if dilations is None else dilations, n, op, "dilations", first)
    x = _to_channels_last(x, first)
    spatial = _known_spatial(x, op)
    kernel = tuple(w._value.shape[:-2])
    if rules.dims_differ(x._value.shape[-1], w._value.shape[-1]):
        raise InvalidArgumentError(
            f"{op}: the input has {x._value.shape[-1]} channels but the filters' last "
            f"dimension (in_channels) is {w._value.shape[-1]}.", op)
    out = _output_spatial(output_shape, n, first, op)
    pads = _pads(padding, out, kernel, strides, dilations, op, first)
    if _out_sizes(out, kernel, strides, dilations, pads) != spatial:
        raise InvalidArgumentError(
            f"{op}: output_shape's spatial sizes {out} do not convolve back to the input's "
            f"{spatial} with kernel {kernel}, strides {strides} and padding {padding!r}.", op)
    y = _conv_input_grad(x, w, spatial=out, strides=strides, dilations=dilations, pads=pads)
    return _from_channels_last(y, first)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NWC", dilations=None, name=None) -> Tensor:
    return conv_transpose(input, filters, output_shape, strides, padding, data_format,
                          dilations, _op="conv1d_transpose", _rank=1)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NHWC", dilations=None, name=None) -> Tensor:
    """The transpose of ``conv2d`` (sometimes called deconvolution)."""
    return conv_transpose(input, filters, output_shape, strides, padding, data_format,
                          dilations, _op="conv2d_transpose", _rank=2)


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NDHWC", dilations=None, name=None) -> Tensor:
    return conv_transpose(input, filters, output_shape, strides, padding, data_format,
                          dilations, _op="conv3d_transpose", _rank=3)


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None,
                     name=None) -> Tensor:
    """Each input channel convolved with its own ``channel_multiplier`` filters:
    ``filter`` is ``(kh, kw, in_channels, multiplier)``; output channel ``c * M + m``."""
    op = "depthwise_conv2d"
    x = _checked_input(input, op, _FLOATS)
    w = as_tensor(filter, None if isinstance(filter, Tensor) else x.dtype)
    if w._value.ndim != 4:
        raise InvalidArgumentError(f"{op}: filter must have rank 4 (kh, kw, in_channels, "
                                   f"multiplier), received shape "
                                   f"{rules.shape_text(w._value.shape)}.", op)
    first = data_format is not None and data_format.startswith("NC")
    axis = 1 if first else -1
    channels, multiplier = w._value.shape[2], w._value.shape[3]
    if rules.dims_differ(x._value.shape[axis], channels):
        raise InvalidArgumentError(f"{op}: the input has {x._value.shape[axis]} channels but "
                                   f"the filter expects {channels}.", op)
    # One convolution per input channel (a grouped convolution with one channel per group).
    parts = so.split(x, channels, axis=axis) if channels > 1 else [x]
    kernels = so.split(so.reshape(w, (*w._value.shape[:2], 1, channels * multiplier)),
                       channels, axis=-1) if channels > 1 else [
        so.reshape(w, (*w._value.shape[:2], 1, multiplier))]
    outputs = [convolution(part, kernel, strides, padding, data_format, dilations,
                           _op=op, _rank=2) for part, kernel in zip(parts, kernels)]
    return so.concat(outputs, axis=axis) if len(outputs) > 1 else outputs[0]


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,
                     data_format=None, dilations=None, name=None) -> Tensor:
    """A depthwise convolution, then a 1x1 convolution mixing its channels."""
    depthwise = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format,
                                 dilations)
    return convolution(depthwise, pointwise_filter, 1, "VALID", data_format,
                       _op="separable_conv2d", _rank=2)


def _pool(kind, input, ksize, strides, padding, data_format, op, rank) -> Tensor:
    x = _checked_input(input, op, _MAX_POOL_DTYPES if kind == "max" else _FLOATS)
    n = _spatial_rank(x, op, rank)
    first = _channels_first(data_format, op, n)
    kernel = _per_axis(ksize, n, op, "ksize", first)
    strides = _per_axis(strides, n, op, "strides", first)
    x = _to_channels_last(x, first)
    spatial = _known_spatial(x, op)
    if not isinstance(padding, str):
        raise InvalidArgumentError(f"{op}: padding must be 'SAME' or 'VALID', received "
                                   f"{padding!r}.", op)
    pads = _pads(padding, spatial, kernel, strides, (1,) * n, op, first)
    y = (_max_pool if kind == "max" else _avg_pool)(x, kernel=kernel, strides=strides,
                                                    pads=pads)
    return _from_channels_last(y, first)


def max_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:
    """Max pooling over 1, 2 or 3 spatial dimensions (``tf.nn.max_pool``)."""
    return _pool("max", input, ksize, strides, padding, data_format, "max_pool", None)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> Tensor:
    return _pool("max", input, ksize, strides, padding, data_format, "max_pool1d", 1)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    return _pool("max", input, ksize, strides, padding, data_format, "max_pool2d", 2)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:
    return _pool("max", input, ksize, strides, padding, data_format, "max_pool3d", 3)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:
    """Average pooling; with ``"SAME"`` the padding is not counted in the average."""
    return _pool("avg", input, ksize, strides, padding, data_format, "avg_pool", None)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> Tensor:
    return _pool("avg", input, ksize, strides, padding, data_format, "avg_pool1d", 1)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    return _pool("avg", input, ksize, strides, padding, data_format, "avg_pool2d", 2)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:
    return _pool("avg", input, ksize, strides, padding, data_format, "avg_pool3d", 3)
