"""Differential check against TensorFlow on the reference lab's model.

Given the same initial weights and the same batches, neuroflow and TensorFlow must
compute the same losses step after step (to 1e-4) and end on the same weights. Runs
only where TensorFlow is importable, e.g.

    /work/peers/bin/pip install -e . --no-deps
    /work/peers/bin/python -m pytest tests/keras/test_tf_parity.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import neuroflow as nf  # noqa: E402
from neuroflow.lab import build_model  # noqa: E402

pytestmark = pytest.mark.tensorflow

REPO = Path(__file__).resolve().parents[2]
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist"))
BATCH = 32
STEPS = 50
SEED = 7


@pytest.fixture(scope="module")
def samples():
    """The first 5,000 real training images scaled to [0, 1] (synthetic ones without the files)."""
    folder = next((p for p in DATA_CANDIDATES if (p / "train-images-idx3-ubyte.gz").is_file()),
                  None)
    if folder is not None:
        (x, y), _ = nf.keras.datasets.fashion_mnist.load_data(folder)
        x, y = x[:5000], y[:5000]
    else:
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, size=(5000, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=5000).astype(np.uint8)
    return x / 255., y


def _twins():
    """The lab's model in TensorFlow and in neuroflow, with TensorFlow's initial weights."""
    tf.keras.utils.set_random_seed(SEED)
    theirs, ours = build_model(tf), build_model(nf)
    for model in (theirs, ours):
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                      metrics=["accuracy"])
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _assert_same_weights(theirs, ours, atol):
    for a, b in zip(theirs.get_weights(), ours.get_weights()):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0, atol=atol)


def test_forward_pass_matches(samples):
    x, y = samples
    theirs, ours = _twins()
    expected = theirs.predict(x[:1000], verbose=0)
    got = ours.predict(x[:1000], verbose=0)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    # evaluate: the same loss (cross-entropy of the softmax's logits) and accuracy.
    their_loss, their_accuracy = theirs.evaluate(x[:1000], y[:1000], verbose=0)
    our_loss, our_accuracy = ours.evaluate(x[:1000], y[:1000], verbose=0)
    assert our_loss == pytest.approx(their_loss, abs=1e-5)
    assert our_accuracy == pytest.approx(their_accuracy, abs=1e-7)


def test_first_steps_losses_agree(samples):
    x, y = samples
    theirs, ours = _twins()
    their_losses, our_losses = [], []
    for step in range(STEPS):
        batch = slice(step * BATCH, (step + 1) * BATCH)
        their_losses.append(float(theirs.train_on_batch(x[batch], y[batch])[0]))
        our_losses.append(float(ours.train_on_batch(x[batch], y[batch])[0]))
    np.testing.assert_allclose(our_losses, their_losses, rtol=0, atol=1e-4)
    assert their_losses[-1] < their_losses[0], "the models must actually learn"
    _assert_same_weights(theirs, ours, atol=1e-5)


def _custom_loop(framework, model, x, y):
    """A hand-written training loop, the same source for both frameworks."""
    loss_fn = framework.keras.losses.SparseCategoricalCrossentropy()
    optimizer = framework.keras.optimizers.SGD(learning_rate=0.01)
    losses = []
    for step in range(STEPS):
        xb = framework.constant(x[step * BATCH:(step + 1) * BATCH], dtype="float32")
        yb = framework.constant(y[step * BATCH:(step + 1) * BATCH])
        with framework.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        losses.append(float(loss))
    return losses


def test_custom_training_loop_agrees(samples):
    x, y = samples
    theirs, ours = _twins()
    their_losses = _custom_loop(tf, theirs, x, y)
    our_losses = _custom_loop(nf, ours, x, y)
    np.testing.assert_allclose(our_losses, their_losses, rtol=0, atol=1e-4)
    _assert_same_weights(theirs, ours, atol=1e-5)


def test_fit_epoch_agrees_without_shuffling(samples):
    # 4,010 samples: 125 full batches and a last one of 10, as fit batches them.
    x, y = samples
    train, valid = slice(0, 4010), slice(4010, 5000)
    theirs, ours = _twins()
    logs = []
    for model in (theirs, ours):
        history = model.fit(x[train], y[train], epochs=2, shuffle=False, verbose=0,
                            validation_data=(x[valid], y[valid]))
        logs.append(history.history)
    their_logs, our_logs = logs
    assert sorted(our_logs) == sorted(their_logs)
    for key, values in their_logs.items():
        np.testing.assert_allclose(our_logs[key], values, rtol=0, atol=1e-4, err_msg=key)
    _assert_same_weights(theirs, ours, atol=1e-5)
