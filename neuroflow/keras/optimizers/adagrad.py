"""Adagrad: per-parameter step sizes from the sum of all past squared gradients."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Adagrad(Optimizer):
    """``acc += g^2``; ``var -= lr * g / sqrt(acc + epsilon)``; ``acc`` starts at 0.1."""

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=float(self.initial_accumulator_value))

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        accumulator = self._slot(self._accumulators, variable)
        accumulator.assign_add(ew.square(gradient))
        epsilon = self._constant(self.epsilon, variable.dtype)
        variable.assign_sub(learning_rate * gradient / ew.sqrt(accumulator + epsilon))

    def get_config(self) -> dict:
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
