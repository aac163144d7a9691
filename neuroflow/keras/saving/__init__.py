"""``keras.saving``: Keras 3's ``.keras`` and ``.weights.h5`` files, and custom objects.

``save_model``/``load_model`` write and read the zip Keras 3 writes (``config.json``,
``metadata.json``, ``model.weights.h5``), optimizer state included; loading never runs
code from the file (see ``safe_config.py``). HDF5 goes through h5py, an optional
dependency imported on first use (``pip install neuroflow[h5]``).
"""

from __future__ import annotations

from neuroflow.keras.saving.keras_file import load_model, save_model
from neuroflow.keras.saving.object_registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "load_model", "load_weights",
           "register_keras_serializable", "save_model", "save_weights"]


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """``model.save_weights(filepath)``: a ``.weights.h5`` file (or neuroflow's ``.npz``)."""
    model.save_weights(filepath, overwrite=overwrite)


def load_weights(model, filepath) -> None:
    """``model.load_weights(filepath)``: from a ``.weights.h5``, ``.keras`` or ``.npz`` file."""
    model.load_weights(filepath)
