"""Compiled-versus-eager cases of the fused recurrent sequences (``ops/recurrent.py``)
and of the recurrent layers, whose batch and sequence length change between calls.

The fused ops are no public ``tf.*`` ops, so every case is an ``EXTRA_CASES`` one;
gradients reach the ``*_sequence_grad`` primitives.
"""

from __future__ import annotations

from frozen_cases import Case, bools, floats, gradients_of

import neuroflow as tf
from neuroflow.ops import recurrent

U = 3


def _lstm_args(r, n):
    return (floats(r, n, n + 1, 4 * U), floats(r, n, U), floats(r, n, U),
            floats(r, U, 4 * U, low=-0.6, high=0.6), bools(r, n, n + 1, p=0.7))


def _gru_args(r, n):
    return (floats(r, n, n + 2, 3 * U), floats(r, n, U), floats(r, U, 3 * U, low=-0.6, high=0.6),
            floats(r, 3 * U), bools(r, n, n + 2, p=0.7))


def _simple_args(r, n):
    return (floats(r, n, n + 1, U), floats(r, n, U), floats(r, U, U, low=-0.6, high=0.6),
            bools(r, n, n + 1, p=0.7))


def _lstm(x, h, c, k, mask):
    return recurrent.lstm_sequence(x, h, c, k, mask)


def _lstm_plain(x, h, c, k, mask):
    hs, cs = recurrent.lstm_sequence(x, h, c, k, activation="relu",
                                     recurrent_activation="hard_sigmoid")
    return hs, cs[:, -1]


def _gru(x, h, k, b, mask):
    return recurrent.gru_sequence(x, h, k, b, mask)


def _gru_reset_before(x, h, k, b, mask):
    return recurrent.gru_sequence(x, h, k, mask=mask, reset_after=False)


def _simple(x, h, k, mask):
    return recurrent.simple_rnn_sequence(x, h, k, mask)


def _sequences(r, n):
    return (floats(r, n, n + 1, 2), bools(r, n, n + 1, p=0.7))


_LSTM_LAYER = tf.keras.layers.LSTM(U, return_sequences=True, return_state=True)
# An activation the fused ops lack: the layer steps its cell in a tf.while_loop.
_STEPWISE = tf.keras.layers.RNN(tf.keras.layers.GRUCell(U, activation="softsign"),
                                return_sequences=True)


def _lstm_layer(x, mask):
    return _LSTM_LAYER(x, mask=mask)


def _stepwise_layer(x, mask):
    return _STEPWISE(x, mask=mask)


EXTRA_CASES = {
    "fused recurrent sequences": [
        Case(_lstm, _lstm_args, "lstm-masked"),
        Case(_lstm_plain, _lstm_args, "lstm-relu"),
        Case(_gru, _gru_args, "gru-masked"),
        Case(_gru_reset_before, _gru_args, "gru-reset-before"),
        Case(_simple, _simple_args, "simple-masked")],
    "gradients of fused recurrent sequences": [
        Case(gradients_of(lambda *a: tf.concat(_lstm(*a), -1)), _lstm_args, "lstm"),
        Case(gradients_of(lambda *a: _lstm_plain(*a)[1]), _lstm_args, "lstm-cell-state"),
        Case(gradients_of(_gru), _gru_args, "gru"),
        Case(gradients_of(_gru_reset_before), _gru_args, "gru-reset-before"),
        Case(gradients_of(_simple), _simple_args, "simple")],
    "recurrent layers": [
        Case(_lstm_layer, _sequences, "lstm"),
        Case(_stepwise_layer, _sequences, "while-loop"),
        Case(gradients_of(_stepwise_layer), _sequences, "while-loop-gradient")],
}
