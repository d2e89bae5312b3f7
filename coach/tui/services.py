"""The small adapter protocols the app talks to, so screens never touch audio or SQLite directly.

:class:`Services` bundles everything the app needs from the layers below it: the question
bank, a scorer, a factory for one *capture* (recording + live transcription of one answer),
the history store, text-to-speech, playback and the engine warm-up.
:func:`default_services` builds the real one from the application core (:mod:`coach.core`);
tests (and the deterministic snapshots) inject the fakes of ``tests/fakes.py``.

Every method that may block (loading a model, stopping a recording, scoring, saving, playing
audio) is called by the app from a ``@work(thread=True)`` worker, never on the UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from coach.core.capture import CaptureResult
from coach.core.library import CommentsImported, MentorNote, Overview, QuestionProgress
from coach.core.session import AttemptStore, PreviousAttempt, Scorer
from coach.questions import Question
from coach.settings import Settings

__all__ = [
    "Capture",
    "CaptureResult",
    "CommentsImported",
    "History",
    "MentorNote",
    "Overview",
    "PreviousAttempt",
    "QuestionProgress",
    "QuestionSource",
    "Scorer",
    "Services",
    "Speaker",
    "default_services",
]


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

    def stop(
        self, reason: str = "stopped", abandon: Callable[[], bool] | None = None
    ) -> CaptureResult:
        """Stop recording and finish the transcript (blocking: call from a worker).

        Raises :class:`~coach.core.capture.Abandoned` (the WAV is kept) once ``abandon``
        returns True or :meth:`abandon` was called.
        """
        ...

    def abandon(self) -> Path | None:
        """Make a running :meth:`stop` give up on the transcript now (a second quit); returns
        the WAV kept on disk. Never blocks."""
        ...

    def cancel(self) -> Path | None:
        """Stop without transcribing (skip / typing / quit); returns the WAV kept on disk."""
        ...


class QuestionSource(Protocol):
    """The question bank as the app needs it."""

    def all(self) -> Sequence[Question]: ...

    def get(self, question_id: str) -> Question: ...


class History(AttemptStore, Protocol):
    """The attempt history (SQLite in the real app): what a practice session needs
    (:class:`~coach.core.session.AttemptStore`) and what the app's screens read."""

    def overview(self) -> Overview: ...

    def criterion_series(self, criterion: str) -> list[float]: ...

    def weakest(self, n: int) -> list[QuestionProgress]: ...

    def pick(self, questions: Sequence[Question], n: int, favour_weak: bool) -> list[Question]: ...

    def export_latest(
        self, fmt: str, directory: Path | None = None, *, with_story: bool = False
    ) -> Path:
        """Export the latest session into ``directory`` (an existing folder); the file path.

        ``with_story`` adds the story checklist per answer (CoachError when there is no story).
        """
        ...

    def take_recovered(self) -> list[str]:
        """Messages about recordings repaired after a crash, each returned once."""
        ...

    def import_comments(self, path: Path) -> CommentsImported:
        """A mentor's saved .json or filled-in .md into its session (CoachError if refused)."""
        ...

    def mentor_comments(self, attempt_id: int) -> list[MentorNote]:
        """The comments mentors sent back on one answer, oldest first."""
        ...


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


def default_services() -> Services:
    """The real services from the application core; cheap to build (everything heavy happens
    on first use, in workers)."""
    from coach.core import media, session, speech
    from coach.core.capture import microphone_capture
    from coach.core.library import BankSource, StoreHistory

    bank = BankSource()
    return Services(
        questions=bank,
        score=session.score,
        capture_factory=microphone_capture,
        history=StoreHistory(bank),
        speaker=media.EspeakSpeaker(),
        prepare_engine=speech.prepare_engine,
        play=media.play,
        list_devices=media.list_devices,
        level_test=media.level_test,
        audio_available=True,
    )
