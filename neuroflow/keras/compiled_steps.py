"""Keras steps on compiled code: the one place where the trainer meets graph mode.

A model's train, test and predict steps are ``tf.function``s whose input
signature leaves the batch size unknown, shared by every array of a batch (one
:class:`~neuroflow.abstract.Dim`): each step is traced once per model and
compile, and the last, smaller batch of an epoch runs the same trace (a plan
for its size is compiled, without running Python again).

Two fast paths, each for one measured reason, both entering compiled code
through ``ConcreteFunction.runner`` (``run_arrays`` for given shapes: errors still
name the op and the user's line):

* :class:`ArraySteps`: plain NumPy batches go straight to the compiled step, with
  no conversion to tensors or argument matching per step (1,719 steps an epoch
  in the reference lab; matching costs more than the step's elementwise work).
* :meth:`StepFunctions.predict_small`: ``predict`` on one batch without callbacks
  or progress bar calls the compiled forward pass with the array itself, so the
  latency of predicting one sample stays within 1.5x of a bare NumPy forward pass.

Under ``tf.distribute.MultiWorkerMirroredStrategy``, :class:`WorkerSteps` runs each
worker's part of a batch and splits the train step around the gradients' allreduce.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import Dim
from neuroflow.distribute.strategy import shard_batch, shard_bounds
from neuroflow.graph import TensorSpec, function
from neuroflow.keras import data_adapter
from neuroflow.tensor import Tensor
from neuroflow.util import nest


def batch_signature(batch: tuple) -> tuple[list, tuple]:
    """TensorSpecs for a batch's arrays, sharing one unknown batch size, and a key that
    tells batches needing another signature (other nesting, dtypes or inner sizes)."""
    batch_size = Dim.fresh("batch")

    def spec(leaf):
        array = leaf._value if isinstance(leaf, Tensor) else np.asarray(leaf)
        if array.ndim == 0:
            return TensorSpec((), array.dtype)
        return TensorSpec((batch_size, *array.shape[1:]), array.dtype)

    specs = [nest.map_structure(spec, part) for part in batch]
    key = tuple(nest.flatten(nest.map_structure(
        lambda s: (s.dtype.name, s.shape[1:]), specs)))
    return specs, (_skeleton(batch), key)


def _skeleton(batch) -> str:
    return repr(nest.map_structure(lambda _: None, list(batch)))


class StepFunctions:
    """A model's compiled steps: ``step(name)`` is ``tf.function(getattr(model, name))``
    with a batch signature, made on the first batch and kept until the next compile."""

    def __init__(self, model):
        self._model = model
        self._functions: dict[tuple, object] = {}
        # (shape, dtype, the compiled forward for them) of the last predict_small
        self._predict_code = None

    def function_for(self, name: str, batch: tuple):
        """The compiled step ``name`` for batches like ``batch`` (a tuple without Nones)."""
        specs, key = batch_signature(batch)
        compiled = self._functions.get((name, key))
        if compiled is None:
            # The trace sees an unknown batch size: check the concrete inputs first, so a
            # shape mistake is reported with the sizes the user gave.
            check = getattr(self._model, "_check_input_shape", None)
            if check is not None and hasattr(batch[0], "shape"):
                check(batch[0])
            eager = getattr(self._model, name)
            if name == "_predict_batch":
                def step(x):
                    return eager(x)
            else:
                def step(*parts):  # (x, y) or (x, y, sample_weight)
                    return eager(tuple(parts) + (None,) * (3 - len(parts)))
            compiled = function(step, input_signature=specs,
                                name=f"{self._model.name}{name}")
            self._functions[(name, key)] = compiled
        return compiled

    def run(self, name: str, batch: tuple):
        """Run the step on a batch of tensors or arrays (trailing Nones dropped)."""
        parts = _without_trailing_nones(batch)
        return self.function_for(name, parts)(*parts)

    def array_steps(self, name: str, array_batches) -> ArraySteps:
        return ArraySteps(self, name, array_batches)

    def predict_small(self, x: np.ndarray) -> np.ndarray:
        cached = self._predict_code
        if cached is None or cached[0] != x.shape or cached[1] != x.dtype:
            compiled = self.function_for("_predict_batch", (x,))
            run = compiled.get_concrete_function(Tensor(x)).runner([x])
            self._predict_code = cached = (x.shape, x.dtype, run)
        return cached[2]([x])[0]

    def tracing_count(self) -> int:
        return sum(f.experimental_get_tracing_count() for f in self._functions.values())


class ArraySteps:
    """Batches of plain arrays run through a compiled step's ``runner`` for their shapes."""

    def __init__(self, steps: StepFunctions, name: str, array_batches):
        self._steps = steps
        self._name = name
        self._array_batches = array_batches
        self._runner = None
        # The shapes the runner takes. Dtypes are not compared per step: one epoch's
        # batches all have the dtypes of its first, which get_concrete_function checked.
        self._key = None

    def __iter__(self):
        return iter(self._array_batches)

    def run(self, batch) -> None:
        arrays = _without_trailing_nones(batch)
        key = [a.shape for a in arrays]
        if key != self._key:  # the first batch, and the last, smaller one, of an epoch
            compiled = self._steps.function_for(self._name, arrays)
            concrete = compiled.get_concrete_function(*(Tensor(a) for a in arrays))
            self._runner, self._key = concrete.runner(arrays), key
        self._runner(arrays)


def _without_trailing_nones(batch) -> tuple:
    parts = tuple(batch)
    while parts and parts[-1] is None:
        parts = parts[:-1]
    return parts


class WorkerSteps:
    """The steps of a model trained by several workers (``MultiWorkerMirroredStrategy``).

    Each worker runs its rows of every global batch. A train step is split in two around
    the allreduce: the gradient step (forward, loss, gradients, metric updates), then one
    allreduce of the gradients, each worker's weighted by its share of the global batch
    (losses are means over the batch, so the weighted sum is the gradient of the mean
    over the global batch, as one process with the whole batch computes it), then the
    optimizer's update with that sum, the same on every worker. Both halves are compiled
    unless the model runs eagerly; one process keeps the fused step of :class:`StepFunctions`.
    """

    def __init__(self, model, strategy):
        self._model = model
        self._strategy = strategy
        self._rank, self._count = strategy._worker_rank, strategy._worker_count
        self._eager = model._runs_eagerly()
        self._gradient_functions: dict = {}
        self._runner = None  # (shapes, runner) of the compiled gradient step for plain arrays
        self._apply = None  # the compiled update's runner
        self._mask: list[bool] | None = None  # which trainable weights receive a gradient
        self._updated: list | None = None  # the trainable weights that do
        # Non-trainable float weights a step changes (BatchNormalization's moving statistics):
        # averaged over workers, weighted as the gradients, so the replicas stay identical.
        # Frozen weights have no change to average and stay bitwise as they are.
        self._averaged: list | None = None  # known once the model is built

    # --- batches -------------------------------------------------------------------------------
    def batches(self, data, batch_size, shuffle: bool):
        """This worker's part of each global batch, with the global batch's size."""
        if isinstance(data, data_adapter.ArrayData):
            # Every worker must walk the same order: worker 0's is broadcast.
            order = (self._strategy._broadcast_array(data.permutation(), "the shuffle order")
                     if shuffle else None)
            yield from self._array_shards(data, batch_size, order)
            return
        for batch in data.batches(batch_size, shuffle=shuffle):
            yield shard_batch(_without_trailing_nones(batch), self._rank, self._count)

    def _array_shards(self, data, batch_size: int, order):
        """Arrays: gather only this worker's rows of each global batch."""
        for start in range(0, data.size, batch_size):
            rows = min(batch_size, data.size - start)
            low, high = shard_bounds(rows, self._rank, self._count)
            index = (order[start + low:start + high] if order is not None
                     else slice(start + low, start + high))
            batch = (data._take(data.x, index, "float32"), data._take(data.y, index, None),
                     data._take(data.sample_weight, index, "float32"))
            yield _without_trailing_nones(batch), rows

    # --- train ---------------------------------------------------------------------------------
    def train(self, sharded) -> None:
        local, rows = sharded
        local_rows = _rows(local)
        if self._averaged is None:
            self._averaged = [w for w in self._model.non_trainable_weights
                              if np.dtype(w.dtype.name).kind == "f"]
        before = [w.numpy().copy() for w in self._averaged]
        if local_rows:
            gradients = self._gradients(local)
        elif self._mask is None:
            raise ValueError(f"The first global batch has {rows} samples, fewer than the "
                             f"{self._count} workers, so worker {self._rank} has none to start "
                             f"from. Pass a batch_size of at least the number of workers.")
        else:
            gradients = [np.zeros(w.shape, w.dtype.name) for w in self._updated]
        changes = [w.numpy() - old for w, old in zip(self._averaged, before)]
        share = local_rows / rows
        if share != 1.0:  # one worker: the gradients stay bitwise those of one process
            gradients = [g * g.dtype.type(share) for g in gradients]
            changes = [c * c.dtype.type(share) for c in changes]
        summed = self._strategy._all_reduce_arrays(gradients + changes, "the gradients' "
                                                   "allreduce")
        self._update(summed[:len(gradients)])
        for weight, old, change in zip(self._averaged, before, summed[len(gradients):]):
            weight.assign(old + change)

    def _gradients(self, parts: tuple) -> list[np.ndarray]:
        if self._eager:
            return [_array(g) for g in self._gradient_step(*parts)]
        if all(type(p) in (np.ndarray, Tensor) for p in parts):
            arrays = [p._value if isinstance(p, Tensor) else p for p in parts]
            shapes = [a.shape for a in arrays]
            if self._runner is None or self._runner[0] != shapes:
                compiled = self._compiled_gradients(arrays)
                concrete = compiled.get_concrete_function(*(Tensor(a) for a in arrays))
                self._runner = (shapes, concrete.runner(arrays))
            return list(self._runner[1](arrays))
        return [_array(g) for g in self._compiled_gradients(parts)(*parts)]

    def _gradient_step(self, *parts):
        gradients = self._model._worker_gradients(tuple(parts) + (None,) * (3 - len(parts)))
        self._mask = [g is not None for g in gradients]
        return [g for g in gradients if g is not None]

    def _compiled_gradients(self, parts):
        specs, key = batch_signature(parts)
        compiled = self._gradient_functions.get(key)
        if compiled is None:
            check = getattr(self._model, "_check_input_shape", None)
            if check is not None and hasattr(parts[0], "shape"):
                check(parts[0])
            compiled = function(self._gradient_step, input_signature=specs,
                                name=f"{self._model.name}_worker_gradients")
            self._gradient_functions[key] = compiled
        return compiled

    def _update(self, gradients: list[np.ndarray]) -> None:
        if self._eager:
            self._apply_gradients(*(Tensor(g) for g in gradients))
            return
        if self._apply is None:
            specs = [TensorSpec(g.shape, g.dtype) for g in gradients]
            compiled = function(self._apply_gradients, input_signature=specs,
                                name=f"{self._model.name}_worker_update")
            concrete = compiled.get_concrete_function(*(Tensor(g) for g in gradients))
            self._apply = concrete.runner(gradients)
        self._apply(gradients)

    def _apply_gradients(self, *gradients) -> None:
        if self._updated is None:  # the model's weights, walked once (it costs per step)
            self._updated = [w for w, m in zip(self._model.trainable_weights, self._mask) if m]
        self._model.optimizer.apply_gradients(zip(gradients, self._updated))

    # --- evaluate ------------------------------------------------------------------------------
    def test(self, sharded) -> None:
        local, _ = sharded
        if _rows(local):
            self._model._step("_test_batch")(local)


def sum_metrics_over_workers(model, strategy) -> None:
    """Replace each metric's state by its sum over workers (metric states are sums and
    counts), so every worker reports the metrics of all the data."""
    variables = [v for metric in model.metrics for v in metric.variables]
    if not variables:
        return
    totals = strategy._all_reduce_arrays([v.numpy() for v in variables], "the metrics' sum")
    for variable, total in zip(variables, totals):
        variable.assign(total)


def broadcast_training_state(model, strategy, initial_epoch: int) -> int:
    """Worker 0's weights, optimizer state and starting epoch on every worker (after
    callbacks such as BackupAndRestore have restored them on worker 0)."""
    optimizer = model.optimizer
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)  # so every worker has the same slots
    broadcast_variables(strategy, list(model.weights) +
                        (list(optimizer.variables) if optimizer else []))
    epoch = strategy._broadcast_array(np.asarray(initial_epoch, np.int64), "the initial epoch")
    return int(epoch)


def broadcast_variables(strategy, variables) -> None:
    """Worker 0's values of ``variables`` on every worker."""
    for variable in variables:
        variable.assign(strategy._broadcast_array(variable.numpy(), "the weights' broadcast"))


def _rows(parts) -> int:
    leaves = [leaf for leaf in nest.flatten(parts) if leaf is not None]
    return int(leaves[0].shape[0]) if leaves else 0


def _array(value) -> np.ndarray:
    return value._value if isinstance(value, Tensor) else np.asarray(value)
