"""The application core (coach.core) that the app and the CLI share.

* One resolution of engine, model and device from the settings, for every command.
* The no-speech rule (strip first), the session started on first use and again when another
  program deleted it, on the real SQLite history.
* Both front ends produce identical saved attempts for the same audio: the app's interview
  worker (driven with Pilot) and ``coach rehearse --audio`` go through the same functions.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coach.audio.transcript import Transcript
from coach.cli import cli
from coach.core import speech
from coach.core.library import BankSource, StoreHistory
from coach.core.session import NoSpeech, PracticeSession, answer_text
from coach.settings import Settings, save_settings
from coach.store import DB_NAME, Store
from tests.coach_process import COACH

QUESTION = "fm-what-happened"
ANSWER = (
    "I did not match last year. I applied to too few programs, so this year I asked my "
    "mentors for honest feedback and applied more broadly."
)


# -- engine, model and device ------------------------------------------------------------------


def test_one_resolution_of_engine_model_and_device() -> None:
    settings = Settings(engine="whisper", model="default", input_device="3")
    assert speech.resolve(settings) == speech.SpeechChoice("whisper", None, "3")
    for alias in ("", "embedded", "default", "tiny.en (embedded)", " embedded "):
        assert speech.resolve(Settings(model=alias or "embedded"), model=alias).model is None
    over = speech.resolve(settings, engine="faster-whisper", model="base.en", device="USB")
    assert over == speech.SpeechChoice("faster-whisper", "base.en", "USB")
    assert speech.resolve(Settings(input_device="  ")).device is None
    with pytest.raises(Exception, match="unknown engine 'vosk'"):
        speech.resolve(settings, engine="vosk")


def test_score_audio_and_transcribe_follow_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the core, `coach score --audio` and `coach transcribe` ignored the settings."""
    import numpy as np
    import soundfile as sf

    import coach.audio.engines as engines

    asked: list[tuple[str, str | None]] = []

    class Silent:
        name, model_name = "whisper", "base.en"

        def transcribe(self, audio: Any) -> Transcript:
            return Transcript(
                text="", segments=(), duration_s=1.0, engine="whisper", model="base.en"
            )

    def create(name: str = "faster-whisper", model: str | None = None, **_: Any) -> Any:
        asked.append((name, model))
        return Silent()

    monkeypatch.setattr(engines, "create_engine", create)
    save_settings(Settings(engine="whisper", model="base.en"))
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(16_000, np.int16), 16_000, subtype="PCM_16")
    runs = [
        ["transcribe", str(wav)],
        ["score", "--category", "failed-match", "--audio", str(wav)],
        ["transcribe", str(wav), "--engine", "faster-whisper"],
    ]
    for args in runs:
        result = CliRunner().invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert "no speech detected" in result.stderr
    assert asked == [("whisper", "base.en"), ("whisper", "base.en"), ("faster-whisper", "base.en")]


# -- the practice session on the real history ----------------------------------------------------


def _spoken(text: str) -> Transcript:
    return Transcript(text, (), 12.0, engine="faster-whisper", model="tiny.en")


def test_the_no_speech_rule_strips_first_and_saves_nothing() -> None:
    for blank in ("", "   ", " \n\t "):
        with pytest.raises(NoSpeech):
            answer_text(_spoken(blank))
    assert answer_text(_spoken("  I did not match.  ")) == "I did not match."
    history = StoreHistory(BankSource())
    try:
        practice = PracticeSession(history, "solo")
        question = history.bank.get(QUESTION)
        with pytest.raises(NoSpeech):
            practice.spoken(question, _spoken("  "), None)
        assert not practice.started  # no empty session either
        result = practice.spoken(question, _spoken(f"  {ANSWER} "), None)
        assert result.saved and result.report.text == ANSWER  # scored stripped, as rehearse did
        assert history.store.attempt(result.attempt_id or 0).text == ANSWER
    finally:
        history.close()


def test_a_session_deleted_by_the_cli_is_started_again() -> None:
    """Issue 16 item 11: after `coach delete session N`, the app's next answers still save."""
    history = StoreHistory(BankSource())
    try:
        practice = PracticeSession(history, "drill")
        question = history.bank.get(QUESTION)
        first = practice.typed(question, ANSWER)
        assert first.saved and first.session_id is not None
        done = subprocess.run(
            [*COACH, "delete", "session", str(first.session_id), "--yes"],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        second = practice.typed(question, ANSWER + " I am ready now.")
        assert second.saved, second.note
        assert second.session_id not in (None, first.session_id)
        assert second.previous is None  # the earlier attempt went with its session
        third = practice.typed(question, ANSWER)
        assert third.saved and third.session_id == second.session_id
        assert third.previous is not None and third.previous.attempt_id == second.attempt_id
        sessions = history.store.sessions()
        assert [(s.id, s.mode, s.attempt_count) for s in sessions] == [
            (second.session_id, "drill", 2)
        ]
    finally:
        history.close()


def test_a_failed_save_keeps_the_score_and_names_the_recording(tmp_path: Path) -> None:
    from coach import paths

    db = paths.data_dir() / DB_NAME
    db.write_bytes(b"this is not a database" * 100)
    wav = tmp_path / "answer.wav"
    wav.write_bytes(b"RIFF")
    history = StoreHistory(BankSource())
    question = BankSource().get(QUESTION)
    result = PracticeSession(history, "solo").spoken(question, _spoken(ANSWER), wav)
    assert not result.saved and result.report.overall > 0
    assert result.error is not None and f"recording is kept at {wav}" in str(result.error)
    assert "could not be saved" in result.note
    assert db.read_bytes() == b"this is not a database" * 100


# -- both front ends, one pipeline ----------------------------------------------------------


def _saved_rows(db: Path) -> list[dict[str, Any]]:
    """Every attempt in a history file: text, scores, criteria and transcript (not timings)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = []
        for (
            attempt_id,
            question_id,
            category,
            text,
            overall,
            stats,
            tips,
            transcript,
        ) in conn.execute(
            "SELECT id, question_id, category, text, overall, stats, tips, transcript"
            " FROM attempts ORDER BY id"
        ):
            criteria = conn.execute(
                "SELECT position, criterion_id, name, score, passed, feedback, weight, evidence"
                " FROM criterion_scores WHERE attempt_id = ? ORDER BY position",
                (attempt_id,),
            ).fetchall()
            spoken = json.loads(transcript)
            spoken.pop("timings", None)  # load and decode times differ from run to run
            rows.append(
                {
                    "question_id": question_id,
                    "category": category,
                    "text": text,
                    "overall": overall,
                    "stats": json.loads(stats),
                    "tips": json.loads(tips),
                    "criteria": criteria,
                    "transcript": spoken,
                }
            )
        return rows
    finally:
        conn.close()


@pytest.mark.audio
@pytest.mark.tui
@pytest.mark.e2e
@pytest.mark.slow
def test_the_app_and_rehearse_save_identical_attempts_for_the_same_audio(
    faster_engine: Any,
    speech_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import coach.audio.engines as engines
    from coach.audio.io import load_audio
    from coach.core.capture import AnswerCapture
    from coach.tui.app import CoachApp
    from coach.tui.screens.interview import InterviewScreen
    from coach.tui.screens.review import ReviewScreen
    from coach.tui.services import default_services
    from tests.conftest import synthesize

    wav = synthesize(ANSWER, speech_dir)
    samples = load_audio(wav)
    # One engine for both front ends: the session's loaded tiny.en.
    monkeypatch.setattr(engines, "create_engine", lambda *a, **k: faster_engine)
    settings = Settings(think_s=0, read_aloud=False)
    speech.share_engine(settings, faster_engine)

    # 1. The CLI: `coach rehearse --audio` (fed as fast as the worker keeps up).
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "cli"))
    done = CliRunner().invoke(cli, ["rehearse", "--question", QUESTION, "--audio", str(wav)])
    assert done.exit_code == 0, done.output

    # 2. The app: the interview screen's worker, its microphone replaced by the same file
    #    fed the same way into the same capture class.
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "app"))

    class FileAnswer(AnswerCapture):
        def start(self) -> None:
            self.feed_file(samples, wav)

    services = default_services()
    services.capture_factory = lambda s: FileAnswer(lambda: speech.get_engine(s))
    question = services.questions.get(QUESTION)

    async def answer() -> None:
        from coach.core.plan import timed

        app = CoachApp(services, settings, load_model=False)
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(InterviewScreen([timed(question, settings)], "solo"))
            for _ in range(600):
                await pilot.pause(0.1)
                screen = app.screen
                if isinstance(screen, InterviewScreen) and screen.phase == "answer":
                    break
            await pilot.press("space")  # stop: the worker finishes, scores and saves
            for _ in range(600):
                await pilot.pause(0.1)
                if isinstance(app.screen, ReviewScreen):
                    break
            assert isinstance(app.screen, ReviewScreen)
            assert app.screen.result.saved, app.screen.result.note
            await pilot.press("ctrl+q")

    asyncio.run(answer())

    cli_rows = _saved_rows(tmp_path / "cli" / DB_NAME)
    app_rows = _saved_rows(tmp_path / "app" / DB_NAME)
    assert len(cli_rows) == len(app_rows) == 1
    assert "match" in cli_rows[0]["text"].lower()
    assert app_rows == cli_rows
    with Store.open(tmp_path / "app" / DB_NAME) as store:
        assert [s.mode for s in store.sessions()] == ["solo"]


class _TailHeldEngine:
    """The real engine, except that once ``hold`` is set every decode waits for ``release``:
    a tail decode slower than two key presses, so the second ctrl+q always lands while the
    transcript is still being finished (without it the tail sometimes won the race)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.hold = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        if self.hold.is_set():
            self.release.wait(120)
        return self._engine.transcribe(*args, **kwargs)


def _quit_mid_answer(
    speech_dir: Path, faster_engine: Any, presses: int, held: _TailHeldEngine | None = None
) -> Any:
    """Record three seconds of speech on the virtual microphone in the app, then press
    ctrl+q ``presses`` times in a row; returns the app once it has closed. With ``held``,
    the tail decode waits until the app has closed."""
    from coach.core.plan import timed
    from coach.tui.app import CoachApp
    from coach.tui.screens.interview import InterviewScreen
    from coach.tui.services import default_services
    from tests.conftest import synthesize
    from tests.virtual_mic import VirtualMic

    wav = synthesize(ANSWER + " " + ANSWER, speech_dir)
    settings = Settings(think_s=0, read_aloud=False)
    speech.share_engine(settings, held if held is not None else faster_engine)
    services = default_services()
    question = services.questions.get(QUESTION)
    app = CoachApp(services, settings, load_model=False)

    async def quit_mid_answer(mic: VirtualMic) -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(InterviewScreen([timed(question, settings)], "solo"))
            for _ in range(600):
                await pilot.pause(0.1)
                screen = app.screen
                if isinstance(screen, InterviewScreen) and screen.phase == "answer":
                    break
            assert isinstance(app.screen, InterviewScreen) and app.screen.phase == "answer"
            while mic.fed_frames < mic.lead_in + 3 * mic.rate:  # three seconds of speech
                await pilot.pause(0.1)
            if held is not None:
                held.hold.set()
            await pilot.press(*["ctrl+q"] * presses)
            for _ in range(1200):  # the tail is transcribed, scored and saved first
                if app.return_code is not None:
                    break
                await pilot.pause(0.1)
            assert app.return_code == 0

    try:
        with VirtualMic(wav) as mic:
            mic.activate()
            asyncio.run(quit_mid_answer(mic))
    finally:
        if held is not None:
            held.release.set()
        speech.share_engine(settings, faster_engine)
    return app


@pytest.mark.audio
@pytest.mark.tui
@pytest.mark.e2e
@pytest.mark.slow
def test_quitting_the_app_mid_answer_saves_it_and_leaves_no_decode_running(
    faster_engine: Any, speech_dir: Path
) -> None:
    """Issue 16 item 2, the app: ctrl+q while recording stops the recording, finishes the
    transcript, scores and saves the answer in the SQLite history, then closes; the
    transcription worker is joined (no native decode outlives the app)."""
    import soundfile as sf

    from coach.core.capture import join_native_workers

    app = _quit_mid_answer(speech_dir, faster_engine, presses=1)
    assert join_native_workers(timeout=0)  # the worker was joined before the app closed
    assert app.kept_recordings == [] and not app.abandoned
    with Store.open() as store:
        attempts = store.attempts()
        assert [s.mode for s in store.sessions()] == ["solo"]
    assert len(attempts) == 1
    attempt = attempts[0]
    assert attempt.question_id == QUESTION and attempt.engine == "faster-whisper"
    assert "match" in attempt.text.lower() and attempt.transcript is not None
    assert attempt.audio_path is not None and attempt.audio_path.exists()
    assert 2 < sf.info(attempt.audio_path).duration < 30
    assert len(app.closing_notes) == 1
    assert f"saved before the app closed (attempt {attempt.id}," in app.closing_notes[0]


@pytest.mark.audio
@pytest.mark.tui
@pytest.mark.e2e
@pytest.mark.slow
def test_a_second_ctrl_q_abandons_the_answer_and_keeps_the_wav(
    faster_engine: Any, speech_dir: Path
) -> None:
    """Issue 16 item 2: a second ctrl+q does not wait for the transcript; the WAV is kept."""
    import soundfile as sf

    from coach.core.capture import join_native_workers

    app = _quit_mid_answer(
        speech_dir, faster_engine, presses=2, held=_TailHeldEngine(faster_engine)
    )
    assert app.abandoned
    assert len(app.kept_recordings) == 1
    kept = app.kept_recordings[0]
    assert kept.exists() and 2 < sf.info(kept).duration < 30
    with Store.open() as store:
        assert store.attempts() == []
    # The decode that was abandoned ends on its own (run_app would not wait for it).
    assert join_native_workers(timeout=60)


# -- one list of categories ------------------------------------------------------------------


def test_the_rubric_data_is_the_one_list_of_categories() -> None:
    import tomllib

    from coach import resources
    from coach.commands.questions import render_list
    from coach.questions import CATEGORIES, CATEGORY_LABELS, load_question_bank
    from coach.scoring.rubric import load_rubric

    with (resources.rubrics_dir() / "categories.toml").open("rb") as f:
        table = tomllib.load(f)["categories"]
    assert list(CATEGORIES) == list(table)  # same ids, same (interview) order
    assert {c: table[c]["label"] for c in table} == CATEGORY_LABELS
    assert set(load_rubric().categories) == set(CATEGORIES)
    assert {q.category for q in load_question_bank().all()} == set(CATEGORIES)
    from coach.core.plan import MOCK_SHAPE

    assert {c for slot in MOCK_SHAPE for c in slot} <= set(CATEGORIES)  # a shape, not a list
    listing = render_list(list(load_question_bank().all()))
    for category in CATEGORIES:
        assert f"{CATEGORY_LABELS[category]} [{category}]" in listing


def test_run_app_names_a_recording_cut_off_by_quitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coach.tui import app as app_module

    kept = tmp_path / "answer-cut-off.wav"

    def run(self: app_module.CoachApp) -> None:  # the user quit while recording
        self.kept_recordings.append(kept)

    monkeypatch.setattr(app_module.CoachApp, "run", run)
    app_module.run_app()
    err = capsys.readouterr().err
    assert f"kept at {kept}" in err and "not scored" in err and "coach score" in err
