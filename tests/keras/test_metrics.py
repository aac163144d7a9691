"""Tests of neuroflow.keras.metrics: stateful accumulation, accuracies, lookup, "accuracy"."""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import losses, metrics

RNG = np.random.default_rng(3)
LABELS = np.array([0, 2, 1, 1, 3, 0])
SCORES = RNG.uniform(size=(6, 4)).astype(np.float32)
ONE_HOT = np.eye(4, dtype=np.float32)[LABELS]
WEIGHTS = np.array([1.0, 0.5, 0.0, 2.0, 1.0, 1.0], np.float32)


def test_mean_is_weighted_by_sample_weight_and_resets():
    m = metrics.Mean()
    assert float(m.result()) == 0.0  # nothing seen yet: 0, not nan
    m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    m.update_state(np.array([[2.0, 4.0]]))  # one sample: its mean, weight 1
    assert float(m.result()) == pytest.approx((1 + 3 + 3) / 3)
    m.reset_state()
    assert float(m.result()) == 0.0 and float(m.count.numpy()) == 0.0


def test_mean_of_a_scalar_loss_weighted_by_batch_size():
    tracker = metrics.Mean(name="loss")
    tracker.update_state(tf.constant(2.0), sample_weight=32)
    tracker.update_state(tf.constant(4.0), sample_weight=16)
    assert float(tracker.result()) == pytest.approx((2 * 32 + 4 * 16) / 48)
    assert tracker.name == "loss"
    assert all(not v.trainable for v in tracker.variables)


def test_sum_adds_every_value():
    s = metrics.Sum()
    s.update_state(np.array([[1.0, 2.0], [3.0, 4.0]]), sample_weight=[1.0, 0.5])
    assert float(s.result()) == pytest.approx(3.0 + 0.5 * 7.0)


def test_sparse_and_categorical_accuracy_against_numpy():
    hits = (SCORES.argmax(-1) == LABELS).astype(np.float64)
    sparse = metrics.SparseCategoricalAccuracy()
    sparse.update_state(LABELS, SCORES, sample_weight=WEIGHTS)
    assert float(sparse.result()) == pytest.approx((hits * WEIGHTS).sum() / WEIGHTS.sum())
    column = metrics.SparseCategoricalAccuracy()
    column.update_state(LABELS[:, None].astype(np.float32), SCORES)  # (batch, 1) float labels
    assert float(column.result()) == pytest.approx(hits.mean())
    categorical = metrics.CategoricalAccuracy()
    assert float(categorical(ONE_HOT, SCORES)) == pytest.approx(hits.mean())
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(LABELS, SCORES).numpy(),
                                  hits)


def test_binary_accuracy_and_accuracy():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.7], [0.6], [0.2], [0.1]])
    assert float(metrics.BinaryAccuracy()(y, p)) == pytest.approx(0.5)
    assert float(metrics.BinaryAccuracy(threshold=0.15)(y, p)) == pytest.approx(0.75)
    assert float(metrics.BinaryAccuracy(threshold=0.8)(y, p)) == pytest.approx(0.5)
    assert float(metrics.Accuracy()([1, 2, 3, 4], [0, 2, 3, 4])) == pytest.approx(0.75)


def test_top_k_accuracy_counts_ties_as_in():
    scores = np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.05, 0.03, 0.02]], np.float32)
    labels = np.array([2, 3])
    # Label 2 ties for first place: in the top 1 (as tf.math.in_top_k); label 3 is last.
    assert float(metrics.SparseTopKCategoricalAccuracy(k=1)(labels, scores)) == 0.5
    assert float(metrics.SparseTopKCategoricalAccuracy(k=4)(labels, scores)) == 1.0
    ranks = (SCORES > SCORES[np.arange(6), LABELS][:, None]).sum(-1)
    top2 = metrics.TopKCategoricalAccuracy(k=2)
    assert float(top2(ONE_HOT, SCORES)) == pytest.approx((ranks < 2).mean())


def test_regression_metrics():
    y, p = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3))
    mse = ((y - p) ** 2).mean(-1)
    assert float(metrics.MeanSquaredError()(y, p)) == pytest.approx(mse.mean(), rel=1e-6)
    assert float(metrics.MeanAbsoluteError()(y, p)) == pytest.approx(np.abs(y - p).mean(),
                                                                      rel=1e-6)
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(y, p, sample_weight=WEIGHTS)
    expected = np.sqrt((mse * WEIGHTS).sum() / WEIGHTS.sum())
    assert float(rmse.result()) == pytest.approx(expected, rel=1e-6)


def test_mean_metric_wrapper_and_crossentropy_metric():
    wrapped = metrics.MeanMetricWrapper(losses.mean_absolute_error, name="mae_metric")
    assert wrapped.name == "mae_metric"
    y, p = np.ones((4, 2)), np.zeros((4, 2))
    assert float(wrapped(y, p)) == 1.0
    ce = metrics.SparseCategoricalCrossentropy(from_logits=True)
    expected = float(losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, SCORES))
    assert float(ce(LABELS, SCORES)) == pytest.approx(expected, rel=1e-6)


def test_accuracy_is_chosen_from_the_shapes_as_keras_3():
    assert metrics.accuracy_for_shapes((32,), (32, 10)) is metrics.sparse_categorical_accuracy
    assert metrics.accuracy_for_shapes((32, 1), (32, 10)) is metrics.sparse_categorical_accuracy
    assert metrics.accuracy_for_shapes((32, 10), (32, 10)) is metrics.categorical_accuracy
    assert metrics.accuracy_for_shapes((32, 1), (32, 1)) is metrics.binary_accuracy
    acc = metrics.resolve_accuracy("sparse_categorical_crossentropy", name="acc")
    acc.update_state(LABELS, SCORES)
    assert acc.name == "acc"
    assert float(acc.result()) == pytest.approx((SCORES.argmax(-1) == LABELS).mean())
    one_hot = metrics.resolve("accuracy")
    one_hot.update_state(ONE_HOT, SCORES)
    assert one_hot.name == "accuracy"
    assert float(one_hot.result()) == pytest.approx((SCORES.argmax(-1) == LABELS).mean())


def test_get_and_resolve_name_metrics_as_keras():
    assert isinstance(metrics.get("sparse_categorical_accuracy"),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("mse"), metrics.MeanSquaredError)
    assert metrics.resolve("mse").name == "mse"
    assert metrics.resolve(losses.mean_absolute_error).name == "mean_absolute_error"
    custom = metrics.Mean(name="custom")
    assert metrics.resolve(custom) is custom
    with pytest.raises(ValueError) as info:
        metrics.get("sparse_categorical_acuracy")
    assert "Did you mean 'sparse_categorical_accuracy'" in str(info.value)


def test_custom_metric_subclass_with_add_weight():
    class Positives(metrics.Metric):
        def __init__(self, name="positives"):
            super().__init__(name=name)
            self.count = self.add_weight(name="count", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign_add(tf.reduce_sum(tf.cast(tf.constant(y_pred) > 0.5, "float32")))

        def result(self):
            return self.count.read_value()

    m = Positives()
    m.update_state(None, np.array([0.2, 0.7, 0.9], np.float32))
    assert float(m.result()) == 2.0
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.get_config() == {"name": "positives", "dtype": "float32"}


@pytest.mark.tensorflow
def test_metrics_match_tensorflow():
    keras = pytest.importorskip("keras")
    for name, args in (("SparseCategoricalAccuracy", (LABELS, SCORES)),
                       ("CategoricalAccuracy", (ONE_HOT, SCORES)),
                       ("SparseTopKCategoricalAccuracy", (LABELS, SCORES))):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        ours.update_state(*args, sample_weight=WEIGHTS)
        theirs.update_state(*args, sample_weight=WEIGHTS)
        np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()),
                                   rtol=1e-6, err_msg=name)
