"""Random ops against TensorFlow: the stateless ops and tf.random.Generator give TF's
numbers (they follow TF's Philox kernels), dtypes, shapes and error classes.

Uniform, integer, categorical, gamma, Poisson and binomial draws must be bit-identical;
normal draws agree to a float's last bit or two (sin/cos/log rounding). The stateful ops
(tf.random.normal, gamma, poisson ...) draw from neuroflow's own streams, so only their
dtypes, shapes, errors and statistics are compared.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402
from neuroflow.ops.stateless_random import gamma_sample_derivative  # noqa: E402

pytestmark = pytest.mark.tensorflow

SEEDS = [(1, 2), (0, 0), (-7, 2**31 - 1), (123456, -1)]
FLOATS = ["float16", "float32", "float64"]


def _same(ours, theirs, exact=True):
    a, b = np.asarray(ours.numpy()), np.asarray(theirs.numpy())
    assert ours.dtype.name == theirs.dtype.name
    assert a.shape == b.shape
    if exact or a.dtype.kind not in "f":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=4 * np.finfo(a.dtype).eps,
                                   atol=4 * np.finfo(a.dtype).eps)


def _both(fn, exact=True):
    _same(fn(N), fn(T), exact)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [[], [0], [7], [3, 5], [2, 0, 3]])
def test_stateless_float_draws(seed, dtype, shape):
    _both(lambda m: m.random.stateless_uniform(shape, seed, dtype=dtype))
    _both(lambda m: m.random.stateless_uniform(shape, seed, -2.5, 4.0, dtype=dtype))
    _both(lambda m: m.random.stateless_normal(shape, seed, 1.5, 0.5, dtype=dtype), exact=False)
    _both(lambda m: m.random.stateless_truncated_normal(shape, seed, -1.0, 3.0, dtype=dtype),
          exact=False)


@pytest.mark.parametrize("seed_dtype", ["int32", "int64"])
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_stateless_int_draws(seed_dtype, dtype):
    for seed in SEEDS:
        s = np.array(seed, seed_dtype)
        _both(lambda m, s=s: m.random.stateless_uniform([9], s, -3, 17, dtype=dtype))
        _both(lambda m, s=s: m.random.stateless_uniform([4, 2], s, -2**31, 2**31 - 1, dtype=dtype))
        _both(lambda m, s=s: m.random.stateless_uniform([5], s, None, None, dtype=dtype))
        _both(lambda m, s=s: m.random.stateless_uniform([5], s, None, None,
                                                        dtype="u" + dtype))


def test_stateless_int64_wide_range_and_tensor_bounds():
    _both(lambda m: m.random.stateless_uniform([6], [4, 5], -2**62, 2**62, dtype="int64"))
    low, high = np.int32(-4), np.int32(40)
    _both(lambda m: m.random.stateless_uniform([6], [4, 5], m.constant(low), m.constant(high),
                                               dtype="int32"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_stateless_categorical(seed, dtype):
    logits = np.array([[0.0, 1.0, 2.0, -1.0], [3.0, -np.inf, 0.0, 0.5], [1.0, 1.0, 1.0, 1.0]],
                      dtype)
    _both(lambda m: m.random.stateless_categorical(logits, 25, seed))
    _both(lambda m: m.random.stateless_categorical(logits, 3, seed, dtype="int32"))
    _both(lambda m: m.random.stateless_categorical(logits, 0, seed))


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("dtype", FLOATS)
def test_stateless_gamma(seed, dtype):
    alpha = np.array([0.2, 1.0, 2.5, 60.0], dtype)
    _both(lambda m: m.random.stateless_gamma([6, 4], seed, alpha, dtype=dtype))
    _both(lambda m: m.random.stateless_gamma([3, 2, 4], seed, alpha, [[2.0], [0.5]],
                                             dtype=dtype))
    _both(lambda m: m.random.stateless_gamma([5], seed, 3.0, dtype=dtype))


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64", "float16"])
def test_stateless_poisson(seed, dtype):
    lam = np.array([0.3, 4.0, 9.99, 10.0, 75.0, 3000.0], np.float32)
    _both(lambda m: m.random.stateless_poisson([5, 6], seed, lam, dtype=dtype))
    _both(lambda m: m.random.stateless_poisson([4, 6], seed, lam.astype(np.float64),
                                               dtype=dtype))


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_stateless_binomial(seed):
    counts = np.array([0.0, 5.0, 20.0, 100.0, 1000.0, 7.0, 50.0], np.float32)
    probs = np.array([0.5, 0.5, 0.2, 0.9, 0.3, 1.0, 0.05], np.float32)
    for out in ("int32", "int64", "float32", "float64"):
        _both(lambda m, out=out: m.random.stateless_binomial([5, 7], seed, counts, probs, out))
    _both(lambda m: m.random.stateless_binomial([4, 2, 3], seed, [[10.0], [40.0]],
                                                [0.1, 0.5, 0.8]))


def test_split_and_fold_in():
    for seed in SEEDS:
        for dtype in ("int32", "int64"):
            s = np.array(seed, dtype)
            _both(lambda m, s=s: m.random.split(s, 4))
            _both(lambda m, s=s: m.random.split(s, 0))
            _both(lambda m, s=s, d=dtype: m.random.fold_in(s, np.asarray(17, d)))
            _both(lambda m, s=s: m.random.experimental.stateless_split(s))
            _both(lambda m, s=s: m.random.experimental.stateless_fold_in(s, 3))


def _generator_session(m, seed):
    g = m.random.Generator.from_seed(seed)
    draws = [g.normal([3]), g.uniform([2, 2]), g.uniform([5], -3, 9, dtype="int64"),
             g.truncated_normal([4], dtype="float64"), g.uniform_full_int([2]),
             g.uniform_full_int([2], "int32"), g.make_seeds(2), g.uniform([3], dtype="float16")]
    draws.append(m.constant(g.state.numpy()))
    draws.append(g.binomial([4, 3], [5.0, 40.0, 300.0], [0.5, 0.9, 0.3]))
    draws.append(g.binomial([2], 10.0, 0.25, dtype="int64"))
    draws.append(m.constant(g.state.numpy()))
    children = g.split(2)
    draws += [c.normal([2]) for c in children] + [m.constant(g.state.numpy())]
    g.reset_from_seed(seed + 1)
    draws.append(g.uniform([3]))
    return draws


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 3, -5])
def test_generator_sequences(seed):
    for ours, theirs in zip(_generator_session(N, seed), _generator_session(T, seed)):
        _same(ours, theirs, exact=ours.dtype.name not in FLOATS)


def test_generator_states_from_seeds():
    for seed in (7, 2**70 + 5, [3, 4], -1, [1, 2, 3, 4], np.int64(5), np.array([9, -2])):
        _same(N.random.Generator.from_seed(seed).state,
              T.convert_to_tensor(T.random.Generator.from_seed(seed).state))
    _same(N.random.create_rng_state(9, "philox"), T.random.create_rng_state(9, "philox"))


def _error_class(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error).__name__
    return None


@pytest.mark.parametrize("make", [
    lambda m: m.random.stateless_uniform([2], [1, 2, 3]),
    lambda m: m.random.stateless_uniform([2], 1),
    lambda m: m.random.stateless_uniform([2], [1, 2], dtype="int32"),
    lambda m: m.random.stateless_uniform([2], [1, 2], 5, 3, dtype="int32"),
    lambda m: m.random.stateless_uniform([2], [1, 2], 0, 3, dtype="uint32"),
    lambda m: m.random.stateless_uniform([2], [1, 2], 0, 3, dtype="int8"),
    lambda m: m.random.stateless_uniform([2], [1, 2], [0, 1], 3, dtype="int32"),
    lambda m: m.random.stateless_uniform([2], [1, 2], alg="bogus"),
    lambda m: m.random.stateless_normal([-1], [1, 2]),
    lambda m: m.random.stateless_normal([2], [1, 2], dtype="int32"),
    lambda m: m.random.stateless_categorical([[1.0, 2.0]], -1, [1, 2]),
    lambda m: m.random.stateless_categorical([1.0, 2.0], 3, [1, 2]),
    lambda m: m.random.stateless_categorical(np.zeros((2, 0), np.float32), 3, [1, 2]),
    lambda m: m.random.stateless_categorical([[1.0, 2.0]], 3, [1, 2], dtype="float32"),
    lambda m: m.random.stateless_gamma([3], [1, 2], [1.0, 2.0]),
    lambda m: m.random.stateless_poisson([3], [1, 2], [1.0, 2.0]),
    lambda m: m.random.stateless_binomial([4], [1, 2], [10.0, 20.0], 0.5),
    lambda m: m.random.uniform([2], 5, 3, dtype="int32"),
    lambda m: m.random.normal([-2]),
])
def test_error_classes(make):
    assert _error_class(lambda: make(N)) == _error_class(lambda: make(T))


def test_stateful_gamma_and_poisson_shapes_dtypes_and_statistics():
    for m in (N, T):
        m.random.set_seed(1)
    for shape, alpha, beta in (([3], [1.0, 2.0], None), ([3], [1.0, 2.0], [[1.0], [2.0]]),
                               ([], 2.0, None), ([0, 2], [1.0], None)):
        ours, theirs = N.random.gamma(shape, alpha, beta), T.random.gamma(shape, alpha, beta)
        assert ours.shape == tuple(theirs.shape) and ours.dtype.name == theirs.dtype.name
    for dtype in ("float32", "int32", "int64", "float64"):
        ours, theirs = (m.random.poisson([4], [1.0, 3.0], dtype=dtype) for m in (N, T))
        assert ours.shape == tuple(theirs.shape) and ours.dtype.name == theirs.dtype.name
    draws = N.random.gamma([40000], 3.0, 2.0).numpy()
    assert abs(draws.mean() - 1.5) < 0.03 and abs(draws.var() - 0.75) < 0.04
    counts = N.random.poisson([40000], 6.0).numpy()
    assert abs(counts.mean() - 6.0) < 0.06 and abs(counts.var() - 6.0) < 0.15


@pytest.mark.parametrize("dtype", FLOATS)
def test_stateful_float_dtypes(dtype):
    for make in (lambda m: m.random.uniform([2, 3], dtype=dtype),
                 lambda m: m.random.normal([2, 3], dtype=dtype),
                 lambda m: m.random.truncated_normal([2, 3], dtype=dtype)):
        ours, theirs = make(N), make(T)
        assert ours.dtype.name == theirs.dtype.name and ours.shape == tuple(theirs.shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gamma_gradients(dtype):
    def grads(m):
        alpha = m.constant(np.array([0.05, 0.3, 1.0, 2.0, 9.0, 300.0], dtype))
        beta = m.constant(np.array([[1.0], [3.0]], dtype))
        with m.GradientTape() as tape:
            tape.watch(alpha)
            tape.watch(beta)
            y = m.random.stateless_gamma([4, 2, 6], [5, 6], alpha, beta, dtype=dtype)
            loss = m.reduce_sum(y * m.sin(y))
        return [g.numpy() for g in tape.gradient(loss, [alpha, beta])]

    for ours, theirs in zip(grads(N), grads(T)):
        assert ours.dtype == theirs.dtype
        # Sums of terms of both signs: float32 rounding shows against the largest term.
        tol = 1e-5 if dtype == "float32" else 1e-7
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * np.abs(theirs).max())


def test_gamma_sample_derivative_matches_tf():
    alpha = np.array([0.01, 0.2, 0.7, 1.0, 3.0, 25.0, 100.0, 1000.0])
    for quantile in (1e-3, 0.1, 0.5, 0.9, 0.999):
        sample = T.random.stateless_gamma([64, 8], [1, 2], alpha, dtype="float64").numpy()
        sample = np.quantile(sample, quantile, axis=0)
        theirs = T.raw_ops.RandomGammaGrad(alpha=alpha, sample=sample).numpy()
        ours = gamma_sample_derivative(alpha, sample)
        np.testing.assert_allclose(ours, theirs, rtol=1e-7)


@pytest.mark.parametrize("shape", [[], [0], [1], [7], [50, 3], [4, 2, 2]])
def test_stateless_shuffle(shape):
    value = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    for seed in SEEDS:
        _both(lambda m, s=seed: m.random.experimental.stateless_shuffle(value, s))
