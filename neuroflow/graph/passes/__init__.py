"""Graph passes. Each is a function Graph -> Graph with its own tests.

``optimize`` runs them in order; ``plan_memory`` assigns reusable buffers.
"""

from neuroflow.graph.passes.constant_folding import fold_constants
from neuroflow.graph.passes.cse import eliminate_common_subexpressions
from neuroflow.graph.passes.dce import remove_dead_code
from neuroflow.graph.passes.fusion import fuse
from neuroflow.graph.passes.memory import MemoryPlan, plan_memory

PIPELINE = (fold_constants, eliminate_common_subexpressions, remove_dead_code, fuse,
            remove_dead_code)


def optimize(graph):
    for graph_pass in PIPELINE:
        graph = graph_pass(graph)
    return graph


__all__ = ["MemoryPlan", "PIPELINE", "eliminate_common_subexpressions", "fold_constants", "fuse",
           "optimize", "plan_memory", "remove_dead_code"]
