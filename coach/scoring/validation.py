"""Checking the scorer against a labelled set of answers (tests and benchmarks use this).

A labelled file is TOML with ``[[answers]]`` entries: ``id``, ``category``, ``label``
(good / bad / mixed), ``expect`` (criterion id -> whether the answer should pass it),
``note``, ``text`` and optionally ``asr = true`` for answers written the way a speech
recogniser returns them. Two figures come out: the ROC AUC of ``overall`` between good and bad
answers, and for each criterion how often its pass/fail agrees with ``expect``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coach.datafile import Checker, did_you_mean, read_toml
from coach.questions import CATEGORIES
from coach.scoring.corpus import CorpusAnswer
from coach.scoring.report import ScoreReport
from coach.scoring.rubric import CRITERIA, Rubric

LABELS = ("good", "bad", "mixed")
_KEYS = ("id", "category", "label", "expect", "note", "text", "asr")


@dataclass(frozen=True, slots=True)
class LabelledAnswer:
    id: str
    category: str
    label: str
    expect: dict[str, bool]
    note: str
    text: str
    asr: bool = False


@dataclass(frozen=True, slots=True)
class Disagreement:
    answer_id: str
    criterion: str
    expected: bool
    score: float


@dataclass(frozen=True, slots=True)
class CriterionAgreement:
    criterion: str
    agree: int
    total: int
    disagreements: tuple[Disagreement, ...] = ()

    @property
    def rate(self) -> float:
        return self.agree / self.total if self.total else 1.0


@dataclass(frozen=True)
class ValidationResult:
    auc: float
    n_good: int
    n_bad: int
    agreement: dict[str, CriterionAgreement]
    reports: dict[str, ScoreReport] = field(repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "auc": round(self.auc, 4),
            "good": self.n_good,
            "bad": self.n_bad,
            "agreement": {
                cid: {
                    "agree": a.agree,
                    "total": a.total,
                    "rate": round(a.rate, 4),
                    "disagreements": [d.answer_id for d in a.disagreements],
                }
                for cid, a in self.agreement.items()
            },
        }


def load_labelled(path: Path) -> list[LabelledAnswer]:
    """Read and check a labelled answers file; errors name the file and the key."""
    data = read_toml(path)
    c = Checker(path)
    c.unknown(data, ("version", "answers"), "")
    entries = data.get("answers")
    if not isinstance(entries, list) or not entries:
        raise c.fail("answers", "must hold at least one [[answers]] entry", "add [[answers]]")
    out: list[LabelledAnswer] = []
    seen: set[str] = set()
    for i, raw in enumerate(entries):
        key = f"answers[{i}]"
        entry = c.table(raw, key)
        c.unknown(entry, _KEYS, key)
        answer_id = c.string(entry.get("id"), f"{key}.id")
        key = f"answers.{answer_id}"
        if answer_id in seen:
            raise c.fail(f"{key}.id", "repeats an earlier id", "give each answer a unique id")
        seen.add(answer_id)
        category = c.string(entry.get("category"), f"{key}.category")
        if category not in CATEGORIES:
            raise c.fail(f"{key}.category", "is not a category", did_you_mean(category, CATEGORIES))
        label = c.string(entry.get("label"), f"{key}.label")
        if label not in LABELS:
            raise c.fail(f"{key}.label", "is not a label", did_you_mean(label, LABELS))
        expect_raw = c.table(entry.get("expect", {}), f"{key}.expect")
        expect: dict[str, bool] = {}
        for cid, value in expect_raw.items():
            if cid not in CRITERIA:
                raise c.fail(
                    f"{key}.expect.{cid}", "is not a criterion", did_you_mean(cid, CRITERIA)
                )
            expect[cid] = c.boolean(value, f"{key}.expect.{cid}")
        out.append(
            LabelledAnswer(
                id=answer_id,
                category=category,
                label=label,
                expect=expect,
                note=c.string(entry.get("note"), f"{key}.note"),
                text=c.string(entry.get("text"), f"{key}.text").strip(),
                asr=c.boolean(entry.get("asr", False), f"{key}.asr"),
            )
        )
    return out


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if not positives or not negatives:
        raise ValueError("ROC AUC needs at least one positive and one negative score")
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def evaluate(answers: Iterable[LabelledAnswer], rubric: Rubric | None = None) -> ValidationResult:
    """Score every answer; the AUC of good versus bad and each criterion's agreement."""
    from coach.scoring.rubric import load_rubric
    from coach.scoring.scorer import score_answer

    rubric = rubric or load_rubric()
    reports: dict[str, ScoreReport] = {}
    good: list[float] = []
    bad: list[float] = []
    agree: dict[str, int] = {}
    total: dict[str, int] = {}
    wrong: dict[str, list[Disagreement]] = {}
    for a in answers:
        report = score_answer(a.text, category=a.category, rubric=rubric)
        reports[a.id] = report
        if a.label == "good":
            good.append(report.overall)
        elif a.label == "bad":
            bad.append(report.overall)
        for cid, expected in a.expect.items():
            result = report.criterion(cid)
            if result is None:  # delivery on a typed answer: nothing to compare
                continue
            total[cid] = total.get(cid, 0) + 1
            if result.passed == expected:
                agree[cid] = agree.get(cid, 0) + 1
            else:
                wrong.setdefault(cid, []).append(Disagreement(a.id, cid, expected, result.score))
    agreement = {
        cid: CriterionAgreement(cid, agree.get(cid, 0), total[cid], tuple(wrong.get(cid, ())))
        for cid in CRITERIA
        if cid in total
    }
    return ValidationResult(roc_auc(good, bad), len(good), len(bad), agreement, reports)


@dataclass(frozen=True)
class CorpusFigures:
    """How the scorer does on corpus answers (coach.scoring.corpus), e.g. the test split."""

    n: int
    auc: float
    agreement: dict[str, tuple[int, int]]  # criterion -> (agree, total)
    false_reassurance: int  # bad answers whose factual_tone or growth_focus passes
    n_bad: int
    wrong: dict[str, list[str]]

    def pct(self, criterion: str) -> float:
        ok, total = self.agreement.get(criterion, (0, 0))
        return 100.0 * ok / total if total else float("nan")


def evaluate_corpus(answers: Iterable[CorpusAnswer], *, semantic: bool = True) -> CorpusFigures:
    """Score corpus answers end to end and compare with their labels."""
    from coach.scoring.scorer import score_answer

    good: list[float] = []
    bad: list[float] = []
    agree: dict[str, list[int]] = {}
    wrong: dict[str, list[str]] = {}
    reassured = 0
    n = 0
    for a in answers:
        n += 1
        rep = score_answer(a.text, category=a.category, semantic=semantic)
        passed = {c.id: c.passed for c in rep.criteria}
        if a.label == "good":
            good.append(rep.overall)
        elif a.label == "bad":
            bad.append(rep.overall)
            if any(
                passed[c] and a.expect.get(c) is False for c in ("factual_tone", "growth_focus")
            ):
                reassured += 1
        for cid, expected in a.expect.items():
            tally = agree.setdefault(cid, [0, 0])
            tally[1] += 1
            if passed[cid] == expected:
                tally[0] += 1
            else:
                wrong.setdefault(cid, []).append(a.id)
    auc = roc_auc(good, bad) if good and bad else float("nan")
    return CorpusFigures(
        n, auc, {k: (v[0], v[1]) for k, v in agree.items()}, reassured, len(bad), wrong
    )
