"""Adamax: Adam with the infinity norm in place of the second moment, as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Adamax(Optimizer):
    """Per step ``t`` (from 1): ``m += (g - m) * (1 - beta_1)``,
    ``u = max(beta_2 * u, |g|)``, ``var -= lr * m / ((1 - beta_1^t) * (u + epsilon))``.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._norms = self.add_optimizer_variables(variables, "norm")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        t = ew.cast(self.iterations + 1, dtype)
        beta_1_power = ew.pow(self._constant(self.beta_1, dtype), t)
        m = self._slot(self._momentums, variable)
        u = self._slot(self._norms, variable)
        m.assign_add((gradient - m) * self._constant(1 - self.beta_1, dtype))
        u.assign(ew.maximum(self._constant(self.beta_2, dtype) * u, ew.abs(gradient)))
        variable.assign_sub((learning_rate * m)
                            / ((1 - beta_1_power) * (u + self._constant(self.epsilon, dtype))))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
