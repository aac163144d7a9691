"""GradientTape: watching, structures, persistence, unconnected sources, jacobians."""

from __future__ import annotations

import gc
import sys
import warnings
import weakref

import numpy as np
import pytest

import neuroflow as tf

rng = np.random.default_rng(3)


def numeric_jacobian(fn, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences in float64: d fn(x)[i] / d x[j], shape fn(x).shape + x.shape."""
    out = np.asarray(fn(x), dtype=np.float64)
    jac = np.zeros(out.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        jac[(Ellipsis,) + index] = (np.asarray(fn(x + step)) - np.asarray(fn(x - step))) / (2 * eps)
    return jac


# --- watching -------------------------------------------------------------------------

def test_trainable_variables_are_watched_automatically():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x).numpy() == pytest.approx(6.0)


def test_non_trainable_variables_are_not_watched():
    frozen = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        y = frozen * frozen
    assert tape.watched_variables() == ()
    assert tape.gradient(y, frozen) is None


def test_watch_makes_tensors_and_frozen_variables_differentiable():
    c = tf.constant(2.0)
    frozen = tf.Variable(3.0, trainable=False)
    with tf.GradientTape() as tape:
        tape.watch([c, {"v": frozen}])
        y = c ** 3 * frozen
    dc, dv = tape.gradient(y, [c, frozen])
    assert dc.numpy() == pytest.approx(3 * 4.0 * 3.0) and dv.numpy() == pytest.approx(8.0)


def test_watch_accessed_variables_false_watches_only_what_is_asked():
    a, b = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(b)
        y = a * b
    assert tape.watched_variables() == (b,)
    da, db = tape.gradient(y, [a, b])
    assert da is None and db.numpy() == pytest.approx(2.0)


def test_watched_variables_in_first_use_order():
    a, b, frozen = tf.Variable(1.0), tf.Variable(2.0), tf.Variable(3.0, trainable=False)
    with tf.GradientTape() as tape:
        _ = b * frozen + a * b
    assert tape.watched_variables() == (b, a)


def test_watching_an_integer_tensor_warns_and_gives_no_gradient():
    i = tf.constant(2)
    with tf.GradientTape() as tape:
        with pytest.warns(UserWarning, match="floating"):
            tape.watch(i)
        y = i * i
    assert tape.gradient(y, i) is None


def test_integer_targets_and_variables_get_no_gradient():
    x = tf.Variable(2.0)
    counter = tf.Variable(3)
    with tf.GradientTape(persistent=True) as tape:
        as_int = tf.cast(x, tf.int32) * 2
        y = counter * 2
    assert tape.gradient(as_int, x) is None
    assert tape.gradient(y, counter) is None
    # Listed, as in TF, but not differentiable. (`in` would compare elementwise.)
    assert any(v is counter for v in tape.watched_variables())


def test_watch_rejects_non_tensors():
    with tf.GradientTape() as tape, pytest.raises(ValueError, match="ndarray"):
        tape.watch(np.array([1.0]))


# --- targets and sources -------------------------------------------------------------------

def test_sources_keep_their_structure():
    a, b = tf.Variable([1.0, 2.0]), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = a * b
    grads = tape.gradient(y, {"a": a, "rest": [b, (a,)]})
    assert set(grads) == {"a", "rest"} and isinstance(grads["rest"][1], tuple)
    np.testing.assert_allclose(grads["a"].numpy(), [3.0, 3.0])
    assert grads["rest"][0].numpy() == pytest.approx(3.0)
    np.testing.assert_allclose(grads["rest"][1][0].numpy(), [3.0, 3.0])


def test_non_scalar_target_gives_the_gradient_of_its_sum():
    values = rng.normal(size=(3, 4))
    x = tf.Variable(values)
    with tf.GradientTape(persistent=True) as tape:
        y = tf.sin(x) * x
        total = tf.reduce_sum(y)
    expected = np.cos(values) * values + np.sin(values)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), expected, rtol=1e-12)


def test_multiple_targets_add_their_gradients():
    a = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y1 = a * 2
        y2 = tf.reduce_sum(a ** 2)
    expected = 2.0 + 2 * np.array([1.0, 2.0])
    np.testing.assert_allclose(tape.gradient([y1, y2], a).numpy(), expected)
    np.testing.assert_allclose(tape.gradient({"p": y1, "q": y2}, [a])[0].numpy(), expected)


def test_output_gradients_weight_the_targets():
    a = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        y = a * a
        z = a * 3
    weights = np.array([1.0, 10.0], np.float32)
    np.testing.assert_allclose(tape.gradient(y, a, output_gradients=weights).numpy(),
                               2 * a.numpy() * weights)
    # For one target a list is one tensor of weights (not one entry per target).
    np.testing.assert_allclose(tape.gradient(y, a, output_gradients=[1.0, 10.0]).numpy(),
                               2 * a.numpy() * weights)
    both = tape.gradient([y, z], a, output_gradients=[tf.constant(weights), None])
    np.testing.assert_allclose(both.numpy(), 2 * a.numpy() * weights + 3)
    with pytest.raises(ValueError, match="shape"):
        tape.gradient(y, a, output_gradients=[1.0, 2.0, 3.0])


def test_gradient_with_respect_to_an_intermediate_tensor():
    a = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = a * a
        z = y * a
    assert tape.gradient(z, y).numpy() == pytest.approx(2.0)
    assert tape.gradient(z, a).numpy() == pytest.approx(12.0)
    assert tape.gradient(z, [y, a])[1].numpy() == pytest.approx(12.0)
    assert tape.gradient(y, y).numpy() == pytest.approx(1.0)


def test_a_tensor_used_by_several_ops_accumulates_its_gradients():
    x = tf.Variable(1.5)
    with tf.GradientTape() as tape:
        y = x + x * x + tf.sin(x) * x
    expected = 1 + 2 * 1.5 + np.cos(1.5) * 1.5 + np.sin(1.5)
    assert tape.gradient(y, x).numpy() == pytest.approx(expected, rel=1e-6)


def test_broadcasting_is_summed_back_to_each_input_shape():
    a_values, b_values = rng.normal(size=(3, 1)), rng.normal(size=(4,))
    a, b = tf.Variable(a_values), tf.Variable(b_values)
    with tf.GradientTape() as tape:
        y = a * b + a
    da, db = tape.gradient(y, [a, b])
    np.testing.assert_allclose(da.numpy(), np.full((3, 1), b_values.sum() + 4))
    np.testing.assert_allclose(db.numpy(), np.full(4, a_values.sum()))


def test_variable_reads_through_read_value_identity_and_conversion():
    a = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = a.read_value() * 2 + tf.identity(a) * 3 + tf.convert_to_tensor(a) * 4
    assert tape.gradient(y, a).numpy() == pytest.approx(9.0)


def test_assign_inside_the_tape_uses_the_value_at_read_time():
    a = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = a * a  # reads 2.0
        a.assign(5.0)
        z = y + a * a  # reads 5.0
    assert tape.gradient(z, a).numpy() == pytest.approx(2 * 2.0 + 2 * 5.0)


def test_sources_must_be_tensors_or_variables():
    a = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = a * 2
    with pytest.raises(ValueError, match="float"):
        tape.gradient(y, [1.0])


# --- unconnected sources and stop_gradient ---------------------------------------------------

def test_unconnected_sources_give_none_or_zeros():
    a, b = tf.Variable(1.0), tf.Variable([2.0, 3.0])
    for mode, expect_none in [("none", True), (tf.UnconnectedGradients.NONE, True),
                              ("zero", False), (tf.UnconnectedGradients.ZERO, False)]:
        with tf.GradientTape() as tape:
            y = a * 2
        da, db = tape.gradient(y, [a, b], unconnected_gradients=mode)
        assert da.numpy() == pytest.approx(2.0)
        if expect_none:
            assert db is None
        else:
            assert db.dtype == tf.float32 and db.numpy().tolist() == [0.0, 0.0]


def test_unknown_unconnected_gradients_value():
    a = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = a * 2
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
        tape.gradient(y, a, unconnected_gradients="bad")


def test_stop_gradient_blocks_the_gradient():
    a = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = tf.stop_gradient(a * a) * a
    assert tape.gradient(y, a).numpy() == pytest.approx(4.0)  # only the outer factor


def test_stop_recording_pauses_the_tape():
    a = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = a * a
        with tape.stop_recording():
            z = a * a * a
        w = y + z
    assert tape.gradient(w, a).numpy() == pytest.approx(4.0)
    with pytest.raises(RuntimeError, match="not recording"):
        with tf.GradientTape().stop_recording():
            pass


# --- persistence, reset and lifetime -------------------------------------------------------

def test_non_persistent_tape_computes_gradients_once():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to "
                                           "compute one set of gradients"):
        tape.gradient(y, x)


def test_persistent_tape_computes_gradients_many_times():
    x = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert tape.gradient(y, x).numpy() == pytest.approx(6.0)
    assert tape.gradient(z, x).numpy() == pytest.approx(27.0)
    assert tape.jacobian(z, x).numpy() == pytest.approx(27.0)


def test_gradient_inside_a_persistent_tape_is_recorded_by_it():
    a = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = a * a
        g = tape.gradient(y, a)  # 2a, recorded: it depends on a
        z = g * a  # 2a^2
    assert g.numpy() == pytest.approx(4.0)
    assert tape.gradient(z, a).numpy() == pytest.approx(8.0)


def test_gradient_inside_a_non_persistent_tape():
    a = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = a * a
        g = tape.gradient(y, a)
    assert g.numpy() == pytest.approx(4.0)


def test_reset_forgets_what_was_recorded():
    a, b = tf.Variable(2.0), tf.Variable(4.0)
    with tf.GradientTape() as tape:
        y = a * b
        tape.reset()
        z = a * 3
    assert tape.watched_variables() == (a,)
    assert tape.gradient(z, a).numpy() == pytest.approx(3.0)
    assert tape.gradient is not None and y is not None


def test_a_tape_can_be_entered_again():
    a = tf.Variable(2.0)
    tape = tf.GradientTape()
    with tape:
        y = a * a
    with tape:
        z = y * 3
    assert tape.gradient(z, a).numpy() == pytest.approx(12.0)


def test_used_non_persistent_tape_frees_its_intermediates():
    x = tf.Variable(np.ones(4))
    with tf.GradientTape() as tape:
        hidden = tf.exp(x)
        y = tf.reduce_sum(hidden * 2.0)
    probe = weakref.ref(hidden)
    del hidden
    tape.gradient(y, x)
    gc.collect()
    assert probe() is None


# --- jacobians ---------------------------------------------------------------------------

def test_jacobian_matches_finite_differences():
    values = rng.normal(size=(2, 3))
    matrix = rng.normal(size=(3, 2))
    x = tf.constant(values)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.tanh(tf.matmul(x, tf.constant(matrix))) * x[:, :2]
    jac = tape.jacobian(y, x)
    assert jac.shape == (2, 2, 2, 3)
    expected = numeric_jacobian(lambda v: np.tanh(v @ matrix) * v[:, :2], values)
    np.testing.assert_allclose(jac.numpy(), expected, rtol=1e-6, atol=1e-9)


def test_jacobian_with_several_sources_and_unconnected_ones():
    a, b, c = tf.constant([1.0, 2.0]), tf.constant(3.0), tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = a * b
    ja, jb, jc = tape.jacobian(y, [a, b, c])
    np.testing.assert_allclose(ja.numpy(), np.diag([3.0, 3.0]))
    np.testing.assert_allclose(jb.numpy(), [1.0, 2.0])
    assert jc is None
    zeros = tape.jacobian(y, c, unconnected_gradients="zero")
    assert zeros.shape == (2, 3) and not zeros.numpy().any()


def test_batch_jacobian_matches_the_per_example_jacobian():
    values = rng.normal(size=(4, 3))
    weights = rng.normal(size=(3, 2))
    x = tf.constant(values)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.sin(tf.matmul(x, tf.constant(weights)))
    batch = tape.batch_jacobian(y, x)
    assert batch.shape == (4, 2, 3)
    for i in range(4):
        expected = numeric_jacobian(lambda v: np.sin(v @ weights), values[i])
        np.testing.assert_allclose(batch.numpy()[i], expected, rtol=1e-6, atol=1e-9)
    other = tf.constant(np.ones((4, 3)))
    assert tape.batch_jacobian(y, other) is None
    zeros = tape.batch_jacobian(y, other, unconnected_gradients="zero")
    assert zeros.shape == (4, 2, 3) and not zeros.numpy().any()
    with pytest.raises(ValueError, match="batch"):
        tape.batch_jacobian(y, tf.constant(np.ones((5, 3))))


# --- the backward walk -------------------------------------------------------------------

def _long_chain(length: int):
    x = tf.constant(np.linspace(0.5, 1.5, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for step in range(length):
            # Alternate ops so that several gradient rules take part, and reuse y twice
            # per step so that gradients accumulate all along the chain.
            y = y * 1.0001 if step % 2 else y + y * 1e-4
    return x, tape.gradient(y, x)


def test_a_chain_of_20000_ops_does_not_hit_the_recursion_limit():
    limit = sys.getrecursionlimit()
    assert limit < 20000  # otherwise the test would not show anything
    x, grad = _long_chain(20000)
    expected = (1.0001 ** 10000) * ((1 + 1e-4) ** 10000)
    np.testing.assert_allclose(grad.numpy(), np.full(3, expected), rtol=1e-9)
    _, again = _long_chain(20000)
    np.testing.assert_array_equal(again.numpy(), grad.numpy())  # deterministic, bit for bit


def test_gradient_does_not_warn():
    a = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(a * a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tape.gradient(y, a)
