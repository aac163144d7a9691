"""TensorFlow Serving's text-protobuf configuration files."""

from __future__ import annotations

import pytest

from neuroflow.serving import text_proto
from neuroflow.serving.text_proto import TextFormatError

MODEL_CONFIG = """
# two models, as in TensorFlow Serving's documentation
model_config_list {
  config {
    name: 'first'
    base_path: "/models/first"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config: {
    name: "second", base_path: "/models/second";
    model_version_policy: < latest < num_versions: 3 > >
  }
  config { name: "third" base_path: "/models/third" model_version_policy { all {} } }
}
"""


def test_model_config_list():
    first, second, third = text_proto.model_config_list(MODEL_CONFIG)
    assert (first.name, first.base_path) == ("first", "/models/first")
    assert first.version_policy == ("specific", (1, 2))
    assert first.version_labels == {"stable": 1, "canary": 2}
    assert second.version_policy == ("latest", 3)
    assert third.version_policy == ("all",)


@pytest.mark.parametrize("text,message", [
    ('model_config_list { config { name: "a" base_path: "/a" unknown_field: 1 } }',
     "'unknown_field', which this server does not support"),
    ('model_config_list { config { name: "a" } }', "needs a name and a base_path"),
    ('model_config_list { config { name: "a" base_path: "/a" model_platform: "pytorch" } }',
     "platform 'tensorflow'"),
    ('model_config_list { config { name: "a" base_path: "/a" } config { name: "a" '
     'base_path: "/b" } }', "configured twice"),
    ("model_config_list { }", "holds no config"),
    ('model_config_list { config { name: "a" base_path: "/a" '
     'model_version_policy { latest { num_versions: 0 } } } }', "at least 1"),
    ('model_config_list { config { name: "a" base_path: "/a" '
     'model_version_policy { latest {} all {} } } }', "choose one"),
    ('model_config_list { config { name: "a" base_path: "/a" ', "missing '}'"),
    ('model_config_list { config { name: 3 base_path: "/a" } }', "expects str"),
    ("model_config_list { config { name: @ } }", "unexpected character"),
    ('custom_model_config { }', "'custom_model_config'"),
    ('model_config_list { config { : "a" } }', "expected a field name"),
    ("model_config_list { config { name", "has no value"),
    ('model_config_list { config { name: "a" base_path: "/a" '
     "model_version_policy { specific { versions: [1, 2 } } } }", "unclosed list"),
    ("model_config_list { config { name: { } } }", "expects str"),
    ("model_config_list { config { name: } } }", "expected a value"),
    ('model_config_list { config { name: "a" name: "b" base_path: "/a" } }', "2 times"),
    ("model_config_list { config: 3 }", "expects a message"),
    ('model_config_list { config { name: "a" base_path: "/a" version_labels { key: "x" } } }',
     "needs a key and a value"),
    ('model_config_list { config { name: "a" base_path: "/a" '
     "model_version_policy { specific { } } } }", "needs versions"),
])
def test_model_config_errors(text, message):
    with pytest.raises(TextFormatError, match=None) as info:
        text_proto.model_config_list(text, "models.config")
    assert message in str(info.value)
    assert str(info.value).startswith("models.config")


def test_batching_parameters():
    params = text_proto.batching_parameters("""
        max_batch_size { value: 32 }
        batch_timeout_micros { value: 5000 }
        num_batch_threads { value: 2 }
        max_enqueued_batches { value: 100 }
        allowed_batch_sizes: 8
        allowed_batch_sizes: 32
    """)
    assert (params.max_batch_size, params.batch_timeout_micros, params.num_batch_threads,
            params.max_enqueued_batches, params.allowed_batch_sizes) == (32, 5000, 2, 100, (8, 32))
    defaults = text_proto.batching_parameters("")
    assert (defaults.max_batch_size, defaults.batch_timeout_micros,
            defaults.max_enqueued_batches) == (1000, 0, 10)


@pytest.mark.parametrize("text,message", [
    ("max_batch_size { value: 0 }", "at least 1"),
    ("max_batch_size: 32", "expects a message"),
    ("enable_large_batch_splitting { value: true }", "does not support"),
    ("max_batch_size { value: 16 } allowed_batch_sizes: 8", "end with max_batch_size"),
    ("pad_variable_length_inputs: true", "not supported"),
    ("batch_timeout_micros { value: -1 }", "at least 0"),
    ("allowed_batch_sizes: -4", "positive numbers"),
])
def test_batching_parameter_errors(text, message):
    with pytest.raises(TextFormatError) as info:
        text_proto.batching_parameters(text)
    assert message in str(info.value)


def test_monitoring_config():
    assert text_proto.prometheus_path(
        'prometheus_config { enable: true, path: "/metrics" }') == "/metrics"
    assert text_proto.prometheus_path("prometheus_config { enable: false }") is None
    assert text_proto.prometheus_path("prometheus_config { enable: true }") == \
        "/monitoring/prometheus/metrics"
