"""Random numbers with TensorFlow's global-plus-op seed semantics.

* No seeds at all: fresh randomness every call.
* ``tf.random.set_seed(g)``: every op after it draws from a stream fixed by
  ``g`` and the op's position in the sequence of random ops, so a program
  gives the same numbers on every run.
* An op ``seed=s``: the op's stream is fixed by (global seed or a default, s);
  calling the same op again continues that stream instead of repeating it.

Streams are Philox generators keyed by (global seed, op seed, call count).
"""

from __future__ import annotations

import numpy as np

from neuroflow.dtypes import as_dtype
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.shape_ops import _shape_list
from neuroflow.tensor import Tensor

# TensorFlow's default graph seed, used when only an op seed is given.
_DEFAULT_GLOBAL_SEED = 87654321


class _SeedState:
    def __init__(self):
        self.global_seed: int | None = None
        self.op_counter = 0
        self.calls: dict[tuple[int, int], int] = {}


_state = _SeedState()


def set_seed(seed: int | None) -> None:
    """Set the global seed; restarts every seeded stream."""
    _state.global_seed = None if seed is None else int(seed)
    _state.op_counter = 0
    _state.calls.clear()


def get_global_seed() -> int | None:
    return _state.global_seed


def generator(seed: int | None = None) -> np.random.Generator:
    """The NumPy generator for the next random op, following TF's seed rules."""
    if _state.global_seed is None and seed is None:
        return np.random.default_rng()
    global_seed = _DEFAULT_GLOBAL_SEED if _state.global_seed is None else _state.global_seed
    if seed is None:
        seed = _state.op_counter
        _state.op_counter += 1
    key = (global_seed, int(seed))
    count = _state.calls.get(key, 0)
    _state.calls[key] = count + 1
    words = [global_seed & 0xFFFFFFFF, int(seed) & 0xFFFFFFFF, count]
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(words)))


def _float_dtype(dtype, op: str) -> np.dtype:
    d = as_dtype(dtype)
    if not d.is_floating:
        raise ValueError(f"{op}: dtype must be a floating type, received {d.name}.")
    return d.np


def _value(x) -> np.ndarray:
    return np.asarray(as_tensor(x)._value)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None) -> Tensor:
    np_dtype = _float_dtype(dtype, "normal")
    draws = generator(seed).standard_normal(tuple(_shape_list(shape)))
    return Tensor((draws * _value(stddev) + _value(mean)).astype(np_dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None,
                     name=None) -> Tensor:
    """Normal draws, redrawn until they lie within two standard deviations."""
    np_dtype = _float_dtype(dtype, "truncated_normal")
    rng = generator(seed)
    dims = tuple(_shape_list(shape))
    draws = rng.standard_normal(dims)
    outside = np.abs(draws) > 2
    while outside.any():
        draws[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(draws) > 2
    return Tensor((draws * _value(stddev) + _value(mean)).astype(np_dtype))


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Uniform draws in ``[minval, maxval)``; integer dtypes need ``maxval``."""
    d = as_dtype(dtype)
    dims = tuple(_shape_list(shape))
    rng = generator(seed)
    if d.is_integer:
        if maxval is None:
            raise ValueError("uniform: an integer dtype needs an explicit maxval.")
        low, high = int(_value(minval)), int(_value(maxval))
        if low >= high:
            raise InvalidArgumentError(f"uniform: need minval < maxval, received {low} and "
                                       f"{high}.", "uniform")
        return Tensor(rng.integers(low, high, size=dims, dtype=d.np))
    if not d.is_floating:
        raise ValueError(f"uniform: unsupported dtype {d.name}.")
    low = _value(minval).astype(d.np)
    high = _value(1.0 if maxval is None else maxval).astype(d.np)
    # Draw in the target precision: float64 draws just below 1 would round up to
    # maxval when cast to float32, breaking the half-open range [minval, maxval).
    draw_dtype = d.np if d.np in (np.float32, np.float64) else np.float64
    unit = rng.random(dims, dtype=draw_dtype)
    return Tensor((unit * (high - low) + low).astype(d.np))


def shuffle(value, seed=None, name=None) -> Tensor:
    """A random permutation of ``value`` along its first axis."""
    x = as_tensor(value)
    order = generator(seed).permutation(x._value.shape[0]) if x._value.ndim else None
    return x if order is None else Tensor(x._value[order])


def categorical(logits, num_samples, dtype="int64", seed=None, name=None) -> Tensor:
    """Draw class indices from unnormalized log-probabilities, one row per batch entry."""
    z = np.asarray(as_tensor(logits)._value, dtype=np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    rng = generator(seed)
    cumulative = np.cumsum(p, axis=-1)
    u = rng.random((z.shape[0], int(num_samples), 1))
    samples = (u > cumulative[:, None, :]).sum(axis=-1)
    return Tensor(np.minimum(samples, z.shape[-1] - 1).astype(as_dtype(dtype).np))
