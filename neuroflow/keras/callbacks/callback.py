"""Callback base class, the list that dispatches to callbacks, History and the progress logger."""

from __future__ import annotations

import sys
import time

import numpy as np

from neuroflow.keras.utils.progbar import Progbar


class Callback:
    """Base class: override any ``on_*`` hook. ``self.model`` is set by ``fit``.

    Hooks run in Keras's order: ``on_train_begin``, then per epoch
    ``on_epoch_begin``, ``on_train_batch_begin``/``on_train_batch_end`` per batch,
    the validation's ``on_test_*`` hooks, ``on_epoch_end``; finally ``on_train_end``.
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names: the train-batch hooks forward to them, as in Keras 3.
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]
_LEGACY = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (an override or an instance attribute).

    A Keras 2 style ``on_batch_end`` counts as ``on_train_batch_end``, which forwards to it.
    """
    method = getattr(callback, hook, None)
    if method is None:
        return False
    if getattr(method, "__func__", None) is not getattr(Callback, hook):
        return True
    legacy = _LEGACY.get(hook)
    return legacy is not None and _overrides(callback, legacy)


def pythonify_logs(logs) -> dict:
    """Logs as callbacks see them: a new dict, sorted by key, numbers as Python floats."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        array = np.asarray(value) if hasattr(value, "__array__") else None
        if array is not None and array.ndim > 0:
            result[key] = array  # one value per class or threshold, as Keras keeps it
            continue
        try:
            result[key] = float(value)
        except (TypeError, ValueError):
            result[key] = value
    return result


class CallbackList(Callback):
    """Calls each hook on every callback, in order (user callbacks, then History, then progress).

    Only hooks some callback overrides are dispatched: on a 1,719-step epoch the
    empty per-batch calls would otherwise add up. For the same reason batch-end
    logs are computed only when a callback reads them (see ``batch_end``).
    """

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False,
                 model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if progbar is None and add_progbar:
            self.callbacks.append(ProgbarLogger())
        self._index_hooks()
        self.set_model(model)
        self.set_params(params)

    def _index_hooks(self) -> None:
        self._subscribers = {hook: [cb for cb in self.callbacks if _overrides(cb, hook)]
                             for hook in _HOOKS}
        self._needs_logs = {hook: any(getattr(cb, "needs_batch_logs", True) for cb in subs)
                            for hook, subs in self._subscribers.items()}

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._index_hooks()
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    def set_model(self, model) -> None:
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict) -> None:
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def wants(self, hook: str) -> bool:
        """Whether any callback does something in ``hook``."""
        return bool(self._subscribers[hook])

    def _dispatch(self, hook: str, *args) -> None:
        subscribers = self._subscribers[hook]
        if subscribers:
            logs = pythonify_logs(args[-1])
            for cb in subscribers:
                getattr(cb, hook)(*args[:-1], logs)

    def _dispatch_batch(self, hook: str, batch: int, logs) -> None:
        subscribers = self._subscribers[hook]
        if subscribers:
            logs = pythonify_logs(logs)
            for cb in subscribers:
                getattr(cb, hook)(batch, logs=logs)

    def batch_end(self, hook: str, batch: int, logs=None) -> None:
        """Run a ``*_batch_end`` hook; ``logs=None`` means "the model's metrics, if needed".

        The trainer passes ``None`` instead of computing every metric's result after
        each step; they are read here only if a subscribed callback needs them
        (the progress logger reads them itself when it redraws).
        """
        subscribers = self._subscribers[hook]
        if not subscribers:
            return
        if logs is None and self._needs_logs[hook]:
            logs = self.model.get_metrics_result()
        elif logs is not None:
            logs = pythonify_logs(logs)
        for cb in subscribers:
            getattr(cb, hook)(batch, logs=logs)

    # The hooks, as Keras's CallbackList has them.
    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.batch_end("on_train_batch_end", batch, logs if logs is not None else {})

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self.batch_end("on_test_batch_end", batch, logs if logs is not None else {})

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        # Predictions are arrays: handed over as they are, not turned into floats.
        for cb in self._subscribers["on_predict_batch_end"]:
            cb.on_predict_batch_end(batch, logs=logs if logs is not None else {})


class History(Callback):
    """Records every epoch's logs: ``history.history['loss']`` and ``history.epoch``."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch 1/30`` and Keras 3's progress bar for each epoch (and for evaluate/predict).

    Written to a terminal or notebook, the bar is redrawn in place; to a file or
    pipe it prints one clean line per epoch. The metrics are read from the model
    only when the bar is redrawn, not after every step.
    """

    needs_batch_logs = False

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.progbar = None
        self.seen = 0
        self._called_in_fit = False
        self._next_draw = 0.0

    def set_params(self, params: dict) -> None:
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _stream(self):
        return self.stream or sys.stdout

    def _start_bar(self) -> None:
        self.seen = 0
        self._next_draw = 0.0
        self.progbar = Progbar(self.target, verbose=self.verbose, stream=self._stream())

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        self._start_bar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", file=self._stream(), flush=True)

    def _update(self, batch: int, logs) -> None:
        self.seen = batch + 1
        bar = self.progbar
        if self.verbose != 1 or not bar.dynamic:
            # Only the final line is printed; the first step still has to be seen,
            # as the per-step time excludes it.
            if self.seen == 1:
                bar.update(1, None, finalize=False)
            return
        now = time.monotonic()
        if now < self._next_draw:
            return
        self._next_draw = now + bar.interval
        if logs is None:
            logs = self.model.get_metrics_result() if self.model is not None else {}
        bar.update(self.seen, _displayed(logs), finalize=False)

    def _finalize(self, logs) -> None:
        if self.progbar is None:
            self._start_bar()
        if self.target is None:
            # As Keras: once an epoch of unknown length ends its length is known, and
            # the next epochs' bars show it from their first step.
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, _displayed(logs), finalize=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    # evaluate() and predict() outside fit get their own bar
    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._start_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs=None):
        self._start_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, {})

    def on_predict_end(self, logs=None):
        self._finalize({})


def _displayed(logs) -> list:
    """The metric values a progress line shows (predictions are not metrics)."""
    return [(k, v) for k, v in (logs or {}).items() if np.ndim(v) == 0]
