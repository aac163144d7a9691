"""Convolution and pooling layers: shapes, weights, configs, layouts and errors.

Their math is tf.nn.convolution and the pooling ops (tested against loop references in
tests/ops/test_convolution.py); TensorFlow's Keras layers are the oracle in
tests/oracle/test_tf_keras_conv.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)


def images(*shape):
    return R.normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("layer, x_shape, out_shape", [
    (lambda: layers.Conv1D(4, 3), (2, 10, 3), (2, 8, 4)),
    (lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 10, 3), (2, 10, 4)),
    (lambda: layers.Conv1D(4, 3, strides=2, padding="same"), (2, 9, 3), (2, 5, 4)),
    (lambda: layers.Conv2D(8, 3), (2, 28, 28, 1), (2, 26, 26, 8)),
    (lambda: layers.Conv2D(8, (3, 2), strides=(2, 1), padding="same"), (2, 7, 6, 3),
     (2, 4, 6, 8)),
    (lambda: layers.Conv2D(6, 3, data_format="channels_first"), (2, 3, 9, 8), (2, 6, 7, 6)),
    (lambda: layers.Conv2D(6, 3, groups=3), (2, 7, 7, 6), (2, 5, 5, 6)),
    (lambda: layers.Conv3D(2, 2), (1, 4, 5, 6, 3), (1, 3, 4, 5, 2)),
    (lambda: layers.MaxPooling1D(), (2, 9, 3), (2, 4, 3)),
    (lambda: layers.MaxPooling2D(), (2, 28, 28, 1), (2, 14, 14, 1)),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (2, 7, 7, 2), (2, 4, 4, 2)),
    (lambda: layers.AveragePooling2D(2, data_format="channels_first"), (2, 3, 6, 5),
     (2, 3, 3, 2)),
    (lambda: layers.AveragePooling3D(2), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2)),
    (lambda: layers.GlobalAveragePooling2D(), (2, 5, 6, 3), (2, 3)),
    (lambda: layers.GlobalMaxPooling1D(keepdims=True), (2, 5, 3), (2, 1, 3)),
    (lambda: layers.GlobalMaxPooling2D(data_format="channels_first"), (2, 3, 5, 6), (2, 3)),
])
def test_output_shapes_match_compute_output_shape(layer, x_shape, out_shape):
    made = layer()
    y = made(images(*x_shape))
    assert tuple(y.shape) == out_shape
    assert made.compute_output_shape((None, *x_shape[1:])) == (None, *out_shape[1:])


def test_conv2d_is_the_convolution_of_its_weights_plus_bias_then_activation():
    layer = layers.Conv2D(4, 3, padding="same", activation="relu",
                          bias_initializer="random_normal")
    x = images(2, 6, 5, 3)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 4) and bias.shape == (4,)
    expected = np.maximum(tf.nn.conv2d(x, kernel, 1, "SAME").numpy() + bias, 0)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_grouped_convolution_convolves_each_group_apart():
    layer = layers.Conv2D(4, 2, groups=2, use_bias=False)
    x = images(1, 5, 5, 6)
    y = layer(x).numpy()
    (kernel,) = layer.get_weights()
    assert kernel.shape == (2, 2, 3, 4)
    first = tf.nn.conv2d(x[..., :3], kernel[..., :2], 1, "VALID").numpy()
    second = tf.nn.conv2d(x[..., 3:], kernel[..., 2:], 1, "VALID").numpy()
    np.testing.assert_allclose(y, np.concatenate([first, second], -1), rtol=1e-6, atol=1e-6)


def test_causal_padding_never_looks_ahead():
    layer = layers.Conv1D(2, 3, padding="causal")
    x = images(1, 8, 2)
    y = layer(x).numpy()
    changed = x.copy()
    changed[:, 5:] += 10.0  # later steps change: outputs before step 5 must not
    np.testing.assert_array_equal(layer(changed).numpy()[:, :5], y[:, :5])


def test_channels_first_equals_channels_last_transposed():
    last = layers.Conv2D(5, 3, strides=2, padding="same")
    first = layers.Conv2D(5, 3, strides=2, padding="same", data_format="channels_first")
    x = images(2, 7, 6, 3)
    y_last = last(x)
    first.build((None, 3, 7, 6))
    first.set_weights(last.get_weights())
    y_first = first(np.transpose(x, (0, 3, 1, 2)))
    np.testing.assert_allclose(np.transpose(y_first.numpy(), (0, 2, 3, 1)), y_last.numpy(),
                               rtol=1e-6, atol=1e-6)


def test_global_average_pooling_1d_leaves_masked_steps_out():
    x = images(2, 4, 3)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    y = layers.GlobalAveragePooling1D()(x, mask=mask).numpy()
    np.testing.assert_allclose(y[0], x[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(y[1], x[1].mean(0), rtol=1e-6)
    y = layers.GlobalMaxPooling1D()(x, mask=mask).numpy()
    np.testing.assert_allclose(y[0], x[0, :2].max(0))


@pytest.mark.parametrize("make", [
    lambda: layers.Conv2D(8, (3, 2), strides=2, padding="same", dilation_rate=1, groups=2,
                          activation="relu", use_bias=False, kernel_initializer="he_normal",
                          kernel_regularizer="l2", data_format="channels_first"),
    lambda: layers.Conv1D(3, 5, padding="causal", dilation_rate=2),
    lambda: layers.MaxPooling2D((3, 3), strides=(1, 2), padding="same"),
    lambda: layers.GlobalAveragePooling1D(keepdims=True),
])
def test_config_round_trip_gives_the_same_layer(make):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config


def test_default_names_are_keras_names():
    keras.backend.clear_session()
    assert layers.Conv2D(2, 3).name == "conv2d"
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.GlobalAveragePooling2D().name == "global_average_pooling2d"


def test_a_small_convnet_trains_compiled_and_learns():
    keras.utils.set_random_seed(1)
    x = images(64, 8, 8, 1)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int32)
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    eager = model(x).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), eager, rtol=1e-5, atol=1e-6)


# --- errors -------------------------------------------------------------------------------


def test_images_without_a_channel_axis_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"expects inputs of rank 4.*\(2, 28, 28\).*channel "
                                         r"axis"):
        layers.Conv2D(4, 3)(images(2, 28, 28))
    with pytest.raises(ValueError, match="rank 4.*channel axis"):
        layers.MaxPooling2D()(images(2, 28, 28))


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2D(0, 3), "filters"),
    (lambda: layers.Conv2D(4, 0), "kernel_size"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), "tuple of 2"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), "padding"),
    (lambda: layers.Conv2D(4, 3, data_format="NHWC"), "data_format"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate > 1"),
    (lambda: layers.Conv2D(5, 3, groups=2), "divisible by the number of groups"),
    (lambda: layers.Conv2D(4, 3, groups=0), "groups"),
    (lambda: layers.MaxPooling2D(strides=0), "strides"),
])
def test_bad_arguments_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unsupported_arguments_raise_instead_of_being_ignored():
    with pytest.raises(NotImplementedError, match="kernel_constraint"):
        layers.Conv2D(4, 3, kernel_constraint=lambda w: w)
    with pytest.raises(NotImplementedError, match="lora_rank"):
        layers.Conv1D(4, 3, lora_rank=2)
    with pytest.raises(NotImplementedError, match="bias_constraint"):
        layers.Dense(4, bias_constraint=lambda w: w)


def test_channel_errors_name_the_layer():
    with pytest.raises(ValueError, match="divisible by the number of groups.*3 channels"):
        layers.Conv2D(4, 3, groups=2)(images(1, 5, 5, 3))
    layer = layers.Conv2D(4, 3)
    layer(images(1, 5, 5, 3))
    with pytest.raises(ValueError, match="built for inputs with 3 channels.*2 channels"):
        layer(images(1, 5, 5, 2))
    with pytest.raises(ValueError, match="channel dimension of the inputs must be known"):
        layers.Conv2D(4, 3).build((None, 5, 5, None))


# --- transposed, depthwise and separable convolution layers --------------------------------


@pytest.mark.parametrize("layer, x_shape, out_shape", [
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, padding="same"), (2, 5, 5, 3),
     (2, 10, 10, 4)),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2), (2, 5, 4, 3), (2, 11, 9, 4)),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=1), (1, 4, 4, 2),
     (1, 10, 10, 2)),
    (lambda: layers.Conv1DTranspose(3, 3, strides=2, padding="same"), (2, 6, 2), (2, 12, 3)),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2), (1, 3, 3, 3, 2), (1, 6, 6, 6, 2)),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, padding="same",
                                    data_format="channels_first"), (2, 3, 5, 5),
     (2, 4, 10, 10)),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (2, 6, 6, 3), (2, 4, 4, 6)),
    (lambda: layers.DepthwiseConv2D(3, padding="same", data_format="channels_first"),
     (2, 3, 6, 6), (2, 3, 6, 6)),
    (lambda: layers.SeparableConv2D(5, 3, strides=2, padding="same"), (1, 7, 7, 2),
     (1, 4, 4, 5)),
])
def test_transposed_depthwise_and_separable_shapes(layer, x_shape, out_shape):
    made = layer()
    assert tuple(made(images(*x_shape)).shape) == out_shape
    assert made.compute_output_shape((None, *x_shape[1:])) == (None, *out_shape[1:])
    again = type(made).from_config(made.get_config())
    assert again.get_config() == made.get_config()


def test_a_transposed_convolution_layer_undoes_a_strided_convolutions_shape():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((8, 8, 1))
    down = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inputs)
    up = layers.Conv2DTranspose(1, 3, strides=2, padding="same")(down)
    model = keras.Model(inputs, up)
    x = images(16, 8, 8, 1)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(x, x, epochs=20, verbose=0)
    assert model.output_shape == (None, 8, 8, 1)
    # Noise through a 4-channel half-size bottleneck: it learns, but cannot copy it all.
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), "smaller than its"),
    (lambda: layers.Conv1DTranspose(2, 3, padding="causal"), "causal"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: layers.SeparableConv2D(2, 3, depth_multiplier=-1), "depth_multiplier"),
])
def test_transposed_and_depthwise_layer_argument_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_transposed_and_depthwise_layers_need_known_channels():
    for layer in (layers.Conv2DTranspose(2, 3), layers.DepthwiseConv2D(3),
                  layers.SeparableConv2D(2, 3)):
        with pytest.raises(ValueError, match="channel dimension of the inputs must be known"):
            layer.build((None, 5, 5, None))
    with pytest.raises(NotImplementedError, match="pointwise_constraint"):
        layers.SeparableConv2D(2, 3, pointwise_constraint=lambda w: w)
