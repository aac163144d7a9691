"""``sum_to``: sum a broadcast gradient back to an input's shape, decided when it runs.

The tape undoes broadcasting in one place (``autodiff/tape.unbroadcast``). When
every size is known, that is a ``reduce_sum`` over axes chosen while tracing.
When a size is unknown (``None`` in an input_signature), whether an axis was
broadcast (its size was 1) is only known when the graph runs: ``sum_to`` makes
that choice from the arrays' shapes, once per call.
"""

from __future__ import annotations

from neuroflow.abstract import AbstractArray
from neuroflow.ops.registry import Lowering, primitive


def _sum_to_shape(g: AbstractArray, shape: tuple) -> AbstractArray:
    if len(shape) > g.ndim:
        raise ValueError(f"cannot sum a gradient of rank {g.ndim} to rank {len(shape)}")
    return AbstractArray(shape, g.dtype)


@primitive("sum_to", shape=_sum_to_shape, lowering=Lowering(result="any"))
def sum_to(xp, g, shape):
    """Sum ``g`` over the axes where ``shape`` was broadcast to ``g.shape``."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    if axes:
        g = xp.add.reduce(g, axis=axes, dtype=g.dtype)
    return g.reshape(shape) if g.shape != tuple(shape) else g


@sum_to.defvjp
def _sum_to_vjp(ctx, g):
    from neuroflow.ops.shape_ops import broadcast_to

    return (broadcast_to(g, ctx.input_shapes[0]),)
