"""AdamW: Adam with decoupled weight decay, as Keras 3."""

from __future__ import annotations

from typing import Any

from neuroflow.keras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam whose weights also decay by ``var -= var * weight_decay * lr`` before each step.

    The decay is the base optimizer's decoupled weight decay; AdamW only makes it
    mandatory, with Keras 3's default of 0.004.
    """

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
