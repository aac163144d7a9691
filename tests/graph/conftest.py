"""Fixtures of the graph-mode tests: golden files, and the helper modules on ``sys.path``.

Golden files (``golden/*.txt``) pin printed IR and generated source. After an
intended change, regenerate them with ``NEUROFLOW_UPDATE_GOLDEN=1 python -m
pytest tests/graph`` and review the diff.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import neuroflow as tf

HERE = Path(__file__).parent
# The helpers (_graphcheck.py, _reference.py) are imported by plain name, as tests/ops does.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def golden():
    """``golden(name, text)``: assert ``text`` equals golden/<name>.txt (or rewrite it)."""

    def check(name: str, text: str) -> None:
        path = HERE / "golden" / f"{name}.txt"
        if os.environ.get("NEUROFLOW_UPDATE_GOLDEN") == "1":
            path.write_text(text)
            return
        assert path.exists(), f"missing {path}; create it with NEUROFLOW_UPDATE_GOLDEN=1"
        expected = path.read_text()
        assert text == expected, (f"{name} differs from {path}; if the change is intended, "
                                  f"regenerate with NEUROFLOW_UPDATE_GOLDEN=1 and review the diff")

    return check


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Each test starts with no global seed and graph mode on."""
    tf.random.set_seed(None)
    eager = tf.config.functions_run_eagerly()
    yield
    tf.config.run_functions_eagerly(eager)
    tf.random.set_seed(None)


@pytest.fixture(autouse=True)
def _numpy_path(monkeypatch):
    """The graph tests pin the NumPy lowering (golden source, bitwise agreement with unfused
    code), so they run with the compiled kernels off even where Numba is installed;
    tests/graph/test_jit*.py turn the kernels on themselves and rerun the agreement cases."""
    from neuroflow.config import settings

    monkeypatch.setattr(settings, "jit", False)
