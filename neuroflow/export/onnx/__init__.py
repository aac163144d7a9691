"""ONNX export of Keras models and ``tf.function``\\ s, in the shape of tf2onnx's API.

``model.export("m.onnx", format="onnx")`` (Keras 3's call) and :func:`from_keras` write a
model; :func:`from_function` writes any ``neuroflow.function`` with an input signature.
The function is traced once with its unknown sizes (the batch) left unknown; each
primitive of the traced graph becomes ONNX operators (``emitters.py``), variables
become initializers, and unknown sizes become ``dim_param``\\ s (``batch`` for the first
axis), so the model runs on batches of any size. The ``onnx`` package (the ``export``
extra) is imported only when a writer runs.

An op without an ONNX form raises ``UnimplementedError`` naming the op and the Keras
layer it was traced in.

>>> import neuroflow as tf
>>> from neuroflow.export import onnx as nf_onnx
>>> f = tf.function(lambda x: tf.nn.relu(x) * 2.0,
...                 input_signature=[tf.TensorSpec((None, 3), name="x")])
>>> proto, _ = nf_onnx.from_function(f)
>>> [node.op_type for node in proto.graph.node]
['Relu', 'Mul', 'Identity']
>>> proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
'batch'
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np

from neuroflow.abstract import Dim
from neuroflow.export.onnx.convert import graph_to_model
from neuroflow.export.onnx.writer import DEFAULT_OPSET, MIN_OPSET
from neuroflow.graph.function import Function, TensorSpec
from neuroflow.graph.function import function as make_function
from neuroflow.util import nest

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "from_function", "from_keras", "graph_to_model"]


def from_function(function, input_signature=None, opset: int | None = None,
                  output_path: str | os.PathLike | None = None):
    """Convert a ``tf.function`` (or a Python function) to ONNX, as ``tf2onnx.convert.
    from_function`` does.

    Args:
        function: a ``neuroflow.function`` or a Python function of tensors.
        input_signature: a list of ``tf.TensorSpec`` (``None`` for sizes that vary); by
            default the function's own ``input_signature``.
        opset: the ONNX opset version (default :data:`DEFAULT_OPSET`, 17).
        output_path: where to write the ``.onnx`` file, if anywhere.

    Returns:
        ``(model_proto, None)``: the ``onnx.ModelProto``, and no external tensor storage
        (tf2onnx's second result), since initializers are kept inside the model.
    """
    traced = _with_signature(function, input_signature)
    signature = traced.input_signature
    # Stand-ins of the specs' shapes (unknown sizes as 1): the trace keeps those unknown.
    concrete = traced.get_concrete_function(*nest.map_structure(_placeholder, signature))
    names = _input_names(traced, signature)
    model = graph_to_model(concrete.graph, DEFAULT_OPSET if opset is None else int(opset),
                           input_names=names)
    if output_path is not None:
        _save(model, output_path)
    return model, None


def from_keras(model, input_signature=None, opset: int | None = None,
               output_path: str | os.PathLike | None = None):
    """Convert a Keras model's inference pass (``model(x, training=False)``) to ONNX, as
    ``tf2onnx.convert.from_keras`` does.

    ``input_signature`` defaults to the model's inputs, with one unknown batch size shared
    by all of them. Returns ``(model_proto, None)``, as :func:`from_function`.
    """
    if input_signature is None:
        signature = _keras_signature(model)
    else:  # Keras also takes InputSpecs and KerasTensors, and a list in a list
        signature = [_as_spec(leaf) for leaf in nest.flatten(list(input_signature))]
    several = len(signature) > 1

    def inference(*inputs):
        return model(list(inputs) if several else inputs[0], training=False)

    inference.__name__ = _identifier(getattr(model, "name", None) or "model")
    traced = make_function(inference, input_signature=signature)
    return from_function(traced, opset=opset, output_path=output_path)


def _with_signature(function_, input_signature) -> Function:
    # (tf2onnx's keyword `function` names the argument of from_function.)
    if isinstance(function_, Function):
        if input_signature is None:
            if function_.input_signature is None:
                raise ValueError(f"{function_.__name__} has no input_signature: pass "
                                 f"input_signature=[tf.TensorSpec(shape, dtype), ...] (None "
                                 f"for sizes that vary, such as the batch).")
            return function_
        function_ = function_.python_function
    if not callable(function_):
        raise TypeError(f"expected a tf.function or a Python function; received "
                        f"{type(function_).__name__}.")
    if input_signature is None:
        raise ValueError("from_function needs input_signature=[tf.TensorSpec(shape, dtype), "
                         "...] to trace a Python function (None for sizes that vary).")
    return make_function(function_, input_signature=list(input_signature))


def _placeholder(spec: TensorSpec) -> np.ndarray:
    if spec.shape is None:
        raise ValueError(f"ONNX export needs the rank of every input; received {spec!r}. Give "
                         f"the spec a shape, with None for sizes that vary.")
    return np.zeros([d if type(d) is int else 1 for d in spec.shape], spec.dtype.np)


def _input_names(traced: Function, signature: list) -> list[str]:
    """Each input's ONNX name: its spec's name, else the parameter's, else ``input_i``."""
    try:
        parameters = list(inspect.signature(traced.python_function).parameters)
    except (TypeError, ValueError):
        parameters = []
    names: list[str] = []
    for index, spec in enumerate(signature):
        leaves = nest.flatten(spec)
        for position, leaf in enumerate(leaves):
            name = getattr(leaf, "name", None)
            if not name:
                base = parameters[index] if index < len(parameters) and \
                    not parameters[index].startswith("*") else f"input_{index}"
                name = base if len(leaves) == 1 else f"{base}_{position}"
            names.append(name)
    for index, name in enumerate(names):  # ONNX names must be unique
        if names.count(name) > 1:
            names[index] = f"{name}_{index}"
    return names


def _as_spec(leaf) -> TensorSpec:
    if isinstance(leaf, TensorSpec):
        return leaf
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(f"input_signature takes tf.TensorSpec, keras.InputSpec or "
                        f"keras.Input tensors (a shape and a dtype); received {leaf!r}.")
    return TensorSpec(tuple(shape), dtype, name=getattr(leaf, "name", None))


def _keras_signature(model) -> list[TensorSpec]:
    batch = Dim.fresh("batch")  # one unknown batch size shared by every input
    inputs = getattr(model, "inputs", None)
    input_layer = getattr(model, "_input_layer", None)  # a Sequential's keras.Input
    if not inputs and input_layer is not None:
        inputs = [input_layer.output]
    if inputs:
        return [TensorSpec((batch, *tuple(t.shape)[1:]), t.dtype, name=getattr(t, "name", None))
                for t in inputs]
    shape = getattr(model, "_build_input_shape", None)
    if shape is None or not isinstance(shape, (tuple, list)) or \
            any(isinstance(d, (tuple, list)) for d in shape):
        raise ValueError(f"Cannot tell the inputs of {type(model).__name__} "
                         f"{getattr(model, 'name', '')!r}: build it on keras.Input(...), call "
                         f"it once, or pass input_signature=[tf.TensorSpec((None, ...))].")
    return [TensorSpec((batch, *tuple(shape)[1:]), getattr(model, "dtype", None) or "float32")]


def _identifier(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in str(text))
    return cleaned if cleaned.isidentifier() else f"model_{cleaned}"


def _save(model: Any, path) -> None:
    with open(os.fspath(path), "wb") as file:
        file.write(model.SerializeToString())
