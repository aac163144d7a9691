"""Callbacks: hook order as Keras 3 calls them, and each built-in callback's effect."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import Sequential, callbacks, layers

RNG = np.random.default_rng(3)
X = RNG.standard_normal((10, 4)).astype("float32")
Y = RNG.integers(0, 3, 10)

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end"]


def model(units: int = 3) -> Sequential:
    net = Sequential([layers.Input((4,)), layers.Dense(units, activation="softmax")])
    net.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


class Recording(callbacks.Callback):
    """Records every hook call as (hook, index or None, sorted log keys)."""

    def __init__(self):
        super().__init__()
        self.calls = []


def _recorder(hook):
    takes_index = "batch" in hook or "epoch" in hook

    def record(self, *args, logs=None):
        index = args[0] if takes_index else None
        if len(args) > (1 if takes_index else 0):
            logs = args[-1]
        self.calls.append((hook, index, tuple(sorted(logs)) if logs else ()))
    return record


for _hook in HOOKS:
    setattr(Recording, _hook, _recorder(_hook))


# --- hook order ---------------------------------------------------------------------------------


def test_fit_calls_hooks_in_keras_order():
    # The order Keras 3 documents (and TensorFlow 2.21 produces) for fit with
    # validation: 10 samples in batches of 4 -> 3 steps; 6 validation samples -> 2.
    recorder = Recording()
    model().fit(X, Y, batch_size=4, epochs=2, validation_data=(X[:6], Y[:6]),
                callbacks=[recorder], verbose=0)
    metrics = ("accuracy", "loss")
    epoch_logs = ("accuracy", "loss", "val_accuracy", "val_loss")
    expected = [("on_train_begin", None, ())]
    for epoch in range(2):
        expected.append(("on_epoch_begin", epoch, ()))
        for step in range(3):
            expected += [("on_train_batch_begin", step, ()),
                         ("on_train_batch_end", step, metrics)]
        expected.append(("on_test_begin", None, ()))
        for step in range(2):
            expected += [("on_test_batch_begin", step, ()), ("on_test_batch_end", step, metrics)]
        expected += [("on_test_end", None, metrics), ("on_epoch_end", epoch, epoch_logs)]
    expected.append(("on_train_end", None, epoch_logs))
    assert recorder.calls == expected
    assert recorder.params == {"verbose": 0, "epochs": 2, "steps": 3}


def test_evaluate_and_predict_hooks():
    recorder = Recording()
    net = model()
    net.evaluate(X, Y, batch_size=5, callbacks=[recorder], verbose=0)
    assert recorder.calls == [
        ("on_test_begin", None, ()),
        ("on_test_batch_begin", 0, ()), ("on_test_batch_end", 0, ("accuracy", "loss")),
        ("on_test_batch_begin", 1, ()), ("on_test_batch_end", 1, ("accuracy", "loss")),
        ("on_test_end", None, ("accuracy", "loss"))]
    recorder.calls.clear()
    net.predict(X, batch_size=5, callbacks=[recorder], verbose=0)
    assert recorder.calls == [
        ("on_predict_begin", None, ()),
        ("on_predict_batch_begin", 0, ()), ("on_predict_batch_end", 0, ("outputs",)),
        ("on_predict_batch_begin", 1, ()), ("on_predict_batch_end", 1, ("outputs",)),
        ("on_predict_end", None, ())]
    assert recorder.params == {"verbose": 0, "epochs": 1, "steps": 2}


def test_batch_logs_are_the_running_metrics():
    seen = []
    recorder = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    net = model()
    history = net.fit(X, Y, batch_size=4, callbacks=[recorder], verbose=0)
    assert len(seen) == 3 and all(isinstance(v, float) for v in seen[0].values())
    assert seen[-1] == {k: v[0] for k, v in history.history.items()}


def test_keras_2_batch_hooks_are_called_from_train_batch_hooks():
    class Legacy(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_batch_end(self, batch, logs=None):
            self.batches.append((batch, sorted(logs)))

    legacy = Legacy()
    model().fit(X, Y, batch_size=4, callbacks=[legacy], verbose=0)
    assert legacy.batches == [(i, ["accuracy", "loss"]) for i in range(3)]


def test_stop_training_from_a_batch_hook():
    def stop(batch, logs):
        net.stop_training = True

    net = model()
    steps = []
    history = net.fit(X, Y, batch_size=2, epochs=5, verbose=0, callbacks=[
        callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: steps.append(b)),
        callbacks.LambdaCallback(on_train_batch_end=stop)])
    assert steps == [0] and history.epoch == [0]


def test_callback_list_accepts_one_history_and_progbar():
    history = callbacks.History()
    cb_list = callbacks.CallbackList([history], add_history=True, add_progbar=True,
                                     model=model(), verbose=0, epochs=1, steps=1)
    kinds = [type(cb).__name__ for cb in cb_list.callbacks]
    assert kinds == ["History", "ProgbarLogger"]


# --- EarlyStopping ------------------------------------------------------------------------------


class Scripted(callbacks.Callback):
    """Puts a scripted 'score' into the epoch logs and keeps a copy of each epoch's weights."""

    def __init__(self, scores):
        super().__init__()
        self.scores = scores
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights.append(self.model.get_weights())


def test_early_stopping_restores_the_best_epochs_weights():
    scripted = Scripted([3.0, 1.0, 2.0, 2.5, 4.0, 0.5])
    stopper = callbacks.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    net = model()
    history = net.fit(X, Y, epochs=6, callbacks=[scripted, stopper], verbose=0)
    assert history.epoch == [0, 1, 2, 3]  # no improvement in epochs 2 and 3
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 1 and stopper.best == 1.0
    for got, want in zip(net.get_weights(), scripted.weights[1]):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(net.get_weights()[0], scripted.weights[3][0])


def test_early_stopping_restores_best_weights_even_without_stopping():
    # Keras 3 restores at the end of training, stopped early or not.
    scripted = Scripted([3.0, 1.0, 2.0])
    stopper = callbacks.EarlyStopping(monitor="score", patience=5, restore_best_weights=True)
    net = model()
    net.fit(X, Y, epochs=3, callbacks=[scripted, stopper], verbose=0)
    assert stopper.stopped_epoch == 0
    np.testing.assert_array_equal(net.get_weights()[0], scripted.weights[1][0])


def test_early_stopping_mode_min_delta_and_verbose(capsys):
    scripted = Scripted([0.5, 0.55, 0.56, 0.9])
    stopper = callbacks.EarlyStopping(monitor="score", mode="max", min_delta=0.02, patience=1,
                                      verbose=1)
    history = model().fit(X, Y, epochs=4, callbacks=[scripted, stopper], verbose=0)
    # 0.55 beats 0.5 by 0.05; 0.56 beats 0.55 by only 0.01 < min_delta: stop at epoch 2.
    assert history.epoch == [0, 1, 2]
    assert capsys.readouterr().out == "Epoch 3: early stopping\n"


def test_early_stopping_on_val_loss_by_default_warns_without_it():
    stopper = callbacks.EarlyStopping()
    assert stopper.monitor == "val_loss"
    with pytest.warns(UserWarning, match="`val_loss` which is not available"):
        model().fit(X, Y, epochs=2, callbacks=[stopper], verbose=0)


# --- ModelCheckpoint ----------------------------------------------------------------------------


def test_model_checkpoint_saves_loadable_weights_each_epoch(tmp_path):
    scripted = Scripted([1.0, 1.0])
    path = tmp_path / "ckpt-{epoch:02d}.weights.npz"
    net = model()
    net.fit(X, Y, epochs=2, verbose=0,
            callbacks=[scripted, callbacks.ModelCheckpoint(path, save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01.weights.npz",
                                                          "ckpt-02.weights.npz"]
    other = model()
    other.load_weights(tmp_path / "ckpt-01.weights.npz")
    for got, want in zip(other.get_weights(), scripted.weights[0]):
        np.testing.assert_array_equal(got, want)


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    scripted = Scripted([2.0, 1.0, 1.5, 0.5])
    path = tmp_path / "best.weights.npz"
    checkpoint = callbacks.ModelCheckpoint(path, monitor="score", save_best_only=True,
                                           save_weights_only=True, verbose=1)
    writes = []
    real_save = Sequential.save_weights

    def counting_save(self, filepath, overwrite=True):
        writes.append(len(scripted.weights) - 1)
        real_save(self, filepath, overwrite)

    net = model()
    net.save_weights = counting_save.__get__(net)
    net.fit(X, Y, epochs=4, callbacks=[scripted, checkpoint], verbose=0)
    assert writes == [0, 1, 3] and checkpoint.best == 0.5
    net.load_weights(path)
    np.testing.assert_array_equal(net.get_weights()[0], scripted.weights[3][0])
    out = capsys.readouterr().out
    assert "Epoch 1: score improved from None to 2.00000, saving model to" in out
    assert "Epoch 3: score did not improve from 1.00000" in out


def test_model_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    net = model()
    path = tmp_path / "w.weights.npz"
    net.save_weights(path)
    saved = net.get_weights()
    net.set_weights([w + 1 for w in saved])

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        net.fit(X, Y, verbose=0,
                callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True)])
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["w.weights.npz"]  # no temp file left
    net.load_weights(path)  # the old file is whole
    np.testing.assert_array_equal(net.get_weights()[0], saved[0])


# --- LambdaCallback, TerminateOnNaN, CSVLogger --------------------------------------------------


def test_lambda_callback_hooks():
    events = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("begin"),
        on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch, round(logs["loss"], 6))),
        on_train_end=lambda logs: events.append("end"))
    history = model().fit(X, Y, epochs=2, callbacks=[cb], verbose=0)
    losses = [round(v, 6) for v in history.history["loss"]]
    assert events == ["begin", ("epoch", 0, losses[0]), ("epoch", 1, losses[1]), "end"]


def nan_model() -> Sequential:
    net = Sequential([layers.Input((4,)), layers.Dense(3)])
    net.compile("sgd", loss=lambda y_true, y_pred: tf.reduce_mean(y_pred) * float("nan"))
    return net


def test_terminate_on_nan_stops_after_the_first_bad_batch(capsys):
    seen = []
    history = nan_model().fit(
        X, Y, batch_size=2, epochs=3, verbose=0,
        callbacks=[callbacks.TerminateOnNaN(),
                   callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))])
    assert seen == [0] and history.epoch == [0]
    assert np.isnan(history.history["loss"][0])
    assert capsys.readouterr().out == "Batch 0: Invalid loss, terminating training\n"
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        nan_model().fit(X, Y, verbose=0, callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


def test_csv_logger_matches_keras_format(tmp_path):
    path = tmp_path / "log.csv"
    history = model().fit(X, Y, epochs=2, validation_data=(X, Y), verbose=0,
                          callbacks=[callbacks.CSVLogger(path)])
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(lines) == 3
    assert "\r" not in text
    rows = list(csv.DictReader(lines))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    for key, values in history.history.items():
        assert [float(r[key]) for r in rows] == values  # full float precision, as Keras


def test_csv_logger_without_validation_and_append(tmp_path):
    path = tmp_path / "log.csv"
    net = model()
    net.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    net.fit(X, Y, epochs=2, verbose=0,
            callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    # Keras adds the val_ columns (NA) even without validation; no second header.
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert lines[1].startswith("0,") and lines[1].endswith(",NA,NA")
    assert lines[2].startswith("0;") and lines[3].startswith("1;") and len(lines) == 4


def test_history_is_a_callback_recording_epochs():
    history = callbacks.History()
    net = model()
    returned = net.fit(X, Y, epochs=2, callbacks=[history], verbose=0)
    assert returned is history and net.history is history and history.epoch == [0, 1]
