"""Specialisation: a traced graph with unknown sizes, made concrete for given input sizes.

A trace may leave sizes unknown (a ``None`` in an ``input_signature``, the batch
of a Keras step). Before optimizing and compiling, the graph is specialised to
the sizes of a call's inputs: each unknown input size gets its value, every
attribute and result shape that depends on it is computed, and every node's
shape rule runs again on the concrete shapes, so sizes that do not fit are
reported here, naming the op and the user's line. The user's Python is not run
again. Sizes only known when an op runs (``tf.range(n)``, ``boolean_mask``) stay
unknown; values holding them get no planned buffers.
"""

from __future__ import annotations

import dataclasses

from neuroflow.abstract import AbstractArray, Dim, contains_dim, substitute
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph.ir import Graph, Value


def bind_input_sizes(graph: Graph, shapes: list[tuple]) -> dict:
    """The value of each unknown input size, from the inputs' concrete ``shapes``."""
    env: dict = {}
    for value, shape in zip(graph.inputs, shapes):
        if len(shape) != len(value.shape):
            raise InvalidArgumentError(
                f"{graph.name}: input {value.name} has rank {len(shape)}, but the function "
                f"was traced for rank {len(value.shape)} {value.shape}.", graph.name)
        for axis, (traced, size) in enumerate(zip(value.shape, shape)):
            if isinstance(traced, Dim) and traced.symbol is not None:
                known = env.setdefault(traced.symbol.name, size)
                if known == size:
                    continue
            elif traced == size:
                continue
            raise InvalidArgumentError(
                f"{graph.name}: input {value.name} has size {size} on axis {axis}, which "
                f"does not match the traced shape {tuple(value.shape)}.", graph.name)
    return env


def specialize(graph: Graph, shapes: list[tuple]) -> Graph:
    """``graph`` for inputs of these concrete ``shapes`` (see the module docstring)."""
    env = bind_input_sizes(graph, shapes)
    renamed: dict[str, Value] = {}

    def concrete(value: Value, shape: tuple) -> Value:
        made = Value(value.name, shape, value.dtype, value.kind, value.index)
        renamed[value.name] = made
        return made

    inputs = [concrete(v, tuple(s)) for v, s in zip(graph.inputs, shapes)]
    sources: dict[str, tuple[str, int]] = {}
    nodes = []
    for node in graph.nodes:
        in_values = [renamed.get(v.name, v) for v in node.inputs]
        attrs = substitute(node.attrs, env)
        _check_known_at_run_time(attrs, sources, node)
        results = [_specialized_result(node, in_values, attrs, traced, env)
                   for traced in node.results]
        results = [concrete(traced, shape) for traced, shape in zip(node.results, results)]
        for value in results:
            _note_size_sources(value, sources)
        nodes.append(dataclasses.replace(
            node, inputs=in_values, attrs=attrs,
            output=results[0] if results else None, extra_outputs=tuple(results[1:])))
    outputs = [renamed.get(v.name, v) for v in graph.outputs]
    return Graph(graph.name, inputs, dict(graph.constants), list(graph.variables), nodes,
                 outputs, sources)


def _note_size_sources(value: Value, sources: dict) -> None:
    """Remember where each size only known at run time first appears (value, axis)."""
    for axis, size in enumerate(value.shape):
        if isinstance(size, Dim):
            for symbol in size.symbols:
                if size.symbol is symbol:
                    sources.setdefault(symbol.name, (value.name, axis))


def _check_known_at_run_time(attrs: dict, sources: dict, node) -> None:
    """Sizes left in attributes are read from arrays when the graph runs (codegen): each
    must be the size of some value computed before this node."""
    if not contains_dim(attrs):
        return
    missing = {s.name for d in _dims_in(attrs) for s in d.symbols} - set(sources)
    if missing:
        raise InvalidArgumentError(
            f"the op {node.op} at {node.location} takes a size ({', '.join(sorted(missing))})"
            f" that no earlier value of the graph has; it cannot be computed when the graph "
            f"runs. Compute it with tf.shape from a tensor instead.", node.op)


def _dims_in(value):
    if isinstance(value, Dim):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _dims_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _dims_in(v)
    elif isinstance(value, slice):
        yield from _dims_in((value.start, value.stop, value.step))


def _specialized_result(node, in_values, attrs, traced: Value, env: dict) -> tuple:
    """The result's shape: the traced one with known sizes filled in, checked by the
    op's shape rule on the concrete inputs."""
    expected = tuple(substitute(traced.shape, env))
    rule = getattr(node.primitive, "shape_rule", None)
    if rule is None or node.variable >= 0:  # a variable's value has the variable's shape
        return expected
    try:
        avals = rule(*(AbstractArray(v.shape, v.dtype) for v in in_values), **attrs)
    except (ValueError, IndexError, TypeError) as error:
        where = f" (created at {node.location})" if node.location else ""
        raise InvalidArgumentError(
            f"the op {node.op}{where} cannot run on inputs of shapes "
            f"{[tuple(v.shape) for v in in_values]}: {error}", node.op) from None
    avals = avals if isinstance(avals, tuple) else (avals,)
    index = [v.name for v in node.results].index(traced.name)
    checked = avals[index].shape
    for traced_size, size in zip(traced.shape, checked):
        # A size the trace could not know (x[1:] of an unknown batch) that the concrete
        # shapes determine: every later use of that unknown gets the value.
        symbol = traced_size.symbol if isinstance(traced_size, Dim) else None
        if symbol is not None and symbol.rule is None and not isinstance(size, Dim):
            env.setdefault(symbol.name, size)
    # Where the rule knows a size the trace did not (a broadcast of unknowns), take it;
    # a size only known when the op runs keeps the traced unknown.
    return tuple(c if not isinstance(c, Dim) else e for c, e in zip(checked, expected))
