"""The string hashes TensorFlow buckets with: FarmHash Fingerprint64 and keyed SipHash-2-4.

``tf.strings.to_hash_bucket_fast`` (and Keras's ``Hashing`` and lookup layers) use
FarmHash's ``Fingerprint64``, a stable 64-bit hash. It comes from the ``pyfarmhash``
package (``pip install pyfarmhash``, or the ``text`` extra of neuroflow), imported only
when a hash is computed: its results equal TensorFlow's bit for bit. FarmHash is a long
algorithm with many length-dependent paths, so it is not re-implemented here.

``tf.strings.to_hash_bucket_strong`` uses SipHash-2-4 keyed with two 64-bit integers (the
"salt" of Keras's layers), a short published algorithm (Aumasson and Bernstein, 2012)
written out below.
"""

from __future__ import annotations

import functools

_MASK = (1 << 64) - 1


@functools.cache
def _fingerprint64():
    try:
        import farmhash
    except ImportError:
        raise ImportError(
            "tf.strings.to_hash_bucket_fast (and the Hashing, StringLookup and "
            "IntegerLookup layers when they hash) needs FarmHash's Fingerprint64, from the "
            "optional package pyfarmhash. Install it with `pip install pyfarmhash` (or "
            "`pip install neuroflow[text]`).") from None
    return farmhash.fingerprint64


def fingerprint64(data: bytes) -> int:
    """FarmHash Fingerprint64 of ``data``, as an unsigned 64-bit integer."""
    return _fingerprint64()(data)


def fingerprints(items: list) -> list[int]:
    """Fingerprint64 of each bytes object of ``items``."""
    fingerprint = _fingerprint64()
    return [fingerprint(item) for item in items]


def _rotate(x: int, bits: int) -> int:
    return ((x << bits) | (x >> (64 - bits))) & _MASK


def siphash24(key0: int, key1: int, data: bytes) -> int:
    """SipHash-2-4 of ``data`` with the 128-bit key ``(key0, key1)`` (little-endian words)."""
    v0 = key0 ^ 0x736F6D6570736575
    v1 = key1 ^ 0x646F72616E646F6D
    v2 = key0 ^ 0x6C7967656E657261
    v3 = key1 ^ 0x7465646279746573

    def rounds(count: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(count):
            v0 = (v0 + v1) & _MASK
            v1 = _rotate(v1, 13) ^ v0
            v0 = _rotate(v0, 32)
            v2 = (v2 + v3) & _MASK
            v3 = _rotate(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK
            v3 = _rotate(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK
            v1 = _rotate(v1, 17) ^ v2
            v2 = _rotate(v2, 32)

    end = len(data) - len(data) % 8
    for start in range(0, end, 8):
        word = int.from_bytes(data[start:start + 8], "little")
        v3 ^= word
        rounds(2)
        v0 ^= word
    # The last word: the remaining bytes, with the length's low byte on top.
    last = int.from_bytes(data[end:], "little") | ((len(data) & 0xFF) << 56)
    v3 ^= last
    rounds(2)
    v0 ^= last
    v2 ^= 0xFF
    rounds(4)
    return v0 ^ v1 ^ v2 ^ v3
