"""What a checkpoint saves: the object graph, named by attribute paths as TensorFlow names it.

An object's *children* are the objects it holds that carry state, each under a
local name; a variable's path is the names from the checkpoint's root down to it,
joined by ``/`` (``model/layers/0/kernel``), and its value is stored under
``<path>/.ATTRIBUTES/VARIABLE_VALUE``, as in TensorFlow.

This layer sits below Keras, so Keras objects are recognised by what they have,
not by their class:

* a **layer or model** (``_trainable_weights``, ``_non_trainable_weights``,
  ``_sublayers``): its own weights under their names (``kernel``, ``bias``), the
  layers it holds under ``layers/<i>``, and a compiled model's ``optimizer``;
* an **optimizer** (``iterations``, ``_variables``, ``_trainable_variables``,
  ``apply_gradients``): ``_iterations``, ``_learning_rate``, ``_variables/<i>``
  (its own variables, slots included) and ``_trainable_variables/<i>`` (the
  variables it updates), the names TensorFlow gives a Keras 3 optimizer's state;
* a **module** (anything else with ``trainable_variables``, as ``tf.Module``):
  every attribute holding state, under the attribute's name;
* lists, tuples and dicts: their items under ``0``, ``1``... or their keys;
* ``Checkpoint`` objects: their keyword arguments and ``save_counter``;
* :class:`PythonState`: a leaf whose value is a string it serializes itself.

A variable reached by several paths is stored once, under the first path a
breadth-first walk meets (so ``Checkpoint(model=m, optimizer=o)`` stores the
model's kernel under ``model/...`` and the optimizer refers to the same node).
"""

from __future__ import annotations

from typing import Any

from neuroflow.variables import Variable

VARIABLE_SUFFIX = ".ATTRIBUTES/VARIABLE_VALUE"
PYTHON_STATE_SUFFIX = ".ATTRIBUTES/py_state"


class PythonState:
    """State that is not a variable, saved in a checkpoint as a string (``tf.train.experimental``).

    A subclass implements ``serialize() -> str`` and ``deserialize(string)``; put an
    instance in a ``Checkpoint`` and its string is written with the variables and
    handed back to ``deserialize`` on restore.

    >>> import json, neuroflow as tf
    >>> class Epoch(tf.train.experimental.PythonState):
    ...     def __init__(self):
    ...         self.value = 0
    ...     def serialize(self):
    ...         return json.dumps(self.value)
    ...     def deserialize(self, string_value):
    ...         self.value = json.loads(string_value)
    """

    def serialize(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must implement serialize(), returning "
                                  f"the state as a string.")

    def deserialize(self, string_value: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"deserialize(string_value), setting the state from the "
                                  f"string serialize() returned.")


def is_leaf(obj: Any) -> bool:
    """Whether ``obj`` holds a value of its own (a variable or a PythonState)."""
    return isinstance(obj, (Variable, PythonState))


def value_key(path: str, obj: Any) -> str:
    """The name a leaf's value is stored under: TensorFlow's ``path/.ATTRIBUTES/...``."""
    suffix = PYTHON_STATE_SUFFIX if isinstance(obj, PythonState) else VARIABLE_SUFFIX
    return f"{path}/{suffix}"


def escape(name: str) -> str:
    """A local name made safe for paths as TensorFlow does: ``.`` -> ``..``, ``/`` -> ``.S``."""
    return name.replace(".", "..").replace("/", ".S")


def is_trackable(obj: Any) -> bool:
    """Whether a checkpoint can hold ``obj`` (directly, or as a container of such objects)."""
    return (is_leaf(obj) or isinstance(obj, (list, tuple, dict))
            or hasattr(obj, "_checkpoint_children") or _is_layer(obj) or _is_optimizer(obj)
            or _is_module(obj))


def is_deferrable(obj: Any) -> bool:
    """Layers and optimizers create their variables when built: values wait for that."""
    return (_is_layer(obj) or _is_optimizer(obj)) and not getattr(obj, "built", True)


def children(obj: Any) -> dict[str, Any]:
    """The trackable objects ``obj`` holds, by local name, in a stable order."""
    if is_leaf(obj):
        return {}
    hook = getattr(obj, "_checkpoint_children", None)
    if hook is not None:
        return hook()
    if isinstance(obj, dict):
        return _dict_children(obj)
    if isinstance(obj, (list, tuple)):
        return {str(i): item for i, item in enumerate(obj) if is_trackable(item)}
    if _is_optimizer(obj):
        return _optimizer_children(obj)
    if _is_layer(obj):
        return _layer_children(obj)
    if _is_module(obj):
        return {name: value for name, value in vars(obj).items()
                if value is not obj and is_trackable(value)}
    return {}


def check_trackable(obj: Any, name: str) -> None:
    """Refuse what a checkpoint cannot hold, with TensorFlow's message and a way out."""
    if not is_trackable(obj):
        raise ValueError(f"`Checkpoint` was expecting {name} to be a trackable object (an object "
                         f"derived from `Trackable`), got {obj!r}. A checkpoint holds variables, "
                         f"Keras models, layers and optimizers, modules, Checkpoints, "
                         f"tf.train.experimental.PythonState objects, and lists or dicts of "
                         f"them; keep plain Python values in a PythonState.")


def _dict_children(obj: dict) -> dict[str, Any]:
    found = {}
    for key, value in obj.items():
        if not is_trackable(value):
            continue
        if not isinstance(key, str):
            raise ValueError(f"Unable to save the object {obj!r} (a dictionary wrapper "
                             f"constructed automatically on attribute assignment). The wrapped "
                             f"dictionary contains a non-string key which maps to a trackable "
                             f"object or mutable data structure. Use string keys, e.g. "
                             f"{{{str(key)!r}: ...}}.")
        found[key] = value
    return found


def _layer_children(layer: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for weight in [*layer._trainable_weights, *layer._non_trainable_weights]:
        name = _weight_name(weight)
        # Two weights of one layer may share a name (a custom layer's add_weight("w")
        # twice): the later ones get the index of their place.
        found[name if name not in found else f"{name}_{len(found)}"] = weight
    sublayers = layer._sublayers()
    if sublayers:
        found["layers"] = sublayers
    optimizer = getattr(layer, "optimizer", None)
    if optimizer is not None and _is_optimizer(optimizer):
        found["optimizer"] = optimizer  # a compiled model saves its optimizer, as in TF
    return found


def _weight_name(weight: Variable) -> str:
    name = weight.name
    return name[:-2] if name.endswith(":0") else name


def _optimizer_children(optimizer: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"_iterations": optimizer.iterations}
    learning_rate = getattr(optimizer, "_learning_rate", None)
    if isinstance(learning_rate, Variable):
        found["_learning_rate"] = learning_rate
    found["_variables"] = list(optimizer._variables)
    found["_trainable_variables"] = list(optimizer._trainable_variables)
    return found


def _is_layer(obj: Any) -> bool:
    return (hasattr(obj, "_trainable_weights") and hasattr(obj, "_non_trainable_weights")
            and callable(getattr(obj, "_sublayers", None)))


def _is_optimizer(obj: Any) -> bool:
    return (hasattr(obj, "_variables") and hasattr(obj, "_trainable_variables")
            and hasattr(obj, "iterations") and callable(getattr(obj, "apply_gradients", None)))


def _is_module(obj: Any) -> bool:
    return (not isinstance(obj, type) and hasattr(obj, "__dict__")
            and hasattr(obj, "trainable_variables"))


def walk(root: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    """Every object reachable from ``root``, each once: its first breadth-first path, the
    object, and its children (containers such as a layer's ``layers`` list are made on
    each call, so the ones returned here are the ones the walk followed)."""
    seen = {id(root)}
    order: list[tuple[str, Any, dict[str, Any]]] = [("", root, children(root))]
    for path, _, kids in order:  # grows while it is walked: a breadth-first queue
        for name, child in kids.items():
            if id(child) not in seen:
                seen.add(id(child))
                order.append((f"{path}/{escape(name)}" if path else escape(name), child,
                              children(child)))
    return order


def dotted(path: str) -> str:
    """``(root).model.layers.0`` for ``model/layers/0``: how TensorFlow names an object."""
    return "(root)" + "".join(f".{part}" for part in path.split("/") if part)
