"""The text-classification notebook runs top to bottom in a real Jupyter kernel (a short
setting, its own small corpus)."""

from __future__ import annotations

import re

import notebooks
import pytest

notebooks.require_jupyter()
NOTEBOOK = notebooks.REPO / "examples" / "text_classification.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    settings = {
        "TEXT_EPOCHS": "6",
        "TEXT_SAMPLES": "600",
    }
    return notebooks.execute(NOTEBOOK, settings, tmp_path_factory.mktemp("text-notebook"))


@pytest.mark.slow
def test_text_notebook_runs_trains_and_draws(executed):
    outputs = notebooks.outputs(executed)
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    text = "".join(notebooks.text(o) for o in outputs)
    assert "Found 600 files belonging to 2 classes." in text
    assert "Using 480 files for training." in text
    assert "bidirectional (Bidirectional)" in text and "(None, 32)" in text
    # Embedding 40 x 16 (38 words + padding + OOV), two LSTM(16) on 16 features
    # (4 * (16 * 16 + 16 * 16 + 16) each), Dense 32 + 1; after fit, the total also holds
    # Adam's two slots per weight and its iteration count (Keras's summary).
    assert "Trainable params: 4,897 (19.13 KB)" in text
    assert "Total params: 14,693 (57.40 KB)" in text
    accuracy = float(re.search(r"validation accuracy: (\d\.\d+)", text).group(1))
    assert 0.8 < accuracy <= 1.0  # six short epochs on 480 sentences
    predictions = re.findall(r"(sport|cooking) \(\d\.\d\d\): (.+)", text)
    assert [label for label, _ in predictions] == ["sport", "cooking", "sport", "cooking"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the training curves
