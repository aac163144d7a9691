"""Mistakes with data and names get errors that say what, where, and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras import Sequential, layers

RNG = np.random.default_rng(4)
IMAGES = RNG.random((20, 28, 28))
LABELS = RNG.integers(0, 10, 20)


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()


def lab_model(flatten: bool = True) -> Sequential:
    stack = [layers.InputLayer(shape=(28, 28))]
    stack += [layers.Flatten()] if flatten else []
    stack += [layers.Dense(100, activation="relu"), layers.Dense(10, activation="softmax")]
    model = Sequential(stack)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    return model


def error_of(fn) -> str:
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


def test_flattened_images_into_a_28x28_model():
    model = lab_model()
    for use in (lambda: model.fit(IMAGES.reshape(20, 784), LABELS, verbose=0),
                lambda: model.evaluate(IMAGES.reshape(20, 784), LABELS, verbose=0),
                lambda: model.predict(IMAGES.reshape(20, 784), verbose=0),
                lambda: model(IMAGES.reshape(20, 784))):
        message = error_of(use)
        assert "expected shape=(None, 28, 28)" in message
        assert "Each sample has shape (784,)" in message
        assert "x.reshape(-1, 28, 28)" in message  # the fix, since the sizes match


def test_images_of_another_size():
    message = error_of(lambda: lab_model().fit(RNG.random((5, 32, 32)), LABELS[:5], verbose=0))
    assert "expected shape=(None, 28, 28)" in message and "(32, 32)" in message
    assert "Input to shape=(32, 32)" in message


def test_single_image_without_batch_axis():
    message = error_of(lambda: lab_model().predict(IMAGES[0], verbose=0))
    assert "without the batch axis" in message


def test_dense_fed_images_names_the_layer_and_suggests_flatten():
    model = Sequential([layers.Input((784,)), layers.Dense(10, name="classifier")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    message = error_of(lambda: model.fit(IMAGES, LABELS, verbose=0))
    assert "expected shape=(None, 784)" in message and "Each sample has shape (28, 28)" in message
    assert "x.reshape(-1, 784)" in message
    assert "Input(shape=(28, 28)) followed by a Flatten layer" in message
    # the Dense layer itself, called directly
    message = str(pytest.raises(ValueError, model.layers[0], IMAGES[:2].astype("float32")).value)
    assert "'classifier'" in message and "last dimension 784" in message
    assert "each sample has shape (28, 28)" in message and "Flatten" in message


def test_missing_flatten_is_caught_before_training():
    model = lab_model(flatten=False)  # Dense applied to (None, 28, 28): output (None, 28, 10)
    message = error_of(lambda: model.fit(IMAGES, LABELS, verbose=0))
    assert "output has shape (None, 28, 10)" in message and "labels y have shape (20,)" in message
    assert "Layer 'dense'" in message and "Add a Flatten layer before 'dense'" in message
    # a model whose 3-D output is meant (one label per time step) is left alone
    seq = Sequential([layers.Input((5, 3)), layers.Dense(4, activation="softmax")])
    seq.compile("sgd", "sparse_categorical_crossentropy")
    seq.fit(RNG.random((6, 5, 3)), RNG.integers(0, 4, (6, 5)), verbose=0)


@pytest.mark.parametrize("bad, index", [(10, 3), (-1, 7)])
def test_labels_outside_the_output_layer(bad, index):
    labels = LABELS.copy()
    labels[index] = bad
    message = error_of(lambda: lab_model().fit(IMAGES, labels, verbose=0))
    assert f"label value of {bad} (at y[{index}])" in message
    assert "valid range of [0, 10)" in message and "output layer 'dense_1'" in message
    assert "10 units" in message
    message = error_of(lambda: lab_model().evaluate(IMAGES, labels, verbose=0))
    assert "[0, 10)" in message


def test_x_and_y_of_different_lengths():
    message = error_of(lambda: lab_model().fit(IMAGES, LABELS[:15], verbose=0))
    assert "Data cardinality is ambiguous" in message
    assert "'x' sizes: 20" in message and "'y' sizes: 15" in message


def test_empty_data():
    message = error_of(lambda: lab_model().fit(IMAGES[:0], LABELS[:0], verbose=0))
    assert "non-empty" in message and "0 samples" in message
    assert "non-empty" in error_of(lambda: lab_model().predict(IMAGES[:0], verbose=0))


def test_nan_in_inputs_or_labels():
    images = IMAGES.copy()
    images[4, 3, 2] = np.nan
    images[9, 0, 0] = np.inf
    message = error_of(lambda: lab_model().fit(images, LABELS, verbose=0))
    assert "NaN or infinite" in message and "2 samples, first at index 4" in message
    assert "np.nan_to_num" in message
    targets = RNG.random((20, 2))
    targets[1, 0] = np.nan
    model = Sequential([layers.Input((28, 28)), layers.Flatten(), layers.Dense(2)])
    model.compile("sgd", "mse")
    assert "labels" in error_of(lambda: model.fit(IMAGES, targets, verbose=0))


def test_missing_labels_and_uncompiled_model():
    assert "no labels y" in error_of(lambda: lab_model().fit(IMAGES, verbose=0))
    model = Sequential([layers.Input((28, 28)), layers.Flatten(), layers.Dense(10)])
    assert "call `compile()`" in error_of(lambda: model.fit(IMAGES, LABELS, verbose=0))
    assert "call `compile()`" in error_of(lambda: model.evaluate(IMAGES, LABELS, verbose=0))


@pytest.mark.parametrize("kwargs, kind, suggestion", [
    ({"optimizer": "sgdd", "loss": "mse"}, "optimizer", "'sgd'"),
    ({"optimizer": "sgd", "loss": "sparse_categorical_crossentropyy"}, "loss",
     "'sparse_categorical_crossentropy'"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": ["acuracy"]}, "metric", "'accuracy'"),
])
def test_unknown_names_list_the_closest_valid_ones(kwargs, kind, suggestion):
    message = error_of(lambda: lab_model().compile(**kwargs))
    assert f"Unknown {kind}" in message and f"Did you mean {suggestion}" in message


def test_unknown_activation_and_bad_arguments():
    assert "Did you mean 'relu'" in error_of(lambda: layers.Dense(3, activation="rleu"))
    assert "units" in error_of(lambda: layers.Dense(0))
    assert "batch_size" in error_of(lambda: lab_model().fit(IMAGES, LABELS, batch_size=0))
    assert "validation_data" in error_of(
        lambda: lab_model().fit(IMAGES, LABELS, validation_data=IMAGES, verbose=0))
