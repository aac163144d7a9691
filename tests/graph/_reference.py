"""Reference functions whose printed IR and generated source are pinned in golden/.

They live in their own module so that the ``file:line`` locations in the
generated source stay put when the tests change. Each builder makes fresh
variables with fixed values, and returns the function and example arguments.
"""

from __future__ import annotations

import sys

import numpy as np

import neuroflow as tf


def dense_forward():
    kernel = tf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3),
                         name="dense/kernel")
    bias = tf.Variable(np.zeros(3, np.float32), name="dense/bias")

    def dense(x):
        return tf.nn.relu(tf.matmul(x, kernel) + bias)

    return dense, (tf.ones([8, 4]),)


def mlp_sgd_step():
    w1 = tf.Variable(np.full((4, 16), 0.1, np.float32), name="hidden/kernel")
    b1 = tf.Variable(np.zeros(16, np.float32), name="hidden/bias")
    w2 = tf.Variable(np.full((16, 3), -0.1, np.float32), name="output/kernel")
    b2 = tf.Variable(np.zeros(3, np.float32), name="output/bias")
    params = [w1, b1, w2, b2]

    def train_step(x, labels):
        with tf.GradientTape() as tape:
            hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
            logits = tf.matmul(hidden, w2) + b2
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        grads = tape.gradient(loss, params)
        for param, grad in zip(params, grads):
            param.assign_sub(0.1 * grad)
        return loss

    return train_step, (tf.ones([32, 4]), tf.zeros([32], tf.int32))


def with_print():
    def report(x):
        total = tf.reduce_sum(x * x)
        tf.print("sum of squares:", total, output_stream=sys.stdout)
        return total

    return report, (tf.ones([5]),)


def wide_sgd_step():
    """A kernel large enough for its update to fuse with its gradient's matmul."""
    kernel = tf.Variable(np.full((256, 64), 0.01, np.float32), name="wide/kernel")
    bias = tf.Variable(np.zeros(64, np.float32), name="wide/bias")
    learning_rate = tf.Variable(0.1, name="learning_rate")

    def train_step(x, labels):
        with tf.GradientTape() as tape:
            logits = tf.matmul(x, kernel) + bias
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        for param, grad in zip([kernel, bias], tape.gradient(loss, [kernel, bias])):
            param.assign_sub(learning_rate * grad)
        return loss

    return train_step, (tf.ones([8, 256]), tf.zeros([8], tf.int32))


REFERENCES = {"dense_forward": dense_forward, "mlp_sgd_step": mlp_sgd_step,
              "with_print": with_print, "wide_sgd_step": wide_sgd_step}
