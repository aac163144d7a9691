"""A traced graph as an ONNX model: inputs, outputs, opset, and the checker's approval."""

from __future__ import annotations

from neuroflow.export.onnx.walk import write_graph
from neuroflow.export.onnx.writer import MIN_OPSET, Writer, dim_names, unsupported, value_info
from neuroflow.graph.ir import Graph, Value


def graph_to_model(graph: Graph, opset: int, input_names: list[str] | None = None,
                   output_names: list[str] | None = None, producer: str = "neuroflow"):
    """An ``onnx.ModelProto`` computing ``graph`` (checked with ``onnx.checker``)."""
    import onnx

    latest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= latest:
        raise ValueError(f"ONNX export supports opset versions {MIN_OPSET} to {latest} (the "
                         f"installed onnx package's newest); received opset {opset}.")
    for node in graph.nodes:
        if getattr(node.primitive, "assigns", False):
            raise unsupported(node, f"assigns the variable "
                                    f"{graph.variable_label(node.variable)!r}; an ONNX model "
                                    f"has no variables to write. Export a function that "
                                    f"only reads them (e.g. a model called with "
                                    f"training=False).")
    writer = Writer(graph, opset)
    input_names = _names(input_names, graph.inputs, "input")
    output_names = _names(output_names, graph.outputs, "output")
    results = write_graph(writer, graph, input_names)
    # Each output gets its name through an Identity: an output may be an input, a
    # constant, or the same value twice.
    for result, name in zip(results, output_names):
        writer.nodes.append(onnx.helper.make_node("Identity", [result], [name]))
    dims = dim_names(graph)
    helper = onnx.helper
    onnx_graph = helper.make_graph(
        writer.nodes, graph.name if graph.name.isidentifier() else "main",
        [value_info(helper, n, v, dims) for n, v in zip(input_names, graph.inputs)],
        [value_info(helper, n, v, dims) for n, v in zip(output_names, graph.outputs)],
        initializer=list(writer.initializers.values()))
    opsets = [helper.make_opsetid("", opset)]
    # The oldest IR version that knows the opset: runtimes older than the installed onnx
    # package read the file too.
    model = helper.make_model(onnx_graph, producer_name=producer, opset_imports=opsets,
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model)
    return model


def _names(given, values: list[Value], prefix: str) -> list[str]:
    if given is None:
        return [f"{prefix}_{i}" for i in range(len(values))]
    given = [str(n) for n in given]
    if len(given) != len(values) or len(set(given)) != len(given):
        raise ValueError(f"expected {len(values)} distinct {prefix} names; received {given}.")
    return given
