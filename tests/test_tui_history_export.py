"""History and export as a new user meets them (issue 15), driven by Textual's Pilot at 80x24.

- The charts put every answer in a row whatever the question, so the screen no longer shows
  "↑50" between different questions; each question is listed with its own latest and best.
- Exports go to a folder the user sees and can change (remembered in settings): by default a
  folder in their documents folder, else in the data folder. After saving, the full path is
  shown and the folder can be opened (xdg-open here; a stand-in script on PATH records the call).
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label, OptionList, Static

from coach import paths
from coach.settings import Settings, default_export_dir, export_dir, load_settings
from coach.tui.app import CoachApp
from coach.tui.opener import folder_opener
from coach.tui.screens.history import HistoryScreen
from coach.tui.widgets.chart import score_bars
from tests.fakes import FAKE_QUESTIONS, FakeHistory, SavedAttempt, fake_score, fake_services

pytestmark = pytest.mark.tui
SIZE = (80, 24)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of our own (no user-dirs.dirs, no graphical session)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return home


def history_of(*answers: tuple[str, str]) -> FakeHistory:
    """A history with one session holding typed answers (question id, text), in order."""
    history = FakeHistory()
    history.sessions = ["solo"]
    for n, (qid, text) in enumerate(answers, start=1):
        question = next(q for q in FAKE_QUESTIONS if q.id == qid)
        report = fake_score(text, question, None)
        history.attempts.append(SavedAttempt(n, 1, question, report, True))
    return history


def shown(app: CoachApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def open_history(app: CoachApp, pilot: Any) -> HistoryScreen:
    await pilot.pause()
    await pilot.press("h")
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
    assert isinstance(app.screen, HistoryScreen)
    return app.screen


def wait_for(path: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_default_export_folder_is_in_documents_else_in_the_data_folder(home: Path) -> None:
    assert default_export_dir() == paths.data_dir() / "exports"
    (home / "Documents").mkdir()
    assert default_export_dir() == home / "Documents" / "medpeds-coach"
    assert export_dir(Settings()) == default_export_dir()
    assert export_dir(Settings(export_dir="~/mentor")) == home / "mentor"


def test_history_compares_each_question_with_itself(home: Path) -> None:
    # 50-ish on the failed-match question, then 100-ish on another, then the first again lower:
    # the old screen showed "↑" from the first answer to the last as progress.
    history = history_of(
        ("fm-explain", "I learned from it and did research. It was unfair."),
        ("wmp-why", "I learned, did research, got letters and I am ready."),
        ("fm-explain", "It was unfair and the programs were broken."),
    )
    fm = [a.report.overall for a in history.attempts if a.question.id == "fm-explain"]
    wmp = [a.report.overall for a in history.attempts if a.question.id == "wmp-why"]

    async def run() -> None:
        app = CoachApp(fake_services(history=history), Settings())
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_history(app, pilot)
            overall = str(screen.query_one("#trend-overall", Label).render())
            assert "↑" not in overall and "↓" not in overall
            assert f"latest {fm[-1]:.0f}" in overall and "3 answers" in overall
            note = shown(app, "#chart-note")
            assert "all questions mixed" in note and "another question" in note
            assert "Latest" in shown(app, "#per-question-head")
            rows = screen.query_one("#weakest", OptionList)
            got = {
                rows.get_option_at_index(i).id: str(rows.get_option_at_index(i).prompt).split()
                for i in range(rows.option_count)
            }
            # Each row: latest, best and count of the same question.
            assert got["fm-explain"][:3] == [f"{fm[-1]:.0f}", f"{max(fm):.0f}", "2×"]
            assert got["wmp-why"][:3] == [f"{wmp[0]:.0f}", f"{wmp[0]:.0f}", "1×"]
            assert rows.get_option_at_index(0).id == "fm-explain"  # weakest first

    asyncio.run(run())


def test_export_goes_to_the_shown_default_folder_with_the_full_path(home: Path) -> None:
    (home / "Documents").mkdir()
    folder = home / "Documents" / "medpeds-coach"
    history = history_of(("fm-explain", "I did not match. I learned from it."))

    async def run() -> None:
        app = CoachApp(fake_services(history=history), Settings())
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_history(app, pilot)
            assert str(folder) in shown(app, "#export-folder")
            assert not screen.check_action("open_folder", ())  # nothing exported yet
            await pilot.press("e")
            await app.workers.wait_for_complete()
            await pilot.pause()
            out = folder / "session-1.md"
            assert out.exists()
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # made private
            status = shown(app, "#export-status")
            assert f"Saved for your mentor: {out}" in status
            # No graphical session here: the app says where it is instead of opening it.
            assert folder_opener() is None
            assert "Open it from your file manager" in status
            assert not screen.check_action("open_folder", ())  # "o" is not offered
            await pilot.press("o")
            await pilot.pause()
            assert any(str(out) in n.message for n in app._notifications)

    asyncio.run(run())


def test_choose_folder_is_remembered_and_opened(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in xdg-open on PATH records what the app asked it to open.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "opened.txt"
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{record}"\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":0")
    chosen = tmp_path / "for mentor" / "2026"
    history = history_of(("fm-explain", "I did not match. I learned from it."))

    async def run() -> None:
        app = CoachApp(fake_services(history=history), Settings())
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_history(app, pilot)
            await pilot.press("f")
            await pilot.pause()
            field = screen.query_one("#export-folder-input", Input)
            assert field.display and field.has_focus
            assert field.value == str(default_export_dir())
            # Escape keeps the current folder and stays on History.
            await pilot.press("escape")
            await pilot.pause()
            assert not field.display and isinstance(app.screen, HistoryScreen)
            # A file is not a folder.
            (tmp_path / "a-file").write_text("x", encoding="utf-8")
            await pilot.press("f")
            field.value = str(tmp_path / "a-file")
            await pilot.press("enter")
            await pilot.pause()
            assert "is a file, not a folder" in shown(app, "#export-status")
            assert app.settings.export_dir is None
            field.value = str(chosen)
            await pilot.press("enter")
            await pilot.pause()
            assert app.settings.export_dir == str(chosen)
            assert load_settings().export_dir == str(chosen)  # remembered in settings.toml
            assert str(chosen) in shown(app, "#export-folder")
            await pilot.press("w")
            await app.workers.wait_for_complete()
            await pilot.pause()
            out = chosen / "session-1.html"
            assert out.exists()
            status = shown(app, "#export-status")
            assert f"Saved for your mentor: {out}" in status and "o opens the folder" in status
            assert screen.check_action("open_folder", ())
            await pilot.press("o")
            await pilot.pause()
            wait_for(record)
            assert record.read_text(encoding="utf-8") == str(chosen)
            # Empty: back to the default folder.
            await pilot.press("f")
            field.value = ""
            await pilot.press("enter")
            await pilot.pause()
            assert load_settings().export_dir is None

    asyncio.run(run())


def test_export_folder_that_cannot_be_created_is_a_calm_message(home: Path) -> None:
    blocker = home / "blocker"
    blocker.write_text("x", encoding="utf-8")
    history = history_of(("fm-explain", "I did not match. I learned from it."))

    async def run() -> None:
        settings = Settings(export_dir=str(blocker / "inside"))
        app = CoachApp(fake_services(history=history), settings)
        async with app.run_test(size=SIZE) as pilot:
            await open_history(app, pilot)
            await pilot.press("e")
            await app.workers.wait_for_complete()
            await pilot.pause()
            status = shown(app, "#export-status")
            assert "cannot create the export folder" in status and "press f" in status
            assert history.exported == []

    asyncio.run(run())


def test_charts_use_a_fixed_scale_so_equal_high_scores_are_not_drawn_as_zero() -> None:
    # Textual's Sparkline scaled to the data: two answers at 98 showed as the lowest bars.
    assert score_bars([98.0, 98.0], 40).plain == "███" * 2
    assert score_bars([0.0, 50.0, 100.0], 3).plain == "▁▅█"
    assert score_bars([], 10).plain == ""
    # More answers than columns: the newest fill the width.
    assert score_bars([10.0] * 5 + [100.0] * 5, 5).plain == "█" * 5


def test_saving_the_settings_screen_keeps_the_chosen_export_folder(home: Path) -> None:
    async def run() -> None:
        app = CoachApp(fake_services(), Settings(export_dir=str(home / "mentor")))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("comma")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
        assert app.settings.export_dir == str(home / "mentor")

    asyncio.run(run())
    assert load_settings().export_dir == str(home / "mentor")


def test_palette_export_on_the_history_screen_does_not_stack_another(home: Path) -> None:
    history = history_of(("fm-explain", "I did not match. I learned from it."))

    async def run() -> None:
        app = CoachApp(fake_services(history=history), Settings(export_dir=str(home / "m")))
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_history(app, pilot)
            depth = len(app.screen_stack)
            app.action_export_latest()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen is screen and len(app.screen_stack) == depth
            assert (home / "m" / "session-1.md").exists()

    asyncio.run(run())
