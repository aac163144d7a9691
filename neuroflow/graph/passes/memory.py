"""Memory planning (placeholder): no buffers yet."""

from __future__ import annotations

from dataclasses import dataclass, field

from neuroflow.graph.ir import Graph


@dataclass
class MemoryPlan:
    buffers: dict = field(default_factory=dict)
    specs: dict = field(default_factory=dict)


def plan_memory(graph: Graph) -> MemoryPlan:
    return MemoryPlan()
