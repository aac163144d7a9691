"""Tests of neuroflow.keras.initializers: fans, distributions, seeding, lookup."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import initializers


def test_compute_fans():
    assert initializers.compute_fans(()) == (1, 1)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans((784, 128)) == (784, 128)
    assert initializers.compute_fans((5, 3, 8)) == (15, 40)  # Conv1D: window 5
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)


@pytest.mark.parametrize("name,limit", [
    ("glorot_uniform", math.sqrt(6 / (400 + 300))),
    ("he_uniform", math.sqrt(6 / 400)),
    ("lecun_uniform", math.sqrt(3 / 400)),
])
def test_uniform_variance_scaling_limits(name, limit):
    w = initializers.get(name)((400, 300)).numpy()
    assert w.dtype == np.float32 and w.shape == (400, 300)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # the draws fill the whole interval
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("name,variance", [
    ("glorot_normal", 2 / (400 + 300)),
    ("he_normal", 2 / 400),
    ("lecun_normal", 1 / 400),
])
def test_truncated_normal_variance_scaling(name, variance):
    w = initializers.get(name)((400, 300)).numpy()
    stddev = math.sqrt(variance) / 0.87962566103423978  # before truncation at two stddevs
    assert np.abs(w).max() <= 2 * stddev * (1 + 1e-6)
    assert w.std() == pytest.approx(math.sqrt(variance), rel=0.02)


def test_random_normal_uniform_truncated_defaults():
    n = initializers.RandomNormal()((200, 200)).numpy()
    assert n.mean() == pytest.approx(0.0, abs=2e-3) and n.std() == pytest.approx(0.05, rel=0.02)
    u = initializers.RandomUniform()((200, 200)).numpy()
    assert u.min() >= -0.05 and u.max() < 0.05
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.1)((200, 200)).numpy()
    assert t.min() >= 0.8 and t.max() <= 1.2


def test_constant_initializers_and_dtype():
    assert initializers.Zeros()((2, 3)).numpy().sum() == 0
    ones = initializers.get("ones")((4,), dtype="float64")
    assert ones.dtype == tf.float64 and ones.numpy().tolist() == [1.0] * 4
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)).numpy(),
                                  np.full((2, 2), 2.5, np.float32))
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)).numpy(),
                                  3.0 * np.eye(2, 3))
    assert initializers.get("zeros")((3,), dtype="int32").dtype == tf.int32


def test_seeds_follow_keras_3():
    seeded = initializers.GlorotUniform(seed=42)
    first = seeded((3, 4)).numpy()
    np.testing.assert_array_equal(first, seeded((3, 4)).numpy())  # same instance, same values
    np.testing.assert_array_equal(first, initializers.GlorotUniform(seed=42)((3, 4)).numpy())
    assert not np.array_equal(first, initializers.GlorotUniform(seed=43)((3, 4)).numpy())
    a, b = initializers.GlorotUniform(), initializers.GlorotUniform()
    assert not np.array_equal(a((3, 4)).numpy(), b((3, 4)).numpy())


def test_global_seed_makes_unseeded_initializers_reproducible():
    def draw():
        tf.random.set_seed(1234)
        return [initializers.get(name)((5, 5)).numpy() for name in ("glorot_uniform", "he_normal")]

    first, second = draw(), draw()
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    tf.random.set_seed(None)


def test_get_accepts_names_classes_configs_arrays_and_callables():
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get("uniform"), initializers.RandomUniform)
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    config = initializers.serialize(initializers.RandomNormal(stddev=0.2, seed=3))
    restored = initializers.get(config)
    assert (restored.stddev, restored.seed) == (0.2, 3)
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(initializers.get(value)((2, 3)).numpy(), value)
    with pytest.raises(ValueError, match="Expected `shape`"):
        initializers.get(value)((3, 2))

    def custom(shape, dtype=None):
        return tf.ones(shape, dtype or "float32")

    assert initializers.get(custom) is custom
    assert initializers.get(None) is None


def test_unknown_initializer_suggests_the_closest():
    with pytest.raises(ValueError) as info:
        initializers.get("glorot_unifrm")
    assert "Unknown initializer: 'glorot_unifrm'. Did you mean 'glorot_uniform'" in str(info.value)


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")


def test_keras_configs_naming_no_fan_axes_load_and_axes_are_refused():
    from neuroflow.keras import initializers

    made = initializers.deserialize({"class_name": "GlorotUniform", "config": {
        "seed": 3, "input_axes": None, "output_axes": None}})
    assert type(made).__name__ == "GlorotUniform" and made.get_config() == {"seed": 3}
    with pytest.raises(NotImplementedError, match="input_axes"):
        initializers.deserialize({"class_name": "HeNormal", "config": {"input_axes": [0]}})
