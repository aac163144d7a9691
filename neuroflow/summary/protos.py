"""TensorBoard's protocol buffers and record framing, imported when a writer is created.

They come from the ``tensorboard`` package (the optional ``neuroflow[tensorboard]`` extra),
the schema TensorBoard itself reads, so the files follow it exactly; only ``protobuf`` is
loaded to write them, never TensorFlow. Importing them costs about 30 ms, paid by the first
``create_file_writer``, not by ``import neuroflow``.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

INSTALL_HINT = ("Writing TensorBoard logs needs the tensorboard package (for its protocol "
                "buffers): pip install 'neuroflow[tensorboard]'")

# numpy dtype name -> TensorFlow's DataType enum name
_DATA_TYPES = {
    "float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE",
    "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64",
    "uint8": "DT_UINT8", "uint16": "DT_UINT16", "uint32": "DT_UINT32", "uint64": "DT_UINT64",
    "bool": "DT_BOOL", "complex64": "DT_COMPLEX64", "complex128": "DT_COMPLEX128",
}


@functools.cache
def load() -> SimpleNamespace:
    """The protobuf modules and ``RecordWriter``; a clear ImportError when the extra is missing."""
    try:
        from tensorboard.compat.proto import (
            attr_value_pb2,
            config_pb2,
            event_pb2,
            graph_pb2,
            node_def_pb2,
            summary_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
        )
        from tensorboard.plugins.audio import plugin_data_pb2 as audio_plugin_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError as error:
        raise ModuleNotFoundError(f"{INSTALL_HINT} ({error})", name="tensorboard") from error
    return SimpleNamespace(
        attr_value_pb2=attr_value_pb2, config_pb2=config_pb2, event_pb2=event_pb2,
        graph_pb2=graph_pb2, node_def_pb2=node_def_pb2, summary_pb2=summary_pb2,
        tensor_pb2=tensor_pb2, tensor_shape_pb2=tensor_shape_pb2, types_pb2=types_pb2,
        audio_plugin_pb2=audio_plugin_pb2, RecordWriter=RecordWriter)


def data_type(dtype) -> int:
    """TensorFlow's DataType enum value for a NumPy dtype (strings are DT_STRING)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        name = "DT_STRING"
    elif dtype.name in _DATA_TYPES:
        name = _DATA_TYPES[dtype.name]
    else:
        raise TypeError(f"TensorBoard logs have no data type for {dtype.name!r}; expected one "
                        f"of {', '.join(_DATA_TYPES)} or strings. Cast the value first.")
    return load().types_pb2.DataType.Value(name)


def shape_proto(shape):
    """A TensorShapeProto; ``None`` (or an unknown size) is written as -1, as TensorFlow does."""
    dims = [load().tensor_shape_pb2.TensorShapeProto.Dim(size=d if type(d) is int else -1)
            for d in shape]
    return load().tensor_shape_pb2.TensorShapeProto(dim=dims)


def tensor_proto(array: np.ndarray):
    """``array`` as a TensorProto: numbers as little-endian ``tensor_content``, strings as
    ``string_val`` (UTF-8), the encodings TensorFlow itself writes."""
    pb = load()
    array = np.asarray(array)
    proto = pb.tensor_pb2.TensorProto(dtype=data_type(array.dtype),
                                      tensor_shape=shape_proto(array.shape))
    if array.dtype.kind in "OSU":
        proto.string_val.extend(_as_bytes(item) for item in array.reshape(-1).tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<"), copy=False).tobytes()
    return proto


def _as_bytes(item) -> bytes:
    return item if isinstance(item, bytes) else str(item).encode("utf-8")
