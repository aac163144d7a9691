"""Version folders: policies, hot swaps under load, failed loads, several models."""

from __future__ import annotations

import threading
import time

import numpy as np

from neuroflow.serving import ModelConfig
from neuroflow.serving.models import find_versions


def _states(running, name="m"):
    answer = running.get(f"/v1/models/{name}")
    if answer.status_code != 200:
        return {}
    return {int(s["version"]): s["state"] for s in answer.json()["model_version_status"]}


def test_swap_under_continuous_load_fails_no_request(tmp_path, start_server, helpers):
    first, second = helpers.dense_model(1), helpers.dense_model(2)
    helpers.save_version(tmp_path / "m", 1, first)
    running = start_server([ModelConfig("m", str(tmp_path / "m"))])
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    answers = {1: helpers.numpy_forward(first, x), 2: helpers.numpy_forward(second, x)}
    stop = threading.Event()
    seen, failures = [], []

    def client():
        import requests

        session = requests.Session()
        while not stop.is_set():
            reply = session.post(running.url + "/v1/models/m:predict",
                                 json={"instances": x.tolist()}, timeout=30)
            if reply.status_code != 200:
                failures.append((reply.status_code, reply.text))
                continue
            got = np.array(reply.json()["predictions"])
            version = [v for v, want in answers.items() if np.allclose(got, want, atol=1e-5)]
            if not version:
                failures.append(("wrong values", got))
            seen.extend(version)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        helpers.wait_for(lambda: len(seen) > 50, what="requests on version 1")
        helpers.save_version(tmp_path / "m", 2, second)
        helpers.wait_for(lambda: _states(running) == {2: "AVAILABLE", 1: "END"},
                         what="version 2 to replace version 1")
        count = len(seen)
        helpers.wait_for(lambda: len(seen) > count + 50, what="requests on version 2")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert seen[0] == 1 and seen[-1] == 2
    # Once version 2 answered, version 1 never did again.
    assert 1 not in seen[seen.index(2) + 4:]


def test_a_version_that_fails_to_load_is_reported_and_the_old_one_serves(
        tmp_path, start_server, helpers):
    model = helpers.dense_model(1)
    helpers.save_version(tmp_path / "m", 1, model)
    running = start_server([ModelConfig("m", str(tmp_path / "m"))])
    broken = tmp_path / "m" / "2"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"not a zip file")
    helpers.wait_for(lambda: _states(running).get(2) == "END", what="version 2 to fail")
    status = running.get("/v1/models/m/versions/2").json()["model_version_status"][0]
    assert status["status"]["error_code"] != "OK"
    assert "model.keras" in status["status"]["error_message"]
    assert _states(running)[1] == "AVAILABLE"
    x = np.ones((1, 4), np.float32)
    answer = running.predict("m", {"instances": x.tolist()})
    np.testing.assert_allclose(answer.json()["predictions"], helpers.numpy_forward(model, x),
                               rtol=1e-5, atol=1e-6)
    # Fixing the file loads the version.
    fixed = helpers.dense_model(5)
    fixed.save(tmp_path / "fixed.keras")
    (tmp_path / "fixed.keras").replace(broken / "model.keras")
    helpers.wait_for(lambda: _states(running) == {2: "AVAILABLE", 1: "END"},
                     what="the fixed version 2")


def test_version_policies(tmp_path, start_server, helpers):
    for version in (1, 2, 3):
        helpers.save_version(tmp_path / "m", version, helpers.dense_model(version))
    configs = [ModelConfig("latest2", str(tmp_path / "m"), ("latest", 2)),
               ModelConfig("all", str(tmp_path / "m"), ("all",)),
               ModelConfig("pinned", str(tmp_path / "m"), ("specific", (1, 3))),
               ModelConfig("default", str(tmp_path / "m"))]
    running = start_server(configs)
    assert _states(running, "latest2") == {2: "AVAILABLE", 3: "AVAILABLE"}
    assert _states(running, "all") == {1: "AVAILABLE", 2: "AVAILABLE", 3: "AVAILABLE"}
    assert _states(running, "pinned") == {1: "AVAILABLE", 3: "AVAILABLE"}
    assert _states(running, "default") == {3: "AVAILABLE"}
    assert running.predict("pinned", {"instances": [[1, 2, 3, 4]]}, "/versions/2"
                           ).status_code == 404
    assert running.predict("latest2", {"instances": [[1, 2, 3, 4]]}, "/versions/2"
                           ).status_code == 200
    # The newest version answers when none is named.
    meta = running.get("/v1/models/pinned/metadata").json()
    assert meta["model_spec"]["version"] == "3"


def test_version_folders(tmp_path):
    base = tmp_path / "m"
    (base / "1").mkdir(parents=True)
    (base / "1" / "any-name.keras").write_bytes(b"")
    (base / "2").mkdir()
    (base / "3").mkdir()
    (base / "3" / "a.keras").write_bytes(b"")
    (base / "3" / "b.keras").write_bytes(b"")
    (base / "tmp").mkdir()
    (base / "7.keras").write_bytes(b"")
    found = find_versions(str(base))
    assert sorted(found) == [1, 2, 3]
    assert found[1].name == "any-name.keras"
    assert "no .keras file" in found[2] and "2 .keras files" in found[3]
    assert find_versions(str(tmp_path / "missing")) == {}


def test_poll_wait_zero_looks_once(tmp_path, start_server, helpers):
    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    running = start_server([ModelConfig("m", str(tmp_path / "m"))], poll_wait_seconds=0)
    helpers.save_version(tmp_path / "m", 2, helpers.dense_model(2))
    time.sleep(0.5)
    assert _states(running) == {1: "AVAILABLE"}
