"""Summary writers and the default writer, step and recording condition of each thread.

A file writer appends ``Event`` records to one event file, framed as TFRecords
(length, masked CRC32C of the length, data, masked CRC32C of the data). As in
TensorFlow, events wait in a queue and are written once it holds more than
``max_queue`` of them, or when a write comes ``flush_millis`` after the last flush, and
on ``flush()``, ``close()``, when an ``as_default()`` block ends, and at interpreter exit.
The file is only ever appended to, one whole record per write, so a crash can at most
cut the last record short; TensorBoard reads every record before it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
import time
import weakref

import numpy as np

from neuroflow.errors import NotFoundError
from neuroflow.summary import protos


class _State(threading.local):
    """The default writer, step and recording condition: per thread, as in TensorFlow.

    Thread-local rather than a context variable because ``set_as_default`` and ``set_step``
    must last past the statement that calls them (a notebook cell, say), as TF's do.
    """

    def __init__(self):
        super().__init__()
        self.writer = None
        self.step = None
        self.is_recording = None  # None means "record" (bool, bool tensor or callable)
        self.scopes: list[str] = []  # summary_scope names, outermost first


STATE = _State()


def get_step():
    """The default step set by ``set_step`` or ``writer.as_default(step)``, or None.

    >>> import neuroflow as tf
    >>> tf.summary.experimental.set_step(3)
    >>> tf.summary.experimental.get_step()
    3
    >>> tf.summary.experimental.set_step(None)
    """
    return STATE.step


def set_step(step) -> None:
    """Set the default step of this thread's summaries (an int, a tensor or a Variable,
    which is read at each write); None unsets it."""
    STATE.step = step


def step_value(step) -> int:
    """A step as the int64 TensorFlow converts it to: an integer (or bool) with one element."""
    array = np.asarray(step)
    if array.dtype.kind not in "iub":
        raise TypeError(f"Cannot convert {step!r} to a step of dtype int64: a summary step "
                        f"is an integer, e.g. step=3 or step=optimizer.iterations.")
    if array.size != 1:
        raise ValueError(f"Argument `step` must be a scalar. Received step with shape "
                         f"{array.shape}.")
    return int(array.reshape(()))


@contextlib.contextmanager
def record_if(condition):
    """Record summaries only while ``condition`` holds: a bool, a bool tensor, or a callable
    giving one (called at each summary, so ``lambda: step % 100 == 0`` follows the step)."""
    old = STATE.is_recording
    try:
        STATE.is_recording = condition
        yield
    finally:
        STATE.is_recording = old


def recording() -> bool:
    """Whether a summary written now would be recorded (a default writer, and the condition)."""
    if STATE.writer is None:
        return False
    condition = STATE.is_recording
    if condition is None:
        return True
    if callable(condition):
        condition = condition()
    return bool(np.asarray(condition))


class SummaryWriter:
    """A summary writer: ``as_default()`` makes summaries go to it."""

    def set_as_default(self, step=None) -> None:
        """Make this the default writer of the current thread until another is set; with
        ``step``, also set the default step."""
        self.as_default(step).__enter__()

    def as_default(self, step=None):
        """A context manager making this the default writer (and ``step``, if given, the
        default step); on exit the previous ones come back and this writer is flushed."""
        return _DefaultWriter(self, step)

    def init(self) -> None:
        """Nothing to do: writers are ready when created (kept for TensorFlow's API)."""

    def flush(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def write_event(self, event) -> None:
        raise NotImplementedError


class _DefaultWriter:
    """``as_default()``: a class, not a generator, so ``set_as_default`` can enter it for
    good (a generator's ``finally`` would run when it is garbage-collected)."""

    def __init__(self, writer: SummaryWriter, step=None):
        self._writer = writer
        self._step = step
        self._old_writer = None
        self._old_step = None

    def __enter__(self) -> SummaryWriter:
        self._old_writer = STATE.writer
        STATE.writer = self._writer
        if self._step is not None:
            self._old_step = STATE.step
            STATE.step = self._step
        return self._writer

    def __exit__(self, *exc) -> bool:
        STATE.writer.flush()
        STATE.writer = self._old_writer
        if self._step is not None:
            STATE.step = self._old_step
        return False


class _NoopWriter(SummaryWriter):
    """``create_noop_writer()``: a stand-in that records nothing and sets no step."""

    def set_as_default(self, step=None) -> None:
        pass

    @contextlib.contextmanager
    def as_default(self, step=None):
        yield self

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def write_event(self, event) -> None:
        pass


_file_ids = itertools.count()


class _EventFile:
    """The open event file and its queue of serialized events, apart from the writer so
    that a finalizer can flush and close it when the writer is garbage-collected."""

    def __init__(self, path: str, max_queue: int, flush_millis: int):
        self.path = path
        self.max_queue = max_queue
        self.flush_seconds = flush_millis / 1000
        self._file = open(path, "wb")
        self._records = protos.load().RecordWriter(self._file)
        self._queue: list[bytes] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self.closed = False

    def append(self, data: bytes) -> None:
        with self._lock:
            if self.closed:
                raise NotFoundError(f"The summary writer of {self.path} is closed: nothing can "
                                    f"be written with it. Create a new one with "
                                    f"tf.summary.create_file_writer.", "WriteSummary")
            self._queue.append(data)
            if (len(self._queue) > self.max_queue
                    or time.monotonic() - self._last_flush > self.flush_seconds):
                self._write_queue()

    def _write_queue(self) -> None:
        for data in self._queue:
            self._records.write(data)  # one whole record per write: see the module docstring
        self._queue.clear()
        self._file.flush()
        self._last_flush = time.monotonic()

    def flush(self, sync: bool = True) -> None:
        with self._lock:
            if self.closed:
                return
            self._write_queue()
            if sync:
                # Only explicit flushes reach the disk; queue-full ones stop at the OS, which
                # keeps per-batch logging cheap and still survives a crash of the process.
                os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                self._write_queue()
                os.fsync(self._file.fileno())
            finally:
                self.closed = True
                self._file.close()


class FileWriter(SummaryWriter):
    """A writer of one event file in ``logdir``: what ``tf.summary.create_file_writer``
    returns."""

    def __init__(self, logdir, max_queue: int = 10, flush_millis: int = 120_000,
                 filename_suffix: str = ".v2"):
        pb = protos.load()
        self.logdir = os.fspath(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        # events.out.tfevents.<seconds>.<host>.<pid>.<count><suffix>, TensorFlow's name, which
        # TensorBoard looks for; the count keeps two writers of one second apart.
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_ids)}{filename_suffix}")
        self._events = _EventFile(os.path.join(self.logdir, name), max_queue, flush_millis)
        # Closed (so flushed) when the writer is garbage-collected or the program ends, as
        # TensorFlow's writers are when their resources are destroyed.
        weakref.finalize(self, self._events.close)
        self.write_event(pb.event_pb2.Event(
            wall_time=time.time(), file_version="brain.Event:2",
            source_metadata=pb.event_pb2.SourceMetadata(writer="neuroflow.summary")))
        self._events.flush(sync=False)  # TensorBoard sees the run as soon as it exists

    @property
    def path(self) -> str:
        """The event file written."""
        return self._events.path

    def _check_open(self) -> None:
        if self._events.closed:
            raise RuntimeError(f"SummaryWriter {self!r} is already closed")

    def set_as_default(self, step=None) -> None:
        self._check_open()
        super().set_as_default(step)

    def as_default(self, step=None):
        self._check_open()
        return super().as_default(step)

    def write_event(self, event) -> None:
        """Queue an ``Event`` protocol buffer for the file."""
        self._events.append(event.SerializeToString())

    def flush(self) -> None:
        """Write every queued event to the file and the disk (nothing, once closed)."""
        self._events.flush()

    def close(self) -> None:
        """Flush and close the file; later ``close``/``flush`` calls do nothing."""
        self._events.close()

    def __repr__(self) -> str:
        state = "closed" if self._events.closed else "open"
        return f"<neuroflow.summary.FileWriter {self.path} ({state})>"


def _int_option(name: str, value, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise TypeError(f"create_file_writer expected {name} to be a whole number (0 or more), "
                        f"received {value!r}.")
    return int(value)


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None,
                       name=None) -> SummaryWriter:
    """A writer of TensorBoard logs in ``logdir`` (created if needed), as TensorFlow's.

    ``max_queue`` (default 10): events kept before a write to the file; ``flush_millis``
    (default 120,000): the longest time between writes; ``filename_suffix`` (default
    ``.v2``) ends the event file's name. ``name`` is accepted for TensorFlow's signature
    (it names an op there). Needs the ``tensorboard`` package for its protocol buffers
    (not TensorFlow).
    """
    if logdir is None:
        raise ValueError("Argument `logdir` cannot be None")
    if filename_suffix is not None and not isinstance(filename_suffix, str):
        raise TypeError(f"create_file_writer expected filename_suffix to be a string, "
                        f"received {filename_suffix!r}.")
    return FileWriter(logdir, _int_option("max_queue", max_queue, 10),
                      _int_option("flush_millis", flush_millis, 120_000),
                      ".v2" if filename_suffix is None else filename_suffix)


def create_noop_writer() -> SummaryWriter:
    """A writer that does nothing, for code that expects one."""
    return _NoopWriter()


def flush(writer=None, name=None) -> None:
    """Flush ``writer``, or the default writer; nothing when there is none."""
    if writer is None:
        writer = STATE.writer
        if writer is None:
            return
    if not isinstance(writer, SummaryWriter):
        raise ValueError(f"Invalid argument to flush(): {writer!r}")
    writer.flush()
