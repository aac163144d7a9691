"""Tests of keras.datasets.cifar10 / cifar100, and of Keras's cache for MNIST-style data.

The network is never touched and no real CIFAR file is needed: every test writes
small files with the official layout (Python-2-era pickles of dicts with byte-string
keys, ``data`` a uint8 ``(n, 3072)`` array, labels as lists) into tmp_path, which
also holds the neuroflow cache, Keras's cache (``KERAS_HOME``) and the system folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import pickletools
import struct
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neuroflow import config
from neuroflow.keras import datasets
from neuroflow.keras.datasets import _cifar, _idx, cifar10, cifar100, fashion_mnist, mnist

C10_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every cache in tmp_path; any network access fails the test."""
    monkeypatch.setattr(config.settings, "datasets_dir", tmp_path / "cache")
    monkeypatch.setattr(config.settings, "system_dataset_dirs", (tmp_path / "system",))
    monkeypatch.setattr(config.settings, "keras_datasets_dir", tmp_path / "keras" / "datasets")

    def no_network(url):
        raise AssertionError(f"the test tried to download {url}")

    monkeypatch.setattr(_idx, "_open_url", no_network)


# ---------------------------------------------------------------------------
# Writing files as the official ones were written


class _Py2Pickler(pickle._Pickler):
    """Pickles as Python 2's cPickle did (protocol 2): every string is a byte string
    (BINSTRING), and NumPy's ``_reconstruct`` is named by NumPy 1's module."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_py2_str(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = _save_py2_str
    dispatch[bytes] = _save_py2_str

    def save_global(self, obj, name=None):
        if obj is _cifar._RECONSTRUCT:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
        else:
            super().save_global(obj, name)


def py2_pickle(obj) -> bytes:
    out = io.BytesIO()
    _Py2Pickler(out, protocol=2).dump(obj)
    return out.getvalue()


def rows_of(images: np.ndarray) -> np.ndarray:
    """``(n, 32, 32, 3)`` images as the files store them: ``(n, 3072)``, channel planes."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), 3072)


def batch_bytes(images: np.ndarray, **labels) -> bytes:
    content = {b"batch_label": b"synthetic batch", b"data": rows_of(images),
               b"filenames": [b"img_%d.png" % i for i in range(len(images))]}
    content.update({key.encode(): [int(v) for v in value] for key, value in labels.items()})
    return py2_pickle(content)


def random_images(rng, n):
    return rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def cifar10_files(seed=0, per_batch=3, n_test=4):
    """{file name: bytes} of a small CIFAR-10, and the arrays it must load as."""
    rng = np.random.default_rng(seed)
    files, xs, ys = {}, [], []
    for name in C10_TRAIN + ["test_batch"]:
        n = n_test if name == "test_batch" else per_batch
        x, y = random_images(rng, n), rng.integers(0, 10, n)
        files[name] = batch_bytes(x, labels=y)
        xs.append(x)
        ys.append(y)
    arrays = ((np.concatenate(xs[:5]), np.concatenate(ys[:5])), (xs[5], ys[5]))
    return files, arrays


def cifar100_files(seed=0, n_train=5, n_test=3):
    rng = np.random.default_rng(seed)
    files, arrays = {}, {}
    for name, n in (("train", n_train), ("test", n_test)):
        x, fine = random_images(rng, n), rng.integers(0, 100, n)
        coarse = rng.integers(0, 20, n)
        files[name] = batch_bytes(x, fine_labels=fine, coarse_labels=coarse)
        arrays[name] = (x, fine, coarse)
    files["meta"] = py2_pickle({b"fine_label_names": [b"apple"] * 100})
    return files, arrays


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def tar_bytes(members: dict[str, bytes], mode="w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def archive_of(inner: str, files: dict[str, bytes], mode="w:gz") -> bytes:
    return tar_bytes({f"{inner}/{name}": data for name, data in files.items()}, mode)


def check10(loaded, arrays):
    (x_train, y_train), (x_test, y_test) = loaded
    (ex_train, ey_train), (ex_test, ey_test) = arrays
    for got, want in ((x_train, ex_train), (x_test, ex_test)):
        assert got.dtype == np.uint8 and got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)
    for got, want in ((y_train, ey_train), (y_test, ey_test)):
        assert got.dtype == np.uint8 and got.shape == (len(want), 1)
        np.testing.assert_array_equal(got[:, 0], want)


# ---------------------------------------------------------------------------
# The pickle format and the unpickler


def test_official_style_pickles_need_only_the_numpy_globals():
    """The globals an official-style batch names: exactly the three that are allowed."""
    files, _ = cifar10_files()
    named = set()
    for opcode, arg, _pos in pickletools.genops(files["data_batch_1"]):
        if opcode.name == "GLOBAL":
            named.add(tuple(arg.split(" ")))
    assert named == {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
                     ("numpy", "dtype")}
    assert named <= set(_cifar._ALLOWED_GLOBALS)
    # Files re-saved by Python 3 and NumPy 2 name NumPy 2's module; that is allowed too.
    modern = pickle.dumps({"data": np.zeros((1, 3072), np.uint8)}, protocol=2)
    modern_globals = {tuple(arg.split(" ")) for op, arg, _ in pickletools.genops(modern)
                      if op.name == "GLOBAL"}
    assert {g for g in modern_globals if g[1] == "_reconstruct"} <= set(_cifar._ALLOWED_GLOBALS)


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    files, _ = cifar10_files()
    marker = tmp_path / "pwned"
    files["data_batch_3"] = py2_pickle({b"data": _Exploit(marker), b"labels": [0]})
    folder = write_folder(tmp_path / "evil" / "cifar-10-batches-py", files)
    with pytest.raises(datasets.CorruptDatasetError) as caught:
        cifar10.load_data(path=folder)
    message = str(caught.value)
    assert "data_batch_3" in message and "refused" in message
    assert f"{os.system.__module__}.system" in message
    assert not marker.exists()


@pytest.mark.parametrize("target", [("builtins", "eval"), ("subprocess", "Popen"),
                                    ("numpy", "load"), ("numpy.lib.npyio", "load")])
def test_only_the_array_globals_are_allowed(target):
    module, name = target
    payload = pickle.PROTO + b"\x02" + pickle.GLOBAL + f"{module}\n{name}\n".encode() + b"."
    with pytest.raises(_cifar._BadFile, match=f"`{module}.{name}`"):
        _cifar._unpickle(payload, "test_batch")


def test_malicious_cache_file_is_skipped_with_a_warning(tmp_path):
    good, arrays = cifar10_files(seed=1)
    evil = dict(good)
    evil["test_batch"] = py2_pickle({b"data": _Exploit(tmp_path / "pwned")})
    write_folder(tmp_path / "cache" / "cifar-10-batches-py", evil)
    write_folder(tmp_path / "keras" / "datasets" / "cifar-10-batches-py", good)
    with pytest.warns(RuntimeWarning, match="test_batch: refused"):
        check10(cifar10.load_data(), arrays)
    assert not (tmp_path / "pwned").exists()


# ---------------------------------------------------------------------------
# Layouts and search order


def test_cifar10_from_an_explicit_folder(tmp_path):
    files, arrays = cifar10_files()
    inner = write_folder(tmp_path / "data" / "cifar-10-batches-py", files)
    check10(cifar10.load_data(path=inner), arrays)  # the pickles' own folder
    check10(cifar10.load_data(path=str(inner.parent)), arrays)  # the folder holding it


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w"])
def test_cifar10_from_the_archive_without_extracting(tmp_path, mode):
    files, arrays = cifar10_files()
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(archive_of("cifar-10-batches-py", files, mode))
    check10(cifar10.load_data(path=archive), arrays)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-python.tar.gz"]
    check10(cifar10.load_data(path=tmp_path), arrays)  # a folder holding the archive


@pytest.mark.parametrize("layout", [
    "cifar-10-batches-py-target/cifar-10-batches-py",  # Keras 3 extracted
    "cifar-10-batches-py",  # tf.keras 2 extracted
    "cifar-10-batches-py-target_archive",  # Keras 3's archive
    "cifar-10-batches-py.tar.gz",  # tf.keras 2's archive
])
def test_cifar10_reuses_keras_cache(tmp_path, layout):
    files, arrays = cifar10_files(seed=2)
    target = tmp_path / "keras" / "datasets" / layout
    if layout.endswith(("_archive", ".tar.gz")):
        target.parent.mkdir(parents=True)
        target.write_bytes(archive_of("cifar-10-batches-py", files))
    else:
        write_folder(target, files)
    check10(cifar10.load_data(), arrays)


def test_keras_cache_is_where_keras_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert config._keras_datasets_dir() == tmp_path / "home" / ".keras" / "datasets"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert config._keras_datasets_dir() == tmp_path / "kh" / "datasets"


def test_search_order_cache_then_keras_then_system(tmp_path):
    cache_files, cache_arrays = cifar10_files(seed=3)
    keras_files, keras_arrays = cifar10_files(seed=4)
    system_files, system_arrays = cifar10_files(seed=5)
    cache = write_folder(tmp_path / "cache" / "cifar-10-batches-py", cache_files)
    keras = tmp_path / "keras" / "datasets" / "cifar-10-batches-py-target_archive"
    keras.parent.mkdir(parents=True)
    keras.write_bytes(archive_of("cifar-10-batches-py", keras_files))
    write_folder(tmp_path / "system" / "cifar-10-batches-py", system_files)
    check10(cifar10.load_data(), cache_arrays)
    for name in cache_files:
        (cache / name).unlink()
    check10(cifar10.load_data(), keras_arrays)
    keras.unlink()
    check10(cifar10.load_data(), system_arrays)


def test_extracted_folder_beats_archive_and_a_bad_one_falls_back(tmp_path):
    files, arrays = cifar10_files(seed=6)
    other, other_arrays = cifar10_files(seed=7)
    cache = write_folder(tmp_path / "cache" / "cifar-10-batches-py", files)
    (tmp_path / "cache" / "cifar-10-python.tar.gz").write_bytes(
        archive_of("cifar-10-batches-py", other))
    check10(cifar10.load_data(), arrays)
    (cache / "data_batch_2").write_bytes(files["data_batch_2"][:-100])
    with pytest.warns(RuntimeWarning, match="data_batch_2: not a readable pickle"):
        check10(cifar10.load_data(), other_arrays)


def test_cifar100_fine_and_coarse(tmp_path):
    files, arrays = cifar100_files()
    archive = tmp_path / "keras" / "datasets" / "cifar-100-python-target_archive"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(archive_of("cifar-100-python", files))
    for mode, column in (("fine", 1), ("coarse", 2)):
        (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=mode)
        for got_x, got_y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
            want = arrays[split]
            assert got_x.dtype == np.uint8 and got_x.shape == want[0].shape
            np.testing.assert_array_equal(got_x, want[0])
            assert got_y.dtype == np.int64 and got_y.shape == (len(want[0]), 1)
            np.testing.assert_array_equal(got_y[:, 0], want[column])
    folder = write_folder(tmp_path / "c100" / "cifar-100-python", files)
    (_, y_train), _ = cifar100.load_data("coarse", path=folder)
    np.testing.assert_array_equal(y_train[:, 0], arrays["train"][2])


@pytest.mark.parametrize("mode", ["Fine", "", None, ["fine"]])
def test_cifar100_bad_label_mode(mode):
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode=mode)


def test_data_as_lists_is_accepted(tmp_path):
    rng = np.random.default_rng(8)
    files, arrays = {}, {}
    for name, n in (("train", 2), ("test", 1)):
        x = random_images(rng, n)
        files[name] = py2_pickle({b"data": rows_of(x).tolist(), b"fine_labels": [3] * n,
                                  b"coarse_labels": [1] * n})
        arrays[name] = x
    folder = write_folder(tmp_path / "cifar-100-python", files)
    (x_train, y_train), (x_test, _) = cifar100.load_data(path=folder)
    assert x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["train"])
    np.testing.assert_array_equal(x_test, arrays["test"])
    np.testing.assert_array_equal(y_train[:, 0], [3, 3])


# ---------------------------------------------------------------------------
# Damaged files and archives


def _explicit_error(tmp_path, files) -> str:
    folder = write_folder(tmp_path / "bad" / "cifar-10-batches-py", files)
    with pytest.raises(datasets.CorruptDatasetError) as caught:
        cifar10.load_data(path=folder)
    return str(caught.value)


@pytest.mark.parametrize("damage, expected", [
    (lambda f: f.pop("data_batch_4"), "data_batch_4 is missing"),
    (lambda f: f.update(test_batch=f["test_batch"][:50]), "test_batch: not a readable pickle"),
    (lambda f: f.update(test_batch=b"garbage"), "test_batch: not a readable pickle"),
    (lambda f: f.update(test_batch=py2_pickle([1, 2])), "test_batch holds a list"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": np.zeros((1, 3072), np.uint8)})),
     "test_batch has no labels"),
    (lambda f: f.update(test_batch=batch_bytes(np.zeros((2, 32, 32, 3), np.uint8),
                                               labels=[1, 10])), "0..9"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": np.zeros((2, 3000), np.uint8),
                                               b"labels": [0, 0]})), "(n, 3072)"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": np.zeros((2, 3072), np.float32),
                                               b"labels": [0, 0]})), "float32, expected uint8"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": [[300] * 3072], b"labels": [0]})),
     "integers 0..255"),
    (lambda f: f.update(test_batch=batch_bytes(np.zeros((2, 32, 32, 3), np.uint8),
                                               labels=[1])), "2 images but 1 labels"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": [[0] * 3072, [0]], b"labels": [0, 0]})),
     "data is not an array of pixel values"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": np.zeros((2, 3072), np.uint8),
                                               b"labels": [[0], [1, 2]]})),
     "labels is not a list of integers"),
    (lambda f: f.update(test_batch=py2_pickle({b"data": np.zeros((2, 3072), np.uint8),
                                               b"labels": [0.5, 1.0]})),
     "labels must be a list of integers, received float64"),
])
def test_damaged_files_are_reported_by_name(tmp_path, damage, expected):
    files, _ = cifar10_files()
    damage(files)
    message = _explicit_error(tmp_path, files)
    assert expected in message
    assert "cifar-10-python.tar.gz" in message  # says how to fix it


def test_oversized_file_is_not_read(tmp_path, monkeypatch):
    files, _ = cifar10_files()
    monkeypatch.setattr(cifar10, "CIFAR10", replace(cifar10.CIFAR10, max_file_mb=0))
    assert "larger than any CIFAR-10 file" in _explicit_error(tmp_path, files)
    archive = tmp_path / "c.tar.gz"
    archive.write_bytes(archive_of("cifar-10-batches-py", files))
    with pytest.raises(datasets.CorruptDatasetError, match="larger than any CIFAR-10 file"):
        cifar10.load_data(path=archive)


@pytest.mark.parametrize("member", ["../evil", "/etc/evil", "cifar-10-batches-py/../../x"])
def test_archive_with_unsafe_member_path_is_rejected(tmp_path, member):
    files, _ = cifar10_files()
    members = {f"cifar-10-batches-py/{name}": data for name, data in files.items()}
    members[member] = b"x"
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(tar_bytes(members))
    with pytest.raises(datasets.CorruptDatasetError, match="unsafe path"):
        cifar10.load_data(path=archive)


def test_archive_link_member_and_missing_member_are_rejected(tmp_path):
    files, _ = cifar10_files()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            if name == "test_batch":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(out.getvalue())
    with pytest.raises(datasets.CorruptDatasetError, match="test_batch is not a regular file"):
        cifar10.load_data(path=archive)
    del files["data_batch_5"]
    archive.write_bytes(archive_of("cifar-10-batches-py", files))
    with pytest.raises(datasets.CorruptDatasetError, match="no cifar-10-batches-py/data_batch_5"):
        cifar10.load_data(path=archive)
    archive.write_bytes(archive_of("cifar-10-batches-py", files)[:300])
    with pytest.raises(datasets.CorruptDatasetError, match="not a readable tar archive"):
        cifar10.load_data(path=archive)


def test_archive_with_a_member_twice_is_rejected(tmp_path):
    files, _ = cifar10_files()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name in [*files, "test_batch"]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(out.getvalue())
    with pytest.raises(datasets.CorruptDatasetError, match="test_batch twice"):
        cifar10.load_data(path=archive)


def test_explicit_path_that_holds_nothing(tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError, match="does not exist"):
        cifar10.load_data(path=tmp_path / "nowhere")
    with pytest.raises(datasets.DatasetNotFoundError, match="holds neither"):
        cifar10.load_data(path=tmp_path)


# ---------------------------------------------------------------------------
# Not found, and the download


def test_offline_error_lists_every_place(tmp_path, monkeypatch):
    import urllib.error

    def offline(url):
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(_idx, "_open_url", offline)
    with pytest.raises(datasets.DatasetNotFoundError) as caught:
        cifar100.load_data()
    message = str(caught.value)
    for expected in (str(tmp_path / "cache"), str(tmp_path / "keras" / "datasets"),
                     str(tmp_path / "system"), "no network here", "path=",
                     "cifar-100-python.tar.gz", "NEUROFLOW_DATASETS",
                     "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"):
        assert expected in message
    assert not (tmp_path / "cache").exists()


def _serve(payload: bytes, requested: list[str]):
    def opener(url):
        requested.append(url)
        return io.BytesIO(payload)

    return opener


def test_download_is_checked_then_read_in_place(tmp_path, monkeypatch):
    files, arrays = cifar10_files(seed=9)
    payload = archive_of("cifar-10-batches-py", files)
    requested: list[str] = []
    monkeypatch.setattr(_idx, "_open_url", _serve(payload, requested))
    # The official hash does not match the synthetic archive: rejected, nothing kept.
    with pytest.raises(datasets.DatasetNotFoundError, match="SHA-256"):
        cifar10.load_data()
    assert requested == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert not (tmp_path / "cache" / "cifar-10-python.tar.gz").exists()
    sha = hashlib.sha256(payload).hexdigest()
    monkeypatch.setattr(cifar10, "CIFAR10", replace(cifar10.CIFAR10, sha256=sha))
    check10(cifar10.load_data(), arrays)
    assert (tmp_path / "cache" / "cifar-10-python.tar.gz").read_bytes() == payload
    requested.clear()
    check10(cifar10.load_data(), arrays)  # the cached archive: no second download
    assert requested == []


# ---------------------------------------------------------------------------
# Keras's cache for the MNIST-style datasets


def test_mnist_npz_in_keras_cache_is_used(tmp_path):
    rng = np.random.default_rng(10)
    arrays = {"x_train": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 3).astype(np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 2).astype(np.uint8)}
    keras_dir = tmp_path / "keras" / "datasets"
    keras_dir.mkdir(parents=True)
    np.savez(keras_dir / "mnist.npz", **arrays)  # where Keras's mnist.load_data keeps it
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_fashion_mnist_in_keras_cache_is_used(tmp_path):
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    real = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fashion-mnist"
    if not all((real / name).is_file() for name in names):
        real = Path("/usr/share/datasets/fashion-mnist")
    if not all((real / name).is_file() for name in names):
        pytest.skip("the Fashion-MNIST files are not available")
    folder = tmp_path / "keras" / "datasets" / "fashion-mnist"  # Keras's cache_subdir
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).symlink_to(real / name)
    (x_train, y_train), (x_test, _) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)


def test_mnist_offline_message_names_keras_cache(tmp_path, monkeypatch):
    import urllib.error

    def offline(url):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(_idx, "_open_url", offline)
    with pytest.raises(datasets.DatasetNotFoundError) as caught:
        mnist.load_data()
    assert f"{tmp_path / 'keras' / 'datasets'} (Keras's cache): no such folder" in str(
        caught.value)


# ---------------------------------------------------------------------------
# The oracle: Keras's own loaders on the same files


@pytest.mark.tensorflow
def test_same_arrays_as_keras(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    keras_cifar10 = pytest.importorskip("keras.src.datasets.cifar10")
    keras_cifar100 = pytest.importorskip("keras.src.datasets.cifar100")
    # Keras's loaders want all 50,000 CIFAR-10 training images; CIFAR-100's take any count.
    files, _ = cifar10_files(per_batch=10000, n_test=7)
    c10 = write_folder(tmp_path / "c10" / "cifar-10-batches-py", files)
    files, _ = cifar100_files(n_train=6, n_test=4)
    c100 = write_folder(tmp_path / "c100" / "cifar-100-python", files)
    # Keras would download; point it at the folders (the path it returns holds the inner one).
    monkeypatch.setattr(keras_cifar10, "get_file", lambda *a, **k: str(c10.parent))
    monkeypatch.setattr(keras_cifar100, "get_file", lambda *a, **k: str(c100.parent))
    cases = [(keras_cifar10.load_data(), cifar10.load_data(path=c10))]
    for mode in ("fine", "coarse"):
        cases.append((keras_cifar100.load_data(mode), cifar100.load_data(mode, path=c100)))
    for theirs, ours in cases:
        for want, got in zip(sum(theirs, ()), sum(ours, ())):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
