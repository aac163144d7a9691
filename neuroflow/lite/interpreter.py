"""``tf.lite.Interpreter``: run TensorFlow Lite model files with NumPy alone.

The file is read with the small FlatBuffers reader of ``_flatbuffer.py`` (no
``flatbuffers`` package); this module names the fields of TensorFlow Lite's
``schema.fbs`` it needs by slot number. Operators run one after another in file order
(the converter writes them topologically sorted) on NumPy arrays, with the kernels of
``kernels.py`` and ``kernels_nn.py``: float32 and int8/uint8 (TensorFlow Lite's integer
arithmetic). Shapes are recomputed by every run, so resized inputs need no planning.

>>> import numpy as np, neuroflow as tf
>>> interpreter = tf.lite.Interpreter(model_path="model.tflite")  # doctest: +SKIP
>>> interpreter.allocate_tensors()  # doctest: +SKIP
>>> interpreter.set_tensor(interpreter.get_input_details()[0]["index"], images)  # doctest: +SKIP
>>> interpreter.invoke()  # doctest: +SKIP
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field

import numpy as np

from neuroflow.lite import kernels_nn  # noqa: F401  (registers its kernels)
from neuroflow.lite._flatbuffer import FlatbufferError, Table, file_identifier
from neuroflow.lite.kernels import (
    KERNELS,
    TENSOR_TYPE_NAMES,
    TENSOR_TYPES,
    Call,
    TensorInfo,
)

# schema.fbs's BuiltinOperator enum, in code order (codes past the list are StableHLO ops).
OPERATOR_NAMES = """
ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU
RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH
CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD
UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN
SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN
EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM
ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN
TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE
POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND
LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD
RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V
UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG
QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4
NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL
PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL
COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS
RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE
RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2
UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT
""".split()


class OpResolverType(enum.Enum):
    """TensorFlow Lite's kernel sets. Every choice runs the same NumPy kernels here (they
    follow TensorFlow Lite's reference kernels), so the choice is accepted and checked."""

    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


@dataclass
class _Operator:
    name: str
    inputs: list
    outputs: list
    options: dict


@dataclass
class _Subgraph:
    name: str
    tensors: list
    inputs: list
    outputs: list
    operators: list


@dataclass
class _Signature:
    key: str
    subgraph: int
    inputs: dict  # signature name -> tensor index
    outputs: dict


@dataclass
class _State:
    """One subgraph's runtime: current arrays and whether inputs' shapes are settled."""

    values: list
    input_shapes: dict = field(default_factory=dict)
    allocated: bool = False


# --- reading the model file (slot numbers are the field order in schema.fbs) ------------

def _read_options(table: Table | None, fields: dict) -> dict:
    options = {}
    for name, (slot, kind, default) in fields.items():
        if table is None or not table.has(slot):
            options[name] = default
        elif kind.startswith("["):
            options[name] = table.scalars(slot, kind[1:-1])
        else:
            options[name] = table.scalar(slot, kind, default)
    return options


def _operator_name(code: Table) -> str:
    # Codes up to 127 sit in the old int8 field; later ones only in the int32 field.
    number = max(code.scalar(0, "int8", 0), code.scalar(3, "int32", 0))
    if number == 32:  # CUSTOM
        return f"CUSTOM:{code.string(1)}"
    return OPERATOR_NAMES[number] if number < len(OPERATOR_NAMES) else f"BUILTIN_{number}"


def _read_tensor(index: int, table: Table, buffers: list) -> TensorInfo:
    shape = table.scalars(0, "int32")
    tensor_type = table.scalar(1, "int8", 0)
    name = table.string(3) or ""
    if tensor_type not in TENSOR_TYPES:
        raise NotImplementedError(
            f"tensor {index} ({name!r}) has type {TENSOR_TYPE_NAMES.get(tensor_type, tensor_type)}"
            f", which neuroflow's interpreter does not support; supported types: "
            f"{sorted(TENSOR_TYPE_NAMES[t] for t in TENSOR_TYPES)}")
    signature = table.scalars(7, "int32") if table.has(7) else shape.copy()
    info = TensorInfo(index=index, name=name, type=tensor_type, shape=shape,
                      shape_signature=signature, is_variable=table.scalar(5, "bool", False),
                      sparse=table.has(6))
    quantization = table.table(4)
    if quantization is not None:
        if quantization.scalar(4, "uint8", 0):
            raise NotImplementedError(f"tensor {index} ({name!r}) uses custom quantization, "
                                      f"which neuroflow's interpreter does not support")
        info.scales = quantization.scalars(2, "float32")
        info.zero_points = quantization.scalars(3, "int64")
        info.quantized_dimension = quantization.scalar(6, "int32", 0)
    data = buffers[table.scalar(2, "uint32", 0)]
    if len(data):
        if info.sparse:
            raise NotImplementedError(f"tensor {index} ({name!r}) is stored sparse, which "
                                      f"neuroflow's interpreter does not support")
        array = np.frombuffer(data, dtype=np.dtype(info.dtype).newbyteorder("<"))
        info.data = array.astype(info.dtype).reshape(shape)
        info.data.flags.writeable = False
    return info


def _read_buffers(model: Table, buf: bytes) -> list:
    buffers = []
    for table in model.tables(4):
        offset = table.scalar(1, "uint64", 0)
        if offset > 1:  # models over 2 GB keep data after the FlatBuffer, by file offset
            buffers.append(memoryview(buf)[offset:offset + table.scalar(2, "uint64", 0)])
        else:
            buffers.append(table.bytes(0))
    return buffers


def _read_model(buf: bytes) -> tuple[list, list]:
    if file_identifier(buf) != b"TFL3":
        raise ValueError("The model is not a valid Flatbuffer buffer: a TensorFlow Lite file "
                         f"has the identifier b'TFL3' at bytes 4-8, received "
                         f"{file_identifier(buf)!r}")
    model = Table.root(buf)
    names = [_operator_name(code) for code in model.tables(1)]
    buffers = _read_buffers(model, buf)
    subgraphs = []
    for graph in model.tables(2):
        tensors = [_read_tensor(i, t, buffers) for i, t in enumerate(graph.tables(0))]
        operators = []
        for op in graph.tables(3):
            name = names[op.scalar(0, "uint32", 0)]
            kernel = KERNELS.get(name)
            if kernel is None:
                raise NotImplementedError(
                    f"TensorFlow Lite operator {name} is not supported by neuroflow's "
                    f"interpreter (NumPy kernels exist for {len(KERNELS)} builtin operators: "
                    f"{', '.join(sorted(KERNELS))}). Convert the model with only those "
                    f"operators, or run it with LiteRT's interpreter.")
            operators.append(_Operator(name, [int(i) for i in op.scalars(1, "int32")],
                                       [int(i) for i in op.scalars(2, "int32")],
                                       _read_options(op.table(4), kernel.options)))
        subgraphs.append(_Subgraph(graph.string(4) or "", tensors,
                                   [int(i) for i in graph.scalars(1, "int32")],
                                   [int(i) for i in graph.scalars(2, "int32")], operators))
    signatures = []
    for table in model.tables(7):
        def tensor_map(slot: int, table=table) -> dict:
            return {entry.string(0): entry.scalar(1, "uint32", 0) for entry in table.tables(slot)}
        signatures.append(_Signature(table.string(2) or "", table.scalar(4, "uint32", 0),
                                     tensor_map(0), tensor_map(1)))
    return subgraphs, signatures


# --- the interpreter ----------------------------------------------------------------------

def _details(tensor: TensorInfo, value) -> dict:
    shape = value.shape if value is not None else tuple(tensor.shape)
    scales = tensor.scales.astype(np.float32)
    zero_points = tensor.zero_points.astype(np.int32)
    per_tensor = (float(scales[0]), int(zero_points[0])) if scales.size == 1 else (0.0, 0)
    return {"name": tensor.name, "index": tensor.index,
            "shape": np.array(shape, dtype=np.int32),
            "shape_signature": tensor.shape_signature.astype(np.int32),
            "dtype": tensor.dtype, "quantization": per_tensor,
            "quantization_parameters": {"scales": scales, "zero_points": zero_points,
                                        "quantized_dimension": tensor.quantized_dimension,
                                        "block_size": 0},
            "sparsity_parameters": {}}


class Interpreter:
    """Runs a TensorFlow Lite model (``.tflite``) with NumPy kernels.

    Matches ``tf.lite.Interpreter``: ``allocate_tensors``, ``get_input_details``,
    ``set_tensor``, ``invoke``, ``get_tensor``, ``resize_tensor_input`` and the signature
    runners. Delegates are not supported (there is nothing to delegate to).
    """

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None,
                 num_threads=None, experimental_op_resolver_type=OpResolverType.AUTO,
                 experimental_preserve_all_tensors=False,
                 experimental_disable_delegate_clustering=False,
                 experimental_default_delegate_latest_features=False):
        if experimental_delegates:
            raise ValueError(
                "neuroflow's Interpreter runs NumPy kernels and cannot load delegates; "
                f"received experimental_delegates={experimental_delegates!r}. Drop the "
                "argument, or run the model with LiteRT's interpreter to use a delegate.")
        resolver = getattr(experimental_op_resolver_type, "name", None)
        if resolver not in OpResolverType.__members__:
            raise ValueError(
                f"Unrecognized passed in op resolver type: {experimental_op_resolver_type}")
        if num_threads is not None:
            if not isinstance(num_threads, int):
                raise ValueError("type of num_threads should be int")
            if num_threads < 1:
                raise ValueError("num_threads should >= 1")
        if model_path is not None and model_content is not None:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        if model_path is not None:
            with open(os.fspath(model_path), "rb") as handle:
                model_content = handle.read()
        elif model_content is None:
            raise ValueError("`model_path` or `model_content` must be specified.")
        try:
            self._subgraphs, signatures = _read_model(bytes(model_content))
        except FlatbufferError as error:
            raise ValueError(f"The model is not a valid Flatbuffer buffer: {error}") from None
        self._signature_defs = {s.key: s for s in signatures}
        self._states = [_State([None] * len(g.tensors)) for g in self._subgraphs]

    # allocation and shapes

    def allocate_tensors(self) -> None:
        self._allocate(0)

    def _allocate(self, subgraph: int) -> None:
        graph, state = self._subgraphs[subgraph], self._states[subgraph]
        resized = bool(state.input_shapes)
        for tensor in graph.tensors:
            i = tensor.index
            if tensor.data is not None:
                state.values[i] = tensor.data
            elif i in graph.inputs or tensor.is_variable:
                shape = state.input_shapes.get(i, tuple(tensor.shape))
                current = state.values[i]
                if current is None or current.shape != tuple(shape):
                    state.values[i] = np.zeros(shape, dtype=tensor.dtype)
            elif resized:  # declared shapes are stale: known again after the next invoke
                state.values[i] = None
            elif state.values[i] is None and (tensor.shape >= 0).all():
                state.values[i] = np.zeros(tuple(tensor.shape), dtype=tensor.dtype)
        state.allocated = True

    def resize_tensor_input(self, input_index, tensor_size, strict=False) -> None:
        self._resize(0, int(input_index), tensor_size, strict)

    def _resize(self, subgraph: int, index: int, tensor_size, strict: bool) -> None:
        tensor = self._tensor_info(index, subgraph)
        size = tuple(int(d) for d in np.asarray(tensor_size).reshape(-1))
        if strict:
            signature = tensor.shape_signature
            if len(size) != len(signature):
                raise RuntimeError(f"ResizeInputTensorStrict: tensor {index} has rank "
                                   f"{len(signature)}, received shape {list(size)}")
            for dim, (old, new) in enumerate(zip(signature, size)):
                if old != -1 and old != new:
                    raise RuntimeError(
                        f"Attempting to resize dimension {dim} of tensor {index} with value "
                        f"{old} to {new}. ResizeInputTensorStrict only allows mutating unknown "
                        f"dimensions identified by -1.")
        state = self._states[subgraph]
        current = state.values[index]
        if current is not None and current.shape == size:
            return
        state.input_shapes[index] = size
        state.allocated = False

    # tensors

    def _tensor_info(self, index: int, subgraph: int = 0) -> TensorInfo:
        tensors = self._subgraphs[subgraph].tensors
        if not 0 <= index < len(tensors):
            raise ValueError(f"Invalid tensor index {index} exceeds max tensor index "
                             f"{len(tensors)}")
        return tensors[index]

    def _tensor_details(self, index: int, subgraph: int = 0) -> dict:
        return _details(self._tensor_info(index, subgraph), self._states[subgraph].values[index])

    def get_tensor_details(self, subgraph_index=0) -> list:
        return [self._tensor_details(i, subgraph_index)
                for i in range(len(self._subgraphs[subgraph_index].tensors))]

    def get_input_details(self) -> list:
        return [self._tensor_details(i) for i in self._subgraphs[0].inputs]

    def get_output_details(self) -> list:
        return [self._tensor_details(i) for i in self._subgraphs[0].outputs]

    def set_tensor(self, tensor_index, value) -> None:
        self._set(0, int(tensor_index), value)

    def _set(self, subgraph: int, index: int, value) -> None:
        tensor = self._tensor_info(index, subgraph)
        value = np.asarray(value)
        if value.dtype != np.dtype(tensor.dtype):
            got = TENSOR_TYPE_NAMES.get(_type_code(value.dtype), str(value.dtype).upper())
            raise ValueError(f"Cannot set tensor: Got value of type {got} but expected type "
                             f"{TENSOR_TYPE_NAMES[tensor.type]} for input {index}, name: "
                             f"{tensor.name} ")
        target = self._states[subgraph].values[index]
        if target is None:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        if value.ndim != target.ndim:
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {value.ndim} but "
                             f"expected {target.ndim} for input {index}.")
        for dim, (got, expected) in enumerate(zip(value.shape, target.shape)):
            if got != expected:
                raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but "
                                 f"expected {expected} for dimension {dim} of input {index}.")
        if not target.flags.writeable:  # a constant (or a kernel's view): give it its own copy
            self._states[subgraph].values[index] = value.copy()
        else:
            np.copyto(target, value)

    def get_tensor(self, tensor_index, subgraph_index=0) -> np.ndarray:
        self._tensor_info(int(tensor_index), subgraph_index)
        value = self._states[subgraph_index].values[int(tensor_index)]
        if value is None:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        return np.array(value, copy=True)

    def tensor(self, tensor_index):
        """A function returning the live array of a tensor (valid until the next invoke,
        which writes new arrays for computed tensors; inputs stay in place)."""
        index = int(tensor_index)
        self._tensor_info(index)

        def view() -> np.ndarray:
            value = self._states[0].values[index]
            if value is None:
                raise ValueError("Tensor data is null. Run allocate_tensors() first")
            return value
        return view

    def reset_all_variables(self) -> None:
        for graph, state in zip(self._subgraphs, self._states):
            for tensor in graph.tensors:
                if tensor.is_variable and state.values[tensor.index] is not None:
                    state.values[tensor.index] = np.zeros_like(state.values[tensor.index])

    # running

    def invoke(self) -> None:
        self._invoke(0)

    def _invoke(self, subgraph: int) -> None:
        graph, state = self._subgraphs[subgraph], self._states[subgraph]
        if not state.allocated:
            raise RuntimeError("Invoke called on model that is not ready. Call "
                               "allocate_tensors() first (and again after resize_tensor_input).")
        values = state.values
        for op in graph.operators:
            inputs = [values[i] if i >= 0 else None for i in op.inputs]
            call = Call(op.name, inputs,
                        [graph.tensors[i] if i >= 0 else None for i in op.inputs],
                        [graph.tensors[i] for i in op.outputs], op.options)
            results = KERNELS[op.name].run(call)
            if not isinstance(results, (list, tuple)):
                results = [results]
            for index, result in zip(op.outputs, results):
                values[index] = np.asarray(result).astype(graph.tensors[index].dtype,
                                                          copy=False)

    # signatures

    def get_signature_list(self) -> dict:
        return {key: {"inputs": sorted(s.inputs), "outputs": sorted(s.outputs)}
                for key, s in self._signature_defs.items()}

    def _get_full_signature_list(self) -> dict:
        return {key: {"inputs": dict(sorted(s.inputs.items())),
                      "outputs": dict(sorted(s.outputs.items()))}
                for key, s in self._signature_defs.items()}

    def get_signature_runner(self, signature_key=None) -> SignatureRunner:
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError(
                    f"SignatureDef signature_key is None and model has "
                    f"{len(self._signature_defs)} Signatures. None is only allowed when the "
                    f"model has 1 SignatureDef")
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(self, signature_key)


def _type_code(dtype) -> int | None:
    for code, numpy_type in TENSOR_TYPES.items():
        if np.dtype(numpy_type) == dtype:
            return code
    return None


class SignatureRunner:
    """Runs one SignatureDef: call it with the signature's input names as keywords; it
    returns a dict of the signature's outputs (inputs are resized to the given shapes)."""

    def __init__(self, interpreter: Interpreter, signature_key: str):
        if signature_key not in interpreter._signature_defs:
            raise ValueError(f'Invalid signature_key provided: "{signature_key}".')
        self._interpreter = interpreter
        self._signature = interpreter._signature_defs[signature_key]

    def __call__(self, **kwargs) -> dict:
        signature, interpreter = self._signature, self._interpreter
        if len(kwargs) != len(signature.inputs):
            raise ValueError(f"Invalid number of inputs provided for running a SignatureDef, "
                             f"expected {len(signature.inputs)} vs provided {len(kwargs)}")
        for name, value in kwargs.items():
            if name not in signature.inputs:
                raise ValueError(f"Invalid Input name ({name}) for SignatureDef")
            interpreter._resize(signature.subgraph, signature.inputs[name],
                                np.shape(value), False)
        state = interpreter._states[signature.subgraph]
        if not state.allocated:
            interpreter._allocate(signature.subgraph)
        for name, value in kwargs.items():
            interpreter._set(signature.subgraph, signature.inputs[name], value)
        interpreter._invoke(signature.subgraph)
        return {name: interpreter.get_tensor(index, signature.subgraph)
                for name, index in sorted(signature.outputs.items())}

    def get_input_details(self) -> dict:
        return {name: self._interpreter._tensor_details(index, self._signature.subgraph)
                for name, index in sorted(self._signature.inputs.items())}

    def get_output_details(self) -> dict:
        return {name: self._interpreter._tensor_details(index, self._signature.subgraph)
                for name, index in sorted(self._signature.outputs.items())}
