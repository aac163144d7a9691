"""BackupAndRestore: a fit killed midway and started again ends as if never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors, keras
from neuroflow.keras.callbacks import BackupAndRestore, Callback

ROOT = Path(__file__).resolve().parents[2]
X = np.random.default_rng(0).random((64, 4)).astype("float32")
Y = np.random.default_rng(1).integers(0, 3, 64)


def _model(optimizer="adam"):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(keras.optimizers.get(optimizer), "sparse_categorical_crossentropy")
    return model


class _StartAt(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_train_begin(self, logs=None):
        self.model._initial_epoch = self.epoch


def test_fit_resumes_where_a_callback_says():
    """fit starts at the epoch a callback sets in on_train_begin (Keras 3's hook), once."""
    model = _model()
    assert model.fit(X, Y, epochs=2, verbose=0, callbacks=[_StartAt(1)]).epoch == [1]
    assert model.fit(X, Y, epochs=2, verbose=0).epoch == [0, 1]


class _Interrupt(Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("Interrupting!")


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        BackupAndRestore("")
    for bad in ("batch", 0, True, 1.5):
        with pytest.raises(ValueError, match="Expected either 'epoch' or an integer value"):
            BackupAndRestore("b", save_freq=bad)


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(3)

    def call(self, inputs):
        return self.dense(inputs)


def test_an_unbuilt_model_is_refused(tmp_path):
    model = _Subclassed()  # built by its first step, after the backup is restored
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="you model must be built before you call `fit\\(\\)`"):
        model.fit(X, np.zeros((64, 3)), verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_interrupted_fit_resumes_at_the_next_epoch_with_the_same_result(tmp_path):
    tf.keras.utils.set_random_seed(3)
    whole = _model()
    whole.fit(X, Y, epochs=5, verbose=0)
    tf.keras.utils.set_random_seed(3)
    model = _model()
    backup = BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="Interrupting"):
        model.fit(X, Y, epochs=5, verbose=0, callbacks=[backup, _Interrupt(3)])
    assert (tmp_path / "backup" / "latest.index").exists()
    tf.keras.utils.set_random_seed(3)
    again = _model()  # a new process would build it again from the seed
    history = again.fit(X, Y, epochs=5, verbose=0, callbacks=[BackupAndRestore(tmp_path /
                                                                               "backup")])
    assert history.epoch == [3, 4]
    assert not (tmp_path / "backup").exists()  # deleted when training ends
    for ours, theirs in zip(again.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(again.optimizer.iterations.numpy(),
                                  whole.optimizer.iterations.numpy())


def test_kept_backup_and_batch_frequency(tmp_path):
    model = _model()
    writes = []
    backup = BackupAndRestore(tmp_path, save_freq=3, delete_checkpoint=False)
    real_save = backup._save
    backup._save = lambda state: (writes.append(backup._current_epoch), real_save(state))
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=[backup])
    assert writes == [0, 1]  # batches 3 and 6 of the 8: one in each epoch
    assert (tmp_path / "latest.index").exists()
    # the backup of epoch 1 (the second) resumes that epoch from its start, as Keras does
    history = _model().fit(X, Y, epochs=2, verbose=0, callbacks=[BackupAndRestore(tmp_path)])
    assert history.epoch == [1]


def test_a_backup_of_another_model_is_refused(tmp_path):
    _model().fit(X, Y, verbose=0, callbacks=[BackupAndRestore(tmp_path,
                                                              delete_checkpoint=False)])
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    other.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="Received incompatible tensor with shape"):
        other.fit(X, Y, verbose=0, callbacks=[BackupAndRestore(tmp_path,
                                                               delete_checkpoint=False)])
    with pytest.raises(ValueError, match="does not fit this model and optimizer.*Unresolved "
                                         "object.*delete the folder"):
        _model("sgd").fit(X, Y, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    model = _model()
    with pytest.raises(RuntimeError):
        model.fit(X, Y, epochs=4, verbose=0, callbacks=[
            BackupAndRestore(tmp_path, double_checkpoint=True), _Interrupt(3)])
    assert (tmp_path / "previous.index").exists()
    data = next(tmp_path.glob("latest.data-*.npz"))
    data.write_bytes(data.read_bytes()[:-10])  # the disk lost the latest backup's end
    history = _model().fit(X, Y, epochs=4, verbose=0,
                           callbacks=[BackupAndRestore(tmp_path, double_checkpoint=True)])
    assert history.epoch == [2, 3]  # from the backup before the latest


def test_a_damaged_backup_without_a_previous_one_is_reported(tmp_path):
    with pytest.raises(RuntimeError):
        _model().fit(X, Y, epochs=3, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path), _Interrupt(2)])
    data = next(tmp_path.glob("latest.data-*.npz"))
    data.write_bytes(b"")
    with pytest.raises(errors.DataLossError, match="does not match the index"):
        _model().fit(X, Y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


# --- the lab, killed with SIGKILL in its third epoch -------------------------------------------

_LAB = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    import neuroflow as tf
    from neuroflow import lab

    mode, folder = sys.argv[1], sys.argv[2]
    keras = tf.keras
    # The lab's run(seed=0), on a small synthetic stand-in for its data (1,200 images).
    keras.utils.set_random_seed(0)
    data = np.random.default_rng(1234)
    x, y = data.random((1200, 28, 28)), data.integers(0, 10, 1200)
    x_valid, y_valid = data.random((200, 28, 28)), data.integers(0, 10, 200)
    model = lab.build_model(tf)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])

    class StallInThirdEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 2 and batch == 20:
                open(os.path.join(folder, "marker"), "w").close()
                time.sleep(120)  # killed here

    callbacks = []
    if mode != "plain":
        callbacks.append(keras.callbacks.BackupAndRestore(os.path.join(folder, "backup")))
    if mode == "interrupted":
        callbacks.append(StallInThirdEpoch())
    history = model.fit(x, y, epochs=5, validation_data=(x_valid, y_valid), verbose=0,
                        callbacks=callbacks)
    np.savez(os.path.join(folder, mode + ".npz"), *model.get_weights())
    with open(os.path.join(folder, mode + ".json"), "w") as handle:
        json.dump(history.epoch, handle)
""")


def _run(script: Path, mode: str, folder: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, str(script), mode, str(folder)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()


def test_lab_killed_in_its_third_epoch_resumes_to_the_same_weights(tmp_path):
    script = tmp_path / "lab_run.py"
    script.write_text(_LAB)
    plain = _run(script, "plain", tmp_path)
    interrupted = _run(script, "interrupted", tmp_path)
    deadline = time.monotonic() + 120
    while not (tmp_path / "marker").exists():
        assert interrupted.poll() is None, interrupted.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never reached its third epoch"
        time.sleep(0.02)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.wait()
    assert interrupted.returncode == -signal.SIGKILL
    assert (tmp_path / "backup" / "latest.index").exists()
    _finish(_run(script, "resumed", tmp_path))
    _finish(plain)
    assert json.loads((tmp_path / "resumed.json").read_text()) == [2, 3, 4]
    assert json.loads((tmp_path / "plain.json").read_text()) == [0, 1, 2, 3, 4]
    with np.load(tmp_path / "plain.npz") as want, np.load(tmp_path / "resumed.npz") as got:
        assert len(want.files) == 6
        for name in want.files:
            np.testing.assert_array_equal(got[name], want[name])  # bit for bit
    assert not (tmp_path / "backup").exists()
