"""``keras.utils.set_random_seed``: one call seeds Python, NumPy and neuroflow, as in Keras 3.

Keras's version is ``random.seed(s); np.random.seed(s); tf.random.set_seed(s)``, so after
it NumPy's and Python's global generators give exactly what a fresh generator seeded
with ``s`` gives, and every random draw repeats when the seed is set again.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from _opcheck import raises_with_message

import neuroflow as tf
from neuroflow.keras.utils import set_random_seed


@pytest.fixture(autouse=True)
def restore_global_generators():
    """Leave Python's, NumPy's and neuroflow's global random state as the test found it."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    yield
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    tf.random.set_seed(None)


def draws() -> dict:
    """One draw from each generator a Keras program may use without passing a seed."""
    layer = tf.keras.layers.Dense(4)
    layer.build((None, 3))
    return {
        "python": [random.random() for _ in range(3)],
        "numpy": np.random.rand(3).tolist(),
        "numpy_permutation": np.random.permutation(10).tolist(),
        "neuroflow": tf.random.uniform([3]).numpy().tolist(),
        "initializer": layer.kernel.numpy().tolist(),
        "shuffle": [int(v) for v in tf.data.Dataset.range(10).shuffle(10)],
    }


def test_seeds_numpy_and_python_as_keras_does():
    set_random_seed(1234)
    numpy_draw, python_draw = np.random.rand(5), random.random()
    np.testing.assert_array_equal(numpy_draw, np.random.RandomState(1234).rand(5))
    assert python_draw == random.Random(1234).random()


def test_every_generator_repeats_after_the_same_seed():
    set_random_seed(7)
    first = draws()
    np.random.rand(100)  # move every generator on before seeding again
    random.random()
    tf.random.uniform([100])
    set_random_seed(7)
    assert draws() == first


def test_another_seed_changes_every_generator():
    set_random_seed(7)
    first = draws()
    set_random_seed(8)
    second = draws()
    assert all(first[name] != second[name] for name in first), (first, second)


def test_the_namespaces_share_one_function():
    assert tf.keras.utils.set_random_seed is set_random_seed


@pytest.mark.parametrize("seed", ["7", 7.0, None, np.int64(7)], ids=repr)
def test_seed_must_be_a_python_integer(seed):
    python_state = random.getstate()
    raises_with_message(ValueError, lambda: set_random_seed(seed),
                        "Expected `seed` argument to be an integer. ",
                        f"Received: seed={seed} (of type {type(seed)})")
    assert random.getstate() == python_state, "a rejected seed must seed nothing"


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_seed_out_of_numpys_range(seed):
    raises_with_message(ValueError, lambda: set_random_seed(seed),
                        "Seed must be between 0 and 2**32 - 1")
