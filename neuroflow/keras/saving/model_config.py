"""A model as Keras 3's ``config.json`` (and ``to_json``), and a model built back from one.

The config is Keras's ``serialize_keras_object(model)``: ``module``, ``class_name``,
``config``, ``registered_name``, then ``build_config`` (the input shape the weights were
made for) and ``compile_config`` (the arguments of ``compile``). Building it back checks
the whole tree first (``safe_config.py``), builds the layers from neuroflow's classes or
the registered and custom ones, creates the weights, then compiles.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from neuroflow.keras.saving.object_registry import get_registered_name, loading_objects
from neuroflow.keras.saving.safe_config import check_config

# Inputs of a subclassed model are zeros of its build shape: bounded, since the shape
# comes from the file (elements of one input).
_MAX_BUILD_ELEMENTS = 1 << 26


# --- writing -------------------------------------------------------------------------------


def serialize_model(model) -> dict:
    """The dict Keras 3 writes as ``config.json`` for ``model``."""
    module, registered = _module_and_name(type(model))
    config = model.get_config()
    _mark_custom_layers(config, {(type(layer).__name__, layer.name): layer
                                 for layer in model._flatten_layers()[1:]})
    _mark_custom_objects(config, model)
    entry = {"module": module, "class_name": type(model).__name__, "config": config,
             "registered_name": registered, "build_config": _build_config(model)}
    compiled = compile_config(model)
    if compiled is not None:
        entry["compile_config"] = compiled
    return entry


def to_json(model, **kwargs) -> str:
    """``model.to_json()``: the serialized model as JSON (``kwargs`` go to ``json.dumps``)."""
    return json.dumps(serialize_model(model), default=_json_default, **kwargs)


def _module_and_name(cls: type) -> tuple[str | None, str | None]:
    from neuroflow.keras.models.functional import Functional
    from neuroflow.keras.models.sequential import Sequential

    if cls is Sequential:
        return "keras", None
    if cls is Functional:
        return "keras.src.models.functional", "Functional"
    if cls.__module__.startswith("neuroflow."):
        registered = _registered_name(cls)
        if registered is not None:
            # A registered class standing in for another library's (KerasHub's layers):
            # that library's module and name, so Keras finds its own class, and neuroflow
            # the registered one.
            return cls.__dict__.get("_keras_module", cls.__module__), registered
        return "keras.layers", None
    # A user's class: Keras writes its module (None for __main__) and its registered name.
    return (None if cls.__module__ == "__main__" else cls.__module__), get_registered_name(cls)


def _registered_name(cls: type) -> str | None:
    """The ``"package>name"`` ``cls`` was registered under, else None."""
    name = get_registered_name(cls)
    return name if name != cls.__name__ else None


def _mark_custom_layers(config: Any, layers: dict) -> None:
    """Give user-defined layers, and the user's objects and functions in their configs,
    the module and registered name Keras writes, so that loading (here or in Keras) finds
    them among the registered or custom objects."""
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(inner, dict) and isinstance(config.get("class_name"), str):
            layer = layers.get((config["class_name"], inner.get("name")))
            if layer is not None:
                if not type(layer).__module__.startswith("neuroflow.") or \
                        _registered_name(type(layer)) is not None:
                    config["module"], config["registered_name"] = _module_and_name(type(layer))
                _mark_custom_objects(inner, layer)
        for value in config.values():
            _mark_custom_layers(value, layers)
    elif isinstance(config, list):
        for value in config:
            _mark_custom_layers(value, layers)


def _mark_custom_objects(config: dict, layer) -> None:
    """A layer's own custom objects (initializers, activations...) in its config."""
    import inspect

    from neuroflow.keras.layers.base import Layer

    classes, functions = {}, {}
    for value in vars(layer).values():
        if inspect.isfunction(value) and not value.__module__.startswith("neuroflow.") \
                and value.__name__ != "<lambda>":
            functions[value.__name__] = value
        elif hasattr(value, "get_config") and not isinstance(value, (Layer, type)) and \
                not type(value).__module__.startswith("neuroflow."):
            classes[type(value).__name__] = type(value)
    for key, value in config.items():
        if isinstance(value, str) and value in functions:
            config[key] = _serialize(functions[value], "")
        elif isinstance(value, dict) and value.get("class_name") in classes and \
                not value.get("registered_name"):
            module, registered = _module_and_name(classes[value["class_name"]])
            config[key] = {**value, "module": module, "registered_name": registered}


def _build_config(model) -> dict:
    from neuroflow.keras.models.functional import Functional

    shape = None if isinstance(model, Functional) else model._build_input_shape
    if shape is None or not shape:
        return {"input_shape": None}
    if isinstance(shape[0], (list, tuple)):
        return {"input_shape": [[None, *list(s)[1:]] for s in shape]}
    # The batch size of the data that built it is no part of the model.
    return {"input_shape": [None, *list(shape)[1:]]}


def compile_config(model) -> dict | None:
    """Keras's ``get_compile_config()``: what ``compile`` received, serialized."""
    arguments = getattr(model, "_compile_arguments", None)
    if not getattr(model, "compiled", False) or arguments is None:
        return None
    jit = arguments.get("jit_compile")
    return {"optimizer": _serialize(model.optimizer, "keras.optimizers"),
            "loss": _serialize(arguments.get("loss"), "keras.losses"),
            "loss_weights": arguments.get("loss_weights"),
            "metrics": _serialize(arguments.get("metrics"), "keras.metrics"),
            "weighted_metrics": _serialize(arguments.get("weighted_metrics"), "keras.metrics"),
            "run_eagerly": bool(arguments.get("run_eagerly")),
            "steps_per_execution": arguments.get("steps_per_execution", 1),
            # neuroflow compiles its own way: no XLA to ask for, as Keras writes "auto" off.
            "jit_compile": jit if isinstance(jit, bool) else False}


def _serialize(value: Any, module: str) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_serialize(v, module) for v in value]
    if isinstance(value, dict):
        return {k: _serialize(v, module) for k, v in value.items()}
    cls = type(value)
    if hasattr(value, "get_config") and not isinstance(value, type):
        own_module, registered = _module_and_name(cls)
        config = value.get_config()
        rate = config.get("learning_rate") if isinstance(config, dict) else None
        if isinstance(rate, dict) and "module" not in rate:  # a schedule, as Keras writes it
            config["learning_rate"] = {"module": "keras.optimizers.schedules", **rate,
                                       "registered_name": None}
        if own_module == "keras.layers":
            own_module = module
        return {"module": own_module, "class_name": cls.__name__, "config": config,
                "registered_name": registered}
    if callable(value):
        if getattr(value, "__module__", "").startswith("neuroflow."):
            return value.__name__  # a built-in function: its name finds it again
        return {"module": "builtins", "class_name": "function",
                "config": get_registered_name(value), "registered_name": "function"}
    raise TypeError(f"Cannot serialize {value!r} in the compile config: expected a name, a "
                    f"Keras object with get_config(), or a function.")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return {"class_name": "__bytes__", "config": {"value": value.decode("utf-8")}}
    raise TypeError(f"Cannot write {value!r} (a {type(value).__name__}) in a model config: "
                    f"get_config() should return plain values (numbers, strings, lists, "
                    f"dicts).")


# --- reading -------------------------------------------------------------------------------


def model_from_json(json_string: str, custom_objects=None):
    """The model a ``model.to_json()`` string describes (compiled if it was), built from
    neuroflow's classes or ``custom_objects``; code is never run from the string."""
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"model_from_json expects a JSON string from model.to_json(); it "
                         f"cannot be parsed ({error}).") from error
    return model_from_config(config, custom_objects, source="the JSON model config")


def model_from_config(config: Any, custom_objects=None, compile: bool = True,
                      safe_mode: bool = True, source: str = "the model config"):
    """The model ``config`` describes: checked, built, its weights created, compiled."""
    from neuroflow.keras.layers.serialization import deserialize

    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"Cannot load {source}: it is not a model config (a JSON object "
                         f"with 'class_name' and 'config'); received "
                         f"{type(config).__name__}.")
    objects = loading_objects(custom_objects)
    checked = check_config(config, objects, safe_mode, source)
    if not isinstance(checked, dict):
        raise ValueError(f"Cannot load {source}: it describes {type(checked).__name__}, not a "
                         f"model.")
    try:
        model = deserialize({k: checked.get(k) for k in ("class_name", "config",
                                                        "registered_name")}, objects)
        _build(model, (checked.get("build_config") or {}).get("input_shape"))
        if compile and checked.get("compile_config"):
            compile_from_config(model, checked["compile_config"])
    except (ValueError, TypeError, KeyError, NotImplementedError) as error:
        raise _naming(error, source) from error
    return model


def _naming(error: Exception, source: str) -> Exception:
    if isinstance(error, KeyError):
        return ValueError(f"Cannot load {source}: the config lacks the entry {error}.")
    kind = type(error) if type(error) in (ValueError, TypeError, NotImplementedError) \
        else ValueError
    return kind(f"Cannot load {source}: {error}")


def _build(model, shape: Any) -> None:
    """Create a subclassed model's weights as Keras's ``build_from_config`` does: run it
    once on zeros of its build shape (a Sequential or functional model is built already)."""
    if model.built or shape is None:
        return
    if not isinstance(shape, list):
        raise ValueError(f"build_config input_shape {shape!r} is not a shape")
    several = bool(shape) and isinstance(shape[0], list)
    inputs = []
    for one in shape if several else [shape]:
        if not isinstance(one, list) or not all(
                d is None or (type(d) is int and d >= 0) for d in one):
            raise ValueError(f"build_config input_shape {shape!r} is not a shape")
        dims = [1 if d is None else d for d in one]
        if int(np.prod(dims, dtype=np.float64)) > _MAX_BUILD_ELEMENTS:
            raise ValueError(f"build_config input_shape {shape!r} is too large to build from")
        inputs.append(np.zeros(dims, dtype=model.dtype))
    model(inputs if several else inputs[0], training=False)


def compile_from_config(model, config: dict) -> None:
    """``model.compile(**config)`` with its objects rebuilt; then the optimizer is built, so
    that its saved state can be loaded into it."""
    from neuroflow.keras import losses, metrics, optimizers

    if not isinstance(config, dict):
        raise ValueError(f"compile_config must be a dict; received {type(config).__name__}")
    optimizer = config.get("optimizer")
    optimizer = optimizers.get(optimizer) if isinstance(optimizer, (dict, str)) else optimizer
    model.compile(optimizer=optimizer,
                  loss=_objects(config.get("loss"), losses.get),
                  metrics=_objects(config.get("metrics"), metrics.get),
                  loss_weights=config.get("loss_weights"),
                  weighted_metrics=_objects(config.get("weighted_metrics"), metrics.get),
                  run_eagerly=bool(config.get("run_eagerly", False)),
                  steps_per_execution=config.get("steps_per_execution", 1),
                  jit_compile=config.get("jit_compile", "auto"))
    if model.optimizer is not None and model.built:
        model.optimizer.build(model.trainable_weights)


def _objects(value: Any, get) -> Any:
    """Configs (dicts with a class_name) rebuilt; lists and per-output dicts walked."""
    if isinstance(value, dict) and "class_name" in value:
        return get(value)
    if isinstance(value, dict):
        return {k: _objects(v, get) for k, v in value.items()}
    if isinstance(value, list):
        return [_objects(v, get) for v in value]
    return value
