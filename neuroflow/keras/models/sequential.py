"""Sequential: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import warnings

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.keras.layers.base import Layer, format_shape
from neuroflow.keras.layers.core import InputLayer, KerasInput
from neuroflow.keras.models.model import Model


class Sequential(Model):
    """A model made of layers applied in order.

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

    def add(self, layer) -> None:
        """Append a layer (or set the input with ``Input``/``InputLayer``)."""
        if isinstance(layer, KerasInput):
            layer = layer._keras_history
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential "
                                 "model.")
            self._input_layer = layer
            self._rebuild()
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of keras.Layer can be added to a Sequential "
                            f"model. Received: {layer!r} (of type {type(layer).__name__})")
        if not self._layers and self._input_layer is None and \
                layer._declared_input_shape is not None:
            warnings.warn("Do not pass an `input_shape`/`input_dim` argument to a layer. When "
                          "using Sequential models, prefer using an `Input(shape)` object as "
                          "the first layer in the model instead.", UserWarning, stacklevel=2)
            self._input_layer = InputLayer(shape=layer._declared_input_shape)
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name {layer.name!r} is already the name of a layer in "
                             f"this model. Update the `name` argument to pass a unique name.")
        self._layers.append(layer)
        self._rebuild()

    def pop(self) -> Layer:
        if not self._layers:
            raise IndexError("There are no layers in the model.")
        layer = self._layers.pop()
        self._rebuild()
        return layer

    def _rebuild(self) -> None:
        self.built = False
        if self._input_layer is not None and self._layers:
            self.build((None, *self._input_layer.shape))

    def build(self, input_shape=None) -> None:
        """Build every layer in turn, recording each output shape for ``summary``."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument to build a "
                                 "Sequential model without an Input.")
            input_shape = (None, *self._input_layer.shape)
        shape = tuple(input_shape)
        for layer in self._layers:
            if not layer.built:
                layer._build_from_shape(shape)
            shape = tuple(layer.compute_output_shape(shape))
            layer._output_shape_for_summary = shape
        self._build_input_shape = tuple(input_shape)
        self.built = True

    def _build_from_shape(self, input_shape: tuple) -> None:
        self.build((None, *input_shape[1:]))

    def call(self, inputs, training=None, mask=None):
        self._check_input_shape(inputs)
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def _check_input_shape(self, inputs) -> None:
        expected = self._input_layer.shape if self._input_layer is not None else \
            (self._build_input_shape[1:] if self._build_input_shape else None)
        if expected is None:
            return
        found = tuple(inputs.shape)
        if len(found) != len(expected) + 1 or any(
                e is not None and e != f for e, f in zip(expected, found[1:])):
            hint = ""
            if int(np.prod(found[1:])) == int(np.prod([e or 1 for e in expected])):
                hint = (f" Each sample must have shape {tuple(expected)}; reshape your data, "
                        f"e.g. x.reshape(-1, {', '.join(map(str, expected))}).")
            raise InvalidArgumentError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"shape={format_shape((None, *expected))}, found shape={found}. Each sample "
                f"has shape {found[1:]}, but the model expects {tuple(expected)}.{hint}")

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def _check_labels(self, y, loss) -> None:
        """Sparse labels must index the output layer's units."""
        name = getattr(loss, "name", loss) if not isinstance(loss, str) else loss
        if not isinstance(name, str) or "sparse_categorical" not in name or not self._layers:
            return
        last = self._layers[-1]
        units = getattr(last, "units", None)
        labels = np.asarray(y)
        if units is None or labels.dtype.kind not in "iuf" or labels.size == 0:
            return
        low, high = labels.min(), labels.max()
        if low < 0 or high >= units:
            bad = high if high >= units else low
            index = int(np.argmax(labels.reshape(-1) == bad))
            raise ValueError(
                f"Received a label value of {bad:g} (at y[{index}]) which is outside the valid "
                f"range of [0, {units}) for the output layer {last.name!r} with {units} units. "
                f"Labels must be class indices 0..{units - 1}; check your labels or give the "
                f"last Dense layer as many units as there are classes.")

    def get_config(self) -> dict:
        return {"name": self.name, "layers": [
            {"class_name": type(layer).__name__, "config": layer.get_config()}
            for layer in self._layers]}
