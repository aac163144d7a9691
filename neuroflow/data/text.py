"""Text pipelines: ``tf.data.TextLineDataset`` and ``Dataset.bucket_by_sequence_length``.

``TextLineDataset`` reads its files line by line on every pass (nothing is kept in
memory): each line is a ``tf.string`` scalar without its ``\\n`` (or ``\\r\\n``), files are
read one after the other, or ``num_parallel_reads`` at a time taking turns line by line
as TensorFlow interleaves them, and ``"GZIP"`` and ``"ZLIB"`` files are decompressed.

``bucket_by_sequence_length`` groups elements by length into buckets
``[boundary[i - 1], boundary[i])`` and emits a padded batch whenever a bucket holds its
batch size, then, at the end of the input, the partial batches in bucket order, as
TensorFlow's ``group_by_window`` does.

>>> import neuroflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(["a", "bb", "ccc", "d"])
>>> [b.numpy().tolist() for b in ds.bucket_by_sequence_length(
...     tf.strings.length, bucket_boundaries=[2], bucket_batch_sizes=[2, 2])]
[[b'bb', b'ccc'], [b'a', b'd']]
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuroflow import dtypes
from neuroflow.data import structure
from neuroflow.data.dataset import UNKNOWN_CARDINALITY, Dataset
from neuroflow.data.padded_batch import PaddedBatchDataset
from neuroflow.data.structure import TensorSpec
from neuroflow.errors import InternalError, InvalidArgumentError, NotFoundError
from neuroflow.tensor import Tensor, convert_to_tensor

_COMPRESSIONS = ("", "GZIP", "ZLIB")
_READ_SIZE = 1 << 16


class TextLineDataset(Dataset):
    """The lines of one or more text files, as ``tf.data.TextLineDataset``.

    >>> import neuroflow as tf
    >>> ds = tf.data.TextLineDataset(["train.txt", "more.txt"])  # doctest: +SKIP
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None,
                 num_parallel_reads=None, name=None):
        if isinstance(filenames, Dataset):
            names = [bytes(item) for item in filenames.as_numpy_iterator()]
        else:
            tensor = filenames if isinstance(filenames, Tensor) else \
                convert_to_tensor(filenames)
            if tensor.dtype != dtypes.string:
                raise TypeError(f"The `filenames` argument must contain `tf.string` elements. "
                                f"Got `tf.{tensor.dtype.name}` elements.")
            if tensor.shape.rank > 1:
                raise TypeError(f"The `filenames` argument must contain `tf.string` elements of "
                                f"shape [] (i.e. scalars). Got shape {tensor.shape}.")
            names = np.asarray(tensor.numpy(), dtype=object).reshape(-1).tolist()
        compression = "" if compression_type is None else str(compression_type)
        if compression not in _COMPRESSIONS:
            raise InvalidArgumentError(f"Unsupported compression_type: {compression}. Use None "
                                       f"(or \"\"), \"GZIP\" or \"ZLIB\".", "TextLineDataset")
        if buffer_size is not None and int(buffer_size) < 0:
            raise InvalidArgumentError(f"buffer_size must be >= 0, received {buffer_size}.",
                                       "TextLineDataset")
        self._names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        self._compression = compression
        self._parallel = None if num_parallel_reads is None else int(num_parallel_reads)
        self._spec = TensorSpec([], dtypes.string)

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _elements(self) -> Iterator[Any]:
        if self._parallel is None or self._parallel <= 1 or len(self._names) <= 1:
            for name in self._names:
                yield from _lines(name, self._compression)
            return
        # TensorFlow interleaves the files: num_parallel_reads open at once, one line each
        # in turn; a finished file's place goes to the next file.
        waiting = iter(self._names)
        slots: list = [_lines(n, self._compression) for n, _ in zip(waiting, range(
            self._parallel))]
        while slots:
            index = 0
            while index < len(slots):
                line = next(slots[index], None)
                if line is None:
                    following = next(waiting, None)
                    if following is None:
                        del slots[index]
                        continue
                    slots[index] = _lines(following, self._compression)
                    continue
                yield line
                index += 1


def _lines(path: str, compression: str) -> Iterator[np.ndarray]:
    """The lines of one file as 0-d string arrays, without their line ends."""
    try:
        if compression == "GZIP":
            stream = gzip.open(path, "rb")
        else:
            stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise NotFoundError(f"{path}; No such file or directory", "TextLineDataset") from None
    try:
        chunks = _inflated(stream) if compression == "ZLIB" else iter(
            lambda: stream.read(_READ_SIZE), b"")
        pending = b""
        for chunk in chunks:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield _scalar(line[:-1] if line.endswith(b"\r") else line)
        if pending:
            yield _scalar(pending[:-1] if pending.endswith(b"\r") else pending)
    finally:
        stream.close()


def _inflated(stream) -> Iterator[bytes]:
    decompressor = zlib.decompressobj()
    for chunk in iter(lambda: stream.read(_READ_SIZE), b""):
        yield decompressor.decompress(chunk)
    yield decompressor.flush()


def _scalar(line: bytes) -> np.ndarray:
    return np.array(line, dtype=object)


# --- bucket_by_sequence_length ------------------------------------------------------------------


class _Window(Dataset):
    """The elements of one bucket's window, as a dataset (for ``PaddedBatchDataset``)."""

    def __init__(self, elements: list, spec: Any):
        self._items = elements
        self._spec = spec

    def _cardinality(self) -> int:
        return len(self._items)

    def _elements(self) -> Iterator[Any]:
        return iter(self._items)


def _default_padding(spec: Any) -> Any:
    """TF's padding values: zero, False, and the empty string for strings."""
    def value(component: TensorSpec):
        if component.dtype == dtypes.string:
            return Tensor(np.array(b"", dtype=object))
        return None

    leaves = [value(s) for s in structure.flatten(spec)]
    if not isinstance(spec, (tuple, dict)):
        return leaves[0]
    return structure.pack(spec, leaves)


class BucketBySequenceLengthDataset(Dataset):
    """Padded batches of elements of similar length (see the module docstring)."""

    def __init__(self, inner: Dataset, element_length_func: Callable, bucket_boundaries,
                 bucket_batch_sizes, padded_shapes, padding_values, pad_to_bucket_boundary,
                 no_padding, drop_remainder):
        boundaries = [int(b) for b in bucket_boundaries]
        sizes = [int(b) for b in bucket_batch_sizes]
        if len(sizes) != len(boundaries) + 1:
            raise ValueError(f"`len(bucket_batch_sizes)` must equal `len(bucket_boundaries) + "
                             f"1` but `len(bucket_batch_sizes)={len(sizes)}` and "
                             f"`len(bucket_boundaries)={len(boundaries)}`.")
        self._inner = inner
        self._length = element_length_func
        self._boundaries = boundaries
        self._sizes = sizes
        self._padded_shapes = padded_shapes
        self._padding_values = padding_values
        self._pad_to_boundary = bool(pad_to_bucket_boundary)
        self._no_padding = bool(no_padding)
        self._drop = bool(drop_remainder)
        spec = inner.element_spec
        if self._no_padding:
            self._spec = structure.map_leaves(
                lambda s: TensorSpec([None, *s.shape], s.dtype), spec)
        else:
            self._spec = PaddedBatchDataset(_Window([], spec), 1, padded_shapes,
                                            self._padding(), False).element_spec

    def _padding(self) -> Any:
        return _default_padding(self._inner.element_spec) if self._padding_values is None \
            else self._padding_values

    def _cardinality(self) -> int:
        return UNKNOWN_CARDINALITY

    def _bucket(self, element: Any) -> int:
        length = structure.call(self._length, element)
        value = int(np.asarray(length).reshape(()))
        return sum(1 for boundary in self._boundaries if boundary <= value)

    def _batch(self, bucket: int, window: list) -> Any:
        spec = self._inner.element_spec
        if self._no_padding:
            columns = zip(*(structure.flatten(e) for e in window))
            return structure.pack(window[0], [np.stack(list(c)) for c in columns])
        shapes = self._padded_shapes
        if self._pad_to_boundary:
            if bucket == len(self._boundaries):
                # TensorFlow's assertion fails inside its dataset kernel: an InternalError.
                raise InternalError(
                    f"When pad_to_bucket_boundary=True, elements must have length < "
                    f"max(bucket_boundaries) = {max(self._boundaries)}; an element is longer. "
                    f"Add a larger boundary, or set pad_to_bucket_boundary=False.",
                    "BucketBySequenceLength")
            shapes = self._boundary_shapes(self._boundaries[bucket] - 1)
        batch = PaddedBatchDataset(_Window(window, spec), len(window), shapes,
                                   self._padding(), False)
        return next(iter(batch._epoch()))

    def _boundary_shapes(self, size: int) -> Any:
        """The padded shapes with each unknown size set to ``size`` (the bucket's limit)."""
        spec = self._inner.element_spec
        if self._padded_shapes is None:
            shapes = structure.map_leaves(
                lambda s: [size if d is None else d for d in s.shape], spec)
        else:
            shapes = self._padded_shapes
        return _replace_unknown(shapes, size)

    def _elements(self) -> Iterator[Any]:
        windows: dict[int, list] = {}
        for element in self._inner._epoch():
            bucket = self._bucket(element)
            window = windows.setdefault(bucket, [])
            window.append(element)
            if len(window) == self._sizes[bucket]:
                del windows[bucket]
                yield self._batch(bucket, window)
        for bucket in sorted(windows):  # what is left, in bucket order (TF's map of windows)
            if not self._drop:
                yield self._batch(bucket, windows[bucket])


def _replace_unknown(shapes: Any, size: int) -> Any:
    if isinstance(shapes, tuple):
        return tuple(_replace_unknown(s, size) for s in shapes)
    if isinstance(shapes, dict):
        return {k: _replace_unknown(v, size) for k, v in shapes.items()}
    return [size if d is None or d == -1 else d for d in list(shapes)]
