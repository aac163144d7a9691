"""``tf.lite``: write TensorFlow Lite flatbuffers (``TFLiteConverter``) and run them with
NumPy alone (``Interpreter``), so a small device needs nothing but NumPy.

The converter lives in ``converter.py`` (it needs the optional ``export`` extra); the
interpreter in ``interpreter.py`` (NumPy only). Both load on first use.
"""

from __future__ import annotations

_NAMES = {
    "TFLiteConverter": "neuroflow.lite.converter",
    "Optimize": "neuroflow.lite.converter",
    "OpsSet": "neuroflow.lite.converter",
    "TargetSpec": "neuroflow.lite.converter",
    "RepresentativeDataset": "neuroflow.lite.converter",
    "Interpreter": "neuroflow.lite.interpreter",
}


def __getattr__(name: str):
    import importlib

    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neuroflow.lite' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_NAMES])
