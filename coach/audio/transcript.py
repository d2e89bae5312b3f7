"""Typed results of speech-to-text (in the manner of faster-whisper's dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its time span in seconds on the answer's timeline."""

    start: float
    end: float
    text: str
    probability: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "probability": round(self.probability, 4),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        return cls(
            float(d["start"]), float(d["end"]), str(d["text"]), float(d.get("probability", 1.0))
        )


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech as the decoder returned it."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(
            float(d["start"]),
            float(d["end"]),
            str(d["text"]),
            tuple(Word.from_dict(w) for w in d.get("words", [])),
        )


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time went, in seconds."""

    load_s: float = 0.0
    transcribe_s: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {"load_s": round(self.load_s, 3), "transcribe_s": round(self.transcribe_s, 3)}


@dataclass(frozen=True, slots=True)
class Transcript:
    """The text of a spoken answer with segment and word timings."""

    text: str
    segments: tuple[Segment, ...]
    duration_s: float
    engine: str
    model: str
    timings: Timings = field(default_factory=Timings)
    language: str = "en"

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def is_empty(self) -> bool:
        """True when no speech was detected."""
        return not self.text.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "segments": [s.to_dict() for s in self.segments],
            "duration_s": round(self.duration_s, 3),
            "engine": self.engine,
            "model": self.model,
            "timings": self.timings.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        t = d.get("timings") or {}
        return cls(
            text=str(d["text"]),
            segments=tuple(Segment.from_dict(s) for s in d.get("segments", [])),
            duration_s=float(d.get("duration_s", 0.0)),
            engine=str(d.get("engine", "")),
            model=str(d.get("model", "")),
            timings=Timings(float(t.get("load_s", 0.0)), float(t.get("transcribe_s", 0.0))),
        )
