"""The summary ops: ``tf.summary.scalar``, ``histogram``, ``image``, ``text``, ``audio``,
``write`` and ``graph``.

Each writes what TensorFlow's op of the same name writes (TensorBoard's summary format,
version 2): a tensor and the plugin that shows it, at a step. Each returns a bool tensor:
True when a summary was written, False when no default writer is set or
``record_if`` says not to record. Values are computed only when they are recorded.

Inside a ``tf.function`` a summary becomes a node (``ops/callbacks.run_callback``) that
writes the values of each call when the compiled function runs, as TensorFlow's summary
ops do. The default writer, the tag (with its ``summary_scope`` names) and the
``record_if`` condition are those in force when the function is traced; the step is
taken from a tensor or variable (``optimizer.iterations``) on each call.
"""

from __future__ import annotations

import contextlib
import re
import time

import numpy as np

from neuroflow.errors import InvalidArgumentError, UnimplementedError
from neuroflow.ops.callbacks import run_callback
from neuroflow.ops.registry import recording as op_recording
from neuroflow.summary import encoding as encoders
from neuroflow.summary import protos
from neuroflow.summary.writer import STATE, recording, step_value
from neuroflow.tensor import Tensor, convert_to_tensor

DEFAULT_BUCKET_COUNT = 30  # histogram buckets, TensorBoard's default

_NO_STEP = ("No step set. Please specify one either through the `step` argument or through "
            "tf.summary.experimental.set_step()")
_INVALID_SCOPE_CHARACTERS = re.compile(r"[^-_/.A-Za-z0-9]")


def bool_tensor(value: bool) -> Tensor:
    """What a summary op returns: a scalar bool tensor, as in TensorFlow."""
    return Tensor(np.array(value))


def _in_trace() -> bool:
    """Whether a ``tf.function`` is being traced (the summary then becomes a graph node)."""
    return op_recording.tracer is not None


def _traced(write, data, step) -> Tensor:
    """The graph node of a summary: ``write(data, step)`` (the eager summary, with concrete
    values) runs each time the compiled function does. Without a default writer, or with
    ``record_if`` off, nothing is recorded, as eagerly."""
    if step is not None and not isinstance(step, Tensor) and \
            not hasattr(step, "_read_for_op"):
        step_value(step)
    writer = STATE.writer
    if writer is None or not recording():
        return bool_tensor(False)
    step = STATE.step if step is None else step
    if step is None:
        raise ValueError(_NO_STEP)
    step = step._read_for_op() if hasattr(step, "_read_for_op") else convert_to_tensor(step)
    data = data._read_for_op() if hasattr(data, "_read_for_op") else convert_to_tensor(data)
    return run_callback(data, step, callback=_WriteWith(writer, write))


class _WriteWith:
    """Run an eager summary with a given writer as the default (from compiled code)."""

    def __init__(self, writer, write):
        self.writer, self.write = writer, write

    def __call__(self, data: np.ndarray, step: np.ndarray) -> bool:
        with self.writer.as_default():
            return bool(self.write(Tensor(data), int(step)))


def _array(data) -> np.ndarray:
    """A value (tensor, Variable, NumPy or Python) as a host array."""
    return np.asarray(data.numpy() if hasattr(data, "numpy") else data)


def _metadata(plugin: str, description=None, content=b""):
    """The summary's metadata, made when it is recorded (so a summary with no writer set
    needs no protocol buffers)."""

    def make():
        pb = protos.load()
        return pb.summary_pb2.SummaryMetadata(
            plugin_data=pb.summary_pb2.SummaryMetadata.PluginData(
                plugin_name=plugin, content=content() if callable(content) else content),
            summary_description=description or "")

    return make


def tag_of(name, default_name: str) -> str:
    """The summary's tag: its name under the enclosing ``summary_scope`` names."""
    return "/".join([*STATE.scopes, name or default_name])


@contextlib.contextmanager
def summary_scope(name, default_name="summary", values=None):
    """Yield ``(tag, scope)`` for a custom summary: the tag is ``name`` (or
    ``default_name``) under the enclosing summary scopes, kept as given; the scope name
    drops the characters a scope name cannot hold.

    >>> import neuroflow as tf
    >>> with tf.summary.experimental.summary_scope("outer"):
    ...     with tf.summary.experimental.summary_scope("loss (train)") as (tag, scope):
    ...         print(tag, scope)
    outer/loss (train) outer/losstrain/
    """
    name = name or default_name
    tag = tag_of(name, default_name)
    scope_name = _INVALID_SCOPE_CHARACTERS.sub("", name) or default_name
    STATE.scopes.append(scope_name)
    try:
        yield tag, "/".join(STATE.scopes) + "/"
    finally:
        STATE.scopes.pop()


def write(tag, tensor, step=None, metadata=None, name=None) -> Tensor:
    """Write ``tensor`` (or the value of the callable ``tensor``, called only when recording)
    under ``tag`` at ``step`` (default: ``tf.summary.experimental.get_step()``).

    ``metadata`` is a ``SummaryMetadata`` protocol buffer or its serialized bytes. Raises
    ValueError if a summary would be recorded but no step is set.
    """
    if _in_trace():
        if callable(tensor):
            tensor = tensor()
        return _traced(lambda d, s: record(tag, d, s, metadata), tensor, step)
    return record(tag, tensor, step, metadata)


def record(tag: str, tensor, step, metadata) -> Tensor:
    """Write one summary to the default writer, in TensorFlow's order of checks: the step's
    form, a writer, the recording condition, then a step to write at. ``tensor`` and
    ``metadata`` may be callables, called only when the summary is recorded."""
    if step is not None:
        step_value(step)  # a malformed step is an error even when nothing is recorded
    if STATE.writer is None:
        return bool_tensor(False)
    if step is None:
        step = STATE.step
    if not recording():
        return bool_tensor(False)
    if step is None:
        raise ValueError(_NO_STEP)
    pb = protos.load()
    array = _array(tensor() if callable(tensor) else tensor)
    value = pb.summary_pb2.Summary.Value(tag=tag, tensor=protos.tensor_proto(array))
    if callable(metadata):
        metadata = metadata()
    if metadata is not None:
        if isinstance(metadata, bytes):
            value.metadata.ParseFromString(metadata)
        else:
            value.metadata.ParseFromString(metadata.SerializeToString())
    STATE.writer.write_event(pb.event_pb2.Event(
        wall_time=time.time(), step=step_value(step), summary=pb.summary_pb2.Summary(
            value=[value])))
    return bool_tensor(True)


def scalar(name, data, step=None, description=None) -> Tensor:
    """Write a number, as float32, for the Scalars dashboard.

    >>> import neuroflow as tf, tempfile
    >>> writer = tf.summary.create_file_writer(tempfile.mkdtemp())
    >>> with writer.as_default(step=1):
    ...     written = tf.summary.scalar("loss", 0.25)
    >>> bool(written)
    True
    >>> bool(tf.summary.scalar("loss", 0.25, step=2))  # no default writer here
    False
    """
    if _in_trace():
        tag = tag_of(name, "scalar_summary")
        return _traced(lambda d, s: scalar(tag, d, s, description), data, step)
    array = _array(data)
    if array.shape != ():
        raise ValueError(f"Expected scalar shape, saw shape: {array.shape}.")
    value = _real(array, "float").astype(np.float32)
    return record(tag_of(name, "scalar_summary"), value, step,
                  _metadata("scalars", description))


def _real(array: np.ndarray, target: str) -> np.ndarray:
    """``array`` as numbers that cast to ``target``, as TensorFlow's Cast accepts them."""
    if array.dtype.kind == "c":
        return array.real
    if array.dtype.kind not in "biuf":
        raise UnimplementedError(f"Cast {_type_name(array)} to {target} is not supported",
                                 "Cast")
    return array


def _type_name(array: np.ndarray) -> str:
    return "string" if array.dtype.kind in "OSU" else array.dtype.name


def histogram(name, data, step=None, buckets=None, description=None) -> Tensor:
    """Write the distribution of ``data``'s elements in ``buckets`` buckets (default 30),
    for the Histograms and Distributions dashboards.

    The buckets are TensorBoard's: equal widths from the minimum to the maximum, each
    holding values from its left edge up to its right edge (the last one including it).
    """
    if _in_trace():
        tag = tag_of(name, "histogram_summary")
        return _traced(lambda d, s: histogram(tag, d, s, buckets, description), data, step)
    return record(tag_of(name, "histogram_summary"), lambda: histogram_buckets(data, buckets),
                  step, _metadata("histograms", description))


def histogram_buckets(data, buckets=None) -> np.ndarray:
    """The ``[buckets, 3]`` float64 array of ``[left edge, right edge, count]`` rows.

    No data gives all zeros; a single distinct value gives every edge equal to it and all
    the count in the last bucket (TensorBoard's ``summary_v2`` rules).

    >>> histogram_buckets([1.0, 2.0, 2.0, 5.0], buckets=2)
    array([[1., 3., 3.],
           [3., 5., 1.]])
    """
    count = _bucket_count(buckets)
    values = _real(_array(data), "double").astype(np.float64).reshape(-1)
    if count == 0 or values.size == 0:
        return np.zeros((count, 3))
    low, high = values.min(), values.max()
    if high == low:
        counts = np.zeros(count)
        counts[-1] = values.size
        return np.stack([np.full(count, high), np.full(count, high), counts], axis=1)
    width = (high - low) / count
    with np.errstate(invalid="ignore"):  # NaN or infinite data: such values are not counted
        index = np.minimum(np.floor((values - low) / width).astype(np.int64), count - 1)
    counts = np.bincount(index[index >= 0], minlength=count).astype(np.float64)
    edges = np.linspace(low, high, count + 1)
    edges[-1] = high  # exactly the maximum, whatever the rounding
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def _bucket_count(buckets) -> int:
    if buckets is None:
        return DEFAULT_BUCKET_COUNT
    array = _array(buckets)
    if array.dtype.kind not in "iu" or array.shape != ():
        raise TypeError(f"tensor must be of type tf.int32; got tf.{_type_name(array)}"
                        + (f" of shape {array.shape}" if array.shape != () else "")
                        + ": buckets is a whole number, e.g. buckets=30.")
    return max(0, int(array))  # a negative count is treated as zero, as in TensorBoard


def image(name, data, step=None, max_outputs=3, description=None) -> Tensor:
    """Write up to ``max_outputs`` images of ``data`` ([k, h, w, c], c in 1..4) as PNGs, for
    the Images dashboard. uint8 pixels are kept; floats are read as [0, 1] (clipped)."""
    if _in_trace():
        tag = tag_of(name, "image_summary")
        return _traced(lambda d, s: image(tag, d, s, max_outputs, description), data, step)

    def images():
        pixels = _array(data)
        if pixels.ndim != 4:
            raise ValueError(f"image data must have rank 4 ([k, h, w, c]). Received rank "
                             f"{pixels.ndim}, shape {pixels.shape}")
        count = _non_negative(max_outputs, "max_outputs")
        pixels = encoders.to_uint8(pixels)
        encoded = [encoders.png(picture) for picture in pixels[:count]]
        _, height, width, _ = pixels.shape
        return np.array([str(width).encode(), str(height).encode(), *encoded], dtype=object)

    return record(tag_of(name, "image_summary"), images, step, _metadata("images", description))


def _non_negative(value, name: str) -> int:
    count = int(_array(value))
    if count < 0:
        raise InvalidArgumentError(f"{name} must be 0 or more, received {count}")
    return count


def text(name, data, step=None, description=None) -> Tensor:
    """Write a string, or an array of strings (shown as a table), for the Text dashboard.
    Markdown is rendered."""
    if _in_trace():
        tag = tag_of(name, "text_summary")
        return _traced(lambda d, s: text(tag, d, s, description), data, step)
    return record(tag_of(name, "text_summary"), _strings(data), step,
                  _metadata("text", description))


def _strings(data) -> np.ndarray:
    """``data`` as an array of strings (bytes stay bytes; NumPy would cut trailing NULs)."""
    if isinstance(data, str | bytes | list | tuple):
        array = np.array(data, dtype=object)
    else:
        array = _array(data)
    if array.dtype.kind == "O":
        if all(isinstance(v, str | bytes) for v in array.reshape(-1).tolist()):
            return array
        raise TypeError(f"tensor must be of type tf.string; got {data!r}, which holds "
                        f"values other than strings")
    if array.dtype.kind in "SU":
        return array
    dtype = convert_to_tensor(data).dtype.name  # as TensorFlow would convert it
    raise TypeError(f"tensor must be of type tf.string; got tf.{dtype}")


def audio(name, data, sample_rate, step=None, max_outputs=3, encoding=None,
          description=None) -> Tensor:
    """Write up to ``max_outputs`` clips of float32 ``data`` ([k, frames, channels], values in
    [-1, 1]) as 16-bit WAV files at ``sample_rate`` Hz, for the Audio dashboard."""
    if _in_trace():
        tag = tag_of(name, "audio_summary")
        return _traced(lambda d, s: audio(tag, d, sample_rate, s, max_outputs, encoding,
                                          description), data, step)
    if encoding is None:
        encoding = "wav"
    if encoding != "wav":
        raise ValueError(f"Unknown encoding: {encoding!r}")
    rate = _array(sample_rate)
    if rate.dtype.kind not in "iu" or rate.shape != ():
        raise TypeError(f"Cannot convert {sample_rate!r} to a sample rate of dtype int32: it "
                        f"is a whole number of Hz, e.g. sample_rate=16000.")

    def content():
        plugin_data = protos.load().audio_plugin_pb2.AudioPluginData
        return plugin_data(version=0, encoding=plugin_data.WAV).SerializeToString()

    def clips():
        sound = _array(data)
        if sound.ndim != 3:
            raise ValueError(f"audio data must have rank 3 ([k, frames, channels]). Received "
                             f"rank {sound.ndim}, shape {sound.shape}")
        if sound.dtype != np.float32:
            raise InvalidArgumentError(f"audio data must be float32 samples in [-1, 1], "
                                       f"received {sound.dtype.name}; cast it first",
                                       "EncodeWav")
        if not 0 < int(rate) < 2**32:
            raise InvalidArgumentError(f"sample_rate must be in (0, 2^32), got: {int(rate)}",
                                       "EncodeWav")
        count = _non_negative(max_outputs, "max_outputs")
        wavs = [encoders.wav(clip, int(rate)) for clip in sound[:count]]
        table = np.empty((len(wavs), 2), dtype=object)
        table[:, 0] = wavs
        table[:, 1] = b""  # each clip's label, empty as TensorFlow writes it
        return table

    return record(tag_of(name, "audio_summary"), clips, step,
                  _metadata("audio", description, content))


def write_raw_pb(tensor, step=None, name=None) -> Tensor:
    """Write serialized ``Summary`` protocol buffers (a bytes value or an array of them)."""
    if _in_trace():
        return _traced(lambda d, s: write_raw_pb(d, s), tensor, step)
    if step is not None:
        step_value(step)
    if STATE.writer is None or not recording():
        return bool_tensor(False)
    step = STATE.step if step is None else step
    if step is None:
        raise ValueError(_NO_STEP)
    pb = protos.load()
    for data in np.asarray(tensor, dtype=object).reshape(-1).tolist():
        STATE.writer.write_event(pb.event_pb2.Event(
            wall_time=time.time(), step=step_value(step),
            summary=pb.summary_pb2.Summary.FromString(data)))
    return bool_tensor(True)


def should_record_summaries() -> Tensor:
    """Whether summaries would be recorded now: a default writer is set, and ``record_if``'s
    condition (if any) holds."""
    return bool_tensor(recording())
