"""compile / fit / evaluate / predict against NumPy and Keras 3 semantics.

The reference numbers are computed here with NumPy, from formulas checked
against TensorFlow 2.21 / Keras 3 (loss = mean over the batch plus the
regularization penalties; SGD ``w -= lr * grad``; the reported loss is the
batch losses' mean weighted by batch size).
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import Sequential, layers, losses, metrics, optimizers, regularizers

RNG = np.random.default_rng(2)
X = RNG.standard_normal((10, 3)).astype("float32")
Y = RNG.standard_normal((10, 2)).astype("float32")
W0 = RNG.standard_normal((3, 2)).astype("float32") * 0.5
B0 = np.array([0.1, -0.2], dtype="float32")
LABELS = RNG.integers(0, 3, 40)
FEATURES = RNG.standard_normal((40, 4)).astype("float32")
DATA_DIR = Path("/work/shared/data/fashion-mnist")


def linear_model(l2: float = 0.0, lr: float = 0.1) -> Sequential:
    reg = regularizers.l2(l2) if l2 else None
    model = Sequential([layers.Input((3,)), layers.Dense(2, kernel_regularizer=reg)])
    model.set_weights([W0, B0])
    model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def numpy_sgd(batches, l2=0.0, lr=0.1):
    """Train the linear model by hand; returns final (W, b) and the running mean loss."""
    w, b = W0.astype(np.float64), B0.astype(np.float64)
    total, count = 0.0, 0
    for xb, yb in batches:
        err = xb @ w + b - yb
        loss = np.mean(err ** 2) + l2 * np.sum(w ** 2)
        total, count = total + loss * len(xb), count + len(xb)
        grad_out = 2 * err / err.size
        w, b = w - lr * (xb.T @ grad_out + 2 * l2 * w), b - lr * grad_out.sum(axis=0)
    return w, b, total / count


def classifier(units: int = 3) -> Sequential:
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                        layers.Dense(units, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class Recorder(layers.Layer):
    """An identity layer that remembers what it saw and with which training flag."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append((inputs.numpy().copy(), training))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


# --- the training step, numerically -------------------------------------------------------------


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_fit_matches_hand_written_sgd(l2):
    model = linear_model(l2=l2)
    history = model.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    batches = [(X[i:i + 4], Y[i:i + 4]) for i in range(0, 10, 4)]
    w, b, mean_loss = numpy_sgd(batches, l2=l2)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.layers[0].bias.numpy(), b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(history.history["loss"], [mean_loss], rtol=1e-5)


def test_evaluate_adds_regularization_penalty():
    model = linear_model(l2=0.1)
    expected = np.mean((X @ W0 + B0 - Y) ** 2) + 0.1 * np.sum(W0 ** 2)
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert linear_model().evaluate(X, Y, verbose=0) == pytest.approx(
        np.mean((X @ W0 + B0 - Y) ** 2), rel=1e-5)
    l1 = Sequential([layers.Input((3,)), layers.Dense(2, kernel_regularizer="l1",
                                                      bias_regularizer=regularizers.l1(0.5))])
    l1.set_weights([W0, B0])
    l1.compile("sgd", "mse")
    expected = np.mean((X @ W0 + B0 - Y) ** 2) + 0.01 * np.abs(W0).sum() + 0.5 * np.abs(B0).sum()
    assert l1.evaluate(X, Y, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_sample_weight_in_evaluate_and_fit():
    weights = np.array([1, 0, 2, 0, 1, 1, 3, 0, 1, 2], dtype="float32")
    per_sample = np.mean((X @ W0 + B0 - Y) ** 2, axis=1)
    # sum_over_batch_size: the weighted sum divided by the number of samples.
    expected = np.sum(weights * per_sample) / len(X)
    got = linear_model().evaluate(X, Y, sample_weight=weights, batch_size=10, verbose=0)
    assert got == pytest.approx(expected, rel=1e-5)
    # Doubling every weight doubles each gradient: the same as doubling the learning rate.
    doubled = linear_model(lr=0.05)
    doubled.fit(X, Y, sample_weight=np.full(10, 2.0), batch_size=4, shuffle=False, verbose=0)
    plain = linear_model(lr=0.1)
    plain.fit(X, Y, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(doubled.get_weights()[0], plain.get_weights()[0], rtol=1e-5)


def test_class_weight_is_a_per_class_sample_weight():
    a, b = classifier(), classifier()
    b.set_weights(a.get_weights())
    table = {0: 0.5, 1: 2.0, 2: 1.0}
    a.fit(FEATURES, LABELS, class_weight=table, shuffle=False, verbose=0)
    b.fit(FEATURES, LABELS, sample_weight=np.array([table[c] for c in LABELS]), shuffle=False,
          verbose=0)
    for got, want in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_train_on_batch_is_one_step_and_test_on_batch_has_no_side_effect():
    model = linear_model(l2=0.05)
    before = model.get_weights()
    expected_test = np.mean((X[:4] @ W0 + B0 - Y[:4]) ** 2) + 0.05 * np.sum(W0 ** 2)
    assert model.test_on_batch(X[:4], Y[:4]) == pytest.approx(expected_test, rel=1e-5)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    loss = model.train_on_batch(X[:4], Y[:4])
    w, b, mean_loss = numpy_sgd([(X[:4], Y[:4])], l2=0.05)
    assert loss == pytest.approx(mean_loss, rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5, atol=1e-6)
    # Metrics restart at each call: the second call reports its own batch only.
    second = model.train_on_batch(X[:4], Y[:4], return_dict=True)
    assert set(second) == {"loss"} and second["loss"] < mean_loss


def test_predict_and_predict_on_batch_match_the_model():
    model = classifier()
    expected = model(FEATURES).numpy()
    np.testing.assert_allclose(model.predict(FEATURES, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict(FEATURES, batch_size=7, verbose=0), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(FEATURES[:5]), expected[:5], rtol=1e-6)
    assert isinstance(model.predict_on_batch(FEATURES[:5]), np.ndarray)


# --- evaluate's return values, History ----------------------------------------------------------


def test_evaluate_scalar_list_and_dict():
    model = classifier()
    probabilities = model(FEATURES).numpy()
    loss = -np.mean(np.log(probabilities[np.arange(40), LABELS]))
    accuracy = np.mean(probabilities.argmax(axis=1) == LABELS)
    result = model.evaluate(FEATURES, LABELS, verbose=0)
    assert result == pytest.approx([loss, accuracy], rel=1e-5)
    as_dict = model.evaluate(FEATURES, LABELS, verbose=0, return_dict=True)
    assert list(as_dict) == ["accuracy", "loss"]  # sorted, as Keras 3's logs
    assert as_dict["loss"] == pytest.approx(loss, rel=1e-5)
    assert model.metrics_names == ["loss", "accuracy"]
    assert isinstance(linear_model().evaluate(X, Y, verbose=0), float)
    # metrics=... with objects reports them under their names
    model.compile(optimizer=optimizers.SGD(), loss=losses.SparseCategoricalCrossentropy(),
                  metrics=[metrics.SparseCategoricalAccuracy(name="acc")], run_eagerly=True)
    assert model.evaluate(FEATURES, LABELS, verbose=0, return_dict=True)["acc"] == \
        pytest.approx(accuracy)


def test_history_epochs_params_and_initial_epoch():
    model = classifier()
    history = model.fit(FEATURES, LABELS, epochs=4, initial_epoch=2, verbose=0,
                        validation_data=(FEATURES[:8], LABELS[:8]))
    assert model.history is history
    assert history.epoch == [2, 3]
    assert history.params == {"verbose": 0, "epochs": 4, "steps": 2}
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(isinstance(v, float) for values in history.history.values() for v in values)
    model.evaluate(FEATURES, LABELS, verbose=0)
    assert model.history is history  # evaluate keeps fit's History


def test_default_batch_size_is_32_and_shuffle_covers_every_sample():
    recorder = Recorder()
    model = Sequential([layers.Input((1,)), recorder, layers.Dense(1)])
    model.compile("sgd", "mse", run_eagerly=True)  # the recorder reads values eagerly
    x = np.arange(70, dtype="float32").reshape(70, 1)
    history = model.fit(x, np.zeros(70), epochs=2, verbose=0)
    assert history.params["steps"] == math.ceil(70 / 32)
    batches = [seen for seen, training in recorder.seen]
    assert [len(b) for b in batches] == [32, 32, 6] * 2
    epochs = [np.concatenate(batches[:3]).ravel(), np.concatenate(batches[3:]).ravel()]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(70))
    assert not np.array_equal(epochs[0], np.arange(70))  # shuffled...
    assert not np.array_equal(epochs[0], epochs[1])  # ...anew each epoch
    recorder.seen.clear()
    model.fit(x, np.zeros(70), batch_size=50, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.concatenate([s for s, _ in recorder.seen]).ravel(),
                                  np.arange(70))


def test_fit_trains_with_training_true_and_evaluate_predict_without():
    recorder = Recorder()
    model = Sequential([layers.Input((4,)), recorder, layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=True)
    model.fit(FEATURES, LABELS, batch_size=20, verbose=0, validation_data=(FEATURES, LABELS))
    assert [t for _, t in recorder.seen] == [True, True, False, False]
    recorder.seen.clear()
    model.evaluate(FEATURES, LABELS, verbose=0)
    model.predict(FEATURES, verbose=0)
    model.train_on_batch(FEATURES, LABELS)
    model.test_on_batch(FEATURES, LABELS)
    model.predict_on_batch(FEATURES)
    assert [t for _, t in recorder.seen] == [False] * 4 + [True, False, False]  # 2+2 batches


def test_validation_split_holds_out_the_last_samples():
    model = classifier()
    history = model.fit(FEATURES, LABELS, validation_split=0.25, epochs=1, verbose=0)
    assert history.params["steps"] == 1  # 30 training samples
    held_out = model.evaluate(FEATURES[30:], LABELS[30:], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(held_out["loss"], rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(held_out["accuracy"])


def test_fit_on_a_dataset_equals_fit_on_arrays():
    a, b = linear_model(), linear_model()
    a.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(4)
    history = b.fit(dataset, epochs=2, verbose=0, validation_data=dataset)
    np.testing.assert_allclose(b.get_weights()[0], a.get_weights()[0], rtol=1e-6)
    assert history.params["steps"] == 3 and "val_loss" in history.history
    assert b.evaluate(dataset, verbose=0) == pytest.approx(b.evaluate(X, Y, verbose=0))
    assert b.predict(dataset, verbose=0).shape == (10, 2)
    with pytest.raises(ValueError, match="batch_size"):
        b.fit(dataset, batch_size=4, verbose=0)


def test_seeded_runs_are_reproducible():
    def run():
        keras.utils.set_random_seed(7)
        model = Sequential([layers.Input((4,)), layers.Dense(5, activation="relu"),
                            layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(FEATURES, LABELS, epochs=2, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_custom_train_step_is_used_by_fit():
    class Counting(Sequential):
        steps = 0

        def train_step(self, data):
            Counting.steps += 1
            return super().train_step(data)

    model = Counting([layers.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    history = model.fit(X, Y, batch_size=5, epochs=2, verbose=0)
    assert Counting.steps == 4 and len(history.history["loss"]) == 2


def test_compile_with_strings_or_objects():
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    assert type(model.optimizer).__name__ == "Adam"
    model.compile(optimizer=optimizers.RMSprop(learning_rate=0.01),
                  loss=losses.sparse_categorical_crossentropy, metrics=["accuracy"])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.fit(FEATURES, LABELS, verbose=0).history["loss"][0] > 0


# --- progress output ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def not_in_a_notebook(monkeypatch):
    """Progress bars redraw in place inside Jupyter; these tests are about plain streams."""
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


PROGRESS_LINE = re.compile(r"^2/2 ━{20} \d+s \d+[mu]?s/step - accuracy: \d\.\d{4} - "
                           r"loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")


def test_verbose_1_to_a_file_prints_one_clean_line_per_epoch(capsys):
    classifier().fit(FEATURES, LABELS, epochs=3, validation_data=(FEATURES, LABELS))
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(lines) == 6 and all(PROGRESS_LINE.match(line) for line in lines[1::2]), lines


def test_verbose_2_prints_the_short_line(capsys):
    classifier().fit(FEATURES, LABELS, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.match(r"^2/2 - \d+s - \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$",
                    lines[1])


def test_verbose_0_prints_nothing_and_auto_is_1(capsys):
    model = classifier()
    model.fit(FEATURES, LABELS, epochs=2, verbose=0)
    model.evaluate(FEATURES, LABELS, verbose=0)
    model.predict(FEATURES, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(FEATURES, LABELS, epochs=1, verbose="auto")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("2/2 ━━━━")  # one epoch: no "Epoch 1/1"


def test_evaluate_and_predict_progress(capsys):
    model = classifier()
    model.evaluate(FEATURES, LABELS)
    model.predict(FEATURES, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"^2/2 ━{20} \d+s \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$",
                    lines[0])
    assert re.match(r"^2/2 - \d+s - \d+[mu]?s/step$", lines[1]) and len(lines) == 2


class FakeTerminal:
    """A stream that claims to be a terminal; ``screen()`` is what a terminal would show."""

    def __init__(self):
        self.raw = ""

    def write(self, text):
        self.raw += text

    def flush(self):
        pass

    def isatty(self):
        return True

    def screen(self) -> list[str]:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", self.raw)
        return [line.split("\r")[-1].rstrip() for line in plain.split("\n")][:-1]


def test_verbose_1_on_a_terminal_redraws_in_place(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stdout", terminal)
    model = classifier()
    history = model.fit(FEATURES, LABELS, batch_size=4, epochs=2)
    assert "\r" in terminal.raw and "\x1b[" in terminal.raw  # redrawn, coloured
    lines = terminal.screen()
    assert lines[0::2] == ["Epoch 1/2", "Epoch 2/2"] and len(lines) == 4
    final = re.compile(r"^10/10 ━{20} \d+s \d+[mu]?s/step - accuracy: (\d\.\d{4}) - "
                       r"loss: (\d\.\d{4})$")
    for line, epoch in zip(lines[1::2], range(2)):
        accuracy, loss = final.match(line).groups()
        assert float(loss) == pytest.approx(history.history["loss"][epoch], abs=1e-4)
        assert float(accuracy) == pytest.approx(history.history["accuracy"][epoch], abs=1e-4)


# --- the lab, on real data ----------------------------------------------------------------------


@pytest.mark.skipif(not DATA_DIR.exists(), reason="Fashion-MNIST copy not available")
def test_lab_model_learns_fashion_mnist_subset():
    (x_full, y_full), _ = keras.datasets.fashion_mnist.load_data(str(DATA_DIR))
    x_train, y_train = x_full[:5000] / 255.0, y_full[:5000]
    x_valid, y_valid = x_full[-1000:] / 255.0, y_full[-1000:]
    keras.utils.set_random_seed(42)
    model = Sequential([layers.InputLayer(shape=[28, 28]), layers.Flatten(),
                        layers.Dense(100, activation="relu"), layers.Dense(75, activation="relu"),
                        layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=2, validation_data=(x_valid, y_valid),
                        verbose=0)
    assert history.params["steps"] == 157
    assert history.history["loss"][1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.65  # chance is 0.1


# --- compiled steps -------------------------------------------------------------------------------


def _two_layer(run_eagerly):
    tf.keras.utils.set_random_seed(3)
    model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)
    return model


def test_compiled_fit_matches_eager_fit():
    """fit runs compiled steps by default; they give what the eager steps give."""
    results = []
    for eager in (True, False):
        model = _two_layer(eager)
        history = model.fit(FEATURES, LABELS, batch_size=7, epochs=3, verbose=0,
                            validation_data=(FEATURES, LABELS))
        results.append((model.get_weights(), history.history,
                        model.evaluate(FEATURES, LABELS, verbose=0),
                        model.predict(FEATURES, verbose=0)))
    (w_eager, h_eager, e_eager, p_eager), (w_comp, h_comp, e_comp, p_comp) = results
    for a, b in zip(w_eager, w_comp):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in h_eager:
        np.testing.assert_allclose(h_eager[key], h_comp[key], rtol=1e-5)
    np.testing.assert_allclose(e_eager, e_comp, rtol=1e-5)
    np.testing.assert_allclose(p_eager, p_comp, rtol=1e-5, atol=1e-7)


def test_each_step_traces_once_the_last_smaller_batch_included():
    model = _two_layer(False)
    model.fit(FEATURES, LABELS, batch_size=7, epochs=2, verbose=0,
              validation_data=(FEATURES, LABELS))  # 40 = 5 x 7 + 5
    steps = model._compiled_steps()
    assert steps.tracing_count() == 2  # the train step and the test step, once each
    model.fit(FEATURES, LABELS, batch_size=7, epochs=1, verbose=0)
    model.fit(FEATURES, LABELS, batch_size=9, epochs=1, verbose=0)
    model.evaluate(FEATURES, LABELS, batch_size=3, verbose=0)
    assert steps.tracing_count() == 2
    model.predict(FEATURES, batch_size=6, verbose=0)
    model.predict(FEATURES[:1], verbose=0)
    model.predict(FEATURES[:3], verbose=0)
    assert steps.tracing_count() == 3  # and predict, once
