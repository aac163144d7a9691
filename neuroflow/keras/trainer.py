"""compile / fit / evaluate / predict: the training loop, told as a short story of helpers.

``Trainer`` is mixed into ``Model``. One training step is ``train_step``:
forward under a GradientTape, loss, gradients, optimizer update, metric
update. ``fit`` wraps it in epochs, batches, validation and callbacks.
"""

from __future__ import annotations

import numpy as np

from neuroflow.autodiff import GradientTape
from neuroflow.keras import callbacks as callbacks_module
from neuroflow.keras import data_adapter
from neuroflow.keras import losses as losses_module
from neuroflow.keras import metrics as metrics_module
from neuroflow.keras import optimizers as optimizers_module
from neuroflow.tensor import Tensor


class Trainer:
    """Training and inference for Keras models."""

    compiled = False
    stop_training = False

    # --- compile ---------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, loss and metrics used by ``fit`` and ``evaluate``."""
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_fn = losses_module.resolve(loss)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_metrics = [self._resolve_metric(m) for m in (metrics or [])]
        self._weighted_metrics = [self._resolve_metric(m) for m in (weighted_metrics or [])]
        self.run_eagerly = bool(run_eagerly)
        self.compiled = True

    @staticmethod
    def _resolve_metric(identifier):
        return metrics_module.resolve(identifier)

    @property
    def metrics(self) -> list:
        if not self.compiled:
            return []
        return [self._loss_tracker, *self._compile_metrics, *self._weighted_metrics]

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _require_compiled(self, what: str) -> None:
        if not self.compiled or self._loss_fn is None:
            raise RuntimeError(f"You must call `compile()` with a loss before using `{what}`, "
                               f"e.g. model.compile(optimizer='sgd', "
                               f"loss='sparse_categorical_crossentropy').")

    # --- one step ----------------------------------------------------------------------------
    def compute_loss(self, x, y, y_pred, sample_weight=None, training=True) -> Tensor:
        loss = self._loss_fn(y, y_pred, sample_weight=sample_weight)
        penalties = self.losses
        for penalty in penalties:
            loss = loss + penalty
        return loss

    def train_step(self, data) -> dict:
        x, y, sample_weight = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        weights = self.trainable_weights
        gradients = tape.gradient(loss, weights)
        self.optimizer.apply_gradients(zip(gradients, weights))
        return self._update_metrics(loss, y, y_pred, sample_weight, x)

    def test_step(self, data) -> dict:
        x, y, sample_weight = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._update_metrics(loss, y, y_pred, sample_weight, x)

    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self(x, training=False)

    def _update_metrics(self, loss, y, y_pred, sample_weight, x) -> dict:
        batch = _batch_size(x)
        self._loss_tracker.update_state(loss, sample_weight=batch)
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)
        for metric in self._weighted_metrics:
            metric.update_state(y, y_pred, sample_weight=sample_weight)
        return self._logs()

    def _logs(self) -> dict:
        # Keras 3 reports logs sorted by name: accuracy, loss, val_accuracy, val_loss.
        return {m.name: float(m.result()) for m in sorted(self.metrics, key=lambda m: m.name)}

    # --- fit -------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a ``History`` of per-epoch logs."""
        self._require_compiled("fit")
        batch_size = _check_batch_size(batch_size, x)
        train = data_adapter.adapt(x, y, sample_weight, "fit")
        val = None
        if validation_split and validation_data is None:
            if not isinstance(train, data_adapter.ArrayData):
                raise ValueError("validation_split is only supported for NumPy arrays; pass "
                                 "validation_data for datasets.")
            train, val = train.split(validation_split)
        elif validation_data is not None:
            val = _adapt_validation(validation_data)
        self._check_data(train, "fit")
        steps = train.num_batches(batch_size)
        if steps_per_epoch is not None:
            steps = steps_per_epoch
        callback_list, history = self._callbacks_for(
            callbacks, verbose, epochs=epochs, steps=steps, in_fit=True)
        self.stop_training = False
        callback_list.call("on_train_begin", None)
        for epoch in range(initial_epoch, epochs):
            logs = self._run_epoch(train, batch_size, shuffle, steps_per_epoch, epoch,
                                   callback_list)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_batches(
                    val, validation_batch_size or batch_size, validation_steps, callback_list)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", None)
        return history

    def _run_epoch(self, data, batch_size, shuffle, steps_per_epoch, epoch, callback_list):
        self.reset_metrics()
        callback_list.call("on_epoch_begin", epoch, None)
        logs: dict = {}
        batches = data.batches(batch_size, shuffle=bool(shuffle) and shuffle != "batch")
        for step, batch in enumerate(batches):
            if steps_per_epoch is not None and step >= steps_per_epoch:
                break
            callback_list.call("on_train_batch_begin", step, None)
            logs = self.train_step(batch)
            callback_list.call("on_train_batch_end", step, logs)
            if self.stop_training:
                break
        return dict(logs)

    def _callbacks_for(self, callbacks, verbose, **params):
        if isinstance(callbacks, callbacks_module.CallbackList):
            return callbacks, None
        verbose = 1 if verbose == "auto" else int(verbose)
        user = list(callbacks or [])
        history = callbacks_module.History()
        extra = [history] if params.get("in_fit") else []
        if verbose:
            extra.append(callbacks_module.ProgbarLogger(verbose=verbose))
        params["verbose"] = verbose
        self.history = history
        return callbacks_module.CallbackList(user + extra, model=self, params=params), history

    # --- evaluate --------------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on the given data: a scalar, a list, or a dict."""
        self._require_compiled("evaluate")
        batch_size = _check_batch_size(batch_size, x)
        data = data_adapter.adapt(x, y, sample_weight, "evaluate")
        self._check_data(data, "evaluate")
        callback_list, _ = self._callbacks_for(
            callbacks, verbose, steps=steps or data.num_batches(batch_size), epochs=1)
        logs = self._evaluate_batches(data, batch_size, steps, callback_list)
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    def _evaluate_batches(self, data, batch_size, steps, callback_list) -> dict:
        self.reset_metrics()
        callback_list.call("on_test_begin", None)
        logs: dict = {}
        for step, batch in enumerate(data.batches(batch_size, shuffle=False)):
            if steps is not None and step >= steps:
                break
            callback_list.call("on_test_batch_begin", step, None)
            logs = self.test_step(batch)
            callback_list.call("on_test_batch_end", step, logs)
        callback_list.call("on_test_end", logs)
        return dict(logs)

    # --- predict -------------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x``, batch by batch, as one NumPy array."""
        batch_size = _check_batch_size(batch_size, x)
        data = data_adapter.adapt(x, None, None, "predict")
        callback_list, _ = self._callbacks_for(
            callbacks, verbose, steps=steps or data.num_batches(batch_size), epochs=1)
        callback_list.call("on_predict_begin", None)
        outputs = []
        for step, batch in enumerate(data.batches(batch_size, shuffle=False)):
            if steps is not None and step >= steps:
                break
            callback_list.call("on_predict_batch_begin", step, None)
            outputs.append(self.predict_step(batch).numpy())
            callback_list.call("on_predict_batch_end", step, None)
        callback_list.call("on_predict_end", None)
        if not outputs:
            raise ValueError("predict received no data: x has no samples.")
        return np.concatenate(outputs, axis=0)

    # --- single batches --------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        self._require_compiled("train_on_batch")
        self.reset_metrics()
        batch = next(data_adapter.adapt(x, y, sample_weight, "train_on_batch")
                     .batches(_len(x), shuffle=False))
        return self._single_result(self.train_step(batch), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        batch = next(data_adapter.adapt(x, y, sample_weight, "test_on_batch")
                     .batches(_len(x), shuffle=False))
        return self._single_result(self.test_step(batch), return_dict)

    def predict_on_batch(self, x):
        return self(_as_float_batch(x), training=False).numpy()

    def _single_result(self, logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    # --- input checks ------------------------------------------------------------------------------
    def _check_data(self, data, what: str) -> None:
        """Catch label mistakes before the first step, naming the output layer."""
        if not isinstance(data, data_adapter.ArrayData) or data.y is None:
            return
        check = getattr(self, "_check_labels", None)
        if check is not None:
            check(data.y, self.loss)


def _batch_size(x) -> int:
    first = x[0] if isinstance(x, (list, tuple)) else x
    return int(first.shape[0])


def _len(x) -> int:
    first = x[0] if isinstance(x, (list, tuple)) else x
    return len(first)


def _as_float_batch(x):
    array = np.asarray(x)
    return array.astype(np.float32) if array.dtype.kind in "fiub" else array


def _check_batch_size(batch_size, x) -> int:
    if data_adapter.is_dataset(x):
        if batch_size is not None:
            raise ValueError("Do not pass batch_size when x is a dataset: the dataset batches.")
        return None
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}.")
    return int(batch_size)


def _adapt_validation(validation_data):
    if data_adapter.is_dataset(validation_data):
        return data_adapter.DatasetData(validation_data)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                         "(x_val, y_val, val_sample_weight), or a dataset.")
    return data_adapter.ArrayData(*validation_data, what="fit (validation_data)")
