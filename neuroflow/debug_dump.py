"""``tf.debugging.experimental.enable_dump_debug_info``: a record of the ops that ran, in
the files TensorBoard's Debugger V2 reads (tfdbg2's ``.debug_events`` file set).

A dump root holds one file set, ``tfdbg_events.<time>.<host>.<kind>``, each file TFRecord
frames of ``DebugEvent`` protocol buffers (``tensorflow/core/protobuf/debug_event.proto``):
``metadata`` (the run), ``source_files`` (the text of each file on the stacks),
``stack_frames`` (each frame once, with an id), ``execution`` (one event per eager op:
type, input and output tensor ids, the stack, and per ``tensor_debug_mode`` a summary of
each output), and empty ``graphs`` and ``graph_execution_traces``.

The ``tensorboard`` package does not ship the ``DebugEvent`` schema (TensorFlow does), so
its few messages are encoded here by hand from the schema's field numbers; summaries of
outputs are TensorBoard's own ``TensorProto``. Eager ops are seen through the registry's
op watchers; ops inside a compiled ``tf.function`` are not recorded (they run as one
compiled function, without a per-op hook for this).
"""

from __future__ import annotations

import collections
import os
import re
import socket
import struct
import threading
import time
import traceback
import uuid
import weakref

import numpy as np

from neuroflow.ops import registry

# tfdbg2's TensorDebugMode enum (debug_event.proto).
MODES = {"NO_TENSOR": 1, "CURT_HEALTH": 2, "CONCISE_HEALTH": 3, "FULL_HEALTH": 4, "SHAPE": 5}
FILE_VERSION = "debug.Event:1"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


# --- protocol buffer wire format: the few field kinds DebugEvent uses -------------------------


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 values take ten bytes, as two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _text(number: int, text: str) -> bytes:
    return _bytes_field(number, text.encode()) if text else b""


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _packed(number: int, values) -> bytes:
    values = list(values)
    return _bytes_field(number, b"".join(_varint(v) for v in values)) if values else b""


def _event(field: int, message: bytes) -> bytes:
    """A DebugEvent holding ``message`` in ``field``, stamped with the wall time."""
    return _varint(1 << 3 | 1) + struct.pack("<d", time.time()) + _bytes_field(field, message)


_METADATA, _SOURCE_FILE, _STACK_FRAME, _EXECUTION = 3, 4, 6, 9


# --- summaries of an output, as DebugNumericSummaryV2 gives them (float64) --------------------


def summary(mode: str, array: np.ndarray) -> np.ndarray | None:
    """The ``mode`` summary of one eager output (tensor id -1, as eagerly in TensorFlow), or
    None for an output the mode does not summarize (health modes: not floating point)."""
    from neuroflow.summary import protos

    array = np.asarray(array)
    if mode == "SHAPE":
        if array.dtype.kind not in "fiub":
            return None
        shape = list(array.shape)[-6:]  # at most six dimensions, the innermost kept
        return np.array([-1, protos.data_type(array.dtype), array.ndim, array.size,
                         *shape, *[0] * (6 - len(shape))], np.float64)
    if array.dtype.kind != "f":
        return None
    neg_inf = int(np.count_nonzero(np.isneginf(array)))
    pos_inf = int(np.count_nonzero(np.isposinf(array)))
    nan = int(np.count_nonzero(np.isnan(array)))
    if mode == "CURT_HEALTH":
        return np.array([-1, float(neg_inf + pos_inf + nan > 0)], np.float64)
    if mode == "CONCISE_HEALTH":
        return np.array([-1, array.size, neg_inf, pos_inf, nan], np.float64)
    finite = array[np.isfinite(array)]
    return np.array([-1, -1, protos.data_type(array.dtype), array.ndim, array.size, neg_inf,
                     pos_inf, nan, np.count_nonzero(finite < 0), np.count_nonzero(finite == 0),
                     np.count_nonzero(finite > 0)], np.float64)


# --- the dumper -------------------------------------------------------------------------------


class Dumper:
    """Writes one dump root's file set; one watcher of eager ops feeds it."""

    def __init__(self, dump_root: str, mode: str, circular_buffer_size: int,
                 op_regex: str | None, tensor_dtypes):
        from neuroflow.summary import protos

        os.makedirs(dump_root, exist_ok=True)
        self.dump_root, self.mode = dump_root, mode
        self._op_pattern = re.compile(op_regex) if op_regex is not None else None
        self._dtype_wanted = tensor_dtypes
        self._host = socket.gethostname()
        prefix = os.path.join(dump_root, f"tfdbg_events.{time.time():.6f}.{self._host}")
        self._files, self._writers = {}, {}
        for kind in ("metadata", "source_files", "stack_frames", "graphs", "execution",
                     "graph_execution_traces"):
            self._files[kind] = open(f"{prefix}.{kind}", "wb")
            self._writers[kind] = protos.load().RecordWriter(self._files[kind])
        self._lock = threading.Lock()
        # TensorFlow keeps only the last executions (and writes them when disabled).
        self._executions = collections.deque(
            maxlen=circular_buffer_size if circular_buffer_size > 0 else None)
        self._buffered = circular_buffer_size > 0
        self._frame_ids: dict[tuple, str] = {}
        self._file_index: dict[str, int] = {}
        self._tensor_ids: dict[int, tuple] = {}  # id(array) -> (weak reference, tensor id)
        self._next_id = 0
        from neuroflow import __version__

        self._write("metadata", _event(_METADATA, _text(1, f"neuroflow {__version__}")
                                       + _text(2, FILE_VERSION)
                                       + _text(3, uuid.uuid4().hex)))

    def _write(self, kind: str, record: bytes) -> None:
        self._writers[kind].write(record)

    def watch(self, prim, arrays, out, start, end) -> None:
        outputs = out if type(out) is tuple else (out,)
        with self._lock:
            inputs = [self._tensor_id(a) for a in arrays]
            output_ids = [self._tensor_id(o, fresh=True) for o in outputs]
            message = (_text(1, prim.name) + _int(2, len(outputs)) + _packed(4, inputs)
                       + _packed(5, output_ids) + _int(6, MODES[self.mode]))
            if self.mode != "NO_TENSOR":
                message += b"".join(_bytes_field(7, proto) for proto in
                                    self._summaries(prim.name, outputs))
            message += _bytes_field(8, self._code_location())
            message += _packed(9, [-1] * len(outputs))  # no device ids: NumPy runs on the host
            record = _event(_EXECUTION, message)
            if self._buffered:
                self._executions.append(record)
            else:
                self._write("execution", record)

    def _summaries(self, op: str, outputs) -> list[bytes]:
        from neuroflow.summary import protos

        if self._op_pattern is not None and not self._op_pattern.match(op):
            return []
        protos_out = []
        for array in outputs:
            array = np.asarray(array)
            if not self._wanted_dtype(array.dtype):
                continue
            values = summary(self.mode, array)
            # An empty TensorProto keeps the place of an output the mode does not summarize.
            protos_out.append(b"" if values is None
                              else protos.tensor_proto(values).SerializeToString())
        return protos_out

    def _wanted_dtype(self, dtype) -> bool:
        wanted = self._dtype_wanted
        if wanted is None:
            return True
        from neuroflow import dtypes

        dtype = dtypes.as_dtype(dtype)
        if callable(wanted):
            return bool(wanted(dtype))
        return dtype in wanted

    def _tensor_id(self, array, fresh: bool = False) -> int:
        """An id for ``array``: the one it got as an op's output while it lives, else new."""
        key = id(array)
        known = self._tensor_ids.get(key)
        if not fresh and known is not None and known[0]() is array:
            return known[1]
        tensor_id = self._next_id
        self._next_id += 1
        try:
            ref = weakref.ref(array, lambda _, key=key: self._tensor_ids.pop(key, None))
        except TypeError:  # a NumPy scalar cannot be referred to weakly
            return tensor_id
        self._tensor_ids[key] = (ref, tensor_id)
        return tensor_id

    def _code_location(self) -> bytes:
        """The CodeLocation of the user's stack (neuroflow's own frames left out)."""
        ids = []
        for frame in traceback.extract_stack()[:-1]:
            path = os.path.abspath(frame.filename)
            if path.startswith(_PACKAGE_DIR + os.sep):
                continue
            key = (path, frame.lineno, frame.name)
            frame_id = self._frame_ids.get(key)
            if frame_id is None:
                frame_id = self._frame_ids[key] = uuid.uuid4().hex
                file_line_col = (_int(1, self._source_file(path)) + _int(2, frame.lineno or 0)
                                 + _text(4, frame.name))
                self._write("stack_frames", _event(
                    _STACK_FRAME, _text(1, frame_id) + _bytes_field(2, file_line_col)))
            ids.append(frame_id)
        return _text(1, self._host) + b"".join(_text(2, i) for i in ids)

    def _source_file(self, path: str) -> int:
        """The index of ``path`` among the source files written (its text written once)."""
        index = self._file_index.get(path)
        if index is None:
            index = self._file_index[path] = len(self._file_index)
            try:
                with open(path, encoding="utf-8", errors="replace") as file:
                    lines = file.read().splitlines()
            except OSError:
                lines = []  # the stack names it, but its text cannot be read (<stdin>)
            self._write("source_files", _event(_SOURCE_FILE, _text(1, path) + _text(2, self._host)
                                               + b"".join(_bytes_field(3, line.encode())
                                                          for line in lines)))
        return index

    def close(self) -> None:
        with self._lock:
            for record in self._executions:
                self._write("execution", record)
            self._executions.clear()
            for writer in self._writers.values():
                writer.flush()
            for file in self._files.values():
                file.close()


_dumper: Dumper | None = None
_dumper_lock = threading.Lock()


def enable(dump_root: str, mode: str, circular_buffer_size: int, op_regex, tensor_dtypes) -> str:
    global _dumper
    with _dumper_lock:
        if _dumper is not None:
            if (_dumper.dump_root, _dumper.mode) != (dump_root, mode):
                raise ValueError(
                    f"enable_dump_debug_info is already writing to {_dumper.dump_root!r} in "
                    f"mode {_dumper.mode}; received dump_root={dump_root!r}, "
                    f"tensor_debug_mode={mode!r}. Call disable_dump_debug_info() first.")
            return dump_root
        _dumper = Dumper(dump_root, mode, circular_buffer_size, op_regex, tensor_dtypes)
        registry.op_watchers.append(_dumper.watch)
    return dump_root


def disable() -> None:
    global _dumper
    with _dumper_lock:
        if _dumper is None:
            return
        if _dumper.watch in registry.op_watchers:
            registry.op_watchers.remove(_dumper.watch)
        _dumper.close()
        _dumper = None


__all__ = ["MODES", "Dumper", "disable", "enable", "summary"]
