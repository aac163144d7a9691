"""Keras 3 weight initializers: ``GlorotUniform()(shape)`` returns a Tensor of that shape.

Random initializers follow Keras 3: each instance holds a seed, so calling the
same instance twice gives the same values. An unseeded instance draws its seed
from the global random stream, so ``tf.random.set_seed`` makes whole models
reproducible; it draws it when first used rather than when created, so an instance
made only to be serialized (``get_config`` of a layer given ``"glorot_uniform"``)
leaves the stream, and so every later random draw, as it was.

Initial values are concrete arrays wrapped in tensors, never graph nodes: a
layer built while a function is being traced still gets real starting weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuroflow.dtypes import as_dtype
from neuroflow.keras.utils.naming import get_by_name, to_snake_case
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.random_ops import generator
from neuroflow.tensor import Tensor

# The truncated normal keeps draws within two standard deviations; dividing by the
# standard deviation of that truncated distribution gives the intended variance.
_TRUNCATED_STDDEV = 0.87962566103423978


def _np_dtype(dtype) -> np.dtype:
    return as_dtype("float32" if dtype is None else dtype).np


def _dims(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape)


def compute_fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: 2-D ``(in, out)``; conv kernels times the window size.

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = _dims(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: ``initializer(shape, dtype=None) -> Tensor``."""

    def __call__(self, shape, dtype=None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype): "
                                  f"an Initializer subclass returns the initial values.")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def clone(self) -> Initializer:
        return type(self).from_config(self.get_config())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()}>"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.zeros(_dims(shape), dtype=_np_dtype(dtype)))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> Tensor:
        return Tensor(np.ones(_dims(shape), dtype=_np_dtype(dtype)))


class Constant(Initializer):
    """Every element equal to ``value`` (a scalar, or an array that broadcasts to the shape)."""

    def __init__(self, value: Any = 0.0):
        self.value = value

    def __call__(self, shape, dtype=None) -> Tensor:
        value = np.asarray(as_tensor(self.value)).astype(_np_dtype(dtype))
        return Tensor(np.broadcast_to(value, _dims(shape)).copy())

    def get_config(self) -> dict:
        value = self.value
        return {"value": value.tolist() if isinstance(value, np.ndarray) else value}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _dims(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}. Use it for Dense "
                             f"kernels, or pick another initializer for this weight.")
        return Tensor((self.gain * np.eye(*shape)).astype(_np_dtype(dtype)))

    def get_config(self) -> dict:
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """An initializer with a seed: the same instance gives the same values every call."""

    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"`seed` argument should be an integer. Received: seed={seed!r}. "
                             f"Pass e.g. seed=42, or None for a fresh seed.")
        self._init_seed = seed
        self._seed = None if seed is None else int(seed)

    @property
    def seed(self) -> int:
        if self._seed is None:
            # Drawn from the global stream, so tf.random.set_seed fixes unseeded ones too.
            self._seed = int(generator().integers(2**31 - 1))
        return self._seed

    def _rng(self) -> np.random.Generator:
        return np.random.Generator(np.random.Philox(np.random.SeedSequence([self.seed, 0x4B33])))

    def _uniform(self, shape, low: float, high: float, dtype) -> Tensor:
        draws = self._rng().random(_dims(shape))
        return Tensor((draws * (high - low) + low).astype(_np_dtype(dtype)))

    def _normal(self, shape, mean: float, stddev: float, dtype) -> Tensor:
        draws = self._rng().standard_normal(_dims(shape))
        return Tensor((draws * stddev + mean).astype(_np_dtype(dtype)))

    def _truncated_normal(self, shape, mean: float, stddev: float, dtype) -> Tensor:
        rng = self._rng()
        draws = rng.standard_normal(_dims(shape))
        outside = np.abs(draws) > 2
        while outside.any():  # redraw until every value lies within two stddevs (as TF)
            draws[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(draws) > 2
        return Tensor((draws * stddev + mean).astype(_np_dtype(dtype)))

    def get_config(self) -> dict:
        return {"seed": self._init_seed}


class RandomNormal(RandomInitializer):
    """Normal draws with ``mean`` and ``stddev`` (default 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        return self._normal(shape, self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Normal draws redrawn until within two standard deviations of the mean."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        return self._truncated_normal(shape, self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Uniform draws in ``[minval, maxval)`` (default ``[-0.05, 0.05)``)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        return self._uniform(shape, self.minval, self.maxval, dtype)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, ``n`` the fan-in, fan-out or their average.

    ``distribution`` is ``"truncated_normal"`` (alias ``"normal"``),
    ``"untruncated_normal"`` or ``"uniform"`` (limit ``sqrt(3 * scale / n)``).
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of "
                             f"'fan_in', 'fan_out', 'fan_avg'.")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. Please use "
                             f"one of 'uniform', 'truncated_normal', 'untruncated_normal'.")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        super().__init__(seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            return self._truncated_normal(shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV,
                                          dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(scale), dtype)
        limit = math.sqrt(3.0 * scale)
        return self._uniform(shape, -limit, limit, dtype)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        # Newer Keras configs name the fan axes of einsum kernels; None means the usual fans.
        config = dict(config)
        axes = {key: config.pop(key) for key in ("input_axes", "output_axes") if key in config}
        if any(value is not None for value in axes.values()):
            raise NotImplementedError(f"{cls.__name__}: input_axes/output_axes are not "
                                      f"supported yet; received {axes}.")
        return cls(**config)


class _Preset(VarianceScaling):
    """A ``VarianceScaling`` with fixed settings; only the seed is configurable (as Keras)."""

    def get_config(self) -> dict:
        return {"seed": self._init_seed}


class GlorotUniform(_Preset):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``."""

    def __init__(self, seed: int | None = None):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed)


class GlorotNormal(_Preset):
    """Truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out))`` before truncation."""

    def __init__(self, seed: int | None = None):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed)


class HeUniform(_Preset):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(scale=2.0, mode="fan_in", distribution="uniform", seed=seed)


class HeNormal(_Preset):
    """Truncated normal, ``stddev = sqrt(2 / fan_in)`` before truncation."""

    def __init__(self, seed: int | None = None):
        super().__init__(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=seed)


class LecunUniform(_Preset):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(3 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(scale=1.0, mode="fan_in", distribution="uniform", seed=seed)


class LecunNormal(_Preset):
    """Truncated normal, ``stddev = sqrt(1 / fan_in)`` before truncation."""

    def __init__(self, seed: int | None = None):
        super().__init__(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=seed)


# --- lookup -------------------------------------------------------------------------------

class Orthogonal(RandomInitializer):
    """``gain`` times a random orthogonal matrix (recurrent kernels' default), as Keras 3:
    a standard normal draw made orthogonal by a QR decomposition, the signs fixed so the
    result is uniform over orthogonal matrices; more than two axes are flattened to rows."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _dims(shape)
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        draws = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(draws)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return Tensor((self.gain * q.reshape(shape)).astype(_np_dtype(dtype)))

    def get_config(self) -> dict:
        return {"gain": self.gain, **super().get_config()}


_CLASSES = (Initializer, Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal,
            RandomUniform, VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
            LecunUniform, LecunNormal, Orthogonal)
_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update(normal=RandomNormal, uniform=RandomUniform, one=Ones, zero=Zeros,
                IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal)

# Function-style names, as in ``keras.initializers.glorot_uniform``.
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
variance_scaling = VarianceScaling
orthogonal = Orthogonal


def get(identifier: Any):
    """The initializer for ``identifier``: a name, a class, an instance, a config, or a callable.

    A NumPy array or tensor becomes an initializer returning it (shape checked).
    None gives None. Unknown names raise ``ValueError`` naming the closest names.

    >>> type(get("glorot_uniform")).__name__
    'GlorotUniform'
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return get_by_name("initializer", identifier, _BY_NAME)()
    if isinstance(identifier, type):
        return identifier()
    if isinstance(identifier, (Tensor, np.ndarray, np.generic)):
        return _from_value(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}. Expected "
                     f"a name such as 'glorot_uniform', an Initializer, a callable, an array "
                     f"or a config dict.")


def _from_value(value) -> Any:
    array = np.asarray(value)

    def initialize(shape, dtype=None) -> Tensor:
        if _dims(shape) != array.shape:
            raise ValueError(f"Expected `shape` to be {array.shape} for direct tensor as "
                             f"initializer. Received shape={_dims(shape)}")
        return Tensor(array.astype(_np_dtype(dtype)))

    return initialize


def serialize(initializer: Initializer) -> dict:
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict) -> Initializer:
    cls = get_by_name("initializer", config["class_name"], _BY_NAME)
    return cls.from_config(dict(config.get("config") or {}))
