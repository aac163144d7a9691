"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand so the
server needs no client library. Names follow TensorFlow Serving's
(``:tensorflow:serving:request_count`` ...), with a ``model_version`` label added."""

from __future__ import annotations

import threading
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; spread from 1 ms to 10 s, the range of predict latencies worth telling apart.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _label_text(pairs) -> str:
    parts = []
    for key, value in pairs:
        text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{key}="{text}"')
    return "{" + ",".join(parts) + "}" if parts else ""


class _Histogram:
    __slots__ = ("buckets", "counts", "total", "count")

    def __init__(self, buckets):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break
        self.total += value
        self.count += 1


class Metrics:
    """Counters, histograms and gauges keyed by label values; safe to update from threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests: dict = defaultdict(int)
        self._latency: dict = {}
        self._batch_sizes: dict = {}
        self._gauges: dict = {}  # name -> callable returning [(labels, value)]

    def request(self, model: str, version, api: str, status: str, seconds: float) -> None:
        key = (("model_name", model), ("model_version", "" if version is None else str(version)),
               ("API", api), ("status", status))
        with self._lock:
            self._requests[key] += 1
            if status == "OK":
                hist = self._latency.get(key[:3])
                if hist is None:
                    hist = self._latency[key[:3]] = _Histogram(LATENCY_BUCKETS)
                hist.observe(seconds)

    def batch(self, model: str, version, size: int) -> None:
        key = (("model_name", model), ("model_version", str(version)))
        with self._lock:
            hist = self._batch_sizes.get(key)
            if hist is None:
                hist = self._batch_sizes[key] = _Histogram(BATCH_BUCKETS)
            hist.observe(size)

    def gauge(self, name: str, help_text: str, read) -> None:
        """Register a gauge read when metrics are scraped: ``read() -> [(labels, value)]``."""
        self._gauges[name] = (help_text, read)

    def exposition(self) -> str:
        """Every metric, in Prometheus's text format."""
        lines = []
        with self._lock:
            name = ":tensorflow:serving:request_count"
            lines += [f"# HELP {name} Requests, by model, version, API and status code.",
                      f"# TYPE {name} counter"]
            lines += [f"{name}{_label_text(k)} {v}" for k, v in sorted(self._requests.items())]
            _histogram(lines, ":tensorflow:serving:request_latency",
                       "Latency of successful requests in seconds.", self._latency)
            _histogram(lines, ":tensorflow:serving:batching_session:processed_batch_size",
                       "Rows in each batch run by the model.", self._batch_sizes)
        for name, (help_text, read) in sorted(self._gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines += [f"{name}{_label_text(labels)} {value}" for labels, value in read()]
        return "\n".join(lines) + "\n"


def _histogram(lines: list, name: str, help_text: str, series: dict) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for labels, hist in sorted(series.items()):
        cumulative = 0
        for bound, count in zip(hist.buckets, hist.counts):
            cumulative += count
            lines.append(f"{name}_bucket{_label_text((*labels, ('le', bound)))} {cumulative}")
        lines.append(f"{name}_bucket{_label_text((*labels, ('le', '+Inf')))} {hist.count}")
        lines.append(f"{name}_sum{_label_text(labels)} {hist.total}")
        lines.append(f"{name}_count{_label_text(labels)} {hist.count}")
