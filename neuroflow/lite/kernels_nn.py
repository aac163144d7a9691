"""NumPy kernels for TensorFlow Lite's neural-network operators: fully connected,
convolutions, pooling, softmax, reductions and batched matrix products.

Float kernels compute in float32 like TensorFlow Lite. Quantized kernels follow its
integer scheme: subtract zero points, accumulate exactly (in float64, whose 53-bit
mantissa holds any int32 accumulator exactly, so NumPy's fast BLAS can do the sums), add
the int32 bias, then rescale with the fixed-point multiplier of ``kernels_fixedpoint``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from neuroflow.lite.kernels import (
    SAME,
    Call,
    activate,
    dequantize,
    fused,
    is_quantized,
    quantize,
    quantized_range,
    register,
    through_float,
    unsupported,
)
from neuroflow.lite.kernels_fixedpoint import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    requantize,
    round_half_away,
)

HYBRID_CONV_ASYMMETRIC = True

_CONV_OPTIONS = {"padding": (0, "int8", 0), "stride_w": (1, "int32", 0),
                 "stride_h": (2, "int32", 0), **fused(3),
                 "dilation_w_factor": (4, "int32", 1), "dilation_h_factor": (5, "int32", 1)}
_DEPTHWISE_OPTIONS = {"padding": (0, "int8", 0), "stride_w": (1, "int32", 0),
                      "stride_h": (2, "int32", 0), "depth_multiplier": (3, "int32", 0),
                      **fused(4), "dilation_w_factor": (5, "int32", 1),
                      "dilation_h_factor": (6, "int32", 1)}
_POOL_OPTIONS = {"padding": (0, "int8", 0), "stride_w": (1, "int32", 0),
                 "stride_h": (2, "int32", 0), "filter_width": (3, "int32", 0),
                 "filter_height": (4, "int32", 0), **fused(5)}


def _windows(x: np.ndarray, kernel: tuple, strides: tuple, dilations: tuple, padding: int,
             fill) -> np.ndarray:
    """Sliding windows of an NHWC array: (batch, out_h, out_w, channels, k_h, k_w).

    SAME padding follows TensorFlow Lite: out = ceil(in / stride), and the padding the
    windows need is split with the smaller half before."""
    pads, outs = [], []
    for size, k, stride, dilation in zip(x.shape[1:3], kernel, strides, dilations):
        extent = (k - 1) * dilation + 1
        out = -(-size // stride) if padding == SAME else max((size - extent) // stride + 1, 0)
        total = max((out - 1) * stride + extent - size, 0)
        pads.append((total // 2, total - total // 2))
        outs.append(out)
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=fill)
    extents = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    windows = sliding_window_view(padded, extents, axis=(1, 2))
    windows = windows[:, ::strides[0], ::strides[1], :, ::dilations[0], ::dilations[1]]
    return windows[:, :outs[0], :outs[1]]


def _geometry(options: dict, kernel: tuple) -> dict:
    return {"kernel": kernel, "strides": (options["stride_h"], options["stride_w"]),
            "dilations": (options.get("dilation_h_factor", 1),
                          options.get("dilation_w_factor", 1)),
            "padding": options["padding"]}


def _centered(call: Call, index: int) -> np.ndarray:
    """Input ``index`` minus its zero point(s), as exact float64 integers (kept for
    constant weights, which would otherwise be converted again on every invoke)."""
    x, tensor = call.inputs[index], call.input_tensors[index]
    if x is tensor.data:
        if "centered" not in tensor.cache:
            tensor.cache["centered"] = _subtract_zero_points(x, tensor)
        return tensor.cache["centered"]
    return _subtract_zero_points(x, tensor)


def _subtract_zero_points(x: np.ndarray, tensor) -> np.ndarray:
    if tensor.zero_points.size > 1:
        shape = [1] * x.ndim
        shape[tensor.quantized_dimension] = -1
        return x.astype(np.float64) - tensor.zero_points.reshape(shape)
    return x.astype(np.float64) - tensor.zero_point


def _conv_operands(call: Call, asymmetric: bool):
    """(input, filters, per-image input scales or None) for a convolution: centred
    integers for int8, the raw floats for float, and for float inputs with int8 filters
    (TensorFlow Lite's hybrid kernels, from dynamic-range quantization) each image
    quantized on the fly."""
    x, weights = call.inputs[0], call.inputs[1]
    if is_quantized(call):
        return _centered(call, 0), _centered(call, 1), None
    if call.input_tensors[1].quantized:
        centered, scales = _quantize_rows(x.reshape(x.shape[0], -1).astype(np.float32),
                                          asymmetric)
        return centered.reshape(x.shape), _centered(call, 1), scales
    return x, weights.astype(np.float32), None


def _conv_result(call: Call, accumulator: np.ndarray, scales) -> np.ndarray:
    if is_quantized(call):
        return _finish_quantized(call, accumulator, 1, True)
    if scales is not None:
        return _hybrid_output(call, accumulator, scales)
    if len(call.inputs) > 2 and call.inputs[2] is not None:
        accumulator = accumulator + call.inputs[2]
    return activate(call, accumulator).astype(np.float32)


def _finish_quantized(call: Call, accumulator: np.ndarray, filter_index: int,
                      per_channel_product: bool) -> np.ndarray:
    """Add the bias, rescale per output channel and clamp: the common tail of quantized
    FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D."""
    source, weights, out = (call.input_tensors[0], call.input_tensors[filter_index],
                            call.output_tensors[0])
    accumulator = np.rint(accumulator).astype(np.int64)
    bias = call.inputs[2] if len(call.inputs) > 2 else None
    if bias is not None:
        accumulator = accumulator + bias.astype(np.int64)
    if per_channel_product or weights.scales.size > 1:
        # TensorFlow Lite forms input_scale * filter_scale in double for per-channel ops
        real = np.float64(source.scale) * weights.scales.astype(np.float64) / out.scale
    else:  # ...and in float for per-tensor FULLY_CONNECTED
        real = float(np.float32(source.scale) * np.float32(weights.scale)) / out.scale
    low, high = quantized_range(call, out)
    return requantize(accumulator, real, out.zero_point, low, high, out.dtype)


# --- fully connected and matrix products --------------------------------------------------

@register("FULLY_CONNECTED", options={**fused(0), "weights_format": (1, "int8", 0),
                                      "keep_num_dims": (2, "bool", False),
                                      "asymmetric_quantize_inputs": (3, "bool", False)})
def fully_connected(call: Call):
    if call.options["weights_format"] != 0:
        raise unsupported(call, "the shuffled weights format")
    x, weights = call.inputs[0], call.inputs[1]
    units, depth = weights.shape
    shape = (*x.shape[:-1], units) if call.options["keep_num_dims"] else (-1, units)
    if is_quantized(call):
        flat = _centered(call, 0).reshape(-1, depth)
        accumulator = flat @ _centered(call, 1).T
        return _finish_quantized(call, accumulator, 1, False).reshape(shape)
    if call.input_tensors[1].quantized:
        return _hybrid_fully_connected(call).reshape(shape)
    out = x.reshape(-1, depth) @ weights.T.astype(np.float32)
    if len(call.inputs) > 2 and call.inputs[2] is not None:
        out = out + call.inputs[2]
    return activate(call, out).astype(np.float32).reshape(shape)


def _quantize_rows(rows: np.ndarray, asymmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow Lite's on-the-fly input quantization for hybrid kernels, one row (batch
    entry) at a time: symmetric to [-127, 127] with scale max|x| / 127, or asymmetric to
    [-128, 127] over [min(x, 0), max(x, 0)] with a nudged zero point. Returns the rows
    minus their zero points (exact integers as float64) and each row's float32 scale."""
    low = np.minimum(rows.min(axis=1), 0).astype(np.float64)
    high = np.maximum(rows.max(axis=1), 0).astype(np.float64)
    if asymmetric:
        flat = low == high
        scale = np.where(flat, 1.0, (high - low) / 255.0)
        from_min, from_max = -128 - low / scale, 127 - high / scale
        error_min = 128 + np.abs(low / scale)
        error_max = 127 + np.abs(high / scale)
        zero = np.where(error_min < error_max, from_min, from_max)
        zero = np.where(zero <= -128, -128, np.where(zero >= 127, 127, round_half_away(zero)))
        zero = np.where(flat, 0, zero)
        inverse = (np.float32(1) / scale.astype(np.float32))[:, None]
        quantized = round_half_away(zero[:, None].astype(np.float32) + rows * inverse)
        quantized = np.where(flat[:, None], 0, np.clip(quantized, -128, 127))
        return quantized - zero[:, None], scale.astype(np.float32)
    span = np.maximum(-low, high).astype(np.float32)
    flat = span == 0
    scale = np.where(flat, np.float32(1), span / np.float32(127))
    inverse = np.float32(127) / np.where(flat, np.float32(1), span)
    quantized = np.clip(round_half_away(rows * inverse[:, None]), -127, 127)
    return np.where(flat[:, None], 0, quantized).astype(np.float64), scale.astype(np.float32)


def _hybrid_output(call: Call, accumulator: np.ndarray, row_scales: np.ndarray) -> np.ndarray:
    """accumulator * (input row scale * weight scale) + bias, fused activation, in float32."""
    weight_scales = call.input_tensors[1].scales.astype(np.float32)
    shape = (-1,) + (1,) * (accumulator.ndim - 1)
    factors = row_scales.reshape(shape) * weight_scales
    out = (accumulator.astype(np.float32) * factors).astype(np.float32)
    if len(call.inputs) > 2 and call.inputs[2] is not None:
        out = out + call.inputs[2]
    return activate(call, out).astype(np.float32)


def _hybrid_fully_connected(call: Call) -> np.ndarray:
    """Float input, int8 weights (dynamic-range quantization): each input row is quantized
    to int8 on the fly, multiplied in integers and scaled back to float."""
    weights = call.inputs[1]
    rows = call.inputs[0].reshape(-1, weights.shape[1]).astype(np.float32)
    centered, scales = _quantize_rows(rows, call.options["asymmetric_quantize_inputs"])
    return _hybrid_output(call, centered @ weights.astype(np.float64).T, scales)


@register("BATCH_MATMUL", options={"adj_x": (0, "bool", False), "adj_y": (1, "bool", False)})
def batch_matmul(call: Call):
    def product(a, b):
        if call.options["adj_x"]:
            a = np.swapaxes(a, -1, -2)
        if call.options["adj_y"]:
            b = np.swapaxes(b, -1, -2)
        return np.matmul(a, b)
    if is_quantized(call):
        return through_float(call, product)
    return product(*call.inputs).astype(call.output_tensors[0].dtype)


# --- convolutions -------------------------------------------------------------------------

@register("CONV_2D", options=_CONV_OPTIONS)
def conv_2d(call: Call):
    x, weights = call.inputs[0], call.inputs[1]
    kernel = weights.shape[1:3]
    groups = x.shape[3] // weights.shape[3]
    source, filters, scales = _conv_operands(call, HYBRID_CONV_ASYMMETRIC)
    windows = _windows(source, fill=0, **_geometry(call.options, kernel))
    per_group = weights.shape[0] // groups
    depth = weights.shape[3]
    outs = [np.tensordot(windows[:, :, :, g * depth:(g + 1) * depth],
                         filters[g * per_group:(g + 1) * per_group], axes=([3, 4, 5], [3, 1, 2]))
            for g in range(groups)]
    accumulator = outs[0] if groups == 1 else np.concatenate(outs, axis=-1)
    return _conv_result(call, accumulator, scales)


@register("DEPTHWISE_CONV_2D", options=_DEPTHWISE_OPTIONS)
def depthwise_conv_2d(call: Call):
    x, weights = call.inputs[0], call.inputs[1]
    kernel = weights.shape[1:3]
    channels = x.shape[3]
    multiplier = weights.shape[3] // channels
    source, filters, scales = _conv_operands(call, HYBRID_CONV_ASYMMETRIC)
    windows = _windows(source, fill=0, **_geometry(call.options, kernel))
    # Output channel c * multiplier + m reads input channel c with filter column c*M + m.
    filters = filters.reshape(kernel[0], kernel[1], channels, multiplier)
    accumulator = np.einsum("nhwcij,ijcm->nhwcm", windows, filters)
    accumulator = accumulator.reshape(*accumulator.shape[:3], channels * multiplier)
    return _conv_result(call, accumulator, scales)


# --- pooling ------------------------------------------------------------------------------

@register("MAX_POOL_2D", options=_POOL_OPTIONS)
def max_pool_2d(call: Call):
    x, out = call.inputs[0], call.output_tensors[0]
    kernel = (call.options["filter_height"], call.options["filter_width"])
    quantized = is_quantized(call)
    fill = np.iinfo(x.dtype).min if quantized else -np.inf
    pooled = _windows(x, fill=fill, **_geometry(call.options, kernel)).max(axis=(4, 5))
    if quantized:
        return np.clip(pooled, *quantized_range(call, out)).astype(out.dtype)
    return activate(call, pooled).astype(np.float32)


@register("AVERAGE_POOL_2D", options=_POOL_OPTIONS)
def average_pool_2d(call: Call):
    x, out = call.inputs[0], call.output_tensors[0]
    kernel = (call.options["filter_height"], call.options["filter_width"])
    geometry = _geometry(call.options, kernel)
    # Padding does not count: each window averages only the input cells it covers.
    count = _windows(np.ones((1, *x.shape[1:3], 1)), fill=0, **geometry).sum(
        axis=(4, 5))
    if is_quantized(call):
        total = _windows(x.astype(np.int64), fill=0, **geometry).sum(axis=(4, 5))
        count = count.astype(np.int64)
        # TensorFlow Lite's integer average: round half away from zero, C division.
        magnitude = (np.abs(total) + count // 2) // count
        average = np.where(total >= 0, magnitude, -magnitude)
        return np.clip(average, *quantized_range(call, out)).astype(out.dtype)
    total = _windows(x, fill=0, **geometry).sum(axis=(4, 5), dtype=np.float32)
    return activate(call, total / count.astype(np.float32)).astype(np.float32)


@register("L2_POOL_2D", options=_POOL_OPTIONS)
def l2_pool_2d(call: Call):
    x = call.inputs[0]
    kernel = (call.options["filter_height"], call.options["filter_width"])
    geometry = _geometry(call.options, kernel)
    count = _windows(np.ones((1, *x.shape[1:3], 1)), fill=0, **geometry).sum(
        axis=(4, 5))
    total = _windows(np.square(x), fill=0, **geometry).sum(axis=(4, 5))
    return activate(call, np.sqrt(total / count)).astype(np.float32)


# --- softmax and reductions ---------------------------------------------------------------

def _softmax(x: np.ndarray, beta: float) -> np.ndarray:
    shifted = (x - x.max(axis=-1, keepdims=True)) * np.float32(beta)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


@register("SOFTMAX", options={"beta": (0, "float32", 0.0)})
def softmax(call: Call):
    # int8: TensorFlow Lite's kernel builds its exp table in float; computing the real
    # softmax in float64 and rounding onto the output grid lands within one step of it.
    beta = call.options["beta"]
    if is_quantized(call):
        real = dequantize(call.inputs[0], call.input_tensors[0]).astype(np.float64)
        return quantize(_softmax(real, beta).astype(np.float32), call.output_tensors[0])
    return _softmax(call.inputs[0], beta).astype(np.float32)


@register("LOG_SOFTMAX")
def log_softmax(call: Call):
    def fn(x):
        x = np.asarray(x, np.float64)
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return through_float(call, fn)


@register("L2_NORMALIZATION", options=fused(0))
def l2_normalization(call: Call):
    def fn(x):
        x = np.asarray(x, np.float64)
        return activate(call, x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-6)))
    return through_float(call, fn)


REDUCERS = {"MEAN": np.mean, "SUM": np.sum, "REDUCE_MAX": np.max, "REDUCE_MIN": np.min,
            "REDUCE_PROD": np.prod, "REDUCE_ANY": np.any, "REDUCE_ALL": np.all}


def _quantized_mean_or_sum(call: Call, axis: tuple, keep: bool) -> np.ndarray:
    """TensorFlow Lite's integer MEAN/SUM: sum the centred inputs in int32, then one
    fixed-point rescale. MEAN folds the division by the count into the multiplier of
    input_scale / output_scale: it gains floor(log2(count)) bits of shift (at most 32, and
    no more than the shift can give), then is divided by the count with truncation."""
    x, source, out = call.inputs[0], call.input_tensors[0], call.output_tensors[0]
    total = (x.astype(np.int64) - source.zero_point).sum(axis=axis, keepdims=keep)
    count = int(np.prod([x.shape[a] for a in axis])) if call.op == "MEAN" else 1
    multiplier, shift = (int(v) for v in quantize_multiplier(source.scale / out.scale))
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    multiplier = (multiplier << extra) // count
    scaled = multiply_by_quantized_multiplier(total, multiplier, shift - extra) + out.zero_point
    info = np.iinfo(out.dtype)
    return np.clip(scaled, info.min, info.max).astype(out.dtype)


@register(*REDUCERS, options={"keep_dims": (0, "bool", False)})
def reduce(call: Call):
    x, axes = call.inputs
    axis = tuple(sorted({int(a) % x.ndim for a in np.asarray(axes).reshape(-1)}))
    keep = call.options["keep_dims"]
    fn = REDUCERS[call.op]
    out = call.output_tensors[0]
    if call.op in ("REDUCE_MAX", "REDUCE_MIN") or out.dtype == np.bool_:
        return fn(x, axis=axis, keepdims=keep).astype(out.dtype)
    if is_quantized(call) and call.op in ("MEAN", "SUM"):
        return _quantized_mean_or_sum(call, axis, keep)
    if is_quantized(call):
        real = dequantize(x, call.input_tensors[0]).astype(np.float64)
        return quantize(fn(real, axis=axis, keepdims=keep).astype(np.float32), out)
    if np.issubdtype(out.dtype, np.integer) and call.op == "MEAN":
        return (x.sum(axis=axis, keepdims=keep) // np.prod([x.shape[a] for a in axis])).astype(
            out.dtype)
    return fn(x, axis=axis, keepdims=keep).astype(out.dtype)


@register("ARG_MAX", "ARG_MIN")
def arg_extreme(call: Call):
    x, axis = call.inputs
    fn = np.argmax if call.op == "ARG_MAX" else np.argmin
    return fn(x, axis=int(np.asarray(axis).reshape(-1)[0])).astype(call.output_tensors[0].dtype)


@register("RESIZE_NEAREST_NEIGHBOR", options={"align_corners": (0, "bool", False),
                                              "half_pixel_centers": (1, "bool", False)})
def resize_nearest_neighbor(call: Call):
    x, size = call.inputs
    out_h, out_w = (int(s) for s in size)
    index = []
    for size_in, size_out in ((x.shape[1], out_h), (x.shape[2], out_w)):
        # TensorFlow Lite computes the source position in float32 and rounds halves away
        # from zero when corners are aligned (floors otherwise).
        corners = call.options["align_corners"]
        aligned = corners and size_out > 1
        scale = np.float32((size_in - 1) / (size_out - 1) if aligned else size_in / size_out)
        offset = np.float32(0.5 if call.options["half_pixel_centers"] else 0.0)
        position = (np.arange(size_out, dtype=np.float32) + offset) * scale
        position = round_half_away(position) if corners else np.floor(position)
        index.append(np.clip(position.astype(np.int64), 0, size_in - 1))
    return x[:, index[0]][:, :, index[1]]
