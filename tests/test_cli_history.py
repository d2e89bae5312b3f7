"""``coach history``, ``export``, ``delete`` and ``forget-everything`` as subprocesses.

The history is a real SQLite file in the test's data dir, filled through the Store API with
the factories of tests/history_factories.py and real question ids from the shipped bank.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from coach import paths
from coach.questions import load_question_bank
from coach.store import SCHEMA_V1, Store
from tests.coach_process import assert_one_line_error
from tests.history_factories import ANSWER, make_report, make_transcript, make_wav
from tests.test_cli_record import unwritable_folder

COACH = [sys.executable, "-m", "coach"]
NAME = "Dr. Okafor"


def run(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ if env is None else env)
    if env is None or "COLUMNS" not in env:
        # A wide terminal whatever the runner set (pytest-xdist's workers set COLUMNS=80).
        full_env["COLUMNS"] = "140"
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [*COACH, *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def db_path() -> Path:
    return paths.data_dir() / "history.sqlite3"


# -- a history with three sessions over three days ------------------------------------------------

# (day, question id, overall, growth, tone)
PLAN = [
    (0, "fm-what-happened", 50.0, 40.0, 55.0),
    (0, "fm-why-unmatched", 40.0, 35.0, 50.0),
    (1, "fm-what-happened", 65.0, 60.0, 62.0),
    (1, "bp-dont-match-again", 70.0, 72.0, 68.0),
    (2, "fm-what-happened", 80.0, 85.0, 75.0),
    (2, "fm-why-unmatched", 45.0, 50.0, 58.0),
]


def populate(tmp_path: Path) -> dict[str, Any]:
    """Sessions 1-3 (one a day), two answers each, every answer with a recording."""
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    attempts: list[int] = []
    sessions: list[int] = []
    with Store.open() as store:
        tick = {"now": start}
        store.clock = lambda: tick["now"]
        for day in range(3):
            tick["now"] = start + timedelta(days=day)
            sid = store.start_session(
                "mock" if day != 1 else "drill", {"microphone": "Dr. Okafor's USB mic"}
            )
            sessions.append(sid)
            for i, (d, qid, overall, growth, tone) in enumerate(PLAN):
                if d != day:
                    continue
                tick["now"] = start + timedelta(days=day, minutes=5 * (i + 1))
                attempts.append(
                    store.save_attempt(
                        sid,
                        question_id=qid,
                        category=qid.split("-")[0],
                        text=ANSWER,
                        report=make_report(
                            question_id=qid,
                            overall=overall,
                            scores={"growth_focus": growth, "factual_tone": tone},
                        ),
                        transcript=make_transcript(),
                        audio_path=make_wav(tmp_path / "incoming" / f"{len(attempts)}.wav"),
                        engine="faster-whisper",
                        model="tiny.en",
                    )
                )
            store.finish_session(sid)
        audio = {a.id: a.audio_path for a in store.attempts()}
    return {"sessions": sessions, "attempts": attempts, "audio": audio}


@pytest.fixture
def history(tmp_path: Path) -> dict[str, Any]:
    return populate(tmp_path)


# -- coach history -------------------------------------------------------------------------------


def test_history_report_on_a_real_database(history: dict[str, Any]) -> None:
    bank = load_question_bank()
    done = run(["history"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("History: 3 sessions, 6 answers")
    lines = out.splitlines()
    # Sessions, newest first, with answers, best and mean.
    table = lines[lines.index("Sessions (newest first)") + 2 :][:3]
    assert [int(line.split()[0]) for line in table] == [3, 2, 1]
    assert table[0].split()[-3:] == ["2", "80", "62"]  # 2 answers, best 80, mean 62.5
    assert "drill" in table[1]
    # Attempts per question with best and latest, the question's text from the bank.
    row = next(line for line in lines if bank.get("fm-what-happened").text[:30] in line)
    assert row.split()[-4:-1] == ["3", "80", "80"]
    row = next(line for line in lines if "fm-why-unmatched" in line)
    assert row.split()[-4:-1] == ["2", "45", "45"]
    # Progress per criterion as a terminal chart, oldest to newest.
    charts = lines[lines.index("Progress per criterion (oldest → newest, 0-100 scale)") + 1 :]
    overall = next(line for line in charts if line.strip().startswith("Overall"))
    assert "50 →  45 (−5)" in overall
    growth = next(line for line in charts if line.strip().startswith("Growth Focus"))
    spark = growth.split()[2]
    assert len(spark) == 6 and set(spark) <= set("▁▂▃▄▅▆▇█")
    assert spark[0] < spark[4]  # 40 then 85: the bar grows
    assert "40 →  50 (+10)" in growth
    # Weakest questions: lowest latest score first.
    weak = lines[lines.index("Weakest questions (drills bring these back first)") + 1 :]
    assert "fm-why-unmatched" in weak[0] and "latest 45, best 45" in weak[0]
    assert "bp-dont-match-again" in weak[1]
    assert "fm-what-happened" in weak[2]


def test_history_json(history: dict[str, Any]) -> None:
    done = run(["history", "--json", "--weakest", "2"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema_version"] == 1 and data["attempt_count"] == 6
    assert [s["id"] for s in data["sessions"]] == [3, 2, 1]
    assert [s["attempt_count"] for s in data["sessions"]] == [2, 2, 2]
    q = {x["question_id"]: x for x in data["questions"]}
    assert (q["fm-what-happened"]["attempts"], q["fm-what-happened"]["best"]) == (3, 80.0)
    assert q["fm-what-happened"]["latest"] == 80.0 and q["fm-what-happened"]["text"]
    assert (q["fm-why-unmatched"]["attempts"], q["fm-why-unmatched"]["latest"]) == (2, 45.0)
    growth = next(c for c in data["criteria"] if c["criterion_id"] == "growth_focus")
    assert [p["score"] for p in growth["points"]] == [p[3] for p in PLAN]
    assert data["overall"]["change"] == -5.0
    assert data["weakest"] == ["fm-why-unmatched", "bp-dont-match-again"]


def test_empty_history_is_a_friendly_message() -> None:
    done = run(["history"])
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("No practice yet")
    empty = json.loads(run(["history", "--json"]).stdout)
    assert empty["sessions"] == [] and empty["attempt_count"] == 0
    assert_one_line_error(
        run(["export", "latest"]), "no sessions in the history yet", "practise first"
    )


# -- coach export --------------------------------------------------------------------------------


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def test_export_each_format_to_files_parsed_back(history: dict[str, Any], tmp_path: Path) -> None:
    out_dir = tmp_path / "for-mentor"
    out_dir.mkdir()
    bank = load_question_bank()
    # HTML: self-contained, the question and answer, recordings embedded.
    html_file = out_dir / "s2.html"
    # --keep all: this test checks the export itself (the guard has its own tests).
    done = run(["export", "2", "--format", "html", "--out", str(html_file), "--keep", "all"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Wrote {html_file}"
    page = parse_html(html_file.read_text(encoding="utf-8"))
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            assert attrs.get(key) is None or str(attrs[key]).startswith("data:"), (tag, key)
    text = "".join(page.text)
    assert bank.get("fm-what-happened").text in text
    assert bank.get("bp-dont-match-again").text in text
    assert ANSWER in text and "Mentor comments" in text
    audio = [a["src"] for t, a in page.tags if t == "audio"]
    session2 = history["attempts"][2:4]
    assert len(audio) == 2
    for src, attempt_id in zip(audio, session2, strict=True):
        assert src is not None and src.startswith("data:audio/wav;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == history["audio"][attempt_id].read_bytes()
    # JSON: loads, with a schema version and the whole session.
    json_file = out_dir / "s2.json"
    assert run(["export", "2", "-f", "json", "-o", str(json_file), "--keep", "all"]).returncode == 0
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1 and doc["session"]["id"] == 2
    assert [a["id"] for a in doc["attempts"]] == session2
    first = doc["attempts"][0]
    assert first["question"]["id"] == "fm-what-happened" and first["overall"] == 65.0
    assert first["previous_overall"] == 50.0
    assert {c["id"] for c in first["criteria"]} == {"growth_focus", "factual_tone"}
    assert first["transcript"]["segments"][0]["words"]
    assert first["audio"]["exists"] is True
    # Markdown, --no-audio: no recording paths.
    md_file = out_dir / "s2.md"
    md_args = ["export", "2", "-f", "md", "-o", str(md_file), "--no-audio", "--keep", "all"]
    assert run(md_args).returncode == 0
    md = md_file.read_text(encoding="utf-8")
    assert md.startswith("# Practice session 2 (drill)") and ANSWER in md
    assert "recordings" not in md
    no_audio = out_dir / "quiet.html"
    assert run(["export", "2", "-f", "html", "-o", str(no_audio), "--no-audio"]).returncode == 0
    assert not [t for t, _ in parse_html(no_audio.read_text()).tags if t == "audio"]
    # Every file private, no temporary files left behind.
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["quiet.html", "s2.html", "s2.json", "s2.md"]
    assert all((out_dir / f).stat().st_mode & 0o777 == 0o600 for f in files)


def test_export_default_path_folder_stdout_and_atomic_replace(
    history: dict[str, Any], tmp_path: Path
) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    # No --out: coach-session-ID.FORMAT in the current folder, and the path is printed.
    for fmt in ("md", "html", "json"):
        done = run(["export", "latest", "--format", fmt], cwd=cwd)
        assert done.returncode == 0, done.stderr
        target = cwd / f"coach-session-3.{fmt}"
        assert done.stdout.strip() == f"Wrote {target}"
        assert target.stat().st_mode & 0o777 == 0o600
    json.loads((cwd / "coach-session-3.json").read_text())
    # --out FOLDER: the default name inside it.
    folder = tmp_path / "exports"
    folder.mkdir()
    done = run(["export", "1", "-f", "json", "--out", str(folder)])
    assert done.stdout.strip() == f"Wrote {folder / 'coach-session-1.json'}"
    # --out -: text to stdout for pipes (Markdown and JSON).
    piped = run(["export", "1", "-f", "json", "--out", "-"])
    assert piped.returncode == 0 and json.loads(piped.stdout)["session"]["id"] == 1
    assert run(["export", "1", "--out", "-"]).stdout.startswith("# Practice session 1")
    # Re-exporting (--force: no terminal to ask on) replaces the file in one step (a new
    # inode), never half-written.
    target = cwd / "coach-session-3.md"
    before = target.stat().st_ino
    assert run(["export", "latest", "--out", str(target), "--no-audio", "--force"]).returncode == 0
    assert target.stat().st_ino != before
    assert sorted(p.name for p in cwd.iterdir()) == [
        "coach-session-3.html",
        "coach-session-3.json",
        "coach-session-3.md",
    ]


def test_export_redaction_everywhere(history: dict[str, Any], tmp_path: Path) -> None:
    for fmt in ("md", "html", "json"):
        out = tmp_path / f"redacted.{fmt}"
        done = run(["export", "latest", "-f", fmt, "-o", str(out), "--redact", NAME])
        assert done.returncode == 0, done.stderr
        assert "recordings are left out" in done.stderr
        text = out.read_text(encoding="utf-8")
        assert "okafor" not in text.lower(), fmt
        assert ("\\[redacted\\]" if fmt == "md" else "[redacted]") in text  # md escapes []
        if fmt == "json":
            doc = json.loads(text)
            assert doc["redacted"] is True and doc["audio"] == "omitted: redacted"
            assert "[redacted]" in doc["session"]["settings"]["microphone"]  # metadata too
            assert all(a["audio"] is None for a in doc["attempts"])
        if fmt == "html":
            assert not [t for t, _ in parse_html(text).tags if t == "audio"]
    # Several names, case-insensitively, to stdout as well.
    piped = run(["export", "1", "-o", "-", "--redact", "okafor", "--redact", "MED-PEDS"])
    assert piped.returncode == 0
    assert "okafor" not in piped.stdout.lower() and "med-peds" not in piped.stdout.lower()


def test_export_bad_input(history: dict[str, Any], tmp_path: Path) -> None:
    assert_one_line_error(run(["export", "99"]), "no session 99", "coach history")
    assert_one_line_error(run(["export", "yesterday"]), "'yesterday' is not a session id")
    assert_one_line_error(run(["export", "latest", "-f", "pdf"]), "unknown export format 'pdf'")
    assert_one_line_error(
        run(["export", "latest", "-o", str(tmp_path / "nope" / "x.md")]),
        "does not exist",
        "choose another --out",
    )
    assert_one_line_error(run(["export", "latest", "--redact", "x"]), "at least 2 characters")
    assert_one_line_error(
        run(["export", "latest", "-f", "html", "-o", "-"]), "HTML export is a file"
    )
    assert_one_line_error(run(["export", "latest", "-o", " "]), "--out is empty")
    with unwritable_folder(tmp_path / "locked") as locked:
        # The default output goes to the current folder: one it cannot write to is an error.
        assert_one_line_error(run(["export", "latest"], cwd=locked), "cannot write in", "--out")
        assert_one_line_error(
            run(["export", "latest", "-o", str(locked / "x.md")]), "cannot write in"
        )
        assert list(locked.iterdir()) == []
    # Nothing was written anywhere by the failed commands.
    assert not (tmp_path / "nope").exists()
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".md", ".html", ".json")]


# -- coach delete ----------------------------------------------------------------------------------


def test_delete_attempt_and_session_remove_their_recordings(history: dict[str, Any]) -> None:
    audio: dict[int, Path] = history["audio"]
    first, *_ = history["attempts"]
    assert all(p.is_file() for p in audio.values())
    done = run(["delete", "attempt", str(first), "--yes"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Deleted attempt {first} (fm-what-happened")
    assert not audio[first].exists()
    assert all(p.exists() for a, p in audio.items() if a != first)
    done = run(["delete", "session", "2", "-y"])
    assert done.returncode == 0 and "session 2" in done.stdout
    for attempt_id in history["attempts"][2:4]:
        assert not audio[attempt_id].exists()
    for attempt_id in (history["attempts"][1], *history["attempts"][4:]):
        assert audio[attempt_id].exists()
    data = json.loads(run(["history", "--json"]).stdout)
    assert [s["id"] for s in data["sessions"]] == [3, 1] and data["attempt_count"] == 3
    with sqlite3.connect(db_path()) as conn:  # nothing dangling
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        ids = {r[0] for r in conn.execute("SELECT attempt_id FROM criterion_scores")}
    assert first not in ids


def test_delete_bad_input_and_confirmation(history: dict[str, Any]) -> None:
    audio: dict[int, Path] = history["audio"]
    assert_one_line_error(run(["delete", "attempt", "999", "--yes"]), "no attempt 999")
    assert_one_line_error(run(["delete", "session", "999", "--yes"]), "no session 999")
    assert_one_line_error(run(["delete", "thing", "1", "--yes"]), "cannot delete 'thing'")
    assert_one_line_error(run(["delete", "session", "abc", "--yes"]), "'abc' is not a session id")
    # No terminal and no --yes: refused, nothing deleted.
    assert_one_line_error(run(["delete", "session", "1"]), "refusing to delete", "--yes")
    # On a terminal the user is asked; "n" keeps everything, "y" deletes.
    assert _on_terminal(["delete", "session", "1"], "n\n").returncode == 1
    assert all(p.exists() for p in audio.values())
    answered = _on_terminal(["delete", "session", "1"], "y\n")
    assert answered.returncode == 0, answered.stderr
    assert "Delete session 1" in answered.stdout and "Deleted session 1" in answered.stdout
    assert not audio[history["attempts"][0]].exists()


def _on_terminal(args: list[str], typed: str) -> subprocess.CompletedProcess[str]:
    """Run with a pseudo-terminal as stdin and ``typed`` already typed into it."""
    import pty

    master, slave = pty.openpty()
    try:
        os.write(master, typed.encode())
        return run(args, stdin=slave)
    finally:
        os.close(slave)
        os.close(master)


# -- coach forget-everything -------------------------------------------------------------------------


def _user_files(config: Path) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text('engine = "faster-whisper"\n')
    (config / "questions").mkdir(exist_ok=True)
    (config / "questions" / "mine.toml").write_text("# my questions\n")


def test_forget_everything_needs_confirmation_and_removes_all_data(
    history: dict[str, Any], tmp_path: Path
) -> None:
    data, config = paths.data_dir(), paths.config_dir()
    _user_files(config)
    foreign = data / "notes-not-from-the-coach.txt"  # a redirected data dir may be shared
    foreign.write_text("mine")
    cache_marker = paths.cache_dir() / "models-are-kept"
    cache_marker.write_text("")
    before = digest(db_path())
    # The app (a store held open) is using the history: refused, nothing deleted.
    with Store.open():
        assert_one_line_error(run(["forget-everything", "--yes"]), "in use", "close the app")
    # No terminal and no --yes: refused.
    refused = run(["forget-everything"])
    assert refused.returncode == 2 and "refusing to delete" in refused.stderr
    assert "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert digest(db_path()) == before and (config / "settings.toml").exists()
    # On a terminal, "n" keeps everything.
    assert _on_terminal(["forget-everything"], "n\n").returncode == 1
    assert all(p.exists() for p in history["audio"].values())
    # --yes: history, recordings, backups and settings are gone; other files and models stay.
    done = run(["forget-everything", "--yes"])
    assert done.returncode == 0, done.stderr
    assert "Deleted" in done.stdout and "Left alone" in done.stdout and foreign.name in done.stdout
    assert sorted(p.name for p in data.iterdir()) == [foreign.name]
    assert list(config.iterdir()) == []
    assert cache_marker.exists()
    assert run(["history"]).stdout.startswith("No practice yet")


def test_forget_everything_in_the_default_folders_empties_them(tmp_path: Path) -> None:
    env = dict(os.environ)
    for key in ("COACH_DATA_DIR", "COACH_CONFIG_DIR"):
        env.pop(key)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    data = tmp_path / "xdg-data" / "medpeds-coach"
    config = tmp_path / "xdg-config" / "medpeds-coach"
    _user_files(config)
    assert run(["history"], env=env).returncode == 0  # creates the database
    (data / "recordings").mkdir(exist_ok=True)
    (data / "recordings" / "answer.wav").write_bytes(b"RIFF")
    (data / "history.sqlite3.v1.bak").write_bytes(b"old")
    assert_one_line_error(run(["forget-everything"], env=env), "refusing to delete")
    done = run(["forget-everything", "-y"], env=env)
    assert done.returncode == 0, done.stderr
    assert list(data.iterdir()) == [] and list(config.iterdir()) == []
    assert run(["forget-everything", "-y"], env=env).stdout.startswith("Nothing to delete")


# -- privacy and damaged databases -------------------------------------------------------------------


def test_data_dir_is_private_even_with_a_permissive_umask(
    history: dict[str, Any], tmp_path: Path
) -> None:
    data = paths.data_dir()
    db = db_path()
    # Loosened by someone (a backup tool, a careless chmod): the next command tightens them.
    os.chmod(data, 0o755)
    os.chmod(data / "recordings", 0o755)
    os.chmod(db, 0o644)
    for p in (data / "recordings").iterdir():
        os.chmod(p, 0o644)
    done = run(["history"], umask=0)
    assert done.returncode == 0, done.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "recordings").stat().st_mode & 0o777 == 0o700
    for p in [db, *data.glob("history.sqlite3-*"), *(data / "recordings").iterdir()]:
        assert p.stat().st_mode & 0o777 == 0o600, p
    out = tmp_path / "export.html"
    assert run(["export", "latest", "-f", "html", "-o", str(out)], umask=0).returncode == 0
    assert out.stat().st_mode & 0o777 == 0o600
    # A brand-new data dir, created by the CLI under umask 0.
    env = dict(os.environ, COACH_DATA_DIR=str(tmp_path / "fresh"))
    assert run(["history"], env=env, umask=0).returncode == 0
    assert (tmp_path / "fresh").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "fresh" / "history.sqlite3").stat().st_mode & 0o777 == 0o600


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(8192))


def _malformed(db: Path) -> None:
    with Store.open() as store:
        sid = store.start_session("mock")
        for _ in range(30):
            store.save_attempt(
                sid, question_id="q", category="c", text=ANSWER * 20, report=make_report()
            )
    raw = bytearray(db.read_bytes())
    raw[100:8192] = os.urandom(8092)  # header kept, schema and first pages wrecked
    db.write_bytes(bytes(raw))


def _newer(db: Path) -> None:
    conn = sqlite3.connect(db)
    for statement in SCHEMA_V1:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 42")
    conn.commit()
    conn.close()


def _foreign(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_garbage, "not a SQLite database"),
        (_malformed, "corrupt"),
        (_newer, "newer version of the coach (schema 42"),
        (_foreign, "not a coach history"),
    ],
    ids=["garbage", "malformed", "newer-schema", "foreign"],
)
def test_damaged_database_is_a_one_line_error_and_left_byte_identical(
    damage: Any, message: str, tmp_path: Path
) -> None:
    db = db_path()
    damage(db)
    for extra in db.parent.glob("history.sqlite3-*"):
        extra.unlink()
    before = digest(db)
    out = tmp_path / "never.json"
    for args in (
        ["history"],
        ["history", "--json"],
        ["export", "latest", "-f", "json", "-o", str(out)],
        ["delete", "session", "1", "--yes"],
    ):
        line = assert_one_line_error(run(args))
        assert message in line or (message == "corrupt" and "damaged" in line), line
        assert "untouched" in line or "never overwrites" in line
        assert digest(db) == before, args
    assert not out.exists()
    assert not list(db.parent.glob("history.sqlite3-wal"))


def test_locked_database_is_a_one_line_error_and_left_untouched() -> None:
    db = db_path()
    _newer(db)  # a rollback-journal database another tool holds exclusively...
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 1")  # ...at the first schema, so it could be migrated
    conn.commit()
    conn.close()
    # Hashed before locking: closing any descriptor of the file in this process would drop
    # the lock (POSIX record locks are per process).
    before = digest(db)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert_one_line_error(run(["history"]), "locked by another program", "try again")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert digest(db) == before
    assert run(["history"]).returncode == 0  # released: it opens (and migrates, with a backup)
    assert db.with_name("history.sqlite3.v1.bak").exists()


# -- the app and the CLI at the same time ---------------------------------------------------------


def test_the_app_saving_while_the_cli_exports(tmp_path: Path) -> None:
    """A store held open (as the app holds it) saves answers in a loop while `coach export`
    and `coach history` run: every command succeeds, every save lands, nothing is corrupt."""
    errors: list[BaseException] = []
    saved: list[int] = []
    stop = threading.Event()
    with Store.open() as app_store:
        sid = app_store.start_session("mock")
        saved.append(
            app_store.save_attempt(
                sid,
                question_id="fm-what-happened",
                category="failed-match",
                text=ANSWER,
                report=make_report(question_id="fm-what-happened"),
                transcript=make_transcript(),
                audio_path=make_wav(tmp_path / "rec" / "0.wav"),
            )
        )

        def app_saves() -> None:
            try:
                n = 1
                while not stop.is_set():
                    saved.append(
                        app_store.save_attempt(
                            sid,
                            question_id="fm-why-unmatched",
                            category="failed-match",
                            text=ANSWER,
                            report=make_report(question_id="fm-why-unmatched", overall=n % 100),
                            transcript=make_transcript(),
                            audio_path=make_wav(tmp_path / "rec" / f"{n}.wav"),
                        )
                    )
                    n += 1
                    time.sleep(0.01)
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)

        writer = threading.Thread(target=app_saves)
        writer.start()
        try:
            counts: list[int] = []
            for i, fmt in enumerate(("json", "html", "json")):
                out = tmp_path / f"export-{i}.{fmt}"
                done = run(["export", str(sid), "-f", fmt, "-o", str(out)])
                assert done.returncode == 0, done.stderr
                if fmt == "json":
                    doc = json.loads(out.read_text(encoding="utf-8"))
                    # A consistent snapshot: every attempt complete with its criteria.
                    assert all(len(a["criteria"]) == 3 for a in doc["attempts"])
                    counts.append(len(doc["attempts"]))
                else:
                    parse_html(out.read_text(encoding="utf-8"))
                    shown = run(["history", "--json"])
                    assert shown.returncode == 0, shown.stderr
                    assert json.loads(shown.stdout)["attempt_count"] >= 1
            assert counts == sorted(counts) and counts[-1] > counts[0] >= 1
        finally:
            stop.set()
            writer.join(timeout=30)
        assert errors == []
        assert len(app_store.attempts(session_id=sid)) == len(saved) > 5
    with sqlite3.connect(db_path()) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == len(saved)
    # Export still works while another program holds the write lock (WAL readers never wait).
    blocker = sqlite3.connect(db_path(), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        done = run(["export", "latest", "-f", "json", "-o", "-"])
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["attempts"]) == len(saved)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
