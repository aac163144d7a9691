"""A training program the MPI tests start as ``mpirun -n N python worker.py MODE OUT``.

MODE ``single`` trains without a strategy (the reference), ``fit`` with
MultiWorkerMirroredStrategy (and runs a custom loop too), ``kill``/``hang`` make worker 1
die or get stuck mid-epoch, ``backup`` trains with BackupAndRestore (``backup-crash`` kills
worker 1 in the third epoch), ``custom``/``custom-single`` train with a custom loop (on
the workers, on one process). Each worker writes its results to OUT/rank{R}.npz.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

import neuroflow as tf

keras = tf.keras


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(301, 10)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("int64") + (x[:, 3] > 1).astype("int64")
    return x, y


def make_model(batch_norm: bool):
    """A small classifier. BatchNormalization normalizes by each worker's batch, so it is
    left out where the weights are compared with one process's."""
    layers = [keras.layers.Input((10,)),
              keras.layers.Dense(16, activation="relu",
                                 kernel_regularizer=keras.regularizers.L2(1e-3))]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    model = keras.Sequential(layers + [keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class Fault(keras.callbacks.Callback):
    """Worker 1 kills itself, or gets stuck, at a given epoch and batch."""

    def __init__(self, strategy, how, epoch, batch=3):
        super().__init__()
        self.strategy, self.how, self.epoch, self.batch = strategy, how, epoch, batch
        self.current = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.strategy.cluster_resolver.task_id == 1 and self.current == self.epoch \
                and batch == self.batch:
            if self.how == "hang":  # stuck (a deadlock, a dead file server): no answer
                time.sleep(3600)
            os.kill(os.getpid(), signal.SIGKILL)


def custom_loop(strategy) -> dict:
    """strategy.run, reduce, all_reduce and both ways of distributing a dataset."""
    rank, count = strategy.cluster_resolver.task_id, strategy.num_replicas_in_sync
    values = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3) * (rank + 1))
    summed = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda v: v, (values,)),
                             axis=None)
    mean_axis = strategy.reduce("MEAN", values, axis=0)
    replica = strategy.run(lambda: tf.distribute.get_replica_context().all_reduce(
        tf.distribute.ReduceOp.MEAN, {"a": values, "b": [tf.constant(float(rank))]}))
    dataset = tf.data.Dataset.from_tensor_slices(np.arange(20, dtype=np.float32)).batch(8)
    rows = [b.numpy() for b in strategy.experimental_distribute_dataset(dataset)]

    def dataset_fn(context):
        batch = context.get_per_replica_batch_size(4 * count)
        mine = np.arange(16, dtype=np.float32)[context.input_pipeline_id::
                                                context.num_input_pipelines]
        return tf.data.Dataset.from_tensor_slices(mine).batch(batch)

    from_function = [b.numpy() for b in strategy.distribute_datasets_from_function(dataset_fn)]
    return {"sum": summed.numpy(), "mean_axis": mean_axis.numpy(), "replica_a":
            replica["a"].numpy(), "replica_b": replica["b"][0].numpy(),
            "rows": np.concatenate(rows), "from_function": np.concatenate(from_function)}


def custom_training(strategy, x, y) -> dict:
    """Two epochs of a custom loop as TensorFlow's guide writes it: strategy.run of an eager
    step, the loss averaged over the global batch, apply_gradients summing the replicas'
    gradients. ``strategy`` None: the default strategy, one replica (the reference)."""
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(3)  # the same initial weights on every worker
    with strategy.scope():
        model = keras.Sequential([
            keras.layers.Input((10,)),
            keras.layers.Dense(16, activation="relu",
                               kernel_regularizer=keras.regularizers.L2(1e-3)),
            keras.layers.Dense(3)])
        optimizer = keras.optimizers.Adam(0.01)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    # 9 global batches of 32: each replica's batch is 32 / num_replicas_in_sync.
    dataset = tf.data.Dataset.from_tensor_slices((x[:288], y[:288])).batch(32)

    def step(features, labels):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(labels, model(features, training=True)))
            loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    losses = []
    for _ in range(2):
        for features, labels in strategy.experimental_distribute_dataset(dataset):
            loss = strategy.run(step, args=(features, labels))
            losses.append(float(strategy.reduce("SUM", loss, axis=None)))
    results = {f"weight{i}": w for i, w in enumerate(model.get_weights())}
    results["losses"] = np.asarray(losses)
    results["iterations"] = np.asarray(int(optimizer.iterations.numpy()))
    # Collectives cannot run in a trace: apply_gradients in a tf.function is refused.
    traced = tf.function(lambda f, lab: strategy.run(step, args=(f, lab)))
    try:
        traced(tf.constant(x[:16]), tf.constant(y[:16]))
        results["refused"] = np.asarray("")
    except NotImplementedError as error:
        results["refused"] = np.asarray(str(error))
    return results


def refusals(model, x, y) -> list[str]:
    """The error messages of what a multi-worker model does not support."""
    messages = []
    try:
        model.train_on_batch(x[:8], y[:8])
    except NotImplementedError as error:
        messages.append(str(error))

    class Custom(keras.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    with model.distribute_strategy.scope():
        custom = Custom([keras.layers.Input((10,)), keras.layers.Dense(3)])
        custom.compile(optimizer="sgd", loss="mse")
    try:
        custom.fit(x, np.zeros((len(x), 3), "float32"), verbose=0)
    except NotImplementedError as error:
        messages.append(str(error))
    return messages


def main(mode: str, out: Path) -> None:
    keras.utils.set_random_seed(7)
    x, y = data()
    if mode.startswith("custom"):  # custom-single: the reference, custom: under mpirun
        strategy = None if mode == "custom-single" else \
            tf.distribute.MultiWorkerMirroredStrategy()
        rank = strategy.cluster_resolver.task_id if strategy else 0
        np.savez(out / f"rank{rank}.npz", **custom_training(strategy, x, y))
        return
    if mode == "single":
        strategy, rank = None, 0
    else:
        # Long enough for a worker that starts late on a busy machine, short for the test.
        timeout = 6 if mode in ("kill", "hang") else None
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                timeout_seconds=timeout))
        rank = strategy.cluster_resolver.task_id
        # Different seeds on purpose: worker 0's initial weights must reach every worker.
        keras.utils.set_random_seed(7 + rank)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = make_model(batch_norm=mode.startswith("backup"))
    callbacks = []
    epochs = 4
    if mode in ("kill", "hang"):
        callbacks.append(Fault(strategy, mode, epoch=1))
        epochs = 1000
    if mode.startswith("backup"):
        callbacks.append(keras.callbacks.BackupAndRestore(str(out / "backup")))
        if mode == "backup-crash":
            callbacks.append(Fault(strategy, "kill", epoch=2))
    before = model.evaluate(x, y, verbose=0) if mode in ("single", "fit") else 0.0
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, callbacks=callbacks,
                        validation_data=(x[:64], y[:64]))
    results = {f"weight{i}": w for i, w in enumerate(model.get_weights())}
    results.update({f"history_{k}": np.asarray(v) for k, v in history.history.items()})
    results["evaluate"] = np.asarray(model.evaluate(x, y, verbose=0))
    results["evaluate_before_fit"] = np.asarray(before)
    if mode == "fit":
        results.update(custom_loop(strategy))
        results["refused"] = np.asarray(refusals(model, x, y))
    np.savez(out / f"rank{rank}.npz", **results)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
