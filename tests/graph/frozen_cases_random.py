"""Compiled-versus-eager cases of the stateless random ops and tf.random.Generator.

A stateless op is a pure function of its seed and shape: both are tensors whose values
change between calls (``CASES``), so a seed or size frozen into the graph would show.
Gamma, Poisson and the global generator draw from streams (``RANDOM_CASES``).
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, floats, positive, scalar

import neuroflow as tf


def _seed(r):
    return r.integers(-2**31, 2**31 - 1, 2).astype(np.int32)


def _seed_dims(r, n):
    return (_seed(r), np.asarray([n, 3], np.int32))


def _seed_logits(r, n):
    return (_seed(r), floats(r, n, 4))


def _seed_rates(r, n):
    return (_seed(r), positive(r, n + 4) * 20)


def _seed_int_bounds(r, n):
    low = r.integers(-5, 5)
    return (_seed(r), scalar(low, np.int64), scalar(low + r.integers(1, 9), np.int64))


def _seed_data(r, n):
    return (_seed(r), scalar(r.integers(0, 1000)))


def _gamma_gradient(seed, alpha):
    with tf.GradientTape() as tape:
        tape.watch(alpha)
        draws = tf.random.stateless_gamma([3, 4], seed, alpha[:4])
    return tape.gradient(draws, alpha)


CASES = {
    "tf.random.stateless_uniform": [
        Case(lambda s, dims: tf.random.stateless_uniform(dims, s, -1.0, 2.0), _seed_dims),
        Case(lambda s, low, high: tf.random.stateless_uniform([7], s, low, high, tf.int64),
             _seed_int_bounds, "int-bounds"),
        Case(lambda s: tf.random.stateless_uniform([5], s, None, None, tf.uint32),
             lambda r, n: (_seed(r),), "full-int")],
    "tf.random.stateless_normal": [
        Case(lambda s, dims: tf.random.stateless_normal(dims, s, 1.0, 2.0, tf.float64),
             _seed_dims)],
    "tf.random.stateless_truncated_normal": [
        Case(lambda s, dims: tf.random.stateless_truncated_normal(dims, s), _seed_dims)],
    "tf.random.stateless_categorical": [
        Case(lambda s, z: tf.random.stateless_categorical(z, 6, s), _seed_logits)],
    "tf.random.stateless_gamma": [
        Case(lambda s, alpha: tf.random.stateless_gamma(tf.concat([[4], tf.shape(alpha)], 0),
                                                        s, alpha, 2.0), _seed_rates),
        Case(_gamma_gradient, _seed_rates, "gradient")],
    "tf.random.stateless_poisson": [
        Case(lambda s, lam: tf.random.stateless_poisson(tf.concat([[4], tf.shape(lam)], 0), s,
                                                        lam), _seed_rates)],
    "tf.random.stateless_binomial": [
        Case(lambda s, p: tf.random.stateless_binomial(tf.concat([[4], tf.shape(p)], 0), s,
                                                       30.0, p / 40.0), _seed_rates)],
    "tf.random.split": [Case(lambda s: tf.random.split(s, 3), lambda r, n: (_seed(r),))],
    "tf.random.fold_in": [Case(tf.random.fold_in, _seed_data)],
    "tf.random.create_rng_state": [
        Case(lambda: tf.random.create_rng_state(5, "philox"), lambda r, n: (), varies=False)],
}


def _global_generator(seed):
    """Unseeded: the global generator, drawing anew. Seeded: reset in the graph on each
    call, so each call draws what the eager call draws."""

    def draw(dims):
        g = tf.random.get_global_generator()
        if seed is not None:
            g.reset_from_seed(seed)
        return g.normal(dims)

    return draw


def _own_global_generator(seed):
    """A generator made the global one; seeded as :func:`_global_generator`."""
    g = tf.random.Generator.from_seed(0)

    def draw(low, high):
        tf.random.set_global_generator(g)
        if seed is not None:
            g.reset_from_seed(seed)
        return tf.random.get_global_generator().uniform([3, 2], low, high, tf.int64)

    return draw


RANDOM_CASES = {
    "tf.random.gamma": [
        Case(lambda seed: lambda alpha: tf.random.gamma([3], alpha, seed=seed),
             lambda r, n: (positive(r, n) * 3,)),
        Case(lambda seed: lambda dims, beta: tf.random.gamma(dims, 2.0, beta, seed=seed),
             lambda r, n: (r.integers(1, 4, 2).astype(np.int32), positive(r, n)),
             "tensor-shape-beta")],
    "tf.random.poisson": [
        Case(lambda seed: lambda lam: tf.random.poisson([4], lam, seed=seed),
             lambda r, n: (positive(r, n) * 20,))],
    "tf.random.get_global_generator": [
        Case(_global_generator, lambda r, n: (r.integers(1, 4, 2).astype(np.int32),))],
    "tf.random.set_global_generator": [
        Case(_own_global_generator,
             lambda r, n: (scalar(-3, np.int64), scalar(r.integers(5, 9), np.int64)))],
}
