"""load_audio: formats, resampling, channels, and a clear error for every bad input."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.audio.io import load_audio, resample
from coach.errors import AudioInputError


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_reads_16k_mono_wav_exactly(tmp_path: Path) -> None:
    x = tone(440, 1.0, 16_000)
    path = tmp_path / "a.wav"
    sf.write(path, x, 16_000, subtype="FLOAT")
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_allclose(y, x, atol=1e-6)


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000])
def test_resamples_to_16k(tmp_path: Path, rate: int) -> None:
    path = tmp_path / f"a{rate}.wav"
    sf.write(path, tone(1000, 2.0, rate), rate, subtype="PCM_16")
    y = load_audio(path)
    assert abs(y.size - 32_000) <= 1
    ref = tone(1000, 2.0, 16_000)[: y.size]
    # Away from the clip's edges the resampled tone matches a tone made at 16 kHz.
    assert np.max(np.abs(y[800:-800] - ref[800:-800])) < 2e-3


def test_resample_removes_content_above_new_nyquist() -> None:
    high = tone(11_000, 1.0, 48_000)  # above 8 kHz: must vanish, not alias
    y = resample(high, 48_000, 16_000)
    assert np.sqrt(np.mean(y[1000:-1000] ** 2)) < 1e-3


@pytest.mark.parametrize("suffix,fmt", [(".flac", "FLAC"), (".ogg", "OGG")])
def test_reads_flac_and_ogg(tmp_path: Path, suffix: str, fmt: str) -> None:
    path = tmp_path / f"a{suffix}"
    sf.write(path, tone(440, 1.0, 16_000), 16_000, format=fmt)
    y = load_audio(path)
    assert abs(y.size - 16_000) <= 1
    assert 0.3 < np.max(np.abs(y)) < 0.6


def test_stereo_mixes_down_or_picks_a_channel(tmp_path: Path) -> None:
    left = tone(440, 1.0, 16_000)
    right = np.zeros_like(left)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16_000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), left / 2, atol=1e-6)
    np.testing.assert_allclose(load_audio(path, channel=0), left, atol=1e-6)
    assert np.max(np.abs(load_audio(path, channel=1))) == 0.0
    with pytest.raises(AudioInputError, match=r"stereo\.wav.*no channel 2"):
        load_audio(path, channel=2)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_reads_mp3_through_ffmpeg(tmp_path: Path, speech: Callable[..., Path]) -> None:
    wav = speech("I applied to Med-Peds.")
    mp3 = tmp_path / "answer.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(mp3)], check=True)
    y = load_audio(mp3)
    x = load_audio(wav)
    assert abs(y.size - x.size) < 0.1 * 16_000  # the codec adds a few ms of padding
    assert 0.05 < np.max(np.abs(y)) <= 1.0


def test_mp3_without_ffmpeg_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp3 = tmp_path / "answer.mp3"
    mp3.write_bytes(b"ID3" + b"\0" * 100)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(AudioInputError, match=r"answer\.mp3.*ffmpeg.*not installed") as info:
        load_audio(mp3)
    assert "install ffmpeg" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match=r"nope\.wav: no such file"):
        load_audio(tmp_path / "nope.wav")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioInputError, match=r"empty\.wav: the file is empty"):
        load_audio(path)


def test_header_only_wav_holds_no_audio(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(AudioInputError, match=r"zero\.wav: the file holds no audio"):
        load_audio(path)


def test_corrupt_wav(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" + bytes(range(256)) * 4)
    with pytest.raises(AudioInputError, match=r"corrupt\.wav: cannot read the audio") as info:
        load_audio(path)
    assert "\n" not in str(info.value)


def test_corrupt_mp3(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    path = tmp_path / "corrupt.mp3"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(AudioInputError, match=r"corrupt\.mp3: ffmpeg cannot decode it"):
        load_audio(path)


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not audio", encoding="utf-8")
    with pytest.raises(AudioInputError, match=r"notes\.txt: unsupported audio format"):
        load_audio(path)


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="is a folder"):
        load_audio(tmp_path)


def test_real_stereo_clip_channels_differ() -> None:
    clip = Path(__file__).resolve().parents[2] / "shared" / "speech" / "stereo_diarization.wav"
    if not clip.exists():
        pytest.skip("shared speech clips are not available")
    left, right = load_audio(clip, channel=0), load_audio(clip, channel=1)
    assert left.size == right.size
    assert not np.allclose(left, right)
