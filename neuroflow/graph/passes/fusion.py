"""Fusion: rewrite known patterns and elementwise chains into fewer, in-place nodes.

NumPy cannot run a fused kernel, but it can run a chain of ufuncs in place on
one buffer: no temporaries, fewer allocations, one node. The patterns:

* ``dense``: ``matmul -> add(bias) [-> relu]`` becomes one node computing into one
  buffer (``np.matmul(x, w, out=b); b += bias; np.maximum(b, 0, out=b)``).
* ``relu_grad``: ``where(greater(a, 0), g, 0)`` (ReLU's backward) becomes ``g * (a > 0)``.
* softmax + argmax: ``argmax(softmax(z))`` reads ``z`` directly (the softmax is
  monotonic; rows with NaN or +inf keep softmax's answer), so a softmax computed only
  for an accuracy metric disappears.
* cross-entropy + its gradient: ``sparse_softmax_xent`` and ``sparse_softmax_xent_grad``
  of the same logits and labels (a training step's loss and backward) become one
  two-output node, ``sparse_softmax_xent_with_grad``, that computes the softmax once.
* SGD update: ``assign_sub(w, s * (a @ b))`` of a large ``w`` becomes
  ``assign_sub_matmul w a b s``, one BLAS gemm accumulating into ``w``'s array
  (when memory planning finds the update may happen in place; see backend/blas.py).
* ``cast(cast(x))`` through a type that holds every value of ``x`` becomes one cast.
* ``fused_elementwise``: a chain of elementwise nodes, each feeding only the next,
  with one shape and dtype, runs in place on the first node's result.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuroflow.graph.fused_ops import (
    ARGMAX_OF_SOFTMAX,
    ASSIGN_SUB_MATMUL,
    DENSE,
    FUSED_ELEMENTWISE,
    RELU_GRAD,
    XENT_WITH_GRAD,
)
from neuroflow.graph.ir import Graph, Node, Value


def _producers(graph: Graph) -> dict[str, Node]:
    return {value.name: node for node in graph.nodes for value in node.results}


def _single_use(value: Value, uses: dict[str, int]) -> bool:
    return uses.get(value.name, 0) == 1 and value.kind == "node"


def _is_zero_constant(value: Value, graph: Graph) -> bool:
    array = graph.constants.get(value.name)
    return array is not None and array.size == 1 and float(array.reshape(())) == 0.0


def _rewrite(graph: Graph, replaced: dict[int, Node], removed: set[int]) -> Graph:
    nodes = [replaced.get(i, node) for i, node in enumerate(graph.nodes) if i not in removed]
    return graph.copy(nodes=nodes)


# --- patterns -----------------------------------------------------------------------------------


def fuse_dense(graph: Graph) -> Graph:
    """``matmul -> add(bias) [-> relu]`` with single-use intermediates -> one ``dense`` node."""
    uses = graph.uses()
    index = {id(node): i for i, node in enumerate(graph.nodes)}
    consumers: dict[str, list[Node]] = {}
    for node in graph.nodes:
        for value in node.inputs:
            consumers.setdefault(value.name, []).append(node)
    replaced: dict[int, Node] = {}
    removed: set[int] = set()
    for node in graph.nodes:
        if node.op != "matmul" or len(node.output.shape) != 2 or not node.output.is_static \
                or not _single_use(node.output, uses):
            continue
        (add,) = consumers.get(node.output.name, [None])
        if add is None or add.op != "add" or add.inputs[0] is not node.output:
            continue
        bias = add.inputs[1]
        if not bias.is_static or bias.shape != node.output.shape[-1:] or \
                bias.dtype != node.output.dtype:
            continue
        last, activation = add, None
        after = consumers.get(add.output.name, [])
        if _single_use(add.output, uses) and len(after) == 1 and after[0].op == "relu":
            last, activation = after[0], "relu"
        fused = Node("dense", [node.inputs[0], node.inputs[1], bias],
                     {"activation": activation}, last.output, primitive=DENSE,
                     location=node.location)
        replaced[index[id(last)]] = fused
        removed.update(index[id(n)] for n in (node, add, last) if n is not last)
    return _rewrite(graph, replaced, removed)


def fuse_relu_grad(graph: Graph) -> Graph:
    """``where(greater(a, 0), g, 0)`` -> ``relu_grad g a`` (computes ``g * (a > 0)``)."""
    producers = _producers(graph)
    replaced: dict[int, Node] = {}
    for i, node in enumerate(graph.nodes):
        if node.op != "where" or not _is_zero_constant(node.inputs[2], graph):
            continue
        mask = producers.get(node.inputs[0].name)
        if mask is None or mask.op != "greater" or not _is_zero_constant(mask.inputs[1], graph):
            continue
        gradient, activation = node.inputs[1], mask.inputs[0]
        if not all(v.is_static for v in (gradient, activation, node.output)) or \
                gradient.shape != node.output.shape or activation.shape != node.output.shape:
            continue
        # The mask node is left for dead-code removal.
        replaced[i] = Node("relu_grad", [gradient, activation], {}, node.output,
                           primitive=RELU_GRAD, location=node.location)
    return _rewrite(graph, replaced, set())


def _softmax_input(node: Node, producers: dict[str, Node]) -> tuple[Value, int] | None:
    """``(z, axis)`` if ``node`` computes ``exp(z - max(z)) / sum(exp(z - max(z)))``."""
    if node.op != "divide":
        return None
    exp, total = (producers.get(v.name) for v in node.inputs)
    if exp is None or total is None or exp.op != "exp" or total.op != "reduce_sum":
        return None
    axes = total.attrs["axes"]
    if total.inputs[0] is not exp.output or axes is None or len(axes) != 1:
        return None
    shift = producers.get(exp.inputs[0].name)
    if shift is None or shift.op != "subtract":
        return None
    peak = producers.get(shift.inputs[1].name)
    while peak is not None and peak.op == "stop_gradient":
        peak = producers.get(peak.inputs[0].name)
    if peak is None or peak.op != "reduce_max" or peak.inputs[0] is not shift.inputs[0]:
        return None
    if peak.attrs["axes"] != axes:
        return None
    return shift.inputs[0], axes[0]


def fuse_softmax_argmax(graph: Graph) -> Graph:
    """``argmax(softmax(z, axis=a), axis=a)`` -> ``argmax(z, axis=a)`` (softmax is monotonic)."""
    producers = _producers(graph)
    replaced: dict[int, Node] = {}
    for i, node in enumerate(graph.nodes):
        if node.op != "argmax":
            continue
        source = producers.get(node.inputs[0].name)
        found = _softmax_input(source, producers) if source is not None else None
        if found is None:
            continue
        logits, axis = found
        rank = len(logits.shape)
        if node.attrs.get("axis") % rank == axis % rank:
            replaced[i] = Node("argmax_of_softmax", [logits], dict(node.attrs), node.output,
                               primitive=ARGMAX_OF_SOFTMAX, location=node.location)
    return _rewrite(graph, replaced, set())


def fuse_softmax_xent_with_grad(graph: Graph) -> Graph:
    """The loss and gradient nodes of one softmax cross-entropy -> one node making both.

    The fused node takes the place of the earlier of the two, where both inputs exist.
    """
    first: dict[tuple, dict[str, int]] = {}  # (logits, labels) -> op -> node index
    for i, node in enumerate(graph.nodes):
        if node.op in ("sparse_softmax_xent", "sparse_softmax_xent_grad"):
            first.setdefault(tuple(v.name for v in node.inputs), {}).setdefault(node.op, i)
    replaced: dict[int, Node] = {}
    removed: set[int] = set()
    for pair in first.values():
        if len(pair) != 2:
            continue
        loss, grad = (graph.nodes[pair[op]] for op in ("sparse_softmax_xent",
                                                          "sparse_softmax_xent_grad"))
        at, gone = sorted(pair.values())
        replaced[at] = Node("sparse_softmax_xent_with_grad", list(loss.inputs), {},
                            loss.output, primitive=XENT_WITH_GRAD, location=loss.location,
                            extra_outputs=(grad.output,))
        removed.add(gone)
    return _rewrite(graph, replaced, removed)


# Below this many elements, the gemm call's fixed costs (a ctypes call, data pointers:
# a few microseconds) are about what it saves over NumPy's matmul, multiply, subtract.
MATMUL_UPDATE_MIN_SIZE = 16384


def fuse_matmul_update(graph: Graph) -> Graph:
    """``assign_sub(w, s * (a @ b))``, ``s`` a scalar, -> ``assign_sub_matmul w a b s``.

    For variables of at least ``MATMUL_UPDATE_MIN_SIZE`` float32/float64 elements, when
    the product and its scaled copy are used by nothing else. The node takes the
    assignment's place, so it runs after the reads of the old value (the forward
    matmul, the backward ``g @ w.T``), which come before it in program order; memory
    planning lets it write the variable's array in place only when none of those reads
    is used later and none shares memory with ``a`` or ``b``. Otherwise it computes
    a new array, as the unfused assignment would.
    """
    uses = graph.uses()
    producers = _producers(graph)
    index = {id(node): i for i, node in enumerate(graph.nodes)}
    replaced: dict[int, Node] = {}
    removed: set[int] = set()
    for i, node in enumerate(graph.nodes):
        if node.op != "assign_sub":
            continue
        delta = node.inputs[0]
        scaled = producers.get(delta.name)
        if scaled is None or scaled.op != "multiply" or not _single_use(delta, uses):
            continue
        found = _scaled_product(scaled, producers, uses)
        if found is None or not delta.is_static or \
                delta.dtype.name not in ("float32", "float64") or \
                len(delta.shape) != 2 or int(np.prod(delta.shape)) < MATMUL_UPDATE_MIN_SIZE:
            continue
        product, scale = found
        replaced[i] = Node("assign_sub_matmul", [*product.inputs, scale], {}, None,
                           primitive=ASSIGN_SUB_MATMUL, variable=node.variable,
                           location=node.location)
        removed.update((index[id(scaled)], index[id(product)]))
    return _rewrite(graph, replaced, removed)


def _scaled_product(scaled: Node, producers: dict[str, Node],
                    uses: dict[str, int]) -> tuple[Node, Value] | None:
    """``(matmul node, scale)`` if ``scaled`` multiplies a single-use 2-D matmul by a scalar."""
    for product_value, scale in (scaled.inputs, scaled.inputs[::-1]):
        product = producers.get(product_value.name)
        if (product is not None and product.op == "matmul" and scale.shape == ()
                and _single_use(product_value, uses)
                and all(len(v.shape) == 2 and v.is_static for v in product.inputs)
                and {scale.dtype, *(v.dtype for v in product.inputs)} == {scaled.output.dtype}
                and product_value.shape == scaled.output.shape):
            return product, scale
    return None


def _holds_all_values(source: np.dtype, middle: np.dtype) -> bool:
    if source.kind == "b":
        return True
    if middle.kind == "f":
        return source.kind in "iu" and np.finfo(middle).nmant >= source.itemsize * 8 - (
            source.kind == "i") or (source.kind == "f" and middle.itemsize >= source.itemsize)
    return middle.kind in "iu" and source.kind in "iu" and np.can_cast(source, middle)


def fuse_casts(graph: Graph) -> Graph:
    """``cast(cast(x, a), b)`` -> ``cast(x, b)`` when ``a`` holds every value of ``x``."""
    producers = _producers(graph)
    replaced: dict[int, Node] = {}
    for i, node in enumerate(graph.nodes):
        if node.op != "cast":
            continue
        inner = producers.get(node.inputs[0].name)
        if inner is None or inner.op != "cast":
            continue
        source = inner.inputs[0]
        if _holds_all_values(source.dtype, inner.output.dtype):
            replaced[i] = dataclasses.replace(node, inputs=[source])
    return _rewrite(graph, replaced, set())


def fuse_elementwise_chains(graph: Graph) -> Graph:
    """Chains of elementwise nodes, each feeding only the next, -> ``fused_elementwise``."""
    uses = graph.uses()
    consumers: dict[str, list[int]] = {}
    for i, node in enumerate(graph.nodes):
        for value in node.inputs:
            consumers.setdefault(value.name, []).append(i)
    nodes = graph.nodes
    replaced: dict[int, Node] = {}
    removed: set[int] = set()
    claimed: set[int] = set()  # nodes already in a chain (each joins at most one)
    for start, node in enumerate(nodes):
        if start in claimed or not _chainable(node):
            continue
        chain = [start]
        current = node
        while _single_use(current.output, uses):
            (nxt,) = consumers.get(current.output.name, [None])
            if nxt is None or nxt in claimed or not _chainable(nodes[nxt]):
                break
            follower = nodes[nxt]
            if not follower.output.is_static or follower.output.shape != node.output.shape or \
                    follower.output.dtype != node.output.dtype:
                break
            chain.append(nxt)
            current = follower
        if len(chain) < 2:
            continue
        claimed.update(chain)
        steps, inputs = chain_steps([nodes[i] for i in chain])
        replaced[chain[-1]] = Node("fused_elementwise", inputs, {"steps": steps},
                                   current.output, primitive=FUSED_ELEMENTWISE,
                                   location=node.location)
        removed.update(chain[:-1])
    return _rewrite(graph, replaced, removed)


def _chainable(node: Node) -> bool:
    return (node.lowering.ufunc is not None and node.output is not None
            and node.output.shape != () and node.output.is_static
            and node.output.dtype.kind == "f")


def chain_steps(chain: list[Node]) -> tuple[tuple, list[Value]]:
    """Steps ``(ufunc, operands)`` where an operand is an input index or ``-1`` (the carry)."""
    inputs: list[Value] = []
    steps = []
    carry = None
    for node in chain:
        operands = []
        for value in node.inputs:
            if carry is not None and value is carry:
                operands.append(-1)
            else:
                if value not in inputs:
                    inputs.append(value)
                operands.append(inputs.index(value))
        ufunc = node.lowering.ufunc
        operands += ["zero"] * (getattr(np, ufunc).nin - len(operands))  # relu: maximum(x, 0)
        steps.append((ufunc, tuple(operands)))
        carry = node.output
    return tuple(steps), inputs


def fuse(graph: Graph) -> Graph:
    """All fusions, patterns first, then generic elementwise chains."""
    from neuroflow.graph.passes.dce import remove_dead_code

    for rewrite in (fuse_softmax_argmax, fuse_softmax_xent_with_grad, fuse_matmul_update,
                    fuse_casts, fuse_dense, fuse_relu_grad):
        graph = remove_dead_code(rewrite(graph))
    return fuse_elementwise_chains(graph)
