"""tf.image against TensorFlow: values, dtypes and gradients."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

R = np.random.default_rng(0)


def _both(fn, *arrays):
    return (fn(T, *(T.constant(a) for a in arrays)),
            fn(N, *(N.constant(a) for a in arrays)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "float16"])
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(7, 4), (2, 9), (5, 6), (1, 1), (16, 3)])
def test_resize_matches(size, method, dtype):
    x = (R.uniform(0, 255, size=(2, 5, 6, 3))).astype(dtype)
    theirs, ours = _both(lambda lib, v: lib.image.resize(v, size, method=method), x)
    assert ours.dtype.name == theirs.dtype.name and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours, np.float64), np.asarray(theirs, np.float64),
                               rtol=1e-5, atol=1e-3)


def test_resize_gradient_matches():
    x = R.normal(size=(2, 5, 6, 3)).astype(np.float32)
    grads = []
    for lib in (T, N):
        v = lib.constant(x)
        with lib.GradientTape() as tape:
            tape.watch(v)
            y = lib.image.resize(v, [7, 4])
            loss = lib.reduce_sum(y * y)
        grads.append(np.asarray(tape.gradient(loss, v)))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, fn", [
    ("flip_left_right", lambda lib, x: lib.image.flip_left_right(x)),
    ("flip_up_down", lambda lib, x: lib.image.flip_up_down(x)),
    ("rot90", lambda lib, x: lib.image.rot90(x, 3)),
    ("rot90-single", lambda lib, x: lib.image.rot90(x[0], 1)),
    ("per_image_standardization", lambda lib, x: lib.image.per_image_standardization(x)),
    ("central_crop", lambda lib, x: lib.image.central_crop(x, 0.6)),
    ("resize_with_crop_or_pad", lambda lib, x: lib.image.resize_with_crop_or_pad(x, 7, 3)),
    ("adjust_brightness", lambda lib, x: lib.image.adjust_brightness(x, 0.3)),
    ("adjust_contrast", lambda lib, x: lib.image.adjust_contrast(x, 1.7)),
    ("rgb_to_grayscale", lambda lib, x: lib.image.rgb_to_grayscale(x)),
    ("grayscale_to_rgb", lambda lib, x: lib.image.grayscale_to_rgb(x[..., :1])),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_image_ops_match(name, fn, dtype):
    x = R.normal(size=(2, 5, 6, 3)).astype(dtype)
    theirs, ours = _both(fn, x)
    assert ours.dtype.name == theirs.dtype.name and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)


def test_integer_images_match():
    x = R.integers(0, 256, size=(2, 5, 6, 3)).astype(np.uint8)
    for fn in (lambda lib, v: lib.image.per_image_standardization(v),
               lambda lib, v: lib.image.rgb_to_grayscale(v)):
        theirs, ours = _both(fn, x)
        assert ours.dtype.name == theirs.dtype.name
        np.testing.assert_allclose(np.asarray(ours, np.float64),
                                   np.asarray(theirs, np.float64), rtol=1e-5, atol=1)
