"""Philox-4x32-10 and TensorFlow's ways of turning its words into numbers.

Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) is a keyed
bijection of a 128-bit counter: the numbers are a pure function of (key, counter), which
is what TensorFlow's stateless ops and ``tf.random.Generator`` draw from. Following TF's
CPU kernels step by step (how a seed is scrambled into a key and counter, how many 32-bit
words each value takes, where each output group starts in the counter space, the
Box-Muller transform) gives TensorFlow's numbers: bit for bit for uniform, integer and
categorical draws; normal draws may differ in the last bit where NumPy's and the C
library's sin/cos/log round differently.

A *state* is TF's Philox state, three 64-bit words: counter low, counter high, key.
Everything here is NumPy on the host; the ops in ``stateless_random.py`` wrap it.
"""

from __future__ import annotations

import math

import numpy as np

MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1
_U32 = np.uint64(MASK32)
_SHIFT = np.uint64(32)
_MULTIPLIERS = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_KEY_BUMPS = (0x9E3779B9, 0xBB67AE85)
# The key TF scrambles a seed with (GenerateKey in stateless_random_ops.cc).
_SCRAMBLE_KEY = 0x02461E29_3EC8F720
# Philox calls TF sets aside for each output of a sampler that takes a variable number of
# words (truncated normal, gamma, Poisson), so outputs never share words.
RESERVED_PER_OUTPUT = 256


def _rounds(key: int, c0, c1, c2, c3):
    k0, k1 = key & MASK32, key >> 32
    for _ in range(10):
        p0 = _MULTIPLIERS[0] * c0
        p1 = _MULTIPLIERS[1] * c2
        c0, c1, c2, c3 = ((p1 >> _SHIFT) ^ c1 ^ np.uint64(k0), p1 & _U32,
                          (p0 >> _SHIFT) ^ c3 ^ np.uint64(k1), p0 & _U32)
        k0, k1 = (k0 + _KEY_BUMPS[0]) & MASK32, (k1 + _KEY_BUMPS[1]) & MASK32
    return c0, c1, c2, c3


def words(state: tuple[int, int, int], offsets: np.ndarray) -> np.ndarray:
    """Philox outputs at the state's counter plus each offset: uint32 of shape (n, 4)."""
    low, high, key = state
    offsets = np.asarray(offsets, np.uint64).reshape(-1)
    counter_low = np.uint64(low) + offsets
    carry = (counter_low < offsets).astype(np.uint64)  # the 64-bit addition wrapped
    counter_high = np.uint64(high) + carry
    c = _rounds(key, counter_low & _U32, counter_low >> _SHIFT, counter_high & _U32,
                counter_high >> _SHIFT)
    return np.stack(c, axis=1).astype(np.uint32)


def stream(state: tuple[int, int, int], count: int) -> np.ndarray:
    """The first ``count`` 32-bit words from the state's counter on (whole Philox calls)."""
    calls = -(-count // 4)
    return words(state, np.arange(calls, dtype=np.uint64)).reshape(-1)


def skip(state: tuple[int, int, int], calls: int) -> tuple[int, int, int]:
    """The state ``calls`` Philox calls later (the 128-bit counter wraps)."""
    counter = (state[0] | state[1] << 64) + calls
    return counter & MASK64, (counter >> 64) & MASK64, state[2]


def state_from_seed(seed: np.ndarray) -> tuple[int, int, int]:
    """The key and counter TF's stateless ops derive from a seed pair: the seed as a
    counter, scrambled by one Philox call under a fixed key."""
    s0, s1 = (int(v) & MASK64 for v in np.asarray(seed).reshape(-1)[:2])
    mixed = [int(w) for w in words((s0, s1, _SCRAMBLE_KEY), np.zeros(1))[0]]
    return 0, mixed[2] | mixed[3] << 32, mixed[0] | mixed[1] << 32


# --- words to numbers -------------------------------------------------------------------------


def _wide(w: np.ndarray) -> np.ndarray:
    """64-bit values from pairs of words, the first the low half."""
    return w[0::2].astype(np.uint64) | w[1::2].astype(np.uint64) << _SHIFT


def unit_float32(w: np.ndarray) -> np.ndarray:
    """[0, 1) from the 23 low bits of each word (a float in [1, 2) minus 1)."""
    return ((w & 0x7FFFFF) | 0x3F800000).astype(np.uint32).view(np.float32) - np.float32(1)


def unit_float16(w: np.ndarray) -> np.ndarray:
    return ((w & 0x3FF) | 0x3C00).astype(np.uint16).view(np.float16) - np.float16(1)


def unit_float64(w: np.ndarray) -> np.ndarray:
    """[0, 1) from pairs of words: 20 bits of the first, all 32 of the second."""
    hi, lo = w[0::2].astype(np.uint64), w[1::2].astype(np.uint64)
    bits = (hi & np.uint64(0xFFFFF)) << _SHIFT | lo | np.uint64(1023 << 52)
    return bits.view(np.float64) - 1.0


def _box_muller32(x0, x1):
    """TF's float Box-Muller: float arithmetic, 2*pi*u in double rounded to float. The
    transcendental functions are taken in double and rounded, as the C library's
    correctly rounded float versions give."""
    u1 = np.maximum(unit_float32(x0), np.float32(1e-7))
    v1 = (2 * np.pi * unit_float32(x1).astype(np.float64)).astype(np.float32)
    radius = np.sqrt(np.float32(-2) * np.log(u1.astype(np.float64)).astype(np.float32))
    sin = np.sin(v1.astype(np.float64)).astype(np.float32)
    cos = np.cos(v1.astype(np.float64)).astype(np.float32)
    return sin * radius, cos * radius


def _box_muller64(x0, x1, x2, x3):
    u1 = np.maximum(unit_float64(np.stack([x0, x1], 1).reshape(-1)), 1e-7)
    v1 = 2 * np.pi * unit_float64(np.stack([x2, x3], 1).reshape(-1))
    radius = np.sqrt(-2.0 * np.log(u1))
    return np.sin(v1) * radius, np.cos(v1) * radius


def normal_pairs(w: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Normal draws from words, in TF's order: (n, 2) pairs of one Box-Muller each."""
    if dtype == np.float64:
        return np.stack(_box_muller64(w[0::4], w[1::4], w[2::4], w[3::4]), 1)
    return np.stack(_box_muller32(w[0::2], w[1::2]), 1)


def words_per_value(dtype: np.dtype) -> int:
    return 2 if np.dtype(dtype).itemsize == 8 else 1


def uniform(w: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype == np.float64:
        return unit_float64(w)
    if dtype == np.float16:
        return unit_float16(w)
    return unit_float32(w)


def normal(w: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return normal_pairs(w, dtype).reshape(-1).astype(dtype)


def uniform_int(w: np.ndarray, dtype: np.dtype, low: int, high: int) -> np.ndarray:
    """``low + bits % (high - low)``, TF's (slightly biased) integer draw."""
    if np.dtype(dtype).itemsize == 8:
        span = np.uint64((high - low) & MASK64)
        return (np.uint64(low & MASK64) + _wide(w) % span).view(np.int64)
    span = np.uint32((high - low) & MASK32)
    return (np.uint32(low & MASK32) + w % span).astype(np.uint32).view(np.int32)


def full_int(w: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Every bit random: the words themselves, as ``dtype``."""
    bits = _wide(w) if np.dtype(dtype).itemsize == 8 else w
    return bits.view(dtype)


def truncated_normal(state: tuple[int, int, int], size: int, dtype: np.dtype) -> np.ndarray:
    """Normal draws within two standard deviations, as TF's kernel takes them.

    Outputs come in groups (4 values, 2 for float64); group ``g`` reads words from
    ``RESERVED_PER_OUTPUT`` values' worth of calls after the counter, a Box-Muller pair at
    a time, keeping the draws with ``|x| < 2`` in order until the group is full.
    """
    per_group = 2 if dtype == np.float64 else 4
    groups = -(-size // per_group)
    starts = np.arange(groups, dtype=np.uint64) * np.uint64(per_group * RESERVED_PER_OUTPUT // 4)
    values = np.zeros((groups, per_group), np.float64 if dtype == np.float64 else np.float32)
    filled = np.zeros(groups, np.int64)
    call = 0
    while groups and (filled < per_group).any():
        rows = np.flatnonzero(filled < per_group)
        drawn = normal_pairs(words(state, starts[rows] + np.uint64(call)).reshape(-1), dtype)
        candidates = drawn.reshape(len(rows), -1)
        for j in range(candidates.shape[1]):
            take = (np.abs(candidates[:, j]) < 2) & (filled[rows] < per_group)
            values[rows[take], filled[rows[take]]] = candidates[take, j]
            filled[rows[take]] += 1
        call += 1
    return values.reshape(-1)[:size].astype(dtype)


def categorical(state: tuple[int, int, int], logits: np.ndarray, count: int) -> np.ndarray:
    """TF's multinomial kernel: per row, an unnormalised CDF of exp(logit - max) over the
    finite logits, searched with uniform doubles taken from one stream, row after row (as
    TF does when the batch runs as one shard, the case for all but large batches)."""
    rows, classes = logits.shape
    draws = unit_float64(stream(state, 2 * rows * count)[:2 * rows * count])
    draws = draws.reshape(rows, count)
    finite = np.isfinite(logits)
    lowest = np.finfo(logits.dtype).min if logits.dtype.kind == "f" else 0
    peak = np.where(finite, logits, lowest).max(axis=1, initial=lowest).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = np.where(finite, np.exp(logits.astype(np.float64) - peak[:, None]), 0.0)
    cdf = np.cumsum(weights, axis=1)
    total = cdf[:, -1] if classes else np.zeros(rows)
    out = np.empty((rows, count), np.int64)
    for r in range(rows):
        out[r] = np.searchsorted(cdf[r], draws[r] * total[r], side="right")
    return out


_libm_pow = np.frompyfunc(math.pow, 2, 1)


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.frompyfunc(math.lgamma, 1, 1)(x).astype(np.float64)


def permutation(state: tuple[int, int, int], n: int) -> np.ndarray:
    """TF's shuffle: a forward Fisher-Yates pass, position i swapped with i + (word % (n - i))
    for one word after another."""
    w = stream(state, max(n - 1, 0))
    order = np.arange(n, dtype=np.int64)
    for i in range(n - 1):
        j = i + int(w[i]) % (n - i)
        order[i], order[j] = order[j], order[i]
    return order


class _Draws:
    """Per-output streams for the variable-length samplers (gamma, Poisson): output ``i``
    reads Philox calls from ``RESERVED_PER_OUTPUT * i`` on, each call giving a few values
    that are used last first, as TF's kernels do."""

    def __init__(self, state, outputs: int, dtype, reserved: int = RESERVED_PER_OUTPUT):
        self.state = state
        self.dtype = np.dtype(dtype)
        self.next_call = np.arange(outputs, dtype=np.uint64) * np.uint64(reserved)

    def take(self, rows: np.ndarray, buffer: np.ndarray, left: np.ndarray, make) -> np.ndarray:
        """One value for each of ``rows`` from their buffer, refilled by a call if empty."""
        empty = rows[left[rows] == 0]
        if len(empty):
            fresh = make(words(self.state, self.next_call[empty]).reshape(-1))
            buffer[empty] = fresh.reshape(len(empty), -1)
            left[empty] = buffer.shape[1]
            self.next_call[empty] += np.uint64(1)
        left[rows] -= 1
        return buffer[rows, left[rows]]

    def buffers(self, outputs: int, per_call: int):
        return np.zeros((outputs, per_call), self.dtype), np.zeros(outputs, np.int64)


def gamma(state: tuple[int, int, int], alpha: np.ndarray, samples: int) -> np.ndarray:
    """Marsaglia and Tsang's gamma sampler as TF's kernel runs it, in double.

    ``alpha`` is flat; output ``i`` is sample ``i % samples`` of alpha ``i // samples``,
    stored at ``[i % samples, i // samples]``. Alpha 1 is an exponential draw; alpha below
    1 samples alpha + 1 and scales by u ** (1 / alpha).
    """
    n = alpha.size * samples
    a = np.repeat(alpha.astype(np.float64), samples)
    out = np.zeros(n)
    draws = _Draws(state, n, np.float64)
    normals, normals_left = draws.buffers(n, 2)
    uniforms, uniforms_left = draws.buffers(n, 2)
    uniform64 = unit_float64

    def normal64(w):
        return normal_pairs(w, np.dtype(np.float64)).reshape(-1)

    exponential = np.flatnonzero(a == 1)
    if len(exponential):
        u = draws.take(exponential, uniforms, uniforms_left, uniform64)
        out[exponential] = -np.log1p(-u)
    small = a < 1
    d = a + np.where(small, 2.0 / 3, -1.0 / 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = 1.0 / 3 / np.sqrt(d)
    pending = np.flatnonzero(a != 1)
    while len(pending):
        x = draws.take(pending, normals, normals_left, normal64)
        v = 1 + c[pending] * x
        positive = ~(v <= 0)  # NaN (alpha below 0) goes on, as in TF: the draw is NaN
        rows, x, v = pending[positive], x[positive], v[positive]
        v = v * v * v
        u = draws.take(rows, uniforms, uniforms_left, uniform64)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = (u < 1 - 0.0331 * (x * x) * (x * x)) | (
                np.log(u) < 0.5 * x * x + d[rows] * (1 - v + np.log(v)))
        done, value = rows[accept], d[rows[accept]] * v[accept]
        boost = small[done]
        if boost.any():
            b = draws.take(done[boost], uniforms, uniforms_left, uniform64)
            # The C library's pow, as TF's kernel calls it (NumPy's vectorised power may
            # differ in the last bit).
            value[boost] *= _libm_pow(b, 1 / a[done[boost]]).astype(np.float64)
        out[done] = value
        pending = np.setdiff1d(pending, done, assume_unique=True)
    return out.reshape(alpha.size, samples).T


def poisson(state: tuple[int, int, int], rate: np.ndarray, samples: int) -> np.ndarray:
    """TF's Poisson sampler: Knuth's product of uniforms below rate 10, Hormann's
    transformed rejection (PTRS) above, in double whatever the rate's dtype. Layout as
    :func:`gamma`."""
    n = rate.size * samples
    lam = np.repeat(rate.astype(np.float64), samples)
    out = np.zeros(n)
    draws = _Draws(state, n, np.float64)
    uniforms, left = draws.buffers(n, 2)
    with np.errstate(all="ignore"):
        _poisson_knuth(draws, np.flatnonzero(lam < 10), lam, out, uniforms, left)
        out[np.isinf(lam) & (lam > 0)] = np.inf
        _poisson_ptrs(draws, np.flatnonzero((lam >= 10) & np.isfinite(lam)), lam, out,
                      uniforms, left)
        out[np.isnan(lam)] = np.nan  # TF's kernel never ends for a NaN rate
    return out.reshape(rate.size, samples).T


def _poisson_knuth(draws, pending, lam, out, uniforms, left):
    threshold = np.exp(-lam)
    product = np.ones(len(lam))
    count = np.zeros(len(lam))
    while len(pending):
        product[pending] = product[pending] * draws.take(pending, uniforms, left, unit_float64)
        done = product[pending] <= threshold[pending]
        out[pending[done]] = count[pending[done]]
        pending = pending[~done]
        count[pending] += 1


def _poisson_ptrs(draws, pending, lam, out, uniforms, left):
    log_rate = np.log(lam)
    b = 0.931 + 2.53 * np.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)
    while len(pending):
        u = draws.take(pending, uniforms, left, unit_float64) - 0.5
        v = draws.take(pending, uniforms, left, unit_float64)
        us = 0.5 - np.abs(u)
        ap, bp = a[pending], b[pending]
        k = np.floor((2 * ap / us + bp) * u + lam[pending] + 0.43)
        quick = (us >= 0.07) & (v <= v_r[pending])
        rejected = (k < 0) | ((us < 0.013) & (v > us))
        s = np.log(v * inv_alpha[pending] / (ap / (us * us) + bp))
        safe_k = np.where(rejected, 0, k)
        tail = -lam[pending] + safe_k * log_rate[pending] - _lgamma(safe_k + 1)
        accept = quick | (~rejected & (s <= tail))
        out[pending[accept]] = k[accept]
        pending = pending[~accept]


def binomial(state: tuple[int, int, int], counts: np.ndarray, probs: np.ndarray,
             samples: int) -> np.ndarray:
    """TF's binomial sampler, in double: inversion (a sum of geometric draws) when the mean
    of the smaller tail is below 10, Hormann's BTRS transformed rejection above; a
    probability above 1/2 samples the failures. Layout as :func:`gamma`."""
    n = counts.size * samples
    count = np.repeat(counts.astype(np.float64), samples)
    p = np.repeat(probs, samples)
    flip = p > 0.5
    q = np.where(flip, 1 - p, p)
    # The mean is compared in the probabilities' own precision, as TF's kernel does.
    small_mean = np.repeat(counts.astype(probs.dtype), samples) * q.astype(probs.dtype) < 10
    q = q.astype(np.float64)
    out = np.full(n, np.nan)
    # Inversion reserves 42 calls per output (its mean is below 10: 10 standard deviations).
    inversion = _Draws(state, n, np.float64, reserved=42)
    draws = _Draws(state, n, np.float64)
    uniforms, left = draws.buffers(n, 2)
    with np.errstate(all="ignore"):
        valid = (p > 0) & (p < 1) & (count > 0)
        _binomial_inversion(inversion, np.flatnonzero(valid & small_mean), count, q, out,
                            uniforms, left)
        uniforms, left = draws.buffers(n, 2)
        _binomial_btrs(draws, np.flatnonzero(valid & ~small_mean), count, q, out, uniforms,
                       left)
        out = np.where(flip & valid, count - out, out)
        out[(count <= 0) | (p <= 0)] = 0
        out[(p >= 1) & (count > 0)] = count[(p >= 1) & (count > 0)]
    return out.reshape(counts.size, samples).T


def _binomial_inversion(draws, pending, count, q, out, uniforms, left):
    total = np.zeros(len(count))
    successes = np.zeros(len(count))
    while len(pending):
        u = draws.take(pending, uniforms, left, unit_float64)
        total[pending] += np.ceil(np.log(u) / np.log1p(-q[pending]))
        done = total[pending] > count[pending]
        out[pending[done]] = successes[pending[done]]
        pending = pending[~done]
        successes[pending] += 1


_STIRLING_TAILS = np.array([0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                            0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                            0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                            0.00833056343336287])


def _stirling_tail(k: np.ndarray) -> np.ndarray:
    """log(k!) minus its Stirling approximation: a table below 10, a series above."""
    kp1sq = (k + 1) * (k + 1)
    series = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    return np.where(k <= 9, _STIRLING_TAILS[np.clip(k, 0, 9).astype(np.int64)], series)


def _binomial_btrs(draws, pending, count, q, out, uniforms, left):
    stddev = np.sqrt(count * q * (1 - q))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * q
    c = count * q + 0.5
    v_r = 0.92 - 4.2 / b
    r = q / (1 - q)
    alpha = (2.83 + 5.1 / b) * stddev
    m = np.floor((count + 1) * q)
    while len(pending):
        u = draws.take(pending, uniforms, left, unit_float64) - 0.5
        v = draws.take(pending, uniforms, left, unit_float64)
        i = pending
        us = 0.5 - np.abs(u)
        k = np.floor((2 * a[i] / us + b[i]) * u + c[i])
        quick = (us >= 0.07) & (v <= v_r[i])
        rejected = (k < 0) | (k > count[i])
        n, mm, rr = count[i], m[i], r[i]
        kk = np.where(rejected, 0, k)
        ratio = np.log(v * alpha[i] / (a[i] / (us * us) + b[i]))
        bound = ((mm + 0.5) * np.log((mm + 1) / (rr * (n - mm + 1)))
                 + (n + 1) * np.log((n - mm + 1) / (n - kk + 1))
                 + (kk + 0.5) * np.log(rr * (n - kk + 1) / (kk + 1))
                 + _stirling_tail(mm) + _stirling_tail(n - mm)
                 - _stirling_tail(kk) - _stirling_tail(n - kk))
        accept = quick | (~rejected & (ratio <= bound))
        out[pending[accept]] = k[accept]
        pending = pending[~accept]
