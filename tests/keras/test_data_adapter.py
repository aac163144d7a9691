"""Batches of arrays for fit: the background gatherer yields exactly the serial batches."""

import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras.data_adapter import ArrayData, _ChunkGatherer
from neuroflow.ops import random_ops


def _serial(data: ArrayData, batch_size: int, shuffle: bool, seed: int):
    """The batches gathered one by one on the calling thread, for the same seed."""
    tf.random.set_seed(seed)
    order = random_ops.generator(None).permutation(data.size) if shuffle else None
    cast = data.x.dtype.kind == "f" and data.x.dtype != np.float32
    return list(data._serial_array_batches(batch_size, order, cast, "float32"))


def _batches(data: ArrayData, batch_size: int, shuffle: bool, seed: int):
    tf.random.set_seed(seed)
    # Copies: a yielded batch may be a view of a buffer the gatherer reuses later.
    return [tuple(None if a is None else np.array(a) for a in batch)
            for batch in data.array_batches(batch_size, shuffle)]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    # Chunks of a few batches, so that small arrays go through the background path.
    monkeypatch.setattr(_ChunkGatherer, "CHUNK_BYTES", 4 * 3 * 8 * 5)


@pytest.mark.parametrize("x_dtype", [np.float64, np.float32, np.uint8])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("batch_size,size", [(5, 103), (5, 100), (7, 40), (32, 31)])
def test_gathered_batches_equal_serial_batches(x_dtype, shuffle, batch_size, size):
    rng = np.random.default_rng(size)
    x = (rng.random((size, 3, 8)) * 255).astype(x_dtype)
    y = rng.integers(0, 10, size)
    w = rng.random(size)
    data = ArrayData(x, y, w)
    got = _batches(data, batch_size, shuffle, seed=3)
    expected = _serial(data, batch_size, shuffle, seed=3)
    assert len(got) == len(expected) == -(-size // batch_size)
    for (gx, gy, gw), (ex, ey, ew) in zip(got, expected):
        assert gx.dtype == ex.dtype == (np.uint8 if x_dtype == np.uint8 else np.float32)
        np.testing.assert_array_equal(gx, ex)
        np.testing.assert_array_equal(gy, ey)
        assert gw.dtype == np.float32
        np.testing.assert_array_equal(gw, ew)
    # every sample exactly once
    seen = np.sort(np.concatenate([b[1] for b in got]))
    np.testing.assert_array_equal(seen, np.sort(y))


def test_batches_without_labels_or_weights():
    x = np.arange(60.0).reshape(20, 3)
    got = _batches(ArrayData(x), 4, True, seed=0)
    assert all(b[1] is None and b[2] is None for b in got)
    np.testing.assert_array_equal(np.sort(np.concatenate([b[0] for b in got]), axis=0),
                                  x.astype(np.float32))


def test_batch_stays_valid_while_the_next_chunk_is_read():
    x = np.random.default_rng(0).random((200, 3, 8))
    data = ArrayData(x, np.arange(200))
    chunk = _ChunkGatherer(data, None, True, "float32", 5).chunk_rows
    tf.random.set_seed(1)
    batches = data.array_batches(5, True)
    first = next(batches)
    kept = np.array(first[0])
    for _ in range(chunk // 5 * 2 - 1):  # the rest of this chunk and all of the next
        next(batches)
    np.testing.assert_array_equal(first[0], kept)
    batches.close()


def test_stopping_early_ends_the_worker_thread():
    x = np.random.default_rng(0).random((500, 3, 8))
    batches = ArrayData(x, np.arange(500)).array_batches(5, True)
    next(batches)
    assert any(t.name.startswith("neuroflow-batches") for t in threading.enumerate())
    batches.close()
    assert not any(t.name.startswith("neuroflow-batches") and t.is_alive()
                   for t in threading.enumerate())


def test_fit_is_the_same_with_and_without_the_background_gatherer(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.random((300, 6)), rng.integers(0, 3, 300)

    def train():
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.layers.Input(shape=(6,)),
                                     tf.keras.layers.Dense(3, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        return history.history["loss"], [np.array(w) for w in model.get_weights()]

    loss, weights = train()
    monkeypatch.setattr(_ChunkGatherer, "CHUNK_BYTES", 1 << 30)  # one chunk: serial path
    serial_loss, serial_weights = train()
    assert loss == serial_loss
    for a, b in zip(weights, serial_weights):
        np.testing.assert_array_equal(a, b)
