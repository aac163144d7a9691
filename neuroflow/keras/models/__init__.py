"""Keras models."""

from neuroflow.keras.models.functional import Functional
from neuroflow.keras.models.model import Model
from neuroflow.keras.models.sequential import Sequential
from neuroflow.keras.saving import load_model, save_model
from neuroflow.keras.saving.model_config import model_from_json

__all__ = ["Functional", "Model", "Sequential", "load_model", "model_from_json", "save_model"]
