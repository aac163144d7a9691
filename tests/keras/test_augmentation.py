"""Image preprocessing and augmentation layers.

Random draws cannot match Keras's, so each layer is checked by what must hold for every
draw: identity at inference, the geometry of a known draw (a quarter turn is np.rot90),
ranges and clipping, one draw per image, and running inside a compiled fit.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)
IMAGES = (R.uniform(0, 255, size=(4, 6, 6, 3))).astype(np.float32)


@pytest.mark.parametrize("layer", [
    layers.RandomFlip(), layers.RandomRotation(0.2), layers.RandomZoom(0.3),
    layers.RandomTranslation(0.2, 0.2), layers.RandomContrast(0.5),
    layers.RandomBrightness(0.3),
], ids=lambda layer: type(layer).__name__)
def test_random_layers_pass_images_through_at_inference_and_change_them_in_training(layer):
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES)
    assert layer(IMAGES).shape == IMAGES.shape  # called alone it trains, as in Keras
    changed = layer(IMAGES, training=True).numpy()
    assert changed.shape == IMAGES.shape and not np.array_equal(changed, IMAGES)
    single = layer(IMAGES[0], training=True)
    assert single.shape == IMAGES[0].shape
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


@pytest.mark.parametrize("turns, fill_mode", [(0.25, "constant"), (-0.25, "reflect"),
                                              (0.5, "wrap")])
def test_a_fixed_rotation_is_numpys_rotation(turns, fill_mode):
    layer = layers.RandomRotation((turns, turns), fill_mode=fill_mode)
    got = layer(IMAGES, training=True).numpy()
    np.testing.assert_allclose(got, np.rot90(IMAGES, round(turns * 4), axes=(1, 2)), atol=1e-3)


def test_zero_draws_are_the_identity_for_every_geometric_layer():
    for layer in (layers.RandomRotation((0.0, 0.0)), layers.RandomZoom((0.0, 0.0)),
                  layers.RandomTranslation((0.0, 0.0), (0.0, 0.0))):
        np.testing.assert_allclose(layer(IMAGES, training=True).numpy(), IMAGES, atol=1e-3)


@pytest.mark.parametrize("fill_mode, expected", [
    ("constant", [0, 0, 0, 1, 2, 3]),
    ("nearest", [1, 1, 1, 1, 2, 3]),
    ("reflect", [3, 2, 1, 1, 2, 3]),
    ("wrap", [4, 5, 6, 1, 2, 3]),
])
def test_translation_fills_the_uncovered_rows_as_its_fill_mode_says(fill_mode, expected):
    column = np.arange(1, 7, dtype=np.float32).reshape(1, 6, 1, 1) * np.ones((1, 1, 2, 1))
    layer = layers.RandomTranslation((0.5, 0.5), (0.0, 0.0), fill_mode=fill_mode)
    np.testing.assert_allclose(layer(column, training=True).numpy()[0, :, 0, 0], expected,
                               atol=1e-5)


def test_a_negative_zoom_magnifies_about_the_centre():
    x = np.zeros((1, 5, 5, 1), np.float32)
    x[0, 2, 2, 0] = 1.0
    out = layers.RandomZoom((-0.5, -0.5), fill_mode="constant",
                            interpolation="nearest")(x, training=True).numpy()[0, :, :, 0]
    # Output pixel i samples input 0.5 * i + 1: the centre pixel covers several outputs
    # around the centre, and the border samples the empty ring around it.
    assert out[2, 2] == 1.0 and out.sum() > 1
    assert not out[0].any() and not out[:, 0].any() and not out[4].any()
    np.testing.assert_array_equal(out, out.T)  # the same zoom along both axes


def test_flip_draws_per_image_and_both_orders_occur():
    flip = layers.RandomFlip("horizontal", seed=3)
    batch = np.repeat(IMAGES[:1], 64, axis=0)
    out = flip(batch, training=True).numpy()
    flipped = [np.array_equal(o, batch[0, :, ::-1]) for o in out]
    kept = [np.array_equal(o, batch[0]) for o in out]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54
    vertical = layers.RandomFlip("vertical")(batch, training=True).numpy()
    assert all(np.array_equal(o, batch[0]) or np.array_equal(o, batch[0, ::-1])
               for o in vertical)


def test_contrast_and_brightness_stay_in_the_value_range():
    bright = layers.RandomBrightness((0.9, 0.9))(IMAGES, training=True).numpy()
    assert bright.max() <= 255 and bright.min() >= 0.9 * 255 - 1e-3
    contrast = layers.RandomContrast((0.0, 0.0))(IMAGES, training=True).numpy()
    np.testing.assert_allclose(contrast, IMAGES, rtol=1e-5)
    strong = layers.RandomContrast(1.0, value_range=(0, 1))(IMAGES / 255, training=True)
    assert 0 <= strong.numpy().min() and strong.numpy().max() <= 1


def test_random_crop_takes_a_window_in_training_and_the_centre_at_inference():
    layer = layers.RandomCrop(4, 3, seed=1)
    out = layer(IMAGES, training=True).numpy()
    assert out.shape == (4, 4, 3, 3)
    for image, crop in zip(IMAGES, out):
        windows = [image[i:i + 4, j:j + 3] for i in range(3) for j in range(4)]
        assert any(np.array_equal(crop, w) for w in windows)
    np.testing.assert_array_equal(layer(IMAGES, training=False).numpy(), IMAGES[:, 1:5, 1:4])


def test_resizing_and_center_crop():
    np.testing.assert_allclose(layers.Resizing(3, 4)(IMAGES).numpy(),
                               tf.image.resize(IMAGES, [3, 4]).numpy())
    cropped = layers.Resizing(3, 3, crop_to_aspect_ratio=True)(IMAGES[:, :, :4]).numpy()
    np.testing.assert_allclose(cropped, tf.image.resize(IMAGES[:, 1:5, :4], [3, 3]).numpy(),
                               rtol=1e-6)
    np.testing.assert_array_equal(layers.CenterCrop(2, 4)(IMAGES).numpy(), IMAGES[:, 2:4, 1:5])
    assert layers.CenterCrop(8, 8)(IMAGES).shape == (4, 8, 8, 3)


def test_augmentation_runs_inside_a_compiled_fit_and_not_in_predict():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 3))
    x = layers.RandomFlip("horizontal")(inputs)
    x = layers.RandomRotation(0.1)(x)
    x = layers.RandomZoom(0.1)(x)
    x = layers.Rescaling(1 / 255)(x)
    model = keras.Model(inputs, layers.Dense(2)(layers.GlobalAveragePooling2D()(x)))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(IMAGES, np.array([0, 1, 0, 1]), epochs=2, verbose=0)
    first = model.predict(IMAGES, verbose=0)
    np.testing.assert_allclose(model.predict(IMAGES, verbose=0), first)
    np.testing.assert_allclose(first, model(IMAGES).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.RandomRotation("x"), ValueError, "factor"),
    (lambda: layers.RandomRotation((0.3, 0.1)), ValueError, "above the upper bound"),
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), NotImplementedError, "fill_mode"),
    (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), NotImplementedError,
     "interpolation"),
    (lambda: layers.RandomZoom((-1.5, 0.0)), ValueError, "flip the image"),
    (lambda: layers.RandomFlip("diagonal"), ValueError, "unknown mode"),
    (lambda: layers.RandomContrast(1.5), ValueError, "within \\[0, 1\\]"),
    (lambda: layers.RandomBrightness(2.0), ValueError, "within \\[-1, 1\\]"),
    (lambda: layers.RandomFlip(data_format="channels_first"), NotImplementedError,
     "channels_first"),
    (lambda: layers.Resizing(2, 2, pad_to_aspect_ratio=True), NotImplementedError, "pad_to"),
    (lambda: layers.Resizing(2, 2, interpolation="area"), NotImplementedError, "area"),
    (lambda: layers.CenterCrop(2, 2, data_format="channels_first"), NotImplementedError,
     "channels"),
    (lambda: layers.RandomFlip()(IMAGES[0, 0], training=True), ValueError, "expects images"),
    (lambda: layers.RandomCrop(9, 2)(IMAGES, training=True), ValueError, "smaller than the"),
])
def test_augmentation_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
