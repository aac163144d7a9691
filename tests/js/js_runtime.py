"""Finding and running the JavaScript runtimes the TensorFlow.js tests compare against.

``tools/install_js_runtimes.sh`` installs ``@tensorflow/tfjs`` outside the repository;
the tests find it through ``NEUROFLOW_TFJS_DIR`` or that script's default folder. Locally
a missing runtime skips; under ``CI=true`` it fails, since a CI run that skipped the
runtime would pass without checking that TensorFlow.js loads the files.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

STRICT = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
HERE = Path(__file__).resolve().parent
INSTALL = "tools/install_js_runtimes.sh"


def missing(reason: str) -> None:
    if STRICT:
        pytest.fail(f"{reason}; under CI=true this test must run: run {INSTALL} first "
                    f"(.ci/run does), or unset CI to skip.", pytrace=False)
    pytest.skip(f"{reason} (run {INSTALL})")


def tfjs_dir() -> Path:
    """The folder holding ``node_modules/@tensorflow/tfjs``."""
    cache = os.environ.get("NEUROFLOW_CI_CACHE") or os.path.expanduser("~/.cache/neuroflow-ci")
    folder = Path(os.environ.get("NEUROFLOW_TFJS_DIR") or os.path.join(cache, "node"))
    if shutil.which("node") is None:
        missing("TensorFlow.js runtime missing: no `node` on PATH")
    if not (folder / "node_modules" / "@tensorflow" / "tfjs" / "package.json").is_file():
        missing(f"TensorFlow.js runtime missing: no @tensorflow/tfjs in {folder}")
    return folder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(folder: str | os.PathLike):
    """Serves ``folder`` on 127.0.0.1 in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=os.fspath(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def tfjs_predict(folder: str | os.PathLike, inputs: list[np.ndarray]):
    """Loads ``folder/model.json`` with tfjs under Node (over HTTP) and predicts
    ``inputs``; returns (outputs as arrays, the weight names tfjs created)."""
    runtime = tfjs_dir()
    spec = [{"shape": list(x.shape), "data": np.asarray(x, np.float64).ravel().tolist()}
            for x in inputs]
    spec_path = Path(folder) / "inputs.json"
    spec_path.write_text(json.dumps(spec))
    with serve(folder) as url:
        done = subprocess.run(
            ["node", str(HERE / "tfjs_predict.js"), str(runtime), f"{url}/model.json",
             str(spec_path)], capture_output=True, text=True, timeout=120)
    spec_path.unlink()
    if done.returncode != 0:
        raise AssertionError(f"TensorFlow.js failed to load or run the model:\n"
                             f"{done.stderr[-4000:]}")
    result = json.loads(done.stdout)
    outputs = [np.asarray(out["data"], np.float32).reshape(out["shape"])
               for out in result["outputs"]]
    return outputs, result["weights"]
