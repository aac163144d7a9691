"""The BLAS found through ctypes: thread counts and the in-place gemm update."""

from __future__ import annotations

import numpy as np
import pytest

from neuroflow.backend import blas


def numpy_update(c, a, b, scale):
    """What the unfused code computes: matmul, multiply, subtract."""
    return c - np.multiply(np.matmul(a, b), scale)


def operands(rng, dtype, m=6, k=5, n=7):
    def draw(*shape):
        return rng.standard_normal(shape).astype(dtype)

    return draw(m, n), draw(m, k), draw(k, n)


@pytest.fixture
def calls(monkeypatch):
    """The BLAS gemm calls made through GemmUpdate (skips the test without a BLAS gemm)."""
    gemm = blas._gemm()
    if gemm is None:
        pytest.skip("no BLAS gemm found in this process")
    made = []

    def spy(function):
        def call(*args):
            made.append(args)
            return function(*args)

        return call

    monkeypatch.setattr(gemm, "functions", {dtype: spy(f) for dtype, f in gemm.functions.items()})
    return made


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("layout", ["plain", "a transposed", "b transposed", "both transposed",
                                    "row slices"])
def test_gemm_update_agrees_with_numpy(calls, dtype, rtol, layout):
    rng = np.random.default_rng(0)
    c, a, b = operands(rng, dtype)
    if layout in ("a transposed", "both transposed"):
        a = np.ascontiguousarray(a.T).T  # column-major storage: BLAS's transposed case
    if layout in ("b transposed", "both transposed"):
        b = np.ascontiguousarray(b.T).T
    if layout == "row slices":  # leading dimensions larger than the rows
        a = np.concatenate([a, a], axis=1)[:, :5]
        b = np.concatenate([b, b], axis=1)[:, 3:10]
    scale = np.array(0.25, dtype)
    want = numpy_update(c, a, b, scale)
    blas.GemmUpdate()(c, a, b, scale)
    np.testing.assert_allclose(c, want, rtol=rtol, atol=rtol)
    assert len(calls) == 1


@pytest.mark.parametrize("case", ["int32", "mixed dtypes", "strided", "not writable",
                                  "zero scale", "empty"])
def test_gemm_update_falls_back_to_numpy(calls, case):
    rng = np.random.default_rng(1)
    c, a, b = operands(rng, np.float32)
    scale = np.float32(0.5)
    if case == "int32":
        c, a, b = (x.astype(np.int32) for x in (c, a, b))
        scale = np.int32(2)
    elif case == "mixed dtypes":
        b = b.astype(np.float64)
        c_of_mixed = c.astype(np.float64)
    elif case == "strided":
        a = np.repeat(a, 2, axis=1)[:, ::2]  # no unit stride along either axis
    elif case == "zero scale":
        b[0, 0] = np.nan  # NumPy spreads it: nan * 0 is nan
        scale = np.float32(0.0)
    elif case == "empty":
        a, b = a[:, :0], b[:0]
    want = numpy_update(c_of_mixed if case == "mixed dtypes" else c, a, b, scale)
    if case == "not writable":
        c.flags.writeable = False
        with pytest.raises(ValueError, match="read-only"):
            blas.GemmUpdate()(c, a, b, scale)
    else:
        blas.GemmUpdate()(c, a, b, scale)
        np.testing.assert_array_equal(c, want.astype(c.dtype))
    assert calls == []


def test_gemm_update_without_a_blas_is_numpy(monkeypatch):
    monkeypatch.setattr(blas._blas, "searched", True)
    monkeypatch.setattr(blas._blas, "gemm", None)
    c, a, b = operands(np.random.default_rng(2), np.float32)
    want = numpy_update(c, a, b, np.float32(0.1))
    blas.GemmUpdate()(c, a, b, np.float32(0.1))
    np.testing.assert_array_equal(c, want)


def test_gemm_update_follows_new_arrays_at_one_call_site(calls):
    rng = np.random.default_rng(3)
    update = blas.GemmUpdate()
    c, a, b = operands(rng, np.float64)
    update(c, a, b, 1.0)
    for _ in range(2):  # a new target (copy on write), then new operands
        c = c.copy()
        a, b = a + 1.0, b * 2.0
        want = numpy_update(c, a, b, 1.0)
        update(c, a, b, 1.0)
        np.testing.assert_allclose(c, want, rtol=1e-12)
    assert len(calls) == 3
