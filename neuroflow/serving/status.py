"""Errors as TensorFlow Serving reports them: a canonical code, a message, an HTTP status."""

from __future__ import annotations

# TensorFlow Serving's mapping from canonical error codes to HTTP statuses
# (model_servers/http_server.cc), for the codes this server produces.
HTTP_STATUS = {
    "OK": 200,
    "INVALID_ARGUMENT": 400,
    "NOT_FOUND": 404,
    "FAILED_PRECONDITION": 412,
    "RESOURCE_EXHAUSTED": 429,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    # Not canonical codes: answers the HTTP layer gives before a request reaches a model.
    "REQUEST_TIMEOUT": 408,
    "PAYLOAD_TOO_LARGE": 413,
}


class ServingError(Exception):
    """A request the server answers with ``{"error": message}`` and the code's HTTP status."""

    def __init__(self, code: str, message: str):
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown error code {code!r}; expected one of {sorted(HTTP_STATUS)}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]


def invalid(message: str) -> ServingError:
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingError:
    return ServingError("NOT_FOUND", message)
