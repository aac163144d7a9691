"""int8 quantization of a lowered TensorFlow Lite model, as TensorFlow's converter does it.

* Full integer (a representative dataset): activations are asymmetric int8 with the
  min/max each tensor takes over the representative data (widened to hold 0, so 0 is
  exact); weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED are symmetric int8
  per output channel; biases int32 with scale ``input_scale * weight_scale``. Operators
  whose int8 kernels need it share their input's parameters (RESHAPE, pooling,
  CONCATENATION) or have fixed output parameters (SOFTMAX, LOGISTIC: 1/256 and -128;
  TANH: 1/128 and 0). Float inputs and outputs get QUANTIZE and DEQUANTIZE at the edges.
* Dynamic range (no dataset): only the weights of CONV_2D, DEPTHWISE_CONV_2D and
  FULLY_CONNECTED with at least 1024 elements become int8 (per channel); kernels quantize
  their inputs on the fly.
"""

from __future__ import annotations

import numpy as np

from neuroflow.export.tflite_model import Model, Operator, QuantParams, Tensor
from neuroflow.graph.ir import Graph
from neuroflow.graph.passes.specialize import specialize

_WEIGHTED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}  # channel axis
_SHARED = ("RESHAPE", "MAX_POOL_2D", "AVERAGE_POOL_2D", "CONCATENATION")
_FIXED = {"SOFTMAX": (1 / 256, -128), "LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}
# TensorFlow leaves smaller weights float in dynamic-range mode: the saving is negligible.
DYNAMIC_RANGE_MIN_ELEMENTS = 1024
_CHUNK = 256  # representative samples evaluated at once


def calibrate(graph: Graph, samples) -> dict[str, tuple[float, float]]:
    """Each float value's (min, max) over ``samples`` (an iterable of lists of input
    arrays, one per graph input), computed with each primitive's own forward."""
    batches: list[list[np.ndarray]] = []
    for sample in samples:
        arrays = list(sample.values()) if isinstance(sample, dict) else (
            list(sample) if isinstance(sample, (list, tuple)) else [sample])
        if len(arrays) != len(graph.inputs):
            raise ValueError(
                f"representative_dataset must yield one array per model input: expected "
                f"{len(graph.inputs)}, received {len(arrays)}.")
        batches.append([np.asarray(a, np.float32) for a in arrays])
    if not batches:
        raise ValueError("representative_dataset yielded no samples; it must yield at least "
                         "one list of input arrays.")
    ranges: dict[str, tuple[float, float]] = {}
    for start in range(0, len(batches), _CHUNK):
        chunk = batches[start:start + _CHUNK]
        inputs = [np.concatenate([b[i] for b in chunk]) for i in range(len(graph.inputs))]
        for name, array in _all_values(graph, inputs):
            if array.dtype.kind == "f" and array.size:
                low, high = float(array.min()), float(array.max())
                if name in ranges:
                    low, high = min(low, ranges[name][0]), max(high, ranges[name][1])
                ranges[name] = (low, high)
    return ranges


def _all_values(graph: Graph, inputs: list[np.ndarray]):
    """(name, array) of every input and node result of ``graph`` run on ``inputs``."""
    graph = specialize(graph, [a.shape for a in inputs])
    env = dict(graph.constants)
    for value, array in zip(graph.inputs, inputs):
        env[value.name] = array
        yield value.name, array
    for node in graph.nodes:
        if node.op == "read_variable":
            env[node.output.name] = graph.variables[node.variable].numpy()
            continue
        made = node.primitive.forward(np, *[env[v.name] for v in node.inputs], **node.attrs)
        for value, array in zip(node.results, made if node.extra_outputs else (made,)):
            env[value.name] = np.asarray(array)
            yield value.name, env[value.name]


def _activation_params(low: float, high: float) -> QuantParams:
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low < 1e-12:
        return QuantParams.per_tensor(1.0, -128)
    scale = (high - low) / 255.0
    zero_point = int(np.clip(np.round(-128 - low / scale), -128, 127))
    return QuantParams.per_tensor(scale, zero_point)


def _quantize_array(array: np.ndarray, q: QuantParams, dtype=np.int8) -> np.ndarray:
    info = np.iinfo(dtype)
    shape = [1] * array.ndim
    if q.scale.size > 1:
        shape[q.axis] = -1
    scale = q.scale.astype(np.float64).reshape(shape)
    zero = q.zero_point.reshape(shape)
    return np.clip(np.round(array / scale) + zero, info.min, info.max).astype(dtype)


def _symmetric_per_channel(weights: np.ndarray, axis: int) -> tuple[np.ndarray, QuantParams]:
    moved = np.moveaxis(weights, axis, 0).reshape(weights.shape[axis], -1)
    peak = np.abs(moved).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = QuantParams(scale, np.zeros(scale.size, np.int64), axis)
    # int8 weights stay in [-127, 127]: the symmetric range the int8 kernels assume
    return np.clip(_quantize_array(weights, q), -127, 127).astype(np.int8), q


class _Groups:
    """Union-find over tensor indices: tensors that must share quantization parameters."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def quantize_full_int8(model: Model, ranges: dict[str, tuple[float, float]],
                       input_type=np.float32, output_type=np.float32) -> Model:
    """``model`` with int8 activations and weights (see the module docstring)."""
    params = _activation_quantization(model, ranges)
    tensors = [Tensor(t.name, t.shape, t.dtype, t.data, t.value, t.quant) for t in model.tensors]
    for index, q in params.items():
        tensors[index].dtype, tensors[index].quant = np.dtype(np.int8), q
    weight_inputs = set()
    for op in model.operators:
        if op.kind in _WEIGHTED:
            _quantize_weights(tensors, op, params)
            weight_inputs.update(op.inputs[1:])
    for op in model.operators:
        for index in op.inputs:
            tensor = tensors[index] if index >= 0 else None
            if tensor is None or tensor.data is None or index in weight_inputs \
                    or tensor.data.dtype != np.float32:
                continue
            q = _activation_params(float(tensor.data.min()), float(tensor.data.max()))
            tensor.dtype, tensor.quant = np.dtype(np.int8), q
            tensor.data = _quantize_array(tensor.data, q)
    result = Model(tensors, [Operator(o.kind, list(o.inputs), list(o.outputs), dict(o.options),
                                      o.layer) for o in model.operators],
                   list(model.inputs), list(model.outputs), list(model.input_names))
    _edges(result, input_type, output_type)
    return result


def _activation_quantization(model: Model, ranges) -> dict[int, QuantParams]:
    """Quantization parameters for every tensor that is not a constant."""
    groups = _Groups(len(model.tensors))
    fixed: dict[int, tuple[float, int]] = {}
    for op in model.operators:
        if op.kind in _SHARED:
            data_inputs = op.inputs if op.kind == "CONCATENATION" else op.inputs[:1]
            for index in data_inputs:
                groups.join(index, op.outputs[0])
        if op.kind in _FIXED:
            fixed[op.outputs[0]] = _FIXED[op.kind]
    lows: dict[int, float] = {}
    highs: dict[int, float] = {}
    members: dict[int, list[int]] = {}
    for index, tensor in enumerate(model.tensors):
        if tensor.data is not None:
            continue
        if tensor.value not in ranges:
            raise ValueError(f"calibration gave no range for tensor {tensor.name!r}")
        root = groups.find(index)
        low, high = ranges[tensor.value]
        lows[root] = min(low, lows.get(root, low))
        highs[root] = max(high, highs.get(root, high))
        members.setdefault(root, []).append(index)
    params: dict[int, QuantParams] = {}
    for root, indices in members.items():
        pinned = sorted({fixed[i] for i in indices if i in fixed})
        if pinned:
            _check_pinned(model, indices, pinned, lows[root], highs[root])
        q = (QuantParams.per_tensor(*pinned[0]) if pinned
             else _activation_params(lows[root], highs[root]))
        for index in indices:
            params[index] = q
    return params


def _check_pinned(model: Model, indices: list[int], pinned: list, low: float,
                  high: float) -> None:
    """Tensors that must share one int8 grid (a CONCATENATION's inputs and output, a
    reshape or pool and its input) can take a fixed grid (a SOFTMAX, LOGISTIC or TANH
    output) only if that grid holds all their calibrated values; otherwise values would be
    clipped silently. TensorFlow's converter inserts a requantize there; neuroflow does not
    yet, so it refuses."""
    scale, zero_point = pinned[0]
    representable = ((-128 - zero_point) * scale, (127 - zero_point) * scale)
    if len(pinned) == 1 and low >= representable[0] - scale and high <= representable[1] + scale:
        return
    names = ", ".join(repr(model.tensors[i].name) for i in indices)
    raise NotImplementedError(
        f"int8 quantization: the tensors {names} must share one int8 scale, but one of them "
        f"is a SOFTMAX/LOGISTIC/TANH output with a fixed scale that cannot hold the others' "
        f"calibrated range [{low:.4g}, {high:.4g}] (or two such outputs differ). neuroflow's "
        f"converter does not insert a requantize between them. Convert without "
        f"representative_dataset (float or dynamic range), or concatenate before the "
        f"activation.")


def _quantize_weights(tensors: list[Tensor], op: Operator, params) -> None:
    x, w, b = op.inputs[:3]
    weights = tensors[w]
    data, q = _symmetric_per_channel(weights.data, _WEIGHTED[op.kind])
    weights.dtype, weights.data, weights.quant = np.dtype(np.int8), data, q
    if b >= 0:
        bias = tensors[b]
        scale = (params[x].scale[0] * q.scale.astype(np.float64)).astype(np.float32)
        bq = QuantParams(scale, np.zeros(scale.size, np.int64), 0)
        bias.dtype, bias.quant = np.dtype(np.int32), bq
        bias.data = _quantize_array(bias.data.astype(np.float64), bq, np.int32)


def _edges(model: Model, input_type, output_type) -> None:
    """Float inputs and outputs keep their float tensors, with QUANTIZE after each input
    and DEQUANTIZE before each output; int8 ones are the int8 tensors themselves."""
    first: list[Operator] = []
    for index in model.inputs:
        if np.dtype(input_type) == np.int8:
            continue
        tensor = model.tensors[index]
        inner = model.add_tensor(Tensor(model.unique_name("tfl.quantize"), tensor.shape,
                                        np.dtype(np.int8), value=tensor.value,
                                        quant=tensor.quant))
        tensor.dtype, tensor.quant = np.dtype(np.float32), None
        for op in model.operators:
            op.inputs = [inner if i == index else i for i in op.inputs]
        first.append(Operator("QUANTIZE", [index], [inner], {}, "input"))
    model.operators[:0] = first
    if np.dtype(output_type) == np.int8:
        return
    for position, index in enumerate(model.outputs):
        tensor = model.tensors[index]
        outer = model.add_tensor(Tensor(tensor.name, tensor.shape, np.dtype(np.float32),
                                        value=tensor.value))
        tensor.name = model.unique_name(tensor.name)
        model.operators.append(Operator("DEQUANTIZE", [index], [outer], {}, "output"))
        model.outputs[position] = outer


def quantize_dynamic_range(model: Model) -> Model:
    """``model`` with the large weights int8, per channel (see the module docstring)."""
    tensors = [Tensor(t.name, t.shape, t.dtype, t.data, t.value, t.quant) for t in model.tensors]
    operators = []
    for op in model.operators:
        op = Operator(op.kind, list(op.inputs), list(op.outputs), dict(op.options), op.layer)
        weights = tensors[op.inputs[1]] if op.kind in _WEIGHTED else None
        if weights is not None and weights.data.size >= DYNAMIC_RANGE_MIN_ELEMENTS:
            data, q = _symmetric_per_channel(weights.data, _WEIGHTED[op.kind])
            weights.dtype, weights.data, weights.quant = np.dtype(np.int8), data, q
            if op.kind == "FULLY_CONNECTED":
                # inputs quantized with their own zero point, as TensorFlow writes it
                op.options["asymmetric_quantize_inputs"] = True
        operators.append(op)
    return Model(tensors, operators, list(model.inputs), list(model.outputs),
                 list(model.input_names))
