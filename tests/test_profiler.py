"""tf.profiler: a Chrome trace of eager and compiled ops, and Keras's profile_batch."""

from __future__ import annotations

import glob
import gzip
import json
import os
import socket

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.ops import registry

profiler = tf.profiler.experimental


def _trace_files(logdir) -> list[str]:
    return glob.glob(os.path.join(str(logdir), "**", "*.trace.json.gz"), recursive=True)


def _events(path) -> list[dict]:
    with gzip.open(path, "rt") as file:
        trace = json.load(file)
    return [e for e in trace["traceEvents"] if e["ph"] == "X"]


def test_a_profile_records_eager_and_compiled_ops(tmp_path):
    @tf.function
    def step(x, w):
        return tf.nn.relu(tf.matmul(x, w)) * 2.0

    x, w = tf.ones([4, 3]), tf.ones([3, 5])
    step(x, w)
    source = step.source
    profiler.start(tmp_path)
    for number in range(3):
        with profiler.Trace("train", step_num=number, _r=1):
            step(x, w)
    tf.exp(x)
    profiler.stop()
    assert registry.op_watchers == []
    (path,) = _trace_files(tmp_path)
    folder, name = os.path.split(path)
    assert os.path.dirname(folder) == os.path.join(str(tmp_path), "plugins", "profile")
    assert name.endswith(".trace.json.gz") and name.startswith(socket.gethostname()[:3])
    events = _events(path)
    compiled = [e for e in events if e["cat"] == "compiled op"]
    assert {e["name"] for e in compiled} >= {"matmul"}
    assert all(e["args"]["function"] == "step" and e["dur"] >= 0 for e in compiled)
    assert len([e for e in events if e["cat"] == "tf.function"]) == 3
    blocks = [e for e in events if e["cat"] == "trace"]
    assert [b["args"]["step_num"] for b in blocks] == [0, 1, 2]
    for block in blocks:  # each step's ops lie inside its block
        inside = [e for e in compiled if block["ts"] <= e["ts"] <= block["ts"] + block["dur"]]
        assert inside
    eager = [e for e in events if e["cat"] == "eager op"]
    assert "exp" in {e["name"] for e in eager}
    assert step.source == source  # the plain code is untouched
    assert step.experimental_get_tracing_count() == 1


def test_top_ops_sums_a_trace(tmp_path):
    profiler.start(tmp_path)
    for _ in range(4):
        tf.exp(tf.ones([100, 100]))
    profiler.stop()
    rows = tf.profiler.top_ops(tf.profiler.last_trace_file())
    events = [e for e in _events(tf.profiler.last_trace_file()) if e["cat"] == "eager op"]
    name, calls, seconds, share = next(r for r in rows if r[0] == "exp")
    exps = [e for e in events if e["name"] == "exp"]
    assert calls == len(exps) == 4
    assert seconds == pytest.approx(sum(e["dur"] for e in exps) / 1e6)
    assert sum(r[3] for r in rows) == pytest.approx(1.0)


def test_profiles_cannot_overlap_and_stop_needs_a_start(tmp_path):
    with pytest.raises(tf.errors.UnavailableError, match="No profiler is running"):
        profiler.stop()
    profiler.start(tmp_path)
    try:
        with pytest.raises(tf.errors.AlreadyExistsError, match="Another profiler is running"):
            profiler.start(tmp_path)
    finally:
        profiler.stop(save=False)
    assert _trace_files(tmp_path) == []


def test_options_choose_what_is_recorded(tmp_path):
    with profiler.Profile(tmp_path, profiler.ProfilerOptions(host_tracer_level=1)):
        with profiler.Trace("block"):
            tf.exp(tf.ones([2]))
    names = {e["name"] for e in _events(_trace_files(tmp_path)[0])}
    assert names == {"block"}
    with pytest.raises(NotImplementedError, match="python_tracer_level"):
        profiler.start(tmp_path, profiler.ProfilerOptions(python_tracer_level=1))
    with pytest.raises(NotImplementedError, match="delay_ms"):
        profiler.start(tmp_path, profiler.ProfilerOptions(delay_ms=10))


def _fit(callback, epochs=1):
    keras = tf.keras
    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(3, name="dense_a"),
                              keras.layers.Dense(2, name="dense_b")])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)).astype("float32"), rng.normal(size=(40, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=[callback])


@pytest.mark.parametrize("profile_batch, batches", [(2, [1]), ((2, 4), [1, 2, 3]),
                                                    ("3,4", [2, 3])])
def test_tensorboard_profiles_the_batches_asked_for(tmp_path, profile_batch, batches):
    pytest.importorskip("tensorboard")
    _fit(tf.keras.callbacks.TensorBoard(tmp_path, profile_batch=profile_batch))
    (path,) = _trace_files(tmp_path)
    assert path.startswith(os.path.join(str(tmp_path), "train", "plugins", "profile"))
    events = _events(path)
    profiled = [e["args"]["step_num"] for e in events if e["name"] == "Profiled batch"]
    assert profiled == batches
    assert len([e for e in events if e["cat"] == "tf.function"]) == len(batches)


def test_tensorboard_profiles_across_epochs_and_stops_at_the_end(tmp_path):
    pytest.importorskip("tensorboard")
    _fit(tf.keras.callbacks.TensorBoard(tmp_path, profile_batch=(4, 100)), epochs=2)
    (path,) = _trace_files(tmp_path)  # stopped by on_train_end, after 7 batches
    profiled = [e for e in _events(path) if e["name"] == "Profiled batch"]
    assert len(profiled) == 7
    assert not tf.profiler.recording()


@pytest.mark.parametrize("profile_batch", [-1, (3, 1), (1, 2, 3), "a,b", 1.5])
def test_tensorboard_refuses_bad_profile_batches_as_keras(tmp_path, profile_batch):
    pytest.importorskip("tensorboard")
    with pytest.raises(ValueError, match="profile_batch must be a non-negative integer"):
        tf.keras.callbacks.TensorBoard(tmp_path, profile_batch=profile_batch)
