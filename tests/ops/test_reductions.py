"""Reductions and scans: values and dtypes vs NumPy, gradients vs finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    distinct,
    ints,
    nonzero,
    params,
    raises_with_message,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import reductions as red
from neuroflow.ops.broadcasting import sum_to

# (input shape, axis, keepdims): all axes, one axis, negative axis, several axes, keepdims.
AXES = [((), None, False), ((5,), None, False), ((5,), 0, True), ((2, 3, 4), 1, False),
        ((2, 3, 4), -1, True), ((2, 3, 4), (0, 2), False), ((2, 3, 4), None, True),
        ((0, 3), 0, False)]


def _reduction_cases(op, ref, dtypes=("float32", "float64", "int32"), maker=uniform,
                     axes=AXES, result=None):
    cases = []
    for dtype in dtypes:
        for shape, axis, keep in axes:
            x = np.asarray(maker(*shape) * (3 if dtype == "int32" else 1), dtype)
            cases.append(Fwd(lambda t, a=axis, k=keep: op(t, axis=a, keepdims=k),
                             lambda v, a=axis, k=keep: np.asarray(ref(v, axis=a, keepdims=k),
                                                                  v.dtype),
                             (x,), f"{dtype}-{shape}-axis{axis}-keep{keep}", result))
    return cases


def _scan_cases(op, ref, maker=uniform):
    cases = []
    for shape, axis in (((5,), 0), ((2, 3, 4), 1), ((2, 3), -1)):
        for exclusive in (False, True):
            for reverse in (False, True):
                for dtype in ("float32", "int32"):
                    x = np.asarray(maker(*shape) * 2, dtype)
                    cases.append(Fwd(
                        lambda t, a=axis, e=exclusive, r=reverse: op(t, a, e, r),
                        lambda v, a=axis, e=exclusive, r=reverse: _scan(ref, v, a, e, r),
                        (x,), f"{dtype}-{shape}-axis{axis}-excl{exclusive}-rev{reverse}"))
    return cases


def _scan(ref, x, axis, exclusive, reverse):
    """A NumPy cumulative sum/product with TF's exclusive and reverse flags."""
    if reverse:
        x = np.flip(x, axis)
    out = ref(x, axis=axis, dtype=x.dtype)
    if exclusive:
        identity = np.zeros_like(np.take(out, [0], axis)) if ref is np.cumsum \
            else np.ones_like(np.take(out, [0], axis))
        out = np.concatenate([identity, np.delete(out, -1, axis)], axis)
    return np.flip(out, axis) if reverse else out


def _arg_cases(op, ref):
    cases = []
    for shape, axis in (((5,), None), ((3, 4), 1), ((2, 3, 4), -2), ((3, 4), 0)):
        for dtype in ("float32", "int32"):
            x = np.asarray(distinct(*shape) * 10, dtype)
            cases.append(Fwd(lambda t, a=axis: op(t, axis=a),
                             lambda v, a=axis: ref(v, axis=0 if a is None else a),
                             (x,), f"{dtype}-{shape}-axis{axis}", "int64"))
    return cases


def _bool_cases(op, ref):
    return [Fwd(lambda t, a=axis, k=keep: op(t, axis=a, keepdims=k),
                lambda v, a=axis, k=keep: ref(v, axis=a, keepdims=k),
                (uniform(*shape) > 0.5,), f"{shape}-axis{axis}-keep{keep}")
            for shape, axis, keep in AXES]


FORWARD = {
    "reduce_sum": _reduction_cases(tf.reduce_sum, np.sum),
    "reduce_max": _reduction_cases(tf.reduce_max, np.max, axes=AXES[:-1])
    + [Fwd(lambda t: tf.reduce_max(t, axis=1), lambda v: np.full(3, -np.inf, np.float32),
           (np.zeros((3, 0), np.float32),), "empty-axis-is-lowest")],
    "reduce_min": _reduction_cases(tf.reduce_min, np.min, axes=AXES[:-1])
    + [Fwd(tf.reduce_min, lambda v: np.int32(np.iinfo(np.int32).max),
           (np.zeros(0, np.int32),), "empty-int-is-highest")],
    "reduce_prod": _reduction_cases(tf.reduce_prod, np.prod),
    "reduce_any": _bool_cases(tf.reduce_any, np.any),
    "reduce_all": _bool_cases(tf.reduce_all, np.all),
    "cumsum": _scan_cases(tf.cumsum, np.cumsum),
    "cumprod": _scan_cases(tf.math.cumprod, np.cumprod),
    "argmax": _arg_cases(tf.argmax, np.argmax),
    "argmin": _arg_cases(tf.argmin, np.argmin),
}


def _logsumexp_scan(x, axis, exclusive, reverse):
    """NumPy's accumulated logaddexp with TF's exclusive and reverse flags."""
    if reverse:
        x = np.flip(x, axis)
    out = np.logaddexp.accumulate(x, axis=axis)
    if exclusive and out.shape[axis]:
        start = np.full_like(np.take(out, [0], axis), -np.inf)
        out = np.concatenate([start, np.delete(out, -1, axis)], axis)
    return np.flip(out, axis) if reverse else out


FORWARD["cumulative_logsumexp"] = [
    Fwd(lambda t, a=axis, e=exclusive, r=reverse: tf.math.cumulative_logsumexp(t, a, e, r),
        lambda v, a=axis, e=exclusive, r=reverse: _logsumexp_scan(v, a, e, r),
        (np.asarray(uniform(*shape) * 20, dtype),),
        f"{dtype}-{shape}-axis{axis}-excl{exclusive}-rev{reverse}")
    for shape, axis in (((5,), 0), ((2, 3, 4), 1), ((2, 3), -1), ((0, 3), 0))
    for exclusive in (False, True) for reverse in (False, True)
    for dtype in ("float32", "float64")
] + [Fwd(tf.math.cumulative_logsumexp,
         lambda v: np.array([1.0, np.log(np.e + 1), np.log(np.e + 1)]),
         (np.array([1.0, 0.0, -np.inf]),), "infinities", "float64")]

_GRAD_AXES = [((), None, False), ((2, 3, 4), 1, False), ((2, 3, 4), (0, 2), True),
              ((2, 3, 4), None, False), ((3, 4), -1, True)]


def _reduction_grads(op, maker=uniform):
    return [Grad(lambda t, a=axis, k=keep: op(t, axis=a, keepdims=k), (maker(*shape),),
                 f"{shape}-axis{axis}-keep{keep}") for shape, axis, keep in _GRAD_AXES]


def _with_zeros(*shape, count):
    x = nonzero(*shape)
    x.reshape(-1)[: count] = 0.0
    return x


def _scan_grads(op, maker, then=lambda y: y):
    # ``then``: cumulative_logsumexp's exclusive scans start at -inf, which finite
    # differences cannot weigh; exp maps it to 0.
    return [Grad(lambda t, a=axis, e=exclusive, r=reverse: then(op(t, a, e, r)),
                 (maker(*shape),), f"{shape}-axis{axis}-excl{exclusive}-rev{reverse}")
            for shape, axis in (((5,), 0), ((2, 3, 4), 1))
            for exclusive in (False, True) for reverse in (False, True)]


# size_of is what reduce_mean divides by when a traced size is unknown; eagerly, sizes are
# known and reduce_mean never needs it, so it is called directly here.
FORWARD["size_of"] = [
    Fwd(lambda t, a=axes, d=dtype: red._size_of(t, axes=a, dtype=np.dtype(d)),
        lambda v, a=axes, d=dtype: np.asarray(
            np.prod([v.shape[i] for i in a] if a is not None else v.shape), d),
        (uniform(*shape),), f"{shape}-axes{axes}-{dtype}", dtype)
    for shape, axes, dtype in (((2, 3, 4), None, "float32"), ((2, 3, 4), (0, 2), "int32"),
                               ((), None, "float64"), ((0, 5), (1,), "float32"))]

# sum_to: the tape's undoing of broadcasting, when sizes are only known per call.
FORWARD["sum_to"] = [
    Fwd(lambda t, s=target: sum_to(t, shape=s),
        lambda v, s=target: np.sum(v, axis=tuple(range(v.ndim - len(s))) + tuple(
            v.ndim - len(s) + i for i, d in enumerate(s) if d == 1 and
            v.shape[v.ndim - len(s) + i] != 1), keepdims=False).reshape(s),
        (uniform(*shape),), f"{shape}-to-{target}")
    for shape, target in (((2, 3), (3,)), ((2, 3), (1, 3)), ((4, 1, 3), (1, 1)),
                          ((2, 3), (2, 3)), ((5,), ()))]

GRADIENTS = {
    "sum_to": [Grad(lambda t, s=target: sum_to(t, shape=s), (uniform(*shape),),
                    f"{shape}-to-{target}")
               for shape, target in (((2, 3), (3,)), ((4, 1, 3), (1, 1)), ((2, 2), (2, 2)))],
    "reduce_sum": _reduction_grads(tf.reduce_sum),
    "reduce_max": _reduction_grads(tf.reduce_max, distinct),
    "reduce_min": _reduction_grads(tf.reduce_min, distinct),
    "reduce_prod": _reduction_grads(tf.reduce_prod, nonzero)
    # With zeros the first derivative is exact (no division by x); the second goes
    # through cumprod's gradient, which divides by x as TensorFlow's does, so it is
    # only checked away from zeros.
    + [Grad(lambda t: tf.reduce_prod(t, axis=1), (_with_zeros(3, 4, count=1),), "one-zero",
            second=False),
       Grad(lambda t: tf.reduce_prod(t, axis=1), (_with_zeros(3, 4, count=2),), "two-zeros",
            second=False),
       Grad(tf.reduce_prod, (_with_zeros(2, 3, count=1),), "all-axes-one-zero", second=False)],
    "cumsum": _scan_grads(tf.cumsum, uniform),
    "cumprod": _scan_grads(tf.math.cumprod, nonzero),
    "cumulative_logsumexp": _scan_grads(tf.math.cumulative_logsumexp, uniform, then=tf.exp),
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


def test_max_gradient_splits_between_ties_as_tensorflow():
    x = tf.constant([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_max(x, axis=1)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


# What TensorFlow 2.21 gives: NaN never wins, and a slice with nothing above the lowest
# float (below the highest, for argmin) gives index 0; NumPy would pick the first NaN.
@pytest.mark.parametrize("values, argmax, argmin", [
    ([np.nan, 0.0], 1, 1), ([np.inf, np.nan], 0, 0), ([-np.inf, np.nan], 0, 0),
    ([0.0, np.nan, 1.0], 2, 0), ([np.nan, np.nan], 0, 0), ([1.0, np.nan, np.nan, 5.0], 3, 0),
    ([5.0, 1.0, np.nan], 0, 1), ([np.inf, 0.0], 0, 1), ([-np.inf, 0.0], 1, 0),
    ([np.inf, -np.inf], 0, 1), ([-np.inf, "lowest"], 0, 0), ([np.inf, "highest"], 0, 0),
    ([0.0, -np.inf, np.inf], 2, 1), ([1.0, 3.0, 3.0], 1, 0),
])
def test_argmax_and_argmin_of_nan_and_infinities_follow_tensorflow(values, argmax, argmin):
    for dtype in (np.float32, np.float64):
        limits = {"lowest": np.finfo(dtype).min, "highest": np.finfo(dtype).max}
        x = tf.constant(np.array([limits.get(v, v) for v in values], dtype))
        assert int(tf.argmax(x)) == argmax
        assert int(tf.argmin(x)) == argmin


def test_argmax_and_argmin_of_nan_along_an_axis_follow_tensorflow():
    x = tf.constant([[np.nan, 1.0], [2.0, np.nan]])
    for op in (tf.argmax, tf.argmin):
        np.testing.assert_array_equal(op(x, axis=0).numpy(), [1, 0])
        np.testing.assert_array_equal(op(x, axis=1).numpy(), [1, 0])
    rows = np.full((3, 100), np.nan, np.float32)
    rows[1, 50], rows[2, 99] = 2.0, -np.inf
    np.testing.assert_array_equal(tf.argmax(rows, axis=1).numpy(), [0, 50, 0])
    np.testing.assert_array_equal(tf.argmin(rows, axis=1).numpy(), [0, 50, 99])
    np.testing.assert_array_equal(tf.argmax(rows.T, axis=0).numpy(), [0, 50, 0])


def test_argmax_output_type():
    x = tf.constant([[1.0, 3.0], [4.0, 2.0]])
    result = tf.argmax(x, axis=1, output_type=tf.int32)
    assert result.dtype == tf.int32
    np.testing.assert_array_equal(result.numpy(), [1, 0])


# --- composite reductions -----------------------------------------------------------


@pytest.mark.parametrize("shape, axis, keep", [((2, 3, 4), 1, False), ((2, 3, 4), None, False),
                                               ((3, 4), -1, True), ((5,), 0, False)])
def test_mean_variance_std_match_numpy(shape, axis, keep):
    x = uniform(*shape)
    for op, ref in ((tf.reduce_mean, np.mean), (tf.math.reduce_variance, np.var),
                    (tf.math.reduce_std, np.std)):
        result = op(x.astype(np.float32), axis=axis, keepdims=keep)
        assert result.dtype == tf.float32
        np.testing.assert_allclose(result.numpy(), ref(x, axis=axis, keepdims=keep),
                                   rtol=2e-5, atol=1e-6)
        check_gradients(lambda t, f=op: f(t, axis=axis, keepdims=keep), [x])
        check_second_derivatives(lambda t, f=op: f(t, axis=axis, keepdims=keep), [x])


def test_integer_mean_truncates_toward_zero_and_keeps_the_dtype():
    x = np.array([[-7, 0], [7, 0], [-6, 0], [3, 4]], np.int32)
    result = tf.reduce_mean(x, axis=1)
    assert result.dtype == tf.int32
    np.testing.assert_array_equal(result.numpy(), np.trunc(x.sum(1) / 2).astype(np.int32))
    assert tf.reduce_mean(tf.constant(x, tf.int64)).dtype == tf.int64


def test_variance_and_std_refuse_integers():
    raises_with_message(TypeError, lambda: tf.math.reduce_variance(tf.constant([1, 2])),
                        "floating or complex", "int32")
    with pytest.raises(TypeError):
        tf.math.reduce_std(tf.constant([1, 2]))


def test_sums_refuse_bools_and_any_all_refuse_numbers():
    # TensorFlow has no kernel for bool sums: InvalidArgumentError, as there.
    for op in (tf.reduce_sum, tf.reduce_mean, tf.cumsum, tf.math.reduce_euclidean_norm):
        raises_with_message(tf.errors.InvalidArgumentError, lambda f=op: f(tf.constant([True])),
                            "bool tensors", "tf.cast(x, tf.int32)")
    with pytest.raises(TypeError, match="bool"):
        tf.reduce_any(tf.constant([1, 0]))


@pytest.mark.parametrize("shape, axis, keep", [((2, 3, 4), 1, False), ((2, 3), None, False),
                                               ((3, 4), -1, True)])
def test_logsumexp_matches_numpy_with_gradients(shape, axis, keep):
    x = uniform(*shape) * 3
    want = np.log(np.sum(np.exp(x), axis=axis, keepdims=keep))
    np.testing.assert_allclose(tf.reduce_logsumexp(x, axis=axis, keepdims=keep).numpy(), want,
                               rtol=1e-12)
    check_gradients(lambda t: tf.reduce_logsumexp(t, axis=axis, keepdims=keep), [x])
    check_second_derivatives(lambda t: tf.reduce_logsumexp(t, axis=axis, keepdims=keep), [x])


def test_logsumexp_is_stable_for_large_and_infinite_values():
    x = tf.constant([[1000.0, 1000.0], [-np.inf, -np.inf], [-1000.0, -np.inf]])
    result = tf.reduce_logsumexp(x, axis=1).numpy()
    np.testing.assert_allclose(result, [1000 + np.log(2), -np.inf, -1000.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_logsumexp(x[:1], axis=1)
    np.testing.assert_allclose(tape.gradient(y, x).numpy()[0], [0.5, 0.5])


def test_prod_with_zeros_has_the_product_of_the_others_as_gradient():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]])
    grads = check_gradients(lambda t: tf.reduce_prod(t, axis=1), [x])
    # Row 0: only the zero gets a gradient (2*3); row 1: two zeros, all gradients vanish.
    np.testing.assert_allclose(grads[0].numpy() != 0, [[0, 1, 0], [0, 0, 0], [1, 1, 1]])


def test_reductions_name_a_bad_axis():
    with pytest.raises(tf.errors.InvalidArgumentError, match="axis 2 is out of range"):
        tf.reduce_sum(tf.ones([2, 3]), axis=2)


@pytest.mark.parametrize("op", [tf.argmax, tf.cumsum])
def test_axis_ops_refuse_scalars(op):
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar"):
        op(tf.constant(1.0))


# --- integer means, empty scans, complex variance (TensorFlow's answers) ----------------------


@pytest.mark.parametrize("values, dtype, want", [
    ([200, 100, 255], "uint8", 185), ([2**31 - 1, 2**31 - 1], "int32", 2**31 - 1),
    ([100, 100, -7], "int8", 64), ([-32768, -32768, 1], "int16", -21845),
    ([2**32 - 1, 2**32 - 1], "uint32", 2**32 - 1),
    # 64-bit integers accumulate in 64 bits and wrap, as in TensorFlow.
    ([2**62, 2**62], "int64", -(2**62)), ([2**64 - 1, 2**64 - 1], "uint64", 2**63 - 1),
    ([], "int32", 0),
])
def test_integer_mean_accumulates_wider_as_tensorflow(values, dtype, want):
    result = tf.reduce_mean(tf.constant(np.array(values, dtype)))
    assert result.dtype.name == dtype
    assert int(result) == want


def test_integer_mean_of_unknown_sizes_in_a_function():
    f = tf.function(lambda x: tf.reduce_mean(x, axis=0),
                    input_signature=[tf.TensorSpec([None, None], tf.uint8)])
    np.testing.assert_array_equal(f(np.array([[200, 7], [255, 9]], np.uint8)).numpy(), [227, 8])
    np.testing.assert_array_equal(f(np.zeros((0, 2), np.uint8)).numpy(), [0, 0])


@pytest.mark.parametrize("op", [tf.cumsum, tf.math.cumprod, tf.math.cumulative_logsumexp])
def test_scans_over_an_empty_axis_are_empty(op):
    for axis in (0, 1):
        x = tf.zeros([0, 3]) if axis == 0 else tf.zeros([2, 0])
        result = op(x, axis=axis, exclusive=True, reverse=True)
        assert result.shape == x.shape


def test_variance_and_std_of_complex_are_real():
    x = tf.constant([1 + 1j, 2 + 0j])
    variance = tf.math.reduce_variance(x)
    assert variance.dtype == tf.float64
    np.testing.assert_allclose(variance.numpy(), 0.5)
    np.testing.assert_allclose(tf.math.reduce_std(x).numpy(), np.sqrt(0.5))


@pytest.mark.parametrize("op", [tf.reduce_logsumexp, tf.math.cumulative_logsumexp])
def test_logsumexps_refuse_integers_as_tensorflow(op):
    raises_with_message(tf.errors.InvalidArgumentError, lambda: op(tf.constant([1, 2])),
                        "floating-point", "int32", "tf.cast")


def test_cumulative_logsumexp_gradient_matches_tensorflow_with_empty_scans():
    # What TensorFlow 2.21 gives; the exclusive scan's first entry covers nothing (-inf).
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.cumulative_logsumexp(x, reverse=True, exclusive=True)
    np.testing.assert_allclose(y.numpy(), [3.3132617, 3.0, -np.inf], rtol=1e-6)
    grad = tape.gradient(y, x, output_gradients=tf.constant([1.0, -2.0, 3.0]))
    np.testing.assert_allclose(grad.numpy(), [0.0, 0.2689414, -1.2689414], rtol=1e-5)


# --- count_nonzero, reduce_euclidean_norm, add_n ------------------------------------------------


def test_count_nonzero_counts_nan_and_not_negative_zero():
    x = tf.constant([[1.0, 0.0, np.nan], [-0.0, 2.0, 3.0]])
    result = tf.math.count_nonzero(x, axis=1, keepdims=True)
    assert result.dtype == tf.int64
    np.testing.assert_array_equal(result.numpy(), [[2], [2]])
    assert tf.math.count_nonzero(tf.constant([True, False, True])).numpy() == 2
    assert tf.math.count_nonzero(input=tf.constant([1, 0]), dtype=tf.float32).dtype == tf.float32
    assert bool(tf.math.count_nonzero(tf.constant([1, 0]), dtype=tf.bool))


@pytest.mark.parametrize("values, dtype, want", [
    ([3, 4], "int32", 5), ([3, 5], "int32", 5), ([-3, -4], "int8", 5),
    # Squares and sums wrap in the input's dtype, as TensorFlow's kernel does.
    ([200, 200], "uint8", 11),
])
def test_euclidean_norm_of_integers_as_tensorflow(values, dtype, want):
    result = tf.math.reduce_euclidean_norm(tf.constant(np.array(values, dtype)))
    assert result.dtype.name == dtype and int(result) == want


def test_euclidean_norm_matches_numpy_with_gradient():
    x = uniform(2, 3, 4)
    for axis, keep in ((1, False), (None, True), ((0, 2), False)):
        want = np.sqrt(np.sum(x * x, axis=axis, keepdims=keep))
        got = tf.math.reduce_euclidean_norm(x, axis=axis, keepdims=keep)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
        check_gradients(lambda t, a=axis, k=keep: tf.math.reduce_euclidean_norm(t, a, k), [x])
    z = (uniform(3) + 1j * uniform(3)).astype(np.complex128)
    got = tf.math.reduce_euclidean_norm(z)
    assert got.dtype == tf.complex128
    np.testing.assert_allclose(got.numpy(), np.linalg.norm(z), rtol=1e-12)


def test_add_n_sums_one_shape_and_dtype():
    parts = [uniform(2, 3) for _ in range(3)]
    np.testing.assert_allclose(tf.add_n(parts).numpy(), sum(parts), rtol=1e-12)
    assert tf.add_n([1, 2]).dtype == tf.int32
    counts = ints(3)
    np.testing.assert_array_equal(tf.add_n([counts, [1, 1, 1]]).numpy(), counts + 1)
    check_gradients(lambda a, b: tf.add_n([a, b, a]), parts[:2])
    np.testing.assert_allclose(tf.math.accumulate_n(parts).numpy(), sum(parts), rtol=1e-12)


@pytest.mark.parametrize("make, error, fragments", [
    (lambda: tf.add_n([tf.ones([2]), tf.ones([2], tf.float64)]), tf.errors.InvalidArgumentError,
     ("input #1 has dtype float64", "float32", "tf.cast")),
    (lambda: tf.add_n([tf.ones([2]), tf.ones([1])]), tf.errors.InvalidArgumentError,
     ("input #1 has shape (1,)", "(2,)", "does not broadcast")),
    (lambda: tf.add_n([tf.constant([True]), tf.constant([False])]),
     tf.errors.InvalidArgumentError, ("bool tensors", "tf.cast")),
    (lambda: tf.add_n([]), ValueError, ("at least one Tensor", "empty list")),
    (lambda: tf.add_n(tf.ones([2])), ValueError, ("at least one Tensor", "Tensor")),
    (lambda: tf.math.accumulate_n([tf.ones([2]), tf.ones([2], tf.float64)]), ValueError,
     ("same dtype and shape", "float32 and float64")),
    (lambda: tf.math.accumulate_n([tf.ones([2]), tf.ones([1])]), ValueError,
     ("(2,) and (1,)", "not compatible")),
])
def test_add_n_errors_are_tensorflows(make, error, fragments):
    raises_with_message(error, make, *fragments)


@pytest.mark.parametrize("reduce", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max,
                                    tf.reduce_prod, tf.reduce_variance, tf.reduce_logsumexp,
                                    tf.math.reduce_euclidean_norm, tf.math.count_nonzero])
def test_an_axis_named_twice_is_refused_as_tensorflow_does(reduce):
    with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate dimension 1"):
        reduce(tf.ones([2, 3]), axis=[1, -1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate dimension 0"):
        tf.reduce_all(tf.ones([2, 3]) > 0, axis=[0, 0])
