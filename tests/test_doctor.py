"""``coach doctor`` in a real process: every line ok/fail/skip, fixes on failures, exit codes.

With the virtual microphone (tests/virtual_mic.py) PortAudio lists an input device and every
check passes (exit 0), self-test transcription included. With no input device the
microphone line fails with a fix and the exit code is 1; a tampered model fails the model
line the same way, and a tampered sentence encoder the scoring line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from coach.scoring.encoder import weight_form
from tests.virtual_mic import VirtualMic, no_device_env

pytestmark = [pytest.mark.audio, pytest.mark.slow]  # real Whisper models

COACH = [sys.executable, "-m", "coach"]
LINE = re.compile(r"^(ok|fail|skip) {2,4}(\S[^:]*): (.+)$")
CHECK_NAMES = [
    "python",
    "portaudio",
    "input devices",
    "model",
    "scoring",
    "engines",
    "ffmpeg",
    "self-test",
]


def doctor(env: dict[str, str]) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Run ``coach doctor``; return the exit code, {check: (status, text)} and stderr."""
    result = subprocess.run(
        [*COACH, "doctor"], capture_output=True, text=True, timeout=300, env=env
    )
    assert "Traceback" not in result.stderr, result.stderr
    checks: dict[str, tuple[str, str]] = {}
    lines = result.stdout.strip().splitlines()
    for line in lines[: len(CHECK_NAMES)]:
        match = LINE.match(line)
        assert match, line
        status, name, text = match.groups()
        checks[name] = (status, text)
        if status == "fail":
            assert " — fix: " in text, line  # every failure says what to do
    assert list(checks) == CHECK_NAMES, result.stdout
    return result.returncode, checks, result.stdout + result.stderr


def test_all_checks_pass_with_a_microphone(speech: Callable[..., Path]) -> None:
    with VirtualMic(speech("Testing the microphone.")) as mic:
        code, checks, output = doctor(mic.env)
    assert code == 0, output
    assert all(status in {"ok", "skip"} for status, _ in checks.values()), output
    assert checks["input devices"][0] == "ok"
    assert "found, default" in checks["input devices"][1]
    assert "SHA-256 verified" in checks["model"][1]
    assert "integer arithmetic" in checks["scoring"][1]  # the calibrated integer graph runs
    # the weight form this CPU multiplies exactly (uint8 where the int8 kernel would clip)
    assert f"{weight_form()} weights" in checks["scoring"][1]
    status, text = checks["self-test"]
    if shutil.which("espeak-ng"):
        assert status == "ok" and "Med-Peds" in text, text
    assert "all checks passed" in output


def test_no_microphone_fails_that_line_with_a_fix_and_exits_1(tmp_path: Path) -> None:
    env = no_device_env(tmp_path)
    listed = subprocess.run(
        [*COACH, "devices", "--json"], capture_output=True, text=True, timeout=120, env=env
    )
    if listed.returncode != 0 or listed.stdout.strip() != "[]":
        pytest.skip("this machine has real sound cards")
    code, checks, output = doctor(env)
    assert code == 1, output
    status, text = checks["input devices"]
    assert status == "fail"
    assert "no microphone" in text and "fix: plug in" in text and "type your answer" in text
    # Nothing else is blamed on the missing microphone.
    for name in ("python", "portaudio", "model", "engines"):
        assert checks[name][0] == "ok", output
    assert "some checks failed" in output


def test_tampered_model_fails_the_model_line(tmp_path: Path) -> None:
    from coach.audio import models

    folder = tmp_path / "model"
    shutil.copytree(models.embedded_model_dir(), folder)
    model_bin = folder / "model.bin"
    data = bytearray(model_bin.read_bytes())
    data[len(data) // 3] ^= 0x10
    model_bin.write_bytes(bytes(data))
    env = {**no_device_env(tmp_path), "COACH_EMBEDDED_MODEL_DIR": str(folder)}
    code, checks, output = doctor(env)
    assert code == 1, output
    status, text = checks["model"]
    assert status == "fail" and "integrity check" in text and "fix: reinstall" in text
    assert checks["self-test"][0] in {"fail", "skip"}  # it cannot use a refused model


def test_a_tampered_sentence_encoder_fails_the_scoring_line(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    env = {**no_device_env(tmp_path), "COACH_ENCODER_MODEL": str(bad)}
    code, checks, output = doctor(env)
    assert code == 1, output
    status, text = checks["scoring"]
    assert status == "fail" and "integrity check" in text and "fix: reinstall" in text
    assert checks["model"][0] == "ok"
