"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Each takes a list of tensors (two or more; Subtract and Dot exactly two), as in Keras 3.
The elementwise merges broadcast as NumPy does, so ``(None, 1)`` merges with
``(None, 5)``. The lowercase functions (``layers.add([a, b])``) make the layer and call it.
"""

from __future__ import annotations

import functools

from neuroflow.keras.layers.base import Layer
from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg, reductions, shape_ops


class _Merge(Layer):
    exactly: int | None = None
    supports_masking = True  # the output keeps the positions every input keeps

    def _output_mask(self, masks: list):
        present = [m for m in masks if m is not None]
        return functools.reduce(ew.logical_and, present) if present else None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def _check(self, inputs) -> list:
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer ({kind} {self.name!r}) should be called on a list "
                             f"of inputs. Received: inputs={inputs!r} (not a list of tensors)")
        if self.exactly is not None and len(inputs) != self.exactly:
            raise ValueError(f"A `{kind}` layer should be called on exactly "
                             f"{self.exactly} inputs. Received: inputs={len(inputs)}")
        if len(inputs) < 2:
            raise ValueError(f"A merge layer ({kind} {self.name!r}) should be called on a list "
                             f"of at least 2 inputs. Got {len(inputs)} inputs.")
        return list(inputs)

    def call(self, inputs):
        # Subclasses give _merge(a, b), folded over the inputs, or their own call.
        inputs = self._check(inputs)
        return functools.reduce(self._merge, inputs[1:], inputs[0])


class Add(_Merge):
    """The elementwise sum of the inputs."""

    def _merge(self, a, b):
        return ew.add(a, b)


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``."""

    exactly = 2

    def _merge(self, a, b):
        return ew.subtract(a, b)


class Multiply(_Merge):
    """The elementwise product of the inputs."""

    def _merge(self, a, b):
        return ew.multiply(a, b)


class Maximum(_Merge):
    def _merge(self, a, b):
        return ew.maximum(a, b)


class Minimum(_Merge):
    def _merge(self, a, b):
        return ew.minimum(a, b)


class Average(_Merge):
    """The elementwise mean of the inputs."""

    def call(self, inputs):
        inputs = self._check(inputs)
        total = functools.reduce(ew.add, inputs[1:], inputs[0])
        return total / len(inputs)


class Concatenate(_Merge):
    """The inputs joined along ``axis`` (the last by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def _output_mask(self, masks: list):
        # Keras 3: along the features, a position is kept if any input keeps it (an input
        # without a mask keeps all). Along other axes the masks would be joined: not done.
        if self.axis != -1 or any(m is None for m in masks):
            return None
        return functools.reduce(ew.logical_or, masks)

    def call(self, inputs):
        inputs = self._check(inputs)
        shapes = [tuple(t.shape) for t in inputs]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        for shape in shapes[1:]:
            if len(shape) != rank or any(
                    a is not None and b is not None and a != b
                    for i, (a, b) in enumerate(zip(shape, shapes[0])) if i != axis):
                raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes "
                                 f"except for the concatenation axis. Received: "
                                 f"input_shape={shapes}")
        return shape_ops.concat(inputs, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """The dot product of two tensors along ``axes`` (optionally of L2-normalized inputs)."""

    exactly = 2
    supports_masking = False  # Keras 3 gives its output no mask

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        elif not (isinstance(axes, (list, tuple)) and len(axes) == 2
                  and all(isinstance(a, int) for a in axes)):
            raise TypeError(f"Invalid type/value for `axes` argument. Expected an integer or "
                            f"a list/tuple of 2 integers. Received: axes={axes!r}")
        self.axes = tuple(axes)
        self.normalize = bool(normalize)

    def call(self, inputs):
        a, b = self._check(inputs)
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"Dot {self.name!r} needs inputs of rank >= 2 (a batch of "
                             f"vectors or more); received shapes {tuple(a.shape)} and "
                             f"{tuple(b.shape)}.")
        axes = [ax % t.ndim for ax, t in zip(self.axes, (a, b))]
        if 0 in axes:
            raise ValueError("Dot cannot take its product along the batch axis (0).")
        if self.normalize:
            a, b = _l2_normalized(a, axes[0]), _l2_normalized(b, axes[1])
        # One einsum: the batch letter shared, the contracted axes sharing a letter.
        letters = iter("cdefghijklmnopqrstuvwxyz")
        spec_a = ["b"] + [next(letters) for _ in range(a.ndim - 1)]
        spec_b = ["b"] + [next(letters) for _ in range(b.ndim - 1)]
        spec_b[axes[1]] = spec_a[axes[0]]
        out = [c for c in spec_a if c != spec_a[axes[0]]] + \
            [c for i, c in enumerate(spec_b) if i not in (0, axes[1])]
        result = linalg.einsum(f"{''.join(spec_a)},{''.join(spec_b)}->{''.join(out)}", a, b)
        return shape_ops.expand_dims(result, 1) if result.ndim == 1 else result

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalized(x, axis: int):
    """``x / sqrt(max(sum(x**2), 1e-12))`` along ``axis``, as Keras's normalize does."""
    squares = reductions.reduce_sum(ew.square(x), axis=axis, keepdims=True)
    return x * ew.rsqrt(ew.maximum(squares, 1e-12))


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"``keras.layers.{merge.__name__}(inputs)``: ``{cls.__name__}()(inputs)``."
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    """``keras.layers.concatenate(inputs, axis)``: ``Concatenate(axis)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``keras.layers.dot(inputs, axes)``: ``Dot(axes)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
