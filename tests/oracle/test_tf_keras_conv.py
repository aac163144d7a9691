"""Keras's convolution and pooling layers (TensorFlow 2.21) as the oracle for neuroflow's.

The same weights and inputs must give the same outputs and the same gradients (of a loss
over the outputs, with respect to the inputs and every weight).
"""

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
    ("Conv1D", dict(filters=4, kernel_size=3), (2, 9, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 3)),
    ("Conv1D", dict(filters=4, kernel_size=2, strides=2, padding="same"), (2, 9, 3)),
    ("Conv2D", dict(filters=6, kernel_size=3, activation="relu"), (2, 8, 7, 3)),
    ("Conv2D", dict(filters=6, kernel_size=(3, 2), strides=(2, 1), padding="same"),
     (2, 7, 6, 3)),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"), (1, 9, 9, 2)),
    ("Conv2D", dict(filters=6, kernel_size=2, groups=3), (2, 6, 6, 6)),
    ("Conv3D", dict(filters=2, kernel_size=2, padding="same"), (1, 4, 5, 3, 2)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 9, 3)),
    ("MaxPooling2D", dict(), (2, 8, 7, 3)),
    ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 7, 3)),
    ("AveragePooling1D", dict(pool_size=2, padding="same"), (2, 9, 3)),
    ("AveragePooling2D", dict(pool_size=(2, 3), padding="same"), (2, 7, 8, 3)),
    ("MaxPooling3D", dict(pool_size=2), (1, 4, 4, 4, 2)),
    ("AveragePooling3D", dict(pool_size=2, padding="same"), (1, 3, 5, 4, 2)),
    ("GlobalAveragePooling1D", dict(), (2, 5, 3)),
    ("GlobalAveragePooling2D", dict(keepdims=True), (2, 5, 4, 3)),
    ("GlobalMaxPooling2D", dict(), (2, 5, 4, 3)),
    ("GlobalMaxPooling3D", dict(), (1, 3, 4, 2, 3)),
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
def test_layer_outputs_and_gradients_match_keras(name, kwargs, shape):
    x = np.random.default_rng(len(shape)).normal(size=shape).astype(np.float32)
    theirs_layer = getattr(K.layers, name)(**kwargs)
    theirs = _run(T, theirs_layer, x, None)
    ours_layer = getattr(N.keras.layers, name)(**kwargs)
    weights = [np.asarray(w) for w in theirs_layer.get_weights()]
    ours = _run(N, ours_layer, x, weights or None)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert ours_layer.compute_output_shape((None, *shape[1:])) == tuple(
        theirs_layer.compute_output_shape((None, *shape[1:])))
    ours_config = {k: v for k, v in ours_layer.get_config().items() if k not in ("name", "dtype")}
    theirs_config = {k: v for k, v in theirs_layer.get_config().items()
                     if k not in ("name", "dtype")}
    assert set(ours_config) == set(theirs_config)
    for key in ours_config:
        if isinstance(theirs_config[key], (str, int, float, bool, tuple, type(None))):
            assert ours_config[key] == theirs_config[key], key
