"""``Dataset.interleave`` and ``Dataset.padded_batch``.

The NumPy tests check orders and padded values written out from the definitions
(and, for interleave, a plain simulation of TensorFlow's cycle); the tests marked
``tensorflow`` build the same pipelines with TensorFlow 2.21 and compare elements,
dtypes, element specs, cardinalities and error classes.
"""

from __future__ import annotations

import itertools
import os
import warnings

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.data import interleave as interleave_module
from neuroflow.errors import DataLossError, InvalidArgumentError

Dataset = tf.data.Dataset
Spec = tf.data.TensorSpec  # the class element_spec holds (tf.TensorSpec is tf.function's)


def values(ds) -> list:
    return [np.asarray(e).tolist() for e in ds.as_numpy_iterator()]


def repeated(x):
    """``x`` repeated ``x`` times: each inner dataset is told apart by its value."""
    return Dataset.from_tensors(x).repeat(x)


def simulate(inputs: list[list], cycle: int, block: int) -> list:
    """TensorFlow's interleave cycle, step by step over every slot, on Python lists."""
    slots: list[list | None] = [None] * cycle
    out, index, taken, pending, open_slots = [], 0, 0, iter(inputs), 0
    ended = False
    while not ended or open_slots:
        if slots[index] is not None:
            if slots[index]:
                out.append(slots[index].pop(0))
                taken += 1
                if taken < block:
                    continue
            else:
                slots[index] = None
                open_slots -= 1
            index, taken = (index + 1) % cycle, 0
        elif not ended:
            nxt = next(pending, None)
            if nxt is None:
                ended = True
            else:
                slots[index], open_slots = list(nxt), open_slots + 1
        else:
            index, taken = (index + 1) % cycle, 0
    return out


# --- interleave: order ------------------------------------------------------------------------
def test_interleave_order_from_the_definition():
    # TF's documented example: two open datasets of six 1s, 2s, ..., blocks of four.
    ds = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6),
                                        cycle_length=2, block_length=4)
    assert values(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2,
                          3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4,
                          5, 5, 5, 5, 5, 5]
    # An exhausted slot is refilled when the cycle next reaches it, not at once:
    # 1 | 2 | (1 done) 3 | 2 | 3 | (2 done) 4 | 3 | 4 | 5 | 4 | 5 ...
    ds = Dataset.range(1, 6).interleave(repeated, cycle_length=2)
    assert values(ds) == [1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 4, 5, 5, 5, 5]
    # More slots than inputs: after the input ends the cycle passes over empty slots.
    ds = Dataset.range(1, 4).interleave(repeated, cycle_length=5, block_length=2)
    assert values(ds) == [1, 2, 2, 3, 3, 3]


def test_interleave_with_one_slot_is_flat_map():
    ds = Dataset.range(5)
    assert values(ds.interleave(lambda x: Dataset.range(x), cycle_length=1, block_length=3)) \
        == values(ds.flat_map(lambda x: Dataset.range(x)))


@pytest.mark.parametrize("seed", range(12))
def test_interleave_matches_the_cycle_simulated_slot_by_slot(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 5, size=int(rng.integers(0, 9))).tolist()  # empty ones too
    cycle, block = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    inputs = [[100 * i + j for j in range(n)] for i, n in enumerate(lengths)]
    pairs = Dataset.from_tensor_slices((np.arange(len(lengths), dtype=np.int64),
                                        np.array(lengths, dtype=np.int64)))
    ds = pairs.interleave(lambda i, n: Dataset.range(n).map(lambda j: 100 * i + j),
                          cycle_length=cycle, block_length=block)
    assert values(ds) == simulate(inputs, cycle, block), (lengths, cycle, block)


def test_interleave_unpacks_tuples_and_passes_dicts_whole():
    pairs = Dataset.from_tensor_slices((np.array([1, 2]), np.array([10, 20])))
    ds = pairs.interleave(lambda a, b: Dataset.from_tensor_slices(tf.stack([a, b])),
                          cycle_length=2)
    assert values(ds) == [1, 2, 10, 20]
    records = Dataset.from_tensor_slices({"n": np.array([1, 2]), "v": np.array([5.0, 6.0])})
    ds = records.interleave(lambda d: Dataset.from_tensors({"v": d["v"]}).repeat(d["n"]),
                            cycle_length=2)
    assert [float(e["v"]) for e in ds] == [5.0, 6.0, 6.0]


def test_interleave_is_lazy_and_restarts_each_epoch():
    ds = Dataset.range(1, 4).repeat().interleave(lambda x: Dataset.from_tensors(x).repeat(),
                                                 cycle_length=2, block_length=2).take(6)
    assert values(ds) == [1, 1, 2, 2, 1, 1]
    assert values(ds) == [1, 1, 2, 2, 1, 1]


def test_default_cycle_length_is_the_schedulable_core_count(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert interleave_module.schedulable_cpus() == 3
    ds = Dataset.range(1, 7)
    explicit = {n: values(ds.interleave(repeated, cycle_length=n)) for n in (1, 2, 3)}
    assert values(ds.interleave(repeated)) == explicit[3]
    assert values(ds.interleave(repeated, cycle_length=tf.data.AUTOTUNE)) == explicit[3]
    # With num_parallel_calls: that many slots at most, or a third of the cores for AUTOTUNE.
    assert values(ds.interleave(repeated, num_parallel_calls=2)) == explicit[2]
    assert values(ds.interleave(repeated, num_parallel_calls=tf.data.AUTOTUNE)) == explicit[1]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(7)), raising=False)
    assert interleave_module.default_cycle_length(tf.data.AUTOTUNE) == 3
    assert interleave_module.default_cycle_length(None) == 7


def test_without_an_affinity_mask_the_core_count_is_used(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 5)
    assert interleave_module.schedulable_cpus() == 5
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert interleave_module.schedulable_cpus() == 4  # TF's guess when it cannot tell


def test_parallel_and_nondeterministic_keep_the_order():
    ds = Dataset.range(1, 6)
    expected = values(ds.interleave(repeated, cycle_length=3, block_length=2))
    for calls, deterministic in itertools.product((1, 3, tf.data.AUTOTUNE), (None, True, False)):
        got = ds.interleave(repeated, cycle_length=3, block_length=2,
                            num_parallel_calls=calls, deterministic=deterministic)
        assert values(got) == expected


# --- interleave: spec, cardinality, errors ----------------------------------------------------
def test_interleave_element_spec():
    ds = Dataset.range(4).interleave(lambda x: Dataset.range(x))
    assert ds.element_spec == Spec([], tf.int64)
    # Sizes computed from the element's values are unknown, as TF's trace sees them.
    ragged = Dataset.range(1, 4).interleave(lambda x: Dataset.from_tensors(tf.range(x)))
    assert ragged.element_spec == Spec([None], tf.int64)
    fixed = Dataset.range(3).interleave(lambda x: Dataset.from_tensors(tf.fill([2, 3], x)))
    assert fixed.element_spec == Spec([2, 3], tf.int64)
    nested = Dataset.range(2).interleave(
        lambda x: Dataset.from_tensors({"a": x, "b": (tf.cast(x, tf.float32), [x, x])}))
    assert nested.element_spec == {"a": Spec([], tf.int64),
                                   "b": (Spec([], tf.float32),
                                         Spec([2], tf.int64))}
    # A size the input's spec leaves unknown stays unknown, even when the samples agree.
    rows = Dataset.from_generator(lambda: iter([np.ones(2), np.ones(2), np.ones(3)]),
                                  output_signature=tf.TensorSpec([None], tf.float64))
    assert rows.interleave(Dataset.from_tensors).element_spec == Spec([None],
                                                                               tf.float64)
    # An empty input: the function runs on a stand-in element of the input's spec.
    assert Dataset.range(0).interleave(lambda x: Dataset.range(x)).element_spec \
        == Spec([], tf.int64)
    ranks = Dataset.range(2).interleave(lambda x: Dataset.from_tensors(tf.zeros([1] * int(x))))
    assert ranks.element_spec.shape.rank is None


def test_interleave_cardinality():
    unknown, infinite = tf.data.UNKNOWN_CARDINALITY, tf.data.INFINITE_CARDINALITY
    assert int(Dataset.range(3).interleave(lambda x: Dataset.range(2)).cardinality()) == unknown
    looped = Dataset.range(3).repeat()
    assert int(looped.interleave(lambda x: Dataset.range(2)).cardinality()) == unknown
    parallel = looped.interleave(lambda x: Dataset.range(2), cycle_length=2,
                                 num_parallel_calls=2)
    assert int(parallel.cardinality()) == infinite


def test_deterministic_without_parallel_calls_warns():
    with pytest.warns(UserWarning, match="`deterministic` argument has no effect unless"):
        Dataset.range(3).interleave(repeated, deterministic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.range(3).interleave(repeated, num_parallel_calls=1, deterministic=False)


INTERLEAVE_ERRORS = [
    ("returns-a-tensor", lambda: list(Dataset.range(3).interleave(lambda x: x)), TypeError,
     ["must return a `Dataset` object. Got 'Tensor'", "Dataset.from_tensors(x)"]),
    ("spec-of-a-tuple", lambda: Dataset.range(3).interleave(
        lambda x: (Dataset.range(x), Dataset.range(x))).element_spec, TypeError,
     ["Got 'tuple'"]),
    ("cycle-zero", lambda: Dataset.range(3).interleave(repeated, cycle_length=0),
     InvalidArgumentError, ["cycle_length must be greater than zero", "received 0"]),
    ("cycle-negative", lambda: Dataset.range(3).interleave(repeated, cycle_length=-2),
     InvalidArgumentError, ["cycle_length must be greater than zero", "received -2"]),
    ("block-zero", lambda: Dataset.range(3).interleave(repeated, block_length=0),
     InvalidArgumentError, ["block_length must be greater than zero", "received 0"]),
    ("calls-zero", lambda: Dataset.range(3).interleave(repeated, num_parallel_calls=0),
     InvalidArgumentError, ["num_parallel_calls must be greater than zero", "AUTOTUNE"]),
    ("calls-above-cycle",
     lambda: Dataset.range(3).interleave(repeated, cycle_length=2, num_parallel_calls=3),
     InvalidArgumentError, ["`num_parallel_calls` is 3 and `cycle_length` is 2",
                            "Lower num_parallel_calls"]),
    ("cycle-float", lambda: Dataset.range(3).interleave(repeated, cycle_length=2.5), TypeError,
     ["Cannot convert 2.5 to EagerTensor of dtype int64"]),
    ("different-dtypes", lambda: Dataset.range(2).interleave(
        lambda x: Dataset.from_tensors(x) if int(x) == 0 else Dataset.from_tensors(1.0)
    ).element_spec, TypeError, ["different element types", "tf.int64", "tf.float32"]),
]


@pytest.mark.parametrize("call, error, phrases",
                         [pytest.param(*row[1:], id=row[0]) for row in INTERLEAVE_ERRORS])
def test_interleave_errors(call, error, phrases):
    with pytest.raises(error) as info:
        call()
    for phrase in phrases:
        assert phrase in str(info.value)


def test_too_many_parallel_calls_for_the_default_cycle_fail_when_iterated(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    ds = Dataset.range(3).interleave(repeated, num_parallel_calls=5)  # as TF: built fine
    with pytest.raises(InvalidArgumentError, match="`num_parallel_calls` is 5 and "
                                                   "`cycle_length` is 2"):
        next(iter(ds))


# --- padded_batch ------------------------------------------------------------------------------
def ragged_pairs():
    """Elements (arange(n) as float32, ones((n, n + 1)) as int32) for n = 1, 3, 2."""
    def gen():
        for n in (1, 3, 2):
            yield np.arange(n, dtype=np.float32), np.ones((n, n + 1), np.int32)

    signature = (tf.TensorSpec([None], tf.float32), tf.TensorSpec([None, None], tf.int32))
    return Dataset.from_generator(gen, output_signature=signature)


def test_padded_batch_pads_to_the_longest_in_each_batch():
    ds = Dataset.range(1, 5).map(lambda n: tf.range(n) + 1)
    assert values(ds.padded_batch(3)) == [[[1, 0, 0], [1, 2, 0], [1, 2, 3]], [[1, 2, 3, 4]]]
    assert values(ds.padded_batch(3, drop_remainder=True)) == [[[1, 0, 0], [1, 2, 0],
                                                                [1, 2, 3]]]
    assert values(ds.padded_batch(3, padded_shapes=[5])) == [
        [[1, 0, 0, 0, 0], [1, 2, 0, 0, 0], [1, 2, 3, 0, 0]], [[1, 2, 3, 4, 0]]]
    for longest in ([None], [-1], (None,), tf.TensorShape([None]), np.array([-1])):
        assert values(ds.padded_batch(2, padded_shapes=longest)) == [[[1, 0], [1, 2]],
                                                                     [[1, 2, 3, 0],
                                                                      [1, 2, 3, 4]]]


def test_padded_batch_of_nested_2d_components():
    first, second = list(ragged_pairs().padded_batch(2, padding_values=(-1.0, 7)))
    a, b = first
    np.testing.assert_array_equal(a.numpy(), np.array([[0, -1, -1], [0, 1, 2]], np.float32))
    expected = np.full((2, 3, 4), 7, np.int32)
    expected[0, :1, :2] = 1
    expected[1, :3, :4] = 1
    np.testing.assert_array_equal(b.numpy(), expected)
    assert a.dtype == tf.float32 and b.dtype == tf.int32
    np.testing.assert_array_equal(second[0].numpy(), [[0, 1]])
    np.testing.assert_array_equal(second[1].numpy(), np.ones((1, 2, 3), np.int32))
    ds = ragged_pairs().padded_batch(2, padded_shapes=([4], [None, 5]))
    assert ds.element_spec == (Spec([None, 4], tf.float32),
                               Spec([None, None, 5], tf.int32))
    a, b = next(iter(ds))
    assert a.shape == (2, 4) and b.shape == (2, 3, 5)
    np.testing.assert_array_equal(b.numpy()[0], [[1, 1, 0, 0, 0]] + [[0] * 5] * 2)


def test_padded_batch_of_dicts_with_defaults_per_dtype():
    def gen():
        for n in (2, 1, 3):
            yield {"b": np.arange(n), "a": (np.float32(n), np.ones(n, bool))}

    signature = {"b": tf.TensorSpec([None], tf.int64),
                 "a": (Spec([], tf.float32), Spec([None], tf.bool))}
    ds = Dataset.from_generator(gen, output_signature=signature)
    first = next(iter(ds.padded_batch(2)))
    assert first["b"].numpy().tolist() == [[0, 1], [0, 0]]
    assert first["a"][0].numpy().tolist() == [2.0, 1.0]
    assert first["a"][1].numpy().tolist() == [[True, True], [True, False]]  # False pads bools
    shaped = ds.padded_batch(2, padded_shapes={"b": [3], "a": ([], [4])},
                             padding_values={"b": np.int64(-1), "a": (None, True)})
    first = next(iter(shaped))
    assert first["b"].numpy().tolist() == [[0, 1, -1], [0, -1, -1]]
    assert first["a"][1].numpy().tolist() == [[True] * 4] * 2
    defaults = next(iter(ds.padded_batch(2, padding_values={"b": np.int64(-1), "a": None})))
    assert defaults["b"].numpy().tolist() == [[0, 1], [0, -1]]
    assert defaults["a"][1].numpy().tolist() == [[True, True], [True, False]]
    assert shaped.element_spec == {"b": Spec([None, 3], tf.int64),
                                   "a": (Spec([None], tf.float32),
                                         Spec([None, 4], tf.bool))}


def test_padded_batch_of_scalars_and_of_fixed_shapes():
    ds = Dataset.range(5)
    assert values(ds.padded_batch(2)) == [[0, 1], [2, 3], [4]]
    assert values(ds.padded_batch(2, padded_shapes=[])) == [[0, 1], [2, 3], [4]]
    assert ds.padded_batch(2).element_spec == Spec([None], tf.int64)
    rows = Dataset.from_tensor_slices(np.arange(12.0).reshape(4, 3))
    assert rows.padded_batch(2).element_spec == Spec([None, 3], tf.float64)
    assert values(rows.padded_batch(2, padded_shapes=[5]))[1] == [[6, 7, 8, 0, 0],
                                                                   [9, 10, 11, 0, 0]]
    assert rows.padded_batch(2, padded_shapes=[None]).element_spec \
        == Spec([None, None], tf.float64)


def test_padded_shapes_in_every_form():
    ds = ragged_pairs()
    expected = values(ds.padded_batch(2, padded_shapes=([4], [None, 5])).map(lambda a, b: b))
    for shapes in [(tf.TensorShape([4]), tf.TensorShape([None, 5])),
                   (tf.constant([4], tf.int64), tf.constant([-1, 5], tf.int64)),
                   (np.array([4]), np.array([-1, 5])), (4, [None, 5]), ([4], (-1, 5))]:
        got = ds.padded_batch(2, padded_shapes=shapes)
        assert values(got.map(lambda a, b: b)) == expected
        assert got.element_spec[1] == Spec([None, None, 5], tf.int32)


def test_padding_value_broadcasts_to_every_component():
    pairs = Dataset.range(1, 3).map(lambda n: (tf.range(n), tf.range(n) * 2))
    assert [tuple(np.asarray(p).tolist() for p in e) for e in
            pairs.padded_batch(2, padding_values=np.int64(9)).as_numpy_iterator()] \
        == [([[0, 9], [0, 1]], [[0, 9], [0, 2]])]


def test_padded_batch_cardinality_and_epochs():
    ds = Dataset.range(1, 6).map(lambda n: tf.range(n))
    assert int(ds.padded_batch(2).cardinality()) == 3
    assert int(ds.padded_batch(2, drop_remainder=np.bool_(True)).cardinality()) == 2
    assert int(ds.repeat().padded_batch(2).cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(ragged_pairs().padded_batch(2).cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert ragged_pairs().padded_batch(2, drop_remainder=tf.constant(True)).element_spec \
        == (Spec([2, None], tf.float32), Spec([2, None, None], tf.int32))
    batched = ds.padded_batch(4)
    assert values(batched) == values(batched)
    assert values(Dataset.range(0).map(lambda n: tf.range(n)).padded_batch(2)) == []


def test_interleave_then_padded_batch():
    ds = Dataset.range(1, 4).interleave(
        lambda n: Dataset.from_tensors(tf.range(n)).repeat(2), cycle_length=2).padded_batch(4)
    # Slots: [0] [0 1] [0] [0 1] then [0 1 2] twice.
    assert values(ds) == [[[0, 0], [0, 1], [0, 0], [0, 1]], [[0, 1, 2], [0, 1, 2]]]
    assert ds.element_spec == Spec([None, None], tf.int64)


def _unknown_rank():
    return Dataset.from_generator(lambda: iter([np.arange(2), np.arange(6).reshape(2, 3)]),
                                  output_signature=tf.TensorSpec(None, tf.int64))


RAGGED = Dataset.range(1, 4).map(lambda n: tf.range(n))
PADDED_BATCH_ERRORS = [
    ("pad-to-smaller", lambda: values(RAGGED.padded_batch(2, padded_shapes=[2])), DataLossError,
     ["Attempted to pad to a smaller size than the input element", "shape [3]", "[2]",
      "None to pad"]),
    ("rank-at-runtime", lambda: values(_unknown_rank().padded_batch(2, padded_shapes=[None])),
     InvalidArgumentError, ["same rank as the padded shape for component0",
                            "expected rank 1 but got element with rank 2"]),
    ("unknown-rank", lambda: _unknown_rank().padded_batch(2), ValueError,
     ["provide `padded_shapes`", "component 0 has unknown rank", "padded_shapes=[None]"]),
    ("incompatible-rank", lambda: RAGGED.padded_batch(2, padded_shapes=[2, 3]), ValueError,
     ["padded shape (2, 3) is not compatible with the shape (", "one size per dimension"]),
    ("smaller-than-known",
     lambda: Dataset.from_tensor_slices(np.zeros((4, 3))).padded_batch(2, padded_shapes=[2]),
     ValueError, ["padded shape (2,) is not compatible with the shape (3,)"]),
    ("value-not-scalar", lambda: RAGGED.padded_batch(2, padding_values=[1, 2]), ValueError,
     ["should be scalars, but got (2,)", "padding_values=-1"]),
    ("value-dtype", lambda: RAGGED.padded_batch(2, padding_values=-1), TypeError,
     ["values type int32 does not match type int64", "tf.constant(-1, tf.int64)"]),
    ("value-structure-for-one", lambda: RAGGED.padded_batch(2, padding_values=(1, 2)),
     TypeError, ["single tensors", "one scalar", "(1, 2)"]),
    ("shapes-as-a-list", lambda: ragged_pairs().padded_batch(2, padded_shapes=[[4], [None]]),
     TypeError, ["structure of the dataset's elements", "a tuple was expected",
                 "use tuples for structure"]),
    ("values-too-many", lambda: ragged_pairs().padded_batch(2, padding_values=(1.0, 7, 3)),
     ValueError, ["as many parts as the dataset's elements (2); received 3"]),
    ("shapes-missing-key", lambda: Dataset.from_tensor_slices(
        {"a": np.zeros((2, 1)), "b": np.zeros((2, 1))}).padded_batch(1, padded_shapes={"a": [1]}),
     ValueError, ["keys of the dataset's elements, ['a', 'b']; received keys ['a']"]),
    ("shapes-dict-for-tuple", lambda: ragged_pairs().padded_batch(2, padded_shapes={"a": [1]}),
     TypeError, ["a tuple was expected"]),
    ("shape-of-floats", lambda: RAGGED.padded_batch(2, padded_shapes=[2.5]), TypeError,
     ["must be a `tf.int64` vector tensor, but its element type was float64"]),
    ("shape-2d", lambda: RAGGED.padded_batch(2, padded_shapes=np.array([[2]])), ValueError,
     ["must be a `tf.int64` vector tensor, but its shape was (1, 1)", "[None, 5]"]),
    ("shape-below-minus-one", lambda: RAGGED.padded_batch(2, padded_shapes=[-2]), ValueError,
     ["Dimension -2 must be >= 0", "use -1 or None"]),
    ("shape-none-for-a-component",
     lambda: ragged_pairs().padded_batch(2, padded_shapes=(None, [None, 5])), ValueError,
     ["component 0 has no padded shape (None)"]),
    ("shape-unknown-rank", lambda: RAGGED.padded_batch(2, padded_shapes=tf.TensorShape(None)),
     ValueError, ["component 0 has unknown rank", "one size (or None) per dimension"]),
    ("batch-zero", lambda: RAGGED.padded_batch(0), InvalidArgumentError,
     ["Batch size must be greater than zero, received 0"]),
    ("batch-float", lambda: RAGGED.padded_batch(2.5), TypeError,
     ["Cannot convert 2.5 to EagerTensor of dtype int64"]),
    ("drop-remainder-int", lambda: RAGGED.padded_batch(2, drop_remainder=1), TypeError,
     ["Cannot convert 1 to EagerTensor of dtype bool", "True or False"]),
]


@pytest.mark.parametrize("call, error, phrases",
                         [pytest.param(*row[1:], id=row[0]) for row in PADDED_BATCH_ERRORS])
def test_padded_batch_errors(call, error, phrases):
    with pytest.raises(error) as info:
        call()
    for phrase in phrases:
        assert phrase in str(info.value)


# --- against TensorFlow -----------------------------------------------------------------------
def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("tensorflow")


def _plain(value):
    """An element or spec as comparable Python values (dtypes included)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "shape") and hasattr(value, "dtype") and not hasattr(value, "ndim"):
        rank = value.shape.rank
        return ("spec", None if rank is None else list(value.shape), value.dtype.name)
    array = np.asarray(value)
    return str(array.dtype), array.tolist()


def _outcome(build, limit: int = 60):
    """What a pipeline gives: its elements, spec and cardinality, or the error it raises
    (TF raises some when the dataset is built, some when it is read)."""
    try:
        ds = build()
        spec, size = _plain(ds.element_spec), int(ds.cardinality())
        elements = [_plain(e) for e in itertools.islice(ds.as_numpy_iterator(), limit)]
        return "value", (elements, spec, size)
    except Exception as error:  # the class is what is compared
        return "error", error


def _assert_same(build, real, compare_spec: bool = True):
    theirs, ours = _outcome(lambda: build(real)), _outcome(lambda: build(tf))
    if theirs[0] == "error":
        assert ours[0] == "error", f"TF raised {theirs[1]!r}; neuroflow gave {ours[1]}"
        if isinstance(theirs[1], real.errors.OpError):
            assert type(ours[1]).__name__ == type(theirs[1]).__name__, (ours[1], theirs[1])
        else:
            assert isinstance(ours[1], (TypeError, ValueError))
            assert isinstance(ours[1], type(theirs[1])), (ours[1], theirs[1])
        return
    assert ours[0] == "value", f"neuroflow raised {ours[1]!r}"
    (elements, spec, size), (their_elements, their_spec, their_size) = ours[1], theirs[1]
    assert elements == their_elements
    assert size == their_size
    if compare_spec:
        assert spec == their_spec


def _repeated(lib):
    return lambda x: lib.data.Dataset.from_tensors(x).repeat(x)


def _tagged(lib):
    """Dataset n of the input: 0..n-1 plus 10 * n, so each element names its dataset."""
    return lambda n: lib.data.Dataset.range(lib.cast(n, lib.int64)).map(
        lambda j: j + 10 * lib.cast(n, lib.int64))


def _generated(lib, rows, spec):
    return lib.data.Dataset.from_generator(lambda: iter(rows), output_signature=spec)


INTERLEAVE_CASES = {
    **{f"cycle{c}-block{b}": (lambda lib, c=c, b=b: lib.data.Dataset.range(1, 7).interleave(
        _repeated(lib), cycle_length=c, block_length=b))
       for c, b in [(1, 1), (2, 1), (2, 3), (3, 2), (4, 4), (9, 1), (None, 1), (None, 2)]},
    **{f"calls{n}-cycle{c}": (lambda lib, n=n, c=c: lib.data.Dataset.range(1, 7).interleave(
        _repeated(lib), cycle_length=c, block_length=2, num_parallel_calls=n,
        deterministic=True))
       for n, c in [(1, None), (2, 3), (-1, 3), (-1, None), (3, 3)]},
    "empty-inner": lambda lib: lib.data.Dataset.from_tensor_slices(
        np.array([3, 0, 2, 5, 0, 1, 4], np.int32)).interleave(_tagged(lib), cycle_length=3,
                                                              block_length=2),
    "empty-input": lambda lib: lib.data.Dataset.range(0).interleave(_tagged(lib)),
    "ragged-rows": lambda lib: lib.data.Dataset.range(1, 5).interleave(
        lambda n: lib.data.Dataset.from_tensors(lib.range(n)).repeat(2), cycle_length=2),
    "tuples": lambda lib: lib.data.Dataset.from_tensor_slices(
        (np.arange(4), np.arange(4) * 1.5)).interleave(
        lambda i, x: lib.data.Dataset.from_tensors((x, i)).repeat(i + 1), cycle_length=3),
    "dicts": lambda lib: lib.data.Dataset.from_tensor_slices(
        {"n": np.arange(1, 5), "v": np.arange(4.0)}).interleave(
        lambda d: lib.data.Dataset.from_tensors({"s": d["v"], "t": (d["n"], [d["v"]])})
        .repeat(d["n"]), cycle_length=2, block_length=2),
    "generator-rows": lambda lib: _generated(
        lib, [np.arange(n, dtype=np.float32) for n in (3, 1, 0, 2)],
        lib.TensorSpec([None], lib.float32)).interleave(
        lambda r: lib.data.Dataset.from_tensor_slices(r), cycle_length=2),
    "endless-input": lambda lib: lib.data.Dataset.range(1, 4).repeat().interleave(
        _repeated(lib), cycle_length=2).take(25),
    "endless-parallel": lambda lib: lib.data.Dataset.range(1, 4).repeat().interleave(
        _repeated(lib), cycle_length=2, num_parallel_calls=2),
    # (TF 2.21 fails on a returned Tensor with an AttributeError while writing its TypeError.)
    "not-a-dataset": lambda lib: lib.data.Dataset.range(3).interleave(
        lambda x: (lib.data.Dataset.range(x), lib.data.Dataset.range(x))),
    "cycle-0": lambda lib: lib.data.Dataset.range(3).interleave(_repeated(lib), cycle_length=0),
    "block-0": lambda lib: lib.data.Dataset.range(3).interleave(_repeated(lib), block_length=0),
    "calls-0": lambda lib: lib.data.Dataset.range(3).interleave(_repeated(lib),
                                                                num_parallel_calls=0),
    "calls-above-cycle": lambda lib: lib.data.Dataset.range(3).interleave(
        _repeated(lib), cycle_length=2, num_parallel_calls=3),
    "calls-above-default": lambda lib: lib.data.Dataset.range(3).interleave(
        _repeated(lib), num_parallel_calls=os.cpu_count() + 1),
    "cycle-float": lambda lib: lib.data.Dataset.range(3).interleave(_repeated(lib),
                                                                    cycle_length=2.5),
}


@pytest.mark.tensorflow
@pytest.mark.parametrize("case", list(INTERLEAVE_CASES))
def test_interleave_matches_tensorflow(case):
    _assert_same(INTERLEAVE_CASES[case], _tensorflow())


def _pairs(lib):
    rows = [(np.arange(n, dtype=np.float32), np.ones((n, n + 1), np.int32)) for n in (1, 3, 2)]
    return _generated(lib, rows, (lib.TensorSpec([None], lib.float32),
                                  lib.TensorSpec([None, None], lib.int32)))


def _records(lib):
    rows = [{"b": np.arange(n), "a": (np.float32(n), np.arange(n) % 2 == 0)} for n in (2, 1, 3)]
    return _generated(lib, rows, {"b": lib.TensorSpec([None], lib.int64),
                                  "a": (lib.TensorSpec([], lib.float32),
                                        lib.TensorSpec([None], lib.bool))})


def _ragged(lib, count: int = 6):
    return lib.data.Dataset.range(1, count).map(lambda n: lib.range(n) + 1)


def _unknown(lib):
    return _generated(lib, [np.arange(2), np.arange(6).reshape(2, 3)],
                      lib.TensorSpec(None, lib.int64))


PADDED_BATCH_CASES = {
    **{f"ragged-batch{b}-drop{d}": (
        lambda lib, b=b, d=d: _ragged(lib).padded_batch(b, drop_remainder=d))
       for b in (1, 2, 3, 10) for d in (False, True)},
    "ragged-fixed": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=[6]),
    "ragged-minus-one": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=[-1]),
    "ragged-value": lambda lib: _ragged(lib).padded_batch(
        3, padding_values=lib.constant(-5, lib.int64)),
    "ragged-2d": lambda lib: lib.data.Dataset.range(1, 5).map(
        lambda n: lib.fill([n, 4 - n], n)).padded_batch(3),
    "pairs": lambda lib: _pairs(lib).padded_batch(2),
    "pairs-drop": lambda lib: _pairs(lib).padded_batch(2, drop_remainder=True),
    "pairs-shapes": lambda lib: _pairs(lib).padded_batch(2, padded_shapes=([4], [None, 5])),
    "pairs-values": lambda lib: _pairs(lib).padded_batch(2, padding_values=(-1.0, 7)),
    "pairs-value-default": lambda lib: _pairs(lib).padded_batch(2, padding_values=(None, 7)),
    "pairs-tensorshape": lambda lib: _pairs(lib).padded_batch(
        2, padded_shapes=(lib.TensorShape([4]), lib.TensorShape([None, None]))),
    "pairs-tensor-shapes": lambda lib: _pairs(lib).padded_batch(
        2, padded_shapes=(lib.constant([4], lib.int64), lib.constant([-1, 5], lib.int64))),
    "pairs-numpy-shapes": lambda lib: _pairs(lib).padded_batch(
        2, padded_shapes=(np.array([4]), np.array([-1, 5]))),
    "pairs-int-shape": lambda lib: _pairs(lib).padded_batch(2, padded_shapes=(4, [None, 5])),
    "records": lambda lib: _records(lib).padded_batch(2),
    "records-shapes": lambda lib: _records(lib).padded_batch(
        2, padded_shapes={"b": [3], "a": ([], [4])},
        padding_values={"b": np.int64(-1), "a": (np.float32(0.5), True)}),
    "records-default-part": lambda lib: _records(lib).padded_batch(
        2, padding_values={"b": np.int64(-1), "a": None}),
    "records-shapes-none-part": lambda lib: _records(lib).padded_batch(
        2, padded_shapes={"b": [3], "a": None}),
    "scalars": lambda lib: lib.data.Dataset.range(5).padded_batch(2),
    "scalars-shape": lambda lib: lib.data.Dataset.range(5).padded_batch(2, padded_shapes=[]),
    "fixed-rows": lambda lib: lib.data.Dataset.from_tensor_slices(
        np.arange(12.0).reshape(4, 3)).padded_batch(3),
    "fixed-rows-wider": lambda lib: lib.data.Dataset.from_tensor_slices(
        np.arange(12.0).reshape(4, 3)).padded_batch(3, padded_shapes=[5]),
    "fixed-rows-none": lambda lib: lib.data.Dataset.from_tensor_slices(
        np.arange(12.0).reshape(4, 3)).padded_batch(3, padded_shapes=[None]),
    "bools": lambda lib: _ragged(lib).map(lambda v: v > 2).padded_batch(2),
    "zero-sized": lambda lib: lib.data.Dataset.from_tensor_slices(
        np.array([0, 0, 2], np.int32)).map(lambda n: lib.range(n)).padded_batch(2),
    "empty": lambda lib: _ragged(lib).take(0).padded_batch(2),
    "endless": lambda lib: _ragged(lib).repeat().padded_batch(4),
    "after-interleave": lambda lib: lib.data.Dataset.range(1, 5).interleave(
        lambda n: lib.data.Dataset.from_tensors(lib.range(n)).repeat(2),
        cycle_length=2).padded_batch(3),
    "unknown-rank-given": lambda lib: _unknown(lib).take(1).padded_batch(1, padded_shapes=[4]),
    "pad-to-smaller": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=[2]),
    "rank-at-runtime": lambda lib: _unknown(lib).padded_batch(2, padded_shapes=[None]),
    "unknown-rank": lambda lib: _unknown(lib).padded_batch(2),
    "incompatible-rank": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=[2, 3]),
    "smaller-than-known": lambda lib: lib.data.Dataset.from_tensor_slices(
        np.zeros((4, 3))).padded_batch(2, padded_shapes=[2]),
    "value-not-scalar": lambda lib: _ragged(lib).padded_batch(2, padding_values=[1, 2]),
    "value-int32": lambda lib: _ragged(lib).padded_batch(2, padding_values=-1),
    "value-float": lambda lib: _pairs(lib).padded_batch(2, padding_values=(0, 7)),
    "one-value-two-dtypes": lambda lib: _pairs(lib).padded_batch(2, padding_values=-1.0),
    "value-structure-for-one": lambda lib: _ragged(lib).padded_batch(
        2, padding_values=(np.int64(1), np.int64(2))),
    "shapes-as-a-list": lambda lib: _pairs(lib).padded_batch(2, padded_shapes=[[4], [None]]),
    "values-too-many": lambda lib: _pairs(lib).padded_batch(2, padding_values=(1.0, 7, 3)),
    "shapes-missing-key": lambda lib: _records(lib).padded_batch(2, padded_shapes={"b": [3]}),
    "shape-of-floats": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=[2.5]),
    "shape-2d": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=np.array([[2]])),
    "shape-below-minus-one": lambda lib: _ragged(lib).padded_batch(2, padded_shapes=[-2]),
    "shape-none-component": lambda lib: _pairs(lib).padded_batch(
        2, padded_shapes=(None, [None, 5])),
    "batch-0": lambda lib: _ragged(lib).padded_batch(0),
    "batch-negative": lambda lib: _ragged(lib).padded_batch(-3),
    "batch-float": lambda lib: _ragged(lib).padded_batch(2.5),
    "drop-remainder-int": lambda lib: _ragged(lib).padded_batch(2, drop_remainder=1),
}

# ``map`` reads its spec off the first element, so after a map whose output size depends on
# the element's values neuroflow reports that element's size where TF reports None.
MAP_SPEC_CASES = {name for name in PADDED_BATCH_CASES
                  if name.startswith(("ragged", "bools", "zero-sized", "empty", "endless"))}


@pytest.mark.tensorflow
@pytest.mark.parametrize("case", list(PADDED_BATCH_CASES))
def test_padded_batch_matches_tensorflow(case):
    _assert_same(PADDED_BATCH_CASES[case], _tensorflow(),
                 compare_spec=case not in MAP_SPEC_CASES)


@pytest.mark.tensorflow
def test_padded_batch_spec_after_a_ragged_map_matches_tensorflow():
    real = _tensorflow()
    assert _plain(_ragged(tf).padded_batch(2).element_spec) \
        == _plain(_ragged(real).padded_batch(2).element_spec)


# The integer arguments, converted to int64 as TF converts them (tests/oracle/test_tf_data.py
# checks the other methods' the same way).
COUNTS = {
    "batch_size": lambda lib, n: _ragged(lib).padded_batch(n),
    "cycle_length": lambda lib, n: lib.data.Dataset.range(1, 5).interleave(_repeated(lib),
                                                                           cycle_length=n),
    "block_length": lambda lib, n: lib.data.Dataset.range(1, 5).interleave(
        _repeated(lib), cycle_length=2, block_length=n),
    "num_parallel_calls": lambda lib, n: lib.data.Dataset.range(1, 5).interleave(
        _repeated(lib), cycle_length=3, num_parallel_calls=n),
}
COUNT_VALUES = {
    "2": lambda lib: 2, "True": lambda lib: True, "np.int32(3)": lambda lib: np.int32(3),
    "np.float64(2.0)": lambda lib: np.float64(2.0), "2.0": lambda lib: 2.0,
    "'2'": lambda lib: "2", "None": lambda lib: None,
    "int64 tensor": lambda lib: lib.constant(2, lib.int64),
    "float tensor": lambda lib: lib.constant(2.0),
}


@pytest.mark.tensorflow
@pytest.mark.parametrize("value", list(COUNT_VALUES))
@pytest.mark.parametrize("argument", list(COUNTS))
def test_integer_arguments_match_tensorflow(argument, value):
    _assert_same(lambda lib: COUNTS[argument](lib, COUNT_VALUES[value](lib)), _tensorflow(),
                 compare_spec=argument != "batch_size")
