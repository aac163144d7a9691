"""Recurrent sequences with Numba gate kernels: the time loops of ``ops/recurrent.py``'s
LSTM and GRU primitives (forward and gradient), one BLAS product and one kernel call a
step.

The NumPy primitives spend about half of a step on some fifteen array calls around the
product (activations, the cell update, masks); here one kernel (``kernels.lstm_step``
and the others) does them in one pass over the step's block. Results have the layouts
and meanings of the primitives' (time-major workspaces, the same saved gates), so a
forward run here and a gradient run with NumPy, or the other way round, still agree.
Every product runs on one BLAS thread, as in the primitives.
"""

from __future__ import annotations

import numpy as np

from neuroflow.backend import blas
from neuroflow.ops.recurrent import WORKSPACES, gate_scale, state_product, time_major


def _lstm_workspaces(batch: int, steps: int, units: int, dtype) -> tuple:
    """Time-major ``hs``, ``cs``, ``act(c)`` and gates, as the primitive makes them."""
    shapes = [(steps, batch, units)] * 3 + [(steps, batch, 4 * units)]
    return tuple(WORKSPACES.empty(np, shape, dtype) for shape in shapes)


def lstm(step, x_proj, h0, c0, kernel, *mask):
    """``lstm_sequence``'s results: ``hs``, ``cs`` (``(batch, time, units)`` views), the
    activated gates and ``act(c)`` (time-major), for activations without ``exp`` or
    ``tanh`` (``step`` is ``kernels.lstm_step``)."""
    batch, steps, width = x_proj.shape
    units, dtype = width // 4, x_proj.dtype
    hs, cs, cell_out, gates = _lstm_workspaces(batch, steps, units, dtype)
    product = np.empty((batch, width), dtype)
    h_prev, c_prev = h0, c0
    with blas.threads(1):
        for t in range(steps):
            np.matmul(h_prev, kernel, out=product)
            step(x_proj, t, product, h_prev, c_prev, gates, cs, cell_out, hs, *mask)
            h_prev, c_prev = hs[t], cs[t]
    return hs.transpose(1, 0, 2), cs.transpose(1, 0, 2), gates, cell_out


def lstm_by_exp(inputs, gates_from_exp, output, x_proj, h0, c0, kernel, *mask):
    """``lstm_sequence``'s results for tanh and sigmoid: per step the product, one NumPy
    ``exp`` over the gates and one ``tanh`` over the cells (vectorized, unlike Numba's),
    and three kernels for the rest (``kernels.scaled_inputs``, ``lstm_gates_from_exp``,
    ``lstm_output``)."""
    batch, steps, width = x_proj.shape
    units, dtype = width // 4, x_proj.dtype
    hs, cs, cell_out, gates = _lstm_workspaces(batch, steps, units, dtype)
    scale = gate_scale(np, dtype, (-1, -1, -2, -1), units)
    kernel = kernel * scale
    product = np.empty((batch, width), dtype)
    h_prev, c_prev = h0, c0
    with blas.threads(1), np.errstate(over="ignore"):  # exp(-z) = inf gives sigmoid 0
        for t in range(steps):
            np.matmul(h_prev, kernel, out=product)
            inputs(x_proj, t, scale, product, gates)
            np.exp(gates[t], out=gates[t])
            gates_from_exp(t, gates, c_prev, cs)
            np.tanh(cs[t], out=cell_out[t])
            output(t, gates, cell_out, h_prev, c_prev, cs, hs, *mask)
            h_prev, c_prev = hs[t], cs[t]
    return hs.transpose(1, 0, 2), cs.transpose(1, 0, 2), gates, cell_out


def lstm_grad(step, h0, c0, kernel, hs, cs, gates, cell_out, d_hs, *rest, cell_gradient):
    """``lstm_sequence_grad``'s results: the gradients of ``x_proj``, ``h0``, ``c0`` and
    the recurrent kernel."""
    d_cs, mask = (rest[:1], rest[1:]) if cell_gradient else ((), rest)
    steps, batch, width = gates.shape
    dtype = gates.dtype
    cs_t, kernel_t = time_major(cs), kernel.T
    d_z = WORKSPACES.empty(np, (steps, batch, width), dtype)
    product = np.zeros((batch, width // 4), dtype)  # d_gates[t + 1] @ kernel.T
    dh, dc = np.empty_like(product), np.zeros_like(product)
    with blas.threads(1):
        for t in range(steps - 1, -1, -1):
            c_prev = cs_t[t - 1] if t else c0
            step(t, product, d_hs, *d_cs, gates, cell_out, c_prev, d_z, dh, dc, *mask)
            np.matmul(d_z[t], kernel_t, out=product)
        d_h0 = product if not mask else np.where(mask[0][:, :1], product, dh)
        d_kernel = state_product(np, h0, time_major(hs), d_z)
    return d_z.transpose(1, 0, 2), d_h0, dc, d_kernel


def gru(step, x_proj, h0, kernel, bias, *mask):
    """``gru_sequence``'s results (reset after the product): ``hs`` as ``(batch, time,
    units)`` and the time-major gates ``z, r``, candidate, ``inner_h``."""
    batch, steps, width = x_proj.shape
    units, dtype = width // 3, x_proj.dtype
    hs = WORKSPACES.empty(np, (steps, batch, units), dtype)
    gates = WORKSPACES.empty(np, (steps, batch, 4 * units), dtype)
    product = np.empty((batch, width), dtype)
    h_prev = h0
    with blas.threads(1):
        for t in range(steps):
            np.matmul(h_prev, kernel, out=product)
            step(x_proj, t, product, bias, h_prev, gates, hs, *mask)
            h_prev = hs[t]
    return hs.transpose(1, 0, 2), gates


def gru_by_exp(inputs, gates_from_exp, output, x_proj, h0, kernel, bias, *mask):
    """``gru_sequence``'s results for tanh and sigmoid (reset after the product): per
    step the product, NumPy's ``exp`` over the gates ``z, r`` and ``tanh`` over the
    candidate, and three kernels for the rest (``kernels.gru_inputs``,
    ``gru_gates_from_exp``, ``gru_output``)."""
    batch, steps, width = x_proj.shape
    units, dtype = width // 3, x_proj.dtype
    hs = WORKSPACES.empty(np, (steps, batch, units), dtype)
    gates = WORKSPACES.empty(np, (steps, batch, 4 * units), dtype)
    scale = gate_scale(np, dtype, (-1, -1, 1), units)
    kernel, bias = kernel * scale, bias * scale
    product = np.empty((batch, width), dtype)
    h_prev = h0
    with blas.threads(1), np.errstate(over="ignore"):  # exp(-z) = inf gives sigmoid 0
        for t in range(steps):
            np.matmul(h_prev, kernel, out=product)
            inputs(x_proj, t, scale, product, bias, gates)
            zr, candidate = gates[t, :, :2 * units], gates[t, :, 2 * units:3 * units]
            np.exp(zr, out=zr)
            gates_from_exp(x_proj, t, gates)
            np.tanh(candidate, out=candidate)
            output(t, gates, h_prev, hs, *mask)
            h_prev = hs[t]
    return hs.transpose(1, 0, 2), gates


def gru_grad(step, h0, kernel, hs, gates, d_hs, *mask):
    """``gru_sequence_grad``'s results (reset after the product): the gradients of
    ``x_proj``, ``h0``, the recurrent kernel and the recurrent bias."""
    steps, batch = gates.shape[:2]
    units, dtype = kernel.shape[0], gates.dtype
    hs_t, kernel_t = time_major(hs), kernel.T
    d_x = WORKSPACES.empty(np, (steps, batch, 3 * units), dtype)
    d_inner = WORKSPACES.empty(np, (steps, batch, 3 * units), dtype)
    product = np.zeros((batch, units), dtype)  # d_inner[t + 1] @ kernel.T
    carry = np.zeros_like(product)
    with blas.threads(1):
        for t in range(steps - 1, -1, -1):
            h_prev = hs_t[t - 1] if t else h0
            step(t, product, carry, d_hs, gates, h_prev, d_x, d_inner, *mask)
            np.matmul(d_inner[t], kernel_t, out=product)
        product += carry
        d_kernel = state_product(np, h0, hs_t, d_inner)
    return (d_x.transpose(1, 0, 2), product, d_kernel,
            d_inner.reshape(-1, 3 * units).sum(axis=0))
