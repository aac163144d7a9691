"""Tests for the Keras 3 style training progress line.

Time is driven by a fake clock so that every printed figure is exact.
"""

from __future__ import annotations

import io
import re
import sys

import numpy as np
import pytest

from neuroflow.keras.utils.progbar import Progbar

FULL_BAR = "━" * 20
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeTerminal(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: colours dropped, ``\\r`` obeyed."""
    lines: list[str] = []
    row: list[str] = []
    col = 0
    for char in ANSI.sub("", raw):
        if char == "\r":
            col = 0
        elif char == "\n":
            lines.append("".join(row).rstrip())
            row, col = [], 0
        else:
            if col < len(row):
                row[col] = char
            else:
                row.append(char)
            col += 1
    if row:
        lines.append("".join(row).rstrip())
    return lines


def run_epoch(
    bar: Progbar,
    clock: FakeClock,
    steps: int,
    first: float,
    per_step: float,
    logs: dict,
    val_logs: dict | None = None,
) -> None:
    """Drive ``bar`` as a trainer does: per-batch updates, then a final one."""
    clock.advance(first)
    bar.update(1, logs, finalize=False)
    for step in range(2, steps + 1):
        clock.advance(per_step)
        bar.update(step, logs, finalize=False)
    bar.update(steps, {**logs, **(val_logs or {})}, finalize=True)


LOGS = {"accuracy": 0.66574, "loss": 1.04471}
VAL_LOGS = {"val_accuracy": 0.81083, "val_loss": 0.53579}
FINISHED = (
    f"1719/1719 {FULL_BAR} 2s 856us/step - accuracy: 0.6657 - loss: 1.0447"
    " - val_accuracy: 0.8108 - val_loss: 0.5358"
)


@pytest.fixture(autouse=True)
def not_in_jupyter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Jupyter kernel loaded by other tests would make every bar dynamic."""
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


def test_finished_epoch_line_to_file() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(1719, stream=stream, clock=clock)
    assert not bar.dynamic
    # A slow first step (tracing) is left out of the per-step time.
    run_epoch(bar, clock, 1719, first=0.5, per_step=0.000856, logs=LOGS, val_logs=VAL_LOGS)
    assert stream.getvalue() == FINISHED + "\n"


def test_file_output_is_one_clean_line_per_epoch() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    for epoch in range(3):
        bar = Progbar(50, stream=stream, clock=clock, interval=0.0)
        for step in range(1, 51):
            clock.advance(0.004)
            bar.update(step, LOGS, finalize=False)
        # Nothing is written before the epoch is finalized.
        assert stream.getvalue().count("\n") == epoch
        bar.update(50, {**LOGS, **VAL_LOGS}, finalize=True)
    text = stream.getvalue()
    assert text.endswith("\n")
    assert len(text.splitlines()) == 3
    for forbidden in ("\r", "\x1b", "\b"):
        assert forbidden not in text
    assert text.splitlines()[0] == (
        f"50/50 {FULL_BAR} 0s 4ms/step - accuracy: 0.6657 - loss: 1.0447"
        " - val_accuracy: 0.8108 - val_loss: 0.5358"
    )


def test_terminal_redraws_in_place() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(1719, stream=stream, clock=clock)
    assert bar.dynamic
    run_epoch(bar, clock, 1719, first=0.5, per_step=0.000856, logs=LOGS, val_logs=VAL_LOGS)
    raw = stream.getvalue()
    # Redrawn many times (throttled to every 0.05 s), coloured, one final newline.
    assert raw.count("\r") > 10
    assert "\x1b[32m" in raw and "\x1b[1m" in raw
    assert raw.endswith("\n") and raw.count("\n") == 1
    assert screen(raw) == [FINISHED]


def test_terminal_throttles_redraws_but_never_the_last() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    # Binary fractions keep the fake time exact.
    bar = Progbar(100, stream=stream, clock=clock, interval=1 / 16)
    for step in range(1, 101):
        clock.advance(1 / 64)
        bar.update(step, finalize=False)
    # The first draw, then one every 4 steps: steps 1, 5, ..., 97.
    assert stream.getvalue().count("\r") == 25
    bar.update(100, finalize=True)
    assert stream.getvalue().count("\r") == 26
    assert screen(stream.getvalue()) == [f"100/100 {FULL_BAR} 2s 16ms/step"]


def test_terminal_line_shows_eta_while_running() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(1719, stream=stream, clock=clock, interval=0.0)
    clock.advance(0.1)
    bar.update(1, {"loss": 2.1}, finalize=False)
    for step in range(2, 13):
        clock.advance(0.005)
        bar.update(step, {"accuracy": 0.3, "loss": 2.1}, finalize=False)
    # 1707 steps left at 5 ms each: 8.5 s, shown truncated to whole seconds.
    # The bar is all "remaining" (drawn in the dim colour, so blank here).
    last_frame = ANSI.sub("", stream.getvalue().split("\r")[-1])
    assert last_frame == (f"  12/1719 {FULL_BAR} 8s 5ms/step - loss: 2.1000 - accuracy: 0.3000")
    assert "\x1b[37m" + FULL_BAR in stream.getvalue()


@pytest.mark.parametrize(
    ("per_step", "eta"),
    [(0.5, "49s"), (0.7, "1:09"), (40.0, "1:06:00")],
)
def test_eta_formats(per_step: float, eta: str) -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(100, stream=stream, clock=clock)
    clock.advance(per_step)
    bar.update(1, finalize=False)
    time_field = screen(stream.getvalue())[-1].split("━")[-1].split()[0]
    assert time_field == eta


def test_shorter_redraw_blanks_the_previous_line() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(10, stream=stream, clock=clock, interval=0.0)
    clock.advance(1.0)
    bar.update(1, {"loss": 123456.0}, finalize=False)
    first_width = len(ANSI.sub("", stream.getvalue()).lstrip("\r"))
    clock.advance(1.0)
    bar.update(2, {"loss": 1.0}, finalize=False)
    second_frame = ANSI.sub("", stream.getvalue().split("\r")[-1])
    assert len(second_frame) == first_width
    assert screen(stream.getvalue()) == [f" 2/10 {FULL_BAR} 8s 1s/step - loss: 1.0000"]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.000856, "856us/step"),
        (0.0000004, "0us/step"),
        (0.005, "5ms/step"),
        (0.0123, "12ms/step"),
        (0.999, "999ms/step"),
        (1.0, "1s/step"),
        (2.4, "2s/step"),
        (0.0, "0s/step"),
    ],
)
def test_time_per_step_units(seconds: float, expected: str) -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(1, stream=stream, clock=clock)
    clock.advance(seconds)
    bar.update(1)
    assert stream.getvalue().split()[3] == expected


def test_unit_name() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(1, stream=stream, clock=clock, unit_name="sample")
    clock.advance(0.002)
    bar.update(1)
    assert " 2ms/sample" in stream.getvalue()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, "0.5000"),
        (1234.56789, "1234.5679"),
        (-0.5, "-0.5000"),
        (0.0010001, "0.0010"),
        (1e-3, "1.0000e-03"),
        (1e-5, "1.0000e-05"),
        (-2e-4, "-2.0000e-04"),
        (0.0, "0.0000e+00"),
        (np.float32(0.25), "0.2500"),
        (np.array([0.2, 0.4]), "0.3000"),
        (float("nan"), "nan"),
    ],
)
def test_metric_value_format(value: object, expected: str) -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(1, stream=stream, clock=clock)
    clock.advance(0.1)
    bar.update(1, [("loss", value)])
    assert stream.getvalue().rstrip("\n").endswith(f" - loss: {expected}")


def test_metrics_keep_first_seen_order_and_show_latest_value() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(3, stream=stream, clock=clock)
    clock.advance(0.1)
    bar.update(1, [("loss", 3.0), ("accuracy", 0.1)])
    clock.advance(0.1)
    bar.update(2, [("accuracy", 0.2), ("loss", 2.0)])
    clock.advance(0.1)
    bar.update(3, [("loss", 1.0)])
    assert stream.getvalue().endswith(" - loss: 1.0000 - accuracy: 0.2000\n")


def test_unknown_target() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(None, stream=stream, clock=clock)
    for step in range(1, 13):
        clock.advance(0.25)
        bar.update(step, {"loss": 0.1})
    # Without a target nothing finalizes by itself.
    assert stream.getvalue() == ""
    bar.update(12, {"loss": 0.1}, finalize=True)
    assert stream.getvalue() == "     12/Unknown 3s 250ms/step - loss: 0.1000\n"


def test_unknown_target_on_terminal_shows_elapsed_time() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(None, stream=stream, clock=clock, interval=0.0)
    for step in range(1, 5):
        clock.advance(0.5)
        bar.update(step)
    assert screen(stream.getvalue()) == ["      4/Unknown 2s 500ms/step"]


def test_verbose_2_prints_one_short_line() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(1719, verbose=2, stream=stream, clock=clock)
    run_epoch(bar, clock, 1719, first=0.5, per_step=0.000856, logs=LOGS, val_logs=VAL_LOGS)
    assert stream.getvalue() == (
        "1719/1719 - 2s - 856us/step - accuracy: 0.6657 - loss: 1.0447"
        " - val_accuracy: 0.8108 - val_loss: 0.5358\n"
    )


def test_verbose_2_unknown_target() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(None, verbose=2, stream=stream, clock=clock)
    clock.advance(1.0)
    bar.update(7, {"loss": 0.5}, finalize=True)
    assert stream.getvalue() == "7/Unknown - 1s - 143ms/step - loss: 0.5000\n"


def test_verbose_0_is_silent() -> None:
    clock = FakeClock()
    stream = FakeTerminal()
    bar = Progbar(10, verbose=0, stream=stream, clock=clock)
    run_epoch(bar, clock, 10, first=0.1, per_step=0.1, logs=LOGS)
    assert stream.getvalue() == ""


def test_finalize_defaults_to_reaching_the_target() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(4, stream=stream, clock=clock)
    for _ in range(3):
        clock.advance(0.1)
        bar.add(1, {"loss": 0.5})
    assert stream.getvalue() == ""
    clock.advance(0.1)
    bar.add(1, {"loss": 0.25})
    assert stream.getvalue() == f"4/4 {FULL_BAR} 0s 100ms/step - loss: 0.2500\n"


def test_early_stop_leaves_the_rest_of_the_bar_blank_in_files() -> None:
    clock = FakeClock()
    stream = io.StringIO()
    bar = Progbar(10, stream=stream, clock=clock)
    for step in range(1, 6):
        clock.advance(1.0)
        bar.update(step, finalize=False)
    bar.update(5, finalize=True)
    assert stream.getvalue() == f" 5/10 {'━' * 10}{' ' * 10} 5s 1s/step\n"


def test_detects_jupyter(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    shell = types.SimpleNamespace(kernel=object())
    fake_ipython = types.SimpleNamespace(get_ipython=lambda: shell)
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert Progbar(10, stream=io.StringIO()).dynamic
    # ipykernel imported by a tool (e.g. running a notebook) is not a running kernel.
    monkeypatch.setattr(shell, "kernel", None)
    assert not Progbar(10, stream=io.StringIO()).dynamic
    monkeypatch.delitem(sys.modules, "ipykernel")
    assert not Progbar(10, stream=io.StringIO()).dynamic
    assert Progbar(10, stream=FakeTerminal()).dynamic
    assert not Progbar(10, stream=FakeTerminal(), dynamic=False).dynamic


def test_default_stream_is_stdout_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    bar = Progbar(1, clock=clock, dynamic=False)
    clock.advance(0.003)
    bar.update(1, {"loss": 0.5})
    assert capsys.readouterr().out == f"1/1 {FULL_BAR} 0s 3ms/step - loss: 0.5000\n"
