"""RMSprop, optionally centered and with momentum, as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class RMSprop(Optimizer):
    """Divide the gradient by a running root-mean-square of recent gradients.

    ``v = rho * v + (1 - rho) * g^2``; ``var -= lr * g / sqrt(v + epsilon)``.
    ``centered`` subtracts the square of the running mean gradient from ``v``;
    ``momentum`` accumulates the increments before applying them.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = (self.add_optimizer_variables(variables, "momentum")
                           if self.momentum > 0 else [])
        self._average_gradients = (self.add_optimizer_variables(variables, "average_gradient")
                                   if self.centered else [])

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        rho = self._constant(self.rho, dtype)
        one_minus_rho = self._constant(1 - self.rho, dtype)
        epsilon = self._constant(self.epsilon, dtype)
        velocity = self._slot(self._velocities, variable)
        velocity.assign(rho * velocity + one_minus_rho * ew.square(gradient))
        if self.centered:
            average = self._slot(self._average_gradients, variable)
            average.assign(rho * average + one_minus_rho * gradient)
            denominator = velocity - ew.square(average) + epsilon
        else:
            denominator = velocity + epsilon
        increment = learning_rate * gradient / ew.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._slot(self._momentums, variable)
            momentum.assign(self._constant(self.momentum, dtype) * momentum + increment)
            variable.assign_sub(momentum)
        else:
            variable.assign_sub(increment)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
