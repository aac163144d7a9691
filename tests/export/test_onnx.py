"""ONNX export: every layer family, functions, errors; onnxruntime runs what is written.

Each model's ONNX file is checked with ``onnx.checker`` and run by onnxruntime on two
batch sizes (the batch is a symbolic dimension); its results must match neuroflow's own
forward pass (``model(x, training=False)``) within 1e-4.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.errors import UnimplementedError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
nf_onnx = pytest.importorskip("neuroflow.export.onnx")

L = keras.layers
BATCHES = (1, 5)


def _session(proto):
    onnx.checker.check_model(proto)
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def _inputs(shapes, batch, dtype="float32", high=None, seed=0):
    rng = np.random.default_rng(seed + batch)
    if high is not None:
        return [rng.integers(0, high, (batch, *s)).astype(dtype) for s in shapes]
    return [rng.normal(size=(batch, *s)).astype(dtype) for s in shapes]


def _as_list(result) -> list[np.ndarray]:
    if isinstance(result, (list, tuple)):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]


def _check_keras(model, shapes, dtype="float32", high=None, expect_ops=()):
    """Export ``model``; compare onnxruntime with neuroflow on two batch sizes."""
    proto, storage = nf_onnx.from_keras(model)
    assert storage is None
    ops = {node.op_type for node in proto.graph.node}
    assert set(expect_ops) <= ops, f"{expect_ops} not all in {sorted(ops)}"
    for graph_input in proto.graph.input:
        assert graph_input.type.tensor_type.shape.dim[0].dim_param == "batch"
    session = _session(proto)
    for batch in BATCHES:
        xs = _inputs(shapes, batch, dtype, high)
        tensors = [tf.constant(x) for x in xs]
        want = _as_list(model(tensors if len(xs) > 1 else tensors[0], training=False))
        feed = {i.name: x for i, x in zip(session.get_inputs(), xs)}
        got = session.run(None, feed)
        assert len(got) == len(want)
        for w, g in zip(want, got):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
    return proto


def _dense():
    return keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu"),
                             L.Dropout(0.5), L.Dense(3, activation="softmax")]), [(6,)], ()


def _cnn():
    return keras.Sequential([
        keras.Input((8, 8, 3)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
        L.BatchNormalization(), L.Conv2D(5, 3, strides=2, padding="same", dilation_rate=1),
        L.Flatten(), L.Dense(10), L.Softmax()]), [(8, 8, 3)], ("Conv", "MaxPool", "Softmax")


def _conv1d_pools():
    return keras.Sequential([
        keras.Input((12, 3)), L.Conv1D(4, 3, padding="same", dilation_rate=2),
        L.MaxPooling1D(2), L.AveragePooling1D(2, padding="same"),
        L.GlobalAveragePooling1D()]), [(12, 3)], ("Conv", "AveragePool")


def _depthwise_separable_transpose():
    return keras.Sequential([
        keras.Input((9, 9, 3)), L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        L.SeparableConv2D(4, 3, strides=2), L.Conv2DTranspose(3, 3, strides=2),
        L.Conv2DTranspose(2, 3, strides=2, padding="same"),
        L.AveragePooling2D(padding="same"), L.GlobalMaxPooling2D()]), [(9, 9, 3)], \
        ("ConvTranspose", "Conv")


def _normalization():
    return keras.Sequential([
        keras.Input((4, 6)), L.LayerNormalization(), L.BatchNormalization(),
        L.Dense(3)]), [(4, 6)], ()


def _recurrent():
    return keras.Sequential([
        keras.Input((7,), dtype="int32"), L.Embedding(20, 4), L.SimpleRNN(5, return_sequences=True),
        L.GRU(3, return_sequences=True), L.LSTM(6)]), [(7,)], ("Gather", "RNN", "GRU", "LSTM")


def _recurrent_variants():
    return keras.Sequential([
        keras.Input((6, 3)), L.GRU(4, reset_after=False, return_sequences=True),
        L.Bidirectional(L.LSTM(3, go_backwards=False)),
        L.RepeatVector(2), L.SimpleRNN(2, activation="relu", return_sequences=True),
        L.GRU(3, activation="linear", recurrent_activation="hard_sigmoid",
              return_sequences=True),
        L.LSTM(2, recurrent_activation="hard_sigmoid", activation="relu")]), [(6, 3)], \
        ("GRU", "LSTM", "RNN")


def _attention():
    x = keras.Input((5, 8))
    y = L.MultiHeadAttention(2, 4)(x, x)
    return keras.Model(x, L.GlobalAveragePooling1D()(y)), [(5, 8)], ("Softmax", "MatMul")


def _activations_and_reshaping():
    return keras.Sequential([
        keras.Input((3, 4)), L.Permute((2, 1)), L.Reshape((12,)), L.Dense(6, activation="elu"),
        L.LeakyReLU(), L.PReLU(), L.Activation("selu"), L.Activation("softplus"),
        L.Activation("swish"), L.ReLU(6.0), L.Activation("gelu"), L.Activation("tanh"),
        L.Activation("hard_sigmoid"), L.Dense(4), L.Activation("log_softmax")]), [(3, 4)], ()


def _two_inputs():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    joined = L.Concatenate()([a, L.Dense(4)(b)])
    y = L.Add()([L.Dense(2)(joined), L.Multiply()([L.Dense(2)(a), L.Dense(2)(b)])])
    return keras.Model([a, b], y), [(4,), (3,)], ("Concat",)


def _lstm_states():
    x = keras.Input((6, 3))
    out, h, c = L.LSTM(4, return_state=True, return_sequences=True)(x)
    return keras.Model(x, [out, h, c]), [(6, 3)], ("LSTM",)


def _image_preprocessing_and_3d():
    return keras.Sequential([
        keras.Input((4, 4, 2)), L.Rescaling(1 / 255.0), L.Normalization(mean=0.5, variance=2.0),
        L.Resizing(6, 6), L.UpSampling2D(2), L.ZeroPadding2D(1), L.Cropping2D(2),
        L.GroupNormalization(2), L.Reshape((5, 5, 4, 2)), L.Conv3D(3, 2),
        L.MaxPooling3D(1), L.AveragePooling3D(1), L.GlobalAveragePooling3D()]), \
        [(4, 4, 2)], ("Conv",)


def _sequence_layers():
    return keras.Sequential([
        keras.Input((5, 3)), L.GaussianNoise(0.3), L.GaussianDropout(0.3),
        L.SpatialDropout1D(0.3), L.TimeDistributed(L.Dense(4)), L.UnitNormalization(),
        L.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d"),
        L.Conv1DTranspose(2, 3, strides=2), L.UpSampling1D(2), L.ZeroPadding1D(1),
        L.Cropping1D(1), L.Conv1D(2, 3, padding="causal"), L.Flatten()]), [(5, 3)], \
        ("ConvTranspose",)


def _attention_layers_and_merges():
    a, b = keras.Input((3, 4)), keras.Input((5, 4))
    causal = L.MultiHeadAttention(2, 2)(a, a, use_causal_mask=True)
    pooled = [L.GlobalAveragePooling1D()(t) for t in
              (L.Attention()([a, b]), L.AdditiveAttention()([a, b]), causal)]
    merged = [L.Average()(pooled[:2]), L.Maximum()(pooled[1:]), L.Minimum()(pooled[::2]),
              L.Subtract()(pooled[:2]), L.Dot(axes=1)(pooled[1:]),
              L.Dot(axes=1, normalize=True)(pooled[::2])]
    return keras.Model([a, b], merged), [(3, 4), (5, 4)], ("Softmax",)


FAMILIES = [_dense, _cnn, _conv1d_pools, _depthwise_separable_transpose, _normalization,
            _recurrent, _recurrent_variants, _attention, _activations_and_reshaping,
            _two_inputs, _lstm_states, _image_preprocessing_and_3d, _sequence_layers,
            _attention_layers_and_merges]


@pytest.mark.parametrize("build", FAMILIES, ids=lambda f: f.__name__.strip("_"))
def test_layer_family_matches_onnxruntime(build):
    model, shapes, ops = build()
    if build is _depthwise_separable_transpose:  # one grouped Conv per depthwise conv
        proto = nf_onnx.from_keras(model)[0]
        groups = [a.i for n in proto.graph.node if n.op_type == "Conv"
                  for a in n.attribute if a.name == "group"]
        assert sorted(groups) == [1, 3, 6]  # separable: depthwise (6) and pointwise
    if build is _recurrent:  # token ids below the Embedding's vocabulary size
        _check_keras(model, shapes, "int32", 20, ops)
    else:
        _check_keras(model, shapes, expect_ops=ops)


def test_dense_against_numpy():
    model = keras.Sequential([keras.Input((5,)), L.Dense(3, activation="tanh")])
    proto, _ = nf_onnx.from_keras(model)
    kernel, bias = (np.asarray(w) for w in model.get_weights())
    x = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    got = _session(proto).run(None, {proto.graph.input[0].name: x})[0]
    np.testing.assert_allclose(got, np.tanh(x @ kernel + bias), rtol=1e-5, atol=1e-6)


def test_trained_model_export(tmp_path, capsys):
    model = keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu"),
                              L.BatchNormalization(), L.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = rng.integers(0, 4, 64)
    before = [np.array(w) for w in model.get_weights()]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    path = tmp_path / "trained.onnx"
    model.export(str(path), format="onnx")
    assert f"Saved artifact at '{path}'." in capsys.readouterr().out
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for rows in (x[:3], x[:17]):
        want = model.predict(rows, verbose=0)
        np.testing.assert_allclose(session.run(None, {name: rows})[0], want, rtol=1e-4,
                                   atol=1e-4)


def test_function_with_input_signature(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec((None, 4), name="x"),
                                  tf.TensorSpec((None,), "int32")])
    def f(x, labels):
        picked = tf.gather(x, tf.abs(labels) % 4, axis=1)
        parts = (x[::-1, None, ..., 1:3], x[:, -1], x[1:, ::2])
        scores = tf.reduce_max(x, axis=1) + tf.reduce_sum(tf.clip_by_value(x, -0.5, 0.5))
        hot = tf.one_hot(labels, 4) * tf.cast(tf.argmax(x, axis=-1), tf.float32)[:, None]
        ints = labels // 3 + labels % 3 + tf.cast(tf.reduce_any(x > 1.0, axis=1), tf.int32)
        floats = tf.math.floormod(x, 0.7) + tf.math.floordiv(x, 0.3)
        padded = tf.pad(x, [[1, 0], [0, 2]], constant_values=2.0)
        mixed = tf.einsum("bi,bj->bij", x, x) + tf.math.cumsum(x, axis=1)[:, :, None]
        return (picked, *parts, scores, hot, ints, floats, padded, mixed,
                tf.where(x > 0, tf.sqrt(tf.abs(x)), tf.exp(x)), tf.math.log1p(tf.abs(x)))

    path = tmp_path / "f.onnx"
    proto, _ = nf_onnx.from_function(f, output_path=path)
    assert [i.name for i in proto.graph.input] == ["x", "labels"]
    session = _session(onnx.load(str(path)))
    for batch in BATCHES:
        rng = np.random.default_rng(batch)
        x = rng.normal(size=(batch, 4)).astype("float32")
        labels = rng.integers(-2, 6, batch).astype("int32")  # one_hot of -1 or 4: zeros
        want = [np.asarray(t) for t in f(x, labels)]
        got = session.run(None, {"x": x, "labels": labels})
        for w, g in zip(want, got):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_python_function_with_signature_and_opsets():
    def f(x):
        return tf.nn.softmax(tf.reduce_max(x, axis=-1, keepdims=True) * x, axis=0)

    x = np.random.default_rng(3).normal(size=(6, 3)).astype("float32")
    want = np.asarray(tf.function(f)(x))
    for opset in (15, 18):
        proto, _ = nf_onnx.from_function(f, [tf.TensorSpec((None, 3))], opset=opset)
        assert proto.opset_import[0].version == opset
        got = _session(proto).run(None, {"x": x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="opset versions 15 to"):
        nf_onnx.from_function(f, [tf.TensorSpec((None, 3))], opset=9)
    with pytest.raises(ValueError, match="input_signature"):
        nf_onnx.from_function(f)


class _CumProd(L.Layer):
    def call(self, x):
        return tf.math.cumprod(x, axis=1)


def test_unsupported_op_names_primitive_and_layer():
    model = keras.Sequential([keras.Input((4,)), L.Dense(4), _CumProd(name="running_product")])
    with pytest.raises(UnimplementedError, match=r"'cumprod'.*running_product"):
        nf_onnx.from_keras(model)


@pytest.mark.parametrize("layer", [
    lambda: L.LSTM(3, return_sequences=True),
    lambda: L.GRU(3, return_sequences=True),
    lambda: L.GRU(3, reset_after=False),
    lambda: L.SimpleRNN(3, return_sequences=True),
    lambda: L.Bidirectional(L.LSTM(2, activation="relu", recurrent_activation="hard_sigmoid")),
], ids=["lstm", "gru", "gru_reset_before", "simple_rnn", "bidirectional"])
def test_masked_sequences_match_onnxruntime(layer):
    model = keras.Sequential([keras.Input((6,), dtype="int32"),
                              L.Embedding(10, 4, mask_zero=True), layer()])
    proto, _ = nf_onnx.from_keras(model)
    assert "Scan" in {node.op_type for node in proto.graph.node}
    session = _session(proto)
    for batch in (3, 5):
        x = np.random.default_rng(batch).integers(1, 10, (batch, 6)).astype("int32")
        x[0, :2] = 0  # masked steps at the start, in the middle, at the end
        x[1, 3] = 0
        x[2, 4:] = 0
        want = np.asarray(model(tf.constant(x), training=False))
        got = session.run(None, {proto.graph.input[0].name: x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_masked_lstm_states():
    x = keras.Input((5, 2))
    out, h, c = L.LSTM(3, return_sequences=True, return_state=True)(L.Masking()(x))
    model = keras.Model(x, [out, h, c])
    session = _session(nf_onnx.from_keras(model)[0])
    values = np.random.default_rng(1).normal(size=(3, 5, 2)).astype("float32")
    values[0, 2:] = 0
    values[1, 0] = 0
    want = model(tf.constant(values), training=False)
    got = session.run(None, {session.get_inputs()[0].name: values})
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-4, atol=1e-4)


def test_rnn_over_cells_runs_as_a_loop():
    model = keras.Sequential([keras.Input((4, 3)),
                              L.RNN(L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)]),
                                    return_sequences=True)])
    proto = _check_keras(model, [(4, 3)], expect_ops=("Loop",))
    assert "LSTM" not in {node.op_type for node in proto.graph.node}


def test_cond_and_while_loop():
    @tf.function(input_signature=[tf.TensorSpec((None, 3)), tf.TensorSpec((), "int32")])
    def f(x, steps):
        total = tf.reduce_sum(x)
        scaled = tf.cond(total > 0, lambda: x * 2.0 + total, lambda: tf.abs(x) - 1.0)

        def body(i, acc):
            return i + 1, acc * 0.5 + tf.reduce_mean(x, axis=0)

        _, acc = tf.while_loop(lambda i, acc: i < steps, body, (0, tf.zeros(3)))
        _, capped = tf.while_loop(lambda i, v: v[0] < 100.0, lambda i, v: (i + 1, v * 3.0),
                                  (0, tf.ones(2)), maximum_iterations=3)
        return scaled, acc, capped

    session = _session(nf_onnx.from_function(f)[0])
    for batch, steps, sign in ((2, 0, 1.0), (5, 4, -1.0)):
        x = sign * np.random.default_rng(batch).random((batch, 3), dtype=np.float32)
        got = session.run(None, {"x": x, "steps": np.asarray(steps, np.int32)})
        for w, g in zip(f(x, np.int32(steps)), got):
            np.testing.assert_allclose(g, np.asarray(w), rtol=1e-5, atol=1e-6)


def test_assignments_are_refused():
    counter = tf.Variable(0.0)

    @tf.function(input_signature=[tf.TensorSpec((None,))])
    def count(x):
        counter.assign_add(tf.reduce_sum(x))
        return x * 2.0

    with pytest.raises(UnimplementedError, match="assigns the variable"):
        nf_onnx.from_function(count)


def test_model_export_arguments(tmp_path, capsys):
    model, _, _ = _dense()
    with pytest.raises(ValueError, match="format='tf_saved_model'"):
        model.export(str(tmp_path / "m"))
    with pytest.raises(TypeError, match="unexpected arguments"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", dynamic_axes=True)
    model.export(str(tmp_path / "m.onnx"), format="onnx", verbose=False, opset_version=18)
    assert capsys.readouterr().out == ""
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == 18


def test_input_signature_overrides_model_inputs():
    model = keras.Sequential([keras.Input((6,)), L.Dense(2)])
    proto, _ = nf_onnx.from_keras(model, input_signature=[tf.TensorSpec((3, 6), name="rows")])
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert proto.graph.input[0].name == "rows" and [d.dim_value for d in dims] == [3, 6]


def test_docstring_examples():
    failures, _ = doctest.testmod(nf_onnx, verbose=False)
    assert failures == 0


def test_keras_style_signature_and_unknown_sequence_length():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    model = keras.Model([a, b], L.Dense(2)(L.Concatenate()([a, b])))
    proto, _ = nf_onnx.from_keras(model, input_signature=[[a, b]])
    assert [i.name for i in proto.graph.input] == ["a", "b"]

    model = keras.Sequential([keras.Input((None, 3)), L.GRU(4, return_sequences=True),
                              L.LSTM(2)])
    proto, _ = nf_onnx.from_keras(model, input_signature=[tf.TensorSpec((None, None, 3))])
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[:2]] == ["batch", "dim_0_1"]
    session = _session(proto)
    for batch, steps in ((2, 5), (3, 9)):
        x = np.random.default_rng(steps).normal(size=(batch, steps, 3)).astype("float32")
        want = np.asarray(model(tf.constant(x), training=False))
        got = session.run(None, {proto.graph.input[0].name: x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_sizes_known_only_when_the_graph_runs():
    @tf.function(input_signature=[tf.TensorSpec((None, None)), tf.TensorSpec((None,), "int32")])
    def f(x, labels):
        n = tf.shape(x)[1]
        kept = tf.boolean_mask(x, x > 0.5)
        return (tf.einsum("...i,...i->...", x, x), tf.one_hot(labels, n), x[:, :n - 1],
                x[:, n:0:-2], tf.reshape(kept, [-1, 1]) * 2.0, tf.where(x > 0.5))

    session = _session(nf_onnx.from_function(f)[0])
    for shape in ((3, 5), (4, 2)):
        rng = np.random.default_rng(shape[0])
        x = rng.random(shape, dtype=np.float32)
        labels = rng.integers(-1, 5, shape[0]).astype("int32")
        got = session.run(None, {"x": x, "labels": labels})
        for w, g in zip(f(x, labels), got):
            w = np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_every_fused_recurrent_activation_has_an_onnx_form():
    from neuroflow.export.onnx.recurrent import ACTIVATIONS
    from neuroflow.ops.recurrent import FUSED_ACTIVATIONS

    assert set(FUSED_ACTIVATIONS) <= set(ACTIVATIONS)


def test_every_step_of_lstm_cell_states_is_refused():
    from neuroflow.ops.recurrent import lstm_sequence

    kernel = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")

    @tf.function(input_signature=[tf.TensorSpec((None, 3, 8)), tf.TensorSpec((None, 2))])
    def cells(x_proj, h0):
        hs, cs = lstm_sequence(x_proj, h0, h0, kernel)
        return hs[:, -1], cs

    with pytest.raises(UnimplementedError, match=r"lstm_sequence.*cell states of every step"):
        nf_onnx.from_function(cells)


class _Unbuilt(keras.Model):
    def call(self, x):
        return x * 2.0


def test_argument_errors():
    def double(x):
        return x * 2.0

    with pytest.raises(ValueError, match="has no input_signature"):
        nf_onnx.from_function(tf.function(double))
    with pytest.raises(TypeError, match="expected a tf.function"):
        nf_onnx.from_function(3, [tf.TensorSpec((None,))])
    with pytest.raises(ValueError, match="rank of every input"):
        nf_onnx.from_function(double, [tf.TensorSpec(None)])
    model = keras.Sequential([keras.Input((2,)), L.Dense(1)])
    with pytest.raises(TypeError, match="input_signature takes"):
        nf_onnx.from_keras(model, input_signature=[3])
    with pytest.raises(ValueError, match="Cannot tell the inputs"):
        nf_onnx.from_keras(_Unbuilt())
    graph = tf.function(double, input_signature=[tf.TensorSpec((None,))]) \
        .get_concrete_function(np.zeros(1, "float32")).graph
    with pytest.raises(ValueError, match="distinct input names"):
        nf_onnx.graph_to_model(graph, 17, input_names=["a", "b"])


def test_tensor_scatter():
    @tf.function(input_signature=[tf.TensorSpec((None, 3)), tf.TensorSpec((2, 3))])
    def f(x, rows):
        at = tf.constant([[0], [2]])
        return (tf.tensor_scatter_nd_update(x, at, rows), tf.tensor_scatter_nd_add(x, at, rows),
                tf.tensor_scatter_nd_sub(x, at, rows), tf.tensor_scatter_nd_max(x, at, rows))

    with pytest.raises(UnimplementedError, match="opset 18"):
        nf_onnx.from_function(f)
    session = _session(nf_onnx.from_function(f, opset=18)[0])
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(2, 3)).astype("float32")
    for batch in (3, 6):
        x = rng.normal(size=(batch, 3)).astype("float32")
        for w, g in zip(f(x, rows), session.run(None, {"x": x, "rows": rows})):
            np.testing.assert_allclose(g, np.asarray(w), rtol=1e-6)


def test_sorting_and_ranges():
    @tf.function(input_signature=[tf.TensorSpec((None, 5))])
    def f(x):
        values, indices = tf.math.top_k(x, 3)
        rows = tf.cast(tf.shape(x)[0], tf.float32)
        return (values, indices, tf.argsort(x), tf.sort(x, direction="DESCENDING"),
                tf.range(tf.shape(x)[0]), tf.range(0.5, rows, 0.5))

    session = _session(nf_onnx.from_function(f)[0])
    for batch in (2, 4):
        # Few distinct values, so ties test which index comes first.
        x = np.round(np.random.default_rng(batch).random((batch, 5)) * 3).astype("float32")
        for w, g in zip(f(x), session.run(None, {"x": x})):
            w = np.asarray(w)
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def _tf_twins(keras_module):
    """The same architectures built with ``keras_module`` (neuroflow's or Keras's)."""
    layers = keras_module.layers
    cnn = keras_module.Sequential([
        keras_module.Input((10, 10, 2)), layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(), layers.BatchNormalization(), layers.SeparableConv2D(3, 2),
        layers.Flatten(), layers.Dense(5, activation="softmax")])
    rnn = keras_module.Sequential([
        keras_module.Input((6, 3)), layers.SimpleRNN(4, return_sequences=True),
        layers.GRU(5, return_sequences=True), layers.LSTM(3)])
    x = keras_module.Input((5, 8))
    attention = keras_module.Model(x, layers.LayerNormalization()(
        layers.MultiHeadAttention(2, 4)(x, x)))
    return {"cnn": (cnn, (10, 10, 2)), "rnn": (rnn, (6, 3)), "attention": (attention, (5, 8))}


@pytest.mark.tensorflow
def test_onnx_file_matches_tensorflow_keras():
    """The ONNX file of a neuroflow model gives what TensorFlow's Keras gives for the
    same architecture and weights (gate orders and layouts checked against Keras itself)."""
    pytest.importorskip("tensorflow")
    import keras as tf_keras

    ours, theirs = _tf_twins(keras), _tf_twins(tf_keras)
    for name, (model, shape) in ours.items():
        twin = theirs[name][0]
        rng = np.random.default_rng(7)
        # Non-trivial BatchNormalization statistics, as after training.
        weights = [w + rng.normal(scale=0.1, size=w.shape).astype(w.dtype)
                   for w in map(np.asarray, model.get_weights())]
        weights = [np.abs(w) + 0.5 if "variance" in v.path else w
                   for w, v in zip(weights, model.weights)]
        model.set_weights(weights)
        twin.set_weights(weights)
        session = _session(nf_onnx.from_keras(model)[0])
        for batch in BATCHES:
            x = rng.normal(size=(batch, *shape)).astype("float32")
            got = session.run(None, {session.get_inputs()[0].name: x})[0]
            want = np.asarray(twin(x, training=False))
            assert np.isfinite(got).all()
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4, err_msg=name)


def test_elementwise_and_reductions():
    @tf.function(input_signature=[tf.TensorSpec((None, 4)), tf.TensorSpec((None, 4), "int32")])
    def f(x, n):
        unit = tf.tanh(x) * 0.9
        return (tf.sin(x), tf.cos(x), tf.tan(unit), tf.asin(unit), tf.acos(unit), tf.atan(x),
                tf.sinh(x), tf.cosh(x), tf.asinh(x), tf.acosh(tf.abs(x) + 1.0), tf.atanh(unit),
                tf.math.expm1(x), tf.math.erf(x), tf.sign(x), tf.round(x * 3.0),
                tf.floor(x), tf.math.ceil(x), tf.pow(tf.abs(x), 1.5), tf.square(x),
                tf.math.is_finite(x / (x - x[0:1, 0:1])), tf.math.is_nan(x),
                tf.truncatediv(n, 3), tf.truncatemod(n, 3), n // -3, n % -3,
                tf.logical_and(x > 0, n > 2), tf.logical_or(x > 1, n < 0),
                tf.math.logical_xor(x > 0, n > 0), tf.not_equal(n, 2), x <= 0.5,
                tf.reduce_prod(x, axis=1), tf.reduce_min(x, axis=[0, 1]),
                tf.reduce_all(x > -1.0, axis=0), tf.argmin(x, axis=1, output_type=tf.int32),
                tf.size(x), tf.gather_nd(x, tf.constant([[0, 1], [0, 3]])),
                tf.maximum(x, tf.cast(n, tf.float32)), tf.nn.sigmoid(x) + tf.nn.relu(x))

    session = _session(nf_onnx.from_function(f)[0])
    for batch in (2, 5):
        rng = np.random.default_rng(batch)
        x = rng.normal(size=(batch, 4)).astype("float32")
        n = rng.integers(-7, 8, (batch, 4)).astype("int32")
        for index, (w, g) in enumerate(zip(f(x, n), session.run(None, {"x": x, "n": n}))):
            w = np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape, index
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=str(index))
