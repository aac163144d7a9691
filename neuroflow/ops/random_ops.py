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
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import primitive
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


def op_seeds(seed: int | None) -> tuple[int, int] | None:
    """The (global, op) seed pair of the next random op, or None for fresh randomness.

    An op without its own seed takes the next position in the sequence of random
    ops, so a program's random ops are reproducible after ``set_seed``.
    """
    if _state.global_seed is None and seed is None:
        return None
    global_seed = _DEFAULT_GLOBAL_SEED if _state.global_seed is None else _state.global_seed
    if seed is None:
        seed = _state.op_counter
        _state.op_counter += 1
    return global_seed, int(seed)


def stream(seeds: tuple[int, int] | None) -> np.random.Generator:
    """The generator for one call of the op with ``seeds``; each call continues its stream."""
    if seeds is None:
        return np.random.default_rng()
    count = _state.calls.get(seeds, 0)
    _state.calls[seeds] = count + 1
    words = [seeds[0] & 0xFFFFFFFF, seeds[1] & 0xFFFFFFFF, count]
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(words)))


def generator(seed: int | None = None) -> np.random.Generator:
    """The NumPy generator for the next random op, following TF's seed rules."""
    return stream(op_seeds(seed))


# One stateful primitive draws every kind of random array. Its seeds are fixed
# when the op is created (or traced), and each run continues that stream, so a
# compiled function draws new numbers on every call, as TensorFlow's ops do.
@primitive("random", stateful=True, differentiable=False)
def _random(xp, *, kind, shape, dtype, seeds, low=0, high=1):
    rng = stream(seeds)
    if kind == "normal":
        return rng.standard_normal(shape).astype(dtype)
    if kind == "truncated_normal":
        draws = rng.standard_normal(shape)
        outside = np.abs(draws) > 2
        while outside.any():
            draws[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(draws) > 2
        return draws.astype(dtype)
    if kind == "uniform_int":
        return rng.integers(low, high, size=shape, dtype=dtype)
    if kind == "uniform":
        # Draw in the target precision: float64 draws just below 1 would round up to
        # 1.0 when cast to float32, breaking the half-open range [minval, maxval).
        draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
        return rng.random(shape, dtype=draw_dtype).astype(dtype, copy=False)
    if kind == "permutation":
        return rng.permutation(shape[0]).astype(np.int64)
    raise ValueError(f"unknown random kind {kind!r}")


def draw(kind: str, shape, dtype, seed=None, **bounds) -> Tensor:
    """Random draws of ``kind`` (the building block of the functions below)."""
    return _random(kind=kind, shape=tuple(shape), dtype=np.dtype(dtype), seeds=op_seeds(seed),
                   **bounds)


def _float_dtype(dtype, op: str) -> np.dtype:
    d = as_dtype(dtype)
    if not d.is_floating:
        raise ValueError(f"{op}: dtype must be a floating type, received {d.name}.")
    return d.np


def _scaled(draws: Tensor, scale, offset, dtype) -> Tensor:
    scale, offset = as_tensor(scale), as_tensor(offset)
    return draws * ew.cast(scale, dtype) + ew.cast(offset, dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None) -> Tensor:
    np_dtype = _float_dtype(dtype, "normal")
    return _scaled(draw("normal", _shape_list(shape), np_dtype, seed), stddev, mean, np_dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None,
                     name=None) -> Tensor:
    """Normal draws, redrawn until they lie within two standard deviations."""
    np_dtype = _float_dtype(dtype, "truncated_normal")
    draws = draw("truncated_normal", _shape_list(shape), np_dtype, seed)
    return _scaled(draws, stddev, mean, np_dtype)


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Uniform draws in ``[minval, maxval)``; integer dtypes need ``maxval``."""
    d = as_dtype(dtype)
    dims = _shape_list(shape)
    if d.is_integer:
        if maxval is None:
            raise ValueError("uniform: an integer dtype needs an explicit maxval.")
        low, high = int(_value(minval)), int(_value(maxval))
        if low >= high:
            raise InvalidArgumentError(f"uniform: need minval < maxval, received {low} and "
                                       f"{high}.", "uniform")
        return draw("uniform_int", dims, d.np, seed, low=low, high=high)
    if not d.is_floating:
        raise ValueError(f"uniform: unsupported dtype {d.name}.")
    low = ew.cast(as_tensor(minval), d.np)
    high = ew.cast(as_tensor(1.0 if maxval is None else maxval), d.np)
    return draw("uniform", dims, d.np, seed) * (high - low) + low


def _value(x) -> np.ndarray:
    return np.asarray(as_tensor(x)._value)


def shuffle(value, seed=None, name=None) -> Tensor:
    """A random permutation of ``value`` along its first axis."""
    from neuroflow.ops.shape_ops import gather

    x = as_tensor(value)
    if not x._value.ndim:
        return x
    return gather(x, draw("permutation", x._value.shape[:1], np.int64, seed))


def categorical(logits, num_samples, dtype="int64", seed=None, name=None) -> Tensor:
    """Draw class indices from unnormalized log-probabilities, one row per batch entry."""
    from neuroflow.ops import nn_ops, reductions

    z = as_tensor(logits)
    p = ew.cast(nn_ops.softmax(ew.cast(z, np.float64)), np.float64)
    cumulative = reductions.cumsum(p, axis=-1)
    u = draw("uniform", (z._value.shape[0], int(num_samples), 1), np.float64, seed)
    from neuroflow.ops.shape_ops import expand_dims

    above = ew.cast(ew.greater(u, expand_dims(cumulative, 1)), np.int64)
    samples = reductions.reduce_sum(above, axis=-1)
    return ew.cast(ew.minimum(samples, z._value.shape[-1] - 1), as_dtype(dtype).np)
