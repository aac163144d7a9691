"""The training API takes integer data as Keras 3 does, and rejects bad arguments clearly."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import Sequential, layers, losses
from neuroflow.keras.data_adapter import _ChunkGatherer

RNG = np.random.default_rng(7)
PIXELS = RNG.integers(0, 256, (100, 2, 3), dtype=np.uint8)  # over three batches of 32
CLASSES = RNG.integers(0, 3, 100)


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()


def small_model(run_eagerly: bool = False, **compile_kwargs) -> Sequential:
    keras.utils.set_random_seed(1)
    model = Sequential([layers.Input(shape=(2, 3)), layers.Flatten(),
                        layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax")])
    settings = {"optimizer": "sgd", "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"], **compile_kwargs}
    model.compile(run_eagerly=run_eagerly, **settings)
    return model


def error_of(fn) -> str:
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


# --- integer and boolean data ---------------------------------------------------------------

def as_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    return (x % 2).astype(dtype) if dtype == "bool" else x.astype(dtype)


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "bool"])
@pytest.mark.parametrize("size", [20, 100])
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_integer_inputs_train_as_their_float32_values(dtype, size, run_eagerly, monkeypatch):
    # Keras 3 converts a Sequential model's inputs to its Input's dtype (float32), so
    # uint8 pixels train exactly as the same values given as float32.
    monkeypatch.setattr(_ChunkGatherer, "CHUNK_BYTES", 32)  # 100 rows: the background gatherer
    x = as_dtype(PIXELS[:size], dtype)
    y = CLASSES[:size]
    ints, floats = small_model(run_eagerly), small_model(run_eagerly)
    for model, data in ((ints, x), (floats, x.astype("float32"))):
        keras.utils.set_random_seed(2)  # the same shuffles
        model.fit(data, y, epochs=2, shuffle=True, verbose=0)
    for a, b in zip(ints.get_weights(), floats.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ints.evaluate(x, y, verbose=0),
                               floats.evaluate(x.astype("float32"), y, verbose=0), rtol=1e-6)
    predicted = ints.predict(x, verbose=0)
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, floats.predict(x.astype("float32"), verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(ints.predict_on_batch(x), predicted, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["uint8", "int64", "bool"])
def test_integer_inputs_in_single_batch_methods(dtype):
    x = as_dtype(PIXELS[:10], dtype)
    ints, floats = small_model(), small_model()
    for method in ("train_on_batch", "test_on_batch"):
        np.testing.assert_allclose(getattr(ints, method)(x, CLASSES[:10]),
                                   getattr(floats, method)(x.astype("float32"), CLASSES[:10]),
                                   rtol=1e-6)
    assert ints(tf.constant(x)).dtype == tf.float32


def test_inputs_take_the_dtype_of_the_input_layer():
    # As Keras 3: an int32 Input truncates float data; code traced for one input dtype
    # is not reused for another of the same shape.
    model = Sequential([layers.Input(shape=(3,), dtype="int32"),
                        layers.Dense(2, kernel_initializer="ones")])
    for x in (np.array([[1, 2, 3]], "int32"), np.array([[1.5, 2.5, 3.5]])):
        np.testing.assert_array_equal(model.predict(x, verbose=0), [[6, 6]])


def test_integer_dataset_batches():
    x, y = PIXELS, CLASSES
    ints, floats = small_model(), small_model()
    ints.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(32), verbose=0)
    floats.fit(tf.data.Dataset.from_tensor_slices((x.astype("float32"), y)).batch(32),
               verbose=0)
    for a, b in zip(ints.get_weights(), floats.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    batches = tf.data.Dataset.from_tensor_slices(x).batch(32)
    np.testing.assert_allclose(ints.predict(batches, verbose=0),
                               floats.predict(x.astype("float32"), verbose=0), rtol=1e-6)


def test_layers_called_on_integer_tensors_compute_in_float32():
    # Keras's matmul promotes int inputs to the kernel's dtype; Rescaling casts first.
    dense = layers.Dense(2, kernel_initializer="ones")
    out = dense(tf.constant(np.array([[1, 2, 3]], dtype=np.int32)))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[6.0, 6.0]])
    scaled = layers.Rescaling(1 / 255)(tf.constant(np.array([[0, 255]], dtype=np.uint8)))
    assert scaled.dtype == tf.float32
    np.testing.assert_allclose(scaled.numpy(), [[0.0, 1.0]])


def test_integer_and_boolean_labels():
    x = PIXELS.astype("float32") / 255
    regression = Sequential([layers.Input(shape=(2, 3)), layers.Flatten(), layers.Dense(1)])
    regression.compile(optimizer="sgd", loss="mse")
    history = regression.fit(x, CLASSES.astype("int64"), verbose=0).history
    assert np.isfinite(history["loss"][0])
    binary = Sequential([layers.Input(shape=(2, 3)), layers.Flatten(),
                         layers.Dense(1, activation="sigmoid")])
    binary.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    loss, accuracy = binary.evaluate(x, CLASSES == 1, verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    onehot = small_model(loss="categorical_crossentropy")
    assert np.isfinite(onehot.fit(x, np.eye(3, dtype="int64")[CLASSES],
                                  verbose=0).history["loss"][0])


# --- Sequential without layers --------------------------------------------------------------

@pytest.mark.parametrize("stack", [[], [layers.Input(shape=(4,))]], ids=["empty", "only-input"])
def test_sequential_without_layers(stack):
    model = Sequential(stack)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 4), "float32"), np.ones((8, 4), "float32")
    for use, what in ((lambda: model.fit(x, y, verbose=0), "fit"),
                      (lambda: model.evaluate(x, y, verbose=0), "evaluate"),
                      (lambda: model.predict(x, verbose=0), "predict"),
                      (lambda: model.train_on_batch(x, y), "train_on_batch")):
        message = error_of(use)
        assert "cannot be built because it has no layers" in message  # Keras's words
        assert f"`model.add(layer)` before `{what}()`" in message
    assert "no layers" in error_of(lambda: model(x))
    assert "no layers" in error_of(lambda: model.build((None, 4)))


def test_summary_of_a_sequential_without_layers_is_empty(capsys):
    Sequential().summary()  # Keras 3 prints an empty table here
    assert "Total params: 0" in capsys.readouterr().out


# --- fit's counts ---------------------------------------------------------------------------

X = RNG.random((40, 2, 3))
Y = RNG.integers(0, 3, 40)


@pytest.mark.parametrize("steps", [0, -1, 2.5, "2", True])
def test_steps_per_epoch_must_be_positive(steps):
    model = small_model()
    before = model.get_weights()
    message = error_of(lambda: model.fit(X, Y, steps_per_epoch=steps, verbose=0))
    assert f"received steps_per_epoch={steps!r}" in message and "positive integer" in message
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # checked before any step


def test_other_step_counts_must_be_positive():
    model = small_model()
    assert "validation_steps=0" in error_of(
        lambda: model.fit(X, Y, validation_data=(X, Y), validation_steps=0, verbose=0))
    assert "steps=-2" in error_of(lambda: model.evaluate(X, Y, steps=-2, verbose=0))
    assert "steps=0" in error_of(lambda: model.predict(X, steps=0, verbose=0))


@pytest.mark.parametrize("epochs", [-1, 1.5, None])
def test_epochs_must_be_a_non_negative_integer(epochs):
    message = error_of(lambda: small_model().fit(X, Y, epochs=epochs, verbose=0))
    assert f"received epochs={epochs!r}" in message and "non-negative integer" in message


def test_zero_epochs_train_nothing():
    assert small_model().fit(X, Y, epochs=0, verbose=0).history == {}  # as Keras 3


@pytest.mark.parametrize("freq", [0, -1])
def test_validation_freq_must_be_at_least_one(freq):
    message = error_of(lambda: small_model().fit(X, Y, epochs=2, validation_data=(X, Y),
                                                 validation_freq=freq, verbose=0))
    assert f"received validation_freq={freq}" in message and "validation_freq=1" in message


@pytest.mark.parametrize("freq", [1.5, "1"])
def test_validation_freq_must_be_an_int_or_list(freq):
    message = error_of(lambda: small_model().fit(X, Y, epochs=2, validation_data=(X, Y),
                                                 validation_freq=freq, verbose=0))
    assert "Expected `validation_freq` to be a list or int" in message  # Keras's words


def test_validation_freq_as_a_list_of_epochs():
    history = small_model().fit(X, Y, epochs=4, validation_data=(X, Y), validation_freq=[1, 3],
                                verbose=0).history
    assert len(history["loss"]) == 4 and len(history["val_loss"]) == 2


# --- compile without an optimizer -----------------------------------------------------------

def test_fit_without_an_optimizer():
    model = small_model(optimizer=None)
    for use in (lambda: model.fit(X, Y, verbose=0), lambda: model.train_on_batch(X, Y)):
        message = error_of(use)
        assert "optimizer=None" in message and "optimizer='adam'" in message
    assert np.isfinite(model.evaluate(X, Y, verbose=0)).all()  # still fine without training


# --- ragged lists ---------------------------------------------------------------------------

def test_ragged_lists_name_the_rows():
    model = Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rows = [[1, 2, 3], [4, 5, 6], [7, 8]]
    for use, what in ((lambda: model.fit(rows, [0, 1, 0], verbose=0), "fit"),
                      (lambda: model.evaluate(rows, [0, 1, 0], verbose=0), "evaluate"),
                      (lambda: model.predict(rows, verbose=0), "predict")):
        message = error_of(use)
        assert f"`{what}` received x as a Python list" in message
        assert "row 0 has 3 values, row 2 has 2 values" in message and "Pad" in message
    message = error_of(lambda: model.fit(rows[:2], [[0], [1, 0]], verbose=0))
    assert "received y" in message and "row 0 has 1 value, row 1 has 2 values" in message
    # Rectangular lists still work, integers included.
    assert np.isfinite(model.fit(rows[:2], [0, 1], verbose=0).history["loss"][0])


# --- one-hot labels with a sparse loss ------------------------------------------------------

def test_one_hot_labels_with_a_sparse_loss_fail_before_training():
    onehot = np.eye(3, dtype="float32")[Y]
    for loss in ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy(),
                 losses.sparse_categorical_crossentropy):
        model = small_model(loss=loss)
        before = model.get_weights()
        for method in (model.fit, model.evaluate):
            message = error_of(functools.partial(method, X, onehot, verbose=0))
            assert "Argument `output` must have rank (ndim) `target.ndim - 1`" in message
            assert "target.shape=(40, 3), output.shape=(None, 3)" in message
            assert "loss='categorical_crossentropy'" in message and "argmax" in message
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_one_hot_labels_from_a_dataset_or_to_the_loss_function():
    onehot = np.eye(3, dtype="float32")[Y]
    batches = tf.data.Dataset.from_tensor_slices((X, onehot)).batch(8)
    message = error_of(lambda: small_model().fit(batches, verbose=0))
    assert "Argument `output` must have rank (ndim) `target.ndim - 1`" in message
    assert "one-hot" in message and "loss='categorical_crossentropy'" in message
    message = error_of(lambda: losses.sparse_categorical_crossentropy(onehot, onehot))
    assert "target.shape=(40, 3), output.shape=(40, 3)" in message and "one-hot" in message
