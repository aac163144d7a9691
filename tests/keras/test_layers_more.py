"""Normalization, noise, spatial and activation layers: values against NumPy formulas,
training vs inference, configs, errors naming the layer, and use in compiled models.

Keras 3 itself is the oracle in tests/oracle/test_tf_keras_layers_more.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _opcheck import raises_with_message

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)


def data(*shape):
    return R.normal(size=shape).astype(np.float32)


# --- values against NumPy formulas --------------------------------------------------------


def test_batch_normalization_training_uses_batch_statistics_and_moves_the_averages():
    x = data(8, 3) * 2 + 1
    layer = layers.BatchNormalization(momentum=0.9)
    out = layer(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    # Inference (the default) uses the moving statistics and leaves them alone.
    inferred = layer(x).numpy()
    expected = (x - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inferred, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_batch_normalization_frozen_layer_runs_in_inference_mode():
    x = data(8, 3)
    layer = layers.BatchNormalization()
    layer.build((None, 3))
    layer.trainable = False
    np.testing.assert_allclose(layer(x, training=True).numpy(), x / np.sqrt(1 + 1e-3),
                               rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))


def test_batch_normalization_on_channels_first_images_and_half_precision():
    x = data(2, 3, 4, 4)
    layer = layers.BatchNormalization(axis=1, center=False, scale=False)
    out = layer(x, training=True).numpy()
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    assert layer.weights[0].shape == (3,)
    half = layers.BatchNormalization(dtype="float16")
    result = half(x[..., 0].astype(np.float16), training=True)
    assert result.dtype == tf.float16


def test_batch_normalization_updates_inside_a_compiled_function():
    layer = layers.BatchNormalization(momentum=0.5)
    x = data(4, 2) + 3

    @tf.function
    def step(v):
        return layer(v, training=True)

    step(x)
    step(x)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.75 * x.mean(0), rtol=1e-5)


def test_layer_normalization_formula_axes_and_rms_scaling():
    x = data(2, 3, 4)
    out = layers.LayerNormalization()(x).numpy()
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    both = layers.LayerNormalization(axis=[1, 2], epsilon=1e-5)
    out = both(x).numpy()
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    assert both.gamma.shape == (3, 4) and both.axis == [1, 2]
    with pytest.warns(UserWarning, match="rms_scaling"):
        rms = layers.LayerNormalization(rms_scaling=True)
    np.testing.assert_allclose(rms(x).numpy(), x / np.sqrt(x.var(-1, keepdims=True) + 1e-3),
                               rtol=1e-4, atol=1e-5)
    assert [w.name for w in rms.weights] == ["gamma"]


def test_group_normalization_normalizes_each_group_and_instance_normalization():
    x = data(2, 5, 6)
    out = layers.GroupNormalization(groups=3)(x).numpy()
    grouped = x.reshape(2, 5, 3, 2)
    mean = grouped.mean((1, 3), keepdims=True)
    var = grouped.var((1, 3), keepdims=True)
    expected = ((grouped - mean) / np.sqrt(var + 1e-3)).reshape(2, 5, 6)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    instance = layers.GroupNormalization(groups=-1, center=False)
    out = instance(x).numpy()
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert instance.groups == 6 and [w.name for w in instance.weights] == ["gamma"]


def test_unit_normalization_and_integer_inputs():
    x = data(3, 4)
    np.testing.assert_allclose(layers.UnitNormalization()(x).numpy(),
                               x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5)
    layer = layers.UnitNormalization(axis=(1, 2), dtype="int32")
    out = layer(np.ones((1, 2, 2), np.int32))
    np.testing.assert_allclose(out.numpy(), np.full((1, 2, 2), 0.5))
    assert layer.compute_output_shape((None, 2, 2)) == (None, 2, 2)


def test_spatial_and_shape_layers_match_numpy():
    x = data(2, 3, 4)
    np.testing.assert_array_equal(layers.Permute((2, 1))(x).numpy(), x.transpose(0, 2, 1))
    v = data(2, 4)
    np.testing.assert_array_equal(layers.RepeatVector(3)(v).numpy(),
                                  np.repeat(v[:, None], 3, axis=1))
    np.testing.assert_array_equal(layers.ZeroPadding1D((1, 2))(x).numpy(),
                                  np.pad(x, [(0, 0), (1, 2), (0, 0)]))
    img = data(2, 4, 5, 3)
    np.testing.assert_array_equal(layers.ZeroPadding2D(((1, 0), 2))(img).numpy(),
                                  np.pad(img, [(0, 0), (1, 0), (2, 2), (0, 0)]))
    np.testing.assert_array_equal(layers.Cropping2D(((1, 0), (1, 2)))(img).numpy(),
                                  img[:, 1:, 1:-2])
    np.testing.assert_array_equal(layers.Cropping1D()(x).numpy(), x[:, 1:-1])
    np.testing.assert_array_equal(layers.UpSampling2D((2, 3))(img).numpy(),
                                  img.repeat(2, axis=1).repeat(3, axis=2))
    vol = data(1, 4, 3, 4, 2)
    np.testing.assert_array_equal(layers.Cropping3D()(vol).numpy(), vol[:, 1:-1, 1:-1, 1:-1])
    np.testing.assert_array_equal(layers.ZeroPadding3D(1)(vol).numpy(),
                                  np.pad(vol, [(0, 0)] + [(1, 1)] * 3 + [(0, 0)]))
    np.testing.assert_array_equal(layers.UpSampling3D()(vol).numpy(),
                                  vol.repeat(2, 1).repeat(2, 2).repeat(2, 3))
    np.testing.assert_array_equal(layers.UpSampling1D(3)(x).numpy(), x.repeat(3, axis=1))


@pytest.mark.parametrize("layer, shape, expected", [
    (lambda: layers.Permute((3, 1, 2)), (None, 2, 3, 4), (None, 4, 2, 3)),
    (lambda: layers.RepeatVector(5), (None, 3), (None, 5, 3)),
    (lambda: layers.ZeroPadding2D(data_format="channels_first"), (None, 2, 3, None),
     (None, 2, 5, None)),
    (lambda: layers.Cropping2D(1), (None, 5, None, 2), (None, 3, None, 2)),
    (lambda: layers.UpSampling1D(), (None, None, 2), (None, None, 2)),
    (lambda: layers.UpSampling3D(data_format="channels_first"), (None, 2, 1, 2, 3),
     (None, 2, 2, 4, 6)),
    (lambda: layers.ZeroPadding1D(2), (None, 3, 2), (None, 7, 2)),
])
def test_compute_output_shape(layer, shape, expected):
    assert layer().compute_output_shape(shape) == expected


def test_bilinear_upsampling_interpolates_between_pixels():
    x = np.array([0.0, 4.0], np.float32).reshape(1, 1, 2, 1)
    out = layers.UpSampling2D((1, 2), interpolation="bilinear")(x).numpy()
    np.testing.assert_allclose(out.ravel(), [0.0, 1.0, 3.0, 4.0])  # half-pixel centers
    first = layers.UpSampling2D(interpolation="bilinear", data_format="channels_first")
    images = data(2, 3, 4, 5)
    last = layers.UpSampling2D(interpolation="bilinear")(images.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(first(images).numpy(), last.numpy().transpose(0, 3, 1, 2),
                               rtol=1e-6)
    half = layers.UpSampling2D(interpolation="bilinear", dtype="float16")
    assert half(images.astype(np.float16)).dtype == tf.float16


def test_activation_layers_match_their_formulas():
    x = np.array([[-2.0, -0.5, 0.0, 1.5]], np.float32)
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), np.where(x > 0, x, 0.3 * x),
                               rtol=1e-6)
    np.testing.assert_allclose(layers.ELU(0.5)(x).numpy(),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-6)
    np.testing.assert_allclose(layers.ELU()(x).numpy(), np.where(x > 0, x, np.expm1(x)),
                               rtol=1e-6)
    prelu = layers.PReLU(alpha_initializer="ones", shared_axes=1)
    out = prelu(np.stack([x, x], axis=1)).numpy()
    np.testing.assert_allclose(out, np.stack([x, x], axis=1))
    assert prelu.alpha.shape == (1, 4)
    integer = layers.PReLU(dtype="int32")
    assert integer(np.array([[-1, 2]], np.int32)).dtype == tf.float32
    assert layers.ELU(dtype="int32")(np.array([[-1, 2]], np.int32)).dtype == tf.float32
    with pytest.warns(UserWarning, match="negative_slope"):
        old = layers.LeakyReLU(alpha=0.1)
    assert old.negative_slope == 0.1


def test_lambda_layer_arguments_and_output_shape():
    def scale(v, factor=2.0):
        return v * factor

    layer = layers.Lambda(scale, output_shape=(4,), arguments={"factor": 3.0})
    x = data(2, 4)
    np.testing.assert_allclose(layer(x).numpy(), 3 * x, rtol=1e-6)
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    dynamic = layers.Lambda(lambda v: v[:, :2], output_shape=lambda s: (s[0], 2))
    assert dynamic.compute_output_shape((None, 4)) == (None, 2)
    assert layers.Lambda(lambda v: v[:, :3]).compute_output_shape((None, 4)) == (None, 3)


# --- training vs inference for the random layers --------------------------------------


@pytest.mark.parametrize("layer", [
    lambda: layers.SpatialDropout1D(0.5, seed=1),
    lambda: layers.GaussianNoise(0.5, seed=1),
    lambda: layers.GaussianDropout(0.5, seed=1),
    lambda: layers.AlphaDropout(0.5, seed=1),
])
def test_random_layers_are_identity_in_inference_and_active_in_training(layer):
    x = data(64, 8, 6)
    made = layer()
    np.testing.assert_array_equal(made(x).numpy(), x)
    np.testing.assert_array_equal(made(x, training=False).numpy(), x)
    trained = made(x, training=True).numpy()
    assert trained.shape == x.shape and not np.allclose(trained, x)
    assert made.compute_output_shape((None, 8, 6)) == (None, 8, 6)


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((20, 5, 5, 8), np.float32)
    out = layers.SpatialDropout2D(0.5, seed=2)(x, training=True).numpy()
    per_map = out.reshape(20, 25, 8)
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # a map is kept or dropped
    assert set(np.unique(out)) == {0.0, 2.0}
    first = layers.SpatialDropout3D(0.5, data_format="channels_first", seed=2)
    out = first(np.ones((4, 3, 2, 2, 2), np.float32), training=True).numpy()
    assert np.all(out.reshape(4, 3, 8).std(axis=2) == 0)


def test_noise_layers_edge_rates():
    x = data(4, 3)
    for layer in (layers.SpatialDropout1D(1.0), layers.GaussianDropout(1.0)):
        np.testing.assert_array_equal(layer(x[None], training=True).numpy(), 0 * x[None])
    for layer in (layers.SpatialDropout1D(0.0), layers.GaussianNoise(0.0),
                  layers.GaussianDropout(0.0), layers.AlphaDropout(0.0)):
        np.testing.assert_array_equal(layer(x[None], training=True).numpy(), x[None])
    shared = layers.AlphaDropout(0.5, noise_shape=(None, 1, 3), seed=4)
    out = shared(np.zeros((6, 5, 3), np.float32), training=True).numpy()
    assert np.all(out.std(axis=1) == 0)
    ints = layers.GaussianNoise(0.1, dtype="int32")(np.ones((2, 2), np.int32), training=True)
    assert ints.dtype == tf.float32


# --- configs --------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [
    lambda: layers.BatchNormalization(axis=1, momentum=0.9, beta_regularizer="l2"),
    lambda: layers.LayerNormalization(axis=[1, 2], center=False),
    lambda: layers.GroupNormalization(groups=4),
    lambda: layers.UnitNormalization(axis=[1]),
    lambda: layers.SpatialDropout1D(0.2, seed=3),
    lambda: layers.SpatialDropout2D(0.2, data_format="channels_first"),
    lambda: layers.GaussianNoise(0.3),
    lambda: layers.GaussianDropout(0.3),
    lambda: layers.AlphaDropout(0.3, noise_shape=(None, 1)),
    lambda: layers.Permute((2, 1)),
    lambda: layers.RepeatVector(2),
    lambda: layers.ZeroPadding2D(((1, 2), (0, 1))),
    lambda: layers.Cropping3D(2),
    lambda: layers.UpSampling2D(3, interpolation="nearest"),
    lambda: layers.UpSampling2D(interpolation="bilinear", data_format="channels_first"),
    lambda: layers.LeakyReLU(0.1),
    lambda: layers.PReLU(shared_axes=[1], alpha_regularizer="l1"),
    lambda: layers.ELU(0.7),
])
def test_configs_round_trip(layer):
    made = layer()
    config = made.get_config()
    again = type(made).from_config(config)
    assert again.get_config() == config
    copy = layers.deserialize(layers.serialize(made))
    assert type(copy) is type(made) and copy.get_config() == config


def test_lambda_configs_name_functions_and_refuse_python_lambdas():
    def double(v):
        return v * 2

    config = layers.Lambda(double, arguments={}).get_config()
    assert config["function"]["config"] == "double"
    rebuilt = layers.Lambda.from_config(config, custom_objects={"double": double})
    assert rebuilt.function is double
    copy = layers.deserialize(layers.serialize(layers.Lambda(double)),
                              custom_objects={"double": double})
    assert copy.function is double
    raises_with_message(TypeError, lambda: layers.Lambda.from_config(config),
                        "Could not locate function 'double'", "custom_objects")
    lambda_config = layers.Lambda(lambda v: v).get_config()
    assert lambda_config["function"]["config"]["code"] is None
    raises_with_message(ValueError, lambda: layers.Lambda.from_config(lambda_config),
                        "Python lambda", "never")


# --- errors ---------------------------------------------------------------------------


def test_normalization_errors_name_the_layer():
    raises_with_message(TypeError, lambda: layers.BatchNormalization(axis=[1]),
                        "BatchNormalization", "axis=[1]")
    raises_with_message(TypeError, lambda: layers.LayerNormalization(axis="x"),
                        "LayerNormalization", "an int or a list/tuple of ints")
    raises_with_message(ValueError, lambda: layers.BatchNormalization(axis=3, name="bn")(
        data(2, 3)), "'bn'", "axis 3 is out of bounds", "rank 2")
    bn = layers.BatchNormalization(name="bn2")
    raises_with_message(ValueError, lambda: bn.build((None, None)), "'bn2'", "known size")
    bn(data(2, 3))
    raises_with_message(ValueError, lambda: bn(data(2, 4)), "'bn2'", "(3,)", "(2, 4)")
    raises_with_message(NotImplementedError, lambda: layers.BatchNormalization(renorm=True),
                        "renorm")
    raises_with_message(ValueError, lambda: layers.GroupNormalization(groups=0),
                        "groups=0")
    raises_with_message(ValueError, lambda: layers.GroupNormalization(groups=8, name="gn")(
        data(2, 4)), "'gn'", "(8) cannot be more than the number of channels (4)")
    raises_with_message(ValueError, lambda: layers.GroupNormalization(groups=3)(data(2, 4)),
                        "channels (4) must be a multiple of the number of groups (3)")
    ln = layers.LayerNormalization(axis=-3)
    raises_with_message(ValueError, lambda: ln.compute_output_shape((None, 3)),
                        "out of bounds")


def test_group_normalization_needs_known_channels_in_a_trace():
    layer = layers.GroupNormalization(groups=2, name="gn_trace")
    layer(data(2, 4))
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, None), tf.float32)])
    raises_with_message(ValueError, lambda: traced(data(2, 4)), "'gn_trace'",
                        "known number of channels")


def test_noise_and_spatial_errors_name_the_layer():
    raises_with_message(ValueError, lambda: layers.GaussianNoise(-1), "GaussianNoise",
                        "stddev=-1")
    raises_with_message(ValueError, lambda: layers.AlphaDropout(1.5), "rate=1.5")
    raises_with_message(ValueError, lambda: layers.SpatialDropout2D(0.5, name="sd")(
        data(2, 3)), "'sd'", "rank 4", "(2, 3)")
    raises_with_message(ValueError, lambda: layers.ZeroPadding2D((1, 2, 3)), "ZeroPadding2D",
                        "tuple of 2 tuples")
    raises_with_message(ValueError, lambda: layers.Cropping2D(((1, 2), (3,))), "Cropping2D",
                        "cropping entry 2")
    raises_with_message(ValueError, lambda: layers.UpSampling2D(name="up")(data(2, 3)),
                        "'up'", "rank 4")
    raises_with_message(ValueError, lambda: layers.Cropping1D((2, 3), name="crop")(
        data(2, 5, 1)), "'crop'", "smaller than", "(2, 5, 1)")
    raises_with_message(ValueError, lambda: layers.Permute((1, 3)), "consecutive",
                        "dims=(1, 3)")
    raises_with_message(ValueError, lambda: layers.Permute((2, 1), name="perm")(data(2, 3)),
                        "'perm'", "rank 3")
    raises_with_message(TypeError, lambda: layers.RepeatVector(2.0), "integer")
    raises_with_message(ValueError, lambda: layers.RepeatVector(0), "n=0")
    raises_with_message(ValueError, lambda: layers.RepeatVector(2, name="rv")(data(2, 3, 4)),
                        "'rv'", "rank 2")
    raises_with_message(NotImplementedError, lambda: layers.UpSampling2D(
        interpolation="bicubic"), "bicubic", "bilinear")
    bilinear = layers.UpSampling2D(interpolation="bilinear", name="up_bilinear")
    traced = tf.function(bilinear, input_signature=[tf.TensorSpec((2, None, None, 1),
                                                                  tf.float32)])
    raises_with_message(ValueError, lambda: traced(data(2, 3, 3, 1)), "'up_bilinear'",
                        "height and width known")
    raises_with_message(ValueError, lambda: layers.UpSampling2D(interpolation="cubic"),
                        "interpolation='cubic'")


def test_activation_layer_errors():
    raises_with_message(ValueError, lambda: layers.LeakyReLU(-0.1), "negative_slope=-0.1")
    raises_with_message(ValueError, lambda: layers.LeakyReLU(None), "negative_slope=None")
    raises_with_message(ValueError, lambda: layers.PReLU(shared_axes=[3], name="pr")(
        data(2, 3)), "'pr'", "shared_axes=[3]")
    raises_with_message(ValueError, lambda: layers.PReLU(name="pr2").build((None, None)),
                        "'pr2'", "known")
    raises_with_message(TypeError, lambda: layers.Lambda(3), "callable")


# --- models ---------------------------------------------------------------------------


def test_a_convnet_with_the_new_layers_trains_compiled():
    keras.utils.set_random_seed(3)
    x = data(64, 8, 8, 1)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int32)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), layers.ZeroPadding2D(1), layers.Conv2D(4, 3),
        layers.BatchNormalization(), layers.LeakyReLU(0.1), layers.SpatialDropout2D(0.1),
        layers.Cropping2D(1), layers.UpSampling2D(), layers.GroupNormalization(groups=2),
        layers.GaussianNoise(0.01), layers.MaxPooling2D(4), layers.Flatten(),
        layers.LayerNormalization(), layers.PReLU(), layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    before = model.layers[2].moving_mean.numpy().copy()
    history = model.fit(x, y, batch_size=16, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert not np.allclose(model.layers[2].moving_mean.numpy(), before)
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_functional_model_with_new_layers_round_trips_its_config():
    inputs = keras.Input((6,))
    hidden = layers.RepeatVector(3)(inputs)
    hidden = layers.Permute((2, 1))(hidden)
    hidden = layers.ZeroPadding1D(1)(hidden)
    hidden = layers.UnitNormalization()(hidden)
    hidden = layers.ELU()(layers.Flatten()(hidden))
    outputs = layers.Dense(1)(layers.AlphaDropout(0.1)(hidden))
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 1)
    x = data(5, 6)
    model.compile("sgd", "mse")
    model.fit(x, data(5, 1), epochs=1, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5)


def test_automatic_names_follow_keras():
    keras.backend.clear_session()
    assert layers.LeakyReLU().name == "leaky_re_lu"
    assert layers.PReLU().name == "p_re_lu"
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.SpatialDropout2D(0.1).name == "spatial_dropout2d"
    assert layers.UpSampling2D().name == "up_sampling2d"
    assert layers.ZeroPadding3D().name == "zero_padding3d"


@pytest.mark.parametrize("layer, sample", [
    (lambda: layers.BatchNormalization(axis=1), (3, 2)),
    (lambda: layers.LayerNormalization(), (3, 2)),
    (lambda: layers.GroupNormalization(groups=2), (3, 4)),
    (lambda: layers.UnitNormalization(), (3, 2)),
    (lambda: layers.SpatialDropout1D(0.5, seed=1), (3, 2)),
    (lambda: layers.SpatialDropout3D(0.5, seed=1), (2, 2, 2, 3)),
    (lambda: layers.GaussianDropout(0.5, seed=1), (3, 2)),
    (lambda: layers.GaussianNoise(0.5, seed=1), (3, 2)),
    (lambda: layers.AlphaDropout(0.5, noise_shape=(None, 1, 2), seed=1), (3, 2)),
    (lambda: layers.Permute((2, 1)), (3, 2)),
    (lambda: layers.RepeatVector(2), (3,)),
    (lambda: layers.ZeroPadding3D(), (2, 2, 2, 3)),
    (lambda: layers.Cropping1D((1, 0)), (3, 2)),
    (lambda: layers.Cropping3D(((1, 0), (0, 1), (0, 0))), (2, 2, 2, 3)),
    (lambda: layers.UpSampling1D(), (3, 2)),
    (lambda: layers.UpSampling3D(), (2, 2, 2, 3)),
    (lambda: layers.UpSampling2D(interpolation="bilinear"), (2, 3, 2)),
    (lambda: layers.LeakyReLU(), (3, 2)),
    (lambda: layers.PReLU(), (3, 2)),
    (lambda: layers.ELU(0.5), (3, 2)),
    (lambda: layers.Lambda(lambda v: v * 2), (3, 2)),
])
@pytest.mark.parametrize("training", [False, True])
def test_layers_run_compiled_with_an_unknown_batch_size(layer, sample, training):
    made = layer()
    x = data(4, *sample)
    eager = made(x, training=training).numpy()
    compiled = tf.function(lambda v: made(v, training=training),
                           input_signature=[tf.TensorSpec((None, *sample), tf.float32)])
    out = compiled(x).numpy()
    assert out.shape == eager.shape
    assert made.compute_output_shape((None, *sample))[1:] == out.shape[1:]
    if not training or not isinstance(made, (layers.SpatialDropout1D, layers.SpatialDropout3D,
                                             layers.GaussianDropout, layers.GaussianNoise,
                                             layers.AlphaDropout)):
        np.testing.assert_allclose(out, eager, rtol=1e-5, atol=1e-6)
    smaller = compiled(x[:3]).numpy()  # the same trace runs another batch size
    assert smaller.shape == (3, *eager.shape[1:])


@pytest.mark.parametrize("layer, shape", [
    (lambda: layers.BatchNormalization(dtype="float64", gamma_initializer="random_normal",
                                       beta_initializer="random_normal"), (5, 3)),
    (lambda: layers.LayerNormalization(axis=[1, 2], dtype="float64",
                                       gamma_initializer="random_normal"), (2, 3, 2)),
    (lambda: layers.LayerNormalization(rms_scaling=True, dtype="float64"), (2, 3)),
    (lambda: layers.GroupNormalization(groups=2, dtype="float64",
                                       gamma_initializer="random_normal"), (2, 3, 4)),
    (lambda: layers.UnitNormalization(dtype="float64"), (2, 3)),
    (lambda: layers.PReLU(alpha_initializer="random_normal", dtype="float64"), (2, 3)),
    (lambda: layers.ELU(0.5, dtype="float64"), (2, 3)),
    (lambda: layers.LeakyReLU(dtype="float64"), (2, 3)),
    (lambda: layers.Cropping1D(dtype="float64"), (2, 4, 2)),
    (lambda: layers.ZeroPadding1D(dtype="float64"), (2, 3, 2)),
    (lambda: layers.RepeatVector(2, dtype="float64"), (2, 3)),
    (lambda: layers.Permute((2, 1), dtype="float64"), (2, 3, 2)),
])
def test_input_gradients_match_finite_differences(layer, shape):
    from neuroflow.autodiff.gradcheck import check_gradients

    keras.utils.set_random_seed(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rms_scaling's deprecation
        made = layer()
    x = R.uniform(0.2, 2.0, size=shape) * R.choice([-1.0, 1.0], size=shape)
    check_gradients(lambda v: made(v, training=True), [x], atol=1e-6, rtol=1e-5)


def test_bilinear_upsampling_gradient_matches_finite_differences():
    from neuroflow.autodiff.gradcheck import check_gradients

    # tf.image.resize computes bilinear in float32; the map is linear, so a large step
    # gives exact differences despite the float32 rounding.
    layer = layers.UpSampling2D(interpolation="bilinear", dtype="float64")
    check_gradients(layer, [R.normal(size=(1, 2, 3, 2))], eps=0.5, atol=1e-4, rtol=1e-4)


def test_batch_normalization_mask_excludes_positions_from_the_statistics():
    x = data(2, 4, 3)
    mask = np.array([[True, True, False, False], [True, False, True, False]])
    layer = layers.BatchNormalization(momentum=0.0, name="bn_mask")
    layer(x, training=True, mask=mask)
    kept = x[mask]
    np.testing.assert_allclose(layer.moving_mean.numpy(), kept.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), kept.var(0), rtol=1e-4)
    raises_with_message(ValueError, lambda: layer(x, training=True, mask=mask[0]),
                        "'bn_mask'", "one dimension less", "mask.shape=(4,)")
