"""Mentor comments in the app (issue 14), driven by Textual's Pilot at 80x24 on a real history.

- The History screen's ``c`` asks for the file a mentor sent and imports it into the real SQLite
  history through the core's adapter; another session's file and a broken file are one calm
  line in the status bar, and nothing is imported.
- The review screen shows what a mentor wrote on this answer (or on the previous answer to the
  same question) beside the coach's feedback; a long comment wraps within 80 columns.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from coach import paths
from coach.core.library import BankSource, StoreHistory
from coach.core.session import AttemptResult, PreviousAttempt
from coach.settings import Settings
from coach.store import MentorComment, Store
from coach.tui.app import CoachApp
from coach.tui.screens.history import HistoryScreen
from coach.tui.screens.review import ReviewScreen
from tests.fakes import FAKE_QUESTIONS, fake_score, fake_services
from tests.test_cli_history import populate
from tests.test_mentor_comments import _saved_json, _started

pytestmark = pytest.mark.tui
SIZE = (80, 24)
LONG = (
    "Lead with what changed since the Match: the sub-internship, the letters from the "
    "combined program, and the QI project. The second sentence still sounds like it blames "
    "the program director; say what you would do differently instead, in one sentence."
)


def real_app() -> CoachApp:
    services = fake_services()
    services.history = StoreHistory(BankSource(), paths.data_dir() / "history.sqlite3")
    return CoachApp(services, Settings(think_s=0))


def rows() -> list[tuple[Any, ...]]:
    with sqlite3.connect(paths.data_dir() / "history.sqlite3") as conn:
        return conn.execute(
            "SELECT session_id, attempt_id, mentor, body FROM mentor_comments ORDER BY id"
        ).fetchall()


def status(app: CoachApp) -> str:
    return str(app.screen.query_one("#export-status", Static).render())


async def settle(app: CoachApp, pilot: Any) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)


async def import_file(app: CoachApp, pilot: Any, path: Path) -> str:
    await pilot.press("c")
    field = app.screen.query_one("#comments-file-input", Input)
    assert field.display and field.has_focus
    field.value = str(path)
    await pilot.press("enter")
    await settle(app, pilot)
    assert not field.display
    return status(app)


def test_history_screen_imports_comments_and_refuses_bad_files_calmly(tmp_path: Path) -> None:
    history = populate(tmp_path)
    first, second = history["attempts"][2:4]
    good = tmp_path / "back.json"
    good.write_text(
        _saved_json(2, _started(2), {str(first): "Lead with what changed.", str(second): ""}),
        encoding="utf-8",
    )
    other = tmp_path / "other.json"
    other.write_text(_saved_json(2, "2025-12-01T09:00:00+00:00", {}), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "medpeds-coach-comments", "version": 1,', encoding="utf-8")
    app = real_app()

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("h")
            await settle(app, pilot)
            assert isinstance(app.screen, HistoryScreen)
            assert "c imports their comments" in status(app)

            line = await import_file(app, pilot, good)
            assert "Imported 1 comment into session 2" in line, line
            assert rows() == [(2, first, "Dr. Lee", "Lead with what changed.")]
            line = await import_file(app, pilot, good)  # twice: nothing added, said so
            assert "Imported 0 comments into session 2 (1 already there)" in line, line

            line = await import_file(app, pilot, other)
            assert "another session" in line and "nothing was imported" in line, line
            line = await import_file(app, pilot, broken)
            assert "not a valid comments file" in line and "broken JSON" in line, line
            line = await import_file(app, pilot, tmp_path / "missing.json")
            assert "cannot read" in line, line
            assert "Traceback" not in line
            assert rows() == [(2, first, "Dr. Lee", "Lead with what changed.")]

            # Escape closes the field without importing; the screen is still there.
            await pilot.press("c")
            await pilot.press("escape")
            assert isinstance(app.screen, HistoryScreen)
            assert "No comments were imported" in status(app)

    asyncio.run(run())


def review_of(attempt_id: int, previous_id: int | None) -> ReviewScreen:
    question = FAKE_QUESTIONS[0]
    report = fake_score("I did not match. Since then I did a sub-internship.", question, None)
    previous = PreviousAttempt(previous_id, "Earlier answer.", 60.0, {}) if previous_id else None
    result = AttemptResult(question, report, None, None, attempt_id, previous)
    return ReviewScreen(result, has_next=False)


def test_review_shows_mentor_comments_beside_the_feedback_and_wraps_them(
    tmp_path: Path,
) -> None:
    history = populate(tmp_path)
    first, second = history["attempts"][2:4]
    with Store.open() as store:
        store.add_comments(
            [
                MentorComment(2, first, LONG, "Dr. Lee", "html"),
                MentorComment(2, second, "Good pivot.", "", "md"),
                MentorComment(2, None, "Overall: much better.", "Dr. Lee", "html"),
            ]
        )
    app = real_app()

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.push_screen(review_of(second, first))
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            notes = screen.query_one("#mentor-notes", Static)
            assert notes.display and screen.query_one("#mentor-title").display
            text = str(notes.render())
            assert "Your mentor on this answer" in text and "Good pivot." in text
            assert "Dr. Lee on your previous answer" in text
            assert "Overall: much better." not in text  # the session note is not an answer's
            # Beside the coach's feedback: right after the score table.
            ids = [w.id for w in screen.query_one("#review").children]
            assert ids.index("mentor-title") == ids.index("scores") + 1
            # 80 columns: the long comment wraps onto several lines, none wider than the screen.
            assert notes.size.width <= SIZE[0]
            assert notes.size.height >= 2 + len(LONG) // SIZE[0] + 3
            lines = [
                "".join(seg.text for seg in line).rstrip()
                for line in notes.render_lines(notes.region.reset_offset)
            ]
            assert " ".join(" ".join(lines).split()).count("sub-internship") == 1
            assert all(len(line) <= notes.size.width for line in lines)

    asyncio.run(run())


def test_review_without_comments_shows_no_mentor_section(tmp_path: Path) -> None:
    history = populate(tmp_path)
    app = real_app()

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.push_screen(review_of(history["attempts"][0], None))
            await settle(app, pilot)
            assert not app.screen.query_one("#mentor-notes").display
            assert not app.screen.query_one("#mentor-title").display

    asyncio.run(run())
