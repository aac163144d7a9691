"""Keras layers: values against NumPy, the training flag, weights, freezing, warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import Sequential, initializers, layers, regularizers

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 4)).astype("float32")


def relu(a):
    return np.maximum(a, 0)


def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- Dense -------------------------------------------------------------------------------------


def test_dense_computes_activation_of_affine_map():
    dense = layers.Dense(3, activation="relu", bias_initializer="ones")
    out = dense(X)
    kernel, bias = dense.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    np.testing.assert_allclose(out.numpy(), relu(X @ kernel + bias), rtol=1e-6)
    assert dense.kernel is dense.weights[0] and dense.bias is dense.weights[1]
    assert out.dtype == tf.float32


@pytest.mark.parametrize("activation, reference", [
    ("softmax", softmax), ("tanh", np.tanh), (None, lambda a: a), ("linear", lambda a: a),
    (tf.nn.relu, relu), (lambda t: t * 2.0, lambda a: a * 2)])
def test_dense_activation_by_name_or_callable(activation, reference):
    dense = layers.Dense(3, activation=activation)
    out = dense(X).numpy()
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(out, reference(X @ kernel + bias), rtol=1e-5, atol=1e-6)


def test_dense_initializers_by_name_and_object():
    dense = layers.Dense(3, kernel_initializer="zeros",
                         bias_initializer=initializers.Constant(0.5), use_bias=True)
    dense.build((None, 4))
    np.testing.assert_array_equal(dense.kernel.numpy(), np.zeros((4, 3)))
    np.testing.assert_array_equal(dense.bias.numpy(), np.full(3, 0.5))
    # glorot_uniform is the default: limit sqrt(6 / (fan_in + fan_out))
    big = layers.Dense(300)
    big.build((None, 200))
    limit = np.sqrt(6 / 500)
    kernel = big.kernel.numpy()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    np.testing.assert_array_equal(big.bias.numpy(), np.zeros(300))


def test_dense_without_bias_and_on_higher_rank_inputs():
    dense = layers.Dense(2, use_bias=False)
    x3 = RNG.standard_normal((2, 3, 4)).astype("float32")
    out = dense(x3)
    assert dense.bias is None and len(dense.weights) == 1
    np.testing.assert_allclose(out.numpy(), x3 @ dense.kernel.numpy(), rtol=1e-6)
    assert dense.compute_output_shape((None, 3, 4)) == (None, 3, 2)


def test_dense_accepts_numpy_integer_units_and_int_inputs():
    dense = layers.Dense(np.int64(2))
    out = dense(np.ones((1, 3), dtype=np.uint8))
    assert dense.units == 2 and out.dtype == tf.float32


def test_dense_regularizers_losses():
    dense = layers.Dense(2, kernel_regularizer=regularizers.l2(0.1), bias_regularizer="l1",
                         bias_initializer="ones")
    dense(X)
    kernel = dense.kernel.numpy()
    values = [float(v) for v in dense.losses]
    np.testing.assert_allclose(values, [0.1 * np.sum(kernel ** 2), 0.01 * 2], rtol=1e-6)


def test_activity_regularizer_penalty_is_reset_each_model_call():
    model = Sequential([layers.Input((4,)), layers.Dense(3, activity_regularizer="l2")])
    out = model(X).numpy()
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), 0.01 * np.sum(out ** 2), rtol=1e-6)
    model(X[:2])
    assert len(model.losses) == 1  # not accumulated across calls


def test_count_params_and_config():
    dense = layers.Dense(3, name="d")
    with pytest.raises(ValueError, match="isn't built"):
        dense.count_params()
    dense.build((None, 4))
    assert dense.count_params() == 15
    config = dense.get_config()
    assert config["units"] == 3 and config["name"] == "d" and config["use_bias"] is True
    clone = layers.Dense.from_config({k: v for k, v in config.items()
                                      if k in ("units", "use_bias", "activation")})
    assert clone.units == 3


# --- get/set weights, freezing ------------------------------------------------------------------


def test_set_weights_checks_count_and_shapes():
    dense = layers.Dense(2)
    dense.build((None, 3))
    new = [np.arange(6, dtype="float32").reshape(3, 2), np.array([1.0, -1.0], "float32")]
    dense.set_weights(new)
    for got, want in zip(dense.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="expects 2 weights"):
        dense.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        dense.set_weights([np.zeros((2, 3)), np.zeros(2)])


def test_freezing_moves_weights_to_non_trainable():
    dense = layers.Dense(2)
    dense.build((None, 3))
    assert len(dense.trainable_weights) == 2 and dense.non_trainable_weights == []
    dense.trainable = False
    assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2
    assert not dense.kernel.trainable
    dense.trainable = True
    assert dense.kernel.trainable and len(dense.trainable_weights) == 2


def test_add_weight_non_trainable():
    layer = layers.Layer()
    w = layer.add_weight("moving", (2,), initializer="ones", trainable=False)
    assert layer.non_trainable_weights == [w] and layer.trainable_weights == []
    assert w.path == f"{layer.name}/moving"


# --- weight-free layers -------------------------------------------------------------------------


def test_activation_layer():
    np.testing.assert_allclose(layers.Activation("sigmoid")(X).numpy(), 1 / (1 + np.exp(-X)),
                               rtol=1e-6)
    np.testing.assert_allclose(layers.Activation(tf.nn.relu)(X).numpy(), relu(X))


def test_softmax_layer_axis_and_mask():
    x = RNG.standard_normal((2, 3, 4)).astype("float32")
    np.testing.assert_allclose(layers.Softmax()(x).numpy(), softmax(x), rtol=1e-6)
    np.testing.assert_allclose(layers.Softmax(axis=1)(x).numpy(), softmax(x, 1), rtol=1e-6)
    mask = np.array([[True, True, False, False]] * 3 + [[False] * 4] * 3).reshape(2, 3, 4)
    out = layers.Softmax()(x, mask=mask).numpy()
    np.testing.assert_allclose(out[0, :, :2], softmax(x[0, :, :2]), rtol=1e-6)
    assert np.all(out[0, :, 2:] == 0) and np.all(out[1] == 0)  # masked out, as Keras 3


@pytest.mark.parametrize("kwargs, reference", [
    ({}, relu),
    ({"max_value": 0.5}, lambda a: np.minimum(relu(a), 0.5)),
    ({"negative_slope": 0.1}, lambda a: np.where(a >= 0, a, 0.1 * a)),
    ({"threshold": 0.3}, lambda a: np.where(a >= 0.3, a, 0.0)),
    ({"negative_slope": 0.2, "threshold": 0.3}, lambda a: np.where(a >= 0.3, a, 0.2 * (a - 0.3))),
])
def test_relu_layer(kwargs, reference):
    np.testing.assert_allclose(layers.ReLU(**kwargs)(X).numpy(), reference(X), rtol=1e-6)


def test_relu_rejects_negative_arguments():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-1)


def test_flatten_reshape_rescaling():
    x = RNG.standard_normal((2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(layers.Flatten()(x).numpy(), x.reshape(2, 12))
    channels_first = layers.Flatten(data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(channels_first, x.transpose(0, 2, 1).reshape(2, 12))
    assert layers.Flatten().compute_output_shape((None, 28, 28)) == (None, 784)
    assert layers.Flatten()(np.ones(3)).shape == (3, 1)
    np.testing.assert_array_equal(layers.Reshape((4, 3))(x).numpy(), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(layers.Reshape((-1, 2))(x).numpy(), x.reshape(2, 6, 2))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    with pytest.raises(ValueError, match=r"reshape samples of shape \(3, 4\)"):
        layers.Reshape((5,))(x)
    images = RNG.integers(0, 256, (2, 3, 3)).astype(np.uint8)
    out = layers.Rescaling(1 / 255, offset=-0.5)(images)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), images / 255 - 0.5, atol=1e-7)


def test_which_layers_are_built_at_construction():
    # As in Keras 3: layers without weights to create are built from the start.
    built = {type(layer).__name__: layer.built for layer in (
        layers.Dropout(0.5), layers.Activation("relu"), layers.Softmax(), layers.ReLU(),
        layers.Reshape((2,)), layers.Flatten(), layers.Dense(2), layers.Rescaling(0.5))}
    assert built == {"Dropout": True, "Activation": True, "Softmax": True, "ReLU": True,
                     "Reshape": True, "Flatten": False, "Dense": False, "Rescaling": False}


# --- Dropout and the training flag --------------------------------------------------------------


def test_dropout_is_active_only_when_training():
    x = np.ones((200, 50), dtype="float32")
    dropout = layers.Dropout(0.3)
    for training in (None, False):
        np.testing.assert_array_equal(dropout(x, training=training).numpy(), x)
    out = dropout(x, training=True).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.3) < 0.03
    assert not np.array_equal(out, dropout(x, training=True).numpy())  # a new mask per call


def test_dropout_gradient_uses_the_same_mask():
    x = tf.Variable(np.ones((4, 6), dtype="float32"))
    with tf.GradientTape() as tape:
        out = layers.Dropout(0.5)(x, training=True)
        total = tf.reduce_sum(out)
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), out.numpy())


def test_dropout_rate_validation_and_noise_shape():
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    out = layers.Dropout(0.5, noise_shape=(None, 1))(np.ones((64, 5), "float32"), training=True)
    rows = out.numpy()
    assert all(len(set(row)) == 1 for row in rows)  # one decision per sample


def test_training_flag_reaches_layers_called_inside_a_layer():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dropout = layers.Dropout(0.5)

        def call(self, inputs):
            return self.dropout(inputs)  # no training=: inherits the outer call's

    x = np.ones((100, 10), dtype="float32")
    block = Block()
    assert np.all(block(x).numpy() == 1)
    assert np.any(block(x, training=True).numpy() == 0)
    assert np.all(block(x, training=False).numpy() == 1)


# --- Input / InputLayer --------------------------------------------------------------------------


def test_input_layer_shape_and_deprecated_input_shape():
    assert layers.InputLayer(shape=(28, 28)).batch_shape == (None, 28, 28)
    assert layers.InputLayer(shape=5).shape == (5,)
    assert layers.InputLayer(batch_shape=(8, 3)).batch_shape == (8, 3)
    with pytest.warns(UserWarning, match=r"Argument `input_shape` is deprecated\. Use `shape`"):
        layer = layers.InputLayer(input_shape=[28, 28])
    assert layer.shape == (28, 28)
    with pytest.raises(ValueError, match="must pass a `shape`"):
        layers.InputLayer()
    inp = layers.Input(shape=(4,), name="pixels")
    assert inp.shape == (None, 4) and "pixels" in repr(inp)


def test_input_shape_on_a_layer_warns_as_keras_3():
    with pytest.warns(UserWarning, match=r"Do not pass an `input_shape`/`input_dim`"):
        layers.Dense(3, input_shape=(4,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.Dense(3)


def test_unknown_layer_argument_is_an_error():
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(3, activaton="relu")
