"""Merging concurrent requests into batches: same answers, bounded queue."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import pytest

from neuroflow.serving import BatchingParameters, ModelConfig, ServingError
from neuroflow.serving.batching import BatchScheduler


def test_scheduler_merges_tasks_and_splits_results():
    sizes = []
    release = threading.Event()

    def run(arrays):
        release.wait(10)
        sizes.append(len(arrays["x"]))
        return [arrays["x"] * 2, arrays["x"].sum(axis=1)]

    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=50_000,
                                num_batch_threads=1, max_enqueued_batches=4)
    scheduler = BatchScheduler(run, params)
    try:
        tasks = [np.full((n, 2), i, np.float32) for i, n in enumerate((1, 3, 2, 2, 5))]
        futures = [scheduler.submit({"x": t}) for t in tasks]
        release.set()
        for task, future in zip(tasks, futures):
            doubled, summed = future.result(10)
            np.testing.assert_array_equal(doubled, task * 2)
            np.testing.assert_array_equal(summed, task.sum(axis=1))
        assert sum(sizes) == 13 and max(sizes) <= 8 and len(sizes) < len(tasks)
    finally:
        scheduler.stop()


def test_scheduler_refuses_when_the_queue_is_full():
    gate = threading.Event()
    params = BatchingParameters(max_batch_size=2, batch_timeout_micros=0, num_batch_threads=1,
                                max_enqueued_batches=2)
    scheduler = BatchScheduler(lambda a: (gate.wait(10), [a["x"]])[1], params)
    try:
        accepted, refused = [], []
        for _ in range(12):
            try:
                accepted.append(scheduler.submit({"x": np.ones((2, 1))}))
            except ServingError as error:
                refused.append(error)
        assert refused and refused[0].http_status == 503
        assert "queue" in refused[0].message
        with pytest.raises(ServingError, match="larger than maximum input batch size 2"):
            scheduler.submit({"x": np.ones((3, 1))})
        gate.set()
        for future in accepted:
            assert future.result(10)[0].shape == (2, 1)
    finally:
        gate.set()
        scheduler.stop()


def test_a_stopped_scheduler_refuses_tasks():
    scheduler = BatchScheduler(lambda a: [a["x"]], BatchingParameters(num_batch_threads=1))
    scheduler.stop()
    with pytest.raises(ServingError, match="being unloaded") as info:
        scheduler.submit({"x": np.ones((1, 1))})
    assert info.value.http_status == 503


def test_padding_to_allowed_batch_sizes():
    seen = []

    def run(arrays):
        seen.append(len(arrays["x"]))
        return [arrays["x"] + 1]

    params = BatchingParameters(max_batch_size=8, num_batch_threads=1,
                                allowed_batch_sizes=(4, 8))
    scheduler = BatchScheduler(run, params)
    try:
        x = np.arange(3, dtype=np.float32).reshape(3, 1)
        np.testing.assert_array_equal(scheduler.submit({"x": x}).result(10)[0], x + 1)
        assert seen == [4]
    finally:
        scheduler.stop()


def test_batched_server_answers_as_unbatched(tmp_path, start_server, helpers):
    model = helpers.dense_model(7)
    helpers.save_version(tmp_path / "m", 1, model)
    config = [ModelConfig("m", str(tmp_path / "m"))]
    batched = start_server(config, batching=BatchingParameters(
        max_batch_size=16, batch_timeout_micros=20_000, num_batch_threads=2))
    plain = start_server(config)
    rng = np.random.default_rng(3)
    bodies = [{"instances": rng.standard_normal((int(n), 4)).tolist()}
              for n in rng.integers(1, 5, 64)]

    def ask(running, body):
        reply = running.session.post(running.url + "/v1/models/m:predict", json=body,
                                     timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()["predictions"]

    import requests

    def ask_fresh(body):  # one session per thread: requests' sessions are not thread-safe
        reply = requests.post(batched.url + "/v1/models/m:predict", json=body, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()["predictions"]

    with ThreadPoolExecutor(16) as pool:
        from_batches = list(pool.map(ask_fresh, bodies))
    for body, got in zip(bodies, from_batches):
        np.testing.assert_allclose(got, ask(plain, body), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(got, helpers.numpy_forward(
            model, np.array(body["instances"], np.float32)), rtol=1e-5, atol=1e-6)
    metrics = batched.get("/monitoring/prometheus/metrics").text
    counts = [line for line in metrics.splitlines()
              if line.startswith(":tensorflow:serving:batching_session:processed_batch_size_count")]
    batches = float(counts[0].rsplit(" ", 1)[1])
    assert 0 < batches < len(bodies)  # requests were merged
    assert ":tensorflow:serving:batching_session:queue_depth{" in metrics


def test_batched_server_answers_503_when_full(tmp_path, start_server, helpers):
    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    running = start_server([ModelConfig("m", str(tmp_path / "m"))], batching=BatchingParameters(
        max_batch_size=1, batch_timeout_micros=0, num_batch_threads=1, max_enqueued_batches=1))
    servable = running.server.manager.models["m"].serving_versions()[0]
    gate = threading.Event()
    original = servable.scheduler._run_batch
    servable.scheduler._run_batch = lambda arrays: (gate.wait(10), original(arrays))[1]
    import requests

    def ask(_):
        return requests.post(running.url + "/v1/models/m:predict",
                             json={"instances": [[1, 2, 3, 4]]}, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        pending = [pool.submit(ask, i) for i in range(8)]
        first_done = next(as_completed(pending))
        assert first_done.result().status_code == 503
        gate.set()
        codes = sorted(p.result().status_code for p in pending)
    assert 200 in codes and 503 in codes and set(codes) <= {200, 503}
    assert "queue" in first_done.result().json()["error"]


def test_a_request_past_its_deadline_gets_504(tmp_path, start_server, helpers):
    helpers.save_version(tmp_path / "m", 1, helpers.dense_model(1))
    running = start_server([ModelConfig("m", str(tmp_path / "m"))], timeout_ms=300,
                           batching=BatchingParameters(num_batch_threads=1))
    scheduler = running.server.manager.models["m"].serving_versions()[0].scheduler
    gate = threading.Event()
    original = scheduler._run_batch
    scheduler._run_batch = lambda arrays: (gate.wait(10), original(arrays))[1]
    try:
        answer = running.predict("m", {"instances": [[1, 2, 3, 4]]})
    finally:
        gate.set()
    assert answer.status_code == 504
    assert "rest_api_timeout_in_ms" in answer.json()["error"]
    assert running.predict("m", {"instances": [[1, 2, 3, 4]]}).status_code == 200
