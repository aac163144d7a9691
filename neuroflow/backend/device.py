"""Devices: where an array lives and which array module computes on it."""

from __future__ import annotations

from types import ModuleType

import numpy as np


class Device:
    """A place arrays live, with the array module that computes on them."""

    __slots__ = ("name", "xp")

    def __init__(self, name: str, xp: ModuleType):
        self.name = name
        self.xp = xp

    def __repr__(self) -> str:
        return f"Device({self.name!r})"

    def asarray(self, value, dtype=None):
        """Move ``value`` onto this device as an array of ``dtype``."""
        return self.xp.asarray(value, dtype=dtype)


CPU = Device("/job:localhost/replica:0/task:0/device:CPU:0", np)

_DEVICES = {"CPU": CPU, "CPU:0": CPU}


def get_device(spec: str | Device | None = None) -> Device:
    """Resolve a device name such as ``"CPU"`` or ``"/device:CPU:0"``."""
    if spec is None:
        return CPU
    if isinstance(spec, Device):
        return spec
    key = spec.upper().rsplit("DEVICE:", 1)[-1].lstrip("/")
    if key in _DEVICES:
        return _DEVICES[key]
    if key.startswith("GPU"):
        from neuroflow.backend.cupy_device import gpu_device

        return gpu_device(key)
    raise ValueError(f"Unknown device {spec!r}. Expected 'CPU', 'CPU:0' or 'GPU:<n>'.")


def device_of(array) -> Device:
    """The device an array lives on (NumPy arrays live on the CPU)."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return CPU
    from neuroflow.backend.cupy_device import device_of_cupy_array

    return device_of_cupy_array(array)
