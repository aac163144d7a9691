"""How many threads the BLAS under NumPy may use, changeable at run time.

Small matrix products (a batch of 32 through a 784x100 layer) finish before a
second BLAS thread has started: with two threads, one training step of the lab
is slower, and much slower when the other core is busy. neuroflow therefore
runs training and inference steps with one BLAS thread (``settings.step_blas_threads``)
and restores the previous count afterwards.

Large products do not change that choice. The convolutions of the Keras MNIST convnet
multiply 1,936x288 by 288x64 patch blocks (``ops/convolution.py``); on this project's
2-core machine two threads took 2.4x as long for those blocks and 1.35x for one
whole-batch product (15,488 rows), against one thread. Two threads also change the last
bits of a product (the BLAS splits the work by thread count), so one count for every
product keeps a step's results bitwise reproducible for a given setting.

OpenBLAS (the BLAS NumPy's wheels ship) exposes ``*_set_num_threads`` and
``*_get_num_threads``; they are found in the loaded libraries through ctypes.
With another BLAS, the functions here do nothing.

:class:`GemmUpdate` calls the BLAS's ``gemm`` the same way, for the one update NumPy
cannot express in one call: ``c -= scale * (a @ b)`` in place (an SGD step of a
weight from its gradient's matrix product).
"""

from __future__ import annotations

import ctypes
import os
import threading
from contextlib import contextmanager

import numpy as np

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
            "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
            "openblas_get_num_threads")
# CBLAS gemm: NumPy's OpenBLAS (64-bit integers, suffixed names) first, then a plain CBLAS.
_GEMMS = (("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", ctypes.c_int64),
          ("cblas_sgemm64_", "cblas_dgemm64_", ctypes.c_int64),
          ("cblas_sgemm", "cblas_dgemm", ctypes.c_int))
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enums (C ints)


class _Gemm:
    """A BLAS's sgemm and dgemm, typed for ctypes, and the largest size its integers hold."""

    def __init__(self, sgemm, dgemm, integer):
        self.functions = {}
        enum, pointer = ctypes.c_int, ctypes.c_void_p
        for function, dtype, real in ((sgemm, np.float32, ctypes.c_float),
                                      (dgemm, np.float64, ctypes.c_double)):
            # (order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            function.argtypes = [enum, enum, enum, integer, integer, integer, real, pointer,
                                 integer, pointer, integer, real, pointer, integer]
            function.restype = None
            self.functions[np.dtype(dtype)] = function
        self.max_size = 2 ** (8 * ctypes.sizeof(integer) - 1) - 1


def _find_gemm(library) -> _Gemm | None:
    for single, double, integer in _GEMMS:
        if hasattr(library, single) and hasattr(library, double):
            if integer is ctypes.c_int and _uses_64_bit_integers(library):
                integer = ctypes.c_int64  # an OpenBLAS built for 64-bit integers, unsuffixed
            return _Gemm(getattr(library, single), getattr(library, double), integer)
    return None


def _uses_64_bit_integers(library) -> bool:
    config = getattr(library, "openblas_get_config", None)
    if config is None:
        return False
    config.restype = ctypes.c_char_p
    return b"USE64BITINT" in (config() or b"")


class _Blas:
    def __init__(self):
        self.set_threads = None
        self.get_threads = None
        self.gemm: _Gemm | None = None
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
            if setter is not None and getter is not None and self.set_threads is None:
                getter.restype = ctypes.c_int
                self.set_threads, self.get_threads = setter, getter
            if self.gemm is None:
                self.gemm = _find_gemm(library)
            if self.set_threads is not None and self.gemm is not None:
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


class _Overrides:
    """Who is inside ``threads(count)`` now. The BLAS setting is process-wide: the first
    block in sets it, the last one out restores it, so that concurrent blocks (predict
    from several threads) never see it changed under them."""

    lock = threading.Lock()
    active = 0
    saved: int | None = None


@contextmanager
def threads(count: int | None):
    """Run the block with ``count`` BLAS threads (None: leave the setting alone)."""
    if count is None or not _ready():
        yield
        return
    with _Overrides.lock:
        if _Overrides.active == 0:
            _Overrides.saved = get_threads()
            if _Overrides.saved != count:
                set_threads(count)
        _Overrides.active += 1
    try:
        yield
    finally:
        with _Overrides.lock:
            _Overrides.active -= 1
            if _Overrides.active == 0 and _Overrides.saved != count:
                set_threads(_Overrides.saved)


def _gemm() -> _Gemm | None:
    if not _blas.searched:
        _blas.find()
    return _blas.gemm


class GemmUpdate:
    """``c -= scale * (a @ b)`` in place, in one BLAS call where it can.

    BLAS gemm computes ``C = alpha * A @ B + beta * C``; with ``alpha = -scale`` and
    ``beta = 1`` the product goes straight into ``c``: no temporary, no separate passes
    to scale and subtract it. ``a``, ``b`` and ``c`` are 2-D, ``scale`` is a scalar, and
    ``c`` must not overlap ``a`` or ``b``. What BLAS cannot take (dtypes other than
    float32/float64, no unit stride, no BLAS found) is done by NumPy: matmul, multiply,
    subtract, as the unfused code does.

    Make one per call site: it remembers the data pointers of the arrays it saw last,
    and holds them until the next call (a variable's array and a reused buffer stay put
    from call to call).
    """

    __slots__ = ("_seen",)

    def __init__(self):
        self._seen = [(None, 0)] * 3  # per operand: (array, its data pointer)

    def __call__(self, c: np.ndarray, a: np.ndarray, b: np.ndarray, scale) -> None:
        gemm = _gemm()
        call = None if gemm is None else _gemm_arguments(gemm, c, a, b)
        alpha = -float(scale)
        # With alpha 0 BLAS skips the product, where NumPy would spread its NaNs and infinities.
        if call is not None and alpha != 0:
            pa, pb, pc = self._pointer(1, a), self._pointer(2, b), self._pointer(0, c)
            if not (pa | pb | pc) % c.itemsize:  # aligned to the element size
                function, m, n, k, ta, lda, tb, ldb, ldc = call
                function(_ROW_MAJOR, ta, tb, m, n, k, alpha, pa, lda, pb, ldb, 1.0, pc, ldc)
                return
        np.subtract(c, np.multiply(np.matmul(a, b), scale), out=c)

    def _pointer(self, slot: int, array: np.ndarray) -> int:
        seen = self._seen[slot]
        if seen[0] is array:
            return seen[1]
        pointer = array.__array_interface__["data"][0]
        self._seen[slot] = (array, pointer)
        return pointer


def _gemm_arguments(gemm: _Gemm, c: np.ndarray, a: np.ndarray, b: np.ndarray):
    """The BLAS function and its sizes, transposes and leading dimensions, or None."""
    function = gemm.functions.get(c.dtype)
    if function is None or a.dtype != c.dtype or b.dtype != c.dtype or c.ndim != 2 or \
            a.ndim != 2 or b.ndim != 2 or not c.flags.writeable:
        return None
    (m, n), k = c.shape, a.shape[1]
    if a.shape[0] != m or b.shape != (k, n) or not (m and n and k):
        return None
    item = c.itemsize
    layouts = (_layout(a, item), _layout(b, item), _layout(c, item))
    if None in layouts or layouts[2][0] != _NO_TRANS:
        return None
    (ta, lda), (tb, ldb), (_, ldc) = layouts
    if max(m, n, k, lda, ldb, ldc) > gemm.max_size:
        return None
    return function, m, n, k, ta, lda, tb, ldb, ldc


def _layout(array: np.ndarray, item: int) -> tuple[int, int] | None:
    """``(transpose flag, leading dimension)`` of a 2-D array for row-major CBLAS, or None."""
    (rows, cols), (down, across) = array.shape, array.strides
    if across == item and down % item == 0 and down // item >= max(1, cols):
        return _NO_TRANS, down // item
    if down == item and across % item == 0 and across // item >= max(1, rows):
        return _TRANS, across // item
    return None
