"""Traced graph in, TensorFlow Lite flatbuffer out: lowering, quantization, writing.

``tf.lite.TFLiteConverter`` (``neuroflow/lite/converter.py``) traces the model and calls
``convert_graph``; the steps are ``tflite_lower`` (primitives to builtin operators),
``tflite_quantize`` (int8) and ``tflite_write`` (the flatbuffer).
"""

from __future__ import annotations

import numpy as np

from neuroflow.export.tflite_lower import lower
from neuroflow.export.tflite_quantize import calibrate, quantize_dynamic_range, quantize_full_int8
from neuroflow.export.tflite_write import serialize
from neuroflow.graph.ir import Graph


def convert_graph(graph: Graph, input_names: list[str] | None = None, *,
                  quantization: str | None = None, representative_samples=None,
                  input_type=np.float32, output_type=np.float32) -> bytes:
    """The ``.tflite`` bytes computing ``graph``.

    ``quantization`` is None (float), ``"dynamic_range"`` (int8 weights) or ``"int8"``
    (full integer, calibrated on ``representative_samples``: an iterable of lists of
    input arrays). ``input_type``/``output_type`` (float32 or int8) apply to ``"int8"``.
    """
    model = lower(graph, input_names)
    if quantization == "int8":
        ranges = calibrate(graph, representative_samples)
        model = quantize_full_int8(model, ranges, input_type, output_type)
    elif quantization == "dynamic_range":
        model = quantize_dynamic_range(model)
    elif quantization is not None:
        raise ValueError(f"quantization must be None, 'dynamic_range' or 'int8'; "
                         f"received {quantization!r}.")
    return serialize(model)
