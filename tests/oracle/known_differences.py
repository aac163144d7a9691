"""The documented differences from TensorFlow: what the sweep may find and why it stays.

Each entry names case ids by a glob (``*`` matches anything; every other character,
brackets included, matches itself), the category of difference it covers (``value``,
``dtype``, ``shape``, ``outcome``, ``error-class``, ``missing-kernel``, ``gradient``,
``warning``, ``compiled``, ``trace-time``, or ``*``), what differs and why it is left.
``test_sweep.py`` fails for a difference no entry covers and for an entry that covers no
difference.

``docs/tf-differences.md`` is generated from this list with
``python tests/oracle/sweep.py --write-table``, which also drops stale entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TABLE_DOC = Path(__file__).resolve().parents[2] / "docs" / "tf-differences.md"


@dataclass(frozen=True)
class Known:
    pattern: str
    category: str
    what: str
    why: str


KNOWN: list[Known] = [
    Known('*subnormal]', 'value',
          'subnormal inputs read as zero and subnormal results become zero in TensorFlow',
          "TensorFlow's CPU kernels run with flush-to-zero and denormals-are-zero set; "
          'neuroflow computes with NumPy, which keeps IEEE subnormals (the exact answer)'),
    Known('tf.math.floordiv[float32,vector,extreme]', 'value',
          'floordiv(1.0, -3e38) is -0.0 in TensorFlow, -1.0 in neuroflow',
          'the quotient -3.3e-39 is subnormal: TensorFlow flushes it to -0.0 before the floor '
          '(flush-to-zero, as above); neuroflow floors the exact quotient'),
    Known('*tensor*', 'trace-time',
          'compiled, a tensor axis/count/shape known only when the graph runs is refused',
          "neuroflow traces with known ranks and sizes: an argument that decides the output's "
          "shape must be known at trace time, so tf.function raises neuroflow's clear error "
          'naming the line (eager takes the tensor); TensorFlow carries an unknown shape '
          'instead'),
    Known('*', 'missing-kernel',
          'TensorFlow raises NotFoundError (no CPU kernel for the dtype); neuroflow raises its '
          'dtype error (InvalidArgumentError, also a TypeError)',
          'NotFoundError is how TensorFlow reports a kernel missing from its build, not a '
          'property of the op; neuroflow.errors has no NotFoundError and refuses the same '
          'dtypes with the error it uses for every unsupported dtype'),
    Known('tf.nn.gelu[float64,*', '*',
          'float64 gelu differs from TensorFlow in the 8th digit (values and gradients)',
          'TensorFlow computes float64 gelu with float32 constants; neuroflow uses float64 '
          'constants, so its float64 result is the exact one'),
    Known('tf.math.erf[float64,vector,extreme]', 'value',
          'erf(±inf) and erf(±1e200) are NaN in TensorFlow (float64), ±1 in neuroflow',
          "TensorFlow's float64 erf kernel overflows for huge arguments; ±1 is the limit and "
          'what float32 TensorFlow gives'),
    Known('tf.sort[float32,extreme]', 'value',
          'with NaN in the input, TensorFlow sorts NaN and inf among the smallest values',
          'TensorFlow sorts through top_k, whose comparisons are false for NaN, so the result '
          'is not ordered; neuroflow sorts as NumPy (NaN last)'),
    Known('tf.argsort[float32,extreme]', 'value',
          'with NaN in the input, the order differs (as tf.sort)',
          'as tf.sort: TensorFlow has no total order with NaN; neuroflow puts NaN last'),
    Known('tf.math.top_k[float32,extreme]', 'value',
          'with NaN in the input, TensorFlow never picks NaN; neuroflow ranks NaN highest',
          'TensorFlow compares with > (false for NaN); neuroflow orders as NumPy, NaN greater '
          'than every number'),
    Known('tf.math.top_k[float32,unsorted]', 'value',
          'sorted=False returns the same k values in another order',
          'TensorFlow documents the order for sorted=False as unspecified; neuroflow returns '
          'them sorted'),
    Known('tf.parallel_stack[*', 'outcome',
          'TensorFlow raises RuntimeError eagerly; neuroflow stacks',
          'TensorFlow supports parallel_stack only in graphs; neuroflow gives the graph result '
          '(that of tf.stack) in both modes'),
    Known('tf.nn.conv2d[float32,dilations=2]', 'gradient',
          'the gradient of a dilated conv2d: TensorFlow raises InvalidArgumentError, neuroflow '
          'computes it',
          "TensorFlow's CPU kernels lack the dilated backward pass; neuroflow's gradient is "
          'checked against finite differences'),
    Known('tf.nn.*_transpose[float16,*', 'value',
          'float16 transposed convolutions differ from TensorFlow by a few float16 units in the '
          'last place',
          'TensorFlow sums float16 products in float16; neuroflow sums in float32 and rounds '
          'once (closer to the exact result)'),
    Known('tf.nn.depthwise_conv2d[float16,*', 'value',
          'float16 depthwise convolutions differ from TensorFlow by a few float16 units in the '
          'last place',
          'TensorFlow sums float16 products in float16; neuroflow sums in float32 and rounds '
          'once (closer to the exact result)'),
    Known('tf.nn.conv3d[float16,*', 'value',
          'float16 conv3d differs from TensorFlow by a few float16 units in the last place',
          'TensorFlow sums float16 products in float16; neuroflow sums in float32 and rounds '
          'once (closer to the exact result)'),
    Known('tf.math.*segment_s*[float32,extreme]', 'value',
          'a segment of 1, 1e30, -1e30, 3e38, -3e38 sums to 0 in TensorFlow, 1 in neuroflow',
          'the huge terms cancel, so the sum depends on the order of the additions: TensorFlow '
          'adds left to right (1 is absorbed by 1e30), NumPy pairs them; both are float sums of '
          'the same terms'),
    Known('tf.math.*segment_mean[float32,extreme]', 'value',
          'the mean of that segment: 0 in TensorFlow, 0.2 in neuroflow',
          'as the segment sum above: the order of additions of cancelling terms'),
    Known('tf.random.create_rng_state[threefry]', 'outcome',
          'TensorFlow makes a ThreeFry state; neuroflow raises NotImplementedError',
          "neuroflow's stateless ops implement Philox, TensorFlow's choice on CPU, bit for bit; "
          'ThreeFry is not implemented'),
    Known('tf.truncate*int*,vector,extreme]', 'error-class',
          'integer division by zero: TensorFlow raises InternalError, neuroflow '
          'InvalidArgumentError',
          "TensorFlow's kernel reports it as an internal error; neuroflow raises what "
          "TensorFlow's floordiv/floormod raise for the same input"),
    Known('tf.nn.conv3d[float32,dilations=2]', 'outcome',
          'dilated conv3d: TensorFlow raises InvalidArgumentError on CPU, neuroflow computes it',
          "TensorFlow's CPU Conv3D supports dilation rate 1 only; neuroflow's dilated "
          'convolution is the one conv2d (which TensorFlow has) uses'),
    Known('tf.nn.*_pool3d[float*,VALID]', 'outcome',
          'float16/float64 pool3d: TensorFlow has no CPU kernel (NotFoundError, or '
          'InvalidArgumentError for max_pool3d float64), neuroflow computes it',
          "a gap in TensorFlow's CPU build, not a rule of the op: neuroflow pools every float "
          'dtype (its float32 cases match TensorFlow)'),
    Known('tf.cast[float*-to-uint8,vector,ordinary]', 'value',
          'negative floats cast to uint8: TensorFlow wraps (-2.5 -> 254), neuroflow gives 0',
          "deliberate: TensorFlow's answer depends on the tensor's length (its vectorised loop "
          'saturates to 0, the scalar loop for short tensors and tails wraps); neuroflow '
          'saturates everywhere'),
    Known('tf.saturate_cast[float32-to-int8,extreme]', 'value',
          'saturate_cast of NaN to int8: TensorFlow 0, neuroflow -128',
          "platform-defined: NaN has no integer value; TensorFlow's answer is what its x86 "
          'conversion happens to give per width (the lowest value for int32 and int64, 0 for '
          'int8); neuroflow takes the lowest value for every width'),
    Known('tf.math.imag[float*,vector]', 'gradient',
          'imag of a real tensor: TensorFlow has no gradient (None), neuroflow gives zeros',
          'deliberate: imag of a real tensor is the constant 0, whose derivative is 0; None '
          'would break a chain that mixes real and complex parts'),
    Known('tf.nn.max_pool*[float32,extreme]', 'value',
          'max pooling a window holding NaN: TensorFlow skips the NaN (and gives the lowest '
          'finite float for an all-NaN or all -inf window), neuroflow gives NaN (and -inf)',
          'deliberate: a NaN must not vanish in a max (as relu6 and argmax keep it); '
          "TensorFlow's kernel compares with > from the lowest finite value, which both hides "
          'NaN and turns -inf into -3.4e38'),
    Known('tf.nn.conv3d[*', 'outcome',
          'conv3d takes strides as one int, which TensorFlow refuses (TypeError: it wants five)',
          'deliberate: an int stride means the same stride on every spatial axis, as conv1d and '
          'conv2d take it in both'),
    Known('tf.nn.max_pool3d[int32,VALID]', 'outcome',
          'max_pool3d of int32 computes, where TensorFlow has no CPU kernel '
          '(InvalidArgumentError)',
          'deliberate: max pooling integers is exact; max_pool2d takes int32 in both'),
]



# Public names of neuroflow that TensorFlow 2.21 does not have (code using them would not
# run under TensorFlow), with why each stays. test_sweep.py fails for one not listed here.
EXTRA_NAMES = {
    "tf.log": "kept: TensorFlow 1's name for tf.math.log, which code ported from it still "
              "uses; TensorFlow 2 has only tf.math.log",
    "tf.rsqrt": "kept: TensorFlow 1's name for tf.math.rsqrt; TensorFlow 2 has only "
                "tf.math.rsqrt",
    "tf.reduce_std": "kept: the same function as tf.math.reduce_std, beside tf.reduce_mean",
    "tf.reduce_variance": "kept: the same function as tf.math.reduce_variance",
    "tf.math.tensordot": "kept: the same function as tf.tensordot and tf.linalg.tensordot",
}


# --- writing the table ----------------------------------------------------------------------

def _render_text(text: str, indent: int) -> str:
    """``text`` as adjacent string literals, each line within ruff's 100 columns."""
    chunks, line = [], ""
    for word in text.split(" "):
        if line and len(repr(line + word)) + indent > 96:
            chunks.append(line)
            line = ""
        line += word + " "
    chunks.append(line[:-1])
    return ("\n" + " " * indent).join(repr(chunk) for chunk in chunks)


def _render_entries(entries: list[Known]) -> str:
    lines = ["KNOWN: list[Known] = ["]
    for entry in entries:
        lines.append(f"    Known({entry.pattern!r}, {entry.category!r},")
        lines.append(f"          {_render_text(entry.what, 10)},")
        lines.append(f"          {_render_text(entry.why, 10)}),")
    lines.append("]")
    return "\n".join(lines)


def write(summary: dict) -> None:
    """Drop stale entries from this file and regenerate ``docs/tf-differences.md``."""
    stale = {id(entry) for entry in summary["stale"]}
    kept = [entry for entry in KNOWN if id(entry) not in stale]
    source = Path(__file__).read_text()
    start = source.index("KNOWN: list[Known] = [")
    end = source.index("\n]\n", start) + 2
    Path(__file__).write_text(source[:start] + _render_entries(kept) + source[end:])
    TABLE_DOC.write_text(render_doc(kept, summary))


def render_doc(entries: list[Known], summary: dict) -> str:
    from collections import Counter

    from sweep import documented_by

    counts = Counter(id(documented_by(d, entries)) for d in summary["documented_differences"])
    rows = [f"| `{e.pattern}` | {e.category} | {counts[id(e)]} | {e.what} | {e.why} |"
            for e in entries]
    from sweep_specs import NOT_SWEPT

    names = [f"| `{name}` | {why} |" for name, why in sorted(EXTRA_NAMES.items())]
    not_swept = [f"| `{name}` | {why} |" for name, why in sorted(NOT_SWEPT.items())]
    return DOC_TEMPLATE.format(
        cases=summary["cases"], matching=summary["matching"],
        documented=summary["documented"], undocumented=summary["undocumented"],
        rows="\n".join(rows) or "| (none) | | | | |",
        names="\n".join(names) or "| (none) | |",
        not_swept="\n".join(not_swept))


DOC_TEMPLATE = """\
# Differences from TensorFlow

neuroflow takes TensorFlow 2.21 as its oracle: every public op of `tf.*`, `tf.math.*`,
`tf.nn.*`, `tf.linalg.*` and the stateless ops of `tf.random.*` (the ops not swept are
listed at the end, with why) runs through a generated differential sweep
(`tests/oracle/sweep.py`; cases in `tests/oracle/sweep_specs.py` and
`tests/oracle/sweep_specs_more.py`) under TensorFlow and under neuroflow, in one
interpreter. `tests/oracle/test_sweep.py` fails for a difference this table does not
cover, for an entry that covers no difference, and for a public op neither swept nor
listed. Each case compares:

- the outcome (a value, or an error) and the error class (`tf.errors.X` must be
  `neuroflow.errors.X`; a built-in such as `TypeError` must be that built-in);
- each output's dtype, shape and values: integers and booleans exactly, floats within a
  tolerance by dtype (relative 1e-3 for float16, 4e-6 for float32, 1e-12 for float64, with
  absolute 1e-5, 1e-8, 1e-15 for results that cancel to near zero), NaN where NaN,
  infinities of the same sign. The sign of a zero is not compared (`-0.0 == 0.0`); ops
  whose result depends on it (`1 / -0.0`) show it through their values. Cases of
  subnormal inputs compare without an absolute tolerance, so a flushed subnormal counts;
- gradients (float32 and float64 cases of ordinary values) of a fixed weighted sum of the
  outputs, within 1e-4 (float32) or 1e-10 (float64) relative, with `None` against a value
  counting as a difference;
- that neuroflow leaks no NumPy warning where TensorFlow returns a value;
- neuroflow eager against neuroflow compiled (`tf.function`).

Cases cross dtypes (float16/32/64, int8/16/32/64, uint8, bool), shapes (scalars, vectors,
broadcasting pairs, Python numbers beside tensors, zero-size dimensions), value sets
(ordinary; extreme: inf, -inf, NaN, -0.0, huge, integer min/max; subnormal), argument
forms (axis as None, int, negative, list, empty list, tensor; keepdims) and arguments
TensorFlow refuses (mismatched dtypes, out-of-range axes and indices).

## Totals

| cases | matching | documented differences | undocumented differences |
| ---: | ---: | ---: | ---: |
| {cases} | {matching} | {documented} | {undocumented} |

Counts are cases; a case whose every difference is documented counts once as documented.

## Documented differences

Each row is an entry of `tests/oracle/known_differences.py` (the machine-readable table
the test reads): the case ids it covers (a glob), the category of difference, how many
differing cases it covers now, what differs and why it is left.

| cases | category | count | what differs | why |
| --- | --- | ---: | --- | --- |
{rows}

Categories: `outcome` (a value on one side, an error on the other), `error-class`,
`missing-kernel` (TensorFlow's NotFoundError for a dtype it has no CPU kernel of, against
neuroflow's dtype error), `dtype`, `shape`, `value`, `gradient`, `warning` (a NumPy warning
leaked), `compiled` (neuroflow's `tf.function` disagrees with its eager run) and
`trace-time` (the compiled run refuses a tensor whose value the trace needs).

## Names TensorFlow does not have

Public names of neuroflow that TensorFlow 2.21 lacks (code using them does not run under
TensorFlow); `EXTRA_NAMES` in `tests/oracle/known_differences.py`.

| name | why it is there |
| --- | --- |
{names}

## Not swept

| op | why |
| --- | --- |
{not_swept}

## Refreshing

```
python tests/oracle/sweep.py                 # totals and every differing case, by op
python tests/oracle/sweep.py --op 'tf.nn.*'  # one family
python tests/oracle/sweep.py --write-table   # drop stale entries, rewrite this file
```
"""
