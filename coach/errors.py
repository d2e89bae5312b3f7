"""User-facing errors.

A :class:`CoachError` is something the user can act on. The CLI prints it as one line on
stderr (what went wrong, where, and what to do) and exits with code 2; the TUI shows it as a
notification. Anything else is a bug and may show a traceback.
"""

from __future__ import annotations


class CoachError(Exception):
    """An error with a one-line message and a suggested fix."""

    exit_code = 2

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


class AudioInputError(CoachError):
    """An audio file that cannot be read (missing, empty, corrupt or unsupported)."""


class ModelError(CoachError):
    """A speech model that cannot be found, verified or loaded."""


class DataFileError(CoachError):
    """An invalid TOML data file (question bank, rubric, settings); names the file and key."""


class RecordingError(CoachError):
    """A microphone or recording problem; what was recorded so far is kept."""


class StoreError(CoachError):
    """A problem with the history database; the database is never overwritten."""
