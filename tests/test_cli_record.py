"""``coach devices`` and ``coach record`` as a user runs them: subprocesses on the virtual mic.

Every recording goes through the real PortAudio/ALSA stack (tests/virtual_mic.py) in real
time, so these tests also prove the CLI's stop paths (Enter on a pipe or a terminal, Ctrl-C,
SIGTERM, kill -9) leave a valid WAV holding exactly what the microphone heard.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from coach.audio.wavfile import marker_path, read_wav_int16
from tests.coach_process import COACH, Running, assert_one_line_error
from tests.virtual_mic import VirtualMic, find_source, no_device_env, read_pcm16

pytestmark = pytest.mark.audio

ANSWER = "I did not match last year. I used the time to work as a research fellow."
LONG_ANSWER = (
    "I did not match into Med-Peds last year. Since then I have worked as a research fellow "
    "in a combined clinic, asked my mentors for honest feedback, and rebuilt my application."
)


def run(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [*COACH, *args], env=env, capture_output=True, text=True, timeout=60, **kwargs
    )


def _source(speech: Callable[..., Path], text: str = ANSWER) -> np.ndarray:
    return read_pcm16(speech(text))[0]


def _expected(mic: VirtualMic, source: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` samples the mic plays on a connection: lead-in, speech, then silence."""
    body = np.concatenate([np.zeros(mic.lead_in, np.int16), source])
    return np.concatenate([body, np.zeros(max(0, n - len(body)), np.int16)])[:n]


def _recorded(path: Path) -> np.ndarray:
    data, rate = sf.read(path, dtype="int16")  # a strict reader: the header must be right
    assert rate == 16_000
    return np.asarray(data)


# -- coach devices -------------------------------------------------------------------------------


def test_devices_lists_the_microphone_with_the_default_marked(
    mic: Callable[..., VirtualMic], tmp_path: Path
) -> None:
    m = mic()
    listed = run(["devices", "--json"], m.env)
    assert listed.returncode == 0, listed.stderr
    devices = json.loads(listed.stdout)
    assert devices and all(d["channels"] > 0 for d in devices)
    defaults = [d for d in devices if d["is_default"]]
    assert len(defaults) == 1
    plain = run(["devices"], m.env)
    assert plain.returncode == 0 and plain.stderr == ""
    lines = plain.stdout.splitlines()
    assert len(lines) == len(devices)
    marked = [line for line in lines if line.startswith("*")]
    assert len(marked) == 1
    assert f" {defaults[0]['index']} " in marked[0] and defaults[0]["name"] in marked[0]
    assert "Hz" in marked[0]


def test_no_microphone_is_a_one_line_error_offering_to_type(tmp_path: Path) -> None:
    env = no_device_env(tmp_path)
    listed = run(["devices", "--json"], env)
    if listed.returncode != 0 or listed.stdout.strip() != "[]":
        pytest.skip("this machine has real sound cards")
    for args in (["devices"], ["record", str(tmp_path / "a.wav"), "--seconds", "1"]):
        line = assert_one_line_error(run(args, env), "no microphone", "type your answer")
        assert "coach devices" in line
    assert not (tmp_path / "a.wav").exists()
    assert not marker_path(tmp_path / "a.wav").exists()


# -- coach record: what is recorded --------------------------------------------------------------


def test_record_saves_exactly_the_samples_spoken(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path], tmp_path: Path
) -> None:
    source = _source(speech)
    m = mic(speech(ANSWER))
    seconds = round(0.5 + len(source) / 16_000 + 0.3, 1)
    out = tmp_path / "answer.wav"
    done = run(["record", str(out), "--seconds", str(seconds)], m.env)
    assert done.returncode == 0, done.stderr
    assert f"saved {out} ({seconds:.1f} s)" in done.stdout
    assert "recording from" in done.stderr and "Traceback" not in done.stderr
    recorded = _recorded(out)
    assert len(recorded) == round(seconds * 16_000)
    offset = find_source(recorded, source)
    assert offset == m.lead_in, "the spoken samples are not in the recording, unchanged"
    assert not np.any(recorded[:offset])
    assert not marker_path(out).exists()
    assert out.stat().st_mode & 0o777 == 0o600
    # The device can be chosen by name and by index as `coach devices` shows them.
    default = next(
        d for d in json.loads(run(["devices", "--json"], m.env).stdout) if d["is_default"]
    )
    for spec in (str(default["index"]), default["name"].upper()):
        again = tmp_path / f"by-{spec}.wav"
        done = run(["record", str(again), "--seconds", "0.5", "--device", spec], m.env)
        assert done.returncode == 0, done.stderr
        assert f"[{default['index']}] {default['name']}" in done.stderr
        np.testing.assert_array_equal(_recorded(again), _expected(m, source, 8000))


def test_enter_on_a_pipe_stops_early_with_a_valid_file(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path], tmp_path: Path
) -> None:
    source = _source(speech)
    m = mic(speech(ANSWER))
    out = tmp_path / "enter.wav"
    proc = Running(["record", str(out), "--seconds", "30"], m.env, stdin=subprocess.PIPE)
    proc.wait_for("Enter or Ctrl-C stops")
    time.sleep(1.5)
    assert proc.proc.stdin is not None
    proc.proc.stdin.write("\n")
    proc.proc.stdin.flush()
    done = proc.finish()
    code, stdout, stderr = done.returncode, done.stdout, done.stderr
    assert code == 0, stderr
    assert "saved" in stdout
    recorded = _recorded(out)
    assert 1.0 < len(recorded) / 16_000 < 5.0
    np.testing.assert_array_equal(recorded, _expected(m, source, len(recorded)))
    assert not marker_path(out).exists()


def test_stdin_at_end_of_input_does_not_stop_the_recording(
    mic: Callable[..., VirtualMic], tmp_path: Path
) -> None:
    """A closed pipe (a script with no input) is not Enter: --seconds decides."""
    m = mic()
    out = tmp_path / "eof.wav"
    done = run(["record", str(out), "--seconds", "1.5"], m.env, input="")
    assert done.returncode == 0, done.stderr
    assert len(_recorded(out)) == 24_000


def test_enter_in_a_terminal_stops_early_and_shows_the_level_meter(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path], tmp_path: Path
) -> None:
    source = _source(speech)
    m = mic(speech(ANSWER))
    out = tmp_path / "tty.wav"
    setsid = shutil.which("setsid")
    if setsid is None:
        pytest.skip("setsid (util-linux) is needed to give the child a terminal")
    master, slave = pty.openpty()
    # A new session whose controlling terminal is the pty, like a shell in a terminal window.
    proc = subprocess.Popen(
        [setsid, "--ctty", *COACH, "record", str(out), "--seconds", "30"],
        env=m.env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        end = time.monotonic() + 30
        while b"dBFS" not in b"".join(chunks) and time.monotonic() < end:
            assert proc.poll() is None, b"".join(chunks)
            time.sleep(0.05)
        time.sleep(1.5)
        os.write(master, b"\r")  # what the Enter key sends
        assert proc.wait(timeout=30) == 0, b"".join(chunks)
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=5)
        os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "Enter or Ctrl-C stops" in screen
    assert "level" in screen and "dBFS" in screen and "#" in screen  # the live meter
    assert "saved" in screen
    recorded = _recorded(out)
    assert 1.0 < len(recorded) / 16_000 < 5.0
    np.testing.assert_array_equal(recorded, _expected(m, source, len(recorded)))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_stop_early_with_a_valid_file(
    sig: signal.Signals,
    mic: Callable[..., VirtualMic],
    speech: Callable[..., Path],
    tmp_path: Path,
) -> None:
    source = _source(speech)
    m = mic(speech(ANSWER))
    out = tmp_path / "stopped.wav"
    proc = Running(["record", str(out), "--seconds", "30"], m.env)
    proc.wait_for("Ctrl-C stops")
    time.sleep(1.5)
    proc.proc.send_signal(sig)
    done = proc.finish()
    code, stdout, stderr = done.returncode, done.stdout, done.stderr
    assert code == 0, stderr
    assert "saved" in stdout and "Traceback" not in stderr
    recorded = _recorded(out)
    assert 1.0 < len(recorded) / 16_000 < 5.0
    np.testing.assert_array_equal(recorded, _expected(m, source, len(recorded)))
    assert not marker_path(out).exists()


# -- crashes ---------------------------------------------------------------------------------------


def test_kill_9_mid_answer_loses_at_most_one_second_and_is_recovered_on_next_start(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path], tmp_path: Path
) -> None:
    source = _source(speech, LONG_ANSWER)
    m = mic(speech(LONG_ANSWER))
    folder = tmp_path / "answers"
    folder.mkdir()
    out = folder / "killed.wav"
    proc = Running(["record", str(out), "--seconds", "60"], m.env)
    proc.wait_for("Ctrl-C stops")
    time.sleep(3.0)
    heard = m.fed_frames  # what the microphone had delivered when the process died
    os.kill(proc.proc.pid, signal.SIGKILL)
    heard_by_then = m.fed_frames  # (the feeder may have written one more block meanwhile)
    proc.finish()
    assert heard > 2 * 16_000
    assert marker_path(out).exists(), "a killed recording must be marked as interrupted"

    # The next start repairs it, says so, and keeps it.
    nxt = run(["record", str(folder / "next.wav"), "--seconds", "0.3"], m.env)
    assert nxt.returncode == 0, nxt.stderr
    assert f"recovered an interrupted recording: {out}" in nxt.stderr
    assert not marker_path(out).exists()
    recorded = _recorded(out)
    assert heard - 16_000 <= len(recorded) <= heard_by_then, (len(recorded), heard)
    np.testing.assert_array_equal(recorded, _expected(m, source, len(recorded)))
    # Reported once; a second start finds nothing to repair, and the file is still there.
    again = run(["record", str(folder / "third.wav"), "--seconds", "0.3"], m.env)
    assert "recovered" not in again.stderr and out.exists()
    # Recording to the same name again is refused (--overwrite would be needed).
    refused = run(["record", str(out), "--seconds", "0.3"], m.env)
    assert_one_line_error(refused, "already exists")
    np.testing.assert_array_equal(_recorded(out), recorded)


def test_an_interrupted_recording_is_not_overwritten_when_recovered(
    mic: Callable[..., VirtualMic], tmp_path: Path
) -> None:
    m = mic()
    out = tmp_path / "crashed.wav"
    _write_then_die(out, 1.0)
    done = run(["record", str(out), "--seconds", "0.3", "--overwrite"], m.env)
    line = assert_one_line_error_after_notes(done, "just recovered")
    assert "type your answer" in line
    assert f"recovered an interrupted recording: {out}" in done.stderr
    assert len(_recorded(out)) == 16_000


def assert_one_line_error_after_notes(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Like :func:`assert_one_line_error`, allowing recovery notes before the error line."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and done.stderr.strip().splitlines()[-1] == errors[0]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _write_then_die(path: Path, seconds: float) -> None:
    """A child process records ``seconds`` of tone with WavWriter, then is killed (-9)."""
    code = (
        "import os, signal, numpy as np\n"
        "from coach.audio.wavfile import WavWriter\n"
        f"w = WavWriter({str(path)!r}, sync_interval_s=3600).open()\n"
        f"t = np.arange(int({seconds} * 16000)) / 16000\n"
        "w.write((np.sin(2 * np.pi * 440 * t) * 9000).astype(np.int16))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert marker_path(path).exists()
    assert read_wav_int16(path)[0].size == 0  # the header still says "empty"


def test_app_recording_cut_by_a_crash_is_repaired_when_the_history_opens(
    tmp_path: Path,
) -> None:
    """The app records into the data dir; whatever opens the history next repairs it."""
    recordings = Path(os.environ["COACH_DATA_DIR"]) / "recordings"
    recordings.mkdir(parents=True)
    crashed = recordings / "answer-20260101-101010.wav"
    _write_then_die(crashed, 1.5)
    shown = run(["history"], dict(os.environ))
    assert shown.returncode == 0, shown.stderr
    assert f"recovered an interrupted recording: {crashed} (1.5 s)" in shown.stderr
    assert "No practice yet" in shown.stdout  # the report itself is unchanged
    assert len(_recorded(crashed)) == 24_000 and not marker_path(crashed).exists()
    assert crashed.stat().st_mode & 0o777 == 0o600
    assert "recovered" not in run(["history"], dict(os.environ)).stderr  # reported once
    # `coach record` anywhere also repairs the app's recordings folder.
    second = recordings / "answer-20260101-111111.wav"
    _write_then_die(second, 0.5)
    done = run(["record", str(tmp_path / "x.wav"), "--device", "no such mic"], dict(os.environ))
    assert done.returncode == 2
    assert f"recovered an interrupted recording: {second} (0.5 s)" in done.stderr
    assert len(_recorded(second)) == 8_000


# -- feedback while recording ----------------------------------------------------------------------


def test_silence_warning_within_three_seconds_is_shown_live(
    mic: Callable[..., VirtualMic], tmp_path: Path
) -> None:
    m = mic()  # a microphone that hears nothing at all
    proc = Running(["record", str(tmp_path / "quiet.wav"), "--seconds", "6"], m.env)
    began = proc.wait_for("recording from")
    warned = proc.wait_for("we hear nothing")
    done = proc.finish()
    code, stderr = done.returncode, done.stderr
    assert code == 0
    line = next(line for line in stderr.splitlines() if "we hear nothing" in line)
    at = float(line.split("at ", 1)[1].split(" s:", 1)[0])
    assert at <= 3.1, line
    # Shown while recording (not after the 6 s), a little after 3 s of silence.
    assert warned - began < 4.5, warned - began
    assert "check your microphone" in line
    assert "warning: the recording is silent" in stderr


def test_clipping_warning_is_shown(
    mic: Callable[..., VirtualMic], speech: Callable[..., Path], tmp_path: Path
) -> None:
    source = _source(speech)
    hot = np.clip(source.astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    m = mic(hot, lead_in_s=0.1)
    done = run(["record", str(tmp_path / "hot.wav"), "--seconds", "2"], m.env)
    assert done.returncode == 0, done.stderr
    assert "too loud (clipping)" in done.stderr and "lower the input gain" in done.stderr
    assert "we hear nothing" not in done.stderr


# -- bad input ------------------------------------------------------------------------------------


def test_unknown_device_name_or_index_is_a_clear_error(
    mic: Callable[..., VirtualMic], tmp_path: Path
) -> None:
    m = mic()
    out = tmp_path / "a.wav"
    assert_one_line_error(
        run(["record", str(out), "--device", "no such mic"], m.env),
        "no input device matches 'no such mic'",
        "coach devices",
        "type your answer",
    )
    assert_one_line_error(
        run(["record", str(out), "--device", "999"], m.env),
        "no input device with index 999",
        "type your answer",
    )
    assert not out.exists() and not marker_path(out).exists()


@contextlib.contextmanager
def unwritable_folder(folder: Path) -> Iterator[Path]:
    """``folder``, made unwritable for this user (a read-only tmpfs when running as root)."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("root without permission to mount: cannot make an unwritable folder")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    with unwritable_folder(tmp_path / "locked") as folder:
        yield folder


def test_output_folder_missing_or_unwritable_is_a_clear_error(
    mic: Callable[..., VirtualMic], tmp_path: Path, unwritable: Path
) -> None:
    m = mic()
    missing = tmp_path / "no" / "such" / "a.wav"
    assert_one_line_error(
        run(["record", str(missing), "--seconds", "1"], m.env),
        "does not exist",
        "type your answer",
    )
    assert not missing.parent.exists()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert_one_line_error(
        run(["record", str(a_file / "a.wav"), "--seconds", "1"], m.env), "is not a folder"
    )
    assert_one_line_error(
        run(["record", str(unwritable / "a.wav"), "--seconds", "1"], m.env),
        "permission denied",
        "choose a folder you can write to",
        "type your answer",
    )
    assert list(unwritable.iterdir()) == []
    # The microphone was released: recording elsewhere works straight after.
    assert run(["record", str(tmp_path / "ok.wav"), "--seconds", "0.3"], m.env).returncode == 0


def test_bad_arguments_are_one_line_errors_and_nothing_is_overwritten(tmp_path: Path) -> None:
    env = no_device_env(tmp_path)  # every check happens before the microphone is opened
    existing = tmp_path / "keep.wav"
    existing.write_bytes(b"RIFF-my-answer")
    assert_one_line_error(
        run(["record", str(existing), "--seconds", "1"], env), "already exists", "--overwrite"
    )
    assert existing.read_bytes() == b"RIFF-my-answer"
    for value in ("0", "-3", "nan", "inf"):
        assert_one_line_error(
            run(["record", str(tmp_path / "s.wav"), "--seconds", value], env),
            "--seconds must be a positive number",
        )
    not_a_number = run(["record", str(tmp_path / "s.wav"), "--seconds", "abc"], env)
    assert not_a_number.returncode == 2 and "Traceback" not in not_a_number.stderr
    assert "Invalid value for '--seconds'" in not_a_number.stderr  # click's usage error
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    assert_one_line_error(run(["record", str(folder)], env), "is a folder")
    # A file another live process is recording into right now is never touched.
    busy = tmp_path / "busy.wav"
    busy.write_bytes(b"RIFF-being-written")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        marker_path(busy).write_text(f"{sleeper.pid}\n")
        assert_one_line_error(
            run(["record", str(busy), "--overwrite"], env), "being recorded right now"
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert busy.read_bytes() == b"RIFF-being-written"
    assert not (tmp_path / "s.wav").exists()
