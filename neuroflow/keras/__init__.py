"""The Keras API of neuroflow: ``from neuroflow.keras import Sequential``.

Mirrors ``tensorflow.keras`` (Keras 3): layers, models, losses, metrics,
optimizers, callbacks, datasets, initializers, regularizers, activations.
"""

from neuroflow.keras import (
    activations,
    backend,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from neuroflow.keras.layers import Input, Layer
from neuroflow.keras.models import Model, Sequential

__all__ = ["Input", "Layer", "Model", "Sequential", "activations", "backend", "callbacks",
           "datasets", "initializers", "layers", "losses", "metrics", "models", "optimizers",
           "regularizers", "saving", "utils"]
