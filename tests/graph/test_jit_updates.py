"""Runs of variable updates as one kernel (``graph/jit/updates.py``).

Each optimizer trains the same model three ways: the NumPy path, kernels with every
update its own kernel (``updates.plan`` returning no runs), and kernels with the runs;
the last two must agree bit for bit, the NumPy path within float32 rounding. Hand-made
functions check the cases where a run must stop or be cut: a read after an assignment,
a value used after the run, a transposed read of the variable written, a tensor still
holding the old array. Eager execution is the witness there. Skipped without Numba.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.config import settings
from neuroflow.graph import jit
from neuroflow.graph.jit import updates

if not jit.numba_installed():
    pytest.skip("Numba is not installed", allow_module_level=True)

OPTIMIZERS = ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam", "adamax", "adadelta",
              "ftrl", "lion"]


@pytest.fixture
def jit_on(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "jit", True)
    monkeypatch.setattr(settings, "jit_cache_dir", tmp_path / "jit")


def _train(optimizer, seed: int = 0):
    """Weights, optimizer variables, history and step source after two epochs."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(9, activation="relu"),
                              keras.layers.Dense(4)])
    model.compile(keras.optimizers.get(optimizer),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.random((96, 12)).astype(np.float32)
    y = rng.integers(0, 4, 96)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0).history
    step = next(f for (name, _), f in model._steps_cache._functions.items()
                if name.startswith("_train"))
    state = [np.asarray(v.numpy()) for v in [*model.weights, *model.optimizer.variables]]
    return state, history, step.source


def _no_runs(*_):
    return []


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_optimizer_updates_in_one_kernel_with_the_same_bits(jit_on, monkeypatch,
                                                                  optimizer):
    with monkeypatch.context() as patch:
        patch.setattr(updates, "plan", _no_runs)
        separate, separate_history, separate_source = _train(optimizer)
    grouped, grouped_history, source = _train(optimizer)
    monkeypatch.setattr(settings, "jit", False)
    numpy_path, numpy_history, _ = _train(optimizer)

    # The run replaced the update's lines: every variable's update sits in one kernel.
    assert "pass  # assign" in source and "pass  # assign" not in separate_source
    updated = [line for line in source.splitlines()
               if "assign" in line and "pass  #" not in line and "writable_array" in line]
    assert len(updated) < len([line for line in separate_source.splitlines()
                               if "writable_array" in line])
    assert grouped_history == separate_history
    for got, want, reference in zip(grouped, separate, numpy_path):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-6)


def test_thread_count_does_not_change_the_run(jit_on, monkeypatch):
    monkeypatch.setattr(settings, "jit_threads", 1)
    one, _, _ = _train("adam")
    monkeypatch.setattr(settings, "jit_threads", 2)
    two, _, source = _train("adam")
    assert "prange" in source
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def _both(make, *args):
    """``make()``'s function run eagerly and compiled with kernels, on fresh variables,
    with the compiled source."""
    eager_fn, variables = make()
    eager = [np.asarray(r) for r in tf.nest.flatten(eager_fn(*args)) if r is not None]
    eager_state = [v.numpy() for v in variables]
    fn, variables = make()
    compiled = tf.function(fn)
    got = [np.asarray(r) for r in tf.nest.flatten(compiled(*args)) if r is not None]
    state = [v.numpy() for v in variables]
    for a, b in zip(got + state, eager + eager_state):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    return compiled.source


def _square(seed: int = 0):
    return np.random.default_rng(seed).normal(size=(4, 4)).astype(np.float32)


def test_a_read_after_an_assignment_sees_the_new_value(jit_on):
    def make():
        w, m = tf.Variable(_square(1)), tf.Variable(_square(2))

        def step(g):
            m.assign_add(g * 0.5)
            w.assign_sub(m * 0.1)  # reads m after its update
            m.assign(m * w)  # reads both after their updates
        return step, [w, m]

    source = _both(make, _square(3))
    assert source.count("pass  #") >= 4


def test_a_value_used_after_the_run_cuts_it(jit_on):
    def make():
        w = tf.Variable(_square(1))

        def step(g):
            scaled = g * 0.5
            w.assign_sub(scaled)
            return tf.reduce_sum(scaled) + tf.reduce_sum(w)
        return step, [w]

    _both(make, _square(3))


def test_a_transposed_read_of_the_written_variable_stays_out(jit_on):
    def make():
        w, v = tf.Variable(_square(1)), tf.Variable(_square(2))

        def step(g):
            v.assign_add(g)
            w.assign(tf.transpose(w) * 0.5 + g)  # element (i, j) reads (j, i)
        return step, [w, v]

    source = _both(make, _square(3))
    assert "replace_array" in source  # the transposing assignment stays as it was


def test_a_tensor_holding_the_old_array_keeps_its_value(jit_on):
    w = tf.Variable(_square(1))
    m = tf.Variable(_square(2))

    @tf.function
    def read():
        return w.read_value()

    @tf.function
    def step(g):
        m.assign_add(g)
        w.assign_sub(m * 0.1)

    before = read()
    kept = before.numpy().copy()
    step(_square(3))
    assert "pass  #" in step.source
    np.testing.assert_array_equal(before.numpy(), kept)
    np.testing.assert_allclose(w.numpy(), kept - 0.1 * (_square(2) + _square(3)), rtol=1e-6)


def test_scalar_variables_update_in_the_run(jit_on):
    def make():
        total, count = tf.Variable(0.0), tf.Variable(0.0)
        w = tf.Variable(_square(1))

        def step(g):
            w.assign_sub(g * 0.1)
            total.assign_add(tf.reduce_sum(g) * 2.0)  # 0-d values reach the kernel
            count.assign_add(1.0)
        return step, [total, count, w]

    _both(make, _square(3))


def test_float64_variables(jit_on):
    def make():
        w = tf.Variable(_square(1).astype(np.float64))
        m = tf.Variable(np.zeros((4, 4)))

        def step(g):
            m.assign(m * 0.9 + g)
            w.assign_sub(tf.sqrt(tf.abs(m)) * 0.01)
        return step, [w, m]

    _both(make, _square(3).astype(np.float64))


def test_a_scalar_read_after_its_assignment_stops_the_run(jit_on):
    def make():
        step_count, w = tf.Variable(1.0), tf.Variable(_square(1))

        def step(g):
            step_count.assign_add(1.0)
            w.assign_sub(g * step_count)  # a 0-d read, between members, of the new count
            step_count.assign_add(w[0, 0])
        return step, [step_count, w]

    _both(make, _square(3))
