"""``tf.data.experimental``: the constants and helpers TF 2 code still reaches for here."""

from __future__ import annotations

from neuroflow.data.dataset import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Dataset,
)
from neuroflow.tensor import Tensor

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "cardinality"]


def cardinality(dataset: Dataset) -> Tensor:
    """The number of elements of ``dataset`` (-1 infinite, -2 unknown), as an int64 tensor."""
    return dataset.cardinality()
