"""tf.device: the CPU works under every spelling; a GPU that is not there is a clear error."""

from __future__ import annotations

import importlib.util

import pytest

import neuroflow as tf
from neuroflow.backend import CPU, get_device, placement


@pytest.mark.parametrize("name", ["/CPU:0", "CPU", "cpu:0", "/device:CPU:0",
                                  "/job:localhost/replica:0/task:0/device:CPU:0", None])
def test_cpu_placement_works_under_every_spelling(name):
    with tf.device(name):
        assert placement() is CPU
        x = tf.constant([1.0, 2.0]) * 2.0
    assert x.device == CPU.name and x.numpy().tolist() == [2.0, 4.0]


def test_placement_is_restored_after_the_block_even_on_error():
    with pytest.raises(KeyError), tf.device("/CPU:0"):
        raise KeyError("inside")
    assert placement() is CPU


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_a_missing_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        tf.device("/GPU:0")


@pytest.mark.parametrize("bad", ["/TPU:0", "disk", 3])
def test_unknown_device_names_are_rejected(bad):
    with pytest.raises((ValueError, TypeError), match="device"):
        get_device(bad)
