"""Serialize a ``tflite_model.Model`` as a TensorFlow Lite flatbuffer (``.tflite`` bytes).

The numbers below are facts of TensorFlow Lite's ``schema.fbs`` (schema version 3): enum
values, and for each table the slot (field id) of every field written. Tables are built
with the ``flatbuffers`` package (the optional ``export`` extra), imported when writing.
"""

from __future__ import annotations

import numpy as np

from neuroflow.export.tflite_model import Model, Operator, Tensor

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"

BUILTIN_CODES = {
    "ADD": 0, "AVERAGE_POOL_2D": 1, "CONCATENATION": 2, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4,
    "DEQUANTIZE": 6, "FULLY_CONNECTED": 9, "LOGISTIC": 14, "MAX_POOL_2D": 17, "MUL": 18,
    "RELU": 19, "RELU6": 21, "RESHAPE": 22, "SOFTMAX": 25, "TANH": 28, "MEAN": 40, "SUB": 41,
    "QUANTIZE": 114,
}

TENSOR_TYPES = {np.dtype(np.float32): 0, np.dtype(np.int32): 2, np.dtype(np.uint8): 3,
                np.dtype(np.int64): 4, np.dtype(np.bool_): 6, np.dtype(np.int16): 7,
                np.dtype(np.int8): 9}

PADDING = {"SAME": 0, "VALID": 1}
ACTIVATIONS = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}

# BuiltinOptions union member for each operator, and the (slot, kind, default) of each
# option field by name. ``kind`` is the flatbuffers scalar type, "ints" an int32 vector.
_OPTIONS = {
    "CONV_2D": (1, 7, {"padding": (0, "Int8", 0), "stride_w": (1, "Int32", 0),
                       "stride_h": (2, "Int32", 0), "fused_activation_function": (3, "Int8", 0),
                       "dilation_w_factor": (4, "Int32", 1),
                       "dilation_h_factor": (5, "Int32", 1)}),
    "DEPTHWISE_CONV_2D": (2, 7, {"padding": (0, "Int8", 0), "stride_w": (1, "Int32", 0),
                                 "stride_h": (2, "Int32", 0), "depth_multiplier": (3, "Int32", 0),
                                 "fused_activation_function": (4, "Int8", 0),
                                 "dilation_w_factor": (5, "Int32", 1),
                                 "dilation_h_factor": (6, "Int32", 1)}),
    "MAX_POOL_2D": (5, 6, {"padding": (0, "Int8", 0), "stride_w": (1, "Int32", 0),
                           "stride_h": (2, "Int32", 0), "filter_width": (3, "Int32", 0),
                           "filter_height": (4, "Int32", 0),
                           "fused_activation_function": (5, "Int8", 0)}),
    "FULLY_CONNECTED": (8, 5, {"fused_activation_function": (0, "Int8", 0),
                               "keep_num_dims": (2, "Bool", False),
                               "asymmetric_quantize_inputs": (3, "Bool", False)}),
    "SOFTMAX": (9, 1, {"beta": (0, "Float32", 0.0)}),
    "CONCATENATION": (10, 2, {"axis": (0, "Int32", 0),
                              "fused_activation_function": (1, "Int8", 0)}),
    "ADD": (11, 2, {"fused_activation_function": (0, "Int8", 0)}),
    "RESHAPE": (17, 1, {"new_shape": (0, "ints", None)}),
    "MUL": (21, 1, {"fused_activation_function": (0, "Int8", 0)}),
    "MEAN": (27, 1, {"keep_dims": (0, "Bool", False)}),
    "SUB": (28, 2, {"fused_activation_function": (0, "Int8", 0)}),
    "DEQUANTIZE": (38, 0, {}),
    "QUANTIZE": (89, 0, {}),
}
_OPTIONS["AVERAGE_POOL_2D"] = _OPTIONS["MAX_POOL_2D"]

# Operator versions as TensorFlow's converter writes them: float kernels are version 1;
# int8 kernels need the version that introduced them.
_INT8_VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "DEQUANTIZE": 2}
_HYBRID_VERSIONS = {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 6, "FULLY_CONNECTED": 12}


def operator_version(model: Model, op: Operator) -> int:
    """The version of ``op``'s kernel, from the types of its tensors."""
    first = model.tensors[op.inputs[0]]
    weights = model.tensors[op.inputs[1]] if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
    if first.dtype == np.float32 and weights is not None and weights.dtype == np.int8 \
            and op.kind in _HYBRID_VERSIONS:
        return _HYBRID_VERSIONS[op.kind]
    if first.dtype == np.int8:
        return _INT8_VERSIONS.get(op.kind, 1 if op.kind in ("RESHAPE", "QUANTIZE") else 2)
    return 1


def serialize(model: Model, signature_key: str = "serving_default") -> bytes:
    """The flatbuffer bytes of ``model``, with one signature naming its inputs and outputs."""
    try:
        import flatbuffers
    except ImportError as error:
        raise ImportError("Writing TensorFlow Lite files needs the flatbuffers package: "
                          "pip install 'neuroflow[export]'.") from error

    b = flatbuffers.Builder(1024)
    buffers = [None]  # buffer 0 is the empty sentinel every tensor without data points at
    buffer_of = []
    for tensor in model.tensors:
        if tensor.data is None:
            buffer_of.append(0)
        else:
            buffer_of.append(len(buffers))
            buffers.append(np.ascontiguousarray(tensor.data, tensor.dtype))

    buffer_offsets = [_buffer(b, data) for data in buffers]
    kinds = list(dict.fromkeys(op.kind for op in model.operators))
    versions = {kind: max(operator_version(model, op) for op in model.operators
                          if op.kind == kind) for kind in kinds}
    code_offsets = [_operator_code(b, kind, versions[kind]) for kind in kinds]
    tensor_offsets = [_tensor(b, t, buffer_of[i]) for i, t in enumerate(model.tensors)]
    op_offsets = [_operator(b, op, kinds.index(op.kind)) for op in model.operators]

    name = b.CreateString("main")
    tensors = _offsets(b, tensor_offsets)
    inputs = _int_vector(b, model.inputs)
    outputs = _int_vector(b, model.outputs)
    operators = _offsets(b, op_offsets)
    b.StartObject(6)  # SubGraph
    b.PrependUOffsetTRelativeSlot(0, tensors, 0)
    b.PrependUOffsetTRelativeSlot(1, inputs, 0)
    b.PrependUOffsetTRelativeSlot(2, outputs, 0)
    b.PrependUOffsetTRelativeSlot(3, operators, 0)
    b.PrependUOffsetTRelativeSlot(4, name, 0)
    subgraph = b.EndObject()

    signature = _signature(b, model, signature_key)
    description = b.CreateString("neuroflow converted.")
    codes = _offsets(b, code_offsets)
    subgraphs = _offsets(b, [subgraph])
    buffer_vector = _offsets(b, buffer_offsets)
    signatures = _offsets(b, [signature])
    b.StartObject(10)  # Model
    b.PrependUint32Slot(0, SCHEMA_VERSION, 0)
    b.PrependUOffsetTRelativeSlot(1, codes, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    b.PrependUOffsetTRelativeSlot(3, description, 0)
    b.PrependUOffsetTRelativeSlot(4, buffer_vector, 0)
    b.PrependUOffsetTRelativeSlot(7, signatures, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=FILE_IDENTIFIER)
    return bytes(b.Output())


def _offsets(b, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _int_vector(b, values) -> int:
    b.StartVector(4, len(values), 4)
    for value in reversed(list(values)):
        b.PrependInt32(int(value))
    return b.EndVector()


def _numeric_vector(b, array: np.ndarray, kind: str) -> int:
    array = np.asarray(array)
    b.StartVector(array.dtype.itemsize, array.size, array.dtype.itemsize)
    prepend = getattr(b, f"Prepend{kind}")
    for value in reversed(array.tolist()):
        prepend(value)
    return b.EndVector()


def _buffer(b, data: np.ndarray | None) -> int:
    if data is None:
        b.StartObject(3)
        return b.EndObject()
    raw = data.tobytes()
    # Constant data is 16-byte aligned, as TensorFlow writes it, so kernels may read it
    # in place with vector loads.
    b.StartVector(1, len(raw), 16)
    b.head = b.head - len(raw)
    b.Bytes[b.head:b.head + len(raw)] = raw
    vector = b.EndVector()
    b.StartObject(3)
    b.PrependUOffsetTRelativeSlot(0, vector, 0)
    return b.EndObject()


def _operator_code(b, kind: str, version: int) -> int:
    code = BUILTIN_CODES[kind]
    b.StartObject(4)
    # deprecated_builtin_code is an int8: codes above 126 are stored as 127
    # (PLACEHOLDER_FOR_GREATER_OP_CODES) and read from builtin_code.
    b.PrependInt8Slot(0, min(code, 127), 0)
    b.PrependInt32Slot(2, version, 1)
    b.PrependInt32Slot(3, code, 0)
    return b.EndObject()


def _tensor(b, tensor: Tensor, buffer: int) -> int:
    shape = [1 if s < 0 else int(s) for s in tensor.shape]
    shape_vector = _int_vector(b, shape)
    signature = (_int_vector(b, tensor.shape) if any(s < 0 for s in tensor.shape) else None)
    name = b.CreateString(tensor.name)
    quant = _quantization(b, tensor) if tensor.quant is not None else None
    b.StartObject(11)
    b.PrependUOffsetTRelativeSlot(0, shape_vector, 0)
    b.PrependInt8Slot(1, TENSOR_TYPES[np.dtype(tensor.dtype)], 0)
    b.PrependUint32Slot(2, buffer, 0)
    b.PrependUOffsetTRelativeSlot(3, name, 0)
    if quant is not None:
        b.PrependUOffsetTRelativeSlot(4, quant, 0)
    if signature is not None:
        b.PrependUOffsetTRelativeSlot(7, signature, 0)
    return b.EndObject()


def _quantization(b, tensor: Tensor) -> int:
    q = tensor.quant
    scale = _numeric_vector(b, np.asarray(q.scale, np.float32), "Float32")
    zero_point = _numeric_vector(b, np.asarray(q.zero_point, np.int64), "Int64")
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(2, scale, 0)
    b.PrependUOffsetTRelativeSlot(3, zero_point, 0)
    b.PrependInt32Slot(6, int(q.axis), 0)
    return b.EndObject()


def _operator(b, op: Operator, opcode_index: int) -> int:
    union, slots, fields = _OPTIONS.get(op.kind, (0, 0, {}))
    options = None
    if union:
        vectors = {key: _int_vector(b, op.options[key]) for key, (_, kind, _) in fields.items()
                   if kind == "ints" and key in op.options}
        b.StartObject(slots)
        for key, (slot, kind, default) in fields.items():
            if key not in op.options:
                continue
            if kind == "ints":
                b.PrependUOffsetTRelativeSlot(slot, vectors[key], 0)
            else:
                value = op.options[key]
                if key in ("padding",):
                    value = PADDING[value]
                elif key == "fused_activation_function":
                    value = ACTIVATIONS[value]
                # force_defaults is off: a field equal to its default is left out, which
                # readers see as the same value.
                getattr(b, f"Prepend{kind}Slot")(slot, value, default)
        options = b.EndObject()
    inputs = _int_vector(b, op.inputs)
    outputs = _int_vector(b, op.outputs)
    b.StartObject(14)
    b.PrependUint32Slot(0, opcode_index, 0)
    b.PrependUOffsetTRelativeSlot(1, inputs, 0)
    b.PrependUOffsetTRelativeSlot(2, outputs, 0)
    if options is not None:
        b.PrependUint8Slot(3, union, 0)
        b.PrependUOffsetTRelativeSlot(4, options, 0)
    return b.EndObject()


def _signature(b, model: Model, key: str) -> int:
    def tensor_map(name: str, index: int) -> int:
        text = b.CreateString(name)
        b.StartObject(2)
        b.PrependUOffsetTRelativeSlot(0, text, 0)
        b.PrependUint32Slot(1, index, 0)
        return b.EndObject()

    inputs = [tensor_map(n, i) for n, i in zip(model.input_names, model.inputs)]
    outputs = [tensor_map(f"output_{k}", i) for k, i in enumerate(model.outputs)]
    input_vector = _offsets(b, inputs)
    output_vector = _offsets(b, outputs)
    key_text = b.CreateString(key)
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, input_vector, 0)
    b.PrependUOffsetTRelativeSlot(1, output_vector, 0)
    b.PrependUOffsetTRelativeSlot(2, key_text, 0)
    b.PrependUint32Slot(4, 0, 0)
    return b.EndObject()
