"""``tf.profiler.experimental``: start and stop a profile, and mark blocks in it.

>>> import tempfile, neuroflow as tf
>>> logdir = tempfile.mkdtemp()
>>> tf.profiler.experimental.start(logdir)
>>> with tf.profiler.experimental.Trace("train", step_num=0, _r=1):
...     y = tf.matmul(tf.ones([2, 3]), tf.ones([3, 4]))
>>> tf.profiler.experimental.stop()
>>> [name for name, *_ in tf.profiler.top_ops(tf.profiler.last_trace_file())]
['matmul']
"""

from __future__ import annotations

import collections
import os
import time

from neuroflow.profiler import session

ProfilerOptions = collections.namedtuple(
    "ProfilerOptions", ["host_tracer_level", "python_tracer_level", "device_tracer_level",
                        "delay_ms"], defaults=[2, 0, 1, None])
ProfilerOptions.__doc__ = """Options of ``start``, with TensorFlow's names and defaults.

``host_tracer_level``: 1 records only ``Trace`` blocks, 2 and 3 every op as well.
``python_tracer_level`` must be 0 and ``delay_ms`` None (neither is supported);
``device_tracer_level`` is accepted: neuroflow's ops run on the host, and that is traced."""

def start(logdir, options: ProfilerOptions | None = None) -> None:
    """Start profiling: ops run from now on are timed until :func:`stop`.

    Raises ``AlreadyExistsError`` if a profile is being recorded.
    """
    options = ProfilerOptions() if options is None else options
    if not isinstance(options, ProfilerOptions):
        raise TypeError(f"options must be a tf.profiler.experimental.ProfilerOptions; received "
                        f"{options!r}.")
    if options.host_tracer_level not in (1, 2, 3):
        raise ValueError(f"host_tracer_level must be 1, 2 or 3; received "
                         f"{options.host_tracer_level!r}.")
    if options.python_tracer_level:
        raise NotImplementedError(
            f"neuroflow's profiler does not trace Python calls; received python_tracer_level="
            f"{options.python_tracer_level!r}. Use 0 and mark blocks with "
            f"tf.profiler.experimental.Trace instead.")
    if options.delay_ms is not None:
        raise NotImplementedError(f"delay_ms is not supported; received delay_ms="
                                  f"{options.delay_ms!r}. Call start() when profiling should "
                                  f"begin instead.")
    session.start(os.fspath(logdir), op_events=options.host_tracer_level >= 2)


def stop(save: bool = True) -> None:
    """Stop profiling; with ``save``, write the trace file under the ``logdir`` of
    :func:`start` (``plugins/profile/<run>/<host>.trace.json.gz``).

    Raises ``UnavailableError`` if no profile is being recorded.
    """
    session.stop(save)


class Trace:
    """A named block in the profile (a training step, say); ``kwargs`` are shown with it.

    ``with tf.profiler.experimental.Trace("train", step_num=step, _r=1): ...``. Without a
    running profile it records nothing and costs next to nothing.
    """

    def __init__(self, name: str, **kwargs):
        self.name = str(name)
        self.args = {k: v if isinstance(v, (int, float, str, bool)) else repr(v)
                     for k, v in kwargs.items()}

    def __enter__(self) -> Trace:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        session.record_block(self.name, self._start, time.perf_counter(), self.args)


class Profile:
    """``with Profile(logdir):`` profiles the block, as ``start``/``stop`` around it."""

    def __init__(self, logdir, options: ProfilerOptions | None = None):
        self.logdir = logdir
        self.options = options

    def __enter__(self) -> Profile:
        start(self.logdir, self.options)
        return self

    def __exit__(self, *exc) -> None:
        stop()


__all__ = ["Profile", "ProfilerOptions", "Trace", "start", "stop"]
