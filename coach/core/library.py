"""The question bank and the practice history as the app reads and writes them.

:class:`BankSource` loads the question bank (built-in plus the user's own files) on first
use and turns a broken user file into a message instead of a crash. :class:`StoreHistory`
opens the SQLite history on first use and is shared by the app's thread workers (the store
is thread-safe); it is also the :class:`~coach.core.session.AttemptStore` of
:class:`~coach.core.session.PracticeSession` for the app and for ``coach rehearse``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.core.session import PreviousAttempt, SessionVanished
from coach.errors import CoachError, DataFileError, StoreError
from coach.questions import Question

if TYPE_CHECKING:
    from coach.audio.transcript import Transcript
    from coach.scoring.report import ScoreReport
    from coach.store import Store


@dataclass(frozen=True, slots=True)
class QuestionProgress:
    """One line of the weakest-questions list."""

    question_id: str
    text: str
    attempts: int
    latest: float | None
    best: float | None


@dataclass(frozen=True, slots=True)
class MentorNote:
    """A mentor's comment on one answer, as the review screen shows it."""

    attempt_id: int
    mentor: str  # "" when the mentor left no name
    body: str
    received: str  # the import date, "2026-01-05", or ""


@dataclass(frozen=True, slots=True)
class CommentsImported:
    """What importing a mentor's comments file did."""

    session_id: int
    added: int
    already: int

    def summary(self, path: Path) -> str:
        if not self.added and not self.already:
            return f"No comments in {path.name}: every box was empty; nothing was imported."
        noun = "comment" if self.added == 1 else "comments"
        line = f"Imported {self.added} {noun} into session {self.session_id}"
        if self.already:
            line += f" ({self.already} already there)"
        return line + "."


@dataclass(frozen=True, slots=True)
class Overview:
    """Progress at a glance for the home and history screens."""

    sessions: int = 0
    attempts: int = 0
    recent_overall: tuple[float, ...] = ()  # oldest first
    best_overall: float | None = None


class BankSource:
    """The question bank (built-in plus the user's own files), loaded on first use."""

    def __init__(self) -> None:
        self._bank: Any = None
        self.error: CoachError | None = None

    def _load(self) -> Any:
        if self._bank is None:
            from coach.questions import load_question_bank

            self._bank = load_question_bank()
        return self._bank

    def all(self) -> Sequence[Question]:
        try:
            return tuple(self._load().all())
        except DataFileError as exc:
            self.error = exc
            return ()

    def get(self, question_id: str) -> Question:
        question = self._load().get(question_id)
        assert isinstance(question, Question)
        return question


class StoreHistory:
    """The SQLite history, opened on first use and shared by workers (the store is thread-safe)."""

    def __init__(
        self, bank: BankSource, path: Path | None = None, export_dir: Path | None = None
    ) -> None:
        self.bank = bank
        self.path = path
        self.export_dir = export_dir  # None: ~/Documents, else the home folder
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                from coach.store import Store

                self._store = Store.open(self.path)
            return self._store

    def take_recovered(self) -> list[str]:
        """Recordings the store repaired when it opened (a crash cut them short), and answers
        parked by an earlier failed save that it imported (coach.pending), once."""
        store = self.store
        with self._lock:
            found, store.recovered = store.recovered, []
            imported, store.imported = store.imported, []
        out: list[str] = list(imported)
        for r in found:
            if r.error:
                out.append(f"A recording could not be repaired and was left as it was: {r.message}")
            elif r.recovered:
                out.append(
                    f"An answer cut short by a crash was recovered ({r.duration_s:.0f} s): "
                    f"{r.path}. At most its last second was lost."
                )
        return out

    def close(self) -> None:
        """Close the database (checkpoints the WAL); reopened on next use."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def start_session(self, mode: str, settings: Mapping[str, Any] | None = None) -> int | None:
        return self.store.start_session(mode, settings)

    def park(self, failure: CoachError, audio_path: Path | None, **attempt: Any) -> StoreError:
        """After a failed save: keep the scored attempt in a private pending file that the next
        start imports (coach.pending); the error says where it and the recording are."""
        from coach.pending import park_or_explain

        data_root = self.path.parent if self.path is not None else None
        return park_or_explain(failure, audio_path, data_root, **attempt)

    def finish_session(self, session_id: int) -> None:
        self.store.finish_session(session_id)

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
        if session_id is None:
            raise StoreError("no practice session was started", "start the session again")
        store = self.store
        try:
            return store.save_attempt(
                session_id,
                question_id=question.id,
                category=question.category,
                text=report.text,
                report=report,
                transcript=transcript,
                audio_path=audio_path,
                engine=engine,
                model=model,
            )
        except StoreError as exc:
            if not self._session_exists(store, session_id):
                # e.g. `coach history --delete` while the app was open: the caller starts anew.
                raise SessionVanished(exc.message, exc.fix) from exc
            raise

    @staticmethod
    def _session_exists(store: Store, session_id: int) -> bool:
        """False only when the history could be read and the session is not in it."""
        try:
            return any(s.id == session_id for s in store.sessions())
        except StoreError:  # locked or damaged: not a sign that the session was deleted
            return True

    def previous_attempt(
        self, question_id: str, before_attempt_id: int | None
    ) -> PreviousAttempt | None:
        attempt = self.store.previous_attempt(question_id, before_attempt_id or 2**62)
        if attempt is None:
            return None
        return PreviousAttempt(
            attempt.id,
            attempt.text,
            attempt.overall,
            attempt.scores(),
            attempt.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        )

    def overview(self) -> Overview:
        sessions = [s for s in self.store.sessions() if s.attempt_count]
        overall = [score for _, score in self.store.overall_history()]
        return Overview(
            sessions=len(sessions),
            attempts=len(overall),
            recent_overall=tuple(overall[-20:]),
            best_overall=max(overall) if overall else None,
        )

    def criterion_series(self, criterion: str) -> list[float]:
        return [score for _, score in self.store.criterion_history(criterion)][-60:]

    def _text(self, question_id: str) -> str:
        base, _, follow = question_id.partition("#")
        try:
            text = self.bank.get(base).text
        except (CoachError, KeyError, LookupError):
            return question_id
        return f"{text} (follow-up)" if follow else text

    def weakest(self, n: int) -> list[QuestionProgress]:
        return [
            QuestionProgress(s.question_id, self._text(s.question_id), s.attempts, s.latest, s.best)
            for s in self.store.weakest_questions(n)
        ]

    def pick(self, questions: Sequence[Question], n: int, favour_weak: bool) -> list[Question]:
        from coach.practice import pick_questions

        return pick_questions(questions, self.store.question_stats(), n, favour_weak=favour_weak)

    def export_latest(
        self, fmt: str, directory: Path | None = None, *, with_story: bool = False
    ) -> Path:
        from coach.export import default_export_path, write_export
        from coach.guard.share import guarded_terms

        session = self.store.resolve_session("latest")
        out = default_export_path(session.id, fmt, directory or self.export_dir)
        notes = None
        extra: list[tuple[int, str]] = []
        if with_story:  # only when asked: the story stays out of exports otherwise
            from coach.story.sharing import guard_texts, load_session_story

            notes = load_session_story(self.store, session.id)
            extra = guard_texts(notes)
        # The patient-detail guard's safe default: redact everything it finds, in the answers
        # and the story's own words (recordings then leave the export). `coach export` offers
        # the per-kind choice.
        _report, terms = guarded_terms(self.store, session.id, extra)
        return write_export(self.store, session.id, fmt, out, redact_words=terms, story=notes)

    # -- mentor comments (issue 14) ----------------------------------------------------

    def import_comments(self, path: Path) -> CommentsImported:
        """Read a mentor's saved .json or filled-in .md back into its session.

        Raises :class:`CoachError` (another session's file, a corrupt file) with nothing
        imported; earlier comments are never changed.
        """
        from coach.mentor import import_comments

        result = import_comments(self.store, path)
        return CommentsImported(result.session_id, result.added, result.already)

    def mentor_comments(self, attempt_id: int) -> list[MentorNote]:
        """The comments mentors sent back on one answer, oldest first."""
        store = self.store
        try:
            session_id = store.attempt(attempt_id).session_id
        except CoachError:
            return []  # deleted meanwhile: nothing to show
        return [
            MentorNote(
                attempt_id,
                c.mentor,
                c.body,
                c.imported_at.astimezone().strftime("%Y-%m-%d") if c.imported_at else "",
            )
            for c in store.comments(session_id)
            if c.attempt_id == attempt_id
        ]
