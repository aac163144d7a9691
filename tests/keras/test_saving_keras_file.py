"""Keras 3's ``.keras`` and ``.weights.h5`` files: round trips, the layout, and hostile files.

A saved model predicts as the original and, with its optimizer state, trains on exactly as
if it had never stopped. The second half is a corpus of crafted files modelled on the
Keras CVEs and on archive and HDF5 tricks: each must fail with an error naming the file
and the problem, run nothing from the file, write nothing, and leave the model unchanged.
"""

from __future__ import annotations

import base64
import io
import json
import marshal
import os
import stat
import sys
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from neuroflow import keras  # noqa: E402
from neuroflow.keras import layers  # noqa: E402
from neuroflow.keras.saving import keras_file  # noqa: E402
from neuroflow.keras.saving.weights_h5 import write_weights  # noqa: E402

RNG = np.random.default_rng(11)
X = RNG.normal(size=(16, 6)).astype(np.float32)
Y = RNG.normal(size=(16, 2)).astype(np.float32)


def sequential():
    return keras.Sequential([layers.Input((6,)), layers.Dense(5, activation="relu"),
                             layers.BatchNormalization(), layers.Dropout(0.1),
                             layers.Dense(2)])


def functional():
    inputs = keras.Input((6,), name="x")
    a = layers.Dense(4, activation="tanh", name="a")(inputs)
    b = layers.Dense(4, name="b")(layers.Flatten()(layers.Reshape((3, 2))(inputs)))
    joined = layers.Concatenate()([layers.Add()([a, b]), layers.Multiply()([a, b])])
    return keras.Model(inputs, layers.Dense(2, name="out")(joined))


@keras.saving.register_keras_serializable(package="tests")
class Scaled(layers.Layer):
    """A custom layer with its own weight."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.scale * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="tests")
class Net(keras.Model):
    """A subclassed model: public, private and list attributes name its weights' paths."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = layers.Dense(units, activation="relu")
        self.blocks = [Scaled(), layers.Dense(units)]
        self._head = layers.Dense(2)

    def call(self, inputs, training=False):
        h = self.first(inputs)
        for block in self.blocks:
            h = block(h)
        return self._head(h)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def trained(model, optimizer="adam", epochs=2, **compile_args):
    model.compile(optimizer=optimizer, loss="mse", **compile_args)
    model.fit(X, Y, batch_size=4, epochs=epochs, shuffle=False, verbose=0)
    return model


def same_predictions(a, b):
    np.testing.assert_allclose(a.predict(X, verbose=0), b.predict(X, verbose=0), rtol=0,
                               atol=1e-6)


def h5_tree(data) -> dict:
    out = {}
    with h5py.File(io.BytesIO(data) if isinstance(data, bytes) else data, "r") as handle:
        handle.visititems(lambda name, obj: out.__setitem__(
            name, tuple(obj.shape) if isinstance(obj, h5py.Dataset) else dict(obj.attrs)))
    return out


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [sequential, functional, lambda: Net()],
                         ids=["sequential", "functional", "subclassed"])
def test_a_saved_model_predicts_the_same_and_keeps_its_compile_state(tmp_path, make):
    model = trained(make(), keras.optimizers.RMSprop(0.01, momentum=0.5), metrics=["mae"])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    same_predictions(model, loaded)
    assert type(loaded.optimizer) is keras.optimizers.RMSprop
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for ours, theirs in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert "mae" in loaded.evaluate(X, Y, verbose=0, return_dict=True)
    uncompiled = keras.models.load_model(path, compile=False)
    assert uncompiled.optimizer is None
    same_predictions(model, uncompiled)


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.Adam(0.01), lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: keras.optimizers.RMSprop(0.01, momentum=0.3, centered=True),
    lambda: keras.optimizers.Nadam(0.01), lambda: keras.optimizers.Adamax(0.01),
    lambda: keras.optimizers.Adadelta(1.0), lambda: keras.optimizers.Adagrad(0.05),
    lambda: keras.optimizers.Ftrl(0.05), lambda: keras.optimizers.Lion(0.001),
    lambda: keras.optimizers.AdamW(0.01),
    lambda: keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5)),
], ids=["adam", "amsgrad", "nesterov", "rmsprop", "nadam", "adamax", "adadelta", "adagrad",
        "ftrl", "lion", "adamw", "schedule"])
@pytest.mark.parametrize("how", ["keras", "weights.h5"])
def test_training_continued_after_loading_matches_training_that_never_stopped(
        tmp_path, optimizer, how):
    keras.utils.set_random_seed(3)
    never_stopped = trained(functional(), optimizer())
    # the weights and optimizer state after the first two epochs travel through the file
    state = [v.numpy() for v in never_stopped.optimizer.variables]
    if how == "keras":
        never_stopped.save(tmp_path / "m.keras")
        resumed = keras.models.load_model(tmp_path / "m.keras")
    else:
        never_stopped.save_weights(tmp_path / "m.weights.h5")
        resumed = functional()
        resumed.compile(optimizer=optimizer(), loss="mse")
        # as in Keras, an optimizer takes saved state once it is built
        resumed.optimizer.build(resumed.trainable_weights)
        resumed.load_weights(tmp_path / "m.weights.h5")
    for value, variable in zip(state, resumed.optimizer.variables):
        np.testing.assert_array_equal(value, variable.numpy())
    for model in (never_stopped, resumed):
        model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(never_stopped.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_weights_h5_round_trip_and_keras_file_weights(tmp_path):
    model = trained(sequential())
    model.save_weights(tmp_path / "w.weights.h5")
    model.save(tmp_path / "m.keras")
    for name in ("w.weights.h5", "m.keras"):
        other = sequential()
        other.load_weights(tmp_path / name)
        same_predictions(model, other)
    # the .npz format of earlier versions stays
    model.save_weights(tmp_path / "w.npz")
    other = sequential()
    other.load_weights(tmp_path / "w.npz")
    same_predictions(model, other)


def test_subclassed_layout_follows_keras_attribute_walk(tmp_path):
    """Keras 3 walks public attributes alphabetically, then private ones, and a model's
    `layers` property is public: `_head` is first reached through `layers` (as its fourth
    layer, the second Dense); list items are named after their class."""
    model = trained(Net(), "sgd")
    model.save_weights(tmp_path / "w.weights.h5")
    tree = h5_tree(str(tmp_path / "w.weights.h5"))
    assert {k: v for k, v in tree.items() if k.endswith("/vars") or k == "vars"} == {
        "vars": {"name": model.name},
        "blocks/scaled/vars": {"name": model.blocks[0].name},
        "blocks/dense/vars": {"name": model.blocks[1].name},
        "first/vars": {"name": model.first.name},
        "layers/dense_2/vars": {"name": model._head.name},
        "optimizer/vars": {"name": model.optimizer.name}}
    assert tree["layers/dense_2/vars/0"] == (4, 2)
    assert tree["blocks/scaled/vars/0"] == (4,)


def test_sequential_layout_and_optimizer_slot_order(tmp_path):
    """Adam's momentum and velocity alternate per variable, as Keras 3 writes them."""
    model = trained(sequential())
    tree = h5_tree(write_weights(model))
    names = sorted(k for k in tree if k.endswith("vars"))
    assert names == ["layers/batch_normalization/vars", "layers/dense/vars",
                     "layers/dense_1/vars", "layers/dropout/vars", "optimizer/vars", "vars"]
    shapes = [tree[f"optimizer/vars/{i}"] for i in range(len(model.optimizer.variables))]
    trainable = [tuple(w.shape) for w in model.trainable_weights]
    assert shapes == [(), ()] + [s for s in trainable for _ in range(2)]


def test_to_json_and_model_from_json(tmp_path):
    model = trained(functional())
    text = model.to_json()
    assert json.loads(text)["compile_config"]["loss"] == "mse"
    again = keras.models.model_from_json(text)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert again.compiled and type(again.optimizer) is keras.optimizers.Adam
    again.set_weights(model.get_weights())
    same_predictions(model, again)


def test_custom_objects_registry_and_scope(tmp_path):
    def twice(x):
        return 2 * x

    model = keras.Sequential([layers.Input((6,)), Scaled(3.0),
                              layers.Dense(2, activation=twice)])
    path = tmp_path / "m.keras"
    model.save(path)
    entry = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"][1]
    assert entry["registered_name"] == "tests>Scaled"
    assert keras.saving.get_registered_object("tests>Scaled") is Scaled
    assert keras.saving.get_registered_name(Scaled) == "tests>Scaled"
    assert keras.saving.get_custom_objects()["tests>Scaled"] is Scaled
    with pytest.raises(ValueError, match="Unknown activation function: 'twice'"):
        keras.models.load_model(path)
    same_predictions(model, keras.models.load_model(path, custom_objects={"twice": twice}))
    with keras.saving.custom_object_scope({"twice": twice}):
        assert keras.saving.get_registered_object("twice") is twice
        same_predictions(model, keras.models.load_model(path))
    assert keras.saving.get_registered_object("twice") is None
    with pytest.raises(ValueError, match="get_config"):
        keras.saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_lambda_with_a_named_function_needs_safe_mode_off(tmp_path):
    def shift(x):
        return x + 1.0

    model = keras.Sequential([layers.Input((6,)), layers.Lambda(shift), layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"Lambda.*safe_mode=True") as caught:
        keras.models.load_model(path, custom_objects={"shift": shift})
    assert str(path) in str(caught.value)
    with pytest.raises(ValueError, match="'shift' is not in custom_objects"):
        keras.models.load_model(path, safe_mode=False)
    loaded = keras.models.load_model(path, safe_mode=False, custom_objects={"shift": shift})
    same_predictions(model, loaded)


# --- saving: arguments, atomic writes ---------------------------------------------------------


@pytest.mark.parametrize("name, kwargs, error, pattern", [
    ("m.h5", {}, NotImplementedError, "legacy Keras 2 HDF5"),
    ("m.txt", {}, ValueError, "Invalid filepath extension"),
    ("m.keras", {"zipped": False}, NotImplementedError, "zipped=False"),
    ("m.keras", {"signatures": 1}, ValueError, r"not supported: \['signatures'\]"),
    ("m.tf", {"save_format": "tf"}, ValueError, "save_format"),
])
def test_save_refuses_what_it_cannot_write(tmp_path, name, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        sequential().save(tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_save_weights_names(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`.*model\.save"):
        sequential().save_weights(tmp_path / "m.keras")
    with pytest.raises(NotImplementedError, match=r"m\.weights\.h5"):
        sequential().save_weights(tmp_path / "m.h5")
    (tmp_path / "m.keras").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        sequential().save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == b"old"


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    sequential().save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        trained(sequential()).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_saved_file_mode_comes_from_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        sequential().save(tmp_path / "m.keras")
        sequential().save_weights(tmp_path / "w.weights.h5")
    finally:
        os.umask(previous)
    for name in ("m.keras", "w.weights.h5"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640


def test_missing_h5py_is_named_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install h5py"):
        sequential().save(tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


# --- hostile files ----------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    """A small trained model, its .keras file, and the file's members."""
    model = trained(sequential())
    path = tmp_path / "good.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return model, path, members


def write_archive(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def with_config(members, edit):
    config = json.loads(members["config.json"])
    edit(config)
    return {**members, "config.json": json.dumps(config).encode()}


def refused(path, pattern, error=ValueError, **kwargs):
    """Loading ``path`` fails with ``error`` naming the file; nothing new in its folder."""
    folder = os.path.dirname(path)
    before = sorted(os.listdir(folder))
    with pytest.raises(error, match=pattern) as caught:
        keras.models.load_model(path, **kwargs)
    assert str(path) in str(caught.value)
    assert sorted(os.listdir(folder)) == before
    return caught.value


def marker_code(marker) -> str:
    """Marshalled bytecode that would create ``marker`` if it ever ran."""
    code = compile(f"open({str(marker)!r}, 'w').close()", "<payload>", "exec")
    return base64.b64encode(marshal.dumps(code)).decode()


def lambda_entry(function) -> dict:
    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "evil", "trainable": True, "dtype": "float32",
                       "function": function, "arguments": {}}}


@pytest.mark.parametrize("safe_mode", [True, False])
def test_lambda_bytecode_never_runs(saved, tmp_path, safe_mode):
    """CVE-2024-3660: a Lambda whose function is marshalled bytecode."""
    _, _, members = saved
    marker = tmp_path / "ran"
    bytecode = {"class_name": "__lambda__",
                "config": {"code": marker_code(marker), "defaults": None, "closure": None}}
    path = write_archive(tmp_path / "lambda.keras", with_config(
        members, lambda c: c["config"]["layers"].insert(2, lambda_entry(bytecode))))
    error = refused(path, "Lambda" if safe_mode else "never unmarshals Python bytecode",
                    safe_mode=safe_mode)
    assert not marker.exists() and "Nothing from the file was run" in str(error)


@pytest.mark.parametrize("entry, pattern", [
    ({"module": "os", "class_name": "system", "config": {"command": "touch x"},
      "registered_name": None}, "module 'os' and class 'system'"),
    ({"module": "subprocess", "class_name": "Popen", "config": {"args": ["ls"]},
      "registered_name": None}, "never imports a module"),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "evil>Dense",
      "config": {"units": 2}}, "'evil>Dense'.*not registered"),
    ({"module": "keras.layers", "class_name": "os.system", "config": {}}, "not a class name"),
    ({"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/"}},
     "Unknown layer: 'TFSMLayer'"),
], ids=["os.system", "subprocess", "unregistered", "dotted", "unknown-keras-layer"])
def test_config_cannot_name_modules_or_classes_outside_the_registry(saved, tmp_path, entry,
                                                                    pattern):
    """CVE-2025-1550: config.json naming an arbitrary module and function."""
    _, _, members = saved
    top = write_archive(tmp_path / "top.keras", {**members,
                                                 "config.json": json.dumps(entry).encode()})
    refused(top, pattern)
    nested = write_archive(tmp_path / "nested.keras", with_config(
        members, lambda c: c["config"]["layers"].insert(1, entry)))
    refused(nested, pattern)


@pytest.mark.parametrize("where", ["activation", "initializer", "loss"])
def test_functions_and_objects_inside_configs_are_looked_up_not_imported(saved, tmp_path,
                                                                         where):
    _, _, members = saved
    evil_function = {"module": "os", "class_name": "function", "config": "system",
                     "registered_name": "function"}
    evil_object = {"module": "posix", "class_name": "system", "config": {},
                   "registered_name": None}

    def edit(config):
        dense = config["config"]["layers"][1]["config"]
        if where == "activation":
            dense["activation"] = evil_function
        elif where == "initializer":
            dense["kernel_initializer"] = evil_object
        else:
            config["compile_config"]["loss"] = {**evil_function, "module": "builtins",
                                                "config": "eval"}

    path = write_archive(tmp_path / f"{where}.keras", with_config(members, edit))
    refused(path, "function 'system' of module 'os'|module 'posix'|Unknown loss "
                  "function: 'eval'")


@pytest.mark.parametrize("payload", [
    {"module": "keras.config", "class_name": "function",
     "config": "enable_unsafe_deserialization", "registered_name": "function"},
    {"module": "keras.config", "class_name": "enable_unsafe_deserialization", "config": {}},
], ids=["as-function", "as-class"])
def test_a_nested_config_cannot_switch_safe_mode_off(saved, tmp_path, payload):
    """CVE-2025-9906: a nested Lambda calling keras.config.enable_unsafe_deserialization."""
    _, _, members = saved
    inner = {"module": "keras", "class_name": "Sequential", "registered_name": None,
             "config": {"name": "inner", "layers": [lambda_entry(payload)]}}
    path = write_archive(tmp_path / "switch.keras", with_config(
        members, lambda c: c["config"]["layers"].insert(1, inner)))
    refused(path, "switch safe mode off", safe_mode=False)


def test_a_nested_model_cannot_hide_a_lambda_or_set_safe_mode(saved, tmp_path):
    """CVE-2025-9905: safe mode holds however deep the Lambda is, and a config cannot set
    `safe_mode` for the objects inside it."""
    _, _, members = saved
    deep = lambda_entry({"module": "builtins", "class_name": "function", "config": "print",
                         "registered_name": "function"})
    for _ in range(5):
        deep = {"module": "keras", "class_name": "Sequential", "registered_name": None,
                "config": {"name": "wrap", "layers": [deep]}}
    path = write_archive(tmp_path / "deep.keras", with_config(
        members, lambda c: c["config"]["layers"].insert(1, deep)))
    refused(path, "Lambda.*safe_mode=True")
    setter = write_archive(tmp_path / "setter.keras", with_config(
        members, lambda c: c["config"]["layers"][1]["config"].update(safe_mode=False)))
    refused(setter, "sets 'safe_mode'")


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "assets\\..\\evil.txt",
                                  "C:evil.txt", "a/../../evil.txt"])
def test_path_traversal_member_names_are_refused(saved, tmp_path, name):
    _, _, members = saved
    path = write_archive(tmp_path / "t.keras", {**members, name: b"x"})
    refused(path, "path traversal")
    assert not (tmp_path.parent / "evil.txt").exists()


def test_zip_bombs_are_refused_before_inflating(saved, tmp_path):
    _, _, members = saved
    # 80 MiB of spaces compress to under 100 KiB: more than config.json may hold.
    big = write_archive(tmp_path / "big.keras", {**members, "config.json": b" " * (80 << 20)},
                        zipfile.ZIP_DEFLATED)
    assert big.stat().st_size < 1 << 20
    refused(big, "declares 83,886,080 bytes")
    # 8 MiB that deflate 1000:1: a ratio no .keras member has.
    dense = json.loads(members["config.json"])
    padded = json.dumps(dense).encode() + b" " * (8 << 20)
    ratio = write_archive(tmp_path / "ratio.keras", {**members, "config.json": padded},
                          zipfile.ZIP_DEFLATED)
    refused(ratio, "zip bomb")


def test_weights_larger_than_the_model_can_need_are_not_read(saved, tmp_path):
    _, _, members = saved
    path = write_archive(tmp_path / "fat.keras", {**members,
                                                 "model.weights.h5": bytes(40 << 20)})
    refused(path, "more than the .* it can need")


@pytest.mark.parametrize("problem", ["duplicate", "encrypted", "many"])
def test_tampered_archives_are_refused(saved, tmp_path, problem):
    _, _, members = saved
    path = tmp_path / f"{problem}.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if problem == "duplicate":
            with pytest.warns(UserWarning, match="Duplicate name"):
                archive.writestr("config.json", b"{}")
        if problem == "many":
            for i in range(keras_file.MAX_MEMBERS):
                archive.writestr(f"assets/{i}", b"")
    if problem == "encrypted":  # zipfile cannot write the flag: set it in both headers
        data = bytearray(path.read_bytes())
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = data.find(signature)
            while start != -1:
                data[start + offset] |= 0x1
                start = data.find(signature, start + 4)
        path.write_bytes(bytes(data))
    refused(path, {"duplicate": "twice", "encrypted": "encrypted", "many": "members"}[problem])


def h5_variant(saved, tmp_path, edit):
    """The saved file with its model.weights.h5 edited by ``edit(h5file, folder)``."""
    _, _, members = saved
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as handle:
        edit(handle, tmp_path)
    return write_archive(tmp_path / "edited.keras",
                         {**members, "model.weights.h5": buffer.getvalue()})


def secret_file(folder, shape=(6, 5)):
    path = folder / "secret.h5"
    with h5py.File(path, "w") as handle:
        handle["data"] = np.full(shape, 42.0, np.float32)
    return path


def replace(handle, path, make):
    del handle[path]
    make(handle, path)


KERNEL = "layers/dense/vars/0"
H5_ATTACKS = {
    "external link to a dataset": (lambda h, d: replace(h, KERNEL, lambda h, p: h.__setitem__(
        p, h5py.ExternalLink(str(secret_file(d)), "/data"))), "ExternalLink"),
    "external link to a group": (lambda h, d: replace(h, "layers/dense", lambda h, p: (
        h.__setitem__(p, h5py.ExternalLink(str(secret_file(d)), "/")))), "ExternalLink"),
    "soft link": (lambda h, d: replace(h, KERNEL, lambda h, p: h.__setitem__(
        p, h5py.SoftLink("/layers/dense_1/vars/0"))), "SoftLink"),
    "external storage": (lambda h, d: replace(h, KERNEL, lambda h, p: h.create_dataset(
        p, (6, 5), "f4", external=[(str(secret_file(d)), 0, 120)])), "outside the file"),
    "huge declared shape": (lambda h, d: replace(h, KERNEL, lambda h, p: h.create_dataset(
        p, (1 << 24, 1 << 24), "f4", chunks=(1, 1024), compression="gzip")),
        r"shape \(16777216, 16777216\)"),
    "strings": (lambda h, d: replace(h, KERNEL, lambda h, p: h.create_dataset(
        p, (6, 5), h5py.string_dtype())), "holds object values"),
    "dataset for a group": (lambda h, d: replace(h, "layers/dense", lambda h, p: (
        h.create_dataset(p, data=[1.0]))), "should be a group of weights"),
    "group for a dataset": (lambda h, d: replace(h, KERNEL, lambda h, p: h.create_group(p)),
                            "should be a dataset"),
    "missing weight": (lambda h, d: h.__delitem__(KERNEL), r"expects 2 weights"),
    "extra weight": (lambda h, d: h.create_dataset("layers/dense/vars/2", data=[1.0]),
                     r"datasets \['0', '1', '2'\]"),
}


@pytest.mark.parametrize("attack", list(H5_ATTACKS))
def test_hdf5_tricks_are_refused_and_nothing_is_read(saved, tmp_path, attack):
    """CVE-2025-9905/9906: HDF5 links and datasets pointing at other files, and shape
    bombs, are refused before any data is read."""
    model, _, _ = saved
    edit, pattern = H5_ATTACKS[attack]
    path = h5_variant(saved, tmp_path, edit)
    refused(path, pattern)
    target = sequential()
    before = target.get_weights()
    with pytest.raises(ValueError, match=pattern):
        target.load_weights(path)
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_weights_h5_files_are_checked_the_same_way(saved, tmp_path):
    model, _, _ = saved
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as handle:
        replace(handle, KERNEL, lambda h, p: h.__setitem__(
            p, h5py.ExternalLink(str(secret_file(tmp_path)), "/data")))
    with pytest.raises(ValueError, match=f"Cannot load weights from {path}: .*ExternalLink"):
        sequential().load_weights(path)


@pytest.mark.parametrize("make, pattern, error", [
    (lambda p, m: p.write_bytes(m[:len(m) // 2]), "damaged or truncated", ValueError),
    (lambda p, m: p.write_bytes(b""), "it is empty", ValueError),
    (lambda p, m: p.write_text("not a model"), "File format not supported", ValueError),
    (lambda p, m: p.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100)), "HDF5 file",
     NotImplementedError),
    (lambda p, m: write_archive(p, {"0000:dense/kernel.npy": b""}), "save_weights",
     ValueError),
    (lambda p, m: write_archive(p, {"config.json": b"{not json"}), "not valid JSON",
     ValueError),
    (lambda p, m: write_archive(p, {"config.json": b"[1, 2]"}), "not a model config",
     ValueError),
    (lambda p, m: write_archive(p, {"config.json": b"[" * 100_000 + b"]" * 100_000}),
     "nested too deeply", ValueError),
], ids=["truncated", "empty", "text", "hdf5", "npz", "bad json", "json list", "deep json"])
def test_wrong_and_damaged_files_are_named(saved, tmp_path, make, pattern, error):
    _, good, _ = saved
    path = tmp_path / "bad.keras"
    make(path, good.read_bytes())
    refused(path, pattern, error)


def test_damaged_weights_inside_an_archive(saved, tmp_path):
    _, _, members = saved
    weights = members["model.weights.h5"]
    path = write_archive(tmp_path / "cut.keras",
                         {**members, "model.weights.h5": weights[: len(weights) // 2]})
    refused(path, r"model\.weights\.h5 is not a readable HDF5 file")
    missing = write_archive(tmp_path / "none.keras",
                            {k: v for k, v in members.items() if k != "model.weights.h5"})
    refused(missing, "has no model.weights.h5")


def test_an_optimizer_state_that_does_not_fit_is_skipped_with_a_warning(saved, tmp_path):
    model, path, _ = saved
    target = sequential()
    target.compile(optimizer="sgd", loss="mse")
    target.optimizer.build(target.trainable_weights)
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'sgd"):
        target.load_weights(path)
    same_predictions(model, target)


def test_a_member_whose_header_understates_its_size_is_read_in_bounded_steps(saved, tmp_path):
    import struct
    import tracemalloc

    _, _, members = saved
    path = write_archive(tmp_path / "lie.keras", {**members, "config.json": b" " * (48 << 20)},
                         zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        while start != -1:  # every member now claims 100 bytes
            struct.pack_into("<I", data, start + offset, 100)
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        refused(path, "cannot be read")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_members_compressed_beyond_deflate_are_refused(saved, tmp_path):
    _, _, members = saved
    path = write_archive(tmp_path / "xz.keras", members, zipfile.ZIP_LZMA)
    refused(path, "compression method 14")


@pytest.mark.parametrize("entry, pattern", [
    ({"class_name": "__typespec__", "config": {}}, "'__typespec__' entries are not supported"),
    ({"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}},
     "arrays of object are refused"),
    ({"class_name": "__numpy__", "config": {"value": [1], "dtype": "no-such-type"}},
     "is not a NumPy type"),
    ({"class_name": "__numpy__", "config": {"value": [[1], [1, 2]], "dtype": "float32"}},
     "cannot be read as float32"),
    ({"class_name": "__numpy__", "config": [1, 2]}, "needs a 'value' and a 'dtype'"),
    ({"module": "builtins", "class_name": "function", "config": {"name": "relu"}},
     "must name its function"),
    ({"module": "builtins", "class_name": "function", "config": "os.system"},
     "neither one of Keras's built-in functions"),
    ({"module": "keras.initializers", "class_name": "Zeros", "config": {},
      "registered_name": 7}, "registered_name 7 is not a string"),
], ids=["typespec", "object array", "bad dtype", "ragged", "array config", "function config",
        "dotted function", "registered name"])
def test_odd_entries_are_refused_by_name(saved, tmp_path, entry, pattern):
    _, _, members = saved
    path = write_archive(tmp_path / "odd.keras", with_config(
        members, lambda c: c["config"]["layers"][1]["config"].update(bias_initializer=entry)))
    refused(path, pattern)


def test_array_entries_and_registered_objects_inside_configs_are_rebuilt(tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    class Fill(keras.initializers.Initializer):
        def __init__(self, value=0.5):
            self.value = value

        def __call__(self, shape, dtype=None):
            return np.full(shape, self.value, dtype or "float32")

        def get_config(self):
            return {"value": self.value}

    model = keras.Sequential([layers.Input((6,)),
                              layers.Normalization(mean=np.arange(6.0), variance=np.ones(6)),
                              layers.Dense(2, kernel_initializer=Fill(0.25))])
    path = tmp_path / "m.keras"
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    dense = config["config"]["layers"][2]["config"]
    assert dense["kernel_initializer"]["registered_name"] == "tests>Fill"
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.layers[1].kernel_initializer, Fill)
    same_predictions(model, loaded)


def test_loading_folders_and_foreign_weights_files(tmp_path):
    with pytest.raises(ValueError, match="it is a folder"):
        keras.models.load_model(tmp_path)
    text = tmp_path / "w.weights.h5"
    text.write_text("not weights")
    with pytest.raises(ValueError, match=r"\.weights\.h5 file is an HDF5 file"):
        sequential().load_weights(text)
    with pytest.raises(FileNotFoundError, match="model.save"):
        keras.models.load_model(tmp_path / "missing.keras")
    sequential().save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(FileExistsError):
        sequential().save_weights(tmp_path / "w.weights.h5", overwrite=False)
    with pytest.warns(UserWarning, match="save_format"):
        sequential().save(tmp_path / "m.keras", save_format="keras")


@pytest.mark.parametrize("edit, pattern", [
    (lambda c: c.update(build_config={"input_shape": "wide"}), "is not a shape"),
    (lambda c: c.update(build_config={"input_shape": [[None, "x"]]}), "is not a shape"),
    (lambda c: c.update(build_config={"input_shape": [None, 1 << 20, 1 << 20]}),
     "too large to build from"),
    (lambda c: c.update(compile_config=["adam"]), "compile_config must be a dict"),
    (lambda c: c["config"].update(deep=json.loads("[" * 600 + "]" * 600)),
     "nested too deeply"),
], ids=["shape text", "shape entry", "huge shape", "compile list", "deep"])
def test_a_subclassed_model_config_is_checked_before_building(tmp_path, edit, pattern):
    trained(Net()).save(tmp_path / "net.keras")
    with zipfile.ZipFile(tmp_path / "net.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    path = write_archive(tmp_path / "edited.keras", with_config(members, edit))
    refused(path, pattern)


def test_include_optimizer_false_leaves_the_optimizer_out(tmp_path):
    model = trained(Net(), keras.optimizers.Adam(0.01))
    model.save(tmp_path / "m.keras", include_optimizer=False)
    tree = h5_tree(zipfile.ZipFile(tmp_path / "m.keras").read("model.weights.h5"))
    assert not any("optimizer" in name or "adam" in name for name in tree)
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert not loaded.optimizer.built or int(loaded.optimizer.iterations.numpy()) == 0
    same_predictions(model, loaded)


def test_configs_that_are_not_models(tmp_path):
    with pytest.raises(ValueError, match="cannot be parsed"):
        keras.models.model_from_json("{oops")
    with pytest.raises(ValueError, match="lacks the entry 'layers'"):
        keras.models.model_from_json(json.dumps({"class_name": "Sequential", "config": {
            "name": "s", "layers": [{"class_name": "Functional", "config": {}}]}}))
    function = {"module": "builtins", "class_name": "function", "config": "twice"}
    with pytest.raises(ValueError, match="describes function, not a model"):
        keras.models.model_from_json(json.dumps(function),
                                     custom_objects={"twice": lambda x: 2 * x})


def test_a_config_json_cannot_hold_cannot_write(tmp_path):
    class Odd(layers.Layer):
        def get_config(self):
            return {**super().get_config(), "values": {1, 2}}

    model = keras.Sequential([layers.Input((6,)), Odd()])
    with pytest.raises(TypeError, match="plain values"):
        model.save(tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []
