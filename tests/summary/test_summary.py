"""``tf.summary``: event files that TensorBoard's own reader loads, with the values written.

Files are read back with TensorBoard's ``EventAccumulator`` and ``event_file_loader``
(which check every record's CRC), the framing once more with an independent CRC32C, and
images and sounds decoded with Pillow and the ``wave`` module. The test marked
``tensorflow`` runs the same calls through TensorFlow's ``tf.summary`` and compares event
by event.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors
from neuroflow.summary import protos

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import (  # noqa: E402
    event_accumulator,
    event_file_loader,
)
from tensorboard.util import tensor_util  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(7)


# --- reading the files back -------------------------------------------------------------------
def _files(logdir) -> list[Path]:
    return sorted(Path(logdir).glob("events.out.tfevents.*"))


def _events(logdir) -> list:
    """Every event of every file in ``logdir``, as written (TensorBoard's raw loader)."""
    return [event for path in _files(logdir)
            for event in event_file_loader.LegacyEventFileLoader(str(path)).Load()]


def _summaries(logdir) -> list[tuple[int, str, object]]:
    """(step, tag, Summary.Value) of every summary in ``logdir``."""
    return [(event.step, value.tag, value) for event in _events(logdir)
            if event.HasField("summary") for value in event.summary.value]


def _accumulator(logdir):
    accumulator = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return accumulator


def _values(logdir, tag) -> list[tuple[int, np.ndarray]]:
    """(step, value) of each summary ``tag`` as EventAccumulator reads it."""
    return [(t.step, tensor_util.make_ndarray(t.tensor_proto))
            for t in _accumulator(logdir).Tensors(tag)]


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bit by bit: an implementation independent of the writer's."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _records(path: Path) -> list[bytes]:
    """The records of a TFRecord file, checking both CRCs of each."""
    data = path.read_bytes()
    records, at = [], 0
    while at < len(data):
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        assert length_crc == _masked(_crc32c(header))
        body = data[at + 12:at + 12 + length]
        (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        assert body_crc == _masked(_crc32c(body))
        records.append(body)
        at += 16 + length
    return records


@pytest.fixture
def writer(tmp_path):
    summary_writer = tf.summary.create_file_writer(str(tmp_path / "logs"))
    yield summary_writer
    summary_writer.close()


@pytest.fixture(autouse=True)
def clean_state():
    """No test leaves a default step or an open trace behind."""
    yield
    tf.summary.experimental.set_step(None)
    tf.summary.trace_off()


# --- scalars, steps and return values ---------------------------------------------------------
def test_scalars_are_read_back_with_their_steps_and_float32_values(writer):
    values = RNG.standard_normal(5)
    with writer.as_default():
        for step, value in enumerate(values):
            assert bool(tf.summary.scalar("loss", value, step=step * 10))
        tf.summary.scalar("count", 7, step=0)  # an int, written as float32 as TF does
        tf.summary.scalar("flag", True, step=0)
        tf.summary.scalar("tensor", tf.constant(2.5, tf.float64), step=0)
        tf.summary.scalar("variable", tf.Variable(1.25), step=0)
    writer.flush()
    read = _values(writer.logdir, "loss")
    assert [step for step, _ in read] == [0, 10, 20, 30, 40]
    assert all(v.dtype == np.float32 and v.shape == () for _, v in read)
    np.testing.assert_array_equal([v for _, v in read], values.astype(np.float32))
    assert [float(v) for tag in ("count", "flag", "tensor", "variable")
            for _, v in _values(writer.logdir, tag)] == [7.0, 1.0, 2.5, 1.25]
    metadata = _accumulator(writer.logdir).SummaryMetadata("loss")
    assert metadata.plugin_data.plugin_name == "scalars"


def test_description_is_kept_in_the_metadata(writer):
    with writer.as_default(step=0):
        tf.summary.scalar("loss", 1.0, description="the **training** loss")
    writer.flush()
    assert _accumulator(writer.logdir).SummaryMetadata("loss").summary_description == \
        "the **training** loss"


def test_no_default_writer_writes_nothing_and_returns_false(tmp_path):
    result = tf.summary.scalar("loss", 1.0, step=0)
    assert isinstance(result, tf.Tensor) and result.dtype == tf.bool and not bool(result)
    assert not bool(tf.summary.should_record_summaries())
    assert not list(tmp_path.iterdir())


def test_missing_step_is_a_value_error(writer):
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.scalar("loss", 1.0)


def test_default_step_comes_from_set_step_or_as_default(writer):
    tf.summary.experimental.set_step(4)
    assert tf.summary.experimental.get_step() == 4
    with writer.as_default():
        tf.summary.scalar("a", 1.0)
        with writer.as_default(step=9):
            assert tf.summary.experimental.get_step() == 9
            tf.summary.scalar("a", 2.0)
        assert tf.summary.experimental.get_step() == 4
        tf.summary.scalar("a", 3.0, step=11)  # an explicit step wins
    assert [step for step, _ in _values(writer.logdir, "a")] == [4, 9, 11]


def test_a_variable_step_is_read_at_each_write(writer):
    step = tf.Variable(np.int64(1))
    with writer.as_default(step=step):
        tf.summary.scalar("a", 1.0)
        step.assign_add(np.int64(5))
        tf.summary.scalar("a", 2.0)
    assert [s for s, _ in _values(writer.logdir, "a")] == [1, 6]


@pytest.mark.parametrize("step,error", [(1.5, TypeError), ("3", TypeError), ([1, 2], ValueError),
                                        (tf.constant(2.0), TypeError)])
def test_a_malformed_step_is_refused_even_without_a_writer(step, error):
    with pytest.raises(error):
        tf.summary.scalar("a", 1.0, step=step)


def test_a_one_element_step_is_accepted(writer):
    with writer.as_default():
        tf.summary.scalar("a", 1.0, step=[3])
        tf.summary.scalar("a", 1.0, step=np.int32(5))
    assert [s for s, _ in _values(writer.logdir, "a")] == [3, 5]


@pytest.mark.parametrize("data,error", [([1.0, 2.0], ValueError), ("x", errors.UnimplementedError)])
def test_scalar_refuses_non_scalars_and_strings(writer, data, error):
    with writer.as_default(step=0), pytest.raises(error):
        tf.summary.scalar("a", data)


def test_scalar_of_a_complex_number_keeps_its_real_part(writer):
    with writer.as_default(step=0):
        tf.summary.scalar("z", np.complex64(1.5 + 2j))
    assert float(_values(writer.logdir, "z")[0][1]) == 1.5


# --- record_if ----------------------------------------------------------------------------------
def test_record_if_with_a_bool_a_tensor_and_a_callable(writer):
    step = {"now": 0}
    with writer.as_default():
        with tf.summary.record_if(False):
            assert not bool(tf.summary.scalar("a", 1.0, step=0))
            assert not bool(tf.summary.should_record_summaries())
            assert not bool(tf.summary.scalar("a", 1.0))  # no step needed when not recording
        with tf.summary.record_if(tf.constant(True)):
            assert bool(tf.summary.should_record_summaries())
        with tf.summary.record_if(lambda: step["now"] % 2 == 0):
            for step["now"] in range(5):
                tf.summary.scalar("a", float(step["now"]), step=step["now"])
        assert bool(tf.summary.should_record_summaries())
    assert [s for s, _ in _values(writer.logdir, "a")] == [0, 2, 4]


def test_the_default_writer_belongs_to_its_thread(writer):
    seen = []
    with writer.as_default(step=0):
        thread = threading.Thread(
            target=lambda: seen.append(bool(tf.summary.scalar("a", 1.0, step=0))))
        thread.start()
        thread.join()
        assert bool(tf.summary.scalar("a", 2.0))
    assert seen == [False]


# --- histograms ---------------------------------------------------------------------------------
def test_histograms_have_tensorboards_thirty_buckets(writer):
    data = RNG.standard_normal((40, 25)).astype(np.float32)
    with writer.as_default(step=3):
        tf.summary.histogram("weights", tf.constant(data))
    [(step, buckets)] = _values(writer.logdir, "weights")
    assert step == 3 and buckets.shape == (30, 3) and buckets.dtype == np.float64
    counts, edges = np.histogram(data.astype(np.float64), bins=30)
    np.testing.assert_allclose(buckets[:, 0], edges[:-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(buckets[:, 1], edges[1:], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(buckets[:, 2], counts)
    assert buckets[-1, 1] == data.max() and buckets[0, 0] == data.min()
    assert _accumulator(writer.logdir).SummaryMetadata("weights").plugin_data.plugin_name == \
        "histograms"


def test_histogram_edge_cases(writer):
    with writer.as_default(step=0):
        tf.summary.histogram("few", [1.0, 2.0, 2.0, 5.0], buckets=3)
        tf.summary.histogram("same", [7.0, 7.0, 7.0], buckets=4)
        tf.summary.histogram("empty", np.zeros(0))
        tf.summary.histogram("none", [1.0, 2.0], buckets=0)
        tf.summary.histogram("negative", [1.0, 2.0], buckets=-2)
        tf.summary.histogram("ints", np.arange(10), buckets=5)
    read = {tag: _values(writer.logdir, tag)[0][1]
            for tag in ("few", "same", "empty", "none", "negative", "ints")}
    np.testing.assert_allclose(read["few"], [[1, 7 / 3, 3], [7 / 3, 11 / 3, 0], [11 / 3, 5, 1]])
    np.testing.assert_array_equal(read["same"], [[7, 7, 0], [7, 7, 0], [7, 7, 0], [7, 7, 3]])
    np.testing.assert_array_equal(read["empty"], np.zeros((30, 3)))
    assert read["none"].shape == (0, 3) and read["negative"].shape == (0, 3)
    np.testing.assert_array_equal(read["ints"][:, 2], [2, 2, 2, 2, 2])


def test_histogram_bucket_count_must_be_an_integer(writer):
    with writer.as_default(step=0):
        with pytest.raises(TypeError, match="tf.int32"):
            tf.summary.histogram("h", [1.0], buckets=2.0)
        with pytest.raises(errors.UnimplementedError, match="string"):
            tf.summary.histogram("h", ["a"])


def test_histogram_of_data_with_nan_counts_the_numbers(writer):
    with writer.as_default(step=0):
        tf.summary.histogram("h", [0.0, 1.0, np.nan], buckets=2)
    assert _values(writer.logdir, "h")[0][1].shape == (2, 3)


# --- images -------------------------------------------------------------------------------------
def _decode_png(data: bytes) -> np.ndarray:
    image_module = pytest.importorskip("PIL.Image")
    return np.asarray(image_module.open(io.BytesIO(data)))


def test_uint8_images_are_png_files_of_the_same_pixels(writer):
    pixels = RNG.integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    with writer.as_default(step=2):
        tf.summary.image("rgb", pixels, max_outputs=2)
    [(step, value)] = _values(writer.logdir, "rgb")
    assert step == 2 and value.shape == (4,)
    assert value[0] == b"7" and value[1] == b"5"  # width, then height
    for index, png in enumerate(value[2:]):
        np.testing.assert_array_equal(_decode_png(png), pixels[index])
    assert _accumulator(writer.logdir).SummaryMetadata("rgb").plugin_data.plugin_name == "images"


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_grey_grey_alpha_and_rgba_images(writer, channels):
    pixels = RNG.integers(0, 256, (1, 4, 6, channels), dtype=np.uint8)
    with writer.as_default(step=0):
        tf.summary.image("i", pixels)
    decoded = _decode_png(_values(writer.logdir, "i")[0][1][2])
    np.testing.assert_array_equal(decoded.reshape(pixels.shape[1:]), pixels[0])


def test_float_images_are_read_as_zero_to_one_and_clipped(writer):
    pixels = np.array([0.0, 0.2, 0.5, 1.0, 1.7, -0.3], np.float32).reshape(1, 2, 3, 1)
    with writer.as_default(step=0):
        tf.summary.image("f", tf.constant(pixels))
    decoded = _decode_png(_values(writer.logdir, "f")[0][1][2])
    # tf.image.convert_image_dtype(saturate=True): x * 255.5, truncated, clipped to [0, 255]
    np.testing.assert_array_equal(decoded.reshape(2, 3), [[0, 51, 127], [255, 255, 0]])


def test_integer_images_keep_their_top_bits(writer):
    pixels = np.array([0, 2**23, 2**31 - 1, -5], np.int32).reshape(1, 2, 2, 1)
    with writer.as_default(step=0):
        tf.summary.image("i", pixels)
        tf.summary.image("small", np.array([0, 100, 127, -1], np.int8).reshape(1, 2, 2, 1))
    np.testing.assert_array_equal(
        _decode_png(_values(writer.logdir, "i")[0][1][2]).reshape(-1), [0, 1, 255, 0])
    np.testing.assert_array_equal(
        _decode_png(_values(writer.logdir, "small")[0][1][2]).reshape(-1), [0, 200, 254, 0])


def test_image_errors(writer):
    with writer.as_default(step=0):
        with pytest.raises(ValueError, match="rank 4"):
            tf.summary.image("i", np.zeros((2, 2, 1)))
        with pytest.raises(errors.InvalidArgumentError, match="channels"):
            tf.summary.image("i", np.zeros((1, 2, 2, 5)))
        with pytest.raises(errors.InvalidArgumentError, match="max_outputs"):
            tf.summary.image("i", np.zeros((1, 2, 2, 1)), max_outputs=-1)
        with pytest.raises(AttributeError, match="floating point or integer"):
            tf.summary.image("i", np.zeros((1, 2, 2, 1), bool))
    # Without a writer nothing is computed, so nothing is checked (as in TensorFlow).
    assert not bool(tf.summary.image("i", np.zeros((2, 2, 1)), step=0))


# --- text and audio -----------------------------------------------------------------------------
def test_text_scalars_and_tables(writer):
    with writer.as_default(step=5):
        tf.summary.text("note", "hello *world* é")
        tf.summary.text("table", [["a", "b"], ["c", "d"]])
        tf.summary.text("raw", b"\xff\x00bytes")
    assert _values(writer.logdir, "note")[0][1] == "hello *world* é".encode()
    np.testing.assert_array_equal(_values(writer.logdir, "table")[0][1],
                                  np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object))
    assert _values(writer.logdir, "raw")[0][1] == b"\xff\x00bytes"
    assert _accumulator(writer.logdir).SummaryMetadata("note").plugin_data.plugin_name == "text"


def test_text_must_be_strings(writer):
    with writer.as_default(step=0), pytest.raises(TypeError, match="tf.string; got tf.int"):
        tf.summary.text("t", 3)
    with writer.as_default(step=0), pytest.raises(TypeError, match="tf.string"):
        tf.summary.text("t", [1, "a"])


def test_audio_is_16_bit_wav(writer):
    clips = np.clip(RNG.standard_normal((3, 50, 2)) * 0.6, -1.2, 1.2).astype(np.float32)
    with writer.as_default(step=6):
        tf.summary.audio("sound", clips, 16000, max_outputs=2)
    [(step, table)] = _values(writer.logdir, "sound")
    assert step == 6 and table.shape == (2, 2) and list(table[:, 1]) == [b"", b""]
    for clip, data in zip(clips, table[:, 0]):
        with wave.open(io.BytesIO(data)) as sound:
            assert (sound.getnchannels(), sound.getsampwidth(), sound.getframerate()) == \
                (2, 2, 16000)
            samples = np.frombuffer(sound.readframes(50), "<i2").reshape(50, 2)
        scaled = clip.astype(np.float64) * 32768
        expected = np.clip(np.trunc(scaled + np.copysign(0.5, scaled)), -32768, 32767)
        np.testing.assert_array_equal(samples, expected)
    metadata = _accumulator(writer.logdir).SummaryMetadata("sound")
    plugin_data = protos.load().audio_plugin_pb2.AudioPluginData.FromString(
        metadata.plugin_data.content)
    assert metadata.plugin_data.plugin_name == "audio"
    assert plugin_data.encoding == plugin_data.WAV


def test_audio_errors(writer):
    clip = np.zeros((1, 4, 1), np.float32)
    with writer.as_default(step=0):
        with pytest.raises(ValueError, match="Unknown encoding"):
            tf.summary.audio("a", clip, 8000, encoding="mp3")
        with pytest.raises(TypeError, match="sample rate"):
            tf.summary.audio("a", clip, 8000.0)
        with pytest.raises(errors.InvalidArgumentError, match="sample_rate"):
            tf.summary.audio("a", clip, 0)
        with pytest.raises(ValueError, match="rank 3"):
            tf.summary.audio("a", np.zeros((4, 1), np.float32), 8000)
        with pytest.raises(errors.InvalidArgumentError, match="float32"):
            tf.summary.audio("a", np.zeros((1, 4, 1)), 8000)


# --- write, write_raw_pb, summary_scope ----------------------------------------------------------
def test_generic_write_with_metadata_and_a_lazy_tensor(writer):
    pb = protos.load()
    metadata = pb.summary_pb2.SummaryMetadata(
        plugin_data=pb.summary_pb2.SummaryMetadata.PluginData(plugin_name="custom"))
    calls = []

    def tensor():
        calls.append(1)
        return np.arange(6, dtype=np.int64).reshape(2, 3)

    assert not bool(tf.summary.write("lazy", tensor, step=0))  # no writer: never called
    assert calls == []
    with writer.as_default(step=1):
        assert bool(tf.summary.write("lazy", tensor, metadata=metadata))
        tf.summary.write("bytes", tf.constant([1.5, 2.5]),
                         metadata=metadata.SerializeToString())
        tf.summary.write("plain", 3)
    assert calls == [1]
    [(_, value)] = _values(writer.logdir, "lazy")
    np.testing.assert_array_equal(value, np.arange(6).reshape(2, 3))
    assert value.dtype == np.int64
    accumulator = _accumulator(writer.logdir)
    assert accumulator.SummaryMetadata("bytes").plugin_data.plugin_name == "custom"
    np.testing.assert_array_equal(_values(writer.logdir, "bytes")[0][1], [1.5, 2.5])


def test_write_raw_pb(writer):
    pb = protos.load()
    raw = pb.summary_pb2.Summary(value=[pb.summary_pb2.Summary.Value(
        tag="raw", tensor=protos.tensor_proto(np.float32(4.5)))]).SerializeToString()
    assert not bool(tf.summary.experimental.write_raw_pb(raw, step=0))
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.experimental.write_raw_pb(raw)
        assert bool(tf.summary.experimental.write_raw_pb([raw, raw], step=2))
    assert [(s, float(v)) for s, v in _values(writer.logdir, "raw")] == [(2, 4.5), (2, 4.5)]


def test_summary_scopes_prefix_tags(writer):
    with writer.as_default(step=0):
        with tf.summary.experimental.summary_scope("train"):
            with tf.summary.experimental.summary_scope("layer 1") as (tag, scope):
                assert (tag, scope) == ("train/layer 1", "train/layer1/")
                tf.summary.scalar("loss", 1.0)
            tf.summary.scalar("", 2.0)  # no name: TensorFlow's default name
    tags = {tag for _, tag, _ in _summaries(writer.logdir)}
    assert tags == {"train/layer1/loss", "train/scalar_summary"}


# --- the writer and its file --------------------------------------------------------------------
def test_event_file_name_first_event_and_framing(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path, filename_suffix=".mine")
    with writer.as_default(step=0):
        tf.summary.scalar("a", 1.0)
    writer.close()
    [path] = _files(tmp_path)
    # TensorFlow's name: events.out.tfevents.<seconds>.<host>.<pid>.<count><suffix>
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{re.escape(socket.gethostname())}"
                        rf"\.{os.getpid()}\.\d+\.mine", path.name), path.name
    records = _records(path)
    pb = protos.load()
    first = pb.event_pb2.Event.FromString(records[0])
    assert first.file_version == "brain.Event:2"
    assert pb.event_pb2.Event.FromString(records[1]).summary.value[0].tag == "a"
    assert _crc32c(b"123456789") == 0xE3069283  # the check value of CRC-32C itself


def test_events_wait_in_a_queue_of_max_queue(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path, max_queue=2, flush_millis=10**9)
    [path] = _files(tmp_path)
    with writer.as_default(step=0):
        for index in range(3):
            tf.summary.scalar("a", float(index))
            time.sleep(0.01)
            assert len(_records(path)) == (1 if index < 2 else 4), index
        tf.summary.scalar("a", 3.0)
        assert len(_records(path)) == 4
    assert len(_records(path)) == 5  # as_default's exit flushes
    writer.close()


def test_flush_millis_bounds_the_time_between_writes(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path, max_queue=100, flush_millis=50)
    [path] = _files(tmp_path)
    writer.set_as_default(step=0)
    try:
        tf.summary.scalar("a", 1.0)  # the first write comes long after creation
        time.sleep(0.1)
        tf.summary.scalar("a", 2.0)
        assert len(_records(path)) == 3
        tf.summary.scalar("a", 3.0)
        assert len(_records(path)) == 3
        tf.summary.flush()
        assert len(_records(path)) == 4
    finally:
        writer.close()
        tf.summary.create_noop_writer().set_as_default()
        from neuroflow.summary.writer import STATE

        STATE.writer = None


def test_close_flush_and_closed_writers(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path, max_queue=100)
    [path] = _files(tmp_path)
    with writer.as_default(step=0):
        tf.summary.scalar("a", 1.0)
        writer.close()
        writer.close()  # again: nothing
        writer.flush()  # closed: nothing
        with pytest.raises(errors.NotFoundError, match="closed"):
            tf.summary.scalar("a", 2.0)
    assert len(_records(path)) == 2
    with pytest.raises(RuntimeError, match="already closed"):
        writer.as_default()
    with pytest.raises(RuntimeError, match="already closed"):
        writer.set_as_default()
    assert "closed" in repr(writer)


def test_flush_of_a_given_writer_or_none(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path, max_queue=100)
    [path] = _files(tmp_path)
    with writer.as_default(step=0):
        tf.summary.scalar("a", 1.0)
        assert len(_records(path)) == 1
        tf.summary.flush(writer)
        assert len(_records(path)) == 2
    tf.summary.flush()  # no default writer: nothing
    with pytest.raises(ValueError, match="Invalid argument to flush"):
        tf.summary.flush("writer")
    writer.close()


def test_create_file_writer_arguments(tmp_path):
    with pytest.raises(ValueError, match="logdir"):
        tf.summary.create_file_writer(None)
    with pytest.raises(TypeError, match="max_queue"):
        tf.summary.create_file_writer(tmp_path, max_queue=1.5)
    with pytest.raises(TypeError, match="flush_millis"):
        tf.summary.create_file_writer(tmp_path, flush_millis=-1)
    with pytest.raises(TypeError, match="filename_suffix"):
        tf.summary.create_file_writer(tmp_path, filename_suffix=3)
    nested = tmp_path / "a" / "b"
    tf.summary.create_file_writer(nested, name="w").close()
    assert len(_files(nested)) == 1


def test_noop_writer_records_nothing(tmp_path):
    noop = tf.summary.create_noop_writer()
    with noop.as_default(step=3):
        assert not bool(tf.summary.scalar("a", 1.0))
        assert tf.summary.experimental.get_step() is None
    noop.set_as_default(step=2)
    noop.init()
    noop.flush()
    noop.close()
    noop.write_event(None)
    assert tf.summary.experimental.get_step() is None


def test_summary_writer_base_class_is_abstract():
    base = tf.summary.SummaryWriter()
    for method in (base.flush, base.close):
        with pytest.raises(NotImplementedError):
            method()
    with pytest.raises(NotImplementedError):
        base.write_event(None)


def _run(code: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, **kwargs)


def test_queued_events_are_written_when_the_program_ends(tmp_path):
    result = _run(f"import neuroflow as tf\n"
                  f"w = tf.summary.create_file_writer({str(tmp_path)!r})\n"
                  f"w.set_as_default(step=1)\n"
                  f"tf.summary.scalar('a', 2.0)\n")
    assert result.returncode == 0, result.stderr
    assert [(s, float(v)) for s, v in _values(tmp_path, "a")] == [(1, 2.0)]


def test_a_killed_writer_leaves_every_earlier_record_readable(tmp_path):
    # A writer that flushes every event is killed mid-stream: the file may end in a cut
    # record, but every record before it reads back whole, in order.
    code = (f"import neuroflow as tf, sys\n"
            f"w = tf.summary.create_file_writer({str(tmp_path)!r}, max_queue=0)\n"
            f"w.set_as_default()\n"
            f"print('ready', flush=True)\n"
            f"step = 0\n"
            f"while True:\n"
            f"    tf.summary.scalar('a', float(step), step=step)\n"
            f"    tf.summary.text('t', 'x' * 3000, step=step)\n"
            f"    step += 1\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env,
                             cwd=ROOT, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        [path] = _files(tmp_path)
        deadline = time.monotonic() + 60
        while path.stat().st_size < 200_000 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    read = _values(tmp_path, "a")
    assert len(read) > 10
    assert [s for s, _ in read] == list(range(len(read)))
    assert [float(v) for _, v in read] == [float(s) for s, _ in read]


def test_a_torn_last_record_does_not_hide_the_ones_before(tmp_path):
    writer = tf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        for step in range(5):
            tf.summary.scalar("a", float(step), step=step)
    writer.close()
    [path] = _files(tmp_path)
    whole = path.read_bytes()
    last = _records(path)[-1]
    path.write_bytes(whole + whole[-(len(last) + 16):][:len(last) // 2])  # half a record more
    assert [s for s, _ in _values(tmp_path, "a")] == [0, 1, 2, 3, 4]


# --- laziness and the missing extra --------------------------------------------------------------
def test_import_neuroflow_loads_no_protocol_buffers():
    result = _run("import sys, neuroflow, neuroflow.summary\n"
                  "print(sorted(m for m in sys.modules if m.startswith(('google.protobuf', "
                  "'tensorboard'))))\n"
                  "import neuroflow as tf\n"
                  "print(tf.summary is sys.modules['neuroflow.summary'])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def test_a_missing_tensorboard_package_is_a_clear_import_error(tmp_path, monkeypatch):
    protos.load.cache_clear()
    monkeypatch.setitem(sys.modules, "tensorboard.compat.proto", None)
    try:
        with pytest.raises(ModuleNotFoundError, match=r"pip install 'neuroflow\[tensorboard\]'"):
            tf.summary.create_file_writer(tmp_path)
        # Without a writer nothing needs the package.
        assert not bool(tf.summary.scalar("a", 1.0, step=0))
    finally:
        monkeypatch.undo()
        protos.load.cache_clear()


def test_data_type_of_an_unsupported_dtype():
    with pytest.raises(TypeError, match="no data type"):
        protos.data_type(np.dtype("datetime64[s]"))


# --- graphs -------------------------------------------------------------------------------------
def _affine():
    weights = tf.Variable(np.ones((3, 2), np.float32), name="kernel")

    @tf.function
    def affine(x):
        y = tf.matmul(x, weights) + 1.0
        weights.assign_add(tf.zeros_like(weights))
        return tf.nn.relu(y), tf.reduce_sum(y)

    return affine


def test_trace_export_writes_the_graphs_traced_during_the_trace(writer):
    before = _affine()
    before(tf.ones((4, 3)))  # traced before trace_on: not part of the trace
    affine = _affine()
    tf.summary.trace_on(graph=True)
    affine(tf.ones((4, 3)))
    with writer.as_default():
        assert tf.summary.trace_export("affine_trace", step=2) is None
    [(step, tag, value)] = _summaries(writer.logdir)
    assert (step, tag) == (2, "affine_trace")
    assert value.metadata.plugin_data.plugin_name == "graph_run_metadata_graph"
    assert value.metadata.plugin_data.content == b"1"
    run_metadata = protos.load().config_pb2.RunMetadata.FromString(
        tensor_util.make_ndarray(value.tensor).item())
    [graphs] = run_metadata.function_graphs
    nodes = {node.name: node for node in graphs.pre_optimization_graph.node}
    concrete = affine.get_concrete_function(tf.ones((4, 3)))
    ops = [node.op for node in concrete.graph.nodes]
    assert sorted(n.op for n in nodes.values() if n.op not in (
        "_Arg", "Const", "VarHandleOp", "Identity")) == sorted(ops)
    arg = nodes["args_0"]
    assert arg.op == "_Arg" and [d.size for d in arg.attr["_output_shapes"].list.shape[0].dim] \
        == [4, 3]
    assert arg.attr["T"].type == protos.data_type(np.float32)
    matmul = nodes["matmul"]
    assert list(matmul.input) == ["args_0", "read_variable"]
    assert nodes["read_variable"].input == ["kernel"]
    assert nodes["kernel"].op == "VarHandleOp"
    assert [d.size for d in matmul.attr["_output_shapes"].list.shape[0].dim] == [4, 2]
    assert nodes["assign_add"].input[0] == "kernel"
    identities = [n for n in nodes.values() if n.op == "Identity"]
    assert len(identities) == 2
    # A second export needs a new trace_on.
    with writer.as_default(), pytest.raises(ValueError, match="Must enable trace"):
        tf.summary.trace_export("again", step=3)


def test_trace_on_twice_warns_and_trace_off_drops_the_trace(writer):
    tf.summary.trace_on()
    with pytest.warns(UserWarning, match="already enabled"):
        tf.summary.trace_on()
    tf.summary.trace_off()
    with pytest.raises(ValueError, match="Must enable trace"):
        tf.summary.trace_export("x", step=0)


def test_trace_without_graphs_and_trace_export_without_a_writer(writer):
    tf.summary.trace_on(graph=False)
    with writer.as_default(step=1):
        tf.summary.trace_export("plain")
    [(_, _, value)] = _summaries(writer.logdir)
    assert value.metadata.plugin_data.plugin_name == "graph_run_metadata"
    tf.summary.trace_on()
    tf.summary.trace_export("nowhere", step=0)  # no writer: nothing written, trace stopped
    with pytest.raises(ValueError, match="Must enable trace"):
        tf.summary.trace_export("nowhere", step=0)


def test_trace_on_refuses_the_profiler():
    with pytest.raises(ValueError, match="profiler"):
        tf.summary.trace_on(profiler=True, profiler_outdir="/tmp")


def test_trace_calls_inside_a_function_warn():
    @tf.function
    def f(x):
        tf.summary.trace_on()
        tf.summary.trace_export("x", step=0)
        return x + 1

    with pytest.warns(UserWarning, match="inside a tf.function"):
        f(tf.ones(2))


def test_graph_writes_a_graph_def_event(writer):
    @tf.function(input_signature=[tf.TensorSpec((None, 3))])
    def double(x):
        return x * 2.0

    concrete = double.get_concrete_function(tf.ones((2, 3)))
    assert not bool(tf.summary.graph(concrete.graph))  # no writer
    with writer.as_default():
        assert bool(tf.summary.graph(concrete.graph))
        graph_def = protos.load().graph_pb2.GraphDef(node=[{"name": "n", "op": "NoOp"}])
        assert bool(tf.summary.graph(graph_def))
        with pytest.raises(ValueError, match="graph_data"):
            tf.summary.graph(3)
    graphs = [event for event in _events(writer.logdir) if event.HasField("graph_def")]
    assert [event.step for event in graphs] == [0, 0]
    first = protos.load().graph_pb2.GraphDef.FromString(graphs[0].graph_def)
    arg = next(node for node in first.node if node.op == "_Arg")
    assert [d.size for d in arg.attr["_output_shapes"].list.shape[0].dim] == [-1, 3]
    assert _accumulator(writer.logdir).Graph().node[-1].name == "n"


def test_graph_inside_a_function_is_an_error(writer):
    @tf.function
    def f(x):
        tf.summary.graph(None)
        return x

    with writer.as_default(), pytest.raises(ValueError, match="graph context"):
        f(tf.ones(2))


def test_graph_def_attributes_and_large_constants():
    from neuroflow.summary.graphs import graph_def

    big = np.arange(2000, dtype=np.float32)

    @tf.function
    def f(x):
        return tf.reduce_sum(x + big, axis=0, keepdims=True), tf.cast(x, tf.int64)

    graph = graph_def(f.get_concrete_function(tf.ones(2000)).graph)
    nodes = {node.op: node for node in graph.node}
    constant = nodes["Const"].attr["value"].tensor
    assert [d.size for d in constant.tensor_shape.dim] == [2000]
    assert not constant.tensor_content  # too large to copy into the log
    assert nodes["reduce_sum"].attr["keepdims"].b is True
    assert list(nodes["reduce_sum"].attr["axes"].list.i) == [0]
    assert nodes["cast"].attr["dtype"].type == protos.data_type(np.int64)


# --- summaries inside tf.function ------------------------------------------------------------
def test_summaries_in_a_compiled_function_write_each_call(writer, tmp_path):
    step = tf.Variable(0, dtype=tf.int64)

    @tf.function
    def train(x):
        loss = tf.reduce_mean(x * 2.0)
        with tf.summary.experimental.summary_scope("outer"):
            written = tf.summary.scalar("loss", loss, step=step)
        tf.summary.histogram("x", x, step=step)
        step.assign_add(1)
        return written

    with writer.as_default():
        assert all(bool(train(tf.constant([float(i), 1.0]))) for i in range(3))
    writer.flush()
    logs = tmp_path / "logs"
    assert _values(logs, "outer/loss") == [(i, np.float32(i + 1.0)) for i in range(3)]
    assert [s for s, _ in _values(logs, "x")] == [0, 1, 2]
    assert train.experimental_get_tracing_count() == 1


def test_a_compiled_summary_follows_record_if_and_needs_a_step(writer, tmp_path):
    @tf.function
    def quiet(x):
        with tf.summary.record_if(False):
            return tf.summary.scalar("q", x)

    @tf.function
    def stepless(x):
        return tf.summary.scalar("s", x)

    @tf.function
    def g(x):
        # No writer while tracing: nothing is recorded, as in TensorFlow.
        return tf.summary.histogram("x", x, step=0)

    assert not bool(g(tf.ones(2)))
    with writer.as_default(step=3):
        assert not bool(quiet(tf.constant(1.0)))
    with writer.as_default(), pytest.raises(ValueError, match="No step set"):
        stepless(tf.constant(1.0))


@pytest.mark.parametrize("call", [
    lambda x: tf.summary.write("w", x, step=0),
    lambda x: tf.summary.scalar("s", x[0], step=0),
    lambda x: tf.summary.image("i", x, step=0),
    lambda x: tf.summary.text("t", "a", step=0),
    lambda x: tf.summary.audio("a", x, 8000, step=0),
    lambda x: tf.summary.experimental.write_raw_pb(b"", step=0),
])
def test_every_summary_returns_false_in_a_trace_without_a_writer(call):
    results = []

    @tf.function
    def f(x):
        results.append(bool(call(x)))
        return x

    f(tf.ones(2))
    assert results == [False]


@pytest.mark.parametrize("call", [
    lambda x: tf.summary.write("w", x, step=1),
    lambda x: tf.summary.write("w", lambda: x * 2.0, step=1),
    lambda x: tf.summary.image("i", tf.reshape(x, [1, 1, 2, 1]), step=1),
    lambda x: tf.summary.text("t", "a", step=1),
    lambda x: tf.summary.audio("a", tf.reshape(x, [1, 2, 1]) * 0.5, 8000, step=1),
    lambda x: tf.summary.experimental.write_raw_pb(b"", step=1),
])
def test_every_summary_writes_from_a_compiled_function(call, writer, tmp_path):
    f = tf.function(call)
    with writer.as_default():
        assert bool(f(tf.ones(2)))
    writer.flush()
    assert _events(tmp_path / "logs")


def test_a_malformed_step_is_refused_when_traced(writer):
    with writer.as_default(), pytest.raises(TypeError, match="step"):
        tf.function(lambda x: tf.summary.scalar("s", x, step=1.5))(tf.constant(1.0))


# --- the oracle: TensorFlow's tf.summary -------------------------------------------------------
def _same_calls(summary, logdir):
    """The same summary calls, through TensorFlow's tf.summary or neuroflow's."""
    rng = np.random.default_rng(11)
    writer = summary.create_file_writer(str(logdir))
    with writer.as_default(step=1):
        summary.scalar("loss", 0.3, step=3, description="the loss")
        summary.scalar("count", 7)
        summary.histogram("normal", rng.standard_normal((50, 20)).astype(np.float32))
        summary.histogram("few", [1.0, 2.0, 2.0, 5.0], buckets=3)
        summary.histogram("same", [7.0, 7.0])
        summary.histogram("empty", np.zeros(0, np.float32))
        summary.histogram("ints", np.arange(10, dtype=np.int32), buckets=4)
        summary.image("u8", rng.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8), max_outputs=2)
        summary.image("float", rng.uniform(-0.2, 1.2, (2, 3, 3, 1)).astype(np.float32))
        summary.image("wide", rng.integers(-2**31, 2**31 - 1, (1, 2, 2, 4), dtype=np.int32))
        summary.text("note", "hello *world*")
        summary.text("table", [["a", "b"], ["c", "d"]])
        summary.audio("sound", rng.uniform(-1.1, 1.1, (2, 30, 2)).astype(np.float32), 8000,
                      max_outputs=1)
        with summary.record_if(False):
            summary.scalar("skipped", 1.0)
    writer.close()


@pytest.mark.tensorflow
def test_the_events_match_tensorflows_tf_summary(tmp_path):
    tensorflow = pytest.importorskip("tensorflow")
    _same_calls(tensorflow.summary, tmp_path / "tf")
    _same_calls(tf.summary, tmp_path / "nf")
    expected, received = _summaries(tmp_path / "tf"), _summaries(tmp_path / "nf")
    assert [(s, t) for s, t, _ in received] == [(s, t) for s, t, _ in expected]
    for (_, tag, ours), (_, _, theirs) in zip(received, expected):
        assert ours.metadata.SerializeToString() == theirs.metadata.SerializeToString(), tag
        assert ours.tensor.dtype == theirs.tensor.dtype, tag
        assert ours.tensor.tensor_shape == theirs.tensor.tensor_shape, tag
        mine, want = tensor_util.make_ndarray(ours.tensor), tensor_util.make_ndarray(theirs.tensor)
        plugin = ours.metadata.plugin_data.plugin_name
        if plugin == "histograms":
            np.testing.assert_allclose(mine, want, rtol=1e-12, atol=1e-12, err_msg=tag)
        elif plugin == "images":
            assert list(mine[:2]) == list(want[:2]), tag
            for a, b in zip(mine[2:], want[2:]):
                np.testing.assert_array_equal(_decode_png(a), _decode_png(b), err_msg=tag)
        else:  # scalars, text and the WAV files: the very same bytes
            np.testing.assert_array_equal(mine, want, err_msg=tag)
