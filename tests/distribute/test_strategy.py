"""tf.distribute in one process: the default strategy, MirroredStrategy, the helpers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.distribute.strategy import shard_batch

keras = tf.keras


def _model_and_data():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 5)).astype("float32")
    y = rng.integers(0, 2, 90)
    model = keras.Sequential([keras.layers.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model, x, y


def test_default_strategy_is_a_no_op():
    strategy = tf.distribute.get_strategy()
    assert not tf.distribute.has_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert strategy.extended.should_checkpoint
    with strategy.scope():
        assert not tf.distribute.has_strategy()
    context = tf.distribute.get_replica_context()
    assert context.num_replicas_in_sync == 1 and context.replica_id_in_sync_group == 0
    assert not tf.distribute.in_cross_replica_context()


def test_mirrored_strategy_scope_run_and_contexts():
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        assert tf.distribute.has_strategy() and tf.distribute.get_strategy() is strategy
        assert tf.distribute.get_replica_context() is None
        assert tf.distribute.in_cross_replica_context()
        context = strategy.run(tf.distribute.get_replica_context)
        assert context.strategy is strategy and context.replica_id_in_sync_group == 0
    assert not tf.distribute.has_strategy()


def test_one_device_strategy_trains_as_a_plain_program():
    model, x, y = _model_and_data()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        other, _, _ = _model_and_data()
    other.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert strategy.num_replicas_in_sync == 1 and strategy.device == "/cpu:0"
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mixing_strategies_is_refused():
    with tf.distribute.MirroredStrategy().scope():
        with pytest.raises(ValueError, match="Mixing different tf.distribute.Strategy"):
            with tf.distribute.MirroredStrategy().scope():
                pass


def test_reduce_and_all_reduce_with_one_replica():
    strategy = tf.distribute.MirroredStrategy()
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(strategy.reduce("SUM", tf.constant(values), axis=None).numpy(),
                               values)
    np.testing.assert_allclose(
        strategy.reduce(tf.distribute.ReduceOp.MEAN, tf.constant(values), axis=0).numpy(),
        values.mean(axis=0))
    np.testing.assert_allclose(strategy.reduce("SUM", tf.constant(values), axis=1).numpy(),
                               values.sum(axis=1))
    reduced = strategy.run(lambda: tf.distribute.get_replica_context().all_reduce(
        "MEAN", [tf.constant(values)]))
    np.testing.assert_allclose(reduced[0].numpy(), values)
    with pytest.raises(ValueError, match="reduce_op must be"):
        strategy.reduce("MAX", tf.constant(values), axis=None)


def test_fit_in_a_mirrored_scope_equals_plain_fit():
    model, x, y = _model_and_data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        mirrored, _, _ = _model_and_data()
    assert mirrored.distribute_strategy is strategy
    mirrored.fit(x, y, batch_size=16, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), mirrored.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unsupported_arguments_are_refused():
    with pytest.raises(ValueError, match="one replica per process"):
        tf.distribute.MirroredStrategy(devices=["/cpu:0", "/cpu:1"])
    with pytest.raises(ValueError, match="cross_device_ops"):
        tf.distribute.MirroredStrategy(cross_device_ops=object())
    options = tf.distribute.experimental
    with pytest.raises(ValueError, match="timeout_seconds"):
        options.CommunicationOptions(timeout_seconds=0)
    with pytest.raises(ValueError, match="NCCL"):
        options.CommunicationOptions(implementation=options.CommunicationImplementation.NCCL)
    with pytest.raises(ValueError, match="options"):
        tf.distribute.MirroredStrategy().run(lambda: 1, options=object())


def test_input_context():
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1,
                                         num_replicas_in_sync=4)
    assert (context.num_input_pipelines, context.input_pipeline_id,
            context.num_replicas_in_sync) == (2, 1, 4)
    assert context.get_per_replica_batch_size(64) == 16
    with pytest.raises(ValueError, match="not divisible"):
        context.get_per_replica_batch_size(30)


@pytest.mark.parametrize("rows,count", [(32, 2), (13, 4), (3, 4), (7, 3)])
def test_shard_batch_splits_rows_as_array_split(rows, count):
    x = np.arange(rows * 2).reshape(rows, 2)
    y = np.arange(rows)
    for rank in range(count):
        (xs, ys, none), total = shard_batch((x, tf.constant(y), None), rank, count)
        assert total == rows and none is None
        np.testing.assert_array_equal(xs, np.array_split(x, count)[rank])
        np.testing.assert_array_equal(ys.numpy(), np.array_split(y, count)[rank])


def test_distributed_dataset_of_one_replica_is_the_dataset():
    strategy = tf.distribute.MirroredStrategy()
    dataset = tf.data.Dataset.from_tensor_slices(np.arange(10, dtype=np.float32)).batch(4)
    got = [b.numpy() for b in strategy.experimental_distribute_dataset(dataset)]
    np.testing.assert_array_equal(np.concatenate(got), np.arange(10))
    seen = []
    strategy.distribute_datasets_from_function(lambda context: seen.append(
        (context.num_input_pipelines, context.input_pipeline_id)))
    assert seen == [(1, 0)]


def test_import_does_not_load_mpi():
    code = ("import sys, neuroflow as tf; tf.distribute.get_strategy(); "
            "tf.keras.Sequential; print('mpi4py' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.tensorflow
def test_reduce_matches_tensorflow_mirrored_strategy():
    real = pytest.importorskip("tensorflow")
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    theirs = real.distribute.MirroredStrategy(devices=["/cpu:0"])
    ours = tf.distribute.MirroredStrategy(devices=["/cpu:0"])
    assert ours.num_replicas_in_sync == theirs.num_replicas_in_sync
    for op, axis in [("SUM", None), ("MEAN", None), ("SUM", 0), ("MEAN", 1)]:
        expected = theirs.reduce(op, theirs.run(lambda: real.constant(values)), axis=axis)
        got = ours.reduce(op, ours.run(lambda: tf.constant(values)), axis=axis)
        np.testing.assert_allclose(got.numpy(), expected.numpy())
    assert [op.name for op in tf.distribute.ReduceOp] == \
        [op.name for op in real.distribute.ReduceOp]
    context = tf.distribute.InputContext(2, 1, 4)
    expected = real.distribute.InputContext(2, 1, 4)
    assert context.get_per_replica_batch_size(8) == expected.get_per_replica_batch_size(8)
