"""``tf.distribute``: synchronous data-parallel training over the processes of an MPI job.

``MultiWorkerMirroredStrategy`` under ``mpirun -n N python train.py`` trains one
replica per process; ``MirroredStrategy`` is its one-process form; outside any
``scope()`` the default strategy does nothing. See docs/cluster.md to run on a cluster.
"""

from neuroflow.distribute import experimental
from neuroflow.distribute.strategy import (
    DistributedDataset,
    InputContext,
    MirroredStrategy,
    MultiWorkerMirroredStrategy,
    OneDeviceStrategy,
    ReduceOp,
    ReplicaContext,
    Strategy,
    StrategyExtended,
    get_replica_context,
    get_strategy,
    has_strategy,
    in_cross_replica_context,
)

__all__ = ["DistributedDataset", "InputContext", "MirroredStrategy",
           "MultiWorkerMirroredStrategy", "OneDeviceStrategy", "ReduceOp",
           "ReplicaContext", "Strategy", "StrategyExtended", "experimental",
           "get_replica_context", "get_strategy", "has_strategy",
           "in_cross_replica_context"]
