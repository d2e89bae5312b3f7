"""Quitting the real ``coach`` app mid-answer, in tmux, on the virtual microphone (issue 16 item 2).

The console entry point (``python -m coach``, this checkout) runs in a private tmux server
with its own config, data and cache folders; the virtual microphone (tests/virtual_mic.py)
speaks through the real PortAudio stack. A solo rehearsal records about three seconds of
speech, then the app is ended by ctrl+q (a key sent with tmux) or by SIGTERM sent to the
``coach`` process. Either way the answer must land in the SQLite history, the note must name
the saved attempt after the app closed, and the exit status must be 0 or 143, with no native
abort (134) or segfault (139) on the way out.
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


@pytest.mark.parametrize("how", ["ctrl+q", "sigterm"])
def test_quitting_the_real_app_mid_answer_saves_it(
    how: str, tmp_path: Path, speech_dir: Path, session_cache_dir: Path
) -> None:
    save_settings(Settings(think_s=0, read_aloud=False))  # recording starts at once
    wav = synthesize(ANSWER, speech_dir)
    (tmp_path / "home").mkdir()
    (tmp_path / "panes").mkdir()
    tmux = Tmux(f"coach-quit-{os.getpid()}", 100, 30)
    with VirtualMic(wav, workdir=tmp_path / "mic") as mic:
        env = {
            "COACH_CONFIG_DIR": os.environ["COACH_CONFIG_DIR"],
            "COACH_DATA_DIR": os.environ["COACH_DATA_DIR"],
            "COACH_CACHE_DIR": str(session_cache_dir),
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
                expected = 0
            else:
                os.kill(coach_pid(tmux), signal.SIGTERM)
                expected = 143
            quit_at = time.monotonic()
            # The note shows while the tail is transcribed and scored (it may be too quick
            # to catch on a fast machine: the Pilot test in test_tui_quit.py checks it).
            walk.wait("saving", lambda p: "Saving your answer" in p or EXIT_MARK in p, 20)
            walk.wait("closed", EXIT_MARK, 180)
            closed_in = time.monotonic() - quit_at
            pane = tmux.run("capture-pane", "-p", "-J", "-t", tmux.target)  # lines unwrapped
        finally:
            tmux.kill()
    assert f"{EXIT_MARK} {expected}]" in pane, pane
    for crash in ("terminate called", "Segmentation fault", "Traceback", "core dumped"):
        assert crash not in pane, pane
    with Store.open() as store:
        attempts: list[Any] = store.attempts()
    assert len(attempts) == 1, pane
    attempt = attempts[0]
    assert attempt.mode == "solo" and attempt.engine == "faster-whisper"
    assert "match" in attempt.text.lower() and attempt.transcript is not None
    assert attempt.audio_path is not None and 2 < sf.info(attempt.audio_path).duration < 30
    assert f"saved before the app closed (attempt {attempt.id}," in pane
    print(f"{how}: closed {closed_in:.1f} s after the quit, the answer saved")
