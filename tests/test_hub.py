"""``neuroflow.hub``: handles, the download cache, checksums, safe extraction, KerasLayer.

Downloads come from an HTTP server on the loopback address, in a thread, serving archives
the tests make; nothing touches the network. Every refusal must leave the cache without
the entry (and without hidden leftovers).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")

import neuroflow.hub as hub  # noqa: E402
from neuroflow import config, keras  # noqa: E402
from neuroflow.hub import archives, resolver  # noqa: E402
from neuroflow.keras import layers  # noqa: E402
from neuroflow.util.files import folder_written_atomically  # noqa: E402

RNG = np.random.default_rng(5)
X = RNG.normal(size=(32, 6)).astype(np.float32)
Y = RNG.integers(0, 3, size=32)


# --- the server -------------------------------------------------------------------------


class Server:
    """Serves ``routes``: path -> bytes, an HTTP status, or ("cut", bytes) to send half of
    the bytes under a Content-Length announcing all of them. Records every path asked."""

    def __init__(self):
        self.routes: dict[str, object] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                server.requests.append(self.path)
                route = server.routes.get(self.path, 404)
                if isinstance(route, int):
                    self.send_error(route)
                    return
                cut = isinstance(route, tuple)
                body = route[1] if cut else route
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) // 2] if cut else body)
                if cut:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, path: str, data: bytes, checksum: bool = True) -> str:
        self.routes[path] = data
        if checksum:
            self.routes[path + ".sha256"] = f"{sha256(data)}  {path.rsplit('/', 1)[-1]}\n" \
                .encode()
        return self.base + path


@pytest.fixture(scope="module")
def server():
    serving = Server()
    yield serving
    serving.httpd.shutdown()
    serving.httpd.server_close()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch, server):
    folder = tmp_path / "hub-cache"
    monkeypatch.setattr(config.settings, "hub_cache_dir", folder)
    server.routes.clear()
    server.requests.clear()
    return folder


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_is_empty(cache: Path) -> bool:
    return not cache.exists() or not any(cache.iterdir())


# --- models and archives ------------------------------------------------------------------


def small_model(seed: int = 0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                             layers.Dropout(0.5), layers.Dense(4)])


def keras_bytes(model, tmp_path: Path, name: str = "m.keras") -> bytes:
    path = tmp_path / name
    model.save(path)
    return path.read_bytes()


def tar_gz(members: dict[str, bytes], links: dict[str, tuple[bytes, str]] | None = None
           ) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
            info.size = 0 if info.isdir() else len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            archive.addfile(info)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def same_predictions(a, b) -> None:
    np.testing.assert_allclose(a.predict(X, verbose=0), b.predict(X, verbose=0),
                               rtol=1e-6, atol=1e-6)


# --- local handles ---------------------------------------------------------------------------


def test_local_file_and_folder_handles_load_the_model(tmp_path):
    model = small_model()
    folder = tmp_path / "published"
    folder.mkdir()
    model.save(folder / "extractor.keras")
    for handle in (folder / "extractor.keras", str(folder), str(folder / "extractor.keras")):
        loaded = hub.load(handle)
        same_predictions(loaded, model)
        assert not loaded.compiled
    assert hub.resolve(str(folder)) == str(folder)


def test_local_handles_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such model"):
        hub.load(tmp_path / "missing.keras")
    two = tmp_path / "two"
    two.mkdir()
    small_model().save(two / "a.keras")
    small_model().save(two / "b.keras")
    with pytest.raises(ValueError, match="holds 2 .keras files"):
        hub.load(two)
    saved_model = tmp_path / "saved"
    saved_model.mkdir()
    (saved_model / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(ValueError, match="SavedModel"):
        hub.load(saved_model)
    archive = tmp_path / "m.tar.gz"
    archive.write_bytes(tar_gz({"m.keras": keras_bytes(small_model(), tmp_path)}))
    with pytest.raises(ValueError, match="archive on disk"):
        hub.load(archive)
    with pytest.raises(TypeError, match="path or a URL"):
        hub.load(42)


def test_a_folder_handle_is_never_walked_without_end(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_MEMBERS", 5)
    for i in range(3):
        (tmp_path / f"d{i}").mkdir()
        for j in range(2):
            (tmp_path / f"d{i}" / f"f{j}").write_bytes(b"")
    with pytest.raises(ValueError, match="more than 5 files"):
        hub.load(tmp_path)


# --- downloads and the cache ------------------------------------------------------------


def test_url_downloads_once_then_loads_from_the_cache_without_network(server, cache,
                                                                      tmp_path):
    model = small_model()
    url = server.publish("/models/extractor.keras", keras_bytes(model, tmp_path))
    same_predictions(hub.load(url), model)
    assert server.requests == ["/models/extractor.keras.sha256", "/models/extractor.keras"]
    entry = cache / hashlib.sha256(url.encode()).hexdigest()
    assert (entry / "model" / "model.keras").is_file()
    assert sorted(p.name for p in cache.iterdir()) == [entry.name]  # no hidden leftovers
    server.requests.clear()
    server.routes.clear()  # the server has nothing now: only the cache can answer
    same_predictions(hub.load(url), model)
    assert hub.resolve(url) == str(entry / "model")
    assert server.requests == []


def test_sha256_given_with_the_handle_needs_no_published_file(server, tmp_path):
    data = keras_bytes(small_model(), tmp_path)
    url = server.publish("/pinned.keras", data, checksum=False)
    hub.load(f"{url}#sha256={sha256(data).upper()}")
    assert server.requests == ["/pinned.keras"]


def test_checksum_mismatch_is_refused_and_nothing_is_cached(server, cache, tmp_path):
    data = keras_bytes(small_model(), tmp_path)
    url = server.publish("/m.keras", data)
    with pytest.raises(hub.ChecksumError, match=f"expected.*{'0' * 64}|{'0' * 64}.*expected"):
        hub.load(f"{url}#sha256={'0' * 64}")
    assert cache_is_empty(cache)
    server.routes["/m.keras.sha256"] = f"{'ab' * 32}  m.keras\n".encode()  # a wrong one
    with pytest.raises(hub.ChecksumError, match="SHA-256"):
        hub.load(url)
    assert cache_is_empty(cache)
    server.routes["/m.keras.sha256"] = b"not a digest\n"
    with pytest.raises(hub.ChecksumError, match="does not hold a SHA-256"):
        hub.load(url)


def test_missing_checksum_refused_unless_verify_false(server, cache, tmp_path):
    data = keras_bytes(small_model(), tmp_path)
    url = server.publish("/unchecked.keras", data, checksum=False)
    with pytest.raises(hub.ChecksumError, match="verify=False"):
        hub.load(url)
    assert server.requests == ["/unchecked.keras.sha256"]  # refused before downloading
    assert cache_is_empty(cache)
    hub.load(url, verify=False)
    # The unverified copy is not trusted by a later verifying call...
    with pytest.raises(hub.ChecksumError, match="verify=False"):
        hub.load(url)
    # ...until a checksum is published: then it is checked without downloading again.
    server.routes["/unchecked.keras.sha256"] = sha256(data).encode()
    server.requests.clear()
    hub.load(url)
    assert server.requests == ["/unchecked.keras.sha256"]
    server.requests.clear()
    hub.load(url)
    assert server.requests == []


def test_a_changed_pinned_checksum_downloads_the_new_file(server, tmp_path):
    first, second = small_model(0), small_model(1)
    url = server.publish("/v.keras", keras_bytes(first, tmp_path))
    same_predictions(hub.load(url), first)
    new = keras_bytes(second, tmp_path, "second.keras")
    server.publish("/v.keras", new)
    same_predictions(hub.load(url), first)  # the cache serves the old copy...
    same_predictions(hub.load(f"{url}#sha256={sha256(new)}"), second)  # ...unless pinned


def test_404_and_a_transfer_cut_short_leave_nothing_in_the_cache(server, cache, tmp_path):
    with pytest.raises(hub.DownloadError, match="404"):
        hub.load(server.base + "/nothing.keras#sha256=" + "1" * 64)
    assert cache_is_empty(cache)
    data = keras_bytes(small_model(), tmp_path)
    server.routes["/cut.keras"] = ("cut", data)
    for handle, verify in ((f"{server.base}/cut.keras#sha256={sha256(data)}", True),
                           (f"{server.base}/cut.keras", False)):
        with pytest.raises(hub.DownloadError, match="stopped after"):
            hub.load(handle, verify=verify)
        assert cache_is_empty(cache)
    server.routes["/m.keras.sha256"] = 500
    with pytest.raises(hub.DownloadError, match="500"):
        hub.load(server.base + "/m.keras")


def test_tar_gz_and_zip_archives_holding_a_keras_file(server, cache, tmp_path):
    model = small_model()
    data = keras_bytes(model, tmp_path)
    for path, archive in (("/a.tar.gz", tar_gz({"./extractor/": b"", "README": b"hi",
                                                "extractor/model.keras": data})),
                          ("/a.zip", zip_bytes({"extractor/model.keras": data}))):
        url = server.publish(path, archive)
        same_predictions(hub.load(url), model)
        folder = Path(hub.resolve(url))
        assert (folder / "extractor" / "model.keras").read_bytes() == data
    assert not any(p.name == "download" for p in cache.rglob("*"))


@pytest.mark.parametrize("members,links,problem", [
    ({"../evil.keras": b"x"}, None, "path traversal"),
    ({"a/../../evil.keras": b"x"}, None, "path traversal"),
    ({"/tmp/evil.keras": b"x"}, None, "path traversal"),
    ({"m.keras": b"x"}, {"link": (tarfile.SYMTYPE, "/etc/passwd")}, "is a link"),
    ({"m.keras": b"x"}, {"hard": (tarfile.LNKTYPE, "m.keras")}, "is a link"),
    ({"m.keras": b"x"}, {"fifo": (tarfile.FIFOTYPE, "")}, "special file"),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink", "fifo"])
def test_hostile_tar_archives_are_refused(server, cache, tmp_path, members, links, problem):
    url = server.publish("/hostile.tar.gz", tar_gz(members, links))
    with pytest.raises(ValueError, match=problem):
        hub.load(url)
    assert cache_is_empty(cache)
    assert not (cache.parent / "evil.keras").exists()
    assert not (tmp_path / "evil.keras").exists()


def test_hostile_zip_archives_are_refused(server, cache):
    for name in ("../evil.keras", "a\\..\\evil.keras", "C:/evil.keras"):
        url = server.publish("/hostile.zip", zip_bytes({name: b"x", "m.keras": b"y"}))
        with pytest.raises(ValueError, match="path traversal"):
            hub.load(url)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link.keras")
        info.external_attr = (0o120777 << 16)  # a symbolic link, as zip tools store one
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(ValueError, match="is a link"):
        hub.load(server.publish("/link.zip", buffer.getvalue()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("m.keras", b"1")
        with pytest.warns(UserWarning, match="Duplicate"):
            archive.writestr("m.keras", b"2")
    with pytest.raises(ValueError, match="twice"):
        hub.load(server.publish("/twice.zip", buffer.getvalue()))
    assert cache_is_empty(cache)


def test_archives_that_inflate_too_far_or_hold_too_many_members(server, cache, monkeypatch):
    monkeypatch.setattr(archives, "_RATIO_FLOOR", 1 << 16)
    bomb = tar_gz({"m.keras": bytes(8 << 20)})  # 8 MiB of zeros in a few KiB
    with pytest.raises(ValueError, match="compression bomb"):
        hub.load(server.publish("/bomb.tar.gz", bomb))
    with pytest.raises(ValueError, match="compression bomb"):
        hub.load(server.publish("/bomb.zip", zip_bytes({"m.keras": bytes(8 << 20)})))
    monkeypatch.setattr(archives, "MAX_MEMBERS", 3)
    many = tar_gz({f"f{i}": b"" for i in range(5)})
    with pytest.raises(ValueError, match="more than 3 members"):
        hub.load(server.publish("/many.tar.gz", many))
    assert cache_is_empty(cache)


def test_a_download_that_is_no_model_is_refused(server, cache):
    with pytest.raises(ValueError, match="neither a .keras file"):
        hub.load(server.publish("/page.html", b"<html>hello</html>"))
    with pytest.raises(ValueError, match="no .keras file"):
        hub.load(server.publish("/empty.tar.gz", tar_gz({"README": b"nothing here"})))
    with pytest.raises(ValueError, match="SavedModel"):
        hub.load(server.publish("/sm.tar.gz", tar_gz({"saved_model.pb": b"\x08"})))
    assert cache_is_empty(cache)


@pytest.mark.parametrize("handle,problem", [
    ("http://example.com/m.keras", "plain http"),
    ("ftp://127.0.0.1/m.keras", "Unsupported hub handle"),
    ("gs://bucket/m.keras", "Unsupported hub handle"),
    ("https://example.com/m.keras#md5=abc", "sha256="),
    ("https://example.com/m.keras#sha256=abc", "sha256="),
])
def test_handles_refused_before_any_request(handle, problem, server):
    with pytest.raises(ValueError, match=problem):
        hub.load(handle)
    assert server.requests == []


def test_cache_folder_setting_reads_its_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("NEUROFLOW_HUB_CACHE", str(tmp_path / "elsewhere"))
    assert config._hub_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("NEUROFLOW_HUB_CACHE")
    monkeypatch.setenv("NEUROFLOW_HOME", str(tmp_path / "home"))
    assert config._hub_cache_dir() == tmp_path / "home" / "hub"


def test_folder_written_atomically(tmp_path):
    target = tmp_path / "entry"
    with pytest.raises(KeyError):
        with folder_written_atomically(target) as temp:
            Path(temp, "part").write_bytes(b"half")
            raise KeyError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with folder_written_atomically(target) as temp:
        Path(temp, "file").write_bytes(b"one")
    with pytest.raises(FileExistsError):
        with folder_written_atomically(target) as temp:
            Path(temp, "file").write_bytes(b"two")
    assert (target / "file").read_bytes() == b"one"
    with folder_written_atomically(target, replace=True) as temp:
        Path(temp, "file").write_bytes(b"three")
    assert (target / "file").read_bytes() == b"three"
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]


# --- KerasLayer -----------------------------------------------------------------------------


def published(server, tmp_path, model=None) -> tuple[str, object]:
    model = model or small_model()
    return server.publish("/extractor.keras", keras_bytes(model, tmp_path)), model


def head_model(feature_layer):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([layers.Input((6,)), feature_layer, layers.Dense(3)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_frozen_keras_layer_trains_only_the_head(server, tmp_path):
    url, original = published(server, tmp_path)
    features = hub.KerasLayer(url)
    assert features.trainable is False and features.trainable_weights == []
    assert not features.resolved_object.trainable
    assert not any(w.trainable for w in features.weights)
    model = head_model(features)
    assert len(model.trainable_weights) == 2  # the head's kernel and bias
    before = [w.numpy().copy() for w in features.weights]
    head_before = model.layers[-1].get_weights()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    for old, new in zip(before, features.weights):
        np.testing.assert_array_equal(old, new.numpy())
    assert any(not np.array_equal(a, b)
               for a, b in zip(head_before, model.layers[-1].get_weights()))
    np.testing.assert_allclose(features(X).numpy(), original.predict(X, verbose=0),
                               rtol=1e-6, atol=1e-6)


def test_a_layer_holding_a_frozen_keras_layer_trains_only_its_own_weights(server, tmp_path):
    url, _ = published(server, tmp_path)

    class Classifier(layers.Layer):
        def __init__(self):
            super().__init__()
            self.features = hub.KerasLayer(url)
            self.head = layers.Dense(3)

        def call(self, inputs):
            return self.head(self.features(inputs))

    classifier = Classifier()
    classifier(X)
    assert [id(w) for w in classifier.trainable_weights] == \
        [id(w) for w in classifier.head.weights]


def test_wrapping_a_callable_leaves_it_as_it_was():
    net = small_model()
    layer = hub.KerasLayer(net)
    assert layer.trainable_weights == [] and net.trainable and len(net.trainable_weights) == 4


def test_trainable_keras_layer_fine_tunes_its_weights(server, tmp_path):
    url, _ = published(server, tmp_path)
    features = hub.KerasLayer(url, trainable=True)
    model = head_model(features)
    assert len(model.trainable_weights) == 6
    before = [w.numpy().copy() for w in features.weights]
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    assert all(not np.array_equal(old, new.numpy()) for old, new in zip(before, features.weights))


def test_frozen_layer_runs_in_inference_mode(server, tmp_path):
    url, original = published(server, tmp_path)
    frozen = hub.KerasLayer(url)
    expected = original(X, training=False).numpy()
    np.testing.assert_allclose(frozen(X, training=True).numpy(), expected, rtol=1e-6)
    trainable = hub.KerasLayer(url, trainable=True)
    np.testing.assert_allclose(trainable(X, training=False).numpy(), expected, rtol=1e-6)
    assert not np.allclose(trainable(X, training=True).numpy(), expected)  # dropout on


def test_keras_layer_in_a_functional_model(server, tmp_path):
    url, original = published(server, tmp_path)
    inputs = keras.Input((6,))
    outputs = layers.Dense(2)(hub.KerasLayer(url, output_shape=[4])(inputs))
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 2)
    head = model.layers[-1]
    expected = original.predict(X, verbose=0) @ head.kernel.numpy() + head.bias.numpy()
    np.testing.assert_allclose(model.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_get_config_and_from_config(server, tmp_path):
    url, original = published(server, tmp_path)
    layer = hub.KerasLayer(url, output_shape=(4,), name="features")
    config = layer.get_config()
    assert {k: config[k] for k in ("name", "trainable", "handle", "output_shape")} == {
        "name": "features", "trainable": False, "handle": url, "output_shape": (4,)}
    assert "arguments" not in config
    again = hub.KerasLayer.from_config(config)
    np.testing.assert_allclose(again(X).numpy(), layer(X).numpy())
    assert again.compute_output_shape((None, 6)) == (None, 4)
    with pytest.raises(NotImplementedError, match="string `handle`"):
        hub.KerasLayer(original).get_config()
    with pytest.raises(ValueError, match="JSON-serializable"):
        hub.KerasLayer(url, arguments={"mask": object()}).get_config()


def test_arguments_output_shape_and_output_key(server, tmp_path):
    def scaled(inputs, scale=1.0):
        return inputs * scale

    layer = hub.KerasLayer(scaled, arguments={"scale": 3.0})
    np.testing.assert_allclose(layer(X).numpy(), 3 * X)
    with pytest.raises(ValueError, match="output_shape=\\(5,\\)"):
        hub.KerasLayer(scaled, output_shape=[5])(X)

    def named(inputs):
        return {"pooled": inputs[:, :2], "sequence": inputs}

    np.testing.assert_allclose(hub.KerasLayer(named, output_key="pooled")(X).numpy(), X[:, :2])
    with pytest.raises(ValueError, match="output_key 'missing'"):
        hub.KerasLayer(named, output_key="missing")(X)


@pytest.mark.parametrize("argument", ["tags", "signature", "signature_outputs_as_dict",
                                      "load_options"])
def test_saved_model_arguments_are_refused(argument):
    with pytest.raises(NotImplementedError, match="SavedModel"):
        hub.KerasLayer(lambda x: x, **{argument: "serve" if argument != "tags" else ["x"]})


def test_model_with_a_fine_tuned_keras_layer_saves_and_loads(server, cache, tmp_path):
    url, original = published(server, tmp_path)
    features = hub.KerasLayer(url, trainable=True, name="features")
    model = head_model(features)
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "classifier.keras"
    model.save(path)
    server.requests.clear()
    loaded = keras.models.load_model(path)
    assert server.requests == []  # the handle came from the cache
    same_predictions(loaded, model)
    restored = loaded.layers[0]
    assert isinstance(restored, hub.KerasLayer) and restored.name == "features"
    assert restored.trainable
    for tuned, mine in zip(features.weights, restored.weights):
        np.testing.assert_array_equal(tuned.numpy(), mine.numpy())
    assert not np.allclose(restored(X).numpy(), original.predict(X, verbose=0))
    loaded.fit(X, Y, epochs=1, batch_size=8, verbose=0)  # the optimizer state came back


def test_import_neuroflow_does_not_import_hub():
    code = ("import sys, neuroflow as tf; assert 'neuroflow.hub' not in sys.modules; "
            "assert tf.hub.KerasLayer is sys.modules['neuroflow.hub'].KerasLayer")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_resolver_constants_bound_what_a_download_may_take(server, cache, monkeypatch,
                                                           tmp_path):
    data = keras_bytes(small_model(), tmp_path)
    url = server.publish("/big.keras", data)
    monkeypatch.setattr(resolver, "MAX_DOWNLOAD_BYTES", len(data) - 1)
    with pytest.raises(hub.DownloadError, match="more than"):
        hub.load(url)
    assert cache_is_empty(cache)
