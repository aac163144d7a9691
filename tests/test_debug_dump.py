"""``tf.debugging.experimental.enable_dump_debug_info``: tfdbg2 files that TensorFlow's own
reader (the one TensorBoard's Debugger V2 uses) loads, with the summaries TensorFlow
writes for the same ops."""

from __future__ import annotations

import os

import numpy as np
import pytest

import neuroflow as tf

pytest.importorskip("tensorboard")

KINDS = ("metadata", "source_files", "stack_frames", "graphs", "execution",
         "graph_execution_traces")
INPUT = np.array([1.0, 0.0, -2.0, np.nan, 3.0], np.float32)


@pytest.fixture(autouse=True)
def _disabled():
    yield
    tf.debugging.experimental.disable_dump_debug_info()


def _records(dump_root, kind: str) -> list[bytes]:
    from tensorboard.backend.event_processing import event_file_loader

    (path,) = [p for p in os.listdir(dump_root) if p.endswith("." + kind)]
    loader = event_file_loader.RawEventFileLoader(os.path.join(dump_root, path))
    return list(loader.Load())


def _run_ops(module):
    x = module.constant(INPUT)
    return module.math.log(x) * 2.0


def test_a_file_set_with_one_execution_per_eager_op(tmp_path):
    tf.debugging.experimental.enable_dump_debug_info(str(tmp_path), "CURT_HEALTH")
    _run_ops(tf)
    tf.debugging.experimental.disable_dump_debug_info()
    assert len(_records(tmp_path, "metadata")) == 1
    executions = _records(tmp_path, "execution")
    assert len(executions) >= 2  # log and multiply (constants may be ops too)
    assert any(b"log" in e for e in executions)
    # This file's text is written, once, for the stack frames that name it.
    sources = _records(tmp_path, "source_files")
    assert sum(os.path.basename(__file__).encode() in s for s in sources) == 1
    assert _records(tmp_path, "graph_execution_traces") == []


def test_the_circular_buffer_keeps_the_last_executions(tmp_path):
    tf.debugging.experimental.enable_dump_debug_info(str(tmp_path), circular_buffer_size=2)
    for _ in range(5):
        _run_ops(tf)
    tf.debugging.experimental.disable_dump_debug_info()
    assert len(_records(tmp_path, "execution")) == 2


@pytest.mark.parametrize("mode, expected", [
    ("CURT_HEALTH", [-1, 1]),
    ("CONCISE_HEALTH", [-1, 5, 0, 0, 1]),
    # id, device, DT_FLOAT, rank, size, -inf, +inf, nan, negative, zero, positive
    ("FULL_HEALTH", [-1, -1, 1, 1, 5, 0, 0, 1, 1, 1, 2]),
    ("SHAPE", [-1, 1, 1, 5, 5, 0, 0, 0, 0, 0]),
])
def test_summaries_count_as_numpy_does(mode, expected):
    from neuroflow import debug_dump

    np.testing.assert_array_equal(debug_dump.summary(mode, INPUT), expected)


def test_bad_arguments_say_what_is_allowed(tmp_path):
    enable = tf.debugging.experimental.enable_dump_debug_info
    with pytest.raises(ValueError, match="Invalid value in tensor_debug_mode"):
        enable(str(tmp_path), "HEALTHY")
    with pytest.raises(NotImplementedError, match="FULL_TENSOR"):
        enable(str(tmp_path), "FULL_TENSOR")
    with pytest.raises(TypeError, match="circular_buffer_size"):
        enable(str(tmp_path), circular_buffer_size=1.5)
    with pytest.raises(ValueError, match="tensor_dtypes"):
        enable(str(tmp_path), tensor_dtypes="float32")
    enable(str(tmp_path / "a"))
    with pytest.raises(ValueError, match="disable_dump_debug_info"):
        enable(str(tmp_path / "b"))


def _read(dump_root):
    from tensorflow.python.debug.lib import debug_events_reader

    with debug_events_reader.DebugDataReader(str(dump_root)) as reader:
        reader.update()
        executions = reader.executions(digest=False)
        values = {e.op_type.lower(): [np.asarray(v) for v in e.debug_tensor_values or []]
                  for e in executions}
        frames = [reader.read_execution_stack_trace(e) for e in executions]
        return executions, values, frames, reader


@pytest.mark.tensorflow
@pytest.mark.parametrize("mode", ["NO_TENSOR", "CURT_HEALTH", "CONCISE_HEALTH",
                                  "FULL_HEALTH", "SHAPE"])
def test_tensorflows_reader_loads_what_tensorflow_writes(tmp_path, mode):
    real = pytest.importorskip("tensorflow")
    real.debugging.experimental.enable_dump_debug_info(str(tmp_path / "tf"), mode)
    _run_ops(real)
    real.debugging.experimental.disable_dump_debug_info()
    tf.debugging.experimental.enable_dump_debug_info(str(tmp_path / "nf"), mode)
    _run_ops(tf)
    tf.debugging.experimental.disable_dump_debug_info()
    _, want, _, _ = _read(tmp_path / "tf")
    executions, have, frames, reader = _read(tmp_path / "nf")
    for op, theirs in (("log", "log"), ("multiply", "mul")):
        assert op in have
        assert len(have[op]) == len(want[theirs])
        for ours, them in zip(have[op], want[theirs]):
            np.testing.assert_array_equal(ours, them)
    log = next(e for e in executions if e.op_type == "log")
    assert log.num_outputs == 1 and log.tensor_debug_mode == reader_mode(mode)
    # The stack ends at the user's line calling the op, and the reader finds its text.
    host, stack = frames[executions.index(log)]
    path, line, func = stack[-1]
    assert func == "_run_ops" and path == os.path.abspath(__file__)
    assert "module.math.log" in reader.source_lines(host, path)[line - 1]


def reader_mode(name: str) -> int:
    from tensorflow.core.protobuf import debug_event_pb2

    return debug_event_pb2.TensorDebugMode.Value(name)
