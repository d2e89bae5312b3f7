"""``coach transcribe`` as a user runs it: a real process, real models, real speech files.

Good input prints the text (or JSON) and exits 0; silence prints "no speech detected" and
nothing on stdout; every bad input is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.audio.wer import normalize, wer

pytestmark = [pytest.mark.audio, pytest.mark.slow]  # real Whisper models

COACH = [sys.executable, "-m", "coach"]
ANSWER = "Last year I did not match into Med-Peds, so I am applying again through ERAS."


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COACH, "transcribe", *args], capture_output=True, text=True, timeout=300
    )


def one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    for part in expected:
        assert part in line, line
    return line


@pytest.fixture
def answer(speech: Callable[..., Path]) -> Path:
    return speech(ANSWER)


def test_plain_text_with_the_default_engine(answer: Path) -> None:
    result = run(str(answer))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert wer(ANSWER, lines[0]) <= 0.15, lines[0]
    assert "Med-Peds" in lines[0]


@pytest.mark.parametrize("engine", ["faster-whisper", "whisper"])
def test_json_has_text_segments_words_duration_engine_model(answer: Path, engine: str) -> None:
    result = run(str(answer), "--engine", engine, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"text", "segments", "duration_s", "engine", "model"} <= set(data)
    assert data["engine"] == engine
    assert data["model"] == "tiny.en (embedded)"
    assert wer(ANSWER, data["text"]) <= 0.15, data["text"]
    assert data["duration_s"] == pytest.approx(sf.info(str(answer)).duration, abs=0.01)
    assert data["segments"]
    previous_end = 0.0
    for seg in data["segments"]:
        assert {"start", "end", "text", "words"} <= set(seg)
        assert 0.0 <= seg["start"] <= seg["end"] <= data["duration_s"] + 0.02
        assert seg["words"]
        for word in seg["words"]:
            assert {"start", "end", "text"} <= set(word)
            assert previous_end - 0.02 <= word["start"] <= word["end"]
            previous_end = word["end"]
    joined = " ".join(seg["text"] for seg in data["segments"])
    assert normalize(joined) == normalize(data["text"])


def test_channel_picks_one_side_of_a_stereo_file(answer: Path, tmp_path: Path) -> None:
    voice, rate = sf.read(str(answer), dtype="float32")
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([np.zeros_like(voice), voice], axis=1), rate)

    right = run(str(stereo), "--channel", "1")
    assert right.returncode == 0, right.stderr
    assert wer(ANSWER, right.stdout) <= 0.15, right.stdout

    left = run(str(stereo), "--channel", "0")
    assert left.returncode == 0, left.stderr
    assert left.stdout == ""
    assert "no speech detected" in left.stderr

    one_line_error(run(str(stereo), "--channel", "2"), "stereo.wav", "no channel 2", "0 to 1")
    one_line_error(run(str(stereo), "--channel", "-1"), "negative")


def test_silence_is_no_speech_detected_not_invented_text(tmp_path: Path) -> None:
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(3 * 16_000, dtype=np.float32), 16_000)
    plain = run(str(silent))
    assert plain.returncode == 0
    assert plain.stdout == ""
    assert plain.stderr.strip() == "no speech detected"

    as_json = run(str(silent), "--json")
    assert as_json.returncode == 0
    data = json.loads(as_json.stdout)
    assert data["text"] == "" and data["segments"] == []
    assert data["duration_s"] == pytest.approx(3.0)
    assert as_json.stderr.strip() == "no speech detected"


def make_bad_input(kind: str, folder: Path) -> Path:
    path = (
        folder
        / {
            "missing": "missing.wav",
            "empty": "empty.wav",
            "corrupt": "corrupt.wav",
            "unsupported": "notes.txt",
            "directory": "takes",
        }[kind]
    )
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" + bytes(range(256)) * 4)
    elif kind == "unsupported":
        path.write_text("not audio", encoding="utf-8")
    elif kind == "directory":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", ("missing.wav", "no such file", "check the path")),
        ("empty", ("empty.wav", "the file is empty")),
        ("corrupt", ("corrupt.wav", "cannot read the audio")),
        ("unsupported", ("notes.txt", "unsupported audio format", "WAV")),
        ("directory", ("takes", "is a folder", "give the path of a file")),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, kind: str, expected: tuple[str, ...]
) -> None:
    path = make_bad_input(kind, tmp_path)
    for engine in ("faster-whisper", "whisper"):
        one_line_error(run(str(path), "--engine", engine), *expected)


def test_named_model_offline_is_one_line_naming_the_default(answer: Path) -> None:
    line = one_line_error(run(str(answer), "--model", "base.en"), "base.en", "embedded")
    assert "tiny.en (embedded)" in line


def test_unknown_engine_is_a_usage_error(answer: Path) -> None:
    result = run(str(answer), "--engine", "vosk")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "'vosk' is not one of" in result.stderr
