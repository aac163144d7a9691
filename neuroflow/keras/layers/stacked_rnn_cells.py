"""StackedRNNCells, and helpers of the layers that hold recurrent cells or layers.

``keras.layers.RNN`` runs a list of cells as one ``StackedRNNCells``: at each step the
output of a cell is the input of the next.
"""

from __future__ import annotations

from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.rnn_cells import DropoutRNNCell
from neuroflow.ops import creation
from neuroflow.ops import shape_ops as so
from neuroflow.tensor import Tensor
from neuroflow.util import nest


def adopt_weights(outer: str, layer) -> None:
    """Prefix the weight paths of ``layer``, just built inside the layer named ``outer``
    (``lstm/lstm_cell/kernel``, as Keras names them)."""
    for weight in getattr(layer, "weights", ()):
        weight.path = f"{outer}/{weight.path}"


class StackedRNNCells(Layer):
    """Cells run one after another at each step, as one cell (``RNN([cell, cell])``)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"All cells must have a `call` method. Received cell without "
                                 f"a `call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `state_size` attribute. Received cell "
                                 f"without a `state_size`: {cell}")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        size = last.state_size
        return size[0] if isinstance(size, (list, tuple)) else size

    def get_initial_state(self, batch_size=None) -> list:
        return [initial_state_of(cell, batch_size, self.dtype) for cell in self.cells]

    def build(self, input_shape) -> None:
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._build_from_shape(tuple(input_shape))
                adopt_weights(self.name, cell)
            size = getattr(cell, "output_size", None) or nest.flatten(cell.state_size)[0]
            input_shape = (input_shape[0], size)

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, state in zip(self.cells, states):
            nested = isinstance(state, (list, tuple))
            state = list(state) if nested else [state]
            kwargs = {"training": training} if getattr(cell, "_call_takes_training", False) \
                else {}
            inputs, state = cell(inputs, state, **kwargs)
            state = list(state) if isinstance(state, (list, tuple)) else [state]
            new_states.append(state[0] if len(state) == 1 and not nested else state)
        return inputs, new_states

    def get_config(self) -> dict:
        from neuroflow.keras.layers.serialization import serialize

        return {**super().get_config(), "cells": [serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from neuroflow.keras.layers.serialization import deserialize

        config = dict(config)
        cells = [deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def initial_state_of(cell, batch_size, dtype) -> list | Tensor:
    """A cell's initial state: its ``get_initial_state``, or zeros of its state sizes."""
    get = getattr(cell, "get_initial_state", None)
    if get is not None:
        state = get(batch_size=batch_size)
        return state
    if isinstance(cell.state_size, (list, tuple)):
        return [creation.zeros((batch_size, size), dtype) for size in cell.state_size]
    return creation.zeros((batch_size, cell.state_size), dtype)


def draw_dropout_masks(cell, step_input, states) -> None:
    """Draw a cell's dropout masks once per sequence, before the loop (Keras's rule)."""
    if isinstance(cell, StackedRNNCells):
        for inner, state in zip(cell.cells, states):
            draw_dropout_masks(inner, step_input, state)
            size = getattr(inner, "output_size", None) or nest.flatten(inner.state_size)[0]
            step_input = creation.zeros((so.shape(step_input)[0], size), step_input.dtype)
    elif isinstance(cell, DropoutRNNCell):
        cell.get_dropout_mask(step_input)
        cell.get_recurrent_dropout_mask(nest.flatten(states)[0])


def reset_dropout_masks(cell) -> None:
    if isinstance(cell, StackedRNNCells):
        for inner in cell.cells:
            reset_dropout_masks(inner)
    elif isinstance(cell, DropoutRNNCell):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
