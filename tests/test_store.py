"""The history database on a real SQLite file: round trips, migrations, bad files, privacy."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coach import paths
from coach.errors import StoreError
from coach.store import SCHEMA_V1, SCHEMA_VERSION, Store
from tests.history_factories import ANSWER, make_report, make_transcript, make_wav


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


class Clock:
    """A pinned clock that moves one day per call."""

    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.t += timedelta(days=1)
        return self.t


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open() as s:
        s.clock = Clock()
        yield s


def test_round_trip_keeps_every_field(store: Store, tmp_path: Path) -> None:
    report = make_report()
    transcript = make_transcript()
    audio = make_wav(tmp_path / "incoming" / "answer.wav")
    audio_bytes = audio.read_bytes()
    sid = store.start_session("mock", {"engine": "faster-whisper"})
    aid = store.save_attempt(
        sid,
        question_id=report.question_id,
        category=report.category,
        text=report.text,
        report=report,
        transcript=transcript,
        audio_path=audio,
    )
    store.finish_session(sid)
    store.close()

    # A fresh connection reads back exactly what was saved.
    with Store.open() as again:
        a = again.attempt(aid)
        assert a.report == report
        assert a.transcript == transcript
        assert a.transcript is not None and a.transcript.words[1].text == " did"
        assert a.text == ANSWER
        assert (a.engine, a.model, a.mode) == ("faster-whisper", "tiny.en", "mock")
        assert a.duration_s == transcript.duration_s
        assert a.scores() == {"growth_focus": 75.0, "factual_tone": 60.0, "delivery": 70.0}
        # The recording moved into the private recordings folder, byte for byte.
        assert a.audio_path is not None
        assert a.audio_path.parent == paths.recordings_dir()
        assert a.audio_path.read_bytes() == audio_bytes
        assert not audio.exists()
        session = again.session(sid)
        assert session.mode == "mock"
        assert session.settings == {"engine": "faster-whisper"}
        assert session.finished_at is not None and session.attempt_count == 1
        assert again.latest_session() == session
        assert again.resolve_session("latest") == session
        assert again.resolve_session(str(sid)) == session


def test_audio_already_in_recordings_stays_and_keep_original(store: Store, tmp_path: Path) -> None:
    sid = store.start_session("drill")
    inside = make_wav(paths.recordings_dir() / "live.wav")
    aid = store.save_attempt(
        sid, question_id="q", category="c", text="t", report=make_report(), audio_path=inside
    )
    assert store.attempt(aid).audio_path == inside.resolve()
    outside = make_wav(tmp_path / "keep.wav")
    aid2 = store.save_attempt(
        sid,
        question_id="q",
        category="c",
        text="t",
        report=make_report(),
        audio_path=outside,
        keep_original_audio=True,
    )
    assert outside.exists()
    copy = store.attempt(aid2).audio_path
    assert copy is not None and copy.exists() and copy != outside


def test_failed_save_keeps_the_recording(store: Store, tmp_path: Path) -> None:
    audio = make_wav(tmp_path / "answer.wav")
    before = _hash(audio)
    with pytest.raises(StoreError, match=r"no session 42.*recording is kept at"):
        store.save_attempt(
            42, question_id="q", category="c", text="t", report=make_report(), audio_path=audio
        )
    assert _hash(audio) == before
    assert list(paths.recordings_dir().iterdir()) == []


def test_locked_database_on_save_is_a_clear_error_and_keeps_audio(tmp_path: Path) -> None:
    db = paths.data_dir() / "history.sqlite3"
    with Store.open(timeout=0.2) as store:
        sid = store.start_session("mock")
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program is writing and holds the lock
        audio = make_wav(tmp_path / "answer.wav")
        try:
            with pytest.raises(StoreError, match="locked by another program") as info:
                store.save_attempt(
                    sid,
                    question_id="q",
                    category="c",
                    text="t",
                    report=make_report(),
                    audio_path=audio,
                )
            assert str(audio) in str(info.value)
            assert audio.exists()
            # Readers are not blocked by a writer (WAL): the app can still show history.
            assert store.sessions()[0].id == sid
        finally:
            other.execute("ROLLBACK")
            other.close()
        # Once the other program is done, saving works.
        store.save_attempt(
            sid, question_id="q", category="c", text="t", report=make_report(), audio_path=audio
        )


def _v1_database(db: Path) -> None:
    """A database exactly as the first release wrote it, with one answer."""
    conn = sqlite3.connect(db)
    for statement in SCHEMA_V1:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO sessions (mode, started_at, settings) VALUES ('drill', ?, '{}')",
        ("2025-12-01T10:00:00+00:00",),
    )
    report = make_report()
    conn.execute(
        "INSERT INTO attempts (session_id, question_id, category, audio_path, transcript, text,"
        " engine, model, overall, stats, created_at, duration_s)"
        " VALUES (1, 'fm-explain-01', 'failed-match', NULL, NULL, ?, 'whisper', 'base.en', 55.5,"
        " '{\"words\": 30, \"sentences\": 2}', '2025-12-01T10:05:00+00:00', 40.0)",
        (report.text,),
    )
    conn.execute(
        "INSERT INTO criterion_scores VALUES (1, 0, 'brevity', 'Brevity', 62.5, 1, 'Tight.',"
        ' 1.0, \'[{"start": 0, "end": 5, "text": "I did", "effect": "+"}]\')'
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_migration_from_the_first_schema_keeps_data(tmp_path: Path) -> None:
    db = paths.data_dir() / "history.sqlite3"
    _v1_database(db)
    v1_hash = _hash(db)
    with Store.open() as store:
        (a,) = store.attempts()
        assert a.mode == "drill"  # v2 column backfilled from the session
        assert a.overall == 55.5 and a.engine == "whisper" and a.model == "base.en"
        assert a.report.criteria[0].evidence[0].text == "I did"
        assert a.report.tips == ()
        assert store.session(1).started_at == datetime(2025, 12, 1, 10, tzinfo=UTC)
        # And the migrated database takes new answers with v2 fields.
        aid = store.save_attempt(
            1, question_id="q2", category="c", text="t", report=make_report(), mode="mock"
        )
        assert store.attempt(aid).mode == "mock"
        assert store.attempt(aid).report.tips == make_report().tips
    conn = sqlite3.connect(db)
    # v3 added the mentor_comments table (issue 14); a v1 history migrates all the way.
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()
    backup = db.with_name("history.sqlite3.v1.bak")
    assert _mode(backup) == 0o600
    # The backup is a readable copy of the v1 data (the v1 file's bytes may differ in header).
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT overall FROM attempts").fetchall() == [(55.5,)]
    old.close()
    assert v1_hash  # the original hash is recorded only to show the file existed


def test_garbage_file_is_refused_and_untouched() -> None:
    db = paths.data_dir() / "history.sqlite3"
    db.write_bytes(os.urandom(4096))
    before = _hash(db)
    with pytest.raises(StoreError, match="not a SQLite database") as info:
        Store.open()
    assert "never overwrites" in str(info.value)
    assert _hash(db) == before
    assert not db.with_name("history.sqlite3-wal").exists()


def test_malformed_database_is_refused_and_untouched() -> None:
    db = paths.data_dir() / "history.sqlite3"
    with Store.open() as store:
        sid = store.start_session("mock")
        for _ in range(30):
            store.save_attempt(
                sid, question_id="q", category="c", text=ANSWER * 20, report=make_report()
            )
    raw = bytearray(db.read_bytes())
    assert len(raw) > 8192
    raw[100:8192] = os.urandom(8092)  # keep the header, wreck the schema and first pages
    db.write_bytes(bytes(raw))
    before = _hash(db)
    with pytest.raises(StoreError, match=r"corrupt|damaged"):
        Store.open()
    assert _hash(db) == before


def test_newer_schema_is_refused_and_untouched() -> None:
    db = paths.data_dir() / "history.sqlite3"
    conn = sqlite3.connect(db)
    for statement in SCHEMA_V1:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = _hash(db)
    with pytest.raises(StoreError, match=r"newer version of the coach \(schema 99") as info:
        Store.open()
    assert "upgrade" in str(info.value)
    assert _hash(db) == before


def test_someone_elses_sqlite_file_is_refused() -> None:
    db = paths.data_dir() / "history.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = _hash(db)
    with pytest.raises(StoreError, match="not a coach history"):
        Store.open()
    assert _hash(db) == before


def test_exclusively_locked_database_is_a_clear_error_on_open() -> None:
    db = paths.data_dir() / "history.sqlite3"
    _v1_database(db)  # a rollback-journal database, as another tool could leave it
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        before = _hash(db)
        with pytest.raises(StoreError, match="locked by another program") as info:
            Store.open(timeout=0.2)
        assert "try again" in str(info.value)
        assert _hash(db) == before
    finally:
        other.execute("ROLLBACK")
        other.close()
    with Store.open() as store:  # released: opens and migrates
        assert len(store.attempts()) == 1


def test_permissions_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        data = paths.data_dir()
        with Store.open() as store:
            sid = store.start_session("mock")
            store.save_attempt(
                sid,
                question_id="q",
                category="c",
                text="t",
                report=make_report(),
                audio_path=make_wav(tmp_path / "a.wav"),
            )
            db = data / "history.sqlite3"
            wal = data / "history.sqlite3-wal"
            shm = data / "history.sqlite3-shm"
            assert wal.exists() and shm.exists()  # WAL mode, while open
            assert _mode(data) == 0o700
            assert _mode(data / "recordings") == 0o700
            for f in (db, wal, shm, *(data / "recordings").iterdir()):
                assert _mode(f) == 0o600, f
        # Loosened by someone else: tightened again when the store opens.
        os.chmod(db, 0o644)
        os.chmod(data, 0o755)
        for f in (data / "recordings").iterdir():
            os.chmod(f, 0o644)
        with Store.open():
            assert _mode(db) == 0o600 and _mode(data) == 0o700
            assert all(_mode(f) == 0o600 for f in (data / "recordings").iterdir())
    finally:
        os.umask(old)


def test_wal_and_foreign_keys_are_on(store: Store) -> None:
    db = paths.data_dir() / "history.sqlite3"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with pytest.raises(StoreError, match="no session 7"):
        store.save_attempt(7, question_id="q", category="c", text="t", report=make_report())
    with pytest.raises(StoreError, match="unknown session mode"):
        store.start_session("karaoke")


def test_progress_queries(store: Store) -> None:
    s1 = store.start_session("drill")
    plan = [
        ("a", 40.0, 50.0),
        ("b", 80.0, 70.0),
        ("a", 60.0, 65.0),
        ("c", 55.0, 20.0),
        ("a", 70.0, 90.0),
    ]
    ids = []
    for qid, overall, growth in plan:
        ids.append(
            store.save_attempt(
                s1,
                question_id=qid,
                category="failed-match",
                text=ANSWER,
                report=make_report(
                    question_id=qid, overall=overall, scores={"growth_focus": growth}
                ),
            )
        )
    stats = {s.question_id: s for s in store.question_stats()}
    assert stats["a"].attempts == 3
    assert (stats["a"].best, stats["a"].latest) == (70.0, 70.0)
    assert stats["a"].mean == pytest.approx(56.666, abs=0.01)
    assert stats["a"].first_practised < stats["a"].last_practised
    assert [s.question_id for s in store.weakest_questions(2)] == ["c", "a"]
    history = store.criterion_history("growth_focus")
    assert [score for _, score in history] == [50.0, 70.0, 65.0, 20.0, 90.0]
    assert [t for t, _ in history] == sorted(t for t, _ in history)
    assert store.criterion_ids() == ["growth_focus"]
    prev = store.previous_attempt("a", ids[4])
    assert prev is not None and prev.id == ids[2]
    assert store.previous_attempt("a", ids[0]) is None
    assert [a.id for a in store.attempts(question_id="a")] == [ids[0], ids[2], ids[4]]
    assert len(store.attempts(session_id=s1)) == 5
    assert store.session(s1).best == 80.0


def test_delete_attempt_and_session_remove_audio(store: Store, tmp_path: Path) -> None:
    s1 = store.start_session("mock")
    s2 = store.start_session("drill")
    a1 = store.save_attempt(
        s1,
        question_id="q",
        category="c",
        text="t",
        report=make_report(),
        audio_path=make_wav(tmp_path / "1.wav"),
    )
    a2 = store.save_attempt(
        s1,
        question_id="q",
        category="c",
        text="t",
        report=make_report(),
        audio_path=make_wav(tmp_path / "2.wav"),
    )
    a3 = store.save_attempt(
        s2,
        question_id="q",
        category="c",
        text="t",
        report=make_report(),
        audio_path=make_wav(tmp_path / "3.wav"),
    )
    audio = {i: store.attempt(i).audio_path for i in (a1, a2, a3)}
    store.delete_attempt(a1)
    assert (p1 := audio[a1]) is not None and not p1.exists()
    with pytest.raises(StoreError, match="no attempt"):
        store.attempt(a1)
    assert store.delete_session(s1) == 1
    assert (p2 := audio[a2]) is not None and not p2.exists()
    assert (p3 := audio[a3]) is not None and p3.exists()
    with pytest.raises(StoreError, match="no session"):
        store.session(s1)
    conn = sqlite3.connect(paths.data_dir() / "history.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM criterion_scores").fetchone()[0] == 3  # a3 only
    conn.close()
    # Deleted text is not left behind in the database file (secure_delete + checkpoint).
    marker = "ZEBRA-MARKER-42"
    a4 = store.save_attempt(s2, question_id="q", category="c", text=marker, report=make_report())
    store.delete_attempt(a4)
    store.close()
    assert marker.encode() not in (paths.data_dir() / "history.sqlite3").read_bytes()


def test_delete_all_data(store: Store, tmp_path: Path) -> None:
    sid = store.start_session("mock")
    store.save_attempt(
        sid,
        question_id="q",
        category="c",
        text="t",
        report=make_report(),
        audio_path=make_wav(tmp_path / "1.wav"),
    )
    data = paths.data_dir()
    store.delete_all_data()
    assert not (data / "history.sqlite3").exists()
    assert not (data / "history.sqlite3-wal").exists()
    assert not (data / "recordings").exists()
    with Store.open() as fresh:
        assert fresh.sessions() == []


def test_two_writers_at_once(tmp_path: Path) -> None:
    """Two stores (the app and a CLI) saving at the same time both succeed."""
    with Store.open() as first:
        sid = first.start_session("mock")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Store.open() as s:
                for _ in range(15):
                    s.save_attempt(
                        sid, question_id="q", category="c", text=ANSWER, report=make_report()
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store.open() as s:
        assert len(s.attempts(session_id=sid)) == 45
