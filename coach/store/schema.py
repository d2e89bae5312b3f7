"""The history's schema: what each version looks like, and the checks and upgrades on opening.

:func:`prepare` is the first thing run on a new connection. It refuses, before writing
anything, a database written by a newer coach, another program's SQLite file, one missing our
tables and one that fails ``quick_check``; then it sets the pragmas the safety rules rely on
(foreign keys, secure delete, WAL) and migrates an older schema, keeping a backup copy first.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final

from coach.errors import StoreError
from coach.store.files import _translate

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
# Tables every version has: a history without one of them is refused, not repaired.
_OUR_TABLES: Final = frozenset({"sessions", "attempts", "criterion_scores"})


def prepare(conn: sqlite3.Connection, db: Path, timeout: float) -> None:
    """Check the database ``conn`` opened at ``db`` and bring it to :data:`SCHEMA_VERSION`.

    Raises :class:`StoreError` for a newer, foreign, incomplete or damaged database; none of
    them is written to.
    """
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        # Read-only checks first: nothing is written to a database we are going to refuse.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the history database {db} was written by a newer version of the "
                f"coach (schema {version}; this version knows up to {SCHEMA_VERSION})",
                "upgrade medpeds-interview-coach (pip install -U medpeds-interview-coach); "
                "the database was left untouched",
            )
        if version == 0 and tables:
            raise StoreError(
                f"{db} is a SQLite database but not a coach history "
                f"(it has tables {', '.join(sorted(tables))})",
                "move it elsewhere or point the coach at another data dir (COACH_DATA_DIR); "
                "it was left untouched",
            )
        if version >= 1 and not tables >= _OUR_TABLES:
            raise StoreError(
                f"the history database {db} is missing tables "
                f"({', '.join(sorted(_OUR_TABLES - tables))})",
                "move it aside to start a new history; it was left untouched",
            )
        if version >= 1:
            row = conn.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                # SQLite's report spans lines ("*** in database main ***\nPage 6: ...").
                detail = " ".join(str(row[0] if row else "?").replace("*", " ").split())
                raise StoreError(
                    f"the history database {db} is damaged ({detail[:160]})",
                    "move it aside to start a new history; it was left untouched",
                )
        conn.execute("PRAGMA foreign_keys = ON")
        # Deleted answers are overwritten on disk, not just unlinked from the b-tree.
        conn.execute("PRAGMA secure_delete = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(
                f"cannot switch {db} to WAL mode (got {mode})",
                "keep the data dir on a local disk (not a network share)",
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            _migrate(conn, db, version)
    except sqlite3.Error as exc:
        raise _translate(exc, db) from exc


def _migrate(conn: sqlite3.Connection, db: Path, version: int) -> None:
    if version >= 1:
        _backup(conn, db, version)
    steps: list[str] = []
    if version == 0:
        steps.extend(SCHEMA_V1)
        version = 1
    for migration in MIGRATIONS[version - 1 :]:
        steps.extend(migration)
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


def _backup(conn: sqlite3.Connection, db: Path, version: int) -> None:
    """Copy the database before migrating it, so an upgrade can never lose history."""
    target = db.with_name(f"{db.name}.v{version}.bak")
    if target.exists():
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    dest = sqlite3.connect(target)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    os.chmod(target, 0o600)
