"""Every setting of neuroflow, in one place.

This is the one module that reads environment variables; everything else asks
it. Settings are plain attributes of the ``settings`` object so tests can
override them with ``monkeypatch.setattr(config.settings, ...)``.

Environment variables:

``NEUROFLOW_HOME``
    Root folder for neuroflow's caches (default ``~/.neuroflow``).
``NEUROFLOW_DATASETS``
    Folder where downloaded datasets are cached (default
    ``$NEUROFLOW_HOME/datasets``).
``NEUROFLOW_HUB_CACHE``
    Folder where ``neuroflow.hub`` caches downloaded models (default
    ``$NEUROFLOW_HOME/hub``).
``NEUROFLOW_RUN_EAGERLY``
    ``1`` makes every ``tf.function`` run eagerly (for debugging).
``NEUROFLOW_STEP_BLAS_THREADS``
    BLAS threads used inside Keras training/inference steps (default 1; ``none``
    leaves the BLAS library's own setting).
``NEUROFLOW_JIT``
    ``0`` switches off the Numba kernels of compiled functions (default on when Numba
    is installed: ``pip install neuroflow[jit]``).
``NEUROFLOW_JIT_THREADS``
    Threads of the Numba kernels' loops (default 1). Each element is computed by one
    thread, so the count never changes a result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _home() -> Path:
    return Path(os.environ.get("NEUROFLOW_HOME", Path.home() / ".neuroflow")).expanduser()


def _datasets_dir() -> Path:
    explicit = os.environ.get("NEUROFLOW_DATASETS")
    return Path(explicit).expanduser() if explicit else _home() / "datasets"


def _hub_cache_dir() -> Path:
    explicit = os.environ.get("NEUROFLOW_HUB_CACHE")
    return Path(explicit).expanduser() if explicit else _home() / "hub"


def _keras_datasets_dir() -> Path:
    """Keras's download cache, resolved as Keras resolves it: ``$KERAS_HOME/datasets``,
    else ``~/.keras/datasets`` (``/tmp/.keras`` when the home folder is not writable)."""
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home).expanduser() / "datasets"


def _int_or_none(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none", "0") else int(text)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _flag_off(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"0", "false", "no", "off"}


@dataclass
class Settings:
    """Process-wide settings, read once from the environment at import."""

    home: Path = field(default_factory=_home)
    datasets_dir: Path = field(default_factory=_datasets_dir)
    # Keras's own cache, searched after neuroflow's so a TensorFlow user's downloads serve.
    keras_datasets_dir: Path = field(default_factory=_keras_datasets_dir)
    # Folders searched, in order, after the cache and before a download.
    system_dataset_dirs: tuple[Path, ...] = (Path("/usr/share/datasets"),)
    # Models neuroflow.hub downloaded, one folder per URL.
    hub_cache_dir: Path = field(default_factory=_hub_cache_dir)
    run_functions_eagerly: bool = field(default_factory=lambda: _flag("NEUROFLOW_RUN_EAGERLY"))
    # How many retraces of one tf.function before it warns (once per function).
    retrace_warning_threshold: int = 5
    # Traces one tf.function keeps (least recently used dropped first), and compiled
    # plans per trace, one per concrete set of input sizes. TensorFlow keeps every trace;
    # a bound keeps a function called with ever new shapes from growing without end.
    function_cache_size: int = 64
    plans_per_trace: int = 32
    # BLAS threads during Keras fit/evaluate/predict steps: small per-step matrix
    # products run fastest on one thread (see backend/blas.py). None leaves BLAS alone.
    step_blas_threads: int | None = field(
        default_factory=lambda: _int_or_none(os.environ.get("NEUROFLOW_STEP_BLAS_THREADS", "1")))
    # Numba kernels for fused graph nodes, when Numba is importable (graph/jit/), their
    # loops' threads, and the folder caching their source and machine code.
    jit: bool = field(default_factory=lambda: not _flag_off("NEUROFLOW_JIT"))
    jit_threads: int = field(
        default_factory=lambda: max(1, int(os.environ.get("NEUROFLOW_JIT_THREADS", "1"))))
    jit_cache_dir: Path = field(default_factory=lambda: _home() / "jit")


settings = Settings()


# --- tf.config: the public functions TensorFlow users call ------------------------


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Make every ``tf.function`` run its Python body eagerly (for debugging)."""
    settings.run_functions_eagerly = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    return settings.run_functions_eagerly


class PhysicalDevice:
    """A device as ``tf.config.list_physical_devices`` describes it."""

    def __init__(self, name: str, device_type: str):
        self.name = name
        self.device_type = device_type

    def __repr__(self) -> str:
        return f"PhysicalDevice(name={self.name!r}, device_type={self.device_type!r})"


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The CPU, plus GPUs when CuPy is installed and sees one."""
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    try:
        import importlib.util

        if importlib.util.find_spec("cupy") is not None:
            import cupy

            count = cupy.cuda.runtime.getDeviceCount()
            devices += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(count)]
    except Exception:  # noqa: BLE001 - no usable CUDA runtime means no GPU, not a crash
        pass
    return [d for d in devices if device_type is None or d.device_type == device_type.upper()]
