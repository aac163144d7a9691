"""TensorFlow Serving's REST API: paths, bodies, answers and status codes."""

from __future__ import annotations

import json
import socket
import time

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.serving import ModelConfig


def test_status_lists_the_available_version(one_model):
    running, _ = one_model
    expected = {"model_version_status": [{"version": "1", "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}
    for path in ("/v1/models/m", "/v1/models/m/versions/1"):
        answer = running.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == expected


def test_metadata_has_tf_serving_layout(one_model):
    running, _ = one_model
    answer = running.get("/v1/models/m/metadata")
    assert answer.status_code == 200
    meta = answer.json()
    assert meta["model_spec"] == {"name": "m", "signature_name": "", "version": "1"}
    signature = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    (key, entry), = signature["inputs"].items()
    assert entry["dtype"] == "DT_FLOAT"
    assert entry["tensor_shape"] == {"dim": [{"size": "-1", "name": ""},
                                             {"size": "4", "name": ""}], "unknown_rank": False}
    assert list(signature["outputs"]) == ["output_0"]
    assert [d["size"] for d in signature["outputs"]["output_0"]["tensor_shape"]["dim"]] == \
        ["-1", "3"]


def test_predict_row_and_columnar_formats_match_numpy(one_model, helpers):
    running, model = one_model
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = helpers.numpy_forward(model, x)
    rows = running.predict("m", {"instances": x.tolist()})
    assert rows.status_code == 200
    np.testing.assert_allclose(rows.json()["predictions"], expected, rtol=1e-5, atol=1e-6)
    key = next(iter(running.get("/v1/models/m/metadata").json()["metadata"]["signature_def"]
                    ["signature_def"]["serving_default"]["inputs"]))
    for body in ({"inputs": x.tolist()}, {"inputs": {key: x.tolist()}},
                 {"signature_name": "serving_default", "inputs": x.tolist()}):
        answer = running.predict("m", body)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(answer.json()["outputs"], expected, rtol=1e-5, atol=1e-6)
    named_rows = running.predict("m", {"instances": [{key: row} for row in x.tolist()]})
    np.testing.assert_allclose(named_rows.json()["predictions"], expected, rtol=1e-5, atol=1e-6)
    for suffix in ("/versions/1", ""):
        answer = running.predict("m", {"instances": x[:1].tolist()}, suffix)
        np.testing.assert_allclose(answer.json()["predictions"], expected[:1], rtol=1e-5,
                                   atol=1e-6)


def test_several_named_inputs_and_outputs(tmp_path, start_server, helpers):
    a = tf.keras.Input((3,), name="a")
    b = tf.keras.Input((2,), name="b", dtype="int32")
    h = tf.keras.layers.Concatenate()([a, tf.keras.layers.Dense(2)(b)])
    model = tf.keras.Model([a, b], {"scores": tf.keras.layers.Dense(4)(h),
                                    "value": tf.keras.layers.Dense(1)(h)})
    helpers.save_version(tmp_path / "two", 1, model)
    running = start_server([ModelConfig("two", str(tmp_path / "two"))])
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((3, 3)).astype(np.float32)
    xb = rng.integers(-5, 5, (3, 2)).astype(np.int32)
    expected = model.predict({"a": xa, "b": xb}, verbose=0)
    meta = running.get("/v1/models/two/metadata").json()["metadata"]["signature_def"][
        "signature_def"]["serving_default"]
    assert {k: v["dtype"] for k, v in meta["inputs"].items()} == {"a": "DT_FLOAT",
                                                                  "b": "DT_INT32"}
    assert sorted(meta["outputs"]) == ["scores", "value"]
    rows = running.predict("two", {"instances": [{"a": xa[i].tolist(), "b": xb[i].tolist()}
                                                 for i in range(3)]})
    assert rows.status_code == 200, rows.text
    for i, row in enumerate(rows.json()["predictions"]):
        np.testing.assert_allclose(row["scores"], expected["scores"][i], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(row["value"], expected["value"][i], rtol=1e-5, atol=1e-5)
    columns = running.predict("two", {"inputs": {"a": xa.tolist(), "b": xb.tolist()}})
    out = columns.json()["outputs"]
    np.testing.assert_allclose(out["scores"], expected["scores"], rtol=1e-5, atol=1e-5)
    # Unnamed inputs cannot say which is which; floats are not int32.
    unnamed = running.predict("two", {"instances": xa.tolist()})
    assert unnamed.status_code == 400 and "named inputs" in unnamed.json()["error"]
    wrong = running.predict("two", {"inputs": {"a": xa.tolist(), "b": (xb + 0.5).tolist()}})
    assert wrong.status_code == 400 and "not of expected type: int32" in wrong.json()["error"]
    missing = running.predict("two", {"inputs": {"a": xa.tolist()}})
    assert missing.status_code == 400 and "missing input 'b'" in missing.json()["error"]
    uneven = running.predict("two", {"inputs": {"a": xa.tolist(), "b": xb[:2].tolist()}})
    assert uneven.status_code == 400 and "0th-dimension" in uneven.json()["error"]
    bare = running.predict("two", {"inputs": xa.tolist()})
    assert bare.status_code == 400 and "must be an object" in bare.json()["error"]
    huge = running.predict("two", {"inputs": {"a": xa.tolist(), "b": [[2**40, 0]] * 3}})
    assert huge.status_code == 400 and "outside the range of int32" in huge.json()["error"]


BAD_BODIES = [
    (b"", 400, "The document is empty"),
    (b"instances = [1, 2]", 400, "JSON Parse error"),
    (b'{"instances": [[1, 2, 3, 4]', 400, "JSON Parse error"),
    (b"[1, 2]", 400, "JSON object"),
    (b"\xff\xfe", 400, "JSON Parse error"),
    (b'{"instances": ["\xff"]}', 400, "not UTF-8"),
    (b"[" * 100000, 400, "JSON Parse error"),
    (b'{"instances": [[1, 2, 3]]}', 400, "expects [-1, 4]"),
    (b'{"instances": [[1, 2], [1, 2, 3, 4]]}', 400, "ragged"),
    (b'{"instances": [["a", "b", "c", "d"]]}', 400, "not of expected type: float32"),
    (b'{"instances": [[true, false, true, true]]}', 400, "not of expected type"),
    (b'{"instances": [[1, 2, 3, null]]}', 400, "not of expected type"),
    (b'{"instances": []}', 400, "non-empty"),
    (b'{"inputs": []}', 400, "holds no values"),
    (b'{"instances": 3}', 400, "non-empty list"),
    (b'{"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]}', 400, "Not both"),
    (b'{"signature_name": "serving_default"}', 400, "Missing 'inputs' or 'instances' key"),
    (b'{"signature_name": 100, "instances": [[1, 2, 3, 4]]}', 400, "must be a string"),
    (b'{"signature_name": "other", "instances": [[1, 2, 3, 4]]}', 400, "not found"),
    (b'{"instances": [[1, 2, 3, 4]], "extra": 1}', 400, "Unexpected key"),
    (b'{"instances": [{"wrong": [1, 2, 3, 4]}]}', 400, "the signature's inputs"),
]


@pytest.mark.parametrize("body,status,message", BAD_BODIES,
                         ids=[f"bad{i}" for i in range(len(BAD_BODIES))])
def test_bad_bodies_get_400_with_a_message(one_model, body, status, message):
    running, _ = one_model
    answer = running.post("/v1/models/m:predict", data=body)
    assert answer.status_code == status
    assert message in answer.json()["error"]
    assert running.predict("m", {"instances": [[1, 2, 3, 4]]}).status_code == 200


def test_nan_and_infinity_are_accepted_as_tf_serving_does(one_model):
    running, _ = one_model
    answer = running.post("/v1/models/m:predict", data=b'{"instances": [[NaN, 1, 2, 3]]}')
    assert answer.status_code == 200
    assert "NaN" in answer.text
    assert np.isnan(json.loads(answer.text)["predictions"][0]).all()
    answer = running.post("/v1/models/m:predict", data=b'{"instances": [[-Infinity, 0, 0, 0]]}')
    assert answer.status_code == 200


@pytest.mark.parametrize("method,path,status,message", [
    ("POST", "/v1/models/nope:predict", 404, "Servable not found for request: Latest(nope)"),
    ("POST", "/v1/models/m/versions/7:predict", 404, "Specific(m, 7)"),
    ("POST", "/v1/models/m/labels/nope:predict", 400, "Unrecognized servable version label"),
    ("GET", "/v1/models/nope", 404, "Could not find any versions of model nope"),
    ("GET", "/v1/models/nope/metadata", 404, "Servable not found for request: Latest(nope)"),
    ("GET", "/v1/models/m/versions/7", 404, "Could not find version 7 of model m"),
    ("GET", "/v1/models/m/versions/7/metadata", 404, "Specific(m, 7)"),
    ("GET", "/v1/models/m/labels/nope", 400, "Unrecognized servable version label"),
    ("GET", "/v1/models/m:predict", 400, "Malformed request"),
    ("POST", "/v1/models/m", 400, "Malformed request"),
    ("POST", "/v1/models/m/metadata", 400, "Malformed request"),
    ("GET", "/v1/models", 400, "Missing model name"),
    ("POST", "/v1/models/m/versions/HELLO:predict", 400, "Malformed request"),
    ("POST", "/v1/models/m/versions/99999999999999999999:predict", 400, "Failed to convert"),
    ("POST", "/v1/models/m:regress", 400, "tensorflow/serving/regress"),
    ("PUT", "/v1/models/m:predict", 400, "Malformed request"),
    ("GET", "/elsewhere", 404, "Not found"),
])
def test_unknown_models_versions_and_paths(one_model, method, path, status, message):
    running, _ = one_model
    answer = running.session.request(method, running.url + path, data=b'{"instances": [[1]]}',
                                     timeout=30)
    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_label_routes_to_its_version(tmp_path, start_server, helpers):
    model = helpers.dense_model(3)
    helpers.save_version(tmp_path / "m", 4, model)
    running = start_server([ModelConfig("m", str(tmp_path / "m"), version_labels={"stable": 4})])
    x = np.ones((1, 4), np.float32)
    answer = running.predict("m", {"instances": x.tolist()}, "/labels/stable")
    np.testing.assert_allclose(answer.json()["predictions"], helpers.numpy_forward(model, x),
                               rtol=1e-5, atol=1e-6)
    assert running.get("/v1/models/m/labels/stable").json()["model_version_status"][0][
        "version"] == "4"


def test_body_over_the_limit_gets_413(tmp_path, start_server, helpers):
    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    running = start_server([ModelConfig("m", str(tmp_path / "m"))], max_body_bytes=1000)
    big = {"instances": [[1.0, 2.0, 3.0, 4.0]] * 200}
    answer = running.predict("m", big)
    assert answer.status_code == 413 and "limit of 1000 bytes" in answer.json()["error"]

    def chunks():  # no Content-Length: the limit is applied while reading
        yield b'{"instances": ['
        for _ in range(200):
            yield b"[1, 2, 3, 4],"
        yield b"[1, 2, 3, 4]]}"

    answer = running.session.post(running.url + "/v1/models/m:predict", data=chunks(),
                                  timeout=30)
    assert answer.status_code == 413
    assert running.predict("m", {"instances": [[1, 2, 3, 4]]}).status_code == 200


def test_slow_client_gets_408_and_others_are_served(tmp_path, start_server, helpers):
    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    running = start_server([ModelConfig("m", str(tmp_path / "m"))], timeout_ms=500)
    port = int(running.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inst")
        # Meanwhile another client is answered at once.
        assert running.predict("m", {"instances": [[1, 2, 3, 4]]}).status_code == 200
        time.sleep(0.7)
        reply = slow.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 408"), reply
    assert "rest_api_timeout_in_ms" in reply
    # Headers that never finish, and a connection that never sends anything, are closed too.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow, \
            socket.create_connection(("127.0.0.1", port), timeout=10) as silent:
        slow.sendall(b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        reply = slow.recv(4096).decode()
        assert reply.startswith("HTTP/1.1 408") and "headers did not arrive" in reply
        assert silent.recv(4096) == b""
        assert time.monotonic() - start < 5


def test_metrics_and_health(one_model):
    running, _ = one_model
    assert running.get("/healthz").json() == {"status": "ready"}
    for _ in range(3):
        running.predict("m", {"instances": [[1, 2, 3, 4]]})
    running.predict("m", {"instances": [[1, 2, 3]]})
    running.predict("nobody", {"instances": [[1, 2, 3]]})
    answer = running.get("/monitoring/prometheus/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in answer.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    found = {k: v for k, v in samples.items() if k.startswith(":tensorflow:serving:request_count")}
    assert found[':tensorflow:serving:request_count{model_name="m",model_version="1",'
                 'API="predict",status="OK"}'] == 3
    assert found[':tensorflow:serving:request_count{model_name="m",model_version="",'
                 'API="predict",status="INVALID_ARGUMENT"}'] == 1
    assert found[':tensorflow:serving:request_count{model_name="",model_version="",'
                 'API="predict",status="NOT_FOUND"}'] == 1
    assert samples[':tensorflow:serving:request_latency_count{model_name="m",model_version="1",'
                   'API="predict"}'] == 3


def test_health_is_503_until_a_version_loads(tmp_path, start_server, helpers):
    running = start_server([ModelConfig("m", str(tmp_path / "m"))])
    answer = running.get("/healthz")
    assert answer.status_code == 503 and "m" in answer.json()["error"]
    answer = running.get("/v1/models/m")
    assert answer.status_code == 404
    assert answer.json()["error"] == "Could not find any versions of model m"
    assert running.predict("m", {"instances": [[1, 2, 3, 4]]}).status_code == 404
    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    helpers.wait_for(lambda: running.get("/healthz").status_code == 200, what="version 1")


def test_server_errors_are_explained(monkeypatch):
    import importlib.util

    from neuroflow.serving import ModelServer, ServingError

    with pytest.raises(ValueError, match="unknown error code"):
        ServingError("SOMETHING", "message")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "starlette" else real(name, *a))
    server = ModelServer([ModelConfig("m", "/nowhere")], poll_wait_seconds=0)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'neuroflow\[serve\]'"):
        server.api.starlette_app()
    server.api.close()


def test_a_model_without_an_input_shape_is_refused():
    from neuroflow.serving.models import _input_infos

    class Subclassed(tf.keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="no known input shape"):
        _input_infos(Subclassed())


@pytest.mark.parametrize("batched", [False, True])
def test_errors_the_model_raises_are_400(tmp_path, start_server, helpers, batched):
    from neuroflow.serving import BatchingParameters

    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    running = start_server([ModelConfig("m", str(tmp_path / "m"))],
                           batching=BatchingParameters(num_batch_threads=1) if batched else None)
    servable = running.server.manager.models["m"].serving_versions()[0]

    def fail(arrays):
        raise ValueError("values this model cannot take")

    if batched:
        servable.scheduler._run_batch = fail
    else:
        servable.predict_arrays = fail
    answer = running.predict("m", {"instances": [[1, 2, 3, 4]]})
    assert answer.status_code == 400
    assert answer.json()["error"] == "ValueError: values this model cannot take"
