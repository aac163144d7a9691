"""compile / fit / evaluate / predict: the training loop, told as a short story of helpers.

``Trainer`` is mixed into ``Model``. One training step is ``train_step``:
forward under a GradientTape, loss, gradients, optimizer update, metric
update. ``fit`` wraps it in epochs, batches, validation and callbacks.

Steps run compiled by default: ``_train_batch``, ``_test_batch`` and the forward
pass of ``predict`` are wrapped in ``tf.function`` (one trace per batch shape,
so the last, smaller batch of an epoch costs one extra trace);
``compile(run_eagerly=True)`` runs them eagerly. The loop runs once per batch
(1,719 times per epoch on the reference lab), so it avoids per-step work nobody
reads: metric results become Python floats only when a callback asks for them.
Steps run with ``settings.step_blas_threads`` BLAS threads (see backend/blas.py).
A model compiled in a ``MultiWorkerMirroredStrategy`` scope trains over the processes of
an MPI job: ``compiled_steps.WorkerSteps`` runs each worker's part of every batch and
sums the gradients over workers; one process takes none of that path.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from neuroflow import distribute
from neuroflow.autodiff import GradientTape
from neuroflow.backend import blas
from neuroflow.config import settings
from neuroflow.keras import callbacks as callbacks_module
from neuroflow.keras import compiled_steps, data_adapter, multi_output
from neuroflow.keras import losses as losses_module
from neuroflow.keras import metrics as metrics_module
from neuroflow.keras import optimizers as optimizers_module
from neuroflow.keras.callbacks.callback import pythonify_logs
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.tensor import Tensor
from neuroflow.util import nest


class Trainer:
    """Training and inference for Keras models."""

    compiled = False
    stop_training = False
    optimizer = None
    loss = None
    # Set by a callback's on_train_begin (BackupAndRestore) to resume at a later epoch.
    _initial_epoch = None

    # --- compile ------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, loss and metrics used by ``fit`` and ``evaluate``.

        Names are checked now: an unknown optimizer, loss or metric name raises a
        ``ValueError`` listing the closest valid names.
        """
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_tracker = metrics_module.Mean(name="loss")
        names = self._compile_output_names()
        if names is not None:
            # Several outputs: a loss, metrics and a weight per output (multi_output.py).
            self._loss_fn = (None if loss is None else
                             multi_output.OutputLosses(loss, loss_weights, names))
            self._compile_metrics = multi_output.output_metrics(metrics, names)
            self._weighted_metrics = multi_output.output_metrics(weighted_metrics, names)
        else:
            self._loss_fn = _weighted(losses_module.resolve(_single(loss, "loss")),
                                      _single(loss_weights, "loss_weights"))
            self._compile_metrics = [metrics_module.resolve(m) for m in _as_list(metrics)]
            self._weighted_metrics = [metrics_module.resolve(m)
                                      for m in _as_list(weighted_metrics)]
        self.run_eagerly = bool(run_eagerly)
        self.compiled = True
        # Metrics and weights are model state: fit, evaluate and the *_on_batch calls hold
        # this lock, so concurrent ones run one after the other and each gets the result it
        # would get alone (predict and model(x) read weights only and never wait).
        self._state_lock = threading.RLock()
        self._sorted_metrics = sorted(self.metrics, key=lambda m: m.name)
        self._steps_cache = None
        # As Keras: a model compiled in a strategy's scope trains with that strategy.
        self._distribute_strategy = distribute.get_strategy() if distribute.has_strategy() \
            else None
        self._worker_steps = None

    def _step(self, name: str):
        """The step ``name`` (``_train_batch``, ``_test_batch``) taking a batch tuple
        ``(x, y, sample_weight)``: compiled unless the model runs eagerly."""
        eager = getattr(self, name)
        if self._runs_eagerly():
            return eager
        steps = self._compiled_steps()
        return functools.partial(steps.run, name)

    def _predict_function(self):
        """The forward pass for ``predict``: compiled unless the model runs eagerly."""
        if self._runs_eagerly():
            return self._predict_batch
        steps = self._compiled_steps()
        return lambda x: steps.run("_predict_batch", (x,))

    def _runs_eagerly(self) -> bool:
        return getattr(self, "run_eagerly", False) or settings.run_functions_eagerly

    def _compiled_steps(self) -> compiled_steps.StepFunctions:
        """The model's compiled steps, made anew by each ``compile``."""
        steps = getattr(self, "_steps_cache", None)
        if steps is None:
            steps = self._steps_cache = compiled_steps.StepFunctions(self)
        return steps

    @property
    def distribute_strategy(self):
        """The ``tf.distribute`` strategy this model trains with (the default one if none)."""
        return getattr(self, "_distribute_strategy", None) or distribute.get_strategy()

    def _workers(self) -> compiled_steps.WorkerSteps | None:
        """The steps of training over several worker processes; None for one process."""
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None or strategy._collective is None:
            return None
        if self._worker_steps is None:
            self._worker_steps = compiled_steps.WorkerSteps(self, strategy)
        return self._worker_steps

    @property
    def metrics(self) -> list:
        """The loss tracker (and each output's), the compiled, then the weighted metrics."""
        if not self.compiled:
            return []
        per_output = (list(self._loss_fn.trackers.values())
                      if isinstance(self._loss_fn, multi_output.OutputLosses) else [])
        return [self._loss_tracker, *per_output, *self._compile_metrics,
                *self._weighted_metrics]

    def _compile_output_names(self) -> list[str] | None:
        """The output names of a model with several outputs (None for one output)."""
        structure = getattr(self, "_outputs_structure", None)
        if isinstance(structure, dict):
            return list(structure)
        outputs = getattr(self, "outputs", None)
        if isinstance(outputs, list) and len(outputs) > 1:
            return list(self.output_names)
        return None

    @property
    def metrics_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict:
        """Every metric's current result by name (sorted, as Keras logs): a Python float, or a
        NumPy array for a metric with one result per class or threshold."""
        return {m.name: _log_value(m.result()) for m in self._sorted_metrics}

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using `{what}()`, e.g. "
                             f"model.compile(optimizer='sgd', "
                             f"loss='sparse_categorical_crossentropy', metrics=['accuracy']).")
        custom = {"fit": "train_step", "train_on_batch": "train_step",
                  "evaluate": "test_step", "test_on_batch": "test_step"}.get(what)
        if self._loss_fn is None and what != "predict" and not (custom and
                                                                 self._custom(custom)):
            raise ValueError(f"`{what}()` needs a loss, but `compile()` was called without one. "
                             f"Pass e.g. loss='sparse_categorical_crossentropy' to compile().")
        # A custom train_step may bring its own optimizers (e.g. the two of a GAN).
        if self.optimizer is None and what in ("fit", "train_on_batch") and \
                not self._custom("train_step"):
            raise ValueError(f"`{what}()` needs an optimizer to update the weights, but "
                             f"`compile()` received optimizer=None. Pass one to compile(), "
                             f"e.g. model.compile(optimizer='adam', loss=...); optimizer=None "
                             f"only suits a model that is evaluated or predicts.")

    def _check_runnable(self, what: str) -> None:
        """Raise before any data is read if the model cannot run at all.

        Subclasses that can be incomplete override it (``Sequential`` without layers).
        """

    def _require_labels(self, x, y, what: str, step: str) -> None:
        if y is None and x is not None and not data_adapter.is_dataset(x) \
                and not self._custom(step):
            raise ValueError(f"`{what}()` received inputs x but no labels y. Pass both, as in "
                             f"model.{what}(x, y), or a dataset that yields (x, y) pairs.")

    # --- one step -----------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True) -> Tensor:
        """The compiled loss plus every regularization penalty of the model's layers."""
        loss = self._loss_fn(y, y_pred, sample_weight=sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def train_step(self, data) -> dict:
        """One optimizer step on a batch; returns the metric results.

        ``data`` is what Keras passes: ``(x, y)``, ``(x, y, sample_weight)``, or ``x``
        alone (``keras.utils.unpack_x_y_sample_weight`` takes any of them). Override it to
        customize training; ``fit`` then calls the override.
        """
        self._train_batch(data_adapter.unpack_x_y_sample_weight(data))
        return self.get_metrics_result()

    def test_step(self, data) -> dict:
        """Loss and metrics on a batch, without updating weights; returns the metric results."""
        self._test_batch(data_adapter.unpack_x_y_sample_weight(data))
        return self.get_metrics_result()

    def predict_step(self, data):
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _train_batch(self, data) -> None:
        x, y, sample_weight = data
        loss, y_pred, gradients = self._loss_and_gradients(x, y, sample_weight)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self._update_metrics(loss, y, y_pred, sample_weight, x)

    def _worker_gradients(self, data) -> list:
        """A worker's half of a distributed train step: gradients for the allreduce
        (``compiled_steps.WorkerSteps`` applies their sum)."""
        x, y, sample_weight = data
        loss, y_pred, gradients = self._loss_and_gradients(x, y, sample_weight)
        self._update_metrics(loss, y, y_pred, sample_weight, x)
        return gradients

    def _loss_and_gradients(self, x, y, sample_weight) -> tuple:
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        return loss, y_pred, tape.gradient(loss, self.trainable_weights)

    def _predict_batch(self, x):
        return self(x, training=False)

    def _test_batch(self, data) -> None:
        x, y, sample_weight = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._update_metrics(loss, y, y_pred, sample_weight, x)

    def _update_metrics(self, loss, y, y_pred, sample_weight, x) -> None:
        # The loss tracker averages batch losses weighted by batch size, as Keras 3 does;
        # its two sums are updated directly: Mean.update_state would add five ops.
        batch = _batch_size(x)
        # A traced step's batch size is unknown: counted when the graph runs (a folded
        # constant once the graph is compiled for a size).
        batch = float(batch) if batch is not None else ew.cast(so.shape(_first_array(x))[0],
                                                               "float32")
        tracker = self._loss_tracker
        tracker.total.assign_add((red.reduce_mean(loss) if loss.ndim else loss) * batch)
        tracker.count.assign_add(batch)
        if isinstance(self._loss_fn, multi_output.OutputLosses):
            self._loss_fn.track(y, y_pred, sample_weight, batch)
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)
        for metric in self._weighted_metrics:
            metric.update_state(y, y_pred, sample_weight=sample_weight)

    def _custom(self, step: str) -> bool:
        """Whether a subclass overrides ``train_step``/``test_step`` (then fit must call it)."""
        return getattr(type(self), step) is not getattr(Trainer, step)

    # --- fit ----------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a ``History`` of per-epoch logs."""
        self._check_runnable("fit")
        self._require_compiled("fit")
        _check_fit_arguments(epochs, steps_per_epoch, validation_steps, validation_freq)
        self._require_labels(x, y, "fit", "train_step")
        batch_size = _check_batch_size(batch_size, x)
        sample_weight = _class_weights(class_weight, y, sample_weight)
        train = data_adapter.adapt(x, y, sample_weight, "fit")
        val = None
        if validation_split and validation_data is None:
            if not isinstance(train, data_adapter.ArrayData):
                raise ValueError(f"validation_split is only supported for NumPy arrays, but x "
                                 f"is a {type(x).__name__}. Pass validation_data (another "
                                 f"dataset) for datasets.")
            train, val = train.split(validation_split)
        elif validation_data is not None:
            val = _adapt_validation(validation_data)
        self._check_data(train, "fit")
        if val is not None:
            self._check_data(val, "fit")
        steps = steps_per_epoch if steps_per_epoch is not None else train.num_batches(batch_size)
        callback_list = self._callbacks_for(callbacks, verbose, True, epochs=epochs, steps=steps)
        self.stop_training = False
        with self._state_lock, blas.threads(settings.step_blas_threads):
            return self._fit_epochs(train, val, batch_size, epochs, initial_epoch, shuffle,
                                    steps_per_epoch, validation_steps, validation_batch_size,
                                    validation_freq, callback_list)

    def _fit_epochs(self, train, val, batch_size, epochs, initial_epoch, shuffle,
                    steps_per_epoch, validation_steps, validation_batch_size, validation_freq,
                    callback_list):
        callback_list.on_train_begin()
        # Taken once: a later fit starts where its own arguments say.
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        workers = self._workers()
        if workers is not None:
            initial_epoch = compiled_steps.broadcast_training_state(
                self, self._distribute_strategy, initial_epoch)
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            logs = self._run_epoch(train, batch_size, shuffle, steps_per_epoch, epoch,
                                   callback_list)
            if val is not None and _validates_after(epoch, validation_freq):
                val_logs = self._evaluate_batches(
                    val, validation_batch_size or batch_size, validation_steps, callback_list)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        return self.history

    def _run_epoch(self, data, batch_size, shuffle, steps_per_epoch, epoch, callback_list):
        self.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        begin = callback_list.wants("on_train_batch_begin")
        end = callback_list.wants("on_train_batch_end")
        custom = self._custom("train_step")
        train_batch = self._step("_train_batch")
        logs = None
        shuffle = bool(shuffle) and shuffle != "batch"
        batches, train_batch = _batches_and_step(self, data, batch_size, shuffle,
                                                 "_train_batch", train_batch, custom)
        for step, batch in enumerate(batches):
            if steps_per_epoch is not None and step >= steps_per_epoch:
                break
            if begin:
                callback_list.on_train_batch_begin(step)
            if custom:
                logs = self.train_step(data_adapter.pack_x_y_sample_weight(*batch))
            else:
                train_batch(batch)
            if end:
                callback_list.batch_end("on_train_batch_end", step, logs)
            if self.stop_training:
                break
        return pythonify_logs(logs) if custom else self._metrics_of_all_workers()

    def _metrics_of_all_workers(self) -> dict:
        """The metrics' results; in a distributed run, over every worker's data."""
        if self._workers() is not None:
            compiled_steps.sum_metrics_over_workers(self, self._distribute_strategy)
        return self.get_metrics_result()

    def _callbacks_for(self, callbacks, verbose, in_fit: bool, **params):
        if isinstance(callbacks, callbacks_module.CallbackList):
            return callbacks
        if self._workers() is not None and \
                not self._distribute_strategy.extended.should_checkpoint:
            # Only the chief writes checkpoints, logs and progress; the others stay quiet.
            callbacks = [cb for cb in callbacks or [] if not isinstance(cb, _CHIEF_ONLY)]
            verbose = 0
        return callbacks_module.CallbackList(
            callbacks, add_history=in_fit, add_progbar=verbose != 0, model=self,
            verbose=verbose, **params)

    # --- evaluate -----------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on the given data: a scalar, a list, or a dict."""
        self._check_runnable("evaluate")
        self._require_compiled("evaluate")
        _check_steps("steps", steps)
        self._require_labels(x, y, "evaluate", "test_step")
        batch_size = _check_batch_size(batch_size, x)
        data = data_adapter.adapt(x, y, sample_weight, "evaluate")
        self._check_data(data, "evaluate")
        callback_list = self._callbacks_for(
            callbacks, verbose, False, epochs=1, steps=steps or data.num_batches(batch_size))
        if self._workers() is not None:  # every worker evaluates worker 0's model
            compiled_steps.broadcast_variables(self._distribute_strategy, self.weights)
        with self._state_lock, blas.threads(settings.step_blas_threads):
            logs = self._evaluate_batches(data, batch_size, steps, callback_list)
        return logs if return_dict else self._flatten_in_order(logs)

    def _evaluate_batches(self, data, batch_size, steps, callback_list) -> dict:
        self.reset_metrics()
        callback_list.on_test_begin()
        begin = callback_list.wants("on_test_batch_begin")
        end = callback_list.wants("on_test_batch_end")
        custom = self._custom("test_step")
        test_batch = self._step("_test_batch")
        logs = None
        batches, test_batch = _batches_and_step(self, data, batch_size, False, "_test_batch",
                                                test_batch, custom)
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            if begin:
                callback_list.on_test_batch_begin(step)
            if custom:
                logs = self.test_step(data_adapter.pack_x_y_sample_weight(*batch))
            else:
                test_batch(batch)
            if end:
                callback_list.batch_end("on_test_batch_end", step, logs)
        logs = pythonify_logs(logs) if custom else self._metrics_of_all_workers()
        callback_list.on_test_end(logs)
        return logs

    def _flatten_in_order(self, logs: dict):
        """Logs as a list in ``metrics_names`` order (a lone value unwrapped), as Keras 3."""
        names = [m.name for m in self.metrics]
        values = [logs[n] for n in names if n in logs] + \
            [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    # --- predict ------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x``, batch by batch, as one NumPy array."""
        self._check_runnable("predict")
        _check_steps("steps", steps)
        batch_size = _check_batch_size(batch_size, x)
        if verbose == 0 and callbacks is None and steps is None and isinstance(x, np.ndarray) \
                and 0 < len(x) <= (batch_size or 32) and not self._custom("predict_step"):
            return self._predict_small(x)
        with blas.threads(settings.step_blas_threads):
            return self._predict_batches(x, batch_size, verbose, steps, callbacks)

    def _predict_small(self, x: np.ndarray) -> np.ndarray:
        """One batch, no progress bar, no callbacks: straight to the compiled forward pass
        (see ``compiled_steps.py``). Floats become float32 as in batched ``predict``;
        integers and booleans are left to the model, which casts them to its input dtype
        (as Keras 3 does)."""
        data_adapter.check_finite(x, "input data", "predict")
        x = data_adapter.text_as_bytes(x)
        if x.dtype.kind == "f" and x.dtype != np.float32:
            x = x.astype(np.float32)
        if self._runs_eagerly():
            return self._predict_batch(Tensor(x)).numpy()
        return self._compiled_steps().predict_small(x)

    def _predict_batches(self, x, batch_size, verbose, steps, callbacks):
        data = data_adapter.adapt(x, None, None, "predict")
        callback_list = self._callbacks_for(
            callbacks, verbose, False, epochs=1, steps=steps or data.num_batches(batch_size))
        callback_list.on_predict_begin()
        begin = callback_list.wants("on_predict_batch_begin")
        custom = self._custom("predict_step")
        predict_batch = self._predict_function()
        outputs = []
        for step, batch in enumerate(data.batches(batch_size, shuffle=False)):
            if steps is not None and step >= steps:
                break
            if begin:
                callback_list.on_predict_batch_begin(step)
            result = (self.predict_step(data_adapter.pack_x_y_sample_weight(*batch)) if custom
                      else predict_batch(batch[0]))
            outputs.append(nest.map_structure(_as_numpy, result))
            callback_list.on_predict_batch_end(step, {"outputs": outputs[-1]})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("`predict` received no data: the dataset x yielded no batches. "
                             "Pass data with at least one sample (check the dataset's filter, "
                             "take and skip calls).")
        if type(outputs[0]) is np.ndarray:
            return np.concatenate(outputs, axis=0)
        # Several outputs: each concatenated over the batches, in the outputs' structure.
        columns = zip(*(nest.flatten(batch) for batch in outputs))
        return nest.pack_sequence_as(outputs[0], [np.concatenate(c, axis=0) for c in columns])

    # --- single batches -----------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on exactly this batch; returns its loss and metrics."""
        self._check_runnable("train_on_batch")
        self._require_compiled("train_on_batch")
        if self._workers() is not None:
            raise NotImplementedError(
                "train_on_batch is not supported under MultiWorkerMirroredStrategy in "
                "neuroflow: only fit sums the gradients over the workers, and a step without "
                "that sum would leave the workers' weights apart. Use fit(x, y, epochs=1) "
                "on the batch instead.")
        sample_weight = _class_weights(class_weight, y, sample_weight)
        data = data_adapter.adapt(x, y, sample_weight, "train_on_batch")
        self._check_data(data, "train_on_batch")
        with self._state_lock:
            self.reset_metrics()
            batch = next(data.batches(data.size, shuffle=False))
            logs = pythonify_logs(self.train_step(data_adapter.pack_x_y_sample_weight(*batch)))
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics on exactly this batch, without updating weights."""
        self._check_runnable("test_on_batch")
        self._require_compiled("test_on_batch")
        data = data_adapter.adapt(x, y, sample_weight, "test_on_batch")
        self._check_data(data, "test_on_batch")
        with self._state_lock:
            self.reset_metrics()
            batch = next(data.batches(data.size, shuffle=False))
            logs = pythonify_logs(self.test_step(data_adapter.pack_x_y_sample_weight(*batch)))
        return logs if return_dict else self._flatten_in_order(logs)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as a NumPy array."""
        self._check_runnable("predict_on_batch")
        data = data_adapter.adapt(x, None, None, "predict_on_batch")
        batch = next(data.batches(data.size, shuffle=False))
        return nest.map_structure(
            _as_numpy, self.predict_step(data_adapter.pack_x_y_sample_weight(*batch)))

    # --- input checks -------------------------------------------------------------------------
    def _check_data(self, data, what: str) -> None:
        """Catch shape and label mistakes before the first step, naming the layer at fault."""
        if not isinstance(data, data_adapter.ArrayData):
            return
        check = getattr(self, "_check_training_data", None)
        if check is not None:
            check(data.x, data.y, self.loss)


def _batches_and_step(model, data, batch_size: int, shuffle: bool, name: str, step,
                      custom: bool):
    """The batches to run and the function to run each through.

    Plain arrays with a compiled step take the fast path: NumPy batches straight into
    the step's compiled code (``compiled_steps.ArraySteps``). Anything else (datasets,
    nested inputs, eager or user-written steps) gets tensor batches for ``step``.
    """
    workers = model._workers()
    if workers is not None:
        if custom:
            raise NotImplementedError(
                f"A custom {'train_step' if name == '_train_batch' else 'test_step'} cannot "
                f"run under MultiWorkerMirroredStrategy in neuroflow: fit sums the gradients "
                f"over workers between its own gradient and update steps. Use the built-in "
                f"step, or a custom loop: optimizer.apply_gradients inside strategy.run sums "
                f"the gradients over workers, as in TensorFlow.")
        run = workers.train if name == "_train_batch" else workers.test
        return workers.batches(data, batch_size, shuffle), run
    if not custom and not model._runs_eagerly() and \
            isinstance(data, data_adapter.ArrayData) and data.plain:
        batches = model._compiled_steps().array_steps(name, data.array_batches(batch_size,
                                                                               shuffle))
        return batches, batches.run
    return data.batches(batch_size, shuffle=shuffle), step


# Callbacks that write files or print: run by the chief worker alone.
_CHIEF_ONLY = (callbacks_module.ProgbarLogger, callbacks_module.ModelCheckpoint,
               callbacks_module.CSVLogger, callbacks_module.TensorBoard,
               callbacks_module.BackupAndRestore)


def _log_value(result):
    array = np.asarray(result)
    return float(array) if array.ndim == 0 else array


def _as_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _single(value, what: str):
    """A one-output model's ``loss``/``loss_weights`` given as a list or dict of one entry."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError(f"The model has one output, but `{what}` is a dict of "
                             f"{len(value)} entries: {value!r}.")
        return next(iter(value.values()))
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"The model has one output, but `{what}` has {len(value)} "
                             f"entries: {value!r}.")
        return value[0]
    return value


def _weighted(loss, weight):
    """``loss`` scaled by ``loss_weights`` (a number) for a one-output model."""
    if loss is None or weight is None or float(weight) == 1.0:
        return loss
    return _ScaledLoss(loss, float(weight))


class _ScaledLoss:
    def __init__(self, loss, weight: float):
        self.loss, self.weight, self.name = loss, weight, loss.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.loss(y_true, y_pred, sample_weight=sample_weight) * self.weight


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first_array(x):
    while isinstance(x, (list, tuple, dict)):
        x = next(iter(x.values())) if isinstance(x, dict) else x[0]
    return x


def _batch_size(x) -> int | None:
    """The number of samples in ``x``; None for a traced batch of unknown size."""
    size = _first_array(x).shape[0]
    return None if size is None else int(size)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_steps(name: str, steps) -> None:
    """``steps_per_epoch``, ``validation_steps``, ``steps``: None or a positive count."""
    if steps is None or (_is_int(steps) and steps > 0):
        return
    raise ValueError(f"`{name}` must be a positive integer (a number of batches) or None to use "
                     f"all the data, received {name}={steps!r}. Pass e.g. {name}=100, or leave "
                     f"it out.")


def _check_fit_arguments(epochs, steps_per_epoch, validation_steps, validation_freq) -> None:
    """The counts ``fit`` loops over, checked before any work (Keras fails late or not at all)."""
    if not _is_int(epochs) or epochs < 0:
        raise ValueError(f"`epochs` must be a non-negative integer (the number of passes over "
                         f"the data), received epochs={epochs!r}. Pass e.g. epochs=10.")
    _check_steps("steps_per_epoch", steps_per_epoch)
    _check_steps("validation_steps", validation_steps)
    _check_validation_freq(validation_freq)


def _check_validation_freq(freq) -> None:
    """Validate every ``freq`` epochs, or after the epochs listed (counted from 1), as Keras 3."""
    if isinstance(freq, list):
        valid = all(_is_int(epoch) and epoch >= 1 for epoch in freq)
    elif isinstance(freq, (int, np.integer)):  # True counts as 1, as in Keras
        valid = freq >= 1
    else:
        raise ValueError(f"Expected `validation_freq` to be a list or int. Received: "
                         f"validation_freq={freq!r} of the type {type(freq)}. Pass e.g. "
                         f"validation_freq=2 to validate every second epoch.")
    if not valid:
        raise ValueError(f"`validation_freq` must be a positive integer (validate every N "
                         f"epochs) or a list of epoch numbers counted from 1, received "
                         f"validation_freq={freq!r}. Use validation_freq=1 to validate after "
                         f"every epoch, or e.g. [1, 5, 10].")


def _validates_after(epoch: int, validation_freq) -> bool:
    """Whether to validate after ``epoch`` (counted from 0), as Keras 3's ``_should_eval``."""
    if isinstance(validation_freq, list):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


def _check_batch_size(batch_size, x) -> int | None:
    if data_adapter.is_dataset(x):
        if batch_size is not None:
            raise ValueError("Do not pass batch_size when x is a dataset: the dataset batches.")
        return None
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, received {batch_size!r}.")
    return int(batch_size)


def _class_weights(class_weight, y, sample_weight):
    """Turn ``class_weight={class: weight}`` into per-sample weights, as Keras 3 does."""
    if class_weight is None:
        return sample_weight
    if sample_weight is not None:
        raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at "
                         "the same time. Pass only one; to combine them, multiply each "
                         "sample's class weight into sample_weight.")
    if y is None or data_adapter.is_dataset(y):
        raise ValueError(f"`class_weight` needs array labels `y`, but the labels come from a "
                         f"dataset (y={y!r}). Make the dataset yield (x, y, sample_weight) "
                         f"with each sample's class weight instead.")
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64)
    table = np.ones(max(int(labels.max()) + 1, 1), dtype=np.float32)
    for cls, weight in class_weight.items():
        if 0 <= int(cls) < len(table):
            table[int(cls)] = weight
    return table[labels]


def _adapt_validation(validation_data):
    if data_adapter.is_dataset(validation_data):
        return data_adapter.DatasetData(validation_data)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                         "(x_val, y_val, val_sample_weight), or a dataset.")
    return data_adapter.ArrayData(*validation_data, what="fit (validation_data)")
