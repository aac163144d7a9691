"""The in-memory form of a TensorFlow Lite model: tensors and builtin operators.

Lowering (``tflite_lower.py``) makes one from a traced graph with float tensors;
quantization (``tflite_quantize.py``) rewrites it with int8 tensors; the writer
(``tflite_write.py``) serializes it as a flatbuffer following TensorFlow Lite's
``schema.fbs``. Keeping this form apart from the flatbuffer lets the passes edit
tensors and operators as plain Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class QuantParams:
    """Affine quantization: ``real = scale * (q - zero_point)``, per ``axis`` when scale is
    a vector (per-channel), else per tensor."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0

    @classmethod
    def per_tensor(cls, scale: float, zero_point: int) -> QuantParams:
        return cls(np.array([scale], np.float32), np.array([zero_point], np.int64))


@dataclass
class Tensor:
    """One tensor of the subgraph. ``shape`` holds -1 where the size is unknown (the
    batch); ``data`` is set for constants; ``value`` names the graph value the tensor
    holds, which calibration reads."""

    name: str
    shape: tuple
    dtype: np.dtype
    data: np.ndarray | None = None
    value: str | None = None
    quant: QuantParams | None = None


@dataclass
class Operator:
    """A builtin operator: ``kind`` is its ``BuiltinOperator`` name, ``inputs`` and
    ``outputs`` tensor indices (-1 for an omitted optional input), ``options`` the fields of
    its options table, ``layer`` the Keras layer it came from (for error messages)."""

    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict = field(default_factory=dict)
    layer: str = ""


@dataclass
class Model:
    tensors: list[Tensor] = field(default_factory=list)
    operators: list[Operator] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)  # signature names, one per input

    def add_tensor(self, tensor: Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def unique_name(self, name: str) -> str:
        """``name``, or ``name`` with a number appended when a tensor already has it."""
        taken = {t.name for t in self.tensors}
        if name not in taken:
            return name
        suffix = 1
        while f"{name}{suffix}" in taken:
            suffix += 1
        return f"{name}{suffix}"
