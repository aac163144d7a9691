"""No op can freeze a value in graph mode: every public op, compiled, follows its inputs.

A trace runs on symbolic tensors, so a graph cannot depend on the values it was traced
with. This file checks that promise op by op, on the whole public surface:

* ``CASES`` maps each public op (``tf.*``, ``tf.math``, ``tf.nn``, ``tf.linalg``) to
  cases; ``RANDOM_CASES`` does the same for ``tf.random`` and dropout. A case is a
  function of tensors (the op with its Python arguments bound) and a maker of its
  arguments. ``test_every_public_op_has_a_case`` fails when an op has none, and
  ``test_every_primitive_is_in_a_compiled_case`` when a registered primitive is in no
  traced graph of the cases.
* Each case is compiled and called with new values of the same shapes (one trace), then
  with other sizes, and compared with eager execution after every call, compiled and
  through the reference interpreter. Arguments an op reads as a size or a count
  (``tf.range(n)``, ``tf.fill(dims, v)``, a tensor index, ``tf.slice`` bounds, a one-hot
  depth) are tensors whose values change between calls.
* ``SIGNATURE_CASES`` trace once for every batch size (``TensorSpec`` with ``None``).
* Compiled cases called from four threads at once give what one thread gets.
"""

from __future__ import annotations

import inspect
import io
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from frozen_cases import (  # noqa: F401 - makers shared with frozen_cases_*.py
    Case,
    _xent,
    bind,
    bools,
    distinct,
    floats,
    gradients_of,
    ints,
    labels_logits,
    nonzero,
    positive,
    probabilities_logits,
    scalar,
    with_specials,
    x_,
    x_ab,
    x_bools,
    x_complex,
    x_distinct,
    x_int_y_nonzero,
    x_ints,
    x_nonzero,
    x_positive,
    x_scalar,
    xy,
    xy_bools,
    xy_ints,
)

import neuroflow as tf
from neuroflow.ops.registry import REGISTRY, Primitive
from neuroflow.util import nest

CASES: dict[str, list] = {
    # --- elementwise, one input
    "tf.abs": [Case(tf.abs, x_), Case(tf.abs, x_ints, "int")],
    "tf.negative": [Case(tf.negative, x_), Case(tf.negative, x_ints, "int")],
    "tf.sign": [Case(tf.sign, x_nonzero), Case(tf.sign, x_ints, "int")],
    "tf.square": [Case(tf.square, x_), Case(tf.square, x_ints, "int")],
    "tf.exp": [Case(tf.exp, x_)],
    "tf.math.expm1": [Case(tf.math.expm1, x_)],
    "tf.math.log": [Case(tf.math.log, x_positive)],
    "tf.math.log1p": [Case(tf.math.log1p, x_positive)],
    "tf.sqrt": [Case(tf.sqrt, x_positive)],
    "tf.rsqrt": [Case(tf.rsqrt, x_positive)],
    "tf.math.reciprocal": [Case(tf.math.reciprocal, x_nonzero)],
    "tf.sin": [Case(tf.sin, x_)],
    "tf.cos": [Case(tf.cos, x_)],
    "tf.tanh": [Case(tf.tanh, x_)],
    "tf.sigmoid": [Case(tf.sigmoid, x_)],
    "tf.math.erf": [Case(tf.math.erf, x_)],
    "tf.math.floor": [Case(tf.math.floor, x_)],
    "tf.math.ceil": [Case(tf.math.ceil, x_)],
    "tf.round": [Case(tf.round, lambda r, n: (floats(r, n, 4, low=-5, high=5),)),
                 Case(tf.round, x_ints, "int")],
    "tf.math.is_nan": [Case(tf.math.is_nan, with_specials)],
    "tf.math.is_inf": [Case(tf.math.is_inf, with_specials)],
    "tf.math.is_finite": [Case(tf.math.is_finite, with_specials)],
    "tf.math.real": [Case(tf.math.real, x_complex), Case(tf.math.real, x_, "real-input")],
    "tf.math.log_sigmoid": [Case(tf.math.log_sigmoid, lambda r, n: (floats(r, n, 4) * 20,))],
    "tf.math.softplus": [Case(tf.math.softplus, lambda r, n: (floats(r, n, 4) * 20,))],
    "tf.nn.softsign": [Case(tf.nn.softsign, x_)],
    "tf.nn.relu": [Case(tf.nn.relu, x_)],
    "tf.nn.relu6": [Case(tf.nn.relu6, lambda r, n: (floats(r, n, 4) * 5,))],
    "tf.nn.elu": [Case(tf.nn.elu, x_)],
    "tf.nn.selu": [Case(tf.nn.selu, x_)],
    "tf.nn.gelu": [Case(tf.nn.gelu, x_), Case(bind(tf.nn.gelu, approximate=True), x_, "tanh")],
    "tf.nn.silu": [Case(tf.nn.silu, x_), Case(tf.nn.silu, x_scalar, "tensor-beta")],
    "tf.nn.leaky_relu": [Case(tf.nn.leaky_relu, x_),
                         Case(tf.nn.leaky_relu, x_scalar, "tensor-alpha")],
    "tf.cast": [Case(bind(tf.cast, dtype=tf.int32), lambda r, n: (floats(r, n, 4) * 5,)),
                Case(bind(tf.cast, dtype=tf.float32), x_ints, "int-to-float"),
                Case(bind(tf.cast, dtype=tf.bool), x_ints, "int-to-bool"),
                Case(bind(tf.cast, dtype=tf.float64), x_complex, "complex-to-real")],
    # --- elementwise, two inputs (broadcasting where the case says so)
    "tf.add": [Case(tf.add, xy), Case(tf.add, xy_ints, "int"),
               Case(tf.add, lambda r, n: (floats(r, n, 4), floats(r, 4)), "broadcast"),
               Case(tf.add, lambda r, n: (floats(r, n, 1), scalar(r.normal(), np.float32)),
                    "scalar")],
    "tf.subtract": [Case(tf.subtract, xy), Case(tf.subtract, xy_ints, "int")],
    "tf.multiply": [Case(tf.multiply, xy), Case(tf.multiply, xy_ints, "int")],
    "tf.divide": [Case(tf.divide, lambda r, n: (floats(r, n, 4), nonzero(r, n, 4)))],
    "tf.truediv": [Case(tf.truediv, lambda r, n: (floats(r, n, 4), nonzero(r, n, 4))),
                   Case(tf.truediv, x_int_y_nonzero, "int")],
    "tf.math.divide_no_nan": [Case(tf.math.divide_no_nan, lambda r, n: (
        floats(r, n, 4), floats(r, n, 4) * (r.random((n, 4)) < 0.6)))],
    "tf.math.floordiv": [Case(tf.math.floordiv, lambda r, n: (floats(r, n, 4) * 5,
                                                              nonzero(r, n, 4))),
                         Case(tf.math.floordiv, x_int_y_nonzero, "int")],
    "tf.math.floormod": [Case(tf.math.floormod, lambda r, n: (floats(r, n, 4) * 5,
                                                              nonzero(r, n, 4))),
                         Case(tf.math.floormod, x_int_y_nonzero, "int")],
    "tf.pow": [Case(tf.pow, lambda r, n: (positive(r, n, 4), floats(r, n, 4))),
               Case(tf.pow, lambda r, n: (ints(r, n, 4), ints(r, n, 4, low=0, high=4)), "int")],
    "tf.maximum": [Case(tf.maximum, xy), Case(tf.maximum, xy_ints, "int")],
    "tf.minimum": [Case(tf.minimum, xy), Case(tf.minimum, xy_ints, "int")],
    "tf.math.squared_difference": [Case(tf.math.squared_difference, xy)],
    "tf.equal": [Case(tf.equal, xy_ints)],
    "tf.not_equal": [Case(tf.not_equal, xy_ints)],
    "tf.less": [Case(tf.less, xy_ints), Case(tf.less, xy, "float")],
    "tf.less_equal": [Case(tf.less_equal, xy_ints)],
    "tf.greater": [Case(tf.greater, xy_ints)],
    "tf.greater_equal": [Case(tf.greater_equal, xy_ints)],
    "tf.logical_and": [Case(tf.logical_and, xy_bools)],
    "tf.logical_or": [Case(tf.logical_or, xy_bools)],
    "tf.math.logical_xor": [Case(tf.math.logical_xor, xy_bools)],
    "tf.logical_not": [Case(tf.logical_not, x_bools)],
    "tf.where": [Case(tf.where, lambda r, n: (bools(r, n, 4), floats(r, n, 4), floats(r, n, 4))),
                 Case(tf.where, lambda r, n: (bools(r, n, 1), floats(r, 4), floats(r, n, 4)),
                      "broadcast"),
                 # One argument: the coordinates of the true entries, as many as there are.
                 Case(tf.where, lambda r, n: (bools(r, n, 4),), "coordinates")],
    "tf.clip_by_value": [Case(tf.clip_by_value, x_ab),
                         Case(lambda x: tf.clip_by_value(x, -0.5, 0.5), x_, "python-bounds")],
    # --- reductions and scans
    "tf.reduce_sum": [Case(tf.reduce_sum, x_),
                      Case(bind(tf.reduce_sum, axis=1, keepdims=True), x_ints, "int-axis1")],
    "tf.reduce_mean": [Case(bind(tf.reduce_mean, axis=0), x_),
                       Case(tf.reduce_mean, x_ints, "int")],
    "tf.reduce_max": [Case(bind(tf.reduce_max, axis=1), x_),
                      Case(bind(tf.reduce_max, axis=0), x_ints, "int")],
    "tf.reduce_min": [Case(bind(tf.reduce_min, axis=-1), x_),
                      Case(bind(tf.reduce_min, axis=1), x_ints, "int")],
    "tf.reduce_prod": [Case(bind(tf.reduce_prod, axis=0), x_),
                       Case(bind(tf.reduce_prod, axis=1), x_ints, "int")],
    "tf.reduce_std": [Case(bind(tf.reduce_std, axis=0), x_)],
    "tf.reduce_variance": [Case(bind(tf.reduce_variance, axis=1, keepdims=True), x_)],
    "tf.reduce_logsumexp": [Case(bind(tf.reduce_logsumexp, axis=1), x_)],
    "tf.reduce_any": [Case(bind(tf.reduce_any, axis=1), x_bools)],
    "tf.reduce_all": [Case(bind(tf.reduce_all, axis=1), lambda r, n: (bools(r, n, 4, p=0.8),))],
    "tf.argmax": [Case(bind(tf.argmax, axis=1), x_distinct),
                  Case(bind(tf.argmax, axis=0, output_type=tf.int32), x_ints, "int-ties")],
    "tf.argmin": [Case(bind(tf.argmin, axis=1), x_distinct),
                  Case(tf.argmin, x_ints, "int-ties")],
    "tf.cumsum": [Case(bind(tf.cumsum, axis=1), x_),
                  Case(bind(tf.cumsum, exclusive=True, reverse=True), x_ints, "exclusive-reverse")],
    "tf.math.cumprod": [Case(bind(tf.math.cumprod, axis=1), x_),
                        Case(bind(tf.math.cumprod, exclusive=True), x_ints, "exclusive")],
    # --- shapes, indexing and layout
    "tf.reshape": [
        Case(lambda x: tf.reshape(x, [-1]), x_),
        # Sizes from tf.shape: the trace knows them as the input's sizes.
        Case(lambda x: tf.reshape(x, [tf.shape(x)[0] * 2, -1]), x_, "from-shape"),
        # A shape tensor whose values change: sizes only known when the graph runs.
        Case(tf.reshape, lambda r, n: (floats(r, 12), r.permutation([[2, 6], [3, 4], [6, 2],
                                                                      [4, 3]])[0]
                                       .astype(np.int32)), "tensor-shape"),
        Case(lambda x, rows: tf.reshape(x, [rows, -1]),
             lambda r, n: (floats(r, 12), scalar(r.choice([2, 3, 4, 6]))), "tensor-size")],
    "tf.transpose": [Case(tf.transpose, x_),
                     Case(bind(tf.transpose, perm=[1, 0, 2]),
                          lambda r, n: (floats(r, n, 2, 3),), "perm")],
    "tf.linalg.matrix_transpose": [Case(tf.linalg.matrix_transpose,
                                        lambda r, n: (floats(r, 2, n, 3),))],
    "tf.broadcast_to": [Case(lambda x: tf.broadcast_to(x, [3, 4]), lambda r, n: (floats(r, 4),)),
                        Case(tf.broadcast_to, lambda r, n: (
                            floats(r, 4), np.asarray([r.integers(1, 5), 4], np.int32)),
                            "tensor-shape")],
    "tf.expand_dims": [Case(bind(tf.expand_dims, axis=1), x_)],
    "tf.squeeze": [Case(tf.squeeze, lambda r, n: (floats(r, n, 1, 4),)),
                   Case(bind(tf.squeeze, axis=0), lambda r, n: (floats(r, 1, n),), "axis")],
    "tf.concat": [Case(lambda x, y: tf.concat([x, y], axis=0), xy),
                  Case(lambda x, y: tf.concat([x, y, x], axis=1), xy, "axis1")],
    "tf.stack": [Case(lambda x, y: tf.stack([x, y], axis=1), xy)],
    "tf.unstack": [Case(tf.unstack, x_), Case(bind(tf.unstack, axis=1), x_, "axis1")],
    "tf.split": [Case(lambda x: tf.split(x, 2, axis=1), x_),
                 Case(lambda x: tf.split(x, [1, -1], axis=1), x_, "sizes")],
    "tf.tile": [Case(lambda x: tf.tile(x, [2, 1]), x_),
                Case(lambda x: tf.tile(x, tf.shape(x)[::-1]), lambda r, n: (floats(r, n, 2),),
                     "from-shape")],
    "tf.reverse": [Case(bind(tf.reverse, axis=[1]), x_),
                   Case(bind(tf.reverse, axis=[0, 1]), x_ints, "both")],
    "tf.pad": [Case(lambda x: tf.pad(x, [[1, 0], [0, 2]]), x_),
               Case(lambda x, v: tf.pad(x, [[1, 1], [2, 0]], constant_values=v),
                    lambda r, n: (floats(r, n, 4), scalar(r.normal(), np.float32)),
                    "tensor-value"),
               Case(lambda x: tf.pad(x, [[1, 2], [2, 1]], mode="REFLECT"), x_, "reflect"),
               Case(lambda x: tf.pad(x, [[1, 1], [1, 1]], mode="SYMMETRIC"), x_, "symmetric")],
    "tf.slice": [Case(lambda x: tf.slice(x, [1, 0], [2, 3]), x_),
                 # Bounds whose values change: only known when the graph runs.
                 Case(tf.slice, lambda r, n: (
                     floats(r, 5, 4), np.asarray([r.integers(0, 3), r.integers(0, 2)], np.int32),
                     np.asarray([r.integers(1, 3), r.choice([-1, 1, 2])], np.int32)),
                     "tensor-bounds")],
    "tf.gather": [Case(tf.gather, lambda r, n: (floats(r, 5, 3), r.integers(0, 5, n)
                                                .astype(np.int32))),
                  Case(bind(tf.gather, axis=1), lambda r, n: (
                      floats(r, n, 4), r.integers(0, 4, (2, 3)).astype(np.int64)), "axis1")],
    "tf.boolean_mask": [Case(tf.boolean_mask, lambda r, n: (floats(r, n, 4), bools(r, n))),
                        Case(tf.boolean_mask, lambda r, n: (floats(r, n, 4), bools(r, n, 4)),
                             "2d-mask"),
                        Case(bind(tf.boolean_mask, axis=1), lambda r, n: (
                            floats(r, n, 4), bools(r, 4)), "axis1")],
    "tf.one_hot": [
        Case(lambda i: tf.one_hot(i, 4), lambda r, n: (r.integers(-1, 5, n).astype(np.int32),)),
        Case(lambda i, on, off: tf.one_hot(i, 3, on, off, axis=0), lambda r, n: (
            r.integers(0, 3, n).astype(np.int32), scalar(r.normal(), np.float32),
            scalar(r.normal(), np.float32)), "tensor-on-off"),
        # A depth whose value changes: the number of classes is only known when it runs.
        Case(tf.one_hot, lambda r, n: (r.integers(0, 4, n).astype(np.int32),
                                       scalar(r.integers(2, 6))), "tensor-depth")],
    "tf.identity": [Case(tf.identity, x_)],
    "tf.stop_gradient": [Case(tf.stop_gradient, x_)],
    "tf.shape": [Case(tf.shape, x_, varies=False),
                 Case(bind(tf.shape, out_type=tf.int64), x_, "int64", varies=False)],
    "tf.size": [Case(tf.size, x_, varies=False)],
    "tf.rank": [Case(tf.rank, x_, varies=False)],
    # --- tensors made from shapes and values
    "tf.zeros": [Case(lambda x: tf.zeros(tf.shape(x)), x_, varies=False),
                 Case(tf.zeros, lambda r, n: (r.integers(0, 4, 2).astype(np.int32),),
                      "tensor-shape")],
    "tf.ones": [Case(lambda x: tf.ones([tf.shape(x)[1], 2], tf.int32), x_, varies=False),
                Case(tf.ones, lambda r, n: (r.integers(0, 4, 3).astype(np.int64),),
                     "tensor-shape")],
    "tf.zeros_like": [Case(tf.zeros_like, x_, varies=False)],
    "tf.ones_like": [Case(bind(tf.ones_like, dtype=tf.int32), x_, varies=False)],
    "tf.fill": [Case(tf.fill, lambda r, n: (r.integers(0, 4, 2).astype(np.int32),
                                            scalar(r.normal(), np.float32))),
                Case(lambda x, v: tf.fill(tf.shape(x), v), lambda r, n: (
                    floats(r, n, 2), scalar(r.integers(-9, 9))), "from-shape")],
    "tf.range": [Case(tf.range, lambda r, n: (scalar(r.integers(0, 8)),)),
                 Case(tf.range, lambda r, n: (scalar(r.integers(-5, 0)), scalar(r.integers(0, 5)),
                                              scalar(r.integers(1, 3))), "start-limit-delta"),
                 Case(tf.range, lambda r, n: (scalar(r.uniform(-1, 0), np.float32),
                                              scalar(r.uniform(0, 2), np.float32),
                                              scalar(r.uniform(0.2, 0.5), np.float32)), "float"),
                 Case(lambda x: tf.range(tf.shape(x)[0]), x_, "from-shape", varies=False)],
    "tf.linspace": [Case(lambda a, b: tf.linspace(a, b, 5), lambda r, n: (
                        scalar(r.normal(), np.float32), scalar(r.normal(), np.float32))),
                    Case(lambda a, b: tf.linspace(a, b, 4, axis=1), lambda r, n: (
                        floats(r, n), floats(r, n)), "vector-axis1"),
                    # A count whose value changes: only known when the graph runs.
                    Case(tf.linspace, lambda r, n: (
                        scalar(r.normal(), np.float32), scalar(r.normal(), np.float32),
                        scalar(r.integers(2, 7))), "tensor-num")],
    "tf.eye": [Case(lambda x: tf.eye(tf.shape(x)[0]) + tf.reduce_sum(x), x_)],
    # --- linear algebra
    "tf.matmul": [Case(tf.matmul, lambda r, n: (floats(r, n, 4), floats(r, 4, 3))),
                  Case(bind(tf.matmul, transpose_a=True, transpose_b=True), lambda r, n: (
                      floats(r, 4, n), floats(r, 3, 4)), "transposed"),
                  Case(tf.matmul, lambda r, n: (floats(r, 2, n, 4), floats(r, 4, 3)), "batched"),
                  Case(tf.matmul, lambda r, n: (ints(r, n, 4), ints(r, 4, 3)), "int")],
    "tf.einsum": [Case(lambda a, b: tf.einsum("ij,jk->ik", a, b), lambda r, n: (
                      floats(r, n, 4), floats(r, 4, 3))),
                  Case(lambda a: tf.einsum("ij->j", a), x_, "sum"),
                  Case(lambda a, b, c: tf.einsum("ij,jk,k->i", a, b, c), lambda r, n: (
                      floats(r, n, 4), floats(r, 4, 3), floats(r, 3)), "three")],
    "tf.tensordot": [Case(lambda a, b: tf.tensordot(a, b, axes=1), lambda r, n: (
                          floats(r, n, 4), floats(r, 4, 3))),
                     Case(lambda a, b: tf.tensordot(a, b, axes=[[0, 2], [1, 0]]), lambda r, n: (
                         floats(r, n, 3, 2), floats(r, 2, n, 4)), "pairs")],
    "tf.norm": [Case(tf.norm, x_),
                Case(bind(tf.norm, ord=1, axis=1), x_, "l1-axis"),
                Case(bind(tf.norm, ord=np.inf, axis=[0, 1]), x_, "matrix-inf"),
                Case(bind(tf.norm, ord=3, axis=0, keepdims=True), x_, "p3")],
    "tf.linalg.trace": [Case(tf.linalg.trace, lambda r, n: (floats(r, 2, n, n),))],
    # --- tf.nn and sorting
    "tf.nn.softmax": [Case(tf.nn.softmax, x_), Case(bind(tf.nn.softmax, axis=0), x_, "axis0")],
    "tf.nn.log_softmax": [Case(tf.nn.log_softmax, x_)],
    "tf.nn.sparse_softmax_cross_entropy_with_logits": [
        Case(_xent(tf.nn.sparse_softmax_cross_entropy_with_logits), labels_logits)],
    "tf.nn.softmax_cross_entropy_with_logits": [
        Case(_xent(tf.nn.softmax_cross_entropy_with_logits), probabilities_logits)],
    "tf.nn.sigmoid_cross_entropy_with_logits": [
        Case(_xent(tf.nn.sigmoid_cross_entropy_with_logits), lambda r, n: (
            (r.random((n, 4)) < 0.5).astype(np.float32), floats(r, n, 4) * 10))],
    "tf.nn.l2_loss": [Case(tf.nn.l2_loss, x_)],
    "tf.nn.bias_add": [Case(tf.nn.bias_add, lambda r, n: (floats(r, n, 4), floats(r, 4))),
                       Case(bind(tf.nn.bias_add, data_format="NCHW"), lambda r, n: (
                           floats(r, n, 3, 2, 2), floats(r, 3)), "nchw")],
    "tf.nn.moments": [Case(lambda x: tf.nn.moments(x, axes=[0]), x_),
                      Case(lambda x: tf.nn.moments(x, axes=[1], keepdims=True), x_, "keepdims")],
    "tf.sort": [Case(tf.sort, x_distinct),
                Case(bind(tf.sort, axis=0, direction="DESCENDING"), x_distinct, "descending")],
    "tf.argsort": [Case(tf.argsort, x_distinct),
                   Case(bind(tf.argsort, axis=0, direction="DESCENDING"), x_distinct,
                        "descending")],
    "tf.math.top_k": [Case(bind(tf.math.top_k, k=2), x_distinct),
                      Case(lambda x: tf.math.top_k(x, k=tf.shape(x)[1]), x_distinct,
                           "k-from-shape")],
}

# Random ops: a seeded case must draw what eager execution draws, call after call (each call
# continues the op's stream); unseeded, two calls must draw anew. ``fn(seed)`` makes the
# function of tensors.
RANDOM_CASES: dict[str, list] = {
    "tf.random.normal": [
        Case(lambda seed: lambda dims, mean, std: tf.random.normal(dims, mean, std, seed=seed),
             lambda r, n: (r.integers(1, 4, 2).astype(np.int32), scalar(r.normal(), np.float32),
                           scalar(r.uniform(0.5, 2), np.float32)), "tensor-shape-mean-stddev"),
        Case(lambda seed: lambda x: x + tf.random.normal(tf.shape(x), seed=seed), x_, "like-x"),
        Case(lambda seed: lambda: tf.random.normal([3, 2], dtype=tf.float64, seed=seed),
             lambda r, n: (), "no-inputs")],
    "tf.random.truncated_normal": [
        Case(lambda seed: lambda dims, std: tf.random.truncated_normal(dims, stddev=std,
                                                                       seed=seed),
             lambda r, n: (r.integers(1, 4, 2).astype(np.int32),
                           scalar(r.uniform(0.5, 2), np.float32)))],
    "tf.random.uniform": [
        Case(lambda seed: lambda dims, low, high: tf.random.uniform(dims, low, high, seed=seed),
             lambda r, n: (r.integers(1, 4, 2).astype(np.int32), *x_ab(r, n)[1:])),
        Case(lambda seed: lambda x: tf.random.uniform(tf.shape(x), 0, 10, tf.int32, seed=seed),
             x_, "int")],
    "tf.random.shuffle": [Case(lambda seed: lambda x: tf.random.shuffle(x, seed=seed),
                               lambda r, n: (floats(r, 4 * n, 2),))],
    "tf.random.categorical": [
        Case(lambda seed: lambda logits: tf.random.categorical(logits, 4, seed=seed),
             lambda r, n: (floats(r, n, 5),)),
        Case(lambda seed: lambda logits: tf.random.categorical(
            logits, tf.shape(logits)[1], tf.int32, seed=seed), lambda r, n: (floats(r, 2, n),),
            "count-from-shape")],
    "tf.nn.dropout": [
        Case(lambda seed: lambda x: tf.nn.dropout(x, 0.5, seed=seed), x_),
        Case(lambda seed: lambda x, rate: tf.nn.dropout(x, rate, seed=seed),
             lambda r, n: x_scalar(r, n, low=0.3, high=0.6), "tensor-rate"),
        # One draw per row: enough rows that two calls drawing alike would mean a bug.
        Case(lambda seed: lambda x: tf.nn.dropout(x, 0.3, noise_shape=[None, 1], seed=seed),
             lambda r, n: (floats(r, 8 * n, 2),), "noise-shape")],
}


def _merge_family_tables() -> None:
    """Add the cases of each ``frozen_cases_*.py`` (one file per newer op family).

    A family file defines ``CASES`` (public ops), ``RANDOM_CASES`` and ``EXTRA_CASES``
    (what no public op reaches alone, such as the primitives of a gradient).
    """
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("frozen_cases_*.py")):
        family = importlib.import_module(path.stem)
        for table, extra in ((CASES, getattr(family, "CASES", {})),
                             (RANDOM_CASES, getattr(family, "RANDOM_CASES", {})),
                             (EXTRA_CASES, getattr(family, "EXTRA_CASES", {}))):
            clash = set(table) & set(extra)
            assert not clash, f"{path.name} repeats cases of {sorted(clash)}"
            table.update(extra)



# What is not reachable through a public op alone: Tensor's operators, tensor indices,
# gradients inside a function (their primitives are the gradients of the ones above), and
# variables (read by reference, never captured as values).
def _operators(x, y, i, b):
    return (x + y, x - 1.0, 2.0 * y, x / y, x // y, x % y, abs(x) ** y, -x, abs(x), +x,
            x @ tf.transpose(y), x < y, x <= y, x > y, x >= y, x == y, x != y,
            (x > 0.0) & b, (x > 0.0) | b, (x > 0.0) ^ b, ~b, i * 2, i // 3, i % 3, -i, i == 1)


def _indexing(x, i, j):
    return (x[i], x[-i], x[:, j], x[i, j], x[i:], x[:j], x[i:j + 2], x[::-1, j], x[..., j],
            x[i:, ::2], x[i][None])


_TABLE = tf.Variable(np.zeros((3, 4), np.float32))


def _variable_read(x, y):
    # Each call sets the variable before reading it, so eager and compiled calls agree.
    _TABLE.assign(x)
    first = _TABLE * 1.0
    _TABLE.assign_add(y)
    return first, _TABLE + 0.0, tf.reduce_sum(_TABLE)


def _slice_then_pad(x, y):
    # Squares first: the gradient of slicing alone would not depend on the values.
    return tf.concat([tf.square(x)[1:, ::2], tf.pad(y * y, [[0, 0], [1, 0]])[:-1, :2]], axis=0)


def _second_order(x):
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.zeros([tf.shape(x)[0]], tf.int32), logits=x))
        g = inner.gradient(y, x)
        z = tf.reduce_sum(g * g)
    return g, outer.gradient(z, x)


EXTRA_CASES: dict[str, list] = {
    "operators": [Case(_operators, lambda r, n: (floats(r, n, 4), nonzero(r, n, 4),
                                                 ints(r, n, 4), bools(r, n, 4)))],
    "tensor indices": [Case(_indexing, lambda r, n: (
        floats(r, n + 2, 5), scalar(r.integers(0, 3)), scalar(r.integers(-2, 3))))],
    "variable read after assign": [Case(_variable_read, lambda r, n: (floats(r, 3, 4),
                                                                      floats(r, 3, 4)))],
    "gradient": [
        Case(gradients_of(lambda x, w: tf.matmul(tf.tanh(x), w) + 1.0), lambda r, n: (
            floats(r, n, 4), floats(r, 4, 3)), "matmul-tanh"),
        Case(gradients_of(lambda x, b: x * b + tf.exp(b)), lambda r, n: (
            floats(r, n, 4), floats(r, 4)), "broadcast"),
        Case(gradients_of(lambda x, i: tf.gather(x, i)), lambda r, n: (
            floats(r, 4, 3), r.integers(0, 4, n).astype(np.int32)), "gather"),
        Case(gradients_of(_slice_then_pad), xy, "slice-pad"),
        Case(gradients_of(lambda x: tf.reduce_max(x, axis=1) * tf.reduce_prod(x, axis=0)[0]),
             x_, "max-prod"),
        Case(gradients_of(lambda x, i: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=i, logits=x)), lambda r, n: (floats(r, n, 5),
                                                r.integers(0, 5, n).astype(np.int32)), "xent"),
        Case(gradients_of(lambda x: tf.math.cumprod(x, axis=1) + tf.cumsum(x, reverse=True)),
             x_, "scans"),
        Case(gradients_of(lambda x, y: tf.einsum("ij,kj->ik", x, y) + tf.math.erf(x[:, :1])),
             xy, "einsum"),
        Case(_second_order, x_, "second-order")],
}

_merge_family_tables()


# --- running a case ------------------------------------------------------------------------

FIRST, SECOND, RESIZED = 3, 3, 4  # n for the two calls of one shape, then other sizes


def _calls(case: Case, seed: int = 0) -> list[list[tf.Tensor]]:
    rng = np.random.default_rng(seed)
    return [[tf.constant(a) for a in case.make(rng, n)] for n in (FIRST, SECOND, RESIZED)]


def _leaves(result) -> list[np.ndarray]:
    return [np.array(leaf) for leaf in nest.flatten(result)]


def assert_same(got, want, what: str) -> None:
    """Equal structure, dtypes and shapes; equal values (floats within a few ulps)."""
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want), f"{what}: {len(got)} outputs, eager gives {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        where = f"{what}, output {k}"
        assert g.dtype == w.dtype, f"{where}: dtype {g.dtype}, eager gives {w.dtype}"
        assert g.shape == w.shape, f"{where}: shape {g.shape}, eager gives {w.shape}"
        if w.dtype.kind in "fc":
            tight = w.dtype in (np.float64, np.complex128)
            np.testing.assert_allclose(g, w, rtol=1e-12 if tight else 1e-6,
                                       atol=1e-12 if tight else 1e-6, err_msg=where)
        else:
            np.testing.assert_array_equal(g, w, err_msg=where)


def _differ(a, b) -> bool:
    a, b = _leaves(a), _leaves(b)
    return any(x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")
               for x, y in zip(a, b))


def _params(*tables: dict[str, list]) -> list:
    """pytest parameters ``(name, case)``. A table entry is a Case, or
    ``pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=...))`` for a known bug."""
    out = []
    for table in tables:
        for name, entries in table.items():
            for entry in entries:
                marks = ()
                if not isinstance(entry, Case):
                    marks, entry = entry.marks, entry.values[0]
                out.append(pytest.param(name, entry, id=f"{name}-{entry.id}", marks=marks))
    return out


def _cases(*tables: dict[str, list]) -> list[tuple[str, Case]]:
    return [tuple(p.values) for p in _params(*tables)]


@pytest.mark.parametrize("name, case", _params(CASES, EXTRA_CASES))
def test_compiled_op_follows_new_values_and_sizes(name, case):
    calls = _calls(case)
    eager = [case.fn(*args) for args in calls]
    if case.varies:
        assert _differ(eager[0], eager[1]), f"{name}: the case's two calls give one result"
    f = tf.function(lambda *args: case.fn(*args))
    compiled = []
    for i, (args, want) in enumerate(zip(calls, eager)):
        compiled.append(f(*args))
        assert_same(compiled[-1], want, f"{name}: compiled call {i}")
        if i == 1:
            assert f.experimental_get_tracing_count() == 1, "same shapes traced twice"
    for i, (got, want) in enumerate(zip(compiled, eager)):
        assert_same(got, want, f"{name}: compiled call {i}, after the later calls")
    for i, (args, want) in enumerate(zip(calls, eager)):
        interpreted = f.get_concrete_function(*args).interpret(*args)
        assert_same(interpreted, want, f"{name}: interpreted call {i}")


@pytest.mark.parametrize("name, case", _params(RANDOM_CASES))
def test_compiled_random_op_draws_what_eager_draws(name, case):
    calls = _calls(case)
    seeded = case.fn(11)
    tf.random.set_seed(7)
    eager = [seeded(*args) for args in calls]
    f = tf.function(lambda *args: seeded(*args))
    tf.random.set_seed(7)
    for i, (args, want) in enumerate(zip(calls, eager)):
        assert_same(f(*args), want, f"{name}: compiled call {i}")
    assert f.experimental_get_tracing_count() <= 2
    tf.random.set_seed(7)
    for i, (args, want) in enumerate(zip(calls, eager)):
        assert_same(f.get_concrete_function(*args).interpret(*args), want,
                    f"{name}: interpreted call {i}")


@pytest.mark.parametrize("name, case", _params(RANDOM_CASES))
def test_compiled_random_op_draws_anew_on_each_call(name, case):
    unseeded = case.fn(None)
    args = _calls(case)[0]
    want = _leaves(unseeded(*args))
    f = tf.function(lambda *a: unseeded(*a))
    # Ten calls: six categorical draws over three classes come out the same three times in
    # a row in one run in about 600 (from the case's logits); ten in a row, about 3e-11.
    draws = [f(*args) for _ in range(10)]
    for draw in draws:
        got = _leaves(draw)
        assert [(g.dtype, g.shape) for g in got] == [(w.dtype, w.shape) for w in want]
    assert any(_differ(draws[0], draw) for draw in draws[1:]), (
        f"{name}: ten calls drew the same numbers")


# Ops refusing an argument only known when the graph runs (a count that fixes the result's
# size) must say so while tracing, never keep the value they were traced with.
REFUSED = {
    "tf.eye": (lambda n: tf.eye(n), lambda r: (scalar(r.integers(2, 5)),)),
    "tf.tile": (lambda x, m: tf.tile(x, m), lambda r: (floats(r, 2, 3),
                                                       r.integers(1, 3, 2).astype(np.int32))),
    "tf.math.top_k": (lambda x, k: tf.math.top_k(x, k), lambda r: (distinct(r, 2, 5),
                                                                   scalar(r.integers(1, 5)))),
    "tf.random.categorical": (lambda x, k: tf.shape(tf.random.categorical(x, k)),
                              lambda r: (floats(r, 2, 3), scalar(r.integers(1, 5)))),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_count_only_known_when_the_graph_runs_is_refused_or_followed(name):
    fn, make = REFUSED[name]
    rng = np.random.default_rng(1)
    calls = [[tf.constant(a) for a in make(rng)] for _ in range(4)]
    f = tf.function(fn)
    try:
        f(*calls[0])
    except (ValueError, TypeError) as error:
        assert "traced" in str(error) or "graph runs" in str(error), error
        return
    for i, args in enumerate(calls):
        assert_same(f(*args), fn(*args), f"{name}: compiled call {i}")


def test_print_prints_each_calls_values(capsys):
    @tf.function
    def show(x, i):
        tf.print("x:", x, {"i": i}, output_stream=sys.stdout)
        return x + 1.0

    for value, index in ((1.5, 3), (-2.0, 7)):
        show(tf.constant([value]), tf.constant(index))
    assert capsys.readouterr().out == "x: [1.5] {'i': 3}\nx: [-2] {'i': 7}\n"
    assert show.experimental_get_tracing_count() == 1


# --- one trace for every batch size --------------------------------------------------------


def _dense_softmax(x, w, b):
    return tf.nn.softmax(tf.matmul(x, w) + b)


def _flatten(x):
    return tf.reshape(x, [tf.shape(x)[0], -1]), tf.reshape(x, [-1, 6])


def _broadcast_gradient(x, b):
    with tf.GradientTape() as tape:
        tape.watch([x, b])
        y = tf.reduce_mean(tf.square(x * b + b))
    return tape.gradient(y, [x, b])


@dataclass(frozen=True)
class SignatureCase:
    fn: Callable
    specs: tuple
    make: Callable  # (rng, batch) -> arrays


def _spec(*shape, dtype=tf.float32):
    return tf.TensorSpec(shape, dtype)


SIGNATURE_CASES = {
    "elementwise": SignatureCase(lambda x, y: (tf.exp(x) * y - tf.sqrt(tf.abs(y)), x > y),
                                 (_spec(None, 3), _spec(None, 3)),
                                 lambda r, b: (floats(r, b, 3), floats(r, b, 3))),
    "reductions": SignatureCase(lambda x: (tf.reduce_sum(x, 0), tf.reduce_mean(x),
                                           tf.reduce_max(x, 1), tf.math.reduce_std(x, 0),
                                           tf.argmax(x, 1), tf.reduce_logsumexp(x, 1)),
                                (_spec(None, 4),), lambda r, b: (floats(r, b, 4),)),
    "int-mean": SignatureCase(tf.reduce_mean, (_spec(None, None, dtype=tf.int32),),
                              lambda r, b: (ints(r, b, b + 1),)),
    "matmul": SignatureCase(_dense_softmax, (_spec(None, 4), _spec(4, 3), _spec(3)),
                            lambda r, b: (floats(r, b, 4), floats(r, 4, 3), floats(r, 3))),
    "flatten": SignatureCase(_flatten, (_spec(None, 2, 3),), lambda r, b: (floats(r, b, 2, 3),)),
    "shape-size": SignatureCase(lambda x: (tf.shape(x), tf.size(x), tf.zeros_like(x),
                                           tf.ones(tf.shape(x)[1:])),
                                (_spec(None, None),), lambda r, b: (floats(r, b, 5 - b),)),
    "concat": SignatureCase(lambda x, y: tf.concat([x, y, x], axis=0),
                            (_spec(None, 2), _spec(None, 2)),
                            lambda r, b: (floats(r, b, 2), floats(r, b + 1, 2))),
    "gather": SignatureCase(lambda p, i: (tf.gather(p, i), tf.one_hot(i, tf.shape(p)[0])),
                            (_spec(None, 3), _spec(None, dtype=tf.int32)),
                            lambda r, b: (floats(r, b, 3), r.integers(0, b, 2 * b)
                                          .astype(np.int32))),
    "cross-entropies": SignatureCase(
        lambda labels, logits: (
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
            tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot(labels, 5), logits=logits),
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.one_hot(labels, 5), logits=logits)),
        (_spec(None, dtype=tf.int32), _spec(None, 5)), labels_logits),
    "sorting": SignatureCase(lambda x: (tf.math.top_k(x, 2), tf.sort(x, axis=0)),
                             (_spec(None, None),), lambda r, b: (distinct(r, b, b + 2),)),
    "trace": SignatureCase(tf.linalg.trace, (_spec(None, None),),
                           lambda r, b: (floats(r, b, b),)),
    "slices": SignatureCase(lambda x: (x[1:], x[:, -1], tf.split(x, [1, -1])[1], x[::2]),
                            (_spec(None, 3),), lambda r, b: (floats(r, b, 3),)),
    "range-mask": SignatureCase(lambda x: (tf.range(tf.shape(x)[0]), tf.boolean_mask(x, x > 0),
                                           tf.where(x > 0)),
                                (_spec(None),), lambda r, b: (floats(r, b),)),
    "broadcast-gradient": SignatureCase(_broadcast_gradient, (_spec(None, None), _spec(None)),
                                        lambda r, b: (floats(r, b, 3), floats(r, 1 + b % 3))),
}


BATCHES = (2, 3, 5)


def _batches(case: SignatureCase) -> list[list[tf.Tensor]]:
    rng = np.random.default_rng(3)
    return [[tf.constant(a) for a in case.make(rng, batch)] for batch in BATCHES]


@pytest.mark.parametrize("name", sorted(SIGNATURE_CASES))
def test_one_trace_serves_every_batch_size(name):
    case = SIGNATURE_CASES[name]
    runs = []

    def body(*args):
        runs.append(1)
        return case.fn(*args)

    f = tf.function(body, input_signature=list(case.specs))
    for batch, args in zip(BATCHES, _batches(case)):
        assert_same(f(*args), case.fn(*args), f"{name}: batch {batch}")
    assert len(runs) == 1, f"{name}: the Python body ran {len(runs)} times"


@pytest.mark.parametrize("name", sorted(SIGNATURE_CASES))
def test_interpreter_runs_the_one_trace_for_every_batch_size(name):
    case = SIGNATURE_CASES[name]
    f = tf.function(case.fn, input_signature=list(case.specs))
    for batch, args in zip(BATCHES, _batches(case)):
        assert_same(f.get_concrete_function(*args).interpret(*args), case.fn(*args),
                    f"{name}: interpreted, batch {batch}")


# --- concurrent calls ----------------------------------------------------------------------

THREADED = ["tf.matmul", "tf.nn.softmax", "tf.boolean_mask", "tf.range", "tf.reshape",
            "tf.one_hot", "tf.nn.sparse_softmax_cross_entropy_with_logits", "tf.reduce_mean",
            "gradient"]


def test_threads_calling_compiled_cases_get_what_one_thread_gets():
    tables = {**CASES, **EXTRA_CASES}
    work = []  # (compiled function, argument sets, single-threaded results)
    for name in THREADED:
        for case in tables[name]:
            f = tf.function(lambda *args, case=case: case.fn(*args))
            calls = [args for seed in range(3) for args in _calls(case, seed)]
            work.append((f, calls, [_leaves(f(*args)) for args in calls]))
    failures = []

    def worker(offset: int) -> None:
        for round_ in range(4):
            for k in range(len(work)):
                f, calls, wants = work[(k + offset + round_) % len(work)]
                for args, want in zip(calls, wants):
                    got = _leaves(f(*args))
                    if len(got) != len(want) or not all(
                            g.dtype == w.dtype and np.array_equal(g, w, equal_nan=True)
                            for g, w in zip(got, want)):
                        failures.append((f, args))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, f"{len(failures)} concurrent calls differ from single-threaded ones"


# --- the surface: every public op has a case, every primitive is in a compiled case --------

PUBLIC_MODULES = {"tf": tf, "tf.math": tf.math, "tf.nn": tf.nn, "tf.random": tf.random,
                  "tf.linalg": tf.linalg, "tf.image": tf.image}

# Public callables that are not ops on tensor values.
NOT_OPS = {
    "tf.function": "compiles functions: what this file uses",
    "tf.constant": "makes a tensor from a Python or NumPy value: a graph constant by design",
    "tf.convert_to_tensor": "as tf.constant",
    "tf.is_tensor": "a Python type test",
    "tf.as_dtype": "a dtype helper",
    "tf.executing_eagerly": "reports the mode, not a tensor",
    "tf.inside_function": "reports the mode, not a tensor",
    "tf.random.set_seed": "sets the global seed, outside graphs",
    "tf.print": "an effect, not a value: test_print_prints_each_calls_values",
}


def public_callables() -> dict[str, object]:
    """Every public function or primitive of the public modules, by qualified name."""
    surface = {}
    for prefix, module in PUBLIC_MODULES.items():
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_"):
                continue
            if isinstance(obj, Primitive) or (inspect.isfunction(obj)
                                              and obj.__module__.startswith("neuroflow")):
                surface[f"{prefix}.{name}"] = obj
    return surface


def test_every_public_op_has_a_case():
    surface = public_callables()
    covered = {id(surface[name]) for name in (*CASES, *RANDOM_CASES, *NOT_OPS)
               if name in surface}
    missing = {}
    for name, obj in surface.items():
        if id(obj) not in covered:
            missing.setdefault(id(obj), []).append(name)
    assert not missing, (
        "public ops without a case: "
        + "; ".join(" = ".join(names) for names in missing.values())
        + ". Add a case to CASES (RANDOM_CASES for random ops) in test_no_frozen_values.py")


def test_case_tables_name_public_ops():
    surface = public_callables()
    stray = [name for name in (*CASES, *RANDOM_CASES, *NOT_OPS, *REFUSED) if name not in surface]
    assert not stray, f"these table keys are not public ops: {stray}"


def _traced_ops(fn, args, input_signature=None) -> set[str]:
    f = tf.function(fn, input_signature=input_signature)
    try:
        graph = f.get_concrete_function(*args).graph
    except Exception:  # a case marked xfail may not trace: its test reports it
        return set()
    return {node.op for node in graph.nodes}


def test_every_primitive_is_in_a_compiled_case():
    reached: set[str] = set()
    for _, case in _cases(CASES, EXTRA_CASES):
        reached |= _traced_ops(lambda *a, case=case: case.fn(*a), _calls(case)[0])
    for _, case in _cases(RANDOM_CASES):
        reached |= _traced_ops(lambda *a, case=case: case.fn(1)(*a), _calls(case)[0])
    for case in SIGNATURE_CASES.values():
        args = [tf.constant(a) for a in case.make(np.random.default_rng(0), 3)]
        reached |= _traced_ops(case.fn, args, list(case.specs))
    reached |= _traced_ops(lambda x: tf.print(x, output_stream=io.StringIO()),
                           [tf.constant(1.0)])
    # Fused ops (graph/fused_ops.py) are not primitives: passes make them from these.
    missing = sorted(set(REGISTRY) - reached)
    assert not missing, (f"primitives in no traced graph of the cases: {missing}. Add a case "
                         f"reaching them to CASES or EXTRA_CASES in test_no_frozen_values.py or in "
                         f"the family's frozen_cases_*.py")
