"""The gradient checker itself: it passes right gradients and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.autodiff.gradcheck import (
    check_gradients,
    check_second_derivatives,
    numerical_gradients,
)
from neuroflow.ops.registry import REGISTRY, Primitive
from neuroflow.tensor import Tensor

X = np.linspace(-1.5, 2.0, 6).reshape(2, 3)


@pytest.fixture
def cube_with_constant_gradient():
    """x**3 whose vjp is right but built from raw NumPy, so it has no second derivative."""
    prim = Primitive("gradcheck_test_cube", lambda xp, x: x ** 3, save_inputs=True)
    REGISTRY.pop(prim.name)  # keep the registry (and its coverage test) clean

    @prim.defvjp
    def _vjp(ctx, g):
        x = ctx.inputs[0]
        return (g * Tensor(3 * x._value ** 2),)

    return prim


def test_numerical_gradients_of_a_known_function():
    (grad,) = numerical_gradients(lambda x: tf.reduce_sum(x ** 3), [X], [np.ones(())])
    np.testing.assert_allclose(grad, 3 * X ** 2, rtol=1e-8)


def test_weights_make_it_a_vector_jacobian_product():
    weights = [np.arange(6.0).reshape(2, 3)]
    (grad,) = numerical_gradients(tf.sin, [X], weights)
    np.testing.assert_allclose(grad, weights[0] * np.cos(X), rtol=1e-8, atol=1e-10)


def test_correct_gradients_pass_and_are_returned():
    grads = check_gradients(lambda x, y: tf.sin(x) * y, [X, X[0]])
    assert [g.shape for g in grads] == [(2, 3), (3,)]
    assert grads[0].dtype == tf.float64  # the check runs in float64


def test_wrong_gradients_are_caught():
    # stop_gradient hides one factor from the tape: the tape says x, the truth is 2x.
    with pytest.raises(AssertionError, match="gradient of input 0 disagrees"):
        check_gradients(lambda x: x * tf.stop_gradient(x), [X])


def test_softmax_like_outputs_are_not_hidden_by_a_plain_sum():
    # sum(softmax(x)) is constant, so only weighted outputs can see a wrong rule.
    def broken(x):
        e = tf.exp(x)
        return e / tf.stop_gradient(tf.reduce_sum(e))

    check_gradients(tf.nn.softmax, [X])
    with pytest.raises(AssertionError):
        check_gradients(broken, [X[0]])


def test_integer_inputs_are_passed_through_not_differentiated():
    indices = np.array([2, 0, 2], np.int32)
    grads = check_gradients(lambda x, i: tf.gather(x, i, axis=1), [X, indices])
    assert len(grads) == 1


def test_unconnected_inputs_count_as_zero():
    grads = check_gradients(lambda x, y: tf.sin(x), [X, X])
    assert grads[1] is None


def test_tuple_outputs_are_all_checked():
    check_gradients(lambda x: tf.split(x, 3, axis=1), [X])
    with pytest.raises(AssertionError):
        check_gradients(lambda x: (tf.sin(x), x * tf.stop_gradient(x)), [X])


def test_wrt_selects_inputs():
    grads = check_gradients(lambda x, y: x * y, [X, X[:1]], wrt=[1])
    assert len(grads) == 1 and grads[0].shape == (1, 3)


def test_second_derivatives_pass_for_differentiable_rules():
    (hessian_vector,) = check_second_derivatives(lambda x: x ** 3, [X])
    assert hessian_vector.shape == X.shape


def test_second_derivatives_catch_rules_written_outside_the_framework(
        cube_with_constant_gradient):
    cube = cube_with_constant_gradient
    check_gradients(lambda x: cube(x), [X])  # the first derivative is right
    with pytest.raises(AssertionError, match="second derivative"):
        check_second_derivatives(lambda x: cube(x), [X])


def test_linear_functions_have_zero_second_derivatives():
    grads = check_second_derivatives(lambda x: tf.reshape(x, [-1]) * 2.0, [X])
    assert grads[0] is None or not np.any(grads[0].numpy())
