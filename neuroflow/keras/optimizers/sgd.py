"""Stochastic gradient descent, with optional (Nesterov) momentum, as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class SGD(Optimizer):
    """Gradient descent: ``var -= lr * g``.

    With ``momentum`` ``m``: ``v = m * v - lr * g; var += v``. With ``nesterov``:
    ``var += m * v - lr * g`` using the updated ``v``.

    >>> import neuroflow as tf
    >>> w = tf.Variable(1.0)
    >>> _ = SGD(learning_rate=0.1).apply_gradients([(tf.constant(2.0), w)])
    >>> round(float(w), 6)
    0.8
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: "
                             f"momentum={momentum}. Typical values are 0.9 or 0.99.")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self.momentums = (self.add_optimizer_variables(variables, "momentum")
                          if self.momentum != 0 else [])

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        if self.momentum == 0:
            variable.assign_sub(gradient * learning_rate)
            return
        m = self._slot(self.momentums, variable)
        momentum = self._constant(self.momentum, variable.dtype)
        step = gradient * learning_rate
        m.assign(m * momentum - step)
        if self.nesterov:
            variable.assign_add(m * momentum - step)
        else:
            variable.assign_add(m)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
