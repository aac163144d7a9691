"""Masks travel as in Keras 3: per-position layers pass them on, merges combine them, and a
layer whose call takes ``mask`` receives the one attached to its input."""

from __future__ import annotations

import os

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import layers
from neuroflow.keras.layers.base import get_keras_mask

IDS = np.array([[3, 5, 0, 0], [1, 0, 2, 0]])
KEPT = IDS != 0


def _embedded():
    return layers.Embedding(10, 6, mask_zero=True)(IDS)


@pytest.mark.parametrize("make", [lambda: layers.Dense(5), lambda: layers.Dropout(0.5),
                                  lambda: layers.LayerNormalization(),
                                  lambda: layers.Activation("relu"), lambda: layers.ReLU()])
def test_per_position_layers_pass_the_mask_on(make):
    out = make()(_embedded())
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), KEPT)


def test_merges_combine_masks():
    a = _embedded()
    b = layers.Embedding(10, 6, mask_zero=True)(np.where(IDS == 5, 0, IDS))
    both = KEPT & (IDS != 5)
    np.testing.assert_array_equal(get_keras_mask(layers.Add()([a, b])).numpy(), both)
    np.testing.assert_array_equal(get_keras_mask(layers.Concatenate()([a, b])).numpy(), KEPT)
    assert get_keras_mask(layers.Concatenate(axis=1)([a, b])) is None
    assert get_keras_mask(layers.Dot(axes=-1)([a, b])) is None


def test_pooling_reads_the_attached_mask():
    x = _embedded()
    kept = x.numpy() * KEPT[..., None]
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x).numpy(),
                               kept.sum(1) / KEPT.sum(1, keepdims=True), rtol=1e-6)
    # Keras 3's GlobalMaxPooling1D takes every step, masked or not.
    np.testing.assert_allclose(layers.GlobalMaxPooling1D()(x).numpy(), x.numpy().max(1))


def test_layers_that_change_positions_drop_the_mask():
    assert get_keras_mask(layers.Flatten()(_embedded())) is None


@pytest.mark.tensorflow
def test_a_masked_text_model_matches_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    real = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")

    def build(k):
        ids = k.Input((4,), dtype="int32")
        h = k.layers.Dense(5, activation="relu")(k.layers.Embedding(10, 6, mask_zero=True)(ids))
        h = k.layers.Add()([h, k.layers.LayerNormalization()(k.layers.Dropout(0.1)(h))])
        return k.Model(ids, k.layers.GlobalAveragePooling1D()(h))

    theirs, ours = build(real), build(tf.keras)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(IDS).numpy(), theirs(IDS).numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.predict(IDS, verbose=0), theirs.predict(IDS, verbose=0),
                               atol=1e-6)
