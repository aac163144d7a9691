"""Callbacks that write or run things: ModelCheckpoint, CSVLogger, LambdaCallback."""

from __future__ import annotations

import csv
import os
import secrets
import warnings

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitoring import _improvement_direction


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a hidden temporary file in the same folder (so the same file
    system), which ``os.replace`` then renames over ``path``. On any failure,
    KeyboardInterrupt included, the temporary file is removed and ``path`` is
    untouched. The file gets the mode ``open`` would give it (0o666 less the umask),
    not the owner-only mode of ``tempfile.mkstemp``.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp = None
    try:
        while temp is None:
            # The name is set before the file exists, so that an interrupt right after
            # creating it still finds it to remove.
            temp = _temporary_name(path)
            try:
                fd = _create(temp, path)
            except FileExistsError:  # another writer drew the same name: not ours to remove
                temp = None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
    finally:
        if temp is not None:
            _remove_quietly(temp)


def _temporary_name(path: str) -> str:
    """A fresh hidden name in the folder of ``path`` (same file system, so renames are atomic)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")


def _create(temp: str, path: str) -> int:
    """Create the new file ``temp`` for writing; errors name ``path``, the file asked for."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        # 0o666: the umask then decides the mode, as for any file a program creates.
        return os.open(temp, flags, 0o666)
    except FileExistsError:
        raise
    except OSError as error:
        raise OSError(error.errno, error.strerror, path) from error


def _remove_quietly(temp: str) -> None:
    # The original error matters more than a failure to clean up after it.
    try:
        os.unlink(temp)
    except OSError:
        pass


class ModelCheckpoint(Callback):
    """Save the model's weights after each epoch (or only when ``monitor`` improves).

    ``filepath`` may hold format fields such as ``{epoch:02d}`` or ``{val_loss:.2f}``.
    Weights are stored as a NumPy ``.npz`` archive, atomically: a reader sees the
    previous file or the new one, never half of one. ``Model.load_weights`` reads them
    back. Keras's ``.weights.h5`` format is not written yet: such a name is refused here,
    before training starts, rather than at the end of the first epoch.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=True, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. ModelCheckpoint supports "
                             f"save_freq='epoch'.")
        from neuroflow.keras.models.model import check_weights_filename

        self.filepath = os.fspath(filepath)
        check_weights_filename(self.filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.direction = _improvement_direction(monitor, mode)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {error}. The fields it can use are epoch and the logged "
                           f"values: {', '.join(sorted(logs))}.") from None
        if self._should_save(epoch, logs, path):
            if os.path.isdir(path):
                raise OSError(f"Please specify a non-directory filepath for ModelCheckpoint. "
                              f"Filepath used is an existing directory: {path}. Name a file "
                              f"in it, e.g. {os.path.join(path, 'checkpoint.npz')!r}.")
            self.model.save_weights(path)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: finished saving model to {path}")

    def _should_save(self, epoch: int, logs: dict, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=2)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is not None and self.direction * (value - self.best) <= 0:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
            return False
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {value:.5f}, "
                  f"saving model to {path}")
        self.best = value
        return True


class CSVLogger(Callback):
    """Write each epoch's logs to a CSV file: ``epoch`` first, then the sorted log keys.

    As in Keras, a run without validation still gets the ``val_`` columns (``NA``), so
    the header reads ``epoch,accuracy,loss,val_accuracy,val_loss`` either way.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as handle:
                header = not handle.readline()
        self._close()
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header = header
        self._writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self._writer is None:
            self._writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")
            if self._header:
                self._writer.writerow(["epoch", *self.keys])
        self._writer.writerow([epoch, *(_plain(logs.get(k, "NA")) for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._writer = None


def _plain(value):
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim:
        return f"[{', '.join(map(str, value.tolist()))}]"
    return value.item() if isinstance(value, np.generic | np.ndarray) else value


class LambdaCallback(Callback):
    """A callback made of plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in hooks.items():
            if fn is not None:
                if not name.startswith("on_"):
                    raise TypeError(f"LambdaCallback got an unknown hook {name!r}: hooks are "
                                    f"named after Callback methods, e.g. on_epoch_end=fn.")
                setattr(self, name, fn)
