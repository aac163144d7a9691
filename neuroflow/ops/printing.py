"""``tf.print``: print tensors when the op runs (also inside compiled functions)."""

from __future__ import annotations

import sys

import numpy as np

from neuroflow.ops.registry import primitive
from neuroflow.tensor import Tensor, is_tensor


def _format(array: np.ndarray, summarize: int) -> str:
    if array.ndim == 0:
        return str(array[()])
    return np.array2string(array, separator=" ", threshold=summarize * 2 if summarize > 0
                           else sys.maxsize, edgeitems=max(summarize, 1))


@primitive("print", stateful=True, differentiable=False)
def _print(xp, *tensors, pieces, sep, end, stream, summarize):
    arrays = iter(tensors)
    text = sep.join(_format(np.asarray(next(arrays)), summarize) if kind == "tensor" else text
                    for kind, text in pieces)
    target = sys.stderr if stream == "stderr" else sys.stdout
    target.write(text + end)
    target.flush()
    return np.zeros((0,), dtype=np.int32)


def print_(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None) -> Tensor:
    """Print ``inputs`` (tensors and Python values) to stderr, as ``tf.print``.

    Unlike Python's ``print``, inside a ``tf.function`` it prints on every call
    of the compiled function, not once at trace time.
    """
    from neuroflow.ops.convert import as_tensor

    stream = "stdout" if output_stream is sys.stdout else "stderr"
    tensors, pieces = [], []
    for value in inputs:
        if is_tensor(value):
            tensors.append(as_tensor(value))
            pieces.append(("tensor", ""))
        else:
            pieces.append(("text", str(value)))
    return _print(*tensors, pieces=tuple(pieces), sep=sep, end=end, stream=stream,
                  summarize=int(summarize))
