"""TensorFlow Serving's REST API on Starlette: routes, request bodies, errors.

Every answer is JSON; errors are ``{"error": message}`` with TensorFlow Serving's HTTP
status for their code. Work that takes CPU (parsing JSON, running the model, writing the
answer) runs on a thread pool, so the event loop keeps accepting requests meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor

from neuroflow.serving.metrics import CONTENT_TYPE, Metrics
from neuroflow.serving.models import ModelManager, Servable
from neuroflow.serving.signature import PREDICT_METHOD
from neuroflow.serving.status import ServingError, invalid, not_found

METRICS_PATH = "/monitoring/prometheus/metrics"
HEALTH_PATH = "/healthz"
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_INT64_MAX = 2**63 - 1
# TensorFlow Serving's URL grammar (http_rest_api_handler.cc), anchored on both ends.
_PATH = re.compile(r"/v1/models(?:/(?P<name>[^/:]+)"
                   r"(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
                   r"(?P<verb>/metadata|:predict|:classify|:regress)?)?")


class RestApi:
    """The request handlers, over a :class:`ModelManager`."""

    def __init__(self, manager: ModelManager, timeout_ms: int = 30000,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, num_threads: int | None = None,
                 metrics_path: str | None = METRICS_PATH):
        self.manager = manager
        self.metrics: Metrics = manager.metrics
        self.timeout = timeout_ms / 1000 if timeout_ms > 0 else None
        self.max_body_bytes = max_body_bytes
        self.metrics_path = metrics_path
        # TensorFlow Serving's default --rest_api_num_threads: four per core.
        self._executor = ThreadPoolExecutor(num_threads or 4 * (os.cpu_count() or 1),
                                            thread_name_prefix="rest")

    def starlette_app(self):
        require_serve_extra()
        from starlette.applications import Starlette
        from starlette.routing import Route

        methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
        routes = [Route("/v1/{rest:path}", self.models_endpoint, methods=methods),
                  Route(HEALTH_PATH, self.health, methods=["GET"])]
        if self.metrics_path:
            routes.append(Route(self.metrics_path, self.prometheus, methods=["GET"]))
        return Starlette(routes=routes, exception_handlers={404: self._no_route,
                                                            405: self._no_route})

    # --- endpoints ----------------------------------------------------------------------------
    async def models_endpoint(self, request):
        start = time.monotonic()
        deadline = start + self.timeout if self.timeout else None
        api, name, version = "unknown", "", None
        try:
            api, name, version, label = self._route(request.method, request.url.path)
            if api == "predict":
                body = await self._read_body(request, deadline)
                payload, version = await self._predict(name, version, label, body, deadline)
            else:
                if api == "GetModelStatus" and name not in self.manager.models:
                    raise not_found(f"Could not find any versions of model {name}")
                model = self.manager.model(name)
                if api == "GetModelStatus":
                    payload = {"model_version_status": model.status(version, label)}
                else:
                    payload, version = self._metadata(model, version, label)
                payload = json_bytes(payload)
        except ServingError as error:
            # Only configured names become labels: a client must not grow the metrics
            # without bound by asking for ever new model names.
            if name not in self.manager.models:
                name = ""
            version = None
            self.metrics.request(name, version, api, error.code, time.monotonic() - start)
            return _error(error)
        self.metrics.request(name, version, api, "OK", time.monotonic() - start)
        return _response(payload, 200)

    async def health(self, request):
        """Ready when every configured model has a version serving."""
        waiting = [name for name, m in self.manager.models.items() if not m.available()]
        if waiting:
            return _response(json_bytes({"error": f"No version of {', '.join(waiting)} is "
                                                   f"available yet"}), 503)
        return _response(json_bytes({"status": "ready"}), 200)

    async def prometheus(self, request):
        from starlette.responses import Response

        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

    async def _no_route(self, request, exc):
        return _error(not_found(f"Not found: {request.method} {request.url.path}; the REST API "
                                f"is under /v1/models"))

    # --- steps --------------------------------------------------------------------------------
    def _route(self, method: str, path: str):
        match = _PATH.fullmatch(path)
        if match is None:
            raise invalid(f"Malformed request: {method} {path}")
        name, verb, label = match["name"], match["verb"], match["label"]
        if name is None:
            raise invalid("Missing model name in request.")
        version = None
        if match["version"] is not None:
            version = int(match["version"])
            if version > _INT64_MAX:
                raise invalid(f"Failed to convert version: {match['version']} to numeric.")
        if method == "POST" and verb in (":classify", ":regress"):
            kind = verb[1:]
            raise invalid(f"Expected {kind} signature method_name to be tensorflow/serving/"
                          f"{kind}. Was: {PREDICT_METHOD} (a .keras model has only the "
                          f"predict signature; use :predict)")
        if method == "POST" and verb == ":predict":
            return "predict", name, version, label
        if method == "GET" and verb is None:
            return "GetModelStatus", name, version, label
        if method == "GET" and verb == "/metadata":
            return "GetModelMetadata", name, version, label
        raise invalid(f"Malformed request: {method} {path}")

    async def _read_body(self, request, deadline) -> bytes:
        limit = self.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(int(declared), limit)
        chunks, size = [], 0

        async def read():
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(size, limit)
                chunks.append(chunk)

        try:
            await asyncio.wait_for(read(), _remaining(deadline))
        except (asyncio.TimeoutError, TimeoutError):
            raise ServingError("REQUEST_TIMEOUT", f"The request body did not arrive within "
                               f"{self.timeout * 1000:.0f} ms (--rest_api_timeout_in_ms)"
                               ) from None
        return b"".join(chunks)

    async def _predict(self, name, version, label, body: bytes, deadline):
        servable = self.manager.model(name).acquire(version, label)
        pending: Future | None = None
        try:
            if servable.scheduler is None:
                # One hop to a thread for the whole request: each hop costs a thread switch.
                pending = self._executor.submit(_answer, servable, body)
                return await self._wait(pending, deadline), servable.version
            pending = self._executor.submit(_decode, servable, body)
            arrays, request_format = await self._wait(pending, deadline)
            pending = servable.scheduler.submit(arrays)
            try:
                outputs = await self._wait(pending, deadline)
            except (ValueError, TypeError) as error:  # inputs the signature let through
                raise invalid(f"{type(error).__name__}: {error}") from None
            pending = self._executor.submit(
                lambda: json_bytes(servable.signature.encode(outputs, request_format)))
            return await self._wait(pending, deadline), servable.version
        finally:
            # The version stays held while work on it runs, even when the client was
            # answered already (a deadline passed), so it is never unloaded under that work.
            if pending is None or pending.done():
                servable.release()
            else:
                pending.add_done_callback(lambda _: servable.release())

    async def _wait(self, future: Future, deadline):
        try:
            # shield: a deadline must not cancel the work (its batch holds other requests).
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)),
                                          _remaining(deadline))
        except (asyncio.TimeoutError, TimeoutError):
            raise ServingError("DEADLINE_EXCEEDED", f"The request took longer than "
                               f"{self.timeout * 1000:.0f} ms (--rest_api_timeout_in_ms)"
                               ) from None

    def _metadata(self, model, version, label):
        servable = model.acquire(version, label)
        try:
            return ({"model_spec": {"name": model.config.name, "signature_name": "",
                                    "version": str(servable.version)},
                     "metadata": servable.signature.metadata()}, servable.version)
        finally:
            servable.release()

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def require_serve_extra() -> None:
    """Raise ModuleNotFoundError with the pip command when Starlette or Uvicorn is missing
    (``neuroflow.cli`` reports it in one line)."""
    import importlib.util

    for package in ("starlette", "uvicorn"):
        if importlib.util.find_spec(package) is None:
            raise ModuleNotFoundError(f"No module named {package!r}: the server needs the serve "
                                      f"extra; pip install 'neuroflow[serve]'", name=package)


def _remaining(deadline):
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _too_large(size: int, limit: int) -> ServingError:
    return ServingError("PAYLOAD_TOO_LARGE", f"The request body has {size} bytes or more, over "
                        f"the limit of {limit} bytes (--rest_api_max_body_bytes); send fewer "
                        f"samples per request")


def _decode(servable: Servable, body: bytes):
    if not body.strip():
        raise invalid("JSON Parse error: The document is empty")
    try:
        # Python's parser accepts NaN, Infinity and -Infinity, as TensorFlow Serving's does.
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise invalid(f"JSON Parse error: {error.msg} at offset {error.pos}") from None
    except UnicodeDecodeError:
        raise invalid("JSON Parse error: the body is not UTF-8 text") from None
    except RecursionError:
        raise invalid("JSON Parse error: the document is nested too deeply") from None
    return servable.signature.decode(document)


def _answer(servable: Servable, body: bytes) -> bytes:
    """An unbatched request from body to answer, on one thread."""
    arrays, request_format = _decode(servable, body)
    try:
        outputs = servable.predict_arrays(arrays)
    except (ValueError, TypeError) as error:  # inputs the signature let through
        raise invalid(f"{type(error).__name__}: {error}") from None
    return json_bytes(servable.signature.encode(outputs, request_format))


def json_bytes(payload) -> bytes:
    """Compact JSON; NaN and infinities as the literals TensorFlow Serving writes."""
    return json.dumps(payload, separators=(",", ":")).encode()


def _response(body: bytes, status: int):
    from starlette.responses import Response

    return Response(body, status_code=status, media_type="application/json")


def _error(error: ServingError):
    return _response(json_bytes({"error": error.message}), error.http_status)
