"""Array backends and device placement.

A device is a property of a tensor, never a global switch. Each device knows
its array module ``xp`` (NumPy on the CPU; CuPy on a GPU, imported only when a
GPU device is asked for). Ops are written once against ``xp``.
"""

from neuroflow.backend.device import CPU, Device, device, device_of, get_device, placement

__all__ = ["CPU", "Device", "device", "device_of", "get_device", "placement"]
