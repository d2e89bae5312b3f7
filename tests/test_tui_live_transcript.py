"""The live transcript while speaking: it wraps, grows with the words and keeps the newest in view.

Issue 15: a 33-second answer showed one line only, because the widget kept the height of its
first render. Here a long answer arrives in several updates (the fake capture's text grows with
the fake clock) at 80x24, as the user sees it.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.containers import VerticalScroll

from coach.settings import Settings
from coach.tui.app import CoachApp
from coach.tui.screens.interview import InterviewScreen
from coach.tui.widgets import LiveTranscript
from tests.fakes import FakeCapture, FakeClock, fake_services

pytestmark = pytest.mark.tui
SIZE = (80, 24)

# About 75 words: five lines in the 72-column box at 80x24, more when the box is narrower.
LONG_ANSWER = (
    "Last year I applied only to Med-Peds programs in one region, and I did not match. "
    "I looked honestly at my application and saw that my list was too "
    "narrow and my letters came late. Since then I have worked as a research coordinator in "
    "a transition clinic for young adults with heart disease, earned two new "
    "letters, and I am applying broadly this year. I am ready."
)


def visible_lines(app: CoachApp) -> list[str]:
    """The live transcript as it shows inside its box (only the rows in view)."""
    box = app.screen.query_one("#live-box", VerticalScroll)
    live = app.screen.query_one("#live", LiveTranscript)
    width = live.content_region.width
    lines = [str(line).rstrip() for line in live.render().wrap(app.console, width)]
    top = round(box.scroll_y)
    return lines[top : top + box.scrollable_content_region.height]


async def speak(size: tuple[int, int]) -> list[tuple[int, list[str]]]:
    """Start a solo answer and let the words arrive in steps; (height, visible rows) per step."""
    clock = FakeClock()
    app = CoachApp(fake_services(clock=clock, answer=LONG_ANSWER), Settings(think_s=0))
    seen: list[tuple[int, list[str]]] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("s", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.phase == "answer"
        live = screen.query_one("#live", LiveTranscript)
        for _ in range(6):  # six updates, ~13 words each (2.5 words per fake second)
            clock.advance(5.2)
            await pilot.pause(0.25)  # the 0.1 s tick copies the text; layout and scroll follow
            seen.append((live.size.height, visible_lines(app)))
        await pilot.press("escape")
        await pilot.pause()
    return seen


def run(size: tuple[int, int]) -> list[tuple[int, list[str]]]:
    return asyncio.run(speak(size))


def test_live_transcript_wraps_and_grows_to_five_lines() -> None:
    seen = run(SIZE)
    heights = [h for h, _ in seen]
    assert heights == sorted(heights) and heights[0] < heights[-1], heights
    assert heights[-1] == 5, heights
    # Every word arrived and all five lines are on screen, the newest at the bottom.
    assert " ".join(seen[-1][1]).split() == LONG_ANSWER.split()
    assert seen[-1][1][-1].endswith("I am ready.")
    # Each update showed its newest words: the rows in view end where the text so far ends.
    for _, rows in seen:
        assert LONG_ANSWER.split()[: len(" ".join(rows).split())] == " ".join(rows).split()


def test_live_transcript_keeps_the_newest_words_in_view_when_it_outgrows_the_box() -> None:
    seen = run((80, 14))  # a short terminal: the box holds fewer rows than the answer needs
    height, rows = seen[-1]
    assert len(rows) < height  # it scrolled rather than clipping the newest words
    assert rows[-1].endswith("ready.")
    for h, rows in seen:
        assert rows, h
        assert rows[-1].split()[-1] in LONG_ANSWER.split()


class BlankingCapture(FakeCapture):
    """Like the real live engine while it re-decodes a window: no text for a moment."""

    blank = False

    def live_text(self) -> str:
        return "" if self.blank else super().live_text()


def test_words_shown_stay_when_the_engine_reports_no_text_for_a_moment() -> None:
    clock = FakeClock()
    services = fake_services(clock=clock, answer=LONG_ANSWER)
    captures: list[BlankingCapture] = []

    def factory(settings: Settings) -> BlankingCapture:
        captures.append(BlankingCapture(LONG_ANSWER, clock))
        return captures[-1]

    services.capture_factory = factory

    async def main() -> None:
        app = CoachApp(services, Settings(think_s=0))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("s", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            live = app.screen.query_one("#live", LiveTranscript)
            clock.advance(8)
            await pilot.pause(0.25)
            before = live.text
            assert before.startswith("Last year I applied")
            captures[-1].blank = True
            clock.advance(2)
            await pilot.pause(0.25)
            assert live.text == before  # not back to "Your words will appear here"
            captures[-1].blank = False
            clock.advance(2)
            await pilot.pause(0.25)
            assert len(live.text) > len(before)
            # A new question starts empty again.
            await pilot.press("r")
            await pilot.pause(0.2)
            assert live.text == ""

    asyncio.run(main())
