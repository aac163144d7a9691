"""Convolutional LSTM layers: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Keras 3's arguments,
weights and configs).

An LSTM whose input and recurrent transformations are convolutions: the kernel is
``(*kernel_size, channels, 4 * filters)``, the recurrent kernel
``(*kernel_size, filters, 4 * filters)`` (always ``"same"`` padding, stride 1), gates
``i, f, c, o`` along the last axis, as in Keras, so weights move between the two
unchanged.

The input convolution of every step runs at once, time folded into the batch (one large
convolution is much faster in NumPy than one per step). The recurrence is a Python loop
eagerly and one ``tf.while_loop`` node in a trace, so the graph does not grow with the
sequence. The computation is channels-last; ``channels_first`` inputs and states are
transposed at the boundary.
"""

from __future__ import annotations

import numbers

from neuroflow.graph.control_flow import while_loop
from neuroflow.keras import activations, regularizers
from neuroflow.keras.layers.base import Layer, refuse_unsupported, unique_name
from neuroflow.keras.layers.convolutional import (
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)
from neuroflow.keras.layers.recurrent import RNN
from neuroflow.keras.layers.rnn_cells import (
    DropoutRNNCell,
    forget_gate_ones,
    get_initializer,
    serialize_initializer,
    serialize_regularizer,
)
from neuroflow.ops import convolution as conv_ops
from neuroflow.ops import creation, indexing
from neuroflow.ops import elementwise as ew
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import recording


def _size(x, axis: int):
    """A size of ``x``: the int when the trace knows it, else a scalar tensor."""
    return x.shape[axis] if x.shape[axis] is not None else so.shape(x)[axis]


class ConvLSTMCell(Layer, DropoutRNNCell):
    """One step of a convolutional LSTM over ``rank`` spatial axes: states ``[h, c]``."""

    _mask_count = 4  # Keras draws one dropout mask per gate

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        kind = "ConvLSTMCell"
        refuse_unsupported(kind, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        if rank not in (1, 2, 3):
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. "
                             f"Received: rank={rank}")
        if isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters!r}.")
        self.rank = rank
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", kind)
        self.strides = normalize_tuple(strides, rank, "strides", kind)
        self.padding = normalize_padding(padding, kind)
        self.data_format = normalize_data_format(data_format, kind)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", kind)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"Specifying `strides > 1` is not compatible with "
                             f"`dilation_rate > 1`. Please provide `strides=1` or "
                             f"`dilation_rate=1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.recurrent_initializer = get_initializer(recurrent_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.state_size = [self.filters, self.filters]
        self.output_size = self.filters
        self.kernel = self.recurrent_kernel = self.bias = None
        self.spatial_dims = self.input_dim = None

    # --- shapes and weights -----------------------------------------------------------------
    @property
    def _first(self) -> bool:
        return self.data_format == "channels_first"

    def _output_spatial(self, spatial) -> tuple:
        return tuple(conv_output_length(size, k, self.padding, s, d) for size, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, inputs_shape, states_shape=None):
        spatial = tuple(inputs_shape[2:] if self._first else inputs_shape[1:-1])
        out = self._output_spatial(spatial)
        shape = (inputs_shape[0], self.filters, *out) if self._first else \
            (inputs_shape[0], *out, self.filters)
        return shape, [shape, shape]

    def build(self, inputs_shape, states_shape=None) -> None:
        inputs_shape = tuple(inputs_shape)
        spatial = inputs_shape[2:] if self._first else inputs_shape[1:-1]
        channels = inputs_shape[1] if self._first else inputs_shape[-1]
        if None in spatial:
            raise ValueError(f"ConvLSTM layers only support static input shapes for the "
                             f"spatial dimension. Received invalid input shape: "
                             f"input_shape={inputs_shape}")
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs should be defined. Found "
                             f"None. Full input shape received: input_shape={inputs_shape}")
        self.spatial_dims, self.input_dim = tuple(spatial), int(channels)
        width = 4 * self.filters
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.input_dim, width),
                                      self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", (*self.kernel_size, self.filters, width),
            self.recurrent_initializer, self.recurrent_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (width,), self._bias_initializer(),
                                        self.bias_regularizer)

    def _bias_initializer(self):
        """With ``unit_forget_bias``, ones for the forget gate, as Keras's LSTMs start."""
        if not self.unit_forget_bias:
            return self.bias_initializer
        return forget_gate_ones(self.bias_initializer, self.filters, self.dtype)

    def get_initial_state(self, batch_size=None) -> list:
        shape = (batch_size, self.input_dim, *self.spatial_dims) if self._first else \
            (batch_size, *self.spatial_dims, self.input_dim)
        state = self.compute_output_shape(shape)[0]
        return [creation.zeros(state, self.dtype), creation.zeros(state, self.dtype)]

    # --- computing --------------------------------------------------------------------------
    def _conv(self, x, kernel, padding="valid", recurrent=False):
        strides = 1 if recurrent else self.strides
        dilations = 1 if recurrent else self.dilation_rate
        return conv_ops.convolution(x, kernel, strides, padding.upper(), None, dilations)

    def _gates(self, z, c_prev):
        f = self.filters
        i = self.recurrent_activation(z[..., :f])
        forget = self.recurrent_activation(z[..., f:2 * f])
        c = forget * c_prev + i * self.activation(z[..., 2 * f:3 * f])
        h = self.recurrent_activation(z[..., 3 * f:]) * self.activation(c)
        return h, c

    def _recurrent(self, h, recurrent_kernel, masks):
        """The recurrent convolutions of all four gates (one per gate with dropout)."""
        if masks is None:
            return self._conv(h, recurrent_kernel, "same", recurrent=True)
        kernels = so.split(recurrent_kernel, 4, axis=-1)
        return so.concat([self._conv(h * m, k, "same", recurrent=True)
                          for m, k in zip(masks, kernels)], axis=-1)

    def _to_last(self, x, time: bool = False):
        """channels_first -> channels_last (the computation's layout)."""
        if not self._first:
            return x
        lead = 2 if time else 1
        n = x._value.ndim
        return so.transpose(x, [*range(lead), *range(lead + 1, n), lead])

    def _to_first(self, x, time: bool = False):
        if not self._first:
            return x
        lead = 2 if time else 1
        n = x._value.ndim
        return so.transpose(x, [*range(lead), n - 1, *range(lead, n - 1)])

    def call(self, inputs, states, training=False):
        """One step, for ``RNN(cell)`` and for users stepping the cell themselves."""
        h_prev, c_prev = self._to_last(states[0]), self._to_last(states[1])
        x = self._to_last(inputs)
        drop = training and 0 < self.dropout < 1
        rec_drop = training and 0 < self.recurrent_dropout < 1
        if drop:
            masks = [self._to_last(m) for m in self.get_dropout_mask(inputs)]
            kernels = so.split(self.kernel, 4, axis=-1)
            z = so.concat([self._conv(x * m, k, self.padding) for m, k in zip(masks, kernels)],
                          axis=-1)
        else:
            z = self._conv(x, self.kernel, self.padding)
        if self.bias is not None:
            z = z + self.bias
        masks = [self._to_last(m) for m in self.get_recurrent_dropout_mask(states[0])] \
            if rec_drop else None
        h, c = self._gates(z + self._recurrent(h_prev, self.recurrent_kernel, masks), c_prev)
        h, c = self._to_first(h), self._to_first(c)
        return h, [h, c]

    def _projection(self, x, training):
        """The input convolution of every step at once: ``(batch, time, *spatial, 4F)``."""
        steps = _size(x, 1)
        folded = so.reshape(x, [-1, *x.shape[2:]])
        if training and 0 < self.dropout < 1:
            masks = [self._to_last(m) for m in self.get_dropout_mask(self._to_first(x[:, 0]))]
            folded_masks = [so.reshape(so.broadcast_to(so.expand_dims(m, 1), so.shape(x)),
                                       so.shape(folded)) for m in masks]
            kernels = so.split(self.kernel, 4, axis=-1)
            z = so.concat([self._conv(folded * m, k, self.padding)
                           for m, k in zip(folded_masks, kernels)], axis=-1)
        else:
            z = self._conv(folded, self.kernel, self.padding)
        if self.bias is not None:
            z = z + self.bias
        return so.reshape(z, [_size(x, 0), steps, *z.shape[1:]])

    def fused_sequence(self, x, states, mask, training):
        """The ``h`` state at every step ``(batch, time, ...)`` and the final ``[h, c]``."""
        x = self._to_last(x, time=True)
        h, c = self._to_last(states[0]), self._to_last(states[1])
        z = self._projection(x, training)
        masks = None
        if training and 0 < self.recurrent_dropout < 1:
            masks = [self._to_last(m) for m in self.get_recurrent_dropout_mask(states[0])]
        keep_shape = (1,) * (self.rank + 1)
        if recording.tracer is None:
            hs = []
            for t in range(x.shape[1]):
                h_new, c_new = self._gates(
                    z[:, t] + self._recurrent(h, self.recurrent_kernel, masks), c)
                if mask is not None:
                    keep = so.reshape(mask[:, t], [-1, *keep_shape])
                    h_new, c_new = ew.where(keep, h_new, h), ew.where(keep, c_new, c)
                h, c = h_new, c_new
                hs.append(h)
            sequence = so.stack(hs, axis=1)
        else:
            sequence, h, c = self._graph_loop(z, h, c, mask, masks, keep_shape)
        return self._to_first(sequence, time=True), [self._to_first(h), self._to_first(c)]

    def _graph_loop(self, z, h, c, mask, masks, keep_shape):
        """The recurrence as one ``while_loop`` node: time-major, outputs scattered into a
        ``(time, batch, ...)`` buffer."""
        steps = _size(z, 1)
        n = z._value.ndim
        z_t = so.transpose(z, [1, 0, *range(2, n)])
        m_t = None if mask is None else so.transpose(mask, [1, 0])
        buffer = creation.zeros((steps, _size(h, 0), *h.shape[1:]), h.dtype)
        recurrent_kernel = as_tensor(self.recurrent_kernel)

        def body(t, h, c, sequence):
            h_new, c_new = self._gates(so.gather(z_t, t)
                                       + self._recurrent(h, recurrent_kernel, masks), c)
            if m_t is not None:
                keep = so.reshape(so.gather(m_t, t), [-1, *keep_shape])
                h_new, c_new = ew.where(keep, h_new, h), ew.where(keep, c_new, c)
            sequence = indexing.tensor_scatter_nd_update(
                sequence, so.reshape(t, [1, 1]), so.expand_dims(h_new, 0))
            return t + 1, h_new, c_new, sequence

        _, h, c, sequence = while_loop(lambda t, *_: t < steps, body,
                                       (as_tensor(0), h, c, buffer))
        return so.transpose(sequence, [1, 0, *range(2, n)]), h, c

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "recurrent_initializer": serialize_initializer(self.recurrent_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
                "recurrent_regularizer": serialize_regularizer(self.recurrent_regularizer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer),
                "kernel_constraint": None, "recurrent_constraint": None,
                "bias_constraint": None, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


_CELL_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")


class ConvLSTM(RNN):
    """A ConvLSTM cell run over ``(batch, time, *spatial, channels)`` sequences."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        arguments = {k: v for k, v in locals().items() if k in _CELL_KEYS}
        if kwargs.get("name") is None:  # Keras's snake case keeps "lstm2d" whole
            kwargs["name"] = unique_name(f"conv_lstm{self.rank}d")
        cell = ConvLSTMCell(self.rank, name="conv_lstm_cell", dtype=kwargs.get("dtype"),
                            **arguments)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)

    def _check_rank(self, shape) -> None:
        if len(shape) != self.rank + 3:
            raise ValueError(f"{type(self).__name__} {self.name!r} expects inputs of rank "
                             f"{self.rank + 3}, (batch, time, *{self.rank} spatial axes, "
                             f"channels) or channels first; received inputs of shape "
                             f"{tuple(shape)}.")

    def build(self, sequences_shape, initial_state_shape=None) -> None:
        self._check_rank(tuple(sequences_shape))
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        self._check_rank(tuple(sequences.shape))
        return super().call(sequences, initial_state=initial_state, mask=mask,
                            training=training)

    def _outputs_of_states(self, hs, mask):
        """As RNN's, with the mask broadcast over the spatial and channel axes."""
        if mask is None:
            return hs[:, -1], hs
        if self.zero_output_for_mask:
            shown = mask
        else:
            from neuroflow.ops import reductions

            shown = ew.greater(reductions.cumsum(ew.cast(mask, "int32"), axis=1), 0)
        for _ in range(self.rank + 1):
            shown = so.expand_dims(shown, -1)
        zero = ew.zeros_like_value(hs)
        last = ew.where(shown[:, -1], hs[:, -1], zero)
        return last, ew.where(shown, hs, zero) if self.return_sequences else None

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        state = self.cell.compute_output_shape((batch, *sequences_shape[2:]))[0][1:]
        output = (batch, steps, *state) if self.return_sequences else (batch, *state)
        if self.return_state:
            return output, (batch, *state), (batch, *state)
        return output

    def get_config(self) -> dict:
        config = super().get_config()
        del config["cell"]
        cell = self.cell.get_config()
        config.update({key: cell[key] for key in _CELL_KEYS})
        config["activity_regularizer"] = serialize_regularizer(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _expose(names) -> None:
    """Read-only properties giving the cell's argument (``layer.filters``), as in Keras."""
    for name in names:
        setattr(ConvLSTM, name, property(lambda self, name=name: getattr(self.cell, name)))


_expose(k for k in _CELL_KEYS if k != "seed")


class ConvLSTM1D(ConvLSTM):
    """1D convolutional LSTM over ``(batch, time, steps, channels)`` sequences."""

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """2D convolutional LSTM over ``(batch, time, rows, cols, channels)`` sequences.

    >>> import numpy as np, neuroflow as tf
    >>> layer = tf.keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)
    >>> layer(np.zeros((2, 5, 8, 8, 1), "float32")).shape
    TensorShape([2, 5, 8, 8, 4])
    """

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3D convolutional LSTM over ``(batch, time, depth, rows, cols, channels)``."""

    rank = 3
