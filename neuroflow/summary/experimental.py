"""``tf.summary.experimental``: the default step, summary scopes and raw summaries."""

from neuroflow.summary.summaries import summary_scope, write_raw_pb
from neuroflow.summary.writer import get_step, set_step

__all__ = ["get_step", "set_step", "summary_scope", "write_raw_pb"]
