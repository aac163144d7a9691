"""Compiled-versus-eager cases of the reductions and linear algebra added for the
TensorFlow-oracle work (neuroflow/ops/reductions.py, linalg.py, decompositions.py).

Band counts are tensors whose values change between calls, so a count frozen into the
graph would show; matrices are well conditioned (``spd``: symmetric positive definite)
so that every call's decomposition is defined.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, bind, floats, gradients_of, scalar, x_, x_complex, x_ints

import neuroflow as tf


def spd(r, n):
    a = floats(r, n, n)
    return (a @ a.T + n * np.eye(n, dtype=np.float32),)


def square(r, n):
    return (floats(r, n, n) + 3 * np.eye(n, dtype=np.float32),)


def square_rhs(r, n):
    return (*square(r, n), floats(r, n, 2))


def spd_rhs(r, n):
    return (*spd(r, n), floats(r, n, 2))


def tall_rhs(r, n):
    return (floats(r, n + 2, n) + np.eye(n + 2, n, dtype=np.float32) * 3, floats(r, n + 2, 2))


def band_counts(r, n):
    return (floats(r, n, 5), scalar(r.integers(-1, 3), np.int64), scalar(r.integers(-1, 3),
                                                                          np.int64))


def vectors3(r, n):
    return (floats(r, n, 3), floats(r, n, 3))


def _distinct_eigenvalues(r, n):
    # A symmetric matrix with well separated eigenvalues, so eigenvectors are stable.
    q, _ = np.linalg.qr(r.normal(size=(n, n)))
    values = np.arange(1, n + 1) * 1.5 + r.uniform(0, 0.5, n)
    return ((q * values) @ q.T).astype(np.float32),


CASES = {
    "tf.add_n": [Case(lambda a, b: tf.add_n([a, b, a]), lambda r, n: (floats(r, n, 4),
                                                                      floats(r, n, 4))),
                 Case(lambda a: tf.add_n([a]), x_ints, "one-int")],
    "tf.math.accumulate_n": [Case(lambda a, b: tf.math.accumulate_n([a, b]),
                                  lambda r, n: (floats(r, n, 4), floats(r, n, 4)))],
    "tf.math.count_nonzero": [Case(bind(tf.math.count_nonzero, axis=1), x_ints),
                              Case(lambda x: tf.math.count_nonzero(x > 0, dtype=tf.int32), x_,
                                   "bool")],
    "tf.math.reduce_euclidean_norm": [
        Case(bind(tf.math.reduce_euclidean_norm, axis=1), x_),
        Case(bind(tf.math.reduce_euclidean_norm, keepdims=True), x_ints, "int")],
    "tf.math.cumulative_logsumexp": [
        Case(bind(tf.math.cumulative_logsumexp, axis=1), x_),
        Case(bind(tf.math.cumulative_logsumexp, exclusive=True, reverse=True), x_,
             "exclusive-reverse")],
    "tf.linalg.adjoint": [Case(tf.linalg.adjoint, x_),
                          Case(tf.linalg.adjoint, x_complex, "complex")],
    "tf.linalg.band_part": [Case(tf.linalg.band_part, band_counts),
                            Case(lambda x: tf.linalg.band_part(x, 0, -1), x_, "upper")],
    "tf.linalg.cross": [Case(tf.linalg.cross, vectors3)],
    "tf.linalg.diag": [Case(tf.linalg.diag, x_),
                       Case(bind(tf.linalg.diag, k=1, padding_value=2.0), x_, "k-padded"),
                       Case(bind(tf.linalg.diag, k=(-1, 0), align="LEFT_LEFT"),
                            lambda r, n: (floats(r, n, 2, 3),), "band")],
    "tf.linalg.diag_part": [Case(tf.linalg.diag_part, x_),
                            Case(bind(tf.linalg.diag_part, k=-1), lambda r, n: (
                                floats(r, 2, n, n),), "batched-k"),
                            Case(bind(tf.linalg.diag_part, k=(-1, 1), padding_value=5.0),
                                 lambda r, n: (floats(r, n, 4),), "band")],
    "tf.linalg.set_diag": [
        Case(tf.linalg.set_diag, lambda r, n: (floats(r, n, 4), floats(r, min(n, 4)))),
        Case(bind(tf.linalg.set_diag, k=(0, 1)), lambda r, n: (floats(r, 2, n, n),
                                                               floats(r, 2, 2, n)), "band")],
    "tf.linalg.matvec": [Case(tf.linalg.matvec, lambda r, n: (floats(r, n, 4), floats(r, 4)))],
    "tf.linalg.tensor_diag": [Case(tf.linalg.tensor_diag, lambda r, n: (floats(r, n, 2),))],
    "tf.linalg.tensor_diag_part": [Case(tf.linalg.tensor_diag_part, lambda r, n: (
        floats(r, n, 2, n, 2),))],
    "tf.linalg.global_norm": [Case(lambda a, b: tf.linalg.global_norm([a, None, b]),
                                   lambda r, n: (floats(r, n, 4), floats(r, 3)))],
    "tf.linalg.inv": [Case(tf.linalg.inv, square),
                      Case(bind(tf.linalg.inv, adjoint=True), square, "adjoint")],
    "tf.linalg.det": [Case(tf.linalg.det, square)],
    "tf.linalg.slogdet": [Case(tf.linalg.slogdet, lambda r, n: (floats(r, 2, n, n),))],
    "tf.linalg.logdet": [Case(tf.linalg.logdet, spd)],
    "tf.linalg.cholesky": [Case(tf.linalg.cholesky, spd)],
    "tf.linalg.cholesky_solve": [Case(lambda a, b: tf.linalg.cholesky_solve(
        tf.linalg.cholesky(a), b), spd_rhs)],
    "tf.linalg.solve": [Case(tf.linalg.solve, square_rhs),
                        Case(bind(tf.linalg.solve, adjoint=True), square_rhs, "adjoint")],
    "tf.linalg.triangular_solve": [
        Case(tf.linalg.triangular_solve, square_rhs),
        Case(bind(tf.linalg.triangular_solve, lower=False, adjoint=True), square_rhs,
             "upper-adjoint")],
    "tf.linalg.lstsq": [Case(tf.linalg.lstsq, tall_rhs),
                        Case(bind(tf.linalg.lstsq, l2_regularizer=0.5), tall_rhs, "l2"),
                        Case(bind(tf.linalg.lstsq, fast=False), tall_rhs, "fast-false")],
    "tf.linalg.eigh": [Case(lambda a: tf.linalg.eigh(a)[0], spd),
                       Case(lambda a: tf.abs(tf.linalg.eigh(a)[1]), _distinct_eigenvalues,
                            "vectors")],
    "tf.linalg.eigvalsh": [Case(tf.linalg.eigvalsh, spd)],
    "tf.linalg.svd": [Case(bind(tf.linalg.svd, compute_uv=False), lambda r, n: (
        floats(r, n + 1, 3),)),
                      Case(lambda a: [tf.abs(t) for t in tf.linalg.svd(a)], lambda r, n: (
                          floats(r, 3, n + 1),), "uv")],
    "tf.linalg.qr": [Case(tf.linalg.qr, lambda r, n: (floats(r, n + 1, 3),)),
                     Case(bind(tf.linalg.qr, full_matrices=True), lambda r, n: (
                         floats(r, n, n),), "full")],
    "tf.linalg.pinv": [Case(tf.linalg.pinv, lambda r, n: (floats(r, n + 1, 3),))],
}

# Gradients whose rules reach primitives of their own (the identity einsum spreads a
# diagonal's gradient with, the decompositions' rules).
EXTRA_CASES = {
    "gradient of linear algebra": [
        Case(gradients_of(lambda x: tf.einsum("ii->i", x) * tf.einsum("ij->j", x)),
             lambda r, n: (floats(r, n, n),), "einsum-diagonal"),
        Case(gradients_of(lambda x: tf.linalg.inv(x) + tf.linalg.cholesky(
            tf.matmul(x, x, transpose_b=True))), square, "inv-cholesky"),
        Case(gradients_of(lambda x: tf.linalg.eigh(x)[0]), spd, "eigh"),
        Case(gradients_of(lambda x: tf.linalg.svd(x, compute_uv=False)), lambda r, n: (
            floats(r, n + 1, 3),), "svd")],
}
