"""``tf.js``: export Keras models for TensorFlow.js (``save_keras_model``), in the Layers
format ``tf.loadLayersModel`` reads, so a model trained here runs in a browser or Node.

Like ``tensorflowjs.converters``; the converter loads on first use.
"""

from __future__ import annotations

_NAMES = {"save_keras_model": "neuroflow.js.converters"}


def __getattr__(name: str):
    import importlib

    if name == "converters":
        return importlib.import_module("neuroflow.js.converters")
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neuroflow.js' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_NAMES, "converters"])
