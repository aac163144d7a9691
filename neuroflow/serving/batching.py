"""Merging concurrent requests into batches, as TensorFlow Serving's BasicBatchScheduler.

A request (a *task*: input arrays with the same number of rows) joins the open batch; a
batch closes when it holds ``max_batch_size`` rows or ``batch_timeout_micros`` after its
first task came, and one of ``num_batch_threads`` threads runs the model on the rows of
all its tasks at once and hands each task its rows of the outputs. When
``max_enqueued_batches`` batches are waiting, a task that fits in none of them is refused
at once with UNAVAILABLE (HTTP 503), as TensorFlow Serving does: a client can retry
elsewhere instead of waiting behind a queue that is not draining.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from neuroflow.serving.status import ServingError, invalid
from neuroflow.serving.text_proto import BatchingParameters


class _Batch:
    __slots__ = ("tasks", "size", "key", "deadline")

    def __init__(self, key, deadline: float):
        self.tasks: list = []  # (arrays, rows, future)
        self.size = 0
        self.key = key  # the sample shapes: only tasks with equal ones can be concatenated
        self.deadline = deadline


class BatchScheduler:
    """Runs ``run_batch(arrays) -> list of output arrays`` on merged tasks."""

    def __init__(self, run_batch: Callable, params: BatchingParameters, name: str = "model",
                 on_batch: Callable | None = None):
        self._run_batch = run_batch
        self._params = params
        self._timeout = params.batch_timeout_micros / 1e6
        self._on_batch = on_batch  # called with each batch's row count (metrics)
        self._cond = threading.Condition()
        self._open: _Batch | None = None
        self._ready: deque[_Batch] = deque()
        self._stopped = False
        self._threads = [threading.Thread(target=self._work, name=f"batch-{name}-{i}",
                                          daemon=True)
                         for i in range(params.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, arrays: dict) -> Future:
        """A future for the outputs of ``arrays`` (a dict of arrays with equal row counts)."""
        rows = len(next(iter(arrays.values())))
        limit = self._params.max_batch_size
        if rows > limit:
            raise invalid(f"Task size {rows} is larger than maximum input batch size {limit}; "
                          f"send at most {limit} samples per request")
        key = tuple((name, a.shape[1:], a.dtype.str) for name, a in arrays.items())
        future: Future = Future()
        with self._cond:
            if self._stopped:
                raise ServingError("UNAVAILABLE", "The model version is being unloaded; retry")
            batch = self._open
            if batch is not None and (batch.key != key or batch.size + rows > limit):
                self._ready.append(batch)
                batch = self._open = None
            if batch is None:
                if len(self._ready) >= self._params.max_enqueued_batches:
                    raise ServingError("UNAVAILABLE", "The batch scheduling queue to which this "
                                       "task was submitted is full; retry later")
                batch = self._open = _Batch(key, time.monotonic() + self._timeout)
            batch.tasks.append((arrays, rows, future))
            batch.size += rows
            if batch.size == limit:
                self._ready.append(batch)
                self._open = None
            self._cond.notify()
        return future

    def queue_depth(self) -> int:
        """Tasks waiting for a batch thread."""
        with self._cond:
            return sum(len(b.tasks) for b in self._ready) + \
                (len(self._open.tasks) if self._open else 0)

    def stop(self) -> None:
        """Run what is queued, then end the threads."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def _next_batch(self) -> _Batch | None:
        with self._cond:
            while True:
                if self._ready:
                    return self._ready.popleft()
                if self._open is not None:
                    wait = self._open.deadline - time.monotonic()
                    if wait <= 0 or self._stopped:
                        batch, self._open = self._open, None
                        return batch
                    self._cond.wait(wait)
                elif self._stopped:
                    return None
                else:
                    self._cond.wait()

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            self._run(batch)

    def _run(self, batch: _Batch) -> None:
        tasks = batch.tasks
        try:
            if len(tasks) == 1:
                inputs = tasks[0][0]
            else:
                inputs = {name: np.concatenate([t[0][name] for t in tasks])
                          for name in tasks[0][0]}
            inputs, size = self._pad(inputs, batch.size)
            outputs = self._run_batch(inputs)
        except BaseException as error:  # every waiting request gets the failure
            for _, _, future in tasks:
                future.set_exception(error)
            return
        if self._on_batch is not None:
            self._on_batch(size)
        start = 0
        for _, rows, future in tasks:
            future.set_result([o[start:start + rows] for o in outputs])
            start += rows

    def _pad(self, inputs: dict, rows: int) -> tuple[dict, int]:
        """Inputs padded with copies of the last row up to the next allowed batch size: a
        model compiled for few sizes runs faster than one compiled for every size."""
        allowed = self._params.allowed_batch_sizes
        size = next((s for s in allowed if s >= rows), rows)
        if size == rows:
            return inputs, rows
        return {name: np.concatenate([a, np.repeat(a[-1:], size - rows, axis=0)])
                for name, a in inputs.items()}, size
