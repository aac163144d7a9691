"""Fused recurrent sequences (``ops/recurrent.py``): forwards vs NumPy loops, gradients vs
finite differences, and the gradient primitives vs the gradient of the same recurrence
written step by step in plain ops (the composite the fused ops replace)."""

from __future__ import annotations

import numpy as np
import pytest
from _opcheck import Fwd, Grad, params, ran_primitives, run_forward, run_gradient, uniform

import neuroflow as tf
from neuroflow.abstract import Dim
from neuroflow.errors import UnimplementedError
from neuroflow.graph.trace import Tracer, tracing
from neuroflow.ops import recurrent, registry

B, T, U = 3, 5, 4
MASK = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [1, 0, 0, 1, 0]], dtype=bool)


@pytest.fixture(autouse=True)
def shape_rules_agree_with_forwards(monkeypatch):
    """The shape rules of these primitives predict every result (several per op)."""
    real_apply = registry.apply

    def checked(prim, inputs, attrs):
        result = real_apply(prim, inputs, attrs)
        arrays = [t._value for t in inputs]
        results = result if isinstance(result, tuple) else (result,)
        if all(type(a) is np.ndarray for a in arrays):
            avals = prim.abstract_eval(arrays, attrs)
            assert [(tuple(a.shape), a.dtype) for a in avals] == [
                (tuple(r._value.shape), r._value.dtype) for r in results], prim.name
        return result

    monkeypatch.setattr(registry, "apply", checked)


# --- NumPy references -------------------------------------------------------------------

_ACT = {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "relu": lambda v: np.maximum(v, 0), "linear": lambda v: v,
        "hard_sigmoid": lambda v: np.clip(v + 3, 0, 6) / 6}


def _lstm_ref(xp, h, c, k, mask=None, act="tanh", ract="sigmoid"):
    u = k.shape[0]
    hs, cs = [], []
    for t in range(xp.shape[1]):
        z = xp[:, t] + h @ k
        i, f, o = (_ACT[ract](z[:, j * u:(j + 1) * u]) for j in (0, 1, 3))
        c_new = f * c + i * _ACT[act](z[:, 2 * u:3 * u])
        h_new = o * _ACT[act](c_new)
        keep = np.ones((len(h), 1), bool) if mask is None else mask[:, t, None]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1)


def _gru_ref(xp, h, k, b=None, mask=None, reset_after=True, act="tanh", ract="sigmoid"):
    u = k.shape[0]
    hs = []
    for t in range(xp.shape[1]):
        x = xp[:, t]
        inner = h @ k + (b if reset_after and b is not None else 0)
        z = _ACT[ract](x[:, :u] + inner[:, :u])
        r = _ACT[ract](x[:, u:2 * u] + inner[:, u:2 * u])
        recurrent_h = r * inner[:, 2 * u:] if reset_after else (r * h) @ k[:, 2 * u:]
        hh = _ACT[act](x[:, 2 * u:] + recurrent_h)
        h_new = z * h + (1 - z) * hh
        h = h_new if mask is None else np.where(mask[:, t, None], h_new, h)
        hs.append(h)
    return np.stack(hs, 1)


def _simple_ref(xp, h, k, mask=None, act="tanh"):
    hs = []
    for t in range(xp.shape[1]):
        h_new = _ACT[act](xp[:, t] + h @ k)
        h = h_new if mask is None else np.where(mask[:, t, None], h_new, h)
        hs.append(h)
    return np.stack(hs, 1)


def _lstm_args(dtype=np.float64):
    return tuple(a.astype(dtype) for a in (uniform(B, T, 4 * U), uniform(B, U), uniform(B, U),
                                           uniform(U, 4 * U, low=-0.6, high=0.6)))


def _gru_args(dtype=np.float64):
    return tuple(a.astype(dtype) for a in (uniform(B, T, 3 * U), uniform(B, U),
                                           uniform(U, 3 * U, low=-0.6, high=0.6),
                                           uniform(3 * U, low=-0.5, high=0.5)))


def _simple_args(dtype=np.float64):
    return tuple(a.astype(dtype) for a in (uniform(B, T, U), uniform(B, U),
                                           uniform(U, U, low=-0.6, high=0.6)))


FORWARD = {
    "lstm_sequence": [
        Fwd(recurrent.lstm_sequence, _lstm_ref, _lstm_args(), "plain"),
        Fwd(recurrent.lstm_sequence, _lstm_ref, _lstm_args(np.float32), "float32"),
        Fwd(recurrent.lstm_sequence, _lstm_ref, (*_lstm_args(), MASK), "masked"),
        Fwd(lambda *a: recurrent.lstm_sequence(*a, activation="relu",
                                               recurrent_activation="hard_sigmoid"),
            lambda *a: _lstm_ref(*a, act="relu", ract="hard_sigmoid"), _lstm_args(),
            "relu-hard-sigmoid")],
    "gru_sequence": [
        Fwd(recurrent.gru_sequence, _gru_ref, _gru_args(), "reset-after"),
        Fwd(lambda x, h, k, b, m: recurrent.gru_sequence(x, h, k, b, m),
            lambda x, h, k, b, m: _gru_ref(x, h, k, b, m), (*_gru_args(np.float32), MASK),
            "masked-float32"),
        Fwd(lambda x, h, k: recurrent.gru_sequence(x, h, k, reset_after=False),
            lambda x, h, k: _gru_ref(x, h, k, reset_after=False), _gru_args()[:3],
            "reset-before"),
        Fwd(lambda x, h, k, m: recurrent.gru_sequence(x, h, k, mask=m, reset_after=False,
                                                      activation="linear"),
            lambda x, h, k, m: _gru_ref(x, h, k, mask=m, reset_after=False, act="linear"),
            (*_gru_args()[:3], MASK), "reset-before-masked-linear")],
    "simple_rnn_sequence": [
        Fwd(recurrent.simple_rnn_sequence, _simple_ref, _simple_args(), "tanh"),
        Fwd(recurrent.simple_rnn_sequence, _simple_ref, (*_simple_args(np.float32), MASK),
            "masked-float32"),
        Fwd(lambda *a: recurrent.simple_rnn_sequence(*a, activation="sigmoid"),
            lambda *a: _simple_ref(*a, act="sigmoid"), _simple_args(), "sigmoid")],
}

GRADIENTS = {
    "lstm_sequence": [
        Grad(recurrent.lstm_sequence, _lstm_args(), "plain", second=False),
        Grad(lambda x, h, c, k: recurrent.lstm_sequence(x, h, c, k, MASK), _lstm_args(),
             "masked", second=False),
        Grad(lambda x, h, c, k: recurrent.lstm_sequence(x, h, c, k)[1][:, -1], _lstm_args(),
             "last-cell-state-only", second=False),
        Grad(lambda *a: recurrent.lstm_sequence(*a, activation="sigmoid",
                                                recurrent_activation="tanh"),
             _lstm_args(), "other-activations", second=False)],
    "gru_sequence": [
        Grad(recurrent.gru_sequence, _gru_args(), "reset-after", second=False),
        Grad(lambda x, h, k, b: recurrent.gru_sequence(x, h, k, b, MASK), _gru_args(),
             "reset-after-masked", second=False),
        Grad(lambda x, h, k: recurrent.gru_sequence(x, h, k, mask=MASK, reset_after=False),
             _gru_args()[:3], "reset-before-masked", second=False)],
    "simple_rnn_sequence": [
        Grad(recurrent.simple_rnn_sequence, _simple_args(), "tanh", second=False),
        Grad(lambda x, h, k: recurrent.simple_rnn_sequence(x, h, k, MASK, activation="relu"),
             _simple_args(), "masked-relu", second=False)],
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


# --- the gradient primitives vs the step-by-step composite -----------------------------------

_TF_ACT = {"tanh": tf.tanh, "sigmoid": tf.sigmoid, "relu": tf.nn.relu,
           "linear": lambda v: v, "hard_sigmoid": lambda v: tf.nn.relu6(v + 3.0) / 6.0}


def _steps(step, xp, states, mask):
    """Run ``step(x_t, states) -> states`` over time with plain ops; the first state of
    every step, stacked."""
    seen = []
    for t in range(xp.shape[1]):
        new = step(xp[:, t], states)
        if mask is not None:
            keep = tf.constant(mask[:, t:t + 1])
            new = [tf.where(keep, n, o) for n, o in zip(new, states)]
        states = new
        seen.append(states)
    return [tf.stack([s[i] for s in seen], axis=1) for i in range(len(states))]


def _lstm_composite(xp, h, c, k, mask=None, act="tanh", ract="sigmoid"):
    def step(x, states):
        z = x + tf.matmul(states[0], k)
        i, f, g, o = tf.split(z, 4, axis=1)
        c_new = _TF_ACT[ract](f) * states[1] + _TF_ACT[ract](i) * _TF_ACT[act](g)
        return [_TF_ACT[ract](o) * _TF_ACT[act](c_new), c_new]
    return _steps(step, xp, [h, c], mask)


def _gru_composite(xp, h, k, b=None, mask=None, reset_after=True, act="tanh", ract="sigmoid"):
    u = k.shape[0]

    def step(x, states):
        hp = states[0]
        inner = tf.matmul(hp, k) + b if reset_after else tf.matmul(hp, k)
        z = _TF_ACT[ract](x[:, :u] + inner[:, :u])
        r = _TF_ACT[ract](x[:, u:2 * u] + inner[:, u:2 * u])
        rec = r * inner[:, 2 * u:] if reset_after else tf.matmul(r * hp, k[:, 2 * u:])
        hh = _TF_ACT[act](x[:, 2 * u:] + rec)
        return [z * hp + (1 - z) * hh]
    return _steps(step, xp, [h], mask)[0]


def _simple_composite(xp, h, k, mask=None, act="tanh"):
    return _steps(lambda x, s: [_TF_ACT[act](x + tf.matmul(s[0], k))], xp, [h], mask)[0]


COMPOSITES = [
    ("lstm_sequence_grad", recurrent.lstm_sequence, _lstm_composite, _lstm_args(), {}),
    ("lstm_sequence_grad", recurrent.lstm_sequence, _lstm_composite, _lstm_args(),
     dict(mask=MASK, act_names=("relu", "hard_sigmoid"))),
    ("gru_sequence_grad", recurrent.gru_sequence, _gru_composite, _gru_args(), dict(mask=MASK)),
    ("gru_sequence_grad", recurrent.gru_sequence, _gru_composite, _gru_args()[:3],
     dict(mask=MASK, reset_after=False, act_names=("linear", "hard_sigmoid"))),
    ("simple_rnn_sequence_grad", recurrent.simple_rnn_sequence, _simple_composite,
     _simple_args(), dict(mask=MASK)),
    ("simple_rnn_sequence_grad", recurrent.simple_rnn_sequence, _simple_composite,
     _simple_args(), dict(act_names=("relu",))),
]


def _keywords(name, options, fused):
    kw = {k: v for k, v in options.items() if k not in ("act_names", "mask")}
    names = options.get("act_names", ())
    if names:
        keys = ("activation", "recurrent_activation") if fused else ("act", "ract")
        kw.update(zip(keys, names))
    return kw


@pytest.mark.parametrize("name, fused, composite, args, options", COMPOSITES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(COMPOSITES)])
def test_gradient_primitive_matches_the_composite(name, fused, composite, args, options):
    tensors = [tf.constant(a) for a in args]
    mask = options.get("mask")
    weights = [tf.constant(uniform(B, T, U)), tf.constant(uniform(B, T, U))]

    def loss_and_grads(fn, **kw):
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = fn(*tensors, mask=mask, **kw)
            outs = out if isinstance(out, (list, tuple)) else [out]
            loss = sum(tf.reduce_sum(o * w) for o, w in zip(outs, weights))
        return [loss, *tape.gradient(loss, tensors)]

    with ran_primitives() as ran:
        got = loss_and_grads(fused, **_keywords(name, options, True))
    assert name in ran
    want = loss_and_grads(composite, **_keywords(name, options, False))
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fn, args", [
    (recurrent.lstm_sequence, _lstm_args()), (recurrent.gru_sequence, _gru_args()),
    (recurrent.simple_rnn_sequence, _simple_args())], ids=["lstm", "gru", "simple"])
def test_second_derivatives_are_refused(fn, args):
    tensors = [tf.constant(a) for a in args]
    with tf.GradientTape() as outer:
        outer.watch(tensors)
        with tf.GradientTape() as inner:
            inner.watch(tensors)
            out = fn(*tensors)
            loss = tf.reduce_sum(out[0] if isinstance(out, tuple) else out)
        grads = inner.gradient(loss, tensors)
        total = tf.reduce_sum(grads[0] * grads[0])
    with pytest.raises(UnimplementedError, match="Second derivatives"):
        outer.gradient(total, tensors)


COVERED_ELSEWHERE = {
    "lstm_sequence_grad": test_gradient_primitive_matches_the_composite,
    "gru_sequence_grad": test_gradient_primitive_matches_the_composite,
    "simple_rnn_sequence_grad": test_gradient_primitive_matches_the_composite,
}


# --- shape rules, unknown sizes and errors --------------------------------------------------


def test_shape_rules_keep_unknown_batch_and_time():
    tracer = Tracer("t")
    b, t = Dim.fresh("b"), Dim.fresh("t")
    with tracing(tracer):
        x = tracer.add_input((b, t, 4 * U), np.float32)
        h = tracer.add_input((b, U), np.float32)
        k = tf.constant(np.zeros((U, 4 * U), np.float32))
        hs, cs = recurrent.lstm_sequence(x, h, h, k)
        g = recurrent.gru_sequence(tracer.add_input((b, t, 3 * U), np.float32), h,
                                   tf.constant(np.zeros((U, 3 * U), np.float32)))
    assert hs._value.shape == (b, t, U) and cs._value.shape == (b, t, U)
    assert g._value.shape == (b, t, U)


@pytest.mark.parametrize("make, fragment", [
    (lambda: recurrent.lstm_sequence(np.zeros((2, 3, 8)), np.zeros((2, 2)), np.zeros((2, 2)),
                                     np.zeros((2, 6))), "with 2 units"),
    (lambda: recurrent.simple_rnn_sequence(np.zeros((2, 3)), np.zeros((2, 3)),
                                           np.zeros((3, 3))), "ranks"),
    (lambda: recurrent.simple_rnn_sequence(np.zeros((2, 3, 2), np.float32), np.zeros((2, 2)),
                                           np.zeros((2, 2))), "one floating dtype"),
    (lambda: recurrent.simple_rnn_sequence(np.zeros((2, 3, 2)), np.zeros((2, 2)),
                                           np.zeros((2, 2)), np.ones((2, 3))), "bool"),
    (lambda: recurrent.simple_rnn_sequence(np.zeros((2, 3, 2)), np.zeros((2, 2)),
                                           np.zeros((2, 2)), activation="softsign"),
     "'softsign'"),
])
def test_bad_inputs_are_refused_with_a_clear_error(make, fragment):
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match=fragment):
        make()
