"""Each primitive's ONNX form: ``EMITTERS[name](writer, node)`` returns the ONNX name of
each of the node's results.

Layouts: neuroflow's convolutions and pools are channels-last (``NHWC``, kernels
``HWIO``) as TensorFlow's; ONNX's are channels-first, so a conv is written between two
Transposes (onnxruntime's layout pass removes the pairs that cancel).
"""

from __future__ import annotations

import numpy as np

from neuroflow.export.onnx.recurrent import RECURRENT, emit_recurrent
from neuroflow.export.onnx.writer import INT64_MAX, LastStepOnly, Writer, unsupported
from neuroflow.graph.ir import Node, Value

__all__ = ["EMITTERS", "emit_conv"]


def _in(w: Writer, node: Node, index: int = 0) -> str:
    return w.name_of(node.inputs[index])


def _inputs_as(w: Writer, node: Node, dtype) -> list[str]:
    """The inputs, cast where their dtype differs from ``dtype``."""
    names = []
    for value in node.inputs:
        name = w.name_of(value)
        names.append(name if value.dtype == np.dtype(dtype) else w.cast(name, dtype))
    return names


# --- elementwise ------------------------------------------------------------------------------

_UNARY = {"abs": "Abs", "acos": "Acos", "acosh": "Acosh", "asin": "Asin", "asinh": "Asinh",
          "atan": "Atan", "atanh": "Atanh", "ceil": "Ceil", "cos": "Cos", "cosh": "Cosh",
          "erf": "Erf", "exp": "Exp", "floor": "Floor", "log": "Log", "negative": "Neg",
          "relu": "Relu", "round": "Round", "sigmoid": "Sigmoid", "sign": "Sign",
          "sin": "Sin", "sinh": "Sinh", "sqrt": "Sqrt", "tan": "Tan", "tanh": "Tanh",
          "logical_not": "Not", "is_nan": "IsNaN", "is_inf": "IsInf",
          "identity": "Identity", "stop_gradient": "Identity", "ensure_shape": "Identity"}

_ARITHMETIC = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div",
               "maximum": "Max", "minimum": "Min", "pow": "Pow"}

_COMPARISON = {"equal": "Equal", "greater": "Greater", "greater_equal": "GreaterOrEqual",
               "less": "Less", "less_equal": "LessOrEqual", "logical_and": "And",
               "logical_or": "Or", "logical_xor": "Xor"}


def _unary(op_type: str):
    def emit(w: Writer, node: Node) -> str:
        return w.op(op_type, [_in(w, node)])
    return emit


def _arithmetic(op_type: str):
    def emit(w: Writer, node: Node) -> str:
        return w.op(op_type, _inputs_as(w, node, node.output.dtype))
    return emit


def _comparison(op_type: str):
    def emit(w: Writer, node: Node) -> str:
        common = np.result_type(*(v.dtype for v in node.inputs))
        return w.op(op_type, _inputs_as(w, node, common))
    return emit


def _one(w: Writer, node: Node) -> str:
    return w.scalar(1, node.output.dtype)


def _square(w, node):
    x = _in(w, node)
    return w.op("Mul", [x, x])


def _expm1(w, node):
    return w.op("Sub", [w.op("Exp", [_in(w, node)]), _one(w, node)])


def _log1p(w, node):
    return w.op("Log", [w.op("Add", [_in(w, node), _one(w, node)])])


def _erfc(w, node):
    return w.op("Sub", [_one(w, node), w.op("Erf", [_in(w, node)])])


def _is_finite(w, node):
    x = _in(w, node)
    return w.op("Not", [w.op("Or", [w.op("IsNaN", [x]), w.op("IsInf", [x])])])


def _not_equal(w, node):
    return w.op("Not", [_comparison("Equal")(w, node)])


def _floordiv(w, node):
    x, y = _inputs_as(w, node, node.output.dtype)
    if node.output.dtype.kind == "f":
        return w.op("Floor", [w.op("Div", [x, y])])
    # Integers: Div truncates; x - floormod(x, y) is an exact multiple of y.
    return w.op("Div", [w.op("Sub", [x, w.op("Mod", [x, y], fmod=0)]), y])


def _floormod(w, node):
    x, y = _inputs_as(w, node, node.output.dtype)
    if node.output.dtype.kind == "f":  # ONNX's float Mod is C's fmod (sign of x)
        floor = w.op("Floor", [w.op("Div", [x, y])])
        return w.op("Sub", [x, w.op("Mul", [floor, y])])
    return w.op("Mod", [x, y], fmod=0)


def _truncatediv(w, node):
    return w.op("Div", _inputs_as(w, node, node.output.dtype))


def _truncatemod(w, node):
    return w.op("Mod", _inputs_as(w, node, node.output.dtype), fmod=1)


def _where(w, node):
    condition = _in(w, node, 0)
    x, y = (w.name_of(v) if v.dtype == node.output.dtype
            else w.cast(w.name_of(v), node.output.dtype) for v in node.inputs[1:])
    return w.op("Where", [condition, x, y])


def _cast(w, node):
    return w.cast(_in(w, node), node.output.dtype)


# --- products, reductions ---------------------------------------------------------------------


def _matmul(w, node):
    return w.op("MatMul", _inputs_as(w, node, node.output.dtype))


def _einsum(w, node):
    equation = node.attrs["equation"].replace(" ", "")
    return w.op("Einsum", [w.name_of(v) for v in node.inputs], equation=equation)


def _axes(node: Node) -> list[int]:
    axes = node.attrs.get("axes")
    rank = len(node.inputs[0].shape)
    return list(range(rank)) if axes is None else [int(a) for a in axes]


def _reduction(op_type: str):
    def emit(w: Writer, node: Node) -> str:
        axes = _axes(node)
        if not axes:
            return w.op("Identity", [_in(w, node)])
        return w.reduce(op_type, _in(w, node), axes, node.attrs.get("keepdims", False))
    return emit


def _logical_reduction(op_type: str):
    def emit(w: Writer, node: Node) -> str:
        axes = _axes(node)
        if not axes:
            return w.op("Identity", [_in(w, node)])
        numbers = w.cast(_in(w, node), np.int32)  # no ONNX reduction takes booleans
        reduced = w.reduce(op_type, numbers, axes, node.attrs.get("keepdims", False))
        return w.cast(reduced, np.bool_)
    return emit


def _arg_extremum(op_type: str):
    def emit(w: Writer, node: Node) -> str:
        index = w.op(op_type, [_in(w, node)], axis=int(node.attrs["axis"]), keepdims=0)
        dtype = node.output.dtype
        return index if dtype == np.int64 else w.cast(index, dtype)
    return emit


def _cumsum(w, node):
    axis = w.const(np.asarray(node.attrs["axis"], np.int64), "axis")
    return w.op("CumSum", [_in(w, node), axis], exclusive=int(bool(node.attrs["exclusive"])),
                reverse=int(bool(node.attrs["reverse"])))


# --- shapes -----------------------------------------------------------------------------------


def _target_shape(w: Writer, node: Node) -> str:
    """The ``shape`` attribute of reshape/broadcast_to as an int64 tensor; None in it means
    the sizes come from the op's second input, computed when the graph runs."""
    shape = node.attrs["shape"]
    if any(d is None for d in shape):
        return w.cast(_in(w, node, 1), np.int64)
    return w.shape(shape, node)


def _reshape(w, node):
    zero = any(type(d) is int and d == 0 for d in node.attrs["shape"])
    # allowzero: a 0 in the shape is a size of 0, as in NumPy, not "copy this axis".
    extra = {"allowzero": 1} if zero else {}
    return w.op("Reshape", [_in(w, node), _target_shape(w, node)], **extra)


def _broadcast_to(w, node):
    return w.op("Expand", [_in(w, node), _target_shape(w, node)])


def _transpose(w, node):
    return w.transpose(_in(w, node), node.attrs["perm"])


def _concat(w, node):
    return w.op("Concat", [w.name_of(v) for v in node.inputs], axis=int(node.attrs["axis"]))


def _shape_of(w, node):
    return w.cast(w.op("Shape", [_in(w, node)]), node.output.dtype)


def _size_of(w, node):
    shape = w.op("Shape", [_in(w, node)])
    axes = _axes(node)
    picked = w.op("Gather", [shape, w.ints(axes, "axes")], axis=0)
    return w.cast(w.reduce("ReduceProd", picked, [0], False), node.output.dtype)


def _pad(w, node):
    paddings = node.attrs["paddings"]
    pads = w.shape([lo for lo, _ in paddings] + [hi for _, hi in paddings], node)
    if len(node.inputs) > 1:
        fill = w.name_of(node.inputs[1])
    else:
        fill = w.scalar(node.attrs.get("constant_values", 0), node.output.dtype)
    return w.op("Pad", [_in(w, node), pads, fill], mode="constant")


def _gather(w, node):
    return w.op("Gather", [_in(w, node, 0), _in(w, node, 1)], axis=int(node.attrs["axis"]))


def _gather_nd(w, node):
    indices = w.cast(_in(w, node, 1), np.int64)
    return w.op("GatherND", [_in(w, node, 0), indices],
                batch_dims=int(node.attrs.get("batch_dims", 0)))


def _range(w, node):
    dtype = node.output.dtype
    return w.op("Range", _inputs_as(w, node, dtype))


def _argsort(w, node):
    """``tf.argsort``/``tf.math.top_k``'s indices as TopK, which puts the lower index first
    among equal values, as neuroflow's stable sort does."""
    x = node.inputs[0]
    k = node.attrs.get("k")
    count = w.size(x.shape[-1] if k is None else k, node)
    _, indices = w.op("TopK", [_in(w, node), count], outputs=2, axis=-1,
                      largest=int(bool(node.attrs["descending"])), sorted=1)
    return w.cast(indices, node.output.dtype)


def _row_offsets(w, node):
    """Where each row of ``x`` starts in ``x`` flattened, shaped ``(*rows, 1)`` (what
    ``sort`` adds to row-wise indices)."""
    x, index = node.inputs
    rows = w.shape(index.shape[:-1], node)
    count = w.reduce("ReduceProd", rows, [0], False)
    starts = w.op("Range", [w.scalar(0, np.int64), count, w.scalar(1, np.int64)])
    starts = w.op("Mul", [starts, w.size(x.shape[-1], node)])
    shape = w.op("Concat", [rows, w.ints([1], "one")], axis=0)
    return w.cast(w.op("Reshape", [starts, shape]), node.output.dtype)


def _tensor_scatter(w, node):
    """``tf.tensor_scatter_nd_*`` as ScatterND (where indices repeat, ONNX leaves ``update``
    unspecified; neuroflow and TensorFlow's CPU keep the last)."""
    mode = node.attrs["mode"]
    tensor, indices, updates = (_in(w, node, i) for i in range(3))
    indices = w.cast(indices, np.int64)
    if mode == "sub":
        mode, updates = "add", w.op("Neg", [updates])
    if mode in ("max", "min") and w.opset < 18:
        raise unsupported(node, f"scatters with {mode}, which ONNX's ScatterND has from "
                                f"opset 18; export with opset 18 or later.")
    reduction = {"update": "none"}.get(mode, mode)
    return w.op("ScatterND", [tensor, indices, updates], reduction=reduction)


def _one_hot(w, node):
    attrs = node.attrs
    if attrs.get("depth") is None:  # a depth only the run knows: the op's second input
        depth = w.op("Reshape", [w.cast(_in(w, node, 1), np.int64), w.ints([1], "shape")])
    else:
        depth = w.size(attrs["depth"], node)  # an int, or a size known when the graph runs
    indices = w.cast(_in(w, node), np.int64)
    # TensorFlow gives a row of off values for a negative index; ONNX's OneHot would count
    # it from the end. An index of `depth` is out of range for both.
    negative = w.op("Less", [indices, w.scalar(0, np.int64)])
    indices = w.op("Where", [negative, depth, indices])
    values = w.const(np.asarray([attrs["off"], attrs["on"]], node.output.dtype), "values")
    return w.op("OneHot", [indices, depth, values], axis=int(attrs["axis"]))


def _getitem(w, node):
    """Basic indexing: Slice for the slices and integers, Squeeze for the integers,
    Unsqueeze for the new axes (None). Indices and bounds may be unknown sizes (Dims)."""
    value = node.inputs[0]
    key = node.attrs["key"]
    key = key if isinstance(key, tuple) else (key,)
    source = w.names.get(value.name)
    if isinstance(source, LastStepOnly) and len(key) == 2 and key[0] == slice(None) and \
            type(key[1]) is int and key[1] == -1:
        return source.last
    name = w.name_of(value)
    rank = len(value.shape)
    consumed = sum(1 for p in key if p is not None and p is not Ellipsis)
    starts, ends, axes, steps, squeezed, inserted = [], [], [], [], [], []
    axis = position = 0
    for part in key:
        if part is Ellipsis:
            axis += rank - consumed
            position += rank - consumed
        elif part is None:
            inserted.append(position)
            position += 1
        elif isinstance(part, slice):
            if part != slice(None):
                start, end, step = _slice_bounds(part)
                starts.append(start)
                ends.append(end)
                steps.append(step)
                axes.append(axis)
            axis += 1
            position += 1
        else:  # an integer, or an unknown size
            starts.append(part)
            ends.append(INT64_MAX if type(part) is int and part == -1 else part + 1)
            steps.append(1)
            axes.append(axis)
            squeezed.append(axis)
            axis += 1
    if axes:
        name = w.op("Slice", [name, w.shape(starts, node), w.shape(ends, node),
                              w.ints(axes, "axes"), w.shape(steps, node)])
    if squeezed:
        name = w.squeeze(name, squeezed)
    if inserted:
        name = w.unsqueeze(name, inserted)
    return name if axes or squeezed or inserted else w.op("Identity", [name])


def _slice_bounds(part: slice) -> tuple:
    """(start, end, step) of a slice for ONNX's Slice, which clamps bounds as Python does."""
    step = 1 if part.step is None else part.step
    big = INT64_MAX
    start = part.start if part.start is not None else (0 if step > 0 else big)
    stop = part.stop if part.stop is not None else (big if step > 0 else -big - 1)
    return start, stop, step


def _slice_positions(w, node):
    """The positions ``x[start:stop:step]`` takes along an axis, for bounds only the run
    knows: a Slice of ``range(size)``, since Slice clamps bounds as Python does."""
    size = w.cast(_in(w, node), np.int64)
    positions = w.op("Range", [w.scalar(0, np.int64), size, w.scalar(1, np.int64)])
    bounds = iter(w.op("Reshape", [w.cast(w.name_of(v), np.int64), w.ints([1], "shape")])
                  for v in node.inputs[1:])
    start, stop, step = (next(bounds) if given else None for given in node.attrs["given"])
    big = INT64_MAX
    if step is None:
        step = w.ints([1], "step")
        start = start or w.ints([0], "start")
        stop = stop or w.ints([big], "stop")
    else:  # the defaults depend on the direction
        forward = w.op("Greater", [step, w.ints([0], "zero")])
        start = start or w.op("Where", [forward, w.ints([0], "start"), w.ints([big], "start")])
        stop = stop or w.op("Where", [forward, w.ints([big], "stop"),
                                      w.ints([-big - 1], "stop")])
    return w.op("Slice", [positions, start, stop, w.ints([0], "axes"), step])


def _flat_nonzero(w, node):
    flat = w.op("Reshape", [_in(w, node), w.ints([-1], "shape")])
    return w.op("Reshape", [w.op("NonZero", [flat]), w.ints([-1], "shape")])


def _where_indices(w, node):
    return w.transpose(w.op("NonZero", [_in(w, node)]), [1, 0])


# --- convolutions and pools (channels last in neuroflow, channels first in ONNX) ---------------


def _channels_first(w: Writer, name: str, rank: int) -> str:
    return w.transpose(name, [0, rank - 1, *range(1, rank - 1)])


def _channels_last(w: Writer, name: str, rank: int) -> str:
    return w.transpose(name, [0, *range(2, rank), 1])


def _onnx_kernel(w: Writer, kernel: Value) -> str:
    """The kernel ``(*k, in, out)`` as ONNX's ``(out, in, *k)``: an initializer when its
    values are known."""
    spatial = len(kernel.shape) - 2
    perm = [spatial + 1, spatial, *range(spatial)]
    array = w.static.get(kernel.name)
    if array is not None:
        return w.const(np.ascontiguousarray(array.transpose(perm)), "kernel")
    return w.transpose(w.name_of(kernel), perm)


def _pads(pads) -> list[int]:
    return [int(lo) for lo, _ in pads] + [int(hi) for _, hi in pads]


def emit_conv(w: Writer, x: Value, kernel: Value, attrs: dict, group: int = 1) -> str:
    """A channels-last conv of ``x`` as ONNX's Conv (``group`` > 1: a depthwise conv)."""
    rank = len(x.shape)
    y = w.op("Conv", [_channels_first(w, w.name_of(x), rank), _onnx_kernel(w, kernel)],
             strides=list(attrs["strides"]), dilations=list(attrs["dilations"]),
             pads=_pads(attrs["pads"]), group=group)
    return _channels_last(w, y, rank)


def _conv(w, node):
    return emit_conv(w, node.inputs[0], node.inputs[1], node.attrs)


def _conv_input_grad(w, node):
    """The adjoint of a conv (Conv2DTranspose): ONNX's ConvTranspose, whose kernel layout
    ``(in, out, *k)`` of the transposed op is the forward conv's ``(out, in, *k)``."""
    g, kernel = node.inputs
    attrs = node.attrs
    rank = len(g.shape)
    sizes, ks = g.shape[1:-1], kernel.shape[:-2]
    # ConvTranspose's size is s * (n - 1) + (k - 1) * d + 1 - pads; output_padding adds
    # what reaches the forward conv's input size (spatial sizes are known when tracing).
    extra = [want - (s * (n - 1) + (k - 1) * d + 1 - lo - hi)
             for n, k, s, d, (lo, hi), want in zip(sizes, ks, attrs["strides"],
                                                   attrs["dilations"], attrs["pads"],
                                                   attrs["spatial"])]
    x = _channels_first(w, w.name_of(g), rank)
    y = w.op("ConvTranspose", [x, _onnx_kernel(w, kernel)], strides=list(attrs["strides"]),
             dilations=list(attrs["dilations"]), pads=_pads(attrs["pads"]),
             output_padding=extra)
    return _channels_last(w, y, rank)


def _pool(op_type: str, **options):
    def emit(w: Writer, node: Node) -> str:
        rank = len(node.inputs[0].shape)
        attrs = node.attrs
        x = _channels_first(w, _in(w, node), rank)
        y = w.op(op_type, [x], kernel_shape=list(attrs["kernel"]),
                 strides=list(attrs["strides"]), pads=_pads(attrs["pads"]), **options)
        return _channels_last(w, y, rank)
    return emit


EMITTERS = {
    **{name: _unary(op) for name, op in _UNARY.items()},
    **{name: _arithmetic(op) for name, op in _ARITHMETIC.items()},
    **{name: _comparison(op) for name, op in _COMPARISON.items()},
    "square": _square, "expm1": _expm1, "log1p": _log1p, "erfc": _erfc,
    "is_finite": _is_finite, "not_equal": _not_equal, "floordiv": _floordiv,
    "floormod": _floormod, "truncatediv": _truncatediv, "truncatemod": _truncatemod,
    "where": _where, "cast": _cast,
    "matmul": _matmul, "einsum": _einsum,
    "reduce_sum": _reduction("ReduceSum"), "reduce_max": _reduction("ReduceMax"),
    "reduce_min": _reduction("ReduceMin"), "reduce_prod": _reduction("ReduceProd"),
    "reduce_any": _logical_reduction("ReduceMax"),
    "reduce_all": _logical_reduction("ReduceMin"),
    "argmax": _arg_extremum("ArgMax"), "argmin": _arg_extremum("ArgMin"),
    "cumsum": _cumsum,
    "reshape": _reshape, "broadcast_to": _broadcast_to, "transpose": _transpose,
    "concat": _concat, "shape_of": _shape_of, "size_of": _size_of, "pad": _pad,
    "gather": _gather, "gather_nd": _gather_nd, "slice_positions": _slice_positions,
    "flat_nonzero": _flat_nonzero, "where_indices": _where_indices, "one_hot": _one_hot,
    "getitem": _getitem, "tensor_scatter": _tensor_scatter, "range": _range,
    "argsort": _argsort, "row_offsets": _row_offsets,
    "conv": _conv, "conv_input_grad": _conv_input_grad,
    "max_pool": _pool("MaxPool"),
    # Keras's average pools divide by the window's inputs, padding excluded.
    "avg_pool": _pool("AveragePool", count_include_pad=0),
    **dict.fromkeys(RECURRENT, emit_recurrent),
}
