"""BackupAndRestore: resume an interrupted ``fit`` where its last backup left it."""

from __future__ import annotations

import json
import os
import random
import shutil
from typing import Any

import numpy as np

from neuroflow.errors import DataLossError, NotFoundError
from neuroflow.keras.callbacks.callback import Callback
from neuroflow.train import checkpoint_io
from neuroflow.train.checkpoint import Checkpoint
from neuroflow.train.trackable import PythonState


class BackupAndRestore(Callback):
    """Back up the training state during ``fit``; a new ``fit`` after a crash resumes from it.

    The backup is one checkpoint in ``backup_dir`` holding the model's weights, its
    optimizer's state (step count, slot variables), the epoch reached, and the state of
    the random generators that ``fit`` and the user's code draw from (neuroflow's
    seeded streams, which shuffle each epoch; NumPy's and Python's global generators).
    So a seeded run killed at any moment and started again with the same code ends
    with the same weights, bit for bit, as a run never interrupted. The backup is
    written atomically: a kill while it is written leaves the previous backup whole.

    As in Keras 3, ``fit`` resumes at the epoch after the last backup; with an integer
    ``save_freq`` the backup may be from the middle of an epoch, and that epoch is run
    again from its start (with the weights of the backup, so not bit for bit).

    Args:
        backup_dir: the folder of the backup; it is deleted when training ends (with
            ``delete_checkpoint=True``), so it must not hold anything else.
        save_freq: ``"epoch"`` to back up after each epoch, or a number of batches.
        double_checkpoint: keep the previous backup too, and fall back to it if the
            latest cannot be read.
        delete_checkpoint: delete ``backup_dir`` when ``fit`` ends.

    Random numbers drawn inside a compiled step (``Dropout``) take their seeds when the
    step is traced, at the first step of each ``fit``; a resumed run traces it at another
    point of the sequence of random ops, so its dropout masks differ from an
    uninterrupted run's (its shuffling does not).
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, (int, np.integer))
                                     or save_freq <= 0):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq!r}. Expected either 'epoch' or an integer "
                             f"value (a positive number of batches).")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._latest = os.path.join(self.backup_dir, "latest")
        self._previous = os.path.join(self.backup_dir, "previous")
        self._state = _TrainingState()
        self._current_epoch = 0
        self._last_batch_seen = -1
        self._batches_since_save = 0
        self._epoch_start_random_state: dict | None = None

    def _checkpoint(self) -> Checkpoint:
        return Checkpoint(model=self.model, training_state=self._state)

    # --- restoring -------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(f"To use the BackupAndRestore callback, you model must be built "
                             f"before you call `fit()`. Model {self.model.name!r} is unbuilt. "
                             f"You can build it beforehand by calling it on a batch of data, "
                             f"or start it with an Input layer.")
        if not checkpoint_io.exists(self._latest):
            return
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            # Create the slots now, so that they are restored with the rest.
            optimizer.build(self.model.trainable_variables)
        try:
            status = self._checkpoint().read(self._latest)
        except (OSError, DataLossError, NotFoundError):
            # The files are checked whole before any value is assigned, so nothing was
            # restored from the unreadable backup.
            if not (self.double_checkpoint and checkpoint_io.exists(self._previous)):
                raise
            status = self._checkpoint().read(self._previous)
        try:
            status.assert_consumed()
        except AssertionError as error:
            raise ValueError(f"The backup in {self.backup_dir} does not fit this model and "
                             f"optimizer ({error}). It was written by another training run: "
                             f"delete the folder, or give this run its own backup_dir.") from None
        state = self._state.value
        self.model._initial_epoch = state["epoch"]
        _set_random_state(state["random"])

    # --- backing up ------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        # A backup made inside this epoch resumes at its start: it must shuffle the same.
        self._epoch_start_random_state = _random_state()

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = -1
        if self.save_freq == "epoch":
            self._save(_random_state())

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save(self._epoch_start_random_state or _random_state())

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        # Batches are numbered from 0 in each epoch; a smaller number means a new epoch.
        seen = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_save += seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            return True
        return False

    def _save(self, random_state: dict) -> None:
        self._state.value = {"epoch": self._current_epoch, "random": random_state}
        if self.double_checkpoint and checkpoint_io.exists(self._latest):
            try:
                checkpoint_io.copy(self._latest, self._previous)
            except (OSError, DataLossError):
                pass  # a damaged backup is not worth keeping: the previous one stays
        self._checkpoint().write(self._latest)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


class _TrainingState(PythonState):
    """The epoch reached and the random generators' state, as JSON in the checkpoint."""

    def __init__(self):
        self.value: dict[str, Any] = {}

    def serialize(self) -> str:
        return json.dumps(self.value)

    def deserialize(self, string_value: str) -> None:
        self.value = json.loads(string_value)


def _random_state() -> dict:
    """The state of every generator a training run draws from, as JSON-ready values."""
    from neuroflow.ops import random_ops

    # The seeded streams of neuroflow's random ops: fit's shuffling is one of them.
    seeds = random_ops._state
    name, keys, position, has_gauss, gauss = np.random.get_state()
    version, words, gauss_next = random.getstate()
    return {"neuroflow": {"global_seed": seeds.global_seed, "op_counter": seeds.op_counter,
                          "calls": [[*pair, count] for pair, count in seeds.calls.items()]},
            "numpy": [name, keys.tolist(), position, has_gauss, gauss],
            "python": [version, list(words), gauss_next]}


def _set_random_state(state: dict) -> None:
    from neuroflow.ops import random_ops

    seeds = random_ops._state
    saved = state["neuroflow"]
    seeds.global_seed = saved["global_seed"]
    seeds.op_counter = saved["op_counter"]
    seeds.calls = {(global_seed, op_seed): count
                   for global_seed, op_seed, count in saved["calls"]}
    name, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, gauss))
    version, words, gauss_next = state["python"]
    random.setstate((version, tuple(words), gauss_next))
