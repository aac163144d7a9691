"""Keras optimizers: SGD, Adam, AdamW, Nadam, Adamax, Adadelta, Lion, Ftrl, RMSprop, Adagrad,
learning-rate schedules, and lookup by name.

>>> type(get("adam")).__name__
'Adam'
"""

from typing import Any

from neuroflow.keras.optimizers import schedules
from neuroflow.keras.optimizers.adadelta import Adadelta
from neuroflow.keras.optimizers.adagrad import Adagrad
from neuroflow.keras.optimizers.adam import Adam
from neuroflow.keras.optimizers.adamax import Adamax
from neuroflow.keras.optimizers.adamw import AdamW
from neuroflow.keras.optimizers.ftrl import Ftrl
from neuroflow.keras.optimizers.lion import Lion
from neuroflow.keras.optimizers.nadam import Nadam
from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.keras.optimizers.rmsprop import RMSprop
from neuroflow.keras.optimizers.sgd import SGD
from neuroflow.keras.utils.naming import get_by_name

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lion", "Nadam",
           "Optimizer", "RMSprop", "deserialize", "get", "schedules", "serialize"]

_BY_NAME = {cls.__name__.lower(): cls for cls in (SGD, Adam, RMSprop, Adagrad, AdamW, Nadam,
                                                    Adamax, Adadelta, Lion, Ftrl)}


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``, ``"SGD"``: case does not matter), a config, or an
    instance. Unknown names raise ``ValueError`` naming the closest valid names."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return get_by_name("optimizer", identifier.lower(), _BY_NAME)()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Expected a "
                     f"name such as 'adam' or 'sgd', an Optimizer or a config dict.")


def serialize(optimizer: Optimizer) -> dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict) -> Optimizer:
    cls = get_by_name("optimizer", str(config["class_name"]).lower(), _BY_NAME)
    return cls.from_config(dict(config.get("config") or {}))
