"""The server process: models, REST API, and the Uvicorn loop that serves them."""

from __future__ import annotations

import socket
import threading
import time

from neuroflow.serving.app import (
    DEFAULT_MAX_BODY_BYTES,
    METRICS_PATH,
    RestApi,
    json_bytes,
    require_serve_extra,
)
from neuroflow.serving.models import ModelManager
from neuroflow.serving.text_proto import BatchingParameters, ModelConfig


def _header_deadline_protocol(seconds: float):
    """Uvicorn's h11 protocol, closing connections whose next request's headers do not
    arrive within ``seconds``: Uvicorn itself waits for them forever, so slow or silent
    clients could hold connections (and file descriptors) without end."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadline(H11Protocol):
        _deadline = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def data_received(self, data: bytes) -> None:
            self._partial = True
            super().data_received(data)

        def connection_lost(self, exc) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._waiting_after, self._partial = self.cycle, False
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _expire(self) -> None:
            # A new request's headers make a new cycle; none since arming means too slow.
            # A cycle still answering (a pipelined request) is no slow client.
            cycle = self.cycle
            if self.transport.is_closing() or cycle is not self._waiting_after or (
                    cycle is not None and not cycle.response_complete):
                return
            if self._partial:  # half a request: say why it is refused
                body = json_bytes({"error": f"The request headers did not arrive within "
                                             f"{seconds * 1000:.0f} ms "
                                             f"(--rest_api_timeout_in_ms)"})
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\n"
                                     b"content-type: application/json\r\n"
                                     b"connection: close\r\n"
                                     b"content-length: %d\r\n\r\n%s" % (len(body), body))
            self.transport.close()

    return HeaderDeadline


class ModelServer:
    """The whole server: models, REST API, and the Uvicorn loop that serves them.

    >>> server = ModelServer([ModelConfig("m", "/models/m")])  # doctest: +SKIP
    >>> port = server.start(port=0)  # doctest: +SKIP
    """

    def __init__(self, configs: list[ModelConfig], batching: BatchingParameters | None = None,
                 poll_wait_seconds: float = 1.0, timeout_ms: int = 30000,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, num_threads: int | None = None,
                 metrics_path: str | None = METRICS_PATH):
        self.manager = ModelManager(configs, batching, poll_wait_seconds)
        self.api = RestApi(self.manager, timeout_ms, max_body_bytes, num_threads, metrics_path)
        self._server = None
        self._thread: threading.Thread | None = None

    def _uvicorn(self):
        require_serve_extra()
        import uvicorn

        timeout = self.api.timeout
        config = uvicorn.Config(self.api.starlette_app(), log_level="warning", lifespan="off",
                                access_log=False,
                                http=_header_deadline_protocol(timeout) if timeout else "h11")
        self._server = uvicorn.Server(config)
        return self._server

    @staticmethod
    def _socket(host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: an answer's headers and body are separate
        # writes, and with Nagle's algorithm the body would wait for the client's delayed
        # ACK (40 ms on Linux) on every keep-alive request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        # Listening now, before Uvicorn starts: clients told the port may connect at once
        # (their connections wait in the backlog until the loop accepts them).
        sock.listen(2048)
        return sock

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Load the models, then serve on a background thread; returns the port."""
        self.manager.start()
        sock = self._socket(host, port)
        server = self._uvicorn()
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name="rest-api", daemon=True)
        self._thread.start()
        while not server.started:
            if not self._thread.is_alive():
                raise OSError(f"the REST API server on {host}:{port} did not start")
            time.sleep(0.01)
        return sock.getsockname()[1]

    def serve_forever(self, host: str, port: int, on_listening=None) -> None:
        """Load the models and serve on this thread until interrupted (Ctrl-C, SIGTERM)."""
        self.manager.start()
        sock = self._socket(host, port)
        if on_listening is not None:
            on_listening(sock.getsockname()[1])
        try:
            self._uvicorn().run(sockets=[sock])
        finally:
            self._shutdown()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self._shutdown()

    def _shutdown(self) -> None:
        self.manager.stop()
        self.api.close()
