"""Fused recurrent sequences: a whole LSTM, GRU or simple RNN over time is one primitive.

Keras computes a recurrent layer step by step; traced that way, the graph would grow
with the sequence length. Here the input projection of every step is one matmul done
by the caller (``x @ kernel + bias`` over ``(batch, time, features)``), and one
primitive runs the recurrence in NumPy: per step one matmul into a preallocated gate
buffer and in-place activations, no other allocation. Its gradient is another
primitive that walks back through time with the saved gates, and forms the gradient
of the recurrent kernel as one product over all steps at the end.

Gate layouts are Keras's: LSTM ``[i, f, c, o]``, GRU ``[z, r, h]``. A ``mask``
(``(batch, time)``, bool) keeps the state of a sample unchanged at its masked steps.
The forward primitives make the state at every step (``hs``, and ``cs`` for the LSTM
cell state); a layer derives its outputs from them. The activations must be in
:data:`FUSED_ACTIVATIONS` (their derivatives are read off their outputs); layers run
other activations step by step. Second derivatives are not supported: the gradient
primitives raise ``UnimplementedError`` when differentiated.
"""

from __future__ import annotations

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

_DERIVATIVE = {
    "tanh": lambda xp, y: 1 - y * y,
    "sigmoid": lambda xp, y: y * (1 - y),
    "relu": lambda xp, y: (y > 0).astype(y.dtype),
    "linear": lambda xp, y: xp.ones_like(y),
    "hard_sigmoid": lambda xp, y: ((y > 0) & (y < 1)).astype(y.dtype) / 6,
}

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


def _keep(mask: tuple, t: int):
    """Which samples step ``t`` updates, as a (batch, 1) column (None: all)."""
    return mask[0][:, t, None] if mask else None


def _previous_states(xp, first, states):
    """``[first, states[:, 0], ..., states[:, T-2]]`` time-major: each step's input state."""
    batch, steps, units = states.shape
    out = xp.empty((steps, batch, units), states.dtype)
    if steps:
        out[0] = first
        out[1:] = states[:, :-1].transpose(1, 0, 2)
    return out


def _flat(a):
    return a.reshape(-1, a.shape[-1])


def _one_blas_thread(forward):
    """Run ``forward`` with one BLAS thread: its products are one time step each (batch by
    units), too small for a second thread to pay; on a busy 2-core machine two threads
    made an LSTM(128) sequence of batch 64 eight times slower (waking the helper thread
    for every step). See ``backend/blas.py``."""

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


# --- LSTM -----------------------------------------------------------------------------------


def _lstm_shape(x_proj, h0, c0, kernel, *mask, activation, recurrent_activation):
    _check_activation(activation, recurrent_activation)
    b, t, u = _sequence_avals("lstm_sequence", x_proj, h0, kernel, 4, mask)
    _sequence_avals("lstm_sequence", x_proj, c0, kernel, 4, mask)
    dt = x_proj.dtype
    return (AbstractArray((b, t, u), dt), AbstractArray((b, t, u), dt),
            AbstractArray((t, b, 4 * u), dt))


@primitive("lstm_sequence", shape=_lstm_shape, lowering=_LOWERING, save_inputs=True,
           save_output=True, multiple_results=True)
@_one_blas_thread
@quiet
def _lstm_sequence(xp, x_proj, h0, c0, kernel, *mask, activation, recurrent_activation):
    _lstm_shape(x_proj, h0, c0, kernel, *mask, activation=activation,
                recurrent_activation=recurrent_activation)  # the checks of the shape rule
    batch, steps, width = x_proj.shape
    u = width // 4
    act, ract = _FORWARD[activation], _FORWARD[recurrent_activation]
    hs = xp.empty((batch, steps, u), x_proj.dtype)
    cs = xp.empty_like(hs)
    gates = xp.empty((steps, batch, width), x_proj.dtype)  # i, f, g, o after activation
    tmp = xp.empty((batch, u), x_proj.dtype)
    h_prev, c_prev = h0, c0
    for t in range(steps):
        z = gates[t]
        xp.matmul(h_prev, kernel, out=z)
        z += x_proj[:, t]
        ract(xp, z[:, :2 * u])
        act(xp, z[:, 2 * u:3 * u])
        ract(xp, z[:, 3 * u:])
        i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        c, h = cs[:, t], hs[:, t]
        xp.multiply(f, c_prev, out=c)
        xp.multiply(i, g, out=tmp)
        c += tmp
        tmp[...] = c
        act(xp, tmp)
        xp.multiply(o, tmp, out=h)
        keep = _keep(mask, t)
        if keep is not None:
            xp.copyto(c, c_prev, where=~keep)
            xp.copyto(h, h_prev, where=~keep)
        h_prev, c_prev = h, c
    return hs, cs, gates


@_lstm_sequence.defvjp
def _lstm_sequence_vjp(ctx, grads):
    x_proj, h0, c0, kernel, *mask = ctx.inputs
    hs, cs, gates = ctx.output
    d_hs, d_cs, d_gates = grads
    if d_gates is not None:
        raise UnimplementedError("lstm_sequence: its gates are a workspace for the gradient; "
                                 "nothing may depend on them.", "lstm_sequence")
    d_hs = zeros_like(hs) if d_hs is None else d_hs
    d_cs = zeros_like(cs) if d_cs is None else d_cs
    found = _lstm_sequence_grad(h0, c0, kernel, hs, cs, gates, d_hs, d_cs, *mask,
                                **ctx.attrs)
    return tuple(g if ctx.needs(i) else None for i, g in enumerate(found)) + (None,) * len(mask)


def _lstm_grad_shape(h0, c0, kernel, hs, cs, gates, d_hs, d_cs, *mask, activation,
                     recurrent_activation):
    steps, batch, width = gates.shape
    return (AbstractArray((batch, steps, width), hs.dtype), AbstractArray(h0.shape, h0.dtype),
            AbstractArray(c0.shape, c0.dtype), AbstractArray(kernel.shape, kernel.dtype))


@primitive("lstm_sequence_grad", shape=_lstm_grad_shape, lowering=_LOWERING,
           multiple_results=True)
@_one_blas_thread
def _lstm_sequence_grad(xp, h0, c0, kernel, hs, cs, gates, d_hs, d_cs, *mask, activation,
                        recurrent_activation):
    steps, batch, width = gates.shape
    u = width // 4
    # Each gate's derivative at its output, for every step at once (i, f, o recurrent).
    factor = _DERIVATIVE[recurrent_activation](xp, gates)
    factor[..., 2 * u:3 * u] = _DERIVATIVE[activation](xp, gates[..., 2 * u:3 * u])
    cell_out = cs.copy()
    _FORWARD[activation](xp, cell_out)  # act(c_t), which h_t = o * act(c_t) used
    cell_slope = _DERIVATIVE[activation](xp, cell_out)
    d_z = xp.empty_like(gates)  # the gradient of the gates before activation: d(x_proj)
    kernel_t = kernel.T
    dh, dc = xp.zeros((batch, u), hs.dtype), xp.zeros((batch, u), hs.dtype)
    dh_next, dc_total, tmp = xp.empty_like(dh), xp.empty_like(dh), xp.empty_like(dh)
    for t in range(steps - 1, -1, -1):
        dh += d_hs[:, t]
        dc += d_cs[:, t]
        i, f, g, o = (gates[t][:, k * u:(k + 1) * u] for k in range(4))
        c_prev = cs[:, t - 1] if t else c0
        dz = d_z[t]
        xp.multiply(dh, cell_out[:, t], out=dz[:, 3 * u:])  # d o
        xp.multiply(dh, o, out=dc_total)
        dc_total *= cell_slope[:, t]
        dc_total += dc
        xp.multiply(dc_total, g, out=dz[:, :u])  # d i
        xp.multiply(dc_total, c_prev, out=dz[:, u:2 * u])  # d f
        xp.multiply(dc_total, i, out=dz[:, 2 * u:3 * u])  # d g
        dz *= factor[t]
        keep = _keep(mask, t)
        xp.multiply(dc_total, f, out=tmp)
        if keep is None:
            dc, tmp = tmp, dc
        else:
            dz *= keep
            xp.copyto(dc, tmp, where=keep)  # a masked step passes dc through unchanged
        xp.matmul(dz, kernel_t, out=dh_next)
        if keep is not None:
            xp.copyto(dh_next, dh, where=~keep)
        dh, dh_next = dh_next, dh
    d_kernel = _flat(_previous_states(xp, h0, hs)).T @ _flat(d_z)
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
    hs, cs, _ = _lstm_sequence(as_tensor(x_proj), as_tensor(h0), as_tensor(c0),
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
    u = width // 3
    act, ract = _FORWARD[activation], _FORWARD[recurrent_activation]
    hs = xp.empty((batch, steps, u), x_proj.dtype)
    # z, r, candidate after activation; with reset_after also h_prev @ kernel_h + bias_h.
    gates = xp.empty((steps, batch, 4 * u if reset_after else width), x_proj.dtype)
    inner = xp.empty((batch, width if reset_after else 2 * u), x_proj.dtype)
    tmp = xp.empty((batch, u), x_proj.dtype)
    h_prev = h0
    for t in range(steps):
        gate, xt = gates[t], x_proj[:, t]
        z, r, hh = gate[:, :u], gate[:, u:2 * u], gate[:, 2 * u:3 * u]
        if reset_after:
            xp.matmul(h_prev, kernel, out=inner)
            inner += bias
        else:
            xp.matmul(h_prev, kernel[:, :2 * u], out=inner)
        xp.add(xt[:, :2 * u], inner[:, :2 * u], out=gate[:, :2 * u])
        ract(xp, gate[:, :2 * u])
        if reset_after:
            gate[:, 3 * u:] = inner[:, 2 * u:]
            xp.multiply(r, inner[:, 2 * u:], out=hh)
        else:
            xp.multiply(r, h_prev, out=tmp)
            xp.matmul(tmp, kernel[:, 2 * u:], out=hh)
        hh += xt[:, 2 * u:]
        act(xp, hh)
        h = hs[:, t]
        xp.subtract(h_prev, hh, out=h)  # h = z * h_prev + (1 - z) * hh
        h *= z
        h += hh
        keep = _keep(mask, t)
        if keep is not None:
            xp.copyto(h, h_prev, where=~keep)
        h_prev = h
    return hs, gates


@_gru_sequence.defvjp
def _gru_sequence_vjp(ctx, grads):
    x_proj, h0, kernel, *rest = ctx.inputs
    reset_after = ctx.attrs["reset_after"]
    bias, mask = _gru_parts(tuple(rest), reset_after)
    hs, gates = ctx.output
    d_hs, d_gates = grads
    if d_gates is not None:
        raise UnimplementedError("gru_sequence: its gates are a workspace for the gradient; "
                                 "nothing may depend on them.", "gru_sequence")
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
def _gru_sequence_grad(xp, h0, kernel, hs, gates, d_hs, *mask, reset_after, activation,
                       recurrent_activation):
    steps, batch = gates.shape[:2]
    u = kernel.shape[0]
    factor = _DERIVATIVE[recurrent_activation](xp, gates[..., :3 * u])
    factor[..., 2 * u:] = _DERIVATIVE[activation](xp, gates[..., 2 * u:3 * u])
    d_x = xp.empty((steps, batch, 3 * u), hs.dtype)  # d(x_proj), time-major
    d_inner = xp.empty_like(d_x) if reset_after else None  # d(h_prev @ kernel + bias)
    k_t = kernel.T
    dh = xp.zeros((batch, u), hs.dtype)
    dh_next, tmp, d_rh = xp.empty_like(dh), xp.empty_like(dh), xp.empty_like(dh)
    for t in range(steps - 1, -1, -1):
        dh += d_hs[:, t]
        gate, dx = gates[t], d_x[t]
        z, r, hh = gate[:, :u], gate[:, u:2 * u], gate[:, 2 * u:3 * u]
        h_prev = hs[:, t - 1] if t else h0
        xp.subtract(h_prev, hh, out=dx[:, :u])  # d z
        dx[:, :u] *= dh
        xp.subtract(1, z, out=dx[:, 2 * u:])  # d candidate
        dx[:, 2 * u:] *= dh
        dx[:, :u] *= factor[t][:, :u]
        dx[:, 2 * u:] *= factor[t][:, 2 * u:]
        keep = _keep(mask, t)
        if keep is not None:
            dx[:, :u] *= keep
            dx[:, 2 * u:] *= keep
        if reset_after:
            xp.multiply(dx[:, 2 * u:], gate[:, 3 * u:], out=dx[:, u:2 * u])  # d r
            dx[:, u:2 * u] *= factor[t][:, u:2 * u]
            di = d_inner[t]
            di[:, :2 * u] = dx[:, :2 * u]
            xp.multiply(dx[:, 2 * u:], r, out=di[:, 2 * u:])
            xp.matmul(di, k_t, out=dh_next)
        else:
            xp.matmul(dx[:, 2 * u:], k_t[2 * u:], out=d_rh)
            xp.multiply(d_rh, h_prev, out=dx[:, u:2 * u])  # d r
            dx[:, u:2 * u] *= factor[t][:, u:2 * u]
            xp.matmul(dx[:, :2 * u], k_t[:2 * u], out=dh_next)
            d_rh *= r
            dh_next += d_rh
        xp.multiply(dh, z, out=tmp)
        if keep is not None:
            xp.copyto(tmp, dh, where=~keep)  # a masked step passes dh through unchanged
        dh_next += tmp
        dh, dh_next = dh_next, dh
    h_prev_all = _flat(_previous_states(xp, h0, hs))
    if reset_after:
        flat = _flat(d_inner)
        return d_x.transpose(1, 0, 2), dh, h_prev_all.T @ flat, flat.sum(axis=0)
    d_kernel = xp.empty_like(kernel)
    flat = _flat(d_x)
    d_kernel[:, :2 * u] = h_prev_all.T @ flat[:, :2 * u]
    d_kernel[:, 2 * u:] = (h_prev_all * _flat(gates[..., u:2 * u])).T @ flat[:, 2 * u:]
    return d_x.transpose(1, 0, 2), dh, d_kernel


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
    hs = xp.empty((batch, steps, u), x_proj.dtype)
    tmp = xp.empty((batch, u), x_proj.dtype)
    h_prev = h0
    for t in range(steps):
        h = hs[:, t]
        xp.matmul(h_prev, kernel, out=tmp)
        xp.add(tmp, x_proj[:, t], out=h)
        act(xp, h)
        keep = _keep(mask, t)
        if keep is not None:
            xp.copyto(h, h_prev, where=~keep)
        h_prev = h
    return hs


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
def _simple_rnn_sequence_grad(xp, h0, kernel, hs, d_hs, *mask, activation):
    batch, steps, u = hs.shape
    slope = _DERIVATIVE[activation](xp, hs)
    d_a = xp.empty((steps, batch, u), hs.dtype)  # d(x_proj), time-major
    k_t = kernel.T
    dh = xp.zeros((batch, u), hs.dtype)
    dh_next = xp.empty_like(dh)
    for t in range(steps - 1, -1, -1):
        dh += d_hs[:, t]
        da = d_a[t]
        xp.multiply(dh, slope[:, t], out=da)
        keep = _keep(mask, t)
        if keep is not None:
            da *= keep
        xp.matmul(da, k_t, out=dh_next)
        if keep is not None:
            xp.copyto(dh_next, dh, where=~keep)
        dh, dh_next = dh_next, dh
    d_kernel = _flat(_previous_states(xp, h0, hs)).T @ _flat(d_a)
    return d_a.transpose(1, 0, 2), dh, d_kernel


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
