"""Fusion (placeholder until patterns land): returns the graph unchanged."""

from __future__ import annotations

from neuroflow.graph.ir import Graph


def fuse(graph: Graph) -> Graph:
    return graph


def emit_chain(em, node, args):
    raise NotImplementedError


def emit_dense(em, node, args):
    raise NotImplementedError
