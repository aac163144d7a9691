"""Recurrent layers: ``RNN(cell)`` and SimpleRNN, LSTM, GRU (Keras 3's arguments,
weights and configs).

A sequence never makes the traced graph grow with its length. The built-in cells run a
whole sequence as one fused op (``ops/recurrent.py``); any other cell (a user's, or a
built-in one with recurrent dropout or an activation the fused ops lack) runs step by
step: a Python loop eagerly, one ``tf.while_loop`` node in a trace. Masks follow
Keras: a masked step keeps the states, and its output repeats the previous output (or
is zero with ``zero_output_for_mask``).
"""

from __future__ import annotations

from neuroflow.graph.control_flow import while_loop
from neuroflow.keras import regularizers
from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.embedding import get_keras_mask, set_keras_mask
from neuroflow.keras.layers.rnn_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    serialize_regularizer,
)
from neuroflow.keras.layers.stacked_rnn_cells import (
    StackedRNNCells,
    adopt_weights,
    draw_dropout_masks,
    initial_state_of,
    reset_dropout_masks,
)
from neuroflow.ops import creation, indexing, reductions
from neuroflow.ops import elementwise as ew
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import init_scope, recording
from neuroflow.util import nest
from neuroflow.variables import Variable


class RNN(Layer):
    """Runs ``cell`` over the time axis of ``(batch, time, features)`` inputs.

    A cell has ``state_size`` (an int or a list) and ``call(inputs, states)`` returning
    ``(output, new_states)``; a list of cells is stacked (``StackedRNNCells``).
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False,
                 activity_regularizer=None, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: "
                             f"cell={cell}")
        state_size = getattr(cell, "state_size", None)
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(f"The RNN cell should have a `state_size` attribute (single "
                             f"integer or list of integers, one integer per RNN state). "
                             f"Received: cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted: the fused or looped run gives the same result
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.states = None

    @property
    def state_size(self) -> list:
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def _output_size(self) -> int:
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else nest.flatten(self.state_size)[0]

    # --- building ---------------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None) -> None:
        shape = tuple(sequences_shape)
        if len(shape) < 3:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects inputs of shape "
                             f"(batch, time, features); received shape {shape}. Add a time "
                             f"axis, e.g. x[:, None, :] for sequences of one step.")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_from_shape((shape[0], *shape[2:]))
            adopt_weights(self.name, self.cell)
        if self.stateful and self.states is None and shape[0] is not None:
            self._create_states(shape[0])

    def _create_states(self, batch) -> None:
        if batch is None:
            raise ValueError(f"When using `stateful=True` in a RNN, the batch size must be "
                             f"static. Found dynamic batch size in {self.name!r}. Call the "
                             f"layer (or its model) on one batch first, outside tf.function, "
                             f"so that its states take that batch size.")
        with init_scope():
            initial = nest.flatten(initial_state_of(self.cell, batch, self.dtype))
            self.states = [Variable(s, trainable=False, name="rnn_state") for s in initial]

    def reset_state(self) -> None:
        """Zero the states a stateful layer carries from one call to the next."""
        for variable in self.states or ():
            variable.assign(creation.zeros_like(variable.value()))

    def reset_states(self) -> None:
        self.reset_state()

    def get_initial_state(self, batch_size) -> list:
        state = initial_state_of(self.cell, batch_size, self.dtype)
        return state if isinstance(state, list) else [state]

    # --- calling ----------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=False):
        x = sequences
        if x._value.ndim < 3:
            self.build(tuple(x.shape))  # raises the rank error
        if self.unroll and x.shape[1] is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined. \n- If "
                             "using a Sequential model, specify the time dimension by passing "
                             "an `Input()` as your first layer.\n- If using the functional "
                             "API, specify the time dimension by passing a `shape` or "
                             "`batch_shape` argument to your `Input()`.")
        if x.shape[1] == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r} received a sequence of "
                             f"length 0; it needs at least one time step.")
        mask = self._mask(x, mask)
        states = self._initial_states(x, initial_state)
        if self.go_backwards:
            x = so.reverse(x, [1])
            mask = None if mask is None else so.reverse(mask, [1])
        try:
            fused = getattr(self.cell, "fused_sequence", None)
            found = fused(x, states, mask, training) if fused is not None else None
            if found is not None:
                hs, final = found
                last, outputs = self._outputs_of_states(hs, mask)
            else:
                last, outputs, final = self._run_cell(x, states, mask, training)
        finally:
            reset_dropout_masks(self.cell)
        if self.stateful:
            for variable, state in zip(self.states, nest.flatten(final)):
                variable.assign(state)
        output = outputs if self.return_sequences else last
        if self.return_sequences and mask is not None:
            original = mask if not self.go_backwards else so.reverse(mask, [1])
            set_keras_mask(output, original)
        if self.return_state:
            return (output, *final)
        return output

    def _mask(self, x, mask):
        if mask is None:
            mask = get_keras_mask(x)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            return None
        mask = as_tensor(mask)
        if mask._value.ndim == 3 and mask.shape[-1] == 1:
            mask = so.squeeze(mask, -1)
        if mask._value.ndim != 2:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the mask must have shape "
                             f"(batch, time); received shape {tuple(mask.shape)} for inputs "
                             f"of shape {tuple(x.shape)}.")
        return mask if mask.dtype.name == "bool" else ew.cast(mask, "bool")

    def _initial_states(self, x, initial_state) -> list:
        if initial_state is None and not self.stateful:
            batch = x.shape[0] if x.shape[0] is not None else so.shape(x)[0]
            return self.get_initial_state(batch)
        if self.stateful and self.states is None:
            self._create_states(x.shape[0])
        if self.stateful:
            expected, found = self.states[0].shape[0], x.shape[0]
            if found is not None and found != expected:
                raise ValueError(f"If an RNN is stateful, the batch size of the input "
                                 f"sequences must be the same as the batch size of the "
                                 f"initial state. \n- Expected batch size: {expected}\n- "
                                 f"Received batch size: {found}")
        if initial_state is None:
            flat = [variable.value() for variable in self.states]
        else:
            flat = [as_tensor(s) for s in nest.flatten(initial_state)]
            flat = [s if s.dtype.name == self.dtype else ew.cast(s, self.dtype) for s in flat]
        sizes = nest.flatten(self.state_size)
        if len(flat) != len(sizes):
            raise ValueError(f"{type(self).__name__} {self.name!r} has {len(sizes)} states of "
                             f"sizes {sizes}, but initial_state gives {len(flat)} tensors. "
                             f"Pass one (batch, size) tensor per state.")
        if isinstance(self.cell, StackedRNNCells):  # one entry per cell: a list or a tensor
            structure = [list(s) if isinstance(s, (list, tuple)) else 0
                         for s in self.state_size]
            return nest.pack_sequence_as(structure, flat)
        return flat

    def _outputs_of_states(self, hs, mask):
        """(last output, output sequence) from the states of a fused run: a masked step
        repeats the previous output (zero before the first kept step), or is zero."""
        if mask is None:
            return hs[:, -1], hs
        if self.zero_output_for_mask:
            shown = mask
        else:
            shown = ew.greater(reductions.cumsum(ew.cast(mask, "int32"), axis=1), 0)
        shown = so.expand_dims(shown, -1)
        zero = ew.zeros_like_value(hs)
        last = ew.where(shown[:, -1], hs[:, -1], zero)
        return last, ew.where(shown, hs, zero) if self.return_sequences else None

    def _step(self, inputs, states, training):
        kwargs = {}
        if training is not None and getattr(self.cell, "_call_takes_training", False):
            kwargs["training"] = training
        output, new = self.cell(inputs, states, **kwargs) if isinstance(self.cell, Layer) \
            else self.cell.call(inputs, states, **kwargs)
        return output, nest.flatten(new)

    def _run_cell(self, x, states, mask, training):
        """Step the cell over time: (last output, outputs or None, final states)."""
        if training:
            draw_dropout_masks(self.cell, x[:, 0], states)
        if recording.tracer is None:
            return self._python_loop(x, states, mask, training)
        return self._graph_loop(x, states, mask, training)

    def _keep(self, keep, output, new, flat, previous):
        """A masked step keeps the states and repeats the previous output (or zero)."""
        new = [ew.where(keep, n, o) for n, o in zip(new, flat)]
        fallback = ew.zeros_like_value(output) if self.zero_output_for_mask else previous
        return ew.where(keep, output, fallback), new

    def _python_loop(self, x, states, mask, training):
        flat, outputs, previous = nest.flatten(states), [], None
        for t in range(x.shape[1]):
            output, new = self._step(x[:, t], nest.pack_sequence_as(states, flat), training)
            if mask is not None:
                previous = ew.zeros_like_value(output) if previous is None else previous
                output, new = self._keep(mask[:, t:t + 1], output, new, flat, previous)
            flat, previous = new, output
            if self.return_sequences:
                outputs.append(output)
        sequence = so.stack(outputs, axis=1) if self.return_sequences else None
        return previous, sequence, nest.pack_sequence_as(states, flat)

    def _graph_loop(self, x, states, mask, training):
        steps = x.shape[1] if x.shape[1] is not None else so.shape(x)[1]
        batch = x.shape[0] if x.shape[0] is not None else so.shape(x)[0]
        x_t = so.transpose(x, [1, 0, *range(2, x._value.ndim)])
        m_t = None if mask is None else so.expand_dims(so.transpose(mask, [1, 0]), -1)
        empty = creation.zeros((batch, self._output_size()), self.dtype)
        sequence = [creation.zeros((steps, batch, self._output_size()), self.dtype)] \
            if self.return_sequences else []

        def body(t, flat, previous, *sequence):
            inputs = so.gather(x_t, t)
            output, new = self._step(inputs, nest.pack_sequence_as(states, flat), training)
            if m_t is not None:
                output, new = self._keep(so.gather(m_t, t), output, new, flat, previous)
            if sequence:
                sequence = [indexing.tensor_scatter_nd_update(
                    sequence[0], so.reshape(t, [1, 1]), so.expand_dims(output, 0))]
            return (t + 1, new, output, *sequence)

        done = while_loop(lambda t, *_: t < steps, body,
                          (as_tensor(0), nest.flatten(states), empty, *sequence))
        outputs = so.transpose(done[3], [1, 0, 2]) if self.return_sequences else None
        return done[2], outputs, nest.pack_sequence_as(states, done[1])

    # --- shapes and configs -----------------------------------------------------------------
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        units = self._output_size()
        output = (batch, length, units) if self.return_sequences else (batch, units)
        if not self.return_state:
            return output
        return (output, *[(batch, size) for size in nest.flatten(self.state_size)])

    def compute_mask(self, inputs, mask=None):
        mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        output = mask if self.return_sequences else None
        return [output] + [None] * len(self.state_size) if self.return_state else output

    def get_config(self) -> dict:
        from neuroflow.keras.layers.serialization import serialize

        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialize(self.cell)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from neuroflow.keras.layers.serialization import deserialize

        config = dict(config)
        cell = deserialize(config.pop("cell"), custom_objects)
        return cls(cell, **config)


class _BuiltInRNN(RNN):
    """SimpleRNN, LSTM and GRU: an RNN over their cell, whose arguments they expose."""

    _cell_class: type = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, activity_regularizer=None, use_cudnn="auto",
                 cell_arguments=None, **kwargs):
        arguments = dict(cell_arguments or {})
        arguments["implementation"] = kwargs.pop("implementation", 2)
        cell = self._cell_class(units, dtype=kwargs.get("dtype"),
                                trainable=kwargs.get("trainable", True), name=self._cell_name,
                                **arguments)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"Invalid valid received for argument `use_cudnn`. Expected one "
                             f"of {{'auto', True, False}}. Received: use_cudnn={use_cudnn}")
        self.use_cudnn = use_cudnn

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.use_cudnn is True:
            raise ValueError("use_cudnn=True was specified, but cuDNN is not supported for "
                             "this layer configuration with this backend. Pass "
                             "use_cudnn='auto' to fallback to a non-cuDNN implementation.")
        return super().call(sequences, initial_state=initial_state, mask=mask,
                            training=training)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["cell"]
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell.pop(key)
        config.update(cell)
        config["activity_regularizer"] = serialize_regularizer(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


_COMMON = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
           "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
           "bias_regularizer", "dropout", "recurrent_dropout")


class SimpleRNN(_BuiltInRNN):
    """Fully connected recurrence: ``h = activation(x @ kernel + h @ recurrent_kernel + b)``."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        arguments = {k: v for k, v in locals().items() if k in _CELL_ARGUMENTS}
        super().__init__(units, return_sequences, return_state, go_backwards, stateful, unroll,
                         activity_regularizer, cell_arguments=arguments, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed")  # Keras's SimpleRNN config has none
        return config


class LSTM(_BuiltInRNN):
    """Long short-term memory over a sequence (states ``h`` and ``c``)."""

    _cell_class, _cell_name = LSTMCell, "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        arguments = {k: v for k, v in locals().items() if k in _CELL_ARGUMENTS}
        super().__init__(units, return_sequences, return_state, go_backwards, stateful, unroll,
                         activity_regularizer, use_cudnn, arguments, **kwargs)


class GRU(_BuiltInRNN):
    """Gated recurrent unit over a sequence; ``reset_after=True`` is Keras 3's default."""

    _cell_class, _cell_name = GRUCell, "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        arguments = {k: v for k, v in locals().items() if k in _CELL_ARGUMENTS}
        super().__init__(units, return_sequences, return_state, go_backwards, stateful, unroll,
                         activity_regularizer, use_cudnn, arguments, **kwargs)


_CELL_ARGUMENTS = frozenset(_COMMON) - {"units"} | {
    "recurrent_activation", "unit_forget_bias", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "seed", "reset_after"}


def _expose(cls: type, names) -> None:
    """Read-only properties giving the cell's argument (``lstm.units``), as in Keras."""
    for name in names:
        setattr(cls, name, property(lambda self, name=name: getattr(self.cell, name)))


_expose(SimpleRNN, _COMMON)
_expose(LSTM, (*_COMMON, "recurrent_activation", "unit_forget_bias"))
_expose(GRU, (*_COMMON, "recurrent_activation", "reset_after"))
