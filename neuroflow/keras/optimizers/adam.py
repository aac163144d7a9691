"""Adam, with Keras 3's bias-corrected step size and optional AMSGrad."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Adam(Optimizer):
    """Adaptive moment estimation.

    Per step ``t`` (counting from 1): ``m += (g - m) * (1 - beta_1)``,
    ``v += (g^2 - v) * (1 - beta_2)``, and
    ``var -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self._alpha: dict = {}

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def apply(self, grads, trainable_variables=None) -> None:
        self._alpha.clear()  # the step size depends on the step count: once per apply
        super().apply(grads, trainable_variables)

    def _step_size(self, learning_rate: Tensor, dtype) -> Tensor:
        alpha = self._alpha.get(dtype)
        if alpha is None:
            t = ew.cast(self.iterations + 1, dtype)
            beta_1_power = ew.pow(self._constant(self.beta_1, dtype), t)
            beta_2_power = ew.pow(self._constant(self.beta_2, dtype), t)
            alpha = learning_rate * ew.sqrt(1 - beta_2_power) / (1 - beta_1_power)
            self._alpha[dtype] = alpha
        return alpha

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        alpha = self._step_size(learning_rate, dtype)
        m = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        m.assign_add((gradient - m) * self._constant(1 - self.beta_1, dtype))
        v.assign_add((ew.square(gradient) - v) * self._constant(1 - self.beta_2, dtype))
        if self.amsgrad:
            v_hat = self._slot(self._velocity_hats, variable)
            v_hat.assign(ew.maximum(v_hat, v))
            v = v_hat
        variable.assign_sub((m * alpha) / (ew.sqrt(v) + self._constant(self.epsilon, dtype)))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
