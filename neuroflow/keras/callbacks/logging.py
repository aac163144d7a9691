"""Callbacks that write or run things: ModelCheckpoint, CSVLogger, LambdaCallback."""

from __future__ import annotations

import csv
import os
import warnings

import numpy as np

from neuroflow.keras.callbacks.callback import Callback
from neuroflow.keras.callbacks.monitoring import _improvement_direction
from neuroflow.util.files import write_atomically  # noqa: F401 (imported from here elsewhere)


class ModelCheckpoint(Callback):
    """Save the model after each epoch or every ``save_freq`` batches, as Keras 3 does.

    By default the whole model is saved with ``model.save(path)``, so ``filepath`` must
    end in ``.keras`` (Keras 3 also writes legacy ``.h5`` models; neuroflow does not). With
    ``save_weights_only=True`` the
    weights are saved with ``model.save_weights(path)``: the name must end in
    ``.weights.h5`` (Keras's format) or ``.npz`` (neuroflow's weights archive). Both
    write atomically: a reader sees the previous file or the new one, never half.

    ``filepath`` may hold format fields: ``{epoch:02d}``, ``{batch}`` (with an integer
    ``save_freq``) and any logged value such as ``{val_loss:.2f}``. With
    ``save_best_only`` a file is written only when ``monitor`` improves on the best
    value so far (``mode`` "min", "max", or "auto" from the metric's name).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch" and (isinstance(save_freq, bool) or
                                     not isinstance(save_freq, (int, np.integer))
                                     or save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are "
                             f"'epoch' or integer values (a positive number of batches).")
        self.filepath = os.fspath(filepath)
        _check_filename(self.filepath, save_weights_only)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.direction = _improvement_direction(monitor, mode)
        self.best = initial_value_threshold
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs or {})

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs or {})

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        # Batches are numbered from 0 in each epoch: a number not above the last means a
        # new epoch began.
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict) -> None:
        path = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        if os.path.isdir(path):
            suffix = ".npz" if self.save_weights_only else ".keras"
            raise OSError(f"Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {path}. Name a file "
                          f"in it, e.g. {os.path.join(path, 'checkpoint' + suffix)!r}.")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {error}. The fields it can use are epoch"
                           f"{', batch' if batch is not None else ''} and the logged values: "
                           f"{', '.join(sorted(logs))}.") from None

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
        if np.ndim(value) > 0:
            warnings.warn(f"Can save best model only when `monitor` is a scalar value. "
                          f"Received: {value}. Falling back to `save_best_only=False`.",
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


def _check_filename(path: str, save_weights_only: bool) -> None:
    """Keras 3's rules for the file name, checked before training starts."""
    if save_weights_only:
        if not path.endswith((".weights.h5", ".npz")):
            raise ValueError(f"When using `save_weights_only=True` in `ModelCheckpoint`, the "
                             f"filepath provided must end in `.weights.h5` (Keras weights "
                             f"format) or `.npz` (neuroflow's weights archive). Received: "
                             f"filepath={path}")
    elif path.endswith(".h5"):
        # Keras 3 still writes its legacy HDF5 models here; model.save cannot, so the name
        # is refused now rather than at the end of the first epoch.
        raise NotImplementedError(f"Cannot save models to {path}: the legacy Keras 2 HDF5 "
                                  f"model format (.h5) is not supported. Use a name ending in "
                                  f"`.keras`, such as {path[:-3] + '.keras'!r}.")
    elif not path.endswith(".keras"):
        raise ValueError(f"The filepath provided must end in `.keras` (Keras model format). "
                         f"Received: filepath={path}. To save only the weights, pass "
                         f"save_weights_only=True with a name ending in `.weights.h5` or "
                         f"`.npz`.")


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
