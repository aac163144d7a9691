"""NumPy kernels for TensorFlow Lite's builtin operators: the registry, the facts every
kernel shares (tensors, fused activations, quantization), and the element-wise and
shape-moving operators. Convolutions, pooling, fully connected and reductions live in
``kernels_nn.py``; both register here with :func:`register`.

Each kernel is declared with the fields of its options table (slot number in
TensorFlow Lite's ``schema.fbs``, type, default), so the interpreter decodes options
without knowing any operator. A kernel receives a :class:`Call` and returns its outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from neuroflow.lite.kernels_fixedpoint import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    requantize,
    round_half_away,
)

# schema.fbs's TensorType codes and the NumPy dtypes this interpreter runs them as.
TENSOR_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64,
                6: np.bool_, 7: np.int16, 9: np.int8, 10: np.float64, 12: np.uint64,
                15: np.uint32, 16: np.uint16}
TENSOR_TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64",
                     5: "STRING", 6: "BOOL", 7: "INT16", 8: "COMPLEX64", 9: "INT8",
                     10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64", 13: "RESOURCE",
                     14: "VARIANT", 15: "UINT32", 16: "UINT16", 17: "INT4", 18: "BFLOAT16"}
QUANTIZED = (np.int8, np.uint8, np.int16)

# schema.fbs's ActivationFunctionType and Padding enums.
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH",
               5: "SIGN_BIT"}
SAME, VALID = 0, 1


@dataclass
class TensorInfo:
    """One tensor of a subgraph as the file declares it."""

    index: int
    name: str
    type: int
    shape: np.ndarray
    shape_signature: np.ndarray
    data: np.ndarray | None = None  # constant tensors: their values
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_points: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    is_variable: bool = False
    sparse: bool = False
    # derived forms of a constant's data that kernels reuse across invokes
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def dtype(self):
        return TENSOR_TYPES[self.type]

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first, as TensorFlow Lite's ``params.scale``)."""
        return float(self.scales[0]) if self.scales.size else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if self.zero_points.size else 0

    @property
    def quantized(self) -> bool:
        return self.scales.size > 0 and self.dtype in QUANTIZED


@dataclass
class Call:
    """What a kernel sees: input arrays (``None`` for an omitted optional input), the
    input and output tensors' declarations, and the decoded options."""

    op: str
    inputs: list
    input_tensors: list
    output_tensors: list
    options: dict


@dataclass
class Kernel:
    name: str
    run: Callable[[Call], object]
    options: dict  # field name -> (slot, schema type, default)


KERNELS: dict[str, Kernel] = {}


def register(*names: str, options: dict | None = None):
    """Declare a kernel for the builtin operators ``names`` with its options' fields."""
    def decorate(run):
        for name in names:
            KERNELS[name] = Kernel(name, run, dict(options or {}))
        return run
    return decorate


def unsupported(call: Call, what: str) -> NotImplementedError:
    return NotImplementedError(
        f"TensorFlow Lite operator {call.op} is supported by neuroflow's interpreter, but not "
        f"{what}. Convert the model without it (for example with float32 or full-int8 "
        f"quantization), or run it with LiteRT's interpreter.")


# --- fused activations -------------------------------------------------------------------

def fused(slot: int) -> dict:
    """The options field of a fused activation, at ``slot`` of the op's options table."""
    return {"fused_activation_function": (slot, "int8", 0)}


def activate(call: Call, x: np.ndarray) -> np.ndarray:
    """Apply the op's fused activation to a float result."""
    kind = ACTIVATIONS.get(call.options.get("fused_activation_function", 0), "?")
    if kind == "NONE":
        return x
    if kind == "RELU":
        return np.maximum(x, 0)
    if kind == "RELU6":
        return np.clip(x, 0, 6)
    if kind == "RELU_N1_TO_1":
        return np.clip(x, -1, 1)
    if kind == "TANH":
        return np.tanh(x)
    raise unsupported(call, f"the fused activation {kind}")


def quantized_range(call: Call, tensor: TensorInfo) -> tuple[int, int]:
    """TensorFlow Lite's CalculateActivationRangeQuantized: the fused activation as a
    clamp on the output's integers."""
    info = np.iinfo(tensor.dtype)
    low, high = int(info.min), int(info.max)
    kind = ACTIVATIONS.get(call.options.get("fused_activation_function", 0), "?")

    def quantize(value: float) -> int:
        return tensor.zero_point + int(round_half_away(np.float32(value)
                                                       / np.float32(tensor.scale)))
    if kind == "NONE":
        return low, high
    if kind == "RELU":
        return max(low, quantize(0.0)), high
    if kind == "RELU6":
        return max(low, quantize(0.0)), min(high, quantize(6.0))
    if kind == "RELU_N1_TO_1":
        return max(low, quantize(-1.0)), min(high, quantize(1.0))
    raise unsupported(call, f"the fused activation {kind} on quantized tensors")


# --- quantization helpers ----------------------------------------------------------------

def _axis_shape(tensor: TensorInfo, ndim: int) -> tuple:
    """Shape that broadcasts per-channel parameters along ``quantized_dimension``."""
    shape = [1] * ndim
    shape[tensor.quantized_dimension] = -1
    return tuple(shape)


def dequantize(x: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """Real values of a quantized array, in float32 as TensorFlow Lite computes them."""
    if tensor.scales.size > 1:
        scales = tensor.scales.astype(np.float32).reshape(_axis_shape(tensor, x.ndim))
        zeros = tensor.zero_points.reshape(_axis_shape(tensor, x.ndim))
        return ((x.astype(np.int64) - zeros) * scales).astype(np.float32)
    return ((x.astype(np.int32) - tensor.zero_point) * np.float32(tensor.scale)).astype(
        np.float32)


def quantize(x: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """Float values rounded onto a quantized tensor's grid (TensorFlow Lite's
    AffineQuantize: divide in float32, round half away from zero, clamp)."""
    info = np.iinfo(tensor.dtype)
    scaled = round_half_away(np.asarray(x, np.float32) / np.float32(tensor.scale))
    return np.clip(scaled + tensor.zero_point, info.min, info.max).astype(tensor.dtype)


def through_float(call: Call, compute: Callable) -> np.ndarray:
    """Run a float computation on quantized inputs: dequantize, compute, requantize (the
    way TensorFlow Lite fills the lookup tables of its int8 LOGISTIC, TANH and friends)."""
    real = [dequantize(x, t) if x is not None and t is not None and t.quantized else x
            for x, t in zip(call.inputs, call.input_tensors)]
    out = call.output_tensors[0]
    result = np.asarray(compute(*real), dtype=np.float32)
    return quantize(result, out) if out.quantized else result.astype(out.dtype)


def is_quantized(call: Call) -> bool:
    first = call.input_tensors[0]
    return first is not None and first.quantized


# --- element-wise ------------------------------------------------------------------------

def _requantize_relu(call: Call, low: float, high: float | None) -> np.ndarray:
    """Quantized RELU family: rescale from the input's grid to the output's, then clamp
    to the activation's bounds on the output grid (TensorFlow Lite's ReluX kernel)."""
    x, source, out = call.inputs[0], call.input_tensors[0], call.output_tensors[0]
    info = np.iinfo(out.dtype)

    def grid(value: float) -> int:
        return out.zero_point + int(round_half_away(np.float32(value) / np.float32(out.scale)))
    lower = max(int(info.min), grid(low))
    upper = int(info.max) if high is None else min(int(info.max), grid(high))
    multiplier, shift = quantize_multiplier(source.scale / out.scale)
    rescaled = multiply_by_quantized_multiplier(x.astype(np.int64) - source.zero_point,
                                                multiplier, shift) + out.zero_point
    return np.clip(rescaled, lower, upper).astype(out.dtype)


_RELUS = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0),
          "RELU_0_TO_1": (0.0, 1.0)}


@register(*_RELUS)
def relu(call: Call):
    low, high = _RELUS[call.op]
    if is_quantized(call):
        return _requantize_relu(call, low, high)
    return np.clip(call.inputs[0], low, high if high is not None else np.inf)


def _gelu(x, approximate):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    from math import erf  # NumPy has no erf; the exact GELU needs it

    return 0.5 * x * (1 + np.vectorize(erf, otypes=[np.float64])(x / np.sqrt(2)))


def _float32(fn):
    def run(x, *rest):
        return fn(np.asarray(x, np.float64), *rest).astype(np.float32)
    return run


UNARY = {
    "LOGISTIC": _float32(lambda x: 1 / (1 + np.exp(-x))),
    "TANH": np.tanh, "EXP": np.exp, "LOG": np.log, "SQRT": np.sqrt, "NEG": np.negative,
    "RSQRT": lambda x: 1 / np.sqrt(x), "ABS": np.abs, "SQUARE": np.square, "SIN": np.sin,
    "COS": np.cos, "FLOOR": np.floor, "CEIL": np.ceil, "ROUND": np.round, "SIGN": np.sign,
    "ELU": lambda x: np.where(x > 0, x, np.expm1(x)),
    "HARD_SWISH": lambda x: x * np.clip(x + 3, 0, 6) / 6,
}


@register(*UNARY)
def unary(call: Call):
    fn = UNARY[call.op]
    if is_quantized(call):
        return through_float(call, fn)
    return fn(call.inputs[0]).astype(call.output_tensors[0].dtype)


@register("GELU", options={"approximate": (0, "bool", False)})
def gelu(call: Call):
    def fn(x):
        return _gelu(np.asarray(x, np.float64), call.options["approximate"]).astype(np.float32)
    return through_float(call, fn)


@register("LEAKY_RELU", options={"alpha": (0, "float32", 0.0)})
def leaky_relu(call: Call):
    alpha = np.float32(call.options["alpha"])
    return through_float(call, lambda x: np.where(x >= 0, x, x * alpha))


def _quantized_add(call: Call, sign: int) -> np.ndarray:
    """TensorFlow Lite's int8 ADD/SUB: both inputs are brought to a common scale with
    20 bits of headroom, summed, then rescaled to the output (all fixed point)."""
    (a, b), (ta, tb), out = call.inputs, call.input_tensors, call.output_tensors[0]
    left_shift = 20
    twice_max = 2 * max(ta.scale, tb.scale)
    scaled = []
    for x, t in ((a, ta), (b, tb)):
        m, s = quantize_multiplier(t.scale / twice_max)
        shifted = (x.astype(np.int64) - t.zero_point) * (1 << left_shift)
        scaled.append(multiply_by_quantized_multiplier(shifted, m, s))
    total = scaled[0] + sign * scaled[1]
    low, high = quantized_range(call, out)
    return requantize(total, twice_max / ((1 << left_shift) * out.scale), out.zero_point,
                      low, high, out.dtype)


def _quantized_mul(call: Call) -> np.ndarray:
    (a, b), (ta, tb), out = call.inputs, call.input_tensors, call.output_tensors[0]
    product = (a.astype(np.int64) - ta.zero_point) * (b.astype(np.int64) - tb.zero_point)
    low, high = quantized_range(call, out)
    real = float(np.float32(ta.scale) * np.float32(tb.scale)) / out.scale
    return requantize(product, real, out.zero_point, low, high, out.dtype)


BINARY = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "DIV": np.divide}


@register("ADD", "SUB", "MUL", "DIV", options=fused(0))
def arithmetic(call: Call):
    out = call.output_tensors[0]
    if is_quantized(call) and out.quantized:
        if call.op in ("ADD", "SUB"):
            return _quantized_add(call, 1 if call.op == "ADD" else -1)
        if call.op == "MUL":
            return _quantized_mul(call)
        return through_float(call, lambda a, b: activate(call, a / b))
    a, b = call.inputs
    if call.op == "DIV" and np.issubdtype(out.dtype, np.integer):
        return (a // b).astype(out.dtype)
    return activate(call, BINARY[call.op](a, b)).astype(out.dtype)


OTHER_BINARY = {
    "MAXIMUM": np.maximum, "MINIMUM": np.minimum, "POW": np.power,
    "SQUARED_DIFFERENCE": lambda a, b: np.square(a - b), "FLOOR_DIV": np.floor_divide,
    "FLOOR_MOD": np.mod, "LESS": np.less, "GREATER": np.greater, "EQUAL": np.equal,
    "NOT_EQUAL": np.not_equal, "LESS_EQUAL": np.less_equal,
    "GREATER_EQUAL": np.greater_equal, "LOGICAL_AND": np.logical_and,
    "LOGICAL_OR": np.logical_or,
}


@register(*OTHER_BINARY)
def other_binary(call: Call):
    fn = OTHER_BINARY[call.op]
    if call.op in ("MAXIMUM", "MINIMUM"):  # same grid in and out: compare the integers
        return fn(*call.inputs).astype(call.output_tensors[0].dtype)
    if is_quantized(call) and call.output_tensors[0].dtype != np.bool_:
        return through_float(call, fn)
    if is_quantized(call):
        real = [dequantize(x, t) for x, t in zip(call.inputs, call.input_tensors)]
        return fn(*real)
    return fn(*call.inputs).astype(call.output_tensors[0].dtype)


@register("LOGICAL_NOT")
def logical_not(call: Call):
    return np.logical_not(call.inputs[0])


@register("SELECT", "SELECT_V2")
def select(call: Call):
    return np.where(*call.inputs).astype(call.output_tensors[0].dtype)


@register("CAST")
def cast(call: Call):
    return call.inputs[0].astype(call.output_tensors[0].dtype)


@register("QUANTIZE")
def quantize_op(call: Call):
    x, source, out = call.inputs[0], call.input_tensors[0], call.output_tensors[0]
    if source.quantized:  # int8 -> int8 on another grid: a fixed-point rescale
        info = np.iinfo(out.dtype)
        return requantize(x.astype(np.int64) - source.zero_point, source.scale / out.scale,
                          out.zero_point, int(info.min), int(info.max), out.dtype)
    return quantize(x, out)


@register("DEQUANTIZE")
def dequantize_op(call: Call):
    x, source = call.inputs[0], call.input_tensors[0]
    if source.dtype == np.float16:
        return x.astype(np.float32)
    return dequantize(x, source)


# --- shapes and data movement (the same on every dtype: no arithmetic) --------------------

@register("RESHAPE", options={"new_shape": (0, "[int32]", None)})
def reshape(call: Call):
    x = call.inputs[0]
    shape_input = call.inputs[1] if len(call.inputs) > 1 else None
    if shape_input is not None and np.ndim(shape_input) == 1:
        shape = [int(d) for d in shape_input]
    elif call.options["new_shape"] is not None:
        shape = [int(d) for d in call.options["new_shape"]]
    else:  # neither: TensorFlow Lite keeps the output tensor's declared shape
        shape = [int(d) for d in call.output_tensors[0].shape]
    return x.reshape(shape)


@register("SQUEEZE", options={"squeeze_dims": (0, "[int32]", None)})
def squeeze(call: Call):
    dims = call.options["squeeze_dims"]
    x = call.inputs[0]
    if dims is None or len(dims) == 0:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(int(d) % x.ndim for d in dims))


@register("EXPAND_DIMS")
def expand_dims(call: Call):
    x, axis = call.inputs
    return np.expand_dims(x, int(np.asarray(axis).reshape(-1)[0]))


@register("SHAPE")
def shape(call: Call):
    return np.array(call.inputs[0].shape, dtype=call.output_tensors[0].dtype)


@register("RANK")
def rank(call: Call):
    return np.array(call.inputs[0].ndim, dtype=np.int32)


@register("TRANSPOSE")
def transpose(call: Call):
    x, perm = call.inputs
    return np.transpose(x, [int(p) for p in perm])


def _requantize_to(x: np.ndarray, source: TensorInfo, out: TensorInfo) -> np.ndarray:
    """An input on another grid than the output's, moved onto it (TensorFlow Lite's
    Requantize: float rescale, round, clamp); identical grids pass through."""
    if not out.quantized or (source.scale == out.scale and source.zero_point == out.zero_point):
        return x
    return quantize(dequantize(x, source), out)


@register("CONCATENATION", options={"axis": (0, "int32", 0), **fused(1)})
def concatenation(call: Call):
    out = call.output_tensors[0]
    parts = [_requantize_to(x, t, out) for x, t in zip(call.inputs, call.input_tensors)]
    joined = np.concatenate(parts, axis=call.options["axis"])
    if out.quantized:
        low, high = quantized_range(call, out)
        return np.clip(joined, low, high).astype(out.dtype)
    return activate(call, joined).astype(out.dtype)


@register("PACK", options={"values_count": (0, "int32", 0), "axis": (1, "int32", 0)})
def pack(call: Call):
    return np.stack(call.inputs, axis=call.options["axis"])


@register("UNPACK", options={"num": (0, "int32", 0), "axis": (1, "int32", 0)})
def unpack(call: Call):
    x = call.inputs[0]
    return [np.take(x, i, axis=call.options["axis"]) for i in range(x.shape[call.options["axis"]])]


@register("SPLIT", options={"num_splits": (0, "int32", 0)})
def split(call: Call):
    axis, x = call.inputs
    return np.split(x, call.options["num_splits"], axis=int(np.asarray(axis).reshape(-1)[0]))


@register("SPLIT_V", options={"num_splits": (0, "int32", 0)})
def split_v(call: Call):
    x, sizes, axis = call.inputs
    axis = int(np.asarray(axis).reshape(-1)[0])
    sizes = [int(s) for s in sizes]
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _gather(params, indices, axis: int, batch_dims: int):
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    return np.stack([_gather(p, i, axis - 1, batch_dims - 1)
                     for p, i in zip(params, indices)])


@register("GATHER", options={"axis": (0, "int32", 0), "batch_dims": (1, "int32", 0)})
def gather(call: Call):
    params, indices = call.inputs
    axis = call.options["axis"] % params.ndim
    batch_dims = call.options["batch_dims"] % max(indices.ndim, 1) \
        if call.options["batch_dims"] < 0 else call.options["batch_dims"]
    return _gather(params, indices.astype(np.int64), axis, batch_dims)


@register("GATHER_ND")
def gather_nd(call: Call):
    params, indices = call.inputs
    return params[tuple(np.moveaxis(indices.astype(np.int64), -1, 0))]


@register("SLICE")
def slice_op(call: Call):
    x, begin, size = call.inputs
    index = tuple(slice(int(b), None if int(s) == -1 else int(b) + int(s))
                  for b, s in zip(begin, size))
    return x[index]


@register("STRIDED_SLICE", options={
    "begin_mask": (0, "int32", 0), "end_mask": (1, "int32", 0),
    "ellipsis_mask": (2, "int32", 0), "new_axis_mask": (3, "int32", 0),
    "shrink_axis_mask": (4, "int32", 0), "offset": (5, "bool", False)})
def strided_slice(call: Call):
    x, begin, end, strides = call.inputs
    o = call.options
    index: list = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        b, e, s = int(b), int(e), int(s)
        if o["ellipsis_mask"] & bit:
            index.append(Ellipsis)
        elif o["new_axis_mask"] & bit:
            index.append(None)
        elif o["shrink_axis_mask"] & bit:
            index.append(b)
        else:
            if o["offset"]:
                e = b + e
            index.append(slice(None if o["begin_mask"] & bit else b,
                               None if o["end_mask"] & bit else e, s))
    return np.asarray(x[tuple(index)])


def _pad_amounts(paddings) -> list:
    return [(int(before), int(after)) for before, after in np.asarray(paddings)]


@register("PAD", "PADV2")
def pad(call: Call):
    x, paddings = call.inputs[:2]
    value = call.inputs[2] if len(call.inputs) > 2 and call.inputs[2] is not None else None
    if value is None:  # PAD fills with real zero: on a quantized grid, the zero point
        value = call.output_tensors[0].zero_point if call.output_tensors[0].quantized else 0
    return np.pad(x, _pad_amounts(paddings), constant_values=np.asarray(value).reshape(-1)[0]
                  if np.ndim(value) else value)


@register("MIRROR_PAD", options={"mode": (0, "int8", 0)})
def mirror_pad(call: Call):
    x, paddings = call.inputs
    mode = "reflect" if call.options["mode"] == 0 else "symmetric"
    return np.pad(x, _pad_amounts(paddings), mode=mode)


@register("TILE")
def tile(call: Call):
    x, multiples = call.inputs
    return np.tile(x, [int(m) for m in multiples])


@register("BROADCAST_TO")
def broadcast_to(call: Call):
    x, target = call.inputs
    return np.broadcast_to(x, [int(d) for d in target]).copy()


@register("FILL")
def fill(call: Call):
    dims, value = call.inputs
    return np.full([int(d) for d in dims], value, dtype=call.output_tensors[0].dtype)


@register("ZEROS_LIKE")
def zeros_like(call: Call):
    return np.zeros_like(call.inputs[0])


@register("RANGE")
def range_op(call: Call):
    start, limit, delta = (np.asarray(v).reshape(-1)[0] for v in call.inputs)
    return np.arange(start, limit, delta, dtype=call.output_tensors[0].dtype)
