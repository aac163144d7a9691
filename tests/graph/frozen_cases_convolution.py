"""Cases of the convolution and pooling ops (tf.nn.conv*, tf.nn.*_pool*)."""

from __future__ import annotations

from frozen_cases import Case, floats, gradients_of

import neuroflow as tf


def _images(rank, channels=2):
    spatial = (7, 6, 5)[:rank]
    return lambda r, n: (floats(r, n, *spatial, channels),)


def _images_filters(rank):
    spatial, kernel = (7, 6, 5)[:rank], (3, 2, 2)[:rank]
    return lambda r, n: (floats(r, n, *spatial, 2), floats(r, *kernel, 2, 3))


def _transpose_inputs(r, n):
    return (floats(r, n, 7, 6, 2), floats(r, 3, 3, 3, 2))


CASES = {
    "tf.nn.convolution": [
        Case(lambda x, w: tf.nn.convolution(x, w, padding="SAME"), _images_filters(2)),
        Case(lambda x, w: tf.nn.convolution(x, w, strides=2, dilations=1), _images_filters(3),
             "3d-strided")],
    "tf.nn.conv1d": [Case(lambda x, w: tf.nn.conv1d(x, w, 2, "SAME"), _images_filters(1))],
    "tf.nn.conv2d": [
        Case(lambda x, w: tf.nn.conv2d(x, w, [1, 2, 1, 1], "VALID"), _images_filters(2)),
        Case(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", dilations=2), _images_filters(2),
             "dilated")],
    "tf.nn.conv3d": [Case(lambda x, w: tf.nn.conv3d(x, w, [1, 1, 2, 1, 1], "SAME"),
                          _images_filters(3))],
    "tf.nn.conv_transpose": [Case(lambda x, w: tf.nn.conv_transpose(
        x, w, tf.stack([tf.shape(x)[0], 14, 12, 3]), 2, "SAME"), _transpose_inputs)],
    "tf.nn.conv1d_transpose": [Case(lambda x, w: tf.nn.conv1d_transpose(
        x[:, :, 0], w[0], tf.stack([tf.shape(x)[0], 15, 3]), 2, "VALID"), _transpose_inputs)],
    "tf.nn.conv2d_transpose": [Case(lambda x, w: tf.nn.conv2d_transpose(
        x, w, tf.stack([tf.shape(x)[0], 15, 13, 3]), 2, "VALID"), _transpose_inputs)],
    "tf.nn.conv3d_transpose": [Case(lambda x, w: tf.nn.conv3d_transpose(
        x[:, :, :, None], w[:, :, None], tf.stack([tf.shape(x)[0], 14, 12, 2, 3]),
        [1, 2, 2, 2, 1], "SAME"), _transpose_inputs)],
    "tf.nn.depthwise_conv2d": [Case(lambda x, w: tf.nn.depthwise_conv2d(
        x, w, [1, 1, 1, 1], "SAME"), lambda r, n: (floats(r, n, 7, 6, 2), floats(r, 3, 3, 2, 2)))],
    "tf.nn.separable_conv2d": [Case(lambda x, w, p: tf.nn.separable_conv2d(
        x, w, p, [1, 1, 1, 1], "VALID"), lambda r, n: (
            floats(r, n, 7, 6, 2), floats(r, 3, 3, 2, 2), floats(r, 1, 1, 4, 3)))],
    "tf.nn.max_pool": [Case(lambda x: tf.nn.max_pool(x, 2, 2, "SAME"), _images(2))],
    "tf.nn.max_pool1d": [Case(lambda x: tf.nn.max_pool1d(x, 3, 2, "VALID"), _images(1))],
    "tf.nn.max_pool2d": [Case(lambda x: tf.nn.max_pool2d(x, [2, 3], [2, 1], "SAME"),
                              _images(2))],
    "tf.nn.max_pool3d": [Case(lambda x: tf.nn.max_pool3d(x, 2, 2, "VALID"), _images(3))],
    "tf.nn.avg_pool": [Case(lambda x: tf.nn.avg_pool(x, 2, 2, "SAME"), _images(2))],
    "tf.nn.avg_pool1d": [Case(lambda x: tf.nn.avg_pool1d(x, 2, 2, "SAME"), _images(1))],
    "tf.nn.avg_pool2d": [Case(lambda x: tf.nn.avg_pool2d(x, 3, 2, "VALID"), _images(2))],
    "tf.nn.avg_pool3d": [Case(lambda x: tf.nn.avg_pool3d(x, 2, [1, 2, 2], "SAME"),
                              _images(3))],
}


# The gradients' primitives (conv_input_grad, conv_filter_grad, max_pool_grad, avg_pool_grad)
# are reached through tape.gradient inside the function.
EXTRA_CASES = {
    "gradient of convolution and pooling": [
        Case(gradients_of(lambda x, w: tf.nn.max_pool2d(tf.nn.conv2d(x, w, 1, "SAME"), 2, 2,
                                                        "VALID")),
             _images_filters(2), "conv-max-pool"),
        # Squared, so the pooling's incoming gradient is not a constant graph passes fold.
        Case(gradients_of(lambda x, w: tf.square(tf.nn.avg_pool1d(tf.nn.conv1d(x, w, 2, "SAME"),
                                                                  2, 1, "SAME"))),
             _images_filters(1), "conv-avg-pool")],
}
