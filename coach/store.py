"""The practice history: a private SQLite database of sessions and scored attempts.

One file, ``history.sqlite3`` in :func:`coach.paths.data_dir`, with recorded answers in the
``recordings/`` folder next to it. The folder is 0700 and every file in it (the database, its
``-wal`` and ``-shm`` companions, the audio) is 0600, enforced when the store opens and after
every save: answers about failures and red flags are nobody else's business.

Safety rules, in order of importance:

* A database that is not ours (garbage, malformed, another program's SQLite file) or that was
  written by a newer version of the coach is **refused** with a :class:`StoreError` and never
  written to. Migrations of an older schema keep a backup copy first.
* An answer is never lost: audio outside the recordings folder is copied in before the row is
  committed, and the original is removed only after the commit succeeded.
* The app and a CLI command (``coach export``) can use the file at the same time: WAL mode lets
  readers run beside one writer and ``busy_timeout`` makes writers queue instead of failing.

The API returns typed dataclasses (:class:`Session`, :class:`Attempt`, :class:`QuestionStats`);
it is thread-safe (one connection guarded by a lock) so Textual thread workers can share it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast, get_args

from coach import paths
from coach.audio.transcript import Transcript
from coach.errors import StoreError
from coach.pending import import_pending
from coach.scoring.report import AnswerStats, CriterionResult, Evidence, ScoreReport

if TYPE_CHECKING:
    from coach.audio.wavfile import RepairResult

Mode = Literal["mock", "drill", "solo", "rehearse"]
MODES: Final[tuple[str, ...]] = get_args(Mode)
DB_NAME: Final = "history.sqlite3"
RECORDINGS: Final = "recordings"
SQLITE_HEADER: Final = b"SQLite format 3\x00"
DEFAULT_TIMEOUT_S: Final = 5.0

# --- schema -------------------------------------------------------------------------------
# Version 1 is kept verbatim: it is what the first release wrote, and the tests build a v1
# database from it to prove the migrations keep every answer.
SCHEMA_V1: Final[tuple[str, ...]] = (
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mode TEXT NOT NULL CHECK (mode IN ('mock', 'drill', 'solo', 'rehearse')),
        started_at TEXT NOT NULL,
        finished_at TEXT,
        settings TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        question_id TEXT,
        category TEXT NOT NULL DEFAULT '',
        audio_path TEXT,
        transcript TEXT,
        text TEXT NOT NULL,
        engine TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        overall REAL NOT NULL,
        stats TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        duration_s REAL
    )""",
    """CREATE TABLE criterion_scores (
        attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        criterion_id TEXT NOT NULL,
        name TEXT NOT NULL,
        score REAL NOT NULL,
        passed INTEGER NOT NULL,
        feedback TEXT NOT NULL DEFAULT '',
        weight REAL NOT NULL DEFAULT 1.0,
        evidence TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (attempt_id, criterion_id)
    )""",
    "CREATE INDEX attempts_session ON attempts(session_id)",
)

# Each entry upgrades the schema from version ``i + 1`` to ``i + 2``.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # v2: a session can mix modes (a mock with a rehearsed answer), so each attempt records its
    # own mode (backfilled from its session); the report's tips are kept for exports; indexes
    # for the per-question and per-criterion history views.
    (
        "ALTER TABLE attempts ADD COLUMN mode TEXT",
        "UPDATE attempts SET mode = (SELECT mode FROM sessions WHERE sessions.id = session_id)",
        "ALTER TABLE attempts ADD COLUMN tips TEXT NOT NULL DEFAULT '[]'",
        "CREATE INDEX attempts_question ON attempts(question_id, created_at)",
        "CREATE INDEX criterion_scores_criterion ON criterion_scores(criterion_id)",
    ),
    # v3: comments a mentor sent back (coach import-comments). Additive: one new table, rows
    # are only ever inserted (an import never changes or removes an earlier comment);
    # attempt_id NULL is the mentor's overall note on the session.
    (
        """CREATE TABLE mentor_comments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            attempt_id INTEGER REFERENCES attempts(id) ON DELETE CASCADE,
            mentor TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            imported_at TEXT NOT NULL
        )""",
        "CREATE INDEX mentor_comments_session ON mentor_comments(session_id, attempt_id)",
    ),
)
SCHEMA_VERSION: Final = 1 + len(MIGRATIONS)
_OUR_TABLES: Final = frozenset({"sessions", "attempts", "criterion_scores"})


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Session:
    """A practice session with a summary of its attempts."""

    id: int
    mode: str
    started_at: datetime
    finished_at: datetime | None
    settings: dict[str, Any] = field(default_factory=dict)
    attempt_count: int = 0
    best: float | None = None  # best overall score in the session
    mean: float | None = None  # mean overall score in the session

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mode": self.mode,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "settings": self.settings,
            "attempt_count": self.attempt_count,
            "best": _round(self.best),
            "mean": _round(self.mean),
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    """One scored answer: what was said, how it sounded and how it scored."""

    id: int
    session_id: int
    mode: str
    question_id: str | None
    category: str
    text: str
    report: ScoreReport
    transcript: Transcript | None
    audio_path: Path | None  # absolute; None for typed answers or after --no-audio
    engine: str
    model: str
    created_at: datetime
    duration_s: float | None

    @property
    def overall(self) -> float:
        return self.report.overall

    def scores(self) -> dict[str, float]:
        """Criterion id -> score."""
        return {c.id: c.score for c in self.report.criteria}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "mode": self.mode,
            "question_id": self.question_id,
            "category": self.category,
            "text": self.text,
            "overall": round(self.overall, 1),
            "report": self.report.to_dict(),
            "tips": list(self.report.tips),
            "transcript": self.transcript.to_dict() if self.transcript else None,
            "audio_path": str(self.audio_path) if self.audio_path else None,
            "engine": self.engine,
            "model": self.model,
            "created_at": self.created_at.isoformat(),
            "duration_s": _round(self.duration_s, 2),
        }


@dataclass(frozen=True, slots=True)
class MentorComment:
    """A comment a mentor sent back; ``attempt_id`` None is their note on the whole session."""

    session_id: int
    attempt_id: int | None
    body: str
    mentor: str = ""
    source: str = ""  # "html" or "md": which export the mentor wrote in
    imported_at: datetime | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt_id": self.attempt_id,
            "mentor": self.mentor,
            "body": self.body,
            "source": self.source,
            "imported_at": self.imported_at.isoformat() if self.imported_at else None,
        }


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """How one question has gone so far (what spaced repetition looks at)."""

    question_id: str
    category: str
    attempts: int
    best: float
    latest: float
    mean: float
    first_practised: datetime
    last_practised: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "category": self.category,
            "attempts": self.attempts,
            "best": round(self.best, 1),
            "latest": round(self.latest, 1),
            "mean": round(self.mean, 1),
            "first_practised": self.first_practised.isoformat(),
            "last_practised": self.last_practised.isoformat(),
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def default_path() -> Path:
    """Where the history lives unless told otherwise."""
    return paths.data_dir() / DB_NAME


def _now() -> datetime:
    return datetime.now(UTC)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


_T = TypeVar("_T")


# --- the store ------------------------------------------------------------------------------
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
        conn = self._conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            # Read-only checks first: nothing is written to a database we are going to refuse.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            }
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the history database {self.path} was written by a newer version of the "
                    f"coach (schema {version}; this version knows up to {SCHEMA_VERSION})",
                    "upgrade medpeds-interview-coach (pip install -U medpeds-interview-coach); "
                    "the database was left untouched",
                )
            if version == 0 and tables:
                raise StoreError(
                    f"{self.path} is a SQLite database but not a coach history "
                    f"(it has tables {', '.join(sorted(tables))})",
                    "move it elsewhere or point the coach at another data dir (COACH_DATA_DIR); "
                    "it was left untouched",
                )
            if version >= 1 and not tables >= _OUR_TABLES:
                raise StoreError(
                    f"the history database {self.path} is missing tables "
                    f"({', '.join(sorted(_OUR_TABLES - tables))})",
                    "move it aside to start a new history; it was left untouched",
                )
            if version >= 1:
                row = conn.execute("PRAGMA quick_check").fetchone()
                if row is None or row[0] != "ok":
                    # SQLite's report spans lines ("*** in database main ***\nPage 6: ...").
                    detail = " ".join(str(row[0] if row else "?").replace("*", " ").split())
                    raise StoreError(
                        f"the history database {self.path} is damaged ({detail[:160]})",
                        "move it aside to start a new history; it was left untouched",
                    )
            conn.execute("PRAGMA foreign_keys = ON")
            # Deleted answers are overwritten on disk, not just unlinked from the b-tree.
            conn.execute("PRAGMA secure_delete = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"cannot switch {self.path} to WAL mode (got {mode})",
                    "keep the data dir on a local disk (not a network share)",
                )
            conn.execute("PRAGMA synchronous = NORMAL")
            if version < SCHEMA_VERSION:
                self._migrate(version)
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from exc
        self.recordings_dir.mkdir(mode=0o700, exist_ok=True)
        self.secure_files()

    def _migrate(self, version: int) -> None:
        if version >= 1:
            self._backup(version)
        steps: list[str] = []
        if version == 0:
            steps.extend(SCHEMA_V1)
            version = 1
        for migration in MIGRATIONS[version - 1 :]:
            steps.extend(migration)
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            for statement in steps:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _backup(self, version: int) -> None:
        """Copy the database before migrating it, so an upgrade can never lose history."""
        target = self.path.with_name(f"{self.path.name}.v{version}.bak")
        if target.exists():
            return
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        dest = sqlite3.connect(target)
        try:
            self._conn.backup(dest)
        finally:
            dest.close()
        os.chmod(target, 0o600)

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
                cur = conn.execute(
                    "INSERT INTO attempts (session_id, mode, question_id, category, transcript,"
                    " text, engine, model, overall, stats, tips, created_at, duration_s)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        mode or row[0],
                        question_id,
                        category,
                        json.dumps(transcript.to_dict()) if transcript else None,
                        text,
                        engine or (transcript.engine if transcript else ""),
                        model or (transcript.model if transcript else ""),
                        float(report.overall),
                        json.dumps(report.stats.to_dict()),
                        json.dumps(list(report.tips)),
                        self.clock().isoformat(),
                        duration,
                    ),
                )
                attempt_id = cur.lastrowid
                assert attempt_id is not None
                conn.executemany(
                    "INSERT INTO criterion_scores (attempt_id, position, criterion_id, name,"
                    " score, passed, feedback, weight, evidence)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            attempt_id,
                            i,
                            c.id,
                            c.name,
                            float(c.score),
                            int(c.passed),
                            c.feedback,
                            float(c.weight),
                            json.dumps([e.to_dict() for e in c.evidence]),
                        )
                        for i, c in enumerate(report.criteria)
                    ],
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
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            target.unlink(missing_ok=True)
            raise StoreError(
                f"cannot copy the recording into {self.recordings_dir}: {exc.strerror or exc}",
                "free some disk space or check the data dir's permissions",
            ) from exc
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
            raise StoreError(
                f"there is no attempt {attempt_id} in the history",
                "list attempts with `coach history`",
            )
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
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        criteria: dict[int, list[CriterionResult]] = {i: [] for i in ids}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for c in conn.execute(
                "SELECT * FROM criterion_scores WHERE attempt_id IN (" + marks + ")"
                " ORDER BY attempt_id, position",
                chunk,
            ):
                criteria[c["attempt_id"]].append(
                    CriterionResult(
                        id=c["criterion_id"],
                        name=c["name"],
                        score=c["score"],
                        passed=bool(c["passed"]),
                        feedback=c["feedback"],
                        evidence=tuple(Evidence.from_dict(e) for e in json.loads(c["evidence"])),
                        weight=c["weight"],
                    )
                )
        out = []
        for r in rows:
            report = ScoreReport(
                question_id=r["question_id"],
                category=r["category"],
                text=r["text"],
                overall=r["overall"],
                criteria=tuple(criteria[r["id"]]),
                stats=AnswerStats.from_dict(json.loads(r["stats"])),
                tips=tuple(json.loads(r["tips"] or "[]")),
            )
            transcript = (
                Transcript.from_dict(json.loads(r["transcript"])) if r["transcript"] else None
            )
            out.append(
                Attempt(
                    id=r["id"],
                    session_id=r["session_id"],
                    mode=r["mode"] or "",
                    question_id=r["question_id"],
                    category=r["category"],
                    text=r["text"],
                    report=report,
                    transcript=transcript,
                    audio_path=self._absolute(r["audio_path"]),
                    engine=r["engine"],
                    model=r["model"],
                    created_at=_time(r["created_at"]),
                    duration_s=r["duration_s"],
                )
            )
        return out

    # -- progress --------------------------------------------------------------------------
    def question_stats(self) -> list[QuestionStats]:
        """Per question: attempt count, best, latest and mean overall score, when practised."""

        def query(c: sqlite3.Connection) -> list[QuestionStats]:
            rows = c.execute(
                "SELECT question_id, category, overall, created_at FROM attempts"
                " WHERE question_id IS NOT NULL ORDER BY id"
            ).fetchall()
            grouped: dict[str, list[Any]] = {}
            for r in rows:
                grouped.setdefault(r["question_id"], []).append(r)
            stats = []
            for qid, rs in grouped.items():
                scores = [r["overall"] for r in rs]
                stats.append(
                    QuestionStats(
                        question_id=qid,
                        category=rs[-1]["category"],
                        attempts=len(rs),
                        best=max(scores),
                        latest=scores[-1],
                        mean=sum(scores) / len(scores),
                        first_practised=_time(rs[0]["created_at"]),
                        last_practised=_time(rs[-1]["created_at"]),
                    )
                )
            return sorted(stats, key=lambda s: s.question_id)

        return self._read(query)

    def criterion_history(self, criterion_id: str) -> list[tuple[datetime, float]]:
        """(time, score) of every attempt scored on ``criterion_id``, oldest first."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT a.created_at, s.score FROM criterion_scores s"
                " JOIN attempts a ON a.id = s.attempt_id WHERE s.criterion_id = ?"
                " ORDER BY a.id",
                (criterion_id,),
            ).fetchall()
        )
        return [(_time(r[0]), float(r[1])) for r in rows]

    def overall_history(self) -> list[tuple[datetime, float]]:
        """(time, overall score) of every attempt, oldest first."""
        rows = self._read(
            lambda c: c.execute("SELECT created_at, overall FROM attempts ORDER BY id").fetchall()
        )
        return [(_time(r[0]), float(r[1])) for r in rows]

    def criterion_names(self) -> dict[str, str]:
        """Criterion id -> display name (latest seen) for every criterion in the history,
        in first-seen order."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT criterion_id, name FROM criterion_scores ORDER BY attempt_id, position"
            ).fetchall()
        )
        order: dict[str, str] = {}
        for cid, name in rows:
            order[str(cid)] = str(name)
        return order

    def criterion_ids(self) -> list[str]:
        """Criteria that appear in the history, in first-seen order."""
        return list(self.criterion_names())

    def weakest_questions(self, n: int = 5) -> list[QuestionStats]:
        """The ``n`` questions with the lowest latest score (ties: lowest mean, oldest)."""
        stats = self.question_stats()
        stats.sort(key=lambda s: (s.latest, s.mean, s.last_practised))
        return stats[: max(0, n)]

    # -- deleting --------------------------------------------------------------------------
    # -- mentor comments -----------------------------------------------------------------
    def add_comments(self, comments: Sequence[MentorComment]) -> int:
        """Insert comments in one transaction; an identical earlier comment is not repeated.

        Nothing is ever updated or deleted here: comments that come back later add to the
        earlier ones. Returns how many were added.
        """
        added = 0
        now = self.clock().isoformat()
        with self._write() as conn:
            for c in comments:
                duplicate = conn.execute(
                    "SELECT 1 FROM mentor_comments WHERE session_id = ? AND attempt_id IS ?"
                    " AND mentor = ? AND body = ?",
                    (c.session_id, c.attempt_id, c.mentor, c.body),
                ).fetchone()
                if duplicate:
                    continue
                conn.execute(
                    "INSERT INTO mentor_comments"
                    " (session_id, attempt_id, mentor, body, source, imported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (c.session_id, c.attempt_id, c.mentor, c.body, c.source, now),
                )
                added += 1
        if added:
            self.secure_files()
        return added

    def comments(self, session_id: int) -> list[MentorComment]:
        """A session's mentor comments, oldest first (the overall notes included)."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT id, session_id, attempt_id, mentor, body, source, imported_at"
                " FROM mentor_comments WHERE session_id = ? ORDER BY id",
                (session_id,),
            ).fetchall()
        )
        return [MentorComment(r[1], r[2], r[4], r[3], r[5], _time(r[6]), r[0]) for r in rows]

    def delete_attempt(self, attempt_id: int) -> None:
        """Delete one attempt, its scores and its recording."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT audio_path FROM attempts WHERE id = ?", (attempt_id,)
            ).fetchone()
            if row is None:
                raise StoreError(
                    f"there is no attempt {attempt_id} in the history",
                    "list attempts with `coach history`",
                )
            conn.execute("DELETE FROM attempts WHERE id = ?", (attempt_id,))
        self._remove_audio([row[0]])
        self._checkpoint()

    def delete_session(self, session_id: int) -> int:
        """Delete a session with all its attempts and recordings; returns how many attempts."""
        with self._write() as conn:
            if (
                conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
                is None
            ):
                raise _no_session(session_id)
            audio = [
                r[0]
                for r in conn.execute(
                    "SELECT audio_path FROM attempts WHERE session_id = ?", (session_id,)
                )
            ]
            count = conn.execute(
                "SELECT COUNT(*) FROM attempts WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        self._remove_audio(audio)
        self._checkpoint()
        return int(count)

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


# --- helpers ------------------------------------------------------------------------------
_SUFFIXES: Final = ("-wal", "-shm", "-journal")

_SESSION_SQL: Final = (
    "SELECT s.id, s.mode, s.started_at, s.finished_at, s.settings,"
    " COUNT(a.id) AS n, MAX(a.overall) AS best, AVG(a.overall) AS mean"
    " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id"
)
_SESSION_END: Final = " GROUP BY s.id ORDER BY s.id DESC"
_ATTEMPT_SQL: Final = "SELECT a.* FROM attempts a"


def _session(r: Any) -> Session:
    return Session(
        id=r[0],
        mode=r[1],
        started_at=_time(r[2]),
        finished_at=_time(r[3]) if r[3] else None,
        settings=cast(dict[str, Any], json.loads(r[4] or "{}")),
        attempt_count=r[5],
        best=r[6],
        mean=r[7],
    )


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


#: SQLite's largest INTEGER; a bigger id cannot exist (and would overflow the query).
MAX_ID = 2**63 - 1


def parse_id(value: str, kind: str, *, also: str = "") -> int:
    """A session or attempt id typed by the user: ASCII digits only, at most :data:`MAX_ID`.

    ``str.isdigit`` also accepts "²" and other Unicode digits that ``int`` then rejects.
    """
    text = value.strip()
    if not text or not text.isascii() or not text.isdigit():
        raise StoreError(
            f"{value!r} is not a {kind} id",
            f"give a number from `coach history`{' ' + also if also else ''}",
        )
    number = int(text)
    if number > MAX_ID:
        raise StoreError(
            f"there is no {kind} {text} in the history (ids are far smaller)",
            f"list {kind}s with `coach history`",
        )
    return number


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise StoreError(f"unknown session mode {mode!r}", f"use one of {', '.join(MODES)}")


def _no_session(session_id: int) -> StoreError:
    return StoreError(
        f"there is no session {session_id} in the history", "list sessions with `coach history`"
    )


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _chmod(path: Path, mode: int) -> None:
    try:
        if (path.stat().st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except OSError as exc:  # owned by another user (one `sudo coach`), or a read-only disk
        owner = paths.foreign_owner(path)
        if owner is not None:
            raise StoreError(
                f"cannot make {path} private: it belongs to {owner}, not to you "
                "(as after running the coach once with sudo)",
                f"give it back: sudo chown -R {paths.current_user()} {path.parent}",
            ) from None
        raise StoreError(
            f"cannot make {path} private: {exc.strerror or exc}", "check its permissions"
        ) from None


def _check_header(db: Path) -> None:
    """Refuse a file that is not SQLite before SQLite gets a chance to touch it."""
    try:
        with db.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(
            f"cannot read the history database {db}: {exc.strerror or exc}",
            "check the file's permissions",
        ) from exc
    if not head and not _has_content(db.with_name(db.name + "-wal")) and not _just_made(db):
        # SQLite would silently start a new, empty history in it. A 0-byte file is a history
        # lost (a full disk, a copy cut short), or one that was never written: say so.
        raise StoreError(
            f"the history database {db} is empty (0 bytes): the saved history is not in it",
            "put back a copy if you have one; otherwise delete the empty file to start a new "
            "history (the coach does not replace it)",
        )
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{db} is not a SQLite database (corrupt or replaced)",
            "move it aside to start a new history; the coach never overwrites it",
        )


def _just_made(db: Path) -> bool:
    """A 0-byte file this recent is a new history another coach process is creating now."""
    try:
        return time.time() - db.stat().st_mtime < NEW_FILE_GRACE_S
    except OSError:
        return False


#: See :func:`_just_made`; creating the schema takes milliseconds.
NEW_FILE_GRACE_S = 30.0


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _precreate_private(db: Path) -> None:
    """Create a new database file as 0600 so SQLite's -wal and -shm inherit the mode."""
    if db.exists():
        _chmod(db, 0o600)
        return
    try:
        fd = os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(
            f"cannot create the history database {db}: {exc.strerror or exc}",
            "check that the data dir is writable (or set COACH_DATA_DIR)",
        ) from exc


def _translate(exc: sqlite3.Error, db: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(
            f"the history database {db} is locked by another program",
            "close other coach windows or commands that are saving, then try again",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"the history database {db} is corrupt ({exc})",
            "move it aside to start a new history; the coach never overwrites it",
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"cannot write the history database {db} ({exc})",
            "check the data dir's permissions and free disk space",
        )
    if "disk" in text or "full" in text:
        return StoreError(f"cannot write the history database {db} ({exc})", "free some disk space")
    return StoreError(f"history database error in {db}: {exc}", "report this as a bug")
