"""``tf.summary``: TensorBoard logs (event files), written as TensorFlow writes them.

>>> import neuroflow as tf, tempfile
>>> writer = tf.summary.create_file_writer(tempfile.mkdtemp())
>>> with writer.as_default():
...     for step in range(3):
...         _ = tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
>>> writer.close()

The files need the ``tensorboard`` package's protocol buffers (``pip install
'neuroflow[tensorboard]'``), imported when the first writer is created; neither
TensorFlow nor a TensorBoard server is needed to write them.
"""

from neuroflow.summary import experimental
from neuroflow.summary.graphs import graph, trace_export, trace_off, trace_on
from neuroflow.summary.summaries import (
    audio,
    histogram,
    image,
    scalar,
    should_record_summaries,
    text,
    write,
)
from neuroflow.summary.writer import (
    SummaryWriter,
    create_file_writer,
    create_noop_writer,
    flush,
    record_if,
)

__all__ = ["SummaryWriter", "audio", "create_file_writer", "create_noop_writer", "experimental",
           "flush", "graph", "histogram", "image", "record_if", "scalar",
           "should_record_summaries", "text", "trace_export", "trace_off", "trace_on", "write"]
