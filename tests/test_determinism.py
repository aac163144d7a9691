"""With a seed set, training is reproducible bit for bit (README: "Reproducible runs")."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

import neuroflow as tf
from neuroflow.keras import Sequential, layers

RNG = np.random.default_rng(7)
X = RNG.random((300, 28, 28))
Y = RNG.integers(0, 10, 300)


def train(seed: int, run_eagerly: bool = False):
    tf.keras.utils.set_random_seed(seed)
    model = Sequential([layers.Input((28, 28)), layers.Flatten(),
                        layers.Dense(32, activation="relu"), layers.Dropout(0.2),
                        layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"], run_eagerly=run_eagerly)
    history = model.fit(X[:250], Y[:250], epochs=3, validation_data=(X[250:], Y[250:]),
                        verbose=0)
    return model.get_weights(), history.history


def test_same_seed_gives_bitwise_identical_weights_and_history():
    weights_a, history_a = train(11)
    weights_b, history_b = train(11)
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b))
    assert history_a == history_b


def test_another_seed_gives_other_weights():
    weights_a, _ = train(11)
    weights_b, _ = train(12)
    assert not np.array_equal(weights_a[0], weights_b[0])


def test_same_seed_is_identical_across_processes():
    script = textwrap.dedent("""
        import hashlib, sys
        import numpy as np
        sys.path.insert(0, {tests!r})
        import test_determinism as t
        weights, history = t.train(5)
        digest = hashlib.sha256(b"".join(w.tobytes() for w in weights)).hexdigest()
        print(digest, repr(history))
    """).format(tests=str(__import__("pathlib").Path(__file__).parent))
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]
