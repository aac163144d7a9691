"""The distributed train step without MPI: workers as threads of one process.

Each thread trains its own copy of a model with a strategy whose collectives add the
threads' arrays in rank order. The weights must match one process trained on the
whole batches, compiled and eager, with shards of equal and unequal sizes.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.distribute.strategy import Strategy

keras = tf.keras


class ThreadGroup:
    """Collectives among ``count`` threads."""

    def __init__(self, count: int):
        self.count = count
        self.barrier = threading.Barrier(count, timeout=60)
        self.slots: list = [None] * count

    def exchange(self, rank: int, value):
        self.slots[rank] = value
        self.barrier.wait()
        everyone = list(self.slots)
        self.barrier.wait()  # nobody writes the next round before all have read this one
        return everyone


class ThreadStrategy(Strategy):
    def __init__(self, group: ThreadGroup, rank: int):
        super().__init__()
        self._group, self._worker_rank, self._worker_count = group, rank, group.count

    @property
    def _collective(self):
        return self._group

    def _all_reduce_arrays(self, arrays, what):
        everyone = self._group.exchange(self._worker_rank, [np.asarray(a) for a in arrays])
        totals = [np.array(part) for part in everyone[0]]
        for other in everyone[1:]:
            totals = [t + part for t, part in zip(totals, other)]
        return totals

    def _broadcast_array(self, array, what="broadcast"):
        return np.array(self._group.exchange(self._worker_rank, np.asarray(array))[0])


def _model(eager: bool):
    model = keras.Sequential([keras.layers.Input((6,)),
                              keras.layers.Dense(8, activation="tanh",
                                                 kernel_regularizer=keras.regularizers.L2(0.01)),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=eager)
    return model


@pytest.mark.parametrize("source", ["arrays", "dataset"])
@pytest.mark.parametrize("eager", [False, True], ids=["compiled", "eager"])
@pytest.mark.parametrize("count", [2, 3])
def test_thread_workers_match_one_process(count, eager, source):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(70, 6)).astype("float32")  # batches of 16 and a last one of 6
    y = rng.integers(0, 3, 70)
    keras.utils.set_random_seed(11)
    reference = _model(eager)
    start = reference.get_weights()
    group = ThreadGroup(count)
    models = []
    for rank in range(count):
        with ThreadStrategy(group, rank).scope():
            models.append(_model(eager))
        if rank == 0:
            models[0].set_weights(start)  # the others start elsewhere: fit sends worker 0's
    logs: list = [None] * count
    errors: list = []

    def fit(model):
        if source == "dataset":  # split by rows of each of its batches
            dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
            return model.fit(dataset, epochs=3, verbose=0).history
        return model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history

    def train(rank):
        try:
            logs[rank] = fit(models[rank])
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            group.barrier.abort()

    threads = [threading.Thread(target=train, args=(rank,)) for rank in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    history = fit(reference)
    for model in models[1:]:
        for a, b in zip(models[0].get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(models[0].get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(logs[0][key], history[key], rtol=1e-5)


def _custom_loop(strategy, start, x, y, epochs: int = 2) -> list:
    """A custom loop as TensorFlow's guide writes it: strategy.run of an eager step,
    compute_average_loss, scale_regularization_loss, optimizer.apply_gradients."""
    with strategy.scope():
        model = _model(eager=True)
        model.set_weights(start)
        optimizer = keras.optimizers.SGD(0.1, momentum=0.5)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(12)

    def step(features, labels):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(labels, model(features, training=True)))
            loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

    for _ in range(epochs):
        for features, labels in strategy.experimental_distribute_dataset(dataset):
            strategy.run(step, args=(features, labels))
    return model.get_weights()


@pytest.mark.parametrize("count", [2, 3])
def test_custom_loop_apply_gradients_sums_over_thread_workers(count):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(48, 6)).astype("float32")  # 4 global batches of 12
    y = rng.integers(0, 3, 48)
    keras.utils.set_random_seed(4)
    start = _model(eager=True).get_weights()
    group = ThreadGroup(count)
    weights: list = [None] * count
    errors: list = []

    def train(rank):
        try:
            weights[rank] = _custom_loop(ThreadStrategy(group, rank), start, x, y)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            group.barrier.abort()

    threads = [threading.Thread(target=train, args=(rank,)) for rank in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    reference = _custom_loop(tf.distribute.get_strategy(), start, x, y)
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)
    for a, b, first in zip(weights[0], reference, start):
        assert not np.allclose(b, first)  # it did train
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_replica_scaled_losses_and_traced_apply_gradients_refused():
    strategy = ThreadStrategy(ThreadGroup(2), 0)
    loss = np.array([1.0, 2.0, 5.0], "float32")
    with strategy.scope():
        with pytest.raises(RuntimeError, match="cross replica context"):
            tf.nn.compute_average_loss(loss)
        with pytest.raises(RuntimeError, match="cross replica context"):
            tf.nn.scale_regularization_loss(loss)
        # An explicit global batch needs no replica context, as in TensorFlow.
        np.testing.assert_allclose(tf.nn.compute_average_loss(loss, global_batch_size=4), 2.0)
        variable = tf.Variable([1.0, 1.0])
        optimizer = keras.optimizers.SGD(0.1)
    # Outside any scope, strategy.run makes its strategy the current one.
    averaged = strategy.run(lambda: (tf.distribute.has_strategy(),
                                     tf.nn.compute_average_loss(loss),
                                     tf.nn.scale_regularization_loss(loss)))
    assert averaged[0]
    np.testing.assert_allclose(averaged[1], loss.sum() / 6, rtol=1e-6)
    np.testing.assert_allclose(averaged[2], loss.sum() / 2, rtol=1e-6)
    assert not tf.distribute.has_strategy()

    @tf.function
    def traced(gradient):
        strategy.run(lambda: optimizer.apply_gradients([(gradient, variable)]))

    with pytest.raises(NotImplementedError, match="collectives run eagerly only"):
        traced(tf.constant([1.0, 2.0]))
    np.testing.assert_array_equal(variable.numpy(), [1.0, 1.0])


_TENSORFLOW_REPLICAS = """
import json
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
loss, weights = np.array(LOSS, "float32"), np.array(WEIGHTS, "float32")
out = strategy.run(lambda: CASES)
print(json.dumps([[float(o.values[0]), o.values[0].dtype.name] for o in out]))
"""


@pytest.mark.tensorflow
def test_replica_scaled_losses_match_tensorflow():
    """TensorFlow's MirroredStrategy on two logical CPUs: two replicas in one process."""
    pytest.importorskip("tensorflow")
    import json
    import subprocess
    import sys

    loss, weights = [1.0, 2.0, 5.0], [0.5, 1.0, 2.0]
    cases = ("(tf.nn.compute_average_loss(loss), "
             "tf.nn.compute_average_loss(loss, sample_weight=weights), "
             "tf.nn.compute_average_loss(loss, global_batch_size=4), "
             "tf.nn.scale_regularization_loss(loss), "
             "tf.nn.scale_regularization_loss(tf.constant([3, 4])))")
    script = _TENSORFLOW_REPLICAS.replace("LOSS", repr(loss)).replace(
        "WEIGHTS", repr(weights)).replace("CASES", cases)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    expected = json.loads(done.stdout.strip().splitlines()[-1])
    strategy = ThreadStrategy(ThreadGroup(2), 0)
    namespace = {"tf": tf, "loss": np.array(loss, "float32"),
                 "weights": np.array(weights, "float32")}
    got = strategy.run(lambda: eval(cases, namespace))
    assert len(got) == len(expected) == 5
    for value, (want, dtype) in zip(got, expected):
        assert value.dtype.name == dtype
        np.testing.assert_allclose(float(value), want, rtol=1e-6)
