"""Graph mode: ``tf.function`` traces Python into a data-flow graph and compiles it.

``trace.py`` records the graph, ``ir.py`` defines it, ``passes/`` optimize it,
``codegen.py`` lowers it to Python source, ``interpret.py`` runs it as a
reference, and ``function.py`` ties them together behind ``tf.function``;
``drawing.py`` draws a graph (``draw(fn.graph, "g.png")``).
"""

from neuroflow.graph.function import ConcreteFunction, Function, TensorSpec, function
from neuroflow.graph.trace import SymbolicValueError

__all__ = ["ConcreteFunction", "Function", "SymbolicValueError", "TensorSpec", "draw",
           "function"]


def __getattr__(name: str):
    # draw (and the layout and matplotlib behind it) is imported on first use, so that
    # `import neuroflow` stays fast.
    if name == "draw":
        from neuroflow.graph.drawing import draw

        return draw
    raise AttributeError(f"module 'neuroflow.graph' has no attribute {name!r}")
