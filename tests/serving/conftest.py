"""Small saved models, version folders and an in-process server on 127.0.0.1."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.serving import ModelConfig, ModelServer


def dense_model(seed: int, features: int = 4, units: int = 3, activation="softmax"):
    """A one-layer Sequential model whose weights depend on ``seed``."""
    tf.keras.utils.set_random_seed(seed)
    return tf.keras.Sequential([tf.keras.Input((features,)),
                                tf.keras.layers.Dense(units, activation=activation)])


def numpy_forward(model, x: np.ndarray) -> np.ndarray:
    """The Dense softmax model's outputs computed with NumPy from its weights."""
    kernel, bias = model.get_weights()
    logits = x.astype(np.float64) @ kernel + bias
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def save_version(base: Path, version: int, model, filename: str = "model.keras") -> Path:
    """Write ``model`` as version ``version`` atomically: saved aside, then renamed in, as
    deployments do so the server never sees half a folder."""
    staging = base.parent / f".staging-{base.name}-{version}-{time.monotonic_ns()}"
    staging.mkdir(parents=True)
    model.save(staging / filename)
    base.mkdir(parents=True, exist_ok=True)
    os.rename(staging, base / str(version))
    return base / str(version) / filename


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Running:
    """A started server and a client session for it."""

    def __init__(self, server: ModelServer, port: int):
        import requests

        self.server = server
        self.url = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def get(self, path: str):
        return self.session.get(self.url + path, timeout=30)

    def post(self, path: str, body=None, data=None):
        return self.session.post(self.url + path, json=body, data=data, timeout=30)

    def predict(self, name: str, body, suffix: str = ""):
        return self.post(f"/v1/models/{name}{suffix}:predict", body)


@pytest.fixture
def start_server():
    """``start_server(configs, **options)`` starts a server; all are stopped at the end."""
    for package in ("starlette", "uvicorn", "requests"):  # the serve and test extras
        pytest.importorskip(package)
    started = []

    def start(configs, **options) -> Running:
        options.setdefault("poll_wait_seconds", 0.1)
        server = ModelServer(configs, **options)
        port = server.start("127.0.0.1", 0)
        started.append(server)
        return Running(server, port)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def one_model(tmp_path, start_server):
    """Model "m" with version 1 (a softmax Dense 4 -> 3), served; returns (running, model)."""
    model = dense_model(1)
    save_version(tmp_path / "m", 1, model)
    return start_server([ModelConfig("m", str(tmp_path / "m"))]), model


@pytest.fixture
def helpers():
    """The helpers above, for tests to call."""
    return SimpleNamespace(dense_model=dense_model, numpy_forward=numpy_forward,
                           save_version=save_version, wait_for=wait_for)
