"""The source of Numba kernels: plain Python loops over arrays, one function each.

Each function here returns a :class:`KernelSource` for one fused node's pattern:
its text depends on the ranks, the broadcasting and the dtype of the node, never
on the sizes (loops read ``out.shape``), so a new batch size reuses the kernel.
A kernel's name is a hash of its text, which is also its key in the disk cache.

The loops compute each output element in one thread, in a fixed order, so the
thread count (``prange``) never changes a result. Intermediates keep the output's
dtype, as NumPy's in-place chains keep them in the buffer's dtype.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

# Ufuncs a chain may hold, as scalar expressions; the rest are called as np.<ufunc>,
# which Numba implements for scalars with NumPy's rules (NaN propagation included).
_OPERATORS = {"add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
              "true_divide": "{0} / {1}", "negative": "-{0}"}
_NUMBA_UFUNCS = frozenset({
    "maximum", "minimum", "abs", "absolute", "sign", "exp", "log", "log1p", "expm1", "sqrt",
    "square", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "power", "arctan2"})
SUPPORTED_UFUNCS = frozenset(_OPERATORS) | _NUMBA_UFUNCS
DTYPES = ("float32", "float64")

_NAME = "KERNEL"  # the placeholder name hashed, replaced by the kernel's real name


@dataclass(frozen=True)
class KernelSource:
    """A kernel's name (``k_`` + a hash of its text), its text, and whether it loops in
    parallel (``parallel=True`` for Numba)."""

    name: str
    text: str
    parallel: bool


def _named(text: str, parallel: bool) -> KernelSource:
    digest = hashlib.sha256(f"{parallel}\n{text}".encode()).hexdigest()[:16]
    name = f"k_{digest}"
    return KernelSource(name, text.replace(_NAME, name, 1), parallel)


def _loops(rank: int, parallel: bool, indent: str = "    ") -> tuple[list[str], str]:
    """Nested loops over ``out``'s indices (the outer one parallel) and the innermost
    indentation."""
    lines = []
    for axis in range(rank):
        loop = "prange" if parallel and axis == 0 else "range"
        lines.append(f"{indent}for i{axis} in {loop}(out.shape[{axis}]):")
        indent += "    "
    return lines, indent


def _index(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> str:
    """The subscript reading an input of ``shape`` (not 0-d) broadcast against
    ``out_shape``."""
    offset = len(out_shape) - len(shape)
    parts = ["0" if size == 1 and out_shape[offset + k] != 1 else f"i{offset + k}"
             for k, size in enumerate(shape)]
    return f"[{', '.join(parts)}]"


def _step(ufunc: str, names: list[str]) -> str:
    template = _OPERATORS.get(ufunc)
    if template is not None:
        return template.format(*names)
    return f"np.{ufunc}({', '.join(names)})"


def elementwise_chain(steps: tuple, shapes: list[tuple[int, ...]], out_shape: tuple[int, ...],
                      dtype: str, parallel: bool) -> KernelSource:
    """``fused_elementwise``: each step's ufunc, on scalars, one pass over ``out``.

    ``steps`` are ``(ufunc, operands)``: an operand is an input's index, ``-1`` (the
    previous step's result) or ``"zero"``. 0-d inputs are passed as scalars.
    """
    args = ", ".join([*(f"a{k}" for k in range(len(shapes))), "out"])
    lines = [f"def {_NAME}({args}):"]
    loops, indent = _loops(len(out_shape), parallel)
    lines += loops
    used = sorted({o for _, operands in steps for o in operands if isinstance(o, int) and o >= 0})
    for k in used:
        if shapes[k]:
            lines.append(f"{indent}x{k} = a{k}{_index(shapes[k], out_shape)}")
    for ufunc, operands in steps:
        names = ["t" if o == -1 else (f"np.{dtype}(0)" if o == "zero" else
                                      (f"x{o}" if shapes[o] else f"a{o}")) for o in operands]
        lines.append(f"{indent}t = {_step(ufunc, names)}")
    lines.append(f"{indent}out[{', '.join(f'i{a}' for a in range(len(out_shape)))}] = t")
    return _named("\n".join(lines) + "\n", parallel)


def relu_grad(rank: int, dtype: str, parallel: bool) -> KernelSource:
    """``g * (a > 0)``: the gradient where the activation is positive, ``0 * g`` elsewhere
    (so a NaN or infinite gradient still gives NaN, as NumPy's product does)."""
    loops, indent = _loops(rank, parallel)
    at = ", ".join(f"i{a}" for a in range(rank))
    lines = [f"def {_NAME}(g, a, out):", *loops,
             f"{indent}out[{at}] = g[{at}] * (np.{dtype}(1) if a[{at}] > 0 else np.{dtype}(0))"]
    return _named("\n".join(lines) + "\n", parallel)


def bias_activation(activation: str | None, dtype: str, parallel: bool) -> KernelSource:
    """The epilogue of ``dense``: ``out += b`` and ``relu`` in one pass over the rows."""
    value = "out[i0, i1] + b[i1]"
    if activation == "relu":
        value = f"np.maximum({value}, np.{dtype}(0))"
    loops, indent = _loops(2, parallel)
    lines = [f"def {_NAME}(out, b):", *loops, f"{indent}out[i0, i1] = {value}"]
    return _named("\n".join(lines) + "\n", parallel)


def softmax_xent_with_grad(dtype: str, parallel: bool) -> KernelSource:
    """Sparse softmax cross-entropy and its gradient, one row at a time (the labels are
    checked before). The row's sum is accumulated in float64."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(z, labels, loss, grad):
    classes = z.shape[1]
    for r in {loop}(z.shape[0]):
        label = labels[r]
        peak = z[r, 0]
        for c in range(1, classes):
            peak = np.maximum(peak, z[r, c])
        total = 0.0
        for c in range(classes):
            e = np.exp(z[r, c] - peak)
            grad[r, c] = e
            total += e
        total_ = np.{dtype}(total)
        loss[r] = np.log(total_) - (z[r, label] - peak)
        for c in range(classes):
            grad[r, c] = grad[r, c] / total_
        grad[r, label] -= np.{dtype}(1)
"""
    return _named(text, parallel)


# Pooling over NHWC arrays, 2-D windows: sizes, strides and padding are arguments
# (kh, kw, sh, sw, ph, pw: window, strides, padding before), so one kernel serves every
# layer. A padded position holds -inf, the value max pooling pads with.
_POOL_ARGS = "kh, kw, sh, sw, ph, pw"


def max_pool(dtype: str, parallel: bool) -> KernelSource:
    """The maximum of each window (NaN wins, as NumPy's maximum makes it)."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(x, out, {_POOL_ARGS}):
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    for n in {loop}(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for c in range(channels):
                    out[n, i, j, c] = -np.inf
                for a in range(kh):
                    h = i * sh + a - ph
                    if h < 0 or h >= height:
                        continue
                    for b in range(kw):
                        w = j * sw + b - pw
                        if w < 0 or w >= width:
                            continue
                        for c in range(channels):
                            out[n, i, j, c] = np.maximum(out[n, i, j, c], x[n, h, w, c])
"""
    return _named(text, parallel)


def max_pool_grad(dtype: str, parallel: bool) -> KernelSource:
    """Each window's gradient to the first position (row-major) holding its maximum, a
    NaN when the maximum is NaN; a padded position may hold it (-inf), and then the
    gradient is dropped, as cropping the padding drops it."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(x, y, g, dx, {_POOL_ARGS}):
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    for n in {loop}(x.shape[0]):
        dx[n] = 0
        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                for c in range(channels):
                    peak = y[n, i, j, c]
                    found = False
                    for a in range(kh):
                        h = i * sh + a - ph
                        for b in range(kw):
                            w = j * sw + b - pw
                            inside = 0 <= h < height and 0 <= w < width
                            value = x[n, h, w, c] if inside else np.{dtype}(-np.inf)
                            if value == peak or (peak != peak and value != value):
                                if inside:
                                    dx[n, h, w, c] += g[n, i, j, c]
                                found = True
                                break
                        if found:
                            break
"""
    return _named(text, parallel)


def dtype_name(dtype) -> str | None:
    """The dtype's name if kernels handle it (float32, float64), else None."""
    name = np.dtype(dtype).name
    return name if name in DTYPES else None
