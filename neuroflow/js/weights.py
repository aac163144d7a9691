"""The weights half of the TensorFlow.js format: a manifest and little-endian binary shards.

All weights are concatenated in manifest order into one buffer that is cut into files of
``shard_size_bytes`` (``group1-shard{i}of{n}.bin``); a weight may span two shards, which
tfjs allows since it concatenates a group's shards before slicing out each weight.
Optional quantization follows tfjs's decoder: ``float16`` stores half floats, ``uint8`` /
``uint16`` store ``round((w - min) / scale)`` and tfjs restores ``q * scale + min``.
"""

from __future__ import annotations

import fnmatch
import os
from typing import Any

import numpy as np

QUANTIZATION_DTYPES = ("float16", "uint8", "uint16")

# NumPy dtypes -> the dtype names tfjs decodes; tfjs has no 64-bit types, so 64-bit
# weights are narrowed (as TensorFlow.js's own converter does).
_STORED = {
    np.dtype("float32"): ("float32", np.dtype("<f4")),
    np.dtype("float64"): ("float32", np.dtype("<f4")),
    np.dtype("float16"): ("float32", np.dtype("<f4")),
    np.dtype("int32"): ("int32", np.dtype("<i4")),
    np.dtype("int64"): ("int32", np.dtype("<i4")),
    np.dtype("bool"): ("bool", np.dtype("u1")),
}


def quantized_names(names: list[str], dtype_map: dict | None) -> dict[str, str]:
    """Which weight gets which quantization dtype, from tensorflowjs's
    ``quantization_dtype_map`` ({dtype: True | pattern | [patterns]})."""
    if not dtype_map:
        return {}
    if not isinstance(dtype_map, dict):
        raise TypeError(f"quantization_dtype_map must be a dict like {{'uint8': '*'}}; "
                        f"received {type(dtype_map).__name__}: {dtype_map!r}")
    chosen: dict[str, str] = {}
    for dtype, patterns in dtype_map.items():
        if dtype not in QUANTIZATION_DTYPES:
            raise ValueError(f"quantization_dtype_map keys must be one of "
                             f"{QUANTIZATION_DTYPES}; received {dtype!r}")
        if patterns is True:
            patterns = ["*"]
        elif isinstance(patterns, str):
            patterns = [patterns]
        for name in names:
            if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                if name in chosen and chosen[name] != dtype:
                    raise ValueError(f"Weight {name!r} matches two quantization dtypes "
                                     f"({chosen[name]!r} and {dtype!r}); make the "
                                     f"patterns of quantization_dtype_map disjoint.")
                chosen[name] = dtype
    return chosen


def _affine(data: np.ndarray, dtype: str) -> tuple[np.ndarray, dict]:
    levels = float(np.iinfo(dtype).max)
    low, high = float(min(data.min(), 0.0)), float(max(data.max(), 0.0))
    scale = (high - low) / levels or 1.0
    # Nudge the range so 0.0 is a level: zero padding and zero biases stay exact.
    zero_point = round(-low / scale)
    low = -zero_point * scale
    quantized = np.clip(np.round((data - low) / scale), 0, levels)
    return quantized.astype(np.dtype(dtype).newbyteorder("<")), {"scale": scale, "min": low}


def encode(name: str, value: np.ndarray, quantize: str | None) -> tuple[dict, bytes]:
    """One manifest entry and its bytes."""
    value = np.asarray(value)
    if value.dtype not in _STORED:
        raise TypeError(f"Weight {name!r} has dtype {value.dtype}, which TensorFlow.js "
                        f"cannot store; supported: float32, int32, bool.")
    dtype, stored = _STORED[value.dtype]
    entry: dict[str, Any] = {"name": name, "shape": list(value.shape), "dtype": dtype}
    if quantize is None or dtype != "float32":
        return entry, np.ascontiguousarray(value, dtype=stored).tobytes()
    value = value.astype(np.float32)
    if quantize == "float16":
        data = value.astype("<f2")
        entry["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
    else:
        data, params = _affine(value, quantize)
        entry["quantization"] = {"dtype": quantize, **params, "original_dtype": "float32"}
    return entry, np.ascontiguousarray(data).tobytes()


def write_shards(entries: list[tuple[dict, bytes]], folder: str,
                 shard_size_bytes: int) -> list[dict]:
    """Writes the shard files and returns ``weightsManifest`` (one group)."""
    buffer = b"".join(data for _, data in entries)
    count = max(1, -(-len(buffer) // shard_size_bytes))
    paths = []
    for index in range(count):
        path = f"group1-shard{index + 1}of{count}.bin"
        with open(os.path.join(folder, path), "wb") as file:
            file.write(buffer[index * shard_size_bytes:(index + 1) * shard_size_bytes])
        paths.append(path)
    return [{"paths": paths, "weights": [entry for entry, _ in entries]}]
