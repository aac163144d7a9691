"""Compiled-versus-eager case of ``run_callback`` (what tf.summary ops become in a graph):
its answer depends on the values of each call."""

from __future__ import annotations

from frozen_cases import Case, floats

from neuroflow.ops.callbacks import run_callback


def _x(r, n):
    return (floats(r, n, 4),)


CASES: dict = {}

EXTRA_CASES = {
    "run_callback": [Case(lambda x: run_callback(x, callback=lambda a: a.sum() > 0), _x,
                          "positive-sum")],
}
