"""Layers that rearrange samples: Permute, RepeatVector, ZeroPadding1D/2D/3D,
Cropping1D/2D/3D and UpSampling1D/2D/3D (Keras 3's arguments, defaults and configs).

All are shape ops on each sample (transpose, tile, pad, slice, repeat), so their
gradients are the ops' own, and sizes a compiled trace leaves unknown (the batch) stay
unknown.
"""

from __future__ import annotations

import numbers

from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.convolutional import normalize_data_format, normalize_tuple
from neuroflow.ops import arrangement, image_ops, shape_ops
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _pairs(value, rank: int, name: str, layer: str) -> tuple:
    """Padding or cropping as one ``(before, after)`` pair per spatial axis.

    ``rank == 1``: an int or a pair; otherwise an int (all sides), ``rank`` ints (each
    axis symmetric) or ``rank`` pairs, as Keras 3 accepts them.
    """
    if rank == 1:
        return (normalize_tuple(value, 2, name, layer, allow_zero=True),)
    if _is_int(value):
        entries = [value] * rank
    elif isinstance(value, (list, tuple)) and len(value) == rank:
        entries = list(value)
    else:
        raise ValueError(f"{layer}: `{name}` should be either an int, a tuple of {rank} ints "
                         f"or a tuple of {rank} tuples of 2 ints (before, after) for each "
                         f"spatial axis. Received: {name}={value!r}.")
    return tuple(normalize_tuple(e, 2, f"{name} entry {i + 1}", layer, allow_zero=True)
                 for i, e in enumerate(entries))


def _spatial_axes(layer, rank: int) -> list[int]:
    first = getattr(layer, "data_format", "channels_last") == "channels_first"
    return list(range(2, 2 + rank)) if first else list(range(1, 1 + rank))


def _check_rank(layer: Layer, shape, rank: int) -> None:
    if len(shape) != rank + 2:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} expects inputs of rank "
                         f"{rank + 2} (batch, {rank} spatial dimension{'s' * (rank > 1)}, "
                         f"channels); received inputs of shape {tuple(shape)}.")


class Permute(Layer):
    """Permute the axes of each sample: ``dims`` lists the sample axes from 1, e.g.
    ``Permute((2, 1))`` swaps the two axes of ``(batch, steps, features)`` inputs."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set "
                             f"of indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims}")
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        if inputs._value.ndim != len(self.dims) + 1:
            raise ValueError(f"Permute {self.name!r} with dims={self.dims} expects inputs of "
                             f"rank {len(self.dims) + 1}; received inputs of shape "
                             f"{tuple(inputs.shape)}.")
        return shape_ops.transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *[input_shape[d] for d in self.dims])

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeat each vector sample ``n`` times: ``(batch, features) -> (batch, n, features)``."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(n):
            raise TypeError(f"RepeatVector: expected an integer value for `n`, got "
                            f"{type(n)}.")
        if n <= 0:
            raise ValueError(f"RepeatVector: the value of `n` should be a positive integer. "
                             f"Received: n={n}")
        self.n = int(n)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        if inputs._value.ndim != 2:
            raise ValueError(f"RepeatVector {self.name!r} expects inputs of rank 2 (batch, "
                             f"features); received inputs of shape {tuple(inputs.shape)}.")
        return shape_ops.tile(shape_ops.expand_dims(inputs, 1), [1, self.n, 1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


class _ZeroPadding(Layer):
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.data_format = normalize_data_format(data_format, layer)
        pairs = _pairs(padding, self.rank, "padding", layer)
        self.padding = pairs[0] if self.rank == 1 else pairs
        self.built = True

    def _pairs(self) -> tuple:
        return (self.padding,) if self.rank == 1 else self.padding

    def call(self, inputs: Tensor) -> Tensor:
        _check_rank(self, inputs._value.shape, self.rank)
        paddings = [[0, 0]] * (self.rank + 2)
        for axis, pair in zip(_spatial_axes(self, self.rank), self._pairs()):
            paddings[axis] = list(pair)
        return shape_ops.pad(inputs, paddings)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self, self.rank), self._pairs()):
            shape[axis] = None if shape[axis] is None else shape[axis] + before + after
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Add zeros at the start and end of the steps: ``padding`` is an int or a pair."""

    rank = 1


class ZeroPadding2D(_ZeroPadding):
    """Add rows and columns of zeros around images."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Add zeros around volumes."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    rank = 1

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.data_format = (normalize_data_format(data_format, layer) if self.rank > 1
                            else "channels_last")
        pairs = _pairs(cropping, self.rank, "cropping", layer)
        self.cropping = pairs[0] if self.rank == 1 else pairs
        self.built = True

    def _pairs(self) -> tuple:
        return (self.cropping,) if self.rank == 1 else self.cropping

    def _check_sizes(self, shape) -> None:
        for axis, (before, after) in zip(_spatial_axes(self, self.rank), self._pairs()):
            size = shape[axis]
            if type(size) is int and before + after >= size:
                raise ValueError(f"{type(self).__name__} {self.name!r}: values in `cropping` "
                                 f"argument should be smaller than the corresponding spatial "
                                 f"dimension of the input. Received: input shape "
                                 f"{tuple(shape)}, cropping={self.cropping}")

    def call(self, inputs: Tensor) -> Tensor:
        shape = inputs._value.shape
        _check_rank(self, shape, self.rank)
        self._check_sizes(shape)
        key = [slice(None)] * (self.rank + 2)
        for axis, (before, after) in zip(_spatial_axes(self, self.rank), self._pairs()):
            key[axis] = slice(before, -after if after else None)
        return inputs[tuple(key)]

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        self._check_sizes(tuple(input_shape))
        shape = list(input_shape)
        for axis, (before, after) in zip(_spatial_axes(self, self.rank), self._pairs()):
            shape[axis] = None if shape[axis] is None else shape[axis] - before - after
        return tuple(shape)

    def get_config(self) -> dict:
        config = {**super().get_config(), "cropping": self.cropping}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(_Cropping):
    """Cut steps from the start and end of ``(batch, steps, features)`` inputs."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Cut rows and columns from the edges of images."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Cut slices from the edges of volumes."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _UpSampling(Layer):
    rank = 1

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.data_format = (normalize_data_format(data_format, layer) if self.rank > 1
                            else "channels_last")
        sizes = normalize_tuple(size, self.rank, "size", layer)
        self.size = sizes[0] if self.rank == 1 else sizes
        self.built = True

    def _sizes(self) -> tuple:
        return (self.size,) if self.rank == 1 else self.size

    def call(self, inputs: Tensor) -> Tensor:
        _check_rank(self, inputs._value.shape, self.rank)
        outputs = inputs
        for axis, factor in zip(_spatial_axes(self, self.rank), self._sizes()):
            if factor != 1:
                outputs = arrangement.repeat(outputs, factor, axis=axis)
        return outputs

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        shape = list(input_shape)
        for axis, factor in zip(_spatial_axes(self, self.rank), self._sizes()):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def get_config(self) -> dict:
        config = {**super().get_config(), "size": self.size}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class UpSampling1D(_UpSampling):
    """Repeat each step ``size`` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)


class UpSampling2D(_UpSampling):
    """Repeat rows and columns of images (``interpolation="nearest"``), or resize them
    bilinearly (``"bilinear"``)."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        if interpolation in ("bicubic", "lanczos3", "lanczos5", "area"):
            raise NotImplementedError(f"UpSampling2D: interpolation={interpolation!r} is not "
                                      f"supported yet; use \"nearest\" or \"bilinear\".")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"UpSampling2D: the `interpolation` argument should be one of "
                             f"\"nearest\", \"bilinear\", \"bicubic\", \"lanczos3\", "
                             f"\"lanczos5\", \"area\". Received: "
                             f"interpolation={interpolation!r}")
        super().__init__(size, data_format, **kwargs)
        self.interpolation = interpolation

    def call(self, inputs: Tensor) -> Tensor:
        if self.interpolation == "nearest":
            return super().call(inputs)
        _check_rank(self, inputs._value.shape, self.rank)
        first = self.data_format == "channels_first"
        images = shape_ops.transpose(inputs, (0, 2, 3, 1)) if first else inputs
        height, width = images._value.shape[1:3]
        if type(height) is not int or type(width) is not int:
            raise ValueError(f"UpSampling2D {self.name!r} with interpolation=\"bilinear\" "
                             f"needs the height and width known when it is traced; received "
                             f"inputs of shape {tuple(inputs.shape)}.")
        # tf.image.resize's bilinear (half-pixel centers), as Keras 3 uses.
        size = (height * self.size[0], width * self.size[1])
        outputs = image_ops.resize(images, size, method="bilinear")
        if outputs.dtype != inputs.dtype:
            outputs = ew.cast(outputs, inputs.dtype)
        return shape_ops.transpose(outputs, (0, 3, 1, 2)) if first else outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Repeat the three spatial axes of volumes."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
