"""Adadelta: step sizes from running averages of squared gradients and updates, as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Adadelta(Optimizer):
    """``G = rho * G + (1 - rho) * g^2``;
    ``delta = -sqrt(D + epsilon) * g / sqrt(G + epsilon)``;
    ``D = rho * D + (1 - rho) * delta^2``; ``var += lr * delta``.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads = self.add_optimizer_variables(variables, "accumulated_grad")
        self._accumulated_delta_vars = self.add_optimizer_variables(variables,
                                                                    "accumulated_delta_var")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        rho = self._constant(self.rho, dtype)
        one_minus_rho = self._constant(1 - self.rho, dtype)
        epsilon = self._constant(self.epsilon, dtype)
        accumulated_grad = self._slot(self._accumulated_grads, variable)
        accumulated_delta = self._slot(self._accumulated_delta_vars, variable)
        accumulated_grad.assign(rho * accumulated_grad + one_minus_rho * ew.square(gradient))
        delta = -(ew.sqrt(accumulated_delta + epsilon) * gradient
                  / ew.sqrt(accumulated_grad + epsilon))
        accumulated_delta.assign(rho * accumulated_delta + one_minus_rho * ew.square(delta))
        variable.assign_add(learning_rate * delta)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
