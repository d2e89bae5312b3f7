"""The semantic layer: the trained head, its training, and what it changes in the verdicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coach.scoring import decide, score_answer, semantic
from coach.scoring.corpus import CONTENT, corpus_hash, load_corpus, load_split
from coach.scoring.encoder import MODEL_SHA256, TOKENIZER_SHA256
from coach.scoring.rubric import load_rubric
from coach.scoring.validation import evaluate_corpus

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
#: The typed answer of issue 11: polite blame the phrase lists scored 100 for tone.
ISSUE_11 = (
    "My colleagues would say I am dependable and calm. Honestly though the residents never"
    " really gave me a fair shot and the attendings played favorites, so my evaluations do not"
    " reflect me. I just try to keep my head down."
)


@pytest.mark.parametrize("category", ["tell-me-about-yourself", "failed-match", "conflict"])
def test_the_issue_answer_no_longer_passes_factual_tone(category: str) -> None:
    report = score_answer(ISSUE_11, category=category)
    tone = report.criterion("factual_tone")
    assert tone is not None and not tone.passed
    assert "calm, factual" not in tone.feedback.lower()
    blame = [e for e in tone.evidence if e.effect == "-"]
    assert any("residents" in e.text and e.reason == "puts the cause on others" for e in blame)
    # Nothing in the blaming sentence is praised.
    assert not [e for e in tone.evidence if e.effect == "+" and "residents" in e.text]
    growth = report.criterion("growth_focus")
    assert growth is not None
    assert not [e for e in growth.evidence if e.effect == "+" and "just try" in e.text]


def test_rules_alone_still_work_when_the_layer_is_off() -> None:
    report = score_answer(ISSUE_11, category="failed-match", semantic=False)
    tone = report.criterion("factual_tone")
    assert tone is not None and tone.passed  # what the issue reported, rules alone


def test_the_head_file_loads_and_matches_its_recorded_hashes() -> None:
    head = semantic.load_head()
    assert head.meta["encoder_sha256"] == MODEL_SHA256
    assert head.meta["tokenizer_sha256"] == TOKENIZER_SHA256
    assert {"tone_risk", "blame", "action", "vague_growth"} <= set(head.labels)
    assert head.weights.shape == (len(head.labels), 2 * 384)
    assert set(head.thresholds) >= {"tone_flag", "tone_note", "content_credit", "hollow"}
    # Trained on exactly the corpus's current train split (retrain when the corpus changes).
    split = load_split(CORPUS / "split.toml")
    train = [a for a in load_corpus(CORPUS) if split.get(a.id) == "train"]
    assert head.meta["corpus_sha256"] == corpus_hash(train)
    assert head.meta["train_answers"] == len(train)


def test_a_head_for_another_encoder_is_refused(tmp_path: Path) -> None:
    head = semantic.load_head()
    other = semantic.Head(
        head.labels, head.weights, head.bias, head.thresholds, {**head.meta, "encoder_sha256": "0"}
    )
    path = tmp_path / "head.npz"
    semantic.save_head(path, other)
    with pytest.raises(Exception, match="another encoder"):
        semantic.load_head(path)


@pytest.mark.slow
def test_training_is_deterministic(tmp_path: Path) -> None:
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}" / "head.npz"
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "train_scorer.py"),
                "--limit",
                "24",
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
            timeout=600,
            cwd=REPO,
        )
        # The encoder's tuned layers are written next to the head (torch, deterministic mode).
        outs.append((out.read_bytes(), (out.parent / "encoder_top.npz").read_bytes()))
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_the_test_split_figures_meet_their_floor() -> None:
    """Measured when the head was trained (README, benchmarks/scoring.py); floors sit a
    little below, so a change that makes the layer worse fails here."""
    split = load_split(CORPUS / "split.toml")
    test = [a for a in load_corpus(CORPUS) if split.get(a.id) == "test"]
    rules = evaluate_corpus(test, semantic=False)
    both = evaluate_corpus(test, semantic=True)
    # Measured with the encoder's top layers tuned on the train split with the answer-level
    # tone loss (200 test answers, 36 of them tone hard cases, 2026-12-02): AUC 0.990, tone
    # 87.5 %, growth 95.4 %, content 94.0 %, false reassurance 7 of 65 (before that loss:
    # 0.979, 86.5 %, 93.9 %, 93.0 %, 12 of 65). With three seeds' tuned layers averaged
    # (2026-12-04, fused integer graph): 0.990, 87.5 %, 94.4 %, 94.5 %, 6 of 65.
    assert both.auc >= 0.98
    assert both.pct("factual_tone") >= 86
    assert both.pct("growth_focus") >= 92
    assert both.pct("content") >= 91
    assert both.false_reassurance <= 10
    # The layer must help where the issue says rules fail: tone and false reassurance.
    assert both.pct("factual_tone") > rules.pct("factual_tone")
    assert both.false_reassurance < rules.false_reassurance


def test_the_costliest_sentence_gets_a_rewrite_hint_from_the_question() -> None:
    from coach.questions import load_question_bank

    bank = {q.id: q for q in load_question_bank(include_user=False)}
    q = bank["fm-what-happened"]
    report = score_answer(ISSUE_11, question=q)
    hint = report.tips[0]
    assert hint.startswith("Rewrite “Honestly though the residents")
    assert "For example: “" in hint
    example_part = hint.split("For example: “")[1].rstrip("”").rstrip("…")
    assert example_part[:40] in " ".join(q.example_answer.split())
    assert any(tip.rstrip(".") in hint for tip in q.tips)
    assert report.tips[1:] == q.tips
    # A good answer gets the question's tips only.
    good = score_answer(" ".join(q.example_answer.split()), question=q)
    assert good.tips == q.tips


def test_the_corpus_loads_and_covers_what_the_issue_asks() -> None:
    answers = load_corpus(CORPUS)
    split = load_split(CORPUS / "split.toml")
    assert len(answers) >= 400
    assert sum(len(a.sentences) for a in answers) >= 2000
    assert {a.category for a in answers} == set(CONTENT)
    assert {a.id for a in answers} == set(split)  # every answer has its one split
    assert sum(a.form == "asr" for a in answers) >= len(answers) // 5


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('id = "x-1"\ncategory = "nope"', "answers.x-1.category"),
        ('id = "x-1"\ncategory = "weakness"\nvoice = "robot"', "answers.x-1.voice"),
        (
            'id = "x-1"\ncategory = "weakness"\nvoice = "terse"\nform = "typed"\nlabel = "good"\n'
            'sentences = [{ t = "I rush.", l = ["c:transitions"] }]',
            "answers.x-1.sentences[0].l",
        ),
    ],
)
def test_a_bad_corpus_file_names_the_file_and_key(tmp_path: Path, body: str, key: str) -> None:
    from coach.errors import DataFileError
    from coach.scoring.corpus import load_file

    path = tmp_path / "weakness.toml"
    path.write_text("[[answers]]\n" + body + "\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_file(path)
    assert str(path) in str(err.value) and f"'{key}'" in str(err.value)


def test_the_answer_head_loads_and_was_trained_on_the_shipped_sentence_head() -> None:
    d = decide.load()
    assert d.names == tuple(decide.feature_names())
    assert set(d.models) == set(decide.DECIDED) == set(d.bands)
    # It withholds a pass when confident. It grants one only for growth and content (where
    # the rules credited something and nothing cost points, and a content fail is not firm);
    # tone is never passed when the rules fail it.
    assert all(0.0 <= lo < 1.0 for lo, _ in d.bands.values())
    assert decide.GRANTS == ("growth_focus", "content")
    assert all(hi > 1.0 for c, (_, hi) in d.bands.items() if c not in decide.GRANTS)
    # Pinning is chosen by cross-validation (None: not needed); a pinned sentence reads as
    # some risk.
    assert d.attach is None or d.attach >= 0.1
    # A fail pinned on the likeliest sentence asks for at least as much confidence.
    assert d.pin_below is None or d.pin_below <= d.bands["factual_tone"][0]
    # Its features are the sentence head's probabilities: retrain both together.
    assert d.meta["semantic_corpus_sha256"] == semantic.load_head().meta["corpus_sha256"]
    assert decide.head_path().stat().st_size < 64_000  # small, in the wheel


def test_the_answer_layer_decides_but_the_rules_keep_the_evidence() -> None:
    """A confident answer-level "fail" moves the score below the threshold and drops the
    praise; the evidence (which sentence cost what) is the rules' and the sentences'."""
    shipped = decide.load()
    text = (
        "I did not match last year. Since then I worked as a hospitalist assistant, passed"
        " Step 3 and asked two mentors to review my application. I learned to ask for"
        " feedback early, and I will apply more broadly this cycle."
    )
    free = score_answer(text, category="failed-match", decider=False)
    never = decide.Decider(
        shipped.names,
        shipped.mean,
        shipped.scale,
        shipped.models,
        shipped.weights,
        {c: (1.0, 1.01) for c in decide.DECIDED},  # "fail" wherever the rules can say why
        shipped.meta,
    )
    forced = score_answer(text, category="failed-match", decider=never)
    rubric = load_rubric()
    tone = forced.criterion("factual_tone")
    assert tone is not None and tone.passed  # no sentence cost tone points: not failed
    assert tone == free.criterion("factual_tone")
    for cid in ("growth_focus", "content"):
        before, after = free.criterion(cid), forced.criterion(cid)
        assert before is not None and after is not None
        assert before.passed and not after.passed and after.score < 60
        assert after.evidence == before.evidence
        assert after.feedback != rubric.criteria[cid].template("good")  # no praise
    # Brevity is never decided by the answer layer.
    assert forced.criterion("brevity") == free.criterion("brevity")
    # With the rules alone there is no sentence reading, so no answer layer either.
    rules = score_answer(text, category="failed-match", semantic=False)
    assert rules.overall == score_answer(text, category="failed-match", semantic=False).overall


def test_a_point_with_more_phrases_than_it_shows_shows_the_ones_that_deliver_it() -> None:
    """The phrases found "Peds" (inside "I am applying to Med-Peds", the commitment point)
    and "categorical" for the honest strategy, and "my mentor" and "reapply" for the next
    step; each point shows one. The one shown is the one that makes sense: not a word inside
    another point's phrase, and from the sentence the model reads as delivering the point.
    Which one is shown never changes the count, so the score."""
    text = (
        "This cycle I am applying to Med-Peds and to categorical internal medicine, which my"
        " mentor and I settled on together in June. If neither comes through, I would look"
        " for a clinical job for the year and reapply with a broader list."
    )
    report = score_answer(text, category="backup-plan")
    content = report.criterion("content")
    assert content is not None
    shown = {e.reason: e.text for e in content.evidence if e.effect == "+"}
    assert shown["your honest strategy, such as dual-applying"] == "categorical"
    assert shown["a concrete next step if it does not work out"] == "reapply"
    assert shown["your continued commitment to Med-Peds"] == "I am applying to Med-Peds"
    # Without a reading the next step shown is the first in the answer; the score is the same.
    rules = score_answer(text, category="backup-plan", semantic=False).criterion("content")
    free = score_answer(text, category="backup-plan", decider=False).criterion("content")
    assert rules is not None and free is not None
    assert {e.reason: e.text for e in rules.evidence}[
        "a concrete next step if it does not work out"
    ] == "my mentor"
    assert free.score == rules.score


def _forced(bands: dict[str, tuple[float, float]], attach: float | None) -> decide.Decider:
    shipped = decide.load()
    return decide.Decider(
        shipped.names,
        shipped.mean,
        shipped.scale,
        shipped.models,
        shipped.weights,
        {**shipped.bands, **bands},
        shipped.meta,
        attach,
    )


def test_a_withheld_tone_pass_names_its_riskiest_sentence_gently() -> None:
    """No sentence cost tone points, but the answer as a whole reads as blame: the fail is
    pinned on the sentence with the highest tone risk, said gently, never on a sentence the
    rules set aside ("I don't blame the programs")."""
    # Band and pin floor forced: this test is about where a withheld pass is pinned and how it
    # is said, not about the shipped calibration (the shipped reader gives the advising
    # sentence a tone risk of about 0.27, under its pin floor of 0.4).
    always = _forced({"factual_tone": (1.0, 1.01)}, 0.2)
    rubric = load_rubric()
    text = (
        "I did not match last year. The advising I got was, let's say, minimal. Since"
        " then I have worked as a research coordinator and passed Step 3."
    )
    free = score_answer(text, category="failed-match", decider=False).criterion("factual_tone")
    tone = score_answer(text, category="failed-match", decider=always).criterion("factual_tone")
    assert free is not None and free.passed and not [e for e in free.evidence if e.effect == "-"]
    assert tone is not None and not tone.passed
    assert tone.score < rubric.criteria["factual_tone"].threshold
    (pin,) = [e for e in tone.evidence if e.effect == "-"]
    assert pin.text.startswith("The advising I got")
    assert pin.reason.startswith("some interviewers may hear this as: ")
    assert tone.feedback.startswith("Some interviewers may feel one sentence")
    # Without a pin floor the layer keeps the old rule: no cost, no fail.
    old = score_answer(text, category="failed-match", decider=_forced({}, None))
    assert old.criterion("factual_tone") == free
    # Negated blame is set aside by the rules; nothing else reads as blame: no pin, no fail.
    negated = (
        "I don't blame the programs or the Match for how it went. I applied too narrowly, and"
        " that was my call. Since then I have worked as a research coordinator and passed Step 3."
    )
    kept = score_answer(negated, category="failed-match", decider=always)
    tone = kept.criterion("factual_tone")
    assert tone is not None and tone.passed
    assert not [e for e in tone.evidence if e.effect == "-"]


def test_only_growth_and_content_are_granted_and_only_on_credited_evidence() -> None:
    everything = _forced({c: (0.0, 0.0) for c in decide.DECIDED}, None)
    credited = (
        "I did not match last year. It was hard, but I learned to ask for feedback earlier."
        " I am still figuring out what comes next."
    )
    free = score_answer(credited, category="failed-match", decider=False)
    granted = score_answer(credited, category="failed-match", decider=everything)
    before, after = free.criterion("growth_focus"), granted.criterion("growth_focus")
    assert before is not None and after is not None
    assert not before.passed and after.passed
    assert after.evidence == before.evidence and after.feedback == before.feedback
    # Too few content points found by the phrases is a soft fail: granted, and the feedback
    # stops saying "this stays general" and names what would make it stronger.
    content, passed = free.criterion("content"), granted.criterion("content")
    assert content is not None and passed is not None
    assert not content.passed and not content.firm and passed.passed
    assert content.feedback.startswith("This stays general")
    assert passed.feedback.startswith("To make it stronger, add")
    assert passed.evidence == content.evidence
    # Nothing credited: nothing to stand a pass on.
    hollow = "I did not match last year. It was a hard year for me and my family. I am still here."
    for decider in (False, everything):
        growth = score_answer(hollow, category="failed-match", decider=decider).criterion(
            "growth_focus"
        )
        assert growth is not None and not growth.passed
    # The overall score stays the weighted mean of the criteria.
    total = sum(c.weight for c in granted.criteria)
    assert granted.overall == pytest.approx(
        sum(c.score * c.weight for c in granted.criteria) / total
    )


@pytest.mark.parametrize(
    ("category", "text"),
    [
        # Spin by omission: the phrases credit "first try" as the red flag named; the
        # sentences do not read a red flag named anywhere.
        (
            "red-flag",
            "My path through school was not a straight line. Since then I have worked hard,"
            " passed every exam on the first try and earned honors in pediatrics. I am proud"
            " of how I finish things now.",
        ),
        # A required point missing: the failed match is never said.
        (
            "failed-match",
            "This year I worked as a research coordinator in a pediatric asthma clinic and"
            " learned to ask for feedback early. I am applying more broadly this cycle.",
        ),
        # No story told for a behavioural question.
        (
            "conflict",
            "When there is a conflict on a team I listen first, I stay calm and I try to find"
            " common ground, because patients do better when the team works together.",
        ),
    ],
)
def test_a_firm_content_fail_is_never_granted(category: str, text: str) -> None:
    everything = _forced({c: (0.0, 0.0) for c in decide.DECIDED}, None)
    free = score_answer(text, category=category, decider=False).criterion("content")
    forced = score_answer(text, category=category, decider=everything).criterion("content")
    assert free is not None and forced is not None
    assert not free.passed and free.firm
    assert forced == free


def test_the_embedding_cache_stays_bounded_and_never_drops_what_an_answer_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the cache is full, it is cleared before an answer's new texts go in; texts of
    the same answer that were cached before are still returned (this raised KeyError once
    the corpus outgrew the cache)."""
    import numpy as np

    class Counting:
        calls = 0

        def embed(self, texts: list[str]) -> np.ndarray:
            Counting.calls += len(texts)
            return np.array([[float(len(t)), 1.0] for t in texts])

    monkeypatch.setattr(semantic, "_emb_cache", {})
    monkeypatch.setattr(semantic, "_EMB_CACHE_MAX", 4)
    enc = Counting()
    semantic.embed_cached(enc, ["a", "bb", "ccc"])
    out = semantic.embed_cached(enc, ["bb", "dddd", "eeeee", "a"])
    assert out[:, 0].tolist() == [2.0, 4.0, 5.0, 1.0]
    assert Counting.calls == 5  # "bb" and "a" came from the cache
    assert len(semantic._emb_cache) <= 4


def test_the_reserve_set_loads_and_stays_out_of_training() -> None:
    """corpus/reserve holds labelled answers never trained on (a second held-out check): they
    load under the same checks, and none is in the corpus or its split."""
    reserve = load_corpus(CORPUS, "reserve")  # ids unique within it, as in the corpus
    assert len(reserve) == 132 + 110 + 132  # batches k, l and m
    assert not {a.id for a in reserve} & {a.id for a in load_corpus(CORPUS)}
    assert not {a.id for a in reserve} & set(load_split(CORPUS / "split.toml"))
    assert {a.category for a in load_corpus(CORPUS, "reserve", batch="l")} == set(CONTENT)
    assert {a.category for a in load_corpus(CORPUS, "reserve", batch="m")} == set(CONTENT)


@pytest.mark.parametrize(
    ("letter", "auc", "tone", "rules_tone"),
    # Measured on the single-seed release (README, benchmarks/scoring.py): k AUC 0.949, tone 110
    # of 132, rules alone 66; l (2026-12-03, scored once when written) 0.953, 72 of 110, rules 44;
    # m (2026-12-03, four writers who saw no corpus answer, scored once) 0.932, 97 of 132, rules
    # 77. With three seeds averaged (2026-12-04): k 0.955, 109; l 0.967, 72; m 0.936, 96.
    [("k", 0.94, 106, 66), ("l", 0.94, 69, 44), ("m", 0.92, 93, 77)],
)
def test_the_reserve_batches_keep_their_measured_figures(
    letter: str, auc: float, tone: int, rules_tone: int
) -> None:
    """The held-out reserve batches are never trained on; their figures are a floor a change
    to the scorer must not fall below (not a target to tune to: they are far under 90 %)."""
    part = load_corpus(CORPUS, "reserve", batch=letter)
    both = evaluate_corpus(part)
    assert both.auc >= auc
    assert both.agreement["factual_tone"][0] >= tone
    # Written to defeat phrase lists (the rules alone got 66 and 44 when measured); more here
    # would mean phrases were fitted to a set that must stay held out.
    assert evaluate_corpus(part, semantic=False).agreement["factual_tone"][0] <= rules_tone


def test_every_batch_labels_tone_by_the_same_rule() -> None:
    """corpus/ANNOTATION.md: factual_tone is false as soon as one sentence blames, excuses,
    vents or pities, and true otherwise. Batches were written months apart (a-c, d-j, the
    reserve k); an answer whose expectation and sentence labels disagree would teach the
    answer layer one thing and the sentence readers another."""
    off = [
        a.id
        for a in load_corpus(CORPUS) + load_corpus(CORPUS, "reserve")
        if "factual_tone" in a.expect
        and a.expect["factual_tone"] == any(s.tone_risk for s in a.sentences)
    ]
    assert off == []


def test_the_label_check_rejects_a_bad_floor() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "check_labels.py"), "--min", "0"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--min" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_near_twin_sentences_keep_their_reviewed_tone_labels() -> None:
    """scripts/check_labels.py over the whole corpus and the reserve set: the pairs of
    near-identical sentences (cosine >= 0.85) whose tone labels differ were each read against
    the guide (2026-12-02; each differs by its context, or, for the one weakness pair, the
    answers' tone expectation agrees either way). A new batch that adds a pair must be read too:
    batch m added one (2026-12-03), rf-2006 "i know it will not be a problem" (filler, a calm
    close after a family leave that was named and owned) against wk-708's "it won't be an
    issue" (excuse, waving away a weakness)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_labels", REPO / "scripts/check_labels.py")
    assert spec is not None and spec.loader is not None
    check_labels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_labels)
    n, pairs = check_labels.conflicts(0.85)
    assert n == sum(len(a.sentences) for a in load_corpus(CORPUS) + load_corpus(CORPUS, "reserve"))
    assert len(pairs) <= 10
    assert {pairs[0][1][1], pairs[0][2][1]} == {"wk-708", "wk-010"}
