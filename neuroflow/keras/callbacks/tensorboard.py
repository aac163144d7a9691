"""``keras.callbacks.TensorBoard``: metrics, weight histograms and graphs for TensorBoard.

It writes what Keras 3 writes, under the same tags: in ``log_dir/train``,
``epoch_loss``, ``epoch_accuracy``... and ``epoch_learning_rate`` after each epoch,
``batch_<metric>`` every ``update_freq`` batches, ``<weight path>/histogram`` (and
``/image``) every ``histogram_freq`` epochs, and the model's graph; in
``log_dir/validation``, the validation metrics as ``epoch_<metric>`` and, after each
evaluation, ``evaluation_<metric>_vs_iterations`` at the optimizer's step count. With
``profile_batch``, a profile of those batches (``tf.profiler``) in
``log_dir/train/plugins/profile/<run>/<host>.trace.json.gz``.
"""

from __future__ import annotations

import os
import time
import types
import warnings

import numpy as np

from neuroflow import summary
from neuroflow.keras.callbacks.callback import Callback
from neuroflow.profiler import experimental as profiler
from neuroflow.summary import protos


class TensorBoard(Callback):
    """Write TensorBoard logs of training: ``tensorboard --logdir logs`` shows them.

    Args (Keras 3's): ``log_dir`` ("logs"); ``histogram_freq`` (0: no weight histograms;
    N: every N epochs); ``write_graph`` (the model's conceptual graph, and the traced train
    step's op graph); ``write_images`` (weights as images, with the histograms);
    ``write_steps_per_second``; ``update_freq`` ("epoch", "batch" or every N batches for
    the ``batch_*`` scalars); ``profile_batch`` (0: no profile; N: profile the N-th batch
    of the run, counting from 1; ``(start, stop)`` or ``"start,stop"``: those batches);
    ``embeddings_freq`` (0: the embedding projector is not supported) and
    ``embeddings_metadata`` (used only with it).

    Needs the ``tensorboard`` package (``pip install 'neuroflow[tensorboard]'``), not
    TensorFlow. Values that are not scalars (a per-class metric) are left out of the scalar
    summaries.

    >>> import neuroflow as tf, tempfile
    >>> callback = tf.keras.callbacks.TensorBoard(log_dir=tempfile.mkdtemp())
    >>> callback.update_freq
    'epoch'
    """

    # Batch logs are read from the model only for the batches whose scalars are written.
    needs_batch_logs = False

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        protos.load()  # a missing tensorboard package is reported now, not after an epoch
        self.log_dir = str(os.fspath(log_dir))
        self.histogram_freq = _whole_number("histogram_freq", histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = _update_freq(update_freq)
        self._init_profile_batch(profile_batch)
        if embeddings_freq:
            raise ValueError(f"The embedding projector is not supported by neuroflow's "
                             f"TensorBoard callback. Received: embeddings_freq="
                             f"{embeddings_freq!r} (must be 0)")
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._previous_epoch_iterations = 0.0
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._writers: dict[str, summary.SummaryWriter] = {}
        self._pushed: list[tuple] = []  # (writer context, record_if context) entered
        self._should_write_train_graph = False
        if self.update_freq == "epoch" and not self._should_trace:
            self._hide_batch_hooks()

    def _init_profile_batch(self, profile_batch) -> None:
        """The first and last batch to profile, checked as Keras checks them (0: none)."""
        error = ValueError(f"profile_batch must be a non-negative integer or 2-tuple of "
                           f"positive integers. A pair of positive integers signifies a range "
                           f"of batches to profile. Found: {profile_batch}")
        if isinstance(profile_batch, str):  # Keras's legacy "start,stop"
            try:
                profile_batch = [int(part) for part in profile_batch.split(",")]
            except ValueError:
                raise error from None
            if len(profile_batch) == 1:
                profile_batch = profile_batch[0]
        if isinstance(profile_batch, int | np.integer) and not isinstance(profile_batch, bool):
            start = stop = int(profile_batch)
        elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2 and all(
                isinstance(b, int | np.integer) and not isinstance(b, bool)
                for b in profile_batch):
            start, stop = (int(b) for b in profile_batch)
        else:
            raise error
        if start < 0 or stop < start:
            raise error
        self._start_batch, self._stop_batch = start, stop
        self._should_trace = not (start == 0 and stop == 0)
        self._is_tracing = False
        self._profiler_started = False
        self._batch_trace = None

    def _hide_batch_hooks(self) -> None:
        """With update_freq="epoch" the batch hooks write nothing (no writer is the default
        during batches): hide them, as the callback list calls only the hooks a callback
        defines, and on a 1,719-step epoch even empty calls add up. A subclass's own
        override of a hook is kept."""
        for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin"):
            if getattr(type(self), hook) is getattr(TensorBoard, hook):
                setattr(self, hook, types.MethodType(getattr(Callback, hook), self))

    # --- writers ------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._should_write_train_graph = False
        if self.write_graph:
            self._write_keras_model_summary()
            self._should_write_train_graph = True

    @property
    def _train_writer(self) -> summary.SummaryWriter:
        if "train" not in self._writers:
            self._writers["train"] = summary.create_file_writer(self._train_dir)
        return self._writers["train"]

    @property
    def _val_writer(self) -> summary.SummaryWriter:
        if "val" not in self._writers:
            self._writers["val"] = summary.create_file_writer(self._val_dir)
        return self._writers["val"]

    def _push_writer(self, writer, step: int) -> None:
        """Make ``writer`` the default, recording at ``step`` when it is a multiple of
        ``update_freq``, so summaries written during the batch (batch scalars, the user's
        own ``tf.summary`` calls) follow ``update_freq``."""
        if self.update_freq == "epoch":
            return
        contexts = (writer.as_default(step),
                    summary.record_if(lambda: step % self.update_freq == 0))
        for context in contexts:
            context.__enter__()
        self._pushed.append(contexts)

    def _pop_writer(self) -> None:
        if self.update_freq == "epoch" or not self._pushed:
            return
        writer_context, record_context = self._pushed.pop()
        record_context.__exit__(None, None, None)
        writer_context.__exit__(None, None, None)

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()

    # --- graphs -------------------------------------------------------------------------------
    def _write_keras_model_summary(self) -> None:
        """The model's configuration as JSON: TensorBoard draws it as the conceptual graph."""
        with self._train_writer.as_default():
            if type(self.model).__name__ in ("Functional", "Sequential"):
                keras_model_summary("keras", self.model, step=0)

    def _write_keras_model_train_graph(self) -> None:
        """The traced train step's graph of ops (none when the model runs eagerly)."""
        graph = _train_step_graph(self.model)
        if graph is not None:
            with self._train_writer.as_default():
                summary.graph(graph)

    # --- hooks --------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0.0
        self._push_writer(self._train_writer, self._global_train_batch)

    def on_train_end(self, logs=None):
        self._pop_writer()
        if self._is_tracing:
            self._stop_trace()
        self._close_writers()

    def on_test_begin(self, logs=None):
        self._push_writer(self._val_writer, self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            with self._val_writer.as_default():
                for name, value in _scalars(logs).items():
                    summary.scalar(f"evaluation_{name}_vs_iterations", value,
                                   step=optimizer.iterations)
        self._pop_writer()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._train_writer, self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if not self._should_trace:
            return
        if self._global_train_batch == self._start_batch:
            self._start_trace()
        if self._profiler_started:
            self._batch_trace = profiler.Trace("Profiled batch", step_num=batch)
            self._batch_trace.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        self._write_batch_summaries(logs)
        if self._is_tracing:
            if self._batch_trace is not None:
                self._batch_trace.__exit__(None, None, None)
                self._batch_trace = None
            if self._global_train_batch >= self._stop_batch:
                self._stop_trace()

    def _write_batch_summaries(self, logs) -> None:
        if not summary.should_record_summaries():
            return  # nothing would be written: skip reading the metrics
        step = self._global_train_batch
        if self.write_steps_per_second:
            seconds = time.time() - self._batch_start_time
            summary.scalar("batch_steps_per_second", 1.0 / seconds if seconds else np.inf,
                           step=step)
        if logs is None:
            logs = self.model.get_metrics_result()
        for name, value in _scalars(logs).items():
            summary.scalar(f"batch_{name}", value, step=step)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop_writer()
            self._push_writer(self._val_writer, self._global_test_batch)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._previous_epoch_iterations = float(np.asarray(self.model.optimizer.iterations))
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if self._should_write_train_graph:
            # Keras writes it after the first batch; by the epoch's end the step is traced.
            self._write_keras_model_train_graph()
            self._should_write_train_graph = False
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # --- profiles -----------------------------------------------------------------------------
    def _start_trace(self) -> None:
        summary.trace_on(graph=True, profiler=False)
        self._start_profiler(self._train_dir)
        self._is_tracing = True

    def _stop_trace(self, batch=None) -> None:
        """Write the traced graphs (``batch_<stop>``, as Keras names them) and the profile."""
        batch = self._stop_batch if batch is None else batch
        with self._train_writer.as_default():
            summary.trace_export(name=f"batch_{batch}", step=batch)
        self._stop_profiler()
        self._is_tracing = False

    def _start_profiler(self, logdir: str) -> None:
        # As in Keras, a profiler that cannot start (another one is running) does not stop
        # training; the callback only ever stops the profile it started.
        try:
            profiler.start(logdir)
            self._profiler_started = True
        except Exception as error:  # noqa: BLE001 - reported, training goes on
            warnings.warn(f"Failed to start profiler: {error}", stacklevel=3)

    def _stop_profiler(self) -> None:
        if not self._profiler_started:
            return
        try:
            profiler.stop()
        except Exception as error:  # noqa: BLE001 - reported, training goes on
            warnings.warn(f"Failed to stop profiler: {error}", stacklevel=3)
        finally:
            self._profiler_started = False

    # --- epoch summaries ----------------------------------------------------------------------
    def _log_epoch_metrics(self, epoch: int, logs) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        train_logs = self._collect_learning_rate(train_logs)
        if self.write_steps_per_second:
            train_logs["steps_per_second"] = self._compute_steps_per_second()
        for writer, values in ((self._train_writer, train_logs), (self._val_writer, val_logs)):
            if values:
                with writer.as_default():
                    for name, value in _scalars(values).items():
                        summary.scalar(f"epoch_{name}", value, step=epoch)

    def _collect_learning_rate(self, logs: dict) -> dict:
        from neuroflow.keras.optimizers import Optimizer

        optimizer = getattr(self.model, "optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a loss-scale wrapper
        if hasattr(optimizer, "optimizers"):
            for inner in optimizer.optimizers:
                logs[f"learning_rate_{inner.name}"] = _float(inner.learning_rate)
        elif isinstance(optimizer, Optimizer):
            logs["learning_rate"] = _float(optimizer.learning_rate)
        return logs

    def _compute_steps_per_second(self) -> float:
        iterations = float(np.asarray(self.model.optimizer.iterations))
        seconds = time.time() - self._epoch_start_time
        return (iterations - self._previous_epoch_iterations) / seconds

    def _log_weights(self, epoch: int) -> None:
        writer = self._train_writer
        with writer.as_default():
            for layer in self.model.layers:
                for weight in layer.weights:
                    name = getattr(weight, "path", weight.name).replace(":", "_")
                    # The suffixes keep the histogram and image tags of a weight apart.
                    summary.histogram(f"{name}/histogram", weight, step=epoch)
                    if self.write_images:
                        self._log_weight_as_image(weight, f"{name}/image", epoch)
        writer.flush()

    def _log_weight_as_image(self, weight, name: str, epoch: int) -> None:
        """A weight as a greyscale image, laid out as Keras lays it out (a kernel's longer
        side across; each convolution kernel of a 3-D weight its own image)."""
        pixels = np.squeeze(np.asarray(weight))
        shape = pixels.shape
        if len(shape) == 1:  # a bias
            pixels = pixels.reshape(1, shape[0], 1, 1)
        elif len(shape) == 2:  # a dense kernel
            if shape[0] > shape[1]:
                pixels = pixels.T
            pixels = pixels.reshape(1, *pixels.shape, 1)
        elif len(shape) == 3:  # channels last: one image per channel
            pixels = np.transpose(pixels, (2, 0, 1))
            pixels = pixels.reshape(*pixels.shape, 1)
        if pixels.ndim == 4 and pixels.shape[-1] in (1, 3, 4):  # others cannot be shown
            summary.image(name, pixels, step=epoch)


def keras_model_summary(name, data, step=None):
    """Write a Keras model's JSON configuration for TensorBoard's conceptual graph.

    Returns False (with a warning) when the model cannot be serialized, as Keras does.
    """
    def metadata():
        pb = protos.load()
        # "graph_keras_model", version "1": what TensorBoard's graph plugin reads.
        return pb.summary_pb2.SummaryMetadata(
            plugin_data=pb.summary_pb2.SummaryMetadata.PluginData(
                plugin_name="graph_keras_model", content=b"1"))

    try:
        json_string = data.to_json()
    except Exception as exc:  # a model that cannot be serialized must not stop training
        warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
        return False
    with summary.experimental.summary_scope(name, "graph_keras_model") as (tag, _):
        return summary.write(tag=tag, tensor=np.array(json_string, dtype=object), step=step,
                             metadata=metadata)


def _train_step_graph(model):
    """The traced graph of the model's compiled train step, or None (eager, not yet run)."""
    steps = getattr(model, "_steps_cache", None)
    for (name, _), function in getattr(steps, "_functions", {}).items():
        # The trace as recorded, before optimization, as TensorFlow writes a function graph.
        trace = getattr(function, "_last", None)
        if name == "_train_batch" and trace is not None:
            return trace.graph
    return None


def _scalars(logs) -> dict:
    return {k: v for k, v in (logs or {}).items() if np.ndim(v) == 0 and not isinstance(v, str)}


def _float(value) -> float:
    return float(np.asarray(value.numpy() if hasattr(value, "numpy") else value))


def _whole_number(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"TensorBoard expected {name} to be a whole number (0 or more), "
                         f"received {value!r}.")
    return int(value)


def _update_freq(value):
    if value == "batch":
        return 1
    if value == "epoch":
        return value
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"TensorBoard expected update_freq to be 'epoch', 'batch' or a "
                         f"positive number of batches, received {value!r}.")
    return int(value)
