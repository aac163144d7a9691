"""Errors of tf.data: TensorFlow's error class, and a message that says what was expected, what
was received and how to fix it. One row per ``raise``."""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.errors import InvalidArgumentError

Dataset = tf.data.Dataset
INT = tf.TensorSpec([], tf.int32)


def _generated(values, signature):
    return list(Dataset.from_generator(lambda: iter(values), output_signature=signature))


def _ragged_unbatch():
    rows = [(np.zeros(2), np.zeros(3))]
    spec = (tf.TensorSpec([None], tf.float64), tf.TensorSpec([None], tf.float64))
    return list(Dataset.from_generator(lambda: iter(rows), output_signature=spec).unbatch())


class _PlansWithoutPlan(Dataset):
    def _can_plan(self) -> bool:
        return True


CASES = [
    # (id, call, error, phrases in the message)
    ("slices-of-nothing", lambda: Dataset.from_tensor_slices(()), ValueError,
     ["at least one tensor", "received the empty structure ()", "from_tensor_slices((x, y))"]),
    ("range-no-arguments", lambda: Dataset.range(), ValueError,
     ["1 to 3 arguments", "received 0", "Dataset.range(10)"]),
    ("range-four-arguments", lambda: Dataset.range(1, 2, 3, 4), ValueError,
     ["1 to 3 arguments", "received 4: (1, 2, 3, 4)", "Dataset.range(0, 10, 2)"]),
    ("generator-not-callable", lambda: Dataset.from_generator(3, output_signature=INT),
     TypeError, ["must be a callable", "received 3", "from_generator(gen, ...) rather than"]),
    ("generator-without-signature", lambda: Dataset.from_generator(lambda: iter([1])),
     TypeError, ["needs `output_signature`", "received neither", "output_signature=tf."]),
    ("generator-dict-structure", lambda: _generated([1], {"a": INT}), InvalidArgumentError,
     ["yielded 1", "expected structure {'a': TensorSpec", "change output_signature"]),
    ("generator-tuple-structure", lambda: _generated([(1, 2, 3)], (INT, INT)),
     InvalidArgumentError, ["yielded (1, 2, 3)", "expected structure (TensorSpec",
                            "yield elements of that structure"]),
    ("concatenate-a-list", lambda: Dataset.range(3).concatenate([1, 2]), TypeError,
     ["expects a Dataset, received list", "Dataset.from_tensor_slices(values)"]),
    ("concatenate-other-dtype",
     lambda: Dataset.range(3).concatenate(Dataset.from_tensor_slices([1.0])).element_spec,
     TypeError, ["different element types", "tf.int64", "tf.float32", ".map("]),
    ("unbatch-scalars", lambda: Dataset.range(3).unbatch().element_spec, ValueError,
     ["rank >= 1", "received a component with spec", "ds.batch(n).unbatch()"]),
    ("unbatch-ragged-components", _ragged_unbatch, InvalidArgumentError,
     ["same size in its first dimension", "received shapes [(2,), (3,)]", "as many rows"]),
    ("flat-map-returns-a-tensor", lambda: list(Dataset.range(3).flat_map(lambda x: x)),
     TypeError, ["must return a Dataset, received Tensor", "Dataset.from_tensor_slices(x)"]),
    ("flat-map-spec-of-nothing",
     lambda: Dataset.range(0).flat_map(lambda x: Dataset.range(x)).element_spec, ValueError,
     ["element spec of an empty dataset", "there is none", "non-empty"]),
    ("bare-dataset-cardinality", lambda: Dataset().cardinality(), NotImplementedError,
     ["Dataset must implement _cardinality()", "Dataset.from_tensor_slices"]),
    ("bare-dataset-spec", lambda: Dataset().element_spec, NotImplementedError,
     ["Dataset must implement _compute_spec()", "instead of Dataset() itself"]),
    ("bare-dataset-elements", lambda: list(Dataset().as_numpy_iterator()), NotImplementedError,
     ["Dataset must implement _elements()", "Dataset.range"]),
    ("subclass-without-plan", lambda: list(_PlansWithoutPlan().as_numpy_iterator()),
     NotImplementedError, ["_PlansWithoutPlan must implement _plan()", "_can_plan() is true"]),
]


@pytest.mark.parametrize("call, error, phrases",
                         [pytest.param(*row[1:], id=row[0]) for row in CASES])
def test_error_class_and_message(call, error, phrases):
    with pytest.raises(error) as info:
        call()
    for phrase in phrases:
        assert phrase in str(info.value)
