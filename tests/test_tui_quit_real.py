"""Quitting the real ``coach`` app mid-answer, in tmux, on the virtual microphone (issue 16 item 2).

The console entry point (``python -m coach``, this checkout) runs in a private tmux server
with its own config, data and cache folders; the virtual microphone (tests/virtual_mic.py)
speaks through the real PortAudio stack. A solo rehearsal records about three seconds of
speech, then the app is ended by ctrl+q (a key sent with tmux), or by SIGTERM or SIGINT sent
to the ``coach`` process. Each way the answer must land in the SQLite history, the note must
name the saved attempt after the app closed, and the exit status must be 0, 143 or 130, with
no native abort (134) or segfault (139) on the way out. ctrl+q twice abandons the answer:
the WAV is kept and named, nothing is saved.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from coach.settings import Settings, save_settings
from coach.store import Store
from scripts.tmux_kit import EXIT_MARK, Tmux, Walk
from tests.conftest import synthesize
from tests.virtual_mic import VirtualMic

pytestmark = [
    pytest.mark.tui,
    pytest.mark.tmux,
    pytest.mark.e2e,
    pytest.mark.audio,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ROOT = Path(__file__).resolve().parents[1]
ANSWER = (
    "I did not match last year. I applied to too few programs, so this year I asked my "
    "mentors for honest feedback and applied more broadly. I also worked in a transition "
    "clinic for young adults with chronic illness."
)


def coach_pid(tmux: Tmux) -> int:
    """The ``coach`` process: the child of the pane's shell."""
    shell = int(tmux.run("display-message", "-p", "-t", tmux.target, "#{pane_pid}").strip())
    children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    for child in children:
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"coach" in cmdline:
            return int(child)
    raise AssertionError(f"no coach process under the pane's shell {shell}: {children}")


SIGNALS = {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT}


def run_and_quit(how: str, tmp_path: Path, speech_dir: Path, cache: Path) -> tuple[str, float]:
    """Record about three seconds of speech in the real app, then quit ``how``; returns the
    pane after the app closed (lines unwrapped) and the seconds from the quit to the exit."""
    save_settings(Settings(think_s=0, read_aloud=False))  # recording starts at once
    wav = synthesize(ANSWER, speech_dir)
    (tmp_path / "home").mkdir()
    (tmp_path / "panes").mkdir()
    tmux = Tmux(f"coach-quit-{os.getpid()}", 100, 30)
    with VirtualMic(wav, workdir=tmp_path / "mic") as mic:
        env = {
            "COACH_CONFIG_DIR": os.environ["COACH_CONFIG_DIR"],
            "COACH_DATA_DIR": os.environ["COACH_DATA_DIR"],
            "COACH_CACHE_DIR": str(cache),
            "HOME": str(tmp_path / "home"),
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": str(ROOT),  # this checkout's code
            "ALSA_CONFIG_PATH": mic.env["ALSA_CONFIG_PATH"],
        }
        command = f"{shlex.quote(sys.executable)} -m coach; echo '{EXIT_MARK}' $?']'; sleep 600"
        walk = Walk(tmux, tmp_path / "panes", quiet=True)
        try:
            tmux.start(command, env)
            walk.wait("home", "Solo rehearsal", 60)
            tmux.keys("s")
            walk.wait("solo picker", ("Search questions", "Enter to rehearse"), 20)
            tmux.keys("Enter")
            walk.wait("recording", "Recording —", 180)
            deadline = time.monotonic() + 60
            while mic.fed_frames < mic.lead_in + 3 * mic.rate and time.monotonic() < deadline:
                time.sleep(0.1)  # about three seconds of speech heard
            if how == "ctrl+q":
                tmux.keys("C-q")
            elif how == "ctrl+q twice":  # both keys in one write: the second one abandons
                tmux.run("send-keys", "-t", tmux.target, "C-q", "C-q")
            else:
                os.kill(coach_pid(tmux), SIGNALS[how])
            quit_at = time.monotonic()
            # The note shows while the tail is transcribed and scored (it may be too quick
            # to catch on a fast machine: the Pilot test in test_tui_quit.py checks it).
            walk.wait("saving", lambda p: "Saving your answer" in p or EXIT_MARK in p, 20)
            walk.wait("closed", EXIT_MARK, 180)
            closed_in = time.monotonic() - quit_at
            pane = tmux.run("capture-pane", "-p", "-J", "-t", tmux.target)  # lines unwrapped
        finally:
            tmux.kill()
    for crash in ("terminate called", "Segmentation fault", "Traceback", "core dumped"):
        assert crash not in pane, pane
    return pane, closed_in


@pytest.mark.parametrize(("how", "expected"), [("ctrl+q", 0), ("sigterm", 143), ("sigint", 130)])
def test_quitting_the_real_app_mid_answer_saves_it(
    how: str, expected: int, tmp_path: Path, speech_dir: Path, session_cache_dir: Path
) -> None:
    pane, closed_in = run_and_quit(how, tmp_path, speech_dir, session_cache_dir)
    assert f"{EXIT_MARK} {expected}]" in pane, pane
    with Store.open() as store:
        attempts: list[Any] = store.attempts()
    assert len(attempts) == 1, pane
    attempt = attempts[0]
    assert attempt.mode == "solo" and attempt.engine == "faster-whisper"
    assert "match" in attempt.text.lower() and attempt.transcript is not None
    assert attempt.audio_path is not None and 2 < sf.info(attempt.audio_path).duration < 30
    assert f"saved before the app closed (attempt {attempt.id}," in pane
    print(f"{how}: closed {closed_in:.1f} s after the quit, the answer saved")


def test_quitting_the_real_app_twice_keeps_the_recording_unscored(
    tmp_path: Path, speech_dir: Path, session_cache_dir: Path
) -> None:
    pane, closed_in = run_and_quit("ctrl+q twice", tmp_path, speech_dir, session_cache_dir)
    assert f"{EXIT_MARK} 0]" in pane, pane
    line = next(line for line in pane.splitlines() if "was not scored" in line)
    kept = Path(line.split("kept at ")[1].split(" — ")[0])
    assert 2 < sf.info(kept).duration < 30 and "coach score" in line
    with Store.open() as store:
        assert store.attempts() == []
    print(f"ctrl+q twice: closed {closed_in:.1f} s after the quit, the WAV kept")
