"""Learning-rate schedules: callables from the optimizer's step count to a learning rate.

>>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> round(float(schedule(10)), 6)
0.05
"""

from __future__ import annotations

import math
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


def _check_decay_steps(name: str, value) -> None:
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}. Pass the "
                         f"number of steps over which the rate decays, e.g. {name}=1000.")


def _initial_rate(value) -> Tensor:
    """The initial learning rate as a tensor: its own float dtype, float32 for an int."""
    initial = as_tensor(value)
    if initial.dtype.name not in ("float16", "float32", "float64"):
        initial = ew.cast(initial, "float32")
    return initial


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to ``boundaries[0]`` (inclusive), ``values[1]`` up to
    ``boundaries[1]``, ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"The length of boundaries should be 1 less than the length of "
                             f"values. Received: boundaries={boundaries} of length "
                             f"{len(boundaries)}, and values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step) -> Tensor:
        step = as_tensor(step)
        boundaries = [ew.cast(as_tensor(b), step.dtype) for b in self.boundaries]
        values = [as_tensor(v) for v in self.values]
        dtype = values[0].dtype
        # A sum of indicator * value over the ranges, as Keras: no data-dependent branch,
        # so a traced step count works.
        result = ew.cast(ew.less_equal(step, boundaries[0]), dtype) * values[0]
        result = result + ew.cast(ew.greater(step, boundaries[-1]), dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            inside = ew.logical_and(ew.greater(step, low), ew.less_equal(step, high))
            result = result + ew.cast(inside, dtype) * ew.cast(value, dtype)
        return result

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, with the step capped
    at ``decay_steps``; with ``cycle=True`` ``decay_steps`` grows to the next multiple
    of itself above the step instead."""

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step) -> Tensor:
        initial = _initial_rate(self.initial_learning_rate)
        dtype = initial.dtype
        end = ew.cast(as_tensor(self.end_learning_rate), dtype)
        step = ew.cast(as_tensor(step), dtype)
        decay_steps = ew.cast(as_tensor(self.decay_steps), dtype)
        if self.cycle:
            multiplier = ew.where(ew.equal(step, 0.0), ew.cast(as_tensor(1.0), dtype),
                                  ew.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = ew.minimum(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * ew.pow(1 - p, ew.cast(as_tensor(self.power), dtype)) + end

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial / (1 + decay_rate * step / decay_steps)`` (the ratio floored with
    ``staircase=True``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step) -> Tensor:
        initial = _initial_rate(self.initial_learning_rate)
        dtype = initial.dtype
        p = ew.cast(as_tensor(step), dtype) / ew.cast(as_tensor(self.decay_steps), dtype)
        if self.staircase:
            p = ew.floor(p)
        return initial / (1 + ew.cast(as_tensor(self.decay_rate), dtype) * p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """A half cosine from the rate down to ``alpha`` times it over ``decay_steps``.

    With ``warmup_target`` the rate first rises linearly from ``initial_learning_rate``
    to ``warmup_target`` over ``warmup_steps``, then decays from ``warmup_target``.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decayed(self, step: Tensor, decay_steps: Tensor, decay_from: Tensor) -> Tensor:
        pi = ew.cast(as_tensor(math.pi), step.dtype)
        cosine = 0.5 * (1.0 + ew.cos(pi * (step / decay_steps)))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> Tensor:
        initial = _initial_rate(self.initial_learning_rate)
        dtype = initial.dtype
        decay_steps = ew.cast(as_tensor(self.decay_steps), dtype)
        step = ew.cast(as_tensor(step), dtype)
        if self.warmup_target is None:
            return self._decayed(ew.minimum(step, decay_steps), decay_steps, initial)
        target = ew.cast(as_tensor(self.warmup_target), dtype)
        warmup_steps = ew.cast(as_tensor(self.warmup_steps), dtype)
        step = ew.minimum(step, decay_steps + warmup_steps)
        # Both phases are computed and one is selected, so a traced step works; the
        # warm-up's divisor is kept nonzero because that phase is never selected when
        # warmup_steps is 0.
        divisor = ew.cast(as_tensor(max(self.warmup_steps, 1)), dtype)
        warming = (target - initial) * (step / divisor) + initial
        decaying = self._decayed(step - warmup_steps, decay_steps, target)
        return ew.where(ew.less(step, warmup_steps), warming, decaying)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay restarted after ``first_decay_steps``, each period ``t_mul`` times
    longer and each restart's rate ``m_mul`` times smaller (SGDR)."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int,
                 t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                 name: str = "SGDRDecay"):
        _check_decay_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step) -> Tensor:
        initial = _initial_rate(self.initial_learning_rate)
        dtype = initial.dtype
        alpha = ew.cast(as_tensor(self.alpha), dtype)
        t_mul = ew.cast(as_tensor(self._t_mul), dtype)
        m_mul = ew.cast(as_tensor(self._m_mul), dtype)
        fraction = (ew.cast(as_tensor(step), dtype)
                    / ew.cast(as_tensor(self.first_decay_steps), dtype))
        if self._t_mul == 1.0:
            restart = ew.floor(fraction)
            fraction = fraction - restart
        else:
            # Periods grow geometrically: restart i begins at (1 - t_mul^i) / (1 - t_mul).
            restart = ew.floor(ew.log(1.0 - fraction * (1.0 - t_mul)) / ew.log(t_mul))
            begun = (1.0 - ew.pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - begun) / ew.pow(t_mul, restart)
        pi = ew.cast(as_tensor(math.pi), dtype)
        cosine = 0.5 * ew.pow(m_mul, restart) * (1.0 + ew.cos(pi * fraction))
        return initial * ((1 - alpha) * cosine + alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = (LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
              InverseTimeDecay, CosineDecay, CosineDecayRestarts)


def serialize(schedule: LearningRateSchedule) -> dict:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> Any:
    classes = {cls.__name__: cls for cls in _SCHEDULES}
    if config.get("class_name") not in classes:
        raise ValueError(f"Unknown learning rate schedule: {config.get('class_name')!r}. "
                         f"Valid names: {', '.join(repr(k) for k in classes)}; pass a config "
                         f"that serialize() wrote.")
    return classes[config["class_name"]].from_config(dict(config.get("config") or {}))
