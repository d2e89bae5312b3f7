"""Reading audio files into 16 kHz mono float32 arrays, the input every engine takes.

WAV, FLAC and OGG are read with :mod:`soundfile`; MP3, M4A and other compressed formats are
decoded by the ``ffmpeg`` program when it is installed. Other sample rates are resampled with
a band-limited FFT resampler (numpy only: no scipy, no torch), in 30 s blocks with a second
of context on each side, so a long recording needs bounded memory; files are read in blocks
too.

Every problem with the input (missing, empty, corrupt, unsupported) raises
:class:`~coach.errors.AudioInputError` with a one-line message naming the file and the fix.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np

from coach.audio.protocol import SAMPLE_RATE, Audio
from coach.errors import AudioInputError

#: Read natively by libsndfile.
SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif"})
#: Decoded through the ffmpeg program.
FFMPEG_SUFFIXES = frozenset({".mp3", ".m4a", ".mp4", ".aac", ".opus", ".webm", ".wma"})
SUPPORTED = ", ".join(s.lstrip(".").upper() for s in sorted(SOUNDFILE_SUFFIXES | FFMPEG_SUFFIXES))

#: Give up on ffmpeg after this long; a stuck decoder must not hang the CLI.
FFMPEG_TIMEOUT_S = 120.0


def load_audio(path: str | Path, *, channel: int | None = None) -> Audio:
    """Read ``path`` as 16 kHz mono float32 in [-1, 1].

    Stereo (or more) is mixed down to mono, unless ``channel`` (0-based) picks one channel.
    Raises :class:`AudioInputError` for a missing, empty, corrupt or unsupported file, or a
    channel the file does not have.
    """
    p = Path(path)
    if not p.exists():
        raise AudioInputError(f"{p}: no such file", "check the path and try again")
    if p.is_dir():
        raise AudioInputError(f"{p}: is a folder, not an audio file", "give the path of a file")
    if p.stat().st_size == 0:
        raise AudioInputError(f"{p}: the file is empty", "record the answer again")
    suffix = p.suffix.lower()
    if suffix in FFMPEG_SUFFIXES:
        data, rate = _read_with_ffmpeg(p)
        if data.shape[0] == 0:
            raise _no_audio(p)
        mono = _pick_channel(data, channel, p)
        del data
    else:
        mono, rate = _read_with_soundfile(p, channel)
    if rate != SAMPLE_RATE:
        mono = resample(mono, rate, SAMPLE_RATE)
    mono = np.asarray(mono, dtype=np.float32)
    return np.ascontiguousarray(np.clip(mono, -1.0, 1.0, out=mono))


def _no_audio(p: Path) -> AudioInputError:
    return AudioInputError(f"{p}: the file holds no audio", "record the answer again")


#: Longest file read (an answer is minutes; this bounds memory for a lying header too).
MAX_SECONDS = 6 * 3600

#: Frames read at a time: a long stereo 48 kHz file is mixed to mono block by block instead
#: of being held whole as float32 frames (a 30-minute file would need 0.7 GB for that alone).
READ_BLOCK_FRAMES = 1 << 20


def _read_with_soundfile(p: Path, channel: int | None) -> tuple[np.ndarray, int]:
    """The chosen channel (or the mono mix) as float32 at the file's own rate, read in blocks."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(p)) as f:
            rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
            if frames <= 0:
                return _read_stale_header(p, channel)
            _check_channel(channels, channel, p)
            if frames > MAX_SECONDS * rate:  # also a header claiming more than the file holds
                raise AudioInputError(
                    f"{p}: {frames / rate / 3600:.1f} hours of audio is more than an answer",
                    f"cut it to the answer (at most {MAX_SECONDS // 3600} hours) and try again",
                )
            mono = np.empty(frames, dtype=np.float32)
            done = 0
            while done < frames:
                block = f.read(
                    min(READ_BLOCK_FRAMES, frames - done), dtype="float32", always_2d=True
                )
                if block.shape[0] == 0:
                    break
                mono[done : done + block.shape[0]] = _pick_channel(block, channel, p)
                done += block.shape[0]
            if done == 0:
                raise _no_audio(p)
            return mono[:done], rate
    except AudioInputError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if p.suffix.lower() in SOUNDFILE_SUFFIXES:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise AudioInputError(
                f"{p}: cannot read the audio ({detail})",
                "the file looks corrupt or truncated; record or export it again",
            ) from None
        raise AudioInputError(
            f"{p}: unsupported audio format '{p.suffix or 'no extension'}'",
            f"use one of {SUPPORTED}",
        ) from None


def _read_with_ffmpeg(p: Path) -> tuple[np.ndarray, int]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioInputError(
            f"{p}: {p.suffix.lstrip('.').upper()} needs the ffmpeg program, which is not installed",
            "install ffmpeg (apt install ffmpeg / brew install ffmpeg) or convert the file to WAV",
        )
    # Keep every channel so --channel works for compressed files too; ffmpeg resamples.
    cmd = [
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(p),
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-ar",
        str(SAMPLE_RATE),
        "-",
    ]
    probe_channels = _ffmpeg_channels(p)
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise AudioInputError(
            f"{p}: ffmpeg took longer than {FFMPEG_TIMEOUT_S:.0f} s to decode it",
            "convert the file to WAV and try again",
        ) from None
    if out.returncode != 0 or not out.stdout:
        lines = out.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else "no audio decoded"
        raise AudioInputError(
            f"{p}: ffmpeg cannot decode it ({detail})",
            "the file looks corrupt or is not audio; record or export it again",
        )
    samples = np.frombuffer(out.stdout, dtype="<f4")
    channels = probe_channels if samples.size % probe_channels == 0 else 1
    return samples.reshape(-1, channels).copy(), SAMPLE_RATE


def _ffmpeg_channels(p: Path) -> int:
    """The channel count of a compressed file (ffprobe), 1 when it cannot tell."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return 1
    try:
        out = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-select_streams",
                "a:0",
                "-show_entries",
                "stream=channels",
                "-of",
                "csv=p=0",
                str(p),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return max(1, int(out.stdout.decode().strip().split(",")[0]))
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return 1


def _read_stale_header(p: Path, channel: int | None) -> tuple[np.ndarray, int]:
    """A WAV whose header says "empty" although audio follows (a recording cut off before its
    first header update, as a crash leaves it): read what follows, as ``coach record``'s
    repair would, without changing the file."""
    from coach.audio.wavfile import read_stale_wav

    found = read_stale_wav(p)
    if found is None:
        raise _no_audio(p)
    data, rate, _channels = found
    return _pick_channel(data, channel, p), rate


def _check_channel(n: int, channel: int | None, p: Path) -> None:
    if channel is not None and not 0 <= channel < n:
        raise AudioInputError(
            f"{p}: has {n} channel{'s' if n != 1 else ''}, there is no channel {channel}",
            f"choose a channel from 0 to {n - 1}",
        )


def _pick_channel(data: np.ndarray, channel: int | None, p: Path) -> np.ndarray:
    n = data.shape[1]
    _check_channel(n, channel, p)
    if channel is None:
        return data.mean(axis=1, dtype=np.float32) if n > 1 else data[:, 0]
    return data[:, channel]


#: Resampling works on blocks of this many seconds (plus context on each side), so memory
#: stays bounded for long files; clips up to one block are resampled whole, as before.
RESAMPLE_BLOCK_S = 30.0
#: Context on each side of a block. The FFT resampler's error at a block edge decays within
#: a few ms; one second keeps the joins indistinguishable from a whole-file pass.
RESAMPLE_CONTEXT_S = 1.0


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling (FFT), in blocks with overlapping context for long clips.

    Each block is resampled with :func:`_resample_clip` together with a second of its
    neighbours, and only its own middle is kept. Block borders fall on input samples that map
    to whole output samples, so the blocks join without a gap or a repeated sample. Memory is
    a few times one block, whatever the length (a whole-file FFT of a 30-minute 48 kHz file
    took several GB).
    """
    if rate_in == rate_out or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    n = int(audio.size)
    unit = rate_in // math.gcd(rate_in, rate_out)  # input samples per whole output step
    step = unit * max(1, math.ceil(RESAMPLE_BLOCK_S * rate_in / unit))
    ctx = unit * max(1, math.ceil(RESAMPLE_CONTEXT_S * rate_in / unit))
    if n <= step + 2 * ctx:
        return _resample_clip(audio, rate_in, rate_out)
    out = np.empty(round(n * rate_out / rate_in), dtype=np.float32)
    for start in range(0, n, step):
        lo, hi = max(0, start - ctx), min(n, start + step + ctx)
        y = _resample_clip(audio[lo:hi], rate_in, rate_out)
        first = start * rate_out // rate_in
        last = min(out.size, (start + step) * rate_out // rate_in)
        offset = (start - lo) * rate_out // rate_in
        out[first:last] = y[offset : offset + last - first]
    return out


def _resample_clip(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling of a whole clip in the frequency domain.

    The spectrum is truncated (downsampling: an ideal low-pass at the new Nyquist, no
    aliasing) or zero-padded (upsampling). A short reflected pad at both ends keeps the
    implied periodic wrap-around from ringing into the first and last milliseconds.
    """
    x = np.asarray(audio, dtype=np.float64)
    pad = min(x.size - 1, rate_in // 50)  # 20 ms
    if pad > 0:
        x = np.concatenate([x[pad:0:-1], x, x[-2 : -pad - 2 : -1]])
    n_in = x.size
    n_out = round(n_in * rate_out / rate_in)
    spectrum = np.fft.rfft(x)
    bins_out = n_out // 2 + 1
    if bins_out <= spectrum.size:
        spectrum = spectrum[:bins_out].copy()
        if n_out % 2 == 0:
            # A lone Nyquist bin would be read back as a real cosine; drop it (no energy
            # worth keeping sits exactly at 8 kHz in speech).
            spectrum[-1] = 0.0
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins_out - spectrum.size, complex)])
    y = np.fft.irfft(spectrum, n_out) * (n_out / n_in)
    cut = round(pad * rate_out / rate_in)
    length = round(audio.size * rate_out / rate_in)
    return y[cut : cut + length].astype(np.float32)


def duration_s(audio: Audio) -> float:
    """Length of 16 kHz ``audio`` in seconds."""
    return float(audio.shape[0]) / SAMPLE_RATE
