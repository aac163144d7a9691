"""Learning-rate schedules: callables from the optimizer's step count to a learning rate.

>>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(float(schedule(10)), 6)
0.05
"""

from __future__ import annotations

from typing import Any

from neuroflow.ops import elementwise as ew
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate``; subclasses implement both methods."""

    def __call__(self, step) -> Tensor:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  f"override `__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  f"override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is floored, so the rate drops in steps.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: "
                             f"decay_steps={decay_steps}. Pass the number of steps over which "
                             f"the rate decays by decay_rate, e.g. decay_steps=1000.")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step) -> Tensor:
        initial = as_tensor(self.initial_learning_rate)
        if initial.dtype.name not in ("float16", "float32", "float64"):
            initial = ew.cast(initial, "float32")
        dtype = initial.dtype
        p = ew.cast(as_tensor(step), dtype) / ew.cast(as_tensor(self.decay_steps), dtype)
        if self.staircase:
            p = ew.floor(p)
        return initial * ew.pow(ew.cast(as_tensor(self.decay_rate), dtype), p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def serialize(schedule: LearningRateSchedule) -> dict:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> Any:
    classes = {"LearningRateSchedule": LearningRateSchedule, "ExponentialDecay": ExponentialDecay}
    if config.get("class_name") not in classes:
        raise ValueError(f"Unknown learning rate schedule: {config.get('class_name')!r}. "
                         f"Valid names: {', '.join(repr(k) for k in classes)}; pass a config "
                         f"that serialize() wrote.")
    return classes[config["class_name"]].from_config(dict(config.get("config") or {}))
