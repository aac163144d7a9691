"""``keras.layers.serialize`` / ``deserialize``: layers to and from their configs.

Deserializing looks classes up by name among neuroflow's Keras layers and models, then
among ``custom_objects`` and the classes registered with
``keras.saving.register_keras_serializable``; a config never names a module to import
or code to run.
"""

from __future__ import annotations

from typing import Any


def _known_classes() -> dict[str, type]:
    from neuroflow.keras import layers, models
    from neuroflow.keras.layers.base import Layer
    from neuroflow.keras.models.functional import Functional

    table = {name: obj for name, obj in vars(layers).items()
             if isinstance(obj, type) and issubclass(obj, Layer)}
    table.update({"Sequential": models.Sequential, "Functional": Functional,
                  "Model": Functional})
    return table


def serialize(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}``, as Keras 3 writes it."""
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def deserialize(config: dict, custom_objects: dict[str, Any] | None = None):
    """The layer (or model) a ``serialize``/``get_config`` entry describes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config is a dict with 'class_name' and 'config'; received "
                         f"{config!r}.")
    name = config["class_name"]
    registered = config.get("registered_name")
    custom = dict(custom_objects or {})
    cls = custom.get(registered) or custom.get(name) or _known_classes().get(name)
    if cls is None:
        raise ValueError(f"Unknown layer: {name!r}. Please ensure you are using a "
                         f"`keras.utils.custom_object_scope` and that this object is included "
                         f"in the scope, or pass it in custom_objects={{{name!r}: {name}}}.")
    inner = dict(config.get("config") or {})
    from_config = cls.from_config
    try:
        return from_config(inner, custom_objects=custom) if _takes_custom_objects(cls) \
            else from_config(inner)
    except TypeError as error:
        raise TypeError(f"Could not rebuild a {name} from its config {inner}: {error}") from error


def _takes_custom_objects(cls) -> bool:
    import inspect

    return "custom_objects" in inspect.signature(cls.from_config).parameters
