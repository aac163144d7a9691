"""Keras 3 (with TensorFlow 2.21) as the oracle for MultiHeadAttention, Attention,
AdditiveAttention and EinsumDense.

Each case builds the Keras layer and neuroflow's with the same arguments, gives ours
Keras's weights, and compares outputs, attention scores and the gradients of a loss
over them (with respect to the float inputs and every trainable weight); configs are
compared key by key.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402
from neuroflow.keras.layers.embedding import get_keras_mask, set_keras_mask  # noqa: E402

pytestmark = pytest.mark.tensorflow

# Rows with a masked start, a hole and a masked end; one row fully kept.
QUERY_MASK = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 1]], bool)
VALUE_MASK = np.array([[1, 1, 0, 1, 1, 0], [1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]], bool)
# (B, T, S) with one fully masked query row (batch 0, row 2).
ATTENTION_MASK = np.ones((3, 5, 6), bool)
ATTENTION_MASK[0, 2, :] = False
ATTENTION_MASK[1, :, 4:] = False
ATTENTION_MASK[2, 1, ::2] = False


def _keras_set_mask(tensor, mask):
    from keras.src import backend

    backend.set_keras_mask(tensor, T.constant(mask))


def _keras_get_mask(tensor):
    from keras.src import backend

    return backend.get_keras_mask(tensor)


def _leaves(value) -> list:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _run(lib, layer, inputs, call, compiled=False, masks=None):
    """Every output leaf, then the gradients of a loss over them with respect to the
    float inputs and the trainable weights. ``masks``: Keras masks to attach to the
    inputs (by position) before the call."""
    tensors = [lib.constant(a) for a in inputs]

    def body(tensors):
        with lib.GradientTape() as tape:
            tape.watch([t for t in tensors if t.dtype.is_floating])
            if masks:
                attach = _keras_set_mask if lib is T else set_keras_mask
                for i, mask in masks.items():
                    attach(tensors[i], mask if lib is T else N.constant(mask))
            leaves = _leaves(call(layer, tensors))
            loss = sum(lib.reduce_sum(leaf * lib.sin(leaf + 0.5 * k))
                       for k, leaf in enumerate(leaves))
        floats = [t for t in tensors if t.dtype.is_floating]
        grads = tape.gradient(loss, [*floats, *layer.trainable_weights])
        return leaves + [None if g is None else lib.convert_to_tensor(g) for g in grads]

    found = lib.function(body)(tensors) if compiled else body(tensors)
    return [None if value is None else np.asarray(value) for value in found]


def _close(ours, theirs, tol=2e-5):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b is None:
            assert a is None or not np.any(a), f"result {i}: Keras has no gradient"
            continue
        assert a is not None, f"result {i}: no gradient where Keras has one"
        assert a.shape == b.shape, f"result {i}: shape {a.shape}, Keras {b.shape}"
        np.testing.assert_allclose(a, b, rtol=10 * tol, atol=tol, err_msg=f"result {i}")


def _configs_match(ours, theirs) -> None:
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) == set(theirs_config)
    for key, value in theirs_config.items():
        if key in ("name", "dtype"):
            continue
        if isinstance(value, dict):  # serialized objects: the same class
            assert ours_config[key]["class_name"] == value["class_name"], key
        else:
            assert ours_config[key] == value, key


def _give_keras_weights(theirs, ours, rng):
    assert [w.path for w in ours.weights] == [
        w.path.replace(theirs.name, ours.name, 1) for w in theirs.weights]
    weights = [(rng.normal(size=tuple(w.shape)) * 0.5).astype(np.float32)
               for w in theirs.weights]
    theirs.set_weights(weights)
    ours.set_weights(weights)


# --- MultiHeadAttention ------------------------------------------------------------------

Q_SHAPE, V_SHAPE, K_SHAPE = (3, 5, 4), (3, 6, 7), (3, 6, 3)


def _mha_call(with_key=False, **kwargs):
    def call(layer, t):
        given = dict(kwargs)
        for name in ("attention_mask", "value_mask", "key_mask", "query_mask"):
            if name in given:
                given[name] = (T if isinstance(layer, K.layers.Layer) else N).constant(
                    given[name])
        if with_key:
            return layer(t[0], t[1], key=t[2], **given)
        return layer(t[0], t[1], **given)
    return call


MHA_CASES = [
    ("plain", {}, {}),
    ("scores", {}, dict(return_attention_scores=True)),
    ("value_dim-no-bias", dict(value_dim=2, use_bias=False), dict(return_attention_scores=True)),
    ("output_shape-int", dict(output_shape=6), {}),
    ("output_shape-tuple", dict(output_shape=(2, 3)), dict(return_attention_scores=True)),
    ("causal", {}, dict(use_causal_mask=True)),
    ("causal-scores", {}, dict(use_causal_mask=True, return_attention_scores=True)),
    ("attention-mask", {}, dict(attention_mask=ATTENTION_MASK)),
    ("attention-mask-scores", {}, dict(attention_mask=ATTENTION_MASK,
                                       return_attention_scores=True)),
    ("attention-mask-causal", {}, dict(attention_mask=ATTENTION_MASK, use_causal_mask=True)),
    ("value-mask", {}, dict(value_mask=VALUE_MASK)),
    ("value-mask-causal-scores", {}, dict(value_mask=VALUE_MASK, use_causal_mask=True,
                                          return_attention_scores=True)),
    ("dropout-inference", dict(dropout=0.3), dict(attention_mask=ATTENTION_MASK)),
    ("gate", dict(use_gate=True), dict(return_attention_scores=True)),
    ("sliding-window", dict(sliding_window=2), {}),
    ("sliding-window-causal-scores", dict(sliding_window=2),
     dict(use_causal_mask=True, return_attention_scores=True)),
    ("one-head-axis-neg", dict(num_heads=1, attention_axes=-2), {}),
]


@pytest.mark.parametrize("with_key", [False, True], ids=["value-as-key", "key"])
@pytest.mark.parametrize("label, init, call", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multi_head_attention_matches_keras(label, init, call, with_key):
    rng = np.random.default_rng(len(label))
    arguments = {"num_heads": 2, "key_dim": 3, **init}
    theirs = K.layers.MultiHeadAttention(**arguments)
    ours = N.keras.layers.MultiHeadAttention(**arguments)
    shapes = (Q_SHAPE, V_SHAPE, K_SHAPE) if with_key else (Q_SHAPE, V_SHAPE)
    theirs.build(*shapes)
    ours.build(*shapes)
    _give_keras_weights(theirs, ours, rng)
    inputs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    function = _mha_call(with_key, **call)
    expected = _run(T, theirs, inputs, function)
    _close(_run(N, ours, inputs, function), expected)
    _configs_match(ours, theirs)
    assert ours.compute_output_shape(*shapes) == tuple(theirs.compute_output_shape(*shapes))


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
def test_multi_head_attention_compiled_matches_keras(scores):
    rng = np.random.default_rng(11)
    theirs, ours = K.layers.MultiHeadAttention(3, 2), N.keras.layers.MultiHeadAttention(3, 2)
    theirs.build(Q_SHAPE, V_SHAPE)
    ours.build(Q_SHAPE, V_SHAPE)
    _give_keras_weights(theirs, ours, rng)
    inputs = [rng.normal(size=s).astype(np.float32) for s in (Q_SHAPE, V_SHAPE)]
    function = _mha_call(attention_mask=ATTENTION_MASK, use_causal_mask=True,
                         return_attention_scores=scores)
    _close(_run(N, ours, inputs, function, compiled=True), _run(T, theirs, inputs, function))


@pytest.mark.parametrize("axes", [(1, 2), 2, (2,), (-3,)], ids=str)
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_multi_axis_attention_matches_keras(axes, masked):
    rng = np.random.default_rng(3)
    shape = (2, 3, 4, 5)
    theirs = K.layers.MultiHeadAttention(2, 3, attention_axes=axes)
    ours = N.keras.layers.MultiHeadAttention(2, 3, attention_axes=axes)
    theirs.build(shape, shape)
    ours.build(shape, shape)
    _give_keras_weights(theirs, ours, rng)
    x, y = (rng.normal(size=shape).astype(np.float32) for _ in range(2))
    kwargs = {}
    if masked:  # broadcast over the batch and the heads: scores' attended axes only
        attended = {(1, 2): (1, 2), 2: (2,), (2,): (2,), (-3,): (1,)}[axes]
        sizes = [shape[a] for a in attended]
        kwargs["attention_mask"] = rng.random(size=sizes * 2) > 0.3
    function = _mha_call(return_attention_scores=True, **kwargs)
    _close(_run(N, ours, [x, y], function), _run(T, theirs, [x, y], function))
    _configs_match(ours, theirs)
    _close(_run(N, ours, [x, y], function, compiled=True), _run(T, theirs, [x, y], function))


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_masks_from_embedding_match_keras(scores, causal):
    """Embedding(mask_zero=True) -> self-attention: padded queries and keys are masked
    from the attached mask, and the output carries the query's mask, as in Keras."""
    rng = np.random.default_rng(5)
    ids = np.array([[3, 1, 0, 0, 2], [4, 4, 4, 4, 4], [0, 2, 3, 0, 1]], np.int32)

    def make(lib):
        return (lib.layers.Embedding(6, 4, mask_zero=True),
                lib.layers.MultiHeadAttention(2, 3))

    (t_embed, theirs), (n_embed, ours) = make(K), make(N.keras)
    for embed in (t_embed, n_embed):
        embed.build((None, 5))
    table = rng.normal(size=(6, 4)).astype(np.float32)
    t_embed.set_weights([table])
    n_embed.set_weights([table])
    theirs.build((3, 5, 4), (3, 5, 4))
    ours.build((3, 5, 4), (3, 5, 4))
    _give_keras_weights(theirs, ours, rng)

    class Stack:
        def __init__(self, embed, attention):
            self.embed, self.attention = embed, attention
            self.trainable_weights = embed.trainable_weights + attention.trainable_weights

    masks = {}

    def call(stack, t):
        x = stack.embed(t[0])
        out = stack.attention(x, x, return_attention_scores=scores, use_causal_mask=causal)
        first = out[0] if scores else out
        get = _keras_get_mask if isinstance(stack.embed, K.layers.Layer) else get_keras_mask
        masks[isinstance(stack.embed, K.layers.Layer)] = np.asarray(get(first))
        return out

    expected = _run(T, Stack(t_embed, theirs), [ids], call)
    _close(_run(N, Stack(n_embed, ours), [ids], call), expected)
    np.testing.assert_array_equal(masks[False], masks[True])
    np.testing.assert_array_equal(masks[True], ids != 0)


@pytest.mark.parametrize("scores", [False, True], ids=["fused", "scores"])
def test_explicit_masks_match_keras_attached_masks(scores):
    """Our explicit query_mask/key_mask equal Keras's attached masks."""
    rng = np.random.default_rng(8)
    theirs, ours = K.layers.MultiHeadAttention(2, 3), N.keras.layers.MultiHeadAttention(2, 3)
    shapes = (Q_SHAPE, V_SHAPE, K_SHAPE)
    theirs.build(*shapes)
    ours.build(*shapes)
    _give_keras_weights(theirs, ours, rng)
    inputs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    key_mask = VALUE_MASK[::-1].copy()
    expected = _run(T, theirs, inputs, _mha_call(True, return_attention_scores=scores),
                    masks={0: QUERY_MASK, 2: key_mask})
    found = _run(N, ours, inputs, _mha_call(True, return_attention_scores=scores,
                                            query_mask=QUERY_MASK, key_mask=key_mask))
    _close(found, expected)
    attached = _run(N, ours, inputs, _mha_call(True, return_attention_scores=scores),
                    masks={0: QUERY_MASK, 2: key_mask})
    _close(attached, expected)


def test_default_kernels_have_keras_spread():
    """Keras draws projection kernels with the einsum's fans (fan_in = features,
    fan_out = heads * key_dim), not the convolution rule: the same uniform limit."""
    def spread(lib):
        layer = lib.layers.MultiHeadAttention(8, 16)
        layer.build((None, 10, 64), (None, 10, 64))
        return [float(np.abs(np.asarray(w)).max()) for w in layer.get_weights()[::2]]

    ours, theirs = spread(N.keras), spread(K)
    np.testing.assert_allclose(ours, theirs, rtol=0.02)


def test_keras_config_rebuilds_our_layer():
    theirs = K.layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=(5,),
                                         attention_axes=(1,), use_bias=False, seed=3)
    ours = N.keras.layers.MultiHeadAttention.from_config(
        {k: v for k, v in theirs.get_config().items()
         if k not in ("dtype", "kernel_initializer", "bias_initializer")})
    _configs_match(ours, theirs)


# --- Attention and AdditiveAttention ----------------------------------------------------

ATTENTION_CASES = [
    ("Attention", {}),
    ("Attention", dict(use_scale=True)),
    ("Attention", dict(score_mode="concat")),
    ("Attention", dict(score_mode="concat", use_scale=True, dropout=0.2)),
    ("AdditiveAttention", {}),
    ("AdditiveAttention", dict(use_scale=False)),
]
ATTENTION_CALLS = [
    ("plain", {}),
    ("scores", dict(return_attention_scores=True)),
    ("masks", dict(mask=[QUERY_MASK, VALUE_MASK], return_attention_scores=True)),
    ("value-mask", dict(mask=[None, VALUE_MASK])),
    ("causal", dict(use_causal_mask=True, return_attention_scores=True)),
    ("causal-masks", dict(use_causal_mask=True, mask=[QUERY_MASK, VALUE_MASK])),
]


@pytest.mark.parametrize("with_key", [False, True], ids=["value-as-key", "key"])
@pytest.mark.parametrize("label, call", ATTENTION_CALLS, ids=[c[0] for c in ATTENTION_CALLS])
@pytest.mark.parametrize("name, init", ATTENTION_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(ATTENTION_CASES)])
def test_attention_matches_keras(name, init, label, call, with_key):
    rng = np.random.default_rng(len(label) + len(init))
    theirs, ours = getattr(K.layers, name)(**init), getattr(N.keras.layers, name)(**init)
    shapes = [(3, 5, 4), (3, 6, 4)] + ([(3, 6, 4)] if with_key else [])
    theirs.build(shapes)
    ours.build(shapes)
    if theirs.weights:
        _give_keras_weights(theirs, ours, rng)
    inputs = [rng.normal(size=s).astype(np.float32) for s in shapes]

    def function(layer, t):
        lib = T if isinstance(layer, K.layers.Layer) else N
        kwargs = dict(call)
        if "mask" in kwargs:
            kwargs["mask"] = [None if m is None else lib.constant(m) for m in kwargs["mask"]]
        return layer(list(t), **kwargs)

    expected = _run(T, theirs, inputs, function)
    _close(_run(N, ours, inputs, function), expected)
    _close(_run(N, ours, inputs, function, compiled=True), expected)
    _configs_match(ours, theirs)
    assert ours.compute_output_shape(shapes) == tuple(theirs.compute_output_shape(shapes))


@pytest.mark.parametrize("name", ["Attention", "AdditiveAttention"])
def test_attention_reads_attached_masks_like_keras(name):
    rng = np.random.default_rng(2)
    theirs, ours = getattr(K.layers, name)(), getattr(N.keras.layers, name)()
    shapes = [(3, 5, 4), (3, 6, 4)]
    theirs.build(shapes)
    ours.build(shapes)
    if theirs.weights:
        _give_keras_weights(theirs, ours, rng)
    inputs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    found_masks = {}

    def function(layer, t):
        out = layer(list(t))
        get = _keras_get_mask if isinstance(layer, K.layers.Layer) else get_keras_mask
        found_masks[isinstance(layer, K.layers.Layer)] = np.asarray(get(out))
        return out

    masks = {0: QUERY_MASK, 1: VALUE_MASK}
    _close(_run(N, ours, inputs, function, masks=masks),
           _run(T, theirs, inputs, function, masks=masks))
    np.testing.assert_array_equal(found_masks[False], found_masks[True])


# --- EinsumDense -------------------------------------------------------------------------

EINSUM_CASES = [
    ("ab,bc->ac", 4, "c", (3, 5)),
    ("abc,cd->abd", (None, 4), "d", (3, 2, 5)),
    ("abc,cd->abd", (2, 4), None, (3, 2, 5)),
    ("...b,bc->...c", 4, "c", (3, 2, 6, 5)),
    ("abc,cde->abde", (None, 2, 3), "de", (3, 4, 5)),
    ("abc,cde->abde", (None, 2, 3), "e", (3, 4, 5)),
    ("abcd,cde->abe", (None, 6), "e", (3, 4, 2, 3)),
    ("ab...,bc->ac...", (4, 6), "c", (3, 5, 6)),
    ("abc,bcd->ad", 4, "d", (3, 2, 5)),
    ("abc,cb->ab", (2,), None, (3, 2, 5)),
]


@pytest.mark.parametrize("equation, output_shape, bias_axes, shape", EINSUM_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in EINSUM_CASES])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_einsum_dense_matches_keras(equation, output_shape, bias_axes, shape, compiled):
    rng = np.random.default_rng(len(equation))
    kwargs = dict(equation=equation, output_shape=output_shape, bias_axes=bias_axes,
                  activation="tanh")
    theirs, ours = K.layers.EinsumDense(**kwargs), N.keras.layers.EinsumDense(**kwargs)
    theirs.build(shape)
    ours.build(shape)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    _give_keras_weights(theirs, ours, rng)
    x = rng.normal(size=shape).astype(np.float32)

    def call(layer, t):
        return layer(t[0])

    _close(_run(N, ours, [x], call, compiled), _run(T, theirs, [x], call))
    _configs_match(ours, theirs)
    unknown = (None, *shape[1:])
    expected = tuple(theirs.compute_output_shape(unknown))
    if equation.startswith("...") and len(shape) > 3:
        # Keras 3.15 lists the axes '...' covers in reverse order here (its call gives
        # them in order); ours gives the shape its call returns.
        expected = (None, *shape[1:-1], expected[-1])
        assert tuple(ours(x).shape) == (shape[0], *expected[1:])
    assert ours.compute_output_shape(unknown) == expected


@pytest.mark.parametrize("equation, output_shape, bias_axes", [
    ("ab,bc", 4, None), ("ab,bc->ad", 4, None), ("ab,cd->ad", 4, None),
    ("ab,bc->ac", 4, "d"), ("abc,cd->abd", (3, 4), None),
])
def test_einsum_dense_errors_like_keras(equation, output_shape, bias_axes):
    for lib in (K, N.keras):
        with pytest.raises(ValueError):
            layer = lib.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes)
            layer.build((2, 5, 6) if equation.startswith("abc") else (2, 5))


# --- .keras files ------------------------------------------------------------------------


def _attention_model(lib):
    inputs = lib.Input((5, 8))
    x = lib.layers.MultiHeadAttention(2, 4, use_gate=True)(inputs, inputs,
                                                           use_causal_mask=True)
    x = lib.layers.AdditiveAttention()([x, inputs])
    x = lib.layers.Attention(use_scale=True)([x, inputs])
    outputs = lib.layers.EinsumDense("abc,cd->abd", (None, 3), bias_axes="d")(x)
    return lib.Model(inputs, outputs)


@pytest.mark.parametrize("saver", ["keras", "neuroflow"])
def test_keras_files_load_both_ways(tmp_path, saver):
    pytest.importorskip("h5py")
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 5, 8)).astype(np.float32)
    path = str(tmp_path / "model.keras")
    if saver == "keras":
        model = _attention_model(K)
        model.save(path)
        loaded = N.keras.models.load_model(path)
    else:
        model = _attention_model(N.keras)
        model.save(path)
        loaded = K.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-6)
