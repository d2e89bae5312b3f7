"""The answer-level layer: whether each criterion passes, learned from whole labelled answers.

The rules and the sentence layer (coach.scoring.criteria, coach.scoring.semantic) still find
the evidence, cost the points and write the feedback: which sentence cost what, and why. What
this layer adds is the decision. Per criterion (factual_tone, growth_focus, content) a small
logistic model reads the answer as a whole: the rule criterion scores, each sentence label's
max / mean / share over the answer's sentences, the share of sentences read as blame etc.,
how many of the category's content points the sentences deliver, the answer's length and a
per-category bias (so a pass means the same thing in every category). Where it is confident
(its probability below a floor chosen on the corpus's dev split) it withholds the pass and the
score moves below the threshold; otherwise the rules decide, as before. It only ever turns a
pass into a fail (for tone, only where a sentence cost points). It never passes what the rules fail (a red-flag
answer that never names the failure stays a fail however fluent it is). ``overall`` stays the
weighted mean of the criteria, so it moves with them.

Trained by scripts/train_scorer.py (``train_decider``) on the corpus's TRAIN answers and the
older answer-level labelled sets of tests/data; band and blend chosen on DEV; the test split
is never read. Ships as coach/scoring/data/answer_head.npz (a few kB). Without it, or without
the sentence layer, scoring is what it was.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import CoachError
from coach.questions import CATEGORIES
from coach.scoring.corpus import ROLES
from coach.scoring.report import CriterionResult
from coach.scoring.rubric import Rubric
from coach.scoring.semantic import Reading

FORMAT = 1
DECIDED = ("factual_tone", "growth_focus", "content")
RULED = ("brevity", "factual_tone", "growth_focus", "content")
ROLE_LABELS = (*ROLES, "tone_risk")
#: How far past the threshold a decided score is put, per unit of probability past the band.
SPREAD = 40.0


def feature_names() -> list[str]:
    names = [f"rule:{c}" for c in RULED] + [f"pass:{c}" for c in RULED]
    for lab in ROLE_LABELS:
        names += [f"max:{lab}", f"mean:{lab}", f"share:{lab}"]
    names += ["tone:max", "tone:flagged", "tone:noted"]
    names += ["content:mean", "content:min", "content:share"]
    names += ["log_words", "log_sentences"]
    names += [f"cat:{c}" for c in sorted(CATEGORIES)]
    return names


def features(
    results: dict[str, CriterionResult], reading: Reading, words: int, rubric: Rubric
) -> np.ndarray:
    """The answer's feature vector (order of :func:`feature_names`)."""
    out: list[float] = []
    for c in RULED:
        out.append(results[c].score / 100.0)
    for c in RULED:
        out.append(1.0 if results[c].passed else 0.0)
    n = len(reading.segments)
    for lab in ROLE_LABELS:
        col = np.array([reading.p(k, lab) for k in range(n)])
        out += [float(col.max()), float(col.mean()), float((col >= 0.5).mean())]
    risk = np.array([reading.tone(k)[0] for k in range(n)])
    out += [
        float(risk.max()),
        float((risk >= reading.t("tone_flag")).mean()),
        float((risk >= reading.t("tone_note")).mean()),
    ]
    points = rubric.category(reading.category).groups
    best = [
        max(reading.p(k, f"c:{reading.category}:{g.id}") for k in range(n))
        for g in points
        if reading.head.index(f"c:{reading.category}:{g.id}") is not None
    ] or [0.0]
    out += [
        float(np.mean(best)),
        float(np.min(best)),
        float(np.mean(np.array(best) >= reading.t("content_credit"))),
    ]
    out += [float(np.log1p(words)), float(np.log1p(n))]
    out += [1.0 if reading.category == c else 0.0 for c in sorted(CATEGORIES)]
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True)
class Decider:
    names: tuple[str, ...]
    mean: np.ndarray  # (features,)
    scale: np.ndarray  # (features,)
    models: tuple[str, ...]  # DECIDED
    weights: np.ndarray  # (models, features + 1), bias last
    #: Per decided criterion: (lo, hi); the model decides below lo (fail) or from hi (pass;
    #: hi > 1 for every criterion shipped, see the module docstring).
    bands: dict[str, tuple[float, float]]
    meta: dict[str, Any]

    def prob(self, model: str, x: np.ndarray) -> float:
        w = self.weights[self.models.index(model)]
        z = float(((x - self.mean) / self.scale) @ w[:-1] + w[-1])
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))

    def decide(self, r: CriterionResult, p: float) -> bool:
        lo, hi = self.bands[r.id]
        if p >= hi:
            return True
        if p < lo and explains_fail(r):
            return False
        return r.passed

    def apply(
        self, results: list[CriterionResult], x: np.ndarray, rubric: Rubric
    ) -> list[CriterionResult]:
        """The results with each decided criterion's pass/fail (and the score's side of the
        threshold) set by the answer-level model."""
        out: list[CriterionResult] = []
        for r in results:
            if r.id not in self.bands:
                out.append(r)
                continue
            p = self.prob(r.id, x)
            out.append(moved(r, self.decide(r, p), p, self.bands[r.id], rubric))
        return out


def explains_fail(r: CriterionResult) -> bool:
    """Whether a fail can stand on what the rules show. Tone needs a sentence that cost
    points: "I don't blame the programs" reads like blame to the encoder and is set aside by
    the rules, so tone with no cost is never failed. Growth and content can always be: the
    feedback then says what the criterion asks for ("add what you learned and one concrete
    step"), which is what a credited but hollow phrase is missing."""
    if r.id != "factual_tone":
        return True
    return any(e.effect == "-" for e in r.evidence)


def moved(
    r: CriterionResult, passed: bool, p: float, band: tuple[float, float], rubric: Rubric
) -> CriterionResult:
    """``r`` with ``passed``; the score crosses the threshold only when the decision changed,
    by how sure the model is (the evidence and the costs stay those of the rules)."""
    if passed == r.passed:
        return r
    spec = rubric.criteria[r.id]
    th = float(spec.threshold)
    if passed:
        score = min(100.0, max(r.score, th + SPREAD * (p - band[1])))
        feedback = r.feedback
    else:
        score = max(0.0, min(r.score, th - 1.0 - SPREAD * (band[0] - p)))
        good = spec.template("good")
        # Praise no longer fits a criterion that fails; the rules found no single cost, so
        # say what the criterion asks for.
        feedback = r.feedback if r.feedback != good else spec.template("weak")
    return replace(r, score=score, passed=passed, feedback=feedback)


def head_path() -> Path:
    return Path(__file__).parent / "data" / "answer_head.npz"


def save(path: Path, d: Decider) -> None:
    meta = {
        **d.meta,
        "format": FORMAT,
        "names": list(d.names),
        "models": list(d.models),
        "bands": {k: [round(v[0], 4), round(v[1], 4)] for k, v in sorted(d.bands.items())},
    }
    with path.open("wb") as f:
        np.savez(
            f,
            mean=d.mean.astype(np.float32),
            scale=d.scale.astype(np.float32),
            weights=d.weights.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        )


def load(path: Path | None = None) -> Decider:
    path = path or head_path()
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            mean, scale, weights = z["mean"], z["scale"], z["weights"]
    except (OSError, ValueError, KeyError) as e:
        raise CoachError(
            f"answer head {path} cannot be read ({e})", "reinstall the coach"
        ) from None
    names = tuple(meta.get("names", ()))
    if meta.get("format") != FORMAT or names != tuple(feature_names()):
        raise CoachError(
            f"answer head {path} was trained for other features", "run `make train-scorer`"
        )
    models = tuple(meta["models"])
    if weights.shape != (len(models), len(names) + 1):
        raise CoachError(f"answer head {path} has mismatched shapes", "run `make train-scorer`")
    bands = {k: (float(v[0]), float(v[1])) for k, v in meta["bands"].items()}
    return Decider(
        names,
        mean.astype(np.float64),
        scale.astype(np.float64),
        models,
        weights.astype(np.float64),
        bands,
        meta,
    )


_lock = threading.Lock()
_state: dict[str, Any] = {}


def get() -> Decider | None:
    """The shipped answer head, loaded once; None when it is missing or unreadable (the
    criteria then decide on their rules, as before)."""
    with _lock:
        if "decider" not in _state:
            try:
                _state["decider"] = load() if head_path().exists() else None
            except CoachError:
                _state["decider"] = None
        d: Decider | None = _state["decider"]
        return d
