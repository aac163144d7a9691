"""``Dataset.cache``: remember the elements of the first complete pass, in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neuroflow.data import plan as plans
from neuroflow.data import structure
from neuroflow.data.dataset import INFINITE_CARDINALITY
from neuroflow.data.transforms import _Unary


class CacheDataset(_Unary):
    """Passes through the first pass and keeps it; later passes replay it.

    A cache fills only when a pass runs to the end (as in TF, a partial pass
    is discarded). Elements of equal shapes are stacked into arrays, so later
    passes run on the vectorized index plan (cheap ``shuffle`` and ``batch``
    after an expensive ``map``).
    """

    def __init__(self, inner):
        super().__init__(inner)
        self._rows: tuple[plans.Gather, np.ndarray] | None = None
        self._elements_list: list | None = None

    def _can_plan(self) -> bool:
        return self._rows is not None

    def _plan(self) -> plans.Plan:
        gather, order = self._rows
        return iter([(gather, order)])

    def _elements(self) -> Iterator[Any]:
        if self._elements_list is not None:
            yield from self._elements_list
            return
        if self._inner._can_plan() and self._inner._cardinality() != INFINITE_CARDINALITY:
            # The order of this pass is all there is to keep: the rows stay where they are.
            gather, order = plans.materialize(self._inner._plan())
            yield from plans.rows(iter([(gather, order)]))
            if self._rows is None:
                self._rows = gather, order
            return
        seen = []
        for element in self._inner._epoch():
            seen.append(element)
            yield element
        self._store(seen)

    def _store(self, elements: list) -> None:
        if self._rows is not None or self._elements_list is not None:
            return  # another pass finished first
        columns = list(zip(*(structure.flatten(e) for e in elements)))
        if elements and all(len({a.shape for a in column}) == 1 for column in columns):
            arrays = structure.pack(elements[0], [np.stack(column) for column in columns])
            self._rows = plans.rows_of(arrays), np.arange(len(elements))
        else:
            self._elements_list = elements
