"""Stateless random ops, tf.random.Generator, gamma and Poisson: TensorFlow's numbers.

The expected values in ``FORWARD`` are what TensorFlow 2.21 returns for the same
arguments (recorded from ``tf.random.stateless_*`` on CPU): the ops follow TF's Philox
kernels, so they must give them exactly (normal draws to the last bit or two).
"""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import Fwd, params, raises_with_message, run_forward

import neuroflow as tf
from neuroflow.ops import philox, stateless_random

SEED = np.array([1, 2], np.int32)


def _seed(values, dtype=np.int32):
    return np.array(values, dtype)


FORWARD: dict = {
    "stateless_random": [
        Fwd(lambda s: tf.random.stateless_uniform([5], s),
            lambda s: np.array([0.8440604, 0.19204533, 0.9962232, 0.1603874, 0.27199018],
                               np.float32), (SEED,), "uniform-float32", "float32"),
        Fwd(lambda s: tf.random.stateless_uniform([3], s, dtype=tf.float64),
            lambda s: np.array([0.47713778180121613, 0.9809041063278245, 0.7182915943104444]),
            (_seed([7, -3]),), "uniform-float64", "float64"),
        Fwd(lambda s: tf.random.stateless_uniform([5], s, dtype=tf.float16),
            lambda s: np.array([0.543, 0.2354, 0.06055, 0.8936, 0.1436], np.float16),
            (SEED,), "uniform-float16", "float16"),
        Fwd(lambda s: tf.random.stateless_uniform([6], s, -5, 9, dtype=tf.int32),
            lambda s: np.array([7, -4, 7, 2, -4, 8], np.int32), (SEED,), "uniform-int32",
            "int32"),
        Fwd(lambda s: tf.random.stateless_uniform([3], s, -2**40, 2**40, dtype=tf.int64),
            lambda s: np.array([-63318521300, 635319583806, 846119227539]), (SEED,),
            "uniform-int64", "int64"),
        Fwd(lambda s: tf.random.stateless_uniform([3], s, None, None, dtype=tf.int64),
            lambda s: np.array([7464880146280614444, 1591045637757961278,
                                -1057468755545501549]), (SEED,), "full-int64", "int64"),
        Fwd(lambda s: tf.random.stateless_uniform([3], s, None, None, dtype=tf.uint32),
            lambda s: np.array([1105988140, 1738052849, 3959391294], np.uint32), (SEED,),
            "full-uint32", "uint32"),
        Fwd(lambda s: tf.random.stateless_normal([5], s),
            lambda s: np.array([0.5441101, 0.20738031, 0.07356432, 0.04643455, -1.3015898],
                               np.float32), (SEED,), "normal-float32", "float32"),
        Fwd(lambda s: tf.random.stateless_normal([3], s, dtype=tf.float64),
            lambda s: np.array([-0.1423118100189212, 0.7406072461585091, -1.469047669443883]),
            (SEED,), "normal-float64", "float64"),
        Fwd(lambda s: tf.random.stateless_normal([5], s, dtype=tf.float16),
            lambda s: np.array([0.544, 0.2074, 0.07355, 0.04645, -1.302], np.float16), (SEED,),
            "normal-float16", "float16"),
        Fwd(lambda s: tf.random.stateless_truncated_normal([6], s),
            lambda s: np.array([1.0239844, -0.53878856, 1.2795534, 0.9120099, -1.5643606,
                                1.6708267], np.float32), (_seed([5, 6]),), "truncated-float32",
            "float32"),
        Fwd(lambda s: tf.random.stateless_truncated_normal([3], s, dtype=tf.float64),
            lambda s: np.array([1.9110135209673957, -1.016761244746766, 0.975443728726583]),
            (_seed([5, 6]),), "truncated-float64", "float64"),
        Fwd(lambda s: tf.random.stateless_categorical([[0.0, 1.0, 2.0], [3.0, -np.inf, 0.0]],
                                                      6, s),
            lambda s: np.array([[2, 2, 1, 2, 2, 2], [0, 0, 0, 0, 0, 0]]), (SEED,),
            "categorical", "int64"),
        Fwd(lambda s: tf.random.stateless_poisson([3, 2], s, [2.0, 25.0]),
            lambda s: np.array([[3, 38], [4, 20], [3, 29]], np.int32), (SEED,), "poisson",
            "int32"),
        Fwd(lambda s: tf.random.stateless_binomial([3, 2], s, [8.0, 200.0], [0.3, 0.6]),
            lambda s: np.array([[4, 112], [3, 127], [3, 114]], np.int32), (SEED,), "binomial",
            "int32"),
        Fwd(lambda s: tf.random.split(s, 2),
            lambda s: np.array([[1105988140, 1738052849], [-335576002, 370444179]], np.int32),
            (SEED,), "split", "int32"),
        Fwd(lambda s: tf.random.fold_in(s, 3),
            lambda s: np.array([1105988140, 3], np.int32), (SEED,), "fold-in", "int32"),
    ],
    "stateless_gamma": [
        Fwd(lambda s: tf.random.stateless_gamma([3, 2], s, [0.5, 4.0], dtype=tf.float64),
            lambda s: np.array([[0.06695361383821083, 4.459336376000337],
                                [0.62823544551181, 4.520266951908729],
                                [0.18136731678689116, 3.4091505903198263]]), (SEED,), "float64",
            "float64"),
        Fwd(lambda s: tf.random.stateless_gamma([2], s, 2.5, 2.0),
            lambda s: np.array([1.7249327, 1.2292448], np.float32), (SEED,), "float32-beta",
            "float32"),
    ],
    # TF's derivatives of standard gamma samples with respect to alpha (RandomGammaGrad).
    "random_gamma_grad": [
        Fwd(stateless_random._random_gamma_grad,
            lambda a, x: np.array([4.46105670e-03, 2.78498391e+00, 9.73218741e-01,
                                   3.05572880e-01, 1.60298665e+00, 9.78642696e-01,
                                   1.06447366e+00, 6.85019809e-26, 1.02007851e+00]),
            (np.array([0.2, 0.2, 1.0, 2.5, 2.5, 40.0, 40.0, 1e-3, 500.0], np.float32),
             np.array([1e-4, 0.5, 0.7, 0.3, 6.0, 38.0, 45.0, 1e-30, 520.0], np.float32)),
            "float32"),
    ],
    "generator_random": [
        Fwd(lambda: tf.random.Generator.from_seed(1).normal([3]),
            lambda: np.array([0.43842274, -0.53439844, -0.07710262], np.float32), (),
            "normal", "float32"),
        Fwd(lambda: tf.random.Generator(state=[769, 0, 0], alg="philox").uniform([3]),
            lambda: np.array([0.6941341, 0.7800473, 0.3360424], np.float32), (), "uniform",
            "float32"),
    ],
}
GRADIENTS: dict = {}


def test_gamma_gradients_match_tf():
    """TF's gradients (implicit reparameterization in alpha; beta through the division):
    the samples are not a smooth function of alpha for a fixed seed, so finite differences
    of the draws would not give them."""
    alpha, beta = tf.constant([0.3, 2.0, 9.0]), tf.constant([[1.0], [3.0]])
    with tf.GradientTape() as tape:
        tape.watch([alpha, beta])
        y = tf.random.stateless_gamma([4, 2, 3], [1, 2], alpha, beta)
        loss = tf.reduce_sum(y * y)
    d_alpha, d_beta = tape.gradient(loss, [alpha, beta])
    np.testing.assert_allclose(d_alpha.numpy(), [1.3188419, 25.30951, 75.71749], rtol=2e-6)
    np.testing.assert_allclose(d_beta.numpy(), [[-649.038], [-25.71427]], rtol=2e-6)
    with tf.GradientTape() as tape:  # the stateful op has the same gradient rule
        tape.watch(alpha)
        y = tf.random.gamma([5], alpha, seed=1)
    assert tape.gradient(y, alpha).shape == (3,)


COVERED_ELSEWHERE = {"stateless_gamma": test_gamma_gradients_match_tf}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


# --- Philox itself --------------------------------------------------------------------------


@pytest.mark.parametrize("counter, key, want", [
    # Known-answer vectors of Random123, the reference implementation of Philox-4x32-10.
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_matches_the_reference_vectors(counter, key, want):
    state = (counter[0] | counter[1] << 32, counter[2] | counter[3] << 32, key[0] | key[1] << 32)
    assert tuple(int(w) for w in philox.words(state, np.zeros(1))[0]) == want


def test_counter_offsets_carry_into_the_high_word():
    state = (philox.MASK64, 5, 9)
    np.testing.assert_array_equal(philox.words(state, np.array([1])),
                                  philox.words((0, 6, 9), np.array([0])))
    assert philox.skip(state, 2) == (1, 6, 9)


# --- stateless ops: pure functions of (shape, seed) ------------------------------------------


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = tf.random.stateless_normal([4, 3], seed=[5, 6])
    np.testing.assert_array_equal(a.numpy(), tf.random.stateless_normal([4, 3], [5, 6]).numpy())
    assert not np.array_equal(a.numpy(), tf.random.stateless_normal([4, 3], [5, 7]).numpy())
    # int64 seeds give the numbers of the same int32 values, as in TF.
    np.testing.assert_array_equal(
        a.numpy(), tf.random.stateless_normal([4, 3], np.array([5, 6], np.int64)).numpy())


def test_compiled_stateless_ops_follow_the_seed_and_shape():
    f = tf.function(lambda s, n: tf.random.stateless_uniform(tf.stack([n, 2]), s, 0, 10,
                                                            dtype=tf.int32))
    for seed, rows in (([1, 2], 3), ([3, 4], 5)):
        got = f(tf.constant(seed), tf.constant(rows))
        np.testing.assert_array_equal(
            got.numpy(), tf.random.stateless_uniform([rows, 2], seed, 0, 10, tf.int32).numpy())
    assert f.experimental_get_tracing_count() == 1


def test_int_bounds_only_known_when_the_graph_runs():
    f = tf.function(lambda lo, hi: tf.random.stateless_uniform([50], [1, 2], lo, hi, tf.int64))
    values = f(tf.constant(10, tf.int64), tf.constant(13, tf.int64)).numpy()
    assert set(values.tolist()) == {10, 11, 12}
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: f(tf.constant(3, tf.int64), tf.constant(3, tf.int64)),
                        "Need minval < maxval, got 3 >= 3")


def test_statistics_of_the_stateless_distributions():
    u = tf.random.stateless_uniform([40000], [3, 4], -1.0, 3.0).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.03
    n = tf.random.stateless_normal([40000], [3, 4], 2.0, 3.0, tf.float64).numpy()
    assert abs(n.mean() - 2) < 0.05 and abs(n.std() - 3) < 0.05
    t = tf.random.stateless_truncated_normal([40000], [3, 4]).numpy()
    assert np.abs(t).max() < 2 and abs(t.std() - 0.88) < 0.01
    g = tf.random.stateless_gamma([20000, 3], [3, 4], [0.3, 1.0, 7.5], [1.0, 2.0, 0.5])
    np.testing.assert_allclose(g.numpy().mean(0), [0.3, 0.5, 15.0], rtol=0.04)
    p = tf.random.stateless_poisson([20000, 3], [3, 4], [0.5, 9.0, 120.0], dtype=tf.float32)
    np.testing.assert_allclose(p.numpy().mean(0), [0.5, 9.0, 120.0], rtol=0.03)
    np.testing.assert_allclose(p.numpy().var(0), [0.5, 9.0, 120.0], rtol=0.06)
    b = tf.random.stateless_binomial([20000, 4], [3, 4], [5.0, 40.0, 300.0, 30.0],
                                     [0.5, 0.9, 0.3, 0.1]).numpy()
    np.testing.assert_allclose(b.mean(0), [2.5, 36.0, 90.0, 3.0], rtol=0.03)
    np.testing.assert_allclose(b.var(0), [1.25, 3.6, 63.0, 2.7], rtol=0.08)
    c = tf.random.stateless_categorical(np.log([[0.2, 0.5, 0.3]]), 20000, [3, 4]).numpy()
    np.testing.assert_allclose(np.bincount(c[0]) / 20000, [0.2, 0.5, 0.3], atol=0.015)


def test_parameter_edge_cases_as_in_tf():
    g = tf.random.stateless_gamma([3], [1, 2], 0.0).numpy()  # alpha 0: the tiny floor
    np.testing.assert_array_equal(g, np.full(3, np.finfo(np.float32).tiny))
    assert np.isnan(tf.random.stateless_gamma([2], [1, 2], -1.0).numpy()).all()
    p = tf.random.stateless_poisson([2, 2], [1, 2], [-2.0, np.inf], dtype=tf.float32)
    np.testing.assert_array_equal(p.numpy(), [[0, np.inf], [0, np.inf]])
    b = tf.random.stateless_binomial([2, 3], [1, 2], [0.0, 4.0, 4.0], [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.numpy(), [[0, 0, 4], [0, 0, 4]])
    assert tf.random.stateless_uniform([0, 3], [1, 2]).shape == (0, 3)
    assert tf.random.stateless_truncated_normal([0], [1, 2]).shape == (0,)


@pytest.mark.parametrize("make, error, fragments", [
    (lambda: tf.random.stateless_uniform([2], [1, 2, 3]), tf.errors.InvalidArgumentError,
     ("seed must have shape [2], not [3]",)),
    (lambda: tf.random.stateless_uniform([2], [1.0, 2.0]), tf.errors.InvalidArgumentError,
     ("integer tensor",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], dtype=tf.int32), ValueError,
     ("must be both None or not None",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], 0, 3, tf.uint32), ValueError,
     ("Please don't use unsigned integers",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], 0, 3, tf.int8), ValueError,
     ("invalid value int8",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], 5, 3, tf.int32),
     tf.errors.InvalidArgumentError, ("Need minval < maxval, got 5 >= 3",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], [0, 1], 3, tf.int32),
     tf.errors.InvalidArgumentError, ("minval must be 0-D",)),
    (lambda: tf.random.stateless_normal([2], [1, 2], dtype=tf.int32), TypeError,
     ("float16, float32 or float64",)),
    (lambda: tf.random.stateless_normal([-1], [1, 2]), tf.errors.InvalidArgumentError,
     ("Dimension -1 must be >= 0",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], alg="threefry"), NotImplementedError,
     ("ThreeFry",)),
    (lambda: tf.random.stateless_uniform([2], [1, 2], alg="bogus"), ValueError,
     ("unsupported value bogus",)),
    (lambda: tf.random.stateless_categorical([[1.0]], 2, [1, 2], tf.float32), ValueError,
     ("invalid value float32",)),
    (lambda: tf.random.stateless_categorical([[1, 2]], 2, [1, 2]), TypeError,
     ("logits must be",)),
    (lambda: tf.random.stateless_categorical([1.0, 2.0], 2, [1, 2]),
     tf.errors.InvalidArgumentError, ("logits should be a matrix, got shape [2]",)),
    (lambda: tf.random.stateless_categorical(np.zeros((2, 0), np.float32), 2, [1, 2]),
     tf.errors.InvalidArgumentError, ("num_classes should be positive",)),
    (lambda: tf.random.stateless_categorical([[1.0]], -1, [1, 2]),
     tf.errors.InvalidArgumentError, ("num_samples should be non-negative, got -1",)),
    (lambda: tf.random.stateless_gamma([3], [1, 2], [1.0, 2.0]), tf.errors.InvalidArgumentError,
     ("Shape passed in must end with broadcasted shape",)),
    (lambda: tf.random.stateless_poisson([2], [1, 2], 1.0, tf.bool),
     tf.errors.InvalidArgumentError, ("dtype must be one of",)),
    (lambda: tf.random.stateless_binomial([2], [1, 2], 5, 0.5, tf.int8),
     tf.errors.InvalidArgumentError, ("output_dtype must be one of",)),
    (lambda: tf.random.fold_in([1, 2], 5.0), TypeError, ("int32 or int64",)),
    (lambda: tf.random.gamma([2], 1.0, dtype=tf.int32), ValueError, ("floating",)),
    (lambda: tf.random.Generator(), ValueError, ("from_seed",)),
    (lambda: tf.random.Generator.from_seed(1).uniform_full_int([2], tf.float32), ValueError,
     ("uniform_full_int",)),
    (lambda: tf.random.set_global_generator(3), TypeError, ("tf.random.Generator",)),
])
def test_errors(make, error, fragments):
    raises_with_message(error, make, *fragments)


# --- Generator ---------------------------------------------------------------------------


def test_generator_state_from_seeds_as_tf():
    assert tf.random.Generator.from_seed(1).state.numpy().tolist() == [1, 0, 0]
    assert tf.random.Generator.from_seed(2**70 + 5).state.numpy().tolist() == [5, 64, 0]
    assert tf.random.Generator.from_seed([3, 4]).state.numpy().tolist() == [0, 3, 4]
    assert tf.random.Generator.from_seed(-1).state.numpy().tolist() == [-1, -1, -1]
    assert tf.random.create_rng_state(7, "philox").numpy().tolist() == [7, 0, 0]
    # Not a Python int: read as words, padded on the left.
    assert tf.random.Generator.from_seed(np.int64(5)).state.numpy().tolist() == [0, 0, 5]
    assert tf.random.Generator.from_seed(tf.constant(5)).state.numpy().tolist() == [0, 0, 5]
    g = tf.random.Generator.from_key_counter(9, [4, 0], tf.random.Algorithm.PHILOX)
    assert g.state.numpy().tolist() == [4, 0, 9] and int(g.key) == 9
    assert g.algorithm == 1


def test_generator_draws_advance_the_state_as_tf():
    g = tf.random.Generator.from_seed(1)
    g.normal([3])
    assert g.state.numpy().tolist() == [769, 0, 0]  # 256 counter steps per value
    g.uniform([5])
    values = g.uniform([2, 3], 0, 10, dtype=tf.int32)
    np.testing.assert_array_equal(values.numpy(), [[1, 2, 9], [8, 5, 5]])
    assert g.skip(2).numpy().tolist() == [3585, 0, 0]
    assert g.state.numpy().tolist() == [4097, 0, 0]
    children = g.split(2)
    assert [c.state.numpy().tolist()[:2] for c in children] == [[0, 0], [0, 0]]
    assert children[0].state.numpy()[2] != children[1].state.numpy()[2]
    seeds = g.make_seeds(3)
    assert seeds.shape == (2, 3) and seeds.dtype == tf.int64 and not seeds.numpy()[1].any()
    g.reset_from_seed(1)
    np.testing.assert_array_equal(g.normal([3]).numpy(),
                                  tf.random.Generator.from_seed(1).normal([3]).numpy())
    # TF's binomial draws from the state, then moves it 12800 calls per parameter set and
    # sample, plus three samples.
    g.reset_from_seed(1)
    np.testing.assert_array_equal(
        g.binomial([4, 3], [5.0, 40.0, 300.0], [0.5, 0.9, 0.3]).numpy(),
        [[2, 39, 86], [3, 33, 92], [3, 37, 88], [2, 37, 96]])
    assert g.state.numpy().tolist() == [268801, 0, 0]
    raises_with_message(tf.errors.InvalidArgumentError,
                        lambda: g.binomial([2], 5.0, 0.5, tf.bool), "dtype must be one of")
    g.reset_from_seed(1)
    copy = tf.random.Generator(copy_from=g)
    np.testing.assert_array_equal(copy.normal([2]).numpy(), g.normal([2]).numpy())


def test_generator_distributions():
    g = tf.random.Generator.from_seed(3)
    t = g.truncated_normal([20000], 1.0, 2.0, tf.float64).numpy()
    assert t.dtype == np.float64 and t.min() > -3 and t.max() < 5
    assert abs(t.mean() - 1.0) < 0.05
    u = g.uniform([20000], -2.0, 2.0).numpy()
    assert u.min() >= -2 and u.max() < 2
    full = g.uniform([4], None, None, tf.int64)
    assert full.dtype == tf.int64 and g.uniform_full_int([2]).dtype == tf.uint64


def test_generator_skip_and_reset_run_in_compiled_functions():
    g = tf.random.Generator.from_seed(1)
    skip = tf.function(lambda n: g.skip(n))
    assert skip(tf.constant(2)).numpy().tolist() == [1, 0, 0]
    assert skip(tf.constant(1)).numpy().tolist() == [513, 0, 0]
    assert g.state.numpy().tolist() == [769, 0, 0]
    reset = tf.function(lambda state: g.reset(state))
    reset(tf.constant([5, 0, 0], tf.int64))
    assert g.state.numpy().tolist() == [5, 0, 0]


def test_generator_draws_anew_in_compiled_functions():
    g = tf.random.Generator.from_seed(4)
    f = tf.function(lambda n: g.normal(tf.stack([n])))
    first, second = f(tf.constant(3)).numpy(), f(tf.constant(3)).numpy()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, tf.random.Generator.from_seed(4).normal([3]).numpy())
    assert g.state.numpy().tolist() == [4 + 2 * 3 * 256, 0, 0]


def test_global_generator():
    g = tf.random.get_global_generator()
    assert g is tf.random.get_global_generator()
    mine = tf.random.Generator.from_seed(2)
    tf.random.set_global_generator(mine)
    assert tf.random.get_global_generator() is mine
    assert tf.random.experimental.get_global_generator() is mine
    a = tf.random.Generator.from_non_deterministic_state().state.numpy()
    b = tf.random.Generator.from_non_deterministic_state().state.numpy()
    assert not np.array_equal(a, b)


def test_experimental_aliases():
    assert tf.random.experimental.stateless_split is tf.random.split
    assert tf.random.experimental.stateless_fold_in is tf.random.fold_in
    assert tf.random.experimental.Generator is tf.random.Generator


# --- gamma and Poisson with TF's seed rules -------------------------------------------------


def test_gamma_and_poisson_shapes_dtypes_and_seeds():
    tf.random.set_seed(3)
    a = tf.random.gamma([4], [1.0, 2.0], beta=[[1.0], [2.0]])
    assert a.shape == (4, 2, 2) and a.dtype == tf.float32
    tf.random.set_seed(3)
    np.testing.assert_array_equal(tf.random.gamma([4], [1.0, 2.0], [[1.0], [2.0]]).numpy(),
                                  a.numpy())
    p = tf.random.poisson([5], [1.0, 30.0], dtype=tf.int64, seed=2)
    assert p.shape == (5, 2) and p.dtype == tf.int64
    assert tf.random.poisson([3], [1, 2]).dtype == tf.float32
    assert tf.random.gamma([2], 2.0, dtype=tf.float64).dtype == tf.float64


def test_gamma_with_a_shape_only_known_when_the_graph_runs():
    f = tf.function(lambda n, alpha: tf.random.gamma(tf.stack([n]), alpha, seed=1))
    out = f(tf.constant(3), tf.constant([1.0, 5.0]))
    assert out.shape == (3, 2)
    assert f(tf.constant(5), tf.constant([1.0, 5.0])).shape == (5, 2)


def test_stateless_random_reads_state_words():
    assert stateless_random._state_words(np.array([1, 2])) == (0, 1, 2)


def test_stateless_shuffle_permutes_rows_as_tf():
    x = np.arange(20).reshape(10, 2)
    y = tf.random.experimental.stateless_shuffle(x, [1, 2]).numpy()
    # TF's order for seed [1, 2] (a forward Fisher-Yates pass over Philox words).
    want = np.array([0, 3, 8, 1, 5, 4, 9, 7, 6, 2])
    np.testing.assert_array_equal(y, x[want])
    np.testing.assert_array_equal(tf.random.experimental.stateless_shuffle(3.0, [1, 2]), 3.0)
    f = tf.function(lambda v, s: tf.random.experimental.stateless_shuffle(v, s))
    np.testing.assert_array_equal(f(tf.constant(x), tf.constant([1, 2])).numpy(), y)
