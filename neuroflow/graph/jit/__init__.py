"""Numba kernels for fused graph nodes (the optional ``neuroflow[jit]`` extra).

When Numba is installed and ``NEUROFLOW_JIT`` is not ``0``, compiled functions
run their fused nodes (elementwise chains, ReLU's gradient, dense layers' bias
and activation, softmax cross-entropy with its gradient), max pooling and the
gate arithmetic of LSTM and GRU sequences, and an optimizer's updates of all its
variables, as machine code; matrix products and convolutions stay with BLAS.
``kernels.py`` writes each kernel's source, ``lowering.py`` the generated lines
calling them, ``recurrent.py`` the time loops around the recurrent kernels,
``updates.py`` the runs of variable updates that become one kernel, and
``cache.py`` compiles them through a disk cache under ``$NEUROFLOW_HOME/jit``.
Numba is imported on the first kernel, never with neuroflow.
"""

from __future__ import annotations

import functools
import importlib.util

from neuroflow.config import settings


@functools.lru_cache(maxsize=1)
def numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def enabled() -> bool:
    """Whether compiled functions use Numba kernels now (``settings.jit`` and Numba)."""
    return settings.jit and numba_installed()


def new_lowering():
    """A fresh :class:`~neuroflow.graph.jit.lowering.JitLowering` for one plan, or None
    when kernels are off."""
    if not enabled():
        return None
    from neuroflow.graph.jit.lowering import JitLowering

    return JitLowering()
