"""Functional models against Keras 3: configs travel both ways, predictions and summaries match.

A model defined the same way in both gets the same weights (copied from Keras); its
predictions, its summary text and its config must then agree, and each side's config must
rebuild the model on the other side.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stdout

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow


def _define(keras):
    layers = keras.layers
    image = keras.Input((12, 12, 1), name="image")
    extra = keras.Input((3,), name="extra")
    h = layers.Conv2D(4, 3, activation="relu", name="conv")(image)
    h = layers.MaxPooling2D(name="pool")(h)
    h = layers.Conv2D(6, 3, padding="same", name="conv_2")(h)
    h = layers.GlobalAveragePooling2D(name="gap")(h)
    shared = layers.Dense(6, activation="tanh", name="shared")
    joined = layers.Concatenate(name="joined")([shared(h), shared(layers.Dense(6, name="lift")(
        extra))])
    joined = layers.Add(name="plus")([joined, layers.Dense(12, name="skip")(joined)])
    out = layers.Dense(3, activation="softmax", name="out")(joined)
    aux = layers.Dense(1, name="aux")(layers.Multiply(name="times")([h, h]))
    return keras.Model([image, extra], [out, aux], name="two_heads")


def _inputs():
    r = np.random.default_rng(0)
    return [r.normal(size=(5, 12, 12, 1)).astype(np.float32),
            r.normal(size=(5, 3)).astype(np.float32)]


def _summary(model) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        model.summary()
    return buffer.getvalue()


def test_same_graph_same_weights_same_predictions_and_summary():
    theirs = _define(K)
    ours = _define(N.keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    ours.set_weights(theirs.get_weights())
    xs = _inputs()
    for p, q in zip(ours(xs), theirs(xs)):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-5, atol=1e-6)
    assert _summary(ours) == _summary(theirs)


def test_a_keras_config_rebuilds_in_neuroflow():
    theirs = _define(K)
    config = json.loads(json.dumps(theirs.get_config()))
    ours = N.keras.Model.from_config(config)
    ours.set_weights(theirs.get_weights())
    xs = _inputs()
    for p, q in zip(ours(xs), theirs(xs)):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-5, atol=1e-6)


def test_a_neuroflow_config_rebuilds_in_keras():
    ours = _define(N.keras)
    config = json.loads(json.dumps(ours.get_config()))
    theirs = K.Model.from_config(config)
    theirs.set_weights(ours.get_weights())
    xs = _inputs()
    for p, q in zip(ours(xs), theirs(xs)):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-5, atol=1e-6)


def test_multi_output_training_logs_and_updates_as_keras_does():
    theirs, ours = _define(K), _define(N.keras)
    ours.set_weights(theirs.get_weights())
    r = np.random.default_rng(1)
    xs = [r.normal(size=(16, 12, 12, 1)).astype(np.float32),
          r.normal(size=(16, 3)).astype(np.float32)]
    ys = [r.integers(0, 3, 16), r.normal(size=(16, 1)).astype(np.float32)]
    histories = []
    for keras, model in ((K, theirs), (N.keras, ours)):
        model.compile(keras.optimizers.SGD(0.1), loss=["sparse_categorical_crossentropy", "mse"],
                      loss_weights=[1.0, 0.25], metrics=[["accuracy"], ["mae"]])
        histories.append(model.fit(xs, ys, batch_size=8, epochs=2, shuffle=False,
                                   verbose=0).history)
    assert set(histories[0]) == set(histories[1])
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=2e-4, err_msg=key)
    for p, q in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-5)


def test_sequential_configs_travel_both_ways():
    def define(keras):
        return keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3),
                                 keras.layers.Flatten(), keras.layers.Dense(2)], name="seq")

    x = np.random.default_rng(2).normal(size=(2, 6, 6, 2)).astype(np.float32)
    for source, target in ((K, N.keras), (N.keras, K)):
        made = define(source)
        rebuilt = target.Sequential.from_config(json.loads(json.dumps(made.get_config())))
        rebuilt.set_weights(made.get_weights())
        np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(made(x)), rtol=1e-5,
                                   atol=1e-6)
