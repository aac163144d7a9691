"""``tf.profiler``: where the time of a training step goes, op by op.

``tf.profiler.experimental.start(logdir)`` / ``stop()`` record every op that runs in
between: eager ops (timed around their forward) and the ops of compiled functions (the
plans compiled while profiling time each line; plain plans stay untouched). ``stop``
writes a Chrome trace-event file, ``logdir/plugins/profile/<run>/<host>.trace.json.gz``,
that Perfetto (ui.perfetto.dev) and ``chrome://tracing`` open (:func:`last_trace_file`
names it); :func:`top_ops` sums it per op. ``keras.callbacks.TensorBoard(profile_batch=...)``
profiles a range of batches.

This package sits above ``ops`` (it watches eager ops through ``registry.op_watchers``)
and below ``graph`` (compiled code calls its timers) and ``keras``.
"""

from neuroflow.profiler import experimental
from neuroflow.profiler.session import last_trace_file, recording, top_ops

__all__ = ["experimental", "last_trace_file", "recording", "top_ops"]
