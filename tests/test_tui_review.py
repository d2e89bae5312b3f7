"""The review's comparison with the previous attempt, driven by Textual's Pilot at 80x24."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Static

from coach.settings import Settings
from coach.tui.app import CoachApp
from coach.tui.screens.review import ReviewScreen
from tests.fakes import FakeClock, fake_services

pytestmark = pytest.mark.tui


def test_same_words_twice_say_so_instead_of_repeating_the_answer_as_a_diff() -> None:
    clock = FakeClock()
    app = CoachApp(fake_services(clock=clock), Settings(think_s=0))

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("s", "enter")
            for _ in range(2):  # the same spoken answer, then a retry with the same words
                await app.workers.wait_for_complete()
                await pilot.pause(0.2)
                clock.advance(30)
                await pilot.pause(0.2)
                await pilot.press("space")
                await app.workers.wait_for_complete()
                await pilot.pause(0.2)
                assert isinstance(app.screen, ReviewScreen)
                if app.screen.result.previous is None:
                    await pilot.press("r")
            screen = app.screen
            delta = str(screen.query_one("#delta", Static).render())
            assert "the same words as last time" in delta
            assert "(±0, about the same)" in delta and "+0" not in delta
            assert not screen.query("#diff")  # no diff legend over an unchanged answer

    asyncio.run(main())
