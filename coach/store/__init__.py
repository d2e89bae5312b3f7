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

The package's parts, each readable on its own: ``records`` (the dataclasses and the checks on
ids and modes), ``files`` (permissions, the header check, private creation, SQLite's errors
as messages), ``schema`` (the versions, the checks on opening, migrations), ``queries`` (the
SQL, rows to records) and ``database`` (the :class:`Store`: connection, lock, transactions,
recordings). Import from ``coach.store``; the private helpers are patched where they live
(``coach.store.files.NEW_FILE_GRACE_S``, not here, where a patch would not be seen).
"""

from coach.errors import StoreError
from coach.store.database import DEFAULT_TIMEOUT_S, Store
from coach.store.files import DB_NAME, RECORDINGS, SQLITE_HEADER, default_path
from coach.store.records import (
    MAX_ID,
    MODES,
    Attempt,
    MentorComment,
    Mode,
    QuestionStats,
    Session,
    parse_id,
)
from coach.store.schema import MIGRATIONS, SCHEMA_V1, SCHEMA_VERSION

__all__ = [
    "DB_NAME",
    "DEFAULT_TIMEOUT_S",
    "MAX_ID",
    "MIGRATIONS",
    "MODES",
    "RECORDINGS",
    "SCHEMA_V1",
    "SCHEMA_VERSION",
    "SQLITE_HEADER",
    "Attempt",
    "MentorComment",
    "Mode",
    "QuestionStats",
    "Session",
    "Store",
    "StoreError",
    "default_path",
    "parse_id",
]
