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

from collections.abc import Callable

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, is_known
from neuroflow.dtypes import as_dtype
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.ops.shape_ops import (
    _check_sizes_input,
    _run_time_shape,
    _size_tensor,
    _static_size,
    expand_dims,
    gather,
    shape_argument,
)
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


def _random_shape(*sizes, kind, shape, dtype, seeds, low=0, high=1):
    _check_sizes_input(sizes, shape)
    dims = tuple(Dim.fresh("n") if d is None else d for d in shape)
    if kind == "permutation":
        return AbstractArray(dims[:1], np.int64)
    return AbstractArray(dims, dtype)


# One stateful primitive draws every kind of random array. Its seeds are fixed
# when the op is created (or traced), and each run continues that stream, so a
# compiled function draws new numbers on every call, as TensorFlow's ops do. A
# draw is not an effect: only its own stream sees it. ``shape`` may hold unknown
# sizes (Dims, given when the graph is specialised), or None for sizes only known
# when the graph runs, read from the ``sizes`` input.
@primitive("random", stateful=True, effect=False, differentiable=False, shape=_random_shape,
           lowering=Lowering(result="fresh"))
def _random(xp, *sizes, kind, shape, dtype, seeds, low=0, high=1):
    if sizes:
        shape = _run_time_shape(sizes[0])
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


def draw(kind: str, shape, dtype, seed=None, sizes: Callable[[], Tensor] | None = None,
         **bounds) -> Tensor:
    """Random draws of ``kind`` (the building block of the functions below).

    ``shape``: ints, Dims (sizes unknown while tracing), or None for sizes only known when
    the graph runs; ``sizes()`` then makes the shape as a tensor (see ``shape_argument``).
    """
    shape = tuple(shape)
    inputs = (sizes(),) if sizes is not None and any(d is None for d in shape) else ()
    return _random(*inputs, kind=kind, shape=shape, dtype=np.dtype(dtype),
                   seeds=op_seeds(seed), **bounds)


def _rank(shape) -> int:
    """The rank of a shape argument (lists, tuples and TensorShapes are vectors)."""
    if isinstance(shape, Tensor):
        return shape._value.ndim
    if isinstance(shape, (int, np.integer, np.ndarray)):
        return np.ndim(shape)
    return 1


def _dims(shape, op: str) -> tuple[tuple, Callable[[], Tensor] | None]:
    if _rank(shape) != 1:
        # TF's random ops take a vector of sizes even where tf.zeros takes a scalar.
        raise InvalidArgumentError(f"{op}: shape must be a vector of {{int32,int64}}, got a "
                                   f"tensor of rank {_rank(shape)}; give the sizes as a list, "
                                   f"e.g. [3].", op)
    dims, sizes = shape_argument(shape, op)
    for d in dims:
        if type(d) is int and d < 0:
            raise InvalidArgumentError(f"{op}: Dimension {d} must be >= 0 (received shape "
                                       f"{list(dims)}).", op)
    return dims, sizes


def _float_dtype(dtype, op: str) -> np.dtype:
    """float16, float32 or float64; other dtypes fail as in TF: complex ones when the op
    runs, the rest when the mean (a float) is converted to them."""
    d = as_dtype(dtype)
    if d.is_complex:
        raise InvalidArgumentError(f"{op}: dtype must be float16, float32 or float64, received "
                                   f"{d.name}.", op)
    if not d.is_floating:
        raise TypeError(f"{op}: dtype must be float16, float32 or float64, received {d.name}: "
                        f"cannot convert 0.0 to {d.name}.")
    return d.np


def _scaled(draws: Tensor, scale, offset, dtype) -> Tensor:
    scale, offset = as_tensor(scale), as_tensor(offset)
    return draws * ew.cast(scale, dtype) + ew.cast(offset, dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None) -> Tensor:
    np_dtype = _float_dtype(dtype, "normal")
    dims, sizes = _dims(shape, "normal")
    return _scaled(draw("normal", dims, np_dtype, seed, sizes), stddev, mean, np_dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None,
                     name=None) -> Tensor:
    """Normal draws, redrawn until they lie within two standard deviations."""
    np_dtype = _float_dtype(dtype, "truncated_normal")
    dims, sizes = _dims(shape, "truncated_normal")
    draws = draw("truncated_normal", dims, np_dtype, seed, sizes)
    return _scaled(draws, stddev, mean, np_dtype)


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Uniform draws in ``[minval, maxval)``; integer dtypes need ``maxval``."""
    d = as_dtype(dtype)
    if d.name not in ("float16", "float32", "float64", "int32", "int64"):
        raise ValueError(f"uniform: argument `dtype` got invalid value {d.name}. Accepted "
                         f"dtypes are float16, float32, float64, int32, int64.")
    dims, sizes = _dims(shape, "uniform")
    if d.is_integer:
        if maxval is None:
            raise ValueError("uniform: an integer dtype needs an explicit maxval.")
        # TF's integer draw on a seed pair from this op's stream: the bounds are inputs,
        # so they may be tensors only known when the graph runs (checked then).
        from neuroflow.ops import stateless_random

        low, high = stateless_random._int_bounds(minval, maxval, d, "uniform")
        return stateless_random._draw("uniform_int", shape, _seed_pair(seed, "uniform"), d.np,
                                      "uniform", low, high)
    low = ew.cast(as_tensor(minval), d.np)
    high = ew.cast(as_tensor(1.0 if maxval is None else maxval), d.np)
    return draw("uniform", dims, d.np, seed, sizes) * (high - low) + low


def shuffle(value, seed=None, name=None) -> Tensor:
    """A random permutation of ``value`` along its first axis."""
    x = as_tensor(value)
    if not x._value.ndim:
        return x
    return gather(x, draw("permutation", x._value.shape[:1], np.int64, seed))


def categorical(logits, num_samples, dtype="int64", seed=None, name=None) -> Tensor:
    """Draw class indices from unnormalized log-probabilities, one row per batch entry."""
    from neuroflow.ops import nn_ops, reductions

    z = as_tensor(logits)
    if as_dtype(dtype).name not in ("int32", "int64"):
        raise ValueError(f"categorical: argument `dtype` got invalid value "
                         f"{as_dtype(dtype).name}. Accepted dtypes are int32, int64.")
    if z._value.ndim != 2:
        raise InvalidArgumentError(f"categorical: logits should be a matrix, got shape "
                                   f"{list(z._value.shape)}.", "categorical")
    if is_known(z._value.shape[1]) and z._value.shape[1] == 0:
        raise InvalidArgumentError("categorical: num_classes should be positive, got 0.",
                                   "categorical")
    count = _static_size(num_samples, "categorical", "num_samples")
    if is_known(count) and count < 0:
        raise InvalidArgumentError(f"categorical: num_samples should be non-negative, got "
                                   f"{count}.", "categorical")
    p = ew.cast(nn_ops.softmax(ew.cast(z, np.float64)), np.float64)
    cumulative = reductions.cumsum(p, axis=-1)
    u = draw("uniform", (z._value.shape[0], count, 1), np.float64, seed)
    above = ew.cast(ew.greater(u, expand_dims(cumulative, 1)), np.int64)
    samples = reductions.reduce_sum(above, axis=-1)
    classes = _size_tensor(z, z._value.ndim - 1)  # a constant when the size is known
    last = ew.subtract(classes, Tensor(np.asarray(1, np.int64)))
    return ew.cast(ew.minimum(samples, last), as_dtype(dtype).np)


def _seed_pair(seed, op: str) -> Tensor:
    """A seed pair for a stateless op, drawn from this op's stream (TF's seed rules)."""
    dims, _ = _dims([2], op)
    return draw("uniform_int", dims, np.int64, seed, low=-(2**63), high=2**63 - 1)


def _with_batch(shape, batch: tuple, op: str):
    """``shape`` followed by the parameters' ``batch`` shape, as a shape argument."""
    from neuroflow.ops.shape_ops import concat

    dims, sizes = _dims(shape, op)
    if sizes is None or all(d is not None for d in dims):
        return list(dims) + list(batch)
    head = ew.cast(sizes(), np.int64)
    return concat([head, Tensor(np.asarray(batch, np.int64).reshape(-1))], axis=0)


def gamma(shape, alpha, beta=None, dtype="float32", seed=None, name=None) -> Tensor:
    """Gamma draws of shape ``shape + broadcast(alpha, beta).shape`` (rate ``beta``).

    Draws follow TF's seed rules and are differentiable with respect to ``alpha`` and
    ``beta``, as in TF.
    """
    from neuroflow.ops import stateless_random
    from neuroflow.ops.shape_rules import broadcast_shapes

    d = as_dtype(dtype)
    if not d.is_floating:
        raise ValueError(f"gamma: dtype must be a floating type, received {d.name}.")
    alpha_t = as_tensor(alpha, d.np)
    beta_t = as_tensor(1 if beta is None else beta, d.np)
    batch = broadcast_shapes(tuple(alpha_t._value.shape), tuple(beta_t._value.shape))
    full = _with_batch(shape, batch, "gamma")
    return stateless_random.stateless_gamma(full, _seed_pair(seed, "gamma"), alpha_t, beta_t,
                                            dtype=d.np)


def poisson(shape, lam, dtype="float32", seed=None, name=None) -> Tensor:
    """Poisson draws of shape ``shape + lam.shape``, following TF's seed rules."""
    from neuroflow.ops import stateless_random

    rate = as_tensor(lam)
    full = _with_batch(shape, tuple(rate._value.shape), "poisson")
    return stateless_random.stateless_poisson(full, _seed_pair(seed, "poisson"), rate,
                                              dtype=dtype)
