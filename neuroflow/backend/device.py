"""Devices: where an array lives and which array module computes on it."""

from __future__ import annotations

import contextvars
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
    if not isinstance(spec, str):
        raise TypeError(f"A device name must be a string such as '/CPU:0' or '/GPU:0', "
                        f"received {spec!r}.")
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
    placed = getattr(array, "neuroflow_device", None)  # arrays without data (a trace's)
    if placed is not None:
        return placed
    from neuroflow.backend.cupy_device import device_of_cupy_array

    return device_of_cupy_array(array)


# The device new tensors made from Python or NumPy values are placed on, per thread:
# set by ``tf.device``. Ops always run on the device of their inputs.
_placement: contextvars.ContextVar[Device] = contextvars.ContextVar("neuroflow_device",
                                                                    default=CPU)


def placement() -> Device:
    """The device ``tf.device`` asks new tensors to live on (the CPU by default)."""
    return _placement.get()


class device:
    """``tf.device(name)``: place tensors created inside the block on that device.

    ``'/CPU:0'`` (or ``'CPU'``, ``'/job:localhost/replica:0/task:0/device:CPU:0'``) and
    ``'/GPU:<n>'`` are understood. A GPU that is not there is an error here, where
    TensorFlow would silently place the work on the CPU instead.
    """

    def __init__(self, device_name: str | None):
        self._device = get_device(device_name)
        self._tokens: list = []

    def __enter__(self) -> device:
        self._tokens.append(_placement.set(self._device))
        return self

    def __exit__(self, *exc) -> None:
        _placement.reset(self._tokens.pop())
