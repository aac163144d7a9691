"""``keras.callbacks.TensorBoard``: the logs Keras 3 writes, read back by TensorBoard.

Logs are read with TensorBoard's ``EventAccumulator`` and checked against what
training reported (History, the batch logs, the weights). The test marked
``tensorflow`` trains the same model with TensorFlow's Keras and compares the runs, tags
and steps; the one marked ``slow`` serves the logs with the real ``tensorboard`` command
and reads them through its HTTP API.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import cli, lab
from neuroflow.keras import callbacks, layers
from neuroflow.summary import protos

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import (  # noqa: E402
    event_accumulator,
    event_file_loader,
)
from tensorboard.util import tensor_util  # noqa: E402

RNG = np.random.default_rng(5)
X = RNG.standard_normal((40, 4)).astype("float32")
Y = (X.sum(axis=1) > 0).astype("int32")
EPOCHS, BATCH = 3, 16  # 3 batches an epoch, the last one smaller


def _model(keras=tf.keras, functional: bool = False):
    if functional:
        # Named layers: weight paths (and so tags) then do not depend on earlier models.
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
        net = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(hidden))
    else:
        net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                                keras.layers.Dense(2, activation="softmax")])
    net.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def _accumulator(logdir):
    accumulator = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return accumulator


def _values(logdir, tag) -> list[tuple[int, np.ndarray]]:
    return [(t.step, tensor_util.make_ndarray(t.tensor_proto))
            for t in _accumulator(logdir).Tensors(tag)]


def _tags(logdir) -> set[str]:
    return set(_accumulator(logdir).Tags()["tensors"])


def _events(logdir) -> list:
    return [event for path in sorted(Path(logdir).glob("events.out.tfevents.*"))
            for event in event_file_loader.LegacyEventFileLoader(str(path)).Load()]


class BatchLogs(callbacks.Callback):
    """Each training batch's logs and each epoch's end weights, as training saw them."""

    def __init__(self):
        super().__init__()
        self.batches: list[dict] = []
        self.weights: list[dict] = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append({w.path: np.array(w) for layer in self.model.layers
                             for w in layer.weights})


# --- arguments ----------------------------------------------------------------------------------
def test_arguments_and_defaults_are_keras_3s():
    parameters = inspect.signature(callbacks.TensorBoard).parameters
    assert {name: p.default for name, p in parameters.items()} == {
        "log_dir": "logs", "histogram_freq": 0, "write_graph": True, "write_images": False,
        "write_steps_per_second": False, "update_freq": "epoch", "profile_batch": 0,
        "embeddings_freq": 0, "embeddings_metadata": None}
    assert callbacks.TensorBoard(update_freq="batch").update_freq == 1
    assert tf.keras.callbacks.TensorBoard is callbacks.TensorBoard


@pytest.mark.parametrize("options,match", [
    ({"profile_batch": -1}, "profile_batch must be a non-negative integer"),
    ({"profile_batch": (4, 2)}, "Found: (4, 2)"),
    ({"embeddings_freq": 1}, "embeddings_freq=1"),
    ({"update_freq": "sometimes"}, "update_freq"),
    ({"update_freq": 0}, "update_freq"),
    ({"histogram_freq": -1}, "histogram_freq"),
])
def test_unsupported_or_malformed_arguments_are_refused(options, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        callbacks.TensorBoard(**options)


def test_a_missing_tensorboard_package_is_reported_when_the_callback_is_made(monkeypatch):
    protos.load.cache_clear()
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    try:
        with pytest.raises(ModuleNotFoundError, match=r"neuroflow\[tensorboard\]"):
            callbacks.TensorBoard()
    finally:
        monkeypatch.undo()
        protos.load.cache_clear()


# --- what fit writes ----------------------------------------------------------------------------
def test_epoch_scalars_match_the_history(tmp_path):
    net = _model()
    history = net.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, validation_data=(X[:8], Y[:8]),
                      verbose=0, callbacks=[callbacks.TensorBoard(tmp_path)])
    train, validation = tmp_path / "train", tmp_path / "validation"
    for name in ("loss", "accuracy"):
        read = _values(train, f"epoch_{name}")
        assert [s for s, _ in read] == list(range(EPOCHS))
        np.testing.assert_array_equal([v for _, v in read],
                                      np.float32(history.history[name]))
        read = _values(validation, f"epoch_{name}")
        np.testing.assert_array_equal([v for _, v in read],
                                      np.float32(history.history[f"val_{name}"]))
    assert [float(v) for _, v in _values(train, "epoch_learning_rate")] == \
        [float(np.float32(0.01))] * EPOCHS
    # After each validation, the metrics against the optimizer's step count.
    read = _values(validation, "evaluation_loss_vs_iterations")
    assert [s for s, _ in read] == [3, 6, 9]
    np.testing.assert_array_equal([v for _, v in read], np.float32(history.history["val_loss"]))
    assert _tags(train) == {"keras", "epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert _tags(validation) == {"epoch_loss", "epoch_accuracy",
                                 "evaluation_loss_vs_iterations",
                                 "evaluation_accuracy_vs_iterations"}


def test_learning_rate_follows_a_schedule(tmp_path):
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    _model().fit(X, Y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                 callbacks=[schedule, callbacks.TensorBoard(tmp_path, write_graph=False)])
    np.testing.assert_allclose([v for _, v in _values(tmp_path / "train", "epoch_learning_rate")],
                               [0.1, 0.05, 0.1 / 3], rtol=1e-6)


def test_batch_scalars_every_update_freq_batches(tmp_path):
    seen = BatchLogs()
    net = _model()
    board = callbacks.TensorBoard(tmp_path, update_freq=2, write_steps_per_second=True)
    net.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[seen, board])
    train = tmp_path / "train"
    read = _values(train, "batch_loss")
    # Batches are counted across epochs from 1; every second one is written.
    assert [s for s, _ in read] == [2, 4, 6, 8]
    np.testing.assert_array_equal([v for _, v in read],
                                  [np.float32(seen.batches[s - 1]["loss"]) for s, _ in read])
    assert [s for s, _ in _values(train, "batch_accuracy")] == [2, 4, 6, 8]
    per_second = [float(v) for _, v in _values(train, "batch_steps_per_second")]
    assert len(per_second) == 4 and all(v > 0 for v in per_second)
    assert all(float(v) > 0 for _, v in _values(train, "epoch_steps_per_second"))


def test_batch_scalars_without_another_callback_reading_the_logs(tmp_path):
    net = _model()
    net.fit(X, Y, batch_size=BATCH, epochs=1, verbose=0,
            callbacks=[callbacks.TensorBoard(tmp_path, update_freq="batch", write_graph=False)])
    read = _values(tmp_path / "train", "batch_loss")
    assert [s for s, _ in read] == [1, 2, 3]
    np.testing.assert_array_equal(read[-1][1], np.float32(_values(tmp_path / "train",
                                                                  "epoch_loss")[0][1]))


def test_summaries_of_other_callbacks_follow_update_freq(tmp_path):
    class Custom(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            tf.summary.scalar("custom", float(batch))  # the step comes from the callback

    _model().fit(X, Y, batch_size=BATCH, epochs=2, verbose=0,
                 callbacks=[callbacks.TensorBoard(tmp_path, update_freq=2), Custom()])
    read = _values(tmp_path / "train", "custom")
    assert [(s, float(v)) for s, v in read] == [(2, 1.0), (4, 0.0), (6, 2.0)]
    assert tf.summary.experimental.get_step() is None  # restored after training


def test_epoch_update_freq_writes_no_batch_scalars_and_skips_batch_hooks(tmp_path):
    board = callbacks.TensorBoard(tmp_path)
    net = _model()
    listed = callbacks.CallbackList([board], model=net)
    assert not listed.wants("on_train_batch_end") and not listed.wants("on_train_batch_begin")
    assert callbacks.CallbackList([callbacks.TensorBoard(tmp_path, update_freq=3)],
                                  model=net).wants("on_train_batch_end")
    net.fit(X, Y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[board])
    assert not any(tag.startswith("batch_") for tag in _tags(tmp_path / "train"))


def test_a_subclass_keeps_its_batch_hooks(tmp_path):
    class Counting(callbacks.TensorBoard):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)
            Counting.batches += 1

    board = Counting(tmp_path, write_graph=False)
    _model().fit(X, Y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[board])
    assert Counting.batches == 3


def test_weight_histograms_and_images(tmp_path):
    seen = BatchLogs()
    net = _model()
    net.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
            callbacks=[seen, callbacks.TensorBoard(tmp_path, histogram_freq=2,
                                                   write_images=True)])
    train = tmp_path / "train"
    paths = [w.path for layer in net.layers for w in layer.weights]
    assert {f"{p}/histogram" for p in paths} | {f"{p}/image" for p in paths} <= _tags(train)
    for path in paths:
        read = _values(train, f"{path}/histogram")
        assert [s for s, _ in read] == [0, 2]  # every histogram_freq epochs
        for step, buckets in read:
            weights = seen.weights[step][path].astype(np.float64)
            counts, edges = np.histogram(weights, bins=30)
            np.testing.assert_array_equal(buckets[:, 2], counts)
            np.testing.assert_allclose(buckets[:, 0], edges[:-1], rtol=1e-12, atol=1e-15)
    [(_, kernel)] = _values(train, f"{net.layers[0].kernel.path}/image")[-1:]
    assert (kernel[0], kernel[1]) == (b"4", b"3")  # a 4x3 kernel is drawn 3 high, 4 wide
    [(_, bias)] = _values(train, f"{net.layers[-1].bias.path}/image")[-1:]
    assert (bias[0], bias[1]) == (b"1", b"2")  # a bias is a column: 1 wide, 2 high


def test_weight_images_of_convolution_kernels():
    # The layout Keras gives each weight's picture (a batch of [k, h, w, 1] images).
    board = callbacks.TensorBoard(write_graph=False)
    drawn = []
    board.set_model(_model())
    original = tf.summary.image
    try:
        tf.summary.image = lambda name, data, step: drawn.append((name, np.shape(data)))
        board._log_weight_as_image(np.zeros((3, 3, 1, 8)), "conv/kernel/image", 0)
        board._log_weight_as_image(np.zeros((3, 3, 2, 8)), "conv2/kernel/image", 0)
        board._log_weight_as_image(np.zeros((2, 5)), "dense/kernel/image", 0)
    finally:
        tf.summary.image = original
    assert drawn == [("conv/kernel/image", (8, 3, 3, 1)), ("dense/kernel/image", (1, 2, 5, 1))]


def test_model_graphs_conceptual_and_of_ops(tmp_path):
    net = _model()
    net.fit(X, Y, batch_size=BATCH, epochs=1, verbose=0,
            callbacks=[callbacks.TensorBoard(tmp_path)])
    train = tmp_path / "train"
    [(step, config)] = _values(train, "keras")
    assert step == 0 and json.loads(config.item()) == json.loads(net.to_json())
    assert _accumulator(train).SummaryMetadata("keras").plugin_data.plugin_name == \
        "graph_keras_model"
    graph = _accumulator(train).Graph()
    nodes = {node.name: node.op for node in graph.node}
    for layer in net.layers:
        assert nodes[layer.kernel.path] == "VarHandleOp"
    assert "matmul" in nodes.values() and "assign_sub" in nodes.values()


def test_no_graphs_without_write_graph_and_no_op_graph_when_eager(tmp_path):
    _model().fit(X, Y, epochs=1, verbose=0,
                 callbacks=[callbacks.TensorBoard(tmp_path / "off", write_graph=False)])
    assert "keras" not in _tags(tmp_path / "off" / "train")
    assert not any(e.HasField("graph_def") for e in _events(tmp_path / "off" / "train"))
    eager = _model()
    eager.run_eagerly = True
    eager.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.TensorBoard(tmp_path / "eager")])
    assert "keras" in _tags(tmp_path / "eager" / "train")
    assert not any(e.HasField("graph_def") for e in _events(tmp_path / "eager" / "train"))


def test_subclassed_and_unserializable_models_have_no_conceptual_graph(tmp_path):
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net.compile("sgd", "mse")
    net.fit(X, np.zeros((40, 2), "float32"), epochs=1, verbose=0,
            callbacks=[callbacks.TensorBoard(tmp_path / "sub")])
    assert "keras" not in _tags(tmp_path / "sub" / "train")

    broken = _model()
    broken.to_json = lambda: (_ for _ in ()).throw(TypeError("not serializable"))
    with pytest.warns(UserWarning, match="failed to serialize"):
        broken.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.TensorBoard(tmp_path / "b")])
    assert "keras" not in _tags(tmp_path / "b" / "train")


def test_values_that_are_not_scalars_are_left_out(tmp_path):
    board = callbacks.TensorBoard(tmp_path, write_graph=False)
    board.set_model(_model())
    board.on_epoch_end(0, {"loss": 0.5, "f1": np.array([0.1, 0.2]), "val_loss": 0.25})
    board.on_train_end()
    assert _tags(tmp_path / "train") == {"epoch_loss", "epoch_learning_rate"}
    assert [float(v) for _, v in _values(tmp_path / "validation", "epoch_loss")] == [0.25]
    board.on_epoch_end(1, {})  # nothing to write: no file is touched


def test_evaluate_alone_writes_evaluation_scalars(tmp_path):
    net = _model()
    net.fit(X, Y, epochs=1, batch_size=BATCH, verbose=0)
    net.evaluate(X, Y, verbose=0, callbacks=[callbacks.TensorBoard(tmp_path, update_freq=1)])
    assert [s for s, _ in _values(tmp_path / "validation", "evaluation_loss_vs_iterations")] \
        == [3]


def test_optimizers_with_several_inner_optimizers_log_each_rate(tmp_path):
    class Inner:
        def __init__(self, name, rate):
            self.name, self.learning_rate = name, tf.Variable(rate)

    class Several:
        optimizers = [Inner("a", 0.5), Inner("b", 0.25)]

    board = callbacks.TensorBoard(tmp_path, write_graph=False)
    net = _model()
    board.set_model(net)
    net.optimizer = Several()
    assert board._collect_learning_rate({}) == {"learning_rate_a": 0.5, "learning_rate_b": 0.25}


# --- the lab and the command --------------------------------------------------------------------
@pytest.fixture
def tiny_lab(monkeypatch):
    rng = np.random.default_rng(0)

    def split(n):
        return rng.random((n, 28, 28)), rng.integers(0, 10, n).astype(np.uint8)

    data = (split(40), split(8), split(8))
    monkeypatch.setattr(lab, "load_and_split", lambda path, quiet: data)
    monkeypatch.setattr(lab, "save_pictures", lambda *args: [])
    monkeypatch.setattr(lab, "save_curves", lambda *args: None)


def test_lab_writes_tensorboard_logs(tiny_lab, tmp_path, capsys):
    assert lab.main(["--epochs", "2", "--out", str(tmp_path / "out"), "--verbose", "0",
                     "--tensorboard", str(tmp_path / "tb")]) == 0
    assert f"TensorBoard logs in {tmp_path / 'tb'}" in capsys.readouterr().out
    train, validation = tmp_path / "tb" / "train", tmp_path / "tb" / "validation"
    assert [s for s, _ in _values(train, "epoch_loss")] == [0, 1]
    assert [s for s, _ in _values(validation, "epoch_accuracy")] == [0, 1]
    assert any(tag.endswith("/kernel/histogram") for tag in _tags(train))


def test_lab_without_tensorboard_installed_says_how_to_install_it(tiny_lab, monkeypatch, capsys):
    real = lab.importlib.util.find_spec
    monkeypatch.setattr(lab.importlib.util, "find_spec",
                        lambda name: None if name == "tensorboard" else real(name))
    with pytest.raises(SystemExit) as exit_info:
        lab.main(["--epochs", "1", "--tensorboard", "tb"])
    assert exit_info.value.code == 2
    assert "pip install 'neuroflow[tensorboard]'" in capsys.readouterr().err


def test_command_reports_a_missing_optional_package_in_one_line(monkeypatch, capsys):
    def missing(*args, **kwargs):
        raise ModuleNotFoundError(protos.INSTALL_HINT, name="tensorboard")

    monkeypatch.setattr(lab, "run", missing)
    assert cli.main(["lab", "--epochs", "1"]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "neuroflow[tensorboard]" in err

    def bug(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'typo'", name="typo")

    monkeypatch.setattr(lab, "run", bug)
    with pytest.raises(ModuleNotFoundError, match="typo"):
        cli.main(["lab", "--epochs", "1"])


# --- the oracle: Keras 3 on TensorFlow ---------------------------------------------------------
def _layout(logdir) -> set[tuple]:
    """(run, tag, plugin, step) of every summary of a TensorBoard callback's logs."""
    rows = set()
    for run in ("train", "validation"):
        for event in _events(Path(logdir) / run):
            for value in event.summary.value:
                rows.add((run, value.tag, value.metadata.plugin_data.plugin_name, event.step))
    return rows


@pytest.mark.tensorflow
def test_the_logs_have_keras_3s_runs_tags_and_steps(tmp_path):
    tensorflow = pytest.importorskip("tensorflow")
    options = dict(histogram_freq=1, write_images=True, update_freq=2,
                   write_steps_per_second=True)
    for keras, logdir in ((tensorflow.keras, tmp_path / "tf"), (tf.keras, tmp_path / "nf")):
        keras.utils.set_random_seed(0)
        net = _model(keras, functional=True)  # functional: Keras 3 and neuroflow name weights alike
        net.fit(X, Y, batch_size=BATCH, epochs=2, validation_data=(X[:8], Y[:8]), verbose=0,
                callbacks=[keras.callbacks.TensorBoard(str(logdir), **options)])
    assert _layout(tmp_path / "nf") == _layout(tmp_path / "tf")


# --- the real TensorBoard -----------------------------------------------------------------------
def _tensorboard_command() -> str | None:
    beside = Path(sys.executable).with_name("tensorboard")
    return str(beside) if beside.exists() else shutil.which("tensorboard")


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_the_tensorboard_server_serves_the_logs(tmp_path):
    command = _tensorboard_command()
    if command is None:
        pytest.skip("the tensorboard command is not installed (pip install "
                    "'neuroflow[tensorboard]')")
    net = _model()
    history = net.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, validation_data=(X[:8], Y[:8]),
                      verbose=0, callbacks=[callbacks.TensorBoard(tmp_path, histogram_freq=1)])
    server = subprocess.Popen(
        [command, "--logdir", str(tmp_path), "--port", "0", "--host", "127.0.0.1",
         "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    try:
        base = None
        deadline = time.monotonic() + 90
        while base is None and time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line and server.poll() is not None:
                break
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            base = found.group(1) if found else None
        assert base is not None, "tensorboard did not start"

        def scalars(run, tag):
            query = urllib.parse.urlencode({"run": run, "tag": tag})
            return _get_json(f"{base}/data/plugin/scalars/scalars?{query}")

        points = []
        while len(points) < EPOCHS and time.monotonic() < deadline:
            try:
                points = scalars("train", "epoch_loss")
            except urllib.error.HTTPError:  # not loaded yet
                time.sleep(0.5)
        assert [step for _, step, _ in points] == list(range(EPOCHS))
        np.testing.assert_allclose([value for _, _, value in points], history.history["loss"],
                                   rtol=1e-6)
        validation = scalars("validation", "epoch_accuracy")
        np.testing.assert_allclose([v for _, _, v in validation],
                                   history.history["val_accuracy"], rtol=1e-6)
        assert sorted(_get_json(f"{base}/data/runs")) == ["train", "validation"]
        kernel = net.layers[0].kernel.path
        query = urllib.parse.urlencode({"run": "train", "tag": f"{kernel}/histogram"})
        histograms = _get_json(f"{base}/data/plugin/histograms/histograms?{query}")
        assert [step for _, step, _ in histograms] == list(range(EPOCHS))
        assert sum(count for _, _, count in histograms[-1][2]) == 12  # a 4x3 kernel
        with urllib.request.urlopen(f"{base}/data/plugin/graphs/graph?run=train",
                                    timeout=10) as response:
            assert f'name: "{kernel}"' in response.read().decode()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()


def test_a_seeded_run_is_the_same_with_the_callback(tmp_path):
    """Writing the model's graph (its config) draws nothing from the random stream."""

    def weights_after_fit(hooks):
        tf.keras.utils.set_random_seed(3)
        model = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(3, activation="relu"),
                                     layers.Dense(1)])
        model.compile("adam", "mse")
        x = np.random.default_rng(0).random((32, 4)).astype("float32")
        model.fit(x, x.sum(axis=1), epochs=2, verbose=0, callbacks=hooks)
        return [w.numpy() for w in model.weights]

    plain = weights_after_fit([])
    logged = weights_after_fit([callbacks.TensorBoard(tmp_path / "logs")])
    assert all(np.array_equal(a, b) for a, b in zip(plain, logged))
