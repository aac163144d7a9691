"""Ops that only graph passes make: fusions of primitives, and their lowering.

Each is a :class:`~neuroflow.graph.ir.GraphOp` declaring what a primitive
declares (forward, shape rule, lowering), without a gradient rule: fusion runs
after differentiation. Fusion (``passes/fusion.py``) decides where they go;
codegen emits them through the ``emit`` functions declared here, like any op.

* ``dense``: ``matmul -> add(bias) [-> relu]`` computed into one buffer.
* ``relu_grad``: ``g * (a > 0)``, ReLU's backward.
* ``argmax_of_softmax``: an accuracy metric's argmax, read from the logits.
* ``fused_elementwise``: a chain of ufuncs run in place on one buffer.
* ``sparse_softmax_xent_with_grad``: the cross-entropy and its gradient from one softmax.
* ``assign_sub_matmul``: ``w -= s * (a @ b)`` as one BLAS gemm into ``w``'s array.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.graph.ir import GraphOp
from neuroflow.ops.nn_ops import sparse_softmax_xent_with_grad
from neuroflow.ops.registry import Lowering


def _out(buffer: str | None) -> str:
    return f", out={buffer}" if buffer else ""


# --- dense ---------------------------------------------------------------------------------


def _dense_forward(xp, x, w, b, activation):
    out = xp.matmul(x, w)
    out += b
    return xp.maximum(out, 0, out=out) if activation == "relu" else out


def _dense_shape(x, w, b, activation):
    return AbstractArray((*x.shape[:-1], w.shape[-1]), x.dtype)


def _emit_dense(node, args: list[str], buffer: str | None, bind) -> str:
    x, w, b = args
    out = node.output.name
    statements = [f"{out} = np.matmul({x}, {w}{_out(buffer)})", f"np.add({out}, {b}, out={out})"]
    if node.attrs["activation"] == "relu":
        statements.append(f"np.maximum({out}, 0, out={out})")
    return "; ".join(statements)


DENSE = GraphOp("dense", _dense_forward, _dense_shape,
                Lowering(emit=_emit_dense, out=True, result="fresh"))


# --- relu_grad -----------------------------------------------------------------------------


def _relu_grad_forward(xp, g, a):
    return xp.multiply(g, a > 0)


RELU_GRAD = GraphOp("relu_grad", _relu_grad_forward, lambda g, a: AbstractArray(g.shape, g.dtype),
                    Lowering("np.multiply({0}, {1} > 0{out})", out=True, result="fresh",
                             in_place=True))


# --- elementwise chains --------------------------------------------------------------------


def _chain_forward(xp, *arrays, steps):
    out = None
    for ufunc, operands in steps:
        values = [out if o == -1 else (0 if o == "zero" else arrays[o]) for o in operands]
        out = getattr(xp, ufunc)(*values)
    return out


def _chain_shape(*inputs, steps):
    shape = inputs[0].shape
    for x in inputs[1:]:
        if len(x.shape) > len(shape):
            shape = x.shape
    return AbstractArray(shape, inputs[0].dtype)


def _emit_chain(node, args: list[str], buffer: str | None, bind) -> str:
    """One line: the first ufunc writes the buffer, the rest update it in place."""
    out = node.output.name
    statements = []
    for k, (ufunc, operands) in enumerate(node.attrs["steps"]):
        names = [out if o == -1 else ("0" if o == "zero" else args[o]) for o in operands]
        target = buffer if k == 0 else out
        call = f"np.{ufunc}({', '.join(names)}{_out(target)})"
        statements.append(f"{out} = {call}" if k == 0 else call)
    return "; ".join(statements)


FUSED_ELEMENTWISE = GraphOp("fused_elementwise", _chain_forward, _chain_shape,
                            Lowering(emit=_emit_chain, out=True, result="fresh", in_place=True))


# --- argmax of a softmax --------------------------------------------------------------------


def _argmax_of_softmax_forward(xp, z, axis, output_type):
    """``argmax(softmax(z))`` read from ``z``: softmax is monotonic, except that a row
    holding NaN or +inf becomes all NaN, where argmax (TensorFlow's rule) gives 0."""
    found = xp.argmax(z, axis=axis).astype(output_type, copy=False)
    if z.dtype.kind == "f" and z.size and not xp.maximum.reduce(z, axis=None) < np.inf:
        spoiled = xp.logical_or.reduce(xp.isnan(z) | (z == np.inf), axis=axis)
        found = xp.where(spoiled, 0, found).astype(output_type, copy=False)
    return found


def _argmax_of_softmax_shape(z, axis, output_type):
    return AbstractArray(z.shape[:axis] + z.shape[axis + 1:], output_type)


ARGMAX_OF_SOFTMAX = GraphOp("argmax_of_softmax", _argmax_of_softmax_forward,
                            _argmax_of_softmax_shape, Lowering(result="fresh"))


# --- cross-entropy with its gradient ---------------------------------------------------------


def _xent_with_grad_shape(logits, labels):
    return (AbstractArray(labels.shape, logits.dtype), AbstractArray(logits.shape, logits.dtype))


XENT_WITH_GRAD = GraphOp("sparse_softmax_xent_with_grad", sparse_softmax_xent_with_grad,
                         _xent_with_grad_shape, Lowering(result="fresh"))


# --- the SGD update of a large kernel ------------------------------------------------------


def matmul_update_forward(xp, current, a, b, scale):
    """``assign_sub_matmul``'s new value of the variable (the interpreter runs this)."""
    return np.asarray(current - np.multiply(np.matmul(a, b), scale))


# Codegen emits it as it emits every assignment: through the Variable's graph API.
ASSIGN_SUB_MATMUL = GraphOp("assign_sub_matmul", matmul_update_forward, stateful=True,
                            effect=True, assigns=True)
