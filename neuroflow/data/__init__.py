"""``tf.data``: input pipelines (``tf.data.Dataset``).

>>> import neuroflow as tf
>>> ds = tf.data.Dataset.range(6).shuffle(6, seed=1).batch(4)
>>> [b.shape.as_list() for b in ds]
[[4], [2]]
"""

from neuroflow.data import experimental
from neuroflow.data.dataset import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Dataset,
    DatasetIterator,
    is_dataset,
)
from neuroflow.data.structure import TensorSpec
from neuroflow.data.text import TextLineDataset

__all__ = [
    "AUTOTUNE",
    "INFINITE_CARDINALITY",
    "UNKNOWN_CARDINALITY",
    "Dataset",
    "DatasetIterator",
    "TensorSpec",
    "TextLineDataset",
    "experimental",
    "is_dataset",
]
