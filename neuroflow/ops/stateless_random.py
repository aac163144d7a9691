"""Stateless random ops and ``tf.random.Generator``: TensorFlow's numbers, from Philox.

A stateless op (``tf.random.stateless_normal(shape, seed)``) is a pure function of its
shape and seed: the same seed gives the same numbers on every call, eager or compiled,
and the same numbers TensorFlow gives (``philox.py`` follows TF's kernels). The seed is
an input tensor, so a compiled function follows a seed that changes between calls.

A :class:`Generator` owns a Philox state (counter and key) and advances it by each draw,
as TensorFlow's does, so ``Generator.from_seed(s)`` draws TF's numbers for ``s`` too. Its
draws are one stateful primitive that reads and advances the generator when it runs, so
a compiled function draws anew on each call.
"""

from __future__ import annotations

import enum
import math
import os
import threading

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, is_known, num_elements
from neuroflow.dtypes import as_dtype
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import philox
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.random_ops import _dims, _float_dtype
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.ops.shape_ops import _run_time_shape, _static_size
from neuroflow.ops.shape_rules import broadcast, broadcast_shapes
from neuroflow.tensor import Tensor, host_array

# Value inputs each kind of draw takes (before the optional sizes input).
_OPERANDS = {"uniform_int": 2, "gamma": 1, "poisson": 1, "binomial": 2, "categorical": 1,
             "reset": 1, "skip": 1}
_UNIFORM_DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint32", "uint64")


class Algorithm(enum.Enum):
    """``tf.random.Algorithm``: TF's numbers for its counter-based generators."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


_PHILOX = Algorithm.PHILOX.value


def _fill(state: tuple[int, int, int], kind: str, shape: tuple, dtype: np.dtype,
          operands) -> np.ndarray:
    """The draws of ``kind`` from a Philox state, as TensorFlow's kernels make them."""
    size = int(np.prod(shape, dtype=np.int64))
    if kind == "truncated_normal":
        return philox.truncated_normal(state, size, dtype).reshape(shape)
    if kind in ("gamma", "poisson", "binomial"):
        return _variable_length(state, kind, shape, dtype, operands)
    if kind == "permutation":
        return philox.permutation(state, shape[0])
    if kind == "categorical":
        return philox.categorical(state, host_array(operands[0]), shape[1]).astype(dtype)
    w = philox.stream(state, size * philox.words_per_value(dtype))
    if kind == "uniform":
        values = philox.uniform(w, dtype)
    elif kind == "normal":
        values = philox.normal(w, dtype)
    elif kind == "full_int":
        values = philox.full_int(w, dtype)
    else:
        low, high = (int(host_array(v)) for v in operands)
        if low >= high:
            raise InvalidArgumentError(f"Need minval < maxval, got {low} >= {high}",
                                       "stateless_random_uniform_int")
        values = philox.uniform_int(w, dtype, low, high)
    return values[:size].reshape(shape)


def _variable_length(state, kind, shape, dtype, operands) -> np.ndarray:
    params = [host_array(v) for v in operands]
    batch = broadcast_shapes(*(p.shape for p in params))
    if tuple(shape[len(shape) - len(batch):]) != batch:
        raise InvalidArgumentError(f"Shape passed in must end with broadcasted shape: the "
                                   f"shape {list(shape)} does not end with {list(batch)}, the "
                                   f"shape of the parameters.", f"stateless_random_{kind}")
    flat = [np.broadcast_to(p, batch).reshape(-1) for p in params]
    samples = num_elements(shape[:len(shape) - len(batch)])
    with np.errstate(all="ignore"):
        if kind == "gamma":
            values = philox.gamma(state, flat[0], samples)
        elif kind == "poisson":
            values = philox.poisson(state, flat[0], samples)
        else:
            values = philox.binomial(state, flat[0], flat[1], samples)
        return values.astype(dtype).reshape(shape)


def _draw_shape(*inputs, shape, dtype, **attrs):
    dims = tuple(Dim.fresh("n") if d is None else d for d in shape)
    return AbstractArray(dims, dtype)


def _sizes_and_operands(kind, shape, rest) -> tuple[tuple, tuple]:
    count = _OPERANDS.get(kind, 0)
    operands, sizes = rest[:count], rest[count:]
    if sizes:
        shape = _run_time_shape(sizes[0])
    return shape, operands


# ``seed``: the seed pair; then the kind's value inputs (``_OPERANDS``), then, when
# ``shape`` holds None (sizes only known when the graph runs), the shape as a tensor.
@primitive("stateless_random", differentiable=False, shape=_draw_shape,
           lowering=Lowering(result="fresh"))
def _stateless_random(xp, seed, *rest, kind, shape, dtype):
    shape, operands = _sizes_and_operands(kind, shape, rest)
    return xp.asarray(_fill(philox.state_from_seed(host_array(seed)), kind, shape, dtype,
                            operands))


# Gamma draws are differentiable with respect to alpha, by implicit reparameterization
# (Figurnov et al., 2018) as TF does: d sample / d alpha = -(dP(alpha, x)/d alpha) / pdf(x)
# for P the regularized lower incomplete gamma function, the CDF of the standard gamma.
@primitive("stateless_gamma", shape=_draw_shape, save_inputs=True, save_output=True,
           lowering=Lowering(result="fresh"))
def _stateless_gamma(xp, seed, alpha, *sizes, shape, dtype):
    shape, operands = _sizes_and_operands("gamma", shape, (alpha, *sizes))
    return xp.asarray(_fill(philox.state_from_seed(host_array(seed)), "gamma", shape, dtype,
                            operands))


@_stateless_gamma.defvjp
def _stateless_gamma_vjp(ctx, g):
    from neuroflow.ops.reductions import reduce_sum

    alpha, sample = ctx.inputs[1], ctx.output
    sample_axes = list(range(sample._value.ndim - alpha._value.ndim))
    partial = _random_gamma_grad(alpha, sample)
    grad = reduce_sum(g * partial, axis=sample_axes) if sample_axes else g * partial
    return (None, grad) + (None,) * (len(ctx.input_ids) - 2)


_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _log_gamma_density_factor(a, x):
    return a * np.log(x) - x - _lgamma(a).astype(np.float64)


def _lower_regularized_gamma(a, x):
    """P(a, x): its power series below x = a + 1, else one minus the continued fraction of
    Q(a, x) (evaluated by the modified Lentz method), both to double precision."""
    out = np.empty(a.shape)
    series = x < a + 1
    sa, sx = a[series], x[series]
    term = 1 / sa
    total = term.copy()
    for n in range(1, 5000):
        term = term * sx / (sa + n)
        total = total + term
        if not (np.abs(term) > np.abs(total) * 1e-17).any():
            break
    out[series] = total * np.exp(_log_gamma_density_factor(sa, sx))
    ca, cx = a[~series], x[~series]
    tiny = 1e-300
    b = cx + 1 - ca
    c = np.full(ca.shape, 1 / tiny)
    d = 1 / b
    fraction = d.copy()
    for i in range(1, 5000):
        an = -i * (i - ca)
        b = b + 2
        d = an * d + b
        d = 1 / np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        fraction = fraction * d * c
        if not (np.abs(d * c - 1) > 1e-16).any():
            break
    out[~series] = 1 - np.exp(_log_gamma_density_factor(ca, cx)) * fraction
    return out


def gamma_sample_derivative(alpha: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """d sample / d alpha of standard gamma samples; dP/d alpha by central differences."""
    a, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(sample, np.float64))
    with np.errstate(all="ignore"):
        # P changes over a scale of alpha below 1 and of sqrt(alpha) above.
        step = 1e-5 * np.minimum(np.maximum(a, 1e-3), np.sqrt(a))
        slope = (_lower_regularized_gamma(a + step, x)
                 - _lower_regularized_gamma(a - step, x)) / (2 * step)
        log_pdf = (a - 1) * np.log(x) - x - _lgamma(a).astype(np.float64)
        return -slope / np.exp(log_pdf)


@primitive("random_gamma_grad", differentiable=False, shape=broadcast,
           lowering=Lowering(result="fresh"))
def _random_gamma_grad(xp, alpha, sample):
    derivative = gamma_sample_derivative(host_array(alpha), host_array(sample))
    return xp.asarray(derivative.astype(sample.dtype))


# --- arguments -----------------------------------------------------------------------------


def _seed(seed, op: str) -> Tensor:
    t = as_tensor(seed)
    if t.dtype.np.kind not in "iu":
        raise InvalidArgumentError(f"{op}: the seed must be an integer tensor (int32 or int64), "
                                   f"received {t.dtype.name}.", op)
    if t._value.shape != (2,):
        raise InvalidArgumentError(f"{op}: seed must have shape [2], not "
                                   f"{list(t._value.shape)}.", op)
    return t


def check_alg(alg) -> None:
    """Only Philox is here; TF's auto-selection picks it on CPUs."""
    name = getattr(alg, "name", alg)
    if name in (None, "auto_select", "philox", "AUTO_SELECT", "PHILOX", 1, 3):
        return
    if name in ("threefry", "THREEFRY", 2):
        raise NotImplementedError("The ThreeFry algorithm is not available in neuroflow; use "
                                  "alg='philox' or 'auto_select' (TF's choice on CPU).")
    raise ValueError(f"Argument `alg` got unsupported value {alg}. Supported values are philox "
                     f"for the Philox algorithm and auto_select for auto-selection.")


def _draw(kind, shape, seed, dtype, op, *operands) -> Tensor:
    dims, sizes = _dims(shape, op)
    inputs = (_seed(seed, op), *operands)
    if sizes is not None and any(d is None for d in dims):
        inputs += (sizes(),)
    return _stateless_random(*inputs, kind=kind, shape=dims, dtype=np.dtype(dtype))


def _int_bounds(minval, maxval, d, op: str) -> tuple[Tensor, Tensor]:
    bounds = tuple(as_tensor(v, d.np) for v in (minval, maxval))
    for name, t in zip(("minval", "maxval"), bounds):
        if t._value.ndim:
            raise InvalidArgumentError(f"{op}: {name} must be 0-D, got shape "
                                       f"{list(t._value.shape)}.", op)
    return bounds


def _uniform_dtype(dtype, minval, maxval, op: str):
    d = as_dtype(dtype)
    if d.name not in _UNIFORM_DTYPES:
        raise ValueError(f"{op}: argument `dtype` got invalid value {d.name}. Accepted dtypes "
                         f"are {', '.join(_UNIFORM_DTYPES)}.")
    if d.is_integer:
        if (minval is None) != (maxval is None):
            raise ValueError(f"{op}: for integer `dtype` argument {d.name}, argument `minval` "
                             f"and `maxval` must be both None or not None. Got `minval`="
                             f"{minval} and `maxval`={maxval}.")
        if minval is not None and d.name.startswith("uint"):
            raise ValueError(f"{op}: argument `dtype` got invalid value {d.name} when "
                             f"argument `minval` is not None. Please don't use unsigned "
                             f"integers in this case.")
    return d


# --- stateless ops ------------------------------------------------------------------------


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype="float32", name=None,
                      alg="auto_select") -> Tensor:
    """Uniform draws in ``[minval, maxval)``, a pure function of ``(shape, seed)``.

    >>> import neuroflow as tf
    >>> tf.random.stateless_uniform([3], seed=[1, 2]).numpy()
    array([0.8440604 , 0.19204533, 0.9962232 ], dtype=float32)
    """
    check_alg(alg)
    d = _uniform_dtype(dtype, minval, maxval, "stateless_uniform")
    if d.is_integer and minval is None:
        return _draw("full_int", shape, seed, d.np, "stateless_uniform")
    if d.is_integer:
        low, high = _int_bounds(minval, maxval, d, "stateless_uniform")
        return _draw("uniform_int", shape, seed, d.np, "stateless_uniform", low, high)
    low = as_tensor(minval, d.np)
    high = as_tensor(1 if maxval is None else maxval, d.np)
    return _draw("uniform", shape, seed, d.np, "stateless_uniform") * (high - low) + low


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype="float32", name=None,
                     alg="auto_select") -> Tensor:
    """Normal draws, a pure function of ``(shape, seed)``."""
    check_alg(alg)
    np_dtype = _float_dtype(dtype, "stateless_normal")
    mean, stddev = as_tensor(mean, np_dtype), as_tensor(stddev, np_dtype)
    return _draw("normal", shape, seed, np_dtype, "stateless_normal") * stddev + mean


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype="float32", name=None,
                               alg="auto_select") -> Tensor:
    """Normal draws within two standard deviations, a pure function of ``(shape, seed)``."""
    check_alg(alg)
    np_dtype = _float_dtype(dtype, "stateless_truncated_normal")
    mean, stddev = as_tensor(mean, np_dtype), as_tensor(stddev, np_dtype)
    draws = _draw("truncated_normal", shape, seed, np_dtype, "stateless_truncated_normal")
    return draws * stddev + mean


def stateless_categorical(logits, num_samples, seed, dtype="int64", name=None) -> Tensor:
    """Class indices drawn from unnormalised log-probabilities, one row per batch entry."""
    op = "stateless_categorical"
    d = as_dtype(dtype)
    if d.name not in ("int32", "int64"):
        raise ValueError(f"{op}: argument `dtype` got invalid value {d.name}. Accepted dtypes "
                         f"are int32, int64.")
    z = as_tensor(logits)
    if z.dtype.name not in ("float16", "float32", "float64"):
        raise TypeError(f"{op}: logits must be float16, float32 or float64, received "
                        f"{z.dtype.name}.")
    if z._value.ndim != 2:
        raise InvalidArgumentError(f"{op}: logits should be a matrix, got shape "
                                   f"{list(z._value.shape)}.", op)
    classes = z._value.shape[1]
    if is_known(classes) and classes == 0:
        raise InvalidArgumentError(f"{op}: num_classes should be positive, got 0.", op)
    count = _static_size(num_samples, op, "num_samples")
    if is_known(count) and count < 0:
        raise InvalidArgumentError(f"{op}: num_samples should be non-negative, got {count}.",
                                   op)
    return _stateless_random(_seed(seed, op), z, kind="categorical",
                             shape=(z._value.shape[0], count), dtype=d.np)


def stateless_gamma(shape, seed, alpha, beta=None, dtype="float32", name=None) -> Tensor:
    """Gamma draws; ``shape`` ends with the broadcast shape of ``alpha`` and ``beta``.

    As in TF: samples below the smallest normal number are raised to it, and the draws are
    differentiable with respect to ``alpha`` (implicit reparameterization) and ``beta``.
    """
    np_dtype = _float_dtype(dtype, "stateless_gamma")
    alpha = as_tensor(alpha, np_dtype)
    beta = as_tensor(1 if beta is None else beta, np_dtype)
    batch = broadcast_shapes(tuple(alpha._value.shape), tuple(beta._value.shape))
    from neuroflow.ops.shape_ops import broadcast_to

    alpha = broadcast_to(alpha, batch) if tuple(alpha._value.shape) != batch else alpha
    dims, sizes = _dims(shape, "stateless_gamma")
    inputs = (_seed(seed, "stateless_gamma"), alpha)
    if sizes is not None and any(d is None for d in dims):
        inputs += (sizes(),)
    draws = _stateless_gamma(*inputs, shape=dims, dtype=np_dtype)
    tiny = Tensor(np.asarray(np.finfo(np_dtype).tiny, np_dtype))
    return ew.maximum(tiny, draws / beta)


def stateless_poisson(shape, seed, lam, dtype="int32", name=None) -> Tensor:
    """Poisson draws; ``shape`` ends with the shape of ``lam``."""
    op = "stateless_poisson"
    d = as_dtype(dtype)
    if d.name not in ("float16", "float32", "float64", "int32", "int64"):
        raise InvalidArgumentError(f"{op}: dtype must be one of float16, float32, float64, "
                                   f"int32, int64, received {d.name}.", op)
    rate = as_tensor(lam)
    if not rate.dtype.is_floating:
        rate = ew.cast(rate, np.float32)
    return _draw("poisson", shape, seed, d.np, op, rate)


def stateless_binomial(shape, seed, counts, probs, output_dtype="int32", name=None) -> Tensor:
    """Binomial draws; ``shape`` ends with the broadcast shape of ``counts`` and ``probs``."""
    op = "stateless_binomial"
    d = as_dtype(output_dtype)
    if d.name not in ("float16", "float32", "float64", "int32", "int64"):
        raise InvalidArgumentError(f"{op}: output_dtype must be one of float16, float32, "
                                   f"float64, int32, int64, received {d.name}.", op)
    probs = as_tensor(probs)
    if not probs.dtype.is_floating:
        probs = ew.cast(probs, np.float32)
    counts = as_tensor(counts, probs.dtype.np)
    return _draw("binomial", shape, seed, d.np, op, counts, probs)


def stateless_shuffle(value, seed, alg="auto_select", name=None) -> Tensor:
    """``value`` with its first axis in a random order, a pure function of the seed."""
    from neuroflow.ops.shape_ops import gather

    check_alg(alg)
    x = as_tensor(value)
    if not x._value.ndim:
        return x
    order = _stateless_random(_seed(seed, "stateless_shuffle"), kind="permutation",
                              shape=x._value.shape[:1], dtype=np.dtype(np.int64))
    return gather(x, order)


def split(seed, num=2, alg="auto_select") -> Tensor:
    """``num`` new seeds from ``seed``, as a ``[num, 2]`` tensor of the seed's dtype."""
    check_alg(alg)
    seed = _seed(seed, "split")
    return stateless_uniform([num, 2], seed, minval=None, maxval=None, dtype=seed.dtype)


def fold_in(seed, data, alg="auto_select") -> Tensor:
    """A new seed from ``seed`` and an integer ``data`` (a step or a worker index)."""
    from neuroflow.ops.shape_ops import stack

    check_alg(alg)
    data = as_tensor(data)
    if data.dtype.name not in ("int32", "int64"):
        raise TypeError(f"fold_in: data must be an int32 or int64 scalar, received "
                        f"{data.dtype.name}.")
    mixed = stateless_uniform([], _seed(seed, "fold_in"), minval=None, maxval=None,
                              dtype=data.dtype)
    return stack([mixed, data])


# --- Generator ----------------------------------------------------------------------------


def _state_words(value) -> tuple[int, int, int]:
    """Three 64-bit words from a seed or state: a Python int is cut into 64-bit pieces, low
    first; anything else (a list, a NumPy or tensor value) is read as int64 words and, if
    shorter, padded with zeros on the left (the counter), as TF does."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = int(value)
        return tuple((value >> (64 * i)) & philox.MASK64 for i in range(3))
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        flat = [v & philox.MASK64 for v in value[:3]]
    else:
        flat = [int(v) & philox.MASK64
                for v in np.asarray(host_array(as_tensor(value)._value)).reshape(-1)[:3]]
    return tuple([0] * (3 - len(flat)) + flat)


def _signed(words) -> np.ndarray:
    return np.asarray([w - (1 << 64) if w >> 63 else w for w in words], np.int64)


def _generator_shape(*inputs, kind, shape, dtype, generator):
    return _draw_shape(kind=kind, shape=shape, dtype=dtype)


# Every draw of a Generator, and setting its state (kind "reset"): the generator's state is
# read and advanced when the op runs, so compiled functions draw anew on each call.
@primitive("generator_random", stateful=True, effect=True, differentiable=False,
           shape=_generator_shape, lowering=Lowering(result="fresh"))
def _generator_random(xp, *rest, kind, shape, dtype, generator):
    shape, operands = _sizes_and_operands(kind, shape, rest)
    if kind == "reset":
        generator._words = _state_words(operands[0])
        return xp.asarray(_signed(generator._words))
    if kind == "skip":
        with generator._lock:
            old = generator._words
            generator._words = philox.skip(old, int(host_array(operands[0]))
                                           * philox.RESERVED_PER_OUTPUT)
        return xp.asarray(_signed(old))
    with generator._lock:  # compiled functions may draw from several threads at once
        state = generator._words
        generator._words = philox.skip(state, _calls_used(kind, shape, operands))
    return xp.asarray(_fill(state, kind, shape, dtype, operands))


def _calls_used(kind: str, shape: tuple, operands) -> int:
    """How far a Generator's counter moves for one draw, as TF moves it: 256 calls a value;
    a binomial draw moves 12800 calls per parameter set and sample, plus three samples."""
    size = int(np.prod(shape, dtype=np.int64))
    if kind != "binomial":
        return size * philox.RESERVED_PER_OUTPUT
    batches = int(np.prod(broadcast_shapes(*(np.shape(p) for p in operands)), dtype=np.int64))
    samples = size // batches if batches else 0
    return 50 * philox.RESERVED_PER_OUTPUT * batches * (samples + 3)


class Generator:
    """``tf.random.Generator``: a Philox state advanced by every draw.

    >>> import neuroflow as tf
    >>> g = tf.random.Generator.from_seed(1)
    >>> g.normal([3]).numpy()
    array([ 0.43842274, -0.53439844, -0.07710262], dtype=float32)

    The state is held by the generator (TF keeps it in a ``tf.Variable``); ``state``
    returns a copy as a tensor.
    """

    def __init__(self, copy_from: Generator | None = None, state=None, alg=None):
        check_alg(alg)
        self._lock = threading.Lock()
        if copy_from is not None:
            self._words = copy_from._words
        elif state is None:
            raise ValueError("Generator needs `copy_from` or `state`; use "
                             "Generator.from_seed(seed) or from_non_deterministic_state().")
        else:
            self._words = _state_words(state)

    @classmethod
    def from_seed(cls, seed, alg=None) -> Generator:
        return cls(state=_state_words(seed), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None) -> Generator:
        return cls(state=int.from_bytes(os.urandom(24), "little"), alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg) -> Generator:
        counter = [int(v) for v in np.asarray(counter).reshape(-1)]
        return cls(state=_signed([*counter, int(key)]), alg=alg)

    @property
    def state(self) -> Tensor:
        return Tensor(_signed(self._words))

    @property
    def algorithm(self) -> int:
        return _PHILOX

    @property
    def key(self) -> Tensor:
        return Tensor(np.asarray(self._words[2], np.uint64))

    def reset(self, state) -> Tensor:
        return _generator_random(ew.cast(as_tensor(state), np.int64), kind="reset", shape=(3,),
                                 dtype=np.dtype(np.int64), generator=self)

    def reset_from_seed(self, seed) -> Tensor:
        return self.reset(Tensor(_signed(_state_words(seed))))

    def skip(self, delta) -> Tensor:
        """Advance the counter as ``delta`` values drawn would; returns the old state."""
        return _generator_random(ew.cast(as_tensor(delta), np.int64), kind="skip", shape=(3,),
                                 dtype=np.dtype(np.int64), generator=self)

    def _draw(self, kind, shape, dtype, op, *operands) -> Tensor:
        dims, sizes = _dims(shape, op)
        if sizes is not None and any(d is None for d in dims):
            operands += (sizes(),)
        return _generator_random(*operands, kind=kind, shape=dims, dtype=np.dtype(dtype),
                                 generator=self)

    def normal(self, shape, mean=0.0, stddev=1.0, dtype="float32", name=None) -> Tensor:
        np_dtype = _float_dtype(dtype, "Generator.normal")
        mean, stddev = as_tensor(mean, np_dtype), as_tensor(stddev, np_dtype)
        return self._draw("normal", shape, np_dtype, "Generator.normal") * stddev + mean

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype="float32",
                         name=None) -> Tensor:
        np_dtype = _float_dtype(dtype, "Generator.truncated_normal")
        mean, stddev = as_tensor(mean, np_dtype), as_tensor(stddev, np_dtype)
        draws = self._draw("truncated_normal", shape, np_dtype, "Generator.truncated_normal")
        return draws * stddev + mean

    def uniform(self, shape, minval=0, maxval=None, dtype="float32", name=None) -> Tensor:
        op = "Generator.uniform"
        d = _uniform_dtype(dtype, minval, maxval, op)
        if d.is_integer and minval is None:
            return self._draw("full_int", shape, d.np, op)
        if d.is_integer:
            return self._draw("uniform_int", shape, d.np, op, *_int_bounds(minval, maxval, d, op))
        low = as_tensor(minval, d.np)
        high = as_tensor(1 if maxval is None else maxval, d.np)
        return self._draw("uniform", shape, d.np, op) * (high - low) + low

    def binomial(self, shape, counts, probs, dtype="int32", name=None) -> Tensor:
        """Binomial draws; ``shape`` ends with the broadcast shape of the parameters."""
        op = "Generator.binomial"
        d = as_dtype(dtype)
        if d.name not in ("float16", "float32", "float64", "int32", "int64"):
            raise InvalidArgumentError(f"{op}: dtype must be one of float16, float32, float64, "
                                       f"int32, int64, received {d.name}.", op)
        probs = as_tensor(probs)
        if not probs.dtype.is_floating:
            probs = ew.cast(probs, np.float32)
        return self._draw("binomial", shape, d.np, op, as_tensor(counts, probs.dtype.np), probs)

    def uniform_full_int(self, shape, dtype="uint64", name=None) -> Tensor:
        d = as_dtype(dtype)
        if d.name not in ("int32", "int64", "uint32", "uint64"):
            raise ValueError(f"Generator.uniform_full_int: dtype must be int32, int64, uint32 "
                             f"or uint64, received {d.name}.")
        return self._draw("full_int", shape, d.np, "Generator.uniform_full_int")

    def make_seeds(self, count=1) -> Tensor:
        """``count`` seeds for stateless ops, as the columns of a ``[2, count]`` tensor."""
        from neuroflow.ops.shape_ops import stack

        keys = self.uniform_full_int([count], "int64")
        return stack([keys, ew.multiply(keys, Tensor(np.asarray(0, np.int64)))])

    def split(self, count=1) -> list[Generator]:
        """``count`` new generators, each keyed by a draw of this one."""
        keys = host_array(self.uniform_full_int([count], "int64")._value)
        return [Generator(state=[0, 0, int(k)]) for k in keys]


_global: list[Generator] = []


def get_global_generator() -> Generator:
    """The generator of the program, made from a non-deterministic state on first use."""
    if not _global:
        _global.append(Generator.from_non_deterministic_state())
    return _global[0]


def set_global_generator(generator: Generator) -> None:
    """Replace the global generator (functions traced with the old one keep it)."""
    if not isinstance(generator, Generator):
        raise TypeError(f"set_global_generator expects a tf.random.Generator, received "
                        f"{type(generator).__name__}.")
    _global[:] = [generator]


def create_rng_state(seed, alg) -> Tensor:
    """The Philox state ``Generator.from_seed(seed)`` starts from, as three int64."""
    check_alg(alg)
    return Tensor(_signed(_state_words(seed)))
