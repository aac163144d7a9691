"""Tests for the Keras 3 style model summary text.

The expected tables are what Keras 3 prints for the same models (checked
against Keras 3.15 with a plain, non-terminal output).
"""

from __future__ import annotations

import pytest

from neuroflow.keras.utils.summary import (
    format_param_size,
    format_summary,
    readable_memory_size,
)

REFERENCE_ROWS = [
    ("flatten (Flatten)", "(None, 784)", 0),
    ("dense (Dense)", "(None, 100)", 78500),
    ("dense_1 (Dense)", "(None, 75)", 7575),
    ("dense_2 (Dense)", "(None, 10)", 760),
]

REFERENCE = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ flatten (Flatten)               │ (None, 784)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 100)            │        78,500 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 75)             │         7,575 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 10)             │           760 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 86,835 (339.20 KB)
 Trainable params: 86,835 (339.20 KB)
 Non-trainable params: 0 (0.00 B)"""


@pytest.fixture
def terminal_80(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the terminal width to 80 columns, the width of any non-terminal."""
    monkeypatch.setenv("COLUMNS", "80")


def test_reference_model_default_width(terminal_80: None) -> None:
    text = format_summary("sequential", REFERENCE_ROWS, 86835, 86835, 0)
    assert text == REFERENCE


def test_reference_model_explicit_width() -> None:
    assert format_summary("sequential", REFERENCE_ROWS, 86835, 86835, 0, line_length=76) == (
        REFERENCE
    )


def test_default_width_follows_terminal_up_to_88(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    lines = format_summary("sequential", REFERENCE_ROWS, 86835, 86835, 0).splitlines()
    # Keras's preferred 88 columns, split 38/29/17 once padding and borders
    # are accounted for.
    assert lines[1] == "┏" + "━" * 38 + "┳" + "━" * 29 + "┳" + "━" * 17 + "┓"
    assert all(len(line) == 88 for line in lines[1:-3])

    monkeypatch.setenv("COLUMNS", "64")
    lines = format_summary("sequential", REFERENCE_ROWS, 86835, 86835, 0).splitlines()
    assert all(len(line) == 60 for line in lines[1:-3])


def test_narrow_table_wraps_header_at_the_bottom_and_truncates() -> None:
    rows = [
        ("conv2d_transpose_with_a_really_long_name (Conv2DTranspose)", "(None, 30, 30, 32)", 896),
        ("dense (Dense)", "(None, 1234567)", 4938268),
    ]
    expected = """\
Model: "narrow"
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃                 ┃ Output     ┃ Param ┃
┃ Layer (type)    ┃ Shape      ┃     # ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ conv2d_transpo… │ (None, 30, │   896 │
│ (Conv2DTranspo… │ 30, 32)    │       │
├─────────────────┼────────────┼───────┤
│ dense (Dense)   │ (None,     │ 4,93… │
│                 │ 1234567)   │       │
└─────────────────┴────────────┴───────┘
 Total params: 4,939,164 (18.84 MB)
 Trainable params: 4,939,164 (18.84 MB)
 Non-trainable params: 0 (0.00 B)"""
    assert format_summary("narrow", rows, 4939164, 4939164, 0, line_length=40) == expected


def test_long_names_wrap_inside_their_cell() -> None:
    rows = [
        ("conv2d_transpose_with_a_really_long_name (Conv2DTranspose)", "(None, 30, 30, 32)", 896),
        ("x y z w a b c d e f g h i j k l m n o p q r s t (Flatten)", "(None, 28800)", 0),
        ("a (Dense)", "(None, 1234567)", 4938268),
    ]
    text = format_summary("long", rows, 4939164, 4939164, 0, line_length=76)
    lines = text.splitlines()
    assert lines[4:11] == [
        "│ conv2d_transpose_with_a_really… │ (None, 30, 30, 32)     │           896 │",
        "│ (Conv2DTranspose)               │                        │               │",
        "├─────────────────────────────────┼────────────────────────┼───────────────┤",
        "│ x y z w a b c d e f g h i j k l │ (None, 28800)          │             0 │",
        "│ m n o p q r s t (Flatten)       │                        │               │",
        "├─────────────────────────────────┼────────────────────────┼───────────────┤",
        "│ a (Dense)                       │ (None, 1234567)        │     4,938,268 │",
    ]
    # Whatever the content, the table stays rectangular.
    assert {len(line) for line in lines[1:-3]} == {76}


def test_unbuilt_layers() -> None:
    rows = [("dense_3 (Dense)", "?", None), ("dense_4 (Dense)", "?", None)]
    lines = format_summary("sequential_2", rows, 0, 0, 0, line_length=76).splitlines()
    assert lines[4] == (
        "│ dense_3 (Dense)                 │ ?                      │   0 (unbuilt) │"
    )
    assert lines[6] == (
        "│ dense_4 (Dense)                 │ ?                      │   0 (unbuilt) │"
    )
    assert lines[-3:] == [
        " Total params: 0 (0.00 B)",
        " Trainable params: 0 (0.00 B)",
        " Non-trainable params: 0 (0.00 B)",
    ]


def test_thousands_separators() -> None:
    rows = [("big (Dense)", "(None, 4096)", 1234567)]
    text = format_summary("m", rows, 1234567, 1000000, 234567, line_length=76)
    assert "│     1,234,567 │" in text
    assert " Total params: 1,234,567 (4.71 MB)" in text
    assert " Trainable params: 1,000,000 (3.81 MB)" in text
    assert " Non-trainable params: 234,567 (916.28 KB)" in text


def test_functional_layout_and_optimizer_line() -> None:
    rows = [
        ("in_a (InputLayer)", "(None, 8)", 0, "-"),
        ("concatenate (Concatenate)", "(None, 16)", 0, "in_a[0][0], in_b[0][0]"),
    ]
    expected = """\
Model: "functional"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ in_a (InputLayer)   │ (None, 8)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 16)        │          0 │ in_a[0][0],       │
│ (Concatenate)       │                   │            │ in_b[0][0]        │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 314 (1.23 KB)
 Trainable params: 104 (416.00 B)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 210 (840.00 B)"""
    text = format_summary("functional", rows, 314, 104, 0, line_length=76, optimizer_params=210)
    assert text == expected


def test_empty_model() -> None:
    lines = format_summary("empty", [], 0, 0, 0, line_length=50).splitlines()
    assert lines[1:5] == [
        "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━┓",
        "┃ Layer (type)        ┃ Output Shape   ┃ Param # ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━┩",
        "└─────────────────────┴────────────────┴─────────┘",
    ]


def test_output_is_plain_text() -> None:
    text = format_summary("sequential", REFERENCE_ROWS, 86835, 86835, 0, line_length=76)
    assert "\x1b" not in text
    assert not text.endswith("\n")


@pytest.mark.parametrize(
    ("count", "bytes_per_param", "expected"),
    [
        (86835, 4, "339.20 KB"),
        (0, 4, "0.00 B"),
        (104, 4, "416.00 B"),
        (255, 4, "1020.00 B"),
        (256, 4, "1.00 KB"),
        (1234567, 4, "4.71 MB"),
        (1234567, 2, "2.35 MB"),
        (3 * 2**30, 1, "3.00 GB"),
        (2**40, 8, "8.00 TB"),
    ],
)
def test_format_param_size(count: int, bytes_per_param: int, expected: str) -> None:
    assert format_param_size(count, bytes_per_param) == expected


def test_readable_memory_size_keeps_unit_below_1024() -> None:
    assert readable_memory_size(1023.5) == "1023.50 B"
    assert readable_memory_size(1024) == "1.00 KB"
    assert readable_memory_size(1041520) == "1017.11 KB"


def test_bytes_per_param_changes_footer() -> None:
    text = format_summary(
        "sequential", REFERENCE_ROWS, 86835, 86835, 0, bytes_per_param=2, line_length=76
    )
    assert " Total params: 86,835 (169.60 KB)" in text
