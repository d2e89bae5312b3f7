"""Swap named tensors inside an ONNX model's bytes, in place, without the ``onnx`` package.

The encoder's tuned top layers (coach/scoring/data/encoder_top.npz) replace tensors of the
pinned all-MiniLM-L6-v2 ONNX file. onnxruntime's own way (``SessionOptions.add_initializer``)
is not enough: with graph optimisations on, it folds each int8 matrix times its scale into a
constant from the file's original values before the override applies, so the matrices stayed
as published (measured: embeddings unchanged to cosine 0.999), and with optimisations off a
300-word answer runs much slower. Each replacement here has the original's name, type and
size, so the bytes can be overwritten where they lie and the model then loads and optimises
as usual.

An ONNX file is a protobuf ModelProto: field 7 is the graph (GraphProto), whose repeated
field 5 holds the initializers (TensorProto: 2 data_type, 8 name, 9 raw_data, little-endian).
The field readers and writers here are also what coach.scoring.onnxfast builds its rewritten
graph with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

#: TensorProto.DataType codes of the types the tuned layers use.
DTYPES: dict[int, np.dtype[Any]] = {1: np.dtype("<f4"), 3: np.dtype("i1")}


class PatchError(ValueError):
    """The tensors do not fit the model (a name missing, a type or size that differs)."""


def _varint(buf: bytes | bytearray, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise PatchError("not an ONNX model (it ends inside a number)")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value start, value end) of each field in buf[start:end]."""
    i = start
    while i < end:
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            j = _varint(buf, i)[1]
        elif wire == 1:
            j = i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            j = i + n
        elif wire == 5:
            j = i + 4
        else:
            raise PatchError(f"not an ONNX model (protobuf wire type {wire} at byte {i})")
        if j > end:
            raise PatchError(f"not an ONNX model (a field runs past byte {end})")
        yield num, wire, i, j
        i = j


def patch(model: bytes, tensors: dict[str, np.ndarray]) -> bytes:
    """``model`` with each named initializer's data replaced by ``tensors[name]``."""
    buf = bytearray(model)
    done: set[str] = set()
    start, end = _graph(buf)
    for gnum, gwire, gs, ge in _fields(buf, start, end):
        if (gnum, gwire) != (5, 2):  # GraphProto.initializer
            continue
        name, dtype, raw, _ = _tensor(buf, gs, ge)
        if name not in tensors:
            continue
        arr = tensors[name]
        want = DTYPES.get(dtype)
        if raw is None or want is None or arr.dtype.kind != want.kind:
            raise PatchError(f"tensor {name} does not match the model's type")
        data = np.ascontiguousarray(arr, dtype=want).tobytes()
        if len(data) != raw[1] - raw[0]:
            raise PatchError(
                f"tensor {name} has {len(data)} bytes, the model's has {raw[1] - raw[0]}"
            )
        buf[raw[0] : raw[1]] = data
        done.add(name)
    missing = sorted(set(tensors) - done)
    if missing:
        raise PatchError(f"the model has no tensor {missing[0]} (and {len(missing) - 1} more)")
    return bytes(buf)


def _tensor(
    buf: bytes | bytearray, start: int, end: int
) -> tuple[str, int, tuple[int, int] | None, list[int]]:
    """A TensorProto's name, data type, raw data span (None if it has none) and dims."""
    name, dtype, raw, dims = "", 0, None, []
    for num, wire, ts, te in _fields(buf, start, end):
        if num == 1 and wire == 0:
            dims.append(_varint(buf, ts)[0])
        elif num == 1 and wire == 2:  # packed dims
            i = ts
            while i < te:
                d, i = _varint(buf, i)
                dims.append(d)
        elif num == 2 and wire == 0:
            dtype = _varint(buf, ts)[0]
        elif num == 8 and wire == 2:
            name = bytes(buf[ts:te]).decode("utf-8", "replace")
        elif num == 9 and wire == 2:
            raw = (ts, te)
    return name, dtype, raw, dims


def _graph_field(buf: bytes | bytearray) -> tuple[int, int, int] | None:
    """Where the ModelProto's graph field starts (its key) and its value's span, or None."""
    key = 0  # fields are contiguous: each one's key starts where the last one ended
    for num, wire, start, end in _fields(buf, 0, len(buf)):
        if (num, wire) == (7, 2):  # ModelProto.graph
            return key, start, end
        key = end
    return None


def _graph(buf: bytes | bytearray) -> tuple[int, int]:
    found = _graph_field(buf)
    if found is None:
        raise PatchError("not an ONNX model (no graph)")
    return found[1], found[2]


def _node(buf: bytes | bytearray, start: int, end: int) -> tuple[str, list[str], list[str]]:
    """A NodeProto's op_type, inputs and outputs (fields 4, 1 and 2)."""
    op, inputs, outputs = "", [], []
    for num, wire, s, e in _fields(buf, start, end):
        if wire != 2:
            continue
        if num == 1:
            inputs.append(bytes(buf[s:e]).decode("utf-8", "replace"))
        elif num == 2:
            outputs.append(bytes(buf[s:e]).decode("utf-8", "replace"))
        elif num == 4:
            op = bytes(buf[s:e]).decode("utf-8", "replace")
    return op, inputs, outputs


def read(model: bytes) -> tuple[dict[str, np.ndarray], list[tuple[str, list[str]]]]:
    """The model's float32 and int8 initializers by name, and its nodes in order as
    (op_type, inputs): what training needs to rebuild the network in torch."""
    buf = bytearray(model)
    start, end = _graph(buf)
    tensors: dict[str, np.ndarray] = {}
    nodes: list[tuple[str, list[str]]] = []
    for gnum, gwire, gs, ge in _fields(buf, start, end):
        if (gnum, gwire) == (5, 2):  # GraphProto.initializer: TensorProto
            name, dtype, raw, dims = _tensor(buf, gs, ge)
            if dtype in DTYPES and raw is not None and raw[1] > raw[0]:
                data = bytes(buf[raw[0] : raw[1]])
                tensors[name] = np.frombuffer(data, dtype=DTYPES[dtype]).reshape(dims).copy()
        elif (gnum, gwire) == (1, 2):  # GraphProto.node: NodeProto
            op, inputs, _ = _node(buf, gs, ge)
            nodes.append((op, inputs))
    return tensors, nodes


# -- writing fields (for onnxfast's rewritten nodes and tensors) --------------------------------


def _key(num: int, wire: int) -> bytes:
    return _uvarint((num << 3) | wire)


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld(num: int, data: bytes) -> bytes:
    """A length-delimited field."""
    return _key(num, 2) + _uvarint(len(data)) + data


def _int_attr(name: str, value: int) -> bytes:
    """AttributeProto: 1 name, 3 i, 20 type (2 = INT)."""
    return _ld(1, name.encode()) + _key(3, 0) + _uvarint(value) + _key(20, 0) + _uvarint(2)


def _encode_tensor(name: str, dims: list[int], dtype: int, raw: bytes) -> bytes:
    out = b"".join(_key(1, 0) + _uvarint(d) for d in dims)
    return out + _key(2, 0) + _uvarint(dtype) + _ld(8, name.encode()) + _ld(9, raw)
