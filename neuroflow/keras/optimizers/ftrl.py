"""FTRL-Proximal ("Follow The Regularized Leader"), as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Ftrl(Optimizer):
    """FTRL-Proximal with L1, L2 and L2-shrinkage regularization (McMahan et al., 2013).

    With ``p = -learning_rate_power``: ``n' = n + g^2``;
    ``z += g + 2 * l2_shrinkage * var - (n'^p - n^p) / lr * var``;
    ``var = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 * (l2 + beta / (2 * lr)))``; ``n = n'``.
    """

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for name, value in (("initial_accumulator_value", initial_accumulator_value),
                            ("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength",
                             l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"`{name}` needs to be positive or zero. Received: "
                                 f"{name}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=self.initial_accumulator_value)
        self._linears = self.add_optimizer_variables(variables, "linear")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        power = self._constant(-self.learning_rate_power, dtype)
        accumulator = self._slot(self._accumulators, variable)
        linear = self._slot(self._linears, variable)
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        shrunk = gradient + self._constant(2 * self.l2_shrinkage_regularization_strength,
                                           dtype) * variable
        new_accumulator = accumulator + ew.square(gradient)
        new_power = ew.pow(new_accumulator, power)
        linear.assign_add(shrunk - (new_power - ew.pow(accumulator, power))
                          / learning_rate * variable)
        quadratic = new_power / learning_rate + 2 * l2
        l1 = float(self.l1_regularization_strength)
        variable.assign((ew.clip_by_value(linear, -l1, l1) - linear) / quadratic)
        accumulator.assign(new_accumulator)

    def get_config(self) -> dict:
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
