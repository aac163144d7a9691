"""Sweep specs of the string ops in TensorFlow's top-level namespace (``tf.as_string``).

The ``tf.strings`` family is compared with TensorFlow case by case in
``test_tf_strings.py``; the sweep covers the public namespaces it walks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sweep import Case
from sweep_specs import INTS, case, extreme, for_dtypes, m

SPECS: dict[str, Callable[[], list[Case]]] = {}
NOT_SWEPT: dict[str, str] = {}


def _as_string(op: str = "tf.as_string") -> list[Case]:
    dtypes = ("float16", "float32", "float64", *INTS, "bool")
    out = for_dtypes(op, "vector", lambda d: (m((6,), d),), dtypes=dtypes, grad=False)
    out += [case(op, f"{d},extreme", extreme(d)) for d in ("float32", "float64", "int64")]
    x = m((2, 3))
    return out + [case(op, "float32,precision", x, precision=2),
                  case(op, "float32,scientific", x, scientific=True),
                  case(op, "float32,shortest", x, shortest=True),
                  case(op, "float32,width-fill", x, width=12, fill="0", precision=1),
                  case(op, "int32,width-left", m((3,), "int32"), width=5, fill="-"),
                  case(op, "complex64,vector", np.array([1 + 2j, -0.5j], np.complex64)),
                  case(op, "float32,scientific-shortest", x, scientific=True, shortest=True),
                  case(op, "int32,precision", m((3,), "int32"), precision=2),
                  case(op, "float32,bad-fill", x, width=3, fill="x")]


SPECS["tf.as_string"] = _as_string
