"""tf.data, the training progress bar and ``keras.utils.set_random_seed`` against TensorFlow.

What the audit's four surviving bugs touched, compared with TensorFlow 2.21 and Keras 3
themselves: the step counts the progress bar prints, what ``set_random_seed`` seeds,
``shuffle(reshuffle_each_iteration=...)``, and the integer arguments of the Dataset
methods (values, dtypes, cardinality, error classes).
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import random
import re
import sys
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow


def _outcome(fn):
    try:
        return "value", fn()
    except Exception as error:  # the class is what is compared
        return "error", error


def _same_error_class(ours: Exception, theirs: Exception) -> bool:
    """TF's InvalidArgumentError is neuroflow's; a built-in TypeError/ValueError the same."""
    if isinstance(theirs, T.errors.InvalidArgumentError):
        return isinstance(ours, N.errors.InvalidArgumentError)
    for builtin in (TypeError, ValueError):
        if isinstance(theirs, builtin):
            return isinstance(ours, builtin)
    return False


def _elements(dataset, limit: int = 50) -> list:
    """The first ``limit`` elements (a repeat may be endless) as (dtype, value) pairs, so
    that dtypes are compared too."""
    def plain(value):
        array = np.asarray(value)
        return str(array.dtype), array.tolist()

    return [tuple(plain(part) for part in e) if isinstance(e, tuple) else plain(e)
            for e in itertools.islice(dataset.as_numpy_iterator(), limit)]


def assert_same_dataset(build):
    """``build(lib)`` under TensorFlow and neuroflow: same elements and cardinality, or
    errors of corresponding classes."""
    theirs = _outcome(lambda: build(T))
    ours = _outcome(lambda: build(N))
    if theirs[0] == "error":
        assert ours[0] == "error", f"TF raised {theirs[1]!r}; neuroflow returned a dataset"
        assert _same_error_class(ours[1], theirs[1]), (ours[1], theirs[1])
        return
    assert ours[0] == "value", f"neuroflow raised {ours[1]!r}"
    assert int(ours[1].cardinality()) == int(theirs[1].cardinality())
    assert _elements(ours[1]) == _elements(theirs[1])


# --- integer arguments --------------------------------------------------------------------------

METHODS = {
    "take": lambda lib, n: lib.data.Dataset.range(6).take(n),
    "skip": lambda lib, n: lib.data.Dataset.range(6).skip(n),
    "repeat": lambda lib, n: lib.data.Dataset.range(2).repeat(n),
    "batch": lambda lib, n: lib.data.Dataset.range(6).batch(n),
    "batch_drop": lambda lib, n: lib.data.Dataset.range(7).batch(n, drop_remainder=True),
    "padded_batch": lambda lib, n: lib.data.Dataset.range(6).padded_batch(n),
    "shuffle": lambda lib, n: lib.data.Dataset.range(6).shuffle(n).map(lambda v: v * 0),
    "enumerate": lambda lib, n: lib.data.Dataset.range(3).enumerate(n),
    "range": lambda lib, n: lib.data.Dataset.range(n),
    "range_step": lambda lib, n: lib.data.Dataset.range(10, -10, n),
    "prefetch": lambda lib, n: lib.data.Dataset.range(6).prefetch(n),
}
# int32 tensors are left out: TF refuses them (it wants int64), neuroflow takes them.
VALUES = {
    "2": lambda lib: 2, "0": lambda lib: 0, "-1": lambda lib: -1, "-2": lambda lib: -2,
    "-5": lambda lib: -5, "True": lambda lib: True, "np.int32(3)": lambda lib: np.int32(3),
    "np.float64(2.0)": lambda lib: np.float64(2.0), "2.0": lambda lib: 2.0,
    "2.5": lambda lib: 2.5, "'2'": lambda lib: "2", "None": lambda lib: None,
    "int64 tensor": lambda lib: lib.constant(3, lib.int64),
    "float tensor": lambda lib: lib.constant(3.0),
}


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("method", list(METHODS))
def test_integer_arguments(method, value):
    if method == "prefetch" and value in ("np.int32(3)", "np.float64(2.0)", "int64 tensor"):
        pytest.skip("TF 2.21 fails on any buffer_size but a Python int ('Expected bool for "
                    "argument legacy_autotune'); neuroflow takes it")
    if method == "take" and value in ("-2", "-5"):
        pytest.skip("TF's cardinality of take(count < -1) is the count itself (-5 for take(-5) "
                    "of 6 elements); neuroflow's is the true size, 6")
    assert_same_dataset(lambda lib: METHODS[method](lib, VALUES[value](lib)))


@pytest.mark.parametrize("case", [
    "concatenate_mismatch", "concatenate_structure", "enumerate_negative", "range_step_0",
    "cardinality_chain", "unknown_then_take", "empty_slices_batch"])
def test_dataset_cases(case):
    def build(lib):
        D = lib.data.Dataset
        if case == "concatenate_mismatch":
            return D.range(3).concatenate(D.from_tensor_slices(np.zeros(2, np.float32)))
        if case == "concatenate_structure":
            return D.range(3).concatenate(D.range(2).map(lambda v: (v, v)))
        if case == "enumerate_negative":
            return D.range(3).enumerate(-2)
        if case == "range_step_0":
            return D.range(0, 5, 0)
        if case == "cardinality_chain":
            return D.range(10).repeat(3).skip(4).take(20).batch(3)
        if case == "unknown_then_take":
            return D.range(10).filter(lambda v: v % 3 == 0).take(2)
        return D.from_tensor_slices(np.zeros((0, 2), np.float32)).batch(2)

    assert_same_dataset(build)


# --- shuffle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("buffer_size", [20, 5])
@pytest.mark.parametrize("reshuffle", [True, False])
def test_shuffle_epochs_behave_as_tf(buffer_size, reshuffle):
    """The orders come from different generators; what each epoch does is the same."""
    def epochs(lib):
        dataset = lib.data.Dataset.range(20).shuffle(buffer_size, seed=3,
                                                     reshuffle_each_iteration=reshuffle)
        return [[int(v) for v in dataset] for _ in range(3)]

    for runs in (epochs(T), epochs(N)):
        assert all(sorted(run) == list(range(20)) and run != list(range(20)) for run in runs)
        assert (runs[0] == runs[1] == runs[2]) is (not reshuffle)
        assert (runs[0] != runs[1] and runs[1] != runs[2]) is reshuffle


# --- keras.utils.set_random_seed ----------------------------------------------------------------


@pytest.fixture
def restore_global_generators():
    python_state, numpy_state = random.getstate(), np.random.get_state()
    yield
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    N.random.set_seed(None)
    T.random.set_seed(None)


@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1])
def test_set_random_seed_seeds_python_and_numpy_as_keras(seed, restore_global_generators):
    def draws(set_random_seed):
        set_random_seed(seed)
        return np.random.rand(4).tolist(), random.random(), np.random.permutation(8).tolist()

    assert draws(N.keras.utils.set_random_seed) == draws(keras.utils.set_random_seed)


@pytest.mark.parametrize("seed", ["7", 7.0, None, np.int64(7), -1, 2**32, True],
                         ids=repr)
def test_set_random_seed_errors_as_keras(seed, restore_global_generators):
    theirs = _outcome(lambda: keras.utils.set_random_seed(seed))
    ours = _outcome(lambda: N.keras.utils.set_random_seed(seed))
    assert ours[0] == theirs[0], (ours, theirs)
    if theirs[0] == "error":
        assert type(ours[1]) is type(theirs[1])
        assert str(ours[1]) == str(theirs[1])


# --- the progress bar's step counts -------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _frames(raw: str) -> list[str]:
    """Each line or redraw, reduced to its first word (the step count or 'Epoch')."""
    words = []
    for line in ANSI.sub("", raw).replace("\b", "").split("\n"):
        words += [part.split()[0] for part in line.split("\r") if part.strip()]
    return words


@pytest.fixture
def every_step_drawn(monkeypatch):
    """Both bars redraw at every step (not every 0.05 s), outside any notebook."""
    from keras.src.callbacks import progbar_logger
    from keras.src.utils.progbar import Progbar as KerasProgbar

    from neuroflow.keras.callbacks import callback
    from neuroflow.keras.utils.progbar import Progbar

    monkeypatch.setattr(progbar_logger, "Progbar", functools.partial(KerasProgbar, interval=0.0))
    monkeypatch.setattr(callback, "Progbar", functools.partial(Progbar, interval=0.0))
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


X = np.linspace(0.0, 1.0, 30, dtype=np.float32).reshape(10, 3)
Y = np.linspace(-1.0, 1.0, 10, dtype=np.float32).reshape(10, 1)
CALLS = {
    "fit": lambda lib, m, v: m.fit(X, Y, batch_size=2, epochs=2, verbose=v),
    "fit_validation": lambda lib, m, v: m.fit(X, Y, batch_size=4, validation_data=(X, Y),
                                              verbose=v),
    "fit_unknown_length": lambda lib, m, v: m.fit(
        lib.data.Dataset.from_tensor_slices((X, Y)).batch(3).filter(lambda a, b: True),
        epochs=2, verbose=v),
    "evaluate": lambda lib, m, v: m.evaluate(X, Y, batch_size=3, verbose=v),
    "predict": lambda lib, m, v: m.predict(X, batch_size=4, verbose=v),
}


@pytest.mark.parametrize("verbose", [1, 2])
@pytest.mark.parametrize("call", list(CALLS))
def test_progress_step_counts_as_keras(call, verbose, every_step_drawn):
    def printed(lib, model_api):
        model = model_api.Sequential([model_api.Input((3,)), model_api.layers.Dense(1)])
        model.compile(loss="mse", optimizer="sgd")
        stream = FakeTerminal() if verbose == 1 else io.StringIO()
        with contextlib.redirect_stdout(stream), warnings.catch_warnings():
            if lib is T:  # Keras warns that a dataset ignores shuffle=True and ran out of data
                warnings.simplefilter("ignore", UserWarning)
            CALLS[call](lib, model, verbose)
        return _frames(stream.getvalue())

    assert printed(N, N.keras) == printed(T, keras)
