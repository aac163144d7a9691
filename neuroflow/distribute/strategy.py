"""``tf.distribute`` strategies: the default one, one-process Mirrored, MultiWorkerMirrored.

Every process runs the same program (SPMD, as ``mpirun -n N python train.py`` starts
it) and holds one replica: ``num_replicas_in_sync`` is the number of processes. The
strategy owns the collectives (``collective.py``); Keras's ``fit`` asks the strategy
of the model for them (``neuroflow/keras/compiled_steps.py``: each worker runs its part
of every global batch, the gradients are summed over workers in one allreduce, every
worker applies the same sum), so the replicas stay bitwise identical.

The default strategy, in force outside any ``scope()``, does nothing and costs nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.tensor import Tensor
from neuroflow.util import nest

_current: contextvars.ContextVar = contextvars.ContextVar("neuroflow_strategy", default=None)
_replica: contextvars.ContextVar = contextvars.ContextVar("neuroflow_replica", default=None)

# TensorFlow's CollectiveOps wait for ever by default; a job whose worker died should end.
DEFAULT_TIMEOUT_SECONDS = 600.0


class ReduceOp(enum.Enum):
    """How values of the replicas combine: their sum or their mean."""

    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_variable_aggregation(aggregation) -> ReduceOp:
        name = str(getattr(aggregation, "name", aggregation)).upper()
        if name not in ("SUM", "MEAN"):
            raise ValueError(f"Could not convert from `tf.VariableAggregation` {aggregation!r} "
                             f"to `tf.distribute.ReduceOp` type: expected SUM or MEAN.")
        return ReduceOp[name]


def _reduce_op(op) -> ReduceOp:
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ("SUM", "MEAN"):
        return ReduceOp[op.upper()]
    raise ValueError(f"reduce_op must be tf.distribute.ReduceOp.SUM or MEAN (or 'SUM', "
                     f"'MEAN'), received {op!r}.")


class InputContext:
    """What ``distribute_datasets_from_function`` tells the dataset function: which input
    pipeline it builds out of how many, and for how many replicas."""

    def __init__(self, num_input_pipelines: int = 1, input_pipeline_id: int = 0,
                 num_replicas_in_sync: int = 1):
        self._num_input_pipelines = num_input_pipelines
        self._input_pipeline_id = input_pipeline_id
        self._num_replicas_in_sync = num_replicas_in_sync

    @property
    def num_input_pipelines(self) -> int:
        return self._num_input_pipelines

    @property
    def input_pipeline_id(self) -> int:
        return self._input_pipeline_id

    @property
    def num_replicas_in_sync(self) -> int:
        return self._num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        if global_batch_size % self._num_replicas_in_sync != 0:
            raise ValueError(f"The `global_batch_size` {global_batch_size!r} is not divisible "
                             f"by `num_replicas_in_sync` {self._num_replicas_in_sync!r}")
        return global_batch_size // self._num_replicas_in_sync

    def __str__(self) -> str:
        return (f"tf.distribute.InputContext(input pipeline id {self._input_pipeline_id}, "
                f"total: {self._num_input_pipelines})")


class CommunicationImplementation(enum.Enum):
    """Which collective implementation to use; neuroflow always uses MPI."""

    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


class CommunicationOptions:
    """Options of the collectives (``tf.distribute.experimental.CommunicationOptions``).

    ``bytes_per_pack`` splits the gradients' allreduce into packs of about that size
    (0: one pack); ``timeout_seconds`` bounds every collective: a worker that waits longer
    ends the job naming the workers that stopped answering (None: 600 s; TensorFlow
    waits for ever). ``implementation``: only AUTO or RING (MPI picks the algorithm).
    """

    def __init__(self, bytes_per_pack: int = 0, timeout_seconds: float | None = None,
                 implementation=CommunicationImplementation.AUTO):
        if bytes_per_pack < 0:
            raise ValueError(f"bytes_per_pack must be non-negative, received {bytes_per_pack}.")
        if timeout_seconds is not None and not timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be a positive number of seconds or None, "
                             f"received {timeout_seconds!r}.")
        if CommunicationImplementation(getattr(implementation, "value", implementation)) \
                is CommunicationImplementation.NCCL:
            raise ValueError("CommunicationImplementation.NCCL is not supported: neuroflow's "
                             "workers communicate over MPI. Use AUTO or RING.")
        self.bytes_per_pack = int(bytes_per_pack)
        self.timeout_seconds = timeout_seconds
        self.implementation = implementation


class StrategyExtended:
    """``strategy.extended``: what callbacks and Keras ask a strategy."""

    def __init__(self, strategy: Strategy):
        self._strategy = strategy

    @property
    def should_checkpoint(self) -> bool:
        """Whether this worker writes checkpoints (the chief, worker 0, alone)."""
        return self._strategy._worker_rank == 0

    @property
    def should_save_summary(self) -> bool:
        return self._strategy._worker_rank == 0

    @property
    def should_init(self) -> bool:
        return True

    def _in_multi_worker_mode(self) -> bool:
        return self._strategy._worker_count > 1


class Strategy:
    """Base of the strategies: one replica in this process, nothing to synchronize."""

    _worker_rank = 0
    _worker_count = 1

    def __init__(self):
        self._extended = StrategyExtended(self)

    # --- where it applies ----------------------------------------------------------------------
    @contextlib.contextmanager
    def scope(self):
        """Models and optimizers made (and compiled) in this scope train with this strategy."""
        current = _current.get()
        if current is not None and current is not self:
            raise ValueError("Mixing different tf.distribute.Strategy objects: a scope of "
                             f"{type(current).__name__} is already active. Leave it first, or "
                             "use one strategy for the whole program.")
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)

    @property
    def extended(self) -> StrategyExtended:
        return self._extended

    @property
    def num_replicas_in_sync(self) -> int:
        return self._worker_count

    # --- custom training loops -----------------------------------------------------------------
    def run(self, fn, args=(), kwargs=None, options=None):
        """Call ``fn(*args, **kwargs)`` as this worker's replica; returns its (local) result."""
        if options is not None:
            raise ValueError("strategy.run(options=...) is not supported: neuroflow's "
                             "replicas need no run options. Leave it out.")
        token = _replica.set(ReplicaContext(self))
        # Inside ``run`` this strategy is the current one, scope or not, as in TensorFlow:
        # tf.nn.compute_average_loss and the optimizers ask it for the replicas.
        current = _current.set(self) if self is not _DEFAULT else None
        try:
            return fn(*args, **(kwargs or {}))
        finally:
            if current is not None:
                _current.reset(current)
            _replica.reset(token)

    def reduce(self, reduce_op, value, axis=None):
        """``value`` (a local result of ``run``) reduced over replicas and, if given, ``axis``."""
        op = _reduce_op(reduce_op)
        array = _concrete(value, "strategy.reduce")
        count = 1.0
        if axis is not None:
            count = float(array.shape[axis])
            array = array.sum(axis=axis)
        total = self._all_reduce_arrays([array], what="strategy.reduce")[0]
        if op is ReduceOp.MEAN:
            count = float(self._all_reduce_arrays([np.asarray(count)], "strategy.reduce")[0])
            total = (total / count).astype(array.dtype, copy=False)
        return Tensor(np.asarray(total))

    def experimental_local_results(self, value) -> tuple:
        return (value,)

    def gather(self, value, axis: int):
        raise NotImplementedError("strategy.gather is not supported by neuroflow: reduce the "
                                  "values with strategy.reduce instead.")

    # --- input ---------------------------------------------------------------------------------
    def experimental_distribute_dataset(self, dataset, options=None):
        """Each worker's part of every batch of ``dataset`` (its batch size is the global one)."""
        _no_options(options, "experimental_distribute_dataset")
        return DistributedDataset(dataset, self._worker_rank, self._worker_count)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """The dataset ``dataset_fn(input_context)`` builds for this worker (it shards and
        batches it itself, with ``input_context.get_per_replica_batch_size``)."""
        _no_options(options, "distribute_datasets_from_function")
        return dataset_fn(InputContext(self._worker_count, self._worker_rank,
                                       self._worker_count))

    # --- collectives (overridden by MultiWorkerMirroredStrategy) -------------------------------
    def _all_reduce_arrays(self, arrays: list, what: str) -> list:
        return [np.array(a, copy=True) for a in arrays]

    def _broadcast_array(self, array: np.ndarray, what: str = "broadcast") -> np.ndarray:
        return array

    @property
    def _collective(self):
        """The collectives of a multi-worker strategy (None: one process, nothing to sync)."""
        return None


class _DefaultStrategy(Strategy):
    """The strategy outside any scope: one replica, no-op."""

    @contextlib.contextmanager
    def scope(self):
        yield self


class MirroredStrategy(Strategy):
    """Synchronous training on the devices of one machine; neuroflow runs one replica.

    ``devices`` may name one device (or be None); more than one is refused: neuroflow
    runs a process's steps on one device. For several processes, use
    :class:`MultiWorkerMirroredStrategy` under ``mpirun``.
    """

    def __init__(self, devices=None, cross_device_ops=None):
        super().__init__()
        if devices is not None and len(list(devices)) > 1:
            raise ValueError(f"MirroredStrategy received {len(list(devices))} devices "
                             f"({list(devices)}), but neuroflow runs one replica per process. "
                             f"Pass one device (or none), or train on several processes with "
                             f"MultiWorkerMirroredStrategy under mpirun -n N.")
        if cross_device_ops is not None:
            raise ValueError("MirroredStrategy(cross_device_ops=...) is not supported: with one "
                             "replica there is nothing to reduce across devices. Leave it out.")


class OneDeviceStrategy(Strategy):
    """Everything on one device: one replica, as a plain program (``tf.device`` picks it)."""

    def __init__(self, device: str):
        super().__init__()
        self.device = device


class ClusterResolver:
    """This worker's place in the job: ``task_type`` ("worker"), ``task_id`` (the rank)."""

    def __init__(self, rank: int, size: int):
        self.task_type = "worker"
        self.task_id = rank
        self._size = size
        self.rpc_layer = "mpi"

    def cluster_spec(self) -> dict:
        return {"worker": [f"rank{r}" for r in range(self._size)]}

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None) -> dict:
        return {}


class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous data-parallel training over the processes of an MPI job.

    Start N processes with ``mpirun -n N python train.py``; each holds one replica.
    Variables of models built in ``scope()`` are broadcast from worker 0 when ``fit``
    starts; every step all-reduces the gradients in one buffer (or packs of
    ``communication_options.bytes_per_pack``). Only worker 0 (the chief) writes
    checkpoints, logs and progress bars.

    Example (run as ``mpirun -n 2 python train.py``)::

        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        with strategy.scope():
            model = tf.keras.Sequential([...])
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=64)  # 32 samples per worker and step
    """

    def __init__(self, cluster_resolver=None, communication_options=None):
        super().__init__()
        if cluster_resolver is not None:
            raise ValueError("MultiWorkerMirroredStrategy(cluster_resolver=...) is not "
                             "supported: neuroflow's workers are the processes of an MPI job "
                             "(mpirun -n N python train.py), which knows the cluster. Leave "
                             "it out and pass the hosts to mpirun (--hostfile).")
        options = communication_options or CommunicationOptions()
        if not isinstance(options, CommunicationOptions):
            raise ValueError(f"communication_options must be a "
                             f"tf.distribute.experimental.CommunicationOptions, received "
                             f"{options!r}.")
        from neuroflow.distribute.collective import Collective

        timeout = options.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        self._comm = Collective(timeout, options.bytes_per_pack)
        self._worker_rank, self._worker_count = self._comm.rank, self._comm.size
        self.communication_options = options
        self.cluster_resolver = ClusterResolver(self._worker_rank, self._worker_count)

    @property
    def _collective(self):
        return self._comm

    def _all_reduce_arrays(self, arrays: list, what: str) -> list:
        """The sum over workers of each array, in one allreduce per dtype."""
        arrays = [np.asarray(a) for a in arrays]
        results: list = [None] * len(arrays)
        for dtype in {a.dtype for a in arrays}:
            members = [i for i, a in enumerate(arrays) if a.dtype == dtype]
            flat = np.concatenate([arrays[i].reshape(-1) for i in members])
            total = self._comm.allreduce_sum(flat, what)
            at = 0
            for i in members:
                size = arrays[i].size
                results[i] = total[at:at + size].reshape(arrays[i].shape)
                at += size
        return results

    def _broadcast_array(self, array: np.ndarray, what: str = "broadcast") -> np.ndarray:
        return self._comm.broadcast(np.asarray(array), what)


class ReplicaContext:
    """The context of ``fn`` inside ``strategy.run``: which replica this is, and collectives."""

    def __init__(self, strategy: Strategy):
        self._strategy = strategy

    @property
    def strategy(self) -> Strategy:
        return self._strategy

    @property
    def num_replicas_in_sync(self) -> int:
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self) -> int:
        return self._strategy._worker_rank

    def all_reduce(self, reduce_op, value):
        """``value`` (a tensor or nested structure of them) summed or averaged over replicas."""
        op = _reduce_op(reduce_op)
        leaves = nest.flatten(value)
        arrays = [_concrete(leaf, "ReplicaContext.all_reduce") for leaf in leaves]
        totals = self._strategy._all_reduce_arrays(arrays, "ReplicaContext.all_reduce")
        if op is ReduceOp.MEAN:
            count = self.num_replicas_in_sync
            totals = [(t / count).astype(a.dtype, copy=False) for t, a in zip(totals, arrays)]
        return nest.pack_sequence_as(value, [Tensor(np.asarray(t)) for t in totals])


class DistributedDataset:
    """A dataset whose batches are global: iterating it yields this worker's rows of each."""

    def __init__(self, dataset, rank: int, count: int):
        self._dataset, self._rank, self._count = dataset, rank, count

    def __iter__(self):
        for element in self._dataset:
            yield shard_batch(element, self._rank, self._count)[0]

    @property
    def element_spec(self):
        return self._dataset.element_spec


def shard_batch(batch, rank: int, count: int):
    """Worker ``rank``'s contiguous rows of a global batch (sizes differ by at most one when
    ``count`` does not divide it), and the global batch's size."""
    leaves = [leaf for leaf in nest.flatten(batch) if leaf is not None]
    rows = int(leaves[0].shape[0]) if leaves and len(leaves[0].shape) else 0
    if count == 1:
        return batch, rows
    low, high = shard_bounds(rows, rank, count)

    def part(leaf):
        if leaf is None:
            return None
        array = leaf._value if isinstance(leaf, Tensor) else leaf
        return Tensor(array[low:high]) if isinstance(leaf, Tensor) else array[low:high]

    return nest.map_structure(part, batch), rows


def shard_bounds(rows: int, rank: int, count: int) -> tuple[int, int]:
    """The rows ``low:high`` of a batch of ``rows`` that worker ``rank`` takes."""
    share, extra = divmod(rows, count)  # as np.array_split: the first workers take one more
    low = rank * share + min(rank, extra)
    return low, low + share + (rank < extra)


def sum_gradients_over_replicas(grads: list) -> list:
    """``grads`` summed over the replicas when an optimizer applies them in the replica
    context of a strategy with several replicas (inside ``strategy.run``), as Keras's
    optimizers do on TensorFlow; ``grads`` themselves anywhere else.

    ``fit`` never applies gradients in a replica context: its worker step sums them over
    workers itself before the optimizer sees them, so they are never summed twice.
    """
    context = _replica.get()
    if context is None or context._strategy._worker_count == 1:
        return grads
    from neuroflow.ops.registry import inside_function

    if inside_function() or any(isinstance(getattr(g, "_value", None), AbstractArray)
                                for g in grads):
        count = context._strategy._worker_count
        raise NotImplementedError(
            f"optimizer.apply_gradients was called inside a tf.function in the replica "
            f"context of {type(context._strategy).__name__} ({count} replicas): it must sum "
            f"the gradients over the workers, and neuroflow's collectives run eagerly only. "
            f"Call strategy.run outside tf.function (a tf.function may compute the loss and "
            f"gradients; apply them in the eager step function), or train with model.fit, "
            f"which sums the gradients itself.")
    return list(context.all_reduce(ReduceOp.SUM, list(grads)))


def _concrete(value, what: str) -> np.ndarray:
    if isinstance(value, Tensor):
        if isinstance(value._value, AbstractArray):
            raise ValueError(f"{what} needs concrete values: it communicates with the other "
                             f"workers eagerly, so it cannot run inside a tf.function. Call "
                             f"it outside the function (strategy.run runs eagerly).")
        return np.asarray(value._value)
    return np.asarray(value)


def _no_options(options, what: str) -> None:
    if options is not None:
        raise ValueError(f"{what}(options=...) is not supported by neuroflow: workers shard "
                         f"each global batch by rows. Leave it out.")


_DEFAULT = _DefaultStrategy()


def get_strategy() -> Strategy:
    """The strategy of the innermost ``scope()``, or the default (no-op) strategy."""
    return _current.get() or _DEFAULT


def has_strategy() -> bool:
    """Whether a (non-default) strategy is current: in its scope or inside its ``run``."""
    return _current.get() is not None


def in_cross_replica_context() -> bool:
    return _current.get() is not None and _replica.get() is None


def get_replica_context():
    """The replica context inside ``strategy.run``; the default one outside any scope;
    None in a strategy's scope but outside ``run`` (cross-replica), as TensorFlow."""
    context = _replica.get()
    if context is not None:
        return context
    return None if _current.get() is not None else ReplicaContext(_DEFAULT)
