"""Functional models: ``keras.Model(inputs, outputs)``, a graph of layer calls.

Defining the model (calling layers on ``keras.Input``) records nodes
(``layers/symbolic.py``). The model keeps the nodes between its inputs and outputs,
sorted so that each runs after the nodes it reads, and calling the model runs them in that
order on real tensors. Everything else a model does (fit, compiled steps, weights,
summary) comes from :class:`Model`.

``get_config`` writes Keras 3's functional layout (layers with their ``inbound_nodes``,
``input_layers``, ``output_layers``); ``from_config`` rebuilds the same graph by calling
the layers again, creating classes only from the known Keras layers (or
``custom_objects``) and never running code from the config.
"""

from __future__ import annotations

from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.core import InputLayer
from neuroflow.keras.layers.symbolic import KerasTensor, Node
from neuroflow.keras.models.model import Model
from neuroflow.tensor import Tensor
from neuroflow.util import nest


class Functional(Model):
    """A model defined by its inputs and outputs (see the module docstring)."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model._init_model(self, name=name, trainable=trainable, **kwargs)
        self._inputs_structure = _as_keras_structure(inputs, "inputs")
        self._outputs_structure = _as_keras_structure(outputs, "outputs")
        self.inputs = nest.flatten(self._inputs_structure)
        self.outputs = nest.flatten(self._outputs_structure)
        for tensor in self.inputs:
            layer = tensor._keras_history[0]
            if not isinstance(layer, InputLayer):
                raise ValueError(f"The inputs of a functional model must come from "
                                 f"keras.Input(); {tensor.name} is an output of layer "
                                 f"{layer.name!r}. Pass the keras.Input tensors.")
        self._nodes, self._layers, self._node_depths = _graph_order(self.inputs,
                                                                     self.outputs)
        names = [layer.name for layer in self._layers]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"The name {repeated[0]!r} is used {names.count(repeated[0])} "
                             f"times in the model. All layer names should be unique.")
        self.built = True
        self._build_input_shape = (self.inputs[0].shape if len(self.inputs) == 1
                                   else [t.shape for t in self.inputs])

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self.outputs]

    def get_layer(self, name=None, index=None) -> Layer:
        """The layer named ``name``, or at position ``index`` of ``model.layers``."""
        if (name is None) == (index is None):
            raise ValueError(f"Provide exactly one of `name` or `index`; received "
                             f"name={name!r}, index={index!r}.")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"only has {len(self._layers)} layers.")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self._layers]}.")

    # --- running --------------------------------------------------------------------------
    def _convert_inputs(self, inputs):
        return inputs  # each layer converts what it receives

    def _flat_inputs(self, inputs) -> list:
        if isinstance(inputs, dict) and not isinstance(self._inputs_structure, dict):
            by_name = dict(zip(self.input_names, self.inputs))
            unknown = sorted(set(inputs) - set(by_name))
            if unknown:
                raise ValueError(f"Model {self.name!r} has no inputs named {unknown}; its "
                                 f"inputs are {self.input_names}.")
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f"Model {self.name!r} is missing inputs {missing}.")
            return [inputs[name] for name in self.input_names]
        if len(self.inputs) == 1 and not isinstance(self._inputs_structure, dict):
            if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
                return list(inputs)
            return [inputs]
        if isinstance(self._inputs_structure, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f"Model {self.name!r} takes a dict of inputs with keys "
                                 f"{sorted(self._inputs_structure)}; received "
                                 f"{type(inputs).__name__}.")
            missing = sorted(set(self._inputs_structure) - set(inputs))
            if missing:
                raise ValueError(f"Model {self.name!r} is missing inputs {missing}.")
            return nest.flatten({k: inputs[k] for k in self._inputs_structure})
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} inputs, but it "
                             f"received {len(flat)} input tensors. Inputs received: "
                             f"{[_describe(v) for v in flat]}")
        return flat

    def call(self, inputs, training=None, mask=None):
        values = {}
        for tensor, value in zip(self.inputs, self._flat_inputs(inputs)):
            values[id(tensor)] = self._checked_input(tensor, value)
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args, kwargs = nest.map_structure(
                lambda leaf: values[id(leaf)] if isinstance(leaf, KerasTensor) else leaf,
                node.arguments)
            if training is not None and "training" not in kwargs and \
                    node.layer._call_takes_training:
                kwargs = {**kwargs, "training": training}
            outputs = node.layer(*args, **kwargs)
            for tensor, value in zip(nest.flatten(node.outputs), nest.flatten(outputs)):
                if isinstance(tensor, KerasTensor):
                    values[id(tensor)] = value
        return nest.map_structure(lambda t: values[id(t)], self._outputs_structure)

    def _checked_input(self, tensor: KerasTensor, value):
        layer = tensor._keras_history[0]
        value = layer._convert_inputs(value)
        if isinstance(value, Tensor):
            found = tuple(value.shape)
            expected = tensor.shape
            if len(found) != len(expected) or any(
                    e is not None and f is not None and e != f
                    for e, f in zip(expected[1:], found[1:])):
                raise ValueError(f"Input {layer.name!r} of model {self.name!r} is incompatible: "
                                 f"expected shape={expected}, found shape={found}.")
        return value

    def compute_output_shape(self, input_shape):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def build(self, input_shape=None) -> None:
        self.built = True

    # --- summary ----------------------------------------------------------------------------
    def _chain_like(self) -> bool:
        """Whether the graph is a plain chain: one node per depth, each reading at most
        one tensor, no layer called twice. Keras then prints the Sequential layout."""
        by_depth: dict[int, list[Node]] = {}
        for node, depth in self._node_depths.items():
            by_depth.setdefault(depth, []).append(node)
        if any(len(nodes) > 1 or len(nodes[0].input_tensors) > 1
               for nodes in by_depth.values()):
            return False
        return all(sum(n in self._node_set for n in layer._inbound_nodes) <= 1
                   for layer in self._layers)

    def _summary_rows(self) -> list[tuple]:
        if self._chain_like():
            return super()._summary_rows()
        rows = []
        for label, shape, count in super()._summary_rows():
            rows.append([label, shape, count])
        for row, layer in zip(rows, self.layers):
            sources = []
            for node in layer._inbound_nodes:
                if node in self._node_set:
                    sources += [f"{t._keras_history[0].name}[{t._keras_history[1]}]"
                                f"[{t._keras_history[2]}]" for t in node.input_tensors]
            row.append(", ".join(sources) if sources else "-")
        return [tuple(row) for row in rows]

    @property
    def _node_set(self) -> set:
        return set(self._nodes)

    # --- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        node_set = self._node_set
        layers = []
        for layer in self._layers:
            nodes = [n for n in layer._inbound_nodes if n in node_set]
            entry = {"module": "keras.layers", "class_name": type(layer).__name__,
                     "config": layer.get_config(), "registered_name": None,
                     "name": layer.name,
                     "inbound_nodes": [] if isinstance(layer, InputLayer) else
                     [_serialize_node(n) for n in nodes]}
            if not isinstance(layer, InputLayer) and layer._build_input_shape is not None:
                entry["build_config"] = {"input_shape": _listed(layer._build_input_shape)}
            layers.append(entry)
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": _serialize_refs(self._inputs_structure),
                "output_layers": _serialize_refs(self._outputs_structure)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        return functional_from_config(config, custom_objects, cls)


# --- the graph ----------------------------------------------------------------------------


def _as_keras_structure(value, what: str):
    leaves = nest.flatten(value)
    if not leaves:
        raise ValueError(f"A functional model needs at least one of its {what}; received "
                         f"{value!r}.")
    for leaf in leaves:
        if not isinstance(leaf, KerasTensor):
            raise ValueError(f"All {what} of a functional model must be KerasTensors (from "
                             f"keras.Input() or a layer called on one); received "
                             f"{_describe(leaf)}.")
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and len(value) == 1 and what == "outputs":
        return value  # a one-element list stays a list, as in Keras
    return value


def _graph_order(inputs: list[KerasTensor], outputs: list[KerasTensor]
                 ) -> tuple[list[Node], list[Layer], dict[Node, int]]:
    """The nodes between inputs and outputs, in running order, and the layers in Keras's order.

    As Keras 3 orders them: a depth-first walk from the outputs (in order) numbers each layer
    when first reached; a node's depth is one more than the deepest node reading its
    outputs (0 for the outputs' nodes), a shared layer's depth the deepest of its nodes;
    layers go deepest first, ties by that number. Running deepest first computes every
    node's inputs before it.
    """
    input_ids = {id(t) for t in inputs}
    finished: list[Node] = []  # post-order: each node after the nodes it reads
    done: set[Node] = set()
    first_seen: dict[Layer, int] = {}

    def walk(tensor: KerasTensor) -> None:
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        # Keras tensors exist only after the tensors they are computed from: no cycles.
        if node in done:
            return
        first_seen.setdefault(layer, len(first_seen))
        if isinstance(layer, InputLayer):
            if id(tensor) not in input_ids:
                raise ValueError(
                    f"Graph disconnected: cannot find parent for KerasTensor {tensor.name} "
                    f"(from Input {layer.name!r}, shape {tensor.shape}): it is needed to "
                    f"compute the outputs but is not one of the model's inputs "
                    f"{[t.name for t in inputs]}. Add it to the inputs.")
        else:
            for parent in node.input_tensors:
                walk(parent)
        done.add(node)
        finished.append(node)

    for tensor in outputs:
        walk(tensor)

    node_depth: dict[Node, int] = {}
    layer_depth: dict[Layer, int] = {}
    for node in reversed(finished):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        node_depth[node] = layer_depth[node.layer] = depth
        for parent in node.input_tensors:
            parent_layer, parent_index, _ = parent._keras_history
            parent_node = parent_layer._inbound_nodes[parent_index]
            if parent_node in done:
                node_depth[parent_node] = max(node_depth.get(parent_node, 0), depth + 1)
    for tensor in inputs:  # an input no output needs is still part of the model
        layer = tensor._keras_history[0]
        if layer not in layer_depth:
            layer_depth[layer] = 0
            first_seen[layer] = -1
            node_depth[layer._inbound_nodes[0]] = 0
    position = {node: i for i, node in enumerate(finished)}
    nodes = sorted(node_depth, key=lambda n: (-node_depth[n], position.get(n, -1)))
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))
    return nodes, layers, node_depth


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def _listed(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [list(s) for s in shape]
    return list(shape)


def _serialize_tensor(tensor: KerasTensor) -> dict:
    layer, node_index, tensor_index = tensor._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                       "keras_history": [layer.name, node_index, tensor_index]}}


def _serialize_node(node: Node) -> dict:
    args, kwargs = node.arguments
    # The first argument (the inputs) is stored as Keras stores it.
    serial = nest.map_structure(
        lambda leaf: _serialize_tensor(leaf) if isinstance(leaf, KerasTensor) else leaf,
        (list(args), kwargs))
    return {"args": serial[0], "kwargs": serial[1]}


def _serialize_refs(structure):
    def ref(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        return [layer.name, node_index, tensor_index]

    if isinstance(structure, dict):
        return {k: ref(v) for k, v in structure.items()}
    if isinstance(structure, list):
        return [ref(t) for t in structure]
    return ref(structure)


def functional_from_config(config: dict, custom_objects=None, cls=None):
    """Rebuild a functional model from ``get_config()`` (Keras 3's layout)."""
    from neuroflow.keras.layers.serialization import deserialize as deserialize_layer

    made: dict[str, Layer] = {}
    pending = []
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        made[entry.get("name", layer.name)] = layer
        pending += [(layer, node) for node in entry.get("inbound_nodes", [])]

    def tensor_of(ref):
        name, node_index, tensor_index = ref
        layer = made.get(name)
        if layer is None:
            raise ValueError(f"The config refers to layer {name!r}, which it does not define.")
        if node_index >= len(layer._inbound_nodes):
            return None
        outputs = layer._inbound_nodes[node_index].output_tensors
        return outputs[tensor_index]

    def resolve(leaf):
        if isinstance(leaf, dict) and leaf.get("class_name") == "__keras_tensor__":
            tensor = tensor_of(leaf["config"]["keras_history"])
            if tensor is None:
                raise LookupError
            return tensor
        return leaf

    # Replay the calls; a call whose inputs are not made yet waits for a later round.
    while pending:
        waiting = []
        for layer, node in pending:
            try:
                args = _resolve_structure(node.get("args", []), resolve)
                kwargs = _resolve_structure(node.get("kwargs", {}), resolve)
            except LookupError:
                waiting.append((layer, node))
                continue
            layer(*args, **kwargs)
        if len(waiting) == len(pending):
            names = sorted({layer.name for layer, _ in waiting})
            raise ValueError(f"The config's graph cannot be rebuilt: the inputs of layers "
                             f"{names} are never produced.")
        pending = waiting

    def refs(structure):
        if isinstance(structure, dict):
            return {k: refs(v) for k, v in structure.items()}
        if structure and isinstance(structure[0], (list, tuple)):
            return [tensor_of(r) for r in structure]
        return tensor_of(structure)

    inputs, outputs = refs(config["input_layers"]), refs(config["output_layers"])
    return (cls or Functional)(inputs, outputs, name=config.get("name"),
                               trainable=config.get("trainable", True))


def _resolve_structure(value, resolve):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return resolve(value)
    if isinstance(value, dict):
        return {k: _resolve_structure(v, resolve) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_resolve_structure(v, resolve) for v in value)
    return value
