"""The CNN notebook runs top to bottom in a real Jupyter kernel (a short setting, real data)."""

from __future__ import annotations

import re

import notebooks
import pytest

notebooks.require_jupyter()
NOTEBOOK = notebooks.REPO / "examples" / "fashion_mnist_cnn.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    settings = {
        "FASHION_MNIST_DIR": str(notebooks.fashion_mnist_dir()),
        "CNN_EPOCHS": "1",
        "CNN_TRAIN_SAMPLES": "3000",
    }
    return notebooks.execute(NOTEBOOK, settings, tmp_path_factory.mktemp("cnn-notebook"))


@pytest.mark.slow
def test_cnn_notebook_runs_trains_and_draws(executed):
    outputs = notebooks.outputs(executed)
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    text = "".join(notebooks.text(o) for o in outputs)
    assert "Connected to" not in text  # a chain of layers: Keras's three-column summary
    assert "conv2d (Conv2D)" in text and "(None, 26, 26, 32)" in text
    assert "Total params: 34,826 (136.04 KB)" in text
    accuracy = float(re.search(r"test accuracy: (\d\.\d+)", text).group(1))
    assert 0.6 < accuracy <= 1.0  # one short epoch on 3,000 images
    assert "taken for" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the training curves and the confusion matrix
