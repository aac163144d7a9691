"""String tensors: the ``tf.string`` dtype, conversion, printing, and the ops that move
strings around without reading them (shape ops, equality), compared with NumPy."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors


def _bytes_array(items, shape=None) -> np.ndarray:
    """The array TensorFlow's .numpy() gives: object dtype, UTF-8 bytes."""
    out = np.empty(len(items), dtype=object)
    out[:] = [s.encode() if isinstance(s, str) else s for s in items]
    return out if shape is None else out.reshape(shape)


def test_the_string_dtype():
    assert tf.string.name == "string" and repr(tf.string) == "tf.string"
    assert tf.string.size == 0 and tf.string.as_numpy_dtype is object
    assert not (tf.string.is_floating or tf.string.is_integer or tf.string.is_bool
                or tf.string.is_complex or tf.string.is_unsigned)
    for spelling in ("string", object, np.object_, np.dtype("U4"), np.dtype("S2"), np.bytes_,
                     np.str_):
        assert tf.as_dtype(spelling) is tf.string, spelling
    assert pickle.loads(pickle.dumps(tf.string)) is tf.string
    for python_type in (str, bytes):
        with pytest.raises(TypeError, match="tf.string"):
            tf.as_dtype(python_type)
    with pytest.raises(TypeError):
        tf.as_dtype("str")
    with pytest.raises(TypeError, match="minimum"):
        tf.string.min  # noqa: B018 - the property raises
    with pytest.raises(TypeError, match="maximum"):
        tf.string.max  # noqa: B018


@pytest.mark.parametrize("value, items, shape", [
    (["a", "bc"], ["a", "bc"], (2,)),
    ([b"x\xff", "é"], [b"x\xff", "é"], (2,)),
    ((("a", "b"), ("c", "d")), ["a", "b", "c", "d"], (2, 2)),
    (np.array(["ab", "c"]), ["ab", "c"], (2,)),
    (np.array([b"ab", b"c"]), ["ab", "c"], (2,)),
    (np.array(["a", b"b"], dtype=object), ["a", "b"], (2,)),
])
def test_text_converts_to_an_object_array_of_bytes(value, items, shape):
    for convert in (tf.constant, tf.convert_to_tensor):
        t = convert(value)
        assert t.dtype is tf.string and t.shape == shape
        got = t.numpy()
        assert got.dtype == object and all(type(b) is bytes for b in got.ravel())
        np.testing.assert_array_equal(got, _bytes_array(items, shape))


def test_scalars_give_bytes_and_conversion_copies():
    for value in ("héllo", b"h\xc3\xa9llo", np.str_("héllo"), np.bytes_(b"h\xc3\xa9llo")):
        t = tf.constant(value)
        assert t.shape == () and t.numpy() == "héllo".encode() and type(t.numpy()) is bytes
    source = np.array(["a", "b"], dtype=object)
    t = tf.constant(source)
    source[0] = "changed"
    assert t.numpy()[0] == b"a"
    assert tf.constant([], dtype=tf.string).numpy().dtype == object
    assert tf.constant("ab", shape=[2, 3]).numpy().tolist() == [[b"ab"] * 3] * 2
    assert tf.constant(np.array(["1", "22"]), dtype=tf.int32).numpy().tolist() == [1, 22]


@pytest.mark.parametrize("value, dtype, error", [
    (["a", 1], None, ValueError),                         # mixed types
    (["a", None], None, ValueError),
    ([["a", "b"], ["c"]], None, ValueError),             # not rectangular
    ("\ud800", None, ValueError),                        # not encodable as UTF-8
    (np.array([1, "a"], dtype=object), None, ValueError),
    (np.array([1, 2]), tf.string, ValueError),
    (1, tf.string, TypeError),
    (["1"], tf.int32, TypeError),
    (np.array([b"a"], dtype=object), tf.int32, ValueError),
])
def test_what_text_conversion_refuses(value, dtype, error):
    with pytest.raises(error):
        tf.constant(value, dtype=dtype)


def test_repr_and_str_are_tensorflows():
    t = tf.constant(["a", "b"])
    assert repr(t) == ("<tf.Tensor: shape=(2,), dtype=string, numpy=array([b'a', b'b'], "
                       "dtype=object)>")
    assert str(t) == "tf.Tensor([b'a' b'b'], shape=(2,), dtype=string)"
    assert repr(tf.constant("é")) == r"<tf.Tensor: shape=(), dtype=string, numpy=b'\xc3\xa9'>"
    assert f"{tf.constant('a')}" == "b'a'"


def test_python_protocols():
    t = tf.constant(["a", "bb", "c"])
    assert len(t) == 3 and bool(tf.constant("x")) and not bool(tf.constant(""))
    items = list(t)
    assert [i.numpy() for i in items] == [b"a", b"bb", b"c"]
    assert all(i.dtype is tf.string and i.shape == () for i in items)
    assert t[1].numpy() == b"bb" and t[1:].numpy().tolist() == [b"bb", b"c"]
    np.testing.assert_array_equal(np.array(t), t.numpy())


def test_equality_compares_bytes_with_broadcasting():
    a = np.array(["a", "b", "c"], dtype=object)
    b = np.array([["a"], ["c"]], dtype=object)
    got = tf.equal(tf.constant(a), tf.constant(b))
    assert got.dtype is tf.bool
    np.testing.assert_array_equal(got.numpy(), a == b)
    np.testing.assert_array_equal(tf.not_equal(tf.constant(a), "b").numpy(), a != "b")
    np.testing.assert_array_equal((tf.constant(a) == "c").numpy(), a == "c")
    np.testing.assert_array_equal((tf.constant(a) != b"a").numpy(), a != "a")


def test_structural_ops_move_strings_as_numpy_does():
    a = np.array([["a", "bb", "c"], ["dd", "e", "ff"]], dtype=object)
    t = tf.constant(a)
    as_bytes = np.vectorize(lambda s: s.encode(), otypes=[object])
    want = as_bytes(a)
    np.testing.assert_array_equal(tf.shape(t).numpy(), [2, 3])
    assert int(tf.size(t)) == 6 and int(tf.rank(t)) == 2
    cases = [
        (tf.reshape(t, [3, 2]), want.reshape(3, 2)),
        (tf.transpose(t), want.T),
        (tf.gather(t, [1, 0, 1]), want[[1, 0, 1]]),
        (tf.gather(t, [2, 0], axis=1), want[:, [2, 0]]),
        (tf.concat([t, t], axis=1), np.concatenate([want, want], axis=1)),
        (tf.stack([t, t]), np.stack([want, want])),
        (tf.expand_dims(t, 0), want[None]),
        (tf.squeeze(tf.constant([["x"]])), np.array(b"x", dtype=object)),
        (tf.reverse(t, [1]), want[:, ::-1]),
        (tf.tile(t, [1, 2]), np.tile(want, [1, 2])),
        (tf.where([True, False, True], t, tf.fill([2, 3], "z")),
         np.where([True, False, True], want, b"z")),
        (tf.boolean_mask(t, [False, True]), want[[1]]),
        (tf.identity(t), want),
        (tf.broadcast_to(tf.constant("q"), [2]), np.array([b"q", b"q"], dtype=object)),
    ]
    for got, expected in cases:
        assert got.dtype is tf.string
        np.testing.assert_array_equal(got.numpy(), expected)
    y, idx = tf.unique(tf.constant(["b", "a", "b"]))
    assert y.numpy().tolist() == [b"b", b"a"] and idx.numpy().tolist() == [0, 1, 0]


def test_string_and_number_tensors_do_not_mix():
    s, n = tf.constant(["a"]), tf.constant([1])
    for op in (tf.equal, lambda x, y: tf.concat([x, y], 0), lambda x, y: tf.stack([x, y])):
        with pytest.raises(errors.InvalidArgumentError):
            op(s, n)
    with pytest.raises(TypeError):
        s == 1  # noqa: B015 - the comparison raises


@pytest.mark.parametrize("op", [tf.abs, tf.negative, tf.square, tf.sqrt, tf.exp,
                                tf.math.log, tf.sigmoid])
def test_numeric_unary_ops_refuse_strings_with_tensorflows_class(op):
    with pytest.raises(errors.InvalidArgumentError, match="string"):
        op(tf.constant(["a"]))


@pytest.mark.parametrize("op", [tf.multiply, tf.subtract, tf.maximum, tf.less, tf.matmul,
                                tf.math.floordiv])
def test_numeric_binary_ops_refuse_strings(op):
    with pytest.raises(errors.InvalidArgumentError):
        op(tf.constant([["a"]]), tf.constant([["b"]]))


def test_a_numeric_layer_refuses_strings():
    with pytest.raises(ValueError, match="TextVectorization"):
        tf.keras.layers.Dense(2)(tf.constant([["a", "b"]]))


def test_tracing_string_inputs():
    @tf.function
    def f(s, i):
        return tf.gather(tf.reshape(tf.concat([s, s], 0), [2, -1]), i), tf.equal(s, "b")

    for words in (["a", "b"], ["b", "c", "d"]):
        rows, same = f(tf.constant(words), tf.constant([1, 0]))
        doubled = np.array([w.encode() for w in words] * 2, dtype=object).reshape(2, -1)
        np.testing.assert_array_equal(rows.numpy(), doubled[[1, 0]])
        np.testing.assert_array_equal(same.numpy(), np.array(words) == "b")


def test_datasets_of_strings():
    words = ["alpha", "be", "gamma delta", ""]
    ds = tf.data.Dataset.from_tensor_slices(words)
    assert ds.element_spec == tf.data.TensorSpec([], tf.string)
    assert list(ds.as_numpy_iterator()) == [w.encode() for w in words]
    lengths = ds.map(lambda s: tf.strings.length(s))
    assert [int(v) for v in lengths] == [len(w) for w in words]
    batches = [b.numpy().tolist() for b in ds.map(tf.strings.upper).batch(3)]
    assert batches == [[w.upper().encode() for w in words[:3]], [b""]]
    pairs = tf.data.Dataset.from_tensor_slices((words, [1, 2, 3, 4])).shuffle(4, seed=1)
    assert sorted((w, int(n)) for w, n in pairs.as_numpy_iterator()) == sorted(
        (w.encode(), n) for w, n in zip(words, [1, 2, 3, 4]))
    kept = ds.filter(lambda s: tf.strings.length(s) > 2)
    assert list(kept.as_numpy_iterator()) == [w.encode() for w in words if len(w) > 2]
