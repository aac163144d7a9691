"""``tf.train``: checkpoints of variables, models and optimizers, and their management.

``Checkpoint`` saves and restores objects by their attribute paths, as TensorFlow's
does; ``CheckpointManager`` numbers checkpoints in a folder and keeps the last few;
``latest_checkpoint`` finds the newest. The files are neuroflow's own format (a JSON
index and a NumPy ``.npz`` archive, never pickled), written atomically: TensorFlow's
checkpoint files are not read, nor written.
"""

from neuroflow.train import experimental
from neuroflow.train.checkpoint import (
    Checkpoint,
    CheckpointLoadStatus,
    InitializationOnlyStatus,
)
from neuroflow.train.checkpoint_manager import (
    CheckpointManager,
    CheckpointState,
    get_checkpoint_state,
    latest_checkpoint,
)
from neuroflow.train.reading import list_variables, load_variable

__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "CheckpointState",
           "InitializationOnlyStatus", "experimental", "get_checkpoint_state",
           "latest_checkpoint", "list_variables", "load_variable"]
