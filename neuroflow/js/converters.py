"""``save_keras_model``: write a Keras model in the TensorFlow.js Layers format.

Mirrors ``tensorflowjs.converters.save_keras_model``: ``model.json`` holds the format tag,
the model topology (``topology.py``) and the weights manifest; the weights follow in
binary shards (``weights.py``). ``tf.loadLayersModel('.../model.json')`` in a browser or
Node loads the folder.
"""

from __future__ import annotations

import json
import os
from typing import Any

from neuroflow.js.topology import inner_name, model_topology
from neuroflow.js.weights import encode, quantized_names, write_shards

DEFAULT_SHARD_SIZE = 4 * 1024 * 1024


def save_keras_model(model, artifacts_dir: str | os.PathLike,
                     quantization_dtype_map: dict | None = None,
                     weight_shard_size_bytes: int = DEFAULT_SHARD_SIZE,
                     metadata: dict | None = None) -> None:
    """Saves ``model`` (Sequential or functional) for TensorFlow.js in ``artifacts_dir``.

    Args:
        model: a built ``keras.Sequential`` or functional ``keras.Model``.
        artifacts_dir: folder to write ``model.json`` and ``group1-shard*of*.bin`` into
            (created if missing).
        quantization_dtype_map: ``{"float16" | "uint8" | "uint16": True | pattern |
            [patterns]}``; weights whose names match a pattern (``fnmatch``) are stored
            quantized and restored to float32 by tfjs.
        weight_shard_size_bytes: largest shard file, in bytes.
        metadata: JSON-serializable dict stored as ``userDefinedMetadata``.

    Example:

    >>> import os, tempfile, neuroflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    >>> folder = tempfile.mkdtemp()
    >>> tf.js.save_keras_model(model, folder)
    >>> sorted(os.listdir(folder))
    ['group1-shard1of1.bin', 'model.json']
    """
    _check_arguments(weight_shard_size_bytes, metadata)
    folder = os.fspath(artifacts_dir)
    if os.path.isfile(folder):
        raise ValueError(f"artifacts_dir must be a folder; received the file {folder!r}")
    topology = model_topology(model)
    named = list(_named_weights(model))
    quantize = quantized_names([name for name, _ in named], quantization_dtype_map)
    os.makedirs(folder, exist_ok=True)
    entries = [encode(name, value, quantize.get(name)) for name, value in named]
    manifest = write_shards(entries, folder, weight_shard_size_bytes)
    from neuroflow import __version__

    artifacts: dict[str, Any] = {
        "format": "layers-model",
        "generatedBy": f"neuroflow v{__version__}",
        "convertedBy": f"neuroflow.js v{__version__}",
        "modelTopology": {**topology, "keras_version": "3", "backend": "neuroflow"},
        "weightsManifest": manifest,
    }
    if metadata:
        artifacts["userDefinedMetadata"] = metadata
    with open(os.path.join(folder, "model.json"), "w") as file:
        json.dump(artifacts, file)


def _check_arguments(shard_size: Any, metadata: Any) -> None:
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size <= 0:
        raise ValueError(f"weight_shard_size_bytes must be a positive int; received "
                         f"{shard_size!r}")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict; received {type(metadata).__name__}")
        try:
            json.dumps(metadata)
        except TypeError as error:
            raise TypeError(f"metadata must be JSON-serializable: {error}") from None


def _named_weights(model):
    """(name tfjs looks the weight up by, value) for every weight, in layer order.

    tfjs names a layer's variables ``<layer>/<weight>``; a recurrent layer's cell weights
    take the layer's name (Keras 3's path ``lstm/lstm_cell/kernel`` becomes
    ``lstm/kernel``), and a nested model's layers keep their own names.
    """
    for layer in model.layers:
        if hasattr(layer, "layers") and type(layer).__name__ in ("Sequential", "Functional",
                                                                 "Model"):
            yield from _named_weights(layer)
            continue
        if type(layer).__name__ == "Bidirectional":
            inner = inner_name(layer.forward_layer.name)
            for prefix, part in (("forward_", layer.forward_layer),
                                 ("backward_", layer.backward_layer)):
                for variable in part.weights:
                    yield (f"{layer.name}/{prefix}{inner}/{_base_name(layer, variable)}",
                           variable.numpy())
            continue
        for variable in layer.weights:
            yield f"{layer.name}/{_base_name(layer, variable)}", variable.numpy()


# Weights tfjs names differently from Keras 3: (layer class, Keras name) -> tfjs name.
_RENAMED = {("DepthwiseConv2D", "kernel"): "depthwise_kernel"}


def _base_name(layer, variable) -> str:
    base = (getattr(variable, "path", None) or variable.name).rsplit("/", 1)[-1]
    base = base.split(":")[0]
    return _RENAMED.get((type(layer).__name__, base), base)
