"""Recurrent cells: SimpleRNNCell, LSTMCell and GRUCell (Keras 3's).

A cell computes one time step, ``call(inputs, states) -> (output, new_states)``, with
Keras's weights (``kernel``, ``recurrent_kernel``, ``bias``; gates ``i, f, c, o`` for
the LSTM and ``z, r, h`` for the GRU). ``keras.layers.RNN`` runs a cell over time; for
the three built-in cells it runs a whole sequence as one fused op instead
(:meth:`fused_sequence`, on ``ops/recurrent.py``) when their activations allow it.

Dropout masks follow Keras: drawn once per sequence (the RNN layer draws them before
its loop, from the first step's shapes) and fixed across time steps; with
``recurrent_dropout`` (Keras's implementation 1) each gate gets its own masks.
"""

from __future__ import annotations

import numbers

import numpy as np

from neuroflow.keras import activations, initializers, regularizers
from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.ops import creation, linalg, nn_ops
from neuroflow.ops import recurrent as fused
from neuroflow.ops import shape_ops as so
from neuroflow.tensor import Tensor


def get_initializer(identifier):
    return initializers.get(identifier)


def serialize_initializer(initializer):
    return None if initializer is None else initializers.serialize(initializer)


def serialize_regularizer(regularizer):
    return None if regularizer is None else regularizers.serialize(regularizer)


def fused_activation(function) -> str | None:
    """The name of a built-in activation the fused ops implement, else None."""
    name = getattr(function, "__name__", None)
    if name in fused.FUSED_ACTIVATIONS and activations.get(name) is function:
        return name
    return None


def _units(units) -> int:
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a "
                         f"positive integer, got {units!r}.")
    return int(units)


class DropoutRNNCell:
    """Dropout masks of a cell: drawn once, then reused until reset (one per sequence)."""

    _mask_count = None  # several masks per draw (one per gate) in Keras's implementation 1

    def _draw(self, step_input, rate):
        ones = creation.ones_like(step_input)
        if self._mask_count is None:
            return nn_ops.dropout(ones, rate, seed=self.seed)
        return [nn_ops.dropout(ones, rate, seed=self.seed) for _ in range(self._mask_count)]

    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and 0 < self.dropout < 1:
            self._dropout_mask = self._draw(step_input, self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        if getattr(self, "_recurrent_dropout_mask", None) is None and \
                0 < self.recurrent_dropout < 1:
            self._recurrent_dropout_mask = self._draw(step_input, self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        self._recurrent_dropout_mask = None


class _Cell(Layer, DropoutRNNCell):
    """What the three built-in cells share: arguments, weights, initial state, config."""

    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 implementation=2, **kwargs):
        super().__init__(**kwargs)
        refuse_unsupported(type(self).__name__, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        self.units = _units(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.recurrent_initializer = get_initializer(recurrent_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        if implementation not in (1, 2):
            raise ValueError(f"`implementation` must be 1 or 2; received {implementation!r}.")
        self.implementation = 1 if self.recurrent_dropout else implementation
        if self.implementation == 1 and self.gates > 1:
            self._mask_count = self.gates
        self.state_size = self.units
        self.output_size = self.units
        self.kernel = self.recurrent_kernel = self.bias = None

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape) -> None:
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width),
                                      self.kernel_initializer, self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                self.recurrent_initializer,
                                                self.recurrent_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), self._bias_initializer(),
                                        self.bias_regularizer)

    def get_initial_state(self, batch_size=None) -> list:
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [creation.zeros((batch_size, size), self.dtype) for size in sizes]

    def _training_dropout(self, training) -> tuple:
        """Whether input and recurrent dropout apply (Keras: training and 0 < rate < 1)."""
        return (bool(training) and 0 < self.dropout < 1,
                bool(training) and 0 < self.recurrent_dropout < 1)

    def _projection(self, x, training, biased=True):
        """``x @ kernel (+ bias)`` over a whole sequence, with input dropout (one mask per
        sequence, per gate in implementation 1)."""
        drop, _ = self._training_dropout(training)
        if not drop:
            out = linalg.matmul(x, self.kernel)
        else:
            mask = self.get_dropout_mask(x[:, 0])
            if isinstance(mask, list):
                kernels = so.split(self.kernel, self.gates, axis=1)
                out = so.concat([linalg.matmul(x * so.expand_dims(m, 1), k)
                                 for m, k in zip(mask, kernels)], axis=-1)
            else:
                out = linalg.matmul(x * so.expand_dims(mask, 1), self.kernel)
        if biased and self.bias is not None:
            out = out + self.bias
        return out

    def _fusable(self, training, *functions) -> bool:
        # Recurrent dropout multiplies the state inside the loop: run step by step.
        return not self._training_dropout(training)[1] and all(
            fused_activation(f) is not None for f in functions)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "recurrent_initializer": serialize_initializer(self.recurrent_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
                "recurrent_regularizer": serialize_regularizer(self.recurrent_regularizer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer),
                "kernel_constraint": None, "recurrent_constraint": None,
                "bias_constraint": None, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


def _per_gate(value, mask, count: int) -> list:
    """``value`` times each of the gates' masks (the value itself when there is none)."""
    if mask is None:
        return [value] * count
    if isinstance(mask, list):
        return [value * m for m in mask]
    return [value * mask] * count


class SimpleRNNCell(_Cell):
    """``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``."""

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        drop, rec_drop = self._training_dropout(training)
        if drop:
            inputs = inputs * self.get_dropout_mask(inputs)
        h = linalg.matmul(inputs, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        if rec_drop:
            h_prev = h_prev * self.get_recurrent_dropout_mask(h_prev)
        output = self.activation(h + linalg.matmul(h_prev, self.recurrent_kernel))
        return output, [output] if isinstance(states, (list, tuple)) else output

    def fused_sequence(self, x, states, mask, training):
        """The state at every step and the final states, or None to run step by step."""
        if not self._fusable(training, self.activation):
            return None
        hs = fused.simple_rnn_sequence(self._projection(x, training), states[0],
                                       self.recurrent_kernel, mask,
                                       fused_activation(self.activation))
        return hs, [hs[:, -1]]


def forget_gate_ones(base, units: int, default_dtype):
    """Keras's ``unit_forget_bias``: an LSTM bias (gates i, f, c, o) drawn from ``base`` but
    ones for the forget gate, so a new LSTM starts by keeping its state."""

    def initializer(shape, dtype=None):
        parts = [base((units,), dtype), np.ones(units, dtype=dtype or default_dtype),
                 base((2 * units,), dtype)]
        return Tensor(np.concatenate([np.asarray(p) for p in parts]))

    return initializer


class LSTMCell(_Cell):
    """Long short-term memory: states ``[h, c]``, gates ``i, f, c, o``."""

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        return forget_gate_ones(self.bias_initializer, self.units, self.dtype)

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]
        drop, rec_drop = self._training_dropout(training)
        u = self.units
        if self.implementation == 1:
            xs = _per_gate(inputs, self.get_dropout_mask(inputs) if drop else None, 4)
            hs = _per_gate(h_prev, self.get_recurrent_dropout_mask(h_prev) if rec_drop
                           else None, 4)
            kernels = so.split(self.kernel, 4, axis=1)
            recurrent = so.split(self.recurrent_kernel, 4, axis=1)
            biases = so.split(self.bias, 4, axis=0) if self.bias is not None else [0.0] * 4
            z = [linalg.matmul(x, k) + b + linalg.matmul(h, r)
                 for x, k, b, h, r in zip(xs, kernels, biases, hs, recurrent)]
        else:
            if drop:
                inputs = inputs * self.get_dropout_mask(inputs)
            zz = linalg.matmul(inputs, self.kernel) + linalg.matmul(h_prev, self.recurrent_kernel)
            if self.bias is not None:
                zz = zz + self.bias
            z = [zz[:, k * u:(k + 1) * u] for k in range(4)]
        i, f, o = (self.recurrent_activation(z[k]) for k in (0, 1, 3))
        c = f * c_prev + i * self.activation(z[2])
        h = o * self.activation(c)
        return h, [h, c]

    def fused_sequence(self, x, states, mask, training):
        if not self._fusable(training, self.activation, self.recurrent_activation):
            return None
        hs, cs = fused.lstm_sequence(self._projection(x, training), states[0], states[1],
                                     self.recurrent_kernel, mask,
                                     fused_activation(self.activation),
                                     fused_activation(self.recurrent_activation))
        return hs, [hs[:, -1], cs[:, -1]]

    def get_config(self) -> dict:
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_Cell):
    """Gated recurrent unit: state ``h``, gates ``z, r, h``. With ``reset_after`` (the
    default) the bias is ``(2, 3 * units)``: input and recurrent biases."""

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self) -> tuple:
        """(input bias, recurrent bias), either None."""
        if self.bias is None:
            return None, None
        if self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        drop, rec_drop = self._training_dropout(training)
        u = self.units
        in_bias, rec_bias = self._biases()
        xs = _per_gate(inputs, self.get_dropout_mask(inputs) if drop else None, 3)
        hs = _per_gate(h_prev, self.get_recurrent_dropout_mask(h_prev) if rec_drop else None, 3)
        kernels = so.split(self.kernel, 3, axis=1)
        recurrent = so.split(self.recurrent_kernel, 3, axis=1)
        x = [linalg.matmul(x, k) for x, k in zip(xs, kernels)]
        if in_bias is not None:
            x = [xg + in_bias[k * u:(k + 1) * u] for k, xg in enumerate(x)]
        inner = [linalg.matmul(h, r) for h, r in zip(hs, recurrent)]
        if rec_bias is not None:
            inner = [ig + rec_bias[k * u:(k + 1) * u] for k, ig in enumerate(inner)]
        z = self.recurrent_activation(x[0] + inner[0])
        r = self.recurrent_activation(x[1] + inner[1])
        if self.reset_after:
            candidate = x[2] + r * inner[2]
        else:
            candidate = x[2] + linalg.matmul(r * hs[2], recurrent[2])
        hh = self.activation(candidate)
        h = z * h_prev + (1 - z) * hh
        return h, [h] if nested else h

    def fused_sequence(self, x, states, mask, training):
        if not self._fusable(training, self.activation, self.recurrent_activation):
            return None
        in_bias, rec_bias = self._biases()
        projected = self._projection(x, training, biased=False)
        if in_bias is not None:
            projected = projected + in_bias
        hs = fused.gru_sequence(projected, states[0], self.recurrent_kernel, rec_bias, mask,
                                self.reset_after, fused_activation(self.activation),
                                fused_activation(self.recurrent_activation))
        return hs, [hs[:, -1]]

    def get_config(self) -> dict:
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config


