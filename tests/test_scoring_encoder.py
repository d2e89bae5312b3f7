"""The sentence encoder: pinned files, refused when changed, loaded once and lazily."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.errors import ModelError
from coach.scoring import encoder


def test_the_encoder_embeds_sentences_by_meaning() -> None:
    enc = encoder.get_encoder()
    assert encoder.get_encoder() is enc  # loaded once
    v = enc.embed(
        [
            "The residents never gave me a fair shot.",
            "Nobody on the team treated me fairly.",
            "I passed Step 2 on my first attempt.",
        ]
    )
    assert v.shape == (3, encoder.DIM)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2
    # Batching and padding do not change a sentence's vector.
    alone = enc.embed(["I passed Step 2 on my first attempt."])
    assert np.allclose(alone[0], v[2], atol=1e-4)


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    shutil.copyfile(encoder.model_path(), bad)
    with bad.open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError) as err:
        encoder.load_encoder(model=bad)
    msg = str(err.value)
    assert "integrity check" in msg and "refusing" in msg and "\n" not in msg


def test_a_tampered_tokenizer_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text(encoder.tokenizer_path().read_text(encoding="utf-8") + " ", encoding="utf-8")
    with pytest.raises(ModelError, match="integrity check"):
        encoder.load_encoder(tokenizer=bad)


def test_a_missing_model_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        encoder.load_encoder(model=tmp_path / "nope.onnx")


def test_importing_the_scorer_loads_no_onnxruntime() -> None:
    code = (
        "import sys, coach.scoring.encoder, coach.scoring.scorer;"
        "print('onnxruntime' in sys.modules, 'tokenizers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["False", "False"]


def test_scoring_falls_back_to_the_rules_once_when_the_encoder_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    code = (
        "from coach.scoring import score_answer\n"
        "from coach.scoring.semantic import unavailable\n"
        "a = score_answer('I did not match. The programs were unfair to me.', category='failed-match')\n"
        "b = score_answer('I did not match. Since then I did a sub-I.', category='failed-match')\n"
        "print(round(a.overall), round(b.overall), 'integrity check' in (unavailable() or ''))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COACH_ENCODER_MODEL": str(bad)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "True"
    notes = [line for line in out.stderr.splitlines() if "semantic scoring is off" in line]
    assert len(notes) == 1 and "phrase rules alone" in notes[0]
    assert "Traceback" not in out.stderr


def test_tampered_tuned_layers_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "encoder_top.npz"
    data = bytearray(encoder.top_path().read_bytes())
    data[5000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        encoder.load_top(bad)
    msg = str(err.value)
    assert "tuned encoder layers" in msg and "integrity check" in msg and "\n" not in msg


def test_the_tuned_layers_are_what_the_app_runs() -> None:
    """The shipped top layers replace the published ones: the same sentence moves, a little
    (the lower four layers and the pooling are unchanged)."""
    top = encoder.load_top()
    assert top and all(k.startswith(("val_", "inner.encoder.layer.", encoder.RANGE)) for k in top)
    assert {k.split(".")[3] for k in top if k.startswith("inner.")} == {"4", "5"}
    text = ["Honestly the residents never really gave me a fair shot."]
    tuned = encoder.get_encoder().embed(text)[0]
    base = encoder.load_encoder(tuned=False).embed(text)[0]
    assert 0.3 < float(tuned @ base) < 0.999


def test_tuned_layers_that_do_not_fit_the_graph_are_one_error() -> None:
    top = encoder.load_top()
    name = next(k for k in sorted(top) if k.endswith("_q"))
    with pytest.raises(ModelError) as err:
        encoder.load_encoder(top={**top, name: np.zeros((3, 3), dtype=np.int8)}).embed(["a"])
    assert "\n" not in str(err.value)


def test_an_answers_segments_are_run_in_groups_that_waste_the_least() -> None:
    import itertools

    def cost(runs: list[tuple[int, int]], lens: list[int], run_cost: int) -> int:
        return sum((b - a) * lens[b - 1] + run_cost for a, b in runs)

    for lens, run_cost in itertools.product(
        ([5], [3, 3, 3], [4, 5, 9, 10, 30, 31, 32, 60], list(range(10, 40, 3))),
        (encoder.RUN_COST, encoder.PARALLEL_RUN_COST),
    ):
        runs = encoder._groups(lens, 4, run_cost)
        assert runs[0][0] == 0 and runs[-1][1] == len(lens)
        assert all(a < b <= a + 4 for a, b in runs)
        assert all(runs[k][1] == runs[k + 1][0] for k in range(len(runs) - 1))
        # No other cut of the same list into runs of at most 4 costs less.
        cuts = range(1, len(lens))
        best = min(
            cost(list(itertools.pairwise([0, *chosen, len(lens)])), lens, run_cost)
            for r in range(len(lens))
            for chosen in itertools.combinations(cuts, r)
            if all(b - a <= 4 for a, b in itertools.pairwise([0, *chosen, len(lens)]))
        )
        assert cost(runs, lens, run_cost) == best
    assert encoder._groups([], 4) == []
    # A cheaper run makes smaller groups: less padding is worth one more run.
    assert len(encoder._groups([10, 12, 14, 16], 4, 4)) > len(encoder._groups([10, 12, 14, 16], 4))


def test_a_sentence_reads_the_same_in_any_group() -> None:
    enc = encoder.get_encoder()
    texts = [
        "I did not match.",
        "Since then I have worked for a year in a pediatric clinic that follows children with"
        " sickle cell disease into their twenties, and I built its transition checklist.",
        "The residents never gave me a fair shot.",
        "um so yeah",
        "I applied to too few programs and I did not have a real backup plan.",
    ] * 4
    together = enc.embed(texts)
    alone = np.vstack([enc.embed([t]) for t in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-6)
    assert np.allclose(together[:5], together[5:10], atol=0)


def test_runs_side_by_side_read_the_same_bits_as_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    texts = [
        "I did not match.",
        "um so i guess the interview days were kind of a blur honestly",
        "Since then I have worked for a year in a pediatric clinic that follows children with"
        " sickle cell disease into their twenties, and I built its transition checklist.",
        "The program director never really gave international graduates a fair look.",
        "I applied to too few programs.",
        "ok",
    ] * 5
    monkeypatch.setattr(encoder, "lanes", lambda: 1)
    one = encoder.load_encoder()  # one run at a time, on the session's own threads
    monkeypatch.undo()
    assert one.lanes == 1
    two = dataclasses.replace(encoder.get_encoder(), lanes=2)
    for sentences in (texts, texts[:2], texts[:1], texts[:7]):
        assert np.array_equal(one.embed(sentences), two.embed(sentences))


def test_two_cores_make_two_lanes_of_one_thread_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert (encoder.lanes(), encoder._threads(encoder.lanes())) == (2, 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert (encoder.lanes(), encoder._threads(encoder.lanes())) == (1, 1)
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert encoder.lanes() == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forked_child_still_embeds() -> None:
    import time

    enc = encoder.get_encoder()
    enc.embed(["The first run makes the pool.", "um so yeah"])
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it embeds, without the parent's pool threads
        try:
            vectors = enc.embed(["I did not match.", "I applied to too few programs.", "ok"])
            os._exit(0 if vectors.shape == (3, encoder.DIM) else 1)
        except BaseException:
            os._exit(2)
    for _ in range(600):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung embedding")
    assert os.waitstatus_to_exitcode(status) == 0
