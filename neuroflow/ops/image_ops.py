"""``tf.image``: resizing, flips, rotations, crops and per-image adjustments.

Images are ``(height, width, channels)`` or batches ``(batch, height, width, channels)``.
Everything here is built from other ops, so gradients and graph mode come with them:
bilinear resizing is two products with constant interpolation matrices (their transposes
are the gradient), nearest-neighbour resizing two gathers.

Resizing follows TensorFlow 2's half-pixel convention: output pixel ``i`` samples the
input at ``(i + 0.5) * in / out - 0.5`` (bilinear, clamped at the borders) or at
``floor((i + 0.5) * in / out)`` (nearest).
"""

from __future__ import annotations

import numbers

import numpy as np

from neuroflow.abstract import ValueNeeded, is_known
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg, reductions, shape_ops
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor

_METHODS = ("bilinear", "nearest")


def _images(image, op: str) -> tuple[Tensor, bool]:
    """The images as a 4-D batch, and whether the input was a single 3-D image."""
    x = as_tensor(image)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: 'images' must have either 3 or 4 dimensions (height, width, "
                         f"channels, with a batch dimension first for 4), received shape "
                         f"{tuple(x.shape)}.")
    return (shape_ops.expand_dims(x, 0), True) if x.ndim == 3 else (x, False)


def _unbatched(x: Tensor, single: bool) -> Tensor:
    return shape_ops.squeeze(x, [0]) if single else x


def _known_size(value, op: str, what: str) -> tuple[int, int]:
    if isinstance(value, Tensor):
        if type(value._value) is not np.ndarray:
            raise ValueNeeded(f"{op}: {what} must be known when the function is traced (it "
                              f"sets the output's shape); received a tensor computed inside "
                              f"the function. Pass Python ints.", shape_ops.traced_source(value))
        value = value.numpy().tolist()
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if len(values) != 2 or not all(isinstance(v, (numbers.Integral, np.integer))
                                   and not isinstance(v, bool) for v in values):
        raise ValueError(f"{op}: {what} must be a 1-D int32 Tensor of 2 elements: new_height, "
                         f"new_width; received {value!r}.")
    return int(values[0]), int(values[1])


def _bilinear_matrix(out: int, size: int) -> np.ndarray:
    """``(out, size)`` weights: row i mixes the two input pixels around its sample point."""
    scale = size / out
    where = (np.arange(out) + 0.5) * scale - 0.5
    below = np.floor(where)
    fraction = where - below
    lower = np.clip(below, 0, size - 1).astype(np.int64)
    upper = np.clip(np.ceil(where), 0, size - 1).astype(np.int64)
    weights = np.zeros((out, size), np.float64)
    np.add.at(weights, (np.arange(out), lower), 1.0 - fraction)
    np.add.at(weights, (np.arange(out), upper), fraction)
    return weights.astype(np.float32)


def _nearest_index(out: int, size: int) -> np.ndarray:
    return np.minimum(np.floor((np.arange(out) + 0.5) * (size / out)), size - 1).astype(np.int32)


def resize(images, size, method="bilinear", preserve_aspect_ratio=False, antialias=False,
           name=None) -> Tensor:
    """Resize to ``size = (height, width)``; bilinear gives float32, nearest keeps the dtype."""
    op = "resize"
    method = getattr(method, "value", method)
    if method not in _METHODS:
        raise NotImplementedError(f"{op}: method {method!r} is not supported; use one of "
                                  f"{', '.join(repr(m) for m in _METHODS)}.")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported; pass "
                                  f"antialias=False.")
    x, single = _images(images, op)
    height, width = x.shape[1], x.shape[2]
    if not (is_known(x._value.shape[1]) and is_known(x._value.shape[2])):
        raise ValueError(f"{op}: the input's height and width must be known when the "
                         f"function is traced; received shape {tuple(x.shape)}.")
    new_height, new_width = _known_size(size, op, "size")
    if new_height <= 0 or new_width <= 0:
        raise InvalidArgumentError(f"{op}: output dimensions must be positive, received "
                                   f"size [{new_height}, {new_width}].", op)
    if preserve_aspect_ratio:
        factor = min(new_height / height, new_width / width)
        new_height = max(int(np.round(height * factor)), 1)
        new_width = max(int(np.round(width * factor)), 1)
    if method == "nearest":
        rows = shape_ops.gather(x, Tensor(_nearest_index(new_height, height)), axis=1)
        out = shape_ops.gather(rows, Tensor(_nearest_index(new_width, width)), axis=2)
        return _unbatched(out, single)
    x = x if x.dtype.name == "float32" else ew.cast(x, "float32")
    rows = Tensor(_bilinear_matrix(new_height, height))
    cols = Tensor(_bilinear_matrix(new_width, width))
    out = linalg.einsum("oh,bhwc->bowc", rows, x)
    out = linalg.einsum("pw,bowc->bopc", cols, out)
    return _unbatched(out, single)


def flip_left_right(image) -> Tensor:
    """Mirror each image horizontally (reverse the width axis)."""
    x = as_tensor(image)
    _check_rank(x, "flip_left_right")
    return shape_ops.reverse(x, [-2])


def flip_up_down(image) -> Tensor:
    """Mirror each image vertically (reverse the height axis)."""
    x = as_tensor(image)
    _check_rank(x, "flip_up_down")
    return shape_ops.reverse(x, [-3])


def _check_rank(x: Tensor, op: str) -> None:
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: 'image' (shape {tuple(x.shape)}) must have either 3 or 4 "
                         f"dimensions.")


def rot90(image, k=1, name=None) -> Tensor:
    """Rotate each image by ``k`` quarter turns counter-clockwise."""
    x = as_tensor(image)
    _check_rank(x, "rot90")
    if isinstance(k, Tensor):
        if type(k._value) is not np.ndarray:
            raise ValueNeeded("rot90: k must be known when the function is traced; pass an "
                              "int.", shape_ops.traced_source(k))
        k = int(k.numpy())
    if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)):
        raise TypeError(f"rot90: k must be an int, received {k!r}.")
    k = int(k) % 4
    h, w = x.ndim - 3, x.ndim - 2
    perm = list(range(x.ndim))
    perm[h], perm[w] = perm[w], perm[h]
    if k == 1:
        return shape_ops.reverse(shape_ops.transpose(x, perm), [h])
    if k == 2:
        return shape_ops.reverse(x, [h, w])
    if k == 3:
        return shape_ops.transpose(shape_ops.reverse(x, [h]), perm)
    return x


def per_image_standardization(image) -> Tensor:
    """``(x - mean) / max(stddev, 1/sqrt(pixels))`` per image, always in float32 (as
    TensorFlow does, whatever the input's dtype)."""
    x = as_tensor(image)
    _check_rank(x, "per_image_standardization")
    if x.dtype.name != "float32":
        x = ew.cast(x, "float32")
    axes = [-3, -2, -1]
    count = x.shape[-3] * x.shape[-2] * x.shape[-1]
    mean = reductions.reduce_mean(x, axis=axes, keepdims=True)
    std = reductions.reduce_std(x, axis=axes, keepdims=True)
    floor = ew.cast(1.0 / np.sqrt(count), x.dtype.name)
    return (x - mean) / ew.maximum(std, floor)


def central_crop(image, central_fraction) -> Tensor:
    """The central ``central_fraction`` (0 < f <= 1) of each image's height and width."""
    x = as_tensor(image)
    _check_rank(x, "central_crop")
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError(f"central_crop: central_fraction must be within (0, 1], received "
                         f"{central_fraction}.")
    if central_fraction == 1.0:
        return x
    h, w = x.shape[-3], x.shape[-2]
    top = int((h - h * central_fraction) / 2)
    left = int((w - w * central_fraction) / 2)
    rows = slice(top, h - top)
    cols = slice(left, w - left)
    return x[..., rows, cols, :]


def resize_with_crop_or_pad(image, target_height, target_width) -> Tensor:
    """Centre-crop or zero-pad each image to ``(target_height, target_width)``."""
    x = as_tensor(image)
    _check_rank(x, "resize_with_crop_or_pad")
    if target_height <= 0 or target_width <= 0:
        raise ValueError(f"resize_with_crop_or_pad: target sizes must be positive, received "
                         f"{target_height} x {target_width}.")
    h, w = x.shape[-3], x.shape[-2]
    crop_top, crop_left = max((h - target_height) // 2, 0), max((w - target_width) // 2, 0)
    x = x[..., crop_top:crop_top + min(h, target_height),
          crop_left:crop_left + min(w, target_width), :]
    pad_h, pad_w = max(target_height - h, 0), max(target_width - w, 0)
    if pad_h or pad_w:
        spatial = [[pad_h // 2, pad_h - pad_h // 2], [pad_w // 2, pad_w - pad_w // 2], [0, 0]]
        x = shape_ops.pad(x, ([[0, 0]] if x.ndim == 4 else []) + spatial)
    return x


def adjust_brightness(image, delta) -> Tensor:
    """Add ``delta`` to every pixel (floats; integers are converted to float32 and back)."""
    x = as_tensor(image)
    if x.dtype.name in ("float16", "float32", "float64"):
        return x + ew.cast(delta, x.dtype.name)
    raise NotImplementedError(f"adjust_brightness: integer images ({x.dtype.name}) are not "
                              f"supported yet; convert to float first.")


def adjust_contrast(images, contrast_factor) -> Tensor:
    """``(x - mean) * factor + mean``, the mean taken per image and channel."""
    x = as_tensor(images)
    _check_rank(x, "adjust_contrast")
    if x.dtype.name not in ("float16", "float32", "float64"):
        raise NotImplementedError(f"adjust_contrast: integer images ({x.dtype.name}) are not "
                                  f"supported yet; convert to float first.")
    mean = reductions.reduce_mean(x, axis=[-3, -2], keepdims=True)
    return (x - mean) * ew.cast(contrast_factor, x.dtype.name) + mean


def rgb_to_grayscale(images) -> Tensor:
    """The luma ``0.2989 R + 0.587 G + 0.114 B``, keeping a channel axis of 1."""
    x = as_tensor(images)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"rgb_to_grayscale: the last dimension must be 3 (RGB), received "
                         f"shape {tuple(x.shape)}.")
    dtype = x.dtype.name
    floats = x if dtype in ("float16", "float32", "float64") else ew.cast(x, "float32")
    weights = Tensor(np.array([0.2989, 0.587, 0.114], floats.dtype.name))
    gray = reductions.reduce_sum(floats * weights, axis=-1, keepdims=True)
    if floats is not x:
        gray = ew.cast(ew.round(gray), dtype)
    return gray


def grayscale_to_rgb(images) -> Tensor:
    """Repeat the single channel three times."""
    x = as_tensor(images)
    if x.ndim < 1 or x.shape[-1] != 1:
        raise ValueError(f"grayscale_to_rgb: the last dimension must be 1, received shape "
                         f"{tuple(x.shape)}.")
    return shape_ops.concat([x, x, x], axis=-1)
