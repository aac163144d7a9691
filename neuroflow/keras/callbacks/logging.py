"""Callbacks that write or run things: ModelCheckpoint, CSVLogger, LambdaCallback."""

from __future__ import annotations

import csv
import io
import os
import tempfile

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitoring import _improvement_direction


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


class ModelCheckpoint(Callback):
    """Save the model's weights after each epoch (or only the best ones).

    ``filepath`` may hold format fields such as ``{epoch:02d}`` or ``{val_loss:.2f}``.
    Weights are stored as a NumPy ``.npz`` archive (``.weights.h5`` names are accepted
    and written in the same format), atomically.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=True, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint supports save_freq='epoch' only.")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.direction = _improvement_direction(monitor, mode)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                import warnings

                warnings.warn(f"Can save best model only with {self.monitor} available.",
                              stacklevel=2)
                return
            if self.best is not None and self.direction * (value - self.best) <= 0:
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{value:.5f}, saving model to {path}")
            self.best = value
        self.model.save_weights(path)


class CSVLogger(Callback):
    """Append each epoch's logs to a CSV file (``epoch`` first, then sorted keys)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self.keys = None

    def on_train_begin(self, logs=None):
        self._has_header = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        if not self.append:
            open(self.filename, "w").close()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        row = io.StringIO()
        writer = csv.writer(row, delimiter=self.separator, lineterminator="\n")
        if not self._has_header:
            writer.writerow(["epoch", *self.keys])
            self._has_header = True
        writer.writerow([epoch, *(_plain(logs.get(k, "NA")) for k in self.keys)])
        with open(self.filename, "a") as handle:
            handle.write(row.getvalue())


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


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
                    raise TypeError(f"LambdaCallback got an unknown hook {name!r}.")
                setattr(self, name, fn)
