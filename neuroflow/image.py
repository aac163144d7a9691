"""``tf.image``: resizing, flips, rotations, crops and per-image adjustments."""

import enum as _enum

from neuroflow.ops.image_ops import (  # noqa: F401
    adjust_brightness,
    adjust_contrast,
    central_crop,
    flip_left_right,
    flip_up_down,
    grayscale_to_rgb,
    per_image_standardization,
    resize,
    resize_with_crop_or_pad,
    rgb_to_grayscale,
    rot90,
)


class ResizeMethod(str, _enum.Enum):
    """``tf.image.ResizeMethod``: the resize methods, by TensorFlow's names."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"
