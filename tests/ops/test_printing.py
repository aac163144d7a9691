"""``tf.print``: TensorFlow's text for tensors and Python values, printed when the op runs.

The expected texts were checked against TensorFlow 2.21's ``tf.print``.
"""

from __future__ import annotations

import contextlib
import io
import sys

import numpy as np
import pytest
from _opcheck import Fwd, params, run_forward, uniform

import neuroflow as tf
from neuroflow.ops.printing import format_array


def printed(*inputs, **options) -> str:
    """What ``tf.print`` writes to stdout."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        tf.print(*inputs, output_stream=sys.stdout, **options)
    return buffer.getvalue()


def _print_and_read_back(x):
    """Print ``x`` in full and parse the numbers back: the printed text is the value."""
    text = printed(x, summarize=-1)
    numbers = text.replace("[", " ").replace("]", " ").split()
    return tf.constant(np.array(numbers, dtype=np.float64).astype(x.dtype.name)
                       .reshape(tuple(x.shape)))


# The registry coverage test reads these tables (print has no gradient).
FORWARD = {
    "print": [Fwd(_print_and_read_back, lambda x: x, (uniform(3, 4).astype(np.float32),),
                  "float32-round-trip"),
              Fwd(_print_and_read_back, lambda x: x, (uniform(5),), "float64-round-trip"),
              Fwd(_print_and_read_back, lambda x: x, (np.arange(-3, 9, dtype=np.int64),),
                  "int64")],
}
GRADIENTS: dict = {}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("value, dtype, text", [
    ([1.0, 2.5, 3.0], "float32", "[1 2.5 3]"),
    ([0.1, 1e-5, 123456.789], "float32", "[0.1 1e-05 123456.789]"),
    ([1 / 3, float("nan"), float("inf"), -float("inf"), -0.0], "float32",
     "[0.333333343 nan inf -inf -0]"),
    ([0.1, 1 / 3], "float64", "[0.1 0.33333333333333331]"),
    ([1 / 3], "float16", "[0.333251953]"),
    ([True, False], "bool", "[1 0]"),
    (200, "uint8", "200"),
    ([[1, 2], [3, 4]], "int32", "[[1 2]\n [3 4]]"),
])
def test_values_print_as_in_tensorflow(value, dtype, text):
    assert printed(tf.constant(value, dtype=dtype)) == text + "\n"


def test_long_dimensions_are_summarized():
    assert printed(tf.range(10)) == "[0 1 2 ... 7 8 9]\n"
    assert printed(tf.range(10), summarize=2) == "[0 1 ... 8 9]\n"
    assert printed(tf.range(10), summarize=-1) == "[0 1 2 3 4 5 6 7 8 9]\n"
    assert format_array(np.arange(100).reshape(10, 10)).splitlines()[3] == " ..."
    cube = format_array(np.arange(343).reshape(7, 7, 7), summarize=1)
    assert cube == ("[[[0 ... 6]\n  ...\n  [42 ... 48]]\n\n ...\n\n"
                    " [[294 ... 300]\n  ...\n  [336 ... 342]]]")


def test_python_values_and_structures():
    assert printed("x is", tf.constant(3.5), 7, "s") == "x is 3.5 7 s\n"
    assert printed((tf.constant(1), "x"), [tf.constant([1.0, 2.0])]) == "(1, 'x') [[1 2]]\n"
    assert printed({"k": tf.constant(1.5)}) == "{'k': 1.5}\n"
    assert printed("a", "b", sep="-", end="!\n") == "a-b!\n"
    assert printed(tf.Variable([1.5, 2.0])) == "[1.5 2]\n"


def test_default_stream_is_stderr_and_result_is_none(capsys):
    assert tf.print("to stderr", tf.constant(1)) is None
    out, err = capsys.readouterr()
    assert (out, err) == ("", "to stderr 1\n")


def test_prints_on_every_call_of_a_compiled_function(capsys):
    traced = []

    @tf.function
    def f(x):
        traced.append(1)
        tf.print("x =", x, output_stream=sys.stdout)
        return x + 1

    for value in (1, 2, 3):
        f(tf.constant(value))
    assert capsys.readouterr().out == "x = 1\nx = 2\nx = 3\n"
    assert len(traced) == 1
    assert "print" in [node.op for node in f.graph.nodes]
