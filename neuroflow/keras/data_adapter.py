"""Turn what users pass to ``fit``/``evaluate``/``predict`` into batches.

NumPy arrays (and tensors, lists) are checked once up front, then sliced into
batches with one fancy-indexing call per batch; the whole dataset is never
copied or converted. ``tf.data.Dataset`` objects are iterated as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from neuroflow.ops import random_ops
from neuroflow.tensor import Tensor
from neuroflow.util import nest


def _to_numpy(value, label: str = "x", what: str = "fit"):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _to_numpy(v, f"{label}[{k!r}]", what) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (np.ndarray, Tensor)):
        return type(value)(_to_numpy(v, f"{label}[{i}]", what) for i, v in enumerate(value))
    if isinstance(value, np.ndarray):
        return text_as_bytes(value)
    try:
        array = np.asarray(value)
    except ValueError as error:  # NumPy refuses nested lists of different lengths
        raise ValueError(_ragged_message(value, label, what)) from error
    if array.dtype == object and isinstance(value, (list, tuple)):
        raise ValueError(_ragged_message(value, label, what))
    return text_as_bytes(array)


def text_as_bytes(array: np.ndarray) -> np.ndarray:
    """NumPy text arrays (``'<U'``, ``'|S'``) as string tensors hold text: object arrays of
    UTF-8 bytes (Keras feeds such arrays as ``tf.string``); other arrays as they are."""
    if array.dtype.kind not in "SU":
        return array
    from neuroflow.ops.convert import as_tensor

    return as_tensor(array).numpy()


def _ragged_message(rows, label: str, what: str) -> str:
    """Why a nested list is not one array: an entry that is not a number, or the first row
    whose length differs from row 0's."""
    def length(row):
        return len(row) if isinstance(row, (list, tuple, np.ndarray)) else None

    def describe(size):
        return "a single value" if size is None else f"{size} value{'s' * (size != 1)}"

    sizes = [length(row) for row in rows]
    found = None  # (entry,) for the first entry that is not a number
    if len(set(sizes)) == 1:
        numbers = (bool, int, float, complex, np.generic, np.ndarray)
        found = next(((v,) for v in _entries(rows) if not isinstance(v, numbers)), None)
    if found is not None:
        odd = found[0]
        return (f"`{what}` received {label} as a Python list holding {type(odd).__name__} "
                f"values such as {odd!r}, which cannot become a numeric array. Expected numbers "
                f"(or lists of numbers), one entry per sample. Convert the entries to numbers "
                f"or drop them, then pass a NumPy array, e.g. np.array(rows, dtype='float32').")
    where = next((f" (row 0 has {describe(sizes[0])}, row {i} has {describe(size)})"
                  for i, size in enumerate(sizes) if size != sizes[0]), "")
    return (f"`{what}` received {label} as a Python list whose samples do not all have the same "
            f"shape{where}, so it cannot become one array. Expected one entry per sample, each "
            f"of the same shape. Pad the shorter samples to a common length (or cut the longer "
            f"ones), then pass a NumPy array, e.g. np.array(rows, dtype='float32').")


def _entries(rows):
    """The innermost entries of nested lists and tuples."""
    for row in rows:
        if isinstance(row, (list, tuple)):
            yield from _entries(row)
        else:
            yield row


def check_finite(array: np.ndarray, label: str, what: str) -> None:
    """Raise if a float array holds NaN or infinite values, naming the first bad sample."""
    # A sum is NaN or infinite if any element is, and needs no array-sized temporary
    # (np.isfinite(x).all() would allocate one, 43 MB for the lab's training set).
    if array.dtype.kind != "f" or math.isfinite(np.add.reduce(array, axis=None)):
        return
    bad = [start + int(i) for start in range(0, len(array), 4096)
           for i in np.flatnonzero(~np.isfinite(array[start:start + 4096]
                                                .reshape(-1, int(np.prod(array.shape[1:])))
                                                ).all(axis=1))]
    if not bad:
        return  # the sum overflowed, but every value is finite
    raise ValueError(
        f"The {label} passed to `{what}` contains NaN or infinite values (in {len(bad)} "
        f"samples, first at index {int(bad[0])}). Clean them, e.g. with np.nan_to_num(x) or "
        f"by dropping those samples: x = x[np.isfinite(x).reshape(len(x), -1).all(axis=1)].")


def is_dataset(value) -> bool:
    if type(value) is np.ndarray:
        return False  # the common case, without importing tf.data
    from neuroflow.data import Dataset

    return isinstance(value, Dataset)


class ArrayData:
    """Arrays ``x`` (and ``y``, ``sample_weight``) with the checks Keras makes."""

    def __init__(self, x, y=None, sample_weight=None, what: str = "fit"):
        self.x = _to_numpy(x, "x", what)
        self.y = _to_numpy(y, "y", what)
        self.sample_weight = _to_numpy(sample_weight, "sample_weight", what)
        sizes = {name: [len(a) for a in nest.flatten(v)]
                 for name, v in (("x", self.x), ("y", self.y),
                                 ("sample_weight", self.sample_weight)) if v is not None}
        flat_sizes = {n for values in sizes.values() for n in values}
        if len(flat_sizes) > 1:
            detail = "\n".join(f"'{name}' sizes: {', '.join(map(str, values))}"
                               for name, values in sizes.items())
            raise ValueError(f"Data cardinality is ambiguous. Make sure all arrays contain the "
                             f"same number of samples.\n{detail}\nx and y must hold one entry "
                             f"per sample; check how they were sliced or split.")
        self.size = flat_sizes.pop() if flat_sizes else 0
        if self.size == 0:
            raise ValueError(f"Expected input data to be non-empty, but `{what}` received x "
                             f"with {self.size} samples.")
        for label, value in (("input data", self.x), ("labels", self.y)):
            for array in nest.flatten(value) if value is not None else []:
                check_finite(array, label, what)

    def split(self, fraction: float) -> tuple[ArrayData, ArrayData]:
        """Keras's ``validation_split``: the last ``fraction`` of samples, before shuffling."""
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split must be between 0 and 1, received {fraction}. "
                             f"Pass the fraction of samples to hold out, e.g. 0.2.")
        at = int(self.size * (1 - fraction))
        if at == 0 or at == self.size:
            raise ValueError(f"validation_split={fraction} leaves no samples for training or "
                             f"validation out of {self.size}; each part needs at least one. "
                             f"Pass a fraction between {1 / self.size:.3g} and "
                             f"{1 - 1 / self.size:.3g}, or more data.")
        parts = [nest.map_structure(lambda a, s=s: a[s], v) if v is not None else None
                 for s in (slice(None, at), slice(at, None))
                 for v in (self.x, self.y, self.sample_weight)]
        return ArrayData(*parts[:3]), ArrayData(*parts[3:])

    def batches(self, batch_size: int, shuffle: bool, dtype: str = "float32",
                order: np.ndarray | None = None) -> Iterator[tuple]:
        """Yield ``(x, y, sample_weight)`` batches as tensors; floats cast to ``dtype``.

        ``order``: the samples' order to walk instead of a fresh shuffle (the workers of a
        distributed ``fit`` share worker 0's).
        """
        if order is None and shuffle:
            order = self.permutation()
        for start in range(0, self.size, batch_size):
            index = (order[start:start + batch_size] if order is not None
                     else slice(start, start + batch_size))
            yield (self._take(self.x, index, dtype), self._take(self.y, index, None),
                   self._take(self.sample_weight, index, dtype))

    def permutation(self) -> np.ndarray:
        """A shuffled order of the samples, from the seeded stream ``fit`` shuffles with."""
        return random_ops.generator(None).permutation(self.size)

    @staticmethod
    def _take(value, index, dtype):
        if value is None:
            return None

        def take(array):
            part = array[index]
            if dtype is not None and part.dtype.kind == "f" and part.dtype != dtype:
                part = part.astype(dtype)
            return Tensor(part)

        # One array is the usual case: skip the structure walk once per batch.
        return take(value) if type(value) is np.ndarray else nest.map_structure(take, value)

    def num_batches(self, batch_size: int) -> int:
        return math.ceil(self.size / batch_size)

    @property
    def plain(self) -> bool:
        """Whether x, y (and sample weights) are single arrays, not nested structures."""
        return all(v is None or type(v) is np.ndarray
                   for v in (self.x, self.y, self.sample_weight))

    def array_batches(self, batch_size: int, shuffle: bool, dtype: str = "float32"):
        """Like :meth:`batches` for plain arrays, yielding NumPy arrays (no tensors).

        Shuffled or cast batches are gathered a chunk of batches at a time on a
        background thread (see :class:`_ChunkGatherer`), while the caller trains on
        the previous chunk. A yielded batch may be a view of a reused buffer: it stays
        valid until the caller has taken a further chunk of batches, which a training
        loop that runs each batch before asking for the next never notices.
        """
        order = random_ops.generator(None).permutation(self.size) if shuffle else None
        cast = self.x.dtype.kind == "f" and self.x.dtype != dtype
        gatherer = _ChunkGatherer(self, order, cast, dtype, batch_size)
        if (order is None and not cast) or self.size <= gatherer.chunk_rows:
            yield from self._serial_array_batches(batch_size, order, cast, dtype)
            return
        yield from gatherer.batches(self.size)

    def _serial_array_batches(self, batch_size: int, order, cast: bool, dtype: str):
        x, y, weights = self.x, self.y, self.sample_weight
        for start in range(0, self.size, batch_size):
            index = (order[start:start + batch_size] if order is not None
                     else slice(start, start + batch_size))
            xb = x[index]
            yield (xb.astype(dtype) if cast else xb, None if y is None else y[index],
                   None if weights is None else weights[index].astype(dtype))


class _ChunkGatherer:
    """Gathers (shuffled) rows into batches one chunk ahead, on a second thread.

    Gathering a batch of 32 shuffled float64 rows and casting them to float32 takes
    about 30 us, an eighth of a lab training step. Done for a chunk of about 20
    batches at once on a worker thread, it overlaps with the steps on the previous
    chunk: NumPy releases the GIL while it copies, so the two cores share the work.
    The worker fills a ring of three buffers; the consumer reads one while the worker
    fills the next, and the third keeps the batch just handed out intact.
    """

    CHUNK_BYTES = 2 << 20  # per buffer; three of them
    SLOTS = 3

    def __init__(self, data: ArrayData, order, cast: bool, dtype: str, batch_size: int):
        self.x, self.y, self.weights, self.order = data.x, data.y, data.sample_weight, order
        self.dtype, self.batch_size = dtype, batch_size  # x (if cast) and weights become dtype
        self.row_dtype = np.dtype(dtype) if cast else self.x.dtype
        row_bytes = max(1, self.row_dtype.itemsize * math.prod(self.x.shape[1:]))
        self.chunk_rows = max(1, self.CHUNK_BYTES // row_bytes // batch_size) * batch_size

    def batches(self, size: int):
        from concurrent.futures import ThreadPoolExecutor

        rows = min(self.chunk_rows, size)
        buffers = [np.empty((rows,) + self.x.shape[1:], self.row_dtype)
                   for _ in range(self.SLOTS)]
        starts = range(0, size, rows)
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neuroflow-batches")
        try:
            pending = worker.submit(self._fill, buffers[0], starts[0], size)
            for number in range(len(starts)):
                xs, ys, ws = pending.result()
                if number + 1 < len(starts):
                    buffer = buffers[(number + 1) % self.SLOTS]
                    pending = worker.submit(self._fill, buffer, starts[number + 1], size)
                for at in range(0, len(xs), self.batch_size):
                    end = at + self.batch_size
                    yield (xs[at:end], None if ys is None else ys[at:end],
                           None if ws is None else ws[at:end])
        finally:
            worker.shutdown(wait=True, cancel_futures=True)

    def _fill(self, buffer, start: int, size: int):
        """Rows ``start`` up to a chunk of the (shuffled) data: x into ``buffer``."""
        stop = min(start + len(buffer), size)
        index = self.order[start:stop] if self.order is not None else slice(start, stop)
        count = stop - start
        xs = buffer[:count]
        if self.order is None:
            xs[...] = self.x[index]  # a contiguous slice, cast while copying
        else:
            # In pieces, so the float64 temporary of each piece stays in the cache.
            for at in range(0, count, 256):
                xs[at:at + 256] = self.x[index[at:at + 256]]
        ys = None if self.y is None else self.y[index]
        ws = None if self.weights is None else self.weights[index].astype(self.dtype)
        return xs, ys, ws


class DatasetData:
    """A ``tf.data.Dataset`` of ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` batches."""

    def __init__(self, dataset):
        self.dataset = dataset
        try:
            count = int(dataset.cardinality())
        except (AttributeError, TypeError):
            count = -2
        self.steps = count if count >= 0 else None

    def batches(self, batch_size=None, shuffle=False, dtype="float32"):
        for element in self.dataset:
            if not isinstance(element, tuple):
                element = (element,)
            x, y, sw = (tuple(element) + (None, None))[:3]
            yield _cast_floats(x, dtype), y, _cast_floats(sw, dtype)

    def num_batches(self, batch_size=None):
        return self.steps


def _cast_floats(value, dtype):
    if value is None:
        return None
    from neuroflow.ops import elementwise as ew
    from neuroflow.ops.convert import as_tensor

    def cast(t):
        t = as_tensor(t)
        return ew.cast(t, dtype) if t._value.dtype.kind == "f" and t.dtype.name != dtype else t

    return nest.map_structure(cast, value)


def adapt(x, y=None, sample_weight=None, what: str = "fit"):
    """The right adapter for what was passed."""
    if is_dataset(x):
        if y is not None:
            raise ValueError(f"`y` argument is not supported when using a dataset as input to "
                             f"`{what}`; the dataset must yield (x, y) pairs.")
        return DatasetData(x)
    if x is None:
        raise ValueError(f"`{what}` needs input data `x`; received None. Pass the samples, "
                         f"e.g. model.{what}(x_train, ...).")
    return ArrayData(x, y, sample_weight, what)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """A batch as Keras hands it to ``train_step``: ``x``, ``(x, y)`` or ``(x, y, sw)``.

    ``x`` alone stays itself unless it is a tuple or list (then ``(x,)``, so that
    unpacking cannot mistake its parts for labels).
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data) -> tuple:
    """``(x, y, sample_weight)`` from a batch in any of the forms ``pack`` gives."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data!r:.200}")
