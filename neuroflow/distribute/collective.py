"""Collective operations between worker processes over MPI, with a watchdog.

MPI gives no deadline: a collective waits for every rank, and a rank that hangs (or
dies where the launcher does not end the job) leaves the others waiting for ever. So
each collective here runs with a deadline: the blocking call on a helper thread that
the caller waits for (on two busy cores, 0.45 ms per allreduce of the lab's 347 kB of
gradients, against 4.3 ms for an ``Iallreduce`` polled from Python), or, where MPI
lacks thread support, the nonblocking call (``Iallreduce``, ``Ibcast``) polled. While
it waits, a rank answers the liveness pings of its peers over a side channel. When the
deadline passes, it pings every peer, names the ranks that did not answer, and ends
the whole job with ``MPI.Abort``: an error naming the lost rank on stderr, never a hang.

``mpi4py`` is imported only when a :class:`Collective` is made, so a single process
never loads MPI.
"""

from __future__ import annotations

import queue
import sys
import threading
import time

import numpy as np

# Side-channel tags on a communicator of its own: they never match the user's messages.
_PING, _PONG = 1, 2
# The first polls spin (an allreduce of a small model takes tens of microseconds);
# after this long without completion the wait sleeps between polls.
_SPIN_SECONDS = 0.05
_SLEEP_SECONDS = 0.0005
# How long a rank that timed out waits for answers from the peers it asks.
_DIAGNOSIS_SECONDS = 2.0
# How often a rank waiting for a threaded collective answers pings.
_PING_SECONDS = 0.1


def mpi_module():
    """``mpi4py.MPI``, or a ModuleNotFoundError saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ModuleNotFoundError(
            "MultiWorkerMirroredStrategy runs the workers over MPI and needs mpi4py, which is "
            "not installed. Install it with pip install 'neuroflow[mpi]' (mpi4py and the Open "
            "MPI wheel), then start the workers with mpirun -n N python train.py.",
            name="mpi4py") from error
    return MPI


class Collective:
    """Allreduce and broadcast of NumPy arrays among the ranks of ``MPI.COMM_WORLD``.

    ``timeout`` bounds each collective in seconds; on expiry the job is aborted with a
    message naming the ranks that stopped answering.
    ``bytes_per_pack`` splits an allreduce into packs of about that many bytes (0: one
    pack). ``threaded``: run blocking calls on a helper thread (None: when MPI supports
    threads), or poll nonblocking ones.
    """

    def __init__(self, timeout: float, bytes_per_pack: int = 0,
                 threaded: bool | None = None):
        self.mpi = mpi_module()
        world = self.mpi.COMM_WORLD
        self.comm = world.Dup()  # collectives of their own, apart from the user's
        self.side = world.Dup()  # the liveness pings
        self.rank, self.size = world.Get_rank(), world.Get_size()
        self.timeout = float(timeout)
        self.bytes_per_pack = int(bytes_per_pack)
        # Blocking calls on a helper thread need MPI_THREAD_MULTIPLE (mpi4py asks for it);
        # ``threaded=False`` polls nonblocking calls instead.
        if threaded is None:
            threaded = self.mpi.Query_thread() == self.mpi.THREAD_MULTIPLE
        self._caller = _Caller() if self.size > 1 and threaded else None
        # Measured for the scaling benchmark: time spent in allreduce, calls, bytes.
        self.allreduce_seconds = 0.0
        self.allreduce_calls = 0
        self.allreduce_bytes = 0

    # --- collectives ---------------------------------------------------------------------------
    def allreduce_sum(self, array: np.ndarray, what: str = "allreduce") -> np.ndarray:
        """The elementwise sum of ``array`` over all ranks (same shape and dtype everywhere)."""
        start = time.perf_counter()
        send = np.array(array, order="C", copy=False) if array.flags.c_contiguous else \
            np.array(array, order="C")
        result = np.empty_like(send)
        if self.size == 1:
            result[...] = send
        else:
            flat_send, flat_result = send.reshape(-1), result.reshape(-1)
            step = (max(1, self.bytes_per_pack // max(send.itemsize, 1))
                    if self.bytes_per_pack > 0 else max(flat_send.size, 1))
            packs = [(flat_send[at:at + step], flat_result[at:at + step])
                     for at in range(0, max(flat_send.size, 1), step)]
            if self._caller is not None:
                def blocking():
                    for pack, into in packs:
                        self.comm.Allreduce(pack, into, op=self.mpi.SUM)
                self._wait_for(blocking, what)
            else:
                self._wait([self.comm.Iallreduce(pack, into, op=self.mpi.SUM)
                            for pack, into in packs], what)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_calls += 1
        self.allreduce_bytes += send.nbytes
        return result

    def broadcast(self, array: np.ndarray, what: str = "broadcast") -> np.ndarray:
        """Rank 0's ``array`` on every rank (each passes an array of the same shape and dtype)."""
        buffer = np.array(array, order="C")  # a copy: 0-d arrays stay 0-d
        if self._caller is not None:
            self._wait_for(lambda: self.comm.Bcast(buffer, root=0), what)
        elif self.size > 1:
            self._wait([self.comm.Ibcast(buffer, root=0)], what)
        return buffer

    def barrier(self, what: str = "barrier") -> None:
        if self.size > 1:
            self._wait([self.comm.Ibarrier()], what)

    # --- the watchdog --------------------------------------------------------------------------
    def _wait_for(self, blocking, what: str) -> None:
        """Run ``blocking`` on the helper thread, waiting at most ``timeout`` seconds."""
        done = self._caller.call(blocking)
        deadline = time.monotonic() + self.timeout
        while not done.wait(_PING_SECONDS):
            self._answer_pings()
            if time.monotonic() > deadline:
                self._lost(what)
                return
        if done.error is not None:
            raise done.error

    def _wait(self, requests: list, what: str) -> None:
        Request = self.mpi.Request
        if Request.Testall(requests):
            return
        start = time.monotonic()
        deadline = start + self.timeout
        spin_until = start + _SPIN_SECONDS
        while not Request.Testall(requests):
            now = time.monotonic()
            if now < spin_until:
                # Yield the core: with more workers than cores (or a busy machine) the
                # peer this rank waits for may need it.
                time.sleep(0)
                continue
            self._answer_pings()
            if now > deadline:
                self._lost(what)
                return
            time.sleep(_SLEEP_SECONDS)

    def _answer_pings(self) -> None:
        status = self.mpi.Status()
        while self.side.Iprobe(source=self.mpi.ANY_SOURCE, tag=_PING, status=status):
            source = status.Get_source()
            self.side.recv(source=source, tag=_PING)
            self.side.isend(self.rank, dest=source, tag=_PONG)

    def lost_ranks(self) -> list[int]:
        """The ranks that do not answer a ping within a couple of seconds."""
        peers = [r for r in range(self.size) if r != self.rank]
        for peer in peers:
            self.side.isend(self.rank, dest=peer, tag=_PING)
        alive: set[int] = set()
        status = self.mpi.Status()
        deadline = time.monotonic() + _DIAGNOSIS_SECONDS
        while time.monotonic() < deadline and len(alive) < len(peers):
            self._answer_pings()
            while self.side.Iprobe(source=self.mpi.ANY_SOURCE, tag=_PONG, status=status):
                alive.add(self.side.recv(source=status.Get_source(), tag=_PONG))
            time.sleep(0.01)
        return [peer for peer in peers if peer not in alive]

    def _lost(self, what: str) -> None:
        lost = self.lost_ranks()
        who = (f"worker rank {', '.join(map(str, lost))} stopped answering" if lost else
               "every worker still answers, but one is late (a slow or stuck step)")
        message = (f"neuroflow.distribute: worker {self.rank} of {self.size} waited "
                   f"{self.timeout:g} s for the other workers in {what}: {who}. Ending the "
                   f"job. Restart it (with keras.callbacks.BackupAndRestore, training resumes "
                   f"from the last backup), or raise the timeout with "
                   f"tf.distribute.experimental.CommunicationOptions(timeout_seconds=...).")
        print(message, file=sys.stderr, flush=True)
        self.mpi.COMM_WORLD.Abort(1)


class _Done(threading.Event):
    error: BaseException | None = None


class _Caller:
    """A daemon thread that runs blocking MPI calls one at a time. A daemon: a call that
    never returns (a lost peer) must not keep the process from exiting."""

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="neuroflow-collectives", daemon=True).start()

    def call(self, function) -> _Done:
        done = _Done()
        self._jobs.put((function, done))
        return done

    def _loop(self) -> None:
        while True:
            function, done = self._jobs.get()
            try:
                function()
            except BaseException as error:  # handed to the waiting caller, who raises it
                done.error = error
            done.set()
