"""Patterns ONNX has one operator for, found in a traced graph before it is written.

The composite softmax of ``tf.nn.softmax`` becomes ``Softmax``; a depthwise conv (traced
as one conv per input channel, concatenated) becomes one grouped ``Conv``; a fused
recurrent layer's input projection (``x @ kernel + bias``) moves into the ONNX
LSTM/GRU/RNN node's own input weights. A rewrite names the IR values it reads, so the
nodes it replaces are not written unless something else needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from neuroflow.export.onnx.emitters import emit_conv
from neuroflow.export.onnx.recurrent import RECURRENT, projected_recurrent
from neuroflow.export.onnx.writer import Writer
from neuroflow.graph.ir import Graph, Node, Value


@dataclass
class Rewrite:
    """A node written another way: ``emit(writer, node)`` reading only ``reads``."""

    reads: list[Value]
    emit: Callable


def find_rewrites(graph: Graph, producers: dict) -> dict[int, Rewrite]:
    """node id -> its rewrite, for the nodes that match a pattern."""
    uses = graph.uses()
    fixed = _input_independent(graph)
    found: dict[int, Rewrite] = {}
    for node in graph.nodes:
        if node.op == "divide":
            softmax = _softmax_input(node, producers)
            if softmax is not None:
                x, axis = softmax
                found[id(node)] = Rewrite([x], _softmax_emitter(x, axis))
        elif node.op == "concat":
            depthwise = _depthwise(node, producers)
            if depthwise is not None:
                x, kernel, attrs = depthwise
                found[id(node)] = Rewrite([x, kernel], _grouped_conv(x, kernel, attrs))
        elif node.op in RECURRENT:
            projection = _projection(node.inputs[0], producers, uses, fixed)
            if projection is not None:
                x, kernel, bias = projection
                reads = [x, kernel, bias, *node.inputs[1:]]
                found[id(node)] = Rewrite(reads, projected_recurrent(x, kernel, bias))
    return found


def _made_by(value: Value, op: str, producers: dict) -> Node | None:
    node = producers.get(value.name)
    return node if node is not None and node.op == op else None


def _softmax_input(divide: Node, producers: dict) -> tuple[Value, int] | None:
    """``x`` and the axis, if ``divide`` is ``e / reduce_sum(e)`` with
    ``e = exp(x - stop_gradient(reduce_max(x)))`` over one axis (``tf.nn.softmax``)."""
    numerator, denominator = divide.inputs
    exp = _made_by(numerator, "exp", producers)
    total = _made_by(denominator, "reduce_sum", producers)
    if exp is None or total is None or total.inputs[0].name != numerator.name:
        return None
    shifted = _made_by(exp.inputs[0], "subtract", producers)
    if shifted is None:
        return None
    x, peak = shifted.inputs
    held = _made_by(peak, "stop_gradient", producers)
    top = held and _made_by(held.inputs[0], "reduce_max", producers)
    if not top or top.inputs[0].name != x.name:
        return None
    axes = tuple(total.attrs.get("axes") or ())
    if (len(axes) != 1 or tuple(top.attrs.get("axes") or ()) != axes
            or not total.attrs.get("keepdims") or not top.attrs.get("keepdims")):
        return None
    return x, axes[0]


def _softmax_emitter(x: Value, axis: int):
    def emit(writer: Writer, node: Node) -> str:
        return writer.op("Softmax", [writer.name_of(x)], axis=int(axis))
    return emit


def _channel_slice(node: Node | None) -> tuple[Value, int, int] | None:
    """(source, start, stop) if ``node`` is ``source[..., start:stop]`` on the last axis."""
    if node is None or node.op != "getitem":
        return None
    source = node.inputs[0]
    key = node.attrs["key"]
    rank = len(source.shape)
    if (not isinstance(key, tuple) or len(key) != rank or any(k != slice(None) for k in key[:-1])
            or not isinstance(key[-1], slice) or key[-1].step not in (None, 1)
            or type(key[-1].start) is not int or type(key[-1].stop) is not int):
        return None
    return source, key[-1].start, key[-1].stop


def _depthwise(concat: Node, producers: dict):
    """``(x, kernel, conv attrs)`` if ``concat`` joins, for each channel ``c`` of ``x``,
    ``conv(x[..., c:c+1], kernel[..., c*m:(c+1)*m])`` (a depthwise conv, as traced):
    ONNX's Conv with ``group`` = channels, whose kernel ``kernel`` already is."""
    convs = [_made_by(v, "conv", producers) for v in concat.inputs]
    if not convs or any(c is None for c in convs):
        return None
    rank = len(concat.output.shape)
    if concat.attrs["axis"] not in (rank - 1, -1):
        return None
    first = convs[0]
    x_parts = [_channel_slice(producers.get(c.inputs[0].name)) for c in convs]
    k_parts = [_channel_slice(producers.get(c.inputs[1].name)) for c in convs]
    if any(p is None for p in x_parts + k_parts):
        return None
    x, kernel = x_parts[0][0], k_parts[0][0]
    channels, width = len(convs), k_parts[0][2] - k_parts[0][1]
    if (x.shape[-1] != channels or kernel.shape[-2] != 1
            or kernel.shape[-1] != channels * width):
        return None
    for c, (conv, x_part, k_part) in enumerate(zip(convs, x_parts, k_parts)):
        if (conv.attrs != first.attrs or x_part != (x, c, c + 1)
                or k_part != (kernel, c * width, (c + 1) * width)):
            return None
    return x, kernel, first.attrs


def _grouped_conv(x: Value, kernel: Value, attrs: dict):
    def emit(writer: Writer, node: Node) -> str:
        return emit_conv(writer, x, kernel, attrs, group=int(x.shape[-1]))
    return emit


def _input_independent(graph: Graph) -> set[str]:
    """The values computed from variables and constants alone (weights, however a layer
    slices or reshapes them)."""
    fixed = set(graph.constants)
    for node in graph.nodes:
        if node.stateful and node.op != "read_variable":
            continue
        if all(v.name in fixed for v in node.inputs):
            fixed.update(v.name for v in node.results)
    return fixed


def _projection(x_proj: Value, producers: dict, uses: dict, fixed: set[str]):
    """``(x, kernel, bias)`` if ``x_proj`` is ``x @ kernel + bias`` (a recurrent layer's input
    projection) with a kernel and bias that depend on no input, used by nothing else."""
    add = _made_by(x_proj, "add", producers)
    if add is None or uses.get(x_proj.name, 0) != 1:
        return None
    product, bias = add.inputs
    matmul = _made_by(product, "matmul", producers)
    if matmul is None or uses.get(product.name, 0) != 1:
        return None
    x, kernel = matmul.inputs
    if (len(x.shape) != 3 or len(kernel.shape) != 2 or len(bias.shape) != 1
            or kernel.name not in fixed or bias.name not in fixed):
        return None
    return x, kernel, bias
