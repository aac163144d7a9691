"""Keras 3 (with TensorFlow 2.21) as the oracle for the recurrent layers, their cells,
Bidirectional, TimeDistributed, Embedding and Masking.

Each case builds the Keras layer and neuroflow's with the same arguments, gives ours
Keras's weights, and compares outputs, returned states and the gradients of a loss
over all of them (with respect to the inputs and every trainable weight); configs are
compared key by key.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

# A mask with a masked start, a hole and a masked end, and one row fully kept.
MASK = np.array([[0, 1, 1, 0, 1, 0],
                 [1, 1, 1, 1, 1, 1],
                 [1, 1, 0, 0, 1, 1]], dtype=bool)
SHAPE = (3, 6, 4)

RECURRENT = [
    ("SimpleRNN", {}),
    ("SimpleRNN", dict(return_sequences=True)),
    ("SimpleRNN", dict(return_state=True, go_backwards=True)),
    ("SimpleRNN", dict(activation="relu", use_bias=False, return_sequences=True)),
    ("SimpleRNN", dict(activation=None, return_sequences=True, return_state=True)),
    ("LSTM", {}),
    ("LSTM", dict(return_sequences=True, return_state=True)),
    ("LSTM", dict(go_backwards=True, return_sequences=True)),
    ("LSTM", dict(unit_forget_bias=False, use_bias=False, return_state=True)),
    ("LSTM", dict(recurrent_activation="hard_sigmoid", activation="relu",
                  return_sequences=True)),
    ("LSTM", dict(unroll=True, return_sequences=True)),
    ("LSTM", dict(activation="softsign", return_sequences=True)),  # runs step by step
    ("GRU", {}),
    ("GRU", dict(return_sequences=True, return_state=True)),
    ("GRU", dict(reset_after=False, return_sequences=True)),
    ("GRU", dict(reset_after=False, use_bias=False, go_backwards=True, return_state=True)),
    ("GRU", dict(use_bias=False, recurrent_activation="hard_sigmoid", return_sequences=True)),
    ("GRU", dict(activation="elu", return_sequences=True, return_state=True)),
]


def _weights_like(layer, rng) -> list[np.ndarray]:
    return [(rng.normal(size=tuple(w.shape)) * 0.5).astype(np.float32) for w in layer.weights]


def _pair(make_theirs, make_ours, shape, rng, build=True):
    # Automatic names (gru_cell, gru_cell_1, ...) count per process: start both afresh so
    # they agree whatever ran before.
    K.backend.clear_session()
    N.keras.backend.clear_session()
    theirs, ours = make_theirs(), make_ours()
    if build:
        theirs.build(shape)
        ours.build(shape)
        weights = _weights_like(theirs, rng)
        theirs.set_weights(weights)
        ours.set_weights(weights)
    return theirs, ours


def _paths(layer) -> list:
    """Weight paths below the layer's own name (the names of the two layers may differ)."""
    return [w.path.split("/", 1)[1] if w.path.startswith(layer.name + "/") else w.path
            for w in layer.weights]


def _leaves(value) -> list:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _outputs_and_gradients(lib, layer, tensors, kwargs):
    floats = [t for t in tensors if t.dtype.is_floating]
    with lib.GradientTape() as tape:
        tape.watch(floats)
        leaves = _leaves(layer(*tensors, **kwargs))
        loss = sum(lib.reduce_sum(leaf * lib.sin(leaf + 0.5 * k)) for k, leaf in
                   enumerate(leaves))
    grads = tape.gradient(loss, [*floats, *layer.trainable_weights])
    return leaves + [None if g is None else lib.convert_to_tensor(g) for g in grads]


def _run(lib, layer, inputs, compiled=False, **kwargs):
    """Every output leaf, then the gradients of a loss over all of them with respect to
    the (float) inputs and the trainable weights; ``compiled``: all in one tf.function."""
    tensors = [lib.constant(a) for a in inputs]
    kwargs = {k: lib.constant(v) for k, v in kwargs.items()}
    if compiled:
        found = lib.function(lambda t, k: _outputs_and_gradients(lib, layer, t, k))(
            tensors, kwargs)
    else:
        found = _outputs_and_gradients(lib, layer, tensors, kwargs)
    return [None if value is None else np.asarray(value) for value in found]


def _close(ours, theirs, tol=2e-5):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b is None:
            assert a is None or not np.any(a), f"result {i}: Keras has no gradient"
            continue
        assert a is not None, f"result {i}: no gradient where Keras has one"
        assert a.shape == b.shape, f"result {i}: shape {a.shape}, Keras {b.shape}"
        np.testing.assert_allclose(a, b, rtol=10 * tol, atol=tol, err_msg=f"result {i}")


def _configs_match(ours, theirs) -> None:
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) == set(theirs_config)
    for key, value in theirs_config.items():
        if key not in ("name", "dtype") and isinstance(value, (str, int, float, bool,
                                                              type(None))):
            assert ours_config[key] == value, key


@pytest.mark.parametrize("name, kwargs", RECURRENT,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(RECURRENT)])
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_recurrent_layer_matches_keras(name, kwargs, masked):
    rng = np.random.default_rng(len(kwargs) + 7 * masked)
    x = rng.normal(size=SHAPE).astype(np.float32)
    theirs, ours = _pair(lambda: getattr(K.layers, name)(5, **kwargs),
                         lambda: getattr(N.keras.layers, name)(5, **kwargs), SHAPE, rng)
    assert _paths(ours) == _paths(theirs)
    call = {"mask": MASK} if masked else {}
    _close(_run(N, ours, [x], **call), _run(T, theirs, [x], **call))
    _configs_match(ours, theirs)
    assert ours.compute_output_shape((None,) + SHAPE[1:]) == \
        theirs.compute_output_shape((None,) + SHAPE[1:])


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_initial_state_matches_keras(name):
    rng = np.random.default_rng(3)
    x = rng.normal(size=SHAPE).astype(np.float32)
    count = 2 if name == "LSTM" else 1
    states = [rng.normal(size=(SHAPE[0], 5)).astype(np.float32) for _ in range(count)]
    theirs, ours = _pair(lambda: getattr(K.layers, name)(5, return_sequences=True,
                                                         return_state=True),
                         lambda: getattr(N.keras.layers, name)(5, return_sequences=True,
                                                               return_state=True), SHAPE, rng)

    def apply(lib, layer):
        class WithState:
            trainable_weights = layer.trainable_weights

            def __call__(self, x, *s):
                return layer(x, initial_state=list(s), mask=MASK)
        return _run(lib, WithState(), [x, *states])

    _close(apply(N, ours), apply(T, theirs))


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_stateful_layer_carries_states_across_calls_like_keras(name):
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=SHAPE).astype(np.float32) for _ in range(3)]
    theirs, ours = _pair(lambda: getattr(K.layers, name)(5, stateful=True),
                         lambda: getattr(N.keras.layers, name)(5, stateful=True), SHAPE, rng)
    for x in xs[:2]:
        _close([np.asarray(ours(x))], [np.asarray(theirs(x))])
    _close([np.asarray(v.value()) for v in ours.states],
           [np.asarray(v.value) for v in theirs.states])
    ours.reset_states()
    theirs.reset_states()
    _close([np.asarray(ours(xs[2]))], [np.asarray(theirs(xs[2]))])


def _cell_rnn(lib, **kwargs):
    cell = lib.layers.LSTMCell(5, **kwargs)
    return lib.layers.RNN(cell, return_sequences=True, return_state=True)


@pytest.mark.parametrize("make", [
    lambda lib: lib.layers.RNN(lib.layers.GRUCell(5, reset_after=False),
                               return_sequences=True),
    lambda lib: lib.layers.RNN([lib.layers.LSTMCell(5), lib.layers.SimpleRNNCell(3)],
                               return_sequences=True, return_state=True),
    lambda lib: lib.layers.RNN(lib.layers.StackedRNNCells(
        [lib.layers.GRUCell(4), lib.layers.LSTMCell(3, activation="softsign")]),
        go_backwards=True, return_state=True),
    lambda lib: _cell_rnn(lib, recurrent_activation="softsign"),
], ids=["gru-cell", "stacked-list", "stacked-backwards-stepwise", "lstm-cell-stepwise"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_rnn_over_built_in_cells_matches_keras(make, compiled):
    rng = np.random.default_rng(5)
    x = rng.normal(size=SHAPE).astype(np.float32)
    theirs, ours = _pair(lambda: make(K), lambda: make(N.keras), SHAPE, rng)
    assert _paths(ours) == _paths(theirs)
    _close(_run(N, ours, [x], compiled, mask=MASK), _run(T, theirs, [x], mask=MASK))
    _configs_match(ours, theirs)


def _minimal_cell(lib, ops):
    class MinimalRNNCell(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = [units, units]

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            h = ops.tanh(ops.matmul(inputs, self.kernel)
                         + ops.matmul(states[0], self.recurrent_kernel))
            return h * 2.0, [h, states[1] + h]

    return MinimalRNNCell


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("kwargs", [dict(return_sequences=True, return_state=True),
                                    dict(go_backwards=True, zero_output_for_mask=True,
                                         return_sequences=True)], ids=["states", "backwards"])
def test_rnn_over_a_user_cell_matches_keras(compiled, kwargs):
    rng = np.random.default_rng(6)
    x = rng.normal(size=SHAPE).astype(np.float32)
    theirs, ours = _pair(lambda: K.layers.RNN(_minimal_cell(K, T)(4), **kwargs),
                         lambda: N.keras.layers.RNN(_minimal_cell(N.keras, N)(4), **kwargs),
                         SHAPE, rng)
    _close(_run(N, ours, [x], compiled, mask=MASK), _run(T, theirs, [x], mask=MASK))


BIDIRECTIONAL = [
    ("LSTM", dict(), "concat"),
    ("LSTM", dict(return_sequences=True), "sum"),
    ("GRU", dict(return_sequences=True, return_state=True), "mul"),
    ("GRU", dict(return_state=True), "ave"),
    ("SimpleRNN", dict(return_sequences=True), None),
    ("LSTM", dict(return_sequences=True, return_state=True), None),
]


@pytest.mark.parametrize("name, kwargs, merge_mode", BIDIRECTIONAL,
                         ids=[f"{n}-{m}-{i}" for i, (n, _, m) in enumerate(BIDIRECTIONAL)])
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_bidirectional_matches_keras(name, kwargs, merge_mode, masked):
    rng = np.random.default_rng(8)
    x = rng.normal(size=SHAPE).astype(np.float32)

    def make(lib):
        return lib.layers.Bidirectional(getattr(lib.layers, name)(4, **kwargs),
                                        merge_mode=merge_mode)

    theirs, ours = _pair(lambda: make(K), lambda: make(N.keras), SHAPE, rng)
    assert _paths(ours) == _paths(theirs)
    call = {"mask": MASK} if masked else {}
    _close(_run(N, ours, [x], **call), _run(T, theirs, [x], **call))
    _configs_match(ours, theirs)
    assert ours.compute_output_shape((None,) + SHAPE[1:]) == \
        theirs.compute_output_shape((None,) + SHAPE[1:])
    for key in ("layer", "backward_layer"):
        _configs_match_dicts(ours.get_config()[key]["config"],
                             theirs.get_config()[key]["config"])


def _configs_match_dicts(ours, theirs) -> None:
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if key != "dtype" and isinstance(value, (str, int, float, bool, type(None))):
            assert ours[key] == value, key


def test_bidirectional_with_a_backward_layer_and_initial_states_matches_keras():
    rng = np.random.default_rng(9)
    x = rng.normal(size=SHAPE).astype(np.float32)
    states = [rng.normal(size=(SHAPE[0], 4)).astype(np.float32) for _ in range(2)]

    def make(lib):
        return lib.layers.Bidirectional(
            lib.layers.GRU(4, return_sequences=True),
            backward_layer=lib.layers.SimpleRNN(4, go_backwards=True, return_sequences=True,
                                                activation="relu"))

    theirs, ours = _pair(lambda: make(K), lambda: make(N.keras), SHAPE, rng)

    def apply(lib, layer):
        class WithState:
            trainable_weights = layer.trainable_weights

            def __call__(self, x, *s):
                return layer(x, initial_state=list(s))
        return _run(lib, WithState(), [x, *states])

    _close(apply(N, ours), apply(T, theirs))
    rebuilt = N.keras.layers.Bidirectional.from_config(ours.get_config())
    assert type(rebuilt.backward_layer).__name__ == "SimpleRNN"


@pytest.mark.parametrize("make, shape", [
    (lambda lib: lib.layers.TimeDistributed(lib.layers.Dense(3, activation="tanh")),
     (2, 5, 4)),
    (lambda lib: lib.layers.TimeDistributed(lib.layers.Conv2D(2, 3, padding="same")),
     (2, 3, 5, 5, 2)),
], ids=["dense", "conv2d"])
def test_time_distributed_matches_keras(make, shape):
    rng = np.random.default_rng(10)
    x = rng.normal(size=shape).astype(np.float32)
    theirs, ours = _pair(lambda: make(K), lambda: make(N.keras), shape, rng)
    assert _paths(ours) == _paths(theirs)
    _close(_run(N, ours, [x]), _run(T, theirs, [x]))
    assert set(ours.get_config()) == set(theirs.get_config())
    assert ours.compute_output_shape((None,) + shape[1:]) == \
        theirs.compute_output_shape((None,) + shape[1:])


def test_embedding_matches_keras_and_refuses_indices_out_of_range():
    rng = np.random.default_rng(11)
    ids = np.array([[3, 0, 9, 1], [0, 0, 2, 7]], dtype=np.int32)
    theirs, ours = _pair(lambda: K.layers.Embedding(10, 4, mask_zero=True),
                         lambda: N.keras.layers.Embedding(10, 4, mask_zero=True), None, rng,
                         build=False)
    theirs.build(ids.shape)
    ours.build(ids.shape)
    weights = _weights_like(theirs, rng)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    _close(_run(N, ours, [ids]), _run(T, theirs, [ids]))
    np.testing.assert_array_equal(np.asarray(ours.compute_mask(ids)),
                                  np.asarray(theirs.compute_mask(ids)))
    _configs_match(ours, theirs)
    # Negative indices count from the end (Keras's take); others out of range raise.
    np.testing.assert_array_equal(np.asarray(ours(np.array([[-1, -10]]))),
                                  np.asarray(theirs(np.array([[-1, -10]]))))
    for bad in ([[1, 10]], [[-11, 2]]):
        with pytest.raises(T.errors.InvalidArgumentError):
            theirs(np.array(bad))
        with pytest.raises(N.errors.InvalidArgumentError, match="input_dim"):
            ours(np.array(bad))


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_masks_flow_from_embedding_and_masking_like_keras(kind):
    rng = np.random.default_rng(12)
    ids = np.array([[0, 0, 4, 2, 7], [5, 1, 0, 3, 0], [2, 2, 2, 2, 2]], dtype=np.int32)
    values = rng.normal(size=(3, 5, 4)).astype(np.float32)
    values[0, :2] = 0.0
    values[1, 3] = 0.0

    def models(lib):
        embed = [lib.layers.Embedding(8, 4, mask_zero=True),
                 lib.layers.LSTM(3, return_sequences=True),
                 lib.layers.Bidirectional(lib.layers.GRU(2))]
        mask = [lib.layers.Masking(), lib.layers.SimpleRNN(3, return_sequences=True),
                lib.layers.LSTM(2, go_backwards=True)]
        if kind == "sequential":
            return (lib.Sequential([lib.Input((5,), dtype="int32"), *embed]),
                    lib.Sequential([lib.Input((5, 4)), *mask]))
        built = []
        for first, layers in ((lib.Input((5,), dtype="int32"), embed),
                              (lib.Input((5, 4)), mask)):
            y = first
            for layer in layers:
                y = layer(y)
            built.append(lib.Model(first, y))
        return built

    for theirs, ours, data in zip(models(K), models(N.keras), (ids, values)):
        weights = _weights_like(theirs, rng)
        theirs.set_weights(weights)
        ours.set_weights(weights)
        np.testing.assert_allclose(np.asarray(ours(data)), np.asarray(theirs(data)),
                                   rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(ours.predict(data, verbose=0),
                                   theirs.predict(data, verbose=0), rtol=2e-4, atol=2e-5)


def test_cell_configs_match_keras():
    for name, kwargs in (("SimpleRNNCell", {}), ("LSTMCell", dict(unit_forget_bias=False)),
                         ("GRUCell", dict(reset_after=False, dropout=0.2))):
        _configs_match(getattr(N.keras.layers, name)(3, **kwargs),
                       getattr(K.layers, name)(3, **kwargs))
    for name in ("Masking",):
        _configs_match(getattr(N.keras.layers, name)(), getattr(K.layers, name)())


def test_dropout_draws_one_mask_per_sequence_as_keras_does():
    # A linear SimpleRNN with identity kernels: each output step is x_t * input_mask +
    # h_{t-1} * recurrent_mask, so fixed masks show as one ratio per feature for all steps.
    x = np.ones((4, 6, 8), np.float32)
    for lib in (N.keras, K):
        layer = lib.layers.SimpleRNN(8, activation=None, dropout=0.5, recurrent_dropout=0.5,
                                     return_sequences=True, use_bias=False)
        layer.build(x.shape)
        layer.set_weights([np.eye(8, dtype=np.float32), np.eye(8, dtype=np.float32)])
        y = np.asarray(layer(x, training=True))
        inputs_kept = y[:, 0]
        assert set(np.unique(inputs_kept)) <= {0.0, 2.0}
        recurrent = (y[:, 1:] - inputs_kept[:, None]) / np.where(y[:, :-1] == 0, 1, y[:, :-1])
        kept = np.where(y[:, :-1] == 0, np.nan, recurrent)
        for feature in range(8):
            values = kept[:, :, feature]
            for row in values:
                row = row[~np.isnan(row)]
                assert np.allclose(row, row[0]) if row.size else True
        np.testing.assert_array_equal(np.asarray(layer(x, training=False)),
                                      np.cumsum(np.ones((4, 6, 8)), axis=1))
