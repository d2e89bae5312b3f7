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
  (com.microsoft); on x86 CPUs without VNNI the weights go in shifted to uint8
  (``unsigned``), where onnxruntime's uint8 x int8 kernel would clip. Without ``ranges``,
  ``DynamicQuantizeMatMul`` quantises per call instead;
* each five-node GELU becomes one ``Gelu`` node;
* each attention block, exported as ~25 small nodes (heads split and merged by Reshape and
  Transpose, the mask turned into -inf, Softmax, a NaN guard), becomes one
  ``MultiHeadAttention`` (com.microsoft) (:func:`_attention`), and with ``ranges`` each
  product's bias Add moves into its ``MatMulIntegerToFloat`` (:func:`_fold_biases`): the
  graph's nodes fall from 385 as published (313 after the first two rewrites) to 109, each
  one a thread-pool round trip less. The coach runs this graph at onnxruntime's basic
  optimisation level (``encoder._session``);
* each embedding lookup reads the int8 table and dequantises only the rows it picks
  (:func:`_gather_first`; 111 nodes): onnxruntime no longer builds the 47 MB float word
  table at every load (on a 2-core AVX2 host, the encoder's load fell from 0.76 to 0.54 s and
  the memory it adds from 195 to 139 MB, with the same vectors to the bit).

Measured with benchmarks/scoring.py on 2 cores (Xeon with AVX-512 VNNI, 2026-12-03), a 300-word
answer scored in 46 ms against 89 ms in float (answer by answer in one run; 56 ms before the
attention fusion and the folded biases); sentence vectors within cosine 0.979 of the float
graph's (median 0.996 over 1,135 segments). If the graph does not have the expected shape (36
matrices, 6 GELUs, a range for every input), it is returned unchanged; if the attention blocks
do not (six, each with the expected scale), they alone stay as exported.

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

from dataclasses import dataclass, field

import numpy as np

from coach.scoring.onnxpatch import (
    _encode_tensor,
    _fields,
    _graph_field,
    _int_attr,
    _key,
    _ld,
    _node,
    _tensor,
    _uvarint,
)

MATRICES = 36
GELUS = 6
#: Attention blocks (one per layer) and heads per block (all-MiniLM-L6-v2: 384 = 12 x 32).
BLOCKS = 6
HEADS = 12
MS = "com.microsoft"
#: The zero point of weights stored as uint8 (``optimise(unsigned=True)``).
_U8ZP = "weights_u8_zero_point"
_UNCHANGED = {"matrices": 0, "gelus": 0, "attention": 0, "biases": 0, "tables": 0}


@dataclass
class _Node:
    op: str
    inputs: list[str]
    outputs: list[str]
    raw: bytes | None = None  # the original bytes, kept for nodes not rewritten
    domain: str = ""
    name: str = ""
    dead: bool = False
    attrs: list[bytes] = field(default_factory=list)  # encoded AttributeProtos


def _encode_node(n: _Node) -> bytes:
    out = b"".join(_ld(1, i.encode()) for i in n.inputs)
    out += b"".join(_ld(2, o.encode()) for o in n.outputs)
    out += _ld(3, n.name.encode()) + _ld(4, n.op.encode())
    out += b"".join(_ld(5, a) for a in n.attrs)
    if n.domain:
        out += _ld(7, n.domain.encode())
    return out


def _scalar(tensors: dict[str, np.ndarray], name: str) -> float | None:
    arr = tensors.get(name)
    return float(arr.reshape(-1)[0]) if arr is not None and arr.size == 1 else None


def _static_scale(lo: float, hi: float) -> tuple[float, int]:
    """uint8 scale and zero point covering [lo, hi] (and 0, which must be exact)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    return scale, int(np.clip(round(-lo / scale), 0, 255))


def optimise(
    model: bytes,
    ranges: dict[str, tuple[float, float]] | None = None,
    attention: bool = True,
    unsigned: bool = False,
    tables: bool = True,
) -> tuple[bytes, dict[str, int]]:
    """``model`` with its int8 MatMuls and GELUs rewritten (see the module docstring), and how
    many of each were; the model unchanged (and zero counts) if its graph is not as expected.

    ``ranges``: each matrix product's input range (by tensor name, from
    ``coach.scoring.encoder.activation_ranges``):
    its activations are then quantised with that fixed scale (QuantizeLinear, once per input,
    + MatMulIntegerToFloat), so a sentence's vector no longer depends on its batch.

    ``attention``: also fuse the attention blocks (:func:`_attention`) and, with ``ranges``,
    fold each product's bias into it (:func:`_fold_biases`); False gives the graph as it was
    before those two rewrites, for comparison.

    ``unsigned`` (with ``ranges``): each int8 weight matrix is stored shifted by 128 as uint8
    with 128 as its zero point, so onnxruntime runs its uint8 x uint8 kernel: the same integer
    products, computed exactly on x86 CPUs without VNNI, where its uint8 x int8 kernel clips
    pairs of products to 16 bits (see ``encoder.weight_form``).

    ``tables``: the embedding lookups read the int8 tables and dequantise only the rows they
    pick (:func:`_gather_first`); False leaves them as exported, for comparison."""
    buf = model  # read in place: the 23 MB of weights are copied once, into the result
    view = memoryview(model)
    found = _graph_field(buf)
    if found is None:
        return model, dict(_UNCHANGED)
    head_end, gstart, gend = found
    nodes: list[_Node] = []
    other: list[tuple[str, memoryview]] = []  # graph fields other than nodes, verbatim
    graph_outputs: set[str] = set()
    tensors: dict[str, np.ndarray] = {}
    spans: dict[str, tuple[int, int]] = {}  # float initializers: where their raw data lies
    int8: dict[str, tuple[tuple[int, int], list[int]]] = {}  # int8 initializers: raw span, dims
    float_dims: dict[str, list[int]] = {}  # float initializers' dims
    prev = gstart  # fields are contiguous: each one's key starts where the last one ended
    for num, wire, s, e in _fields(buf, gstart, gend):
        whole, prev = view[prev:e], e
        if (num, wire) == (1, 2):
            op, inputs, outputs = _node(buf, s, e)
            nodes.append(_Node(op, inputs, outputs, raw=bytes(buf[s:e])))
            continue
        if (num, wire) == (12, 2):  # GraphProto.output: ValueInfoProto, 1 name
            graph_outputs |= {
                bytes(buf[s2:e2]).decode()
                for n2, w2, s2, e2 in _fields(buf, s, e)
                if (n2, w2) == (1, 2)
            }
        if (num, wire) != (5, 2):
            other.append(("", whole))
        else:
            name, dtype, raw, dims = _tensor(buf, s, e)
            other.append((name, whole))
            if dtype == 3 and raw is not None:
                int8[name] = (raw, dims)
            if dtype == 1 and raw is not None:
                spans[name] = raw
                if raw[1] - raw[0] == 4:
                    tensors[name] = np.frombuffer(buf[raw[0] : raw[1]], dtype="<f4")
                float_dims[name] = dims
    producer = {o: n for n in nodes for o in n.outputs}
    users = _users(nodes)
    new_tensors: list[bytes] = []
    added: set[str] = set()
    quant: list[tuple[_Node, _Node]] = []  # (first product reading it, its QuantizeLinear)
    replaced: set[str] = set()  # int8 weights stored shifted instead (``unsigned``)
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
                    return model, dict(_UNCHANGED)
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
                if unsigned:  # W + 128 with zero point 128: the same products, exact on AVX2
                    w = cast.inputs[0]
                    if w not in int8:
                        return model, dict(_UNCHANGED)
                    (ws, we), wdims = int8[w]
                    # x + 128 as uint8 is x's two's-complement byte with its top bit flipped
                    shifted = np.frombuffer(buf[ws:we], dtype=np.uint8) ^ np.uint8(0x80)
                    new_tensors.append(_encode_tensor(w + "_u8", wdims, 2, shifted.tobytes()))
                    replaced.add(w)
                    if _U8ZP not in added:
                        added.add(_U8ZP)
                        new_tensors.append(_encode_tensor(_U8ZP, [], 2, np.uint8(128).tobytes()))
                    n.inputs = [x + "_q", w + "_u8", x + "_qs", col, x + "_qz", _U8ZP]
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
        return model, dict(_UNCHANGED)
    heads = _attention(nodes, producer, users, tensors) if attention else 0
    looked_up = _gather_first(nodes, producer, users, int8, float_dims) if tables else 0
    for first, q in quant:  # each just before its first reader: the order stays topological
        nodes.insert(nodes.index(first), q)
    _drop_dead(nodes, graph_outputs)  # first: the old attention nodes still read the biased Q/K/V
    biases = _fold_biases(nodes, spans) if attention and ranges is not None else 0
    graph: list[bytes | memoryview] = [
        _ld(1, n.raw if n.raw is not None else _encode_node(n)) for n in nodes if not n.dead
    ]
    # The int8 copies of shifted weights are read by nothing: 22 MB less to hand over.
    replaced -= {i for n in nodes if not n.dead for i in n.inputs}
    graph += [whole for name, whole in other if name not in replaced]
    graph += [_ld(5, t) for t in new_tensors]
    size = sum(len(p) for p in graph)
    out = b"".join([view[:head_end], _key(7, 2), _uvarint(size), *graph, view[gend:]])
    counts = {"matrices": matrices, "gelus": gelus, "attention": heads, "biases": biases}
    return out, {**counts, "tables": looked_up}


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


def _attention(
    nodes: list[_Node],
    producer: dict[str, _Node],
    users: dict[str, list[_Node]],
    tensors: dict[str, np.ndarray],
) -> int:
    """Each exported attention block becomes one ``MultiHeadAttention`` (com.microsoft) on the
    Q, K and V projections, with the attention mask as its key padding mask; how many did (all
    six or none).

    The export spells scaled dot-product attention out in ~25 nodes: each projection split into
    heads (Reshape + Transpose, K transposed once more), Q and K each scaled by d**-0.25, the
    mask turned into -inf by Where, MatMul, Softmax, a NaN guard (IsNaN + Where), the product
    with V, the heads merged (Transpose + Reshape), plus the mask's own ~20 nodes. onnxruntime
    runs each as a kernel, a thread-pool round trip apiece. The fused op computes the same
    (its default scale is d**-0.5, checked here against the graph's two scalars); the old
    nodes fall out as dead."""

    def projection(name: str, scales: list[float]) -> _Node | None:
        n = producer.get(name)
        while n is not None and n.op in ("Mul", "Reshape", "Transpose"):
            if n.op == "Mul":
                scales.append(_scalar(tensors, n.inputs[1]) or 0.0)
            n = producer.get(n.inputs[0])
        return n if n is not None and n.op == "Add" and len(n.inputs) == 2 else None

    head_size = 384 // HEADS
    blocks: list[tuple[_Node, list[_Node]]] = []
    for s in nodes:
        if s.op != "Softmax":
            continue
        add = producer.get(s.inputs[0])
        scores = producer.get(add.inputs[0]) if add is not None and add.op == "Add" else None
        if scores is None or scores.op != "MatMul":
            return 0
        guard = [u for u in users.get(s.outputs[0], []) if u.op == "Where"]
        product = users.get(guard[0].outputs[0], []) if len(guard) == 1 else []
        if len(product) != 1 or product[0].op != "MatMul":
            return 0
        merge = users.get(product[0].outputs[0], [])
        merge = users.get(merge[0].outputs[0], []) if len(merge) == 1 else []
        if len(merge) != 1 or merge[0].op != "Reshape":
            return 0
        scales: list[float] = []
        qkv = [projection(i, scales) for i in (*scores.inputs, product[0].inputs[1])]
        if not np.isclose(float(np.prod(scales)), head_size**-0.5, rtol=1e-5):
            return 0
        found = [p for p in qkv if p is not None]
        if len(found) != 3:
            return 0
        blocks.append((merge[0], found))
    if len(blocks) != BLOCKS:
        return 0
    mask = "attention_mask_i32"
    cast = _Node("Cast", ["attention_mask"], [mask], name=mask + "_cast")
    cast.attrs = [_int_attr("to", 6)]  # INT32: the op's mask type
    nodes.insert(0, cast)
    for last, proj in blocks:
        last.op, last.domain, last.raw = "MultiHeadAttention", MS, None
        # no packed bias: each projection's own Add stays, for _fold_biases to take in
        last.inputs = [p.outputs[0] for p in proj] + ["", mask]
        last.name = last.outputs[0] + "_mha"
        last.attrs = [_int_attr("num_heads", HEADS)]
    return len(blocks)


def _gather_first(
    nodes: list[_Node],
    producer: dict[str, _Node],
    users: dict[str, list[_Node]],
    int8: dict[str, tuple[tuple[int, int], list[int]]],
    float_dims: dict[str, list[int]],
) -> int:
    """Each embedding lookup ``Gather(Cast(T_q) * scale, ids)`` on an int8 table with one scale
    per row becomes ``Cast(Gather(T_q, ids)) * Gather(scale, ids)``; how many did (the word and
    position tables).

    The same products of the same numbers, so the same bits, but on the rows an answer's
    tokens use instead of the whole table: as exported, the table is a constant subgraph that
    onnxruntime computes at load (the word table's 30,522 x 384 floats: ~0.14 s of a session's
    ~0.2 s start on a 2-core AVX2 host, and 47 MB held for the process's life), or at every
    run if its graph optimisations are off."""
    done = 0
    for g in list(nodes):
        if g.dead or g.op != "Gather" or len(g.inputs) != 2:
            continue
        mul = producer.get(g.inputs[0])
        if mul is None or mul.op != "Mul" or len(mul.inputs) != 2:
            continue
        cast = producer.get(mul.inputs[0])
        scale = mul.inputs[1]
        if cast is None or cast.op != "Cast" or cast.inputs[0] not in int8:
            continue
        rows = int8[cast.inputs[0]][1]
        if len(rows) != 2 or float_dims.get(scale) != [rows[0], 1]:
            continue
        if any(u is not g for u in users.get(mul.outputs[0], [])):
            continue  # the float table is read elsewhere too: leave it
        out, ids = g.outputs[0], g.inputs[1]
        picked = _Node("Gather", [cast.inputs[0], ids], [out + "_rows_q"], name=out + "_rows_q")
        picked_s = _Node("Gather", [scale, ids], [out + "_rows_s"], name=out + "_rows_s")
        as_float = _Node("Cast", [out + "_rows_q"], [out + "_rows_f"], name=out + "_rows_f")
        as_float.attrs = [_int_attr("to", 1)]  # FLOAT
        times = _Node("Mul", [out + "_rows_f", out + "_rows_s"], [out], name=out + "_rows")
        at = nodes.index(g)
        nodes[at : at + 1] = [picked, picked_s, as_float, times]
        done += 1
    return done


def _fold_biases(nodes: list[_Node], initializers: dict[str, tuple[int, int]]) -> int:
    """Each ``MatMulIntegerToFloat`` followed only by the Add of a constant bias takes the
    bias in (the op's 7th input; the 6th, the weight zero point, stays empty for the int8
    weights, which are symmetric, and is 128 for the shifted uint8 ones); how many did. All 36
    products here: Q, K, V, the attention output, and the feed-forward's two.

    One kernel less per product, and what is left after each product is a plain residual
    Add + LayerNormalization and a plain Gelu, which onnxruntime runs faster at its basic
    optimisation level than the SkipLayerNormalization and BiasGelu its full level fuses
    them into (see ``encoder._session``)."""
    live = [n for n in nodes if not n.dead]
    users = _users(live)
    folded = 0
    for mm in live:
        after = users.get(mm.outputs[0], [])
        if mm.op != "MatMulIntegerToFloat" or len(mm.inputs) not in (5, 6) or len(after) != 1:
            continue
        add = after[0]
        bias = [i for i in add.inputs if i != mm.outputs[0]]
        if add.op != "Add" or len(add.inputs) != 2 or len(bias) != 1:
            continue
        if bias[0] not in initializers:  # a computed tensor, not a constant bias
            continue
        mm.inputs += ([""] if len(mm.inputs) == 5 else []) + [bias[0]]
        mm.outputs, add.dead = list(add.outputs), True
        folded += 1
    return folded


def _users(nodes: list[_Node]) -> dict[str, list[_Node]]:
    """Each tensor name's readers among ``nodes``."""
    users: dict[str, list[_Node]] = {}
    for n in nodes:
        for i in n.inputs:
            users.setdefault(i, []).append(n)
    return users


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
