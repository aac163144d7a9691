"""Each graph pass on its own: what it rewrites, what it must leave alone, and purity.

Graphs come from tracing small functions (``traced``) or are built by hand
(``Builder``) where tracing would never produce the pattern (tracing already
folds constants, for example).
"""

from __future__ import annotations

import numpy as np
import pytest
from _graphcheck import calls_of, check_agreement, floats

import neuroflow as tf
from neuroflow.backend import blas
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph import passes
from neuroflow.graph.function import Function
from neuroflow.graph.fused_ops import XENT_WITH_GRAD
from neuroflow.graph.interpret import run_graph
from neuroflow.graph.ir import Graph, Node, Value
from neuroflow.graph.passes import fusion
from neuroflow.graph.passes.memory import _FOREVER, _read_after_first_write, lifetimes
from neuroflow.ops.registry import REGISTRY


def traced(fn, *args):
    """The unoptimized graph of ``fn`` traced on ``args``."""
    return tf.function(fn).get_concrete_function(*args).graph


def ops(graph: Graph) -> list[str]:
    return [node.op for node in graph.nodes]


class Builder:
    """Builds a graph by hand; output shapes come from running each forward on zeros."""

    def __init__(self):
        self.graph = Graph("g")
        self._arrays: dict[str, np.ndarray] = {}

    def _value(self, array, kind, index=-1) -> Value:
        value = Value(f"v{len(self._arrays)}", array.shape, array.dtype, kind, index)
        self._arrays[value.name] = array
        return value

    def input(self, *shape, dtype="float32") -> Value:
        value = self._value(np.zeros(shape, dtype), "input", len(self.graph.inputs))
        self.graph.inputs.append(value)
        return value

    def const(self, array) -> Value:
        value = self._value(np.asarray(array), "const")
        self.graph.constants[value.name] = value_array = np.asarray(array)
        self._arrays[value.name] = value_array
        return value

    def op(self, name, *inputs, **attrs) -> Value:
        prim = REGISTRY[name]
        out = np.asarray(prim.forward(np, *(self._arrays[v.name] for v in inputs), **attrs))
        value = self._value(out, "node")
        self.graph.nodes.append(Node(name, list(inputs), attrs, value, primitive=prim))
        return value

    def outputs(self, *values) -> Graph:
        self.graph.outputs = list(values)
        return self.graph


@pytest.mark.parametrize("graph_pass", [*passes.PIPELINE, fusion.fuse_dense,
                                        fusion.fuse_relu_grad, fusion.fuse_casts,
                                        fusion.fuse_softmax_argmax,
                                        fusion.fuse_softmax_xent_with_grad,
                                        fusion.fuse_matmul_update,
                                        fusion.fuse_elementwise_chains])
def test_passes_return_new_graphs_and_leave_their_input_alone(graph_pass):
    def step(x, w):
        with tf.GradientTape() as tape:
            tape.watch(w)
            y = tf.nn.relu(tf.matmul(x, w) + 1.0)
            loss = tf.reduce_sum(tf.exp(y) * 2.0)
        return loss, tape.gradient(loss, w)

    graph = traced(step, tf.ones([2, 3]), tf.ones([3, 4]))
    before = str(graph)
    result = graph_pass(graph)
    assert str(graph) == before
    assert isinstance(result, Graph) and result is not graph
    # ... and the new graph computes what the old one does.
    arrays = [np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3),
              np.linspace(-0.5, 0.5, 12, dtype=np.float32).reshape(3, 4)]
    for got, want in zip(run_graph(result, arrays), run_graph(graph, arrays), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


# --- dead code ----------------------------------------------------------------------------------


def test_dead_code_removal_keeps_outputs_and_side_effects():
    v = tf.Variable(1.0)

    def f(x):
        unused = tf.exp(x) * 3.0  # noqa: F841 - dead on purpose
        tf.print("side effect")
        v.assign_add(1.0)
        return x * 2.0

    graph = traced(f, tf.ones([2]))
    assert "exp" in ops(graph)
    cleaned = passes.remove_dead_code(graph)
    assert ops(cleaned) == ["print", "assign_add", "multiply"]
    used = {value.name for node in cleaned.nodes for value in node.inputs}
    assert set(cleaned.constants) <= used  # the constant 3.0 went with its node


# --- constant folding ---------------------------------------------------------------------------


def test_constant_folding_evaluates_constant_subgraphs_once():
    b = Builder()
    x = b.input(3)
    total = b.op("add", b.const([1.0, 2.0, 3.0]), b.const(np.float32(1.0)))
    scaled = b.op("multiply", total, b.const(np.float32(2.0)))
    out = b.op("multiply", x, scaled)
    noise = b.op("random", kind="normal", shape=(3,), dtype=np.dtype("float32"), seeds=None)
    graph = b.outputs(out, noise)
    folded = passes.fold_constants(graph)
    assert ops(folded) == ["multiply", "random"]  # the random draw is never folded
    factor = folded.nodes[0].inputs[1]
    assert factor.kind == "const"
    np.testing.assert_array_equal(folded.constants[factor.name], [4.0, 6.0, 8.0])


# --- common subexpressions ----------------------------------------------------------------------


def test_cse_merges_repeated_pure_computations():
    def f(x):
        return tf.exp(x) + tf.exp(x), tf.reduce_sum(x, axis=0) * tf.reduce_sum(x, axis=0)

    merged = passes.eliminate_common_subexpressions(traced(f, tf.ones([2, 3])))
    assert ops(merged).count("exp") == 1 and ops(merged).count("reduce_sum") == 1


def test_cse_keeps_random_draws_and_reads_across_assignments():
    v = tf.Variable(2.0)

    def f(x):
        a = v * x
        b = v * x  # same read: merged
        v.assign_add(1.0)
        c = v * x  # a new read after the assignment: kept
        return a + b + c + tf.random.normal([]) + tf.random.normal([])

    merged = passes.eliminate_common_subexpressions(traced(f, tf.constant(1.0)))
    assert ops(merged).count("read_variable") == 2
    assert ops(merged).count("random") == 2


def test_cse_compares_array_attributes_by_value():
    big = np.zeros(2000, np.int64)
    other = big.copy()
    other[1000] = 1  # NumPy's repr of the two arrays is identical
    assert repr(big) == repr(other)
    b = Builder()
    x = b.input(2000)
    first = b.op("getitem", x, key=(big,))
    second = b.op("getitem", x, key=(other,))
    again = b.op("getitem", x, key=(big.copy(),))
    merged = passes.eliminate_common_subexpressions(b.outputs(first, second, again))
    assert ops(merged) == ["getitem", "getitem"]
    assert merged.outputs[2] is first


# --- fusion -------------------------------------------------------------------------------------


def test_dense_pattern_with_and_without_activation():
    def layers(x, w, b):
        return tf.nn.relu(tf.matmul(x, w) + b), tf.matmul(x, w * 2.0) + b

    fused = fusion.fuse_dense(traced(layers, tf.ones([4, 3]), tf.ones([3, 2]), tf.ones([2])))
    dense = [node for node in fused.nodes if node.op == "dense"]
    assert [node.attrs["activation"] for node in dense] == ["relu", None]
    assert "relu" not in ops(fused)


def test_dense_pattern_needs_a_single_use_product_and_a_row_bias():
    def f(x, w, b, col):
        product = tf.matmul(x, w)
        return product + b, product * 2.0, tf.matmul(x, w * 3.0) + col

    graph = traced(f, tf.ones([4, 3]), tf.ones([3, 2]), tf.ones([2]), tf.ones([4, 1]))
    assert "dense" not in ops(fusion.fuse_dense(graph))


def test_relu_backward_becomes_relu_grad():
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.nn.relu(x) * x)
        return tape.gradient(y, x)

    graph = traced(grad, tf.ones([3, 2]))
    assert "where" in ops(graph)
    fused = passes.remove_dead_code(fusion.fuse_relu_grad(graph))
    assert "relu_grad" in ops(fused) and "where" not in ops(fused)
    check_agreement(lambda: (grad, []), calls_of(lambda r: (floats(r, 3, 2),)))


def test_argmax_of_softmax_reads_the_logits():
    def predict(z):
        return tf.argmax(tf.nn.softmax(z), axis=-1)

    graph = traced(predict, tf.ones([4, 3]))
    fused = passes.remove_dead_code(fusion.fuse_softmax_argmax(graph))
    assert ops(fused) == ["argmax_of_softmax"] and fused.nodes[0].inputs[0] is graph.inputs[0]


def test_argmax_of_softmax_along_another_axis_is_left_alone():
    def predict(z):
        return tf.argmax(tf.nn.softmax(z, axis=0), axis=1)

    graph = traced(predict, tf.ones([4, 3]))
    assert ops(fusion.fuse_softmax_argmax(graph)) == ops(graph)
    check_agreement(lambda: (predict, []), calls_of(lambda r: (floats(r, 4, 3),)))


def _xent_and_grad(logits, labels):
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
    return loss, tape.gradient(loss, logits)


def _xent_args(rng):
    return floats(rng, 8, 5), tf.constant(rng.integers(0, 5, 8).astype(np.int32))


def test_softmax_xent_and_its_gradient_become_one_node():
    logits, labels = _xent_args(np.random.default_rng(0))
    graph = traced(_xent_and_grad, logits, labels)
    fused = fusion.fuse_softmax_xent_with_grad(graph)
    (node,) = [n for n in fused.nodes if n.op == "sparse_softmax_xent_with_grad"]
    assert "sparse_softmax_xent" not in ops(fused) and "sparse_softmax_xent_grad" not in ops(fused)
    assert [v.shape for v in node.results] == [(8,), (8, 5)]
    loss, grad = node.results
    assert node.format(fused).startswith(f"{loss!r}, {grad!r} = sparse_softmax_xent_with_grad")
    # The interpreter runs the fused node too, and it computes what the pair computed.
    arrays = [logits.numpy(), labels.numpy()]
    for got, want in zip(run_graph(fused, arrays), run_graph(graph, arrays)):
        np.testing.assert_array_equal(got, want)
    # A node stays while any of its results is used.
    only_grad = passes.remove_dead_code(fused.copy(outputs=[grad]))
    assert "sparse_softmax_xent_with_grad" in ops(only_grad)
    function = check_agreement(lambda: (_xent_and_grad, []), calls_of(_xent_args))
    assert "sparse_softmax_xent_with_grad" in function.source


def test_softmax_xent_fusion_pairs_only_the_same_logits_and_labels():
    def f(z1, z2, labels):
        plain = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z1)
        loss, grad = _xent_and_grad(z2, labels)
        return tf.reduce_sum(plain), loss, grad

    logits, labels = _xent_args(np.random.default_rng(0))
    fused = fusion.fuse_softmax_xent_with_grad(traced(f, logits, logits * 2.0, labels))
    (node,) = [n for n in fused.nodes if n.op == "sparse_softmax_xent_with_grad"]
    assert node.inputs[0].index == 1
    assert ops(fused).count("sparse_softmax_xent") == 1
    check_agreement(lambda: (f, []), calls_of(lambda r: (floats(r, 8, 5), *_xent_args(r))))


def test_fused_softmax_xent_still_rejects_out_of_range_labels():
    logits, labels = _xent_args(np.random.default_rng(0))
    function = tf.function(_xent_and_grad)
    function(logits, labels)
    assert "sparse_softmax_xent_with_grad" in function.source
    bad = tf.constant(np.where(np.arange(8) == 3, 5, labels.numpy()).astype(np.int32))
    with pytest.raises(InvalidArgumentError, match="label value of 5"):
        function(logits, bad)


def _fused_xent_node(b: Builder, logits: Value, labels: Value) -> tuple[Value, Value]:
    loss = Value(f"v{len(b.graph.nodes)}l", logits.shape[:-1], logits.dtype, "node")
    grad = Value(f"v{len(b.graph.nodes)}g", logits.shape, logits.dtype, "node")
    b.graph.nodes.append(Node("sparse_softmax_xent_with_grad", [logits, labels], {}, loss,
                              primitive=XENT_WITH_GRAD, extra_outputs=(grad,)))
    return loss, grad


def test_multi_output_nodes_fold_and_merge_as_a_whole():
    b = Builder()
    z = b.input(4, 3)
    labels = b.const(np.array([0, 2, 1, 0], np.int32))
    first = _fused_xent_node(b, z, labels)
    second = _fused_xent_node(b, z, labels)
    constant = _fused_xent_node(b, b.const(np.ones((4, 3), np.float32)), labels)
    graph = b.outputs(*first, *second, *constant)
    merged = passes.eliminate_common_subexpressions(graph)
    assert len(merged.nodes) == 2 and merged.outputs[:4] == [*first, *first]
    folded = passes.fold_constants(merged)
    assert len(folded.nodes) == 1 and all(v.kind == "const" for v in folded.outputs[4:])
    np.testing.assert_allclose(folded.constants[folded.outputs[5].name],
                               np.full((4, 3), 1 / 3) - np.eye(3)[[0, 2, 1, 0]], rtol=1e-6)


def _sgd_step(rows=128, old_value_read_later=False):
    """One dense layer trained by SGD; its kernel has ``rows * 128`` elements."""
    kernel = tf.Variable(np.linspace(-0.1, 0.1, rows * 128, dtype=np.float32).reshape(rows, 128))
    small = tf.Variable(np.full((128, 4), 0.05, np.float32))
    learning_rate = tf.Variable(0.5)

    def step(x, labels):
        before = tf.identity(kernel)  # the old value, kept only if returned
        with tf.GradientTape() as tape:
            hidden = tf.nn.relu(tf.matmul(x, kernel))
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=tf.matmul(hidden, small)))
        g_kernel, g_small = tape.gradient(loss, [kernel, small])
        kernel.assign_sub(learning_rate * g_kernel)
        small.assign_sub(g_small * learning_rate)
        return (loss, before * 2.0) if old_value_read_later else loss

    return step, [kernel, small, learning_rate]


def _sgd_args(rows):
    return lambda rng: (floats(rng, 16, rows), tf.constant(rng.integers(0, 4, 16)))


def _optimized_and_plan(step, rows):
    graph = passes.optimize(traced(step, *_sgd_args(rows)(np.random.default_rng(0))))
    return graph, passes.plan_memory(graph)


def test_sgd_update_of_a_large_kernel_fuses_with_its_gradient_matmul():
    step, (kernel, *_) = _sgd_step()
    graph, plan = _optimized_and_plan(step, 128)
    (i,) = [i for i, node in enumerate(graph.nodes) if node.op == "assign_sub_matmul"]
    assert graph.variables[graph.nodes[i].variable] is kernel
    assert ops(graph).count("assign_sub") == 1  # the small kernel's update stays as it was
    assert i in plan.inplace_assigns
    check_plan(graph, plan)
    function = check_agreement(_sgd_step, calls_of(_sgd_args(128)))
    assert "G0(V0.writable_array(), " in function.source


def test_sgd_update_below_the_size_threshold_is_left_alone():
    rows = fusion.MATMUL_UPDATE_MIN_SIZE // 128 - 1
    step, _ = _sgd_step(rows)
    graph = traced(step, *_sgd_args(rows)(np.random.default_rng(0)))
    assert "assign_sub_matmul" not in ops(fusion.fuse_matmul_update(graph))


def test_fused_update_runs_out_of_place_while_the_old_value_is_still_read():
    step, _ = _sgd_step(old_value_read_later=True)
    graph, plan = _optimized_and_plan(step, 128)
    (i,) = [i for i, node in enumerate(graph.nodes) if node.op == "assign_sub_matmul"]
    assert i not in plan.inplace_assigns
    check_plan(graph, plan)
    function = check_agreement(lambda: _sgd_step(old_value_read_later=True),
                               calls_of(_sgd_args(128)))
    assert "G0" not in function.source


def _self_update():
    w = tf.Variable(np.eye(128, dtype=np.float32))

    def update(x):
        w.assign_sub(0.5 * tf.matmul(w, x))  # in place, gemm would read the array it writes

    return update, [w]


def test_fused_update_never_runs_in_place_on_memory_it_reads():
    update, _ = _self_update()
    graph = passes.optimize(traced(update, tf.ones([128, 128])))
    plan = passes.plan_memory(graph)
    assert ops(graph)[-1] == "assign_sub_matmul" and not plan.inplace_assigns
    check_agreement(_self_update, calls_of(lambda r: (floats(r, 128, 128) * 0.1,)))


def test_fused_update_without_a_blas_computes_what_the_unfused_code_does(monkeypatch):
    monkeypatch.setattr(blas._blas, "searched", True)
    monkeypatch.setattr(blas._blas, "gemm", None)
    results = []
    for optimize in (True, False):
        step, variables = _sgd_step()
        function = Function(step, optimize=optimize)
        for args, _ in calls_of(_sgd_args(128)):
            function(*args)
        assert ("G0(V0.writable_array(), " in function.source) is optimize
        results.append([v.numpy() for v in variables])
    for fused, unfused in zip(*results):
        np.testing.assert_array_equal(fused, unfused)


@pytest.mark.parametrize("source, middle, target, merges", [
    ("int8", "int32", "float32", True),
    ("int32", "float64", "int64", True),
    ("float32", "float64", "float16", True),
    ("bool", "int32", "float32", True),
    ("float32", "int32", "float32", False),  # the middle truncates
    ("float64", "float32", "float64", False),  # the middle rounds
    ("int32", "float32", "int32", False),  # float32 cannot hold every int32
    ("int32", "int8", "int32", False),
])
def test_cast_of_cast_merges_only_through_a_type_that_holds_every_value(source, middle, target,
                                                                         merges):
    def f(x):
        return tf.cast(tf.cast(x, middle), target)

    x = tf.cast(tf.constant([[0.0, 1.0], [-3.0, 4.0]]), source)
    merged = passes.remove_dead_code(fusion.fuse_casts(traced(f, x)))
    assert (ops(merged) == ["cast"]) is merges
    check_agreement(lambda: (f, []), [((x,), {})] * 2)


def test_elementwise_chains_fuse_into_one_node():
    def f(x, y):
        shared = tf.exp(x)  # two uses: ends no chain inside it
        return tf.tanh(shared * 2.0 + y) - 1.0, shared + 1.0

    graph = traced(f, tf.ones([4, 3]), tf.ones([3]))
    fused = fusion.fuse_elementwise_chains(graph)
    chain = next(node for node in fused.nodes if node.op == "fused_elementwise")
    assert [step[0] for step in chain.attrs["steps"]] == ["multiply", "add", "tanh", "subtract"]
    assert ops(fused).count("exp") == 1


def test_chains_stop_at_a_change_of_shape_or_dtype():
    def f(x, col):
        wide = tf.exp(x[:, :1]) + col * 0.0  # [4,1] then broadcast to [4,3]
        return tf.cast(wide * 2.0 > 1.0, tf.float32)

    graph = traced(f, tf.ones([4, 3]), tf.ones([4, 3]))
    assert ops(graph) == ["getitem", "exp", "multiply", "add", "multiply", "greater", "cast"]
    fused = fusion.fuse_elementwise_chains(graph)
    # exp ([4,1]) stays out of the [4,3] chain it feeds; greater (bool) and cast end it.
    assert ops(fused) == ["getitem", "exp", "fused_elementwise", "greater", "cast"]
    (chain,) = [node for node in fused.nodes if node.op == "fused_elementwise"]
    assert [step[0] for step in chain.attrs["steps"]] == ["multiply", "add", "multiply"]
    assert (chain.output.shape, chain.output.dtype) == ((4, 3), np.dtype("float32"))
    assert chain.output is graph.nodes[4].output  # the chain's end keeps its value
    x = tf.constant(np.linspace(-2.0, 2.0, 12, dtype=np.float32).reshape(4, 3))
    np.testing.assert_array_equal(run_graph(fused, [x.numpy(), np.ones((4, 3), np.float32)]),
                                  run_graph(graph, [x.numpy(), np.ones((4, 3), np.float32)]))


# --- memory planning ----------------------------------------------------------------------------


def check_plan(graph: Graph, plan) -> None:
    """The plan's invariants: no two values whose lifetimes overlap share a buffer, etc."""
    life = lifetimes(graph)
    defined = {node.output.name: i for i, node in enumerate(graph.nodes) if node.output}
    node_of = {node.output.name: node for node in graph.nodes if node.output}
    returned = {root for v in graph.outputs for root in life.roots[v.name]}
    holders: dict[str, list[str]] = {}
    for value, buffer in plan.buffers.items():
        assert value not in returned, f"output memory {value} is a buffer"
        assert value not in life.dynamic, f"data-dependent {value} is a buffer"
        node = node_of[value]
        assert plan.specs[buffer] == (node.output.shape, node.output.dtype)
        holders.setdefault(buffer, []).append(value)
    for buffer, values in holders.items():
        values.sort(key=defined.get)
        for k, later in enumerate(values):
            for earlier in values[:k]:
                end = life.last_use.get(earlier, -1)
                start = defined[later]
                assert end != _FOREVER
                if start == end:  # written by the node that reads it last: in place
                    node = graph.nodes[start]
                    assert node.lowering.in_place, f"{node.op} overwrites its input {earlier}"
                    assert earlier not in _read_after_first_write(node, life)
                else:
                    assert start > end, f"{earlier} and {later} live at once in {buffer}"
    reads: dict[int, list[int]] = {}
    for i, node in enumerate(graph.nodes):
        if node.op == "read_variable":
            reads.setdefault(node.variable, []).append(i)
    for i in plan.inplace_assigns:
        node = graph.nodes[i]
        assert node.op in ("assign_add", "assign_sub", "assign_sub_matmul")
        read_roots = {root for k in reads.get(node.variable, []) if k < i
                      for root in life.roots[graph.nodes[k].output.name]}
        assert all(life.last_use.get(root, -1) <= i for root in read_roots)
        if node.op == "assign_sub_matmul":  # BLAS must not read what it writes
            assert not any(read_roots & life.roots.get(v.name, {v.name}) for v in node.inputs)


def _mlp_step():
    w1 = tf.Variable(np.full((4, 8), 0.1, np.float32))
    w2 = tf.Variable(np.full((8, 3), 0.1, np.float32))

    def step(x, labels):
        with tf.GradientTape() as tape:
            hidden = tf.nn.relu(tf.matmul(x, w1))
            logits = tf.matmul(hidden, w2)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        g1, g2 = tape.gradient(loss, [w1, w2])
        w1.assign_sub(0.1 * g1)
        w2.assign_sub(0.1 * g2)
        return loss, hidden

    return step


def _late_reader(x, y):
    a = tf.exp(x)
    chained = (a + y) * a  # the fused chain reads ``a`` again after its first write
    return tf.reduce_sum(chained, axis=0)


def _views(x):
    t = tf.transpose(tf.exp(x))
    r = tf.reshape(tf.tanh(x), [-1])
    return tf.reduce_sum(t * 2.0, axis=0), r[:3] * 1.0, tf.sqrt(tf.abs(t)) + 1.0


def _aliasing_primitive(x):
    e = tf.einsum("ij->ji", tf.exp(x))  # NumPy's einsum returns a view of its input here
    f = tf.sqrt(tf.abs(x) + 1.0)  # would take the exp's buffer if e did not keep it alive
    return tf.reduce_sum(e * f, axis=0)


@pytest.mark.parametrize("fn, args", [
    (_mlp_step(), (tf.ones([16, 4]), tf.zeros([16], tf.int32))),
    (_late_reader, (tf.ones([3, 3]), tf.ones([3, 3]))),
    (_views, (tf.ones([3, 3]),)),
    (_aliasing_primitive, (tf.ones([3, 3]),)),
])
def test_memory_plan_invariants(fn, args):
    graph = passes.optimize(traced(fn, *args))
    plan = passes.plan_memory(graph)
    assert plan.buffers, "nothing was planned"
    check_plan(graph, plan)


def test_buffers_are_reused_after_a_values_last_use():
    def chain(x, w):
        a = tf.matmul(x, w)
        b = tf.matmul(a, w)
        c = tf.matmul(b, w)
        return tf.reduce_sum(tf.matmul(c, w))

    graph = passes.optimize(traced(chain, tf.ones([3, 3]), tf.ones([3, 3])))
    plan = passes.plan_memory(graph)
    assert len(plan.buffers) == 4 and len(plan.specs) == 2  # matmul never writes its input
    check_plan(graph, plan)
    assert "out=B" in tf.function(chain).get_concrete_function(tf.ones([3, 3]),
                                                                  tf.ones([3, 3])).source


def test_a_chain_never_takes_the_buffer_of_a_value_it_reads_later():
    check_agreement(lambda: (_late_reader, []), calls_of(lambda r: (floats(r, 3, 3),
                                                                    floats(r, 3, 3))))
    check_agreement(lambda: (_views, []), calls_of(lambda r: (floats(r, 3, 3),)))
    check_agreement(lambda: (_aliasing_primitive, []), calls_of(lambda r: (floats(r, 3, 3),)))


def _updates():
    v = tf.Variable(np.ones(3, np.float32))

    def safe(x):
        v.assign_add(x)

    def unsafe(x):
        before = tf.identity(v)  # a view of v's array, used after the update
        v.assign_add(x)
        return before * 2.0

    return v, safe, unsafe


def test_in_place_assignment_only_when_no_earlier_read_is_used_later():
    _, safe, unsafe = _updates()
    for fn, expected in ((safe, 1), (unsafe, 0)):
        graph = passes.optimize(traced(fn, tf.ones([3])))
        assert len(passes.plan_memory(graph).inplace_assigns) == expected

    def build():
        v, _, unsafe = _updates()
        return unsafe, [v]

    check_agreement(build, calls_of(lambda r: (floats(r, 3),)))
