"""The import paths of ``tensorflow.keras`` work with ``neuroflow`` swapped in."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import neuroflow as tf


@pytest.mark.parametrize("module, names", [
    ("neuroflow.keras", ["Sequential", "Model", "Input", "layers", "models", "losses", "metrics",
                         "optimizers", "callbacks", "datasets", "initializers", "regularizers",
                         "activations", "backend", "utils"]),
    ("neuroflow.keras.layers", ["Activation", "Dense", "Dropout", "Flatten", "Input",
                                "InputLayer", "Layer", "ReLU", "Rescaling", "Reshape",
                                "Softmax"]),
    ("neuroflow.keras.models", ["Model", "Sequential"]),
    ("neuroflow.keras.callbacks", ["Callback", "CallbackList", "CSVLogger", "EarlyStopping",
                                   "History", "LambdaCallback", "ModelCheckpoint",
                                   "ProgbarLogger", "TerminateOnNaN"]),
    ("neuroflow.keras.optimizers", ["SGD", "Adam", "RMSprop", "Adagrad"]),
    ("neuroflow.keras.utils", ["Progbar", "set_random_seed", "to_categorical"]),
    ("neuroflow.keras.backend", ["clear_session", "epsilon", "floatx", "image_data_format"]),
    ("neuroflow.keras.datasets", ["fashion_mnist", "mnist"]),
])
def test_names_import_from_their_keras_modules(module, names):
    imported = importlib.import_module(module)
    missing = [name for name in names if not hasattr(imported, name)]
    assert not missing, f"{module} lacks {missing}"


def test_tf_keras_attribute_path_is_the_same_objects():
    from neuroflow.keras import Sequential
    from neuroflow.keras.layers import Dense, Flatten, InputLayer

    assert tf.keras.Sequential is Sequential and tf.keras.models.Sequential is Sequential
    assert tf.keras.layers.Dense is Dense and tf.keras.layers.Flatten is Flatten
    assert tf.keras.layers.InputLayer is InputLayer
    assert tf.keras.Input is tf.keras.layers.Input
    assert issubclass(Sequential, tf.keras.Model) and issubclass(Dense, tf.keras.layers.Layer)
    assert issubclass(tf.keras.callbacks.EarlyStopping, tf.keras.callbacks.Callback)


def test_lab_code_runs_with_the_import_swapped(capsys):
    from neuroflow.keras import Sequential
    from neuroflow.keras.layers import Dense, Flatten, InputLayer

    tf.keras.backend.clear_session()
    model = Sequential()
    with pytest.warns(UserWarning, match="Use `shape` instead"):
        model.add(InputLayer(input_shape=[28, 28]))
    model.add(Flatten())
    model.add(Dense(100, activation="relu"))
    model.add(Dense(75, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    x = np.random.default_rng(0).random((64, 28, 28))
    y = np.arange(64) % 10
    history = model.fit(x, y, epochs=2, validation_data=(x[:16], y[:16]), verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    test_loss, test_accuracy = model.evaluate(x, y, verbose=0)
    assert 0 <= test_accuracy <= 1 and test_loss > 0
    assert capsys.readouterr().out == ""


def test_utils_and_backend_helpers():
    np.testing.assert_array_equal(tf.keras.utils.to_categorical([0, 2, 1], 3), np.eye(3)[[0, 2, 1]])
    assert tf.keras.utils.to_categorical([1, 0]).dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        tf.keras.utils.to_categorical([2], num_classes=2)
    assert tf.keras.backend.floatx() == "float32" and tf.keras.backend.epsilon() == 1e-7
    tf.keras.backend.clear_session()
    assert tf.keras.layers.Dense(1).name == "dense"
    assert tf.keras.layers.Dense(1).name == "dense_1"
