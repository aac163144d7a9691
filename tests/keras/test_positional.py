"""neuroflow.keras_hub.layers: position embeddings and encodings, token and position
embeddings, Transformer encoder and decoder blocks. Values against NumPy references
(and KerasHub's own layers where it is installed), training, configs."""

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras_hub

hub_layers = keras_hub.layers
RNG = np.random.default_rng(3)


def _layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _attention(x, memory, w, mask):
    """Multi-head attention in NumPy: ``w`` holds the Keras EinsumDense weights."""
    q = np.einsum("btd,dnh->btnh", x, w["query/kernel"]) + w["query/bias"]
    k = np.einsum("bsd,dnh->bsnh", memory, w["key/kernel"]) + w["key/bias"]
    v = np.einsum("bsd,dnh->bsnh", memory, w["value/kernel"]) + w["value/bias"]
    scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None].astype(bool), scores, -1e9)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
    out = np.einsum("bnts,bsnh->btnh", scores, v)
    return np.einsum("btnh,nhd->btd", out, w["attention_output/kernel"]) + \
        w["attention_output/bias"]


def _weights(layer) -> dict:
    """``{"self_attention_layer/query/kernel": array, ...}`` (path without the layer)."""
    return {w.path.split("/", 1)[1]: w.numpy().astype(np.float64) for w in layer.weights}


def _encoder_reference(layer, x, mask=None):
    w = _weights(layer)

    def sub(prefix):
        return {k[len(prefix) + 1:]: v for k, v in w.items() if k.startswith(prefix + "/")}

    att, ln1, ln2 = sub("self_attention_layer"), sub("self_attention_layer_norm"), \
        sub("feedforward_layer_norm")
    inner, outer = sub("feedforward_intermediate_dense"), sub("feedforward_output_dense")

    def norm(v, p):
        return _layer_norm(v, p["gamma"], p["beta"])

    def ff(v):
        return np.maximum(v @ inner["kernel"] + inner["bias"], 0) @ outer["kernel"] + \
            outer["bias"]

    pad = None if mask is None else mask[:, None, :]
    if layer.normalize_first:
        h = x + _attention(norm(x, ln1), norm(x, ln1), att, pad)
        return h + ff(norm(h, ln2))
    h = norm(x + _attention(x, x, att, pad), ln1)
    return norm(h + ff(h), ln2)


def _randomize(layer, scale=0.3):
    for w in layer.weights:
        w.assign(RNG.standard_normal(tuple(w.shape)).astype(np.float32) * scale)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_matches_a_numpy_transformer_block(normalize_first):
    layer = hub_layers.TransformerEncoder(intermediate_dim=12, num_heads=2,
                                          normalize_first=normalize_first)
    x = RNG.standard_normal((3, 5, 8)).astype(np.float32)
    layer(x)
    _randomize(layer)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    for m in (None, mask):
        np.testing.assert_allclose(layer(x, padding_mask=m).numpy(),
                                   _encoder_reference(layer, x.astype(np.float64), m),
                                   rtol=1e-4, atol=1e-5)
    assert layer.weights[0].path == f"{layer.name}/self_attention_layer/query/kernel"


def test_sine_position_encoding_matches_the_formula():
    x = np.zeros((2, 7, 6), np.float32)
    ours = hub_layers.SinePositionEncoding(max_wavelength=100)(x, start_index=2).numpy()
    positions = np.arange(2, 9)[:, None]
    rates = 100.0 ** (-(2 * (np.arange(6) // 2)) / 6)
    angles = positions * rates
    expected = np.where(np.arange(6) % 2 == 0, np.sin(angles), np.cos(angles))
    np.testing.assert_allclose(ours, np.broadcast_to(expected, x.shape), rtol=1e-5,
                               atol=1e-6)


def test_position_embeddings_slice_their_table_and_run_compiled():
    layer = hub_layers.PositionEmbedding(sequence_length=10)
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    out = layer(x).numpy()
    table = layer.position_embeddings.numpy()
    np.testing.assert_allclose(out, np.broadcast_to(table[:4], x.shape))
    np.testing.assert_allclose(layer(x, start_index=5).numpy(),
                               np.broadcast_to(table[5:9], x.shape))
    np.testing.assert_allclose(layer(x, positions=np.array([0, 0, 9, 1])).numpy(),
                               np.broadcast_to(table[[0, 0, 9, 1]], x.shape))
    fn = tf.function(lambda v: layer(v), input_signature=[tf.TensorSpec((None, None, 3))])
    np.testing.assert_allclose(fn(x[:, :3]).numpy(), np.broadcast_to(table[:3], (2, 3, 3)))
    with pytest.raises(ValueError, match="sequence_length"):
        layer(np.zeros((1, 11, 3), np.float32))


def test_token_and_position_embedding_adds_both_and_keeps_the_mask():
    layer = hub_layers.TokenAndPositionEmbedding(vocabulary_size=20, sequence_length=6,
                                                 embedding_dim=4, mask_zero=True)
    ids = np.array([[3, 4, 0, 0], [5, 1, 2, 0]])
    out = layer(ids)
    tokens = layer.token_embedding.embeddings.numpy()
    positions = layer.position_embedding.position_embeddings.numpy()
    np.testing.assert_allclose(out.numpy(), tokens[ids] + positions[:4], rtol=1e-6)
    from neuroflow.keras.layers.base import get_keras_mask

    np.testing.assert_array_equal(get_keras_mask(out).numpy(), ids != 0)
    assert [w.path for w in layer.weights] == [
        f"{layer.name}/token_embedding/embeddings", f"{layer.name}/position_embedding/embeddings"]
    logits = layer.token_embedding(out, reverse=True)
    np.testing.assert_allclose(logits.numpy(), out.numpy() @ tokens.T, rtol=1e-5, atol=1e-6)


def test_decoder_masks_the_future_and_attends_to_the_encoder():
    decoder = hub_layers.TransformerDecoder(intermediate_dim=8, num_heads=2)
    x = RNG.standard_normal((2, 5, 4)).astype(np.float32)
    memory = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    out = decoder(x, memory).numpy()
    changed = x.copy()
    changed[:, 3:] += 1.0  # a later step must not change earlier outputs
    again = decoder(changed, memory).numpy()
    np.testing.assert_allclose(again[:, :3], out[:, :3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(again[:, 3:], out[:, 3:])
    assert not np.allclose(decoder(x, memory + 1.0).numpy(), out)
    with pytest.raises(ValueError, match="encoder_sequence"):
        decoder(x)
    with pytest.raises(NotImplementedError, match="cache"):
        decoder(x, memory, self_attention_cache=np.zeros((2, 2, 5, 2, 2), np.float32))


def test_config_round_trip():
    for layer, x in [
        (hub_layers.TransformerEncoder(16, 2, dropout=0.1, activation="gelu",
                                       normalize_first=True), np.ones((1, 3, 8), "float32")),
        (hub_layers.TransformerDecoder(16, 2), np.ones((1, 3, 8), "float32")),
        (hub_layers.PositionEmbedding(5), np.ones((1, 3, 8), "float32")),
        (hub_layers.SinePositionEncoding(500), np.ones((1, 3, 8), "float32")),
        (hub_layers.TokenAndPositionEmbedding(9, 5, 4, tie_weights=False), np.ones((1, 3))),
    ]:
        layer(x)
        config = layer.get_config()
        again = type(layer).from_config(config)
        rebuilt = again.get_config()
        assert {k: v for k, v in config.items() if k != "name"} == \
            {k: v for k, v in rebuilt.items() if k != "name"}
        again(x)
        assert [tuple(w.shape) for w in again.weights] == [tuple(w.shape) for w in layer.weights]


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="sequence_length"):
        hub_layers.PositionEmbedding(None)
    with pytest.raises(ValueError, match="vocabulary_size"):
        hub_layers.TokenAndPositionEmbedding(None, 4, 4)
    with pytest.raises(ValueError, match="num_heads"):
        hub_layers.TransformerEncoder(8, 0)
    with pytest.raises(ValueError, match="cannot be zero"):
        hub_layers.TransformerEncoder(8, 4)(np.ones((1, 2, 3), "float32"))


def test_a_small_transformer_learns_a_sequence_task(tmp_path):
    # The label is whether the first token is in the upper half of the vocabulary: the
    # model must find position 0 (position embedding) and carry it to the pooled output.
    rng = np.random.default_rng(0)
    x = rng.integers(1, 12, (256, 8))
    y = (x[:, 0] >= 6).astype(np.int32)
    inputs = tf.keras.Input((8,), dtype="int32")
    h = hub_layers.TokenAndPositionEmbedding(12, 8, 16)(inputs)
    h = hub_layers.TransformerEncoder(intermediate_dim=32, num_heads=2)(h)
    h = tf.keras.layers.GlobalAveragePooling1D()(h)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(h))
    model.compile(tf.keras.optimizers.Adam(3e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = model.fit(x, y, epochs=12, batch_size=32, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    model.save(tmp_path / "model.keras")
    loaded = tf.keras.models.load_model(tmp_path / "model.keras", custom_objects={
        "TokenAndPositionEmbedding": hub_layers.TokenAndPositionEmbedding,
        "TransformerEncoder": hub_layers.TransformerEncoder})
    np.testing.assert_allclose(loaded.predict(x[:8], verbose=0),
                               model.predict(x[:8], verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.tensorflow
@pytest.mark.parametrize("name, arguments, shapes", [
    ("TransformerEncoder", {"intermediate_dim": 16, "num_heads": 2}, [(2, 5, 8)]),
    ("TransformerEncoder", {"intermediate_dim": 16, "num_heads": 2, "normalize_first": True,
                            "activation": "gelu"}, [(2, 5, 8)]),
    ("TransformerDecoder", {"intermediate_dim": 16, "num_heads": 2}, [(2, 5, 8), (2, 3, 8)]),
    ("TransformerDecoder", {"intermediate_dim": 8, "num_heads": 4}, [(2, 4, 8)]),
    ("PositionEmbedding", {"sequence_length": 7}, [(2, 5, 8)]),
    ("SinePositionEncoding", {"max_wavelength": 1000}, [(2, 5, 8)]),
])
def test_forward_matches_keras_hub(name, arguments, shapes):
    pytest.importorskip("tensorflow")
    theirs_module = pytest.importorskip("keras_hub")
    inputs = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    ours = getattr(hub_layers, name)(**arguments)
    theirs = getattr(theirs_module.layers, name)(**arguments)
    ours(*inputs)
    theirs(*inputs)
    mine = {w.path.split("/", 1)[1]: w for w in ours.weights}
    assert [w.path.split("/", 1)[1] for w in theirs.weights] == list(mine)
    for w in theirs.weights:
        value = RNG.standard_normal(tuple(w.shape)).astype(np.float32) * 0.3
        w.assign(value)
        mine[w.path.split("/", 1)[1]].assign(value)
    np.testing.assert_allclose(ours(*inputs).numpy(), np.asarray(theirs(*inputs)),
                               rtol=1e-4, atol=1e-5)
    config, expected = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(expected)
    for key in ("intermediate_dim", "num_heads", "normalize_first", "layer_norm_epsilon",
                "sequence_length", "max_wavelength", "decoder_sequence_shape"):
        assert config.get(key) == expected.get(key), key
