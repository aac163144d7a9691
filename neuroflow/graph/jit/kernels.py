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


def scalar_step(ufunc: str, names: list[str]) -> str:
    """One ufunc applied to scalar expressions ``names``, as kernel source."""
    template = _OPERATORS.get(ufunc)
    if template is not None:
        return template.format(*names)
    return f"np.{ufunc}({', '.join(names)})"


# A 2-D kernel's epilogue summing its output's columns as it writes them (a bias's
# gradient): row 0 copied, then each row added in order, NumPy's order for a reduction
# over the first axis of a C-ordered array, so the sums have its bits. Sequential loops
# only: a parallel outer loop would add rows from several threads.
_COLUMN_SUMS = """\
{indent}if i0 == 0:
{indent}    sums[i1] = {value}
{indent}else:
{indent}    sums[i1] += {value}"""


def elementwise_chain(steps: tuple, shapes: list[tuple[int, ...]], out_shape: tuple[int, ...],
                      dtype: str, parallel: bool, column_sums: bool = False) -> KernelSource:
    """``fused_elementwise``: each step's ufunc, on scalars, one pass over ``out`` (and,
    with ``column_sums``, ``sums``: ``out``'s column sums, 2-D and sequential only).

    ``steps`` are ``(ufunc, operands)``: an operand is an input's index, ``-1`` (the
    previous step's result) or ``"zero"``. 0-d inputs are passed as scalars.
    """
    args = ", ".join([*(f"a{k}" for k in range(len(shapes))), "out",
                      *(["sums"] if column_sums else [])])
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
        lines.append(f"{indent}t = {scalar_step(ufunc, names)}")
    lines.append(f"{indent}out[{', '.join(f'i{a}' for a in range(len(out_shape)))}] = t")
    if column_sums:
        lines.append(_COLUMN_SUMS.format(indent=indent, value="t"))
    return _named("\n".join(lines) + "\n", parallel)


def variable_updates(parameters: list[str], loops: list[tuple[str, int, list[str]]],
                     parallel: bool) -> KernelSource:
    """A run of variable updates (``updates.py``): for each ``(bound, rank, statements)``
    a loop nest over ``bound``'s indices running the statements on each element (rank
    0: the statements once)."""
    parallel = parallel and any(rank for _, rank, _ in loops)  # prange needs a loop
    lines = [f"def {_NAME}({', '.join(parameters)}):"]
    for bound, rank, statements in loops:
        indent = "    "
        for axis in range(rank):
            loop = "prange" if parallel and axis == 0 else "range"
            lines.append(f"{indent}for i{axis} in {loop}({bound}.shape[{axis}]):")
            indent += "    "
        lines += [indent + statement for statement in statements]
    return _named("\n".join(lines) + "\n", parallel)


def relu_grad(rank: int, dtype: str, parallel: bool, column_sums: bool = False) -> KernelSource:
    """``g * (a > 0)``: the gradient where the activation is positive, ``0 * g`` elsewhere
    (so a NaN or infinite gradient still gives NaN, as NumPy's product does); with
    ``column_sums``, also the output's column sums (2-D, sequential)."""
    loops, indent = _loops(rank, parallel)
    at = ", ".join(f"i{a}" for a in range(rank))
    lines = [f"def {_NAME}(g, a, out{', sums' if column_sums else ''}):", *loops,
             f"{indent}out[{at}] = g[{at}] * (np.{dtype}(1) if a[{at}] > 0 else np.{dtype}(0))"]
    if column_sums:
        lines.append(_COLUMN_SUMS.format(indent=indent, value=f"out[{at}]"))
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
    """Sparse softmax cross-entropy and its gradient, one row at a time. The row's sum is
    accumulated in float64. Returns how many labels fall outside ``[0, classes)``; their
    rows are left unwritten (the caller raises the op's error)."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(z, labels, loss, grad):
    classes = z.shape[1]
    outside = 0
    for r in {loop}(z.shape[0]):
        label = labels[r]
        if label < 0 or label >= classes:
            outside += 1
            continue
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
    return outside
"""
    return _named(text, parallel)


def argmax_of_softmax(parallel: bool) -> KernelSource:
    """``argmax(softmax(z))`` over each row of ``z`` in one pass: the first maximum, and
    0 for a row holding NaN or +inf (softmax makes it all NaN; TensorFlow's argmax then
    gives 0)."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(z, out):
    for r in {loop}(z.shape[0]):
        best = 0
        peak = z[r, 0]
        spoiled = peak != peak or peak == np.inf
        for c in range(1, z.shape[1]):
            value = z[r, c]
            if value != value or value == np.inf:
                spoiled = True
            elif value > peak:
                peak = value
                best = c
        out[r] = 0 if spoiled else best
"""
    return _named(text, parallel)


# Pooling over NHWC arrays, 2-D windows: sizes, strides and padding are arguments
# (kh, kw, sh, sw, ph, pw: window, strides, padding before), so one kernel serves every
# layer. A padded position holds -inf, the value max pooling pads with.
_POOL_ARGS = "kh, kw, sh, sw, ph, pw"


# The positions ``(h, w)`` inside output ``(i, j)``'s window, padding skipped: loops for
# the pooling kernels' window walk, at their depth (text shared by three kernels).
_IN_WINDOW = """\
                for a in range(kh):
                    h = i * sh + a - ph
                    if h < 0 or h >= height:
                        continue
                    for b in range(kw):
                        w = j * sw + b - pw
                        if w < 0 or w >= width:
                            continue
"""


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
{_IN_WINDOW}                        for c in range(channels):
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


# Where windows tile the input, the rows and columns past the last window (the remainder
# of a VALID pooling) get no gradient: the tiled gradients zero them, per sample ``n``
# (text shared by two kernels; ``g`` has the pooling's output shape).
def _uncovered(dtype: str) -> str:
    return f"""\
    covered_h = min(height, g.shape[1] * sh - ph)
    covered_w = min(width, g.shape[2] * sw - pw)
    zero = np.{dtype}(0)
"""


_ZERO_UNCOVERED = """\
        for h in range(covered_h, height):
            for w in range(width):
                for c in range(channels):
                    dx[n, h, w, c] = zero
        for h in range(covered_h):
            for w in range(covered_w, width):
                for c in range(channels):
                    dx[n, h, w, c] = zero
"""


def max_pool_grad_tiled(dtype: str, parallel: bool) -> KernelSource:
    """``max_pool_grad`` where windows tile the input (strides equal to the window): every
    input position lies in one window at most, so each is written once, the gradient
    at its window's first maximum and 0 elsewhere, with no zeroing pass and no
    accumulation; positions no window covers (the remainder of a VALID pooling) are
    zeroed. The same rules as :func:`max_pool_grad` (NaN wins, a padded -inf maximum
    drops the gradient). The channel loop is innermost and without branches (``found``
    remembers, per channel, whether the window's maximum came already), so that it
    runs on vector instructions: the searching loop of :func:`max_pool_grad` took 3-6x
    NumPy's time here."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(x, y, g, dx, {_POOL_ARGS}):
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
{_uncovered(dtype)}    for n in {loop}(x.shape[0]):
        found = np.empty(channels, np.uint8)
{_ZERO_UNCOVERED}        for i in range(y.shape[1]):
            for j in range(y.shape[2]):
                found[:] = 0
                for a in range(kh):
                    h = i * sh + a - ph
                    for b in range(kw):
                        w = j * sw + b - pw
                        if 0 <= h < height and 0 <= w < width:
                            for c in range(channels):
                                peak = y[n, i, j, c]
                                value = x[n, h, w, c]
                                hit = ((value == peak) | ((peak != peak) & (value != value))) \\
                                    & (found[c] == 0)
                                dx[n, h, w, c] = g[n, i, j, c] if hit else zero
                                found[c] |= hit
                        else:
                            for c in range(channels):
                                found[c] |= y[n, i, j, c] == -np.inf
"""
    return _named(text, parallel)


# Saved indices: when a graph holds a max pooling and its gradient (a training step), the
# forward kernel also writes, for each output element, the position in its window
# (``a * kw + b``, row-major, padded positions counted) of the first element equal to
# the maximum: the element the gradient goes to under the rules of ``max_pool_grad``.
# The gradient then reads those positions and the incoming gradient, not the input and
# the output again (for 2x2 windows, 5 bytes read per window instead of 24).


def index_dtype(dtype: str) -> str:
    """The positions' integer type: as wide as the values, so that the channel loop, which
    compares values and selects positions, runs on vector instructions (with int8
    positions it ran 15x slower)."""
    return "int32" if np.dtype(dtype).itemsize == 4 else "int64"


def max_pool_with_index(dtype: str, parallel: bool) -> KernelSource:
    """:func:`max_pool` (the same maxima, bit for bit) that also writes ``at``: each
    output's position in its window. A position replaces the one found so far when its
    value is greater, or is the first NaN; so ``at`` is the first position equal to the
    maximum (0 when every position holds -inf, padded ones included), and a tie keeps
    the value found first, as ``np.maximum`` does."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(x, out, at, {_POOL_ARGS}):
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    for n in {loop}(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for c in range(channels):
                    out[n, i, j, c] = -np.inf
                    at[n, i, j, c] = 0
{_IN_WINDOW}                        position = a * kw + b
                        for c in range(channels):
                            peak = out[n, i, j, c]
                            value = x[n, h, w, c]
                            better = (value > peak) | ((value != value) & (peak == peak))
                            at[n, i, j, c] = position if better else at[n, i, j, c]
                            out[n, i, j, c] = value if better else peak
"""
    return _named(text, parallel)


def max_pool_grad_from_index(dtype: str, parallel: bool, tiled: bool) -> KernelSource:
    """``max_pool_grad`` from the positions :func:`max_pool_with_index` saved: each
    window's gradient goes to its position, dropped when that position is padding.
    ``tiled`` (strides equal to the window): every input position is written once, as
    in :func:`max_pool_grad_tiled`; otherwise the gradient is zeroed and accumulated in
    the order of :func:`max_pool_grad`, so the sums have its bits."""
    loop = "prange" if parallel else "range"
    if tiled:
        text = f"""\
def {_NAME}(at, g, dx, {_POOL_ARGS}):
    height, width, channels = dx.shape[1], dx.shape[2], dx.shape[3]
{_uncovered(dtype)}    for n in {loop}(dx.shape[0]):
{_ZERO_UNCOVERED}        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
{_IN_WINDOW}                        position = a * kw + b
                        for c in range(channels):
                            hit = at[n, i, j, c] == position
                            dx[n, h, w, c] = g[n, i, j, c] if hit else zero
"""
    else:
        text = f"""\
def {_NAME}(at, g, dx, {_POOL_ARGS}):
    height, width, channels = dx.shape[1], dx.shape[2], dx.shape[3]
    for n in {loop}(dx.shape[0]):
        dx[n] = 0
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                for c in range(channels):
                    position = at[n, i, j, c]
                    h = i * sh + position // kw - ph
                    w = j * sw + position % kw - pw
                    if 0 <= h < height and 0 <= w < width:
                        dx[n, h, w, c] += g[n, i, j, c]
"""
    return _named(text, parallel)


def col2im(dtype: str, parallel: bool) -> KernelSource:
    """The input gradient of a 2-D convolution from its columns ``cols = g @ w.T``
    (``(samples, out_h, out_w, kh * kw * channels)``) for the samples ``first, ...`` of
    ``dx``: each input position gathers the shares of the windows that read it, in the
    order of the kernel positions, and is written once (NumPy's col2im adds each kernel
    position's share over the whole block, a pass each)."""
    loop = "prange" if parallel else "range"
    text = f"""\
def {_NAME}(cols, dx, first, sh, sw, dh, dw, ph, pw, kh, kw):
    out_h, out_w = cols.shape[1], cols.shape[2]
    height, width, channels = dx.shape[1], dx.shape[2], dx.shape[3]
    for s in {loop}(cols.shape[0]):
        n = first + s
        for h in range(height):
            for w in range(width):
                for c in range(channels):
                    dx[n, h, w, c] = 0
                for a in range(kh):
                    ih = h + ph - a * dh
                    if ih < 0 or ih % sh != 0 or ih // sh >= out_h:
                        continue
                    i = ih // sh
                    for b in range(kw):
                        jw = w + pw - b * dw
                        if jw < 0 or jw % sw != 0 or jw // sw >= out_w:
                            continue
                        j = jw // sw
                        column = (a * kw + b) * channels
                        for c in range(channels):
                            dx[n, h, w, c] += cols[s, i, j, column + c]
"""
    return _named(text, parallel)


def dtype_name(dtype) -> str | None:
    """The dtype's name if kernels handle it (float32, float64), else None."""
    name = np.dtype(dtype).name
    return name if name in DTYPES else None


# --- recurrent sequences: one time step's gate arithmetic -------------------------------------
#
# The drivers in ``recurrent.py`` run the time loop in Python: per step one BLAS product
# (``h_prev @ kernel``, or the gradient's ``d_gates @ kernel.T``) and one kernel call for
# everything elementwise around it, in the layouts of ``ops/recurrent.py`` (time-major
# workspaces, gates ``[i, f, c, o]`` and ``[z, r, h]``). ``t`` is an argument, so one
# compiled kernel serves every step. With a mask, ``keep[b, t]`` says whether sample
# ``b`` takes step ``t``.


def _activation(name: str, v: str, dtype: str) -> str:
    """The expression of a recurrent activation of ``v``, as ``ops/recurrent.py`` computes
    it (Keras's hard sigmoid: ``relu6(v + 3) / 6``)."""
    one = f"np.{dtype}(1)"
    return {"tanh": f"np.tanh({v})",
            "sigmoid": f"{one} / ({one} + np.exp(-{v}))",
            "relu": f"np.maximum({v}, np.{dtype}(0))",
            "linear": v,
            "hard_sigmoid": f"np.minimum(np.maximum({v} + np.{dtype}(3), np.{dtype}(0)), "
                            f"np.{dtype}(6)) / np.{dtype}(6)"}[name]


def _slope(name: str, y: str, dtype: str) -> str:
    """The activation's derivative, read off its output ``y``."""
    one, zero = f"np.{dtype}(1)", f"np.{dtype}(0)"
    slope = {"tanh": f"{one} - {y} * {y}",
             "sigmoid": f"({one} - {y}) * {y}",
             "relu": f"{one} if {y} > 0 else {zero}",
             "linear": one,
             "hard_sigmoid": f"{one} / np.{dtype}(6) if 0 < {y} < 1 else {zero}"}[name]
    return f"({slope})"  # a factor of products


def _batch_loop(parallel: bool) -> str:
    return f"for b in {'prange' if parallel else 'range'}(batch):"


def lstm_step(activation: str, recurrent_activation: str, masked: bool, dtype: str,
              parallel: bool) -> KernelSource:
    """An LSTM step after ``product = h_prev @ kernel``: the gates ``i, f, c, o`` of
    ``x[:, t] + product``, the cell and hidden states; saves the activated gates and
    ``act(c)`` for the gradient. A sample not kept keeps its states."""
    act = lambda v: _activation(activation, v, dtype)  # noqa: E731
    ract = lambda v: _activation(recurrent_activation, v, dtype)  # noqa: E731
    keep = ", keep" if masked else ""
    hold = """
            if not keep[b, t]:
                c = c_prev[b, j]
                h = h_prev[b, j]""" if masked else ""
    text = f"""\
def {_NAME}(x, t, product, h_prev, c_prev, gates, cs, cell_out, hs{keep}):
    batch, units = hs.shape[1], hs.shape[2]
    {_batch_loop(parallel)}
        for j in range(units):
            zi = x[b, t, j] + product[b, j]
            zf = x[b, t, units + j] + product[b, units + j]
            zg = x[b, t, 2 * units + j] + product[b, 2 * units + j]
            zo = x[b, t, 3 * units + j] + product[b, 3 * units + j]
            i = {ract("zi")}
            f = {ract("zf")}
            g = {act("zg")}
            o = {ract("zo")}
            c = f * c_prev[b, j] + i * g
            a = {act("c")}
            h = o * a{hold}
            gates[t, b, j] = i
            gates[t, b, units + j] = f
            gates[t, b, 2 * units + j] = g
            gates[t, b, 3 * units + j] = o
            cell_out[t, b, j] = a
            cs[t, b, j] = c
            hs[t, b, j] = h
"""
    return _named(text, parallel)


# Activations that kernels compute without ``exp`` or ``tanh``: Numba calls the C
# library's scalar functions for those, measured 2.4x slower than NumPy's vectorized
# ``exp`` over a step's block (128x512 float32: 403 against 169 us), which made an LSTM
# step half as slow again as the NumPy path. Sequences with ``tanh`` or ``sigmoid``
# leave those to NumPy: see ``lstm_gates_from_exp``.
ARITHMETIC_ACTIVATIONS = frozenset({"relu", "linear", "hard_sigmoid"})


def scaled_inputs(dtype: str, parallel: bool) -> KernelSource:
    """``gates[t] = x[:, t] * scale + product``: a step's projected inputs, read from the
    batch-major ``x``, scaled per column, plus the recurrent product."""
    text = f"""\
def {_NAME}(x, t, scale, product, gates):
    batch, width = gates.shape[1], gates.shape[2]
    {_batch_loop(parallel)}
        for k in range(width):
            gates[t, b, k] = x[b, t, k] * scale[k] + product[b, k]
"""
    return _named(text, parallel)


def lstm_gates_from_exp(dtype: str, parallel: bool) -> KernelSource:
    """Keras's default LSTM (tanh, sigmoid) between NumPy's ``exp`` and ``tanh``: the
    step's block holds ``exp(-z)`` for the gates ``i, f, o`` and ``exp(-2 z)`` for ``c``
    (the kernel and inputs were scaled by -1 and -2 beforehand, as ``ops/recurrent.py``
    does), so ``sigmoid(z) = 1 / (1 + e)`` and ``tanh(z) = 2 sigmoid(2 z) - 1``. Writes
    the activated gates in place and the new cell state ``f * c_prev + i * g``."""
    one = f"np.{dtype}(1)"
    text = f"""\
def {_NAME}(t, gates, c_prev, cs):
    batch, units = cs.shape[1], cs.shape[2]
    {_batch_loop(parallel)}
        for j in range(units):
            i = {one} / ({one} + gates[t, b, j])
            f = {one} / ({one} + gates[t, b, units + j])
            g = np.{dtype}(2) * ({one} / ({one} + gates[t, b, 2 * units + j])) - {one}
            o = {one} / ({one} + gates[t, b, 3 * units + j])
            gates[t, b, j] = i
            gates[t, b, units + j] = f
            gates[t, b, 2 * units + j] = g
            gates[t, b, 3 * units + j] = o
            cs[t, b, j] = f * c_prev[b, j] + i * g
"""
    return _named(text, parallel)


def lstm_output(masked: bool, dtype: str, parallel: bool) -> KernelSource:
    """After ``cell_out[t] = tanh(cs[t])``: ``h = o * cell_out``; a sample not kept keeps
    its states."""
    keep = ", keep" if masked else ""
    hold = """
            if not keep[b, t]:
                cs[t, b, j] = c_prev[b, j]
                h = h_prev[b, j]""" if masked else ""
    text = f"""\
def {_NAME}(t, gates, cell_out, h_prev, c_prev, cs, hs{keep}):
    batch, units = hs.shape[1], hs.shape[2]
    {_batch_loop(parallel)}
        for j in range(units):
            h = gates[t, b, 3 * units + j] * cell_out[t, b, j]{hold}
            hs[t, b, j] = h
"""
    return _named(text, parallel)


def gru_inputs(dtype: str, parallel: bool) -> KernelSource:
    """Keras's default GRU (tanh, sigmoid; reset after the product), before NumPy's
    ``exp``: ``x[:, t] * scale + (product + bias)`` for the gates ``z, r`` (scaled by -1
    beforehand, as ``ops/recurrent.py`` does), and ``inner_h = product + bias`` saved in
    the gates' last block."""
    text = f"""\
def {_NAME}(x, t, scale, product, bias, gates):
    batch, units = gates.shape[1], gates.shape[2] // 4
    {_batch_loop(parallel)}
        for k in range(2 * units):
            gates[t, b, k] = x[b, t, k] * scale[k] + (product[b, k] + bias[k])
        for j in range(units):
            gates[t, b, 3 * units + j] = product[b, 2 * units + j] + bias[2 * units + j]
"""
    return _named(text, parallel)


def gru_gates_from_exp(dtype: str, parallel: bool) -> KernelSource:
    """After ``exp`` of the gates ``z, r`` (``exp(-z)``, ``exp(-r)``): their sigmoids in
    place, and the candidate's input ``r * inner_h + x_h`` into its block (NumPy's
    ``tanh`` follows)."""
    one = f"np.{dtype}(1)"
    text = f"""\
def {_NAME}(x, t, gates):
    batch, units = gates.shape[1], gates.shape[2] // 4
    {_batch_loop(parallel)}
        for j in range(units):
            z = {one} / ({one} + gates[t, b, j])
            r = {one} / ({one} + gates[t, b, units + j])
            gates[t, b, j] = z
            gates[t, b, units + j] = r
            gates[t, b, 2 * units + j] = r * gates[t, b, 3 * units + j] + x[b, t, 2 * units + j]
"""
    return _named(text, parallel)


def gru_output(masked: bool, dtype: str, parallel: bool) -> KernelSource:
    """After the candidate's ``tanh``: ``h = (h_prev - candidate) * z + candidate``; a
    sample not kept keeps its state."""
    keep = ", keep" if masked else ""
    hold = """
            if not keep[b, t]:
                h = previous""" if masked else ""
    text = f"""\
def {_NAME}(t, gates, h_prev, hs{keep}):
    batch, units = hs.shape[1], hs.shape[2]
    {_batch_loop(parallel)}
        for j in range(units):
            previous = h_prev[b, j]
            candidate = gates[t, b, 2 * units + j]
            h = (previous - candidate) * gates[t, b, j] + candidate{hold}
            hs[t, b, j] = h
"""
    return _named(text, parallel)


def lstm_step_grad(activation: str, recurrent_activation: str, masked: bool,
                   cell_gradient: bool, dtype: str, parallel: bool) -> KernelSource:
    """One step back through an LSTM, before ``product = d_gates[t] @ kernel.T``.

    The gradient reaching ``h_t`` is step ``t + 1``'s ``product``, or, for a sample
    step ``t + 1`` did not keep, the gradient it passed through unchanged (``dh``, which
    this kernel leaves holding step ``t``'s, for the same reason). ``dc`` is updated in
    place; the gates' gradients (before activation) go to ``dz[t]``.
    """
    act_slope = lambda y: _slope(activation, y, dtype)  # noqa: E731
    ract_slope = lambda y: _slope(recurrent_activation, y, dtype)  # noqa: E731
    cells = ", d_cs" if cell_gradient else ""
    keep = ", keep" if masked else ""
    reach = "dh[b, j] if t + 1 < steps and not keep[b, t + 1] else product[b, j]" if masked \
        else "product[b, j]"
    cell = " + d_cs[b, t, j]" if cell_gradient else ""
    if masked:
        tail = f"""
            kept = np.{dtype}(keep[b, t])
            dz[t, b, j] = di * kept
            dz[t, b, units + j] = df * kept
            dz[t, b, 2 * units + j] = dg * kept
            dz[t, b, 3 * units + j] = do * kept
            dc[b, j] = total * f if keep[b, t] else cell_grad"""
    else:
        tail = """
            dz[t, b, j] = di
            dz[t, b, units + j] = df
            dz[t, b, 2 * units + j] = dg
            dz[t, b, 3 * units + j] = do
            dc[b, j] = total * f"""
    text = f"""\
def {_NAME}(t, product, d_hs{cells}, gates, cell_out, c_prev, dz, dh, dc{keep}):
    steps, batch, units = gates.shape[0], dc.shape[0], dc.shape[1]
    {_batch_loop(parallel)}
        for j in range(units):
            h_grad = {reach}
            h_grad = h_grad + d_hs[b, t, j]
            dh[b, j] = h_grad
            i = gates[t, b, j]
            f = gates[t, b, units + j]
            g = gates[t, b, 2 * units + j]
            o = gates[t, b, 3 * units + j]
            a = cell_out[t, b, j]
            cell_grad = dc[b, j]{cell}
            total = {act_slope("a")} * o * h_grad + cell_grad
            di = total * g * {ract_slope("i")}
            df = total * c_prev[b, j] * {ract_slope("f")}
            dg = total * i * {act_slope("g")}
            do = h_grad * a * {ract_slope("o")}{tail}
"""
    return _named(text, parallel)


def gru_step(activation: str, recurrent_activation: str, masked: bool, dtype: str,
             parallel: bool) -> KernelSource:
    """A GRU step (reset after the product) after ``product = h_prev @ kernel``: ``inner =
    product + bias``, the gates ``z, r`` of ``x[:, t] + inner``, the candidate of
    ``x[:, t] + r * inner_h``, ``h = z * h_prev + (1 - z) * candidate``. Saves ``z, r``,
    the candidate and ``inner_h`` for the gradient. A sample not kept keeps its state."""
    act = lambda v: _activation(activation, v, dtype)  # noqa: E731
    ract = lambda v: _activation(recurrent_activation, v, dtype)  # noqa: E731
    keep = ", keep" if masked else ""
    hold = """
            if not keep[b, t]:
                h = previous""" if masked else ""
    text = f"""\
def {_NAME}(x, t, product, bias, h_prev, gates, hs{keep}):
    batch, units = hs.shape[1], hs.shape[2]
    {_batch_loop(parallel)}
        for j in range(units):
            inner_z = product[b, j] + bias[j]
            inner_r = product[b, units + j] + bias[units + j]
            inner_h = product[b, 2 * units + j] + bias[2 * units + j]
            zz = x[b, t, j] + inner_z
            zr = x[b, t, units + j] + inner_r
            z = {ract("zz")}
            r = {ract("zr")}
            zh = r * inner_h + x[b, t, 2 * units + j]
            candidate = {act("zh")}
            previous = h_prev[b, j]
            h = (previous - candidate) * z + candidate{hold}
            gates[t, b, j] = z
            gates[t, b, units + j] = r
            gates[t, b, 2 * units + j] = candidate
            gates[t, b, 3 * units + j] = inner_h
            hs[t, b, j] = h
"""
    return _named(text, parallel)


def gru_step_grad(activation: str, recurrent_activation: str, masked: bool, dtype: str,
                  parallel: bool) -> KernelSource:
    """One step back through a GRU (reset after the product), before ``product =
    d_inner[t] @ kernel.T``: the gradient reaching ``h_t`` is ``product + carry +
    d_hs[:, t]``, where ``carry`` is what step ``t + 1`` passed straight to ``h_t``
    (``z * dh``, all of ``dh`` for a sample it did not keep); this kernel leaves
    step ``t``'s in ``carry``."""
    act_slope = lambda y: _slope(activation, y, dtype)  # noqa: E731
    ract_slope = lambda y: _slope(recurrent_activation, y, dtype)  # noqa: E731
    keep = ", keep" if masked else ""
    kept = f"""
            kept = np.{dtype}(keep[b, t])
            dxh = dxh * kept""" if masked else ""
    kept_z = " * kept" if masked else ""
    passed = "h_grad if not keep[b, t] else h_grad * z" if masked else "h_grad * z"
    text = f"""\
def {_NAME}(t, product, carry, d_hs, gates, h_prev, dx, d_inner{keep}):
    batch, units = carry.shape[0], carry.shape[1]
    {_batch_loop(parallel)}
        for j in range(units):
            h_grad = product[b, j] + carry[b, j] + d_hs[b, t, j]
            z = gates[t, b, j]
            r = gates[t, b, units + j]
            candidate = gates[t, b, 2 * units + j]
            inner_h = gates[t, b, 3 * units + j]
            dxh = (np.{dtype}(1) - z) * h_grad * {act_slope("candidate")}{kept}
            dxr = dxh * inner_h * {ract_slope("r")}
            dxz = (h_prev[b, j] - candidate) * h_grad * {ract_slope("z")}{kept_z}
            dx[t, b, j] = dxz
            dx[t, b, units + j] = dxr
            dx[t, b, 2 * units + j] = dxh
            d_inner[t, b, j] = dxz
            d_inner[t, b, units + j] = dxr
            d_inner[t, b, 2 * units + j] = dxh * r
            carry[b, j] = {passed}
"""
    return _named(text, parallel)
