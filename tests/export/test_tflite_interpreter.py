"""tf.lite.Interpreter: neuroflow's NumPy interpreter against LiteRT on the same files.

Three sources of ``.tflite`` files, all made at test time: one-operator models written
here with the ``flatbuffers`` package (the reader and each kernel on chosen shapes and
options), neuroflow's own converter, and (``tensorflow``-marked) TensorFlow's converter on
an MLP and a small CNN with Fashion-MNIST shaped inputs. Float results must agree with
LiteRT to 1e-5; int8 results exactly with LiteRT's reference kernels and within one
quantization step of its default (XNNPACK) kernels. The fixed-point helpers are checked
against exact rational arithmetic.
"""

from __future__ import annotations

import os
from fractions import Fraction
from math import floor

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.lite import kernels_fixedpoint as fx
from neuroflow.lite._flatbuffer import FlatbufferError, Table

# --- fixed-point arithmetic against exact rationals -----------------------------------

_INT32 = np.iinfo(np.int32)


def _int32_samples(n, seed):
    rng = np.random.default_rng(seed)
    edges = [_INT32.min, _INT32.min + 1, -(1 << 30), -1, 0, 1, 1 << 30, _INT32.max]
    return np.concatenate([edges, rng.integers(_INT32.min, _INT32.max, n, endpoint=True)])


def test_saturating_rounding_doubling_high_mul_is_round_half_up_of_the_product():
    a, b = _int32_samples(300, 0), _int32_samples(300, 1)[::-1]
    got = fx.saturating_rounding_doubling_high_mul(a, b)
    for x, y, value in zip(a.tolist(), b.tolist(), got.tolist()):
        if x == y == _INT32.min:
            assert value == _INT32.max
        else:  # (2ab) / 2**32 rounded, ties toward +infinity
            assert value == floor(Fraction(x * y, 1 << 31) + Fraction(1, 2)), (x, y)


@pytest.mark.parametrize("exponent", [0, 1, 2, 7, 15, 30])
def test_rounding_divide_by_pot_rounds_half_away_from_zero(exponent):
    x = np.concatenate([_int32_samples(200, exponent),
                        np.array([3, -3, 5, -5, 6, -6]) << max(exponent - 1, 0)])
    got = fx.rounding_divide_by_pot(x, exponent)
    for value, result in zip(x.tolist(), got.tolist()):
        exact = Fraction(abs(value), 1 << exponent)
        assert result == (1 if value >= 0 else -1) * floor(exact + Fraction(1, 2)), value


def test_quantize_multiplier_holds_the_real_factor_in_31_bits():
    reals = np.random.default_rng(2).uniform(1e-6, 4.0, 500)
    multiplier, shift = fx.quantize_multiplier(reals)
    assert ((multiplier >= 1 << 30) & (multiplier < 1 << 31)).all()
    np.testing.assert_allclose(multiplier * np.exp2(shift.astype(float) - 31), reals,
                               rtol=2.0 ** -30)


def test_multiply_by_quantized_multiplier_is_within_one_of_the_real_product():
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 20), 1 << 20, 1000)
    real = rng.uniform(1e-4, 0.9, 1000)
    m, s = fx.quantize_multiplier(real)
    got = fx.multiply_by_quantized_multiplier(x, m, s)
    assert np.abs(got - x * real).max() <= 1.0


# --- the FlatBuffers reader, against what the flatbuffers package writes ---------------

def _builder():
    return pytest.importorskip("flatbuffers").Builder(0)


def _vector(builder, values, kind):
    prepend = {"int32": builder.PrependInt32, "int64": builder.PrependInt64,
               "float32": builder.PrependFloat32, "uint8": builder.PrependUint8,
               "offset": builder.PrependUOffsetTRelative}[kind]
    size = {"int64": 8, "uint8": 1}.get(kind, 4)
    builder.StartVector(size, len(values), size)
    for value in reversed(list(values)):
        prepend(value)
    return builder.EndVector()


def test_reader_reads_scalars_defaults_strings_vectors_and_nested_tables():
    b = _builder()
    names = [b.CreateString(s) for s in ("alpha", "βeta")]
    inner = []
    for value in (7, -9):
        b.StartObject(1)
        b.PrependInt32Slot(0, value, 0)
        inner.append(b.EndObject())
    inner_vector = _vector(b, inner, "offset")
    names_vector = _vector(b, names, "offset")
    ints = _vector(b, [3, -1, 2 ** 31 - 1], "int32")
    longs = _vector(b, [-(2 ** 40), 5], "int64")
    title = b.CreateString("root")
    b.StartObject(9)
    b.PrependInt8Slot(0, -5, 0)
    b.PrependFloat32Slot(1, 1.5, 0.0)
    b.PrependUint32Slot(2, 4_000_000_000, 0)
    # slot 3 left out: its default must come back
    b.PrependUOffsetTRelativeSlot(4, title, 0)
    b.PrependUOffsetTRelativeSlot(5, ints, 0)
    b.PrependUOffsetTRelativeSlot(6, longs, 0)
    b.PrependUOffsetTRelativeSlot(7, inner_vector, 0)
    b.PrependUOffsetTRelativeSlot(8, names_vector, 0)
    b.Finish(b.EndObject(), file_identifier=b"TEST")
    root = Table.root(bytes(b.Output()))
    assert root.scalar(0, "int8") == -5 and root.scalar(1, "float32") == 1.5
    assert root.scalar(2, "uint32") == 4_000_000_000
    assert root.scalar(3, "int32", 42) == 42 and not root.has(3)
    assert root.scalar(20, "int32", 11) == 11  # a slot past the vtable's end
    assert root.string(4) == "root" and root.string(3) is None
    np.testing.assert_array_equal(root.scalars(5, "int32"), [3, -1, 2 ** 31 - 1])
    np.testing.assert_array_equal(root.scalars(6, "int64"), [-(2 ** 40), 5])
    assert [t.scalar(0, "int32") for t in root.tables(7)] == [7, -9]
    assert root.strings(8) == ["alpha", "βeta"]
    assert root.scalars(3, "int32").size == 0 and root.tables(3) == []


def test_reader_refuses_offsets_outside_the_buffer():
    with pytest.raises(FlatbufferError, match="outside"):
        Table.root(b"\xff\xff\x00\x00TFL3")
    with pytest.raises(ValueError, match="not a valid Flatbuffer"):
        tf.lite.Interpreter(model_content=b"\x08\x00\x00\x00NOPE\x00\x00\x00\x00")


# --- one-operator models written here ---------------------------------------------------

FLOAT32, INT32, BOOL, INT8 = 0, 2, 6, 9
_NUMPY = {FLOAT32: np.float32, INT32: np.int32, BOOL: np.bool_, INT8: np.int8}


def _tensor(shape, type_code=FLOAT32, data=None, scale=None, zero_point=0):
    return {"shape": list(shape), "type": type_code, "data": data, "scale": scale,
            "zero_point": zero_point}


def _options_table(b, fields):
    """fields: {slot: (kind, value)} -> offset of a table holding them."""
    b.StartObject(max(fields) + 1 if fields else 0)
    for slot, (kind, value) in fields.items():
        {"int32": b.PrependInt32Slot, "int8": b.PrependInt8Slot,
         "bool": b.PrependBoolSlot, "float32": b.PrependFloat32Slot}[kind](slot, value, 0)
    return b.EndObject()


# Operators whose first registered version in LiteRT is not 1.
_FIRST_VERSION = {130: 2}  # BROADCAST_TO


def _one_op_model(opcode, inputs, outputs, options=None, custom=None) -> bytes:
    """A TensorFlow Lite model of one operator. ``inputs``/``outputs`` are ``_tensor``
    dicts (inputs with ``data`` are constants); ``options`` is (union type, {slot: ...})."""
    b = _builder()
    tensors = inputs + outputs
    buffers = [None] + [t["data"] for t in tensors]
    buffer_offsets = []
    for data in buffers:
        raw = None if data is None else _vector(b, np.ascontiguousarray(data).tobytes(), "uint8")
        b.StartObject(1)
        if raw is not None:
            b.PrependUOffsetTRelativeSlot(0, raw, 0)
        buffer_offsets.append(b.EndObject())
    tensor_offsets = []
    for i, t in enumerate(tensors):
        name = b.CreateString(f"t{i}")
        shape = _vector(b, t["shape"], "int32")
        quant = None
        if t["scale"] is not None:
            scales = _vector(b, [t["scale"]], "float32")
            zeros = _vector(b, [t["zero_point"]], "int64")
            b.StartObject(7)
            b.PrependUint8Slot(4, t.get("details", 0), 0)
            b.PrependUOffsetTRelativeSlot(2, scales, 0)
            b.PrependUOffsetTRelativeSlot(3, zeros, 0)
            quant = b.EndObject()
        sparsity = None
        if t.get("sparse"):
            b.StartObject(3)
            sparsity = b.EndObject()
        b.StartObject(8)
        b.PrependUOffsetTRelativeSlot(0, shape, 0)
        if sparsity is not None:
            b.PrependUOffsetTRelativeSlot(6, sparsity, 0)
        b.PrependInt8Slot(1, t["type"], 0)
        b.PrependUint32Slot(2, i + 1 if t["data"] is not None else 0, 0)
        b.PrependUOffsetTRelativeSlot(3, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(4, quant, 0)
        tensor_offsets.append(b.EndObject())
    option_offset = _options_table(b, options[1]) if options else None
    op_inputs = _vector(b, range(len(inputs)), "int32")
    op_outputs = _vector(b, range(len(inputs), len(tensors)), "int32")
    b.StartObject(5)
    b.PrependUint32Slot(0, 0, 0)
    b.PrependUOffsetTRelativeSlot(1, op_inputs, 0)
    b.PrependUOffsetTRelativeSlot(2, op_outputs, 0)
    if options:
        b.PrependUint8Slot(3, options[0], 0)
        b.PrependUOffsetTRelativeSlot(4, option_offset, 0)
    operator = b.EndObject()
    graph_inputs = _vector(b, [i for i, t in enumerate(inputs) if t["data"] is None], "int32")
    graph_outputs = _vector(b, range(len(inputs), len(tensors)), "int32")
    tensor_vector = _vector(b, tensor_offsets, "offset")
    operator_vector = _vector(b, [operator], "offset")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tensor_vector, 0)
    b.PrependUOffsetTRelativeSlot(1, graph_inputs, 0)
    b.PrependUOffsetTRelativeSlot(2, graph_outputs, 0)
    b.PrependUOffsetTRelativeSlot(3, operator_vector, 0)
    graph = b.EndObject()
    custom_name = b.CreateString(custom) if custom else None
    b.StartObject(4)
    b.PrependInt8Slot(0, min(opcode, 127), 0)
    if custom_name is not None:
        b.PrependUOffsetTRelativeSlot(1, custom_name, 0)
    b.PrependInt32Slot(2, _FIRST_VERSION.get(opcode, 1), 1)
    b.PrependInt32Slot(3, opcode, 0)
    code = b.EndObject()
    codes = _vector(b, [code], "offset")
    graphs = _vector(b, [graph], "offset")
    buffer_vector = _vector(b, buffer_offsets, "offset")
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0)
    b.PrependUOffsetTRelativeSlot(1, codes, 0)
    b.PrependUOffsetTRelativeSlot(2, graphs, 0)
    b.PrependUOffsetTRelativeSlot(4, buffer_vector, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def _litert():
    """LiteRT's interpreter module; TensorFlow's own copy of it where LiteRT is absent."""
    try:
        import ai_edge_litert.interpreter as litert
    except ImportError:
        pytest.importorskip("tensorflow")
        from tensorflow.lite.python import interpreter as litert
    return litert


def _run_pair(content, feeds, resolver="BUILTIN_REF"):
    """(LiteRT's outputs, neuroflow's outputs) for the model's inputs ``feeds``."""
    litert = _litert()
    kind = getattr(litert.OpResolverType, resolver)
    ref = litert.Interpreter(model_content=content, experimental_op_resolver_type=kind)
    ours = tf.lite.Interpreter(model_content=content)
    results = []
    for interpreter in (ref, ours):
        for detail, value in zip(interpreter.get_input_details(), feeds):
            interpreter.resize_tensor_input(detail["index"], value.shape)
        interpreter.allocate_tensors()
        for detail, value in zip(interpreter.get_input_details(), feeds):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        results.append([interpreter.get_tensor(d["index"]) for d in
                        interpreter.get_output_details()])
    return results


_RNG = np.random.default_rng(7)
_X = _RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
_Q = _RNG.integers(-128, 128, (2, 5, 6, 3)).astype(np.int8)


def _const(values, type_code=INT32, scale=None):
    values = np.asarray(values, _NUMPY[type_code])
    return _tensor(values.shape, type_code, values, scale=scale)


# (name, opcode, inputs, outputs, options, feeds)
ONE_OP_CASES = [
    ("strided_slice_masks", 45,
     [_tensor(_X.shape), _const([0, 1, 0, 2]), _const([0, -1, 0, 3]), _const([1, 2, 1, 1])],
     [_tensor([2, 2, 6])], (32, {0: ("int32", 0b0101), 1: ("int32", 0b0101),
                                 4: ("int32", 0b1000)}), [_X]),
    ("strided_slice_ellipsis_new_axis", 45,
     [_tensor(_X.shape), _const([0, 0, 1]), _const([0, 0, 3]), _const([1, 1, 1])],
     [_tensor([2, 5, 6, 1, 2])], (32, {2: ("int32", 0b001), 3: ("int32", 0b010)}), [_X]),
    ("gather_axis1", 36, [_tensor(_X.shape), _const([[4, 0], [2, 2]])],
     [_tensor([2, 2, 2, 6, 3])], (23, {0: ("int32", 1)}), [_X]),
    ("transpose", 39, [_tensor(_X.shape), _const([2, 0, 3, 1])], [_tensor([6, 2, 3, 5])],
     None, [_X]),
    ("pad", 34, [_tensor(_X.shape), _const([[0, 0], [1, 2], [0, 1], [0, 0]])],
     [_tensor([2, 8, 7, 3])], None, [_X]),
    ("pad_int8_fills_the_zero_point", 34,
     [_tensor(_Q.shape, INT8, scale=0.1, zero_point=-7), _const([[0, 0], [1, 1], [2, 0], [0, 0]])],
     [_tensor([2, 7, 8, 3], INT8, scale=0.1, zero_point=-7)], None, [_Q]),
    ("pack", 83, [_tensor([5, 6, 3]), _tensor([5, 6, 3])], [_tensor([5, 2, 6, 3])],
     (59, {0: ("int32", 2), 1: ("int32", 1)}), [_X[0], _X[1]]),
    ("batch_matmul_adjoint", 126, [_tensor([2, 5, 6]), _tensor([1, 3, 6])],
     [_tensor([2, 5, 3])], (101, {1: ("bool", True)}), [_X[..., 0], _X[:1, :3, :, 1]]),
    ("shape", 77, [_tensor(_X.shape)], [_tensor([4], INT32)], (55, {0: ("int8", INT32)}),
     [_X]),
    ("concatenation", 2, [_tensor(_X.shape), _tensor(_X.shape)],
     [_tensor([2, 5, 12, 3])], (10, {0: ("int32", 2)}), [_X, 4 * _X]),
    ("add_broadcast_relu", 0, [_tensor(_X.shape), _const(_X[0, 0, 0], FLOAT32)],
     [_tensor(_X.shape)], (11, {0: ("int8", 1)}), [_X]),
    ("mean_last_axis_keepdims", 40, [_tensor(_X.shape), _const([-1])], [_tensor([2, 5, 6, 1])],
     (27, {0: ("bool", True)}), [_X]),
    ("softmax_beta", 25, [_tensor(_X.shape)], [_tensor(_X.shape)],
     (9, {0: ("float32", 0.5)}), [_X]),
    ("add_int8", 0, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3),
                     _tensor(_Q.shape, INT8, scale=0.02, zero_point=-10)],
     [_tensor(_Q.shape, INT8, scale=0.06, zero_point=-2)], (11, {0: ("int8", 0)}),
     [_Q, _Q[::-1]]),
    ("mul_int8_relu", 18, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3),
                           _tensor(_Q.shape, INT8, scale=0.02, zero_point=-10)],
     [_tensor(_Q.shape, INT8, scale=0.07, zero_point=-20)], (21, {0: ("int8", 1)}),
     [_Q, _Q[::-1]]),
    ("quantize", 114, [_tensor(_X.shape)], [_tensor(_X.shape, INT8, scale=0.01, zero_point=5)],
     None, [_X]),
    ("requantize_int8", 114, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor(_Q.shape, INT8, scale=0.03, zero_point=-4)], None, [_Q]),
    ("dequantize", 6, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor(_Q.shape)], None, [_Q]),
    ("logistic_int8", 14, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor(_Q.shape, INT8, scale=1 / 256, zero_point=-128)], None, [_Q]),
    ("tanh_int8", 28, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor(_Q.shape, INT8, scale=1 / 128, zero_point=0)], None, [_Q]),
    ("relu6_int8", 21, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor(_Q.shape, INT8, scale=0.03, zero_point=-128)], None, [_Q]),
    ("softmax_int8", 25, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor(_Q.shape, INT8, scale=1 / 256, zero_point=-128)], (9, {0: ("float32", 1.0)}),
     [_Q]),
    ("logistic", 14, [_tensor(_X.shape)], [_tensor(_X.shape)], None, [_X]),
    ("tanh", 28, [_tensor(_X.shape)], [_tensor(_X.shape)], None, [_X]),
    ("relu6", 21, [_tensor(_X.shape)], [_tensor(_X.shape)], None, [4 * _X]),
    ("mean_int8_spatial", 40, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3),
                                _const([1, 2])],
     [_tensor([2, 1, 1, 3], INT8, scale=0.02, zero_point=-6)], (27, {0: ("bool", True)}),
     [_Q]),
    ("mean_int8_last_axis", 40, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3),
                                 _const([3])],
     [_tensor([2, 5, 6], INT8, scale=0.04, zero_point=9)], None, [_Q]),
    ("average_pool_int8_same", 1, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3)],
     [_tensor([2, 3, 3, 3], INT8, scale=0.05, zero_point=3)],
     (5, {0: ("int8", 0), 1: ("int32", 2), 2: ("int32", 2), 3: ("int32", 3),
          4: ("int32", 3)}), [_Q]),
    ("max_pool_same_relu", 17, [_tensor(_X.shape)], [_tensor([2, 3, 3, 3])],
     (5, {0: ("int8", 0), 1: ("int32", 2), 2: ("int32", 2), 3: ("int32", 2),
          4: ("int32", 3), 5: ("int8", 1)}), [_X]),
    ("conv_dilated_same", 3, [_tensor(_X.shape), _const(_RNG.normal(size=(4, 3, 3, 3)), FLOAT32),
                              _const(_RNG.normal(size=4), FLOAT32)], [_tensor([2, 5, 6, 4])],
     (1, {0: ("int8", 0), 1: ("int32", 1), 2: ("int32", 1), 4: ("int32", 2),
          5: ("int32", 2)}), [_X]),
    ("conv_int8_strided", 3, [_tensor(_Q.shape, INT8, scale=0.05, zero_point=3),
                              _const(_RNG.integers(-127, 128, (4, 2, 2, 3)), INT8, 0.01),
                              _const(_RNG.integers(-500, 500, 4), INT32, 0.05 * 0.01)],
     [_tensor([2, 3, 3, 4], INT8, scale=0.3, zero_point=-5)],
     (1, {0: ("int8", 0), 1: ("int32", 2), 2: ("int32", 2), 3: ("int8", 1)}), [_Q]),
    ("depthwise_multiplier_2", 4, [_tensor(_X.shape),
                                   _const(_RNG.normal(size=(1, 3, 3, 6)), FLOAT32),
                                   _const(_RNG.normal(size=6), FLOAT32)],
     [_tensor([2, 3, 4, 6])], (2, {0: ("int8", 1), 1: ("int32", 1), 2: ("int32", 1),
                                   3: ("int32", 2)}), [_X]),
    ("fully_connected_keep_num_dims", 9, [_tensor(_X.shape),
                                          _const(_RNG.normal(size=(4, 3)), FLOAT32)],
     [_tensor([2, 5, 6, 4])], (8, {2: ("bool", True)}), [_X]),
    ("reshape_from_tensor", 22, [_tensor(_X.shape), _const([-1, 18])], [_tensor([10, 18])],
     None, [_X]),
]


_POSITIVE = np.abs(_X) + 0.1
# element-wise float operators: (name, opcode, feeds)
for _name, _code, _feeds in [
        ("exp", 47, [_X]), ("log", 73, [_POSITIVE]), ("sqrt", 75, [_POSITIVE]),
        ("rsqrt", 76, [_POSITIVE]), ("neg", 59, [_X]), ("abs", 101, [_X]),
        ("square", 92, [_X]), ("sin", 66, [_X]), ("cos", 108, [_X]), ("floor", 8, [3 * _X]),
        ("ceil", 104, [3 * _X]), ("round", 116, [3 * _X]), ("elu", 111, [_X]),
        ("hard_swish", 117, [3 * _X]), ("gelu", 150, [_X]), ("relu", 19, [_X]),
        ("relu_n1_to_1", 20, [2 * _X]), ("relu_0_to_1", 152, [2 * _X]),
        ("log_softmax", 50, [_X]), ("sign", 158, [_X]), ("maximum", 55, [_X, _X[::-1]]),
        ("minimum", 57, [_X, _X[::-1]]), ("squared_difference", 99, [_X, _X[::-1]]),
        ("pow", 78, [_POSITIVE, _X]), ("div", 42, [_X, _POSITIVE]), ("sub", 41, [_X, _X[::-1]]),
        ("mul", 18, [_X, _X[::-1]])]:
    ONE_OP_CASES.append((_name, _code, [_tensor(_X.shape) for _ in _feeds],
                         [_tensor(_X.shape)], None, _feeds))


_MASK = _X > 0
_SHAPE_CASES = [  # data movement, reductions and the rest: (name, opcode, inputs, outputs...)
    ("squeeze", 43, [_tensor([2, 1, 6, 3])], [_tensor([2, 6, 3])], None, [_X[:, :1]]),
    ("expand_dims", 70, [_tensor(_X.shape), _const([1])], [_tensor([2, 1, 5, 6, 3])], None,
     [_X]),
    ("slice", 65, [_tensor(_X.shape), _const([0, 1, 2, 0]), _const([-1, 3, 2, 2])],
     [_tensor([2, 3, 2, 2])], None, [_X]),
    ("tile", 69, [_tensor([6, 3]), _const([2, 1])], [_tensor([12, 3])], None, [_X[0, 0]]),
    ("mirror_pad_reflect", 100, [_tensor(_X.shape), _const([[0, 0], [1, 1], [2, 1], [0, 0]])],
     [_tensor([2, 7, 9, 3])], (77, {0: ("int8", 0)}), [_X]),
    ("mirror_pad_symmetric", 100, [_tensor(_X.shape),
                                   _const([[0, 0], [1, 1], [2, 1], [0, 0]])],
     [_tensor([2, 7, 9, 3])], (77, {0: ("int8", 1)}), [_X]),
    ("split", 49, [_const(np.int32(2)), _tensor(_X.shape)], [_tensor([2, 5, 2, 3])] * 3,
     (35, {0: ("int32", 3)}), [_X]),
    ("split_v", 102, [_tensor(_X.shape), _const([1, -1, 2]), _const(np.int32(2))],
     [_tensor([2, 5, 1, 3]), _tensor([2, 5, 3, 3]), _tensor([2, 5, 2, 3])],
     (79, {0: ("int32", 3)}), [_X]),
    ("unpack", 88, [_tensor(_X.shape)], [_tensor([5, 6, 3])] * 2,
     (64, {0: ("int32", 2), 1: ("int32", 0)}), [_X]),
    ("cast_float_to_int", 53, [_tensor(_X.shape)], [_tensor(_X.shape, INT32)], None,
     [5 * _X]),
    ("select_v2", 123, [_tensor(_X.shape, BOOL), _tensor(_X.shape), _tensor(_X.shape)],
     [_tensor(_X.shape)], None, [_MASK, _X, 2 * _X]),
    ("less", 58, [_tensor(_X.shape), _tensor(_X.shape)], [_tensor(_X.shape, BOOL)], None,
     [_X, _X[::-1]]),
    ("logical_and", 86, [_tensor(_X.shape, BOOL)] * 2, [_tensor(_X.shape, BOOL)], None,
     [_MASK, _MASK[::-1]]),
    ("logical_not", 87, [_tensor(_X.shape, BOOL)], [_tensor(_X.shape, BOOL)], None, [_MASK]),
    ("arg_max", 56, [_tensor(_X.shape), _const([3])], [_tensor([2, 5, 6], INT32)],
     (40, {0: ("int8", INT32)}), [_X]),
    ("gather_nd", 107, [_tensor(_X.shape), _const([[0, 1], [1, 4]])], [_tensor([2, 6, 3])],
     None, [_X]),
    ("resize_nearest_half_pixel", 97, [_tensor(_X.shape), _const([7, 9])],
     [_tensor([2, 7, 9, 3])], (74, {1: ("bool", True)}), [_X]),
    ("resize_nearest_align_corners", 97, [_tensor(_X.shape), _const([9, 4])],
     [_tensor([2, 9, 4, 3])], (74, {0: ("bool", True)}), [_X]),
    ("l2_pool", 12, [_tensor(_X.shape)], [_tensor([2, 2, 3, 3])],
     (5, {0: ("int8", 1), 1: ("int32", 2), 2: ("int32", 2), 3: ("int32", 2),
          4: ("int32", 2)}), [_X]),
    ("reduce_max", 82, [_tensor(_X.shape), _const([1, 2])], [_tensor([2, 3])], None, [_X]),
    ("sum", 74, [_tensor(_X.shape), _const([0, 3])], [_tensor([5, 6])], None, [_X]),
    ("reduce_prod", 81, [_tensor(_X.shape), _const([3])], [_tensor([2, 5, 6])], None,
     [_POSITIVE]),
    ("leaky_relu", 98, [_tensor(_X.shape)], [_tensor(_X.shape)], (75, {0: ("float32", 0.2)}),
     [_X]),
    ("l2_normalization", 11, [_tensor(_X.shape)], [_tensor(_X.shape)], None, [_X]),
    ("gelu_approximate", 150, [_tensor(_X.shape)], [_tensor(_X.shape)],
     (116, {0: ("bool", True)}), [_X]),
    ("broadcast_to", 130, [_tensor([3]), _const([2, 4, 3])], [_tensor([2, 4, 3])], None,
     [_X[0, 0, 0]]),
    ("zeros_like", 93, [_tensor(_X.shape)], [_tensor(_X.shape)], None, [_X]),
    ("rank", 110, [_tensor(_X.shape)], [_tensor([], INT32)], None, [_X]),
    ("floor_div", 90, [_tensor(_X.shape)] * 2, [_tensor(_X.shape)], None, [3 * _X, _POSITIVE]),
    ("floor_mod", 95, [_tensor(_X.shape)] * 2, [_tensor(_X.shape)], None, [3 * _X, _POSITIVE]),
]
ONE_OP_CASES += _SHAPE_CASES


@pytest.mark.parametrize("name, opcode, inputs, outputs, options, feeds", ONE_OP_CASES,
                         ids=[case[0] for case in ONE_OP_CASES])
def test_one_operator_matches_litert(name, opcode, inputs, outputs, options, feeds):
    content = _one_op_model(opcode, inputs, outputs, options)
    # LiteRT's reference set lacks a few float kernels (CEIL, ROUND, ELU): float cases run
    # its optimized kernels, integer ones its reference kernels (the bit-exact target).
    floating = all(t["type"] == FLOAT32 for t in outputs)
    resolver = "BUILTIN_WITHOUT_DEFAULT_DELEGATES" if floating else "BUILTIN_REF"
    expected_all, got_all = _run_pair(content, feeds, resolver)
    assert len(got_all) == len(expected_all) == len(outputs)
    for got, expected in zip(got_all, expected_all):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if got.dtype == np.float32:
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        elif name == "softmax_int8":  # LiteRT's exp table is its own float approximation
            assert np.abs(got.astype(int) - expected).max() <= 1
        else:
            np.testing.assert_array_equal(got, expected)


def test_unsupported_operators_are_named():
    x = _tensor([2, 3])
    where = _one_op_model(109, [x], [_tensor([2, 2], INT32)])
    with pytest.raises(NotImplementedError, match="operator WHERE is not supported"):
        tf.lite.Interpreter(model_content=where)
    custom = _one_op_model(32, [x], [_tensor([2, 3])], custom="MyFancyOp")
    with pytest.raises(NotImplementedError, match="CUSTOM:MyFancyOp"):
        tf.lite.Interpreter(model_content=custom)


def _add_model():
    return _one_op_model(0, [_tensor([1, 4]), _tensor([1, 4])], [_tensor([1, 4])])


@pytest.mark.parametrize("tensor, message", [
    ({"type": 5}, "type STRING"),
    ({"sparse": True, "data": np.zeros((2, 3), np.float32)}, "stored sparse"),
    ({"scale": 0.5, "details": 1}, "custom quantization"),
])
def test_unsupported_tensors_are_named(tensor, message):
    source = {**_tensor([2, 3]), **tensor}
    content = _one_op_model(0, [_tensor([2, 3]), source], [_tensor([2, 3])])
    with pytest.raises(NotImplementedError, match=message):
        tf.lite.Interpreter(model_content=content)


@pytest.mark.parametrize("opcode, options, message", [
    (0, (11, {0: ("int8", 5)}), "fused activation SIGN_BIT"),
    (9, (8, {1: ("int8", 1)}), "shuffled weights format"),
])
def test_unsupported_options_are_named(opcode, options, message):
    inputs = [_tensor([2, 3]), _tensor([2, 3])]
    content = _one_op_model(opcode, inputs, [_tensor([2, 2])], options)
    interpreter = tf.lite.Interpreter(model_content=content)
    interpreter.allocate_tensors()
    with pytest.raises(NotImplementedError, match=message):
        interpreter.invoke()


def test_quantized_fused_tanh_is_refused():
    q = _tensor([2, 3], INT8, scale=0.1)
    content = _one_op_model(0, [q, q], [_tensor([2, 3], INT8, scale=0.1)],
                            (11, {0: ("int8", 4)}))
    interpreter = tf.lite.Interpreter(model_content=content)
    interpreter.allocate_tensors()
    with pytest.raises(NotImplementedError, match="TANH on quantized tensors"):
        interpreter.invoke()


def test_vectors_running_past_the_end_are_refused():
    b = _builder()
    numbers = _vector(b, [1, 2, 3], "int32")
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, numbers, 0)
    b.Finish(b.EndObject())
    content = bytearray(b.Output())
    start, _ = Table.root(bytes(content))._vector(0)
    content[start - 4:start] = (1 << 20).to_bytes(4, "little")  # claim a million elements
    root = Table.root(bytes(content))
    with pytest.raises(FlatbufferError, match="runs past the end"):
        root.scalars(0, "int32")
    with pytest.raises(FlatbufferError, match="runs past the end"):
        root.bytes(0)


def test_truncated_and_short_files_are_refused():
    content = _add_model()
    with pytest.raises(ValueError, match="not a valid Flatbuffer"):
        tf.lite.Interpreter(model_content=content[:len(content) // 2])
    with pytest.raises(FlatbufferError, match="at least 8 bytes"):
        Table.root(b"TFL3")


def test_details_match_litert_field_for_field():
    litert = _litert()
    content = _one_op_model(18, [_tensor([1, 4], INT8, scale=0.5, zero_point=-3),
                                 _const(np.arange(4).reshape(1, 4), INT8)],
                            [_tensor([1, 4], INT8, scale=0.25, zero_point=1)])
    ref, ours = litert.Interpreter(model_content=content), tf.lite.Interpreter(
        model_content=content)
    for interpreter in (ref, ours):
        interpreter.allocate_tensors()
    for got, want in zip(ours.get_input_details() + ours.get_output_details(),
                         ref.get_input_details() + ref.get_output_details()):
        assert got.keys() == want.keys()
        for key in ("name", "index", "dtype", "quantization", "sparsity_parameters"):
            assert got[key] == want[key], key
        for key in ("shape", "shape_signature"):
            np.testing.assert_array_equal(got[key], want[key])
            assert got[key].dtype == want[key].dtype
        for key, value in want["quantization_parameters"].items():
            np.testing.assert_array_equal(got["quantization_parameters"][key], value)


def test_errors_follow_tensorflow():
    interpreter = tf.lite.Interpreter(model_content=_add_model())
    with pytest.raises(RuntimeError, match="not ready"):
        interpreter.invoke()
    interpreter.allocate_tensors()
    with pytest.raises(ValueError, match="Got value of type FLOAT64 but expected type FLOAT32"):
        interpreter.set_tensor(0, np.zeros((1, 4)))
    with pytest.raises(ValueError, match="Got 2 but expected 1 for dimension 0"):
        interpreter.set_tensor(0, np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="Invalid tensor index 9"):
        interpreter.get_tensor(9)
    with pytest.raises(RuntimeError, match="only allows mutating unknown dimensions"):
        interpreter.resize_tensor_input(0, [1, 5], strict=True)
    with pytest.raises(ValueError, match="0 Signatures"):
        interpreter.get_signature_runner()
    with pytest.raises(ValueError, match="cannot load delegates"):
        tf.lite.Interpreter(model_content=_add_model(), experimental_delegates=[object()])
    with pytest.raises(ValueError, match="num_threads should >= 1"):
        tf.lite.Interpreter(model_content=_add_model(), num_threads=0)
    with pytest.raises(ValueError, match="must be specified"):
        tf.lite.Interpreter()
    with pytest.raises(ValueError, match="Can't both provide"):
        tf.lite.Interpreter(model_path="x.tflite", model_content=_add_model())
    with pytest.raises(ValueError, match="type of num_threads should be int"):
        tf.lite.Interpreter(model_content=_add_model(), num_threads=1.5)
    with pytest.raises(ValueError, match="Unrecognized passed in op resolver type"):
        tf.lite.Interpreter(model_content=_add_model(), experimental_op_resolver_type="REF")
    with pytest.raises(ValueError, match="Got 1 but expected 2 for input 0"):
        interpreter.set_tensor(0, np.zeros(4, np.float32))
    with pytest.raises(RuntimeError, match="has rank 2"):
        interpreter.resize_tensor_input(0, [4], strict=True)
    fresh = tf.lite.Interpreter(model_content=_add_model())
    for read in (lambda: fresh.get_tensor(2), fresh.tensor(2),
                 lambda: fresh.set_tensor(0, np.zeros((1, 4), np.float32))):
        with pytest.raises(ValueError, match="Run allocate_tensors"):
            read()


def test_resize_tensor_view_and_model_path(tmp_path):
    path = tmp_path / "add.tflite"
    path.write_bytes(_add_model())
    interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=2)
    interpreter.resize_tensor_input(0, [3, 4])
    interpreter.resize_tensor_input(1, [3, 4])
    interpreter.allocate_tensors()
    assert list(interpreter.get_input_details()[0]["shape"]) == [3, 4]
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    interpreter.tensor(0)()[...] = a  # the live input buffer, as in TensorFlow
    interpreter.set_tensor(1, 2 * a)
    interpreter.invoke()
    np.testing.assert_array_equal(interpreter.get_tensor(2), 3 * a)
    assert list(interpreter.get_output_details()[0]["shape"]) == [3, 4]


# --- neuroflow's converter, run here and in LiteRT ---------------------------------------

def _neuroflow_models():
    from neuroflow import keras

    layers = keras.layers
    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                            layers.Dense(32, activation="relu"),
                            layers.Dense(10, activation="softmax")])
    cnn = keras.Sequential([keras.Input((28, 28, 1)),
                            layers.Conv2D(6, 3, padding="same", activation="relu"),
                            layers.MaxPooling2D(),
                            layers.DepthwiseConv2D(3, activation="relu6"),
                            layers.AveragePooling2D(), layers.Conv2D(8, 3, strides=2),
                            layers.GlobalAveragePooling2D(),
                            layers.Dense(10, activation="softmax")])
    return {"mlp": (mlp, (28, 28)), "cnn": (cnn, (28, 28, 1))}


@pytest.fixture(scope="module")
def neuroflow_files():
    pytest.importorskip("flatbuffers")
    _litert()
    files = {}
    rng = np.random.default_rng(0)
    for name, (model, shape) in _neuroflow_models().items():
        samples = rng.random((16, *shape)).astype(np.float32)
        files[f"{name}_float"] = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        files[f"{name}_dynamic_range"] = converter.convert()
        for edges in (False, True):
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda s=samples: ([s[i:i + 1]]
                                                                  for i in range(len(s)))
            if edges:
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
                converter.inference_input_type = tf.int8
                converter.inference_output_type = tf.int8
            files[f"{name}_int8{'_edges' if edges else ''}"] = converter.convert()
    return files


def _compare_every_tensor(content, batch=3, seed=0):
    """Run both interpreters on a batch and compare every tensor LiteRT preserves."""
    litert = _litert()
    ref = litert.Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                             experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    ours = tf.lite.Interpreter(model_content=content)
    detail = ref.get_input_details()[0]
    shape = [batch, *detail["shape"][1:]]
    x = np.random.default_rng(seed).random(shape).astype(np.float32)
    if detail["dtype"] == np.int8:
        scale, zero = detail["quantization"]
        x = np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8)
    for interpreter in (ref, ours):
        interpreter.resize_tensor_input(detail["index"], shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
    compared = 0
    for tensor in ours.get_tensor_details():
        try:
            expected = ref.get_tensor(tensor["index"])
        except ValueError:  # a tensor LiteRT did not keep
            continue
        got = ours.get_tensor(tensor["index"])
        assert got.shape == expected.shape and got.dtype == expected.dtype, tensor["name"]
        if got.dtype == np.float32:
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5,
                                       err_msg=tensor["name"])
        else:
            np.testing.assert_array_equal(got, expected, err_msg=tensor["name"])
        compared += 1
    assert compared >= len(ours.get_tensor_details()) // 2
    return x, ours


def _default_litert_output(content, x):
    """LiteRT with its default (XNNPACK) kernels."""
    interpreter = _litert().Interpreter(model_content=content)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.mark.parametrize("name", ["mlp_float", "mlp_int8", "mlp_int8_edges",
                                  "mlp_dynamic_range", "cnn_float", "cnn_int8",
                                  "cnn_int8_edges", "cnn_dynamic_range"])
def test_neuroflow_converted_files_match_litert(neuroflow_files, name):
    content = neuroflow_files[name]
    x, ours = _compare_every_tensor(content)
    got = ours.get_tensor(ours.get_output_details()[0]["index"])
    default = _default_litert_output(content, x)
    if got.dtype == np.int8:
        assert np.abs(got.astype(int) - default).max() <= 1
    else:
        np.testing.assert_allclose(got, default, rtol=1e-5, atol=1e-5)


def test_signature_runner_on_a_converted_file(neuroflow_files):
    content = neuroflow_files["cnn_int8_edges"]
    ours = tf.lite.Interpreter(model_content=content)
    ref = _litert().Interpreter(model_content=content)
    assert ours.get_signature_list() == ref.get_signature_list()
    (key, signature), = ours.get_signature_list().items()
    (input_name,) = signature["inputs"]
    x = np.random.default_rng(5).integers(-128, 128, (4, 28, 28, 1)).astype(np.int8)
    got = ours.get_signature_runner(key)(**{input_name: x})
    want = ref.get_signature_runner(key)(**{input_name: x})
    assert got.keys() == want.keys()
    for out in got:
        assert got[out].shape == (4, 10)
        assert np.abs(got[out].astype(int) - want[out]).max() <= 1
    runner = ours.get_signature_runner()
    assert runner.get_input_details()[input_name]["dtype"] == np.int8
    with pytest.raises(ValueError, match="Invalid Input name"):
        runner(wrong=x)
    with pytest.raises(ValueError, match="expected 1 vs provided 2"):
        runner(wrong=x, other=x)
    with pytest.raises(ValueError, match='Invalid signature_key provided: "nope"'):
        ours.get_signature_runner("nope")


# --- TensorFlow's converter (Fashion-MNIST shaped MLP and CNN) ---------------------------

@pytest.fixture(scope="module")
def tensorflow_files():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    real_tf = pytest.importorskip("tensorflow")
    import keras as real_keras

    _litert()
    real_keras.utils.set_random_seed(0)
    layers = real_keras.layers
    models = {
        "mlp": real_keras.Sequential([real_keras.Input((28, 28, 1)), layers.Flatten(),
                                      layers.Dense(64, activation="relu"),
                                      layers.Dense(10, activation="softmax")]),
        "cnn": real_keras.Sequential([real_keras.Input((28, 28, 1)),
                                      layers.Conv2D(8, 3, activation="relu"),
                                      layers.MaxPooling2D(),
                                      layers.DepthwiseConv2D(3, padding="same",
                                                             activation="relu6"),
                                      layers.AveragePooling2D(pool_size=2),
                                      layers.Conv2D(16, 3, strides=2, padding="same"),
                                      layers.GlobalAveragePooling2D(),
                                      layers.Dense(10, activation="softmax")]),
    }
    samples = np.random.default_rng(1).random((16, 28, 28, 1)).astype(np.float32)

    def representative():
        return ([samples[i:i + 1]] for i in range(len(samples)))
    files = {}
    for name, model in models.items():
        variants = {"float": {}, "int8": {"representative_dataset": representative},
                    "int8_edges": {"representative_dataset": representative,
                                   "target_spec.supported_ops":
                                       [real_tf.lite.OpsSet.TFLITE_BUILTINS_INT8],
                                   "inference_input_type": real_tf.int8,
                                   "inference_output_type": real_tf.int8},
                    "dynamic_range": {}, "float16": {
                        "target_spec.supported_types": [real_tf.float16]}}
        for variant, settings in variants.items():
            converter = real_tf.lite.TFLiteConverter.from_keras_model(model)
            if variant != "float":
                converter.optimizations = [real_tf.lite.Optimize.DEFAULT]
            for key, value in settings.items():
                target = converter.target_spec if key.startswith("target_spec.") else converter
                setattr(target, key.split(".")[-1], value)
            files[f"{name}_{variant}"] = converter.convert()
    return files


@pytest.mark.tensorflow
@pytest.mark.slow
@pytest.mark.parametrize("model", ["mlp", "cnn"])
@pytest.mark.parametrize("variant", ["float", "int8", "int8_edges", "dynamic_range",
                                     "float16"])
def test_tensorflow_converted_files_match_litert(tensorflow_files, model, variant):
    content = tensorflow_files[f"{model}_{variant}"]
    x, ours = _compare_every_tensor(content, batch=4, seed=len(variant))
    if variant == "dynamic_range":  # the hybrid kernels really ran
        hybrid = {"mlp": "FULLY_CONNECTED", "cnn": "CONV_2D"}[model]
        assert any(op.name == hybrid and ours._subgraphs[0].tensors[op.inputs[1]].quantized
                   and ours._subgraphs[0].tensors[op.inputs[0]].dtype == np.float32
                   for op in ours._subgraphs[0].operators)
    got = ours.get_tensor(ours.get_output_details()[0]["index"])
    default = _default_litert_output(content, x)
    if got.dtype == np.int8:
        assert np.abs(got.astype(int) - default).max() <= 1
    else:
        np.testing.assert_allclose(got, default, rtol=1e-5, atol=1e-5)


@pytest.mark.tensorflow
def test_tensorflow_function_with_shape_and_indexing_ops():
    """A tf.function whose conversion emits the data-movement operators."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    real_tf = pytest.importorskip("tensorflow")
    _litert()
    @real_tf.function(input_signature=[real_tf.TensorSpec([None, 6, 8], real_tf.float32)])
    def mixed(x):
        y = real_tf.transpose(x, [0, 2, 1])[:, 1:7:2, ::-1]
        y = real_tf.pad(y, [[0, 0], [1, 0], [0, 2]])
        z = real_tf.gather(x, [5, 0, 3], axis=1)
        stacked = real_tf.stack([real_tf.reduce_mean(z, axis=-1), real_tf.reduce_max(z, -1)],
                                axis=1)
        product = real_tf.matmul(x[:, :4], x, transpose_b=True)
        batch = real_tf.shape(x)[0]
        flat = real_tf.reshape(y, real_tf.stack([batch, -1]))
        return {"flat": real_tf.nn.relu6(flat * 3.0), "stacked": stacked,
                "product": real_tf.nn.softmax(real_tf.reduce_sum(product, axis=-1))}
    converter = real_tf.lite.TFLiteConverter.from_concrete_functions(
        [mixed.get_concrete_function()], mixed)
    content = converter.convert()
    x = np.random.default_rng(4).normal(size=(3, 6, 8)).astype(np.float32)
    results = []
    for interpreter in (_litert().Interpreter(model_content=content),
                        tf.lite.Interpreter(model_content=content)):
        index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(index, x.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, x)
        interpreter.invoke()
        results.append({d["name"]: interpreter.get_tensor(d["index"])
                        for d in interpreter.get_output_details()})
    want, got = results
    assert got.keys() == want.keys() and len(got) == 3
    emitted = {op["op_name"] for op in
               _litert().Interpreter(model_content=content)._get_ops_details()}
    assert emitted >= {"TRANSPOSE", "STRIDED_SLICE", "PAD", "GATHER", "PACK", "MEAN",
                       "BATCH_MATMUL", "SHAPE", "RESHAPE", "SOFTMAX"}, emitted
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5, err_msg=name)
