"""How many threads the BLAS under NumPy may use, changeable at run time.

Small matrix products (a batch of 32 through a 784x100 layer) finish before a
second BLAS thread has started: with two threads, one training step of the lab
is slower, and much slower when the other core is busy. neuroflow therefore
runs training and inference steps with one BLAS thread (``settings.step_blas_threads``)
and restores the previous count afterwards.

OpenBLAS (the BLAS NumPy's wheels ship) exposes ``*_set_num_threads`` and
``*_get_num_threads``; they are found in the loaded libraries through ctypes.
With another BLAS, the functions here do nothing.
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
            "openblas_get_num_threads")


class _Blas:
    def __init__(self):
        self.set_threads = None
        self.get_threads = None
        self.searched = False

    def find(self) -> None:
        self.searched = True
        for path in _loaded_libraries():
            if "blas" not in os.path.basename(path).lower():
                continue
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            setter = next((getattr(library, n) for n in _SETTERS if hasattr(library, n)), None)
            getter = next((getattr(library, n) for n in _GETTERS if hasattr(library, n)), None)
            if setter is not None and getter is not None:
                getter.restype = ctypes.c_int
                self.set_threads, self.get_threads = setter, getter
                return


def _loaded_libraries() -> list[str]:
    """Shared libraries mapped into this process (Linux); empty elsewhere."""
    import numpy  # noqa: F401 - make sure NumPy's BLAS is loaded

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if ".so" in line}
    except OSError:
        return []
    return sorted(paths)


_blas = _Blas()


def _ready() -> bool:
    if not _blas.searched:
        _blas.find()
    return _blas.set_threads is not None


def get_threads() -> int | None:
    """The BLAS's current thread count, or None when it cannot be controlled."""
    return int(_blas.get_threads()) if _ready() else None


def set_threads(count: int) -> None:
    if _ready():
        _blas.set_threads(int(count))


@contextmanager
def threads(count: int | None):
    """Run the block with ``count`` BLAS threads (None: leave the setting alone)."""
    previous = get_threads() if count is not None else None
    if previous is None or previous == count:
        yield
        return
    set_threads(count)
    try:
        yield
    finally:
        set_threads(previous)
