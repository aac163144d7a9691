"""Tests of neuroflow.keras.optimizers: update rules against NumPy, bookkeeping, lookup."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import optimizers
from neuroflow.keras.optimizers import schedules

RNG = np.random.default_rng(11)
W0 = RNG.normal(size=(3, 2))
GRADS = [RNG.normal(size=(3, 2)) * 2 for _ in range(4)]


def _f32(x: float) -> float:
    """The learning rate lives in a float32 variable (as Keras), so references use its value."""
    return float(np.float32(x))


def _run(optimizer, w0=W0, grads=GRADS):
    """Apply ``grads`` in float64 and return the variable's final value."""
    w = tf.Variable(w0)
    for g in grads:
        optimizer.apply_gradients([(tf.constant(g), w)])
    return w.numpy()


# --- update rules, step by step in NumPy --------------------------------------------------------

def test_sgd_plain_momentum_and_nesterov():
    lr, mu = _f32(0.1), 0.9
    w = W0.copy()
    for g in GRADS:
        w -= lr * g
    np.testing.assert_allclose(_run(optimizers.SGD(0.1)), w, rtol=1e-12)
    w, m = W0.copy(), np.zeros_like(W0)
    for g in GRADS:
        m = mu * m - lr * g
        w += m
    np.testing.assert_allclose(_run(optimizers.SGD(0.1, momentum=mu)), w, rtol=1e-12)
    w, m = W0.copy(), np.zeros_like(W0)
    for g in GRADS:
        m = mu * m - lr * g
        w += mu * m - lr * g
    np.testing.assert_allclose(_run(optimizers.SGD(0.1, momentum=mu, nesterov=True)), w,
                               rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_with_keras_bias_correction(amsgrad):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, v_hat = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, start=1):
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        v_hat = np.maximum(v_hat, v)
        w -= alpha * m / (np.sqrt(v_hat if amsgrad else v) + eps)
    got = _run(optimizers.Adam(learning_rate=lr, amsgrad=amsgrad))
    # The step size is computed in float32, as Keras does.
    np.testing.assert_allclose(got, w, rtol=1e-6)


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.5)])
def test_rmsprop(centered, momentum):
    lr, rho, eps = _f32(0.01), 0.9, 1e-7
    w, v, avg, mom = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        if centered:
            avg = rho * avg + (1 - rho) * g
        increment = lr * g / np.sqrt(v - avg**2 + eps)
        mom = momentum * mom + increment
        w -= mom if momentum else increment
    got = _run(optimizers.RMSprop(0.01, momentum=momentum, centered=centered))
    np.testing.assert_allclose(got, w, rtol=1e-10)


def test_adagrad():
    lr, eps = _f32(0.1), 1e-7
    w, acc = W0.copy(), np.full_like(W0, 0.1)
    for g in GRADS:
        acc += g * g
        w -= lr * g / np.sqrt(acc + eps)
    np.testing.assert_allclose(_run(optimizers.Adagrad(0.1)), w, rtol=1e-10)


def test_weight_decay_is_decoupled_and_applied_first():
    lr, wd = 0.125, 0.05
    w = W0.copy()
    for g in GRADS:
        w = w - w * wd * lr
        w -= lr * g
    np.testing.assert_allclose(_run(optimizers.SGD(lr, weight_decay=wd)), w, rtol=1e-12)
    skip = optimizers.SGD(lr, weight_decay=wd)
    skip.exclude_from_weight_decay(var_names=["bias"])
    b = tf.Variable(W0, name="dense/bias")
    skip.apply_gradients([(tf.constant(GRADS[0]), b)])
    np.testing.assert_allclose(b.numpy(), W0 - lr * GRADS[0], rtol=1e-12)


def test_gradient_clipping():
    lr = 1.0
    g = GRADS[0]
    norm = np.linalg.norm(g)
    got = _run(optimizers.SGD(lr, clipnorm=1.0), grads=[g])
    np.testing.assert_allclose(got, W0 - g / max(norm, 1.0), rtol=1e-12)
    got = _run(optimizers.SGD(lr, clipvalue=0.5), grads=[g])
    np.testing.assert_allclose(got, W0 - np.clip(g, -0.5, 0.5), rtol=1e-12)
    a, b = tf.Variable(W0), tf.Variable(W0[0])
    opt = optimizers.SGD(lr, global_clipnorm=2.0)
    opt.apply_gradients([(tf.constant(g), a), (tf.constant(g[0]), b)])
    total = np.sqrt((g**2).sum() + (g[0] ** 2).sum())
    np.testing.assert_allclose(a.numpy(), W0 - g * 2.0 / total, rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), W0[0] - g[0] * 2.0 / total, rtol=1e-12)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


# --- bookkeeping --------------------------------------------------------------------------------

def test_iterations_slots_and_variables():
    opt = optimizers.Adam()
    w = tf.Variable(np.ones((2, 2), np.float32), name="kernel")
    assert opt.iterations.dtype == tf.int64 and int(opt.iterations.numpy()) == 0
    for _ in range(3):
        opt.apply_gradients([(tf.ones((2, 2)), w)])
    assert int(opt.iterations.numpy()) == 3
    names = [v.name for v in opt.variables]
    assert names == ["iteration:0", "learning_rate:0", "kernel_0_momentum:0",
                     "kernel_0_velocity:0"]
    assert not any(v.trainable for v in opt.variables)


def test_learning_rate_is_a_settable_variable():
    opt = optimizers.SGD(learning_rate=0.1)
    assert float(opt.learning_rate) == pytest.approx(0.1)
    opt.learning_rate = 0.5
    w = tf.Variable([1.0])
    opt.apply_gradients([(tf.constant([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [0.5])
    assert opt.get_config()["learning_rate"] == 0.5
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate="fast")


def test_exponential_decay_and_schedules_in_optimizers():
    smooth = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    for step in range(10):
        assert float(smooth(step)) == pytest.approx(0.1 * 0.5 ** (step / 4), rel=1e-6)
        assert float(stairs(step)) == pytest.approx(0.1 * 0.5 ** (step // 4), rel=1e-6)
    opt = optimizers.SGD(learning_rate=schedules.ExponentialDecay(1.0, 1, 0.5))
    w = tf.Variable([0.0])
    for _ in range(3):
        opt.apply_gradients([(tf.constant([1.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-(1 + 0.5 + 0.25)], rtol=1e-6)
    assert float(opt.learning_rate) == pytest.approx(0.125)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    config = opt.get_config()["learning_rate"]
    assert config["class_name"] == "ExponentialDecay"
    restored = optimizers.SGD.from_config(opt.get_config())
    assert isinstance(restored._learning_rate, schedules.ExponentialDecay)


def test_none_gradients_are_skipped_with_a_warning():
    opt = optimizers.SGD(0.1)
    a, b = tf.Variable([1.0]), tf.Variable([2.0], name="unused")
    with pytest.warns(UserWarning, match="unused"):
        opt.apply_gradients([(tf.constant([1.0]), a), (None, b)])
    np.testing.assert_allclose(a.numpy(), [0.9])
    np.testing.assert_allclose(b.numpy(), [2.0])
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, a), (None, b)])


def test_only_the_variables_it_was_built_with():
    opt = optimizers.SGD(0.1)
    a = tf.Variable([1.0])
    opt.apply_gradients([(tf.constant([1.0]), a)])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(tf.constant([1.0]), tf.Variable([1.0]))])
    opt.apply([tf.constant([1.0])])  # grads only: the variables it was built with
    np.testing.assert_allclose(a.numpy(), [0.8])


def test_minimizes_a_quadratic_with_gradient_tape():
    target = np.array([1.0, -2.0, 3.0], np.float32)
    w = tf.Variable(np.zeros(3, np.float32))
    opt = optimizers.Adam(learning_rate=0.1)
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum((w - target) ** 2)
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
    np.testing.assert_allclose(w.numpy(), target, atol=1e-2)


def test_get_and_config_round_trip():
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    sgd = optimizers.SGD(0.2, momentum=0.5, nesterov=True)
    assert optimizers.get(sgd) is sgd
    again = optimizers.deserialize(optimizers.serialize(sgd))
    assert (again.momentum, again.nesterov) == (0.5, True)
    assert float(again.learning_rate) == pytest.approx(0.2)
    with pytest.raises(ValueError) as info:
        optimizers.get("adamm")
    assert "Unknown optimizer: 'adamm'. Did you mean 'adam'" in str(info.value)


@pytest.mark.tensorflow
def test_updates_match_tensorflow():
    keras = pytest.importorskip("keras")
    w0 = W0.astype(np.float32)
    grads = [g.astype(np.float32) for g in GRADS]
    for name, kwargs in (("SGD", {"momentum": 0.9, "nesterov": True}), ("Adam", {}),
                         ("RMSprop", {"centered": True, "momentum": 0.3}), ("Adagrad", {})):
        ours = _run(getattr(optimizers, name)(learning_rate=0.05, **kwargs), w0, grads)
        theirs = keras.Variable(w0)
        opt = getattr(keras.optimizers, name)(learning_rate=0.05, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for g in grads:
                opt.apply_gradients([(g, theirs)])
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, err_msg=name)
