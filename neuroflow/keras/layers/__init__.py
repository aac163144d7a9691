"""Keras layers."""

from neuroflow.keras.layers.activation import ReLU, Softmax
from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.core import Activation, Dense, Input, InputLayer
from neuroflow.keras.layers.preprocessing import Rescaling
from neuroflow.keras.layers.regularization import Dropout
from neuroflow.keras.layers.reshaping import Flatten, Reshape

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer", "ReLU",
           "Rescaling", "Reshape", "Softmax"]
