"""End to end: the real app on the real services, spoken to through the virtual microphone.

Solo rehearsal of one question as a person would do it, keys only, at 80x24: pick the
question, let think time run out so recording starts by itself, speak (synthesized speech
through PortAudio/ALSA), stop, and read the review. The transcript comes from the embedded
tiny.en model (the session-wide ``faster_engine``, shared with the app), the scores from the
real rubric, and the attempt must be in the real SQLite history afterwards.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from coach.core import speech as core_speech
from coach.settings import Settings
from coach.store import Store
from coach.tui.app import CoachApp
from coach.tui.screens.interview import InterviewScreen
from coach.tui.screens.review import ReviewScreen
from coach.tui.screens.settings import SettingsScreen
from coach.tui.services import default_services
from coach.tui.widgets import LevelMeter, LiveTranscript
from tests.virtual_mic import VirtualMic, read_pcm16

pytestmark = [pytest.mark.tui, pytest.mark.e2e, pytest.mark.audio, pytest.mark.slow]

SIZE = (80, 24)
ANSWER = (
    "I did not match last year. Since then I asked my advisors for honest feedback, "
    "worked in research, and earned stronger letters. I am ready now."
)
# Words tiny.en reliably hears in that answer; most of them must reach the review.
KEY_WORDS = ("match", "feedback", "research", "letters", "ready")


def plain(widget: Static) -> str:
    """The text a Static shows (tables rendered as plain text)."""
    content = widget.content
    if isinstance(content, str):
        return content
    if isinstance(content, Text):
        return content.plain
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(content)
    return captured.get()


def screen_text(app: App[Any]) -> str:
    """What the current screen shows, and the notifications (for failure messages)."""
    shown = [plain(w) for w in app.screen.query(Static)]
    notes = [f"[notification] {n.title}: {n.message}" for n in app._notifications]
    return "\n".join(shown + notes)


async def until(
    pilot: Pilot[Any],
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    detail: Callable[[], str] = str,
) -> None:
    """Poll ``condition`` while the app keeps running; fail with the screen's text on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what} {detail()}; screen:\n"
                + screen_text(pilot.app)
            )
        await pilot.pause(0.1)


async def rehearse(app: CoachApp, mic: VirtualMic, question_text: str) -> dict[str, Any]:
    seen: dict[str, Any] = {"levels": []}
    async with app.run_test(size=SIZE) as pilot:
        # First paint comes before the model; the shared engine makes "ready" quick here.
        await until(pilot, lambda: app.model_state == "ready", 60, "the speech model")
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("ctrl+f")
        await pilot.press(*question_text.lower())
        await pilot.pause(0.2)
        await pilot.press("enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, InterviewScreen), 5, "the question")
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert question_text in str(screen.query_one("#question-text", Static).render())
        assert screen.phase == "think"
        # Nothing pressed: recording starts by itself when think time ends.
        await until(pilot, lambda: screen.phase == "answer", 30, "recording to start by itself")
        meter = screen.query_one(LevelMeter)
        live = screen.query_one("#live", LiveTranscript)
        spoken_end = mic.lead_in + len(mic.samples)

        def speech_done() -> bool:
            if meter.level is not None:
                seen["levels"].append(meter.level)
            # A second of silence after the words lets the pause detector close the segment.
            return mic.fed_frames >= spoken_end + mic.rate

        def mic_state() -> str:
            return f"(mic: {mic.connections} connections, {mic.fed_frames} frames fed)"

        await until(pilot, speech_done, 60, "the virtual microphone to finish speaking", mic_state)
        # Under load the words may trail the voice by a few seconds; they must still show live.
        await until(
            pilot, lambda: "match" in live.text.lower(), 60, "the live transcript", mic_state
        )
        seen["live"] = live.text
        await pilot.press("space")  # stop
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), 90, "the review")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await pilot.pause()
        seen["result"] = review.result
        seen["scores"] = plain(review.query_one("#scores", Static))
        seen["answer"] = plain(review.query_one("#answer", Static))
        seen["delivery"] = plain(review.query_one("#delivery", Static))
        # Replay through the real output path (the virtual card's output goes to /dev/null).
        await pilot.press("p")
        await pilot.pause(0.2)
        await until(pilot, lambda: not review.playing, 30, "the replay to finish")
        seen["notes"] = [n.message for n in app._notifications]
        await pilot.press("ctrl+q")
    return seen


def test_solo_rehearsal_real_engine_virtual_mic(
    faster_engine: Any, speech: Callable[..., Path]
) -> None:
    settings = Settings(think_s=2, read_aloud=False)
    core_speech.share_engine(settings, faster_engine)
    services = default_services()
    question = next(q for q in services.questions.all() if q.category == "failed-match")
    wav = speech(ANSWER)
    samples, _ = read_pcm16(wav)

    with VirtualMic(wav) as mic:
        mic.activate()
        app = CoachApp(services, settings)
        seen = asyncio.run(rehearse(app, mic, question.text))
    assert mic.fed_frames >= len(samples)
    assert seen["levels"] and max(seen["levels"]) > -40, "the level meter never moved"

    result = seen["result"]
    transcript = result.transcript
    assert transcript is not None and transcript.engine == "faster-whisper"
    heard = transcript.text.lower()
    assert sum(w in heard for w in KEY_WORDS) >= 4, heard
    report = result.report
    assert report.question_id == question.id
    assert {c.id for c in report.criteria} >= {"brevity", "factual_tone", "growth_focus"}
    assert "delivery" in {c.id for c in report.criteria}  # spoken answers get delivery
    assert 0 < report.overall <= 100
    assert report.stats.duration_s is not None and report.stats.wpm is not None
    # What the review shows is that report, explained.
    assert "Growth focus" in seen["scores"] and "Delivery" in seen["scores"]
    assert transcript.text.strip()[:20] in seen["answer"]
    assert any(e.effect == "+" for c in report.criteria for e in c.evidence)
    assert "words/min" in seen["delivery"]
    assert result.saved and result.attempt_id is not None
    assert any("Playing your answer" in m for m in seen["notes"])
    assert not [m for m in seen["notes"] if "couldn't play" in m], seen["notes"]
    assert result.audio_path is not None

    # The attempt is in the real SQLite history (the isolated COACH_DATA_DIR).
    store = Store.open()
    try:
        attempts = store.attempts()
        assert [a.id for a in attempts] == [result.attempt_id]
        saved = attempts[0]
        assert saved.mode == "solo" and saved.question_id == question.id
        assert saved.text == transcript.text
        assert saved.engine == "faster-whisper"
        assert abs(saved.overall - report.overall) < 0.1
        assert saved.transcript is not None and saved.transcript.segments
        assert saved.audio_path is not None and saved.audio_path.exists()
    finally:
        store.close()


async def level_check(app: CoachApp) -> dict[str, Any]:
    seen: dict[str, Any] = {"levels": []}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("comma")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen), 5, "settings")
        screen = app.screen
        meter = screen.query_one("#settings-level", LevelMeter)
        status = screen.query_one("#settings-status", Static)
        await pilot.press("ctrl+l")

        def finished() -> bool:
            if meter.level is not None:
                seen["levels"].append(meter.level)
            return not screen.testing and bool(plain(status))  # type: ignore[attr-defined]

        await pilot.pause(0.2)
        await until(pilot, finished, 30, "the level test to finish")
        seen["status"] = plain(status)
        await pilot.press("ctrl+q")
    return seen


def test_settings_level_test_hears_the_virtual_mic(speech: Callable[..., Path]) -> None:
    """The microphone check in Settings, on the real recorder (no speech model needed)."""
    wav = speech(ANSWER)
    with VirtualMic(wav) as mic:
        mic.activate()
        app = CoachApp(default_services(), Settings(), load_model=False)
        seen = asyncio.run(level_check(app))
    assert "Sounds good" in seen["status"] or "quite loud" in seen["status"], seen["status"]
    assert seen["levels"] and max(seen["levels"]) > -40
