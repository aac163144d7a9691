"""GradientTape: reverse-mode automatic differentiation over recorded ops.

While a tape is active, every primitive whose inputs it watches is appended to
``tape.entries`` (see :func:`neuroflow.ops.registry.apply`). Entries are
appended in execution order, so walking them backwards is a topological order:
the backward pass is one deterministic loop, with no recursion and no sets.

Gradient rules are written in neuroflow ops, so when an outer tape watches
the tensors involved, it records the backward computation too, and
differentiating again gives higher-order derivatives.
"""

from __future__ import annotations

import enum
import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np

from neuroflow.abstract import dims_equal, is_abstract, is_known
from neuroflow.backend import device_of
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.broadcasting import sum_to
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import recording
from neuroflow.tensor import Tensor
from neuroflow.util import nest


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for a source that does not affect the target."""

    NONE = "none"
    ZERO = "zero"


def _is_variable(value: Any) -> bool:
    return hasattr(value, "_read_for_op")


class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape``.

    >>> import neuroflow as tf
    >>> x = tf.Variable(3.0)
    >>> with tf.GradientTape() as tape:
    ...     y = x * x
    >>> float(tape.gradient(y, x))
    6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self.recording = False
        # id -> object for everything whose gradient this tape can compute. Holding
        # the objects keeps their ids unique for the tape's lifetime.
        self.watched: dict[int, Any] = {}
        self.entries: list = []
        self._variables: dict[int, Any] = {}
        self._used = False
        self._active = False

    # --- context -------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        if self._active:
            raise ValueError("This GradientTape is already active (recording): a tape cannot "
                             "be entered twice. Nest a new tape instead, e.g. `with "
                             "tf.GradientTape() as inner:`.")
        self._active = True
        self.recording = True
        recording.push_tape(self)
        return self

    def __exit__(self, *exc_info) -> None:
        self.recording = False
        self._active = False
        recording.remove_tape(self)

    @contextmanager
    def stop_recording(self):
        """Temporarily stop recording operations on this tape."""
        if not self._active:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        previous, self.recording = self.recording, False
        try:
            yield
        finally:
            self.recording = previous

    def reset(self) -> None:
        """Forget everything recorded so far (the tape stays active)."""
        self.watched.clear()
        self.entries.clear()
        self._variables.clear()
        self._used = False
        self.recording = self._active

    # --- watching --------------------------------------------------------------------
    def watch(self, tensor) -> None:
        """Watch a tensor, a variable, or a nested structure of them."""
        for item in nest.flatten(tensor):
            if _is_variable(item):
                self.watch_variable(item)
                continue
            if not isinstance(item, Tensor):
                raise ValueError(f"watch expects tensors or variables, received "
                                 f"{type(item).__name__}: {item!r}.")
            if item._value.dtype.kind not in "fc":
                warnings.warn(f"The dtype of the watched tensor must be floating (e.g. "
                              f"tf.float32), got {item.dtype!r}; it will get no gradient.",
                              stacklevel=2)
                continue
            self.watched[id(item)] = item

    def watch_variable(self, variable) -> None:
        # Integer variables are listed as watched (as in TF) but get no gradient.
        self._variables[id(variable)] = variable
        if variable._value.dtype.kind in "fc":
            self.watched[id(variable)] = variable

    def watched_variables(self) -> tuple:
        """The variables this tape watches, in the order it first saw them."""
        return tuple(self._variables.values())

    # --- differentiation ---------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of target)/d(sources), with the structure of ``sources``.

        ``output_gradients`` weights each target (the vector in a vector-Jacobian
        product). Sources that do not affect the target give None, or zeros with
        ``unconnected_gradients='zero'``.
        """
        self._check_usable("gradient")
        zero = _zero_mode(unconnected_gradients)
        targets = [t if _is_variable(t) else as_tensor(t) for t in nest.flatten(target)]
        seeds = _seeds(target, targets, output_gradients)
        flat_sources = _check_sources(sources)
        grads = self._backward(targets, seeds, flat_sources)
        if zero:
            grads = [g if g is not None else _zeros_like(s) for g, s in zip(grads, flat_sources)]
        if not self.persistent:
            self._release()
        return nest.pack_sequence_as(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """Full Jacobian: for each source, shape ``target.shape + source.shape``."""
        self._check_usable("jacobian")
        zero = _zero_mode(unconnected_gradients)
        target = as_tensor(target)
        flat_sources = _check_sources(sources)
        count = target._value.size
        rows: list[list] = [[] for _ in flat_sources]
        for index in range(count):
            seed = np.zeros(count, dtype=target._value.dtype)
            seed[index] = 1
            seed_tensor = _beside(seed.reshape(target._value.shape), target)
            for row, grad in zip(rows, self._backward([target], [seed_tensor], flat_sources)):
                row.append(grad)
        result = []
        for source, row in zip(flat_sources, rows):
            shape = list(target._value.shape) + list(source._value.shape)
            if all(g is None for g in row):
                result.append(_zeros(shape, source) if zero else None)
                continue
            row = [g if g is not None else _zeros_like(source) for g in row]
            stacked = so.stack(row) if row else _zeros(shape, source)
            result.append(so.reshape(stacked, shape))
        if not self.persistent:
            self._release()
        return nest.pack_sequence_as(sources, result)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobian: shape ``[batch] + target.shape[1:] + source.shape[1:]``.

        Assumes, as TensorFlow does, that example i of the target depends only on
        example i of the source.
        """
        self._check_usable("batch_jacobian")
        zero = _zero_mode(unconnected_gradients)
        target = as_tensor(target)
        (source,) = _check_sources([source])
        tshape, sshape = target._value.shape, source._value.shape
        if not tshape or not sshape or tshape[0] != sshape[0]:
            raise ValueError(f"batch_jacobian needs target and source with the same first "
                             f"(batch) dimension, received {tshape} and {sshape}.")
        batch, per_example = tshape[0], int(np.prod(tshape[1:], dtype=np.int64))
        columns, connected = [], False
        for index in range(per_example):
            seed = np.zeros((batch, per_example), dtype=target._value.dtype)
            seed[:, index] = 1
            (grad,) = self._backward([target], [_beside(seed.reshape(tshape), target)], [source])
            connected = connected or grad is not None
            columns.append(_zeros_like(source) if grad is None else grad)
        if not self.persistent:
            self._release()
        shape = list(tshape) + list(sshape[1:])
        if not connected:
            return _zeros(shape, source) if zero else None
        stacked = so.stack(columns, axis=1) if columns else _zeros((batch, 0), source)
        return so.reshape(stacked, shape)

    # --- the backward walk -----------------------------------------------------------------
    def _release(self) -> None:
        """A used non-persistent tape frees what it recorded and records no more (as TF)."""
        self.entries = []
        self.watched = {}
        self.recording = False

    def _check_usable(self, what: str) -> None:
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians). Create the tape with "
                "tf.GradientTape(persistent=True) to call gradient() more than once.")
        self._used = True

    def _backward(self, targets: list, seeds: list, sources: list) -> list:
        source_ids = {id(s) for s in sources}
        grads: dict[int, Tensor] = {}
        for target, seed in zip(targets, seeds):
            value = target._value
            if value.dtype.kind not in "fc":
                continue  # integer targets carry no gradient
            if seed is None:
                seed = _filled(1, value.shape, target)
            _accumulate(grads, id(target), seed)
        # Recording the backward pass is what higher-order gradients need; a
        # non-persistent tape is finished, so only outer tapes record it.
        previous = self.recording
        self.recording = self.recording and self.persistent
        try:
            for entry in reversed(list(self.entries)):
                g = _output_gradient(grads, entry.output_id, source_ids)
                if g is None:
                    continue
                input_grads = entry.primitive.vjp(entry, g)
                for input_id, shape, grad in zip(entry.input_ids, entry.input_shapes,
                                                 input_grads):
                    if input_id is None or grad is None:
                        continue
                    if not _same_shape(grad._value.shape, shape):
                        grad = unbroadcast(grad, shape)
                    _accumulate(grads, input_id, grad)
        finally:
            self.recording = previous
        return [grads.get(id(s)) for s in sources]


def _output_gradient(grads: dict, output_id, source_ids: set):
    """The gradient reaching an entry's result, taken out of ``grads`` (kept for sources);
    for a primitive with several results, a tuple (None for results nothing reached), or
    None when none was reached."""
    ids = output_id if type(output_id) is tuple else (output_id,)
    found = tuple(grads.get(i) for i in ids)
    if all(g is None for g in found):
        return None
    for i in ids:
        if i not in source_ids:
            grads.pop(i, None)
    return found if type(output_id) is tuple else found[0]


def unbroadcast(grad: Tensor, shape: tuple) -> Tensor:
    """Sum ``grad`` back down to ``shape``: the one place broadcasting is undone.

    In a trace, an input axis of unknown size that the gradient's axis may not equal
    may or may not have been broadcast (its size 1): ``sum_to`` then decides when the
    graph runs. Every other axis is decided here.
    """
    gshape = grad._value.shape
    lead = len(gshape) - len(shape)
    if any(not is_known(d) and not dims_equal(d, gshape[lead + i]) for i, d in enumerate(shape)):
        return sum_to(grad, shape=tuple(shape))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape)
        if is_known(d) and d == 1 and not dims_equal(gshape[lead + i], 1))
    if axes:
        grad = red.reduce_sum(grad, axis=axes, keepdims=False)
    return grad if _same_shape(grad._value.shape, shape) else so.reshape(grad, shape)


def _same_shape(a: tuple, b: tuple) -> bool:
    """Whether two shapes are certainly the same (unknown sizes compare as themselves)."""
    return len(a) == len(b) and all(dims_equal(x, y) for x, y in zip(a, b))


def _accumulate(grads: dict, key: int, grad: Tensor) -> None:
    existing = grads.get(key)
    grads[key] = grad if existing is None else ew.add(existing, grad)


def _beside(array: np.ndarray, like) -> Tensor:
    """A tensor of the host ``array`` on the device of the tensor or variable ``like``."""
    if type(like._value) is not np.ndarray:
        array = device_of(like._value).asarray(array)
    return Tensor(array)


def _filled(number, shape: tuple, like) -> Tensor:
    """``number`` in ``shape`` with ``like``'s dtype and device (a broadcast if traced)."""
    if all(is_known(d) for d in shape) and not is_abstract(like._value):
        return _beside(np.full(shape, number, dtype=like._value.dtype), like)
    return so.broadcast_to(Tensor(np.asarray(number, dtype=like._value.dtype)), shape)


def _zeros_like(source) -> Tensor:
    return _filled(0, source._value.shape, source)


def _zeros(shape, source) -> Tensor:
    return _filled(0, tuple(shape), source)


def _zero_mode(unconnected_gradients) -> bool:
    """True for ``'zero'`` / UnconnectedGradients.ZERO, False for ``'none'``."""
    try:
        mode = UnconnectedGradients(getattr(unconnected_gradients, "value",
                                            unconnected_gradients))
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: "
                         f"{unconnected_gradients!r}. Expected 'none' or 'zero'.") from None
    return mode is UnconnectedGradients.ZERO


def _check_sources(sources) -> list:
    flat = nest.flatten(sources)
    for source in flat:
        if not (isinstance(source, Tensor) or _is_variable(source)):
            raise ValueError(f"gradient sources must be tensors or variables, received "
                             f"{type(source).__name__}: {source!r}.")
    return flat


def _seeds(target, targets: list, output_gradients) -> list:
    """One seed per flat target: ones (None) or the matching ``output_gradients`` entry."""
    if output_gradients is None:
        return [None] * len(targets)
    # The structure follows the target's: for a single target, a list is one tensor.
    flat = nest.flatten(output_gradients) if nest.is_nested(target) else [output_gradients]
    if len(flat) != len(targets):
        raise ValueError(f"output_gradients has {len(flat)} entries but target has "
                         f"{len(targets)}; they must match. Pass one gradient per target, in "
                         f"the target's structure (None for a gradient of ones).")
    seeds = []
    for index, (t, g) in enumerate(zip(targets, flat)):
        if g is not None:
            g = as_tensor(g, dtype=t.dtype) if not isinstance(g, Tensor) else g
            if g._value.shape != t._value.shape:
                raise ValueError(f"output_gradients[{index}] has shape {g.shape} but its "
                                 f"target has shape {t.shape}; they must match.")
        seeds.append(g)
    return seeds
