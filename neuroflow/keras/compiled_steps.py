"""Keras steps on compiled code: the one place where the trainer meets graph mode.

A model's train, test and predict steps are ``tf.function``s whose input
signature leaves the batch size unknown, shared by every array of a batch (one
:class:`~neuroflow.abstract.Dim`): each step is traced once per model and
compile, and the last, smaller batch of an epoch runs the same trace (a plan
for its size is compiled, without running Python again).

Two fast paths, each for one measured reason, both entering compiled code
through ``ConcreteFunction.runner`` (``run_arrays`` for given shapes: errors still
name the op and the user's line):

* :class:`ArraySteps`: plain NumPy batches go straight to the compiled step, with
  no conversion to tensors or argument matching per step (1,719 steps an epoch
  in the reference lab; matching costs more than the step's elementwise work).
* :meth:`StepFunctions.predict_small`: ``predict`` on one batch without callbacks
  or progress bar calls the compiled forward pass with the array itself, so the
  latency of predicting one sample stays within 1.5x of a bare NumPy forward pass.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import Dim
from neuroflow.graph import TensorSpec, function
from neuroflow.tensor import Tensor
from neuroflow.util import nest


def batch_signature(batch: tuple) -> tuple[list, tuple]:
    """TensorSpecs for a batch's arrays, sharing one unknown batch size, and a key that
    tells batches needing another signature (other nesting, dtypes or inner sizes)."""
    batch_size = Dim.fresh("batch")

    def spec(leaf):
        array = leaf._value if isinstance(leaf, Tensor) else np.asarray(leaf)
        if array.ndim == 0:
            return TensorSpec((), array.dtype)
        return TensorSpec((batch_size, *array.shape[1:]), array.dtype)

    specs = [nest.map_structure(spec, part) for part in batch]
    key = tuple(nest.flatten(nest.map_structure(
        lambda s: (s.dtype.name, s.shape[1:]), specs)))
    return specs, (_skeleton(batch), key)


def _skeleton(batch) -> str:
    return repr(nest.map_structure(lambda _: None, list(batch)))


class StepFunctions:
    """A model's compiled steps: ``step(name)`` is ``tf.function(getattr(model, name))``
    with a batch signature, made on the first batch and kept until the next compile."""

    def __init__(self, model):
        self._model = model
        self._functions: dict[tuple, object] = {}
        # (shape, dtype, the compiled forward for them) of the last predict_small
        self._predict_code = None

    def function_for(self, name: str, batch: tuple):
        """The compiled step ``name`` for batches like ``batch`` (a tuple without Nones)."""
        specs, key = batch_signature(batch)
        compiled = self._functions.get((name, key))
        if compiled is None:
            # The trace sees an unknown batch size: check the concrete inputs first, so a
            # shape mistake is reported with the sizes the user gave.
            check = getattr(self._model, "_check_input_shape", None)
            if check is not None and hasattr(batch[0], "shape"):
                check(batch[0])
            eager = getattr(self._model, name)
            if name == "_predict_batch":
                def step(x):
                    return eager(x)
            else:
                def step(*parts):  # (x, y) or (x, y, sample_weight)
                    return eager(tuple(parts) + (None,) * (3 - len(parts)))
            compiled = function(step, input_signature=specs,
                                name=f"{self._model.name}{name}")
            self._functions[(name, key)] = compiled
        return compiled

    def run(self, name: str, batch: tuple):
        """Run the step on a batch of tensors or arrays (trailing Nones dropped)."""
        parts = _without_trailing_nones(batch)
        return self.function_for(name, parts)(*parts)

    def array_steps(self, name: str, array_batches) -> ArraySteps:
        return ArraySteps(self, name, array_batches)

    def predict_small(self, x: np.ndarray) -> np.ndarray:
        cached = self._predict_code
        if cached is None or cached[0] != x.shape or cached[1] != x.dtype:
            compiled = self.function_for("_predict_batch", (x,))
            run = compiled.get_concrete_function(Tensor(x)).runner([x])
            self._predict_code = cached = (x.shape, x.dtype, run)
        return cached[2]([x])[0]

    def tracing_count(self) -> int:
        return sum(f.experimental_get_tracing_count() for f in self._functions.values())


class ArraySteps:
    """Batches of plain arrays run through a compiled step's ``runner`` for their shapes."""

    def __init__(self, steps: StepFunctions, name: str, array_batches):
        self._steps = steps
        self._name = name
        self._array_batches = array_batches
        self._runner = None
        # The shapes the runner takes. Dtypes are not compared per step: one epoch's
        # batches all have the dtypes of its first, which get_concrete_function checked.
        self._key = None

    def __iter__(self):
        return iter(self._array_batches)

    def run(self, batch) -> None:
        arrays = _without_trailing_nones(batch)
        key = [a.shape for a in arrays]
        if key != self._key:  # the first batch, and the last, smaller one, of an epoch
            compiled = self._steps.function_for(self._name, arrays)
            concrete = compiled.get_concrete_function(*(Tensor(a) for a in arrays))
            self._runner, self._key = concrete.runner(arrays), key
        self._runner(arrays)


def _without_trailing_nones(batch) -> tuple:
    parts = tuple(batch)
    while parts and parts[-1] is None:
        parts = parts[:-1]
    return parts
