"""Mentor comments coming back: Markdown round trip, the saved JSON, wrong and corrupt files.

Everything runs the real ``coach`` CLI on a real SQLite history (three sessions, two answers
each, made by ``populate``); the database is hashed before a refused import to show nothing
changed. The browser side (typing in the HTML and pressing Save) is tests/test_mentor_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from coach import paths
from coach.store import Store
from tests.coach_process import assert_one_line_error
from tests.test_cli_history import populate, run


@pytest.fixture
def history(tmp_path: Path) -> dict[str, Any]:
    return populate(tmp_path)


def _db_rows() -> list[tuple[Any, ...]]:
    with sqlite3.connect(paths.data_dir() / "history.sqlite3") as conn:
        return conn.execute(
            "SELECT session_id, attempt_id, mentor, body, source FROM mentor_comments ORDER BY id"
        ).fetchall()


def _digest() -> str:
    with sqlite3.connect(paths.data_dir() / "history.sqlite3") as conn:
        rows = conn.execute("SELECT * FROM mentor_comments").fetchall()
        rows += conn.execute("SELECT id, text FROM attempts").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _fill(md: str, key: str, text: str) -> str:
    marker = f"<!-- coach:comments {key} -->\n"
    assert marker in md, key
    return md.replace(marker, marker + text + "\n", 1)


def test_markdown_round_trip(history: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "s2.md"
    assert run(["export", "2", "-o", str(out), "--keep", "all"]).returncode == 0
    md = out.read_text(encoding="utf-8")
    first, second = history["attempts"][2:4]
    assert md.count("<!-- coach:comments answer=") == 2
    assert "## How the coach scores" in md and "Factual tone** (passes at 65)" in md
    # The mentor writes in a text editor between the marker lines.
    md = _fill(md, f"answer={first}", "Lead with what changed.\n\nThe second sentence blames.")
    md = _fill(md, "overall", "Much better than last month.")
    md = _fill(md, "mentor", "Dr. Lee")
    filled = tmp_path / "back.md"
    filled.write_text(md, encoding="utf-8")
    done = run(["import-comments", str(filled)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported 2 comments into session 2"
    assert _db_rows() == [
        (2, first, "Dr. Lee", "Lead with what changed.\n\nThe second sentence blames.", "md"),
        (2, None, "Dr. Lee", "Much better than last month.", "md"),
    ]
    # The same file again adds nothing; a second round of comments adds to the first.
    assert "0 comments" in run(["import-comments", str(filled)]).stdout
    again = tmp_path / "again.md"
    assert run(["export", "2", "-o", str(again), "--keep", "all"]).returncode == 0
    later = again.read_text(encoding="utf-8")
    # Later exports show what came back (outside the boxes, so it is not imported twice).
    assert "> **Dr. Lee, " in later and "Lead with what changed." in later
    assert "Much better than last month." in later
    later = _fill(later, f"answer={second}", "Good pivot.")
    again.write_text(later, encoding="utf-8")
    assert run(["import-comments", str(again)]).stdout.startswith("Imported 1 comment ")
    assert len(_db_rows()) == 3 and _db_rows()[0][3].startswith("Lead with")
    with Store.open() as store:
        assert [c.body for c in store.comments(2)][-1] == "Good pivot."
    # JSON exports carry them too, with the rubric a mentor reads scores by.
    doc = json.loads(run(["export", "2", "-f", "json", "-o", "-", "--keep", "all"]).stdout)
    assert [c["body"] for c in doc["attempts"][1]["mentor_comments"]] == ["Good pivot."]
    assert doc["mentor_notes"][0]["mentor"] == "Dr. Lee"
    assert {c["id"] for c in doc["rubric"]["criteria"]} >= {"brevity", "factual_tone"}
    assert doc["rubric"]["version"] == 1


def _saved_json(session_id: int, started: str, answers: dict[str, Any], **extra: Any) -> str:
    data = {
        "format": "medpeds-coach-comments",
        "version": 1,
        "session_id": session_id,
        "session_started_at": started,
        "mentor": "Dr. Lee",
        "overall": "",
        "answers": answers,
        "saved_at": "2026-02-01T10:00:00Z",
    }
    data.update(extra)
    return json.dumps(data)


def _started(session_id: int) -> str:
    with Store.open() as store:
        return store.session(session_id).started_at.isoformat()


def test_wrong_session_and_corrupt_files_are_refused_and_change_nothing(
    history: dict[str, Any], tmp_path: Path
) -> None:
    first = history["attempts"][2]
    good = tmp_path / "ok.json"
    good.write_text(_saved_json(2, _started(2), {str(first): "Fine."}))
    assert run(["import-comments", str(good)]).returncode == 0
    before = _digest()
    cases = {
        # Another computer's session 2 (same id, another start time).
        "other.json": (
            _saved_json(2, "2025-03-01T09:00:00+00:00", {str(first): "x"}),
            "comments for another session",
        ),
        "gone.json": (_saved_json(99, _started(2), {}), "another session (session 99"),
        # An answer of session 1 in a file for session 2.
        "mixed.json": (
            _saved_json(2, _started(2), {str(history["attempts"][0]): "x"}),
            f"answer {history['attempts'][0]}, which is not in session 2",
        ),
        "broken.json": ('{"format": "medpeds-coach-comments", "version": 1,', "broken JSON"),
        "alien.json": ('{"hello": 1}', "'format' is not"),
        "future.json": (_saved_json(2, _started(2), {}, version=9), "version 9"),
        "badanswers.json": (_saved_json(2, _started(2), {"x": 3}), "answer 'x'"),
        "notes.md": ("# My notes\n\nNothing from the coach here.\n", "no session marker"),
    }
    for name, (content, needle) in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        assert_one_line_error(run(["import-comments", str(path)]), needle)
        assert _digest() == before, name
    binary = tmp_path / "audio.json"
    binary.write_bytes(b"\xff\xfe\x00RIFF")
    assert_one_line_error(run(["import-comments", str(binary)]), "is not text")
    assert_one_line_error(run(["import-comments", str(tmp_path / "none.json")]), "cannot read")
    other_md = tmp_path / "other.md"
    other_md.write_text(
        "<!-- coach:session id=2 started=2020-01-01T00:00:00+00:00 -->\n"
        f"<!-- coach:comments answer={first} -->\nHi\n<!-- coach:end -->\n"
    )
    assert_one_line_error(run(["import-comments", str(other_md)]), "another session")
    assert _digest() == before


def test_empty_boxes_import_nothing(history: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "s1.md"
    assert run(["export", "1", "-o", str(out), "--keep", "all"]).returncode == 0
    done = run(["import-comments", str(out)])
    assert done.returncode == 0 and "every box was empty" in done.stdout
    assert _db_rows() == []
