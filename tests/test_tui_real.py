"""The real service adapters the app uses (coach.tui.real), one by one and without the UI."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from coach import paths
from coach.errors import CoachError
from coach.settings import Settings
from coach.store import default_path
from coach.tui import real
from coach.tui.app import CoachApp

pytestmark = pytest.mark.tui


def test_espeak_speaker_reads_aloud_in_a_child_process_and_stops() -> None:
    speaker = real.EspeakSpeaker()
    assert speaker.available == (shutil.which("espeak-ng") is not None)
    if not speaker.available:
        pytest.skip("espeak-ng is not installed")
    started = time.monotonic()
    speaker.say("Tell me about yourself, and why Med-Peds.")
    assert time.monotonic() - started < 1.0  # never blocks the UI
    proc = speaker._proc
    assert proc is not None
    speaker.stop()
    proc.wait(timeout=5)  # stopped (or already done when no audio output exists)
    assert speaker._proc is None


def test_speaker_without_espeak_is_unavailable_and_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real.shutil, "which", lambda name: None)
    speaker = real.EspeakSpeaker()
    assert not speaker.available
    speaker.say("nothing happens")
    speaker.stop()


def test_play_missing_recording_is_a_coach_error(tmp_path: Path) -> None:
    with pytest.raises(CoachError, match="missing"):
        real.play(tmp_path / "gone.wav")


def test_broken_user_question_file_becomes_a_calm_notification() -> None:
    folder = paths.config_dir() / "questions"
    folder.mkdir(parents=True, exist_ok=True)
    bad = folder / "mine.toml"
    bad.write_text("[[questions]]\nid = 'x'\ntext = \n", encoding="utf-8")
    services = real.default_services()
    assert list(services.questions.all()) == []
    error = services.questions.error  # type: ignore[attr-defined]
    assert isinstance(error, CoachError) and "mine.toml" in str(error)

    async def press_solo() -> list[str]:
        app = CoachApp(services, Settings(), load_model=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("s")
            await pilot.pause()
            assert type(app.screen).__name__ == "HomeScreen"  # no empty picker, no crash
            return [n.message for n in app._notifications]

    notes = asyncio.run(press_solo())
    assert any("mine.toml" in m and "could not be loaded" in m for m in notes)


def test_shared_engine_is_used_for_matching_settings() -> None:
    class Loaded:
        name = "faster-whisper"
        model_name = "tiny.en (shared)"

        def load(self) -> None:
            pass

    settings = Settings(engine="faster-whisper", model="test-shared-model")
    real.share_engine(settings, Loaded())  # type: ignore[arg-type]
    assert real.prepare_engine(settings) == "faster-whisper tiny.en (shared)"


def test_app_closes_the_history_database_on_exit() -> None:
    services = real.default_services()
    history = services.history
    assert isinstance(history, real.StoreHistory)

    async def visit_history() -> None:
        app = CoachApp(services, Settings(), load_model=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("h")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert history._store is not None  # opened by the history worker

    asyncio.run(visit_history())
    assert history._store is None
    wal = default_path().with_name(default_path().name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
