"""Transposed, depthwise and separable convolutions against Keras 3 and TensorFlow."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

LAYERS = [
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 5, 5, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2), (2, 5, 4, 3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, output_padding=1),
     (1, 4, 4, 2)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=4, strides=3, padding="same",
                             output_padding=2), (1, 4, 3, 2)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 6, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), (1, 3, 3, 3, 2)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, padding="same"), (2, 6, 6, 3)),
    ("DepthwiseConv2D", dict(kernel_size=3, strides=2, activation="relu"), (2, 7, 7, 2)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, depth_multiplier=2), (2, 6, 6, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, padding="same", strides=2),
     (1, 7, 7, 2)),
]


def _run(lib, layer, x, weights):
    x = lib.constant(x)
    if weights is not None:
        layer.build(tuple(x.shape))
        layer.set_weights(weights)
    with lib.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = lib.reduce_sum(y * lib.sin(y))
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return [np.asarray(y), *(np.asarray(g) for g in grads)]


@pytest.mark.parametrize("name, kwargs, shape", LAYERS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_layer_matches_keras(name, kwargs, shape):
    x = np.random.default_rng(len(shape) + len(kwargs)).normal(size=shape).astype(np.float32)
    theirs_layer = getattr(K.layers, name)(**kwargs, bias_initializer="random_normal")
    theirs = _run(T, theirs_layer, x, None)
    ours_layer = getattr(N.keras.layers, name)(**kwargs)
    ours = _run(N, ours_layer, x, [np.asarray(w) for w in theirs_layer.get_weights()])
    assert [w.path.split("/")[-1] for w in ours_layer.weights] == [
        w.path.split("/")[-1] for w in theirs_layer.weights]
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert ours_layer.compute_output_shape((None, *shape[1:])) == tuple(
        theirs_layer.compute_output_shape((None, *shape[1:])))
    ours_config = {k: v for k, v in ours_layer.get_config().items() if k not in ("name",
                                                                                  "dtype")}
    theirs_config = {k: v for k, v in theirs_layer.get_config().items()
                     if k not in ("name", "dtype")}
    assert set(ours_config) == set(theirs_config)
    for key, value in theirs_config.items():
        if isinstance(value, (str, int, float, bool, tuple, type(None))):
            assert ours_config[key] == value, key


@pytest.mark.parametrize("fn, shapes", [
    (lambda nn, x, w: nn.conv2d_transpose(x, w, [2, 10, 10, 4], 2, "SAME"),
     [(2, 5, 5, 3), (3, 3, 4, 3)]),
    (lambda nn, x, w: nn.conv2d_transpose(x, w, [2, 11, 11, 4], 2, "VALID"),
     [(2, 5, 5, 3), (3, 3, 4, 3)]),
    (lambda nn, x, w: nn.conv1d_transpose(x, w, [2, 12, 4], 2, "SAME"), [(2, 6, 3), (3, 4, 3)]),
    (lambda nn, x, w: nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME"),
     [(2, 5, 5, 3), (3, 3, 3, 2)]),
    (lambda nn, x, w, p: nn.separable_conv2d(x, w, p, [1, 1, 1, 1], "VALID"),
     [(2, 5, 5, 3), (3, 3, 3, 2), (1, 1, 6, 4)]),
])
def test_ops_and_their_gradients_match_tensorflow(fn, shapes):
    r = np.random.default_rng(len(shapes))
    arrays = [r.normal(size=s).astype(np.float32) for s in shapes]
    results = []
    for lib in (T, N):
        tensors = [lib.constant(a) for a in arrays]
        with lib.GradientTape() as tape:
            tape.watch(tensors)
            y = fn(lib.nn, *tensors)
            loss = lib.reduce_sum(y * lib.sin(y))
        results.append([np.asarray(y), *(np.asarray(g) for g in tape.gradient(loss, tensors))])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
