"""The small adapter protocols the app talks to, so screens never touch audio or SQLite directly.

:class:`Services` bundles everything the app needs from the layers below it: the question
bank, a scorer, a factory for one *capture* (recording + live transcription of one answer),
the history store, text-to-speech, playback and the engine warm-up. ``coach.tui.real`` builds
the real one; tests (and the deterministic snapshots) inject ``coach.tui.fakes``.

Every method that may block (loading a model, stopping a recording, scoring, saving, playing
audio) is called by the app from a ``@work(thread=True)`` worker, never on the UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from coach.audio.transcript import Transcript
from coach.questions import Question
from coach.scoring.report import ScoreReport
from coach.settings import Settings


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """What a stopped capture produced: the final transcript and the WAV on disk."""

    transcript: Transcript
    audio_path: Path | None
    note: str = ""  # e.g. "transcription fell behind and finished after stop"


class Capture(Protocol):
    """One recording of one spoken answer with live transcription.

    ``start`` and ``stop`` may block and are called from workers; the properties are cheap and
    polled by the UI a few times a second.
    """

    def start(self) -> None:
        """Open the microphone and start recording; raises RecordingError / ModelError."""
        ...

    @property
    def level_dbfs(self) -> float | None:
        """The latest input level (RMS, dBFS) or None before the first block."""
        ...

    @property
    def elapsed_s(self) -> float:
        """Seconds recorded so far."""
        ...

    def live_text(self) -> str:
        """The transcript so far (grows while the user speaks)."""
        ...

    def take_warnings(self) -> list[str]:
        """New warnings since the last call (silence, clipping, falling behind)."""
        ...

    def stop(self) -> CaptureResult:
        """Stop recording and finish the transcript (blocking: call from a worker)."""
        ...

    def cancel(self) -> None:
        """Stop without transcribing (skip / typing instead); the WAV on disk is kept."""
        ...


class QuestionSource(Protocol):
    """The question bank as the app needs it."""

    def all(self) -> Sequence[Question]: ...

    def get(self, question_id: str) -> Question: ...


@dataclass(frozen=True, slots=True)
class PreviousAttempt:
    """The attempt before this one at the same question, for the comparison on review."""

    attempt_id: int | None
    text: str
    overall: float
    scores: dict[str, float]  # criterion id -> score
    when: str = ""


@dataclass(frozen=True, slots=True)
class QuestionProgress:
    """One line of the weakest-questions list."""

    question_id: str
    text: str
    attempts: int
    latest: float | None
    best: float | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Progress at a glance for the home and history screens."""

    sessions: int = 0
    attempts: int = 0
    recent_overall: tuple[float, ...] = ()  # oldest first
    best_overall: float | None = None


class History(Protocol):
    """The attempt history (SQLite in the real app)."""

    def start_session(self, mode: str) -> int | None: ...

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
    ) -> int | None: ...

    def previous_attempt(
        self, question_id: str, before_attempt_id: int | None
    ) -> PreviousAttempt | None: ...

    def overview(self) -> Overview: ...

    def criterion_series(self, criterion: str) -> list[float]: ...

    def weakest(self, n: int) -> list[QuestionProgress]: ...

    def pick(self, questions: Sequence[Question], n: int, favour_weak: bool) -> list[Question]: ...

    def export_latest(self, fmt: str, directory: Path | None = None) -> Path:
        """Export the latest session into ``directory`` (an existing folder); the file path."""
        ...

    def take_recovered(self) -> list[str]:
        """Messages about recordings repaired after a crash, each returned once."""
        ...


Scorer = Callable[[str, Question, Transcript | None], ScoreReport]


class Speaker(Protocol):
    """Reads a question aloud without blocking; ``stop`` silences it."""

    @property
    def available(self) -> bool: ...

    def say(self, text: str) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Services:
    """Everything the app needs from the domain and audio layers."""

    questions: QuestionSource
    score: Scorer
    capture_factory: Callable[[Settings], Capture]
    history: History
    speaker: Speaker
    # Loads the speech model for ``settings`` (blocking) and returns a short description.
    prepare_engine: Callable[[Settings], str]
    # Plays a WAV (blocking until done); raises CoachError when playback is impossible.
    play: Callable[[Path], None]
    # Input device names (blocking; may raise RecordingError).
    list_devices: Callable[[], list[str]]
    # Yields input levels (dBFS) for about ``seconds`` from the chosen device.
    level_test: Callable[[Settings, float], Iterator[float]]
    clock: Callable[[], float] = field(default=time.monotonic)
    # Whether a microphone path is expected to work at all (False: typed answers only).
    audio_available: bool = True
