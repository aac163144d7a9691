"""The agreement and no-frozen-value suites again, with Numba kernels on.

Every case of ``test_agreement.py`` (eager, interpreter and compiled code, call
after call, gradients and optimizer steps included) and of
``test_no_frozen_values.py`` (every public op compiled, new values and sizes,
four threads at once) runs here with ``settings.jit`` on, so the fused nodes
they make run as Numba kernels. Skipped without Numba.
"""

from __future__ import annotations

import pytest

from neuroflow.config import settings
from neuroflow.graph import jit

if not jit.numba_installed():
    pytest.skip("Numba is not installed", allow_module_level=True)

# The test functions themselves, collected again in this module under the fixture below.
from test_agreement import *  # noqa: E402, F403
from test_no_frozen_values import *  # noqa: E402, F403


@pytest.fixture(autouse=True)
def _kernels_on(monkeypatch):
    monkeypatch.setattr(settings, "jit", True)
