"""tf.image against NumPy references written from the definitions (TensorFlow 2's
half-pixel sampling), gradients against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import raises_with_message, uniform

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients


def ref_bilinear(x, out_h, out_w):
    """Sample each output pixel at its half-pixel centre, interpolating four neighbours."""
    n, h, w, c = x.shape
    y = np.zeros((n, out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            fi = max((i + 0.5) * h / out_h - 0.5, 0.0)
            fj = max((j + 0.5) * w / out_w - 0.5, 0.0)
            i0, j0 = min(int(np.floor(fi)), h - 1), min(int(np.floor(fj)), w - 1)
            i1, j1 = min(i0 + 1, h - 1), min(j0 + 1, w - 1)
            a, b = fi - np.floor(fi), fj - np.floor(fj)
            y[:, i, j] = ((1 - a) * ((1 - b) * x[:, i0, j0] + b * x[:, i0, j1])
                          + a * ((1 - b) * x[:, i1, j0] + b * x[:, i1, j1]))
    return y


def ref_nearest(x, out_h, out_w):
    n, h, w, c = x.shape
    rows = [min(int(np.floor((i + 0.5) * h / out_h)), h - 1) for i in range(out_h)]
    cols = [min(int(np.floor((j + 0.5) * w / out_w)), w - 1) for j in range(out_w)]
    return x[:, rows][:, :, cols]


@pytest.mark.parametrize("size", [(7, 4), (2, 9), (5, 6), (1, 1), (12, 15)])
def test_bilinear_resize_matches_the_half_pixel_reference(size):
    x = uniform(2, 5, 6, 3)
    got = tf.image.resize(x, size)
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), ref_bilinear(x, *size), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(7, 4), (2, 9), (5, 6), (1, 1)])
def test_nearest_resize_picks_the_reference_pixels_and_keeps_the_dtype(size):
    x = np.arange(2 * 5 * 6 * 3).reshape(2, 5, 6, 3).astype(np.uint8)
    got = tf.image.resize(x, size, method="nearest")
    assert got.dtype == tf.uint8
    np.testing.assert_array_equal(got.numpy(), ref_nearest(x, *size))
    single = tf.image.resize(x[0], size, method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    np.testing.assert_array_equal(single.numpy(), ref_nearest(x, *size)[0])


def test_resize_gradient_and_aspect_ratio():
    # Bilinear resizing computes in float32 (as TensorFlow does) and is linear: a large
    # step keeps the finite differences exact up to float32 rounding.
    check_gradients(lambda x: tf.image.resize(x, [7, 3]), (uniform(1, 4, 5, 2),), eps=1e-2,
                    atol=1e-4)
    check_gradients(lambda x: tf.image.resize(x, [2, 8], method="nearest"),
                    (uniform(1, 4, 5, 2),))
    assert tf.image.resize(uniform(2, 4, 5, 1), [6, 3], preserve_aspect_ratio=True).shape == (
        2, 2, 3, 1)


def test_flips_rotations_and_crops_move_pixels_as_numpy_does():
    x = uniform(2, 4, 5, 3)
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), x[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(x[0]).numpy(), x[0, ::-1])
    for k in range(-1, 6):
        np.testing.assert_array_equal(tf.image.rot90(x, k).numpy(),
                                      np.rot90(x, k, axes=(1, 2)))
        np.testing.assert_array_equal(tf.image.rot90(x[0], k).numpy(), np.rot90(x[0], k))
    np.testing.assert_array_equal(tf.image.central_crop(x, 0.5).numpy(), x[:, 1:3, 1:4])
    np.testing.assert_array_equal(tf.image.central_crop(x, 1.0).numpy(), x)
    padded = tf.image.resize_with_crop_or_pad(x[0], 6, 3).numpy()
    np.testing.assert_array_equal(padded[1:5], x[0, :, 1:4])
    assert not padded[0].any() and not padded[5].any()


def test_per_image_standardization_and_adjustments():
    x = uniform(3, 4, 5, 3) * 10
    got = tf.image.per_image_standardization(x).numpy()
    for image, out in zip(x, got):
        expected = (image - image.mean()) / max(image.std(), 1 / np.sqrt(image.size))
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    constant = np.full((1, 2, 2, 1), 7, np.uint8)
    out = tf.image.per_image_standardization(constant)
    assert out.dtype == tf.float32 and not out.numpy().any()
    np.testing.assert_allclose(tf.image.adjust_brightness(x, 0.5).numpy(), x + 0.5)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(tf.image.adjust_contrast(x, 2.0).numpy(), (x - mean) * 2 + mean,
                               rtol=1e-10)
    gray = tf.image.rgb_to_grayscale(x).numpy()
    np.testing.assert_allclose(gray[..., 0], x @ np.array([0.2989, 0.587, 0.114]), rtol=1e-10)
    rgb = tf.image.grayscale_to_rgb(gray).numpy()
    assert rgb.shape == (3, 4, 5, 3) and (rgb == gray).all()
    assert tf.image.rgb_to_grayscale(np.full((2, 2, 3), 100, np.uint8)).numpy().max() == 100


def test_image_errors():
    x = uniform(2, 4, 5, 3)
    raises_with_message(ValueError, lambda: tf.image.resize(uniform(4, 5), [2, 2]),
                        "3 or 4 dimensions")
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.image.resize(x, [0, 3]),
                        "must be positive")
    raises_with_message(ValueError, lambda: tf.image.resize(x, [2]), "2 elements")
    raises_with_message(NotImplementedError, lambda: tf.image.resize(x, [2, 2], "bicubic"),
                        "'bilinear', 'nearest'")
    raises_with_message(NotImplementedError,
                        lambda: tf.image.resize(x, [2, 2], antialias=True), "antialias")
    raises_with_message(ValueError, lambda: tf.image.flip_left_right(uniform(3)), "3 or 4")
    raises_with_message(TypeError, lambda: tf.image.rot90(x, 1.5), "k must be an int")
    raises_with_message(ValueError, lambda: tf.image.central_crop(x, 0.0), "(0, 1]")
    raises_with_message(ValueError, lambda: tf.image.resize_with_crop_or_pad(x, 0, 2),
                        "positive")
    raises_with_message(ValueError, lambda: tf.image.rgb_to_grayscale(uniform(2, 2)),
                        "must be 3")
    raises_with_message(ValueError, lambda: tf.image.grayscale_to_rgb(x), "must be 1")
    raises_with_message(NotImplementedError,
                        lambda: tf.image.adjust_brightness(x.astype(np.uint8), 1), "integer")
    raises_with_message(NotImplementedError,
                        lambda: tf.image.adjust_contrast(x.astype(np.uint8), 1.5), "integer")
    f = tf.function(lambda v, s: tf.image.resize(v, s * 1))
    raises_with_message(ValueError, lambda: f(x, tf.constant([3, 3])), "known when the "
                        "function is traced")
    passed = tf.function(lambda v, s: tf.image.resize(v, s))  # the size keys the trace
    assert passed(x, tf.constant([3, 3])).shape == (2, 3, 3, 3)
    assert passed(x, tf.constant([2, 4])).shape == (2, 2, 4, 3)
    g = tf.function(lambda v: tf.image.resize(v, [3, 3]),
                    input_signature=[tf.TensorSpec([None, None, 5, 3], tf.float64)])
    raises_with_message(ValueError, lambda: g(x), "height and width must be known")
    h = tf.function(lambda v, k: tf.image.rot90(v, k + 0))
    raises_with_message(ValueError, lambda: h(x, tf.constant(1)), "k must be known")
    np.testing.assert_array_equal(tf.function(tf.image.rot90)(x, tf.constant(1)).numpy(),
                                  np.rot90(x, 1, axes=(1, 2)))
    np.testing.assert_array_equal(tf.image.rot90(x, tf.constant(2)).numpy(),
                                  np.rot90(x, 2, axes=(1, 2)))
    np.testing.assert_array_equal(tf.image.resize(x, tf.constant([3, 2])).shape, (2, 3, 2, 3))
