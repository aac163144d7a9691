"""tf.train.Checkpoint and CheckpointManager: paths, deferred restores, statuses, safe files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors, keras
from neuroflow.train import checkpoint_io

ROOT = Path(__file__).resolve().parents[2]
X = np.random.default_rng(0).random((16, 4)).astype("float32")
Y = np.random.default_rng(1).random((16, 2)).astype("float32")


def _model(optimizer="adam", input_layer=True):
    model = keras.Sequential(([keras.Input((4,))] if input_layer else [])
                             + [keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
    model.compile(keras.optimizers.get(optimizer), "mse")
    return model


def _keys(path) -> list[str]:
    return [key for key, _ in tf.train.list_variables(path)]


class Module:
    """What a checkpoint tracks as a tf.Module: attributes holding state."""

    def __init__(self):
        self.w = tf.Variable([1.0, 2.0])
        self._private = tf.Variable(3.0)
        self.sub = [tf.Variable(4.0), {"a": tf.Variable(5.0)}]
        self.count = 7  # not state: left out

    @property
    def trainable_variables(self):
        return [self.w, self._private]


# --- saving and numbering ------------------------------------------------------------------

def test_save_numbers_checkpoints_and_restore_brings_values_back(tmp_path):
    v = tf.Variable([1.0, 2.0])
    checkpoint = tf.train.Checkpoint(v=v)
    first = checkpoint.save(tmp_path / "ckpt")
    second = checkpoint.save(tmp_path / "ckpt")
    assert (first, second) == (str(tmp_path / "ckpt-1"), str(tmp_path / "ckpt-2"))
    assert int(checkpoint.save_counter.numpy()) == 2
    assert tf.train.latest_checkpoint(tmp_path) == second
    v.assign([0.0, 0.0])
    checkpoint.restore(first).assert_consumed()
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
    assert int(checkpoint.save_counter.numpy()) == 1  # restored too: the next save is ckpt-2
    assert checkpoint.v is v


def test_write_takes_the_prefix_as_is_and_leaves_the_counter(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    assert checkpoint.write(str(tmp_path / "exact")) == str(tmp_path / "exact")
    assert checkpoint._save_counter is None  # write() does not create it
    assert _keys(tmp_path / "exact") == ["v/.ATTRIBUTES/VARIABLE_VALUE"]
    assert not (tmp_path / "checkpoint").exists()


def test_nested_checkpoints_dicts_lists_and_modules_are_keyed_by_paths(tmp_path):
    shared = tf.Variable(9.0)
    checkpoint = tf.train.Checkpoint(
        inner=tf.train.Checkpoint(a=tf.Variable(3.0)), d={"x": tf.Variable(6.0),
                                                           "l": [tf.Variable(7.0), 3]},
        t=(tf.Variable(1.0), tf.Variable(2.0)), mod=Module(), a=shared, b=[shared])
    path = checkpoint.write(tmp_path / "c")
    assert _keys(path) == ["a/.ATTRIBUTES/VARIABLE_VALUE",  # b/0 is the same variable
                           "d/l/0/.ATTRIBUTES/VARIABLE_VALUE", "d/x/.ATTRIBUTES/VARIABLE_VALUE",
                           "inner/a/.ATTRIBUTES/VARIABLE_VALUE",
                           "mod/_private/.ATTRIBUTES/VARIABLE_VALUE",
                           "mod/sub/0/.ATTRIBUTES/VARIABLE_VALUE",
                           "mod/sub/1/a/.ATTRIBUTES/VARIABLE_VALUE",
                           "mod/w/.ATTRIBUTES/VARIABLE_VALUE",
                           "t/0/.ATTRIBUTES/VARIABLE_VALUE", "t/1/.ATTRIBUTES/VARIABLE_VALUE"]
    other = Module()
    other.w.assign([0.0, 0.0])
    other.sub[1]["a"].assign(0.0)
    status = tf.train.Checkpoint(mod=other).read(path)
    status.assert_existing_objects_matched()
    np.testing.assert_array_equal(other.w.numpy(), [1.0, 2.0])
    assert float(other.sub[1]["a"].numpy()) == 5.0


def test_names_with_slashes_and_dots_are_escaped_as_tensorflow_escapes_them(tmp_path):
    path = tf.train.Checkpoint(d={"a/b.c": tf.Variable(1.0)}).write(tmp_path / "c")
    assert _keys(path) == ["d/a.Sb..c/.ATTRIBUTES/VARIABLE_VALUE"]


def test_root_object_and_attached_objects(tmp_path):
    root = tf.train.Checkpoint(v=tf.Variable(1.0))
    w = tf.Variable(2.0)
    path = tf.train.Checkpoint(root=root, w=w).write(tmp_path / "r")
    assert _keys(path) == ["v/.ATTRIBUTES/VARIABLE_VALUE", "w/.ATTRIBUTES/VARIABLE_VALUE"]
    lone = tf.Variable([5.0])
    path = tf.train.Checkpoint(root=lone).write(tmp_path / "lone")
    assert _keys(path) == ["/.ATTRIBUTES/VARIABLE_VALUE"]
    lone.assign([0.0])
    tf.train.Checkpoint(root=lone).read(path).assert_consumed()
    assert lone.numpy().tolist() == [5.0]
    with pytest.raises(ValueError, match="keyword argument v if root.v already exists"):
        tf.train.Checkpoint(root=root, v=tf.Variable(2.0))


def test_python_state_is_saved_as_its_string(tmp_path):
    class Counter(tf.train.experimental.PythonState):
        def __init__(self, n):
            self.n = n

        def serialize(self):
            return json.dumps(self.n)

        def deserialize(self, string_value):
            self.n = json.loads(string_value)

    path = tf.train.Checkpoint(c=Counter(41)).write(tmp_path / "p")
    assert _keys(path) == ["c/.ATTRIBUTES/py_state"]
    target = Counter(0)
    tf.train.Checkpoint(c=target).read(path).assert_consumed()
    assert target.n == 41


def test_python_state_without_methods_says_what_to_write():
    state = tf.train.experimental.PythonState()
    with pytest.raises(NotImplementedError, match="must implement serialize"):
        state.serialize()
    with pytest.raises(NotImplementedError, match="must implement deserialize"):
        state.deserialize("")


# --- Keras models and optimizers --------------------------------------------------------------

def test_model_and_optimizer_keys_follow_tensorflows_names(tmp_path):
    model = _model()
    model.fit(X, Y, verbose=0)
    path = tf.train.Checkpoint(model=model).write(tmp_path / "m")
    keys = _keys(path)
    assert "model/layers/0/kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "model/layers/1/bias/.ATTRIBUTES/VARIABLE_VALUE" in keys
    # a compiled model saves its optimizer, as in TF: step count and Adam's 8 slots
    assert "model/optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert sum(k.startswith("model/optimizer/_variables/") for k in keys) == 8
    assert len(keys) == 4 + 2 + 8


def test_optimizer_slots_restored_when_created_and_training_continues_exactly(tmp_path):
    trained = _model()
    trained.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    path = tf.train.Checkpoint(model=trained).write(tmp_path / "m")
    resumed = _model()
    status = tf.train.Checkpoint(model=resumed).read(path)
    assert not resumed.optimizer.built
    assert int(resumed.optimizer.iterations.numpy()) == 2  # exists already: restored now
    with pytest.raises(AssertionError, match=r"\(root\)\.model\.optimizer\._variables\.2"):
        status.assert_consumed()  # the slots wait for the optimizer's first step
    status.assert_existing_objects_matched()
    trained.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    resumed.fit(X, Y, epochs=2, verbose=0, shuffle=False)
    status.assert_consumed()
    assert "build" not in vars(resumed.optimizer)  # the wait is over
    for ours, theirs in zip(resumed.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_slots_restored_through_an_explicit_build_and_through_optimizer_alone(tmp_path):
    trained = _model(keras.optimizers.SGD(momentum=0.9))
    trained.fit(X, Y, verbose=0)
    path = tf.train.Checkpoint(optimizer=trained.optimizer).write(tmp_path / "o")
    fresh = _model(keras.optimizers.SGD(momentum=0.9))
    status = tf.train.Checkpoint(optimizer=fresh.optimizer).read(path)
    fresh.optimizer.build(fresh.trainable_variables)
    status.assert_consumed()
    # the optimizer refers to the variables it updates: they come back with it, as in TF
    for ours, theirs in zip(fresh.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(fresh.optimizer.variables, trained.optimizer.variables):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_unbuilt_layers_get_their_weights_when_built(tmp_path):
    trained = _model()
    path = tf.train.Checkpoint(model=trained).write(tmp_path / "m")
    later = _model(input_layer=False)
    status = tf.train.Checkpoint(model=later).read(path)
    status.assert_existing_objects_matched()
    later.build((None, 4))
    for ours, theirs in zip(later.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_two_restores_waiting_on_one_layer_both_apply(tmp_path):
    first, second = tf.Variable(1.0), keras.layers.Dense(2)
    second.build((None, 3))
    path = tf.train.Checkpoint(layer=second, v=first).write(tmp_path / "a")
    target = keras.layers.Dense(2)
    tf.train.Checkpoint(layer=target).read(path)
    tf.train.Checkpoint(layer=target).read(path)
    target.build((None, 3))
    assert "build" not in vars(target)
    np.testing.assert_array_equal(target.kernel.numpy(), second.kernel.numpy())


# --- statuses and errors --------------------------------------------------------------------

def test_restore_none_initializes_only():
    status = tf.train.Checkpoint(v=tf.Variable(1.0)).restore(None)
    for check in (status.assert_consumed, status.assert_existing_objects_matched,
                  status.assert_nontrivial_match, status.run_restore_ops):
        with pytest.raises(AssertionError, match="No checkpoint specified"):
            check()
    assert status.expect_partial() is status
    assert status.initialize_or_restore() is None


def test_status_reports_unmatched_objects_both_ways(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).save(tmp_path / "c")
    status = tf.train.Checkpoint(v=tf.Variable([0.0, 0.0]), extra=tf.Variable(1.0)).restore(path)
    with pytest.raises(AssertionError, match="Found 1 Python objects that were not bound"):
        status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Found 1 Python objects that were not bound"):
        status.assert_consumed()
    assert status.assert_nontrivial_match() is status
    assert status.expect_partial() is status and status.run_restore_ops() is None
    status = tf.train.Checkpoint().restore(path)
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match=r"Unresolved object in checkpoint \(root\)\.v: "
                                             r'checkpoint_key: "v/\.ATTRIBUTES/VARIABLE_VALUE"'):
        status.assert_consumed()


def test_nontrivial_match_fails_when_only_the_root_matched(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).write(tmp_path / "c")
    status = tf.train.Checkpoint(w=tf.Variable(1.0)).read(path)
    with pytest.raises(AssertionError, match="Nothing except the root object matched"):
        status.assert_nontrivial_match()
    with pytest.raises(AssertionError, match="Nothing to load"):
        tf.train.Checkpoint().read(path).assert_nontrivial_match()


def test_read_of_a_saved_checkpoint_restores_the_counter_once_it_exists(tmp_path):
    source = tf.train.Checkpoint(v=tf.Variable(1.0))
    source.save(tmp_path / "c")
    path = source.save(tmp_path / "c")
    target = tf.train.Checkpoint(v=tf.Variable(0.0))
    status = target.read(path)
    with pytest.raises(AssertionError, match=r"\(root\)\.save_counter"):
        status.assert_consumed()
    assert int(target.save_counter.numpy()) == 2  # made now, restored now
    status.assert_consumed()


def test_mismatched_shape_and_dtype_are_refused_as_tensorflow_does(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).write(tmp_path / "c")
    with pytest.raises(ValueError, match=r"Received incompatible tensor with shape \(2,\) when "
                                         r"attempting to restore variable with shape \(3,\)"):
        tf.train.Checkpoint(v=tf.Variable([1.0, 2.0, 3.0])).read(path)
    with pytest.raises(errors.InvalidArgumentError,
                       match="expected dtype int32 does not equal original dtype float"):
        tf.train.Checkpoint(v=tf.Variable([1, 2])).read(path)


def test_missing_and_foreign_checkpoints_are_reported(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(errors.NotFoundError, match="missing the checkpoint suffix"):
        checkpoint.restore(tmp_path / "nope")
    with pytest.raises(errors.DataLossError, match="it is a directory.*latest_checkpoint"):
        checkpoint.restore(tmp_path)
    (tmp_path / "tf.index").write_bytes(b"\x00\x01 leveldb table")
    with pytest.raises(errors.DataLossError, match="TensorFlow's own checkpoint format is not"):
        checkpoint.restore(tmp_path / "tf")
    (tmp_path / "other.index").write_text('{"format": "something else"}')
    with pytest.raises(errors.DataLossError, match="not a neuroflow checkpoint index"):
        checkpoint.restore(tmp_path / "other")
    path = checkpoint.write(tmp_path / "new")
    index = json.loads(Path(path + ".index").read_text())
    Path(path + ".index").write_text(json.dumps({**index, "version": 99}))
    with pytest.raises(errors.DataLossError, match="format version 99"):
        checkpoint.restore(path)
    Path(path + ".index").write_text(json.dumps({**index, "data": {}}))
    with pytest.raises(errors.DataLossError, match="its index lacks an entry"):
        checkpoint.restore(path)
    with pytest.raises(TypeError, match="expects a path"):
        checkpoint.save(5)


def test_damaged_or_missing_data_is_detected_before_anything_changes(tmp_path):
    v = tf.Variable([1.0, 2.0])
    path = tf.train.Checkpoint(v=v).write(tmp_path / "c")
    data = next(tmp_path.glob("c.data-*.npz"))
    v.assign([5.0, 5.0])
    damaged = bytearray(data.read_bytes())
    damaged[-40] ^= 0xFF
    data.write_bytes(bytes(damaged))
    with pytest.raises(errors.DataLossError, match="SHA-256 does not match"):
        tf.train.Checkpoint(v=v).restore(path)
    data.unlink()
    with pytest.raises(errors.DataLossError, match="is missing"):
        tf.train.Checkpoint(v=v).restore(path)
    np.testing.assert_array_equal(v.numpy(), [5.0, 5.0])


def test_data_that_matches_its_hash_but_is_no_archive_is_reported(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).write(tmp_path / "c")
    data = next(tmp_path.glob("c.data-*.npz"))
    data.write_bytes(b"not a zip")
    index = json.loads(Path(path + ".index").read_text())
    index["data"].update(bytes=9, sha256=__import__("hashlib").sha256(b"not a zip").hexdigest())
    Path(path + ".index").write_text(json.dumps(index))
    with pytest.raises(errors.DataLossError, match="cannot be read"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(path)


def test_an_index_naming_a_value_the_archive_lacks_is_reported(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).write(tmp_path / "c")
    index = json.loads(Path(path + ".index").read_text())
    index["values"]["v/.ATTRIBUTES/VARIABLE_VALUE"]["member"] = "99"
    Path(path + ".index").write_text(json.dumps(index))
    with pytest.raises(errors.DataLossError, match="the value of v/.ATTRIBUTES/VARIABLE_VALUE "
                                                   "cannot be read"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(path)


def test_objects_a_checkpoint_cannot_hold_are_refused():
    with pytest.raises(ValueError, match="expecting x to be a trackable object.*got 5"):
        tf.train.Checkpoint(x=5)
    with pytest.raises(ValueError, match="non-string key"):
        tf.train.Checkpoint(d={1: tf.Variable(1.0)}).write("unused")


def test_files_are_json_and_npz_without_pickles(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0]), i=tf.Variable(3, dtype="int64"),
                               b=tf.Variable(True)).write(tmp_path / "c")
    index = json.loads(Path(path + ".index").read_text())
    assert index["format"] == "neuroflow-checkpoint"
    data = tmp_path / index["data"]["file"]
    with np.load(data, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["0", "1", "2"]
    with zipfile.ZipFile(data) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    assert tf.train.load_variable(path, "i/.ATTRIBUTES/VARIABLE_VALUE") == 3
    with pytest.raises(KeyError, match="list_variables"):
        tf.train.load_variable(path, "nothing")


def test_writing_again_replaces_the_data_file(tmp_path):
    v = tf.Variable(1.0)
    checkpoint = tf.train.Checkpoint(v=v)
    checkpoint.write(tmp_path / "c")
    v.assign(2.0)
    checkpoint.write(tmp_path / "c")
    assert len(list(tmp_path.glob("c.data-*.npz"))) == 1
    assert float(tf.train.load_variable(tmp_path / "c", "v/.ATTRIBUTES/VARIABLE_VALUE")) == 2.0


def test_a_failed_index_write_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    v = tf.Variable(1.0)
    checkpoint = tf.train.Checkpoint(v=v)
    path = checkpoint.write(tmp_path / "c")
    v.assign(2.0)
    real_replace = os.replace

    def fail_on_index(source, target):
        if str(target).endswith(".index"):
            raise OSError("disk full")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", fail_on_index)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.write(tmp_path / "c")
    monkeypatch.undo()
    v.assign(0.0)
    checkpoint.read(path).assert_consumed()
    assert float(v.numpy()) == 1.0


def test_list_variables_of_a_folder_reads_its_latest(tmp_path):
    tf.train.Checkpoint(v=tf.Variable(1.0)).save(tmp_path / "c")
    assert _keys(tmp_path) == ["save_counter/.ATTRIBUTES/VARIABLE_VALUE",
                               "v/.ATTRIBUTES/VARIABLE_VALUE"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.list_variables(tmp_path / "empty")


# --- CheckpointManager ----------------------------------------------------------------------

def test_manager_keeps_the_last_few_and_lists_them(tmp_path):
    checkpoint = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(checkpoint, tmp_path, max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    paths = [manager.save() for _ in range(3)]
    assert paths == [str(tmp_path / f"ckpt-{n}") for n in (1, 2, 3)]
    assert manager.checkpoints == paths[1:] and manager.latest_checkpoint == paths[2]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".npz")) == \
        ["checkpoint", "ckpt-2.index", "ckpt-3.index"]
    assert len(list(tmp_path.glob("*.npz"))) == 2
    state = tf.train.get_checkpoint_state(tmp_path)
    assert state.model_checkpoint_path == paths[2]
    assert state.all_model_checkpoint_paths == paths[1:]
    assert len(state.all_model_checkpoint_timestamps) == 2
    assert (tmp_path / "checkpoint").read_text().startswith('model_checkpoint_path: "ckpt-3"\n')
    assert manager.save(checkpoint_number=10) == str(tmp_path / "ckpt-10")
    again = tf.train.CheckpointManager(checkpoint, tmp_path, max_to_keep=1)
    assert again.checkpoints == [paths[2], str(tmp_path / "ckpt-10")]
    assert again.save() == str(tmp_path / "ckpt-5")  # the counter went on during ckpt-10
    assert again.checkpoints == [str(tmp_path / "ckpt-5")]
    assert (again.directory, again.checkpoint, again.checkpoint_interval) == \
        (str(tmp_path), checkpoint, None)


def test_manager_interval_and_number_from_a_step_counter(tmp_path):
    step = tf.Variable(0, dtype="int64")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), tmp_path,
                                         max_to_keep=None, step_counter=step,
                                         checkpoint_interval=3)
    saved = []
    for value in range(8):
        step.assign(value)
        saved.append(manager.save())
    assert [p is not None for p in saved] == [True, False, False, True, False, False, True,
                                              False]
    assert manager.save() is None  # step 7: fewer than 3 steps after the save at 6
    assert manager.save(check_interval=False) == str(tmp_path / "ckpt-4")
    assert manager.save(check_interval=False) is None  # still step 7
    step.assign(12)
    assert manager.save(checkpoint_number=step) == str(tmp_path / "ckpt-12")
    with pytest.raises(TypeError, match="checkpoint_number must be an integer"):
        step.assign(20)
        manager.save(checkpoint_number="a")


def test_manager_restore_or_initialize(tmp_path):
    v = tf.Variable(1.0)
    calls = []
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), tmp_path, max_to_keep=3,
                                         init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    path = manager.save()
    v.assign(5.0)
    assert manager.restore_or_initialize() == path and calls == [1]
    assert float(v.numpy()) == 1.0
    step = tf.Variable(4, dtype="int64")
    with_step = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), tmp_path, max_to_keep=3,
                                           step_counter=step, checkpoint_interval=2)
    assert with_step.restore_or_initialize() == path
    assert with_step.save() is None  # step 4 was just restored
    with_step.sync()


def test_manager_keeps_one_checkpoint_per_n_hours(tmp_path, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), tmp_path,
                                         max_to_keep=1, keep_checkpoint_every_n_hours=1)
    for _ in range(4):
        manager.save()
        clock[0] += 1800.0  # half an hour
    # ckpt-3, saved an hour after the manager started, is kept for good
    assert sorted(p.name for p in tmp_path.glob("*.index")) == ["ckpt-3.index", "ckpt-4.index"]
    assert manager.checkpoints == [str(tmp_path / "ckpt-4")]


def test_manager_arguments_are_checked(tmp_path):
    checkpoint = tf.train.Checkpoint()
    with pytest.raises(ValueError, match="positive integer or `None` for `max_to_keep`, got 0"):
        tf.train.CheckpointManager(checkpoint, tmp_path, max_to_keep=0)
    with pytest.raises(ValueError, match="`step_counter` should be passed"):
        tf.train.CheckpointManager(checkpoint, tmp_path, max_to_keep=1, checkpoint_interval=2)


def test_latest_checkpoint_of_a_folder_without_one_or_with_a_removed_one(tmp_path):
    assert tf.train.latest_checkpoint(tmp_path / "none") is None
    assert tf.train.get_checkpoint_state(tmp_path) is None
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(tmp_path / "c")
    Path(path + ".index").unlink()
    assert tf.train.latest_checkpoint(tmp_path) is None


def test_damaged_state_file_is_reported(tmp_path):
    (tmp_path / "checkpoint").write_text("model_checkpoint_path ckpt-1\n")
    with pytest.raises(ValueError, match="line 1: expected `name: value`"):
        tf.train.latest_checkpoint(tmp_path)
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: ckpt-1\n")
    with pytest.raises(ValueError, match="expected a quoted path"):
        tf.train.latest_checkpoint(tmp_path)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "ckpt\\x-1"\n')
    with pytest.raises(ValueError, match="not a valid quoted path"):
        tf.train.latest_checkpoint(tmp_path)


# --- kills ------------------------------------------------------------------------------------

_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import neuroflow as tf

    big = tf.Variable(np.zeros((512, 1024), dtype="float32"))
    step = tf.Variable(0, dtype="int64")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(big=big, step=step), sys.argv[1],
                                         max_to_keep=2)
    manager.restore_or_initialize()
    print("ready", flush=True)
    while True:
        step.assign_add(1)
        big.assign(np.full((512, 1024), float(step.numpy()), dtype="float32"))
        manager.save()
""")


def _check_folder(folder: Path) -> int:
    """Every checkpoint the folder lists is whole and consistent; the latest step."""
    latest = tf.train.latest_checkpoint(folder)
    if latest is None:  # killed before its first save finished
        assert not list(folder.glob("*.index"))
        return 0
    for path in tf.train.get_checkpoint_state(folder).all_model_checkpoint_paths:
        if not checkpoint_io.exists(path):
            continue  # listed before it was deleted: the list is rewritten after deleting
        big = tf.Variable(np.zeros((512, 1024), dtype="float32"))
        step = tf.Variable(0, dtype="int64")
        tf.train.Checkpoint(big=big, step=step).read(path).assert_existing_objects_matched()
        assert np.all(big.numpy() == float(step.numpy()))
    for index in folder.glob("*.index"):  # no index under a final name is half written
        json.loads(index.read_text())
    return int(tf.train.load_variable(latest, "step/.ATTRIBUTES/VARIABLE_VALUE"))


def test_kills_at_random_moments_never_leave_a_broken_checkpoint(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    folder = tmp_path / "ckpts"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rng = np.random.default_rng(0)
    steps = []
    for _ in range(8):
        process = subprocess.Popen([sys.executable, str(script), str(folder)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout.readline().strip() == b"ready", process.stderr.read()
        time.sleep(float(rng.uniform(0.05, 0.4)))
        process.send_signal(signal.SIGKILL)
        process.wait()
        steps.append(_check_folder(folder))
    assert steps == sorted(steps) and steps[-1] > steps[0]  # each run went on from the last


# --- against TensorFlow -----------------------------------------------------------------------

@pytest.fixture
def T():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("tensorflow")


def _numbering(lib, folder: Path) -> dict:
    """The same saves with either library: what each returns and leaves in the folder."""
    checkpoint = lib.train.Checkpoint(v=lib.Variable([1.0, 2.0]))
    names = [checkpoint.save(str(folder / "own")), checkpoint.save(str(folder / "own")),
             checkpoint.write(str(folder / "written"))]
    counter_after_write = int(checkpoint.save_counter.numpy())
    managed = folder / "managed"
    manager = lib.train.CheckpointManager(checkpoint, str(managed), max_to_keep=2)
    names += [manager.save(), manager.save(), manager.save(), manager.save(checkpoint_number=10)]
    kept = list(manager.checkpoints)
    again = lib.train.CheckpointManager(checkpoint, str(managed), max_to_keep=1)
    recovered = list(again.checkpoints)
    names.append(again.save())
    return {"names": [os.path.relpath(n, folder) for n in names],
            "counter": (counter_after_write, int(checkpoint.save_counter.numpy())),
            "kept": [os.path.relpath(n, folder) for n in kept],
            "recovered": [os.path.relpath(n, folder) for n in recovered],
            "indexes": sorted(p.name for p in managed.glob("*.index")),
            "latest": [os.path.relpath(lib.train.latest_checkpoint(str(d)), folder)
                       for d in (folder, managed)]}


@pytest.mark.tensorflow
def test_numbering_file_names_and_latest_match_tensorflow(tmp_path, T):
    assert _numbering(tf, tmp_path / "nf") == _numbering(T, tmp_path / "tf")


@pytest.mark.tensorflow
def test_checkpoint_state_files_are_read_both_ways(tmp_path, T):
    for lib, folder in ((T, tmp_path / "tf"), (tf, tmp_path / "nf")):
        manager = lib.train.CheckpointManager(lib.train.Checkpoint(v=lib.Variable(1.0)),
                                              str(folder), max_to_keep=2)
        for _ in range(3):
            manager.save()
    for folder in (tmp_path / "tf", tmp_path / "nf"):
        theirs = T.train.get_checkpoint_state(str(folder))
        ours = tf.train.get_checkpoint_state(folder)
        assert ours.model_checkpoint_path == theirs.model_checkpoint_path
        assert ours.all_model_checkpoint_paths == list(theirs.all_model_checkpoint_paths)
        np.testing.assert_allclose(ours.all_model_checkpoint_timestamps,
                                   list(theirs.all_model_checkpoint_timestamps), rtol=1e-12)
        assert ours.last_preserved_timestamp == pytest.approx(theirs.last_preserved_timestamp)


def _tf_keys(T, path) -> set[str]:
    return {key for key, _ in T.train.list_variables(path)} - {"_CHECKPOINTABLE_OBJECT_GRAPH"}


@pytest.mark.tensorflow
def test_object_paths_match_tensorflows(tmp_path, T):
    class TFModule(T.Module):
        def __init__(self):
            super().__init__()
            self.w = T.Variable([1.0, 2.0])
            self._private = T.Variable(3.0)
            self.sub = [T.Variable(4.0), {"a": T.Variable(5.0)}]

    def objects(lib, module):
        shared = lib.Variable(9.0)
        return dict(inner=lib.train.Checkpoint(a=lib.Variable(3.0)),
                    d={"x": lib.Variable(6.0), "l": [lib.Variable(7.0)], "a/b.c": shared},
                    t=(lib.Variable(1.0), lib.Variable(2.0)), mod=module, a=shared, b=[shared])

    theirs = T.train.Checkpoint(**objects(T, TFModule())).save(str(tmp_path / "tf"))
    ours = tf.train.Checkpoint(**objects(tf, Module())).save(tmp_path / "nf")
    assert set(_keys(ours)) == _tf_keys(T, theirs)


@pytest.mark.tensorflow
def test_optimizer_paths_match_tensorflow_keras(tmp_path, T):
    import keras as K

    def trained(lib_keras):
        model = lib_keras.Sequential([lib_keras.Input((4,)), lib_keras.layers.Dense(3),
                                      lib_keras.layers.Dense(2)])
        optimizer = lib_keras.optimizers.Adam()
        model.compile(optimizer, "mse")
        model.fit(X, Y, verbose=0)
        return model, optimizer

    model, optimizer = trained(K)
    theirs = T.train.Checkpoint(model=model, optimizer=optimizer).write(str(tmp_path / "tf"))
    model, optimizer = trained(keras)
    ours = tf.train.Checkpoint(model=model, optimizer=optimizer).write(tmp_path / "nf")
    assert set(_keys(ours)) == _tf_keys(T, theirs)


def _outcome(call) -> tuple[str, str]:
    """The error class's name and the message's first words (or "ok")."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error).__name__, " ".join(str(error).split()[:6])
    return "ok", ""


def _statuses(lib, folder: Path) -> list[tuple[str, str]]:
    path = lib.train.Checkpoint(v=lib.Variable([1.0, 2.0])).save(str(folder / "c"))
    outcomes = []
    none = lib.train.Checkpoint(v=lib.Variable([1.0, 2.0])).restore(None)
    outcomes += [_outcome(none.assert_consumed), _outcome(none.assert_existing_objects_matched)]
    outcomes.append(_outcome(lambda: lib.train.Checkpoint(v=lib.Variable([1.0, 2.0])).restore(
        str(folder / "missing"))))
    outcomes.append(_outcome(lambda: lib.train.Checkpoint(
        v=lib.Variable([1.0, 2.0, 3.0])).restore(path)))
    outcomes.append(_outcome(lambda: lib.train.Checkpoint(v=lib.Variable([1, 2])).restore(path)))
    extra = lib.train.Checkpoint(v=lib.Variable([0.0, 0.0]), e=lib.Variable(1.0)).restore(path)
    outcomes += [_outcome(extra.assert_consumed), _outcome(extra.assert_existing_objects_matched),
                 _outcome(extra.assert_nontrivial_match)]
    fewer = lib.train.Checkpoint().restore(path)
    outcomes += [_outcome(fewer.assert_consumed), _outcome(fewer.assert_existing_objects_matched)]
    read = lib.train.Checkpoint(v=lib.Variable([0.0, 0.0])).read(path)
    outcomes += [_outcome(read.assert_consumed), _outcome(read.assert_existing_objects_matched)]
    outcomes.append(_outcome(lambda: lib.train.Checkpoint(x=5)))
    return outcomes


@pytest.mark.tensorflow
def test_restore_statuses_and_errors_match_tensorflow(tmp_path, T):
    ours = _statuses(tf, tmp_path / "nf")
    theirs = _statuses(T, tmp_path / "tf")
    assert [kind for kind, _ in ours] == [kind for kind, _ in theirs]
    # messages: the same opening words where neuroflow phrases them as TF does
    for (kind, message), (_, expected) in zip(ours, theirs):
        if kind in ("AssertionError", "ValueError") and not message.startswith("Received"):
            assert message.split(":")[0] == expected.split(":")[0], (message, expected)
