"""The LSTM notebook runs top to bottom in a real Jupyter kernel (a short setting, real data)."""

from __future__ import annotations

import re

import notebooks
import pytest

notebooks.require_jupyter()
NOTEBOOK = notebooks.REPO / "examples" / "fashion_mnist_lstm.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    settings = {
        "FASHION_MNIST_DIR": str(notebooks.fashion_mnist_dir()),
        "LSTM_EPOCHS": "1",
        "LSTM_TRAIN_SAMPLES": "3000",
    }
    return notebooks.execute(NOTEBOOK, settings, tmp_path_factory.mktemp("lstm-notebook"))


@pytest.mark.slow
def test_lstm_notebook_runs_trains_and_draws(executed):
    outputs = notebooks.outputs(executed)
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    text = "".join(notebooks.text(o) for o in outputs)
    assert "((3000, 28, 28), (5000, 28, 28), (10000, 28, 28))" in text
    # Keras's summary: LSTM(128) on 28 features has 4 * (28 * 128 + 128 * 128 + 128)
    # parameters, the softmax layer 128 * 10 + 10.
    assert "lstm (LSTM)" in text and "(None, 128)" in text
    assert "Total params: 81,674 (319.04 KB)" in text
    accuracy = float(re.search(r"test accuracy: (\d\.\d+)", text).group(1))
    assert 0.4 < accuracy <= 1.0  # one short epoch on 3,000 images
    assert "taken for" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the training curves and the confusion matrix
