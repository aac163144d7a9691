"""Where each variable of a model goes in a Keras 3 weights file, and in what order.

Keras 3 walks the model the way ``keras/src/saving/saving_lib.py`` does: each layer (and
the optimizer) owns a group ``<path>/vars`` holding its own variables as datasets ``0``,
``1``, ..., with the object's name as the group's ``name`` attribute. Paths come from
attributes: a Sequential or functional model puts its layers under ``layers/``; other
objects are walked by attribute name, public names first, then private ones, each
alphabetically; a list, tuple or dict names its items after their class in snake case
(``dense``, ``dense_1``, ...) and nested containers ``container``, ``container_1``. An
object reached twice is stored at the first path only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from neuroflow.keras.layers.base import Layer
from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.keras.utils.naming import to_snake_case


class Saveable(NamedTuple):
    path: str  # "" for the model itself
    obj: Any  # a Layer or an Optimizer
    variables: list  # in the order of the datasets 0, 1, ...

    @property
    def group(self) -> str:
        return f"{self.path}/vars" if self.path else "vars"


# Slots Keras 3 creates with one add_optimizer_variables call: they alternate per
# variable in its files (momentum_0, velocity_0, momentum_1, ...). Other slots come one
# name after the other, as neuroflow creates them.
_INTERLEAVED = {
    "Adam": ("momentum", "velocity"),
    "Nadam": ("momentum", "velocity"),
    "Adamax": ("momentum", "norm"),
    "Adadelta": ("accumulated_grad", "accumulated_delta_var"),
    "Ftrl": ("accumulator", "linear"),
}

# Attributes of neuroflow's own Layer and Model classes that hold layers (or the
# optimizer) for their own bookkeeping; Keras skips its equivalents, so they never name a
# path.
_INTERNAL = frozenset({"_layers", "_input_layer", "_inbound_nodes", "_nodes", "_node_depths",
                       "inputs", "outputs", "_inputs_structure", "_outputs_structure",
                       "_compile_arguments"})


def saveables(model, include_optimizer: bool = True) -> list[Saveable]:
    """Every layer of ``model`` (itself first) and its optimizer, in Keras's walk order."""
    found: list[Saveable] = []
    visited: set[int] = set()

    def visit(obj, path: str) -> None:
        if id(obj) in visited:
            return
        visited.add(id(obj))
        if isinstance(obj, Optimizer):
            found.append(Saveable(path, obj, optimizer_variables(obj, model)))
            return
        found.append(Saveable(path, obj, own_variables(obj)))
        for attribute, child in _children(obj, include_optimizer):
            visit_value(child, _join(path, attribute), set())

    def visit_value(value, path: str, containers: set[int]) -> None:
        if isinstance(value, (Layer, Optimizer)):
            visit(value, path)
        elif isinstance(value, (list, tuple, dict)) and id(value) not in containers:
            containers.add(id(value))
            used: dict[str, int] = {}
            for item in (value.values() if isinstance(value, dict) else value):
                if isinstance(item, (Layer, Optimizer)):
                    visit(item, _join(path, _unique(to_snake_case(type(item).__name__), used)))
                elif isinstance(item, (list, tuple, dict)):
                    visit_value(item, _join(path, _unique("container", used)), containers)

    visit(model, "")
    return found


def own_variables(layer: Layer) -> list:
    """The variables a layer made itself, trainable ones first, as Keras stores them."""
    return list(layer._trainable_weights) + list(layer._non_trainable_weights)


def keras_trainable_order(layer: Layer) -> list:
    """The trainable variables in Keras's order: a layer's own, then its sublayers' in the
    order they were assigned (which is the order Keras builds its optimizer slots in)."""
    if not layer.trainable:
        return []
    out = [v for v in own_variables(layer) if v.trainable]
    for child in layer._sublayers():
        out += keras_trainable_order(child)
    return out


def optimizer_variables(optimizer: Optimizer, model) -> list:
    """``optimizer.variables`` in Keras 3's order: iteration, learning rate, slots (some
    interleaved, see ``_INTERLEAVED``), each slot list in the model's Keras order."""
    slots = getattr(optimizer, "_slots_by_name", {})
    if not slots:
        return optimizer.variables
    tracked = optimizer._trainable_variables
    index = {id(v): i for i, v in enumerate(tracked)}
    order = [index[id(v)] for v in keras_trainable_order(model) if id(v) in index]
    if sorted(order) != list(range(len(tracked))):  # variables outside the model: keep ours
        order = list(range(len(tracked)))
    interleaved = next((_INTERLEAVED[cls.__name__] for cls in type(optimizer).__mro__
                        if cls.__name__ in _INTERLEAVED), ())
    slot_of = {id(v): name for name, variables in slots.items() for v in variables}
    out, done = [], set()
    for variable in optimizer.variables:
        name = slot_of.get(id(variable))
        if name is None:
            out.append(variable)
        elif name not in done:
            group = [n for n in interleaved if n in slots] if name in interleaved else [name]
            out += [slots[n][i] for i in order for n in group]
            done.update(group)
    return out


def _children(obj: Layer, include_optimizer: bool) -> Iterator[tuple[str, Any]]:
    from neuroflow.keras.models.functional import Functional
    from neuroflow.keras.models.model import Model
    from neuroflow.keras.models.sequential import Sequential

    if isinstance(obj, (Sequential, Functional)):
        yield "layers", obj.layers
    names = _attribute_names(obj)
    if isinstance(obj, Model):
        names.add("optimizer")
        if not isinstance(obj, (Sequential, Functional)):
            names.add("layers")  # a subclassed model's `layers` property, as Keras walks it
    for name in sorted(names, key=lambda n: f"~{n}" if n.startswith("_") else n):
        if name == "optimizer" and not include_optimizer:
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # a property that fails: Keras skips it the same way
            continue
        if value is not obj:
            yield name, value


def _attribute_names(obj: Layer) -> set[str]:
    """Attributes that may hold layers: the instance's (a wrapper's ``layer``, an RNN's
    ``cell``, a user's own), less neuroflow's bookkeeping, and the properties of user
    classes, which Keras's walk (over ``dir``) reaches too."""
    names = {name for name in vars(obj) if name not in _INTERNAL}
    for cls in type(obj).__mro__:
        if not cls.__module__.startswith("neuroflow.") and cls is not object:
            names.update(name for name, value in vars(cls).items()
                         if isinstance(value, property) and not name.startswith("__"))
    return names


def _unique(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name
