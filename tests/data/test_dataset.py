"""Tests of neuroflow.data: tf.data.Dataset values, order, structure, shuffling and errors.

Values are checked against NumPy; shuffles against properties TF's buffer
semantics imply. Optional differential tests against TensorFlow skip when it
is not installed.
"""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.data import dataset as dataset_module
from neuroflow.tensor import Tensor

Dataset = tf.data.Dataset


def numpy_list(ds) -> list:
    return list(ds.as_numpy_iterator())


def as_lists(ds) -> list:
    """The elements of a dataset of single tensors, as Python values."""
    return [np.asarray(t).tolist() for t in ds]


@pytest.fixture(autouse=True)
def _no_global_seed():
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


# --- namespace -------------------------------------------------------------
def test_namespace_and_constants():
    assert tf.data.Dataset is dataset_module.Dataset
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1
    assert tf.data.INFINITE_CARDINALITY == tf.data.experimental.INFINITE_CARDINALITY == -1
    assert tf.data.UNKNOWN_CARDINALITY == tf.data.experimental.UNKNOWN_CARDINALITY == -2
    ds = Dataset.range(3)
    assert dataset_module.is_dataset(ds) and not dataset_module.is_dataset([1, 2])
    assert int(tf.data.experimental.cardinality(ds)) == 3


# --- sources ---------------------------------------------------------------
def test_from_tensor_slices_array_values_order_and_dtype():
    x = np.arange(24, dtype=np.float64).reshape(6, 2, 2)
    elements = list(Dataset.from_tensor_slices(x))
    assert len(elements) == 6
    assert all(type(e) is Tensor and e.dtype == tf.float64 for e in elements)
    np.testing.assert_array_equal(np.stack([e.numpy() for e in elements]), x)
    assert Dataset.from_tensor_slices(x).element_spec == tf.data.TensorSpec([2, 2], tf.float64)


def test_from_tensor_slices_python_lists_use_tf_default_dtypes():
    assert Dataset.from_tensor_slices([1, 2, 3]).element_spec.dtype == tf.int32
    assert Dataset.from_tensor_slices([1.0, 2.0]).element_spec.dtype == tf.float32
    # A list of equal-length arrays is one tensor, not a structure (as in TF).
    ds = Dataset.from_tensor_slices([np.arange(3), np.arange(3) + 10])
    assert ds.element_spec.shape == (3,)
    assert as_lists(ds) == [[0, 1, 2], [10, 11, 12]]


def test_from_tensor_slices_tuple_dict_and_nested_structures():
    x, y = np.arange(10).reshape(5, 2), np.arange(5) * 1.5
    pairs = list(Dataset.from_tensor_slices((x, y)))
    assert all(type(p) is tuple and len(p) == 2 for p in pairs)
    for i, (a, b) in enumerate(pairs):
        np.testing.assert_array_equal(a.numpy(), x[i])
        assert b.numpy() == y[i]

    ds = Dataset.from_tensor_slices({"image": x, "label": y})
    first = next(iter(ds))
    assert isinstance(first, dict) and list(first) == ["image", "label"]
    np.testing.assert_array_equal(first["image"].numpy(), x[0])

    nested = Dataset.from_tensor_slices((x, {"a": y, "b": (y, x)}))
    last = numpy_list(nested)[-1]
    assert last[1]["a"] == y[4]
    np.testing.assert_array_equal(last[1]["b"][1], x[4])

    Point = collections.namedtuple("Point", "u v")
    point = next(iter(Dataset.from_tensor_slices(Point(y, y * 2))))
    assert type(point) is Point and point.v.numpy() == y[0] * 2


def test_from_tensor_slices_mismatched_first_dims_names_both_sizes():
    with pytest.raises(ValueError, match=r"5 and 4"):
        Dataset.from_tensor_slices((np.zeros(5), np.zeros(4)))
    with pytest.raises(ValueError, match="scalar"):
        Dataset.from_tensor_slices(3.0)


def test_from_tensor_slices_copies_the_callers_arrays():
    x = np.arange(4.0)
    ds = Dataset.from_tensor_slices(x)
    x[:] = -1
    assert as_lists(ds) == [0.0, 1.0, 2.0, 3.0]


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors((np.arange(3), 1.0))
    assert len(ds) == 1
    (a, b), = list(ds)
    assert a.numpy().tolist() == [0, 1, 2] and b.dtype == tf.float32


@pytest.mark.parametrize("args", [(5,), (2, 9), (2, 10, 3), (10, 0, -3), (4, 4)])
def test_range_matches_python_range(args):
    ds = Dataset.range(*args)
    assert as_lists(ds) == list(range(*args))
    assert ds.element_spec.dtype == tf.int64
    assert len(ds) == len(range(*args))


def test_range_output_type_and_zero_step():
    assert next(iter(Dataset.range(3, output_type=tf.int32))).dtype == tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match="step must be a non-zero integer"):
        Dataset.range(0, 5, 0)


def test_zip_tuple_and_dict():
    a, b = Dataset.range(5), Dataset.range(10, 13)
    zipped = Dataset.zip((a, b))
    assert numpy_list(zipped) == [(0, 10), (1, 11), (2, 12)]
    assert len(zipped) == 3
    assert numpy_list(Dataset.zip(a, b)) == numpy_list(zipped)
    as_dict = numpy_list(Dataset.zip({"p": a, "q": b.map(lambda v: v * 2)}))
    assert as_dict == [{"p": 0, "q": 20}, {"p": 1, "q": 22}, {"p": 2, "q": 24}]
    with pytest.raises(TypeError):
        Dataset.zip((a, [1, 2]))


def test_from_generator_signature_and_legacy_types():
    def gen():
        for i in range(3):
            yield i, [i * 1.0, i + 0.5]

    signature = (tf.data.TensorSpec([], tf.int32), tf.data.TensorSpec([2], tf.float32))
    ds = Dataset.from_generator(gen, output_signature=signature)
    assert ds.element_spec == signature
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    for _ in range(2):  # the generator is called afresh on each pass
        values = numpy_list(ds)
        assert [v[0] for v in values] == [0, 1, 2]
        assert values[2][1].dtype == np.float32 and values[2][1].tolist() == [2.0, 2.5]
    legacy = Dataset.from_generator(gen, output_types=(tf.int32, tf.float32),
                                    output_shapes=((), (2,)))
    assert legacy.element_spec == signature
    bad = Dataset.from_generator(lambda: iter([[1.0, 2.0, 3.0]]),
                                 output_signature=tf.data.TensorSpec([2], tf.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\(3,\)"):
        list(bad)
    # tf.TensorSpec, tf.function's spec, describes generated elements too (as in TF)
    traced_spec = Dataset.from_generator(gen, output_signature=(
        tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.float32)))
    assert traced_spec.element_spec == (tf.data.TensorSpec([], tf.int32),
                                        tf.data.TensorSpec([None], tf.float32))
    assert numpy_list(traced_spec)[1][1].tolist() == [1.0, 1.5]


# --- shuffle ---------------------------------------------------------------
def test_shuffle_is_a_permutation_and_reproducible_with_seed():
    x = np.arange(100) * 3
    first = as_lists(Dataset.from_tensor_slices(x).shuffle(100, seed=7))
    again = as_lists(Dataset.from_tensor_slices(x).shuffle(100, seed=7))
    other = as_lists(Dataset.from_tensor_slices(x).shuffle(100, seed=8))
    assert sorted(first) == x.tolist() and first != x.tolist()
    assert first == again and first != other


def test_shuffle_keeps_pairs_together():
    x = np.arange(50)
    for a, b in Dataset.from_tensor_slices((x, -x)).shuffle(50).batch(7):
        np.testing.assert_array_equal(a.numpy(), -b.numpy())


@pytest.mark.parametrize("path", ["plan", "elements"])
@pytest.mark.parametrize("size", [50, 7], ids=["whole buffer", "small buffer"])
def test_reshuffle_each_iteration(path, size):
    ds = _pipelines(50)[path](buffer_size=size, seed=1)
    epochs = [as_lists(ds) for _ in range(3)]
    assert all(sorted(e) == list(range(50)) and e != list(range(50)) for e in epochs)
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2] and epochs[0] != epochs[2]
    # The sequence of epoch orders is itself reproducible.
    again = _pipelines(50)[path](buffer_size=size, seed=1)
    assert [as_lists(again) for _ in range(3)] == epochs


@pytest.mark.parametrize("path", ["plan", "elements"])
@pytest.mark.parametrize("size", [50, 7], ids=["whole buffer", "small buffer"])
@pytest.mark.parametrize("seed", [1, None], ids=["op seed", "no seed"])
def test_without_reshuffling_every_epoch_has_the_same_shuffled_order(path, size, seed):
    fixed = _pipelines(50)[path](buffer_size=size, seed=seed, reshuffle_each_iteration=False)
    order = as_lists(fixed)
    assert sorted(order) == list(range(50)) and order != list(range(50)), "not shuffled"
    assert as_lists(fixed) == order and as_lists(fixed) == order
    # Repetitions of the pipeline are epochs too: each replays the order.
    assert as_lists(fixed.repeat(3)) == order * 3
    if seed is not None:  # an op seed fixes the order across datasets built alike
        again = _pipelines(50)[path](buffer_size=size, seed=seed,
                                     reshuffle_each_iteration=False)
        assert as_lists(again) == order


def test_shuffle_follows_the_global_seed():
    def run():
        tf.random.set_seed(42)
        ds = Dataset.range(30).shuffle(30)
        return as_lists(ds), as_lists(ds)

    assert run() == run()
    a, b = run()
    assert a != b and list(range(30)) not in (a, b)


def test_unseeded_shuffles_differ():
    orders = {tuple(as_lists(Dataset.range(30).shuffle(30))) for _ in range(3)}
    assert len(orders) > 1


def _pipelines(n: int):
    """The same range through the index-plan path, the element path, and the infinite path."""
    return {
        "plan": lambda **kw: Dataset.range(n).shuffle(**kw),
        "elements": lambda **kw: Dataset.range(n).map(lambda v: v).shuffle(**kw),
        "infinite": lambda **kw: Dataset.range(n).repeat().shuffle(**kw).take(n),
    }


@pytest.mark.parametrize("path", ["plan", "elements", "infinite"])
def test_shuffle_buffer_of_one_keeps_the_order(path):
    assert as_lists(_pipelines(20)[path](buffer_size=1)) == list(range(20))


@pytest.mark.parametrize("path", ["plan", "elements", "infinite"])
def test_small_buffer_keeps_elements_local(path):
    n, size = 200, 5
    order = as_lists(_pipelines(n)[path](buffer_size=size, seed=3))
    # (The infinite path may emit the next repetition's first elements near the end.)
    head = order[:n - size]
    assert len(set(head)) == len(head) and head != list(range(n - size))
    assert path == "infinite" or sorted(order) == list(range(n))
    # At output step t only the first t + size inputs have entered the buffer.
    assert all(value < t + size for t, value in enumerate(head))
    # Each step an element leaves a buffer of `size` with chance 1/size: none waits 100 steps.
    assert max(t - value for t, value in enumerate(head)) < 100


def test_planned_and_elementwise_shuffles_agree():
    for size in (4, 40):
        paths = _pipelines(40)
        planned = as_lists(paths["plan"](buffer_size=size, seed=11))
        assert planned == as_lists(paths["elements"](buffer_size=size, seed=11))


def test_full_buffer_first_element_is_uniform():
    tf.random.set_seed(5)
    firsts = [next(iter(Dataset.range(4).shuffle(4))).numpy() for _ in range(2000)]
    counts = np.bincount(firsts, minlength=4)
    assert np.all(np.abs(counts - 500) < 100), counts


def test_shuffle_rejects_empty_buffer():
    with pytest.raises(tf.errors.InvalidArgumentError, match="buffer_size must be greater than "
                       "zero or UNKNOWN_CARDINALITY, received 0"):
        Dataset.range(3).shuffle(0)


# --- integer arguments -----------------------------------------------------
_COUNTED = {
    "take": lambda n: Dataset.range(6).take(n),
    "skip": lambda n: Dataset.range(6).skip(n),
    "repeat": lambda n: Dataset.range(2).repeat(n),
    "batch": lambda n: Dataset.range(6).batch(n),
    "padded_batch": lambda n: Dataset.range(6).padded_batch(n),
    "shuffle": lambda n: Dataset.range(6).shuffle(n, seed=1),
    "enumerate": lambda n: Dataset.range(2).enumerate(n),
    "range": lambda n: Dataset.range(n),
    "prefetch": lambda n: Dataset.range(6).prefetch(n),
}


def _plain(ds) -> list:
    """Elements as Python lists (pairs as tuples of them)."""
    return [tuple(np.asarray(part).tolist() for part in e) if isinstance(e, tuple)
            else np.asarray(e).tolist() for e in ds.as_numpy_iterator()]


@pytest.mark.parametrize("method", list(_COUNTED))
def test_integer_arguments_accept_what_tf_converts_to_int64(method):
    expected = _plain(_COUNTED[method](2))
    for value in (np.int32(2), np.int64(2), np.float64(2.0), tf.constant(2),
                  tf.constant(2, tf.int64)):
        assert _plain(_COUNTED[method](value)) == expected, value


@pytest.mark.parametrize("method", list(_COUNTED))
def test_integer_arguments_reject_floats_and_strings_as_tf(method):
    # TensorFlow's errors, where neuroflow used to truncate 2.5 to 2 or parse "2".
    for value in (2.5, 2.0, "2"):
        with pytest.raises(TypeError, match=f"Cannot convert {value!r} to EagerTensor of "
                                            "dtype int64"):
            _COUNTED[method](value)
    with pytest.raises(ValueError, match="Tensor conversion requested dtype int64 for Tensor "
                                         "with dtype float32"):
        _COUNTED[method](tf.constant(2.0))
    # repeat(None) means forever and prefetch(None) AUTOTUNE.
    unsupported = {} if method in ("repeat", "prefetch") else None
    with pytest.raises(ValueError, match=re.escape(f"Attempt to convert a value ({unsupported}) "
                                                   "with an unsupported type")):
        _COUNTED[method](unsupported)
    with pytest.raises(ValueError, match=r"must be a scalar, received a value of shape \(1,\)"):
        _COUNTED[method](tf.constant([2]))


def test_repeat_none_is_forever():
    assert as_lists(Dataset.range(2).repeat(None).take(5)) == [0, 1, 0, 1, 0]


def test_enumerate_from_a_negative_start():
    # The counter from -2 (TF's values); its length no longer overflows.
    assert numpy_list(Dataset.range(3).enumerate(-2)) == [(-2, 0), (-1, 1), (0, 2)]
    assert numpy_list(Dataset.range(3).enumerate(-2**62).take(1)) == [(-2**62, 0)]


def test_prefetch_rejects_a_negative_buffer_other_than_autotune():
    assert as_lists(Dataset.range(3).prefetch(tf.data.AUTOTUNE)) == [0, 1, 2]
    assert as_lists(Dataset.range(3).prefetch(None)) == [0, 1, 2]
    assert as_lists(Dataset.range(3).prefetch(0)) == [0, 1, 2]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="buffer_size must be >= 0 or set buffer_size to be -1 for "
                             "auto-tuning, received -5"):
        Dataset.range(3).prefetch(-5)


def test_concatenate_checks_the_element_types_when_built():
    # As TF: the mismatch is found by concatenate itself, not by a later pass.
    with pytest.raises(TypeError, match="concatenate: the datasets have different element "
                                        "types"):
        Dataset.range(3).concatenate(Dataset.from_tensor_slices(np.zeros(2, np.float32)))
    with pytest.raises(TypeError, match="different element types"):
        Dataset.range(3).concatenate(Dataset.range(2).map(lambda v: (v, v)))


# --- batch and unbatch -----------------------------------------------------
def test_batch_shapes_values_and_remainder():
    x, y = np.arange(50).reshape(10, 5).astype(np.float32), np.arange(10)
    batches = list(Dataset.from_tensor_slices((x, y)).batch(4))
    assert [b[0].shape.as_list() for b in batches] == [[4, 5], [4, 5], [2, 5]]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x)
    np.testing.assert_array_equal(batches[-1][1].numpy(), y[8:])
    dropped = Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)
    assert [b[1].shape.as_list() for b in dropped] == [[4], [4]]
    assert len(dropped) == 2 and len(Dataset.from_tensor_slices(x).batch(4)) == 3


def test_batch_element_spec():
    ds = Dataset.from_tensor_slices({"a": np.zeros((8, 3), np.float32)})
    assert ds.batch(2).element_spec["a"] == tf.data.TensorSpec([None, 3], tf.float32)
    assert ds.batch(2, drop_remainder=True).element_spec["a"].shape == (2, 3)


def test_batch_of_elements_after_map_and_errors():
    ds = Dataset.range(7).map(lambda v: v * 2).batch(3)
    assert as_lists(ds) == [[0, 2, 4], [6, 8, 10], [12]]
    ragged = Dataset.from_generator(lambda: iter([[1], [1, 2]]),
                                    output_signature=tf.data.TensorSpec([None], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="different shapes"):
        list(ragged.batch(2))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Batch size must be greater than zero, received 0"):
        Dataset.range(3).batch(0)


def test_batch_spans_repeat_boundaries_like_numpy():
    x = np.arange(5)
    got = as_lists(Dataset.from_tensor_slices(x).repeat(3).batch(4))
    flat = np.tile(x, 3)
    assert got == [flat[i:i + 4].tolist() for i in range(0, 15, 4)]


def test_unbatch_inverts_batch():
    x = np.arange(14).reshape(7, 2)
    ds = Dataset.from_tensor_slices((x, x[:, 0])).batch(3).unbatch()
    values = numpy_list(ds)
    assert len(values) == 7
    np.testing.assert_array_equal(np.stack([v[0] for v in values]), x)
    assert ds.element_spec[0].shape == (2,)


def test_yielded_batches_do_not_alias_the_dataset():
    ds = Dataset.from_tensor_slices(np.arange(6.0)).batch(3)
    first = next(ds.as_numpy_iterator())
    first[:] = 100
    assert as_lists(ds)[0] == [0.0, 1.0, 2.0]


# --- map and filter --------------------------------------------------------
def test_map_unpacks_tuples_and_passes_dicts_whole():
    x, y = np.arange(5.0), np.arange(5)
    pairs = Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a * 2, b + 1))
    got = numpy_list(pairs)
    np.testing.assert_allclose([g[0] for g in got], x * 2)
    assert [g[1] for g in got] == (y + 1).tolist()

    dicts = Dataset.from_tensor_slices({"a": x, "b": x}).map(lambda d: d["a"] + d["b"])
    np.testing.assert_allclose(numpy_list(dicts), x * 2)

    as_list = Dataset.from_tensor_slices((x, y)).map(lambda a, b: [b, a])
    assert type(next(iter(as_list))) is tuple  # lists returned by fn become tuples, as in TF
    nested = Dataset.from_tensor_slices((x, y)).map(lambda a, b: (b, [a, a]))
    assert nested.element_spec[1] == tf.data.TensorSpec([2], tf.float64)  # but deeper: tensors


def test_map_on_batches_calls_fn_once_per_batch():
    calls = []

    def scale(a, b):
        calls.append(a.shape.as_list())
        return a / 2, b

    x = np.ones((10, 3), np.float32)
    ds = Dataset.from_tensor_slices((x, np.arange(10))).batch(4).map(scale)
    assert [a.shape.as_list() for a, _ in ds] == [[4, 3], [4, 3], [2, 3]]
    assert calls[-3:] == [[4, 3], [4, 3], [2, 3]]
    assert ds.element_spec[0].shape.as_list() == [None, 3]
    calls.clear()
    list(Dataset.from_tensor_slices(x).map(lambda a: a + 1).batch(4))
    assert len(calls) == 0
    per_element = []
    list(Dataset.from_tensor_slices(x).map(lambda a: per_element.append(1) or a).batch(4))
    assert len(per_element) == 10


def test_filter_and_predicate_type():
    evens = Dataset.range(10).filter(lambda v: v % 2 == 0)
    assert as_lists(evens) == [0, 2, 4, 6, 8]
    assert int(evens.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(ValueError, match="boolean"):
        list(Dataset.range(3).filter(lambda v: v))


def test_flat_map_reduce_and_enumerate():
    nested = Dataset.range(3).flat_map(lambda v: Dataset.range(v))
    assert as_lists(nested) == [0, 0, 1]
    total = Dataset.range(10).reduce(np.int64(0), lambda s, v: s + v)
    assert total.numpy() == 45
    assert numpy_list(Dataset.range(3).map(lambda v: v * 10).enumerate(start=5)) == [
        (5, 0), (6, 10), (7, 20)]
    shuffled = numpy_list(Dataset.range(6).shuffle(6).enumerate())
    assert [i for i, _ in shuffled] == list(range(6))
    assert sorted(v for _, v in shuffled) == list(range(6))


# --- take, skip, repeat, concatenate, cache, prefetch ---------------------
@pytest.mark.parametrize("path", ["plan", "elements"])
def test_take_skip_repeat_counts(path):
    base = Dataset.range(5) if path == "plan" else Dataset.range(5).map(lambda v: v)
    cases = {
        base.take(3): [0, 1, 2], base.take(9): list(range(5)), base.take(-1): list(range(5)),
        base.skip(2): [2, 3, 4], base.skip(7): [], base.skip(-1): [],
        base.repeat(2): list(range(5)) * 2, base.repeat(0): [],
        base.repeat().take(12): (list(range(5)) * 3)[:12],
        base.skip(1).take(2).repeat(2): [1, 2, 1, 2],
    }
    for ds, expected in cases.items():
        assert as_lists(ds) == expected
        assert len(ds) == len(expected)


def test_repeating_an_empty_dataset_ends():
    assert as_lists(Dataset.range(0).repeat()) == []
    assert as_lists(Dataset.range(0).shuffle(4).repeat().take(3)) == []
    assert as_lists(Dataset.range(0).map(lambda v: v).repeat()) == []


def test_repeat_reshuffles_each_repetition():
    values = as_lists(Dataset.range(20).shuffle(20, seed=2).repeat(2))
    assert sorted(values[:20]) == sorted(values[20:]) == list(range(20))
    assert values[:20] != values[20:]


def test_concatenate_and_prefetch():
    ds = Dataset.range(3).concatenate(Dataset.range(10, 12)).prefetch(tf.data.AUTOTUNE)
    assert as_lists(ds) == [0, 1, 2, 10, 11]
    assert len(ds) == 5


def test_cache_replays_without_rerunning_map():
    calls = []
    ds = Dataset.range(6).map(lambda v: calls.append(1) or v * v).cache()
    list(ds.take(2))  # a partial pass does not fill the cache
    assert as_lists(ds) == [v * v for v in range(6)]
    assert as_lists(ds) == [v * v for v in range(6)]
    assert len(calls) == 2 + 6
    ragged = Dataset.range(4).flat_map(lambda v: Dataset.from_tensors(tf.range(v))).cache()
    assert as_lists(ragged) == as_lists(ragged) == [[], [0], [0, 1], [0, 1, 2]]


def test_cache_after_shuffle_fixes_the_order():
    ds = Dataset.range(30).shuffle(30).cache()
    first = as_lists(ds)
    assert sorted(first) == list(range(30)) and first != list(range(30))
    assert as_lists(ds) == first and as_lists(ds) == first
    assert as_lists(ds.shuffle(30, seed=1).batch(7).unbatch()) != first  # still shuffles above


# --- cardinality and length -------------------------------------------------
def test_cardinality_and_len():
    base = Dataset.range(10)
    assert int(base.batch(3).cardinality()) == 4
    assert int(base.batch(3, drop_remainder=True).cardinality()) == 3
    infinite = base.repeat()
    assert int(infinite.cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(infinite.take(4).cardinality()) == 4
    assert int(infinite.batch(2).cardinality()) == tf.data.INFINITE_CARDINALITY
    unknown = base.filter(lambda v: v > 3)
    assert int(unknown.take(2).cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert int(Dataset.zip((infinite, base.take(3))).cardinality()) == 3
    with pytest.raises(TypeError, match="infinite"):
        len(infinite)
    with pytest.raises(TypeError, match="unknown"):
        len(unknown)
    assert bool(infinite) and bool(Dataset.range(0))


# --- iteration ----------------------------------------------------------------
def test_each_iteration_restarts_and_iterators_are_independent():
    ds = Dataset.from_tensor_slices((np.arange(8.0), np.arange(8))).batch(3)
    assert [len(list(ds)) for _ in range(3)] == [3, 3, 3]
    it1, it2 = iter(ds), iter(ds)
    assert next(it1)[1].numpy().tolist() == [0, 1, 2]
    assert it1.get_next()[1].numpy().tolist() == [3, 4, 5]
    assert next(it2)[1].numpy().tolist() == [0, 1, 2]
    next(it1)
    with pytest.raises(StopIteration):
        next(it1)


def test_sample_weight_batches():
    x, y, w = np.ones((5, 2), np.float32), np.arange(5), np.linspace(0, 1, 5)
    batches = list(Dataset.from_tensor_slices((x, y, w)).batch(2))
    assert all(len(b) == 3 for b in batches)
    np.testing.assert_allclose(np.concatenate([b[2].numpy() for b in batches]), w)


def test_training_loop_with_gradient_tape_converges():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-3.0]], np.float32) + 0.5
         + 0.01 * rng.normal(size=(256, 1)).astype(np.float32))
    w, b = tf.Variable(tf.zeros([2, 1])), tf.Variable(tf.zeros([1]))
    ds = Dataset.from_tensor_slices((x, y)).shuffle(256, seed=0).batch(32)
    for _ in range(30):
        for xb, yb in ds:
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
            gw, gb = tape.gradient(loss, [w, b])
            w.assign_sub(0.1 * gw)
            b.assign_sub(0.1 * gb)
    design = np.hstack([x, np.ones((256, 1), np.float32)])
    exact = np.linalg.lstsq(design, y, rcond=None)[0].ravel()
    np.testing.assert_allclose(np.append(w.numpy().ravel(), b.numpy()), exact, atol=1e-3)


# --- differential tests against TensorFlow ---------------------------------
@pytest.mark.tensorflow
def test_cardinality_and_specs_match_tensorflow():
    real = pytest.importorskip("tensorflow")

    def build(module):
        D = module.data.Dataset
        base = D.from_tensor_slices((np.arange(10.0), np.arange(10)))
        return [
            base, base.batch(3), base.batch(3, drop_remainder=True), base.repeat(),
            base.repeat(2).skip(3), base.take(4).shuffle(3), base.filter(lambda a, b: b > 2),
            base.batch(4).unbatch(),
            D.zip((base, D.range(4))), base.enumerate(2), base.map(lambda a, b: (b, [a, a])),
        ]

    for ours, theirs in zip(build(tf), build(real)):
        assert int(ours.cardinality()) == int(theirs.cardinality())
        assert repr(ours.element_spec) == repr(theirs.element_spec)


@pytest.mark.tensorflow
def test_deterministic_pipelines_match_tensorflow():
    real = pytest.importorskip("tensorflow")

    def build(module):
        D = module.data.Dataset
        x = np.arange(24, dtype=np.float32).reshape(12, 2)
        return D.from_tensor_slices({"x": x, "y": np.arange(12)}).skip(1).repeat(2) \
            .map(lambda d: (d["x"] * 2, d["y"])).batch(5).take(4)

    ours, theirs = numpy_list(build(tf)), list(build(real).as_numpy_iterator())
    assert len(ours) == len(theirs)
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_map_spec_comes_from_a_trace_so_value_sizes_are_unknown():
    ragged = Dataset.range(1, 5).map(lambda n: tf.range(n))
    assert ragged.element_spec.shape.as_list() == [None]
    assert [len(v) for v in ragged.as_numpy_iterator()] == [1, 2, 3, 4]
    # A function that reads values (TF refuses it) gets the first element's spec.
    read = Dataset.range(2, 4).map(lambda n: tf.zeros([int(n.numpy())]))
    assert read.element_spec.shape.as_list() == [2]
