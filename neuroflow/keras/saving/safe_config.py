"""Check a saved config before anything is built from it, and resolve custom objects.

A Keras config names classes and functions as ``{"module", "class_name", "config",
"registered_name"}``. Keras itself once imported such modules (CVE-2025-1550), rebuilt
lambdas from marshalled bytecode (CVE-2024-3660), and could be told by a config to turn
its safe mode off (CVE-2025-9906). Here a name is only ever looked up: among neuroflow's
own Keras classes (later, by the layer, initializer, optimizer... tables), or among the
registered and custom objects (here). Every entry of the whole tree is checked, however
deeply nested, before the model is built:

- a ``module`` must be one of Keras's own, unless the object is a registered or custom
  one (whose module is then never looked at);
- Python lambdas (``__lambda__``, marshalled bytecode) are always refused;
- ``Lambda`` layers are refused unless ``safe_mode=False``, and even then only run
  functions given in ``custom_objects`` or registered;
- names meant to switch safe mode off are refused outright.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

# The modules Keras 3 writes for its own objects. Nothing is imported from them: an
# entry naming one is rebuilt from neuroflow's class of the same name, or refused.
KERAS_MODULES = frozenset({
    "keras", "keras.layers", "keras.models", "keras.initializers", "keras.regularizers",
    "keras.constraints", "keras.optimizers", "keras.optimizers.schedules", "keras.losses",
    "keras.metrics", "keras.activations", "keras.dtype_policies",
    "keras.src.models.functional", "keras.src.models.sequential", "keras.src.models.model",
})
# Keras writes functions as {"module": "builtins", "class_name": "function", "config": name}.
_FUNCTION_MODULES = KERAS_MODULES | {"builtins"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UNSAFE_SWITCHES = ("enable_unsafe_deserialization", "safe_mode")
_ARRAY_KINDS = "biuf"
_LAMBDA_IN_SAFE_MODE = (
    "the model holds a Lambda layer. Requested the deserialization of a `Lambda` layer, "
    "whose Python code could run arbitrary actions; this is disallowed when "
    "safe_mode=True. If you trust the file and have the function, load it with "
    "safe_mode=False and custom_objects={name: function}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Checker:
    def __init__(self, objects: dict[str, Any], safe_mode: bool, source: str):
        self.objects = objects
        self.safe_mode = safe_mode
        self.source = source

    def fail(self, where: str, problem: str) -> ValueError:
        at = f" (at {where})" if where else ""
        return ValueError(f"Cannot load {self.source}: {problem}{at}. Nothing from the file "
                          f"was run.")

    def value(self, value: Any, where: str, key: str = "") -> Any:
        if isinstance(value, dict):
            if "safe_mode" in value:
                raise self.fail(where, "the config sets 'safe_mode'; a file cannot change how "
                                       "it is loaded")
            if isinstance(value.get("class_name"), str):
                return self.entry(value, where)
            return {k: self.value(v, _join(where, str(k)), str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and key == "activation" and value in self.objects:
            return self.objects[value]  # a custom activation saved by its name
        return value

    def entry(self, entry: dict, where: str) -> Any:
        class_name = entry["class_name"]
        module, registered = entry.get("module"), entry.get("registered_name")
        self.refuse_switches(class_name, where)
        if class_name.startswith("__") and class_name.endswith("__"):
            return self.special(entry, class_name, where)
        if class_name == "function":
            return self.function(entry, module, where)
        custom = self.lookup(registered) or self.lookup(class_name)
        if custom is None and registered is None and module == "keras.layers":
            custom = self.older_keras_hub(class_name)
            if custom is not None:
                entry = {**entry, "registered_name": f"keras_hub>{class_name}"}
        if custom is None:
            self.check_keras_entry(class_name, module, registered, where)
            if class_name == "Lambda" and self.safe_mode:
                raise self.fail(where, _LAMBDA_IN_SAFE_MODE)
            inner = self.value(entry.get("config"), _join(where, "config"))
            if class_name == "Lambda":
                self.check_lambda(inner, where)
            return {**{k: self.value(v, _join(where, k), k) for k, v in entry.items()
                       if k != "config"}, "config": inner}
        inner = self.value(entry.get("config"), _join(where, "config"))
        if isinstance(custom, type) and not _is_layer_class(custom):
            # An initializer, regularizer, loss, metric, optimizer...: built here, since
            # neuroflow's own tables only know built-in names.
            from_config = getattr(custom, "from_config", None)
            inner = dict(inner or {})
            return from_config(inner) if from_config is not None else custom(**inner)
        if not isinstance(custom, type):
            return custom  # a registered or custom function
        return {**entry, "config": inner}  # layers: built by the layer deserializer

    def older_keras_hub(self, class_name: str) -> Any:
        """neuroflow's own KerasHub layer of that name, for files neuroflow wrote before it
        named their KerasHub module (as ``keras.layers`` layers): Keras has no layer of
        these names, so no Keras file can mean another class."""
        cls = self.objects.get(f"keras_hub>{class_name}")
        return cls if isinstance(cls, type) and \
            cls.__module__.startswith("neuroflow.keras_hub.") else None

    def lookup(self, name: Any) -> Any:
        return self.objects.get(name) if isinstance(name, str) else None

    def refuse_switches(self, name: Any, where: str) -> None:
        if isinstance(name, str) and any(s in name for s in _UNSAFE_SWITCHES):
            raise self.fail(where, f"the config names {name!r}, which would switch safe mode "
                                   f"off; a file cannot change how it is loaded")

    def check_keras_entry(self, class_name: str, module: Any, registered: Any,
                          where: str) -> None:
        if _is_keras_hub(module, registered):
            provided = sorted(k.split(">", 1)[1] for k in self.objects
                              if isinstance(k, str) and k.startswith("keras_hub>"))
            if provided:  # neuroflow.keras_hub is imported, without this class
                raise self.fail(where, f"could not locate class {class_name!r} (module "
                                       f"{module!r}, registered_name {registered!r}): "
                                       f"neuroflow.keras_hub does not provide this KerasHub "
                                       f"class; it provides {', '.join(provided)}")
            raise self.fail(where, f"could not locate class {class_name!r} (module "
                                   f"{module!r}, registered_name {registered!r}): it is one "
                                   f"of KerasHub's, which neuroflow provides in "
                                   f"neuroflow.keras_hub. Run `import neuroflow.keras_hub` "
                                   f"before loading; it registers those layers under "
                                   f"KerasHub's names")
        if module is not None and module not in KERAS_MODULES:
            raise self.fail(where, f"the config names module {module!r} and class "
                                   f"{class_name!r}, which is neither a Keras class known to "
                                   f"neuroflow nor a registered or custom object; neuroflow "
                                   f"never imports a module a file names. If it is yours, "
                                   f"pass it in custom_objects={{{class_name!r}: ...}}")
        if not _NAME.match(class_name):
            raise self.fail(where, f"{class_name!r} is not a class name")
        if registered is not None and not isinstance(registered, str):
            raise self.fail(where, f"registered_name {registered!r} is not a string")
        if isinstance(registered, str) and registered not in (class_name, "Functional"):
            raise self.fail(where, f"the config names the registered object {registered!r} "
                                   f"(class {class_name!r}), which is not registered here; "
                                   f"register it with keras.saving.register_keras_serializable"
                                   f" or pass custom_objects={{{registered!r}: ...}}")

    def function(self, entry: dict, module: Any, where: str) -> Any:
        name = entry.get("config")
        if not isinstance(name, str):
            raise self.fail(where, f"a function entry must name its function; received "
                                   f"{name!r}")
        self.refuse_switches(name, where)
        if name in self.objects:
            return self.objects[name]
        if module is not None and module not in _FUNCTION_MODULES:
            raise self.fail(where, f"the config names function {name!r} of module "
                                   f"{module!r}; neuroflow never imports a module a file "
                                   f"names. Pass the function in custom_objects="
                                   f"{{{name!r}: ...}} or register it")
        if not _NAME.match(name):
            raise self.fail(where, f"function {name!r} is neither one of Keras's built-in "
                                   f"functions nor a registered or custom object; pass it in "
                                   f"custom_objects={{{name!r}: ...}} or register it")
        return name  # a built-in (activation, loss...): its own table resolves the name

    def check_lambda(self, config: Any, where: str) -> None:
        function = config.get("function") if isinstance(config, dict) else None
        if not callable(function):
            raise self.fail(where, f"the Lambda layer's function {function!r} is not in "
                                   f"custom_objects nor registered; pass it in "
                                   f"custom_objects={{{function!r}: your_function}}")

    def special(self, entry: dict, class_name: str, where: str) -> Any:
        config = entry.get("config")
        if class_name == "__lambda__":
            raise self.fail(where, "the config holds a Python lambda as marshalled bytecode. "
                                   "neuroflow never unmarshals Python bytecode, even with "
                                   "safe_mode=False: unmarshalling code from a file runs "
                                   "whatever its author wrote (CVE-2024-3660), and the format "
                                   "changes with each Python version. Define the function "
                                   "with `def` and pass it in custom_objects, or rebuild the "
                                   "layer in code")
        if class_name == "__keras_tensor__":
            return entry  # a reference in a functional graph: plain data
        if class_name in ("__numpy__", "__tensor__"):
            return self.array(config, where)
        if class_name == "__bytes__" and isinstance(config, dict) and \
                isinstance(config.get("value"), str):
            return config["value"].encode("utf-8")
        if class_name == "__ellipsis__":
            return Ellipsis
        if class_name == "__slice__" and isinstance(config, dict) and all(
                config.get(k) is None or type(config.get(k)) is int
                for k in ("start", "stop", "step")):
            return slice(config.get("start"), config.get("stop"), config.get("step"))
        raise self.fail(where, f"{class_name!r} entries are not supported")

    def array(self, config: Any, where: str) -> np.ndarray:
        if not isinstance(config, dict):
            raise self.fail(where, f"an array entry needs a 'value' and a 'dtype'; received "
                                   f"{config!r}")
        try:
            dtype = np.dtype(str(config.get("dtype")))
        except TypeError as error:
            raise self.fail(where, f"array dtype {config.get('dtype')!r} is not a NumPy "
                                   f"type") from error
        if dtype.kind not in _ARRAY_KINDS:
            raise self.fail(where, f"arrays of {dtype} are refused; only numbers and bools")
        try:
            return np.asarray(config.get("value"), dtype=dtype)
        except (TypeError, ValueError) as error:
            raise self.fail(where, f"the array value cannot be read as {dtype} "
                                   f"({error})") from error


def _is_keras_hub(module: Any, registered: Any) -> bool:
    """Whether an entry names one of KerasHub's objects (as KerasHub's files and neuroflow's
    ``neuroflow.keras_hub`` layers write them)."""
    return (isinstance(module, str) and module.split(".")[0] in ("keras_hub", "keras_nlp")) \
        or (isinstance(registered, str) and registered.split(">")[0] in ("keras_hub",
                                                                         "keras_nlp"))


def _is_layer_class(cls: type) -> bool:
    from neuroflow.keras.layers.base import Layer

    return issubclass(cls, Layer)


def check_config(config: Any, objects: dict[str, Any], safe_mode: bool, source: str) -> Any:
    """A copy of ``config`` safe to build from, with custom objects resolved (see module
    docstring); raises ``ValueError`` naming ``source`` and the entry's place otherwise."""
    checker = _Checker(objects, safe_mode, source)
    try:
        return checker.value(config, "")
    except RecursionError:
        raise ValueError(f"Cannot load {source}: the config is nested too deeply to be a "
                         f"model. Nothing from the file was run.") from None
