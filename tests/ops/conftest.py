"""Every primitive applied in the op tests also checks its shape rule.

The fixture wraps the registry's ``apply``: whenever a primitive runs eagerly on
NumPy arrays, its shape rule is evaluated on the same inputs' shapes and dtypes,
and must predict the result's shape and dtype exactly. So each forward case of
the op tables is also a shape-rule case, for every primitive it reaches.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuroflow.abstract import Dim
from neuroflow.ops import registry


@pytest.fixture(autouse=True)
def shape_rules_agree_with_forwards(monkeypatch):
    real_apply = registry.apply

    def checked(prim, inputs, attrs):
        result = real_apply(prim, inputs, attrs)
        arrays = [t._value for t in inputs]
        results = result if type(result) is tuple else (result,)  # several for some prims
        if all(type(a) is np.ndarray for a in arrays) and \
                all(type(r._value) is np.ndarray for r in results):
            avals = prim.abstract_eval(arrays, attrs)
            assert len(avals) == len(results), (
                f"shape rule of {prim.name} gives {len(avals)} results, the forward made "
                f"{len(results)}")
            for aval, made in zip(avals, results):
                got = (tuple(made._value.shape), made._value.dtype)
                # A size only known when the op runs is a fresh unknown: any size matches.
                predicted = tuple(g if isinstance(d, Dim) else d
                                  for d, g in zip(aval.shape, got[0])) + aval.shape[len(got[0]):]
                assert (predicted, aval.dtype) == got, (
                    f"shape rule of {prim.name} says {aval}, the forward made "
                    f"{got[1].name}{list(got[0])} for inputs "
                    f"{[(a.dtype.name, a.shape) for a in arrays]} and attrs {attrs}")
        return result

    monkeypatch.setattr(registry, "apply", checked)
