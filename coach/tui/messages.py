"""Typed messages that thread workers post back to the UI thread.

Workers never touch widgets; they post one of these and a handler on the UI thread updates
the screen. ``token`` fields let a screen ignore results that belong to an answer the user
already skipped or retried.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from coach.core.session import AttemptResult
from coach.tui.services import MentorNote, Overview, QuestionProgress

__all__ = ["AttemptResult"]


class ModelStatus(Message):
    """The speech model is loading, ready or failed."""

    def __init__(self, state: str, detail: str = "") -> None:
        super().__init__()
        self.state = state  # "loading" | "ready" | "failed"
        self.detail = detail


class CaptureStarted(Message):
    """The microphone is open and recording."""

    def __init__(self, token: int) -> None:
        super().__init__()
        self.token = token


class CaptureFailed(Message):
    """Recording could not start (or broke); the typed path remains."""

    def __init__(self, token: int, message: str) -> None:
        super().__init__()
        self.token = token
        self.message = message


class AnswerReady(Message):
    """An answer was transcribed, scored and saved."""

    def __init__(self, token: int, result: AttemptResult) -> None:
        super().__init__()
        self.token = token
        self.result = result


class AnswerFailed(Message):
    """Transcribing or scoring failed; what was recorded is kept."""

    def __init__(self, token: int, message: str) -> None:
        super().__init__()
        self.token = token
        self.message = message


class PlaybackFinished(Message):
    """Replay ended; ``error`` says why it could not play."""

    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class LevelSample(Message):
    """One input level reading from the settings level test (``None`` = test over)."""

    def __init__(self, dbfs: float | None, error: str | None = None) -> None:
        super().__init__()
        self.dbfs = dbfs
        self.error = error


class DevicesListed(Message):
    """Input devices found (or why none could be listed)."""

    def __init__(self, names: list[str], error: str | None = None) -> None:
        super().__init__()
        self.names = names
        self.error = error


class HistoryLoaded(Message):
    """History figures for the home and history screens."""

    def __init__(
        self,
        overview: Overview,
        series: dict[str, list[float]],
        weakest: list[QuestionProgress],
        error: str | None = None,
    ) -> None:
        super().__init__()
        self.overview = overview
        self.series = series
        self.weakest = weakest
        self.error = error


class ExportFinished(Message):
    """An export was written (``path``) or failed (``error``)."""

    def __init__(self, path: Path | None, error: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.error = error


class CommentsImportDone(Message):
    """A mentor's comments file was imported (``summary``) or refused (``error``)."""

    def __init__(self, summary: str | None, error: str | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.error = error


class MentorNotesLoaded(Message):
    """The comments mentors sent back on the attempt under review."""

    def __init__(self, notes: list[MentorNote], error: str | None = None) -> None:
        super().__init__()
        self.notes = notes
        self.error = error
