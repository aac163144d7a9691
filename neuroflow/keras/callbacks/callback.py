"""Callback base class, the list that dispatches to callbacks, History and the progress logger."""

from __future__ import annotations

import sys

from neuroflow.keras.utils.progbar import Progbar


class Callback:
    """Base class: override any ``on_*`` hook. ``self.model`` is set by ``fit``."""

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
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 names, still called by user code
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Calls every hook on every callback, in order."""

    def __init__(self, callbacks=None, model=None, params: dict | None = None):
        self.callbacks = list(callbacks or [])
        # Only hooks some callback overrides are dispatched: on a 1,719-step epoch the
        # empty per-batch calls would otherwise add up.
        self._overridden = {
            hook: [cb for cb in self.callbacks if _overrides(cb, hook)] for hook in _HOOKS}
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params or {})

    def append(self, callback: Callback) -> None:
        self.__init__(self.callbacks + [callback])

    def wants(self, hook: str) -> bool:
        return bool(self._overridden[hook])

    def call(self, hook: str, *args) -> None:
        for cb in self._overridden[hook]:
            getattr(cb, hook)(*args)
        if hook in ("on_train_batch_begin", "on_train_batch_end"):
            legacy = hook.replace("on_train_", "on_")
            for cb in self._overridden[legacy]:
                getattr(cb, legacy)(*args)


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (a subclass method or an instance attribute)."""
    method = getattr(callback, hook, None)
    return method is not None and getattr(method, "__func__", None) is not getattr(Callback, hook)


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


class ProgbarLogger(Callback):
    """Prints ``Epoch 1/30`` and Keras 3's progress bar for each epoch."""

    def __init__(self, verbose: int = 1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self.progbar = None
        self._seen = 0

    def _stream(self):
        return self.stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", file=self._stream(), flush=True)
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose,
                               stream=self._stream())
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self.progbar.update(self._seen, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self._seen, list((logs or {}).items()), finalize=True)

    # evaluate() and predict() outside fit get their own bar
    def on_test_begin(self, logs=None):
        if not self.params.get("in_fit"):
            self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose,
                                   stream=self._stream())
            self._seen = 0

    def on_test_batch_end(self, batch, logs=None):
        if not self.params.get("in_fit"):
            self._seen = batch + 1
            self.progbar.update(self._seen, list((logs or {}).items()), finalize=False)

    def on_test_end(self, logs=None):
        if not self.params.get("in_fit"):
            self.progbar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose,
                               stream=self._stream())
        self._seen = 0

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self.progbar.update(self._seen, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self._seen, finalize=True)
