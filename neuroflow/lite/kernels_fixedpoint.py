"""TensorFlow Lite's integer arithmetic for quantized kernels, vectorised with NumPy.

A quantized kernel accumulates in int32, then rescales the accumulator by a real factor
(``input_scale * filter_scale / output_scale``) held as a fixed-point pair: a 31-bit
multiplier in [2**30, 2**31) and a power-of-two shift. The rescale is gemmlowp's
rounding-doubling high multiply followed by a rounding right shift, the same two roundings
TensorFlow Lite's reference kernels use, so results match it bit for bit. Everything runs
in int64 so the int32 products cannot overflow.
"""

from __future__ import annotations

import numpy as np

_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


def round_half_away(x) -> np.ndarray:
    """C's ``round``: halves go away from zero (NumPy's ``round`` goes to even)."""
    x = np.asarray(x)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_multiplier(real) -> tuple[np.ndarray, np.ndarray]:
    """Split positive real factors into (int32 multiplier, shift): real = m * 2**(shift-31)."""
    real = np.asarray(real, dtype=np.float64)
    fraction, shift = np.frexp(real)
    fixed = round_half_away(fraction * (1 << 31)).astype(np.int64)
    # frexp's fraction is in [0.5, 1); rounding can reach 2**31, one bit too many.
    carry = fixed == (1 << 31)
    fixed = np.where(carry, fixed // 2, fixed)
    shift = np.where(carry, shift + 1, shift).astype(np.int64)
    # Factors below 2**-31 round to zero in TensorFlow Lite.
    tiny = shift < -31
    return np.where(tiny, 0, fixed), np.where(tiny, 0, shift)


def _truncating_shift31(x: np.ndarray) -> np.ndarray:
    """``x / 2**31`` with C's integer division (toward zero), not NumPy's floor."""
    magnitude = np.abs(x) >> 31
    return np.where(x < 0, -magnitude, magnitude)


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values held in int64."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    product = a * b
    nudge = np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = _truncating_shift31(product + nudge)
    overflow = (a == _INT32_MIN) & (b == _INT32_MIN)
    return np.where(overflow, _INT32_MAX, high)


def rounding_divide_by_pot(x: np.ndarray, exponent) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: ``x / 2**exponent``, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift) -> np.ndarray:
    """TensorFlow Lite's MultiplyByQuantizedMultiplier (``multiplier``/``shift`` broadcast
    along the last axis for per-channel factors)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    scaled = np.asarray(x, dtype=np.int64) * (np.int64(1) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, multiplier),
                                  right)


def requantize(accumulator, real_multiplier, output_zero_point: int, low: int,
               high: int, dtype) -> np.ndarray:
    """An int32 accumulator rescaled by ``real_multiplier``, offset and clamped."""
    multiplier, shift = quantize_multiplier(real_multiplier)
    out = multiply_by_quantized_multiplier(accumulator, multiplier, shift) + output_zero_point
    return np.clip(out, low, high).astype(dtype)
