"""Nadam: Adam with Nesterov momentum and Keras 3's momentum schedule."""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.ops import elementwise as ew
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Nadam(Optimizer):
    """Per step ``t`` (from 1), with ``u_t = beta_1 * (1 - 0.5 * 0.96^t)`` and
    ``U_t = u_1 * ... * u_t`` (kept in a variable, as Keras does):
    ``m += (g - m) * (1 - beta_1)``, ``v += (g^2 - v) * (1 - beta_2)``,
    ``m_hat = u_{t+1} * m / (1 - U_t * u_{t+1}) + (1 - u_t) * g / (1 - U_t)``,
    ``v_hat = v / (1 - beta_2^t)``, ``var -= lr * m_hat / (sqrt(v_hat) + epsilon)``.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self._u_product_now: Tensor | None = None

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        dtype = variables[0].dtype.np if variables else np.float32
        self._u_product = self.add_variable((), initializer="ones", dtype=dtype,
                                            name="u_product")

    def apply(self, grads, trainable_variables=None) -> None:
        # U_t advances once per step, before any variable is updated: the first
        # update_step of this apply does it, after build has created the variable.
        self._u_product_now = None
        super().apply(grads, trainable_variables)

    def _advance_u_product(self) -> Tensor:
        if self._u_product_now is None:
            dtype = self._u_product.dtype
            t = ew.cast(self.iterations + 1, dtype)
            u_t = self._constant(self.beta_1, dtype) * (
                1.0 - 0.5 * ew.pow(self._constant(0.96, dtype), t))
            self._u_product.assign(self._u_product * u_t)
            self._u_product_now = self._u_product.read_value()
        return self._u_product_now

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        dtype = variable.dtype
        u_product = ew.cast(self._advance_u_product(), dtype)
        local_step = ew.cast(self.iterations + 1, dtype)
        next_step = ew.cast(self.iterations + 2, dtype)
        decay = self._constant(0.96, dtype)
        beta_1 = self._constant(self.beta_1, dtype)
        beta_2 = self._constant(self.beta_2, dtype)
        u_t = beta_1 * (1.0 - 0.5 * ew.pow(decay, local_step))
        u_t_1 = beta_1 * (1.0 - 0.5 * ew.pow(decay, next_step))
        u_product_next = u_product * u_t_1
        beta_2_power = ew.pow(beta_2, local_step)
        m = self._slot(self._momentums, variable)
        v = self._slot(self._velocities, variable)
        m.assign_add((gradient - m) * self._constant(1 - self.beta_1, dtype))
        v.assign_add((ew.square(gradient) - v) * self._constant(1 - self.beta_2, dtype))
        m_hat = u_t_1 * m / (1 - u_product_next) + (1 - u_t) * gradient / (1 - u_product)
        v_hat = v / (1 - beta_2_power)
        variable.assign_sub(m_hat * learning_rate
                            / (ew.sqrt(v_hat) + self._constant(self.epsilon, dtype)))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
