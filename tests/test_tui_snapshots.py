"""Snapshot tests of every screen at 80x24 (pytest-textual-snapshot).

The app runs on the fakes of tests/fakes.py with a clock that only moves when the test
moves it, a seeded rng, and no model loading, so each screenshot is the same on every run. The
accepted screenshots live in ``tests/__snapshots__/test_tui_snapshots/``; after an intended
change to the look of a screen, regenerate them with::

    .venv/bin/pytest tests/test_tui_snapshots.py --snapshot-update

and look at the SVGs (or the HTML report of a failing run) before committing them.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from coach.settings import Settings
from coach.tui.app import CoachApp
from coach.tui.screens.interview import InterviewScreen
from coach.tui.services import MentorNote
from tests.fakes import (
    FAKE_QUESTIONS,
    FakeClock,
    FakeHistory,
    SavedAttempt,
    fake_score,
    fake_services,
    make_transcript,
)

pytestmark = pytest.mark.tui
SIZE = (80, 24)

Snap = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


def seeded_history() -> FakeHistory:
    """Three earlier answers in two sessions, so charts and progress have something to show."""
    history = FakeHistory()
    history.sessions = ["drill", "solo"]
    answers = [
        (1, "fm-explain", "The Match was unfair and the programs were broken.", False),
        (1, "wmp-why", "I like adults and children. I did research with both.", False),
        (
            2,
            "fm-explain",
            "I did not match. I learned from it, did research and got letters.",
            True,
        ),
    ]
    for n, (session, qid, text, spoken) in enumerate(answers, start=1):
        question = next(q for q in FAKE_QUESTIONS if q.id == qid)
        transcript = make_transcript(text, 30.0) if spoken else None
        report = fake_score(text, question, transcript)
        history.attempts.append(SavedAttempt(n, session, question, report, not spoken))
    return history


# What the fake microphone "hears": a mix of phrases that earn and cost points.
SPOKEN = (
    "I did not match last year. It felt unfair at first, but I took ownership, learned from "
    "it, did research and asked for stronger letters. I am ready now."
)


# A fixed export folder: the default one depends on the machine and the test's temp folder.
EXPORT_DIR = "/home/you/Documents/medpeds-coach"


def make_app(
    history: FakeHistory | None = None, answer: str = SPOKEN
) -> tuple[CoachApp, FakeClock]:
    clock = FakeClock()
    services = fake_services(clock=clock, history=history, answer=answer)
    settings = Settings(export_dir=EXPORT_DIR)
    app = CoachApp(services, settings, rng=random.Random(7), load_model=False)
    return app, clock


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and run the interview tick now (the fake clock stands still)."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        if isinstance(pilot.app.screen, InterviewScreen):
            pilot.app.screen.tick()
        await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def steps(*keys: str, then: Callable[[Pilot[Any]], Awaitable[None]] | None = None) -> RunBefore:
    """Press ``keys`` one at a time, settling after each, then run ``then``."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if then is not None:
            await then(pilot)
            await settle(pilot)

    return run


def test_home(snap_compare: Snap) -> None:
    app, _ = make_app(seeded_history())
    assert snap_compare(app, terminal_size=SIZE, run_before=steps())


def test_drill_setup(snap_compare: Snap) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("d"))


def test_solo_picker(snap_compare: Snap) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("s"))


def test_drill_think_time(snap_compare: Snap) -> None:
    """A timed drill during think time: countdown, idle meter, the way out to typing."""
    app, clock = make_app()

    async def think(pilot: Pilot[Any]) -> None:
        clock.advance(12)

    assert snap_compare(app, terminal_size=SIZE, run_before=steps("d", "ctrl+s", then=think))


def test_interview_recording(snap_compare: Snap) -> None:
    """Recording: answer countdown and bar, level meter, and the live transcript."""
    app, clock = make_app()

    async def speak(pilot: Pilot[Any]) -> None:
        clock.advance(6)

    assert snap_compare(
        app, terminal_size=SIZE, run_before=steps("s", "enter", "space", then=speak)
    )


def test_interview_recording_long_live_transcript(snap_compare: Snap) -> None:
    """A long answer arriving in several updates: five wrapped lines, the newest in view."""
    from tests.test_tui_live_transcript import LONG_ANSWER

    app, clock = make_app(answer=LONG_ANSWER)

    async def speak(pilot: Pilot[Any]) -> None:
        for _ in range(6):
            clock.advance(5.2)
            await settle(pilot)

    assert snap_compare(
        app, terminal_size=SIZE, run_before=steps("s", "enter", "space", then=speak)
    )


def test_interview_typed_answer(snap_compare: Snap) -> None:
    app, _ = make_app()

    async def type_answer(pilot: Pilot[Any]) -> None:
        area = pilot.app.screen.query_one("#typed", TextArea)
        area.cursor_blink = False  # a blinking cursor would make the screenshot flaky
        area.text = "I did not match last year. I learned from it and asked for stronger letters."
        area.move_cursor(area.document.end)

    assert snap_compare(
        app, terminal_size=SIZE, run_before=steps("s", "enter", "t", then=type_answer)
    )


async def _typed_then_spoken(pilot: Pilot[Any], clock: FakeClock) -> None:
    """First a typed answer that blames, then a spoken retry that shows growth."""
    await settle(pilot)
    for key in ("s", "enter", "t"):
        await pilot.press(key)
        await settle(pilot)
    pilot.app.screen.query_one(
        "#typed", TextArea
    ).text = "I did not match last year. It was unfair and the programs were broken."
    await pilot.press("ctrl+s")
    await settle(pilot)
    for key in ("r", "space"):
        await pilot.press(key)
        await settle(pilot)
    clock.advance(30)
    await pilot.press("space")
    await settle(pilot)


def test_review_scores_and_comparison(snap_compare: Snap) -> None:
    """The top of the review: overall with its change, per-criterion scores with deltas."""
    app, clock = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await _typed_then_spoken(pilot, clock)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_review_highlighted_evidence_and_diff(snap_compare: Snap) -> None:
    """Further down: the answer with evidence highlighted and the word diff with last time."""
    app, clock = make_app()

    async def run(pilot: Pilot[Any]) -> None:
        await _typed_then_spoken(pilot, clock)
        screen = pilot.app.screen
        screen.query_one("#review").scroll_to_widget(
            screen.query_one("#answer-title"), animate=False, top=True
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_review_mentor_comments_wrap_beside_the_feedback(snap_compare: Snap) -> None:
    """A mentor's comment on the previous answer, under the scores, wrapped at 80 columns."""
    history = FakeHistory()
    history.notes = [
        MentorNote(
            1,
            "Dr. Lee",
            "Drop the second sentence: it blames the programs. Say in one sentence what you did "
            "after the Match, then spend the rest of the answer on the sub-internship and what "
            "you would bring to a combined program.",
            "2026-01-06",
        )
    ]
    app, clock = make_app(history)

    async def run(pilot: Pilot[Any]) -> None:
        await _typed_then_spoken(pilot, clock)
        screen = pilot.app.screen
        screen.query_one("#review").scroll_to_widget(
            screen.query_one("#overall"), animate=False, top=True
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_history(snap_compare: Snap) -> None:
    app, _ = make_app(seeded_history())
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("h"))


def test_settings_after_level_test(snap_compare: Snap) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("comma", "ctrl+l"))


def test_help(snap_compare: Snap) -> None:
    app, _ = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f1"))
