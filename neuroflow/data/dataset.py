"""``tf.data.Dataset``: input pipelines built from arrays, ranges and generators.

Every transformation returns a new dataset; iterating one starts a fresh pass
(an *epoch*), so a dataset can be iterated again and again, and shuffles
reshuffle each pass unless ``reshuffle_each_iteration=False``.

Elements travel through the pipeline as NumPy arrays and come out as
neuroflow Tensors in the structure they went in (tuples stay tuples, dicts
stay dicts). Where the semantics allow, a pass runs *vectorized* (see
:mod:`neuroflow.data.plan`): ``from_tensor_slices((x, y)).shuffle(n).batch(32)``
permutes indices once per epoch and gathers each batch with one indexing call
per component. One epoch of it over 55,000 x 784 float32 images (1,719
batches) takes about 30-50 ms on one CPU core; the per-element path (e.g. ``map`` before
``batch``) costs a few microseconds of Python per element plus the function.

>>> import neuroflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(([1, 2, 3, 4, 5], [10, 20, 30, 40, 50]))
>>> [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds.batch(2)]
[([1, 2], [10, 20]), ([3, 4], [30, 40]), ([5], [50])]
>>> [int(v) for v in ds.map(lambda x, y: x + y).take(2)]
[11, 22]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from neuroflow.data import plan as plans
from neuroflow.data import structure
from neuroflow.errors import InvalidArgumentError
from neuroflow.tensor import Tensor

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


def int64_argument(value: Any, name: str) -> int:
    """A count, size or start given to a dataset method, as a Python int.

    TensorFlow converts these to int64 scalars: integers (bool, NumPy and integer
    tensors included) pass, and so do NumPy floats (truncated, as TF does); a Python
    float or a string is a TypeError rather than being silently truncated
    (``take(2.5)`` is not ``take(2)``).
    """
    given = value
    if isinstance(value, Tensor):
        if value.dtype.np.kind not in "biu":
            raise ValueError(f"{name}: Tensor conversion requested dtype int64 for Tensor with "
                             f"dtype {value.dtype.name}: {value!r}. Cast it first, e.g. "
                             f"tf.cast({name}, tf.int64).")
        value = value.numpy()  # a count decides the pipeline's shape: it must be known here
    array = np.asarray(value)
    if array.dtype.kind == "O":
        raise ValueError(f"Attempt to convert a value ({given!r}) with an unsupported type "
                         f"({type(given)}) to a Tensor: the {name} must be an integer.")
    if array.dtype.kind not in "biu" and not isinstance(value, np.floating):
        raise TypeError(f"Cannot convert {given!r} to EagerTensor of dtype int64 (the {name} "
                        f"must be an integer, e.g. {name}=2).")
    if array.ndim != 0:
        raise ValueError(f"{name} must be a scalar, received a value of shape {array.shape}: "
                         f"{given!r}.")
    return int(array)


class Dataset:
    """A sequence of elements, each a nested structure of tensors, as ``tf.data.Dataset``.

    Subclasses describe one pass either as an index plan (:meth:`_can_plan`
    and :meth:`_plan`) or element by element (:meth:`_elements`), and give
    :meth:`_cardinality` and :meth:`_compute_spec`.
    """

    _spec: Any = None

    # --- what subclasses provide -----------------------------------------
    def _cardinality(self) -> int:
        raise self._missing("_cardinality()")

    def _compute_spec(self) -> Any:
        raise self._missing("_compute_spec()")

    def _can_plan(self) -> bool:
        """Whether the next pass can run as an index plan (must not change any state)."""
        return False

    def _plan(self) -> plans.Plan:
        """The next pass as an index plan; called only when :meth:`_can_plan` is true."""
        raise self._missing("_plan(), as its _can_plan() is true")

    def _elements(self) -> Iterator[Any]:
        """The next pass element by element; called only when :meth:`_can_plan` is false."""
        raise self._missing("_elements()")

    def _missing(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__} must implement {method}: a Dataset subclass describes its "
            f"elements itself. Create datasets with Dataset.from_tensor_slices, "
            f"Dataset.from_generator or Dataset.range instead of Dataset() itself.")

    def _epoch(self) -> Iterator[Any]:
        """One pass over the elements (as structures of NumPy arrays)."""
        return plans.rows(self._plan()) if self._can_plan() else self._elements()

    # --- describing the dataset -----------------------------------------
    @property
    def element_spec(self) -> Any:
        """The structure of :class:`TensorSpec` of one element (``None`` for unknown dims)."""
        if self._spec is None:
            self._spec = self._compute_spec()
        return self._spec

    def cardinality(self) -> Tensor:
        """The number of elements, or ``INFINITE_CARDINALITY`` (-1) / ``UNKNOWN_CARDINALITY`` (-2).

        >>> import neuroflow as tf
        >>> ds = tf.data.Dataset.range(10)
        >>> int(ds.batch(3).cardinality()), int(ds.repeat().cardinality())
        (4, -1)
        """
        return Tensor(np.asarray(self._cardinality(), dtype=np.int64))

    def __len__(self) -> int:
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self) -> bool:
        return True  # as in TF: truthiness must not depend on a (possibly unknown) length

    def __iter__(self) -> DatasetIterator:
        return DatasetIterator(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} element_spec={self.element_spec}>"

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Iterate the elements as NumPy values (rank-0 components as NumPy scalars)."""
        return (structure.to_numpy(element) for element in self._epoch())

    def reduce(self, initial_state: Any, reduce_func: Callable) -> Any:
        """Fold the elements: ``state = reduce_func(state, element)``; returns the final state."""
        state = structure.to_tensors(structure.normalize(initial_state))
        for element in self._epoch():
            state = reduce_func(state, structure.to_tensors(element))
        return state

    # --- creating datasets ----------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """The slices of ``tensors`` along their first axis (a tuple, dict or nesting of them).

        The data is copied once, so later changes to the caller's arrays do not
        leak into the dataset.
        """
        return slices_dataset(tensors, copy=True)

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of one element: ``tensors`` itself."""
        element = structure.normalize(tensors)
        return sources.TensorSlicesDataset(structure.map_leaves(lambda a: a[None], element))

    @staticmethod
    def range(*args: int, output_type=None, name: str | None = None) -> Dataset:
        """``range(stop)``, ``range(start, stop)`` or ``range(start, stop, step)``, as int64."""
        names = ("stop",) if len(args) == 1 else ("start", "stop", "step")
        ints = [int64_argument(a, n) for a, n in zip(args, names)]
        return sources.RangeDataset(*ints, *args[len(ints):], output_type=output_type)

    @staticmethod
    def from_generator(generator: Callable, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name: str | None = None) -> Dataset:
        """Elements produced by ``generator(*args)``, called afresh on every pass."""
        return sources.GeneratorDataset(generator, output_types, output_shapes, args,
                                        output_signature)

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> Dataset:
        """Elements of several datasets side by side; as long as the shortest."""
        nested = datasets[0] if len(datasets) == 1 else datasets
        return combining.ZipDataset(nested)

    # --- transformations -------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        """Shuffle with a buffer of ``buffer_size`` elements, as TF does.

        Each output is drawn uniformly from the buffer, which is refilled from the
        input, so a small buffer keeps elements near their position and a buffer
        at least as large as the dataset gives a uniform permutation (computed in
        one step). ``seed`` and ``tf.random.set_seed`` make the order reproducible.
        """
        return shuffling.ShuffleDataset(self, int64_argument(buffer_size, "buffer_size"), seed,
                                        reshuffle_each_iteration)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls=None,
              deterministic=None, name: str | None = None) -> Dataset:
        """Stack ``batch_size`` consecutive elements; the last batch may be smaller."""
        return transforms.BatchDataset(self, int64_argument(batch_size, "batch_size"),
                                       drop_remainder)

    def padded_batch(self, batch_size: int, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: bool = False, name: str | None = None) -> Dataset:
        """Batch ``batch_size`` elements of different shapes, padding each component.

        ``padded_shapes`` has the elements' structure (tuples and dicts; a list is
        one shape) with a shape per component: a size pads that dimension to it
        (an element larger raises ``DataLossError`` as in TF), ``None`` or -1 to
        the largest in the batch. Left None, every dimension the element spec
        leaves unknown is padded to the batch's largest. ``padding_values`` gives
        one scalar per component, of the component's dtype, or one scalar for all;
        the default is 0 (False for bool).

        >>> import neuroflow as tf
        >>> ds = tf.data.Dataset.range(1, 4).map(lambda n: tf.fill([n], n))
        >>> [b.numpy().tolist() for b in ds.padded_batch(2, padded_shapes=[4],
        ...                                              padding_values=tf.constant(-1, tf.int64))]
        [[[1, -1, -1, -1], [2, 2, -1, -1]], [[3, 3, 3, -1]]]
        """
        return padded_batch.PaddedBatchDataset(self, int64_argument(batch_size, "batch_size"),
                                               padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name: str | None = None) -> Dataset:
        """Split each element along its first axis into separate elements."""
        return transforms.UnbatchDataset(self)

    def map(self, map_func: Callable, num_parallel_calls=None, deterministic=None,
            name: str | None = None) -> Dataset:
        """Apply ``map_func`` to each element; a tuple element is unpacked into arguments.

        ``num_parallel_calls`` is accepted for compatibility; calls run in order
        on the calling thread.
        """
        return transforms.MapDataset(self, map_func)

    def filter(self, predicate: Callable, name: str | None = None) -> Dataset:
        """Keep the elements for which ``predicate`` returns True (a scalar bool)."""
        return transforms.FilterDataset(self, predicate)

    def flat_map(self, map_func: Callable, name: str | None = None) -> Dataset:
        """Map each element to a dataset and chain those datasets."""
        return transforms.FlatMapDataset(self, map_func)

    def interleave(self, map_func: Callable, cycle_length: int | None = None,
                   block_length: int | None = None, num_parallel_calls: int | None = None,
                   deterministic: bool | None = None, name: str | None = None) -> Dataset:
        """Map each element to a dataset and take ``block_length`` elements from each in turn.

        ``cycle_length`` datasets are open at once; one that runs out is replaced by
        the next element's when the cycle comes back to it, so ``cycle_length=1``
        is ``flat_map``. The order is TensorFlow's. Left None (or AUTOTUNE),
        ``cycle_length`` is TF's default, which depends on the machine: the number
        of CPU cores this process may use (``os.sched_getaffinity``); with
        ``num_parallel_calls`` set, that many at most, or a third of the cores,
        rounded up, for AUTOTUNE. ``block_length`` defaults to 1.

        ``num_parallel_calls`` (a count or AUTOTUNE) is checked as TF checks it and
        changes the default cycle length as it does, but the datasets are read in
        turn on the calling thread, so the order is the deterministic one even with
        ``deterministic=False`` (which lets TF return elements out of order).

        >>> import neuroflow as tf
        >>> ds = tf.data.Dataset.range(1, 4).interleave(
        ...     lambda x: tf.data.Dataset.from_tensors(x).repeat(2), cycle_length=2)
        >>> [int(v) for v in ds]
        [1, 2, 1, 2, 3, 3]
        """
        if num_parallel_calls is None and deterministic is not None:
            warnings.warn("The `deterministic` argument has no effect unless the "
                          "`num_parallel_calls` argument is specified.", stacklevel=2)
        return interleave.InterleaveDataset(
            self, map_func,
            AUTOTUNE if cycle_length is None else int64_argument(cycle_length, "cycle_length"),
            1 if block_length is None else int64_argument(block_length, "block_length"),
            None if num_parallel_calls is None
            else int64_argument(num_parallel_calls, "num_parallel_calls"))

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first ``count`` elements (all of them when ``count`` is -1)."""
        return transforms.TakeDataset(self, int64_argument(count, "count"))

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (none when ``count`` is -1)."""
        return transforms.SkipDataset(self, int64_argument(count, "count"))

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """Repeat the dataset ``count`` times, or forever when ``count`` is None or -1."""
        return transforms.RepeatDataset(self, -1 if count is None
                                        else int64_argument(count, "count"))

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """The elements of this dataset followed by those of ``dataset``."""
        return combining.ConcatenateDataset(self, dataset)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """Pairs ``(index, element)`` with an int64 index counting from ``start``."""
        return combining.EnumerateDataset(self, int64_argument(start, "start"))

    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Accepted for compatibility and returns the same elements.

        Prefetching overlaps producing the next batch with training on the
        current one in TensorFlow's background threads; here the pipeline runs
        on demand in the training thread, and its vectorized path is cheap
        enough that a background thread would gain little.
        """
        size = AUTOTUNE if buffer_size is None else int64_argument(buffer_size, "buffer_size")
        if size < AUTOTUNE:
            raise InvalidArgumentError("buffer_size must be >= 0 or set buffer_size to be -1 for "
                                       f"auto-tuning, received {size}.", "PrefetchDataset")
        return transforms.PrefetchDataset(self)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Keep the elements in memory after the first complete pass.

        ``filename`` is accepted for compatibility; the cache is always in memory.
        """
        return caching.CacheDataset(self)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        return transformation_func(self)

    def bucket_by_sequence_length(self, element_length_func: Callable, bucket_boundaries,
                                  bucket_batch_sizes, padded_shapes=None, padding_values=None,
                                  pad_to_bucket_boundary=False, no_padding=False,
                                  drop_remainder=False, name: str | None = None) -> Dataset:
        """Batch elements of similar length together, padded (see ``data/text.py``)."""
        from neuroflow.data import text

        return text.BucketBySequenceLengthDataset(
            self, element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes,
            padding_values, pad_to_bucket_boundary, no_padding, drop_remainder)


class DatasetIterator:
    """An iterator over one pass of a dataset, yielding tensors (``iter(dataset)``)."""

    def __init__(self, dataset: Dataset):
        self._dataset = dataset
        self._elements = dataset._epoch()

    @property
    def element_spec(self) -> Any:
        return self._dataset.element_spec

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self) -> Any:
        return structure.to_tensors(next(self._elements))

    def get_next(self) -> Any:
        return next(self)


def is_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a neuroflow Dataset (for Keras: fit accepts datasets of batches)."""
    return isinstance(obj, Dataset)


def slices_dataset(tensors: Any, copy: bool = True) -> Dataset:
    """``from_tensor_slices``; ``copy=False`` shares the caller's arrays (for Keras internals)."""
    return sources.TensorSlicesDataset(structure.normalize(tensors, copy=copy))


# The dataset kinds subclass Dataset, so they are imported after it is defined.
from neuroflow.data import (  # noqa: E402
    caching,
    combining,
    interleave,
    padded_batch,
    shuffling,
    sources,
    transforms,
)
