"""Cases of tf.image."""

from __future__ import annotations

from frozen_cases import Case, bind, floats, gradients_of

import neuroflow as tf


def _batch(r, n):
    return (floats(r, n, 5, 6, 3),)


def _image(r, n):
    return (floats(r, 4 + n, 6, 3),)


CASES = {
    "tf.image.resize": [Case(bind(tf.image.resize, size=[7, 4]), _batch),
                        Case(bind(tf.image.resize, size=[3, 9], method="nearest"), _image,
                             "nearest")],
    "tf.image.flip_left_right": [Case(tf.image.flip_left_right, _batch)],
    "tf.image.flip_up_down": [Case(tf.image.flip_up_down, _image)],
    "tf.image.rot90": [Case(bind(tf.image.rot90, k=1), _batch),
                       Case(bind(tf.image.rot90, k=3), _image, "k3")],
    "tf.image.per_image_standardization": [Case(tf.image.per_image_standardization, _batch)],
    "tf.image.central_crop": [Case(bind(tf.image.central_crop, central_fraction=0.5), _batch)],
    "tf.image.resize_with_crop_or_pad": [
        Case(bind(tf.image.resize_with_crop_or_pad, target_height=3, target_width=8), _image)],
    "tf.image.adjust_brightness": [Case(bind(tf.image.adjust_brightness, delta=0.25), _batch)],
    "tf.image.adjust_contrast": [Case(bind(tf.image.adjust_contrast, contrast_factor=1.5),
                                      _batch)],
    "tf.image.rgb_to_grayscale": [Case(tf.image.rgb_to_grayscale, _batch)],
    "tf.image.grayscale_to_rgb": [Case(tf.image.grayscale_to_rgb, lambda r, n: (
        floats(r, n, 4, 4, 1),))],
}

EXTRA_CASES = {
    # Squared: resizing is linear, so its own gradient would not depend on the values.
    "gradient of resize": [Case(gradients_of(lambda x: tf.square(tf.image.resize(x, [8, 3]))),
                                _batch, "bilinear")],
}
