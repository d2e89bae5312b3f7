"""coach.scoring.onnxfast: the encoder's graph rewritten to integer arithmetic.

The coach scores with the static form (activation ranges fixed at training); the dynamic form
(activations quantised per call) is kept for measurements and to show why it is not used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach import ort as ort_door
from coach.errors import ModelError
from coach.scoring import encoder
from coach.scoring.onnxfast import (
    BLOCKS,
    GELUS,
    MATRICES,
    activation_inputs,
    optimise,
    with_outputs,
)
from coach.scoring.onnxpatch import read

SENTENCES = [
    "Honestly the residents never really gave me a fair shot.",
    "I applied too narrowly and did not have a backup plan.",
    "Since then I completed a sub internship in pediatric hospital medicine.",
    "um so i guess the interview day was kind of chaotic you know",
    "Med-Peds lets me follow a child with cystic fibrosis into adult care.",
]
UNCHANGED = {"matrices": 0, "gelus": 0, "attention": 0, "biases": 0, "tables": 0}
#: Q, K and V read one tensor: 6 layers x (attention input, attention output, FFN in, FFN out).
INPUTS = 24


def _ranges() -> dict[str, tuple[float, float]]:
    top = encoder.load_top()
    return {
        k[len(encoder.RANGE) :]: (float(v[0]), float(v[1]))
        for k, v in top.items()
        if k.startswith(encoder.RANGE)
    }


def test_the_shipped_layers_carry_a_range_for_every_matrix_product_input() -> None:
    names = activation_inputs(encoder.model_path().read_bytes())
    assert len(names) == INPUTS and sorted(_ranges()) == sorted(names)
    assert all(lo < 0 < hi for lo, hi in _ranges().values())


def test_every_matrix_product_and_gelu_of_the_pinned_model_is_rewritten() -> None:
    model = encoder.model_path().read_bytes()
    for ranges, product in ((None, "DynamicQuantizeMatMul"), (_ranges(), "MatMulIntegerToFloat")):
        fast, counts = optimise(model, ranges)
        biases = MATRICES if ranges else 0  # MatMulIntegerToFloat takes a bias; the other not
        assert counts == {
            "matrices": MATRICES,
            "gelus": GELUS,
            "attention": BLOCKS,
            "biases": biases,
            "tables": 2,
        }
        _, nodes = read(fast)
        ops = [op for op, _ in nodes]
        assert ops.count(product) == MATRICES and ops.count("Gelu") == GELUS
        assert ops.count("QuantizeLinear") == (INPUTS if ranges else 0)  # once per input
        assert ops.count("MultiHeadAttention") == BLOCKS
        # The exported attention and its mask arithmetic are gone, not merely bypassed.
        assert not {"Erf", "MatMul", "Softmax", "Transpose", "IsNaN", "GatherND"} & set(ops)
        assert len(ops) < len(read(model)[1]) // 2
        # Every bias rides in its product: 36 Adds fewer; the residual Adds stay.
        biased = [i for op, i in nodes if op == product and len(i) == 7]
        assert len(biased) == biases
        if ranges:
            assert ops.count("Add") == 2 * BLOCKS + 2  # and the embeddings' two
        # The int8 matrices are used as they are: every initializer is still there.
        tensors, _ = read(model)
        after, _ = read(fast)
        assert all(k in after for k in tensors)
        # The word and position tables are looked up as int8 and only the picked rows become
        # float: no Cast reads a whole table any more (token types are float as exported).
        assert ops.count("Gather") == 2 * 2 + 1
        assert not [i for op, i in nodes if op == "Cast" and i[0] in after]


def test_looking_up_int8_rows_gives_the_same_bits_as_the_whole_float_table() -> None:
    model = encoder.model_path().read_bytes()
    ranges = _ranges()
    ort = ort_door.load()
    vectors = []
    for tables in (False, True):
        fast, counts = optimise(model, ranges, tables=tables)
        assert counts["tables"] == (2 if tables else 0)
        session = ort.InferenceSession(fast, providers=["CPUExecutionProvider"])
        tok = encoder.load_encoder(graph="float").tokenizer
        vectors.append(encoder.Encoder(session, tok, 0.0).embed(SENTENCES))
    assert np.array_equal(vectors[0], vectors[1])


def test_a_graph_without_the_pattern_is_returned_unchanged() -> None:
    fast, _ = optimise(encoder.model_path().read_bytes())
    again, counts = optimise(fast)
    assert again == fast and counts == UNCHANGED


def test_ranges_that_miss_an_input_leave_the_graph_unchanged() -> None:
    model = encoder.model_path().read_bytes()
    ranges = _ranges()
    ranges.pop(sorted(ranges)[0])
    assert optimise(model, ranges) == (model, UNCHANGED)


def test_tuned_layers_without_their_ranges_are_one_error() -> None:
    top = encoder.load_top()
    name = next(k for k in sorted(top) if k.startswith(encoder.RANGE))
    broken = {k: v for k, v in top.items() if k != name}
    with pytest.raises(ModelError) as err:
        encoder.load_encoder(top=broken)
    assert "activation ranges" in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def graphs() -> dict[str, encoder.Encoder]:
    """The three graphs, loaded once."""
    return {g: encoder.load_encoder(graph=g) for g in ("integer", "float", "dynamic")}


def test_the_coach_scores_with_the_static_integer_graph(
    graphs: dict[str, encoder.Encoder],
) -> None:
    assert encoder.get_encoder().graph == "integer"
    assert {g: e.graph for g, e in graphs.items()} == {g: g for g in graphs}


def test_the_integer_graphs_read_sentences_as_the_float_graph_does(
    graphs: dict[str, encoder.Encoder],
) -> None:
    slow = graphs["float"].embed(SENTENCES)
    for g in ("integer", "dynamic"):
        cos = (graphs[g].embed(SENTENCES) * slow).sum(axis=1)
        assert cos.min() > 0.98, (g, cos)


def test_a_sentence_reads_the_same_alone_or_in_a_batch_with_fixed_ranges(
    graphs: dict[str, encoder.Encoder],
) -> None:
    """Fixed activation scales: each sentence is computed on its own, as in the float graph.
    Quantised per call (the dynamic form), the same sentence alone and in a batch differ:
    why the coach does not use that form."""
    alone = [SENTENCES[0]]
    diff = {
        g: float(np.abs(e.embed(alone)[0] - e.embed(SENTENCES)[0]).max()) for g, e in graphs.items()
    }
    assert diff["integer"] < 1e-4 and diff["float"] < 1e-4
    assert diff["dynamic"] > 1e-3


def test_the_calibration_outputs_run_in_onnxruntime() -> None:
    ort = ort_door.load()
    model = encoder.model_path().read_bytes()
    names = activation_inputs(model)
    session = ort.InferenceSession(with_outputs(model, names), providers=["CPUExecutionProvider"])
    ids = np.array([[101, 7592, 102]], dtype=np.int64)
    outs = session.run(
        names, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
    )
    assert all(o.shape[:2] == (1, 3) for o in outs)


def test_the_rewritten_graph_runs_in_onnxruntime_with_the_contrib_ops() -> None:
    ort = ort_door.load()
    fast, _ = optimise(encoder.model_path().read_bytes(), _ranges())
    session = ort.InferenceSession(fast, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [
        "input_ids",
        "attention_mask",
        "token_type_ids",
    ]


def test_the_fused_attention_reads_as_the_exported_one(
    graphs: dict[str, encoder.Encoder],
) -> None:
    """MultiHeadAttention and the folded biases compute what the exported nodes did: most
    sentences come out bit-identical (both graphs at onnxruntime's basic level, as the coach
    runs the integer graph); the rest differ only where a float rounding tips one activation
    over to the next integer step of a later layer (cosine >= 0.995). The heads are fitted on
    the fused graph's readings, what the coach runs."""
    unfused, counts = optimise(_tuned(), _ranges(), attention=False, unsigned=_unsigned())
    assert counts["attention"] == counts["biases"] == 0
    sentences = SENTENCES + [s.upper() for s in SENTENCES] + [" ".join(SENTENCES)]
    exported = _embed(unfused, graphs, sentences, basic=True)
    fused = graphs["integer"].embed(sentences)
    cos = (fused * exported).sum(axis=1)
    assert cos.min() >= 0.995, cos
    assert (np.abs(fused - exported).max(axis=1) == 0).sum() >= len(sentences) // 2


def test_the_integer_graph_runs_at_the_basic_level_which_only_rounds_differently(
    graphs: dict[str, encoder.Encoder],
) -> None:
    """onnxruntime's full level would fuse the residual Add + LayerNormalization and the
    Gelu into its own kernels, which ran ~15 % slower here than the basic level's; the two
    read a sentence alike to float rounding."""
    fused, _ = optimise(_tuned(), _ranges(), unsigned=_unsigned())
    full = _embed(fused, graphs, SENTENCES, basic=False)
    basic = _embed(fused, graphs, SENTENCES, basic=True)
    assert np.array_equal(basic, graphs["integer"].embed(SENTENCES))
    assert (full * basic).sum(axis=1).min() >= 0.99


def _tuned() -> bytes:
    """The pinned encoder with the shipped tuned layers written in."""
    from coach.scoring.onnxpatch import patch

    top = encoder.load_top()
    return patch(
        encoder.model_path().read_bytes(),
        {k: v for k, v in top.items() if not k.startswith(encoder.RANGE)},
    )


def _unsigned() -> bool:
    """Whether the coach's graph stores its weights as uint8 on this CPU (as it loads them)."""
    return encoder.weight_form() == "uint8"


def _embed(
    model: bytes, graphs: dict[str, encoder.Encoder], sentences: list[str], basic: bool
) -> np.ndarray:
    tokenizer = graphs["integer"].tokenizer
    session = encoder._session(model, basic=basic)
    return encoder.Encoder(session, tokenizer, 0.0, "integer").embed(sentences)


def test_attention_blocks_that_do_not_match_stay_as_exported(
    monkeypatch: pytest.MonkeyPatch, graphs: dict[str, encoder.Encoder]
) -> None:
    """A file whose attention scale is not the one the fused op assumes (here: the code told
    of 6 heads of 64, so the graph's scalars no longer multiply to 64**-0.5) keeps its attention
    as exported; the other rewrites still apply and the graph still runs."""
    from coach.scoring import onnxfast

    monkeypatch.setattr(onnxfast, "HEADS", 6)
    fast, counts = optimise(_tuned(), _ranges(), unsigned=_unsigned())
    assert counts == {
        "matrices": MATRICES,
        "gelus": GELUS,
        "attention": 0,
        "biases": MATRICES,
        "tables": 2,
    }
    _, nodes = read(fast)
    ops = [op for op, _ in nodes]
    assert "MultiHeadAttention" not in ops and ops.count("Softmax") == BLOCKS
    vectors = _embed(fast, graphs, SENTENCES, basic=True)
    assert (vectors * graphs["integer"].embed(SENTENCES)).sum(axis=1).min() >= 0.995


REFERENCE = Path(__file__).parent / "data" / "encoder_reference.npz"


def test_the_coach_reads_sentences_as_the_exact_integer_product_does_on_this_cpu() -> None:
    """The vectors of 12 corpus sentences, computed with exact integer products (first
    written on an AVX2-only CPU in the uint8 form, whose figures matched those measured on VNNI
    to the answer; rewritten for the seed-averaged encoder on an AVX-512 VNNI CPU in the uint8
    form, which agreed with the int8 form there to cosine 0.9999999); 8 of them are the sentences the 16-bit clipping of onnxruntime's AVX2 uint8 x int8
    kernel moved most. Whatever the CPU, the coach's encoder must read them alike: float
    rounding between CPUs (other vector widths in LayerNorm, GELU, softmax) may tip a rare
    activation to the next integer step (cosine >= 0.995; a mean of 0.998 or more), no more.
    The clipped kernel gave a mean of 0.983 (the lowest 0.966)."""
    ref = np.load(REFERENCE)
    sentences, vectors = [str(s) for s in ref["sentences"]], ref["vectors"]
    got = encoder.get_encoder().embed(sentences)
    cos = (got * vectors).sum(axis=1)
    assert cos.min() >= 0.995 and cos.mean() >= 0.998, cos


def test_on_a_cpu_without_vnni_the_int8_form_would_clip_and_is_not_used() -> None:
    """What the uint8 form fixes, shown where it happens: on x86 without VNNI the file's own
    int8 weights move every reference sentence (VPMADDUBSW clips pairs of products to 16 bits);
    the uint8 form reproduces the reference there."""
    if encoder.weight_form() != "uint8":
        pytest.skip("this CPU multiplies uint8 x int8 exactly (VNNI, or not x86)")
    ref = np.load(REFERENCE)
    sentences, vectors = [str(s) for s in ref["sentences"]], ref["vectors"]
    clipped = (encoder.load_encoder(weights="int8").embed(sentences) * vectors).sum(axis=1)
    exact = (encoder.load_encoder(weights="uint8").embed(sentences) * vectors).sum(axis=1)
    assert clipped.mean() < 0.99 and exact.min() >= 0.9999
    assert encoder.get_encoder().weights == "uint8"


@pytest.mark.parametrize(
    ("machine", "flags", "form"),
    [
        ("x86_64", "fpu sse2 avx avx2 fma", "uint8"),  # AVX2 only: the clipping kernel
        ("x86_64", "fpu avx2 avx512f avx512_vnni", "int8"),  # VNNI: exact and fastest
        ("x86_64", "fpu avx2 avx_vnni", "int8"),  # AVX-VNNI (Alder Lake and later)
        ("AMD64", "", "uint8"),  # flags unknown: the exact form
        ("aarch64", "fp asimd", "int8"),  # ARM keeps the file's form
    ],
)
def test_the_weight_form_follows_the_cpu(machine: str, flags: str, form: str) -> None:
    cpuinfo = f"processor\t: 0\nflags\t\t: {flags}\n" if flags else ""
    assert encoder.weight_form(cpuinfo=cpuinfo, machine=machine) == form


def test_the_uint8_form_rewrites_every_product_with_a_zero_point_of_128() -> None:
    fast, counts = optimise(_tuned(), _ranges(), unsigned=True)
    assert counts == {
        "matrices": MATRICES,
        "gelus": GELUS,
        "attention": BLOCKS,
        "biases": MATRICES,
        "tables": 2,
    }
    nodes = read(fast)[1]
    products = [inputs for op, inputs in nodes if op == "MatMulIntegerToFloat"]
    assert len(products) == MATRICES
    # inputs: activations, the shifted weights, their scales, zero points (128 for the
    # weights), the folded bias
    assert all(len(i) == 7 and i[1].endswith("_u8") and i[5] and i[6] for i in products)
