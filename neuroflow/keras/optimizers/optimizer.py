"""The Keras 3 optimizer base class: gradient filtering, clipping, weight decay and bookkeeping.

A subclass declares its slot variables in ``build`` and its update rule in
``update_step(gradient, variable, learning_rate)``. Updates are written with
``Variable.assign*`` and neuroflow ops, so the same code runs eagerly and
inside a traced training step.

The hot path is :meth:`Optimizer.apply`, run once per batch: per variable it
does the update rule's ops and nothing else. The learning rate is read once per
call, and Python numbers used by the rules are turned into tensors once.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from neuroflow.distribute.strategy import sum_gradients_over_replicas
from neuroflow.keras.optimizers.schedules import LearningRateSchedule
from neuroflow.keras.optimizers.schedules import deserialize as deserialize_schedule
from neuroflow.keras.optimizers.schedules import serialize as serialize_schedule
from neuroflow.keras.utils.naming import to_snake_case
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import init_scope
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable

_name_counts: dict[str, itertools.count] = defaultdict(itertools.count)


def _unique_name(base: str) -> str:
    """``adam``, then ``adam_1``, ``adam_2``... as Keras names optimizers."""
    n = next(_name_counts[base])
    return base if n == 0 else f"{base}_{n}"


def _check_learning_rate(value: Any) -> float:
    # Keras 3 accepts only Python floats here; any real number is accepted, as TF 2 did.
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"Argument `learning_rate` should be float, or an instance of "
                         f"LearningRateSchedule, or a callable (that takes in the current "
                         f"iteration value and returns the corresponding learning rate value). "
                         f"Received instead: learning_rate={value!r}")
    return float(value)


class Optimizer:
    """Base class of Keras optimizers.

    Args:
        learning_rate: a float, a ``LearningRateSchedule``, or a zero-argument callable.
        weight_decay: if set, each step first does ``var -= var * weight_decay * lr``
            (decoupled decay, as Keras 3).
        clipnorm / clipvalue / global_clipnorm: clip each gradient's norm, each
            gradient's values, or all gradients' joint norm (at most one of them).
        loss_scale_factor: gradients are divided by it before the update.
    """

    def __init__(self, learning_rate: Any, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}. Check the spelling "
                             f"against the optimizer's documented arguments.")
        if use_ema or gradient_accumulation_steps:
            raise NotImplementedError(f"use_ema and gradient_accumulation_steps are not "
                                      f"supported yet; received use_ema={use_ema}, "
                                      f"gradient_accumulation_steps="
                                      f"{gradient_accumulation_steps}. Leave them at their "
                                      f"defaults.")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name or _unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables: list[Variable] = []
        self._trainable_variables: list[Variable] = []
        self._index: dict[int, int] = {}
        # Each add_optimizer_variables call's slots, by name, in the order of
        # `_trainable_variables`: saving reorders them into Keras 3's file layout.
        self._slots_by_name: dict[str, list[Variable]] = {}
        self._constants: dict[tuple, Tensor] = {}
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None
        self._iterations = self._track(Variable(np.int64(0), trainable=False, name="iteration"))
        self._one = Tensor(np.ones((), dtype=np.int64))
        self._learning_rate: Any = None
        self.learning_rate = learning_rate

    # --- state --------------------------------------------------------------------------------
    def _track(self, variable: Variable) -> Variable:
        self._variables.append(variable)
        return variable

    @property
    def iterations(self) -> Variable:
        """How many times :meth:`apply` has run (an int64 variable)."""
        return self._iterations

    @property
    def variables(self) -> list[Variable]:
        """The optimizer's own variables: iteration count, learning rate, slots."""
        return list(self._variables)

    def build(self, variables: Sequence[Variable]) -> None:
        """Remember the variables this optimizer updates; subclasses add their slots."""
        self._trainable_variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self.built = True

    def add_variable(self, shape, initializer: str = "zeros", dtype=None,
                     name: str | None = None) -> Variable:
        """A new non-trainable optimizer variable (``"zeros"``/``"ones"``, or a number)."""
        dtype = np.dtype("float32" if dtype is None else getattr(dtype, "np", dtype))
        fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
        value = np.full(tuple(shape), fill, dtype=dtype)
        return self._track(Variable(value, trainable=False, name=name or "variable"))

    def add_variable_from_reference(self, reference: Variable, name: str | None = None,
                                    initializer: Any = "zeros") -> Variable:
        """A slot shaped like ``reference``, named ``<reference>_<name>`` (as Keras)."""
        base = getattr(reference, "path", None) or reference.name
        label = re.sub(r"[/:]", "_", str(base))
        return self.add_variable(reference.shape.as_list(), initializer=initializer,
                                 dtype=reference.dtype.np, name=f"{label}_{name or 'var'}")

    def add_optimizer_variables(self, variables: Sequence[Variable], name: str,
                                initializer: Any = "zeros") -> list[Variable]:
        """One slot per variable, in the order of ``variables``; kept in ``_slots_by_name``."""
        slots = [self.add_variable_from_reference(v, name, initializer) for v in variables]
        self._slots_by_name[name] = slots
        return slots

    def _slot(self, slots: list[Variable], variable: Variable) -> Variable:
        return slots[self._index[id(variable)]]

    def _constant(self, value: float, dtype) -> Tensor:
        """A cached scalar tensor, so update rules do not convert Python numbers every step."""
        key = (value, dtype)
        tensor = self._constants.get(key)
        if tensor is None:
            tensor = self._constants[key] = Tensor(np.asarray(value, dtype=dtype.np))
        return tensor

    # --- learning rate ---------------------------------------------------------------------------
    @property
    def learning_rate(self) -> Any:
        """The current learning rate: a variable, or the schedule's value at this step."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr
        return lr() if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, LearningRateSchedule) or (callable(value)
                                                       and not isinstance(value, Variable)):
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as "
                            "its `learning_rate` constructor argument, hence its learning rate "
                            "is not settable. If you need the learning rate to be settable, you "
                            "should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        value = float(value.numpy()) if hasattr(value, "numpy") else _check_learning_rate(value)
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(np.float32(value))
        else:
            self._learning_rate = self._track(
                Variable(np.float32(value), trainable=False, name="learning_rate"))

    def _learning_rate_tensor(self) -> Tensor:
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return lr.read_value()
        value = lr(self._iterations) if isinstance(lr, LearningRateSchedule) else lr()
        if isinstance(value, Tensor):
            return value
        if hasattr(value, "read_value"):
            return value.read_value()
        return Tensor(np.asarray(value, dtype=np.float32))

    # --- applying gradients ----------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> Variable:
        """Update each variable with its gradient; pairs whose gradient is None are skipped.

        Inside ``strategy.run`` of a strategy with several replicas, the gradients are
        first summed over the replicas (scale the loss by the global batch, as
        ``tf.nn.compute_average_loss`` does, so that the sum is the mean's gradient).
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Variable] | None = None
              ) -> None:
        """Update ``trainable_variables`` (default: those it was built with) with ``grads``."""
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(f"Received a list of {len(grads)} gradients, but the optimizer "
                                 f"is tracking {len(self._trainable_variables)} trainable "
                                 f"variables. Pass one gradient per variable, or pass the "
                                 f"variables too: apply(grads, variables).")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                with init_scope():  # slots are created eagerly, even on a traced first step
                    self.build(trainable_variables)
            self._check_known(trainable_variables)
        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        grads = self._clip_gradients(grads)
        # In strategy.run, the replicas' gradients are summed here, after clipping, as
        # Keras's optimizers do on TensorFlow (fit sums them before, outside any replica
        # context, so never twice).
        grads = sum_gradients_over_replicas(grads)
        learning_rate = self._learning_rate_tensor()
        self._apply_weight_decay(trainable_variables, learning_rate)
        # DTypes are interned, so `is` is a cheap test; cast() is a no-op on a match anyway.
        lr_dtype = learning_rate.dtype
        cast_lr: dict = {}
        for grad, variable in zip(grads, trainable_variables):
            dtype = variable.dtype
            lr = learning_rate
            if dtype is not lr_dtype:
                lr = cast_lr.get(dtype.name)
                if lr is None:
                    lr = cast_lr[dtype.name] = ew.cast(learning_rate, dtype)
            if grad.dtype is not dtype:
                grad = ew.cast(grad, dtype)
            self.update_step(grad, variable, lr)
        self._iterations.assign_add(self._one)

    def update_step(self, gradient: Tensor, variable: Variable, learning_rate: Tensor) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_step(gradient, "
                                  f"variable, learning_rate): an Optimizer subclass defines "
                                  f"how it updates a variable.")

    def _check_known(self, variables: Sequence[Variable]) -> None:
        index = self._index
        for v in variables:
            if id(v) not in index:
                raise ValueError(f"Unknown variable: {v!r}. This optimizer can only be called "
                                 f"for the variables it was originally built with. When working "
                                 f"with a new set of variables, you should recreate a new "
                                 f"optimizer instance.")

    @staticmethod
    def _filter_empty_gradients(grads, variables) -> tuple[list, list]:
        kept_grads, kept_variables, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(v.name)
            else:
                kept_grads.append(as_tensor(g))
                kept_variables.append(v)
        if not kept_grads:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          f"loss. If using `model.compile()`, did you forget to provide a "
                          f"`loss` argument?", stacklevel=3)
        return kept_grads, kept_variables

    def _clip_gradients(self, grads: list[Tensor]) -> list[Tensor]:
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = float(self.clipvalue)
            return [ew.clip_by_value(g, -v, v) for g in grads]
        return grads

    def _clip_by_norm(self, g: Tensor) -> Tensor:
        """``g * clipnorm / max(norm(g), clipnorm)``, as ``tf.clip_by_norm``."""
        norm = ew.sqrt(red.reduce_sum(ew.square(g)))
        return g * float(self.clipnorm) / ew.maximum(norm, float(self.clipnorm))

    # --- weight decay ----------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list: Sequence[Variable] | None = None,
                                  var_names: Sequence[str] | None = None) -> None:
        """Skip weight decay for these variables, or for names containing any of ``var_names``."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built, and this one already is. Call it right after "
                             "creating the optimizer, before the first training step.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable: Variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or pattern.search(variable.name) is None

    def _apply_weight_decay(self, variables: Sequence[Variable], learning_rate: Tensor) -> None:
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                dtype = variable.dtype
                lr = ew.cast(learning_rate, dtype)
                wd = self._constant(self.weight_decay, dtype)
                variable.assign(variable - variable * wd * lr)

    # --- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            learning_rate: Any = serialize_schedule(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.numpy())
        else:
            learning_rate = lr
        return {"name": self.name, "learning_rate": learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def global_norm(values: Sequence[Tensor]) -> Tensor:
    """``sqrt(sum of squares of every element of every tensor)``."""
    squares = [red.reduce_sum(ew.square(v)) for v in values if v is not None]
    return ew.sqrt(red.reduce_sum(so.stack(squares)))


def clip_by_global_norm(values: Sequence[Tensor], clip_norm: float) -> list[Tensor]:
    """Scale all tensors by ``clip_norm / max(global_norm, clip_norm)`` (Keras' formula)."""
    norm = global_norm(values)
    scale = ew.minimum(1.0 / norm, 1.0 / float(clip_norm)) * float(clip_norm)
    scale = scale + (norm - norm)  # a non-finite norm makes every gradient NaN, as in Keras
    return [v * scale if v is not None else v for v in values]
