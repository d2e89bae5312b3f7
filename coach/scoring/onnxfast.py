"""Rewrite the sentence encoder's graph for speed, in its bytes, without the ``onnx`` package.

The pinned all-MiniLM-L6-v2 file stores each weight matrix as int8 with one scale per output
channel, but computes in float: ``MatMul(x, Cast(W_q) * scale)``. onnxruntime folds the
product into a float matrix at load and multiplies in fp32, and it does not recognise the
file's GELU (``x * 0.5 * (1 + erf(x / sqrt 2))`` as five nodes). Two rewrites:

* each such MatMul multiplies in integer arithmetic (VNNI / AVX2 / NEON kernels) on the same
  int8 matrix and scales. What the coach scores with (``ranges`` given): its input is
  quantised to uint8 with a fixed scale, read at training over the train sentences
  (:func:`activation_inputs`, :func:`with_outputs`, ``encoder.activation_ranges``), by one
  ``QuantizeLinear`` per input (Q, K and V share theirs), then ``MatMulIntegerToFloat``
  (com.microsoft). Without ``ranges``, ``DynamicQuantizeMatMul`` quantises per call instead;
* each five-node GELU becomes one ``Gelu`` node, which onnxruntime then fuses with the bias
  Add before it (``BiasGelu``).

Measured on 2 cores (Xeon with AVX-512 VNNI, 2026-12-02), a 300-word answer scored in 49 ms
with fixed ranges, 52 ms quantised per call, and 78 ms in float (answer by answer in one idle
run); a later benchmarks/scoring.py run on the shipped files gave 56 ms and 89 ms (1.59x);
sentence vectors within cosine 0.99 of the float graph's. If the graph does not have the
expected shape (36 matrices, 6 GELUs, a range for every input), it is returned unchanged.

Why the ranges are fixed: quantised per call, one scale covers the whole batch, padding
included, so a sentence's vector would depend on the other sentences embedded with it (cosine
0.974 at worst against the sentence alone): an answer would score a little differently
depending on what was embedded before (the per-sentence cache), and a sentence's reading could
move when a neighbour is edited. With fixed scales each token is quantised on its own, and a
sentence reads the same alone or in any batch (as in the float graph, to 1e-4). The cost: an
activation beyond the range read at training is clipped to it.

Protobuf numbers used: ModelProto 7 graph; GraphProto 1 node, 5 initializer; NodeProto
1 input, 2 output, 3 name, 4 op_type, 7 domain; TensorProto 1 dims, 2 data_type, 8 name,
9 raw_data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.scoring.onnxpatch import _fields, _graph_field, _node, _tensor

MATRICES = 36
GELUS = 6
MS = "com.microsoft"


@dataclass
class _Node:
    op: str
    inputs: list[str]
    outputs: list[str]
    raw: bytes | None = None  # the original bytes, kept for nodes not rewritten
    domain: str = ""
    name: str = ""
    dead: bool = False


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


def _encode_node(n: _Node) -> bytes:
    out = b"".join(_ld(1, i.encode()) for i in n.inputs)
    out += b"".join(_ld(2, o.encode()) for o in n.outputs)
    out += _ld(3, n.name.encode()) + _ld(4, n.op.encode())
    if n.domain:
        out += _ld(7, n.domain.encode())
    return out


def _encode_tensor(name: str, dims: list[int], dtype: int, raw: bytes) -> bytes:
    out = b"".join(_key(1, 0) + _uvarint(d) for d in dims)
    return out + _key(2, 0) + _uvarint(dtype) + _ld(8, name.encode()) + _ld(9, raw)


def _scalar(tensors: dict[str, np.ndarray], name: str) -> float | None:
    arr = tensors.get(name)
    return float(arr.reshape(-1)[0]) if arr is not None and arr.size == 1 else None


def _static_scale(lo: float, hi: float) -> tuple[float, int]:
    """uint8 scale and zero point covering [lo, hi] (and 0, which must be exact)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    return scale, int(np.clip(round(-lo / scale), 0, 255))


def optimise(
    model: bytes, ranges: dict[str, tuple[float, float]] | None = None
) -> tuple[bytes, dict[str, int]]:
    """``model`` with its int8 MatMuls and GELUs rewritten (see the module docstring), and how
    many of each were; the model unchanged (and zero counts) if its graph is not as expected.

    ``ranges``: each matrix product's input range (by tensor name, from
    ``coach.scoring.encoder.activation_ranges``):
    its activations are then quantised with that fixed scale (QuantizeLinear, once per input,
    + MatMulIntegerToFloat), so a sentence's vector no longer depends on its batch."""
    buf = model  # read in place: the 23 MB of weights are copied once, into the result
    view = memoryview(model)
    found = _graph_field(buf)
    if found is None:
        return model, {"matrices": 0, "gelus": 0}
    head_end, gstart, gend = found
    nodes: list[_Node] = []
    other: list[memoryview] = []  # graph fields other than nodes, verbatim
    graph_outputs: set[str] = set()
    tensors: dict[str, np.ndarray] = {}
    spans: dict[str, tuple[int, int]] = {}  # float initializers: where their raw data lies
    prev = gstart  # fields are contiguous: each one's key starts where the last one ended
    for num, wire, s, e in _fields(buf, gstart, gend):
        whole, prev = view[prev:e], e
        if (num, wire) == (1, 2):
            op, inputs, outputs = _node(buf, s, e)
            nodes.append(_Node(op, inputs, outputs, raw=bytes(buf[s:e])))
            continue
        other.append(whole)
        if (num, wire) == (12, 2):  # GraphProto.output: ValueInfoProto, 1 name
            graph_outputs |= {
                bytes(buf[s2:e2]).decode()
                for n2, w2, s2, e2 in _fields(buf, s, e)
                if (n2, w2) == (1, 2)
            }
        if (num, wire) == (5, 2):
            name, dtype, raw, _ = _tensor(buf, s, e)
            if dtype == 1 and raw is not None:
                spans[name] = raw
                if raw[1] - raw[0] == 4:
                    tensors[name] = np.frombuffer(buf[raw[0] : raw[1]], dtype="<f4")
    producer = {o: n for n in nodes for o in n.outputs}
    users: dict[str, list[_Node]] = {}
    for n in nodes:
        for i in n.inputs:
            users.setdefault(i, []).append(n)
    new_tensors: list[bytes] = []
    added: set[str] = set()
    quant: list[tuple[_Node, _Node]] = []  # (first product reading it, its QuantizeLinear)
    matrices = gelus = 0
    for n in nodes:
        if n.op == "MatMul":
            weight = _int8_weight(n, producer)
            if weight is None or weight[1] not in spans:
                continue
            cast, scale = weight
            col = scale + "_col"
            if col not in added:  # the same scales as a 1-D tensor, as the op wants them
                data = buf[spans[scale][0] : spans[scale][1]]
                added.add(col)
                new_tensors.append(_encode_tensor(col, [len(data) // 4], 1, data))
            x = n.inputs[0]
            if ranges is None:
                n.op, n.inputs = "DynamicQuantizeMatMul", [x, cast.inputs[0], col]
            else:
                if x not in ranges:
                    return model, {"matrices": 0, "gelus": 0}
                if x + "_q" not in added:  # Q, K and V read one input: quantised once
                    added.add(x + "_q")
                    scale_, zp = _static_scale(*ranges[x])
                    new_tensors.append(
                        _encode_tensor(x + "_qs", [], 1, np.float32(scale_).tobytes())
                    )
                    new_tensors.append(_encode_tensor(x + "_qz", [], 2, np.uint8(zp).tobytes()))
                    q = _Node("QuantizeLinear", [x, x + "_qs", x + "_qz"], [x + "_q"])
                    q.name = x + "_ql"
                    quant.append((n, q))
                n.op = "MatMulIntegerToFloat"
                n.inputs = [x + "_q", cast.inputs[0], x + "_qs", col, x + "_qz"]
            n.domain, n.raw = MS, None
            n.name = n.outputs[0] + "_dq"
            matrices += 1
        elif n.op == "Erf":
            g = _gelu(n, producer, users, tensors)
            if g is not None:
                x, out_node = g
                out_node.op, out_node.domain, out_node.raw = "Gelu", MS, None
                out_node.inputs, out_node.name = [x], out_node.outputs[0] + "_gelu"
                gelus += 1
    if matrices != MATRICES or gelus != GELUS:
        return model, {"matrices": 0, "gelus": 0}
    for first, q in quant:  # each just before its first reader: the order stays topological
        nodes.insert(nodes.index(first), q)
    _drop_dead(nodes, graph_outputs)
    graph: list[bytes | memoryview] = [
        _ld(1, n.raw if n.raw is not None else _encode_node(n)) for n in nodes if not n.dead
    ]
    graph += other
    graph += [_ld(5, t) for t in new_tensors]
    size = sum(len(p) for p in graph)
    out = b"".join([view[:head_end], _key(7, 2), _uvarint(size), *graph, view[gend:]])
    return out, {"matrices": matrices, "gelus": gelus}


def _int8_weight(matmul: _Node, producer: dict[str, _Node]) -> tuple[_Node, str] | None:
    """For ``MatMul(x, Mul(Cast(W_q), scale))``: the Cast and the scale's name; else None."""
    if len(matmul.inputs) != 2:
        return None
    deq = producer.get(matmul.inputs[1])
    if deq is None or deq.op != "Mul" or len(deq.inputs) != 2:
        return None
    a, b = (producer.get(i) for i in deq.inputs)
    cast, scale = (a, deq.inputs[1]) if a is not None else (b, deq.inputs[0])
    if cast is None or cast.op != "Cast":
        return None
    return cast, scale


def _gelu(
    erf: _Node,
    producer: dict[str, _Node],
    users: dict[str, list[_Node]],
    tensors: dict[str, np.ndarray],
) -> tuple[str, _Node] | None:
    """For ``Mul(x, Mul(0.5, Add(Erf(Div(x, sqrt 2)), 1)))``: x and the last Mul."""
    div = producer.get(erf.inputs[0])
    if div is None or div.op != "Div" or len(div.inputs) != 2:
        return None
    if not np.isclose(_scalar(tensors, div.inputs[1]) or 0.0, 2**0.5):
        return None
    x = div.inputs[0]
    chain = [erf]
    for op, const in (("Add", 1.0), ("Mul", 0.5)):
        nxt = users.get(chain[-1].outputs[0], [])
        if len(nxt) != 1 or nxt[0].op != op:
            return None
        others = [i for i in nxt[0].inputs if i != chain[-1].outputs[0]]
        if len(others) != 1 or _scalar(tensors, others[0]) != const:
            return None
        chain.append(nxt[0])
    last = users.get(chain[-1].outputs[0], [])
    if len(last) != 1 or last[0].op != "Mul" or x not in last[0].inputs:
        return None
    for n in (div, *chain):
        n.dead = True
    return x, last[0]


def _drop_dead(nodes: list[_Node], keep: set[str]) -> None:
    """Mark nodes none of whose outputs is used (the float weight products the rewritten
    MatMuls no longer read), repeatedly; graph outputs (``keep``) are kept."""
    while True:
        used = {i for n in nodes if not n.dead for i in n.inputs} | keep
        dead = [n for n in nodes if not n.dead and not any(o in used for o in n.outputs)]
        if not dead:
            return
        for n in dead:
            n.dead = True


def activation_inputs(model: bytes) -> list[str]:
    """The names of the tensors the int8 matrix products read (the ranges ``optimise`` needs)."""
    found = _graph_field(model)
    if found is None:
        return []
    nodes = [
        _Node(*_node(model, s, e))
        for num, wire, s, e in _fields(model, found[1], found[2])
        if (num, wire) == (1, 2)
    ]
    producer = {o: n for n in nodes for o in n.outputs}
    names: list[str] = []
    for n in nodes:
        # Q, K and V read one tensor: listed once
        if n.op == "MatMul" and _int8_weight(n, producer) and n.inputs[0] not in names:
            names.append(n.inputs[0])
    return names


def with_outputs(model: bytes, names: list[str]) -> bytes:
    """``model`` with ``names`` added to its graph's outputs (float tensors), for calibration."""
    found = _graph_field(model)
    if found is None:
        return model
    head_end, gstart, gend = found
    tensor_type = _ld(1, _key(1, 0) + _uvarint(1))  # TypeProto.tensor_type: elem_type FLOAT
    extra = b"".join(_ld(12, _ld(1, n.encode()) + _ld(2, tensor_type)) for n in names)
    graph = bytes(model[gstart:gend]) + extra
    return b"".join([model[:head_end], _key(7, 2), _uvarint(len(graph)), graph, model[gend:]])
