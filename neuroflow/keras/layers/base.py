"""The Layer contract: ``build`` / ``call`` / ``compute_output_shape`` / ``get_config``.

A layer creates its weights in ``build(input_shape)`` the first time it is
called, then maps inputs to outputs in ``call``. ``__call__`` does the
bookkeeping around that in a few numbered steps, so a subclass only writes
the math.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import re
import warnings
import weakref
from collections import defaultdict
from typing import Any

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.keras.layers import symbolic
from neuroflow.ops import checks
from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import init_scope
from neuroflow.tensor import Tensor
from neuroflow.util import nest
from neuroflow.variables import Variable

_name_counts: dict[str, int] = defaultdict(int)

# The layer call in progress, per thread (a context variable): its `training` flag,
# which a layer called without `training=` inside another layer's call inherits, as in
# Keras 3; and how deep in nested layer calls we are (the outermost call clears the
# losses added by the previous one).
_call_context: contextvars.ContextVar[tuple] = contextvars.ContextVar(
    "neuroflow_layer_call", default=(None, 0))
# Set once some layer has ever added a loss: until then calls skip clearing them.
_losses_added = False


def unique_name(base: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``, ... as Keras names layers and models."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Reset automatic layer names (``keras.backend.clear_session``)."""
    _name_counts.clear()


def snake_case(name: str) -> str:
    """Keras's automatic names: ``MaxPooling2D`` -> ``max_pooling2d``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


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

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        # Settable, as in Keras 3: freezing a layer flips its weights' flags.
        self._trainable = bool(value)

    def __repr__(self) -> str:
        return (f"<KerasVariable shape={tuple(self._value.shape)}, dtype={self.dtype.name}, "
                f"path={self.path}>")

    def __str__(self) -> str:
        return (f"<Variable path={self.path}, shape={tuple(self._value.shape)}, "
                f"dtype={self.dtype.name}, value={self.numpy()}>")


# --- Keras masks -------------------------------------------------------------------------
# Keras 3 attaches a mask to the tensor a layer returns (Embedding(mask_zero=True), Masking,
# recurrent layers returning sequences) and hands it to the layers that follow. Tensors
# have __slots__, so the link lives in a table keyed by the tensor and dropped with it.

# id(tensor) -> (weak reference to the tensor, its mask)
_MASKS: dict[int, tuple[weakref.ref, Tensor]] = {}


def set_keras_mask(tensor, mask) -> None:
    """Attach ``mask`` (bool, ``tensor``'s shape without its last axes) to ``tensor``."""
    key = id(tensor)
    try:
        ref = weakref.ref(tensor, lambda _, key=key: _MASKS.pop(key, None))
    except TypeError:
        return  # a value that cannot be weakly referenced carries no mask
    _MASKS[key] = (ref, mask)


def get_keras_mask(tensor) -> Tensor | None:
    """The mask attached to ``tensor``, or None."""
    entry = _MASKS.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def attached_masks(inputs) -> list | None:
    """The masks attached to ``inputs`` (one per tensor, None where none), or None if no
    input has one."""
    leaves = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    masks = [get_keras_mask(leaf) if isinstance(leaf, Tensor) else None for leaf in leaves]
    return masks if any(m is not None for m in masks) else None


def _fits(mask: Tensor, outputs: Tensor) -> bool:
    rank = len(mask._value.shape)
    return len(outputs._value.shape) > rank and \
        tuple(outputs._value.shape[:rank]) == tuple(mask._value.shape)


class Layer:
    """Base class of all layers.

    >>> from neuroflow.keras import layers
    >>> dense = layers.Dense(3)
    >>> dense(np.ones((2, 4), dtype="float32")).shape
    TensorShape([2, 3])
    >>> [w.shape for w in dense.weights]
    [TensorShape([4, 3]), TensorShape([3])]
    """

    # Keras 3's flag: the layer works per position, so its output keeps its input's mask.
    supports_masking = False
    _reads_masks = True

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None,
                 input_shape=None, input_dim=None, **kwargs: Any):
        unknown = set(kwargs) - {"batch_input_shape", "batch_size", "autocast"}
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(unknown)}.")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        if isinstance(dtype, dict):  # Keras 3 configs hold a DTypePolicy: {"config": {"name"}}
            dtype = (dtype.get("config") or {}).get("name")
        self.dtype = "float32" if dtype is None else str(getattr(dtype, "name", dtype))
        self._np_dtype = _numpy_dtype(self.dtype)
        self.built = False
        self._trainable_weights: list[KerasVariable] = []
        self._non_trainable_weights: list[KerasVariable] = []
        self._call_losses: list[Tensor] = []
        self.activity_regularizer = None
        self._inbound_nodes: list = []  # calls on Keras tensors (functional API)
        parameters = inspect.signature(self.call).parameters
        self._call_takes_training = "training" in parameters
        # A call() with a `mask` argument gets the inputs' attached masks, as in Keras 3
        # (a class whose Keras counterpart ignores masks says so with _reads_masks = False).
        self._call_takes_mask = "mask" in parameters and self._reads_masks
        self._build_input_shape = None
        # Keras 2 style `input_shape=` on the first layer of a Sequential model.
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if "batch_input_shape" in kwargs:
            input_shape = tuple(kwargs["batch_input_shape"])[1:]
        self._declared_input_shape = None if input_shape is None else tuple(input_shape)
        if input_shape is not None:
            warnings.warn("Do not pass an `input_shape`/`input_dim` argument to a layer. When "
                          "using Sequential models, prefer using an `Input(shape)` object as "
                          "the first layer in the model instead.", UserWarning, stacklevel=3)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):
            # `layer.build(shape)` called by hand leaves the layer built, as in Keras 3.
            @functools.wraps(build)
            def build_and_mark(self, *args, **kwargs):
                build(self, *args, **kwargs)
                self.built = True

            build_and_mark._marks_built = True
            cls.build = build_and_mark

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
        # 0. On Keras tensors (a functional model being defined), record the call instead.
        if type(inputs) is not Tensor and symbolic.has_keras_tensors(inputs, args, kwargs):
            if training is not None:
                kwargs["training"] = training
            if not hasattr(self, "_inbound_nodes"):
                self._inbound_nodes = []
            return symbolic.call_symbolically(self, (inputs, *args), kwargs)
        # 1. Convert arrays to tensors of the layer's dtype (Keras autocasts floats), keeping
        #    the masks attached to them (Embedding(mask_zero=True), Masking).
        masks = attached_masks(inputs) if _MASKS else None
        inputs = self._convert_inputs(inputs)
        # 2. Build the weights from the first inputs seen (eagerly, even in a trace).
        if not self.built:
            with init_scope():
                self._build_from_shape(tuple(_shape_of(inputs)))
        outer, depth = _call_context.get()
        if _losses_added and depth == 0:
            for layer in self._flatten_layers():
                layer._call_losses = []
        # 3. Run the math; only layers whose call() takes `training` receive it, and a
        #    call without it inherits the flag of the call it runs inside.
        if training is None:
            training = outer
        if self._call_takes_training:
            kwargs["training"] = training
        if masks is not None and self._call_takes_mask and kwargs.get("mask") is None:
            kwargs["mask"] = masks if isinstance(inputs, (list, tuple)) else masks[0]
        token = _call_context.set((training, depth + 1))
        # The layer's name scope: numeric-check errors and profiles name the layer an op
        # ran in, and traces keep it on each node.
        scope = checks.enter_scope(self.name)
        try:
            outputs = self.call(inputs, *args, **kwargs)
        finally:
            checks.exit_scope(scope)
            _call_context.reset(token)
        # 4. Activity regularization: a penalty on the outputs, added to the loss by fit.
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(outputs))
        # 5. Masks, as Keras 3 passes them on: a layer that works per position gives its
        #    output the input's mask (merges, the masks combined).
        if masks is not None and self.supports_masking and type(outputs) is Tensor and \
                get_keras_mask(outputs) is None:
            mask = self._output_mask(masks)
            if mask is not None and _fits(mask, outputs):
                set_keras_mask(outputs, mask)
        return outputs

    def _output_mask(self, masks: list):
        """The mask a mask-passing layer gives its output: its (first masked) input's."""
        return next((m for m in masks if m is not None), None)

    def _convert_inputs(self, inputs):
        if type(inputs) is Tensor:
            dtype = inputs._value.dtype
            if dtype == self._np_dtype or dtype.kind != "f":
                return inputs
            return ew.cast(inputs, self.dtype)
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
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (``False``) or unfreeze the layer and the layers it holds, as Keras 3: their
        weights move between the lists."""
        value = bool(value)
        self._trainable = value
        for weight in self._trainable_weights:
            weight.trainable = value
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def trainable_weights(self) -> list[KerasVariable]:
        if not self._trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[KerasVariable]:
        if not self._trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    @property
    def weights(self) -> list[KerasVariable]:
        """The layer's own weights, then those of the layers it holds in attributes (each
        once), as Keras 3 orders them."""
        own = self._trainable_weights + self._non_trainable_weights
        sublayers = self._sublayers()
        if not sublayers:
            return own
        seen = {id(w) for w in own}
        for layer in sublayers:
            for weight in layer.weights:
                if id(weight) not in seen:
                    seen.add(id(weight))
                    own.append(weight)
        return own

    @property
    def trainable_variables(self) -> list[KerasVariable]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[KerasVariable]:
        return self.non_trainable_weights

    @property
    def variables(self) -> list[KerasVariable]:
        return self.weights

    def add_loss(self, loss) -> None:
        """Add a penalty to the loss ``fit`` minimizes (cleared at each model call)."""
        global _losses_added
        _losses_added = True
        self._call_losses.append(as_tensor(loss))

    def _sublayers(self) -> list[Layer]:
        """Layers held in attributes, directly or inside lists, tuples and dicts (nested),
        in attribute order; each once."""
        found: dict[int, Layer] = {}

        def collect(value) -> None:
            if isinstance(value, Layer):
                found.setdefault(id(value), value)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    collect(item)
            elif isinstance(value, dict):
                for item in value.values():
                    collect(item)

        for name, value in vars(self).items():
            if not name.startswith("_inbound") and value is not self:
                collect(value)
        return list(found.values())

    def _flatten_layers(self) -> list[Layer]:
        """This layer and every layer inside it, depth first."""
        out = [self]
        for layer in self._sublayers():
            out += layer._flatten_layers()
        return out

    @property
    def losses(self) -> list[Tensor]:
        """Penalties added during the last call, then those of the weights' regularizers."""
        penalties = list(self._call_losses)
        penalties += [w.regularizer(w) for w in self.weights if w.regularizer is not None]
        return penalties

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
                                 f"no defined input shape. Call it on data, or build it with "
                                 f"layer.build(input_shape), first.")
        return self._build_input_shape

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _numpy_dtype(name: str):
    try:
        return np.dtype(name)
    except TypeError:  # a policy name such as "mixed_float16": no fast path
        return None


def _shape_of(inputs) -> tuple:
    if isinstance(inputs, (list, tuple)):
        return _shape_of(inputs[0])
    if isinstance(inputs, dict):
        return _shape_of(next(iter(inputs.values())))
    return tuple(inputs.shape)


def refuse_unsupported(layer: str, **arguments) -> None:
    """Raise for arguments neuroflow does not implement yet, rather than ignore them."""
    given = {k: v for k, v in arguments.items() if v is not None}
    if given:
        raise NotImplementedError(f"{layer}: {', '.join(sorted(given))} "
                                  f"{'is' if len(given) == 1 else 'are'} not supported yet; "
                                  f"received {given}. Remove the argument.")


def check_last_dim(layer: Layer, inputs: Tensor, expected: int, hint: str = "") -> None:
    """Raise an error naming the layer if the inputs' last dimension is not ``expected``."""
    shape = tuple(inputs.shape)
    if not shape or shape[-1] != expected:
        raise InvalidArgumentError(
            f"{type(layer).__name__} {layer.name!r} expected inputs with last dimension "
            f"{expected} (samples of shape (..., {expected})), but received inputs of shape "
            f"{shape}: each sample has shape {shape[1:]}.{hint}")
