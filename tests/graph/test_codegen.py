"""Printed IR and generated source: golden files, determinism, and debuggability.

To accept an intended change of the golden files, run
``NEUROFLOW_UPDATE_GOLDEN=1 python -m pytest tests/graph/test_codegen.py`` and
review the diff.
"""

from __future__ import annotations

import linecache
import os
import re

import numpy as np
import pytest
from _reference import REFERENCES

import neuroflow as tf
from neuroflow.graph import codegen
from neuroflow.graph.function import Function

HERE = os.path.basename(__file__)


def describe(build) -> str:
    """Everything a reviewer should see change: IR before and after passes, plan, source."""
    fn, args = build()
    concrete = tf.function(fn).get_concrete_function(*args)
    return "\n".join([
        "# traced", str(concrete.graph), "",
        "# optimized", str(concrete.optimized), "",
        "# memory plan", concrete.plan.summary(), "",
        "# generated source", concrete.source])


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_golden_ir_and_source(name, golden):
    text = describe(REFERENCES[name])
    assert describe(REFERENCES[name]) == text  # deterministic within a process
    golden(name, text)


def test_the_ir_prints_one_line_per_node_with_types():
    fn, args = REFERENCES["dense_forward"]()
    graph = tf.function(fn).get_concrete_function(*args).graph
    lines = str(graph).splitlines()
    assert lines[0] == "graph dense(v0: f32[8,4]):"
    assert len(lines) == 2 + len(graph.nodes) + len(graph.constants)
    assert "  v2: f32[8,3] = matmul v0 v1" in lines
    assert "  v1: f32[4,3] = read_variable dense/kernel:0" in lines


def test_source_has_one_line_per_node_naming_op_and_user_line():
    @tf.function
    def f(x, y):
        z = tf.matmul(x, y)
        return tf.reduce_sum(z, axis=0), tf.cast(z > 0.0, tf.bool)

    f(tf.ones([2, 3]), tf.ones([3, 2]))
    lines = f.source.splitlines()
    nodes = f.graph.nodes
    assert lines[0] == "def f(_buffers, v0, v1):" and lines[-1].startswith("    return [")
    first = codegen.first_node_line(f.source) - 1
    assert len(lines) == len(nodes) + first + 1
    for line, node in zip(lines[first:], nodes):
        assert re.search(rf"  # {node.op} @ {HERE}:\d+$", line), line
    assert "dtype=np.float32" in f.source


def test_generated_lines_are_registered_with_linecache():
    @tf.function
    def f(x):
        return tf.exp(x) * 2.0

    f(tf.ones([3]))
    compiled = f.get_concrete_function(tf.ones([3]))._last_plan.compiled
    filename = compiled.__neuroflow_filename__
    for number, line in enumerate(f.source.splitlines(), start=1):
        assert linecache.getline(filename, number) == line + "\n"
    assert compiled.__code__.co_filename == filename


def test_emission_is_pure_and_never_mentions_addresses():
    fn, args = REFERENCES["mlp_sgd_step"]()
    concrete = tf.function(fn).get_concrete_function(*args)
    first, _ = codegen.emit_source(concrete.optimized, concrete.plan)
    second, _ = codegen.emit_source(concrete.optimized, concrete.plan)
    assert first == second == concrete.source
    assert not re.search(r"0x[0-9a-f]{6,}", first + str(concrete.optimized))


def test_data_dependent_sizes_stay_unknown_and_get_no_buffers():
    @tf.function
    def f(x, mask):
        return tf.reduce_sum(tf.exp(tf.boolean_mask(x, mask)) * 2.0)

    f(tf.ones([4]), tf.constant([True, False, True, True]))
    assert "f32[n" in str(f.graph)  # the masked size is an unknown, named n...
    assert "out=" not in f.source
    assert float(f(tf.ones([4]), tf.constant([True, False, False, False]))) == \
        pytest.approx(2 * np.e)


def test_unoptimized_code_computes_the_same():
    def f(x, w):
        return tf.nn.softmax(tf.nn.relu(tf.matmul(x, w) + 1.0))

    x, w = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3)), tf.ones([3, 4])
    plain = Function(f, optimize=False)
    plain(x, w)
    assert "out=" not in plain.source and "dense" not in str(plain.graph)
    np.testing.assert_allclose(plain(x, w).numpy(), tf.function(f)(x, w).numpy(), rtol=1e-6)
    np.testing.assert_allclose(plain(x, w).numpy(), f(x, w).numpy(), rtol=1e-6)


def test_failing_node_maps_a_traceback_to_its_node():
    @tf.function
    def f(x, w):
        return tf.exp(tf.matmul(x, w))

    concrete = f.get_concrete_function(tf.ones([2, 3]), tf.ones([3, 2]))
    concrete(tf.ones([2, 3]), tf.ones([3, 2]))
    plan = concrete._last_plan
    try:
        plan.run([np.ones((2, 4), np.float32), np.ones((3, 2), np.float32)])
    except ValueError as error:
        node = codegen.failing_node(plan.graph, plan.compiled, plan.source,
                                    error.__traceback__)
    assert node is not None and node.op == "matmul"
