"""Layer wrappers: Bidirectional (a recurrent layer run both ways) and TimeDistributed."""

from __future__ import annotations

import copy
import inspect

from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.keras.layers.embedding import get_keras_mask, set_keras_mask
from neuroflow.keras.layers.stacked_rnn_cells import adopt_weights
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _takes(layer: Layer, argument: str) -> bool:
    return argument in inspect.signature(layer.call).parameters


def _renamed(layer: Layer, prefix: str, **changes) -> Layer:
    """A new layer from ``layer``'s config, named ``prefix + name`` (so it shares nothing
    with ``layer``: no weights, no states)."""
    from neuroflow.keras.layers.serialization import deserialize, serialize

    config = serialize(layer)
    name = layer.name[len(prefix):] if layer.name.startswith(prefix) else layer.name
    config["config"].update(name=prefix + name, **changes)
    return deserialize(config)


class Bidirectional(Layer):
    """Runs a recurrent layer forward and a copy of it backward, and merges the results
    (``merge_mode`` ``"concat"``, ``"sum"``, ``"mul"``, ``"ave"``, or None for both)."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             f"be one of {{\"sum\", \"mul\", \"ave\", \"concat\", None}}")
        refuse_unsupported("Bidirectional", weights=weights)
        super().__init__(**kwargs)
        self.forward_layer = _renamed(layer, "forward_")
        self.backward_layer = backward_layer if backward_layer is not None else _renamed(
            layer, "backward_", go_backwards=True)
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify()
        for half in (self.forward_layer, self.backward_layer):
            # Keras zeroes masked outputs when returning sequences, so the two directions
            # merge without one repeating stale outputs over the other's real ones.
            if getattr(half, "zero_output_for_mask", None) is not None:
                half.zero_output_for_mask = half.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def _verify(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different "
                             f"`go_backwards` value. Received: forward_layer.go_backwards "
                             f"{forward.go_backwards}, backward_layer.go_backwards="
                             f"{backward.go_backwards}")
        for name in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(f"Forward layer and backward layer are expected to have the "
                                 f"same value for attribute \"{name}\", got "
                                 f"\"{getattr(forward, name)}\" for forward layer and "
                                 f"\"{getattr(backward, name)}\" for backward layer")

    def build(self, sequences_shape, initial_state_shape=None) -> None:
        for half in (self.forward_layer, self.backward_layer):
            if not half.built:
                half._build_from_shape(tuple(sequences_shape))
                adopt_weights(self.name, half)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        mask = get_keras_mask(sequences) if mask is None else mask
        kwargs = {}
        if _takes(self.forward_layer, "training"):
            kwargs["training"] = training
        if mask is not None and _takes(self.forward_layer, "mask"):
            kwargs["mask"] = mask
        states = (None, None)
        if initial_state is not None:
            half = len(initial_state) // 2
            states = (list(initial_state[:half]), list(initial_state[half:]))
        y = self.forward_layer(sequences, **kwargs, **_state_kwarg(states[0]))
        y_rev = self.backward_layer(sequences, **kwargs, **_state_kwarg(states[1]))
        if self.return_state:
            found_states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = so.reverse(y_rev, [1])
        if self.merge_mode == "concat":
            output = so.concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_sequences and mask is not None:
            for tensor in (output if self.merge_mode is None else (output,)):
                set_keras_mask(tensor, as_tensor(mask))
        if self.return_state:
            return (*output, *found_states) if self.merge_mode is None else \
                (output, *found_states)
        return output

    @property
    def states(self):
        forward, backward = self.forward_layer.states, self.backward_layer.states
        return tuple(forward + backward) if forward and backward else None

    def reset_state(self) -> None:
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self) -> None:
        self.reset_state()

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        states = ()
        if self.return_state:
            shape, states = shape[0], tuple(shape[1:])
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        elif self.merge_mode is None:
            shape = [shape, shape]
        if self.return_state:
            head = tuple(shape) if self.merge_mode is None else (shape,)
            return head + states + states
        return tuple(shape)

    def get_config(self) -> dict:
        from neuroflow.keras.layers.serialization import serialize

        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from neuroflow.keras.layers.serialization import deserialize

        config = copy.deepcopy(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize(backward, custom_objects)
        return cls(**config)


def _state_kwarg(states) -> dict:
    return {} if states is None else {"initial_state": states}


class TimeDistributed(Layer):
    """Applies ``layer`` to every time step of ``(batch, time, ...)`` inputs.

    The steps are folded into the batch (``(batch * time, ...)``) for one call of the
    layer, so a trace holds one call whatever the number of steps.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    def _child_input_shape(self, input_shape) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with "
                             f"at least 3 dimensions, received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape) -> None:
        child = self._child_input_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer._build_from_shape(child)
            adopt_weights(self.name, self.layer)

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_input_shape(shape)
        mask = get_keras_mask(inputs) if mask is None else mask
        if mask is not None:
            mask = as_tensor(mask)
            found = tuple(mask.shape)
            if len(found) < 2 or any(a is not None and b is not None and a != b
                                     for a, b in zip(found[:2], shape[:2])):
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a "
                                 f"shape {found} that is incompatible with the input shape "
                                 f"{shape}. The first two dimensions of the mask (batch size "
                                 f"and timesteps) must match the input's first two "
                                 f"dimensions.")
        kwargs = {}
        if _takes(self.layer, "training"):
            kwargs["training"] = training
        if mask is not None and _takes(self.layer, "mask"):
            kwargs["mask"] = _fold(mask)
        outputs = self.layer(_fold(inputs), **kwargs)
        sizes = [d if d is not None else so.shape(inputs)[i] for i, d in enumerate(shape[:2])]
        rest = [d if d is not None else so.shape(outputs)[i + 1]
                for i, d in enumerate(tuple(outputs.shape)[1:])]
        outputs = so.reshape(outputs, [*sizes, *rest])
        if mask is not None:
            set_keras_mask(outputs, mask)
        return outputs

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_input_shape(tuple(input_shape)))
        return (child[0], input_shape[1], *tuple(child)[1:])

    def get_config(self) -> dict:
        from neuroflow.keras.layers.serialization import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from neuroflow.keras.layers.serialization import deserialize

        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects)
        return cls(layer, **config)


def _fold(x):
    """``(batch, time, ...)`` as ``(batch * time, ...)``."""
    shape = tuple(x.shape)
    rest = [d if d is not None else so.shape(x)[i + 2] for i, d in enumerate(shape[2:])]
    return so.reshape(x, [-1, *rest])
