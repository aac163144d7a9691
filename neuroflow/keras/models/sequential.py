"""Sequential: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import numpy as np

from neuroflow.keras.layers.base import Layer, format_shape
from neuroflow.keras.layers.core import Dense, InputLayer
from neuroflow.keras.layers.symbolic import KerasTensor
from neuroflow.keras.losses import sparse_labels_message
from neuroflow.keras.models.model import Model
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor


class Sequential(Model):
    """A model made of layers applied in order.

    The input shape comes from a first ``Input``/``InputLayer``, from an
    ``input_shape=`` on the first layer, or from the first data the model sees.

    >>> from neuroflow.keras import Sequential, layers
    >>> model = Sequential([layers.Input(shape=(4,)), layers.Dense(2)])
    >>> model.count_params()
    10
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def _sublayers(self) -> list[Layer]:
        return list(self._layers)

    def add(self, layer) -> None:
        """Append a layer (or set the input with ``Input``/``InputLayer``)."""
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential "
                                 "model; this model already has layers.")
            self._input_layer = layer
            self._rebuild()
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer!r} (of type {type(layer)})")
        if not self._layers and self._input_layer is None and \
                layer._declared_input_shape is not None:
            # Keras 2 style `Dense(..., input_shape=...)`; the layer warned when created.
            self._input_layer = InputLayer(shape=layer._declared_input_shape)
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name {layer.name!r} is already the name of a layer in "
                             f"this model. Update the `name` argument to pass a unique name.")
        self._layers.append(layer)
        self._rebuild()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise IndexError("pop from a Sequential model that has no layers.")
        layer = self._layers.pop()
        self._rebuild()
        return layer

    def _rebuild(self) -> None:
        if self._input_layer is not None and self._layers:
            self.build((None, *self._input_layer.shape))
        elif self._build_input_shape is not None and self._layers:
            self.build(self._build_input_shape)
        else:
            self.built = False

    def build(self, input_shape=None) -> None:
        """Build every layer in turn, recording each output shape for ``summary``."""
        if not self._layers:
            raise ValueError(self._no_layers_message())
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument to build a "
                                 "Sequential model without an Input; received none. Call e.g. "
                                 "model.build((None, 784)), or start the model with "
                                 "keras.Input(shape=(784,)).")
            input_shape = (None, *self._input_layer.shape)
        shape = tuple(input_shape)
        for layer in self._layers:
            if not layer.built:
                layer._build_from_shape(shape)
            shape = tuple(layer.compute_output_shape(shape))
            layer._output_shape_for_summary = shape
        self._build_input_shape = tuple(input_shape)
        self.built = True

    def _no_layers_message(self, what: str | None = None) -> str:
        # Keras 3's wording, then what the model does have and when to add layers.
        has = " It has an Input, but no layer after it." if self._input_layer else ""
        when = f" before `{what}()`" if what else ""
        return (f"Sequential model {self.name} cannot be built because it has no layers. Call "
                f"`model.add(layer)`{when}, e.g. model.add(keras.layers.Dense(10)).{has}")

    def _check_runnable(self, what: str) -> None:
        if not self._layers:
            raise ValueError(self._no_layers_message(what))

    def _build_from_shape(self, input_shape: tuple) -> None:
        # The batch size of the first data is not part of the model (it shows as None).
        self.build((None, *input_shape[1:]))

    @property
    def input_shape(self) -> tuple:
        if self._build_input_shape is None:
            raise AttributeError(f"Sequential model {self.name!r} has no input shape yet: "
                                 f"start it with an Input or call it on data.")
        return self._build_input_shape

    @property
    def output_shape(self) -> tuple:
        return self.compute_output_shape(self.input_shape)

    def _convert_inputs(self, inputs):
        # Keras 3 converts the input of a Sequential model to the dtype of its Input (or of
        # its first layer): integer and boolean data, e.g. uint8 images, become float32.
        dtype = self._input_dtype()
        if dtype is None or isinstance(inputs, (list, tuple, dict)):
            return super()._convert_inputs(inputs)
        tensor = inputs if type(inputs) is Tensor else as_tensor(inputs)
        found = tensor._value.dtype
        if found == dtype or found.kind not in "fiub":
            return tensor
        return ew.cast(tensor, dtype.name)

    def _input_dtype(self) -> np.dtype | None:
        first = self._input_layer or (self._layers[0] if self._layers else self)
        return first._np_dtype

    def call(self, inputs, training=None, mask=None):
        self._check_input_shape(inputs)
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def get_config(self) -> dict:
        """Keras 3's layout: the Input (if any) then each layer, with its build shape."""
        from neuroflow.keras.layers.serialization import serialize

        entries = [serialize(self._input_layer)] if self._input_layer is not None else []
        for layer in self._layers:
            entry = serialize(layer)
            if layer._build_input_shape is not None:
                entry["build_config"] = {"input_shape": list(layer._build_input_shape)}
            entries.append(entry)
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype,
                  "layers": entries}
        if self._input_layer is None and self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuild from ``get_config()`` (neuroflow's or Keras 3's): layers are made only
        from known classes or ``custom_objects``; nothing in the config runs as code."""
        from neuroflow.keras.layers.serialization import deserialize

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config.get("layers", []):
            model.add(deserialize(entry, custom_objects))
        if not model.built and config.get("build_input_shape") is not None and model._layers:
            model.build(tuple(config["build_input_shape"]))
        return model

    # --- clear errors for the usual data mistakes -------------------------------------------
    def _expected_sample_shape(self) -> tuple | None:
        if self._input_layer is not None:
            return self._input_layer.shape
        return self._build_input_shape[1:] if self._build_input_shape else None

    def _check_input_shape(self, inputs) -> None:
        expected = self._expected_sample_shape()
        if expected is None:
            return
        found = tuple(inputs.shape)  # None for a size a trace leaves unknown
        if len(found) == len(expected) + 1 and all(
                e is None or e == f for e, f in zip(expected, found[1:])):
            return
        raise ValueError(_input_shape_message(self.name, tuple(expected), tuple(found)))

    def _check_training_data(self, x, y, loss) -> None:
        """Before the first step: the input shape, then labels against the output layer."""
        if isinstance(x, np.ndarray) and x.ndim >= 1:
            if not self.built and self._layers:
                self.build((None, *x.shape[1:]))
            expected = self._expected_sample_shape()
            if expected is not None:
                self._check_input_shape(_ShapeOnly(x.shape))
        if y is None or not isinstance(y, np.ndarray) or not self._layers or not self.built:
            return
        name = loss if isinstance(loss, str) else \
            getattr(loss, "name", None) or getattr(loss, "__name__", "")
        sparse = isinstance(name, str) and "sparse_categorical" in name
        self._check_output_rank(y, sparse)
        if sparse:
            self._check_sparse_label_rank(y)
            self._check_label_range(y)

    def _check_sparse_label_rank(self, y: np.ndarray) -> None:
        """Sparse labels hold one class index per sample, not a column per class (one-hot)."""
        output = self.compute_output_shape(self._build_input_shape)
        if y.ndim == len(output) - 1 or (y.ndim == len(output) and y.shape[-1] == 1):
            return
        raise ValueError(sparse_labels_message(y.shape, output))

    def _check_output_rank(self, y: np.ndarray, sparse: bool) -> None:
        """A model missing its Flatten keeps the sample axes: its output has too many dims."""
        output = self.compute_output_shape(self._build_input_shape)
        needed = len(output) - 1 if sparse else len(output)
        if y.ndim >= needed or (sparse and y.ndim == len(output) and y.shape[-1] == 1):
            return
        shape = self._build_input_shape
        for layer in self._layers:
            if isinstance(layer, Dense) and len(shape) > 2:
                raise ValueError(
                    f"The model's output has shape {format_shape(output)}, but the labels y "
                    f"have shape {y.shape}: one label per sample. Layer {layer.name!r} "
                    f"(Dense) received inputs of shape {format_shape(shape)}, so it was applied "
                    f"to the last axis only and each sample kept its other axes. Add a Flatten "
                    f"layer before {layer.name!r} (e.g. model.add(Flatten()) right after the "
                    f"Input) to turn each sample of shape {tuple(shape[1:])} into a vector.")
            shape = tuple(layer.compute_output_shape(shape))

    def _check_label_range(self, y: np.ndarray) -> None:
        """Sparse labels must index the output layer's units."""
        last = self._layers[-1]
        units = getattr(last, "units", None)
        if units is None or y.dtype.kind not in "iuf" or y.size == 0:
            return
        low, high = y.min(), y.max()
        if low >= 0 and high < units:
            return
        bad = high if high >= units else low
        index = int(np.argmax(y.reshape(-1) == bad))
        raise ValueError(
            f"Received a label value of {bad:g} (at y[{index}]) which is outside the valid "
            f"range of [0, {units}) for the output layer {last.name!r} with {units} units. "
            f"Labels must be class indices 0..{units - 1}; check your labels, or give the "
            f"last Dense layer as many units as there are classes.")


class _ShapeOnly:
    """Stands for an array when only its shape is checked."""

    def __init__(self, shape: tuple):
        self.shape = tuple(shape)


def _input_shape_message(model: str, expected: tuple, found: tuple) -> str:
    sample = found[1:]
    if len(found) == len(expected) and all(e is None or e == f for e, f in zip(expected, found)):
        hint = (" It looks like a single sample without the batch axis; use "
                "x[np.newaxis] (or x.reshape(1, ...)) to make a batch of one.")
    elif None not in expected and \
            int(np.prod(sample, dtype=np.int64)) == int(np.prod(expected, dtype=np.int64)):
        dims = ", ".join(map(str, expected))
        hint = f" The sizes match: reshape your data with x.reshape(-1, {dims})."
        if len(expected) == 1 and len(sample) > 1:
            hint += (f" Or keep the data and start the model with Input(shape={sample}) "
                     f"followed by a Flatten layer.")
    else:
        hint = (f" Check that x holds the data this model was built for, or change the "
                f"model's Input to shape={sample}.")
    return (f"Input 0 of layer {model!r} is incompatible with the layer: expected "
            f"shape={format_shape((None, *expected))}, found shape={found}. Each sample has "
            f"shape {sample}, but the model expects samples of shape {expected}.{hint}")
