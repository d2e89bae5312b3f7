"""The crash-safe WAV writer and crash recovery (real files, a real tmpfs for disk full)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.audio.wavfile import (
    HEADER_SIZE,
    WavWriter,
    marker_path,
    read_wav_int16,
    recover_incomplete,
    repair_wav,
    write_error,
)
from coach.errors import RecordingError


def _tone(seconds: float, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 12000).astype(np.int16)


def test_written_file_is_a_valid_wav_with_the_exact_samples(tmp_path: Path) -> None:
    samples = _tone(1.3)
    path = tmp_path / "a.wav"
    with WavWriter(path) as w:
        assert marker_path(path).exists()
        for block in np.array_split(samples, 17):
            w.write(block)
    assert not marker_path(path).exists()
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16_000
    np.testing.assert_array_equal(data, samples)
    with wave.open(str(path)) as wf:
        assert (wf.getnchannels(), wf.getsampwidth(), wf.getnframes()) == (1, 2, len(samples))


def test_header_is_kept_valid_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "live.wav"
    w = WavWriter(path, sync_interval_s=0.0).open()
    w.write(_tone(0.5))
    # Another reader (or a crash right now) sees a complete, valid file.
    data, _ = sf.read(path, dtype="int16")
    assert len(data) == 8000
    w.close()


def test_stale_header_is_repaired_from_the_file_length(tmp_path: Path) -> None:
    samples = _tone(2.0)
    path = tmp_path / "crashed.wav"
    w = WavWriter(path, sync_interval_s=3600).open()  # never syncs on its own
    w.write(samples)
    assert w._fd is not None
    os.close(w._fd)  # "crash": no final header
    w._fd = None
    assert read_wav_int16(path)[0].size == 0  # header still says 0 samples
    with open(path, "ab") as f:
        f.write(b"\x01")  # half a sample written when the process died
    result = repair_wav(path)
    assert result.recovered and result.error is None
    assert result.frames == len(samples) and result.dropped_bytes == 1
    assert "recovered" in result.message
    data, _ = sf.read(path, dtype="int16")
    np.testing.assert_array_equal(data, samples)
    assert path.stat().st_size == HEADER_SIZE + 2 * len(samples)
    # Repairing again changes nothing.
    again = repair_wav(path)
    assert not again.recovered and again.frames == len(samples)


def test_repair_leaves_non_wav_files_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_bytes(b"not audio at all")
    result = repair_wav(path)
    assert result.error and not result.recovered
    assert path.read_bytes() == b"not audio at all"


def _child_writes_then_dies(path: Path, seconds: float) -> None:
    code = (
        "import os, numpy as np\n"
        "from coach.audio.wavfile import WavWriter\n"
        f"w = WavWriter({str(path)!r}, sync_interval_s=3600).open()\n"
        f"w.write((np.arange(int({seconds} * 16000)) % 200 - 100).astype(np.int16))\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)


def test_recover_incomplete_repairs_dead_writers_and_skips_live_ones(tmp_path: Path) -> None:
    dead = tmp_path / "dead.wav"
    _child_writes_then_dies(dead, 1.5)
    assert marker_path(dead).exists()

    live = tmp_path / "live.wav"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live_writer = WavWriter(live).open()  # left open; pretend the sleeper owns it
        marker_path(live).write_text(f"{sleeper.pid}\n")
        orphan_marker = marker_path(tmp_path / "never-written.wav")
        orphan_marker.write_text("999999\n")

        results = recover_incomplete(tmp_path)
        assert [r.path for r in results] == [dead]
        assert results[0].recovered and results[0].frames == 24_000
        assert not marker_path(dead).exists()
        assert marker_path(live).exists()  # still being written: untouched
        assert not orphan_marker.exists()
        assert recover_incomplete(tmp_path) == []  # reported once
        assert live_writer._fd is not None
        os.close(live_writer._fd)
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs (needs root); skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_keeps_what_reached_the_disk_in_a_valid_file(tiny_fs: Path) -> None:
    path = tiny_fs / "answer.wav"
    samples = _tone(5.0)  # 160 KB: cannot fit
    w = WavWriter(path).open()
    with pytest.raises(OSError) as info:
        for block in np.array_split(samples, 100):
            w.write(block)
    assert info.value.errno == errno.ENOSPC
    w.close()
    data, _ = sf.read(path, dtype="int16")
    assert len(data) > 8000  # most of the 64 KiB
    np.testing.assert_array_equal(data, samples[: len(data)])
    err = write_error(info.value, path, len(data) / 16000)
    assert "disk full" in str(err) and "type your answer" in str(err)


def test_write_errors_become_one_line_recording_errors(tmp_path: Path) -> None:
    for code, words in [
        (errno.EACCES, "permission denied"),
        (errno.ENOSPC, "disk full"),
        (errno.ENOENT, "folder does not exist"),
    ]:
        err = write_error(OSError(code, os.strerror(code)), tmp_path / "x.wav")
        assert isinstance(err, RecordingError)
        assert words in err.message and "type your answer" in str(err)
        assert "\n" not in str(err)


def test_permission_denied_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root ignores permissions: make the OS say no
        real_open = os.open

        def deny(path: object, *args: object, **kwargs: object) -> int:
            if str(path).startswith(str(locked)):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", deny)
    with pytest.raises(RecordingError, match="permission denied"):
        WavWriter(locked / "a.wav").open()
    assert not (locked / "a.wav").exists()
    assert not marker_path(locked / "a.wav").exists()
