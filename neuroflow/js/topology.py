"""Translate a Keras 3 model config into the Keras 2 form that TensorFlow.js Layers reads.

``tfjs-layers`` 4.x deserializes the configs ``tf.keras`` 2 wrote: wrappers are plain
``{"class_name", "config"}`` (no ``module`` / ``registered_name`` / ``build_config``), an
``InputLayer`` has ``batch_input_shape``, a functional layer's ``inbound_nodes`` are lists
of ``[layer_name, node_index, tensor_index, kwargs]`` and a dtype is a plain string. Keras 3
(and so neuroflow) writes each of these differently, so the config is rewritten here. A
layer or option TensorFlow.js cannot run raises at export time, naming the fix, rather
than producing a ``model.json`` that fails in the browser.
"""

from __future__ import annotations

from typing import Any

# Layer classes ``tfjs-layers`` 4.x registers for deserialization (its ``className``s).
TFJS_LAYERS = frozenset({
    "InputLayer", "Sequential", "Functional", "Model",
    "Dense", "Dropout", "SpatialDropout1D", "Flatten", "Activation", "RepeatVector",
    "Reshape", "Permute", "Masking", "Embedding",
    "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv2D",
    "DepthwiseConv2D", "Cropping2D", "UpSampling2D", "ZeroPadding2D",
    "BatchNormalization", "LayerNormalization",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "Add", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
    "ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax",
    "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "Rescaling", "Resizing", "CenterCrop", "CategoryEncoding",
})

# Keras activation names -> the names ``tfjs-layers`` registers (``None``: it has none).
_ACTIVATIONS = {
    "linear": "linear", "relu": "relu", "relu6": "relu6", "elu": "elu", "selu": "selu",
    "sigmoid": "sigmoid", "softplus": "softplus", "softsign": "softsign", "tanh": "tanh",
    "softmax": "softmax", "log_softmax": "log_softmax", "mish": "mish", "gelu": "gelu",
    # Not "hard_sigmoid": tfjs keeps Keras 2's 0.2 * x + 0.5, Keras 3 uses relu6(x + 3) / 6.
    # Keras 3 names swish "silu"; tfjs kept the older name.
    "silu": "swish", "swish": "swish",
}

# Keys Keras 3 adds around an object that tfjs's deserializer does not know.
_WRAPPER_KEYS = ("module", "registered_name", "build_config", "compile_config",
                 "shared_object_id")


def model_topology(model) -> dict:
    """The ``modelTopology`` of ``model.json``: the model's config in tfjs-layers' form."""
    from neuroflow.keras.models.functional import Functional
    from neuroflow.keras.models.sequential import Sequential

    if not isinstance(model, (Sequential, Functional)):
        raise NotImplementedError(
            f"TensorFlow.js Layers format stores Sequential and functional models; "
            f"received a subclassed model {type(model).__name__!r} whose call() has no "
            f"config. Rebuild it with keras.Sequential or keras.Model(inputs, outputs).")
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so it has no input shape or weights to "
            f"export. Start it with keras.Input(shape), or call it on data, first.")
    class_name = "Sequential" if isinstance(model, Sequential) else "Model"
    return {"class_name": class_name, "config": _model_config(model.get_config(),
                                                              class_name)}


# Augmentation layers pass inputs through unchanged at inference, and tfjs lacks most of
# them, so the export leaves them out (a functional model is rewired around them).
INFERENCE_IDENTITY = frozenset({
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast",
    "RandomBrightness"})


def _model_config(config: dict, class_name: str) -> dict:
    out = {"name": config.get("name")}
    functional = class_name != "Sequential"
    kept = [entry for entry in config["layers"]
            if entry["class_name"] not in INFERENCE_IDENTITY]
    out["layers"] = [_layer(entry, functional) for entry in kept]
    if functional:
        bypass = _bypasses(config["layers"])
        for layer in out["layers"]:
            layer["inbound_nodes"] = [[[*bypass(item[:3]), *item[3:]] for item in node]
                                      for node in layer["inbound_nodes"]]
        out["input_layers"] = _endpoints(config["input_layers"])
        out["output_layers"] = [bypass(item) for item in
                                _endpoints(config["output_layers"])]
    return out


def _bypasses(layers: list):
    """A function taking Keras 3's ``[layer, node, tensor]`` to tfjs's, once the
    inference-identity layers are left out."""
    source = {}
    # A model used as a layer has in tfjs (as in Keras 2) a first inbound node from its
    # own construction, so its calls count from 1; Keras 3 counts them from 0.
    models = {entry["name"] for entry in layers
              if entry["class_name"] in ("Sequential", "Functional", "Model")}
    for entry in layers:
        if entry["class_name"] in INFERENCE_IDENTITY:
            nodes = [_inbound_node(node, entry["name"]) for node in entry["inbound_nodes"]]
            if len(nodes) != 1 or len(nodes[0]) != 1:
                raise NotImplementedError(
                    f"{entry['class_name']} {entry['name']!r} is called more than once; "
                    f"the export leaves augmentation layers out only when each is used "
                    f"once. Use a separate layer per call.")
            source[entry["name"]] = list(nodes[0][0][:3])

    def bypass(item: list) -> list:
        item = list(item)
        while item[0] in source:
            item = source[item[0]]
        if item[0] in models:
            item[1] += 1
        return item
    return bypass


def _layer(entry: dict, functional: bool) -> dict:
    class_name = entry["class_name"]
    if class_name not in TFJS_LAYERS:
        raise NotImplementedError(
            f"TensorFlow.js Layers has no {class_name!r} layer, so a model using it cannot "
            f"run in tfjs (layer {entry['config'].get('name')!r}). Supported layers: "
            f"{', '.join(sorted(TFJS_LAYERS))}.")
    if class_name in ("Sequential", "Functional", "Model"):
        inner = "Sequential" if class_name == "Sequential" else "Model"
        layer = {"class_name": inner, "config": _model_config(entry["config"], inner)}
        if inner == "Sequential":
            _input_shape_on_first_layer(layer["config"]["layers"])
    else:
        layer = {"class_name": class_name, "config": _layer_config(class_name,
                                                                   entry["config"])}
    if functional:
        layer["name"] = entry["name"]
        layer["inbound_nodes"] = [_inbound_node(node, entry["name"])
                                  for node in entry.get("inbound_nodes", [])]
    return layer


def _input_shape_on_first_layer(layers: list) -> None:
    """A nested Sequential's own InputLayer disconnects tfjs's outer graph; Keras 2 put
    the input shape on the first layer instead, which tfjs reads."""
    if len(layers) > 1 and layers[0]["class_name"] == "InputLayer":
        first = layers.pop(0)["config"]
        layers[0]["config"]["batch_input_shape"] = first["batch_input_shape"]


def _layer_config(class_name: str, config: dict) -> dict:
    config = {key: _plain(value) for key, value in config.items()}
    if "dtype" in config:
        config["dtype"] = _dtype_name(config["dtype"], config.get("name"))
    fix = _LAYER_FIXES.get(class_name)
    if fix is not None:
        fix(config)
    for key in ("activation", "recurrent_activation"):
        if isinstance(config.get(key), str):
            config[key] = _activation(config[key], config.get("name"))
    for key in ("layer", "backward_layer"):  # wrappers hold a layer config
        if isinstance(config.get(key), dict) and "class_name" in config[key]:
            inner = config[key]
            config[key] = {"class_name": inner["class_name"],
                           "config": _layer_config(inner["class_name"], inner["config"])}
    return config


def _plain(value: Any) -> Any:
    """Drops Keras 3's wrapper keys from nested objects (initializers, regularizers)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if key not in _WRAPPER_KEYS}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _dtype_name(dtype: Any, layer: str | None) -> str:
    # Keras 3 may write a DTypePolicy object; tfjs reads a dtype string.
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    if dtype in ("mixed_float16", "mixed_bfloat16", "float16", "bfloat16", "float64"):
        raise NotImplementedError(
            f"TensorFlow.js computes in float32; layer {layer!r} has dtype {dtype!r}. "
            f"Export a float32 model (keras.config.set_dtype_policy('float32') before "
            f"building it, then load the weights).")
    return str(dtype)


def _activation(name: str, layer: str | None) -> str:
    if name == "hard_sigmoid":
        raise NotImplementedError(
            f"Layer {layer!r} uses 'hard_sigmoid', which TensorFlow.js computes as Keras 2 "
            f"did (0.2 * x + 0.5), not as Keras 3 (relu6(x + 3) / 6); its predictions "
            f"would differ. Use another activation, or an Activation layer before export.")
    if name not in _ACTIVATIONS:
        raise NotImplementedError(
            f"TensorFlow.js Layers has no activation {name!r} (layer {layer!r}). "
            f"Supported: {', '.join(sorted(_ACTIVATIONS))}.")
    return _ACTIVATIONS[name]


def _unsupported(config: dict, key: str, allowed: Any, why: str) -> None:
    value = config.pop(key, allowed)
    if value != allowed and value is not None:
        raise NotImplementedError(
            f"Layer {config.get('name')!r}: TensorFlow.js does not support {key}={value!r} "
            f"({why}). Build the layer with {key}={allowed!r} to export it.")


def _fix_input_layer(config: dict) -> None:
    config["batch_input_shape"] = config.pop("batch_shape", None) or config.pop(
        "batch_input_shape", None)
    _unsupported(config, "ragged", False, "tfjs tensors are dense")
    _unsupported(config, "sparse", False, "tfjs tensors are dense")
    config.pop("optional", None)


def _fix_gru(config: dict) -> None:
    _unsupported(config, "reset_after", False,
                 "tfjs's GRUCell applies the reset gate before the matrix product only")


def _fix_relu(config: dict) -> None:
    _unsupported(config, "negative_slope", 0.0, "tfjs's ReLU has only max_value")
    _unsupported(config, "threshold", 0.0, "tfjs's ReLU has only max_value")


def _fix_leaky_relu(config: dict) -> None:
    # Keras 3 renamed LeakyReLU's ``alpha`` to ``negative_slope``; tfjs reads ``alpha``.
    if "negative_slope" in config:
        config["alpha"] = config.pop("negative_slope")


def _fix_global_pooling(config: dict) -> None:
    _unsupported(config, "keepdims", False, "tfjs's global pooling always drops the axes")


def _fix_layer_normalization(config: dict) -> None:
    # tfjs resolves a negative axis inside a one-element list wrongly; an int works.
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1:
        config["axis"] = axis[0]


def inner_name(name: str) -> str:
    """The name tfjs's Bidirectional adds ``forward_`` / ``backward_`` to; Keras 3 stores
    the already prefixed name, which tfjs would prefix again."""
    return name[len("forward_"):] if name.startswith("forward_") else name


def _fix_bidirectional(config: dict) -> None:
    forward = config["layer"]["config"]
    backward = config.pop("backward_layer", None)
    if backward is not None:
        ignored = ("name", "go_backwards")
        if {k: v for k, v in backward["config"].items() if k not in ignored} != \
                {k: v for k, v in forward.items() if k not in ignored}:
            raise NotImplementedError(
                f"Bidirectional {config.get('name')!r} has its own backward_layer; "
                f"TensorFlow.js builds the backward layer as a mirror of the forward one. "
                f"Export a Bidirectional without backward_layer.")
    forward["name"] = inner_name(forward["name"])


_LAYER_FIXES = {
    "InputLayer": _fix_input_layer,
    "LayerNormalization": _fix_layer_normalization,
    "Bidirectional": _fix_bidirectional,
    "GRU": _fix_gru,
    "ReLU": _fix_relu,
    "LeakyReLU": _fix_leaky_relu,
    **{name: _fix_global_pooling for name in (
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
        "GlobalMaxPooling2D")},
}


def _endpoints(endpoints: list) -> list:
    # Keras 3 writes a single input or output as one flat [name, node, tensor] triple.
    if endpoints and isinstance(endpoints[0], str):
        endpoints = [endpoints]
    return [list(endpoint) for endpoint in endpoints]


def _inbound_node(node: Any, layer: str) -> list:
    """A Keras 3 call record ``{"args", "kwargs"}`` as Keras 2's list of input triples."""
    if isinstance(node, list):  # already Keras 2's form
        return node
    tensors: list = []
    _collect_tensors(node.get("args", []), tensors)
    kwargs = dict(node.get("kwargs", {}))
    nested: list = []
    _collect_tensors(kwargs, nested)
    if nested:
        raise NotImplementedError(
            f"Layer {layer!r} is called with tensors in keyword arguments "
            f"({sorted(kwargs)}); the TensorFlow.js Layers format passes only positional "
            f"inputs. Call the layer with its inputs positionally.")
    return [[*history, kwargs] for history in tensors]


def _collect_tensors(value: Any, out: list) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            out.append(list(value["config"]["keras_history"]))
            return
        for item in value.values():
            _collect_tensors(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_tensors(item, out)
