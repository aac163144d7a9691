"""PNG and WAV encoders for image and audio summaries, in NumPy and the standard library.

Both formats take a few lines to write (PNG's only compression is a zlib stream), so
image and audio summaries need no imaging or audio package.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from neuroflow.errors import InvalidArgumentError

# PNG colour types by channel count: grey, grey + alpha, RGB, RGBA.
_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Pixels as ``tf.image.convert_image_dtype(images, tf.uint8, saturate=True)`` gives them.

    Floats are read as [0, 1] and scaled by 255.5 (so 1.0 is 255), out-of-range values
    clipped; wider integers keep their top bits (an int32 is divided by 2**23).
    """
    kind = images.dtype.kind
    if images.dtype == np.uint8:
        return images
    if kind == "f":
        # In the input's own precision, as TensorFlow multiplies, so truncation agrees.
        scaled = np.nan_to_num(images * images.dtype.type(255.5), nan=0.0)
        return np.clip(scaled, 0, 255).astype(np.uint8)
    if kind in "iu":
        bits = images.dtype.itemsize * 8 - (kind == "i")  # value bits of the input type
        if bits > 8:
            images = images // (1 << (bits - 8))
        else:  # int8 (7 value bits): TensorFlow scales up, as the inverse of the above
            images = images.astype(np.int64) * (1 << (8 - bits))
        return np.clip(images, 0, 255).astype(np.uint8)
    raise AttributeError("image dtype must be either floating point or integer")


def png(image: np.ndarray) -> bytes:
    """An 8-bit PNG of ``image`` (height, width, channels), channels 1 to 4."""
    height, width, channels = image.shape
    if channels not in _PNG_COLOR_TYPES:
        raise InvalidArgumentError(f"image must have 1, 2, 3, or 4 channels, got {channels}",
                                   "EncodePng")
    # Each row starts with filter type 0 (none).
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           np.ascontiguousarray(image, np.uint8).reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def wav(audio: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV of float32 ``audio`` (frames, channels) in [-1, 1], as
    ``tf.audio.encode_wav`` writes it.

    Samples are scaled by 32768 and rounded half away from zero, then clipped to int16.
    """
    frames, channels = audio.shape
    scaled = audio.astype(np.float64) * 32768.0
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    samples = np.clip(np.nan_to_num(rounded), -32768, 32767).astype("<i2")
    data = samples.tobytes()
    block = channels * 2
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16,
                         1, channels, sample_rate, sample_rate * block, block, 16,
                         b"data", len(data))
    return header + data
