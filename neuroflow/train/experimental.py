"""``tf.train.experimental``: ``PythonState``, plain Python state saved in checkpoints."""

from neuroflow.train.trackable import PythonState

__all__ = ["PythonState"]
