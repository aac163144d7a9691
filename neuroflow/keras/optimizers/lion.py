"""Lion: a sign-of-momentum update, as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Lion(Optimizer):
    """``var -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then
    ``m = beta_2 * m + (1 - beta_2) * g``.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        beta_1 = self._constant(self.beta_1, dtype)
        beta_2 = self._constant(self.beta_2, dtype)
        m = self._slot(self._momentums, variable)
        direction = ew.sign(m * beta_1 + gradient * self._constant(1.0 - self.beta_1, dtype))
        variable.assign_sub(learning_rate * direction)
        m.assign(m * beta_2 + gradient * self._constant(1.0 - self.beta_2, dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
