"""The readiness screen, driven with Textual Pilot over a real history database and story, and
its snapshot at 80x24 (regenerate with ``--snapshot-update`` after an intended change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from coach.story import save_story
from coach.tui.screens.readiness import ReadinessScreen
from tests.test_story_readiness import STORY, _populate
from tests.test_tui_app import aio
from tests.test_tui_snapshots import SIZE, make_app, settle

pytestmark = pytest.mark.tui


async def _open_readiness(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.app.push_screen(ReadinessScreen())
    await settle(pilot)


@aio
async def test_readiness_screen_shows_each_category_and_the_flags() -> None:
    _populate()
    save_story(STORY)
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _open_readiness(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReadinessScreen)
        table = screen.query_one("#readiness-table", DataTable)
        assert table.row_count == 11
        fm = [str(c) for c in table.get_row("failed-match")]
        assert fm == ["failed-match", "2", "74", "74", "1", "new letter: ped…"]
        detail = str(screen.query_one("#readiness-detail", Static).render())
        assert detail.startswith("failed-match: still to say — new letter: pediatrics attending")
        assert [str(c) for c in table.get_row("weakness")][1:4] == ["0", "—", "—"]
        status = str(screen.query_one("#readiness-status", Static).render())
        assert status.startswith("2 of 11 categories practised.")
        flags = str(screen.query_one("#readiness-flags", Static).render())
        assert "'twenty programs'" in flags and "'thirty five programs'" in flags
        must = str(screen.query_one("#readiness-must-say", Static).render())
        assert must.endswith("NMPRA")
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, ReadinessScreen)


@aio
async def test_readiness_screen_explains_a_broken_story() -> None:
    from coach.story.profile import story_path

    story_path().write_text("[since]\nmonths = 'a year'\n")
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _open_readiness(pilot)
        status = str(pilot.app.screen.query_one("#readiness-status", Static).render())
        assert status.startswith("Readiness is unavailable:") and "since.months" in status


def test_readiness_snapshot(snap_compare: Callable[..., bool]) -> None:
    _populate()
    save_story(STORY)
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_open_readiness)


def _review_of_typed_answer(answer: str) -> Any:
    """Run a solo interview of the bank's fm-what-happened with a typed answer; the app."""
    import asyncio
    import random

    from textual.widgets import TextArea

    from coach.core.plan import timed
    from coach.questions import load_question_bank
    from coach.settings import Settings
    from coach.tui.app import CoachApp
    from coach.tui.screens.interview import InterviewScreen
    from coach.tui.widgets.story_checklist import StoryChecklist
    from tests.fakes import fake_services

    bank = load_question_bank()
    app = CoachApp(
        fake_services(questions=list(bank)), Settings(), rng=random.Random(7), load_model=False
    )
    seen: dict[str, Any] = {}

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            plan = [timed(bank.get("fm-what-happened"), Settings())]
            await app.push_screen(InterviewScreen(plan, "solo"))
            await pilot.press("t")
            await pilot.pause()
            app.screen.query_one("#typed", TextArea).text = answer
            await pilot.press("ctrl+s")
            for _ in range(4):
                await app.workers.wait_for_complete()
                await pilot.pause(0.15)
            checklist = app.screen.query_one("#story-checklist", StoryChecklist)
            seen["display"] = checklist.display
            seen["text"] = str(checklist.render())

    asyncio.run(run())
    return seen


ANSWER = (
    "last cycle i applied to twenty programs and didnt match my list was too narrow since then "
    "ive worked as a clinical research coordinater in a transition clinic"
)


def test_review_shows_the_story_checklist() -> None:
    save_story(STORY)
    seen = _review_of_typed_answer(ANSWER)
    assert seen["display"] is True
    assert seen["text"].startswith("Your story: said: reason: My list was too narrow.")
    assert "clinical research coordinator role" in seen["text"]
    assert seen["text"].endswith("not said: new letter: pediatrics attending")


def test_review_without_a_story_has_no_checklist() -> None:
    seen = _review_of_typed_answer(ANSWER)
    assert seen["display"] is False


def test_form_fields_round_trip_and_errors_name_the_field() -> None:
    from coach.errors import CoachError
    from coach.story.formfields import fields_to_story, story_to_fields
    from tests.test_story_profile import FULL

    assert fields_to_story(story_to_fields(FULL)) == FULL
    for key, value, needle in (
        ("programs", "twenty", "Programs: 'twenty'"),
        ("soap", "maybe", "SOAP: 'maybe'"),
        ("must_say", "a; b; c; d; e; f", "Must-say: 6 points"),
    ):
        with pytest.raises(CoachError, match=needle):
            fields_to_story({key: value})


@aio
async def test_story_form_saves_what_was_typed_and_reloads_it() -> None:
    from textual.widgets import Input

    from coach.story import Exam
    from coach.story.profile import load_story, story_path
    from coach.tui.screens.story import StoryScreen

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(StoryScreen())
        await settle(pilot)
        screen = app.screen
        assert "No story yet." in str(screen.query_one("#story-status", Static).render())
        screen.query_one("#story-programs", Input).value = "20"
        screen.query_one("#story-role", Input).value = "clinical research coordinator"
        screen.query_one("#story-letters", Input).value = "pediatrics attending; IM attending"
        screen.query_one("#story-exams", Input).value = "Step 1: pass (2 attempts)"
        screen.query_one("#story-soap", Input).value = "no"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert str(screen.query_one("#story-status", Static).render()).startswith("Saved to")
    story = load_story()
    assert story is not None
    assert story.last_cycle.programs == 20 and story.last_cycle.soap is False
    assert story.since.letters == ("pediatrics attending", "IM attending")
    assert story.since.exams == (Exam("Step 1", "pass", 2),)
    assert oct(story_path().stat().st_mode & 0o777) == "0o600"
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(StoryScreen())
        await settle(pilot)
        assert app.screen.query_one("#story-role", Input).value == "clinical research coordinator"
        assert app.screen.query_one("#story-exams", Input).value == "Step 1: pass (2 attempts)"


@aio
async def test_story_form_leaves_a_broken_file_alone() -> None:
    from coach.story.profile import story_path
    from coach.tui.screens.story import StoryScreen

    path = story_path()
    path.write_text("[since]\nmonths = 'a year'\n")
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(StoryScreen())
        await settle(pilot)
        status = str(app.screen.query_one("#story-status", Static).render())
        assert "could not be read" in status and "since.months" in status
    assert path.read_text() == "[since]\nmonths = 'a year'\n"


def test_review_flags_a_contradiction_with_another_answer_in_the_history() -> None:
    from coach.store import Store
    from tests.history_factories import make_report

    save_story(STORY)
    earlier = "Last year I applied to thirty five programs, so this cycle I am dual applying."
    with Store.open() as store:
        s = store.start_session("mock")
        store.save_attempt(
            s,
            question_id="bp-dont-match-again",
            category="backup-plan",
            text=earlier,
            report=make_report(earlier, question_id="bp-dont-match-again", category="backup-plan"),
        )
    seen = _review_of_typed_answer(ANSWER)
    lines = seen["text"].splitlines()
    assert lines[0].startswith("Your story: said:")
    assert lines[1:] == [
        (
            "One story: In the backup-plan answer (bp-dont-match-again): 'thirty five programs'; in "
            "this answer: 'twenty programs'. The two differ on the number of programs; check which "
            "is accurate and say it the same way each time."
        )
    ]
