"""No cast between strings and numbers, as in TensorFlow (to_number and as_string convert)."""

from __future__ import annotations

import pytest

import neuroflow as tf
from neuroflow.errors import UnimplementedError


@pytest.mark.parametrize("value, dtype, message", [
    (["1.5"], tf.float32, "Cast string to float32"),
    ([1], tf.string, "Cast int32 to string"),
])
def test_casts_between_strings_and_numbers_raise(value, dtype, message):
    with pytest.raises(UnimplementedError, match=message):
        tf.cast(tf.constant(value), dtype)
    assert float(tf.strings.to_number(tf.constant(["1.5"]))[0]) == 1.5


def test_strings_load_on_first_use():
    import subprocess
    import sys

    code = ("import sys, neuroflow as tf; assert 'neuroflow.ops.strings' not in sys.modules; "
            "assert tf.strings.lower(tf.constant(['A'])).numpy()[0] == b'a'")
    subprocess.run([sys.executable, "-c", code], check=True)
