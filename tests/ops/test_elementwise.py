"""Elementwise primitives: values and dtypes vs NumPy/TF rules, gradients vs finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    distinct,
    ints,
    nonzero,
    params,
    positive,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import elementwise as ew

# Shape pairs that exercise broadcasting, scalars and empty dimensions.
BINARY_SHAPES = [((), ()), ((3,), ()), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((0, 3), (3,))]
FLOATS = ("float32", "float64")


def _pair(shapes, dtype, maker=uniform):
    a, b = (maker(*s) for s in shapes)
    if dtype == "int32":
        a, b = np.round(a * 3), np.round(b * 3)
    return np.asarray(a, dtype), np.asarray(b, dtype)


def _binary_cases(op, ref, dtypes, maker=uniform, result=None):
    return [Fwd(op, ref, _pair(shapes, dtype, maker), f"{dtype}-{shapes[0]}x{shapes[1]}",
                result(dtype) if result else None)
            for dtype in dtypes for shapes in BINARY_SHAPES]


def _unary_cases(op, ref, dtypes=FLOATS, maker=uniform, shapes=((), (5,), (2, 3), (0, 2))):
    return [Fwd(op, ref, (np.asarray(maker(*shape) * (3 if dtype == "int32" else 1), dtype),),
                f"{dtype}-{shape}")
            for dtype in dtypes for shape in shapes]


def _int_divisor(shapes):
    a, b = ints(*shapes[0]), ints(*shapes[1], low=1, high=4)
    return a, np.asarray(b * np.where(ints(*shapes[1]) > 0, 1, -1), np.int32)


def _truediv_dtype(dtype):
    return "float64" if dtype == "int32" else dtype


def _comparison(op, ref):
    return _binary_cases(op, ref, ("float32", "int32"), result=lambda d: "bool")


def _logical(op, ref):
    return [Fwd(op, ref, (uniform(*a) > 0, uniform(*b) > 0), f"{a}x{b}")
            for a, b in BINARY_SHAPES]


_ALL = ("float32", "float64", "int32")

FORWARD = {
    "add": _binary_cases(tf.add, np.add, _ALL),
    "subtract": _binary_cases(tf.subtract, np.subtract, _ALL),
    "multiply": _binary_cases(tf.multiply, np.multiply, _ALL),
    "divide": _binary_cases(tf.truediv, np.true_divide, FLOATS, nonzero)
    + [Fwd(tf.truediv, lambda a, b: a / b, _int_divisor(s), f"int32-{s}", "float64")
       for s in BINARY_SHAPES]
    + [Fwd(tf.truediv, lambda a, b: (a / b).astype(np.float32),
           (ints(4).astype(np.int8), np.array([1, 2, -3, 4], np.int8)), "int8", "float32")],
    "pow": _binary_cases(tf.pow, np.power, FLOATS, positive)
    + [Fwd(tf.pow, np.power, (ints(2, 3), ints(3, low=0, high=4)), "int32")],
    "maximum": _binary_cases(tf.maximum, np.maximum, _ALL),
    "minimum": _binary_cases(tf.minimum, np.minimum, _ALL),
    "floordiv": [Fwd(tf.math.floordiv, np.floor_divide, _int_divisor(s), f"int32-{s}")
                 for s in BINARY_SHAPES]
    + _binary_cases(tf.math.floordiv, np.floor_divide, FLOATS, nonzero),
    "floormod": [Fwd(tf.math.floormod, np.mod, _int_divisor(s), f"int32-{s}")
                 for s in BINARY_SHAPES]
    + _binary_cases(tf.math.floormod, np.mod, FLOATS, nonzero),
    "equal": _comparison(tf.equal, np.equal),
    "not_equal": _comparison(tf.not_equal, np.not_equal),
    "less": _comparison(tf.less, np.less),
    "less_equal": _comparison(tf.less_equal, np.less_equal),
    "greater": _comparison(tf.greater, np.greater),
    "greater_equal": _comparison(tf.greater_equal, np.greater_equal),
    "logical_and": _logical(tf.logical_and, np.logical_and),
    "logical_or": _logical(tf.logical_or, np.logical_or),
    "logical_xor": _logical(tf.math.logical_xor, np.logical_xor),
    "logical_not": [Fwd(tf.logical_not, np.logical_not, (uniform(*s) > 0,), str(s))
                    for s in ((), (4,), (2, 3))],
    "negative": _unary_cases(tf.negative, np.negative, _ALL),
    "abs": _unary_cases(tf.abs, np.abs, _ALL),
    "sign": _unary_cases(tf.sign, np.sign, _ALL),
    "exp": _unary_cases(tf.exp, np.exp),
    "log": _unary_cases(tf.math.log, np.log, maker=positive),
    "log1p": _unary_cases(tf.math.log1p, np.log1p, maker=positive),
    "expm1": _unary_cases(tf.math.expm1, np.expm1),
    "sqrt": _unary_cases(tf.sqrt, np.sqrt, maker=positive),
    "square": _unary_cases(tf.square, np.square, _ALL),
    "sin": _unary_cases(tf.sin, np.sin),
    "cos": _unary_cases(tf.cos, np.cos),
    "tanh": _unary_cases(tf.tanh, np.tanh),
    "sigmoid": _unary_cases(tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)))
    + [Fwd(tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
           (np.array([-30.0, -5.0, 0.0, 5.0, 30.0]),), "tails")],
    "erf": _unary_cases(tf.math.erf, np.vectorize(__import__("math").erf, otypes=[float]))
    + [Fwd(tf.math.erf, np.vectorize(__import__("math").erf, otypes=[float]),
           (np.array([-6.0, -2.5, -1.99, 0.0, 1e-8, 1.5, 2.0, 3.7]),), "range")],
    "floor": _unary_cases(tf.math.floor, np.floor),
    "ceil": _unary_cases(tf.math.ceil, np.ceil),
    "round": _unary_cases(tf.round, np.rint)
    + [Fwd(tf.round, np.rint, (np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]),), "half-even"),
       Fwd(tf.round, lambda x: x, (ints(5),), "int32")],
    "is_nan": [Fwd(tf.math.is_nan, np.isnan, (np.array([0.0, np.nan, np.inf], np.float32),),
                   "special", "bool")],
    "is_inf": [Fwd(tf.math.is_inf, np.isinf, (np.array([0.0, np.nan, -np.inf], np.float32),),
                   "special", "bool")],
    "is_finite": [Fwd(tf.math.is_finite, np.isfinite,
                      (np.array([0.0, np.nan, np.inf], np.float32),), "special", "bool")],
    "where": [Fwd(tf.where, np.where, (uniform(3, 1) > 0, uniform(1, 4), uniform(4)), "bcast",
                  "float64"),
              Fwd(tf.where, np.where, (uniform(2, 3) > 0, ints(2, 3), ints(2, 3)), "int32",
                  "int32"),
              Fwd(lambda c, x: tf.where(c, x, 0.5), lambda c, x: np.where(c, x, 0.5),
                  (uniform(4) > 0, uniform(4).astype(np.float32)), "python-y", "float32")],
    "cast": [Fwd(lambda x: tf.cast(x, tf.int32), lambda x: np.trunc(x).astype(np.int32),
                 (uniform(2, 3) * 3,), "float-to-int-truncates", "int32"),
             Fwd(lambda x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32),
                 (ints(2, 3),), "int-to-float", "float32"),
             Fwd(lambda x: tf.cast(x, "float16"), lambda x: x.astype(np.float16),
                 (uniform(4),), "float64-to-float16", "float16"),
             Fwd(lambda x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32),
                 (uniform(3) > 0,), "bool-to-float", "float32"),
             Fwd(lambda x: tf.cast(x, tf.complex64), lambda x: x.astype(np.complex64),
                 (uniform(3),), "float-to-complex", "complex64")],
    "real": [Fwd(tf.math.real, np.real, ((uniform(2, 3) + 1j * uniform(2, 3)).astype(dtype),),
                 dtype, real) for dtype, real in (("complex64", "float32"),
                                                  ("complex128", "float64"))]
    + [Fwd(lambda x: tf.cast(x, tf.float32), lambda x: x.real.astype(np.float32),
           (uniform(3) + 1j,), "complex-to-float-keeps-the-real-part", "float32")],
}


_CONDITION = tf.constant(uniform(3, 1) > 0)


def _binary_grads(op, maker=uniform):
    shape_pairs = [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((2, 3), ())]
    return [Grad(op, (maker(*a), maker(*b)), f"{a}x{b}") for a, b in shape_pairs]


def _unary_grads(op, maker=uniform):
    return [Grad(op, (maker(*s),), str(s)) for s in ((), (2, 3))]


GRADIENTS = {
    "add": _binary_grads(tf.add),
    "subtract": _binary_grads(tf.subtract),
    "multiply": _binary_grads(tf.multiply),
    "divide": _binary_grads(tf.truediv, nonzero),
    "pow": _binary_grads(tf.pow, positive)
    + [Grad(lambda x: tf.pow(x, 3.0), (uniform(5),), "negative-base-constant-exponent")],
    "maximum": _binary_grads(tf.maximum, distinct),
    "minimum": _binary_grads(tf.minimum, distinct),
    "negative": _unary_grads(tf.negative),
    "abs": _unary_grads(tf.abs, nonzero),
    "exp": _unary_grads(tf.exp),
    "log": _unary_grads(tf.math.log, positive),
    "log1p": _unary_grads(tf.math.log1p, positive),
    "expm1": _unary_grads(tf.math.expm1),
    "sqrt": _unary_grads(tf.sqrt, positive),
    "square": _unary_grads(tf.square),
    "sin": _unary_grads(tf.sin),
    "cos": _unary_grads(tf.cos),
    "tanh": _unary_grads(tf.tanh),
    "sigmoid": _unary_grads(tf.sigmoid),
    "erf": _unary_grads(tf.math.erf),
    "where": [Grad(lambda x, y: tf.where(_CONDITION, x, y), (uniform(1, 4), uniform(4)), "bcast"),
              Grad(lambda x: tf.where(x > 0, x, tf.square(x)), (nonzero(2, 3),), "self")],
    # Casting to float32 rounds; a larger step keeps that rounding below the tolerance.
    "cast": [Grad(lambda x: tf.cast(tf.cast(x, tf.float32) * 3.0, tf.float64), (uniform(2, 3),),
                  "via-float32", eps=1e-2, atol=1e-4)],
    # The gradient of real(z) goes to z's real part; through a cast from float and back.
    "real": [Grad(lambda x: tf.math.real(tf.cast(x, tf.complex128) * (2 - 1j)) * x,
                  (uniform(2, 3),), "via-complex")],
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


@pytest.mark.parametrize("name, case", smooth_params(GRADIENTS))
def test_second_derivative(name, case):
    run_second_derivative(case)


def test_erf_without_scipy_matches_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 57), [-2.0, 2.0, -1e-3]])
    want = np.array([__import__("math").erf(v) for v in x])
    np.testing.assert_allclose(ew._erf_numpy(np, x), want, rtol=1e-13, atol=1e-15)
    assert ew._erf_numpy(np, x.astype(np.float32)).dtype == np.float32


# --- dtype rules --------------------------------------------------------------------


@pytest.mark.parametrize("make, dtype, value", [
    (lambda: tf.constant([1.0, 2.0]) + 1.5, "float32", [2.5, 3.5]),
    (lambda: tf.constant([1.0, 2.0], tf.float64) * 2, "float64", [2.0, 4.0]),
    (lambda: tf.constant([1, 2]) + 2, "int32", [3, 4]),
    (lambda: tf.constant([1, 2], tf.int64) - 1, "int64", [0, 1]),
    (lambda: tf.add(1.5, 2.0), "float32", 3.5),
    (lambda: tf.constant(3) / 2, "float64", 1.5),
    (lambda: tf.constant([3], tf.int64) / tf.constant([2], tf.int64), "float64", [1.5]),
    (lambda: tf.constant([3], tf.int16) / tf.constant([2], tf.int16), "float32", [1.5]),
    (lambda: 2 ** tf.constant([3.0]), "float32", [8.0]),
    (lambda: tf.constant(7) // 2, "int32", 3),
    (lambda: tf.constant(-7) // 2, "int32", -4),
    (lambda: tf.constant(-7) % 3, "int32", 2),
    (lambda: tf.constant([1.0]) > 0.5, "bool", [True]),
    (lambda: tf.math.divide_no_nan(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0])),
     "float32", [0.0, 0.5]),
    (lambda: tf.math.squared_difference(tf.constant([1.0]), 3.0), "float32", [4.0]),
    (lambda: tf.math.rsqrt(tf.constant([4.0])), "float32", [0.5]),
    (lambda: tf.math.reciprocal(tf.constant([4.0, -0.5])), "float32", [0.25, -2.0]),
])
def test_result_dtype_follows_tensorflow(make, dtype, value):
    result = make()
    assert result.dtype.name == dtype
    np.testing.assert_allclose(np.asarray(result), value)


def test_python_number_that_would_lose_its_fraction_is_refused():
    with pytest.raises(TypeError, match="tf.cast"):
        tf.constant([1, 2]) + 0.5


def test_integer_division_by_zero_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
        tf.math.floordiv(tf.constant([1]), tf.constant([0]))


def test_floating_only_ops_refuse_integers_with_a_hint():
    with pytest.raises(TypeError, match="tf.cast"):
        tf.exp(tf.constant([1, 2]))


def test_logical_ops_need_bools():
    with pytest.raises(TypeError, match="bool"):
        tf.logical_and(tf.constant([1]), tf.constant([0]))


# --- numerically delicate values ----------------------------------------------------


def test_sigmoid_is_exact_in_the_tails_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (tf.float32, tf.float64):
            y = tf.sigmoid(tf.constant([-1000.0, 0.0, 1000.0], dtype))
            np.testing.assert_array_equal(y.numpy(), [0.0, 0.5, 1.0])


def test_pow_gradient_for_the_exponent_is_zero_where_the_base_is_not_positive():
    # TensorFlow's rule: d(x^y)/dy = x^y log(x) for x > 0 and 0 elsewhere (no NaN).
    x = tf.constant([-2.0, 0.0, 2.0])
    y = tf.constant([2.0, 3.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            z = tf.pow(x, y)
        gx, gy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(gx.numpy(), [-4.0, 0.0, 0.5 * 2 ** -0.5], rtol=1e-6)
    np.testing.assert_allclose(gy.numpy(), [0.0, 0.0, np.sqrt(2) * np.log(2)], rtol=1e-6)


def test_maximum_and_minimum_send_ties_to_the_first_input():
    x, y = tf.constant([1.0, 2.0]), tf.constant([1.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        high, low = tf.maximum(x, y), tf.minimum(x, y)
    np.testing.assert_array_equal([g.numpy() for g in tape.gradient(high, [x, y])],
                                  [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal([g.numpy() for g in tape.gradient(low, [x, y])],
                                  [[1.0, 1.0], [0.0, 0.0]])


def test_abs_gradient_at_zero_is_zero():
    x = tf.constant([0.0, -2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.abs(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, -1.0])


# --- composites built on elementwise primitives ---------------------------------------


def test_clip_by_value_values_and_gradient():
    t = np.array([[-3.0, -0.5, 0.2], [0.9, 1.5, 4.0]])
    np.testing.assert_array_equal(tf.clip_by_value(t, -1.0, 1.0).numpy(), np.clip(t, -1, 1))
    check_gradients(lambda x: tf.clip_by_value(x, -1.0, 1.0), [t])
    # Tensor bounds that broadcast get gradients too.
    check_gradients(tf.clip_by_value, [t, np.array([-1.0, 0.0, 0.5]), np.array([[1.0], [2.0]])])


def test_where_broadcasts_condition_and_both_branches():
    cond = uniform(3, 1) > 0
    x, y = uniform(1, 4), uniform(2, 1, 1)
    result = tf.where(cond, x, y)
    np.testing.assert_array_equal(result.numpy(), np.where(cond, x, y))
    check_gradients(lambda a, b: tf.where(tf.constant(cond), a, b), [x, y])


def test_where_with_only_a_condition_gives_int64_coordinates():
    cond = np.array([[True, False], [False, True]])
    result = tf.where(cond)
    assert result.dtype == tf.int64
    np.testing.assert_array_equal(result.numpy(), np.argwhere(cond))


def test_squared_difference_and_divide_no_nan_gradients():
    check_gradients(tf.math.squared_difference, [uniform(3, 1), uniform(4)])
    x, y = uniform(4), np.array([0.0, 1.5, -2.0, 0.0])
    grads = check_gradients(tf.math.divide_no_nan, [x, y], wrt=[0])
    np.testing.assert_array_equal(grads[0].numpy()[[0, 3]], 0.0)


def test_second_derivative_of_a_chain_of_elementwise_ops():
    check_second_derivatives(lambda x, y: tf.sin(x * y) / (1 + tf.exp(-x)),
                             [uniform(3, 1), uniform(4)])
