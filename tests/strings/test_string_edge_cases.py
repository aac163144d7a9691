"""String tensors where numeric code paths used to leak through: zeros of strings,
padding, generators, reductions, tf.print and conversion errors. Each behaviour is
TensorFlow's (the tensorflow-marked test compares them side by side)."""

import io
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

import neuroflow as nf


def _printed(module, *values) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        module.print(*values, output_stream=sys.stdout)
    return out.getvalue()


def _generated(module):
    def gen():
        yield "a", 1
        yield b"bb", 2
        yield "\u00e9", 3

    signature = (module.TensorSpec((), module.string), module.TensorSpec((), module.int32))
    return [(a.numpy(), int(b)) for a, b in
            module.data.Dataset.from_generator(gen, output_signature=signature)]


def _padded(module, **kwargs):
    ds = module.data.Dataset.from_tensor_slices(["a b c", "d"]).map(module.strings.split)
    return [b.numpy().tolist() for b in ds.padded_batch(2, **kwargs)]


def test_zeros_of_strings_are_empty_strings():
    s = nf.constant([["ab", "c"], ["", "d"]])
    z = nf.zeros_like(s)
    assert z.dtype == nf.string
    assert z.numpy().tolist() == [[b"", b""], [b"", b""]]
    assert nf.zeros([2], nf.string).numpy().tolist() == [b"", b""]
    assert nf.zeros_like(nf.constant([1.0]), dtype=nf.string).numpy().tolist() == [b""]
    traced = nf.function(lambda x: nf.zeros_like(x),
                         input_signature=[nf.TensorSpec((None,), nf.string)])
    assert traced(nf.constant(["x", "y", "z"])).numpy().tolist() == [b"", b"", b""]
    with pytest.raises(nf.errors.InvalidArgumentError, match="string"):
        nf.ones_like(s)
    with pytest.raises(TypeError, match="string"):
        nf.ones([2], nf.string)


def test_padded_batch_pads_strings_with_empty_strings():
    assert _padded(nf) == [[[b"a", b"b", b"c"], [b"d", b"", b""]]]
    assert _padded(nf, padding_values="<pad>") == [[[b"a", b"b", b"c"],
                                                     [b"d", b"<pad>", b"<pad>"]]]


def test_from_generator_encodes_strings_as_bytes():
    assert _generated(nf) == [(b"a", 1), (b"bb", 2), ("\u00e9".encode(), 3)]

    def vectors():
        yield ["a", "b"]
        yield np.array(["c"])

    found = [v.numpy().tolist() for v in nf.data.Dataset.from_generator(
        vectors, output_signature=nf.TensorSpec((None,), nf.string))]
    assert found == [[b"a", b"b"], [b"c"]]


@pytest.mark.parametrize("reduce", ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod",
                                    "reduce_mean"])
def test_numeric_reductions_refuse_strings(reduce):
    s = nf.constant([["ab", "c"], ["", "d"]])
    for axis in (None, 0):
        # Both of TensorFlow's error classes: InvalidArgumentError eagerly, TypeError
        # while building a graph.
        with pytest.raises(nf.errors.InvalidArgumentError, match="string"):
            getattr(nf, reduce)(s, axis=axis)
        with pytest.raises(TypeError, match="string"):
            getattr(nf, reduce)(s, axis=axis)
    assert nf.strings.reduce_join(s, axis=1).numpy().tolist() == [b"abc", b"d"]


def test_print_quotes_and_escapes_strings():
    s = nf.constant([["ab", "c"], ["", "d"]])
    assert _printed(nf, s) == '[["ab" "c"]\n ["" "d"]]\n'
    assert _printed(nf, nf.constant('say "hi"\n')) == 'say "hi"\n\n'  # a lone scalar: raw
    assert _printed(nf, "x", nf.constant('a"b\\\t')) == 'x "a\\"b\\\\\\t"\n'
    assert _printed(nf, nf.constant(list("abcdefgh"))) == \
        '["a" "b" "c" ... "f" "g" "h"]\n'
    assert _printed(nf, "u", nf.constant("h\u00e9")) == 'u "h\u00e9"\n'
    out = io.StringIO()
    fn = nf.function(lambda x: nf.print(x, output_stream=sys.stdout))
    with redirect_stdout(out):
        fn(nf.constant(["in", "fn"]))
        fn(nf.constant(["again", "x"]))
    assert out.getvalue() == '["in" "fn"]\n["again" "x"]\n'


def test_mixing_numbers_and_strings_names_the_string_dtype():
    s = nf.constant(["a", "b"])
    with pytest.raises(nf.errors.InvalidArgumentError) as error:
        nf.math.add(s, 1)
    assert "dtype string" in str(error.value) and "object" not in str(error.value)


@pytest.mark.tensorflow
def test_string_edge_cases_match_tensorflow(capfd):
    tf = pytest.importorskip("tensorflow")
    s = [["ab", "c"], ["", "d"]]
    for module in (tf, nf):
        assert module.zeros_like(module.constant(s)).numpy().tolist() == \
            [[b"", b""], [b"", b""]]
    assert _padded(nf) == _padded(tf)
    assert _padded(nf, padding_values="<pad>") == _padded(tf, padding_values="<pad>")
    assert _generated(nf) == _generated(tf)
    for reduce in ("reduce_sum", "reduce_max"):
        with pytest.raises(tf.errors.InvalidArgumentError):
            getattr(tf, reduce)(tf.constant(s))
        with pytest.raises(nf.errors.InvalidArgumentError):
            getattr(nf, reduce)(nf.constant(s))
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.ones_like(tf.constant(s))
    cases = [(s,), ("x", 'a"b\\\t\n'), (list("abcdefgh"),), ('say "hi"',), ("u", "h\u00e9")]

    def printed_by_tf(*values) -> str:
        # TensorFlow's kernel writes to the process's file descriptor, not sys.stdout.
        capfd.readouterr()
        tf.print(*values, output_stream=sys.stdout)
        return capfd.readouterr().out

    def args(module, values):
        # A leading Python str stays text; everything else becomes a string tensor.
        return [v if isinstance(v, str) and len(values) > 1 and i == 0
                else module.constant(v) for i, v in enumerate(values)]

    for values in cases:
        assert _printed(nf, *args(nf, values)) == printed_by_tf(*args(tf, values)), values
