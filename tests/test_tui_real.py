"""The real service adapters the app uses (from the application core, coach.core), one by one
and without the UI."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from coach import paths
from coach.core import library, media, speech
from coach.errors import CoachError
from coach.settings import Settings
from coach.store import default_path
from coach.tui.app import CoachApp
from coach.tui.services import default_services

pytestmark = pytest.mark.tui


def test_espeak_speaker_reads_aloud_in_a_child_process_and_stops() -> None:
    speaker = media.EspeakSpeaker()
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
    monkeypatch.setattr("coach.core.media.shutil.which", lambda name: None)
    speaker = media.EspeakSpeaker()
    assert not speaker.available
    speaker.say("nothing happens")
    speaker.stop()


def test_play_missing_recording_is_a_coach_error(tmp_path: Path) -> None:
    with pytest.raises(CoachError, match="missing"):
        media.play(tmp_path / "gone.wav")


def test_broken_user_question_file_becomes_a_calm_notification() -> None:
    folder = paths.config_dir() / "questions"
    folder.mkdir(parents=True, exist_ok=True)
    bad = folder / "mine.toml"
    bad.write_text("[[questions]]\nid = 'x'\ntext = \n", encoding="utf-8")
    services = default_services()
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
    speech.share_engine(settings, Loaded())  # type: ignore[arg-type]
    assert speech.prepare_engine(settings) == "faster-whisper tiny.en (shared)"


def test_app_closes_the_history_database_on_exit() -> None:
    services = default_services()
    history = services.history
    assert isinstance(history, library.StoreHistory)

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


def _crashed_recording(folder: Path) -> Path:
    """A WAV whose header was never finalised, as a killed process leaves it."""
    import os

    import numpy as np

    from coach.audio.wavfile import WavWriter

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crashed-answer.wav"
    w = WavWriter(path, sync_interval_s=3600).open()
    w.write((np.sin(np.arange(32_000) / 10) * 8000).astype(np.int16))
    assert w._fd is not None
    os.close(w._fd)  # "crash": no final header
    w._fd = None
    # The writer's process is gone: its marker names a pid that has exited.
    import subprocess

    from coach.audio.wavfile import marker_path

    gone = subprocess.Popen(["true"])
    gone.wait()
    marker_path(path).write_text(f"{gone.pid}\n", encoding="utf-8")
    return path


def test_store_history_reports_a_recovered_recording_once() -> None:
    history = library.StoreHistory(library.BankSource())
    crashed = _crashed_recording(paths.recordings_dir())
    try:
        messages = history.take_recovered()
        assert len(messages) == 1
        assert str(crashed) in messages[0] and "recovered" in messages[0]
        assert crashed.exists()  # repaired, never deleted
        assert history.take_recovered() == []
    finally:
        history.close()


def test_app_notifies_a_recovered_recording_at_start() -> None:
    from tests.fakes import fake_services

    services = fake_services()
    services.history.recovered.append("An answer cut short by a crash was recovered (2 s).")  # type: ignore[attr-defined]

    async def main() -> list[str]:
        app = CoachApp(services, Settings())
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(5):
                await app.workers.wait_for_complete()
                await pilot.pause()
            notes = [n.message for n in app._notifications]
            await pilot.press("ctrl+q")
        return notes

    notes = asyncio.run(main())
    assert any("recovered" in n for n in notes)


def test_store_history_exports_into_the_chosen_folder(tmp_path: Path) -> None:
    """The real history writes the latest session into the folder the app passes (issue 15)."""
    from tests.fakes import FAKE_QUESTIONS, fake_score

    history = library.StoreHistory(library.BankSource())
    question = FAKE_QUESTIONS[0]
    try:
        session = history.start_session("solo")
        report = fake_score("I did not match. I learned from it.", question, None)
        history.save_attempt(
            session_id=session,
            question=question,
            report=report,
            transcript=None,
            audio_path=None,
            engine="typed",
            model="",
        )
        out = history.export_latest("md", tmp_path)
    finally:
        history.close()
    assert out == tmp_path / f"coach-session-{session}.md"
    assert "I learned from it" in out.read_text(encoding="utf-8")
