"""A model serves many threads at once: predict, model(x) and evaluate give exactly the
single-threaded results (compiled code shares no buffers between calls)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import Sequential
from neuroflow.keras.layers import Dense, Flatten, InputLayer

THREADS, CALLS = 8, 200


def _model():
    tf.keras.utils.set_random_seed(3)
    model = Sequential([InputLayer(shape=(4, 5)), Flatten(), Dense(16, activation="relu"),
                        Dense(7, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    return model


def _inputs():
    rng = np.random.default_rng(7)
    sizes = (1, 2, 5, 32, 33, 70)
    return [rng.normal(size=(n, 4, 5)).astype(np.float32) for n in sizes]


def _hammer(call, inputs, expected) -> list:
    wrong, errors = [], []

    def work(index):
        try:
            for k in range(CALLS):
                j = (index * 7 + k) % len(inputs)
                if not np.array_equal(call(inputs[j]), expected[j]):
                    wrong.append((index, k, j))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return wrong


@pytest.mark.parametrize("how", ["predict", "predict_batched", "call"])
def test_concurrent_inference_matches_single_threaded(how):
    model = _model()
    inputs = _inputs()
    call = {
        "predict": lambda x: model.predict(x, verbose=0),
        "predict_batched": lambda x: model.predict(x, batch_size=8, verbose=0),
        "call": lambda x: model(x).numpy(),
    }[how]
    expected = [call(x) for x in inputs]
    assert _hammer(call, inputs, expected) == []


def test_concurrent_evaluate_matches_single_threaded():
    model = _model()
    inputs = _inputs()[:4]
    labels = [np.arange(len(x)) % 7 for x in inputs]
    expected = [model.evaluate(x, y, verbose=0, return_dict=True)
                for x, y in zip(inputs, labels)]
    wrong = []

    def work(index):
        for k in range(20):
            j = (index + k) % len(inputs)
            got = model.evaluate(inputs[j], labels[j], verbose=0, return_dict=True)
            if got != expected[j]:
                wrong.append((index, k))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
