"""A practice session: score an answer, save it, and compare it with the last attempt.

:class:`PracticeSession` is the one path from "here is an answer" to "here is the saved
attempt", for the app (one session per interview, many answers) and ``coach rehearse`` (one
session per answer). In order, for every answer:

1. the no-speech rule: the text is stripped first, and an answer with no words left is
   :class:`NoSpeech` (nothing is scored or saved; the recording stays on disk);
2. scoring (the rubric of the question's category);
3. the history session is started on first use (and again if it vanished, e.g. a CLI deleted
   it while the app was open);
4. the attempt is saved with its transcript and recording, and returned with the previous
   attempt at the same question.

A failed save never loses the score: the attempt comes back with ``saved=False`` and the
error, which names where the recording is kept; a history that can park (the real one,
:meth:`coach.core.library.StoreHistory.park`) also keeps the scored attempt in a pending file
that the next start imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coach.errors import CoachError, StoreError

if TYPE_CHECKING:
    from coach.audio.transcript import Transcript
    from coach.questions import Question
    from coach.scoring.report import ScoreReport


@dataclass(frozen=True, slots=True)
class PreviousAttempt:
    """The attempt before this one at the same question, for the comparison on review."""

    attempt_id: int | None
    text: str
    overall: float
    scores: dict[str, float]  # criterion id -> score
    when: str = ""


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """A scored answer, saved (or not, with the reason in ``note`` and ``error``)."""

    question: Question
    report: ScoreReport
    transcript: Transcript | None  # None for a typed answer
    audio_path: Path | None
    attempt_id: int | None
    previous: PreviousAttempt | None
    note: str = ""
    saved: bool = True
    session_id: int | None = None
    error: CoachError | None = None  # why it was not saved


class NoSpeech(CoachError):
    """The answer holds no words; nothing was scored or saved (the recording is kept)."""


class SessionVanished(StoreError):
    """The session being added to is no longer in the history (deleted by another program)."""


class AttemptStore(Protocol):
    """What a practice session needs from the history (SQLite in the real app)."""

    def start_session(self, mode: str, settings: Mapping[str, Any] | None = None) -> int | None: ...

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


Scorer = Callable[[str, "Question", "Transcript | None"], "ScoreReport"]


def score(text: str, question: Question, transcript: Transcript | None) -> ScoreReport:
    """The real scorer: the rubric of the question's category."""
    from coach.scoring import score_answer

    return score_answer(text, question=question, transcript=transcript)


def answer_text(transcript: Transcript) -> str:
    """The no-speech rule, in one place: the transcript's text, stripped; NoSpeech if empty."""
    text = transcript.text.strip()
    if not text:
        raise NoSpeech("no speech detected in the answer", "speak up, or type the answer")
    return text


class PracticeSession:
    """Answers saved into one history session of ``mode``, started on the first answer."""

    def __init__(
        self,
        history: AttemptStore,
        mode: str,
        *,
        scorer: Scorer = score,
        session_settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.history = history
        self.mode = mode
        self.scorer = scorer
        self.session_settings = session_settings
        self.session_id: int | None = None
        self.started = False

    def _start(self) -> None:
        if self.session_settings is None:
            self.session_id = self.history.start_session(self.mode)
        else:
            self.session_id = self.history.start_session(self.mode, self.session_settings)
        self.started = True

    def spoken(
        self,
        question: Question,
        transcript: Transcript,
        audio_path: Path | None,
        note: str = "",
    ) -> AttemptResult:
        """Score and save a transcribed answer (NoSpeech when it holds no words)."""
        return self.submit(question, answer_text(transcript), transcript, audio_path, note)

    def typed(self, question: Question, text: str) -> AttemptResult:
        """Score and save a typed answer."""
        return self.submit(question, text.strip(), None, None)

    def submit(
        self,
        question: Question,
        text: str,
        transcript: Transcript | None,
        audio_path: Path | None,
        note: str = "",
    ) -> AttemptResult:
        """Score ``text``, save it, and return it with the previous attempt (blocking)."""
        report = self.scorer(text, question, transcript)
        attempt_id: int | None = None
        previous: PreviousAttempt | None = None
        error: CoachError | None = None
        try:
            attempt_id = self._save(question, report, transcript, audio_path)
            previous = self.history.previous_attempt(question.id, attempt_id)
        except CoachError as exc:
            error = self._keep(exc, attempt_id, question, text, report, transcript, audio_path)
            note = (note + " " if note else "") + f"This answer could not be saved: {error}."
        return AttemptResult(
            question,
            report,
            transcript,
            audio_path,
            attempt_id,
            previous,
            note,
            error is None,
            self.session_id,
            error,
        )

    def _save(
        self,
        question: Question,
        report: ScoreReport,
        transcript: Transcript | None,
        audio_path: Path | None,
    ) -> int | None:
        if not self.started:
            self._start()
        for retry in (False, True):
            try:
                return self.history.save_attempt(
                    session_id=self.session_id,
                    question=question,
                    report=report,
                    transcript=transcript,
                    audio_path=audio_path,
                    engine=transcript.engine if transcript else "typed",
                    model=transcript.model if transcript else "",
                )
            except SessionVanished:
                if retry:
                    raise
                self._start()  # a new session for this and the following answers
        raise AssertionError("unreachable")

    def _keep(
        self,
        exc: CoachError,
        attempt_id: int | None,
        question: Question,
        text: str,
        report: ScoreReport,
        transcript: Transcript | None,
        audio_path: Path | None,
    ) -> CoachError:
        """The error to report for a failed save, parking the attempt when it was not saved."""
        park = getattr(self.history, "park", None)
        if attempt_id is not None or park is None or not isinstance(exc, StoreError):
            return _naming_recording(exc, audio_path)
        error: CoachError = park(
            exc,
            audio_path,
            mode=self.mode,
            session_settings=dict(self.session_settings or {}),
            question_id=question.id,
            category=question.category,
            text=text,
            report=report,
            transcript=transcript,
            engine=transcript.engine if transcript else "typed",
            model=transcript.model if transcript else "",
        )
        return error

    def finish(self) -> None:
        """Mark the session finished (``coach rehearse``: one answer per session)."""
        finish = getattr(self.history, "finish_session", None)
        if self.session_id is not None and finish is not None:
            finish(self.session_id)


def _naming_recording(exc: CoachError, audio_path: Path | None) -> CoachError:
    """The save error, saying where the recording is kept (once)."""
    if audio_path is None or str(audio_path) in exc.message:
        return exc
    return StoreError(
        f"{exc.message}; the answer was not saved but its recording is kept at {audio_path}",
        exc.fix,
    )
