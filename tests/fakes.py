"""Small deterministic stand-ins for the layers below the app (for tests, snapshots and demos).

They implement the protocols in :mod:`coach.tui.services` (and the core's
:class:`~coach.core.session.AttemptStore`) with no audio, no models and no
database, and with a clock the test moves by hand, so screens render the same every time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.audio.transcript import Segment, Transcript, Word
from coach.core.capture import Abandoned
from coach.errors import CoachError, RecordingError
from coach.questions import Question
from coach.scoring.report import AnswerStats, CriterionResult, Evidence, ScoreReport
from coach.settings import Settings
from coach.tui.services import (
    CaptureResult,
    CommentsImported,
    MentorNote,
    Overview,
    PreviousAttempt,
    QuestionProgress,
    Services,
)


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _q(
    qid: str, category: str, text: str, follow_ups: tuple[str, ...] = (), think: int = 30
) -> Question:
    return Question(
        id=qid,
        category=category,
        text=text,
        follow_ups=follow_ups,
        think_s=think,
        target_min_s=60,
        target_max_s=90,
        hard_limit_s=120,
        tips=(
            "Name the setback in two or three sentences, then pivot.",
            "Speak in the first person and own the outcome.",
        ),
        pitfalls=("Blaming programs or the Match.",),
        example_answer=(
            "I did not match last cycle. I looked honestly at my application, took a "
            "research role and asked for stronger letters. I am ready now."
        ),
    )


FAKE_QUESTIONS: tuple[Question, ...] = (
    _q(
        "fm-explain",
        "failed-match",
        "Tell us what happened in last year's Match.",
        ("What would you do differently this time?",),
    ),
    _q(
        "wmp-why",
        "why-med-peds",
        "Why Med-Peds rather than categorical internal medicine?",
        ("Which patients draw you to combined training?",),
    ),
    _q("bp-plan", "backup-plan", "What will you do if you don't match again?"),
    _q("rf-step1", "red-flag", "Walk me through the Step 1 failure."),
    _q("gy-changed", "gap-year", "What have you done since last cycle?"),
    _q("tm-yourself", "tell-me-about-yourself", "Tell me about yourself."),
    _q("wk-weakness", "weakness", "What is your greatest weakness?"),
)


class FakeQuestions:
    """A fixed question bank."""

    def __init__(self, questions: Sequence[Question] = FAKE_QUESTIONS) -> None:
        self._questions = tuple(questions)

    def all(self) -> Sequence[Question]:
        return self._questions

    def get(self, question_id: str) -> Question:
        for q in self._questions:
            if q.id == question_id:
                return q
        raise CoachError(f"unknown question {question_id!r}", "pick one from the list")


_GOOD = ("learned", "research", "letters", "ready", "ownership", "sub-i", "changed")
_BAD = ("unfair", "unlucky", "broken", "blame")


def fake_score(text: str, question: Question, transcript: Transcript | None) -> ScoreReport:
    """A predictable scorer: known words earn or cost points, with evidence spans."""
    evidence: list[Evidence] = []
    for word, effect, reason in [(w, "+", "shows growth") for w in _GOOD] + [
        (w, "-", "sounds like blame") for w in _BAD
    ]:
        for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
            evidence.append(Evidence(m.start(), m.end(), m.group(0), effect, reason))  # type: ignore[arg-type]
    evidence.sort(key=lambda e: e.start)
    plus = sum(1 for e in evidence if e.effect == "+")
    minus = sum(1 for e in evidence if e.effect == "-")
    words = len(text.split())
    sentences = max(1, len(re.findall(r"[.!?]+", text)))
    growth = min(100.0, 40.0 + 15 * plus)
    tone = max(0.0, 90.0 - 30 * minus)
    brevity = 85.0 if words <= 120 else 50.0
    criteria = [
        CriterionResult(
            "brevity",
            "Brevity",
            brevity,
            brevity >= 60,
            "Short and clear." if brevity >= 60 else "Try trimming to two or three sentences.",
        ),
        CriterionResult(
            "factual_tone",
            "Factual tone",
            tone,
            tone >= 60,
            "Calm and factual." if tone >= 60 else "Describe what happened without judging it.",
            tuple(e for e in evidence if e.effect == "-"),
        ),
        CriterionResult(
            "growth_focus",
            "Growth focus",
            growth,
            growth >= 60,
            "You showed what changed." if growth >= 60 else "Add one concrete step you took.",
            tuple(e for e in evidence if e.effect == "+"),
        ),
    ]
    duration = transcript.duration_s if transcript else None
    stats = AnswerStats(
        words=words,
        sentences=sentences,
        duration_s=duration,
        wpm=(words / duration * 60) if duration else None,
        fillers=0 if transcript else None,
        long_pauses=0 if transcript else None,
    )
    overall = sum(c.score for c in criteria) / len(criteria)
    return ScoreReport(
        question.id, question.category, text, overall, tuple(criteria), stats, question.tips
    )


def make_transcript(text: str, duration_s: float = 20.0) -> Transcript:
    """A transcript with evenly spread word timings."""
    words = text.split()
    step = duration_s / max(1, len(words))
    timed = tuple(Word(i * step, (i + 1) * step, " " + w) for i, w in enumerate(words))
    return Transcript(
        text=text,
        segments=(Segment(0.0, duration_s, text, timed),),
        duration_s=duration_s,
        engine="fake",
        model="fake",
    )


class FakeCapture:
    """Pretends to record: the transcript grows with the (fake) clock."""

    def __init__(
        self,
        text: str,
        clock: FakeClock,
        *,
        fail_start: str | None = None,
        warnings: Sequence[str] = (),
        audio_path: Path | None = None,
        hold_stop: threading.Event | None = None,
        log: list[str] | None = None,
    ) -> None:
        self.text = text
        self.clock = clock
        self.fail_start = fail_start
        self._warnings = list(warnings)
        self.audio_path = audio_path
        self.started_at: float | None = None
        self.stopped = False
        self.cancelled = False
        self.abandoned = False
        # Set: stop() finishes "the transcript" only once the event is set (or abandoned),
        # like a slow tail decode; log: the order of what the app did, for tests.
        self.hold_stop = hold_stop
        self.log = log if log is not None else []

    def start(self) -> None:
        if self.fail_start:
            raise RecordingError(self.fail_start, "type your answer instead (press t)")
        self.started_at = self.clock()

    @property
    def level_dbfs(self) -> float | None:
        return None if self.started_at is None else -18.0

    @property
    def elapsed_s(self) -> float:
        return 0.0 if self.started_at is None else self.clock() - self.started_at

    def live_text(self) -> str:
        words = self.text.split()
        shown = min(len(words), int(self.elapsed_s * 2.5))
        return " ".join(words[:shown])

    def take_warnings(self) -> list[str]:
        out, self._warnings = self._warnings, []
        return out

    def stop(
        self, reason: str = "stopped", abandon: Callable[[], bool] | None = None
    ) -> CaptureResult:
        self.stopped = True
        self.log.append("capture.stop")
        elapsed = self.elapsed_s
        while self.hold_stop is not None and not self.hold_stop.wait(0.02):
            if self.abandoned or (abandon is not None and abandon()):
                self.log.append("capture.abandoned")
                raise Abandoned(f"stopped before the transcript was finished; {self.audio_path}")
        self.log.append("capture.transcript")
        return CaptureResult(make_transcript(self.text, max(1.0, elapsed)), self.audio_path)

    def abandon(self) -> Path | None:
        self.abandoned = True
        return self.audio_path

    def cancel(self) -> None:
        self.cancelled = True
        self.log.append("capture.cancel")


@dataclass
class SavedAttempt:
    attempt_id: int
    session_id: int | None
    question: Question
    report: ScoreReport
    typed: bool


@dataclass
class FakeHistory:
    """An in-memory history."""

    attempts: list[SavedAttempt] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)
    exported_with_story: list[bool] = field(default_factory=list)
    export_dir: Path | None = None
    recovered: list[str] = field(default_factory=list)
    notes: list[MentorNote] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # the order of what the app did

    def start_session(self, mode: str, settings: Mapping[str, Any] | None = None) -> int | None:
        self.sessions.append(mode)
        return len(self.sessions)

    def save_attempt(
        self,
        *,
        session_id: int | None,
        question: Question,
        report: ScoreReport,
        transcript: Transcript | None,
        audio_path: Path | None,
        engine: str,
        model: str,
    ) -> int | None:
        attempt_id = len(self.attempts) + 1
        self.log.append("history.save")
        self.attempts.append(
            SavedAttempt(attempt_id, session_id, question, report, transcript is None)
        )
        return attempt_id

    def previous_attempt(
        self, question_id: str, before_attempt_id: int | None
    ) -> PreviousAttempt | None:
        earlier = [
            a
            for a in self.attempts
            if a.question.id == question_id
            and (before_attempt_id is None or a.attempt_id < before_attempt_id)
        ]
        if not earlier:
            return None
        a = earlier[-1]
        return PreviousAttempt(
            a.attempt_id,
            a.report.text,
            a.report.overall,
            {c.id: c.score for c in a.report.criteria},
        )

    def overview(self) -> Overview:
        overall = tuple(a.report.overall for a in self.attempts)
        return Overview(
            sessions=len(self.sessions),
            attempts=len(self.attempts),
            recent_overall=overall[-10:],
            best_overall=max(overall) if overall else None,
        )

    def take_recovered(self) -> list[str]:
        out, self.recovered = self.recovered, []
        return out

    def criterion_series(self, criterion: str) -> list[float]:
        out: list[float] = []
        for a in self.attempts:
            c = a.report.criterion(criterion)
            if c is not None:
                out.append(c.score)
        return out

    def weakest(self, n: int) -> list[QuestionProgress]:
        by_q: dict[str, list[SavedAttempt]] = {}
        for a in self.attempts:
            by_q.setdefault(a.question.id, []).append(a)
        rows = [
            QuestionProgress(
                qid,
                items[-1].question.text,
                len(items),
                items[-1].report.overall,
                max(i.report.overall for i in items),
            )
            for qid, items in by_q.items()
        ]
        rows.sort(key=lambda r: r.latest if r.latest is not None else 0.0)
        return rows[:n]

    def pick(self, questions: Sequence[Question], n: int, favour_weak: bool) -> list[Question]:
        return list(questions)[:n]

    def import_comments(self, path: Path) -> CommentsImported:
        raise CoachError(f"{path} cannot be imported into a fake history", "use a real one")

    def mentor_comments(self, attempt_id: int) -> list[MentorNote]:
        return [n for n in self.notes if n.attempt_id == attempt_id]

    def export_latest(
        self, fmt: str, directory: Path | None = None, *, with_story: bool = False
    ) -> Path:
        if not self.sessions:
            raise CoachError("there is no session to export yet", "answer a question first")
        self.exported.append(fmt)
        self.exported_with_story.append(with_story)
        out = (directory or self.export_dir or Path(".")) / f"session-{len(self.sessions)}.{fmt}"
        out.write_text("exported\n", encoding="utf-8")
        return out


class FakeSpeaker:
    """Records what would have been said."""

    def __init__(self, available: bool = True) -> None:
        self._available = available
        self.said: list[str] = []
        self.stopped = 0

    @property
    def available(self) -> bool:
        return self._available

    def say(self, text: str) -> None:
        self.said.append(text)

    def stop(self) -> None:
        self.stopped += 1


DEFAULT_ANSWER = (
    "I did not match last year. I took ownership, learned from it, did research and asked for "
    "stronger letters. I am ready now."
)


def fake_services(
    *,
    answer: str = DEFAULT_ANSWER,
    clock: FakeClock | None = None,
    fail_start: str | None = None,
    engine_error: CoachError | None = None,
    history: FakeHistory | None = None,
    questions: Sequence[Question] = FAKE_QUESTIONS,
    audio_path: Path | None = None,
    play_error: CoachError | None = None,
    hold_stop: threading.Event | None = None,
) -> Services:
    """Services built from fakes; every knob a test needs is a keyword."""
    clock = clock or FakeClock()
    captures: list[FakeCapture] = []
    played: list[Path] = []
    history = history if history is not None else FakeHistory()

    def capture_factory(settings: Settings) -> FakeCapture:
        cap = FakeCapture(
            answer,
            clock,
            fail_start=fail_start,
            audio_path=audio_path,
            hold_stop=hold_stop,
            log=history.log,  # one log: capture and history events in the order they ran
        )
        captures.append(cap)
        return cap

    def prepare(settings: Settings) -> str:
        if engine_error is not None:
            raise engine_error
        return f"{settings.engine} {settings.model}"

    def play(path: Path) -> None:
        if play_error is not None:
            raise play_error
        played.append(path)

    def level_test(settings: Settings, seconds: float) -> Iterator[float]:
        yield from (-40.0, -25.0, -12.0)

    services = Services(
        questions=FakeQuestions(questions),
        score=fake_score,
        capture_factory=capture_factory,
        history=history,
        speaker=FakeSpeaker(),
        prepare_engine=prepare,
        play=play,
        list_devices=lambda: ["Fake USB microphone", "Built-in microphone"],
        level_test=level_test,
        clock=clock,
    )
    # Tests look at these to see what the app did.
    services.captures = captures  # type: ignore[attr-defined]
    services.played = played  # type: ignore[attr-defined]
    return services
