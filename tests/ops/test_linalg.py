"""Linear algebra: matmul, einsum, tensordot, norm vs NumPy, gradients vs finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    ints,
    nonzero,
    params,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import linalg

MATMUL_SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((1, 3), (3, 1)), ((0, 3), (3, 2))]

EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
          ("ij->i", [(3, 4)]), ("ijk->", [(2, 3, 4)]), ("i,i->", [(5,), (5,)]),
          ("ij,j->i", [(3, 4), (4,)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]),
          ("i,j->ij", [(3,), (4,)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
          ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)])]

FORWARD = {
    "matmul": [Fwd(tf.matmul, np.matmul, (uniform(*a).astype(dtype), uniform(*b).astype(dtype)),
                   f"{dtype}-{a}@{b}")
               for a, b in MATMUL_SHAPES for dtype in ("float32", "float64")]
    + [Fwd(tf.matmul, np.matmul, (ints(2, 3), ints(3, 2)), "int32"),
       Fwd(lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
           lambda a, b: a.T @ b.T, (uniform(4, 3), uniform(5, 4)), "transposed"),
       Fwd(lambda a, b: tf.matmul(a, b, adjoint_b=True),
           lambda a, b: a @ np.swapaxes(b, -1, -2), (uniform(2, 3, 4), uniform(2, 5, 4)),
           "batched-adjoint")],
    "einsum": [Fwd(lambda *t, e=eq: tf.einsum(e, *t), lambda *v, e=eq: np.einsum(e, *v),
                   tuple(uniform(*s) for s in shapes), eq) for eq, shapes in EINSUM]
    + [Fwd(lambda a, b: tf.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b),
           (uniform(1, 1), uniform(3, 2)), "size-1-index-broadcasts")],
    # trace multiplies by eye_like when the sizes are unknown while tracing; eagerly they
    # are known, so the primitive is called directly here.
    "eye_like": [Fwd(linalg._eye_like, lambda v: np.eye(*v.shape[-2:], dtype=v.dtype),
                     (uniform(*shape).astype(dtype),), f"{dtype}-{shape}")
                 for shape, dtype in (((3, 3), "float32"), ((2, 3, 4), "float64"),
                                      ((4, 2), "int32"), ((0, 2), "float32"))],
}

GRADIENTS = {
    "matmul": [Grad(tf.matmul, (uniform(*a), uniform(*b)), f"{a}@{b}")
               for a, b in MATMUL_SHAPES[:4]]
    + [Grad(lambda a, b: tf.matmul(a, b, transpose_a=True), (uniform(4, 3), uniform(4, 2)),
            "transpose_a"),
       Grad(lambda a, b: tf.matmul(a, b, transpose_b=True), (uniform(2, 3, 4), uniform(5, 4)),
            "batched-transpose_b")],
    "einsum": [Grad(lambda *t, e=eq: tf.einsum(e, *t), tuple(uniform(*s) for s in shapes), eq)
               for eq, shapes in EINSUM],
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


@pytest.mark.parametrize("shape_a, shape_b, axes", [
    ((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4,), 0),
    ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]), ((3, 4), (3, 2), [0, 0]),
    ((2, 3, 4), (5, 4), [[-1], [-1]]),
])
def test_tensordot(shape_a, shape_b, axes):
    a, b = uniform(*shape_a), uniform(*shape_b)
    np.testing.assert_allclose(tf.tensordot(a, b, axes).numpy(), np.tensordot(a, b, axes),
                               rtol=1e-12)
    check_gradients(lambda x, y: tf.tensordot(x, y, axes), [a, b])
    check_second_derivatives(lambda x, y: tf.tensordot(x * x, y, axes), [a, b])


@pytest.mark.parametrize("ord_, axis, keep", [
    ("euclidean", None, False), (2, 1, False), (1, 0, True), (np.inf, -1, False),
    (3, None, False), (0.5, 1, False), ("fro", (0, 1), False), ("euclidean", (-2, -1), True),
    (1, (0, 1), False), (np.inf, (0, 1), False), (1, (-1, -2), True), (np.inf, (1, 2), False),
])
def test_norm(ord_, axis, keep):
    x = nonzero(3, 4) if axis is None or np.ndim(axis) == 0 or max(axis) < 2 else nonzero(2, 3, 4)
    if isinstance(axis, tuple):
        numpy_ord = "fro" if ord_ == "euclidean" else ord_
        want = np.linalg.norm(x, numpy_ord, axis, keep)
    elif axis is None:
        want = np.linalg.norm(x.reshape(-1), ord_ if ord_ != "euclidean" else 2)
    else:
        want = np.linalg.norm(x, ord_ if ord_ != "euclidean" else 2, axis, keep)
    np.testing.assert_allclose(tf.norm(x, ord_, axis, keep).numpy(), want, rtol=1e-12)
    check_gradients(lambda t: tf.norm(t, ord_, axis, keep), [x])


def test_norm_second_derivative_and_unsupported_orders():
    check_second_derivatives(lambda t: tf.norm(t, axis=1), [nonzero(3, 4)])
    with pytest.raises(ValueError, match="spectral"):
        tf.norm(tf.ones([2, 2]), ord=2, axis=[0, 1])
    with pytest.raises(ValueError, match="matrix norm"):
        tf.norm(tf.ones([2, 2]), ord="fro")
    with pytest.raises(ValueError):
        tf.norm(tf.ones([2]), ord=0)


def test_trace_and_matrix_transpose():
    x = uniform(2, 3, 3)
    np.testing.assert_allclose(tf.linalg.trace(x).numpy(), np.trace(x, axis1=1, axis2=2))
    check_gradients(tf.linalg.trace, [x])
    np.testing.assert_array_equal(tf.linalg.matrix_transpose(x).numpy(), x.transpose(0, 2, 1))


def test_numpy_operands_take_the_tensor_dtype():
    # As in TensorFlow, a NumPy operand converts to the other operand's dtype.
    a = tf.ones([2, 3])
    for op in (tf.matmul, lambda x, y: tf.tensordot(x, y, 1)):
        result = op(a, np.ones((3, 2)))
        assert result.dtype == tf.float32
        np.testing.assert_array_equal(result.numpy(), np.full((2, 2), 3.0))
        assert op(np.ones((2, 3)), tf.ones([3, 2])).dtype == tf.float32


def test_matmul_of_int_keeps_int_and_of_vectors_is_refused():
    assert tf.matmul(tf.ones([2, 2], tf.int32), tf.ones([2, 2], tf.int32)).dtype == tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.matmul(tf.ones([2]), tf.ones([2, 2]))
