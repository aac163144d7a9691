"""examples/web: the page loads the exported Fashion-MNIST CNN with TensorFlow.js in
headless Chromium and shows the same classes neuroflow predicts.

``examples/web/build.py`` trains a small CNN briefly (it need not be accurate) and exports
it with the page and a local TensorFlow.js into ``tmp_path``; the folder is served on
127.0.0.1 and Chromium opens ``index.html?test=...``, whose hook classifies ten test
images and writes the results into the page. ``--dump-dom`` returns that page, and a
second run keeps a screenshot (its path is printed).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from js_runtime import missing, serve, tfjs_dir

import neuroflow as tf

REPO = Path(__file__).resolve().parents[2]
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist"))
IMAGES = 10


def _data_dir() -> Path:
    for candidate in DATA_CANDIDATES:
        if (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    pytest.skip("the Fashion-MNIST files are in neither ../shared/data/fashion-mnist nor "
                "/usr/share/datasets/fashion-mnist")


def _chromium() -> str:
    for candidate in (os.environ.get("NEUROFLOW_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    missing("Chromium missing: install Debian's chromium (apt-get install chromium) or set "
            "NEUROFLOW_CHROMIUM")
    raise AssertionError("unreachable")


def _build_module():
    spec = importlib.util.spec_from_file_location("web_build", REPO / "examples/web/build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _browser(chromium: str, url: str, *options: str) -> str:
    # --virtual-time-budget lets the page's fetches and predictions finish before the
    # DOM is dumped or the screenshot taken; root in a container needs --no-sandbox.
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--virtual-time-budget=60000", *options, url],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_page_shows_what_neuroflow_predicts(tmp_path, record_property):
    chromium, data = _chromium(), _data_dir()
    tfjs_dir()
    build = _build_module()
    tf.keras.utils.set_random_seed(0)
    model = build.build_model(filters=(8, 16))
    build.train(model, str(data), samples=3000, epochs=1)
    site = build.export(model, tmp_path / "site")
    assert (site / "tfjs" / "tf.min.js").is_file()

    (_, _), (x_test, _) = tf.keras.datasets.fashion_mnist.load_data(str(data))
    images = x_test[:IMAGES]
    (site / "test-images.json").write_text(json.dumps({"images":
                                                       images.reshape(IMAGES, -1).tolist()}))
    with serve(site) as base:
        url = f"{base}/index.html?backend=cpu&test=test-images.json"
        dom = _browser(chromium, url, "--dump-dom")
        screenshot = tmp_path / "page.png"
        _browser(chromium, url, "--window-size=1000,1000", f"--screenshot={screenshot}")
    print(f"screenshot of the page: {screenshot}")
    record_property("screenshot", str(screenshot))
    assert screenshot.stat().st_size > 10_000

    found = re.search(r'<pre id="test-results">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), f"the page wrote no results:\n{dom[-3000:]}"
    page = json.loads(html.unescape(found.group(1)))
    assert "error" not in page, page.get("error")

    probabilities = np.asarray(model(images[..., None].astype("float32"), training=False))
    for result, want in zip(page["results"], probabilities, strict=True):
        np.testing.assert_allclose(result["probabilities"], want, rtol=1e-4, atol=1e-5)
        assert [entry["index"] for entry in result["top3"]] == list(np.argsort(-want)[:3])
        assert [entry["name"] for entry in result["top3"]] == [
            build.CLASS_NAMES[i] for i in np.argsort(-want)[:3]]

    # The drawing path: the canvas, scaled back down to 28x28, is the first image again
    # (up to resampling), and the list shows neuroflow's top 3 for those pixels.
    drawn = page["drawn"]
    pixels = np.asarray(drawn["pixels"], np.float32).reshape(1, 28, 28, 1)
    assert np.abs(pixels[0, ..., 0] - images[0]).mean() < 8
    want = np.asarray(model(pixels, training=False))[0]
    names = [build.CLASS_NAMES[i] for i in np.argsort(-want)[:3]]
    assert [text.split(":")[0] for text in drawn["shown"]] == names
