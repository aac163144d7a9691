"""The step counts ``fit``, ``evaluate`` and ``predict`` print, as Keras 3 prints them.

Keras's bar reads ``1/N`` after the first step and ``N/N`` at the end of the epoch (a
1-based count of the steps done); with ``verbose=2`` one ``N/N - ...`` line per epoch.
The expected frames below are what Keras 3 (TensorFlow 2.21) prints for the same
calls with its redraw interval set to 0, so that every step is drawn.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import sys

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras.callbacks import callback as callback_module
from neuroflow.keras.utils.progbar import Progbar

ANSI = re.compile(r"\x1b\[[0-9;]*m")
X = np.linspace(0.0, 1.0, 30, dtype=np.float32).reshape(10, 3)
Y = np.linspace(-1.0, 1.0, 10, dtype=np.float32).reshape(10, 1)
STEPS = 5  # 10 samples in batches of 2
EPOCH = [f"{step}/{STEPS}" for step in range(1, STEPS + 1)] + [f"{STEPS}/{STEPS}"]
UNKNOWN_EPOCH = [f"{step}/Unknown" for step in range(1, STEPS + 1)] + [f"{STEPS}/{STEPS}"]


class FakeTerminal(io.StringIO):
    """A text stream that claims to be a terminal: the bar is redrawn in place."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def every_step_drawn(monkeypatch):
    """Redraw at every step (not every 0.05 s), outside any notebook."""
    monkeypatch.setattr(callback_module, "Progbar", functools.partial(Progbar, interval=0.0))
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


def model():
    net = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    net.compile(loss="mse", optimizer="sgd")
    return net


def unknown_length():
    """Batches whose count the dataset cannot know before it runs (a filter)."""
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(2).filter(lambda x, y: True)
    assert int(dataset.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    return dataset


def printed(stream, call) -> str:
    """What ``call()`` prints to ``stream`` standing in for stdout."""
    with contextlib.redirect_stdout(stream):
        call()
    return stream.getvalue()


def frames(raw: str) -> list[str]:
    """Each line or redraw of ``raw``, reduced to its first word (the step count)."""
    words = []
    for line in ANSI.sub("", raw).replace("\b", "").split("\n"):
        words += [part.split()[0] for part in line.split("\r") if part.strip()]
    return words


def test_fit_counts_steps_from_one_to_n():
    raw = printed(FakeTerminal(), lambda: model().fit(X, Y, batch_size=2, epochs=2, verbose=1))
    assert frames(raw) == ["Epoch", *EPOCH, "Epoch", *EPOCH]


def test_fit_on_data_of_unknown_length_learns_it_after_one_epoch():
    raw = printed(FakeTerminal(), lambda: model().fit(unknown_length(), epochs=2, verbose=1))
    assert frames(raw) == ["Epoch", *UNKNOWN_EPOCH, "Epoch", *EPOCH]


def test_validation_draws_no_bar_of_its_own():
    raw = printed(FakeTerminal(),
                  lambda: model().fit(X, Y, batch_size=2, validation_data=(X, Y), verbose=1))
    assert frames(raw) == EPOCH


@pytest.mark.parametrize("call, expected", [
    (lambda net: net.evaluate(X, Y, batch_size=2, verbose=1), EPOCH),
    (lambda net: net.evaluate(unknown_length(), verbose=1), UNKNOWN_EPOCH),
    (lambda net: net.predict(X, batch_size=2, verbose=1), EPOCH),
    (lambda net: net.predict(unknown_length().map(lambda x, y: x), verbose=1), UNKNOWN_EPOCH),
], ids=["evaluate", "evaluate unknown length", "predict", "predict unknown length"])
def test_evaluate_and_predict_count_from_one(call, expected):
    net = model()
    assert frames(printed(FakeTerminal(), lambda: call(net))) == expected


@pytest.mark.parametrize("data", ["arrays", "unknown length"])
def test_verbose_2_prints_one_n_of_n_line_per_epoch(data):
    def fit():
        if data == "arrays":
            model().fit(X, Y, batch_size=2, epochs=3, verbose=2)
        else:
            model().fit(unknown_length(), epochs=3, verbose=2)

    lines = printed(io.StringIO(), fit).splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    for line in lines[1::2]:
        assert re.fullmatch(rf"{STEPS}/{STEPS} - \d+s - \d+[mu]?s/step - loss: \d\.\d{{4}}",
                            line), line


def test_a_file_gets_one_final_n_of_n_line_per_epoch():
    lines = printed(io.StringIO(),
                    lambda: model().fit(unknown_length(), epochs=2, verbose=1)).splitlines()
    assert [line.split()[0] for line in lines] == ["Epoch", f"{STEPS}/{STEPS}"] * 2
