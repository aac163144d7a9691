"""``tf.train.CheckpointManager`` and the ``checkpoint`` file that lists a folder's checkpoints.

The ``checkpoint`` file is TensorFlow's text format, one field per line, paths relative
to the folder::

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_timestamps: 1733212345.25
    all_model_checkpoint_timestamps: 1733212399.5
    last_preserved_timestamp: 1733212300.0

It is replaced atomically after each save, so a reader (``latest_checkpoint``, a new
manager after a crash) sees the list before the save or after it.
"""

from __future__ import annotations

import collections
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroflow.train import checkpoint_io
from neuroflow.util.files import write_atomically

_STATE_FILE = "checkpoint"
_LINE = re.compile(r'^\s*(\w+)\s*:\s*(.*?)\s*$')


@dataclass
class CheckpointState:
    """The contents of a folder's ``checkpoint`` file (paths made absolute when relative)."""

    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float = 0.0


def get_checkpoint_state(checkpoint_dir, latest_filename: str | None = None
                         ) -> CheckpointState | None:
    """The folder's checkpoint list, or None if it has no ``checkpoint`` file."""
    folder = os.fspath(checkpoint_dir)
    path = os.path.join(folder, latest_filename or _STATE_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    state = CheckpointState()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{path}, line {number}: expected `name: value`, found {line!r}. "
                             f"The checkpoint file was edited or damaged; delete it, or write "
                             f"one line per field as a CheckpointManager does.")
        name, raw = match.groups()
        if name in ("model_checkpoint_path", "all_model_checkpoint_paths"):
            value = os.path.join(folder, _unquote(raw, path, number))
            if name == "model_checkpoint_path":
                state.model_checkpoint_path = value
            else:
                state.all_model_checkpoint_paths.append(value)
        elif name == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(raw))
        elif name == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(raw)
    return state


def _unquote(raw: str, path: str, number: int) -> str:
    # Paths are written as JSON strings, which are also valid text-format strings for the
    # usual file names (TensorFlow escapes only quotes, backslashes and control bytes).
    if not (len(raw) >= 2 and raw[0] == raw[-1] == '"'):
        raise ValueError(f"{path}, line {number}: expected a quoted path, found {raw!r}.")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}, line {number}: {raw} is not a valid quoted path "
                         f"({error}).") from None


def write_checkpoint_state(directory: str, latest: str, paths: list[str],
                           timestamps: list[float] | None = None,
                           last_preserved: float | None = None) -> None:
    """Replace ``directory/checkpoint`` atomically; paths inside the folder are written relative."""
    def relative(path: str) -> str:
        return os.path.relpath(path, directory) if os.path.isabs(path) else path

    lines = [f"model_checkpoint_path: {json.dumps(relative(latest))}"]
    lines += [f"all_model_checkpoint_paths: {json.dumps(relative(p))}" for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in timestamps or ()]
    if last_preserved is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved!r}")
    write_atomically(os.path.join(directory, _STATE_FILE), ("\n".join(lines) + "\n").encode())


def record_latest(path: str) -> None:
    """What ``Checkpoint.save`` records: ``path`` as the only and latest checkpoint."""
    write_checkpoint_state(os.path.dirname(os.path.abspath(path)), os.path.abspath(path),
                           [os.path.abspath(path)])


def latest_checkpoint(checkpoint_dir, latest_filename: str | None = None) -> str | None:
    """The prefix of the folder's latest checkpoint, or None if there is none (or it is gone)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    path = state.model_checkpoint_path
    return path if checkpoint_io.exists(path) else None


class CheckpointManager:
    """Saves numbered checkpoints of ``checkpoint`` in ``directory``, keeping the last few.

    Args (as ``tf.train.CheckpointManager``):
        checkpoint: the ``tf.train.Checkpoint`` to save.
        directory: the folder for the checkpoints and the ``checkpoint`` list.
        max_to_keep: how many to keep (oldest deleted first); None keeps all.
        keep_checkpoint_every_n_hours: also keep one checkpoint per this many hours.
        checkpoint_name: the files' prefix (``ckpt-1.index``...).
        step_counter, checkpoint_interval: with both, ``save`` writes only when the
            step counter has advanced by ``checkpoint_interval`` since the last save.
        init_fn: what ``restore_or_initialize`` calls when there is no checkpoint.

    A manager made on a folder that has a ``checkpoint`` file continues its list.
    """

    def __init__(self, checkpoint, directory, max_to_keep: int | None,
                 keep_checkpoint_every_n_hours: float | None = None,
                 checkpoint_name: str = "ckpt", step_counter=None,
                 checkpoint_interval: int | None = None,
                 init_fn: Callable[[], Any] | None = None,
                 last_checkpoint_step: int | None = None):
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not "
                             "None.")
        self._checkpoint = checkpoint
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._directory = os.fspath(directory)
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_step = last_checkpoint_step
        self._init_fn = init_fn
        self._maybe_delete: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._recover_state()

    def _recover_state(self) -> None:
        now = time.time()
        state = get_checkpoint_state(self._directory)
        if state is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now - 1.0
            return
        self._latest_checkpoint = state.model_checkpoint_path or None
        # A clock set back since the last run must not make old checkpoints look new.
        self._last_preserved_timestamp = min(state.last_preserved_timestamp, now)
        timestamps = (state.all_model_checkpoint_timestamps
                      or [self._last_preserved_timestamp] * len(state.all_model_checkpoint_paths))
        for path, stamp in zip(state.all_model_checkpoint_paths, timestamps):
            stamp = min(stamp, now)
            if stamp > self._last_preserved_timestamp:
                self._maybe_delete[path] = stamp

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self) -> str | None:
        """The prefix of the newest checkpoint this manager knows, or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list[str]:
        """The prefixes of the kept checkpoints, oldest first (not the hourly ones)."""
        return list(self._maybe_delete)

    def save(self, checkpoint_number=None, check_interval: bool = True) -> str | None:
        """Write a new checkpoint and delete the ones beyond ``max_to_keep``.

        Returns its prefix (``<directory>/ckpt-<n>``), or None when ``checkpoint_interval``
        steps have not passed since the last save. ``n`` is ``checkpoint_number`` (an int
        or an integer variable) or else the checkpoint's ``save_counter``, which is
        incremented either way.
        """
        if self._checkpoint_interval is not None:
            step = _as_int(self._step_counter, "step_counter")
            if self._last_checkpoint_step is not None:
                if step == self._last_checkpoint_step:
                    return None
                if check_interval and step < self._last_checkpoint_step + \
                        self._checkpoint_interval:
                    return None
            self._last_checkpoint_step = step
        counter = self._checkpoint.save_counter
        counter.assign_add(np.int64(1))
        number = counter if checkpoint_number is None else checkpoint_number
        path = self._checkpoint.write(f"{self._prefix}-{_as_int(number, 'checkpoint_number')}")
        self._maybe_delete.pop(path, None)
        self._maybe_delete[path] = time.time()
        self._latest_checkpoint = path
        # The list is recorded before deleting, so that a crash midway leaves a list that
        # still names every checkpoint on disk, and again after.
        self._record_state()
        self._sweep()
        self._record_state()
        return path

    def _sweep(self) -> None:
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            path, stamp = self._maybe_delete.popitem(last=False)
            hours = self._keep_checkpoint_every_n_hours
            if hours and stamp - hours * 3600.0 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = stamp
                continue
            checkpoint_io.remove(path)

    def _record_state(self) -> None:
        write_checkpoint_state(self._directory, self._latest_checkpoint,
                               list(self._maybe_delete), list(self._maybe_delete.values()),
                               self._last_preserved_timestamp)

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint and return its path; else call ``init_fn``, return None."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = _as_int(self._step_counter, "step_counter")
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self) -> None:
        """Nothing to wait for: saves are synchronous."""


def _as_int(value, what: str) -> int:
    """An int from a Python or NumPy integer, a scalar tensor or a variable."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    array = np.asarray(value)
    if array.shape != () or array.dtype.kind not in "iu":
        raise TypeError(f"{what} must be an integer or an integer scalar variable, received "
                        f"{value!r}. Pass e.g. {what}=step, with step an int or "
                        f"tf.Variable(0, dtype=tf.int64).")
    return int(array)
