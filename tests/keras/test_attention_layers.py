"""MultiHeadAttention, Attention, AdditiveAttention and EinsumDense: values against NumPy
formulas, masks (explicit, from Embedding, causal, fully masked rows), dropout only in
training, gradients against finite differences, eager against compiled, configs, errors,
and a Transformer encoder block that learns a task.

Keras 3 itself is the oracle in tests/oracle/test_tf_keras_attention.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers
from neuroflow.keras.layers.embedding import get_keras_mask

R = np.random.default_rng(0)


def data(*shape, dtype=np.float32):
    return R.normal(size=shape).astype(dtype)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _mha_numpy(layer, query, value, key=None, mask=None, fully_masked="uniform"):
    """Multi-head attention written out in NumPy from the layer's weights: (output,
    weights). ``mask`` (B, T, S): True may attend. A fully masked row gets equal
    weights (``"uniform"``) or zeros (``"zero"``)."""
    key = value if key is None else key
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    q = np.einsum("btd,dnh->btnh", query, wq) + bq
    k = np.einsum("bsd,dnh->bsnh", key, wk) + bk
    v = np.einsum("bsd,dnh->bsnh", value, wv) + bv
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        keep = np.broadcast_to(mask[:, None], logits.shape)
        logits = np.where(keep, logits, -np.inf)
        empty = ~keep.any(-1, keepdims=True)
        logits = np.where(empty, 0.0, logits)
    weights = _softmax(logits)
    if mask is not None and fully_masked == "zero":
        weights = np.where(empty, 0.0, weights)
    heads = np.einsum("bnts,bsnh->btnh", weights, v)
    return np.einsum("btnh,nhd->btd", heads, wo) + bo, weights


def _randomize(layer, rng=R, scale=0.5):
    layer.set_weights([(rng.normal(size=w.shape) * scale).astype(w.dtype)
                       for w in layer.get_weights()])


# --- MultiHeadAttention: values -----------------------------------------------------------


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
@pytest.mark.parametrize("masking", ["none", "attention", "causal", "both"])
@pytest.mark.parametrize("with_key", [False, True], ids=["value-as-key", "key"])
def test_multi_head_attention_matches_numpy(scores, masking, with_key):
    query, value, key = data(2, 4, 6), data(2, 5, 3), data(2, 5, 7)
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=2)
    layer(query, value, key=key if with_key else None)
    _randomize(layer)
    mask = None
    kwargs = {}
    if masking in ("attention", "both"):
        kwargs["attention_mask"] = mask = R.random((2, 4, 5)) > 0.3
    if masking in ("causal", "both"):
        kwargs["use_causal_mask"] = True
        causal = np.tril(np.ones((4, 5), bool))[None]
        mask = causal if mask is None else mask & causal
    found = layer(query, value, key=key if with_key else None,
                  return_attention_scores=scores, **kwargs)
    expected, weights = _mha_numpy(layer, query, value, key if with_key else None, mask,
                                   "zero" if scores else "uniform")
    output = found[0] if scores else found
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-4, atol=1e-5)
    if scores:
        np.testing.assert_allclose(found[1].numpy(), weights, rtol=1e-4, atol=1e-6)


def test_fully_masked_queries_follow_keras_two_routes():
    """As Keras 3 on TensorFlow: asked for scores (or with dropout), a query that may
    attend nowhere gets zero weights; otherwise (the fused route) equal weights."""
    query, value = data(2, 3, 4), data(2, 5, 4)
    layer = layers.MultiHeadAttention(2, 3)
    layer(query, value)
    _randomize(layer)
    mask = np.ones((2, 3, 5), bool)
    mask[0, 1] = False
    fused = layer(query, value, attention_mask=mask).numpy()
    output, weights = (t.numpy() for t in layer(query, value, attention_mask=mask,
                                                return_attention_scores=True))
    np.testing.assert_array_equal(weights[0, :, 1], 0.0)
    np.testing.assert_allclose(weights[0, :, 0].sum(-1), 1.0, rtol=1e-6)
    bias = layer.get_weights()[-1]
    np.testing.assert_allclose(output[0, 1], bias, rtol=1e-6)  # no values reach it
    uniform = _mha_numpy(layer, query, value, mask=mask)[0]
    np.testing.assert_allclose(fused, uniform, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fused[1], output[1], rtol=1e-5, atol=1e-6)


def test_causal_mask_hides_the_future():
    x = data(2, 6, 4)
    layer = layers.MultiHeadAttention(2, 3)
    out, weights = (t.numpy() for t in layer(x, x, use_causal_mask=True,
                                             return_attention_scores=True))
    assert np.all(np.triu(np.ones((6, 6), bool), 1)[None, None] <= (weights == 0))
    changed = x.copy()
    changed[:, 4:] += 5.0
    again = layer(changed, changed, use_causal_mask=True).numpy()
    np.testing.assert_allclose(again[:, :4], out[:, :4], rtol=1e-5, atol=1e-6)
    assert not np.allclose(again[:, 4:], out[:, 4:])


def test_sliding_window_and_gate():
    x = data(2, 6, 4)
    layer = layers.MultiHeadAttention(2, 3, sliding_window=2, use_gate=True, name="mha")
    _, weights = layer(x, x, return_attention_scores=True)
    rows, columns = np.indices((6, 6))
    np.testing.assert_array_equal(weights.numpy()[:, :, np.abs(rows - columns) >= 2], 0.0)
    assert [w.path for w in layer.weights][4:6] == ["mha/gate/kernel", "mha/gate/bias"]


def test_attention_over_two_axes_equals_attention_over_their_flattening():
    x, y = data(2, 3, 4, 5), data(2, 3, 4, 5)
    two_axes = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    flat = layers.MultiHeadAttention(2, 3)
    two_axes(x, y)
    flat(x.reshape(2, 12, 5), y.reshape(2, 12, 5))
    _randomize(two_axes)
    flat.set_weights(two_axes.get_weights())
    out, scores = two_axes(x, y, return_attention_scores=True)
    flat_out, flat_scores = flat(x.reshape(2, 12, 5), y.reshape(2, 12, 5),
                                 return_attention_scores=True)
    assert scores.shape == (2, 2, 3, 4, 3, 4)
    np.testing.assert_allclose(out.numpy().reshape(2, 12, 5), flat_out.numpy(), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(scores.numpy().reshape(2, 2, 12, 12), flat_scores.numpy(),
                               rtol=1e-4, atol=1e-6)
    assert two_axes.get_config()["attention_axes"] == (1, 2)


def test_output_shape_value_dim_and_weights():
    layer = layers.MultiHeadAttention(4, 3, value_dim=5, output_shape=(2, 7), use_bias=False,
                                      name="mha")
    out = layer(data(2, 3, 6), data(2, 8, 9))
    assert out.shape == (2, 3, 2, 7)
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        ("mha/query/kernel", (6, 4, 3)),
        ("mha/key/kernel", (9, 4, 3)),
        ("mha/value/kernel", (9, 4, 5)),
        ("mha/attention_output/kernel", (4, 5, 2, 7))]
    assert layer.compute_output_shape((None, 3, 6), (None, 8, 9)) == (None, 3, 2, 7)
    assert layer.count_params() == 6 * 12 + 9 * 12 + 9 * 20 + 20 * 14


# --- masks --------------------------------------------------------------------------------


IDS = np.array([[3, 1, 0, 0], [4, 4, 4, 4], [0, 2, 3, 1]], np.int32)


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
def test_embedding_masks_reach_multi_head_attention(scores):
    embed = layers.Embedding(6, 4, mask_zero=True)
    attention = layers.MultiHeadAttention(2, 3)
    x = embed(IDS)
    found = attention(x, x, return_attention_scores=scores)
    plain = tf.identity(x)  # the same values, no mask attached
    keep = IDS != 0
    expected = attention(plain, plain, query_mask=keep, value_mask=keep,
                         return_attention_scores=scores)
    for a, b in zip(found if scores else [found], expected if scores else [expected]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    output = found[0] if scores else found
    np.testing.assert_array_equal(get_keras_mask(output).numpy(), keep)
    if scores:
        np.testing.assert_array_equal(found[1].numpy()[~keep[:, None, :, None]
                                                       .repeat(2, 1).repeat(4, 3)], 0.0)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_padding_does_not_change_the_other_positions(compiled):
    """Embedding(mask_zero=True) -> self-attention: the outputs at real tokens are those of
    the sequence without its padding."""
    tokens = keras.Input((None,), dtype="int32")
    x = layers.Embedding(10, 8, mask_zero=True)(tokens)
    x = layers.MultiHeadAttention(2, 4)(x, x)
    model = keras.Model(tokens, layers.Dense(3)(x))
    short = np.array([[5, 2, 7], [1, 1, 9]], np.int32)
    padded = np.concatenate([short, np.zeros((2, 2), np.int32)], axis=1)
    run = tf.function(model) if compiled else model
    np.testing.assert_allclose(run(padded).numpy()[:, :3], run(short).numpy(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name", ["Attention", "AdditiveAttention"])
def test_attention_reads_embedding_masks(name):
    embed = layers.Embedding(6, 4, mask_zero=True)
    layer = getattr(layers, name)()
    x = embed(IDS)
    out, weights = layer([x, x], return_attention_scores=True)
    keep = IDS != 0
    np.testing.assert_array_equal(weights.numpy()[:, :, ~keep[0]][0], 0.0)
    np.testing.assert_array_equal(out.numpy()[~keep], 0.0)
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), keep)


# --- Attention and AdditiveAttention: values --------------------------------------------


def _attention_numpy(scores, value, query_mask=None, value_mask=None, causal=False):
    if causal:
        tri = np.tril(np.ones(scores.shape[-2:], bool))[None]
        value_mask = tri if value_mask is None else value_mask[:, None] & tri
    elif value_mask is not None:
        value_mask = value_mask[:, None]
    if value_mask is not None:
        scores = np.where(value_mask, scores, scores - 1e9)
    weights = _softmax(scores)
    out = weights @ value
    if query_mask is not None:
        out = np.where(query_mask[..., None], out, 0.0)
    return out, weights


@pytest.mark.parametrize("kind", ["dot", "dot-scale", "concat", "concat-scale", "additive",
                                  "additive-no-scale"])
@pytest.mark.parametrize("masking", ["none", "masks", "causal"])
def test_attention_layers_match_numpy(kind, masking):
    q, v, k = data(2, 3, 4), data(2, 5, 4), data(2, 5, 4)
    if kind.startswith("additive"):
        layer = layers.AdditiveAttention(use_scale=kind == "additive")
    else:
        layer = layers.Attention(use_scale=kind.endswith("scale"), score_mode=kind.split("-")[0])
    layer([q, v, k])
    _randomize(layer)
    weights = {w.name: w.numpy() for w in layer.weights}
    if kind.startswith("dot"):
        scores = q @ k.transpose(0, 2, 1) * weights.get("scale", 1.0)
    elif kind.startswith("concat"):
        pairs = q[:, :, None] + k[:, None]
        scores = weights["concat_score_weight"] * np.tanh(
            weights.get("scale", 1.0) * pairs).sum(-1)
    else:
        scores = (weights.get("scale", 1.0) * np.tanh(q[:, :, None] + k[:, None])).sum(-1)
    kwargs, masks = {}, {}
    if masking == "masks":
        masks = dict(query_mask=R.random((2, 3)) > 0.3, value_mask=R.random((2, 5)) > 0.3)
        kwargs["mask"] = [masks["query_mask"], masks["value_mask"]]
    if masking == "causal":
        kwargs["use_causal_mask"] = masks["causal"] = True
    out, found = layer([q, v, k], return_attention_scores=True, **kwargs)
    expected, expected_weights = _attention_numpy(scores, v, **masks)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(found.numpy(), expected_weights, rtol=1e-4, atol=1e-6)


# --- dropout ------------------------------------------------------------------------------


def test_multi_head_attention_dropout_only_in_training():
    x = data(4, 6, 8)
    layer = layers.MultiHeadAttention(2, 4, dropout=0.5, seed=3)
    plain = layers.MultiHeadAttention(2, 4)
    layer(x, x)
    plain(x, x)
    plain.set_weights(layer.get_weights())
    inference = layer(x, x).numpy()
    np.testing.assert_allclose(inference, layer(x, x, training=False).numpy())
    # Without dropout in inference: the route with zeroed fully masked rows, same values.
    np.testing.assert_allclose(inference, plain(x, x).numpy(), rtol=1e-5, atol=1e-6)
    trained, scores = layer(x, x, training=True, return_attention_scores=True)
    assert not np.allclose(trained.numpy(), inference)
    # The scores returned are those before dropout, as Keras returns them.
    np.testing.assert_allclose(scores.numpy().sum(-1), 1.0, rtol=1e-5)


def test_attention_dropout_only_in_training():
    q, v = data(8, 10, 4), data(8, 12, 4)
    layer = layers.Attention(dropout=0.5, seed=1)
    out, weights = layer([q, v], return_attention_scores=True)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-5)
    _, dropped = layer([q, v], return_attention_scores=True, training=True)
    dropped = dropped.numpy()
    zero = dropped == 0
    assert 0.35 < zero.mean() < 0.65
    np.testing.assert_allclose(dropped[~zero], 2 * weights.numpy()[~zero], rtol=1e-5)


# --- gradients and compiled code --------------------------------------------------------


def _numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("make, call, shapes", [
    (lambda: layers.MultiHeadAttention(2, 2, dtype="float64"),
     lambda layer, q, v: layer(q, v, attention_mask=np.tril(np.ones((3, 4), bool))[None],
                               return_attention_scores=True), ((2, 3, 3), (2, 4, 3))),
    (lambda: layers.MultiHeadAttention(2, 2, dtype="float64", attention_axes=(1, 2)),
     lambda layer, q, v: layer(q, v), ((1, 2, 2, 3), (1, 3, 2, 3))),
    (lambda: layers.Attention(use_scale=True, score_mode="concat", dtype="float64"),
     lambda layer, q, v: layer([q, v], use_causal_mask=True, return_attention_scores=True),
     ((2, 3, 3), (2, 4, 3))),
    (lambda: layers.AdditiveAttention(dtype="float64"),
     lambda layer, q, v: layer([q, v], mask=[None, np.array([[1, 1, 0, 1]] * 2, bool)]),
     ((2, 3, 3), (2, 4, 3))),
], ids=["mha", "mha-two-axes", "attention-concat", "additive"])
def test_gradients_match_finite_differences(make, call, shapes):
    rng = np.random.default_rng(4)
    q, v = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    layer = make()
    call(layer, tf.constant(q), tf.constant(v))
    _randomize(layer, rng)

    def loss(q, v):
        out = call(layer, tf.constant(q), tf.constant(v))
        leaves = out if isinstance(out, tuple) else (out,)
        return sum(tf.reduce_sum(tf.sin(leaf * (k + 1))) for k, leaf in enumerate(leaves))

    qt, vt = tf.constant(q), tf.constant(v)
    with tf.GradientTape() as tape:
        tape.watch([qt, vt])
        value = loss(qt, vt)
    weight = layer.trainable_weights[0]
    grads = tape.gradient(value, [qt, vt, weight])
    np.testing.assert_allclose(grads[0].numpy(), _numeric_gradient(
        lambda a: float(loss(a, v)), q), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grads[1].numpy(), _numeric_gradient(
        lambda a: float(loss(q, a)), v), rtol=1e-5, atol=1e-7)
    original = weight.numpy()

    def with_weight(w):
        weight.assign(w)
        return float(loss(q, v))

    expected = _numeric_gradient(with_weight, original)
    weight.assign(original)
    np.testing.assert_allclose(grads[2].numpy(), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("make, call", [
    (lambda: layers.MultiHeadAttention(2, 3, dropout=0.2),
     lambda layer, q, v: layer(q, v, value_mask=np.array([[1, 1, 0, 1]] * 2, bool),
                               use_causal_mask=True, return_attention_scores=True)),
    (lambda: layers.MultiHeadAttention(2, 3),
     lambda layer, q, v: layer(q, v, attention_mask=np.tril(np.ones((3, 4), bool))[None])),
    (lambda: layers.AdditiveAttention(),
     lambda layer, q, v: layer([q, v], mask=[np.array([[1, 0, 1]] * 2, bool), None],
                               return_attention_scores=True)),
], ids=["mha-scores", "mha-fused", "additive"])
def test_compiled_matches_eager_with_gradients(make, call):
    layer = make()
    q, v = data(2, 3, 5), data(2, 4, 5)

    def step(q, v):
        with tf.GradientTape() as tape:
            tape.watch([q, v])
            out = call(layer, q, v)
            leaves = out if isinstance(out, tuple) else (out,)
            loss = sum(tf.reduce_sum(leaf * leaf) for leaf in leaves)
        return [*leaves, *tape.gradient(loss, [q, v, *layer.trainable_weights])]

    eager = step(tf.constant(q), tf.constant(v))
    compiled = tf.function(step)
    for _ in range(2):  # a second call with new values runs the same trace
        found = compiled(tf.constant(q), tf.constant(v))
        for a, b in zip(found, eager):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
        q, v = data(2, 3, 5), data(2, 4, 5)
        eager = step(tf.constant(q), tf.constant(v))


def test_sequence_lengths_unknown_while_tracing():
    layer = layers.MultiHeadAttention(2, 3)
    spec = tf.TensorSpec((None, None, 4))
    f = tf.function(lambda q, v: layer(q, v, use_causal_mask=True), input_signature=[spec] * 2)
    for t, s in ((3, 5), (6, 2)):
        q, v = data(2, t, 4), data(2, s, 4)
        np.testing.assert_allclose(f(q, v).numpy(), layer(q, v, use_causal_mask=True).numpy(),
                                   rtol=1e-5, atol=1e-6)


# --- EinsumDense --------------------------------------------------------------------------


@pytest.mark.parametrize("equation, output_shape, bias_axes, shape, kernel, bias", [
    ("ab,bc->ac", 4, "c", (3, 5), (5, 4), (4,)),
    ("abc,cd->abd", (None, 4), "d", (3, 2, 5), (5, 4), (4,)),
    ("...b,bc->...c", 4, "c", (3, 2, 6, 5), (5, 4), (4,)),
    ("abc,cde->abde", (None, 2, 3), "e", (3, 4, 5), (5, 2, 3), (3,)),
    ("abcd,cde->abe", (None, 6), "e", (3, 4, 2, 3), (2, 3, 6), (6,)),
    ("ab...,bc->ac...", 4, "c", (3, 5, 6), (5, 4), (4, 1)),
    ("abc,bcd->ad", 4, None, (3, 2, 5), (2, 5, 4), None),
])
def test_einsum_dense_matches_numpy(equation, output_shape, bias_axes, shape, kernel, bias):
    layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="relu")
    x = data(*shape)
    out = layer(x).numpy()
    assert [tuple(w.shape) for w in layer.weights] == [kernel] + ([bias] if bias else [])
    _randomize(layer)
    weights = layer.get_weights()
    expected = np.einsum(equation, x, weights[0]) + (weights[1] if bias else 0)
    np.testing.assert_allclose(layer(x).numpy(), np.maximum(expected, 0), rtol=1e-5,
                               atol=1e-6)
    # As Keras: the sizes output_shape leaves None stay None.
    assert all(found in (None, size) for found, size in
               zip(layer.compute_output_shape(shape), out.shape, strict=True))


def test_einsum_dense_kernels_use_the_equation_fans():
    """Glorot limit sqrt(6 / (fan_in + fan_out)) with fan_in = 64, fan_out = 8 * 16."""
    layer = layers.EinsumDense("abc,cde->abde", (None, 8, 16))
    layer.build((None, 5, 64))
    limit = np.sqrt(6 / (64 + 128))
    spread = np.abs(layer.kernel.numpy()).max()
    assert 0.97 * limit < spread <= limit


# --- configs ------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=5,
                                      attention_axes=1, kernel_regularizer="l2", seed=7),
    lambda: layers.MultiHeadAttention(1, 2, use_gate=True, sliding_window=3,
                                      use_bias=False),
    lambda: layers.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=4),
    lambda: layers.AdditiveAttention(use_scale=False, dropout=0.1),
    lambda: layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d",
                               activation="relu", bias_regularizer="l1"),
], ids=["mha", "mha-gate", "attention", "additive", "einsum-dense"])
def test_config_round_trip_rebuilds_the_same_layer(make):
    layer = make()
    config = layer.get_config()
    rebuilt = type(layer).from_config(config)
    assert rebuilt.get_config() == config
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == config


def test_multi_head_attention_config_reports_resolved_axes():
    layer = layers.MultiHeadAttention(2, 3)
    config = layer.get_config()
    assert config["attention_axes"] is None and config["value_dim"] == 3
    assert {"use_gate", "sliding_window", "seed", "kernel_constraint"} <= set(config)
    layer(data(1, 2, 4), data(1, 3, 4))
    assert layer.get_config()["attention_axes"] == (1,)


def test_regularizers_and_freezing_reach_the_projections():
    layer = layers.MultiHeadAttention(2, 3, kernel_regularizer="l2",
                                      activity_regularizer="l1")
    x = data(2, 3, 4)
    layer(x, x)
    assert len(layer.losses) == 4 + 4  # a kernel penalty and an activity penalty each
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 8
    keep = layers.MultiHeadAttention(2, 3)
    keep(x, x)
    keep.set_weights(layer.get_weights())
    np.testing.assert_allclose(keep(x, x).numpy(), layer(x, x).numpy())


def test_model_with_attention_saves_and_loads(tmp_path):
    pytest.importorskip("h5py")
    inputs = keras.Input((5, 8))
    x = layers.MultiHeadAttention(2, 4, use_gate=True)(inputs, inputs, use_causal_mask=True)
    x = layers.AdditiveAttention()([x, inputs])
    outputs = layers.EinsumDense("abc,cd->abd", (None, 3), bias_axes="d")(x)
    model = keras.Model(inputs, outputs)
    sample = data(2, 5, 8)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(sample, verbose=0),
                               model.predict(sample, verbose=0), rtol=1e-6)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("make, error, fragment", [
    (lambda: layers.MultiHeadAttention(0, 3), ValueError, "num_heads"),
    (lambda: layers.MultiHeadAttention(2, 2.5), ValueError, "key_dim"),
    (lambda: layers.MultiHeadAttention(2, 3, value_dim=-1), ValueError, "value_dim"),
    (lambda: layers.MultiHeadAttention(2, 3, flash_attention=True), ValueError,
     "flash_attention=None or False"),
    (lambda: layers.MultiHeadAttention(2, 3, attention_axes="1"), ValueError,
     "attention_axes"),
    (lambda: layers.MultiHeadAttention(2, 3, dropout=1.5), ValueError, "dropout"),
    (lambda: layers.MultiHeadAttention(2, 3, sliding_window=0), ValueError, "sliding_window"),
    (lambda: layers.MultiHeadAttention(2, 3, kernel_constraint="non_neg"),
     NotImplementedError, "kernel_constraint"),
    (lambda: layers.MultiHeadAttention(2, 3, attention_axes=2)(data(2, 3, 4), data(2, 3, 4)),
     ValueError, "attention_axes must name"),
    (lambda: layers.MultiHeadAttention(2, 3)(data(2, 3, 4), data(2, 5, 4), key=data(2, 6, 4)),
     ValueError, "value` and `key`"),
    (lambda: layers.MultiHeadAttention(2, 3)(data(2, 4), data(2, 4)), ValueError,
     "rank >= 3"),
    (lambda: layers.MultiHeadAttention(2, 3)(data(2, 3, 4), data(2, 5, 4),
                                             attention_mask=np.ones((2, 4, 5), bool)),
     ValueError, "broadcastable"),
    (lambda: layers.Attention()(data(2, 3, 4)), ValueError, "list of inputs"),
    (lambda: layers.Attention()((data(2, 3, 4), data(2, 3, 4))), ValueError,
     "list of inputs"),
    (lambda: layers.Attention()([data(2, 3, 4)]), ValueError, "length 2 or 3"),
    (lambda: layers.Attention()([data(2, 3, 4)] * 2, mask=np.ones((2, 3), bool)),
     ValueError, "mask must be a list"),
    (lambda: layers.Attention(score_mode="add"), ValueError, "score_mode"),
    (lambda: layers.EinsumDense("ab,bc", 4), ValueError, "Invalid einsum equation"),
    (lambda: layers.EinsumDense("ab,bc->ac", 4, bias_axes="d")(data(2, 3)), ValueError,
     "Bias dimension 'd'"),
    (lambda: layers.EinsumDense("ab,bc->ac", 4, kernel_constraint="non_neg"),
     NotImplementedError, "kernel_constraint"),
])
def test_bad_arguments_raise_clear_errors(make, error, fragment):
    with pytest.raises(error) as info:
        make()
    assert fragment in str(info.value)


# --- training -----------------------------------------------------------------------------


def _encoder_model(length, vocab, width=32):
    """Token and position embeddings, one Transformer encoder block, a classifier."""
    tokens = keras.Input((length,), dtype="int32")
    positions = keras.Input((length,), dtype="int32")
    x = layers.Add()([layers.Embedding(vocab, width)(tokens),
                      layers.Embedding(length, width)(positions)])
    attended = layers.MultiHeadAttention(num_heads=4, key_dim=8)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, attended]))
    hidden = layers.Dense(width)(layers.Dense(64, activation="relu")(x))
    x = layers.LayerNormalization()(layers.Add()([x, hidden]))
    return keras.Model([tokens, positions], layers.Dense(vocab)(x))


def _reverse_task(count, length=6, vocab=10, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, vocab, size=(count, length)).astype(np.int32)
    positions = np.tile(np.arange(length, dtype=np.int32), (count, 1))
    return [tokens, positions], tokens[:, ::-1].copy()


def test_transformer_encoder_block_learns_to_reverse_a_sequence():
    tf.random.set_seed(0)
    inputs, target = _reverse_task(2048)
    model = _encoder_model(6, 10)
    model.compile(keras.optimizers.Adam(3e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(inputs, target, batch_size=64, epochs=7, verbose=0).history
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    test_inputs, test_target = _reverse_task(256, seed=1)
    predicted = model.predict(test_inputs, verbose=0).argmax(-1)
    assert (predicted == test_target).mean() > 0.95


def test_custom_training_loop_learns_alike_eager_and_compiled():
    def losses(compiled):
        tf.random.set_seed(2)
        inputs, target = _reverse_task(256)
        model = _encoder_model(6, 10, width=16)
        optimizer = keras.optimizers.Adam(1e-2)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        def step(tokens, positions, target):
            with tf.GradientTape() as tape:
                loss = loss_fn(target, model([tokens, positions], training=True))
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss

        run = tf.function(step) if compiled else step
        return [float(run(inputs[0], inputs[1], target)) for _ in range(12)]

    eager, compiled = losses(False), losses(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-4)
    assert eager[-1] < 0.85 * eager[0]
