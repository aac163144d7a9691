"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
UnitNormalization (Keras 3's arguments, weights, formulas and configs).

Each layer follows Keras 3's formula step by step (``inv = rsqrt(variance + epsilon) *
gamma``, ``outputs = inputs * inv + (beta - mean * inv)``), computing in float32 at least,
so values and gradients come out as Keras's. BatchNormalization's moving statistics are
non-trainable weights updated with ``Variable.assign``, so the update also runs inside a
compiled train step.
"""

from __future__ import annotations

import numbers
import warnings

from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops, shape_ops
from neuroflow.ops import normalization as norm_ops
from neuroflow.ops import reductions as red
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor


def _serialized(module_name: str, value):
    """An initializer/regularizer argument as Keras 3's get_config writes it."""
    from neuroflow.keras import initializers, regularizers

    module = {"initializers": initializers, "regularizers": regularizers}[module_name]
    return None if value is None else module.serialize(module.get(value))


def _compute_dtype(x: Tensor) -> str:
    """Keras normalizes half-precision inputs in float32 (their range is too small)."""
    return "float64" if x._value.dtype.name == "float64" else "float32"


def _axis_list(layer: Layer, axis, rank: int) -> list[int]:
    """``axis`` (an int or a list of ints) as sorted non-negative axes of a rank-``rank``
    input, or a ValueError naming the layer."""
    axes = [axis] if isinstance(axis, numbers.Integral) else list(axis)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -rank <= a < rank:
            raise ValueError(f"{type(layer).__name__} {layer.name!r}: axis {axis!r} is out of "
                             f"bounds for inputs of rank {rank}; use an axis in "
                             f"[{-rank}, {rank}).")
    return sorted(int(a) % rank for a in axes)


def _check_axis_type(layer_name: str, axis, allow_list: bool) -> None:
    ok = isinstance(axis, numbers.Integral) and not isinstance(axis, bool)
    if allow_list and isinstance(axis, (list, tuple)):
        ok = all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis)
    if not ok:
        expected = "an int or a list/tuple of ints" if allow_list else "an int"
        raise TypeError(f"{layer_name}: invalid value for `axis` argument: expected "
                        f"{expected}. Received: axis={axis!r}")


def _known_size(layer: Layer, input_shape, axis: int) -> int:
    size = input_shape[axis]
    if size is None or type(size) is not int:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: axis {axis} of the inputs "
                         f"must have a known size to create the weights, but the inputs have "
                         f"shape {tuple(input_shape)}.")
    return size


def _broadcastable(weight: Tensor, shape: list[int], dtype: str) -> Tensor:
    """A per-feature weight reshaped to broadcast against the inputs, in ``dtype``."""
    value = ew.cast(weight, dtype) if weight.dtype.name != dtype else weight
    return shape_ops.reshape(value, shape)


def _check_sizes(layer: Layer, inputs: Tensor, axes: list[int], sizes: tuple) -> None:
    """The normalized axes must keep the sizes the weights were built for."""
    shape = inputs._value.shape
    got = tuple(shape[a] for a in axes)
    if any(type(g) is int and g != s for g, s in zip(got, sizes)):
        raise ValueError(f"{type(layer).__name__} {layer.name!r} was built for inputs with "
                         f"size{'s' * (len(sizes) > 1)} {sizes} on axis {axes}, but received "
                         f"inputs of shape {tuple(inputs.shape)}.")


def _masked_moments(x: Tensor, mask: Tensor, axes: list[int]) -> tuple[Tensor, Tensor]:
    """Mean and variance over the positions the mask keeps, Keras 3's way: sums divided
    by ``count + 1e-7`` (a fully masked batch gives zeros, not NaN)."""
    from neuroflow.keras import backend

    keep = shape_ops.broadcast_to(shape_ops.expand_dims(ew.cast(mask, "bool"), -1),
                                  shape_ops.shape(x))
    zeros = ew.zeros_like_value(x)
    count = red.reduce_sum(ew.cast(keep, x.dtype), axes, keepdims=True) + backend.epsilon()
    mean = red.reduce_sum(ew.where(keep, x, zeros), axes, keepdims=True) / count
    spread = red.reduce_sum(ew.square(ew.where(keep, x - mean, zeros)), axes, keepdims=True)
    channels = [-1]
    return shape_ops.reshape(mean, channels), shape_ops.reshape(spread / count, channels)


def _affine(inputs: Tensor, mean, variance, epsilon: float, gamma, beta) -> Tensor:
    """Keras 3's ``x * inv + (beta - mean * inv)`` with ``inv = rsqrt(var + eps) * gamma``."""
    inv = ew.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv
    if beta is not None:
        shift = shift + beta
    return inputs * inv + shift


class _AffineNormalization(Layer):
    """Holds the gamma/beta arguments shared by the normalization layers."""

    def _init_affine(self, center, scale, beta_initializer, gamma_initializer,
                     beta_regularizer, gamma_regularizer, beta_constraint,
                     gamma_constraint) -> None:
        refuse_unsupported(type(self).__name__, beta_constraint=beta_constraint,
                           gamma_constraint=gamma_constraint)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.gamma = None
        self.beta = None

    def _add_affine_weights(self, shape: tuple, scale: bool, center: bool) -> None:
        if scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer,
                                         self.gamma_regularizer)
        if center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer,
                                        self.beta_regularizer)

    def _affine_config(self) -> dict:
        return {"center": self.center, "scale": self.scale,
                "beta_initializer": _serialized("initializers", self.beta_initializer),
                "gamma_initializer": _serialized("initializers", self.gamma_initializer),
                "beta_regularizer": _serialized("regularizers", self.beta_regularizer),
                "gamma_regularizer": _serialized("regularizers", self.gamma_regularizer),
                "beta_constraint": None, "gamma_constraint": None}

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class BatchNormalization(_AffineNormalization):
    """Normalize each feature of ``axis`` with batch statistics in training, and with the
    moving statistics otherwise.

    In training (``training=True`` and the layer trainable) the outputs use the mean and
    variance of the batch, and ``moving_mean``/``moving_variance`` move towards them:
    ``moving = moving * momentum + batch_statistic * (1 - momentum)``. A frozen layer
    (``trainable=False``) always runs in inference mode, as in Keras 3.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        _check_axis_type("BatchNormalization", axis, allow_list=False)
        refuse_unsupported("BatchNormalization", renorm=renorm or None,
                           renorm_clipping=renorm_clipping)
        self._init_affine(center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        # One device: synchronizing the statistics across replicas changes nothing.
        self.synchronized = bool(synchronized)
        self.renorm_momentum = renorm_momentum
        self.moving_mean = None
        self.moving_variance = None

    def build(self, input_shape) -> None:
        axis = _axis_list(self, self.axis, len(input_shape))[0]
        shape = (_known_size(self, input_shape, axis),)
        self._add_affine_weights(shape, self.scale, self.center)
        self.moving_mean = self.add_weight("moving_mean", shape,
                                           self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer,
                                               trainable=False)

    def call(self, inputs: Tensor, training=None, mask=None) -> Tensor:
        rank = inputs._value.ndim
        if mask is not None:
            mask = as_tensor(mask)
            if mask._value.ndim != rank - 1:
                raise ValueError(f"BatchNormalization {self.name!r}: the mask must have one "
                                 f"dimension less than the inputs (one flag per position). "
                                 f"Received: mask.shape={tuple(mask.shape)}, "
                                 f"inputs.shape={tuple(inputs.shape)}")
        axis = _axis_list(self, self.axis, rank)[0]
        _check_sizes(self, inputs, [axis], tuple(self.moving_mean.shape))
        dtype = _compute_dtype(inputs)
        x = ew.cast(inputs, dtype) if inputs.dtype.name != dtype else inputs
        broadcast = [1] * rank
        broadcast[axis] = -1
        gamma = None if self.gamma is None else _broadcastable(self.gamma, broadcast, dtype)
        beta = None if self.beta is None else _broadcastable(self.beta, broadcast, dtype)
        if training and self.trainable:
            reduction_axes = [a for a in range(rank) if a != axis]
            if mask is None:
                mean, variance = nn_ops.moments(x, reduction_axes)
            else:
                mean, variance = _masked_moments(x, mask, reduction_axes)
            momentum = self.momentum
            for moving, batch_value in ((self.moving_mean, mean),
                                        (self.moving_variance, variance)):
                updated = ew.cast(moving, dtype) * momentum + batch_value * (1.0 - momentum)
                moving.assign(ew.cast(updated, moving.dtype))
            mean = shape_ops.reshape(mean, broadcast)
            variance = shape_ops.reshape(variance, broadcast)
        else:
            mean = _broadcastable(self.moving_mean, broadcast, dtype)
            variance = _broadcastable(self.moving_variance, broadcast, dtype)
        outputs = _affine(x, mean, variance, self.epsilon, gamma, beta)
        return ew.cast(outputs, inputs.dtype) if outputs.dtype != inputs.dtype else outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, **self._affine_config(),
                "moving_mean_initializer": _serialized("initializers",
                                                       self.moving_mean_initializer),
                "moving_variance_initializer": _serialized("initializers",
                                                           self.moving_variance_initializer),
                "synchronized": self.synchronized, "renorm": False, "renorm_clipping": None,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(_AffineNormalization):
    """Normalize each sample over ``axis`` (default the last), then scale and shift.

    ``rms_scaling=True`` divides by ``sqrt(variance + epsilon)`` without centering and
    with no beta, as Keras 3's (deprecated) option does.
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        _check_axis_type("LayerNormalization", axis, allow_list=True)
        self._init_affine(center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn("LayerNormalization: `rms_scaling=True` is deprecated in Keras 3: it "
                          "scales the inputs by their variance, not their root mean square.",
                          UserWarning, stacklevel=2)

    def build(self, input_shape) -> None:
        axes = _axis_list(self, self.axis, len(input_shape))
        shape = tuple(_known_size(self, input_shape, a) for a in axes)
        # Keras 3 keeps the axis as a sorted list once built (its config shows [-1]).
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self._add_affine_weights(shape, self.scale or self.rms_scaling,
                                 self.center and not self.rms_scaling)

    def call(self, inputs: Tensor) -> Tensor:
        rank = inputs._value.ndim
        axes = _axis_list(self, self.axis, rank)
        dtype = _compute_dtype(inputs)
        x = ew.cast(inputs, dtype) if inputs.dtype.name != dtype else inputs
        broadcast = [1] * rank
        for a in axes:
            broadcast[a] = -1 if len(axes) == 1 else self._weight_size(a, axes)
        weights = self.gamma if self.gamma is not None else self.beta
        if weights is not None:
            _check_sizes(self, inputs, axes, tuple(weights.shape))
        gamma = None if self.gamma is None else _broadcastable(self.gamma, broadcast, dtype)
        beta = None if self.beta is None else _broadcastable(self.beta, broadcast, dtype)
        mean, variance = nn_ops.moments(x, axes, keepdims=True)
        if self.rms_scaling:
            outputs = x * ew.rsqrt(variance + self.epsilon)
            outputs = outputs if gamma is None else outputs * gamma
        else:
            outputs = _affine(x, mean, variance, self.epsilon, gamma, beta)
        return ew.cast(outputs, inputs.dtype) if outputs.dtype != inputs.dtype else outputs

    def _weight_size(self, axis: int, axes: list[int]) -> int:
        weights = self.gamma if self.gamma is not None else self.beta
        return -1 if weights is None else int(weights.shape[axes.index(axis)])

    def compute_output_shape(self, input_shape):
        _axis_list(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                  **self._affine_config(), "rms_scaling": self.rms_scaling}
        # Keras 3's key order: rms_scaling right after scale.
        order = ["name", "trainable", "dtype", "axis", "epsilon", "center", "scale",
                 "rms_scaling"]
        return {**{k: config[k] for k in order}, **config}


class GroupNormalization(_AffineNormalization):
    """Split the channels of ``axis`` into ``groups`` and normalize each group of each
    sample (``groups=-1``: one channel per group, instance normalization)."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or \
                (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization: received an invalid value for argument "
                             f"`groups`, expected a positive integer (or `-1` for instance "
                             f"normalization). Received: groups={groups!r}")
        super().__init__(**kwargs)
        _check_axis_type("GroupNormalization", axis, allow_list=False)
        self._init_affine(center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint)
        self.groups = int(groups)
        self.axis = int(axis)
        self.epsilon = float(epsilon)

    def _groups_for(self, channels: int) -> int:
        groups = channels if self.groups == -1 else self.groups
        if channels < groups:
            raise ValueError(f"GroupNormalization {self.name!r}: the number of groups "
                             f"({groups}) cannot be more than the number of channels "
                             f"({channels}).")
        if channels % groups:
            raise ValueError(f"GroupNormalization {self.name!r}: the number of channels "
                             f"({channels}) must be a multiple of the number of groups "
                             f"({groups}).")
        return groups

    def build(self, input_shape) -> None:
        axis = _axis_list(self, self.axis, len(input_shape))[0]
        channels = _known_size(self, input_shape, axis)
        # Keras 3 replaces groups=-1 by the channel count once built.
        self.groups = self._groups_for(channels)
        self._add_affine_weights((channels,), self.scale, self.center)

    def call(self, inputs: Tensor) -> Tensor:
        shape = list(inputs._value.shape)
        rank = len(shape)
        axis = _axis_list(self, self.axis, rank)[0]
        if self.gamma is not None or self.beta is not None:
            weights = self.gamma if self.gamma is not None else self.beta
            _check_sizes(self, inputs, [axis], tuple(weights.shape))
        channels = shape[axis]
        if type(channels) is not int:
            raise ValueError(f"GroupNormalization {self.name!r} needs a known number of "
                             f"channels on axis {self.axis}; received inputs of shape "
                             f"{tuple(inputs.shape)}.")
        groups = self._groups_for(channels)
        dtype = _compute_dtype(inputs)
        x = ew.cast(inputs, dtype) if inputs.dtype.name != dtype else inputs
        # (batch, ..., channels, ...) -> (batch, ..., groups, channels // groups, ...):
        # sizes a trace leaves unknown stay unknown (Dims) in the reshape.
        grouped_shape = shape[:axis] + [groups, channels // groups] + shape[axis + 1:]
        grouped = shape_ops.reshape(x, grouped_shape)
        reduce_axes = [a for a in range(1, rank + 1) if a != axis]
        mean, variance = nn_ops.moments(grouped, reduce_axes, keepdims=True)
        broadcast = [1] * (rank + 1)
        broadcast[axis], broadcast[axis + 1] = groups, channels // groups
        gamma = None if self.gamma is None else _broadcastable(self.gamma, broadcast, dtype)
        beta = None if self.beta is None else _broadcastable(self.beta, broadcast, dtype)
        outputs = _affine(grouped, mean, variance, self.epsilon, gamma, beta)
        outputs = shape_ops.reshape(outputs, shape)
        return ew.cast(outputs, inputs.dtype) if outputs.dtype != inputs.dtype else outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, **self._affine_config()}


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / sqrt(max(sum(x**2), 1e-12))``."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        _check_axis_type("UnitNormalization", axis, allow_list=True)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        axes = _axis_list(self, self.axis, inputs._value.ndim)
        if inputs._value.dtype.kind != "f":
            inputs = ew.cast(inputs, "float32")
        return norm_ops.l2_normalize(inputs, axis=axes, epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        _axis_list(self, self.axis, len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
