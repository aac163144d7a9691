"""Plain-text rendering of ``Model.summary()`` in the look of Keras 3.

Keras 3 draws its summary with a ``rich`` table (heavy-headed box, a rule
between every row, one space of padding on each side of a cell) followed by
the parameter totals.  This module reproduces that output with the standard
library only, so that the text printed by neuroflow can be compared line for
line with what Keras prints for the same model.

The module knows nothing about layers or models: the caller hands over
already-formatted cells (layer label, output shape) and raw parameter counts.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

__all__ = [
    "format_param_size",
    "format_summary",
    "readable_memory_size",
]

# Box-drawing characters of the heavy-headed table Keras 3 prints.
_HEAD_TOP = ("┏", "━", "┳", "┓")
_HEAD_ROW = ("┃", " ", "┃", "┃")
_HEAD_RULE = ("┡", "━", "╇", "┩")
_BODY_ROW = ("│", " ", "│", "│")
_BODY_RULE = ("├", "─", "┼", "┤")
_BOTTOM = ("└", "─", "┴", "┘")

_ELLIPSIS = "…"
# One blank column each side of the cell content.
_PADDING = 1

# Layouts Keras 3 uses: (default line length, right edges of the columns as
# fractions of the line, headers, justification).
_SEQUENTIAL_LAYOUT = (
    88,
    (0.45, 0.80, 1.0),
    ("Layer (type)", "Output Shape", "Param #"),
    ("left", "left", "right"),
)
_FUNCTIONAL_LAYOUT = (
    108,
    (0.3, 0.56, 0.74, 1.0),
    ("Layer (type)", "Output Shape", "Param #", "Connected to"),
    ("left", "left", "right", "left"),
)

SummaryRow = tuple  # (label, output_shape, param_count[, connected_to])


def readable_memory_size(num_bytes: float) -> str:
    """Format a byte count with a 1024 base and two decimals (``339.20 KB``).

    A unit is kept while the value is below 1024 of it, so ``1023.5`` bytes
    reads ``1023.50 B`` and 1024 bytes reads ``1.00 KB``, as in Keras.
    """
    size = float(num_bytes)
    units = ("B", "KB", "MB", "GB", "TB")
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    # Beyond terabytes the count of petabytes simply grows.
    return f"{size:.2f} PB"


def format_param_size(count: int, bytes_per_param: float = 4) -> str:
    """Memory taken by ``count`` parameters of ``bytes_per_param`` bytes each.

    Returns only the size (``"339.20 KB"``); :func:`format_summary` wraps it
    into the ``86,835 (339.20 KB)`` form of the totals lines.
    """
    return readable_memory_size(count * bytes_per_param)


def _default_line_length(preferred: int) -> int:
    """Line length Keras picks when none is given.

    Keras caps its preferred width at the terminal width minus four.  When
    output is not a terminal, the terminal size falls back to 80 columns, which
    is why summaries in logs and notebooks are 76 characters wide.
    ``COLUMNS`` in the environment overrides the detected width.
    """
    columns = shutil.get_terminal_size(fallback=(80, 24)).columns
    return min(preferred, columns - 4)


def _reduce_evenly(widths: list[int], excess: int) -> list[int]:
    """Take ``excess`` columns away from ``widths``, spread evenly.

    Each column in turn gives up its rounded share of what is still to be
    removed, divided over the columns not yet visited.  Rounding is Python's
    (half to even); this is what makes the reference table come out as
    33/24/15 from requested widths 36/28/18.
    """
    result = []
    remaining = excess
    for index, width in enumerate(widths):
        columns_left = len(widths) - index
        share = min(width, round(remaining / columns_left))
        result.append(width - share)
        remaining -= share
    return result


def _column_widths(positions: Sequence[float], line_length: int) -> list[int]:
    """Outer width (content plus padding) of each column, borders excluded.

    The line is first cut at ``positions``; each cut gets the padding added on
    top, and the total is then brought back down to the line length minus the
    vertical borders, as the rich table under Keras does.
    """
    requested = []
    edge = 0
    for position in positions:
        width = int(position * line_length) - edge
        requested.append(width)
        edge += width
    outer = [max(width, 0) + 2 * _PADDING for width in requested]
    borders = len(positions) + 1
    available = max(line_length - borders, 0)
    if sum(outer) > available:
        outer = _reduce_evenly(outer, sum(outer) - available)
    # A column always keeps one character of content so that nothing breaks
    # when a tiny line length is asked for.
    return [max(width, 1 + 2 * _PADDING) for width in outer]


def _truncate(line: str, width: int) -> str:
    """Cut ``line`` to ``width`` characters, marking the cut with an ellipsis."""
    if len(line) <= width:
        return line
    if width <= 1:
        return _ELLIPSIS[:width]
    return line[: width - 1] + _ELLIPSIS


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` onto lines of at most ``width`` characters.

    Lines break between words.  A word longer than the whole cell is not split
    but gets a line of its own, truncated with an ellipsis, which is how long
    layer names look in Keras.  Explicit newlines are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            if not word:
                # Runs of spaces collapse; they never carry meaning in cells.
                continue
            if not current:
                current = word
            elif len(current) + 1 + len(word) <= width:
                current += " " + word
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return [_truncate(line, width) for line in lines]


def _rule(chars: tuple[str, str, str, str], widths: Sequence[int]) -> str:
    """A horizontal border line: left corner, fills joined, right corner."""
    left, fill, joint, right = chars
    return left + joint.join(fill * width for width in widths) + right


def _render_row(
    cells: Sequence[str],
    widths: Sequence[int],
    justify: Sequence[str],
    chars: tuple[str, str, str, str],
    align_bottom: bool = False,
) -> list[str]:
    """Lay out one table row, possibly over several lines.

    Cells are wrapped to their content width and filled up with blank lines
    to the height of the tallest cell.  Body cells sit at the top; header
    cells sit at the bottom, next to the rule under them, as in Keras.
    """
    wrapped = [_wrap(cell, width - 2 * _PADDING) for cell, width in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped)
    if align_bottom:
        wrapped = [[""] * (height - len(lines)) + lines for lines in wrapped]
    left, _, separator, right = chars
    pad = " " * _PADDING
    out = []
    for line_index in range(height):
        parts = []
        for lines, width, how in zip(wrapped, widths, justify):
            content_width = width - 2 * _PADDING
            text = lines[line_index] if line_index < len(lines) else ""
            if how == "right":
                text = text.rjust(content_width)
            else:
                text = text.ljust(content_width)
            parts.append(pad + text + pad)
        out.append(left + separator.join(parts) + right)
    return out


def _format_params(count: int | None) -> str:
    """Parameter count with thousands separators; ``None`` means unbuilt."""
    if count is None:
        return "0 (unbuilt)"
    return f"{count:,}"


def format_summary(
    model_name: str,
    rows: Sequence[SummaryRow],
    total_params: int,
    trainable_params: int,
    non_trainable_params: int,
    bytes_per_param: float = 4,
    line_length: int | None = None,
    optimizer_params: int | None = None,
) -> str:
    """Render a Keras 3 style model summary as plain text.

    Args:
        model_name: Shown as ``Model: "<name>"`` on the first line.
        rows: One tuple per layer: ``(label, output_shape, param_count)`` where
            ``label`` is e.g. ``"dense (Dense)"``, ``output_shape`` is already
            a string (``"(None, 10)"``, or ``"?"`` for an unbuilt layer) and
            ``param_count`` is an int, or ``None`` for an unbuilt layer
            (shown as ``0 (unbuilt)``).  A fourth item, the "Connected to"
            text, switches to the four-column layout Keras uses for
            functional models; rows without it get an empty cell.
        total_params: Count shown on the "Total params" line.  Keras includes
            the optimizer's variables in it once the optimizer is built.
        trainable_params: Count shown on the "Trainable params" line.
        non_trainable_params: Count shown on the "Non-trainable params" line.
        bytes_per_param: Size of one parameter, used for the memory figures.
        line_length: Total width of the table.  ``None`` picks Keras's
            default: 88 (108 for the four-column layout) capped at the
            terminal width minus 4, hence 76 when not writing to a terminal.
        optimizer_params: When given, an extra "Optimizer params" line is
            printed, as Keras does once the optimizer has been built.

    Returns:
        The summary, lines joined by ``"\\n"``, without a trailing newline and
        without any terminal styling.
    """
    functional = any(len(row) > 3 for row in rows)
    default_length, positions, headers, justify = (
        _FUNCTIONAL_LAYOUT if functional else _SEQUENTIAL_LAYOUT
    )
    if line_length is None:
        line_length = _default_line_length(default_length)
    widths = _column_widths(positions, line_length)

    lines = [f'Model: "{model_name}"', _rule(_HEAD_TOP, widths)]
    lines += _render_row(headers, widths, justify, _HEAD_ROW, align_bottom=True)
    lines.append(_rule(_HEAD_RULE, widths))
    for index, row in enumerate(rows):
        if index:
            lines.append(_rule(_BODY_RULE, widths))
        cells = [str(row[0]), str(row[1]), _format_params(row[2])]
        if functional:
            cells.append(str(row[3]) if len(row) > 3 else "")
        lines += _render_row(cells, widths, justify, _BODY_ROW)
    lines.append(_rule(_BOTTOM, widths))

    totals = [
        ("Total params", total_params),
        ("Trainable params", trainable_params),
        ("Non-trainable params", non_trainable_params),
    ]
    if optimizer_params is not None:
        totals.append(("Optimizer params", optimizer_params))
    for title, count in totals:
        size = format_param_size(count, bytes_per_param)
        lines.append(f" {title}: {count:,} ({size})")
    return "\n".join(lines)
