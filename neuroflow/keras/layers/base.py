"""The Layer contract: ``build`` / ``call`` / ``compute_output_shape`` / ``get_config``.

A layer creates its weights in ``build(input_shape)`` the first time it is
called, then maps inputs to outputs in ``call``. ``__call__`` does the
bookkeeping around that in a few numbered steps, so a subclass only writes
the math.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from typing import Any

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor
from neuroflow.util import nest
from neuroflow.variables import Variable

_name_counts: dict[str, int] = defaultdict(int)


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``, ... as Keras names layers and models."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Reset automatic layer names (``keras.backend.clear_session``)."""
    _name_counts.clear()


def snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def format_shape(shape) -> str:
    """``(None, 784)``: a shape the way Keras prints it."""
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


class KerasVariable(Variable):
    """A layer weight: a Variable that also knows its layer path (``dense/kernel``)."""

    def __init__(self, value, *, name: str, path: str, trainable: bool,
                 regularizer=None, constraint=None):
        super().__init__(value, trainable=trainable, name=name)
        self._name = name  # Keras 3 names weights without the ':0' suffix
        self.path = path
        self.regularizer = regularizer
        self.constraint = constraint

    def __repr__(self) -> str:
        return (f"<KerasVariable shape={tuple(self._value.shape)}, dtype={self.dtype.name}, "
                f"path={self.path}>")


class Layer:
    """Base class of all layers.

    >>> from neuroflow.keras import layers
    >>> dense = layers.Dense(3)
    >>> dense(np.ones((2, 4), dtype="float32")).shape
    TensorShape([2, 3])
    >>> [w.shape for w in dense.weights]
    [TensorShape([4, 3]), TensorShape([3])]
    """

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None,
                 input_shape=None, input_dim=None, **kwargs: Any):
        unknown = set(kwargs) - {"batch_input_shape", "batch_size", "autocast"}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(unknown)}.")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = "float32" if dtype is None else str(getattr(dtype, "name", dtype))
        self.built = False
        self._trainable_weights: list[KerasVariable] = []
        self._non_trainable_weights: list[KerasVariable] = []
        self._call_takes_training = "training" in inspect.signature(self.call).parameters
        self._build_input_shape = None
        # Keras 2 style `input_shape=` on the first layer of a Sequential model.
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if "batch_input_shape" in kwargs:
            input_shape = tuple(kwargs["batch_input_shape"])[1:]
        self._declared_input_shape = None if input_shape is None else tuple(input_shape)

    # --- the contract subclasses fill in -------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the layer's weights for inputs of ``input_shape`` (batch dim included)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``; the default runs ``call`` on zeros."""
        probe = [1 if d is None else d for d in input_shape]
        out = self(np.zeros(probe, dtype=self.dtype))
        shape = list(out.shape)
        return tuple([input_shape[0]] + shape[1:])

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # --- calling ---------------------------------------------------------------------------
    def __call__(self, inputs, *args, training=None, **kwargs):
        # 1. Convert arrays to tensors of the layer's dtype (Keras autocasts floats).
        inputs = self._convert_inputs(inputs)
        # 2. Build the weights from the first inputs seen.
        if not self.built:
            self._build_from_shape(tuple(_shape_of(inputs)))
        # 3. Run the math; only layers whose call() takes `training` receive it.
        if self._call_takes_training:
            kwargs["training"] = training
        return self.call(inputs, *args, **kwargs)

    def _convert_inputs(self, inputs):
        if type(inputs) is Tensor:
            if inputs._value.dtype.kind == "f" and inputs._value.dtype.name != self.dtype:
                return ew.cast(inputs, self.dtype)
            return inputs
        if isinstance(inputs, (list, tuple, dict)):
            return nest.map_structure(self._convert_inputs, inputs)
        tensor = as_tensor(inputs)
        if tensor._value.dtype.kind in "fiub" and tensor._value.dtype.name != self.dtype:
            return ew.cast(tensor, self.dtype)
        return tensor

    def _build_from_shape(self, input_shape: tuple) -> None:
        self._build_input_shape = input_shape
        self.build(input_shape)
        self.built = True

    # --- weights ---------------------------------------------------------------------------
    def add_weight(self, name: str, shape, initializer="glorot_uniform", regularizer=None,
                   trainable: bool = True, dtype=None, constraint=None) -> KerasVariable:
        from neuroflow.keras import initializers, regularizers

        init = initializers.get(initializer)
        value = init(tuple(shape), dtype=dtype or self.dtype)
        weight = KerasVariable(value, name=name, path=f"{self.name}/{name}",
                               trainable=trainable and self.trainable,
                               regularizer=regularizers.get(regularizer), constraint=constraint)
        (self._trainable_weights if trainable else self._non_trainable_weights).append(weight)
        return weight

    @property
    def trainable_weights(self) -> list[KerasVariable]:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[KerasVariable]:
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weights(self) -> list[KerasVariable]:
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def losses(self) -> list[Tensor]:
        """Regularization penalties of this layer's weights, computed now."""
        return [w.regularizer(w) for w in self.weights if w.regularizer is not None]

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(
                f"Layer {self.name!r} expects {len(mine)} weights, but the list given has "
                f"{len(weights)}.")
        for current, new in zip(mine, weights):
            new = np.asarray(new)
            if new.shape != tuple(current.shape):
                raise ValueError(
                    f"Layer {self.name!r} weight {current.name!r} has shape "
                    f"{tuple(current.shape)}, but the value given has shape {new.shape}.")
        for current, new in zip(mine, weights):
            current.assign(np.asarray(new, dtype=current.dtype.np))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             f"layer isn't built. Call it on data or build it first.")
        return int(sum(np.prod(w.shape.as_list(), dtype=np.int64) for w in self.weights))

    @property
    def input_shape(self):
        if self._build_input_shape is None:
            raise AttributeError(f"The layer {self.name!r} has never been called and thus has "
                                 f"no defined input shape.")
        return self._build_input_shape

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _shape_of(inputs) -> tuple:
    if isinstance(inputs, (list, tuple)):
        return _shape_of(inputs[0])
    if isinstance(inputs, dict):
        return _shape_of(next(iter(inputs.values())))
    return tuple(inputs.shape)


def check_last_dim(layer: Layer, inputs: Tensor, expected: int, hint: str = "") -> None:
    """Raise an error naming the layer if the inputs' last dimension is not ``expected``."""
    shape = tuple(inputs.shape)
    if not shape or shape[-1] != expected:
        raise InvalidArgumentError(
            f"{type(layer).__name__} {layer.name!r} expected inputs with last dimension "
            f"{expected}, received inputs of shape {shape}.{hint}")
