"""Image preprocessing and augmentation layers: Resizing, CenterCrop and the Random* layers.

``Resizing`` and ``CenterCrop`` always apply. The ``Random*`` layers change images only
while training (``fit``, or ``layer(x, training=True)``) and pass them through
unchanged at inference, as in Keras. Each image of a batch gets its own random draw.
Images are channels-last: ``(height, width, channels)`` or a batch of them.

Geometric augmentations (rotation, zoom, translation) map each output pixel to a point of
the input through a 2-D affine transform and sample it bilinearly (or at the nearest
pixel). A neighbour outside the image is read according to ``fill_mode``: ``reflect``
(``d c b a | a b c d | d c b a``), ``wrap`` (``a b c d | a b c d``), ``nearest`` (the edge
pixel) or ``constant`` (``fill_value``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from neuroflow.keras.layers.base import Layer
from neuroflow.ops import elementwise as ew
from neuroflow.ops import image_ops, random_ops, reductions, shape_ops
from neuroflow.ops.creation import range_
from neuroflow.tensor import Tensor

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("bilinear", "nearest")


def _check_format(layer: str, data_format) -> None:
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{layer}: data_format={data_format!r} is not supported yet; "
                                  f"use channels-last images.")


def _factor_range(factor, layer: str, name: str = "factor", symmetric: bool = True
                  ) -> tuple[float, float]:
    """``0.2`` -> ``(-0.2, 0.2)``; ``(a, b)`` stays; checked as Keras checks it."""
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2:
            raise ValueError(f"{layer}: `{name}` must be a number or a tuple of two numbers; "
                             f"received {factor!r}.")
        lower, upper = (float(f) for f in factor)
    elif isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        lower, upper = (-abs(float(factor)), abs(float(factor))) if symmetric else (
            0.0, float(factor))
    else:
        raise ValueError(f"{layer}: `{name}` must be a number or a tuple of two numbers; "
                         f"received {factor!r}.")
    if lower > upper:
        raise ValueError(f"{layer}: `{name}` lower bound {lower} is above the upper bound "
                         f"{upper}.")
    return lower, upper


def _as_batch(images: Tensor, layer: str) -> tuple[Tensor, bool]:
    if images.ndim not in (3, 4):
        raise ValueError(f"{layer} expects images of shape (height, width, channels) or "
                         f"(batch, height, width, channels); received shape "
                         f"{tuple(images.shape)}.")
    if images.ndim == 3:
        return shape_ops.expand_dims(images, 0), True
    return images, False


def _float_images(images: Tensor) -> Tensor:
    return images if images.dtype.name in ("float16", "float32", "float64") else ew.cast(
        images, "float32")


def _per_image(images: Tensor, low: float, high: float, seed) -> Tensor:
    """One uniform draw in ``[low, high)`` per image of the batch, shaped ``(batch,)``."""
    batch = shape_ops.shape(images)[:1]
    return random_ops.uniform(batch, low, high, dtype=images.dtype.name, seed=seed)


def _fill_index(index: Tensor, size: int, fill_mode: str) -> tuple[Tensor, Tensor | None]:
    """In-range pixel indices for ``index`` under ``fill_mode`` (and, for ``constant``,
    whether each was inside the image)."""
    if fill_mode == "nearest":
        return ew.clip_by_value(index, 0, size - 1), None
    if fill_mode == "wrap":
        return ew.floormod(index, size), None
    if fill_mode == "reflect":
        folded = ew.floormod(index, 2 * size)
        return ew.where(folded < size, folded, 2 * size - 1 - folded), None
    inside = ew.logical_and(index >= 0, index < size)
    return ew.clip_by_value(index, 0, size - 1), inside


def _affine(images: Tensor, matrices: Tensor, interpolation: str, fill_mode: str,
            fill_value: float) -> Tensor:
    """Sample ``images`` (batch, h, w, c) where each image's ``[a0..a5]`` maps output
    ``(x, y)`` to input ``(a0 x + a1 y + a2, a3 x + a4 y + a5)``."""
    _, height, width, channels = images.shape
    dtype = images.dtype.name
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    grid_x = Tensor(xs.reshape(1, -1).astype(dtype))
    grid_y = Tensor(ys.reshape(1, -1).astype(dtype))
    a = [matrices[:, i:i + 1] for i in range(6)]
    src_x = a[0] * grid_x + a[1] * grid_y + a[2]  # (batch, h * w)
    src_y = a[3] * grid_x + a[4] * grid_y + a[5]
    flat = shape_ops.reshape(images, [-1, channels])
    batch_index = ew.cast(_batch_index(images), "int64") * (height * width)

    def read(iy: Tensor, ix: Tensor) -> Tensor:
        iy, inside_y = _fill_index(iy, height, fill_mode)
        ix, inside_x = _fill_index(ix, width, fill_mode)
        flat_index = batch_index + ew.cast(iy, "int64") * width + ew.cast(ix, "int64")
        values = shape_ops.gather(flat, shape_ops.reshape(flat_index, [-1]))
        values = shape_ops.reshape(values, [-1, height * width, channels])
        if inside_y is None:
            return values
        inside = shape_ops.expand_dims(ew.logical_and(inside_y, inside_x), -1)
        return ew.where(inside, values, ew.cast(fill_value, dtype))

    if interpolation == "nearest":
        out = read(ew.cast(ew.round(src_y), "int64"), ew.cast(ew.round(src_x), "int64"))
    else:
        x0, y0 = ew.floor(src_x), ew.floor(src_y)
        wx, wy = shape_ops.expand_dims(src_x - x0, -1), shape_ops.expand_dims(src_y - y0, -1)
        x0, y0 = ew.cast(x0, "int64"), ew.cast(y0, "int64")
        top = read(y0, x0) * (1 - wx) + read(y0, x0 + 1) * wx
        bottom = read(y0 + 1, x0) * (1 - wx) + read(y0 + 1, x0 + 1) * wx
        out = top * (1 - wy) + bottom * wy
    return shape_ops.reshape(out, [-1, height, width, channels])


def _batch_index(images: Tensor) -> Tensor:
    """``[[0], [1], ...]``: each image's position in the batch, shaped ``(batch, 1)``."""
    count = shape_ops.shape(images)[0]
    return shape_ops.expand_dims(range_(count), -1)


class _Augmentation(Layer):
    """Applies ``_augment`` in training; passes images through at inference."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(type(self).__name__, data_format)
        self.seed = seed
        self.data_format = "channels_last"
        self.built = True

    def call(self, inputs, training=True):
        if not training:
            return inputs
        images, single = _as_batch(inputs, type(self).__name__)
        out = self._augment(_float_images(images))
        return shape_ops.squeeze(out, [0]) if single else out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


class _Geometric(_Augmentation):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = type(self).__name__
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"{name}: unknown fill_mode {fill_mode!r}; expected one "
                                      f"of {_FILL_MODES}.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"{name}: unknown interpolation {interpolation!r}; "
                                      f"expected one of {_INTERPOLATIONS}.")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def _augment(self, images):
        return _affine(images, self._matrices(images), self.interpolation, self.fill_mode,
                       self.fill_value)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomRotation(_Geometric):
    """Rotate each image by a random angle in ``factor * 2 pi`` about its centre."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor
        self.lower, self.upper = _factor_range(factor, "RandomRotation")
        # Kept for Keras's configs: a rotation samples the image, it adds no values to clip.
        self.value_range = tuple(value_range)

    def _matrices(self, images):
        height, width = images.shape[1], images.shape[2]
        angle = _per_image(images, self.lower * 2 * math.pi, self.upper * 2 * math.pi,
                           self.seed)
        cos, sin = ew.cos(angle), ew.sin(angle)
        x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2
        y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2
        return shape_ops.stack([cos, -sin, x_offset, sin, cos, y_offset], axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomZoom(_Geometric):
    """Zoom each image by ``1 + f``, ``f`` drawn from ``height_factor`` (positive: out)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range(height_factor, "RandomZoom", "height_factor")
        self.width_range = (None if width_factor is None else
                            _factor_range(width_factor, "RandomZoom", "width_factor"))
        for low, _ in (self.height_range, self.width_range or (0, 0)):
            if low < -1:
                raise ValueError(f"RandomZoom: a zoom factor below -1 would flip the image; "
                                 f"received {height_factor!r}, {width_factor!r}.")

    def _matrices(self, images):
        height, width = images.shape[1], images.shape[2]
        zoom_y = 1 + _per_image(images, *self.height_range, self.seed)
        zoom_x = zoom_y if self.width_range is None else 1 + _per_image(
            images, *self.width_range, self.seed)
        zero = zoom_x * 0
        return shape_ops.stack([zoom_x, zero, (width - 1) / 2 * (1 - zoom_x),
                                zero, zoom_y, (height - 1) / 2 * (1 - zoom_y)], axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomTranslation(_Geometric):
    """Shift each image by a random fraction of its height and width."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range(height_factor, "RandomTranslation", "height_factor")
        self.width_range = _factor_range(width_factor, "RandomTranslation", "width_factor")

    def _matrices(self, images):
        height, width = images.shape[1], images.shape[2]
        dy = _per_image(images, *self.height_range, self.seed) * height
        dx = _per_image(images, *self.width_range, self.seed) * width
        one, zero = dx * 0 + 1, dx * 0
        return shape_ops.stack([one, zero, -dx, zero, one, -dy], axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomFlip(_Augmentation):
    """Flip each image left-right and/or up-down with probability 1/2."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument "
                             f"{mode}")
        self.mode = mode

    def _augment(self, images):
        for axis, wanted in ((2, "horizontal"), (1, "vertical")):
            if wanted in self.mode:
                flip = _per_image(images, 0.0, 1.0, self.seed) < 0.5
                flip = shape_ops.reshape(flip, [-1, 1, 1, 1])
                images = ew.where(flip, shape_ops.reverse(images, [axis]), images)
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class RandomContrast(_Augmentation):
    """Scale each image's distance from its per-channel mean by ``1 + f``, then clip."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        lower, upper = _factor_range(factor, "RandomContrast")
        if not (0 <= -lower <= 1 and upper >= 0):
            raise ValueError(f"RandomContrast: `factor` must be within [0, 1] (or a pair "
                             f"(lower, upper) with lower <= 1), received {factor!r}.")
        self.range = (1 + lower, 1 + upper)
        self.value_range = tuple(value_range)

    def _augment(self, images):
        factor = shape_ops.reshape(_per_image(images, *self.range, self.seed), [-1, 1, 1, 1])
        mean = reductions.reduce_mean(images, axis=[1, 2], keepdims=True)
        out = (images - mean) * factor + mean
        return ew.clip_by_value(out, *self.value_range)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(_Augmentation):
    """Add ``f * (max - min)`` of ``value_range`` to each image, ``f`` drawn from ``factor``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self.range = _factor_range(factor, "RandomBrightness")
        if self.range[0] < -1 or self.range[1] > 1:
            raise ValueError(f"RandomBrightness: `factor` must be within [-1, 1], received "
                             f"{factor!r}.")
        self.value_range = tuple(value_range)

    def _augment(self, images):
        low, high = self.value_range
        delta = _per_image(images, *self.range, self.seed) * (high - low)
        out = images + shape_ops.reshape(delta, [-1, 1, 1, 1])
        return ew.clip_by_value(out, low, high)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomCrop(_Augmentation):
    """A random ``height x width`` window of each image in training; the centre otherwise."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs, training=True):
        images, single = _as_batch(inputs, "RandomCrop")
        h, w = images.shape[1], images.shape[2]
        if h < self.height or w < self.width:
            raise ValueError(f"RandomCrop {self.name!r}: the images ({h} x {w}) are smaller "
                             f"than the crop ({self.height} x {self.width}).")
        if not training:
            out = image_ops.resize_with_crop_or_pad(images, self.height, self.width)
        else:
            top = ew.cast(_per_image(_float_images(images), 0.0, 1.0, self.seed)
                          * (h - self.height + 1), "int64")
            left = ew.cast(_per_image(_float_images(images), 0.0, 1.0, self.seed)
                           * (w - self.width + 1), "int64")
            rows = shape_ops.expand_dims(top, 1) + Tensor(np.arange(self.height))
            cols = shape_ops.expand_dims(left, 1) + Tensor(np.arange(self.width))
            out = shape_ops.gather(images, rows, axis=1, batch_dims=1)
            out = shape_ops.gather(out, cols, axis=2, batch_dims=1)
        return shape_ops.squeeze(out, [0]) if single else out

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}


class Resizing(Layer):
    """Resize images to ``(height, width)``, optionally centre-cropping to the aspect first."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format("Resizing", data_format)
        if pad_to_aspect_ratio:
            raise NotImplementedError("Resizing: pad_to_aspect_ratio=True is not supported "
                                      "yet.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Resizing: interpolation {interpolation!r} is not "
                                      f"supported; use one of {_INTERPOLATIONS}.")
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.data_format = "channels_last"
        self.built = True

    def call(self, inputs):
        images, single = _as_batch(inputs, "Resizing")
        if self.crop_to_aspect_ratio:
            h, w = images.shape[1], images.shape[2]
            crop_h = min(h, int(round(w * self.height / self.width)))
            crop_w = min(w, int(round(h * self.width / self.height)))
            images = image_ops.resize_with_crop_or_pad(images, crop_h, crop_w)
        out = image_ops.resize(images, [self.height, self.width], method=self.interpolation)
        out = ew.cast(out, self.dtype) if out.dtype.name != self.dtype else out
        return shape_ops.squeeze(out, [0]) if single else out

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "data_format": self.data_format}


class CenterCrop(Layer):
    """The central ``height x width`` of each image (resized up first if it is smaller)."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format("CenterCrop", data_format)
        self.height, self.width = int(height), int(width)
        self.data_format = "channels_last"
        self.built = True

    def call(self, inputs):
        images, single = _as_batch(inputs, "CenterCrop")
        h, w = images.shape[1], images.shape[2]
        if h < self.height or w < self.width:
            out = Resizing(self.height, self.width, crop_to_aspect_ratio=True,
                           dtype=self.dtype)(images)
        else:
            out = image_ops.resize_with_crop_or_pad(images, self.height, self.width)
        return shape_ops.squeeze(out, [0]) if single else out

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-3], self.height, self.width, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}
