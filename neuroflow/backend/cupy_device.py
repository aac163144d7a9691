"""GPU devices backed by CuPy, imported only when a GPU is asked for."""

from __future__ import annotations

from neuroflow.backend.device import Device

_GPUS: dict[int, Device] = {}


def _cupy():
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "A GPU device was requested but CuPy is not installed. "
            "Install it with `pip install cupy-cuda12x` (matching your CUDA), "
            "or place tensors on 'CPU'."
        ) from None
    return cupy


def gpu_device(key: str) -> Device:
    """The Device for ``"GPU"`` or ``"GPU:<n>"``."""
    index = int(key.split(":")[1]) if ":" in key else 0
    if index not in _GPUS:
        cupy = _cupy()
        count = cupy.cuda.runtime.getDeviceCount()
        if index >= count:
            choice = f"'/GPU:0' to '/GPU:{count - 1}' or 'CPU'" if count else "'CPU'"
            raise ValueError(f"GPU:{index} requested, but only {count} GPU(s) are visible. "
                             f"Use {choice}.")
        _GPUS[index] = Device(f"/job:localhost/replica:0/task:0/device:GPU:{index}", cupy)
    return _GPUS[index]


def device_of_cupy_array(array) -> Device:
    cupy = _cupy()
    if not isinstance(array, cupy.ndarray):
        raise TypeError(f"Expected a NumPy or CuPy array, received {type(array).__name__}. "
                        f"Convert it with np.asarray(value) or tf.constant(value) first.")
    return gpu_device(f"GPU:{array.device.id}")
