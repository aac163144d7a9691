"""The walk over a traced graph: which nodes to write, in order, and how.

Only the nodes the outputs need are written (a trace also holds workspaces, and sizes read
for code that ended up unused). Values known while exporting are folded into
initializers (``writer.fold``). The same walk writes the graphs of ``tf.cond`` branches and
``tf.while_loop`` bodies into ONNX's ``If`` and ``Loop`` subgraphs, which read the
enclosing graph's values by name.
"""

from __future__ import annotations

import numpy as np

from neuroflow.export.onnx.emitters import EMITTERS
from neuroflow.export.onnx.patterns import Rewrite, find_rewrites
from neuroflow.export.onnx.writer import Writer, fold, unsupported
from neuroflow.graph.ir import Graph, Node


def write_graph(writer: Writer, graph: Graph, inputs: list[str]) -> list[str]:
    """Write the nodes ``graph``'s outputs need, its inputs being the ONNX values named
    ``inputs``; returns the ONNX names of its outputs."""
    for value, name in zip(graph.inputs, inputs):
        writer.names[value.name] = name
    for name, array in graph.constants.items():
        writer.static[name] = np.asarray(array)
    producers = {v.name: node for node in graph.nodes for v in node.results}
    rewrites = find_rewrites(graph, producers)
    live = _live_nodes(graph, producers, rewrites)
    for node in graph.nodes:
        if id(node) in live:
            _write(writer, node, rewrites.get(id(node)))
    return [writer.name_of(value) for value in graph.outputs]


def _write(writer: Writer, node: Node, rewrite: Rewrite | None) -> None:
    if rewrite is not None:
        results = rewrite.emit(writer, node)
    elif node.op == "read_variable":
        variable = writer.graph.variables[node.variable]
        writer.static[node.output.name] = np.asarray(variable.numpy())
        return
    else:
        arrays = [writer.static.get(v.name) for v in node.inputs]
        if all(a is not None for a in arrays):
            folded = fold(node, arrays)
            if folded is not None:
                writer.static[node.output.name] = folded
                return
        emit = _CONTROL_FLOW.get(node.op) or EMITTERS.get(node.op)
        if emit is None:
            raise unsupported(node, "has no ONNX equivalent in neuroflow's exporter yet. "
                                    "Export a model without it, or compute it outside the "
                                    "exported function.")
        results = emit(writer, node)
    if not isinstance(results, (tuple, list)):
        results = (results,)
    for value, name in zip(node.results, results):
        if name is not None:
            writer.names[value.name] = name
    writer.note_sizes(node.results)


def _live_nodes(graph: Graph, producers: dict, rewrites: dict) -> set[int]:
    """The ids of the nodes the outputs depend on."""
    live: set[int] = set()
    stack = [producers[v.name] for v in graph.outputs if v.name in producers]
    while stack:
        node = stack.pop()
        if id(node) in live:
            continue
        live.add(id(node))
        rewrite = rewrites.get(id(node))
        for value in (rewrite.reads if rewrite is not None else node.inputs):
            if value.name in producers:
                stack.append(producers[value.name])
    return live


# --- control flow: tf.cond as If, tf.while_loop as Loop ------------------------------------------


def _value_infos(writer: Writer, names: list[str], dtypes: list, scalars: int = 0) -> list:
    """Value infos of a subgraph's inputs or outputs; the first ``scalars`` are scalars (a
    Loop's iteration number and condition), the others have no shape: a loop variable's or
    a branch result's sizes may vary."""
    helper = writer.helper
    return [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.dtype(d)),
                                          [] if i < scalars else None)
            for i, (n, d) in enumerate(zip(names, dtypes))]


def _condition(writer: Writer, name: str, dtype) -> str:
    return name if np.dtype(dtype) == np.bool_ else writer.cast(name, np.bool_)


def _branch(writer: Writer, graph: Graph, inputs: list[str]):
    """A branch of an If: the traced graph reading the enclosing values ``inputs``."""
    body = writer.subgraph(graph)
    results = [body.op("Identity", [r]) for r in write_graph(body, graph, inputs)]
    return body.helper.make_graph(
        body.nodes, body.fresh("branch"), [],
        _value_infos(body, results, [v.dtype for v in graph.outputs]),
        initializer=list(body.initializers.values()))


def _cond(writer: Writer, node: Node):
    pred, *captured = node.inputs
    branches, takes = node.attrs["branches"], node.attrs["takes"]
    graphs = [_branch(writer, branch.graph, [writer.name_of(captured[i]) for i in taken])
              for branch, taken in zip(branches, takes)]
    condition = _condition(writer, writer.name_of(pred), pred.dtype)
    results = writer.op("If", [condition], outputs=len(node.results), then_branch=graphs[0],
                        else_branch=graphs[1])
    return results if len(node.results) > 1 else [results]


def _while_loop(writer: Writer, node: Node):
    """``while cond(state): state = body(state)`` as a Loop: the condition is tested once
    before the Loop and again at the end of each iteration of its body."""
    attrs = node.attrs
    count, cond, body = attrs["count"], attrs["cond"].graph, attrs["body"].graph
    state = [writer.name_of(v) for v in node.inputs[:count]]
    end = len(node.inputs) - 1 if attrs["limited"] else len(node.inputs)
    captured = [writer.name_of(v) for v in node.inputs[count:end]]
    cond_in = [captured[i] for i in attrs["takes"][0]]
    body_in = [captured[i] for i in attrs["takes"][1]]
    test = cond.outputs[0].dtype
    first = write_graph(writer.scope(cond), cond, state + cond_in)[0]
    inner = writer.subgraph(body)
    step, going = inner.fresh("iteration"), inner.fresh("condition")
    carried = [inner.fresh("state") for _ in state]
    updated = write_graph(inner, body, carried + body_in)
    again = write_graph(inner.scope(cond), cond, updated + cond_in)[0]
    outputs = [inner.op("Identity", [_condition(inner, again, test)])]
    outputs += [inner.op("Identity", [name]) for name in updated]
    dtypes = [v.dtype for v in node.inputs[:count]]
    graph = inner.helper.make_graph(
        inner.nodes, inner.fresh("loop_body"),
        _value_infos(inner, [step, going, *carried], [np.int64, np.bool_, *dtypes], 2),
        _value_infos(inner, outputs, [np.bool_, *dtypes], 1),
        initializer=list(inner.initializers.values()))
    limit = writer.cast(writer.name_of(node.inputs[-1]), np.int64) if attrs["limited"] else ""
    results = writer.op("Loop", [limit, _condition(writer, first, test), *state],
                        outputs=count, body=graph)
    return results if count > 1 else [results]


_CONTROL_FLOW = {"cond": _cond, "while_loop": _while_loop}
