"""Graph mode's own errors: each says what was expected, what came, and what to do."""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.abstract import Dim, SymbolicValueError
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph import codegen
from neuroflow.graph.interpret import run_graph
from neuroflow.graph.ir import Graph, Node, Value
from neuroflow.graph.passes.specialize import specialize
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops.registry import REGISTRY


def test_input_signature_nesting_must_match():
    f = tf.function(lambda pair: pair[0] + pair[1],
                    input_signature=[[tf.TensorSpec([2]), tf.TensorSpec([2])]])
    assert f([tf.ones([2]), tf.ones([2])]).numpy().tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="nesting of its input_signature"):
        f(tf.ones([2]))


def test_run_arrays_with_the_wrong_arguments_keeps_pythons_error():
    concrete = tf.function(lambda x: x * 2.0).get_concrete_function(tf.ones([3]))
    with pytest.raises(TypeError, match="positional argument"):
        concrete.run_arrays([])


def test_source_of_a_trace_with_unknown_sizes_needs_a_call_first():
    f = tf.function(lambda x: x * 2.0, input_signature=[tf.TensorSpec([None])])
    concrete = f.get_concrete_function(tf.ones([3]))  # traced, nothing run yet
    with pytest.raises(ValueError, match="call it once"):
        _ = concrete.source
    concrete(tf.ones([4]))
    assert "np.multiply" in concrete.source


def test_a_graph_input_of_another_rank_is_refused_naming_the_input():
    concrete = tf.function(lambda x: x + 1.0, input_signature=[tf.TensorSpec([None, 3])]) \
        .get_concrete_function(tf.ones([2, 3]))
    with pytest.raises(InvalidArgumentError, match="rank 1.*traced for rank 2"):
        concrete.run_arrays([np.ones(3, np.float32)])
    with pytest.raises(InvalidArgumentError, match="size 4 on axis 1"):
        concrete.run_arrays([np.ones((2, 4), np.float32)])


def test_inputs_sharing_one_unknown_size_must_agree():
    batch = Dim.fresh("batch")
    f = tf.function(lambda x, y: x * y, input_signature=[tf.TensorSpec((batch, 2)),
                                                         tf.TensorSpec((batch, 2))])
    assert f(np.ones((3, 2), np.float32), np.ones((3, 2), np.float32)).shape == (3, 2)
    with pytest.raises(InvalidArgumentError, match="size 4 on axis 0"):
        f(np.ones((3, 2), np.float32), np.ones((4, 2), np.float32))


def test_sizes_that_do_not_fit_an_op_are_reported_naming_the_op():
    f = tf.function(lambda x, w: tf.matmul(x, w),
                    input_signature=[tf.TensorSpec([None, None]), tf.TensorSpec([3, 2])])
    assert f(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)).shape == (2, 2)
    with pytest.raises(InvalidArgumentError, match="the op matmul .*test_graph_errors"):
        f(np.ones((2, 5), np.float32), np.ones((3, 2), np.float32))


def test_an_attribute_with_a_size_nothing_computes_is_refused():
    x = Value("v0", (2,), np.float32, "input", index=0)
    out = Value("v1", (Dim.fresh("n"),), np.float32, "node")
    lost = Dim.fresh("lost")
    graph = Graph("g", inputs=[x], outputs=[out], nodes=[
        Node("broadcast_to", [x], {"shape": (lost,)}, out, primitive=REGISTRY["broadcast_to"],
             location="here.py:1")])
    with pytest.raises(InvalidArgumentError, match="no earlier value"):
        specialize(graph, [(2,)])


def test_the_interpreter_checks_its_inputs():
    graph = tf.function(lambda x: x + 1.0).get_concrete_function(tf.ones([2])).graph
    with pytest.raises(ValueError, match="takes 1 inputs, received 0"):
        run_graph(graph, [])


def test_a_symbolic_tensor_kept_from_another_trace_is_refused():
    kept = []

    @tf.function
    def first(x):
        kept.append(x * 2.0)
        return x

    first(tf.ones([2]))
    second = tf.function(lambda y: y + kept[0])
    with pytest.raises(SymbolicValueError, match="another tf.function trace"):
        second(tf.ones([2]))


def test_assigning_a_value_of_another_shape_in_a_trace_is_refused():
    v = tf.Variable(np.zeros(3, np.float32))
    f = tf.function(lambda: v.assign(tf.zeros([4])))
    with pytest.raises(ValueError, match=r"shape \(3,\) with a value of shape \(4,\)"):
        f()


def test_traces_do_not_nest_in_one_thread():
    with tracing(Tracer("outer")), pytest.raises(RuntimeError, match="already being traced"):
        with tracing(Tracer("inner")):
            pass


def test_codegen_refuses_what_is_not_plain_code():
    em = codegen.Emitter(Graph("g"), {})
    with pytest.raises(ValueError, match="not an identifier"):
        em.bind("A-", object())
    with pytest.raises(ValueError, match="cannot compute"):
        em.literal({1: Dim.fresh("d")})
    with pytest.raises(ValueError, match="unexpected dtype"):
        em.literal(np.dtype("V8"))
    with pytest.raises(ValueError, match="not an identifier"):
        codegen._checked_identifier("c1; import os")
