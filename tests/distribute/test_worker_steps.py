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
