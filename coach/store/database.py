"""The :class:`Store`: one SQLite connection to the history, its transactions and its files.

The store owns the connection, the lock that makes it safe for Textual's thread workers, the
write transactions (``BEGIN IMMEDIATE``, so WAL readers never deadlock), the recordings folder
and the permissions on everything in the data dir. The SQL lives in :mod:`coach.store.queries`,
the schema and its checks in :mod:`coach.store.schema`, the file rules in
:mod:`coach.store.files`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from coach.audio.transcript import Transcript
from coach.errors import StoreError
from coach.pending import import_pending
from coach.scoring.report import ScoreReport
from coach.store import queries, schema
from coach.store.files import (
    _SUFFIXES,
    RECORDINGS,
    _check_header,
    _chmod,
    _copy_private,
    _is_within,
    _precreate_private,
    _translate,
    default_path,
)
from coach.store.queries import _ATTEMPT_SQL, _SESSION_END, _SESSION_SQL, _session
from coach.store.records import (
    Attempt,
    MentorComment,
    QuestionStats,
    Session,
    _check_mode,
    _no_attempt,
    _no_session,
    parse_id,
)

if TYPE_CHECKING:
    from coach.audio.wavfile import RepairResult

DEFAULT_TIMEOUT_S: Final = 5.0


def _now() -> datetime:
    return datetime.now(UTC)


_T = TypeVar("_T")


class Store:
    """The history database. Open with :meth:`Store.open`, preferably as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, own_root: bool = True) -> None:
        self._conn = conn
        self._own_root = own_root
        self._lock = threading.RLock()
        self.path = path
        self.root = path.parent
        self.recordings_dir = self.root / RECORDINGS
        self.clock: Callable[[], datetime] = _now  # tests pin the time
        # Answers whose recording was cut short by a crash, repaired when the store opened.
        self.recovered: list[RepairResult] = []
        # Messages about parked answers imported when the store opened (coach.pending).
        self.imported: list[str] = []

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> Store:
        """Open (or create) the history at ``path`` (default: the user data dir).

        Raises :class:`StoreError` for a corrupt, foreign, locked or newer database; none of
        them is written to.
        """
        db = Path(path) if path is not None else default_path()
        # The folder is made private when it is the data dir or one we create; a folder the
        # caller chose and already had keeps its mode (only our files in it are made 0600).
        own_root = path is None or not db.parent.exists()
        if own_root:
            db.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        _check_header(db)
        _precreate_private(db)
        try:
            conn = sqlite3.connect(
                db, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise _translate(exc, db) from exc
        conn.row_factory = sqlite3.Row
        store = cls(conn, db, own_root=own_root)
        try:
            store._prepare(timeout)
        except BaseException:
            conn.close()
            raise
        store.recovered = store.recover_recordings()
        store.imported = import_pending(store)  # answers a failed save parked (coach.pending)
        return store

    def recover_recordings(self) -> list[RepairResult]:
        """Repair recordings left with a stale header by a crashed app or command.

        Opening the store is "the next start" of the app, ``coach rehearse`` and the history
        commands, so a recording cut short by a crash is repaired here and reported (never
        deleted). Recordings still being written by a live process are left alone.
        """
        from coach.audio.wavfile import recover_incomplete

        results = recover_incomplete(self.recordings_dir)
        if results:
            self.secure_files()
        return results

    def _prepare(self, timeout: float) -> None:
        schema.prepare(self._conn, self.path, timeout)
        self.recordings_dir.mkdir(mode=0o700, exist_ok=True)
        self.secure_files()

    def secure_files(self) -> None:
        """Make the data dir 0700 and the database, its companions and recordings 0600."""
        candidates = [self.path, *(self.path.with_name(self.path.name + s) for s in _SUFFIXES)]
        for p in candidates:
            _chmod(p, 0o600)
        if self._own_root:
            _chmod(self.root, 0o700)
        if self.recordings_dir.is_dir():
            _chmod(self.recordings_dir, 0o700)
            for p in self.recordings_dir.iterdir():
                if p.is_file():
                    _chmod(p, 0o600)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; takes the write lock up front so WAL readers never deadlock."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from exc
                raise

    def _read(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            try:
                return fn(self._conn)
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    # -- sessions --------------------------------------------------------------------------
    def start_session(self, mode: str, settings: Mapping[str, Any] | None = None) -> int:
        """Begin a session (``mock``, ``drill``, ``solo`` or ``rehearse``); returns its id."""
        _check_mode(mode)
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO sessions (mode, started_at, settings) VALUES (?, ?, ?)",
                (mode, self.clock().isoformat(), json.dumps(dict(settings or {}))),
            )
            session_id = cur.lastrowid
        self.secure_files()
        assert session_id is not None
        return session_id

    def finish_session(self, session_id: int) -> None:
        """Mark a session finished (idempotent: the first finish time is kept)."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE sessions SET finished_at = COALESCE(finished_at, ?) WHERE id = ?",
                (self.clock().isoformat(), session_id),
            )
            if cur.rowcount == 0:
                raise _no_session(session_id)

    def sessions(self) -> list[Session]:
        """Every session, newest first, with attempt counts and scores."""
        return self._read(lambda c: [_session(r) for r in c.execute(_SESSION_SQL + _SESSION_END)])

    def session(self, session_id: int) -> Session:
        """One session; :class:`StoreError` if there is no such session."""
        rows = self._read(
            lambda c: c.execute(
                _SESSION_SQL + " WHERE s.id = ?" + _SESSION_END, (session_id,)
            ).fetchall()
        )
        if not rows:
            raise _no_session(session_id)
        return _session(rows[0])

    def latest_session(self) -> Session | None:
        """The most recent session that has at least one attempt (else the most recent one)."""
        sessions = self.sessions()
        with_attempts = [s for s in sessions if s.attempt_count]
        if with_attempts:
            return with_attempts[0]
        return sessions[0] if sessions else None

    def resolve_session(self, ref: int | str) -> Session:
        """A session from a CLI-style reference: an id (``12``, ``"12"``) or ``"latest"``."""
        if isinstance(ref, str):
            text = ref.strip().lower()
            if text == "latest":
                latest = self.latest_session()
                if latest is None:
                    raise StoreError(
                        "there are no sessions in the history yet",
                        "practise first: run `coach` or `coach rehearse`",
                    )
                return latest
            ref = parse_id(text, "session", also="or the word latest")
        return self.session(ref)

    # -- attempts --------------------------------------------------------------------------
    def save_attempt(
        self,
        session_id: int,
        *,
        question_id: str | None,
        category: str,
        text: str,
        report: ScoreReport,
        transcript: Transcript | None = None,
        audio_path: Path | None = None,
        engine: str = "",
        model: str = "",
        mode: str | None = None,
        keep_original_audio: bool = False,
    ) -> int:
        """Save one scored answer; returns the attempt id.

        Audio outside the recordings folder is copied in (0600) before the row is committed;
        the original is removed afterwards unless ``keep_original_audio``. If anything fails,
        the original audio is left where it was and the error says so.
        """
        if mode is not None:
            _check_mode(mode)
        source = Path(audio_path) if audio_path is not None else None
        if source is not None and not source.is_file():
            raise StoreError(
                f"the recording {source} does not exist", "save the attempt without audio"
            )
        duration = transcript.duration_s if transcript else report.stats.duration_s
        copied: Path | None = None
        try:
            with self._write() as conn:
                row = conn.execute(
                    "SELECT mode FROM sessions WHERE id = ?", (session_id,)
                ).fetchone()
                if row is None:
                    raise _no_session(session_id)
                attempt_id = queries.insert_attempt(
                    conn,
                    session_id,
                    mode=mode or row[0],
                    question_id=question_id,
                    category=category,
                    text=text,
                    report=report,
                    transcript=transcript,
                    engine=engine,
                    model=model,
                    created_at=self.clock().isoformat(),
                    duration_s=duration,
                )
                if source is not None:
                    stored, copied = self._take_audio(source, session_id, attempt_id, question_id)
                    conn.execute(
                        "UPDATE attempts SET audio_path = ? WHERE id = ?",
                        (self._relative(stored), attempt_id),
                    )
        except BaseException as exc:
            if copied is not None:
                copied.unlink(missing_ok=True)
            if source is not None and isinstance(exc, StoreError):
                raise StoreError(
                    f"{exc.message}; the answer was not saved but its recording is kept at "
                    f"{source}",
                    exc.fix,
                ) from exc
            raise
        if copied is not None and not keep_original_audio:
            source.unlink(missing_ok=True)  # type: ignore[union-attr]
        self.secure_files()
        return attempt_id

    def _take_audio(
        self, source: Path, session_id: int, attempt_id: int, question_id: str | None
    ) -> tuple[Path, Path | None]:
        """Return (path to store, the copy we made or None if it was already ours)."""
        self.recordings_dir.mkdir(mode=0o700, exist_ok=True)
        if _is_within(source, self.recordings_dir):
            _chmod(source, 0o600)
            return source.resolve(), None
        slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in question_id or "free")
        target = self.recordings_dir / (
            f"s{session_id:04d}-a{attempt_id:05d}-{slug[:40]}{source.suffix.lower() or '.wav'}"
        )
        _copy_private(source, target)
        return target, target

    def _relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def _absolute(self, stored: str | None) -> Path | None:
        if not stored:
            return None
        p = Path(stored)
        return p if p.is_absolute() else self.root / p

    def attempts(
        self, session_id: int | None = None, question_id: str | None = None
    ) -> list[Attempt]:
        """Attempts in the order they were made, optionally of one session and/or question."""
        where: list[str] = []
        args: list[Any] = []
        if session_id is not None:
            where.append("a.session_id = ?")
            args.append(session_id)
        if question_id is not None:
            where.append("a.question_id = ?")
            args.append(question_id)
        sql = _ATTEMPT_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.id"
        return self._read(lambda c: self._load_attempts(c, c.execute(sql, args).fetchall()))

    def attempt(self, attempt_id: int) -> Attempt:
        """One attempt; :class:`StoreError` if there is no such attempt."""
        found = self._read(
            lambda c: self._load_attempts(
                c, c.execute(_ATTEMPT_SQL + " WHERE a.id = ?", (attempt_id,)).fetchall()
            )
        )
        if not found:
            raise _no_attempt(attempt_id)
        return found[0]

    def previous_attempt(self, question_id: str, before_attempt_id: int) -> Attempt | None:
        """The latest attempt at the same question made before ``before_attempt_id``."""
        found = self._read(
            lambda c: self._load_attempts(
                c,
                c.execute(
                    _ATTEMPT_SQL + " WHERE a.question_id = ? AND a.id < ? ORDER BY a.id DESC"
                    " LIMIT 1",
                    (question_id, before_attempt_id),
                ).fetchall(),
            )
        )
        return found[0] if found else None

    def _load_attempts(self, conn: sqlite3.Connection, rows: Sequence[Any]) -> list[Attempt]:
        return queries.load_attempts(conn, rows, self._absolute)

    # -- progress --------------------------------------------------------------------------
    def question_stats(self) -> list[QuestionStats]:
        """Per question: attempt count, best, latest and mean overall score, when practised."""
        return self._read(queries.question_stats)

    def criterion_history(self, criterion_id: str) -> list[tuple[datetime, float]]:
        """(time, score) of every attempt scored on ``criterion_id``, oldest first."""
        return self._read(lambda c: queries.criterion_history(c, criterion_id))

    def overall_history(self) -> list[tuple[datetime, float]]:
        """(time, overall score) of every attempt, oldest first."""
        return self._read(queries.overall_history)

    def criterion_names(self) -> dict[str, str]:
        """Criterion id -> display name (latest seen) for every criterion in the history,
        in first-seen order."""
        return self._read(queries.criterion_names)

    def criterion_ids(self) -> list[str]:
        """Criteria that appear in the history, in first-seen order."""
        return list(self.criterion_names())

    def weakest_questions(self, n: int = 5) -> list[QuestionStats]:
        """The ``n`` questions with the lowest latest score (ties: lowest mean, oldest)."""
        stats = self.question_stats()
        stats.sort(key=lambda s: (s.latest, s.mean, s.last_practised))
        return stats[: max(0, n)]

    # -- mentor comments -----------------------------------------------------------------
    def add_comments(self, comments: Sequence[MentorComment]) -> int:
        """Insert comments in one transaction; an identical earlier comment is not repeated.

        Nothing is ever updated or deleted here: comments that come back later add to the
        earlier ones. Returns how many were added.
        """
        now = self.clock().isoformat()
        with self._write() as conn:
            added = queries.insert_comments(conn, comments, now)
        if added:
            self.secure_files()
        return added

    def comments(self, session_id: int) -> list[MentorComment]:
        """A session's mentor comments, oldest first (the overall notes included)."""
        return self._read(lambda c: queries.comments(c, session_id))

    # -- deleting --------------------------------------------------------------------------
    def delete_attempt(self, attempt_id: int) -> None:
        """Delete one attempt, its scores and its recording."""
        with self._write() as conn:
            audio = queries.delete_attempt(conn, attempt_id)
        self._remove_audio([audio])
        self._checkpoint()

    def delete_session(self, session_id: int) -> int:
        """Delete a session with all its attempts and recordings; returns how many attempts."""
        with self._write() as conn:
            audio, count = queries.delete_session(conn, session_id)
        self._remove_audio(audio)
        self._checkpoint()
        return count

    def delete_all_data(self) -> None:
        """Delete the database (with its WAL, SHM and backups) and every recording, then close.

        The store cannot be used afterwards; open a new one to start a fresh history.
        """
        with self._lock:
            try:
                with self._write() as conn:
                    conn.execute("DELETE FROM sessions")
                self._checkpoint()
            finally:
                self._conn.close()
            for p in [
                self.path,
                *(self.path.with_name(self.path.name + s) for s in _SUFFIXES),
                *self.root.glob(self.path.name + ".v*.bak"),
            ]:
                p.unlink(missing_ok=True)
            if self.recordings_dir.exists():
                shutil.rmtree(self.recordings_dir)

    def _remove_audio(self, stored: Sequence[str | None]) -> None:
        for s in stored:
            p = self._absolute(s)
            # Only files the coach owns: never delete something outside the recordings folder.
            if p is not None and _is_within(p, self.recordings_dir):
                p.unlink(missing_ok=True)

    def _checkpoint(self) -> None:
        """Fold the WAL back into the database so deleted answers do not linger in it."""
        # A reader may hold the WAL; the next checkpoint will finish the job.
        with self._lock, suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
