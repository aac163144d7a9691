"""Keras models."""

from neuroflow.keras.models.functional import Functional
from neuroflow.keras.models.model import Model
from neuroflow.keras.models.sequential import Sequential

__all__ = ["Functional", "Model", "Sequential"]
