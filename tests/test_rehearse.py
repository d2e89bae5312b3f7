"""``coach rehearse`` as a user runs it: subprocesses on the virtual microphone or a file.

The main test plays a 71 s synthesized answer through the real PortAudio/ALSA stack in real
time (tests/virtual_mic.py); one run feeds several assertions (JSON contract, live text
while speaking, WER against batch transcription of the same recording, the attempt in the
SQLite history, the WAV holding exactly what the microphone heard).
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from coach import paths
from coach.audio.io import load_audio
from coach.audio.wer import wer
from coach.store import DB_NAME, Store
from tests.coach_process import COACH, Running
from tests.test_live import ANSWER
from tests.virtual_mic import VirtualMic, find_source, no_device_env, read_pcm16

pytestmark = [pytest.mark.audio, pytest.mark.slow]  # real Whisper models

QUESTION = "fm-what-happened"
SHORT_ANSWER = (
    "I did not match last year. I applied to too few programs, so this year I asked my "
    "mentors for honest feedback and applied more broadly."
)


def run(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COACH, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, stderr ending in one ``error: ...`` line, no traceback; returns that line."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and " — " in last, done.stderr
    assert sum(line.startswith("error: ") for line in done.stderr.splitlines()) == 1
    for needle in needles:
        assert needle in last, last
    return last


def _attempts() -> list[Any]:
    db = paths.data_dir() / DB_NAME
    if not db.exists():
        return []
    with Store.open() as store:
        return [a for s in store.sessions() for a in store.attempts(s.id)]


def _check_score_json(data: dict[str, Any]) -> None:
    """The ``coach score`` fields, with evidence that indexes into the text."""
    assert 0 <= data["overall"] <= 100
    assert data["question_id"] == QUESTION and data["category"] == "failed-match"
    ids = [c["id"] for c in data["criteria"]]
    assert {"brevity", "factual_tone", "growth_focus", "content", "delivery"} <= set(ids)
    for c in data["criteria"]:
        assert {"id", "score", "passed", "feedback", "evidence"} <= set(c)
        assert isinstance(c["passed"], bool) and c["feedback"]
        for e in c["evidence"]:
            assert {"start", "end", "text", "effect"} <= set(e)
            assert data["text"][e["start"] : e["end"]] == e["text"]
            assert e["effect"] in "+-"
    assert data["stats"]["words"] > 0 and data["stats"]["duration_s"] > 0
    assert data["text"] == data["transcript"]["text"].strip()
    segments = data["transcript"]["segments"]
    assert segments and all({"start", "end", "text", "words"} <= set(s) for s in segments)
    timings = data["timings"]
    assert set(timings) == {"recording_s", "stop_to_transcript_s", "stop_to_score_s"}
    assert 0 <= timings["stop_to_transcript_s"] <= timings["stop_to_score_s"]
    assert isinstance(data["attempt_id"], int) and isinstance(data["session_id"], int)


def test_rehearse_from_the_microphone(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path], faster_engine: Any
) -> None:
    wav = speech(ANSWER)
    source, _ = read_pcm16(wav)
    m = mic(wav)
    proc = Running(["rehearse", "--question", QUESTION, "--json", "--silence", "3"], m.env)
    recording_started = proc.wait_for("Recording", timeout=60)
    done = proc.finish(timeout=240)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    _check_score_json(data)
    assert data["stop_reason"] == "silence"
    spoken_s = len(source) / 16_000 + m.lead_in / 16_000
    assert spoken_s + 2.5 < data["timings"]["recording_s"] < spoken_s + 6
    # The question first, then text while the answer was still being spoken.
    assert done.stderr.splitlines()[0].startswith(f"Question ({QUESTION}): ")
    live_lines = [(at, line) for at, line in proc.lines if line.startswith("  … ")]
    assert len(live_lines) >= 2
    assert live_lines[0][0] - recording_started < spoken_s - 20

    # The WAV holds exactly what the microphone played (after its lead-in).
    audio_path = Path(data["audio"])
    recorded, rate = sf.read(audio_path, dtype="int16")
    assert rate == 16_000 and find_source(recorded, source) >= 0
    assert audio_path.parent == paths.recordings_dir()
    assert audio_path.stat().st_mode & 0o777 == 0o600

    # Live text is as good as batch transcription of the same recording. On one answer,
    # tiny.en's words move by a few either way with where a window starts (measured: about
    # +-2 points over repeated runs of the same audio), so this bound is 5 points: it still
    # catches a lost or doubled sentence (~10 points here). The 1-point bound of the issue is
    # asserted pooled over four answers in tests/test_live.py and reported by
    # benchmarks/latency.py.
    batch = faster_engine.transcribe(load_audio(audio_path))
    live_wer, batch_wer = wer(ANSWER, data["transcript"]["text"]), wer(ANSWER, batch.text)
    assert live_wer <= batch_wer + 0.05, (live_wer, batch_wer, data["transcript"]["text"])

    # The attempt is in the history, in a finished "rehearse" session.
    with Store.open() as store:
        attempt = store.attempt(data["attempt_id"])
        session = store.session(data["session_id"])
    assert attempt.mode == "rehearse" and session.mode == "rehearse"
    assert session.finished_at is not None and attempt.session_id == session.id
    assert attempt.question_id == QUESTION and attempt.audio_path == audio_path
    assert attempt.transcript is not None
    assert attempt.transcript.text == data["transcript"]["text"]
    assert len(attempt.transcript.words) > 150
    assert attempt.overall == pytest.approx(data["overall"], abs=0.05)
    assert attempt.engine == "faster-whisper" and attempt.duration_s == pytest.approx(
        data["timings"]["recording_s"], abs=0.1
    )


def test_rehearse_a_file_through_the_live_pipeline(speech: Callable[..., Path]) -> None:
    wav = speech(SHORT_ANSWER)
    before = hashlib.sha256(wav.read_bytes()).hexdigest()
    env = dict(os.environ)
    done = run(["rehearse", "--question", QUESTION, "--audio", str(wav), "--json"], env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    _check_score_json(data)
    assert data["stop_reason"] == "end_of_file"
    assert wer(SHORT_ANSWER, data["transcript"]["text"]) < 0.3
    assert data["timings"]["recording_s"] == pytest.approx(len(load_audio(wav)) / 16_000, abs=0.01)
    assert hashlib.sha256(wav.read_bytes()).hexdigest() == before  # the user's file untouched
    copy = Path(data["audio"])
    assert copy.parent == paths.recordings_dir() and copy != wav
    np.testing.assert_allclose(load_audio(copy), load_audio(wav), atol=1 / 32768)
    assert [a.id for a in _attempts()] == [data["attempt_id"]]
    # Plain text: the question, the transcript and the scores on stdout, live text on stderr.
    plain = run(["rehearse", "--question", QUESTION, "--audio", str(wav)], env)
    assert plain.returncode == 0, plain.stderr
    out = plain.stdout
    assert out.startswith(f"Question ({QUESTION}): ")
    assert "Transcript:" in out and "Overall" in out and "Growth focus" in out
    assert "Saved as attempt" in out and "  … " in plain.stderr
    assert len(_attempts()) == 2


def test_enter_stops_when_standard_input_is_a_terminal(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path]
) -> None:
    m = mic(speech(ANSWER))
    master, slave = pty.openpty()
    proc = Running(["rehearse", "--question", QUESTION, "--json", "--silence", "0"], m.env, slave)
    os.close(slave)
    try:
        proc.wait_for("Enter or Ctrl-C stops", timeout=60)
        time.sleep(5)
        os.write(master, b"\r")  # what the Enter key sends
        done = proc.finish(timeout=120)
    finally:
        if proc.proc.poll() is None:
            proc.proc.kill()
        os.close(master)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["stop_reason"] == "enter"
    assert 4 < data["timings"]["recording_s"] < 12
    assert "match" in data["transcript"]["text"].lower()


def assert_no_native_crash(done: subprocess.CompletedProcess[str]) -> None:
    """No C++ abort ("terminate called ..."), segfault or traceback on the way out."""
    assert done.returncode not in (134, 139, -6, -11), (done.returncode, done.stderr)
    assert "terminate called" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "Segmentation fault" not in done.stderr and "core dumped" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupting_scores_and_saves_what_was_recorded(
    sig: signal.Signals, mic: Callable[..., VirtualMic], speech: Callable[..., Path]
) -> None:
    """Issue 16 item 2: Ctrl-C / SIGTERM stop cleanly, score and save, exit 130 / 143."""
    wav = speech(ANSWER)
    m = mic(wav)
    proc = Running(["rehearse", "--question", QUESTION, "--json"], m.env)
    proc.wait_for("Recording", timeout=60)
    time.sleep(3)
    proc.proc.send_signal(sig)
    done = proc.finish(timeout=120)
    assert_no_native_crash(done)
    assert done.returncode == 128 + sig, (done.returncode, done.stderr)
    assert "stopping: finishing the transcript" in done.stderr
    data = json.loads(done.stdout)
    _check_score_json(data)
    assert data["stop_reason"] == "interrupted"
    # What was recorded is kept, holds the microphone's audio, and is the saved attempt's.
    kept = Path(data["audio"])
    recorded, _ = sf.read(kept, dtype="int16")
    assert 2 < len(recorded) / 16_000 < 8
    assert find_source(recorded, read_pcm16(wav)[0][: len(recorded) // 2], max_offset=16_000) >= 0
    attempts = _attempts()
    assert [a.id for a in attempts] == [data["attempt_id"]]
    assert attempts[0].audio_path == kept and attempts[0].text == data["text"]


def test_a_second_ctrl_c_abandons_and_keeps_the_recording(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path]
) -> None:
    """The second Ctrl-C does not wait for the transcript: the WAV is kept and named."""
    wav = speech(ANSWER)
    m = mic(wav)
    proc = Running(["rehearse", "--question", QUESTION, "--json"], m.env)
    proc.wait_for("Recording", timeout=60)
    time.sleep(3)
    proc.proc.send_signal(signal.SIGINT)
    # Once the first one is handled (two SIGINTs pending at once would merge into one), the
    # second lands while the tail of the answer is still being transcribed.
    proc.wait_for("stopping: finishing the transcript", timeout=30)
    proc.proc.send_signal(signal.SIGINT)
    done = proc.finish(timeout=120)
    assert_no_native_crash(done)
    assert done.returncode == 130, (done.returncode, done.stderr)
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: stopped before the transcript was finished"), done.stderr
    assert "kept at" in line and "coach score" in line
    kept = Path(line.split("kept at ")[1].split(" — ")[0])
    recorded, _ = sf.read(kept, dtype="int16")
    assert 2 < len(recorded) / 16_000 < 8
    assert done.stdout == "" and _attempts() == []


def test_sigterm_while_feeding_a_file_in_real_time_saves_what_was_fed(
    speech: Callable[..., Path],
) -> None:
    wav = speech(ANSWER)
    proc = Running(
        ["rehearse", "--question", QUESTION, "--audio", str(wav), "--realtime", "--json"],
        dict(os.environ),
    )
    proc.wait_for("Transcribing", timeout=60)
    time.sleep(4)
    proc.proc.send_signal(signal.SIGTERM)
    done = proc.finish(timeout=120)
    assert_no_native_crash(done)
    assert done.returncode == 143, (done.returncode, done.stderr)
    data = json.loads(done.stdout)
    assert data["stop_reason"] == "interrupted"
    fed = data["timings"]["recording_s"]
    assert 2 < fed < len(load_audio(wav)) / 16_000 - 10
    copy = Path(data["audio"])
    assert sf.info(copy).duration == pytest.approx(fed, abs=0.01)  # only what was fed
    assert [a.id for a in _attempts()] == [data["attempt_id"]]


def test_no_speech_from_the_microphone_keeps_the_recording(
    mic: Callable[..., VirtualMic],
) -> None:
    m = mic(None)  # a microphone that hears nothing
    done = run(["rehearse", "--question", QUESTION, "--seconds", "3", "--json"], m.env)
    line = assert_error(done, "no speech detected", "kept at")
    kept = Path(line.split("kept at ")[1].split(" — ")[0])
    assert sf.info(kept).duration == pytest.approx(3.0, abs=0.1)
    assert _attempts() == []


def test_no_speech_in_a_file(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(3 * 16_000, np.int16), 16_000, subtype="PCM_16")
    done = run(["rehearse", "--question", QUESTION, "--audio", str(silent)], dict(os.environ))
    assert_error(done, "no speech detected", str(silent))
    assert _attempts() == []
    assert list(paths.recordings_dir().glob("*.wav")) == []  # no copy of a failed file


def test_no_microphone_is_a_one_line_error(tmp_path: Path) -> None:
    env = no_device_env(tmp_path)
    listed = run(["devices", "--json"], env)
    if listed.returncode != 0 or listed.stdout.strip() != "[]":
        pytest.skip("this machine has real sound cards")
    assert_error(run(["rehearse", "--question", QUESTION, "--seconds", "2"], env), "microphone")
    assert _attempts() == []
    assert list(paths.recordings_dir().glob("*.wav")) == []


def test_bad_arguments_are_one_line_errors(tmp_path: Path, speech: Callable[..., Path]) -> None:
    wav = str(speech(SHORT_ANSWER))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + os.urandom(300))
    env = dict(os.environ)
    cases: list[tuple[list[str], tuple[str, ...]]] = [
        (["--question", "fm-no-such-question", "--audio", wav], ("unknown question",)),
        (["--question", QUESTION, "--audio", str(tmp_path / "missing.wav")], ("no such file",)),
        (["--question", QUESTION, "--audio", str(corrupt)], (str(corrupt),)),
        (["--question", QUESTION, "--seconds", "0"], ("--seconds",)),
        (["--question", QUESTION, "--realtime"], ("--realtime",)),
        (["--question", QUESTION, "--engine", "vosk", "--audio", wav], ("unknown engine",)),
        (["--question", QUESTION, "--model", str(tmp_path), "--audio", wav], (str(tmp_path),)),
        (["--audio", wav], ("--question",)),
    ]
    for args, needles in cases:
        assert_error(run(["rehearse", *args], env), *needles)
    assert _attempts() == []


def test_a_corrupt_history_keeps_the_recording(speech: Callable[..., Path]) -> None:
    db = paths.data_dir() / DB_NAME
    db.write_bytes(b"this is not a database" * 100)
    wav = speech(SHORT_ANSWER)
    done = run(["rehearse", "--question", QUESTION, "--audio", str(wav)], dict(os.environ))
    line = assert_error(done, "kept at")
    kept = Path(line.split("kept at ")[1].split(" — ")[0].rstrip("."))
    assert kept.exists() and sf.info(kept).frames == len(load_audio(wav))
    assert db.read_bytes() == b"this is not a database" * 100  # never overwritten
