"""Compiled-versus-eager cases of the newer ``tf.nn`` ops (nn_ops.py, normalization.py).

Ids, targets, ``k``, weights and batch sizes are tensors whose values change between
calls, so a value frozen into the graph would show.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, bind, floats, positive, scalar, x_, x_scalar, xy

import neuroflow as tf


def _table_ids(r, n):
    return (floats(r, 5, 3), r.integers(0, 5, (n, 2)).astype(np.int32))


def _targets_predictions_k(r, n):
    return (r.integers(0, 4, n).astype(np.int32), floats(r, n, 4),
            scalar(r.integers(1, 4)))


def _probabilities_logits(r, n):
    return (floats(r, n, 4, low=0.0, high=1.0), floats(r, n, 4))


def _loss_weights(r, n):
    return (positive(r, n), positive(r, n), scalar(r.integers(1, 9)))


def _x_mean_variance(r, n):
    return (floats(r, n, 4), floats(r, 4), positive(r, 4), floats(r, 4), positive(r, 4))


def _x_weights(r, n):
    return (floats(r, n, 4), positive(r, n, 1))


def _sums(r, n):
    return (scalar(n + r.uniform(0.5, 2), np.float32), floats(r, 4), positive(r, 4) * 4,
            floats(r, 4))


def _images(r, n):
    return (floats(r, n, 2, 2, 5),)


def _with_zeros(r, n):
    x = floats(r, n, 4)
    x.reshape(-1)[r.choice(x.size, r.integers(1, x.size), replace=False)] = 0.0
    return (x,)


def _clip_global(a, b, clip):
    clipped, norm = tf.clip_by_global_norm([a, b], clip)
    return clipped[0], clipped[1], norm


CASES = {
    "tf.nn.crelu": [Case(tf.nn.crelu, x_), Case(bind(tf.nn.crelu, axis=0), x_, "axis0")],
    "tf.nn.embedding_lookup": [
        Case(tf.nn.embedding_lookup, _table_ids),
        Case(lambda p, i: tf.nn.embedding_lookup([p[:2], p[2:]], i), _table_ids, "two-parts"),
        Case(bind(tf.nn.embedding_lookup, max_norm=1.0), _table_ids, "max-norm")],
    "tf.nn.weighted_cross_entropy_with_logits": [
        Case(lambda z, x, q: tf.nn.weighted_cross_entropy_with_logits(z, x, q),
             lambda r, n: (*_probabilities_logits(r, n), scalar(r.uniform(0.5, 3), np.float32)))],
    "tf.nn.log_poisson_loss": [
        Case(tf.nn.log_poisson_loss, lambda r, n: (positive(r, n, 4) * 2, floats(r, n, 4))),
        Case(bind(tf.nn.log_poisson_loss, compute_full_loss=True),
             lambda r, n: (positive(r, n, 4) * 2, floats(r, n, 4)), "full")],
    "tf.nn.compute_average_loss": [
        Case(tf.nn.compute_average_loss, lambda r, n: (positive(r, n),)),
        Case(lambda x, w, b: tf.nn.compute_average_loss(x, sample_weight=w, global_batch_size=b),
             _loss_weights, "weights-batch")],
    "tf.nn.scale_regularization_loss": [Case(tf.nn.scale_regularization_loss, x_)],
    "tf.nn.l2_normalize": [Case(tf.nn.l2_normalize, x_),
                           Case(bind(tf.nn.l2_normalize, axis=1), x_, "axis1")],
    "tf.nn.normalize_moments": [Case(tf.nn.normalize_moments, _sums)],
    "tf.nn.sufficient_statistics": [
        Case(lambda x: tf.nn.sufficient_statistics(x, [0])[:3], x_),
        Case(lambda x, s: tf.nn.sufficient_statistics(x, [0, 1], shift=s, keepdims=True),
             x_scalar, "shift-keepdims")],
    "tf.nn.weighted_moments": [
        Case(lambda x, w: tf.nn.weighted_moments(x, [0], w), _x_weights),
        Case(lambda x, w: tf.nn.weighted_moments(x, [0, 1], w, keepdims=True), _x_weights,
             "keepdims")],
    "tf.nn.batch_normalization": [
        Case(lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3),
             _x_mean_variance),
        Case(lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, None, None, 1e-3),
             _x_mean_variance, "no-offset-scale")],
    "tf.nn.in_top_k": [Case(tf.nn.in_top_k, _targets_predictions_k)],
    "tf.nn.zero_fraction": [Case(tf.nn.zero_fraction, _with_zeros)],
    "tf.nn.local_response_normalization": [
        Case(bind(tf.nn.local_response_normalization, depth_radius=2, alpha=0.5, beta=0.75),
             _images)],
    "tf.clip_by_norm": [
        Case(tf.clip_by_norm, x_scalar),
        Case(lambda x, c: tf.clip_by_norm(x, c, axes=[1]), x_scalar, "axes")],
    "tf.clip_by_global_norm": [
        Case(_clip_global, lambda r, n: (*xy(r, n), scalar(r.uniform(0.5, 3), np.float32)))],
}
