"""Graphs for TensorBoard's Graphs dashboard: ``tf.summary.graph``, ``trace_on``/``trace_export``.

A traced function's IR (``graph/ir.py``) is written as a ``GraphDef``: one node per
input (``_Arg``), captured constant (``Const``), captured variable (``VarHandleOp``), IR
node (named after its op, numbered as TensorFlow numbers repeats: ``matmul``,
``matmul_1``) and output (``Identity``). Each node carries its dtype (``T``), the shapes
it makes (``_output_shapes``, -1 for sizes unknown while tracing) and its attributes, and
lists the nodes it reads as inputs: TensorBoard draws the data flow from them.

``trace_on``/``trace_export`` record the ``tf.function`` traces made between the two
calls, as TensorBoard's "op graph" of the exported tag.
"""

from __future__ import annotations

import gc
import re
import threading
import time
import warnings
import weakref

import numpy as np

from neuroflow.graph.function import ConcreteFunction
from neuroflow.graph.ir import Graph
from neuroflow.ops.registry import recording as op_recording
from neuroflow.summary import protos
from neuroflow.summary.summaries import bool_tensor, record, tag_of
from neuroflow.summary.writer import STATE, recording, step_value
from neuroflow.tensor import Tensor

# Constants up to this many elements keep their values in the GraphDef; larger ones only
# their dtype and shape, so a function closing over a big array does not copy it into the log.
_CONSTANT_VALUES_UP_TO = 1024


class _Names:
    """Unique node names: the first ``name``, then ``name_1``, ``name_2``... as TensorFlow."""

    def __init__(self):
        self._used: set[str] = set()

    def new(self, base: str) -> str:
        base = base.replace(":", "_")  # ':' separates a node from its output index
        name, count = base, 0
        while name in self._used:
            count += 1
            name = f"{base}_{count}"
        self._used.add(name)
        return name


def graph_def(graph: Graph):
    """``graph`` (a traced function's IR) as a TensorFlow ``GraphDef``."""
    pb = protos.load()
    names = _Names()
    nodes = []
    made_by: dict[str, str] = {}  # IR value name -> "node" or "node:k"

    def add(name: str, op: str, inputs: list[str], attrs: dict, shapes=()):
        node = pb.node_def_pb2.NodeDef(name=name, op=op, input=inputs)
        for key, value in attrs.items():
            attr = _attr_value(pb, value)
            if attr is not None:
                node.attr[key].CopyFrom(attr)
        if shapes:
            node.attr["_output_shapes"].list.shape.extend(protos.shape_proto(s) for s in shapes)
        nodes.append(node)

    for index, value in enumerate(graph.inputs):
        name = made_by[value.name] = names.new(f"args_{index}")
        add(name, "_Arg", [], {"index": index, "T": value.dtype}, [value.shape])
    for value_name, array in graph.constants.items():
        name = made_by[value_name] = names.new("Const")
        add(name, "Const", [], {"dtype": array.dtype, "value": _constant(pb, array)},
            [array.shape])
    variables = []
    for index, variable in enumerate(graph.variables):
        # "kernel:0" names the variable's tensor; its node is "kernel", as in TensorFlow.
        name = names.new(re.sub(r":\d+$", "", graph.variable_label(index)))
        shape = tuple(getattr(variable, "shape", ()))
        add(name, "VarHandleOp", [], {"dtype": _dtype_of(variable), "shape": shape})
        variables.append(name)
    for node in graph.nodes:
        name = names.new(node.op)
        inputs = [made_by[v.name] for v in node.inputs if v.name in made_by]
        if node.variable >= 0:
            inputs.insert(0, variables[node.variable])
        attrs = {key: value for key, value in node.attrs.items() if not key.startswith("_")}
        results = node.results
        if results:
            attrs.setdefault("T", results[0].dtype)
        add(name, node.op, inputs, attrs, [v.shape for v in results])
        for k, value in enumerate(results):
            made_by[value.name] = name if k == 0 else f"{name}:{k}"
    for value in graph.outputs:
        if value.name in made_by:
            add(names.new("Identity"), "Identity", [made_by[value.name]], {"T": value.dtype},
                [value.shape])
    return pb.graph_pb2.GraphDef(node=nodes)


def _dtype_of(variable):
    dtype = getattr(variable, "dtype", None)
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype) or np.float32)


def _constant(pb, array: np.ndarray):
    if array.size <= _CONSTANT_VALUES_UP_TO:
        return protos.tensor_proto(array)
    return pb.tensor_pb2.TensorProto(dtype=protos.data_type(array.dtype),
                                     tensor_shape=protos.shape_proto(array.shape))


def _attr_value(pb, value):
    """An IR attribute as an AttrValue: numbers, strings, dtypes, shapes and lists of ints
    as TensorFlow types them; anything else as its text. None is left out."""
    attr = pb.attr_value_pb2.AttrValue
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return attr(b=bool(value))
    if isinstance(value, int | np.integer):
        return attr(i=int(value))
    if isinstance(value, float | np.floating):
        return attr(f=float(value))
    if isinstance(value, str):
        return attr(s=value.encode())
    if isinstance(value, np.dtype | type) and _is_dtype(value):
        return attr(type=protos.data_type(value))
    if isinstance(value, pb.tensor_pb2.TensorProto):
        return attr(tensor=value)
    if isinstance(value, tuple | list) and all(type(v) is int for v in value):
        result = attr()
        result.list.i.extend(value)
        return result
    return attr(s=repr(value)[:1000].encode())


def _is_dtype(value) -> bool:
    try:
        protos.data_type(value)
    except TypeError:
        return False
    return True


# TensorFlow's GraphDef, and TensorBoard's copy of it: the same message.
_GRAPH_DEFS = ("tensorflow.GraphDef", "tensorboard.GraphDef")


def graph(graph_data) -> Tensor:
    """Write a traced function's graph (``f.get_concrete_function().graph``) or a
    ``GraphDef`` to the default writer, for the Graphs dashboard (at step 0)."""
    if op_recording.tracer is not None:
        raise ValueError("graph() cannot be invoked inside a graph context.")
    writer = STATE.writer
    if writer is None or not recording():
        return bool_tensor(False)
    if isinstance(graph_data, Graph):
        data = graph_def(graph_data).SerializeToString()
    elif getattr(getattr(graph_data, "DESCRIPTOR", None), "full_name", "") in _GRAPH_DEFS:
        data = graph_data.SerializeToString()
    else:
        raise ValueError(f"Argument 'graph_data' is not a traced graph or a GraphDef. Received "
                         f"graph_data={graph_data!r} of type {type(graph_data).__name__}. Pass "
                         f"f.get_concrete_function(...).graph for a tf.function f.")
    writer.write_event(protos.load().event_pb2.Event(wall_time=time.time(), step=0,
                                                     graph_def=data))
    return bool_tensor(True)


# The trace in progress: (graph?, the traces that existed when it began). One for the whole
# process, as in TensorFlow, where tracing affects every thread.
_trace_lock = threading.Lock()
_trace: tuple[bool, weakref.WeakSet] | None = None


def _traces() -> list[ConcreteFunction]:
    """Every trace (ConcreteFunction) alive now. Found through the garbage collector's
    list of objects: traces keep no registry, and this runs once per export."""
    return [obj for obj in gc.get_objects() if isinstance(obj, ConcreteFunction)]


def trace_on(graph=True, profiler=False, profiler_outdir=None) -> None:
    """Start recording the graphs of the ``tf.function`` traces made from now on, until
    ``trace_export`` writes them (or ``trace_off`` drops them).

    Unlike TensorFlow, which records every function run during the trace, neuroflow
    records the functions traced during it: call ``trace_on`` before a function's first
    call. ``profiler=True`` is not supported (neuroflow has no profiler).
    """
    global _trace
    if profiler:
        raise ValueError(f"trace_on(profiler=True) is not supported: neuroflow has no "
                         f"profiler (received profiler_outdir={profiler_outdir!r}). Use "
                         f"trace_on(graph=True) to record graphs.")
    if op_recording.tracer is not None:
        warnings.warn("Cannot enable trace inside a tf.function.", stacklevel=2)
        return
    with _trace_lock:
        if _trace is not None:
            warnings.warn("Trace already enabled", stacklevel=2)
            return
        _trace = (bool(graph), weakref.WeakSet(_traces()))


def trace_export(name, step=None, profiler_outdir=None) -> None:
    """Stop the trace and write the graphs it recorded under the tag ``name`` at ``step``
    (default: ``tf.summary.experimental.get_step()``), if a default writer is set.

    Raises ValueError if ``trace_on`` was not called, or if the graphs would be recorded
    but no step is set.
    """
    if step is not None:
        step_value(step)
    if op_recording.tracer is not None:
        warnings.warn("Cannot export trace inside a tf.function.", stacklevel=2)
        return
    with _trace_lock:
        if _trace is None:
            raise ValueError("Must enable trace before export through tf.summary.trace_on.")
        with_graphs, before = _trace
    try:
        if with_graphs:
            record(tag_of(name, "graph_run_metadata_graph_summary"),
                   lambda: _run_metadata([t for t in _traces() if t not in before]), step,
                   _run_metadata_plugin("graph_run_metadata_graph"))
        else:
            record(tag_of(name, "graph_run_metadata_summary"), lambda: _run_metadata([]), step,
                   _run_metadata_plugin("graph_run_metadata"))
    finally:
        trace_off()


def _run_metadata(traces: list[ConcreteFunction]) -> np.ndarray:
    """A serialized RunMetadata holding each trace's graph (TensorBoard merges them)."""
    pb = protos.load()
    metadata = pb.config_pb2.RunMetadata()
    for trace in traces:
        metadata.function_graphs.add().pre_optimization_graph.CopyFrom(graph_def(trace.graph))
    return np.array(metadata.SerializeToString(), dtype=object)


def _run_metadata_plugin(plugin: str):
    def make():
        pb = protos.load()
        # Version "1", the content TensorBoard's graph plugin expects of these summaries.
        return pb.summary_pb2.SummaryMetadata(
            plugin_data=pb.summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin,
                                                                  content=b"1"))
    return make


def trace_off() -> None:
    """Stop the trace without writing anything."""
    global _trace
    with _trace_lock:
        _trace = None
