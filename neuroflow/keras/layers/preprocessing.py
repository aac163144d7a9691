"""Preprocessing layers: Rescaling (``inputs * scale + offset``, e.g. ``Rescaling(1/255)``
for images) and Normalization (``(inputs - mean) / sqrt(variance)``, the statistics given or
learned from data with ``adapt``)."""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.keras.layers.base import Layer
from neuroflow.ops import elementwise as ew
from neuroflow.ops import shape_ops
from neuroflow.tensor import Tensor
from neuroflow.variables import Variable


class Rescaling(Layer):

    supports_masking = True
    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs):
        # As Keras 3, integer inputs (uint8 pixels) are cast to the layer's dtype first;
        # float inputs were already cast when the layer was called.
        if inputs._value.dtype.kind != "f":
            inputs = ew.cast(inputs, self.dtype)
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Shift and scale inputs to mean 0 and variance 1 per index of ``axis``:
    ``(inputs - mean) / max(sqrt(variance), epsilon)``, or the inverse with ``invert=True``.

    ``mean`` and ``variance`` are either given (broadcast to the kept axes, aligned from the
    right) or learned with ``adapt(data)``, which stores them, as Keras 3 does, in the
    non-trainable weights ``mean``, ``variance`` and ``count`` (``count`` stays 0, kept for
    Keras's checkpoint layout). ``axis=None`` uses one scalar mean and variance.

    >>> from neuroflow.keras import layers
    >>> layer = layers.Normalization(axis=None)
    >>> layer.adapt(np.array([1., 2., 3., 4., 5.], dtype="float32"))
    >>> layer(np.array([1., 2., 3.], dtype="float32")).numpy()
    array([-1.4142135 , -0.70710677,  0.        ], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must "
                                 f"have the same shape. Received: mean shape {np.shape(mean)} "
                                 f"and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError("The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.adapt_mean = self.adapt_variance = self.count = None
        self._given = None  # (mean, variance) as broadcast constants, when passed
        self._adapted = False

    def build(self, input_shape) -> None:
        shape = tuple(d if isinstance(d, numbers.Integral) else None for d in input_shape)
        ndim = len(shape)
        self._build_input_shape = shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if shape[d] is None:
                raise ValueError("All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={shape}, with "
                                 f"unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        stats_shape = tuple(shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", stats_shape, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", stats_shape, "ones",
                                                  trainable=False)
            self.count = self.add_weight("count", (), "zeros", trainable=False, dtype="int64")
        else:
            self._given = tuple(Tensor(self._broadcast_given(v).astype(self._np_dtype))
                                for v in (self.input_mean, self.input_variance))

    def _broadcast_given(self, value) -> np.ndarray:
        """A given mean or variance placed on the kept axes, its dimensions aligned with them
        from the right, then broadcast to the build shape."""
        value = np.asarray(value)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(expanded), self._broadcast_shape)
        except ValueError:
            raise InvalidArgumentError(
                f"Normalization {self.name!r}: `mean` and `variance` of shape {value.shape} "
                f"cannot be broadcast to the kept axes {self._keep_axis} of shape "
                f"{tuple(self._broadcast_shape)} of inputs of shape {self._build_input_shape}. "
                f"Pass values of that shape, or a scalar.") from None

    @property
    def mean(self) -> Tensor | None:
        """The mean in use, shaped to broadcast against the inputs (None before building)."""
        return self._statistics()[0] if self.built else None

    @property
    def variance(self) -> Tensor | None:
        return self._statistics()[1] if self.built else None

    @property
    def is_adapted(self) -> bool:
        """Whether the statistics are known: given to the constructor, or learned by adapt."""
        return self._adapted or self.input_mean is not None

    def _statistics(self) -> tuple[Tensor, Tensor]:
        if self._given is not None:
            return self._given
        # Read from the weights at each call, so statistics set by adapt, set_weights or
        # load_weights after the layer was called (or traced) take effect.
        return tuple(ew.cast(shape_ops.reshape(w, self._broadcast_shape), self.dtype)
                     for w in (self.adapt_mean, self.adapt_variance))

    def call(self, inputs: Tensor) -> Tensor:
        from neuroflow.keras import backend

        if inputs._value.dtype.kind != "f":
            inputs = ew.cast(inputs, self.dtype)
        _check_broadcast(self, tuple(inputs.shape))
        mean, variance = self._statistics()
        scale = ew.maximum(ew.sqrt(variance), backend.epsilon())
        return mean + inputs * scale if self.invert else (inputs - mean) / scale

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the mean and variance of ``data`` over all axes but ``axis``.

        ``data``: a NumPy array or tensor (one batch), a ``tf.data.Dataset`` or an iterable
        of batches (``(x, y)`` batches use ``x``). ``batch_size`` splits an array into batches
        and ``steps`` caps the number of batches read, as tf.keras 2's ``adapt`` did (Keras 3
        takes ``data`` only); the statistics are combined exactly, in float64.
        """
        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name!r} was given `mean` and `variance`, "
                             f"so it has no statistics to adapt. Create it without them to "
                             f"learn them from data with adapt().")
        first_shape, batches = _adapt_batches(data, batch_size, steps)
        if not self.built:
            self._build_from_shape(first_shape)
        moments = _Moments()
        for batch in batches:
            self._check_adapt_shape(tuple(batch.shape))
            moments.add(batch, self._reduce_axis)
        if moments.count == 0:
            raise ValueError(f"Normalization {self.name!r}: adapt() received no samples. Pass "
                             f"data with at least one sample.")
        self.adapt_mean.assign(moments.mean.astype(self.adapt_mean.dtype.np))
        self.adapt_variance.assign(moments.variance.astype(self.adapt_variance.dtype.np))
        self._adapted = True

    def _check_adapt_shape(self, shape: tuple) -> None:
        built = self._build_input_shape
        if len(shape) != len(built) or any(shape[d] != built[d] for d in self._keep_axis):
            raise ValueError(f"The layer was built with input_shape={built}, but adapt() is "
                             f"being called with data with an incompatible shape, "
                             f"data.shape={shape}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}


def _axis_tuple(axis) -> tuple[int, ...]:
    """Keras's standard form of ``axis``: ``None`` -> ``()``, ``-1`` -> ``(-1,)``."""
    axes = () if axis is None else (axis,) if isinstance(axis, numbers.Integral) else axis
    try:
        axes = tuple(axes)
    except TypeError:
        axes = (axis,)
    if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
        raise TypeError(f"Normalization: `axis` must be an int, a tuple of ints or None. "
                        f"Received: axis={axis!r}")
    return tuple(int(a) for a in axes)


def _check_broadcast(layer: Normalization, shape: tuple) -> None:
    """Inputs must broadcast against the statistics (Keras broadcasts, e.g. a single sample
    without its batch axis); say which layer and shapes when they do not."""
    stats = layer._broadcast_shape
    for got, want in zip(reversed(shape), reversed(stats)):
        if type(got) is int and want != 1 and got not in (1, want):
            raise InvalidArgumentError(
                f"Normalization {layer.name!r} holds statistics of shape {tuple(stats)} (for "
                f"inputs of shape {layer._build_input_shape}, axis={layer.axis}), which do "
                f"not broadcast against inputs of shape {shape}.")


class _Moments:
    """Mean and variance of batches combined exactly (Chan et al.'s parallel formula), in
    float64: the result does not depend on how the data was split."""

    def __init__(self):
        self.count = 0
        self.mean = self.variance = self._m2 = None

    def add(self, batch: np.ndarray, axes: tuple[int, ...]) -> None:
        n = math.prod(batch.shape[d] for d in axes)
        if n == 0:
            return
        batch = batch.astype(np.float64)
        mean = batch.mean(axis=axes, keepdims=True)
        m2 = ((batch - mean) ** 2).sum(axis=axes)
        mean = mean.reshape(m2.shape)
        if self.count == 0:
            self.mean, self._m2 = mean, m2
        else:
            total = self.count + n
            delta = mean - self.mean
            self.mean = self.mean + delta * (n / total)
            self._m2 = self._m2 + m2 + delta ** 2 * (self.count * n / total)
        self.count += n
        self.variance = self._m2 / self.count


def _adapt_batches(data, batch_size, steps):
    """``(shape of the first batch, iterator of NumPy batches)`` for ``adapt``'s inputs."""
    from neuroflow.data import INFINITE_CARDINALITY, Dataset

    for name, value in (("batch_size", batch_size), ("steps", steps)):
        counts = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if value is not None and not (counts and value >= 1):
            raise ValueError(f"`{name}` must be a positive integer or None. Received: "
                             f"{name}={value!r}")
    if isinstance(data, (np.ndarray, Tensor, Variable)):
        array = data if isinstance(data, np.ndarray) else data.numpy()
        return array.shape, _array_batches(array, batch_size, steps)
    if batch_size is not None:
        raise ValueError(f"`batch_size` applies to arrays and tensors only: a "
                         f"{type(data).__name__} yields its own batches. Received: "
                         f"batch_size={batch_size!r}; batch the data instead.")
    shape = None
    if isinstance(data, Dataset):
        spec_shape = _spec_shape(data)
        if len(spec_shape) == 1 and spec_shape[0] is not None:
            # As Keras, rank-1 elements are single samples, batched here. Keras also
            # rebatches batches of scalars (size None), which fails on a short last batch
            # and gives the same statistics otherwise: those are left as they are.
            data = data.batch(128)
        # As Keras, the layer is built from the element spec: a kept axis must have a size
        # known for the whole dataset, not just its first batch.
        shape = _spec_shape(data)
        if steps is None and int(data.cardinality()) == INFINITE_CARDINALITY:
            raise ValueError("adapt() received an infinitely repeating dataset; pass `steps` "
                             "(the number of batches to read) or a finite dataset.")
    elif not hasattr(data, "__iter__") or isinstance(data, (str, bytes, dict)):
        raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, "
                        f"tensors, `tf.data.Dataset` and iterables of batches (e.g. a list of "
                        f"arrays or a generator).")
    batches = (_as_array(batch) for batch in itertools.islice(data, steps))
    first = next(batches, None)
    if first is None:
        raise ValueError("adapt() received an empty iterable (no batches). Expected at least "
                         "one batch. Pass a non-empty iterable of arrays or tensors, e.g. "
                         "layer.adapt([x]) or layer.adapt(list_of_batches).")
    return first.shape if shape is None else shape, itertools.chain([first], batches)


def _spec_shape(dataset) -> tuple:
    spec = dataset.element_spec
    return tuple((spec[0] if isinstance(spec, tuple) else spec).shape)


def _as_array(batch) -> np.ndarray:
    """A batch as a NumPy array; of ``(x, y)`` or ``(x, y, sample_weight)``, ``x``."""
    if isinstance(batch, tuple):
        batch = batch[0]
    if isinstance(batch, (Tensor, Variable)):
        return batch.numpy()
    if not hasattr(batch, "shape"):
        raise TypeError(f"adapt() expects an iterable that yields arrays or tensors with a "
                        f"`.shape` attribute (e.g. numpy arrays or tensors). Got an element of "
                        f"type {type(batch).__name__}. Ensure each yielded element is "
                        f"array-like with a `.shape` attribute.")
    return np.asarray(batch)


def _array_batches(array: np.ndarray, batch_size, steps):
    """Slices of ``batch_size`` samples (all at once without it), at most ``steps`` of them;
    ``steps`` alone splits the samples into that many batches, as tf.keras 2 did."""
    if array.ndim == 0 or (batch_size is None and steps is None):
        return iter([array])
    batch_size = batch_size or max(1, math.ceil(len(array) / steps))
    starts = range(0, len(array), batch_size)
    return (array[i:i + batch_size] for i in itertools.islice(starts, steps))
