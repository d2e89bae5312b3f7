"""Quitting the app mid-answer (issue 16 item 2), with the fakes: the order of events.

ctrl+q (or SIGTERM / SIGINT to the process) while recording stops the recording, shows
"Saving your answer before closing…", lets the worker finish the transcript, score and save
through the core's PracticeSession, and only then exits (0, or 128 + the signal). A second
request abandons: the app exits at once and the WAV is named after it closes. The fake
capture's ``hold_stop`` plays a slow tail decode, so the moments in between can be looked at.
The real microphone, models and SQLite file are in tests/test_core.py and
tests/test_tui_quit_real.py.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from coach.settings import Settings
from coach.tui.app import CoachApp
from coach.tui.screens.interview import InterviewScreen
from tests.fakes import FakeClock, FakeHistory, fake_services
from tests.test_tui_app import SIZE, aio, settle

pytestmark = pytest.mark.tui


def status(app: CoachApp) -> str:
    return str(app.screen.query_one("#interview-status", Static).render())


async def recording(pilot: Any, app: CoachApp, clock: FakeClock) -> None:
    """Solo rehearsal of the first question, recording for eight (fake) seconds."""
    await settle(pilot, app)
    await pilot.press("s", "enter")
    await settle(pilot, app)
    assert isinstance(app.screen, InterviewScreen) and app.screen.phase == "answer"
    clock.advance(8)
    await settle(pilot, app)


async def until_exit(pilot: Any, app: CoachApp, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if app.return_code is not None:
            return
        await pilot.pause(0.05)
    raise AssertionError("the app did not exit")


def logged_exits(app: CoachApp, log: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the app's exit into the same log as the capture's and the history's events."""
    exit_ = app.exit

    def exit_logged(*args: Any, **kwargs: Any) -> None:
        log.append(f"app.exit {kwargs.get('return_code')}")
        exit_(*args, **kwargs)

    monkeypatch.setattr(app, "exit", exit_logged)


@aio
async def test_ctrl_q_mid_answer_saves_the_answer_then_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    wav = tmp_path / "answer.wav"
    services = fake_services(clock=clock, hold_stop=hold, history=history, audio_path=wav)
    app = CoachApp(services, Settings(think_s=0))
    logged_exits(app, history.log, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        # The tail is still being transcribed: the app stays open and says why.
        assert app.return_code is None
        assert "Saving your answer before closing…" in status(app)
        assert any("Saving your answer before closing" in n.message for n in app._notifications)
        assert history.log == ["capture.stop"]
        hold.set()
        await until_exit(pilot, app)
    assert history.log == ["capture.stop", "capture.transcript", "history.save", "app.exit 0"]
    assert app.return_code == 0 and not app.abandoned
    capture = services.captures[-1]  # type: ignore[attr-defined]
    assert capture.stopped and not capture.cancelled  # the microphone closed by stop()
    assert [a.question.id for a in history.attempts] == ["fm-explain"]
    assert history.sessions == ["solo"]
    assert app.kept_recordings == []
    assert len(app.closing_notes) == 1
    assert "saved before the app closed (attempt 1, overall" in app.closing_notes[0]


@aio
async def test_a_second_ctrl_q_abandons_and_names_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    wav = tmp_path / "answer.wav"
    services = fake_services(clock=clock, hold_stop=hold, history=history, audio_path=wav)
    app = CoachApp(services, Settings(think_s=0))
    logged_exits(app, history.log, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        assert app.return_code is None  # the tail never finishes (hold is never set)
        await pilot.press("ctrl+q")
        await until_exit(pilot, app)
    # The worker gave up on the transcript (it polls abandon()): nothing scored or saved.
    assert history.log == ["capture.stop", "app.exit 0", "capture.abandoned"]
    assert app.return_code == 0 and app.abandoned
    assert history.attempts == []
    assert app.kept_recordings == [wav] and app.closing_notes == []


@aio
async def test_a_second_ctrl_q_before_the_worker_ran_still_closes_the_microphone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both keys at once: Textual cancels a worker that has not started when the app exits
    (seen in tmux), so the screen stops the capture itself, and the WAV is named."""
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    wav = tmp_path / "answer.wav"
    services = fake_services(clock=clock, hold_stop=hold, history=history, audio_path=wav)
    monkeypatch.setattr(InterviewScreen, "finish_capture", lambda *args: None)  # never runs
    app = CoachApp(services, Settings(think_s=0))
    logged_exits(app, history.log, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        await pilot.press("ctrl+q", "ctrl+q")
        await until_exit(pilot, app)
    assert history.log == ["capture.stop", "capture.abandoned", "app.exit 0"]
    assert services.captures[-1].stopped  # type: ignore[attr-defined]
    assert app.abandoned and app.kept_recordings == [wav] and history.attempts == []
    assert app.settled.is_set()


@aio
async def test_ctrl_q_while_the_answer_is_being_scored_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Space stopped the answer; ctrl+q during the tail waits for the save too (no review)."""
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    services = fake_services(clock=clock, hold_stop=hold, history=history)
    app = CoachApp(services, Settings(think_s=0))
    logged_exits(app, history.log, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        await pilot.press("space")
        await pilot.pause(0.1)
        assert isinstance(app.screen, InterviewScreen) and app.screen.phase == "processing"
        await pilot.press("ctrl+q")
        await pilot.pause(0.1)
        assert app.return_code is None and "Saving your answer" in status(app)
        hold.set()
        await until_exit(pilot, app)
    assert history.log == ["capture.stop", "capture.transcript", "history.save", "app.exit 0"]
    assert len(history.attempts) == 1


@aio
async def test_ctrl_q_on_a_retry_waits_for_the_new_answer_not_the_last_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first answer's outcome is not mistaken for the retry's: the retry is saved too."""
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    services = fake_services(clock=clock, hold_stop=hold, history=history)
    app = CoachApp(services, Settings(think_s=0))
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        hold.set()
        await pilot.press("space")
        await settle(pilot, app)
        assert type(app.screen).__name__ == "ReviewScreen" and len(history.attempts) == 1
        hold.clear()  # the retry's tail is slow
        await pilot.press("r")
        await settle(pilot, app)
        assert isinstance(app.screen, InterviewScreen) and app.screen.phase == "answer"
        clock.advance(8)
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)
        assert app.return_code is None and "Saving your answer" in status(app)
        logged_exits(app, history.log, monkeypatch)
        hold.set()
        await until_exit(pilot, app)
    assert history.log[-3:] == ["capture.transcript", "history.save", "app.exit 0"]
    assert len(history.attempts) == 2
    assert "(attempt 2," in app.closing_notes[0] and len(app.closing_notes) == 1


@aio
async def test_ctrl_q_with_no_answer_under_way_closes_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock, history = FakeClock(), FakeHistory()
    app = CoachApp(fake_services(clock=clock, history=history), Settings(think_s=30))
    logged_exits(app, history.log, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "enter")  # think time: nothing recorded yet
        await settle(pilot, app)
        assert isinstance(app.screen, InterviewScreen) and app.screen.phase == "think"
        await pilot.press("ctrl+q")
        await until_exit(pilot, app)
    assert history.log == ["app.exit 0"] and app.closing_notes == []


@aio
async def test_sigterm_mid_answer_saves_then_exits_143(monkeypatch: pytest.MonkeyPatch) -> None:
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    services = fake_services(clock=clock, hold_stop=hold, history=history)
    app = CoachApp(services, Settings(think_s=0))
    logged_exits(app, history.log, monkeypatch)
    before = signal.getsignal(signal.SIGTERM)
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        # The app's handler is in place (otherwise the signal would end this test run).
        assert signal.getsignal(signal.SIGTERM) is not before
        os.kill(os.getpid(), signal.SIGTERM)
        await pilot.pause(0.2)
        assert app.return_code is None and "Saving your answer before closing" in status(app)
        hold.set()
        await until_exit(pilot, app)
    assert history.log == ["capture.stop", "capture.transcript", "history.save", "app.exit 143"]
    assert app.return_code == 143 and len(history.attempts) == 1
    assert signal.getsignal(signal.SIGTERM) == before  # restored when the app closed


@aio
async def test_sigint_after_sigterm_abandons_keeping_the_first_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, hold, history = FakeClock(), threading.Event(), FakeHistory()
    wav = tmp_path / "answer.wav"
    services = fake_services(clock=clock, hold_stop=hold, history=history, audio_path=wav)
    app = CoachApp(services, Settings(think_s=0))
    logged_exits(app, history.log, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await recording(pilot, app, clock)
        os.kill(os.getpid(), signal.SIGTERM)
        await pilot.pause(0.2)
        assert app.return_code is None
        os.kill(os.getpid(), signal.SIGINT)
        await until_exit(pilot, app)
    assert history.log[:2] == ["capture.stop", "app.exit 143"]
    assert app.return_code == 143 and app.abandoned and app.kept_recordings == [wav]
    assert history.attempts == []


def test_run_app_tells_what_became_of_the_answer_and_exits_with_the_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coach.tui import app as app_module

    def run(self: app_module.CoachApp) -> None:  # SIGTERM while an answer was recorded
        self.closing_notes.append("note: the answer you were giving was saved before ...")
        self._return_code = 143

    monkeypatch.setattr(app_module.CoachApp, "run", run)
    with pytest.raises(SystemExit) as exited:
        app_module.run_app()
    assert exited.value.code == 143
    assert capsys.readouterr().err == "note: the answer you were giving was saved before ...\n"
