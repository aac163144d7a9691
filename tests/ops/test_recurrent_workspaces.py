"""The fused recurrent ops reuse the memory of their large results (``_Workspaces``): never
while anything still refers to it, and with the same values as fresh memory."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.ops import recurrent, registry

B, T, U = 4, 6, 5


def _inputs(seed: int, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (B, T, 4 * U)).astype(dtype),
            rng.uniform(-1, 1, (B, U)).astype(dtype), rng.uniform(-1, 1, (B, U)).astype(dtype),
            rng.uniform(-0.5, 0.5, (U, 4 * U)).astype(dtype))


def _address(tensor) -> int:
    array = np.asarray(tensor._value)
    while array.base is not None:
        array = array.base
    return array.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def shape_rules_agree_with_forwards(monkeypatch):
    """The shape rules predict every result (several per op), as in test_recurrent.py."""
    real_apply = registry.apply

    def checked(prim, inputs, attrs):
        result = real_apply(prim, inputs, attrs)
        results = result if isinstance(result, tuple) else (result,)
        arrays = [t._value for t in inputs]
        if all(type(a) is np.ndarray for a in arrays):
            assert [(tuple(a.shape), a.dtype) for a in prim.abstract_eval(arrays, attrs)] == [
                (tuple(r._value.shape), r._value.dtype) for r in results], prim.name
        return result

    monkeypatch.setattr(registry, "apply", checked)


@pytest.fixture(autouse=True)
def pooled(monkeypatch):
    """A pool of its own for each test, so earlier tests' arrays do not interfere."""
    pool = recurrent._Workspaces(limit=1 << 20)
    if pool.unused is None:
        pytest.skip("this Python does not count references: every call allocates")
    monkeypatch.setattr(recurrent, "WORKSPACES", pool)
    return pool


def test_results_still_referenced_are_not_overwritten():
    hs, cs = recurrent.lstm_sequence(*_inputs(0))
    last = hs[:, -1]  # a view keeps its base in use too
    want_hs, want_cs, want_last = (np.array(t) for t in (hs, cs, last))
    del hs
    for seed in (1, 2, 3):
        recurrent.lstm_sequence(*_inputs(seed))
    np.testing.assert_array_equal(np.asarray(cs), want_cs)
    np.testing.assert_array_equal(np.asarray(last), want_last)
    assert want_hs[:, -1].tobytes() == want_last.tobytes()


def test_released_results_are_reused_with_the_values_of_fresh_memory(pooled):
    first = np.array(recurrent.lstm_sequence(*_inputs(0))[0])
    hs, _ = recurrent.lstm_sequence(*_inputs(1))
    address = _address(hs)
    del hs
    again, _ = recurrent.lstm_sequence(*_inputs(0))
    assert _address(again) == address
    np.testing.assert_array_equal(np.asarray(again), first)
    pooled.limit = 0  # nothing pooled: fresh memory every call, same values
    np.testing.assert_array_equal(np.asarray(recurrent.lstm_sequence(*_inputs(0))[0]), first)


def test_gradients_match_with_and_without_reuse(pooled):
    def gradients():
        tensors = [tf.constant(a) for a in _inputs(4, np.float64)]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            hs = recurrent.gru_sequence(tensors[0][..., :3 * U], tensors[1],
                                        tensors[3][:, :3 * U])
            hs2 = recurrent.simple_rnn_sequence(hs, tensors[2], tensors[3][:, :U])
            loss = tf.reduce_sum(hs2 * hs2)
        return [np.asarray(g) for g in tape.gradient(loss, tensors)]

    pooled.limit = 0
    fresh = gradients()
    pooled.limit = 1 << 20
    gradients()
    for got, want in zip(gradients(), fresh):
        np.testing.assert_array_equal(got, want)


def test_the_pool_stays_within_its_limit(pooled):
    pooled.limit = 3 * B * T * U * 4  # three of the (time, batch, units) float32 arrays
    kept = [recurrent.lstm_sequence(*_inputs(seed)) for seed in range(3)]
    assert sum(a.nbytes for a in pooled.arrays) <= pooled.limit
    assert all(a.nbytes <= pooled.limit for a in pooled.arrays)
    assert len(kept) == 3


def test_threads_get_their_own_memory():
    want = {seed: np.array(recurrent.lstm_sequence(*_inputs(seed))[0]) for seed in range(4)}
    failures = []

    def run(seed):
        for _ in range(25):
            got = recurrent.lstm_sequence(*_inputs(seed))[0]
            if not np.array_equal(np.asarray(got), want[seed]):
                failures.append(seed)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
