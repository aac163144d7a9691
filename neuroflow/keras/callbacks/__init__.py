"""Keras callbacks: hooks into fit/evaluate/predict."""

from neuroflow.keras.callbacks.backup import BackupAndRestore
from neuroflow.keras.callbacks.callback import Callback, CallbackList, History, ProgbarLogger
from neuroflow.keras.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from neuroflow.keras.callbacks.logging import CSVLogger, LambdaCallback, ModelCheckpoint
from neuroflow.keras.callbacks.monitoring import EarlyStopping, TerminateOnNaN
from neuroflow.keras.callbacks.tensorboard import TensorBoard

__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "ModelCheckpoint", "ProgbarLogger", "TerminateOnNaN"]
__all__ += ["LearningRateScheduler", "ReduceLROnPlateau"]
__all__ += ["BackupAndRestore"]
__all__ += ["TensorBoard"]
