"""Tests of neuroflow.keras.datasets: MNIST and Fashion-MNIST loading.

The real Fashion-MNIST files come from the shared data folder beside the
repository (or Debian's /usr/share/datasets); tests that need them skip when
neither exists. The network is never touched: every test runs with a cache
and system folder inside tmp_path, and the opener replaced by a fake.
"""

from __future__ import annotations

import email.message
import gzip
import hashlib
import io
import os
import stat
import struct
import tracemalloc
import urllib.error
import urllib.response
import warnings
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neuroflow import config
from neuroflow.keras import datasets
from neuroflow.keras.datasets import _idx, fashion_mnist, mnist

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
REAL_DIRS = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fashion-mnist",
    Path("/usr/share/datasets/fashion-mnist"),
)


@pytest.fixture
def real_dir() -> Path:
    """A folder with the four real Fashion-MNIST files."""
    for folder in REAL_DIRS:
        if all((folder / name).is_file() for name in FILES):
            return folder
    pytest.skip("the Fashion-MNIST files are not available")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Cache and system folder in tmp_path; any network access fails the test."""
    monkeypatch.setattr(config.settings, "datasets_dir", tmp_path / "cache")
    monkeypatch.setattr(config.settings, "system_dataset_dirs", (tmp_path / "system",))
    monkeypatch.setattr(config.settings, "keras_datasets_dir", tmp_path / "keras" / "datasets")

    def no_network(url):
        raise AssertionError(f"the test tried to download {url}")

    monkeypatch.setattr(_idx, "_open_url", no_network)


def link_files(src: Path, dst: Path, names=FILES) -> Path:
    """Fill ``dst`` with symlinks to ``src``'s files (cheap copies of the real data)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        (dst / name).symlink_to(src / name)
    return dst


def serve(files: dict[str, bytes], requested: list[str] | None = None):
    """A fake ``_open_url`` answering with ``files[<last part of the url>]``."""

    def open_url(url):
        name = url.rsplit("/", 1)[-1]
        if requested is not None:
            requested.append(name)
        headers = email.message.Message()
        headers["Content-Length"] = str(len(files[name]))
        return urllib.response.addinfourl(io.BytesIO(files[name]), headers, url, 200)

    return open_url


def check_fashion_mnist(data) -> None:
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
        assert array.flags.writeable  # like Keras
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_train.mean() == pytest.approx(72.9404, abs=1e-4)


# ---------------------------------------------------------------------------
# Real data and the search order


def test_package_exposes_modules():
    assert datasets.fashion_mnist is fashion_mnist and datasets.mnist is mnist
    assert issubclass(datasets.DatasetNotFoundError, OSError)


def test_load_real_fashion_mnist_from_path(real_dir):
    check_fashion_mnist(fashion_mnist.load_data(path=real_dir))


def test_system_folder_is_used_when_cache_is_empty(real_dir, tmp_path):
    link_files(real_dir, tmp_path / "system" / "fashion-mnist")
    check_fashion_mnist(fashion_mnist.load_data())


def test_search_order(real_dir, tmp_path, monkeypatch):
    """path beats the cache, which beats the system folders; all before a download."""
    cache = link_files(real_dir, tmp_path / "cache" / "fashion-mnist")
    system = link_files(real_dir, tmp_path / "system" / "fashion-mnist")
    explicit = link_files(real_dir, tmp_path / "explicit")
    scanned: list[Path] = []
    real_scan = _idx._scan

    def spy(dataset, folder):
        scanned.append(folder)
        return real_scan(dataset, folder)

    monkeypatch.setattr(_idx, "_scan", spy)
    fashion_mnist.load_data(path=explicit)
    assert scanned == [explicit]

    scanned.clear()
    fashion_mnist.load_data()
    assert scanned == [cache]

    # A damaged cache is reported and skipped; the system copy is used, no download.
    scanned.clear()
    (cache / FILES[1]).unlink()
    (cache / FILES[1]).write_bytes((real_dir / FILES[1]).read_bytes()[:1000])
    with pytest.warns(RuntimeWarning, match="train-labels-idx1-ubyte.gz: truncated"):
        check_fashion_mnist(fashion_mnist.load_data())
    assert scanned == [cache, system]


def test_debian_style_recompressed_and_uncompressed_files_are_accepted(real_dir, tmp_path):
    """Debian rewrites gzip headers (the .gz hash changes) and may ship plain files."""
    folder = link_files(real_dir, tmp_path / "debian", FILES[::2])  # the image files
    labels = gzip.decompress((real_dir / FILES[1]).read_bytes())
    (folder / FILES[1]).write_bytes(gzip.compress(labels, mtime=0))
    assert hashlib.sha256((folder / FILES[1]).read_bytes()).hexdigest() != (
        fashion_mnist.FASHION_MNIST.files[1].gz_sha256
    )
    (folder / "t10k-labels-idx1-ubyte").write_bytes(
        gzip.decompress((real_dir / FILES[3]).read_bytes())
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_fashion_mnist(fashion_mnist.load_data(path=folder))


# ---------------------------------------------------------------------------
# Damaged and wrong files


@pytest.mark.parametrize("keep", [10, 5000, None])
def test_truncated_gz_is_rejected(real_dir, tmp_path, keep):
    folder = link_files(real_dir, tmp_path / "data", FILES[1:])
    data = (real_dir / FILES[0]).read_bytes()
    (folder / FILES[0]).write_bytes(data[: keep or len(data) - 3])
    with pytest.raises(datasets.CorruptDatasetError) as caught:
        fashion_mnist.load_data(path=folder)
    message = str(caught.value)
    assert str(folder / FILES[0]) in message
    assert "truncated" in message or "damaged" in message


def test_wrong_magic_is_rejected(real_dir, tmp_path):
    folder = link_files(real_dir, tmp_path / "data", FILES[:3])
    labels = bytearray(gzip.decompress((real_dir / FILES[3]).read_bytes()))
    labels[2:4] = b"\x08\x03"  # 2051, the magic of an image file
    (folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    with pytest.raises(
        datasets.CorruptDatasetError, match=r"t10k-labels-idx1-ubyte: IDX magic number is 2051"
    ):
        fashion_mnist.load_data(path=folder)


def test_file_of_another_dataset_is_rejected(real_dir, tmp_path):
    """Right format and size, different content: e.g. MNIST in the Fashion-MNIST folder."""
    folder = link_files(real_dir, tmp_path / "data", FILES[:3])
    labels = bytearray(gzip.decompress((real_dir / FILES[3]).read_bytes()))
    labels[8] = (labels[8] + 1) % 10
    (folder / FILES[3]).write_bytes(gzip.compress(bytes(labels)))
    with pytest.raises(datasets.CorruptDatasetError, match="content differs from the official"):
        fashion_mnist.load_data(path=folder)


def gzip_of(header: bytes, zeros: int) -> bytes:
    """A valid gzip file holding ``header`` then ``zeros`` zero bytes (deflate packs ~1000:1)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    block = bytes(1 << 20)
    parts = [deflate.compress(header)]
    parts += [deflate.compress(block) for _ in range(zeros // len(block))]
    parts.append(deflate.compress(bytes(zeros % len(block))))
    return b"".join(parts) + deflate.flush()


@pytest.mark.parametrize(
    "header, message",
    [
        # The labels' own header, then 64 MB of zeros where 10,000 bytes belong.
        (struct.pack(">II", 2049, 10000), "trailing bytes: the file holds more than the 10000"),
        # A header that declares a billion labels: rejected before the body is inflated.
        (struct.pack(">II", 2049, 10**9), r"IDX header declares shape \(1000000000,\)"),
    ],
    ids=["zeros past the declared size", "a header declaring a billion labels"],
)
def test_gzip_bomb_is_rejected_without_inflating_it(tmp_path, header, message):
    folder = tmp_path / "data"
    folder.mkdir()
    bomb = folder / "t10k-labels-idx1-ubyte.gz"
    bomb.write_bytes(gzip_of(header, 64 << 20))
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(datasets.CorruptDatasetError, match=message) as caught:
            fashion_mnist.load_data(path=folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{bomb}: " in str(caught.value)
    assert peak < 4 << 20, f"reading the bomb took {peak / 1e6:.0f} MB"


def labels_file(count: int = 10000) -> bytes:
    """An IDX labels file (header and body) of ``count`` labels."""
    return struct.pack(">II", 2049, count) + bytes(i % 10 for i in range(count))


@pytest.mark.parametrize(
    "content, message",
    [
        (gzip.compress(labels_file()[:-5]), "truncated: 9995 bytes after the header, the header "
         "declares 10000"),
        (labels_file() + b"\0", "trailing bytes"),  # uncompressed, one byte too many
        (gzip.compress(labels_file()) + b"garbage", "damaged gzip data"),
        (gzip.compress(labels_file()[:5]), "only 5 bytes, less than an IDX header"),
    ],
    ids=["short body", "trailing byte", "trailing garbage", "short header"],
)
def test_wrong_sizes_are_rejected(tmp_path, content, message):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(content)
    with pytest.raises(datasets.CorruptDatasetError, match=message):
        fashion_mnist.load_data(path=folder)


def test_multi_member_gzip_with_zero_padding_is_accepted(real_dir, tmp_path):
    """gzip's own rules: members are concatenated and zero padding may follow the last."""
    folder = link_files(real_dir, tmp_path / "data", FILES[:3])
    labels = gzip.decompress((real_dir / FILES[3]).read_bytes())
    members = [gzip.compress(labels[:3]), gzip.compress(labels[3:6000]), gzip.compress(b"")]
    members.append(gzip.compress(labels[6000:]))
    (folder / FILES[3]).write_bytes(b"".join(members) + bytes(3 << 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_fashion_mnist(fashion_mnist.load_data(path=folder))


def test_missing_path_and_missing_files(tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError, match="does not exist"):
        fashion_mnist.load_data(path=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(datasets.DatasetNotFoundError, match="missing train-images-idx3-ubyte"):
        fashion_mnist.load_data(path=tmp_path / "empty")


# ---------------------------------------------------------------------------
# Download


def test_offline_error_lists_every_place(tmp_path, monkeypatch):
    def offline(url):
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(_idx, "_open_url", offline)
    with pytest.raises(datasets.DatasetNotFoundError) as caught:
        fashion_mnist.load_data()
    message = str(caught.value)
    assert isinstance(caught.value, OSError)
    for expected in (
        str(tmp_path / "cache" / "fashion-mnist"),
        str(tmp_path / "system" / "fashion-mnist"),
        "no network here",
        "path=",
        "NEUROFLOW_DATASETS",
        "apt-get install dataset-fashion-mnist",
    ):
        assert expected in message
    assert not (tmp_path / "cache").exists()  # an offline attempt leaves nothing behind


def test_download_lands_in_cache_atomically(real_dir, tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache" / "fashion-mnist"
    files = {name: (real_dir / name).read_bytes() for name in FILES}
    replaced: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy_replace(src, dst):
        # The final name must not exist before the verified file is moved there.
        assert not Path(dst).exists() and Path(src).parent == Path(dst).parent
        replaced.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(_idx, "_open_url", serve(files))
    monkeypatch.setattr(_idx.os, "replace", spy_replace)
    check_fashion_mnist(fashion_mnist.load_data())
    assert [dst for _, dst in replaced] == [cache / name for name in FILES]
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)  # no leftover temp file
    for name in FILES:
        assert (cache / name).read_bytes() == files[name]
    assert "Downloading data from" in capsys.readouterr().err


def test_wrong_hash_download_is_rejected(real_dir, tmp_path, monkeypatch):
    files = {name: (real_dir / name).read_bytes() for name in FILES}
    files[FILES[0]] = files[FILES[0]][:-1] + b"\0"  # altered in transit
    monkeypatch.setattr(_idx, "_open_url", serve(files))
    with pytest.raises(datasets.DatasetNotFoundError, match="SHA-256"):
        fashion_mnist.load_data()
    cache = tmp_path / "cache" / "fashion-mnist"
    assert list(cache.iterdir()) == []  # neither the file nor a temporary


class InterruptedResponse:
    """A download the user interrupts (Ctrl-C) after its first megabyte."""

    headers = email.message.Message()

    def __init__(self):
        self.chunks = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, size=-1):
        self.chunks += 1
        if self.chunks > 1:
            raise KeyboardInterrupt
        return bytes(1 << 20)


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_idx, "_open_url", lambda url: InterruptedResponse())
    with pytest.raises(KeyboardInterrupt):
        fashion_mnist.load_data()
    assert list((tmp_path / "cache" / "fashion-mnist").iterdir()) == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_cached_download_gets_the_mode_the_umask_gives(tmp_path, monkeypatch, umask, mode):
    source = tmp_path / "source"
    synthetic_mnist(source)
    payload = (source / "mnist.npz").read_bytes()
    monkeypatch.setattr(_idx, "_open_url", serve({"mnist.npz": payload}))
    sha = hashlib.sha256(payload).hexdigest()
    monkeypatch.setattr(mnist, "MNIST", replace(mnist.MNIST, npz_sha256=sha))
    previous = os.umask(umask)
    try:
        mnist.load_data()
    finally:
        os.umask(previous)
    cached = tmp_path / "cache" / "mnist" / "mnist.npz"
    assert stat.S_IMODE(cached.stat().st_mode) == mode


def test_corrupt_cached_file_is_reported_and_downloaded_again(real_dir, tmp_path, monkeypatch):
    cache = link_files(real_dir, tmp_path / "cache" / "fashion-mnist", FILES[1:])
    (cache / FILES[0]).write_bytes((real_dir / FILES[0]).read_bytes()[:100_000])
    requested: list[str] = []
    files = {name: (real_dir / name).read_bytes() for name in FILES}
    monkeypatch.setattr(_idx, "_open_url", serve(files, requested))
    with pytest.warns(RuntimeWarning, match="train-images-idx3-ubyte.gz: truncated"):
        check_fashion_mnist(fashion_mnist.load_data())
    assert requested == [FILES[0]]  # only the damaged file is fetched again
    assert (cache / FILES[0]).read_bytes() == files[FILES[0]]


# ---------------------------------------------------------------------------
# MNIST


def synthetic_mnist(folder: Path, name: str = "mnist.npz"):
    """A small, valid mnist.npz; returns its arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 12, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 5, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / name, **arrays)
    return arrays


def check_same(data, arrays) -> None:
    (x_train, y_train), (x_test, y_test) = data
    for got, key in (
        (x_train, "x_train"),
        (y_train, "y_train"),
        (x_test, "x_test"),
        (y_test, "y_test"),
    ):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8 and got.flags.writeable


def test_mnist_npz_through_path(tmp_path):
    arrays = synthetic_mnist(tmp_path / "data")
    check_same(mnist.load_data(path=tmp_path / "data" / "mnist.npz"), arrays)
    check_same(mnist.load_data(path=str(tmp_path / "data")), arrays)


def test_mnist_keras_style_name_searches_the_cache(tmp_path, monkeypatch):
    arrays = synthetic_mnist(tmp_path / "cache" / "mnist")
    monkeypatch.chdir(tmp_path)
    check_same(mnist.load_data(path="mnist.npz"), arrays)
    check_same(mnist.load_data(), arrays)


def test_mnist_accepts_idx_files(real_dir, tmp_path):
    """Any folder with the four IDX files will do (here: Fashion-MNIST's, same format)."""
    link_files(real_dir, tmp_path / "system" / "mnist")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and y_test.shape == (10000,)


def test_mnist_bad_npz_is_rejected(tmp_path):
    synthetic_mnist(tmp_path / "data")
    npz = tmp_path / "data" / "mnist.npz"
    npz.write_bytes(npz.read_bytes()[:-40])
    with pytest.raises(datasets.CorruptDatasetError, match="mnist.npz: not a readable .npz"):
        mnist.load_data(path=npz)
    np.savez(npz, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(datasets.CorruptDatasetError, match="no array y_train, x_test, y_test"):
        mnist.load_data(path=npz)


def test_mnist_download_checks_sha(tmp_path, monkeypatch):
    source = tmp_path / "source"
    arrays = synthetic_mnist(source)
    payload = (source / "mnist.npz").read_bytes()
    monkeypatch.setattr(_idx, "_open_url", serve({"mnist.npz": payload}))
    # The official hash does not match the synthetic file: rejected, nothing cached.
    with pytest.raises(datasets.DatasetNotFoundError, match="SHA-256"):
        mnist.load_data()
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []
    # With the synthetic file's own hash it is accepted and cached.
    sha = hashlib.sha256(payload).hexdigest()
    monkeypatch.setattr(mnist, "MNIST", replace(mnist.MNIST, npz_sha256=sha))
    check_same(mnist.load_data(), arrays)
    assert (tmp_path / "cache" / "mnist" / "mnist.npz").read_bytes() == payload
