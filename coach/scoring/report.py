"""Typed results of scoring an answer.

Every criterion carries *evidence*: character spans of the transcript that earned (``+``) or
cost (``-``) points, so the app can highlight them and exports can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Effect = Literal["+", "-"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the answer text ``text[start:end]`` and whether it helped or hurt."""

    start: int
    end: int
    text: str
    effect: Effect
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "effect": self.effect,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        effect: Effect = "+" if d["effect"] == "+" else "-"
        return cls(int(d["start"]), int(d["end"]), str(d["text"]), effect, str(d.get("reason", "")))


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One rubric criterion's verdict."""

    id: str  # brevity, factual_tone, growth_focus, delivery, content
    name: str
    score: float  # 0-100
    passed: bool
    feedback: str  # one short, kind, specific sentence
    evidence: tuple[Evidence, ...] = ()
    weight: float = 1.0
    #: The fail rests on a rule no model may overturn (content: a required point never made,
    #: no story told, a capping penalty). Known only while scoring; not stored.
    firm: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "score": round(self.score, 1),
            "passed": self.passed,
            "feedback": self.feedback,
            "weight": self.weight,
            "evidence": [e.to_dict() for e in self.evidence],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CriterionResult:
        return cls(
            id=str(d["id"]),
            name=str(d.get("name", d["id"])),
            score=float(d["score"]),
            passed=bool(d["passed"]),
            feedback=str(d.get("feedback", "")),
            evidence=tuple(Evidence.from_dict(e) for e in d.get("evidence", [])),
            weight=float(d.get("weight", 1.0)),
        )


@dataclass(frozen=True, slots=True)
class AnswerStats:
    """Counts about the answer; the audio figures are None for typed answers."""

    words: int
    sentences: int
    duration_s: float | None = None
    wpm: float | None = None
    fillers: int | None = None
    long_pauses: int | None = None
    hedges: int | None = None

    def summary_parts(self, target_s: tuple[int, int] | None = None) -> list[str]:
        """Human-readable figures ("65 words", "21 s (aim 60–90 s)", "1 filler", ...)."""

        def count(n: int, noun: str) -> str:
            return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

        parts = [count(self.words, "word"), count(self.sentences, "sentence")]
        if self.duration_s is not None:
            aim = f" (aim {target_s[0]}–{target_s[1]} s)" if target_s and target_s[1] else ""
            parts.append(f"{self.duration_s:.0f} s{aim}")
        if self.wpm is not None:
            parts.append(f"{self.wpm:.0f} words/min")
        if self.fillers is not None:
            parts.append(count(self.fillers, "filler"))
        if self.long_pauses is not None:
            parts.append(count(self.long_pauses, "long pause"))
        if self.hedges is not None:
            parts.append(count(self.hedges, "hedge"))
        return parts

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"words": self.words, "sentences": self.sentences}
        for key in ("duration_s", "wpm", "fillers", "long_pauses", "hedges"):
            value = getattr(self, key)
            if value is not None:
                d[key] = round(value, 2) if isinstance(value, float) else value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnswerStats:
        return cls(
            words=int(d["words"]),
            sentences=int(d["sentences"]),
            duration_s=d.get("duration_s"),
            wpm=d.get("wpm"),
            fillers=d.get("fillers"),
            long_pauses=d.get("long_pauses"),
            hedges=d.get("hedges"),
        )


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """The whole verdict on one answer: a weighted overall score and each criterion."""

    question_id: str | None
    category: str
    text: str
    overall: float  # 0-100, weighted mean of the criteria
    criteria: tuple[CriterionResult, ...]
    stats: AnswerStats
    tips: tuple[str, ...] = field(default=())

    def criterion(self, criterion_id: str) -> CriterionResult | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "category": self.category,
            "overall": round(self.overall, 1),
            "criteria": [c.to_dict() for c in self.criteria],
            "stats": self.stats.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], text: str = "") -> ScoreReport:
        return cls(
            question_id=d.get("question_id"),
            category=str(d.get("category", "")),
            text=text or str(d.get("text", "")),
            overall=float(d["overall"]),
            criteria=tuple(CriterionResult.from_dict(c) for c in d["criteria"]),
            stats=AnswerStats.from_dict(d["stats"]),
        )
