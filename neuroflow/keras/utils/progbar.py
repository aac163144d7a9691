"""Training progress line in the format of Keras 3.

A finished epoch reads exactly as Keras 3 prints it::

    1719/1719 ━━━━━━━━━━━━━━━━━━━━ 2s 856us/step - accuracy: 0.6657 - loss: 1.0447

While the epoch runs, the time field is the estimated time left instead of
the time spent.  On a terminal (or in a Jupyter kernel) the line is redrawn in
place with ``\\r`` and coloured with ANSI codes as Keras does.  When the output
is a file or a pipe, nothing is written until the epoch is finalized and then
exactly one clean line is written: no carriage returns, no escape codes, so
logs stay readable.

The module uses the standard library and NumPy only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

import numpy as np

__all__ = ["Progbar"]

# ANSI styles Keras 3 uses for the parts of the line.
_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_WHITE = "\x1b[37m"
_RESET = "\x1b[0m"

_BAR_CHAR = "━"

Values = Mapping[str, Any] | Iterable[tuple[str, Any]] | None


def _format_per_unit(seconds: float, unit_name: str) -> str:
    """Time per step as Keras shows it: ``856us/step``, ``5ms/step``, ``1s/step``.

    Whole numbers only; the unit is the largest one the duration reaches.  A
    zero duration (nothing measured yet) reads ``0s/step``.
    """
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(seconds: float) -> str:
    """Time left: ``42s`` below a minute, then ``m:ss``, then ``h:mm:ss``."""
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _format_value(value: Any) -> str:
    """A metric value: four decimals, or scientific notation when tiny.

    Keras switches to ``%.4e`` for magnitudes up to 1e-3 so that small losses
    do not collapse to ``0.0000``; zero itself therefore reads ``0.0000e+00``.
    Arrays are averaged; values that are not numbers are shown as text.
    """
    try:
        number = float(np.mean(np.asarray(value, dtype=np.float64)))
    except (TypeError, ValueError):
        return str(value)
    if abs(number) > 1e-3:
        return f"{number:.4f}"
    return f"{number:.4e}"


def _in_kernel() -> bool:
    """Whether this process is a running Jupyter kernel (not merely one that imported it)."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def _is_dynamic(stream: TextIO) -> bool:
    """Whether the line can be redrawn in place on ``stream``.

    True on a terminal, and inside an IPython/Jupyter kernel whose output
    widget understands ``\\r`` although its stream is not a tty.
    """
    if _in_kernel():
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:
        # A closed stream cannot be a terminal.
        return False


class Progbar:
    """Progress bar printing the Keras 3 training line.

    Args:
        target: Total number of steps, or ``None`` when unknown (the line then
            reads ``current/Unknown`` with the time spent so far).
        width: Number of characters of the bar.
        verbose: 0 prints nothing, 1 prints the bar, 2 prints one short line
            per epoch (``1719/1719 - 2s - 1ms/step - loss: ...``).
        interval: Minimum number of seconds between two redraws of a dynamic
            line.  The final draw of an epoch is never skipped.
        stateful_metrics: Accepted for API compatibility.  Every value is
            treated as stateful: the trainer already passes running averages,
            so the last value given is the one displayed.
        unit_name: Name of a step in the per-step time (``"step"``).
        stream: Where to write; ``None`` means ``sys.stdout`` at write time.
        dynamic: Redraw the line in place.  ``None`` detects it: true on a
            terminal or inside a Jupyter kernel, false for files and pipes.
        clock: Function returning seconds; injectable for tests.
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        stream: TextIO | None = None,
        dynamic: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._stream = stream
        self._dynamic = _is_dynamic(self.stream) if dynamic is None else bool(dynamic)
        self._clock = clock

        self._start = clock()
        # None until something has been drawn, so the first update always is.
        self._last_update: float | None = None
        # Step 1 often carries one-off costs (graph building, caches); the
        # per-step estimate is taken from the steps after it.
        self._time_after_first_step: float | None = None
        self._seen_so_far = 0
        # Insertion-ordered: metrics are shown in the order first given.
        self._values: dict[str, Any] = {}
        # Visible width of the line last drawn, to blank out its leftovers.
        self._prev_width = 0

    @property
    def stream(self) -> TextIO:
        """The stream written to."""
        return self._stream if self._stream is not None else sys.stdout

    @property
    def dynamic(self) -> bool:
        """Whether the line is redrawn in place."""
        return self._dynamic

    def update(
        self,
        current: int,
        values: Values = None,
        finalize: bool | None = None,
    ) -> None:
        """Record progress up to step ``current`` and draw the line if due.

        Args:
            current: Index of the step just completed (1-based count).
            values: ``(name, value)`` pairs or a mapping of metrics to show;
                the latest value of each name is displayed.
            finalize: Whether this is the last update of the epoch.  ``None``
                means ``current >= target`` (never, when target is unknown).
                A trainer that adds validation metrics at the end of the epoch
                should pass ``finalize=False`` for its per-batch updates, so
                that only the epoch-end call prints the final line.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values is not None:
            items = values.items() if isinstance(values, Mapping) else values
            for name, value in items:
                self._values[name] = value
        self._seen_so_far = current

        now = self._clock()
        per_step = self._step_duration(current, now)

        if self.verbose == 1:
            if self._dynamic:
                due = self._last_update is None or now - self._last_update >= self.interval
                if not (due or finalize):
                    return
                self._redraw(current, now, per_step, finalize)
            elif finalize:
                # Files and pipes get the finished line only, once.
                segments = self._segments(current, now, per_step, finalize)
                self._write("".join(text for text, _ in segments) + "\n")
        elif self.verbose == 2 and finalize:
            self._write(self._short_line(current, now, per_step) + "\n")
        self._last_update = now

    def add(self, n: int, values: Values = None) -> None:
        """Advance by ``n`` steps; see :meth:`update`."""
        self.update(self._seen_so_far + n, values)

    # -- internals ---------------------------------------------------------

    def _step_duration(self, current: int, now: float) -> float:
        """Estimated seconds per step, 0 before the first step."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            duration = (now - self._time_after_first_step) / (current - 1)
        else:
            duration = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return duration

    def _count(self, current: int, pad_unknown: bool) -> str:
        """``  12/1719``: the step padded to the width of the target."""
        if self.target is None:
            return f"{current:7d}/Unknown" if pad_unknown else f"{current}/Unknown"
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _segments(
        self, current: int, now: float, per_step: float, finalize: bool
    ) -> list[tuple[str, str | None]]:
        """The verbose=1 line as ``(text, ansi_style)`` pieces.

        Keeping styles apart from text lets the same line be written plainly
        to files and coloured on terminals, and gives its visible width.
        """
        segments: list[tuple[str, str | None]] = []
        if self.target is None:
            segments.append((self._count(current, pad_unknown=True), None))
        else:
            segments.append((self._count(current, pad_unknown=False), _BOLD))
            segments.append((" ", None))
            if self.target > 0:
                fraction = min(max(current / self.target, 0.0), 1.0)
            else:
                fraction = 1.0
            done = int(self.width * fraction)
            segments.append((_BAR_CHAR * done, _GREEN))
            # On a terminal the rest of the bar is drawn in another colour;
            # without colour it must be blank to be told apart.
            rest = self.width - done
            segments.append((_BAR_CHAR * rest, _WHITE) if self._dynamic else (" " * rest, None))

        if self.target is not None and not finalize:
            shown_time = _format_eta(per_step * (self.target - current))
        else:
            shown_time = f"{now - self._start:.0f}s"
        segments.append((" ", None))
        segments.append((shown_time, _BOLD))
        segments.append((" " + _format_per_unit(per_step, self.unit_name), None))
        segments.append((self._metrics_text(), None))
        return segments

    def _metrics_text(self) -> str:
        """`` - name: value`` for every metric, in first-seen order."""
        return "".join(f" - {name}: {_format_value(value)}" for name, value in self._values.items())

    def _short_line(self, current: int, now: float, per_step: float) -> str:
        """The verbose=2 line: ``1719/1719 - 2s - 1ms/step - loss: ...``."""
        return (
            f"{self._count(current, pad_unknown=False)}"
            f" - {now - self._start:.0f}s"
            f" - {_format_per_unit(per_step, self.unit_name)}"
            f"{self._metrics_text()}"
        )

    def _redraw(self, current: int, now: float, per_step: float, finalize: bool) -> None:
        """Overwrite the current terminal line with the new state."""
        segments = self._segments(current, now, per_step, finalize)
        width = sum(len(text) for text, _ in segments)
        line = "".join(
            f"{style}{text}{_RESET}" if style and text else text for text, style in segments
        )
        # A shorter line than the previous one would leave its tail visible.
        line += " " * max(self._prev_width - width, 0)
        if finalize:
            self._write("\r" + line + "\n")
            # The cursor now sits on a fresh line with nothing to erase.
            self._prev_width = 0
        else:
            self._write("\r" + line)
            self._prev_width = width

    def _write(self, text: str) -> None:
        stream = self.stream
        stream.write(text)
        stream.flush()
