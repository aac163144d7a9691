"""Keras tensors and nodes: what calling a layer on ``keras.Input`` records.

``keras.Input(shape)`` gives a :class:`KerasTensor`: a shape (``None`` where unknown, the
batch size first), a dtype and the layer call that made it. Calling a layer on Keras
tensors computes nothing; it records a :class:`Node` (the layer, the arguments it was
called with) and returns new Keras tensors for the outputs. A functional model
(``models/functional.py``) is the graph of nodes between its inputs and outputs, run in
order when the model is called.

The outputs' shapes and dtypes come from running the layer on *symbolic* tensors, the
abstract values graph mode traces with (``graph/trace.py``): so every layer, a user's
subclass included, gets exact output shapes without a ``compute_output_shape`` of its own,
and its weights are built there, from the real input shapes.
"""

from __future__ import annotations

import itertools

from neuroflow.abstract import public_shape
from neuroflow.dtypes import as_dtype
from neuroflow.graph.trace import SymbolicValueError, Tracer, symbolic_inputs, tracing
from neuroflow.ops.registry import recording
from neuroflow.tensor import Tensor
from neuroflow.util import nest

_tensor_ids = itertools.count()


class KerasTensor:
    """A symbolic tensor of the functional API (``keras.Input`` and layer outputs)."""

    def __init__(self, shape, dtype="float32", name: str | None = None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        # Through tf's dtypes: "string" (NumPy's object) is a dtype of Keras tensors too.
        self.dtype = as_dtype(dtype).name if dtype is not None else "float32"
        number = next(_tensor_ids)
        self.name = name or ("keras_tensor" if number == 0 else f"keras_tensor_{number}")
        # (layer, node index in the layer, output index in the node): where it comes from.
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse=False, "
                f"ragged=False, name={self.name}>")

    def __bool__(self):
        raise TypeError("A KerasTensor is symbolic: it has no value to test. It stands for the "
                        "input of a model being defined; use it to call layers, then build "
                        "keras.Model(inputs, outputs).")

    def __array__(self, *args, **kwargs):
        raise TypeError(f"A KerasTensor ({self.name}, shape {self.shape}) is symbolic: it "
                        f"cannot be converted to a NumPy array or passed to tf ops. Call "
                        f"Keras layers on it (keras.layers.Lambda wraps any function), and "
                        f"give real data to the model built from it.")

    # Keras tensors are graph endpoints, hashed by identity (as Keras does).
    __hash__ = object.__hash__


class Node:
    """One call of a layer on Keras tensors: ``layer(*args, **kwargs) -> outputs``."""

    def __init__(self, layer, arguments: tuple, outputs):
        self.layer = layer
        self.arguments = arguments  # (args, kwargs), Keras tensors inside
        self.outputs = outputs  # the structure the call returned, Keras tensors inside
        self.index = len(layer._inbound_nodes)
        self.order = next(_tensor_ids)  # creation order, to keep sorts stable
        layer._inbound_nodes.append(self)

    @property
    def input_tensors(self) -> list[KerasTensor]:
        return [t for t in nest.flatten(self.arguments) if isinstance(t, KerasTensor)]

    @property
    def output_tensors(self) -> list[KerasTensor]:
        return [t for t in nest.flatten(self.outputs) if isinstance(t, KerasTensor)]


def has_keras_tensors(*structures) -> bool:
    return any(isinstance(leaf, KerasTensor) for s in structures for leaf in nest.flatten(s))


def input_tensor(layer, shape, dtype, name) -> KerasTensor:
    """The Keras tensor an InputLayer produces (its one node has no inputs)."""
    tensor = KerasTensor(shape, dtype, name=name)
    Node(layer, ((), {}), tensor)
    tensor._keras_history = (layer, 0, 0)
    return tensor


def call_symbolically(layer, args: tuple, kwargs: dict):
    """Record ``layer(*args, **kwargs)`` on Keras tensors; return the output Keras tensors."""
    if recording.tracer is not None:
        raise RuntimeError(f"Layer {layer.name!r} was called on a KerasTensor inside a "
                           f"tf.function. Define functional models outside of traced code.")
    structure = (args, kwargs)
    leaves = nest.flatten(structure)
    keras_leaves = [leaf for leaf in leaves if isinstance(leaf, KerasTensor)]
    shapes = symbolic_inputs([leaf.shape for leaf in keras_leaves])
    tracer = Tracer(f"{layer.name}_output_shapes")
    try:
        with tracing(tracer):
            fresh = iter(tracer.add_input(shape, as_dtype(leaf.dtype).np)
                         for leaf, shape in zip(keras_leaves, shapes))
            traced = [next(fresh) if isinstance(leaf, KerasTensor) else leaf for leaf in leaves]
            call_args, call_kwargs = nest.pack_sequence_as(structure, traced)
            outputs = layer(*call_args, **call_kwargs)
    except SymbolicValueError as error:
        raise TypeError(f"Layer {layer.name!r} ({type(layer).__name__}) cannot be called on "
                        f"Keras tensors: its call reads the values of its inputs, which a "
                        f"model being defined does not have yet. {error}") from error
    out_leaves = nest.flatten(outputs)
    made = []
    node_outputs = []
    for leaf in out_leaves:
        if isinstance(leaf, Tensor):
            tensor = KerasTensor(public_shape(leaf._value.shape), leaf._value.dtype)
            made.append(tensor)
            node_outputs.append(tensor)
        else:
            node_outputs.append(leaf)
    node = Node(layer, structure, nest.pack_sequence_as(outputs, node_outputs))
    for index, tensor in enumerate(made):
        tensor._keras_history = (layer, node.index, index)
    layer._output_shape_for_summary = (made[0].shape if len(made) == 1
                                       else [t.shape for t in made])
    return node.outputs


__all__ = ["KerasTensor", "Node", "call_symbolically", "has_keras_tensors", "input_tensor"]
