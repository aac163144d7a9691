"""The profiling session: events recorded while it runs, and the trace file it writes.

An event is one timed span on one thread: an eager op, a compiled op (one line of
generated code), a whole compiled call, or a ``Trace`` block of the user's. They are
kept as tuples while the session runs (appending to a list is atomic, so any thread may
record) and turned into Chrome trace events (``"ph": "X"``, times in microseconds from
the session's start) when it stops.
"""

from __future__ import annotations

import os
import threading
import time

from neuroflow.abstract import user_location
from neuroflow.errors import AlreadyExistsError, UnavailableError
from neuroflow.ops import registry
from neuroflow.ops.checks import current_scope
from neuroflow.util.files import write_atomically


class _Session:
    def __init__(self, logdir: str, op_events: bool):
        self.logdir = logdir
        self.op_events = op_events  # host_tracer_level >= 2: ops, not only Trace blocks
        self.start = time.perf_counter()
        self.wall_start = time.time()
        # (thread id, name, category, start, end, args)
        self.events: list[tuple] = []
        self.threads: dict[int, str] = {}

    def record(self, name: str, category: str, start: float, end: float, args: dict) -> None:
        ident = threading.get_ident()
        if ident not in self.threads:
            self.threads[ident] = threading.current_thread().name
        self.events.append((ident, name, category, start, end, args))


_session: _Session | None = None
_lock = threading.Lock()
_last_trace_file: str | None = None


def recording() -> bool:
    """Whether a profiling session is running (compiled plans then run timed variants)."""
    return _session is not None


def start(logdir: str, op_events: bool = True) -> None:
    global _session
    with _lock:
        if _session is not None:
            raise AlreadyExistsError("Another profiler is running.")
        _session = _Session(os.fspath(logdir), op_events)
        if op_events:
            registry.op_watchers.append(_watch_op)


def stop(save: bool = True) -> str | None:
    """End the session; with ``save``, write its trace file and return the file's path."""
    global _session
    with _lock:
        session = _session
        if session is None:
            raise UnavailableError("Cannot export profiling results. No profiler is running.")
        _session = None
        if _watch_op in registry.op_watchers:
            registry.op_watchers.remove(_watch_op)
    if not save:
        return None
    global _last_trace_file
    _last_trace_file = write_trace(session)
    return _last_trace_file


def last_trace_file() -> str | None:
    """The path of the trace file the latest ``stop`` wrote (neuroflow's, not TensorFlow's)."""
    return _last_trace_file


def _watch_op(prim, arrays, out, start: float, end: float) -> None:
    session = _session
    if session is not None:
        session.record(prim.name, "eager op", start, end,
                       _args(layer=current_scope(), location=user_location()))


def _args(**values) -> dict:
    return {k: v for k, v in values.items() if v not in ("", None)}


class NodeTimer:
    """Records the ops of one compiled graph: called by generated code after each node
    (``timer(index, start)``), and around the whole call (:meth:`call_started`)."""

    def __init__(self, graph):
        self.name = graph.name
        self.labels = [(node.op, _args(function=graph.name, layer=node.scope,
                                        location=node.location)) for node in graph.nodes]

    def __call__(self, index: int, start: float) -> None:
        end = time.perf_counter()
        session = _session
        if session is not None and session.op_events:
            name, args = self.labels[index]
            session.record(name, "compiled op", start, end, args)

    def call_ended(self, start: float) -> None:
        end = time.perf_counter()
        session = _session
        if session is not None:
            session.record(self.name, "tf.function", start, end, {})


def record_block(name: str, start: float, end: float, args: dict) -> None:
    """A ``Trace`` block of the user's (a training step, say)."""
    session = _session
    if session is not None:
        session.record(name, "trace", start, end, args)


def host_name() -> str:
    """The host part of the file name, as TensorFlow names it (letters, digits, ``-_.``)."""
    import socket

    name = socket.gethostname() or "localhost"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def chrome_trace(session: _Session) -> dict:
    """The session's events in the Chrome trace-event format."""
    pid = os.getpid()
    thread_ids = {ident: k + 1 for k, ident in enumerate(session.threads)}
    events = [{"ph": "M", "pid": pid, "name": "process_name",
               "args": {"name": f"/host:CPU ({host_name()})"}}]
    events += [{"ph": "M", "pid": pid, "tid": thread_ids[ident], "name": "thread_name",
                "args": {"name": name}} for ident, name in session.threads.items()]
    for ident, name, category, start, end, args in session.events:
        event = {"ph": "X", "pid": pid, "tid": thread_ids[ident], "name": name,
                 "cat": category, "ts": round((start - session.start) * 1e6, 3),
                 "dur": round((end - start) * 1e6, 3)}
        if args:
            event["args"] = args
        events.append(event)
    return {"displayTimeUnit": "ms", "traceEvents": events,
            "metadata": {"producer": "neuroflow", "start_time_unix": session.wall_start}}


def write_trace(session: _Session) -> str:
    """Write ``<logdir>/plugins/profile/<run>/<host>.trace.json.gz``; the run is the
    session's start time, named as TensorFlow names its runs."""
    import gzip
    import json

    run = time.strftime("%Y_%m_%d_%H_%M_%S", time.localtime(session.wall_start))
    folder = os.path.join(session.logdir, "plugins", "profile", run)
    path = os.path.join(folder, f"{host_name()}.trace.json.gz")
    data = json.dumps(chrome_trace(session), separators=(",", ":")).encode()
    write_atomically(path, gzip.compress(data, mtime=0))
    return path


def top_ops(trace, n: int = 10, categories=("eager op", "compiled op")) -> list[tuple]:
    """``[(op, calls, total seconds, share of the ops' time), ...]``, the ``n`` slowest
    first, from a trace file written by ``stop`` (a path) or its parsed contents.

    >>> top_ops({"traceEvents": [{"ph": "X", "name": "matmul", "cat": "compiled op",
    ...                           "ts": 0, "dur": 30.0}]})
    [('matmul', 1, 3e-05, 1.0)]
    """
    import gzip
    import json

    if not isinstance(trace, dict):
        with gzip.open(os.fspath(trace), "rt") as file:
            trace = json.load(file)
    totals: dict[str, list] = {}
    for event in trace["traceEvents"]:
        if event.get("ph") == "X" and event.get("cat") in categories:
            entry = totals.setdefault(event["name"], [0, 0.0])
            entry[0] += 1
            entry[1] += event["dur"] / 1e6
    overall = sum(seconds for _, seconds in totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: -item[1][1])[:n]
    return [(name, calls, seconds, seconds / overall) for name, (calls, seconds) in ranked]
