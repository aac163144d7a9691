"""Model versions: finding them on disk, loading and warming them, swapping them safely.

A model's base path holds numbered version folders, each with one ``.keras`` file. The
version policy (TensorFlow Serving's ``model_version_policy``) picks which versions to
serve. A new version is loaded and warmed (one predict, which compiles it) before it takes
traffic; an old one leaves the routing table first and is dropped only when the requests
it is running have finished, so a swap under load fails no request. A version that fails
to load is reported in the model's status and the versions already serving keep serving;
it is tried again when its file changes.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from neuroflow.serving.batching import BatchScheduler
from neuroflow.serving.metrics import Metrics
from neuroflow.serving.signature import Signature, TensorInfo
from neuroflow.serving.status import invalid, not_found
from neuroflow.serving.text_proto import BatchingParameters, ModelConfig

log = logging.getLogger("neuroflow.serving")

# TensorFlow Serving's ManagerState names, as the status API reports them.
LOADING, AVAILABLE, UNLOADING, END = "LOADING", "AVAILABLE", "UNLOADING", "END"


class Servable:
    """One loaded version of a model: the compiled forward pass and its signature."""

    def __init__(self, name: str, version: int, path: Path, batching: BatchingParameters | None,
                 metrics: Metrics | None = None):
        import neuroflow
        from neuroflow.keras.models import load_model

        self.name, self.version, self.path = name, version, path
        model = load_model(path, compile=False)
        infos, named = _input_infos(model)
        specs = [neuroflow.TensorSpec(i.shape, i.dtype.name, name=i.key) for i in infos]
        self._named = named
        # One trace for every batch size (the sizes are unknown in the signature); compiled
        # code is re-entrant, so requests on many threads share it (docs/design.md).
        self._function = neuroflow.function(
            model, input_signature=[{s.name: s for s in specs} if named else specs[0]])
        warm = {i.key: np.zeros((1, *[d or 1 for d in i.shape[1:]]), i.dtype) for i in infos}
        result = self._function(self._call_arg(warm))
        outputs, kind, keys = _flatten_outputs(result)
        graph_outputs = self._function.get_concrete_function().graph.outputs
        out_infos = [TensorInfo(key, f"StatefulPartitionedCall:{i}", value.dtype,
                                tuple(d if type(d) is int else None for d in value.shape))
                     for i, (key, value) in enumerate(zip(keys, graph_outputs))]
        self.signature = Signature(infos, out_infos, kind)
        self._inflight = 0
        self._idle = threading.Condition()
        self.scheduler = None
        if batching is not None:
            on_batch = (lambda n: metrics.batch(name, version, n)) if metrics else None
            self.scheduler = BatchScheduler(self.predict_arrays, batching, f"{name}-{version}",
                                            on_batch)

    def _call_arg(self, arrays: dict):
        return arrays if self._named else next(iter(arrays.values()))

    def predict_arrays(self, arrays: dict) -> list[np.ndarray]:
        """The outputs, in signature order, for input arrays by key (runs on this thread)."""
        outputs, _, _ = _flatten_outputs(self._function(self._call_arg(arrays)))
        return outputs

    # In-flight accounting: a request holds the servable from lookup to answer.
    def acquire(self) -> None:
        with self._idle:
            self._inflight += 1

    def release(self) -> None:
        with self._idle:
            self._inflight -= 1
            if not self._inflight:
                self._idle.notify_all()

    def drain(self) -> None:
        """Wait for the requests using this version, then stop its batch threads."""
        with self._idle:
            self._idle.wait_for(lambda: self._inflight == 0)
        if self.scheduler is not None:
            self.scheduler.stop()


def _input_infos(model) -> tuple[list[TensorInfo], bool]:
    """The model's inputs, and whether it is called with a dict of them (several inputs)."""
    inputs = getattr(model, "inputs", None)
    if inputs:
        found = [(t.name, tuple(t.shape), np.dtype(t.dtype)) for t in inputs]
    else:
        try:
            shape = tuple(model.input_shape)
        except (AttributeError, ValueError):
            raise ValueError(f"the model {model.name!r} has no known input shape, so it has no "
                             f"serving signature; build it with an Input layer before saving"
                             ) from None
        # A Sequential model: its Input layer names the input.
        layer = getattr(model, "_input_layer", None)
        dtype = getattr(model, "_input_dtype", lambda: None)() or np.dtype("float32")
        found = [(layer.name if layer is not None else "inputs", shape, np.dtype(dtype))]
    infos = [TensorInfo(key, f"serving_default_{key}:0", dtype, shape)
             for key, shape, dtype in found]
    return infos, len(infos) > 1


def _flatten_outputs(result) -> tuple[list[np.ndarray], str, list[str]]:
    """The outputs as arrays in signature order, the structure's kind, and the keys."""
    if isinstance(result, dict):
        keys = sorted(result)  # the order nest.flatten and the traced graph use
        return [np.asarray(result[k]) for k in keys], "dict", keys
    if isinstance(result, (list, tuple)):
        return ([np.asarray(r) for r in result], "sequence",
                [f"output_{i}" for i in range(len(result))])
    return [np.asarray(result)], "single", ["output_0"]


def find_versions(base_path: str) -> dict[int, Path | str]:
    """Version number -> its ``.keras`` file, or a message when the folder holds none or
    several. Folders whose names are not numbers are not versions (as TensorFlow Serving)."""
    found: dict[int, Path | str] = {}
    try:
        entries = list(os.scandir(base_path))
    except OSError:
        return found
    for entry in entries:
        if not entry.name.isdigit() or not entry.is_dir():
            continue
        files = sorted(Path(entry.path).glob("*.keras"))
        if len(files) == 1:
            found[int(entry.name)] = files[0]
        else:
            found[int(entry.name)] = (
                f"version folder {entry.path} holds no .keras file" if not files else
                f"version folder {entry.path} holds {len(files)} .keras files "
                f"({', '.join(f.name for f in files)}); keep one")
    return found


def _file_stamp(path) -> tuple:
    try:
        stat = os.stat(path)
    except (OSError, TypeError):
        return (str(path),)
    return (str(path), stat.st_mtime_ns, stat.st_size)


class ServedModel:
    """One configured model: its versions, their states, and the routing to them."""

    def __init__(self, config: ModelConfig, batching: BatchingParameters | None,
                 metrics: Metrics):
        self.config = config
        self._batching = batching
        self._metrics = metrics
        self._lock = threading.Lock()
        self._serving: dict[int, Servable] = {}  # the versions taking traffic
        self._states: dict[int, tuple[str, str, str]] = {}  # version -> (state, code, message)
        self._failed: dict[int, tuple] = {}  # version -> the file stamp that failed to load

    # --- routing ------------------------------------------------------------------------------
    def acquire(self, version: int | None = None, label: str | None = None) -> Servable:
        """The servable a request asks for, held until ``release``; 404/400 as TF Serving."""
        name = self.config.name
        with self._lock:
            if label is not None:
                if label not in self.config.version_labels:
                    raise invalid(f"Unrecognized servable version label: {label}")
                version = self.config.version_labels[label]
            if version is None:
                if not self._serving:
                    raise not_found(f"Servable not found for request: Latest({name})")
                servable = self._serving[max(self._serving)]
            else:
                servable = self._serving.get(version)
                if servable is None:
                    raise not_found(f"Servable not found for request: Specific({name}, "
                                    f"{version})")
            servable.acquire()
            return servable

    def status(self, version: int | None = None, label: str | None = None) -> list[dict]:
        """``model_version_status`` entries, newest version first (as TF Serving)."""
        with self._lock:
            if label is not None:
                if label not in self.config.version_labels:
                    raise invalid(f"Unrecognized servable version label: {label}")
                version = self.config.version_labels[label]
            if version is not None:
                if version not in self._states:
                    raise not_found(f"Could not find version {version} of model "
                                    f"{self.config.name}")
                versions = [version]
            else:
                if not self._states:
                    raise not_found(f"Could not find any versions of model {self.config.name}")
                versions = sorted(self._states, reverse=True)
            return [{"version": str(v), "state": self._states[v][0],
                     "status": {"error_code": self._states[v][1],
                                "error_message": self._states[v][2]}} for v in versions]

    def available(self) -> bool:
        with self._lock:
            return bool(self._serving)

    def serving_versions(self) -> list[Servable]:
        with self._lock:
            return list(self._serving.values())

    # --- loading ------------------------------------------------------------------------------
    def poll(self) -> None:
        """Bring the served versions in line with the files and the version policy."""
        found = find_versions(self.config.base_path)
        loadable = {v: p for v, p in found.items() if not isinstance(p, str)
                    and self._failed.get(v) != _file_stamp(p)}
        for version, problem in found.items():
            if isinstance(problem, str) and version not in self._serving:
                self._set_state(version, END, "NOT_FOUND", problem)
        wanted = self._aspired(set(loadable) | set(self._serving))
        for version in sorted(wanted - set(self._serving), reverse=True):
            self._load(version, loadable[version])
        # Versions the policy no longer wants leave only once a wanted one is serving, so a
        # model never goes without a version because its new one failed.
        wanted = self._aspired(set(self._serving))
        for version in sorted(set(self._serving) - wanted):
            self._unload(version)

    def _aspired(self, candidates: set[int]) -> set[int]:
        policy = self.config.version_policy
        if policy[0] == "all":
            return set(candidates)
        if policy[0] == "specific":
            return candidates & set(policy[1])
        return set(sorted(candidates)[-policy[1]:])

    def _load(self, version: int, path: Path) -> None:
        self._set_state(version, LOADING, "OK", "")
        try:
            servable = Servable(self.config.name, version, path, self._batching, self._metrics)
        except Exception as error:  # any failure of the user's file is that version's status
            message = f"Failed to load {path}: {type(error).__name__}: {error}"
            log.error("model %s version %s: %s", self.config.name, version, message)
            self._failed[version] = _file_stamp(path)
            self._set_state(version, END, "UNKNOWN", message)
            return
        self._failed.pop(version, None)
        with self._lock:
            self._serving[version] = servable
            self._states[version] = (AVAILABLE, "OK", "")
        log.info("model %s version %s: available (%s)", self.config.name, version, path)

    def _unload(self, version: int) -> None:
        with self._lock:
            servable = self._serving.pop(version)
            self._states[version] = (UNLOADING, "OK", "")
        servable.drain()
        self._set_state(version, END, "OK", "")
        log.info("model %s version %s: unloaded", self.config.name, version)

    def _set_state(self, version: int, state: str, code: str, message: str) -> None:
        with self._lock:
            self._states[version] = (state, code, message)

    def unload_all(self) -> None:
        for version in list(self._serving):
            self._unload(version)


class ModelManager:
    """Every configured model, and the thread that polls their base paths."""

    def __init__(self, configs: list[ModelConfig], batching: BatchingParameters | None = None,
                 poll_wait_seconds: float = 1.0, metrics: Metrics | None = None):
        self.metrics = metrics or Metrics()
        self.models = {c.name: ServedModel(c, batching, self.metrics) for c in configs}
        self._poll_wait = poll_wait_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.metrics.gauge(":tensorflow:serving:batching_session:queue_depth",
                           "Requests waiting for a batch thread.", self._queue_depths)

    def model(self, name: str) -> ServedModel:
        model = self.models.get(name)
        if model is None:
            raise not_found(f"Servable not found for request: Latest({name})" if name else
                            "Missing model name in request.")
        return model

    def poll_all(self) -> None:
        for model in self.models.values():
            model.poll()

    def start(self) -> None:
        """Load what is on disk now, then keep polling every ``poll_wait_seconds`` (> 0)."""
        self.poll_all()
        if self._poll_wait > 0:
            self._thread = threading.Thread(target=self._poll_loop, name="version-poller",
                                            daemon=True)
            self._thread.start()

    def _poll_loop(self) -> None:
        while not self._stop.wait(self._poll_wait):
            try:
                self.poll_all()
            except Exception:  # keep polling: a bug here must not stop new versions for good
                log.exception("polling for model versions failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for model in self.models.values():
            model.unload_all()

    def ready(self) -> bool:
        return all(m.available() for m in self.models.values())

    def _queue_depths(self):
        rows = []
        for model in self.models.values():
            for servable in model.serving_versions():
                if servable.scheduler is not None:
                    rows.append(((("model_name", model.config.name),
                                  ("model_version", servable.version)),
                                 servable.scheduler.queue_depth()))
        return rows
