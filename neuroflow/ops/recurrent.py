"""Fused recurrent sequences: a whole LSTM, GRU or simple RNN over time is one primitive.

Keras computes a recurrent layer step by step; traced that way, the graph would grow
with the sequence length. Here the input projection of every step is one matmul done
by the caller (``x @ kernel + bias`` over ``(batch, time, features)``), and one
primitive runs the recurrence in NumPy: per step one matmul into a preallocated buffer
and in-place activations on the step's whole gate block, no other allocation. Its
gradient is another primitive that walks back through time with the saved gates, and
forms the gradient of the recurrent kernel as one product over all steps at the end.

Gate layouts are Keras's: LSTM ``[i, f, c, o]``, GRU ``[z, r, h]``. A ``mask``
(``(batch, time)``, bool) keeps the state of a sample unchanged at its masked steps.
The forward primitives make the state at every step (``hs``, and ``cs`` for the LSTM
cell state); a layer derives its outputs from them. The activations must be in
:data:`FUSED_ACTIVATIONS` (their derivatives are read off their outputs); layers run
other activations step by step. Second derivatives are not supported: the gradient
primitives raise ``UnimplementedError`` when differentiated.

Speed (an LSTM(128) over 28 steps of a batch of 128 spends most of its time here):

- Every step's arrays are time-major, ``(time, batch, ...)``, so a step reads and writes
  contiguous blocks; the states are returned as ``(batch, time, units)`` views of them.
- With Keras's default activations (tanh, sigmoid), one ``exp`` activates the four
  gates of an LSTM step at once (the z and r gates of a GRU step): the kernel and the
  projected inputs are negated beforehand (doubled too for the tanh gate, since
  ``tanh(a) = 2 sigmoid(2 a) - 1``), so the product lands as ``-a`` and
  ``1 / (1 + exp(-a))`` takes three in-place calls on the whole block. NumPy's float32
  ``tanh`` costs about twice its ``exp`` per element here, and calls on column slices
  cost more than one call on the block.
- Every product runs on one BLAS thread (``_one_blas_thread``).
- The large results (states, gates, gradients) come from :data:`WORKSPACES`, arrays
  reused once nothing refers to them any more, rather than new memory on every call.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.backend import blas
from neuroflow.errors import UnimplementedError
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.creation import zeros_like
from neuroflow.ops.elementwise import quiet
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor

# --- activations: in place forward, derivative from the output --------------------------


def _tanh(xp, a):
    xp.tanh(a, out=a)


def _sigmoid(xp, a):
    # 1 / (1 + exp(-a)) in place; exp overflows to inf for very negative a, giving 0.
    xp.negative(a, out=a)
    _logistic_of_negated(xp, a)


def _logistic_of_negated(xp, a):
    """``sigmoid(-a)`` in place: ``1 / (1 + exp(a))``."""
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _relu(xp, a):
    xp.maximum(a, 0, out=a)


def _linear(xp, a):
    pass


def _hard_sigmoid(xp, a):
    # Keras 3's relu6(a + 3) / 6, in that order so values round as Keras's do.
    a += 3
    xp.clip(a, 0, 6, out=a)
    a /= 6


_FORWARD = {"tanh": _tanh, "sigmoid": _sigmoid, "relu": _relu, "linear": _linear,
            "hard_sigmoid": _hard_sigmoid}


def _tanh_slope(xp, y, out):
    xp.multiply(y, y, out=out)
    xp.subtract(1, out, out=out)


def _sigmoid_slope(xp, y, out):
    xp.subtract(1, y, out=out)
    out *= y


def _relu_slope(xp, y, out):
    xp.greater(y, 0, out=out)


def _linear_slope(xp, y, out):
    out[...] = 1


def _hard_sigmoid_slope(xp, y, out):
    out[...] = (y > 0) & (y < 1)
    out /= 6


# The derivative at the input that gave output ``y``, written into ``out`` (no aliasing).
_SLOPE = {"tanh": _tanh_slope, "sigmoid": _sigmoid_slope, "relu": _relu_slope,
          "linear": _linear_slope, "hard_sigmoid": _hard_sigmoid_slope}

FUSED_ACTIVATIONS = frozenset(_FORWARD)

# Generated code calls the forward; its results are new arrays (views of new arrays at
# most), never an input, so memory planning may reuse the inputs' buffers after it.
_LOWERING = Lowering(result="fresh")


def _check_activation(*names: str) -> None:
    for name in names:
        if name not in _FORWARD:
            raise ValueError(f"fused recurrent sequences take the activations "
                             f"{sorted(_FORWARD)}; received {name!r}. Other activations run "
                             f"step by step (keras.layers.RNN over a cell).")


def _by_exp(activation: str, recurrent_activation: str) -> bool:
    """Whether the gates take the one-``exp`` path (Keras's default activations)."""
    return activation == "tanh" and recurrent_activation == "sigmoid"


def gate_scale(xp, dtype, factors: tuple, units: int):
    """A column scale: each gate's factor repeated over its units (-1 negates a sigmoid
    gate, -2 a tanh gate; powers of two, so the products stay exact)."""
    return xp.repeat(xp.asarray(factors, dtype), units)


# --- workspaces ------------------------------------------------------------------------------


def _references_when_unused() -> int:
    """What ``sys.getrefcount`` reports for a pooled array nobody else holds, read the way
    :meth:`_Workspaces.empty` reads it (the list, the local name, the call's argument)."""
    arrays = [np.empty(0)]
    array = arrays[0]
    return sys.getrefcount(array)


class _Workspaces:
    """Large arrays for the fused ops' results, reused once nothing refers to them.

    A new array of a few MB is new pages for the operating system to map, on every
    call: a training step of an LSTM(128) over 28 steps of 128 images took about 2,900
    page faults, and 1.25x the time of a step with reused memory. The compiled step's
    memory planning gives no buffers to primitives with several results, so these are
    pooled here.

    An array is handed out again only when the pool's reference is the only one left
    (``sys.getrefcount``): any tensor, view (it holds its base), saved value or caller
    still using it keeps it out, so a result is never overwritten while readable.
    Every op writes each element of what it takes, so reuse cannot change results.
    The pool keeps at most ``limit`` bytes, most recently used first; only CPython with
    the GIL counts references this way (elsewhere every call allocates).
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.arrays: list = []  # least recently used first
        self.lock = threading.Lock()
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        self.unused = _references_when_unused() if gil and hasattr(sys, "getrefcount") \
            else None

    def empty(self, xp, shape: tuple, dtype):
        dtype = np.dtype(dtype)
        if xp is not np or self.unused is None:
            return xp.empty(shape, dtype)
        with self.lock:
            for index in range(len(self.arrays)):
                array = self.arrays[index]
                if array.shape == shape and array.dtype == dtype and \
                        sys.getrefcount(array) <= self.unused:
                    self.arrays.append(self.arrays.pop(index))
                    return array
            array = np.empty(shape, dtype)
            if array.nbytes <= self.limit:
                self.arrays.append(array)
                total = sum(a.nbytes for a in self.arrays)
                while total > self.limit:
                    total -= self.arrays.pop(0).nbytes  # in use or not: just not reused
            return array


WORKSPACES = _Workspaces(limit=128 << 20)


# --- shape rules ----------------------------------------------------------------------------


def _sequence_avals(op: str, x_proj, state, kernel, gates: int, mask: tuple) -> tuple:
    """Batch, time and units of a fused sequence, its inputs checked."""
    if x_proj.ndim != 3 or state.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"{op}: expected x_proj (batch, time, {gates} * units), states "
                         f"(batch, units) and a kernel (units, {gates} * units); received "
                         f"ranks {x_proj.ndim}, {state.ndim} and {kernel.ndim}.")
    units = kernel.shape[0]
    if kernel.shape[1] != gates * units or x_proj.shape[2] != gates * units or \
            state.shape[1] != units:
        raise ValueError(f"{op}: with {units} units, expected x_proj (..., {gates * units}), "
                         f"states (..., {units}) and a kernel ({units}, {gates * units}); "
                         f"received {x_proj.shape}, {state.shape} and {kernel.shape}.")
    if len({x_proj.dtype, state.dtype, kernel.dtype}) != 1 or x_proj.dtype.kind != "f":
        raise ValueError(f"{op}: inputs must share one floating dtype; received "
                         f"{x_proj.dtype}, {state.dtype} and {kernel.dtype}.")
    if mask and (mask[0].ndim != 2 or mask[0].dtype != np.bool_):
        raise ValueError(f"{op}: the mask must be bool (batch, time); received "
                         f"{mask[0].dtype}{list(mask[0].shape)}.")
    return x_proj.shape[0], x_proj.shape[1], units


class _Mask:
    """Which samples each step updates, as (batch, 1) columns; all of them without a mask."""

    def __init__(self, mask: tuple):
        self.keep = mask[0] if mask else None
        self.dropped = ~mask[0] if mask else None

    def at(self, t: int):
        """(kept, dropped) columns of step ``t``, or (None, None)."""
        if self.keep is None:
            return None, None
        return self.keep[:, t, None], self.dropped[:, t, None]


def _flat(a):
    return a.reshape(-1, a.shape[-1])


def time_major(a):
    """A ``(batch, time, ...)`` array as ``(time, batch, ...)``: the contiguous array a
    forward here made, when ``a`` is its returned view."""
    return a.transpose(1, 0, 2)


def state_product(xp, h0, hs_t, d):
    """``sum over t of h_{t-1}.T @ d[t]`` (``h_{-1} = h0``): the gradient of a recurrent
    kernel, one product over all steps but the first (time-major, so no copies)."""
    product = h0.T @ d[0]
    if len(d) > 1:
        product += _flat(hs_t[:-1]).T @ _flat(d[1:])
    return product


def _one_blas_thread(forward):
    """Run ``forward`` with one BLAS thread: its products are one time step each (batch by
    units), too small for a second thread to pay; on this project's busy 2-core machine two
    threads took 7x as long for an LSTM(128) step's product (128x128 by 128x512), and 3x
    for the kernel gradient's (128x3584 by 3584x512). See ``backend/blas.py``."""

    def run(xp, *arrays, **attrs):
        with blas.threads(1 if xp is np else None):
            return forward(xp, *arrays, **attrs)

    run.__name__ = forward.__name__
    return run


def _refuse_second_order(name: str):
    def vjp(ctx, grads):
        raise UnimplementedError(f"Second derivatives through a fused recurrent layer "
                                 f"({name}) are not supported. Take first derivatives only, "
                                 f"or use keras.layers.RNN over a cell, which runs step by "
                                 f"step.", name)
    return vjp


def _refuse_workspace_gradient(op: str, *grads) -> None:
    if any(g is not None for g in grads):
        raise UnimplementedError(f"{op}: its gates are a workspace for the gradient; "
                                 f"nothing may depend on them.", op)


# --- LSTM -----------------------------------------------------------------------------------


def _lstm_shape(x_proj, h0, c0, kernel, *mask, activation, recurrent_activation):
    _check_activation(activation, recurrent_activation)
    b, t, u = _sequence_avals("lstm_sequence", x_proj, h0, kernel, 4, mask)
    _sequence_avals("lstm_sequence", x_proj, c0, kernel, 4, mask)
    dt = x_proj.dtype
    # hs, cs; the workspace: the gates after activation and act(c), time-major.
    return (AbstractArray((b, t, u), dt), AbstractArray((b, t, u), dt),
            AbstractArray((t, b, 4 * u), dt), AbstractArray((t, b, u), dt))


@primitive("lstm_sequence", shape=_lstm_shape, lowering=_LOWERING, save_inputs=True,
           save_output=True, multiple_results=True)
@_one_blas_thread
@quiet
def _lstm_sequence(xp, x_proj, h0, c0, kernel, *mask, activation, recurrent_activation):
    _lstm_shape(x_proj, h0, c0, kernel, *mask, activation=activation,
                recurrent_activation=recurrent_activation)  # the checks of the shape rule
    batch, steps, width = x_proj.shape
    u, dtype = width // 4, x_proj.dtype
    act, ract = _FORWARD[activation], _FORWARD[recurrent_activation]
    by_exp = _by_exp(activation, recurrent_activation)
    hs = WORKSPACES.empty(xp, (steps, batch, u), dtype)
    cs = WORKSPACES.empty(xp, (steps, batch, u), dtype)
    cell_out = WORKSPACES.empty(xp, (steps, batch, u), dtype)  # act(c)
    gates = WORKSPACES.empty(xp, (steps, batch, width), dtype)  # i, f, g, o activated
    if by_exp:
        scale = gate_scale(xp, dtype, (-1, -1, -2, -1), u)
        xp.multiply(x_proj.transpose(1, 0, 2), scale, out=gates)
        kernel = kernel * scale
    else:
        gates[...] = x_proj.transpose(1, 0, 2)
    product, tmp = xp.empty((batch, width), dtype), xp.empty((batch, u), dtype)
    masks = _Mask(mask)
    h_prev, c_prev = h0, c0
    for t in range(steps):
        z = gates[t]
        xp.matmul(h_prev, kernel, out=product)
        z += product
        i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        if by_exp:
            _logistic_of_negated(xp, z)  # i, f, o; and sigmoid(2 g)
            g *= 2
            g -= 1
        else:
            ract(xp, z[:, :2 * u])
            act(xp, g)
            ract(xp, o)
        c, h, a = cs[t], hs[t], cell_out[t]
        xp.multiply(f, c_prev, out=c)
        xp.multiply(i, g, out=tmp)
        c += tmp
        if activation == "tanh":
            xp.tanh(c, out=a)
        else:
            xp.copyto(a, c)
            act(xp, a)
        xp.multiply(o, a, out=h)
        _, dropped = masks.at(t)
        if dropped is not None:
            xp.copyto(c, c_prev, where=dropped)
            xp.copyto(h, h_prev, where=dropped)
        h_prev, c_prev = h, c
    return hs.transpose(1, 0, 2), cs.transpose(1, 0, 2), gates, cell_out


@_lstm_sequence.defvjp
def _lstm_sequence_vjp(ctx, grads):
    x_proj, h0, c0, kernel, *mask = ctx.inputs
    hs, cs, gates, cell_out = ctx.output
    d_hs, d_cs, d_gates, d_cell_out = grads
    _refuse_workspace_gradient("lstm_sequence", d_gates, d_cell_out)
    d_hs = zeros_like(hs) if d_hs is None else d_hs
    # Usually only the states h are used (the layer's outputs): no zeros for the cells.
    d_cells = () if d_cs is None else (d_cs,)
    found = _lstm_sequence_grad(h0, c0, kernel, hs, cs, gates, cell_out, d_hs, *d_cells, *mask,
                                cell_gradient=d_cs is not None, **ctx.attrs)
    return tuple(g if ctx.needs(i) else None for i, g in enumerate(found)) + (None,) * len(mask)


def _lstm_grad_shape(h0, c0, kernel, hs, cs, gates, cell_out, d_hs, *rest, cell_gradient,
                     activation, recurrent_activation):
    steps, batch, width = gates.shape
    return (AbstractArray((batch, steps, width), hs.dtype), AbstractArray(h0.shape, h0.dtype),
            AbstractArray(c0.shape, c0.dtype), AbstractArray(kernel.shape, kernel.dtype))


@primitive("lstm_sequence_grad", shape=_lstm_grad_shape, lowering=_LOWERING,
           multiple_results=True)
@_one_blas_thread
@quiet
def _lstm_sequence_grad(xp, h0, c0, kernel, hs, cs, gates, cell_out, d_hs, *rest,
                        cell_gradient, activation, recurrent_activation):
    d_cs, mask = (rest[0], rest[1:]) if cell_gradient else (None, rest)
    steps, batch, width = gates.shape
    u, dtype = width // 4, gates.dtype
    act_slope, ract_slope = _SLOPE[activation], _SLOPE[recurrent_activation]
    cs_t = time_major(cs)
    d_z = WORKSPACES.empty(xp, (steps, batch, width), dtype)  # gates before activation
    slope = xp.empty((batch, width), dtype)
    dh, dc = xp.zeros((batch, u), dtype), xp.zeros((batch, u), dtype)
    dh_next, dc_total, tmp = (xp.empty((batch, u), dtype) for _ in range(3))
    kernel_t = kernel.T
    masks = _Mask(mask)
    for t in range(steps - 1, -1, -1):
        dh += d_hs[:, t]
        if d_cs is not None:
            dc += d_cs[:, t]
        s, a, dz = gates[t], cell_out[t], d_z[t]
        i, f, g, o = s[:, :u], s[:, u:2 * u], s[:, 2 * u:3 * u], s[:, 3 * u:]
        c_prev = cs_t[t - 1] if t else c0
        xp.multiply(dh, a, out=dz[:, 3 * u:])  # d o
        act_slope(xp, a, dc_total)  # dc + dh * o * act'(c)
        dc_total *= o
        dc_total *= dh
        dc_total += dc
        xp.multiply(dc_total, g, out=dz[:, :u])  # d i
        xp.multiply(dc_total, c_prev, out=dz[:, u:2 * u])  # d f
        xp.multiply(dc_total, i, out=dz[:, 2 * u:3 * u])  # d g
        ract_slope(xp, s, slope)  # every gate's, then the cell input's own
        act_slope(xp, g, slope[:, 2 * u:3 * u])
        dz *= slope
        keep, dropped = masks.at(t)
        if keep is None:
            xp.multiply(dc_total, f, out=dc)
        else:
            dz *= keep
            xp.multiply(dc_total, f, out=tmp)
            xp.copyto(dc, tmp, where=keep)  # a masked step passes dc through unchanged
        xp.matmul(dz, kernel_t, out=dh_next)
        if dropped is not None:
            xp.copyto(dh_next, dh, where=dropped)
        dh, dh_next = dh_next, dh
    d_kernel = state_product(xp, h0, time_major(hs), d_z)
    return d_z.transpose(1, 0, 2), dh, dc, d_kernel


_lstm_sequence_grad.defvjp(_refuse_second_order("lstm_sequence_grad"))


def lstm_sequence(x_proj, h0, c0, recurrent_kernel, mask=None, activation: str = "tanh",
                  recurrent_activation: str = "sigmoid") -> tuple[Tensor, Tensor]:
    """The hidden and cell states of an LSTM at every step, ``(batch, time, units)`` each.

    ``x_proj`` is ``inputs @ kernel + bias``, ``(batch, time, 4 * units)`` (gates
    ``i, f, c, o``); ``h0``, ``c0`` the initial states; ``mask`` (bool ``(batch, time)``)
    keeps the states of a sample at its masked steps.
    """
    _check_activation(activation, recurrent_activation)
    extra = () if mask is None else (as_tensor(mask),)
    hs, cs, _, _ = _lstm_sequence(as_tensor(x_proj), as_tensor(h0), as_tensor(c0),
                                  as_tensor(recurrent_kernel), *extra, activation=activation,
                                  recurrent_activation=recurrent_activation)
    return hs, cs


# --- GRU ------------------------------------------------------------------------------------


def _gru_parts(rest: tuple, reset_after: bool) -> tuple:
    """``(recurrent bias or None, mask tuple)`` from the inputs after the kernel."""
    if reset_after:
        return rest[0], tuple(rest[1:])
    return None, tuple(rest)


def _gru_shape(x_proj, h0, kernel, *rest, reset_after, activation, recurrent_activation):
    _check_activation(activation, recurrent_activation)
    bias, mask = _gru_parts(rest, reset_after)
    b, t, u = _sequence_avals("gru_sequence", x_proj, h0, kernel, 3, mask)
    if bias is not None and tuple(bias.shape) != (3 * u,):
        raise ValueError(f"gru_sequence: the recurrent bias must have shape ({3 * u},); "
                         f"received {bias.shape}.")
    width = 4 * u if reset_after else 3 * u
    return AbstractArray((b, t, u), x_proj.dtype), AbstractArray((t, b, width), x_proj.dtype)


@primitive("gru_sequence", shape=_gru_shape, lowering=_LOWERING, save_inputs=True,
           save_output=True, multiple_results=True)
@_one_blas_thread
@quiet
def _gru_sequence(xp, x_proj, h0, kernel, *rest, reset_after, activation,
                  recurrent_activation):
    _gru_shape(x_proj, h0, kernel, *rest, reset_after=reset_after, activation=activation,
               recurrent_activation=recurrent_activation)  # the checks of the shape rule
    bias, mask = _gru_parts(rest, reset_after)
    batch, steps, width = x_proj.shape
    u, dtype = width // 3, x_proj.dtype
    act, ract = _FORWARD[activation], _FORWARD[recurrent_activation]
    by_exp = _by_exp(activation, recurrent_activation)
    hs = WORKSPACES.empty(xp, (steps, batch, u), dtype)
    # z, r, candidate after activation; with reset_after also h_prev @ kernel_h + bias_h.
    gates = WORKSPACES.empty(xp, (steps, batch, 4 * u if reset_after else width), dtype)
    if by_exp:  # z and r arrive negated (see the module docstring); the candidate as is
        scale = gate_scale(xp, dtype, (-1, -1, 1), u)
        xp.multiply(x_proj.transpose(1, 0, 2), scale, out=gates[..., :width])
        kernel = kernel * scale
        bias = None if bias is None else bias * scale
    else:
        gates[..., :width] = x_proj.transpose(1, 0, 2)
    inner = xp.empty((batch, width if reset_after else 2 * u), dtype)
    tmp, candidate = xp.empty((batch, u), dtype), xp.empty((batch, u), dtype)
    masks = _Mask(mask)
    h_prev = h0
    for t in range(steps):
        gate = gates[t]
        zr, z, r, hh = gate[:, :2 * u], gate[:, :u], gate[:, u:2 * u], gate[:, 2 * u:3 * u]
        if reset_after:
            xp.matmul(h_prev, kernel, out=inner)
            inner += bias
        else:
            xp.matmul(h_prev, kernel[:, :2 * u], out=inner)
        zr += inner[:, :2 * u]
        if by_exp:
            _logistic_of_negated(xp, zr)
        else:
            ract(xp, zr)
        if reset_after:
            xp.copyto(gate[:, 3 * u:], inner[:, 2 * u:])
            xp.multiply(r, inner[:, 2 * u:], out=candidate)
        else:
            xp.multiply(r, h_prev, out=tmp)
            xp.matmul(tmp, kernel[:, 2 * u:], out=candidate)
        candidate += hh
        if activation == "tanh":
            xp.tanh(candidate, out=hh)
        else:
            act(xp, candidate)
            xp.copyto(hh, candidate)
        h = hs[t]
        xp.subtract(h_prev, hh, out=h)  # h = z * h_prev + (1 - z) * hh
        h *= z
        h += hh
        _, dropped = masks.at(t)
        if dropped is not None:
            xp.copyto(h, h_prev, where=dropped)
        h_prev = h
    return hs.transpose(1, 0, 2), gates


@_gru_sequence.defvjp
def _gru_sequence_vjp(ctx, grads):
    x_proj, h0, kernel, *rest = ctx.inputs
    reset_after = ctx.attrs["reset_after"]
    bias, mask = _gru_parts(tuple(rest), reset_after)
    hs, gates = ctx.output
    d_hs, d_gates = grads
    _refuse_workspace_gradient("gru_sequence", d_gates)
    d_hs = zeros_like(hs) if d_hs is None else d_hs
    found = _gru_sequence_grad(h0, kernel, hs, gates, d_hs, *mask, **ctx.attrs)
    result = tuple(g if ctx.needs(i) else None for i, g in enumerate(found))
    return result + (None,) * len(mask)


def _gru_grad_shape(h0, kernel, hs, gates, d_hs, *mask, reset_after, activation,
                    recurrent_activation):
    steps, batch = gates.shape[:2]
    u = kernel.shape[0]
    out = (AbstractArray((batch, steps, 3 * u), hs.dtype), AbstractArray(h0.shape, h0.dtype),
           AbstractArray(kernel.shape, kernel.dtype))
    return out + ((AbstractArray((3 * u,), kernel.dtype),) if reset_after else ())


@primitive("gru_sequence_grad", shape=_gru_grad_shape, lowering=_LOWERING,
           multiple_results=True)
@_one_blas_thread
@quiet
def _gru_sequence_grad(xp, h0, kernel, hs, gates, d_hs, *mask, reset_after, activation,
                       recurrent_activation):
    steps, batch = gates.shape[:2]
    u, dtype = kernel.shape[0], gates.dtype
    act_slope, ract_slope = _SLOPE[activation], _SLOPE[recurrent_activation]
    hs_t = time_major(hs)
    d_x = WORKSPACES.empty(xp, (steps, batch, 3 * u), dtype)  # d(x_proj), time-major
    # d(h_prev @ kernel + bias), or d(h_prev @ kernel_zr) and d(r * h_prev) with reset before
    d_inner = WORKSPACES.empty(xp, (steps, batch, 3 * u), dtype)
    slope = xp.empty((batch, 3 * u), dtype)
    k_t = kernel.T
    dh = xp.zeros((batch, u), dtype)
    dh_next, tmp = xp.empty_like(dh), xp.empty_like(dh)
    masks = _Mask(mask)
    for t in range(steps - 1, -1, -1):
        dh += d_hs[:, t]
        gate, dx, di = gates[t], d_x[t], d_inner[t]
        z, r, hh = gate[:, :u], gate[:, u:2 * u], gate[:, 2 * u:3 * u]
        h_prev = hs_t[t - 1] if t else h0
        ract_slope(xp, gate[:, :2 * u], slope[:, :2 * u])
        act_slope(xp, hh, slope[:, 2 * u:])
        xp.subtract(h_prev, hh, out=dx[:, :u])  # d z
        dx[:, :u] *= dh
        xp.subtract(1, z, out=dx[:, 2 * u:])  # d candidate
        dx[:, 2 * u:] *= dh
        dx[:, 2 * u:] *= slope[:, 2 * u:]
        keep, dropped = masks.at(t)
        if keep is not None:
            dx[:, 2 * u:] *= keep
        if reset_after:
            xp.multiply(dx[:, 2 * u:], gate[:, 3 * u:], out=dx[:, u:2 * u])  # d r
            xp.multiply(dx[:, 2 * u:], r, out=di[:, 2 * u:])
        else:
            xp.matmul(dx[:, 2 * u:], k_t[2 * u:], out=di[:, 2 * u:])  # d(r * h_prev)
            xp.multiply(di[:, 2 * u:], h_prev, out=dx[:, u:2 * u])  # d r
        dx[:, :2 * u] *= slope[:, :2 * u]
        if keep is not None:
            dx[:, :u] *= keep
        xp.copyto(di[:, :2 * u], dx[:, :2 * u])
        if reset_after:
            xp.matmul(di, k_t, out=dh_next)
        else:
            xp.matmul(di[:, :2 * u], k_t[:2 * u], out=dh_next)
            xp.multiply(di[:, 2 * u:], r, out=tmp)
            dh_next += tmp
        xp.multiply(dh, z, out=tmp)
        if dropped is not None:
            xp.copyto(tmp, dh, where=dropped)  # a masked step passes dh through unchanged
        dh_next += tmp
        dh, dh_next = dh_next, dh
    d_x_out = d_x.transpose(1, 0, 2)
    if reset_after:
        return (d_x_out, dh, state_product(xp, h0, hs_t, d_inner),
                _flat(d_inner).sum(axis=0))
    d_kernel = xp.empty_like(kernel)
    d_kernel[:, :2 * u] = state_product(xp, h0, hs_t, d_x[..., :2 * u])
    # The candidate's product is (r * h_prev) @ kernel_h: its gradient needs r * h_prev.
    gated = WORKSPACES.empty(xp, (steps, batch, u), dtype)
    gated[0] = h0
    gated[1:] = hs_t[:-1]
    gated *= gates[..., u:2 * u]
    d_kernel[:, 2 * u:] = _flat(gated).T @ _flat(d_x[..., 2 * u:])
    return d_x_out, dh, d_kernel


_gru_sequence_grad.defvjp(_refuse_second_order("gru_sequence_grad"))


def gru_sequence(x_proj, h0, recurrent_kernel, recurrent_bias=None, mask=None,
                 reset_after: bool = True, activation: str = "tanh",
                 recurrent_activation: str = "sigmoid") -> Tensor:
    """The hidden state of a GRU at every step, ``(batch, time, units)``.

    ``x_proj`` is ``inputs @ kernel + input_bias``, ``(batch, time, 3 * units)`` (gates
    ``z, r, h``). With ``reset_after`` (Keras's default), the reset gate multiplies
    ``h @ recurrent_kernel + recurrent_bias`` (a zero bias when None); otherwise it
    multiplies ``h`` before the product, and there is no recurrent bias.
    """
    _check_activation(activation, recurrent_activation)
    x_proj, h0, kernel = as_tensor(x_proj), as_tensor(h0), as_tensor(recurrent_kernel)
    extra = []
    if reset_after:
        extra.append(as_tensor(np.zeros(kernel._value.shape[1], kernel._value.dtype))
                     if recurrent_bias is None else as_tensor(recurrent_bias))
    elif recurrent_bias is not None:
        raise ValueError("gru_sequence: reset_after=False has no recurrent bias; add the "
                         "bias to x_proj instead.")
    if mask is not None:
        extra.append(as_tensor(mask))
    hs, _ = _gru_sequence(x_proj, h0, kernel, *extra, reset_after=bool(reset_after),
                          activation=activation, recurrent_activation=recurrent_activation)
    return hs


# --- simple RNN -----------------------------------------------------------------------------


def _simple_shape(x_proj, h0, kernel, *mask, activation):
    _check_activation(activation)
    b, t, u = _sequence_avals("simple_rnn_sequence", x_proj, h0, kernel, 1, mask)
    return AbstractArray((b, t, u), x_proj.dtype)


@primitive("simple_rnn_sequence", shape=_simple_shape, lowering=_LOWERING, save_inputs=True,
           save_output=True)
@_one_blas_thread
@quiet
def _simple_rnn_sequence(xp, x_proj, h0, kernel, *mask, activation):
    _simple_shape(x_proj, h0, kernel, *mask, activation=activation)  # the rule's checks
    batch, steps, u = x_proj.shape
    act = _FORWARD[activation]
    hs = WORKSPACES.empty(xp, (steps, batch, u), x_proj.dtype)
    product = xp.empty((batch, u), x_proj.dtype)
    masks = _Mask(mask)
    h_prev = h0
    for t in range(steps):
        h = hs[t]
        xp.matmul(h_prev, kernel, out=product)
        xp.add(product, x_proj[:, t], out=h)
        act(xp, h)
        _, dropped = masks.at(t)
        if dropped is not None:
            xp.copyto(h, h_prev, where=dropped)
        h_prev = h
    return hs.transpose(1, 0, 2)


@_simple_rnn_sequence.defvjp
def _simple_rnn_sequence_vjp(ctx, d_hs):
    x_proj, h0, kernel, *mask = ctx.inputs
    found = _simple_rnn_sequence_grad(h0, kernel, ctx.output, d_hs, *mask, **ctx.attrs)
    return tuple(g if ctx.needs(i) else None for i, g in enumerate(found)) + (None,) * len(mask)


def _simple_grad_shape(h0, kernel, hs, d_hs, *mask, activation):
    return (AbstractArray(hs.shape, hs.dtype), AbstractArray(h0.shape, h0.dtype),
            AbstractArray(kernel.shape, kernel.dtype))


@primitive("simple_rnn_sequence_grad", shape=_simple_grad_shape, lowering=_LOWERING,
           multiple_results=True)
@_one_blas_thread
@quiet
def _simple_rnn_sequence_grad(xp, h0, kernel, hs, d_hs, *mask, activation):
    batch, steps, u = hs.shape
    slope = _SLOPE[activation]
    hs_t = time_major(hs)
    d_a = WORKSPACES.empty(xp, (steps, batch, u), hs.dtype)  # d(x_proj), time-major
    k_t = kernel.T
    dh = xp.zeros((batch, u), hs.dtype)
    dh_next = xp.empty_like(dh)
    masks = _Mask(mask)
    for t in range(steps - 1, -1, -1):
        dh += d_hs[:, t]
        da = d_a[t]
        slope(xp, hs_t[t], da)
        da *= dh
        keep, dropped = masks.at(t)
        if keep is not None:
            da *= keep
        xp.matmul(da, k_t, out=dh_next)
        if dropped is not None:
            xp.copyto(dh_next, dh, where=dropped)
        dh, dh_next = dh_next, dh
    return d_a.transpose(1, 0, 2), dh, state_product(xp, h0, hs_t, d_a)


_simple_rnn_sequence_grad.defvjp(_refuse_second_order("simple_rnn_sequence_grad"))


def simple_rnn_sequence(x_proj, h0, recurrent_kernel, mask=None,
                        activation: str = "tanh") -> Tensor:
    """``h_t = activation(x_proj[:, t] + h_{t-1} @ recurrent_kernel)`` at every step,
    ``(batch, time, units)``; ``x_proj`` is ``inputs @ kernel + bias``."""
    _check_activation(activation)
    extra = () if mask is None else (as_tensor(mask),)
    return _simple_rnn_sequence(as_tensor(x_proj), as_tensor(h0), as_tensor(recurrent_kernel),
                                *extra, activation=activation)


__all__ = ["FUSED_ACTIVATIONS", "gru_sequence", "lstm_sequence", "simple_rnn_sequence"]
