"""coach.scoring.onnxfast: the encoder's graph rewritten to integer arithmetic (not the default)."""

from __future__ import annotations

import pytest

from coach import ort as ort_door
from coach.scoring import encoder
from coach.scoring.onnxfast import GELUS, MATRICES, optimise
from coach.scoring.onnxpatch import read

SENTENCES = [
    "Honestly the residents never really gave me a fair shot.",
    "I applied too narrowly and did not have a backup plan.",
    "Since then I completed a sub internship in pediatric hospital medicine.",
    "um so i guess the interview day was kind of chaotic you know",
    "Med-Peds lets me follow a child with cystic fibrosis into adult care.",
]


def test_every_matrix_product_and_gelu_of_the_pinned_model_is_rewritten() -> None:
    model = encoder.model_path().read_bytes()
    fast, counts = optimise(model)
    assert counts == {"matrices": MATRICES, "gelus": GELUS}
    _, nodes = read(fast)
    ops = [op for op, _ in nodes]
    assert ops.count("DynamicQuantizeMatMul") == MATRICES and ops.count("Gelu") == GELUS
    assert "Erf" not in ops and "MatMul" in ops  # attention's own products stay in float
    # The int8 matrices are used as they are: every initializer is still there.
    tensors, _ = read(model)
    after, _ = read(fast)
    assert all(k in after for k in tensors)


def test_a_graph_without_the_pattern_is_returned_unchanged() -> None:
    fast, _ = optimise(encoder.model_path().read_bytes())
    again, counts = optimise(fast)
    assert again == fast and counts == {"matrices": 0, "gelus": 0}


@pytest.fixture(scope="module")
def graphs() -> tuple[encoder.Encoder, encoder.Encoder]:
    """The integer rewrite and the float graph the coach scores with, loaded once."""
    return encoder.load_encoder(fast=True), encoder.load_encoder()


def test_the_fast_graph_reads_sentences_as_the_float_graph_does(
    graphs: tuple[encoder.Encoder, encoder.Encoder],
) -> None:
    fast_enc, slow_enc = graphs
    assert fast_enc.integer and not slow_enc.integer  # the float graph is the default
    fast, slow = fast_enc.embed(SENTENCES), slow_enc.embed(SENTENCES)
    cos = (fast * slow).sum(axis=1)
    assert cos.min() > 0.98, cos


def test_why_it_is_not_the_default_a_sentence_depends_on_its_batch(
    graphs: tuple[encoder.Encoder, encoder.Encoder],
) -> None:
    """Activations are quantised per call: the same sentence alone and in a batch differ in
    the integer graph, and not in the float graph the coach scores with."""
    alone = [SENTENCES[0]]
    fast_enc, slow_enc = graphs
    f1, f5 = fast_enc.embed(alone)[0], fast_enc.embed(SENTENCES)[0]
    s1, s5 = slow_enc.embed(alone)[0], slow_enc.embed(SENTENCES)[0]
    assert float(abs(f1 - f5).max()) > 1e-3
    assert float(abs(s1 - s5).max()) < 1e-4


def test_the_rewritten_graph_runs_in_onnxruntime_with_the_contrib_ops() -> None:
    ort = ort_door.load()
    fast, _ = optimise(encoder.model_path().read_bytes())
    session = ort.InferenceSession(fast, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [
        "input_ids",
        "attention_mask",
        "token_type_ids",
    ]
