"""The app driven by Textual's Pilot with fake recorder, transcriber, scorer and history.

Every screen and mode is walked as a person would: keys only, at 80x24.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, OptionList, Select, SelectionList, Sparkline, Static, TextArea

from coach.core.plan import timed
from coach.errors import CoachError, ModelError, RecordingError
from coach.scoring.report import Evidence
from coach.settings import Settings, load_settings, settings_path
from coach.tui.app import CoachApp
from coach.tui.screens.help import HelpScreen
from coach.tui.screens.history import HistoryScreen
from coach.tui.screens.home import HomeScreen
from coach.tui.screens.interview import InterviewScreen
from coach.tui.screens.pickers import DrillSetupScreen, SoloPickerScreen
from coach.tui.screens.review import ReviewScreen
from coach.tui.screens.settings import SettingsScreen
from coach.tui.widgets import Countdown, LiveTranscript
from coach.tui.widgets.transcript import evidence_lines, highlight
from tests.fakes import FAKE_QUESTIONS, FakeClock, FakeHistory, fake_services

pytestmark = pytest.mark.tui
SIZE = (80, 24)


def aio(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test with asyncio (no pytest-asyncio needed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


def text_of(app: CoachApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return str(widget.render())


async def tick(pilot, app: CoachApp) -> None:  # type: ignore[no-untyped-def]
    """Run the interview screen's 0.1 s tick now, on the fake clock, instead of waiting for it."""
    if isinstance(app.screen, InterviewScreen):
        app.screen.tick()
    await pilot.pause()


async def settle(pilot, app: CoachApp, rounds: int = 3) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        await tick(pilot, app)
        await app.workers.wait_for_complete()
        await pilot.pause()


@aio
async def test_home_paints_with_modes_progress_and_model_status() -> None:
    app = CoachApp(fake_services(), Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, HomeScreen)
        menu = app.screen.query_one("#menu", OptionList)
        ids = [menu.get_option_at_index(i).id for i in range(menu.option_count)]
        assert ids == ["mock", "drill", "solo", "history", "settings", "help"]
        assert "no answers yet" in text_of(app, "#progress")
        assert "ready" in text_of(app, "#model-status")
        await pilot.press("ctrl+q")
    assert app.return_code == 0


@aio
async def test_solo_typed_answer_review_retry_and_comparison() -> None:
    clock = FakeClock()
    services = fake_services(clock=clock)
    app = CoachApp(services, Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        assert isinstance(app.screen, SoloPickerScreen)
        await pilot.press("ctrl+f", *"step 1")
        await pilot.pause()
        options = app.screen.query_one("#solo-questions", OptionList)
        assert options.option_count == 1
        assert options.get_option_at_index(0).id == "rf-step1"
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        assert "Step 1" in text_of(app, "#question-text")
        # Typing needs no microphone.
        await pilot.press("t")
        assert app.screen.query_one("#typed", TextArea).has_focus
        await pilot.press(*"It was unfair. ")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        review = app.screen
        assert review.result.transcript is None
        assert any(e.effect == "-" for c in review.result.report.criteria for e in c.evidence)
        assert "sounds like blame" in str(review.query_one("#answer", Static).render())
        # Retry as often as wanted: this time spoken, through the fake recorder.
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        await pilot.press("space")
        await settle(pilot, app)
        assert app.screen.phase == "answer"
        clock.advance(30)
        await tick(pilot, app)
        assert "learned" in str(app.screen.query_one("#live", LiveTranscript).render())
        await pilot.press("space")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        result = app.screen.result
        assert result.transcript is not None and result.previous is not None
        assert "[-It was unfair.-]" in str(app.screen.query_one("#diff", Static).render())
        table = app.screen.query_one("#scores", Static).content
        assert "Δ" in [column.header for column in table.columns]  # type: ignore[union-attr]
        assert result.previous.overall < result.report.overall
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SoloPickerScreen)
    history = services.history
    assert isinstance(history, FakeHistory)
    assert [a.typed for a in history.attempts] == [True, False]
    assert history.sessions == ["solo"]


@aio
async def test_timed_drill_auto_records_warns_and_stops_at_limit() -> None:
    clock = FakeClock()
    services = fake_services(clock=clock)
    app = CoachApp(services, Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("d")
        assert isinstance(app.screen, DrillSetupScreen)
        await pilot.pause()
        selected = app.screen.query_one("#drill-questions", SelectionList).selected
        assert selected == ["fm-explain"]
        app.screen.query_one("#drill-think", Input).value = "5"
        app.screen.query_one("#drill-answer", Input).value = "40"
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert screen.item.think_s == 5 and screen.item.answer_s == 40
        assert screen.query_one(Countdown).label == "Think"
        clock.advance(5.1)
        await settle(pilot, app)
        assert screen.phase == "answer"  # recording started by itself
        assert screen.query_one(Countdown).label == "Answer"
        clock.advance(26)  # 14 s left: the nudge waits for the last 13 s of a 40 s answer
        await tick(pilot, app)
        assert "seconds left" not in text_of(app, "#interview-status")
        clock.advance(2)
        await tick(pilot, app)
        assert "seconds left" in text_of(app, "#interview-status")
        assert screen.query_one(Countdown).warn
        clock.advance(13)
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)  # stopped at the limit
        cap = services.captures[-1]  # type: ignore[attr-defined]
        assert cap.stopped
        assert not app.screen.has_next
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, HomeScreen)
        assert "1 answer in 1 session" in text_of(app, "#progress")


@aio
async def test_drill_custom_set_across_categories() -> None:
    app = CoachApp(fake_services(), Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#drill-category", Select).value = Select.NULL
        await pilot.pause()
        sel = screen.query_one("#drill-questions", SelectionList)
        assert sel.selected == [] and sel.option_count == 7
        sel.select("bp-plan")
        sel.select("wk-weakness")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, InterviewScreen)
        assert [i.question.id for i in app.screen.plan] == ["bp-plan", "wk-weakness"]
        assert app.screen.phase == "answer"  # think time 0 from settings
        await pilot.press("s")  # skip
        await settle(pilot, app)
        assert app.screen.item.question.id == "wk-weakness"
        await pilot.press("s")
        await settle(pilot, app)
        assert isinstance(app.screen, HomeScreen)


@aio
async def test_mock_interview_has_failed_match_and_follow_ups() -> None:
    clock = FakeClock()
    services = fake_services(clock=clock)
    app = CoachApp(services, Settings(think_s=0), rng=random.Random(3))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("m")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        plan = screen.plan
        main = [i for i in plan if i.follow_up_of is None]
        assert 3 <= len(main) <= 5
        assert "failed-match" in {i.question.category for i in main}
        assert any(i.follow_up_of for i in plan)
        assert len({i.question.category for i in main}) == len(main)
        interview: InterviewScreen = screen
        for n in range(len(plan)):
            assert app.screen is interview and interview.index == n
            clock.advance(10)
            await pilot.press("space")
            await settle(pilot, app)
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("n" if n + 1 < len(plan) else "escape")
            await settle(pilot, app)
        assert isinstance(app.screen, HomeScreen)
    history = services.history
    assert isinstance(history, FakeHistory)
    assert len(history.attempts) == len(plan)
    assert {a.session_id for a in history.attempts} == {1}


@aio
async def test_no_microphone_falls_back_to_typing_calmly() -> None:
    services = fake_services(fail_start="no input device found")
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert screen.phase == "typing"
        messages = [n.message for n in app._notifications]
        assert any("no input device" in m and "type your answer" in m.lower() for m in messages)
        screen.query_one("#typed", TextArea).text = "I learned a lot and I am ready."
        await pilot.click("#submit-typed")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)


@aio
async def test_model_failure_is_a_notification_and_typing_still_works() -> None:
    services = fake_services(engine_error=ModelError("model file is damaged", "pick another"))
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.model_state == "failed"
        assert "typed answers work" in text_of(app, "#model-status")
        assert any("could not load" in n.message for n in app._notifications)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        assert app.screen.phase == "typing"  # type: ignore[attr-defined]
        assert services.captures == []  # type: ignore[attr-defined]


@aio
async def test_empty_recording_offers_retry() -> None:
    services = fake_services(answer="")
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        await pilot.press("space")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert "didn't catch any words" in text_of(app, "#interview-status")
        await pilot.press("space")  # paused -> start again
        await settle(pilot, app)
        assert screen.phase == "answer"


@aio
async def test_replay_and_playback_error(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    for error in (None, CoachError("no output device", "use headphones")):
        services = fake_services(audio_path=wav, play_error=error)
        app = CoachApp(services, Settings(think_s=0))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.press("s", "enter")
            await settle(pilot, app)
            await pilot.press("space")
            await settle(pilot, app)
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("p")
            await settle(pilot, app)
            if error is None:
                assert services.played == [wav]  # type: ignore[attr-defined]
            else:
                assert any("couldn't play" in n.message for n in app._notifications)
            await pilot.press("x")
            await pilot.pause()
            assert not app.screen.query_one("#example").collapsed  # type: ignore[attr-defined]


@aio
async def test_read_aloud_when_enabled() -> None:
    services = fake_services()
    app = CoachApp(services, Settings(read_aloud=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        said = services.speaker.said  # type: ignore[attr-defined]
        assert said == ["Tell us what happened in last year's Match."]
        await pilot.press("space")  # recording must not pick up the voice
        await settle(pilot, app)
        assert services.speaker.stopped >= 1  # type: ignore[attr-defined]


@aio
async def test_settings_screen_saves_toml_and_level_test() -> None:
    services = fake_services()
    app = CoachApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("comma")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        device = screen.query_one("#device", Select)
        device.value = "Fake USB microphone"
        screen.query_one("#engine", Select).value = "whisper"
        screen.query_one("#think", Input).value = "12"
        await pilot.press("ctrl+l")
        await settle(pilot, app)
        assert "working" in text_of(app, "#settings-status")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    saved = load_settings()
    assert saved.engine == "whisper"
    assert saved.input_device == "Fake USB microphone"
    assert saved.think_s == 12
    assert app.settings == saved


@aio
async def test_invalid_settings_file_is_reported_and_left_alone() -> None:
    path = settings_path()
    path.write_text('engine = "parrot"\n', encoding="utf-8")
    app = CoachApp(fake_services())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.settings == Settings()
        notes = [n.message for n in app._notifications]
        assert any(str(path) in m and "engine" in m and "untouched" in m for m in notes)
    assert path.read_text(encoding="utf-8") == 'engine = "parrot"\n'


@aio
async def test_history_screen_charts_weakest_and_export(tmp_path: Path) -> None:
    history = FakeHistory(export_dir=tmp_path)
    services = fake_services(history=history)
    # The export folder is the user's choice (Settings); here the same tmp_path.
    app = CoachApp(services, Settings(think_s=0, export_dir=str(tmp_path)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("h")
        await settle(pilot, app)
        assert isinstance(app.screen, HistoryScreen)
        assert "No answers yet" in text_of(app, "#history-overview")
        await pilot.press("e")
        await settle(pilot, app)
        assert any("no session" in n.message for n in app._notifications)
        await pilot.press("escape")
        for _ in range(2):
            await pilot.press("s", "enter")
            await settle(pilot, app)
            await pilot.press("space")
            await settle(pilot, app)
            await pilot.press("escape", "escape")
            await settle(pilot, app)
        await pilot.press("h")
        await settle(pilot, app)
        screen = app.screen
        assert "2 answers in 2 sessions" in text_of(app, "#history-overview")
        assert list(screen.query_one("#spark-growth_focus", Sparkline).data or []) != []
        weakest = screen.query_one("#weakest", OptionList)
        assert weakest.get_option_at_index(0).id == "fm-explain"
        await pilot.press("w")
        await settle(pilot, app)
        assert history.exported == ["html"]
        assert (tmp_path / "session-2.html").exists()
        # Enter on a weak question rehearses it.
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, InterviewScreen)


@aio
async def test_help_screen_and_command_palette_entries() -> None:
    app = CoachApp(fake_services(), Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Mock interview", "Timed drill", "Solo rehearsal", "History"} <= titles
        assert "Export latest session" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Timed drill")
        await app.workers.wait_for_complete()  # the palette searches in a worker
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, DrillSetupScreen)


@aio
async def test_escape_during_recording_keeps_audio_and_ends_session() -> None:
    services = fake_services()
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        assert app.screen.phase == "answer"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, SoloPickerScreen)
        assert services.captures[-1].cancelled  # type: ignore[attr-defined]


def test_recording_error_type_is_a_coach_error() -> None:
    assert issubclass(RecordingError, CoachError)


@aio
async def test_typed_answer_kept_when_scoring_fails_then_submits() -> None:
    services = fake_services()
    real_score = services.score
    calls: list[str] = []

    def flaky_score(text: str, question: Any, transcript: Any) -> Any:
        calls.append(text)
        if len(calls) == 1:
            raise CoachError("the rubric file could not be read", "check rubrics/")
        return real_score(text, question, transcript)

    services.score = flaky_score
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter", "t")
        await pilot.press(*"I learned a lot.")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        # Back to typing, with the words still there and ctrl+s working again.
        assert screen.phase == "typing"
        assert screen.query_one("#typed", TextArea).text == "I learned a lot."
        assert "rubric file" in text_of(app, "#interview-status")
        assert screen.check_action("submit_typed", ()) is True
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
    assert calls == ["I learned a lot.", "I learned a lot."]


@aio
async def test_keys_shown_follow_the_phase() -> None:
    clock = FakeClock()
    app = CoachApp(fake_services(clock=clock), Settings(think_s=10))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)

        def enabled() -> set[str]:
            actions = ("start_now", "stop", "again", "submit_typed", "type_answer", "skip")
            return {a for a in (*actions, "read_aloud") if screen.check_action(a, ())}

        assert enabled() == {"start_now", "type_answer", "skip", "read_aloud"}
        await pilot.press("space")
        await settle(pilot, app)
        assert enabled() == {"stop", "type_answer", "skip"}
        await pilot.press("t")
        await settle(pilot, app)
        assert enabled() == {"submit_typed"}
        assert not screen.query_one("#live-box").display  # the typing box gets the room


@aio
async def test_question_bank_problem_is_a_notification() -> None:
    services = fake_services(questions=())
    services.questions.error = CoachError(  # type: ignore[attr-defined]
        "question_bank/x.toml: key 'questions.text' is missing", "add the text"
    )
    app = CoachApp(services, Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for key in ("m", "d", "s"):
            await pilot.press(key)
            await settle(pilot, app)
            assert isinstance(app.screen, HomeScreen)
        notes = [n.message for n in app._notifications]
        assert any("questions.text" in m for m in notes)


@aio
async def test_ctrl_q_while_recording_closes_the_microphone() -> None:
    services = fake_services()
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")
        await settle(pilot, app)
        assert app.screen.phase == "answer"  # type: ignore[attr-defined]
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    # The microphone is closed by stop(): the answer is scored and saved before the app
    # closes (tests/test_tui_quit.py); a second ctrl+q abandons it, keeping the WAV.
    assert services.captures[-1].stopped  # type: ignore[attr-defined]
    assert len(services.history.attempts) == 1  # type: ignore[attr-defined]


def test_wrap_up_nudge_is_proportional_to_the_answer_time() -> None:
    q = FAKE_QUESTIONS[0]
    assert timed(q, Settings(), answer_s=120).warn_at_s == 105  # 15 s before the limit
    assert timed(q, Settings(), answer_s=30).warn_at_s == 20  # the last third of a short one
    assert timed(q, Settings(), answer_s=6).warn_at_s == 4


def test_whole_answer_evidence_is_listed_but_not_painted() -> None:
    text = "I did not match. I learned a lot since then."
    whole = Evidence(0, len(text), text, "+", "steady pace")
    word = Evidence(20, 27, "learned", "+", "shows growth")
    painted = highlight(text, [whole, word])
    assert [(s.start, s.end) for s in painted.spans] == [(20, 27)]
    lines = evidence_lines([("Delivery", whole), ("Growth focus", word)], text).plain
    assert "+ Delivery: the whole answer — steady pace" in lines
    assert "+ Growth focus: “learned” — shows growth" in lines
