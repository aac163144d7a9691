"""Graph mode: ``tf.function`` traces Python into a data-flow graph and compiles it.

``trace.py`` records the graph, ``ir.py`` defines it, ``passes/`` optimize it,
``codegen.py`` lowers it to Python source, ``interpret.py`` runs it as a
reference, and ``function.py`` ties them together behind ``tf.function``.
"""

from neuroflow.graph.function import ConcreteFunction, Function, TensorSpec, function
from neuroflow.graph.trace import SymbolicValueError

__all__ = ["ConcreteFunction", "Function", "SymbolicValueError", "TensorSpec", "function"]
