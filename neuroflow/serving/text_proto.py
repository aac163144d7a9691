"""TensorFlow Serving's configuration files, read from protocol buffer text format.

Three files are read, each with the fields this server supports; any other field is an
error naming it (a field silently ignored would leave the server doing something else
than its configuration says):

* ``--model_config_file``: ``model_config_list { config { name base_path model_platform
  model_version_policy version_labels } }``.
* ``--batching_parameters_file``: ``max_batch_size { value: 32 }`` and the other
  ``BatchingParameters`` below.
* ``--monitoring_config_file``: ``prometheus_config { enable path }``.

The parser is a small hand-written one (no protobuf dependency): messages, scalars
(numbers, quoted strings, identifiers such as ``true``), ``#`` comments, and ``:`` before
a message, ``<>`` brackets and ``,``/``;`` separators, which text format allows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(r"""
    \s+ | \#[^\n]* |                                  # skipped
    (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*') |
    (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)[fF]?) |
    (?P<word>[A-Za-z_][\w.]*) |
    (?P<punct>[{}<>:,;\[\]])
""", re.VERBOSE)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


class TextFormatError(ValueError):
    """A configuration file that is not valid text format, or holds an unsupported field."""


def _tokens(text: str, source: str):
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            line = text.count("\n", 0, pos) + 1
            raise TextFormatError(f"{source}:{line}: unexpected character {text[pos]!r}")
        pos = match.end()
        kind = match.lastgroup
        if kind is not None:
            yield kind, match.group(kind), text.count("\n", 0, match.start()) + 1


def parse(text: str, source: str = "<text>") -> dict:
    """A text-format message as ``{field: [value, ...]}``; sub-messages are such dicts too.

    >>> parse('a: 1 b { c: "x" } b { c: "y" }')
    {'a': [1], 'b': [{'c': ['x']}, {'c': ['y']}]}
    """
    tokens = list(_tokens(text, source))
    message, pos = _message(tokens, 0, None, source)
    return message


def _message(tokens, pos, closing, source):
    message: dict = {}
    while pos < len(tokens):
        kind, text, line = tokens[pos]
        if kind == "punct" and text in (",", ";"):
            pos += 1
            continue
        if closing is not None and kind == "punct" and text == closing:
            return message, pos + 1
        if kind != "word":
            raise TextFormatError(f"{source}:{line}: expected a field name, found {text!r}")
        name, pos = text, pos + 1
        if pos < len(tokens) and tokens[pos][1] == ":":
            pos += 1
        if pos >= len(tokens):
            raise TextFormatError(f"{source}:{line}: field {name!r} has no value")
        kind, text, line = tokens[pos]
        if kind == "punct" and text in "{<":
            value, pos = _message(tokens, pos + 1, "}" if text == "{" else ">", source)
            message.setdefault(name, []).append(value)
        elif kind == "punct" and text == "[":  # a repeated scalar written as a list
            pos += 1
            while pos < len(tokens) and tokens[pos][1] != "]":
                if tokens[pos][0] == "punct" and tokens[pos][1] != ",":
                    break
                if tokens[pos][1] != ",":
                    message.setdefault(name, []).append(_scalar(tokens[pos], source))
                pos += 1
            if pos >= len(tokens) or tokens[pos][1] != "]":
                raise TextFormatError(f"{source}:{line}: unclosed list for {name!r}; "
                                      f"write [1, 2]")
            pos += 1
        else:
            message.setdefault(name, []).append(_scalar(tokens[pos], source))
            pos += 1
    if closing is not None:
        raise TextFormatError(f"{source}: missing {closing!r} at the end of the file")
    return message, pos


def _scalar(token, source):
    kind, text, line = token
    if kind == "string":
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
    if kind == "number":
        text = text.rstrip("fF")
        return float(text) if any(c in text for c in ".eE") else int(text)
    if kind == "word":
        return {"true": True, "True": True, "false": False, "False": False}.get(text, text)
    raise TextFormatError(f"{source}:{line}: expected a value, found {text!r}")


# --- reading the fields ---------------------------------------------------------------------

def _check_fields(message: dict, allowed, where: str, source: str) -> None:
    unknown = sorted(set(message) - set(allowed))
    if unknown:
        raise TextFormatError(f"{source}: {where} has field {unknown[0]!r}, which this server "
                              f"does not support; supported fields: {', '.join(allowed)}")


def _single(message: dict, name: str, kind, default, where: str, source: str):
    values = message.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise TextFormatError(f"{source}: {where} sets {name!r} {len(values)} times; set it once")
    value = values[0]
    if kind is dict and not isinstance(value, dict) or kind is not dict and (
            isinstance(value, dict) or isinstance(value, bool) and kind is not bool
            or kind is int and not isinstance(value, int) or kind is str and
            not isinstance(value, str)):
        raise TextFormatError(f"{source}: {where} field {name!r} expects "
                              f"{'a message' if kind is dict else kind.__name__}, "
                              f"received {value!r}")
    return value


@dataclass
class ModelConfig:
    """One ``config`` entry: a model's name, where its versions are, which ones to serve."""

    name: str
    base_path: str
    # ("latest", n), ("all",) or ("specific", (v1, v2, ...)), as model_version_policy.
    version_policy: tuple = ("latest", 1)
    version_labels: dict = field(default_factory=dict)


def model_config_list(text: str, source: str = "model config") -> list[ModelConfig]:
    """The models of a ``ModelServerConfig`` holding a ``model_config_list``."""
    top = parse(text, source)
    _check_fields(top, ["model_config_list"], "the file", source)
    lists = top.get("model_config_list") or [{}]
    the_list = _single({"model_config_list": lists}, "model_config_list", dict, {}, "the file",
                       source)
    _check_fields(the_list, ["config"], "model_config_list", source)
    configs = [_model_config(entry, source) for entry in the_list.get("config", [])]
    if not configs:
        raise TextFormatError(f"{source}: model_config_list holds no config; add "
                              f'config {{ name: "my_model" base_path: "/models/my_model" }}')
    names = [c.name for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TextFormatError(f"{source}: model name {duplicates[0]!r} is configured twice")
    return configs


def _model_config(entry, source) -> ModelConfig:
    if not isinstance(entry, dict):
        raise TextFormatError(f"{source}: config expects a message, received {entry!r}")
    fields = ["name", "base_path", "model_platform", "model_version_policy", "version_labels"]
    _check_fields(entry, fields, "config", source)
    name = _single(entry, "name", str, "", "config", source)
    where = f"config {name!r}"
    base_path = _single(entry, "base_path", str, "", where, source)
    if not name or not base_path:
        raise TextFormatError(f"{source}: every config needs a name and a base_path; "
                              f"{where} has base_path {base_path!r}")
    platform = _single(entry, "model_platform", str, "tensorflow", where, source)
    if platform != "tensorflow":
        raise TextFormatError(f"{source}: {where} has model_platform {platform!r}; this server "
                              f"serves .keras models under the platform 'tensorflow' only")
    policy = _version_policy(_single(entry, "model_version_policy", dict, {}, where, source),
                             where, source)
    labels = {}
    for item in entry.get("version_labels", []):
        _check_fields(item, ["key", "value"], f"{where} version_labels", source)
        key = _single(item, "key", str, None, f"{where} version_labels", source)
        value = _single(item, "value", int, None, f"{where} version_labels", source)
        if key is None or value is None:
            raise TextFormatError(f"{source}: {where} version_labels needs a key and a value, "
                                  f'as version_labels {{ key: "stable" value: 1 }}')
        labels[key] = value
    return ModelConfig(name, base_path, policy, labels)


def _version_policy(policy: dict, where: str, source: str) -> tuple:
    if not policy:
        return ("latest", 1)
    _check_fields(policy, ["latest", "all", "specific"], f"{where} model_version_policy", source)
    if len(policy) > 1:
        raise TextFormatError(f"{source}: {where} model_version_policy sets {sorted(policy)}; "
                              f"choose one of latest, all, specific")
    kind = next(iter(policy))
    body = _single(policy, kind, dict, {}, f"{where} model_version_policy", source)
    if kind == "all":
        _check_fields(body, [], f"{where} all", source)
        return ("all",)
    if kind == "latest":
        _check_fields(body, ["num_versions"], f"{where} latest", source)
        count = _single(body, "num_versions", int, 1, f"{where} latest", source)
        if count < 1:
            raise TextFormatError(f"{source}: {where} latest num_versions must be at least 1, "
                                  f"received {count}")
        return ("latest", count)
    _check_fields(body, ["versions"], f"{where} specific", source)
    versions = body.get("versions", [])
    if not versions or not all(type(v) is int and v >= 0 for v in versions):
        raise TextFormatError(f"{source}: {where} specific needs versions (numbers), "
                              f"as specific {{ versions: 1 versions: 2 }}; received {versions}")
    return ("specific", tuple(sorted(set(versions))))


@dataclass
class BatchingParameters:
    """TensorFlow Serving's ``BatchingParameters`` this server supports, with its defaults
    (those of its ``BasicBatchScheduler``)."""

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    num_batch_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_enqueued_batches: int = 10
    allowed_batch_sizes: tuple = ()

    def __post_init__(self):
        for name in ("max_batch_size", "num_batch_threads", "max_enqueued_batches"):
            if getattr(self, name) < 1:
                raise TextFormatError(f"batching parameter {name} must be at least 1, "
                                      f"received {getattr(self, name)}")
        if self.batch_timeout_micros < 0:
            raise TextFormatError(f"batching parameter batch_timeout_micros must be at least 0, "
                                  f"received {self.batch_timeout_micros}")
        sizes = self.allowed_batch_sizes
        if sizes and (list(sizes) != sorted(set(sizes)) or sizes[-1] != self.max_batch_size):
            raise TextFormatError(f"allowed_batch_sizes must increase and end with "
                                  f"max_batch_size ({self.max_batch_size}); received "
                                  f"{list(sizes)}")


_WRAPPED = ("max_batch_size", "batch_timeout_micros", "num_batch_threads",
            "max_enqueued_batches")


def batching_parameters(text: str, source: str = "batching parameters") -> BatchingParameters:
    """``BatchingParameters`` from text format (``max_batch_size { value: 32 }`` ...)."""
    top = parse(text, source)
    _check_fields(top, [*_WRAPPED, "allowed_batch_sizes", "pad_variable_length_inputs",
                        "thread_pool_name"], "the file", source)
    values = {}
    for name in _WRAPPED:
        wrapper = _single(top, name, dict, None, "the file", source)
        if wrapper is not None:
            _check_fields(wrapper, ["value"], name, source)
            values[name] = _single(wrapper, "value", int, None, name, source)
    sizes = top.get("allowed_batch_sizes", [])
    if not all(type(s) is int and s > 0 for s in sizes):
        raise TextFormatError(f"{source}: allowed_batch_sizes must be positive numbers, "
                              f"received {sizes}")
    if _single(top, "pad_variable_length_inputs", bool, False, "the file", source):
        raise TextFormatError(f"{source}: pad_variable_length_inputs is not supported: requests "
                              f"are batched only with requests of the same sample shape")
    return BatchingParameters(**{k: v for k, v in values.items() if v is not None},
                              allowed_batch_sizes=tuple(sizes))


def prometheus_path(text: str, source: str = "monitoring config") -> str | None:
    """The metrics path of a ``MonitoringConfig``, or None when Prometheus is not enabled."""
    top = parse(text, source)
    _check_fields(top, ["prometheus_config"], "the file", source)
    config = _single(top, "prometheus_config", dict, {}, "the file", source)
    _check_fields(config, ["enable", "path"], "prometheus_config", source)
    if not _single(config, "enable", bool, False, "prometheus_config", source):
        return None
    return _single(config, "path", str, "/monitoring/prometheus/metrics", "prometheus_config",
                   source)


def read(path: str) -> str:
    """A configuration file's text (OSError, reported by the command in one line)."""
    return Path(path).read_text()
