"""A small read-only FlatBuffers reader, enough for TensorFlow Lite model files.

The format's facts: a buffer starts with a little-endian ``uint32`` offset to the root
table (then, for ``.tflite`` files, the 4-byte file identifier ``TFL3``). A table starts
with a signed ``int32``: the table's position minus its vtable's position. The vtable
holds ``uint16`` values: its own size in bytes, the table's inline size, then one offset
per field (slot), measured from the table's start; 0 or a slot past the vtable's end means
"absent, use the schema's default". Scalars sit inline; tables, vectors and strings are
reached through a ``uint32`` offset measured from where that offset is stored. A vector
or string starts with its ``uint32`` length; a string's bytes follow (UTF-8, then a NUL).
A union is two fields: a ``uint8`` type tag and an offset to the table it names.

Schemas are read by slot number (a field's position in the ``.fbs`` declaration), so this
module knows nothing about TensorFlow Lite; ``interpreter.py`` names the slots it reads.
"""

from __future__ import annotations

import struct

import numpy as np

# struct codes of the scalar types the TensorFlow Lite schema uses.
_SCALAR = {"bool": "?", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H",
           "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f",
           "float64": "d"}


class FlatbufferError(ValueError):
    """The bytes are not a well-formed FlatBuffer (an offset points outside the buffer)."""


def _unpack(code: str, buf: bytes, pos: int):
    try:
        return struct.unpack_from("<" + code, buf, pos)[0]
    except struct.error as error:
        raise FlatbufferError(f"offset {pos} is outside the {len(buf)}-byte buffer") from error


class Table:
    """One table of a FlatBuffer: ``buf`` is the whole file, ``pos`` the table's start."""

    __slots__ = ("buf", "pos", "_vtable", "_vtable_size")

    def __init__(self, buf: bytes, pos: int):
        self.buf = buf
        self.pos = pos
        self._vtable = pos - _unpack("i", buf, pos)
        self._vtable_size = _unpack("H", buf, self._vtable)

    @classmethod
    def root(cls, buf: bytes) -> Table:
        """The root table of ``buf`` (its first four bytes give the root's offset)."""
        if len(buf) < 8:
            raise FlatbufferError(f"a FlatBuffer has at least 8 bytes, received {len(buf)}")
        return cls(buf, _unpack("I", buf, 0))

    def _field(self, slot: int) -> int:
        """The absolute position of field ``slot``, or 0 when the field is absent."""
        entry = 4 + 2 * slot
        if entry >= self._vtable_size:
            return 0
        relative = _unpack("H", self.buf, self._vtable + entry)
        return self.pos + relative if relative else 0

    def _deref(self, where: int) -> int:
        return where + _unpack("I", self.buf, where)

    def has(self, slot: int) -> bool:
        return self._field(slot) != 0

    def scalar(self, slot: int, kind: str, default=0):
        """An inline scalar field (``kind`` as in the schema: ``int32``, ``float32``...)."""
        where = self._field(slot)
        return _unpack(_SCALAR[kind], self.buf, where) if where else default

    def table(self, slot: int) -> Table | None:
        """A sub-table field (also a union's value: the caller reads the tag's slot)."""
        where = self._field(slot)
        return Table(self.buf, self._deref(where)) if where else None

    def string(self, slot: int) -> str | None:
        where = self._field(slot)
        return _read_string(self.buf, self._deref(where)) if where else None

    def _vector(self, slot: int) -> tuple[int, int]:
        """(position of the first element, length) of a vector field; (0, 0) if absent."""
        where = self._field(slot)
        if not where:
            return 0, 0
        start = self._deref(where)
        return start + 4, _unpack("I", self.buf, start)

    def vector_length(self, slot: int) -> int:
        return self._vector(slot)[1]

    def scalars(self, slot: int, kind: str) -> np.ndarray:
        """A vector of scalars, as a NumPy array (a copy: the file's buffer stays read-only)."""
        start, length = self._vector(slot)
        dtype = np.dtype("<" + _SCALAR[kind]) if kind != "bool" else np.dtype(bool)
        if start + length * dtype.itemsize > len(self.buf):
            raise FlatbufferError(f"a vector of {length} {kind} at {start} runs past the end "
                                  f"of the {len(self.buf)}-byte buffer")
        return np.frombuffer(self.buf, dtype, length, start).astype(dtype.newbyteorder("="))

    def bytes(self, slot: int) -> memoryview:
        """A ``[ubyte]`` vector without a copy (tensor data can be large)."""
        start, length = self._vector(slot)
        if start + length > len(self.buf):
            raise FlatbufferError(f"a {length}-byte vector at {start} runs past the end of "
                                  f"the {len(self.buf)}-byte buffer")
        return memoryview(self.buf)[start:start + length]

    def tables(self, slot: int) -> list[Table]:
        """A vector of tables (each element is an offset to a table)."""
        start, length = self._vector(slot)
        return [Table(self.buf, self._deref(start + 4 * i)) for i in range(length)]

    def strings(self, slot: int) -> list[str]:
        start, length = self._vector(slot)
        return [_read_string(self.buf, self._deref(start + 4 * i)) for i in range(length)]


def _read_string(buf: bytes, pos: int) -> str:
    length = _unpack("I", buf, pos)
    return bytes(buf[pos + 4:pos + 4 + length]).decode("utf-8", errors="replace")


def file_identifier(buf: bytes) -> bytes:
    """The 4-byte identifier after the root offset (``b"TFL3"`` for TensorFlow Lite)."""
    return bytes(buf[4:8])
