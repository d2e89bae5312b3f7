"""Voice activity detection that decides chunk borders at pauses while audio arrives.

Live transcription cuts a spoken answer into chunks and transcribes each one while the user is
still talking. Where to cut matters: a cut inside a word loses or doubles it. This module runs
the Silero VAD model that ships inside faster-whisper (``faster_whisper/assets/silero_vad_v6.onnx``,
run by onnxruntime; nothing is downloaded) on 32 ms windows as samples come in, keeping the
model's recurrent state between calls, so the probabilities are exactly those of a whole-file
pass. :class:`PauseSegmenter` turns them into chunk borders:

* a chunk closes inside a pause (the middle of the silence seen so far) once it holds enough
  speech;
* a chunk never grows past ``max_chunk_s``: it is cut at the longest short pause in its second
  half, or, if the speaker never paused, inside speech where speech is least likely (usually
  between two words), with an overlap centred there that the caller de-duplicates by word
  timestamps;
* silence before speech is not kept (beyond a little lead-in), so a long think-pause never
  becomes a chunk of its own;
* at the end, trailing silence is trimmed from the last chunk.

Heavy imports (onnxruntime, faster_whisper) happen on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
WINDOW = 512  # samples per VAD decision (32 ms), fixed by the Silero model
_CONTEXT = 64  # samples of the previous window the model sees before each window

FloatArray = npt.NDArray[np.float32]

_session_lock = threading.Lock()
_session: Any = None


def _vad_session() -> Any:
    """The shared onnxruntime session of faster-whisper's bundled Silero model (loaded once)."""
    global _session
    with _session_lock:
        if _session is None:
            from coach import ort
            from coach.errors import ModelError

            try:
                ort.load()  # telemetry off before faster-whisper loads onnxruntime
                from faster_whisper.vad import get_vad_model
            except ImportError as exc:  # pragma: no cover - faster-whisper is a dependency
                raise ModelError(
                    "voice activity detection needs faster-whisper and onnxruntime",
                    "reinstall the coach (make install)",
                ) from exc
            try:
                _session = get_vad_model().session
            except Exception as exc:  # a broken onnxruntime or a missing asset
                raise ModelError(
                    f"cannot load the Silero VAD model shipped with faster-whisper: {exc}",
                    "reinstall faster-whisper (make install)",
                ) from exc
        return _session


class SileroVad:
    """Streaming Silero VAD: feed any number of samples, get one probability per 32 ms window.

    The LSTM state and the 64-sample context carry over between calls, so feeding a signal in
    pieces gives the same probabilities as one call on the whole signal.
    """

    def __init__(self) -> None:
        self._session = _vad_session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)

    def process(self, samples: FloatArray) -> FloatArray:
        """Speech probabilities for every complete window the new samples finish."""
        data = np.concatenate([self._rest, np.asarray(samples, dtype=np.float32).ravel()])
        n = len(data) // WINDOW
        self._rest = data[n * WINDOW :]
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = data[: n * WINDOW].reshape(n, WINDOW)
        previous = np.concatenate([self._context[None, :], windows[:-1, -_CONTEXT:]], axis=0)
        batch = np.concatenate([previous, windows], axis=1)
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -_CONTEXT:].copy()
        return np.asarray(out, dtype=np.float32).reshape(-1)[:n]


def speech_probabilities(audio: FloatArray) -> FloatArray:
    """Per-window speech probabilities of a whole signal (the last partial window zero-padded)."""
    vad = SileroVad()
    audio = np.asarray(audio, dtype=np.float32).ravel()
    pad = (-len(audio)) % WINDOW
    return vad.process(np.pad(audio, (0, pad)))


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    """When to cut. Times in seconds.

    ``pause_s`` of silence closes a chunk once it is ``min_chunk_s`` long; ``eager_pause_s`` and
    ``eager_min_chunk_s`` are used instead when the caller says its worker is idle (shorter
    pauses, smaller chunks: the last clause of an answer is closed, and being transcribed, as
    soon as the speaker pauses, however short it is).
    """

    threshold: float = 0.5  # probability at or above which a window is speech
    neg_threshold: float = 0.35  # below which it is silence; in between keeps the last state
    pause_s: float = 0.25
    eager_pause_s: float = 0.15
    min_chunk_s: float = 2.5
    eager_min_chunk_s: float = 0.3
    max_chunk_s: float = 30.0
    overlap_s: float = 2.0  # forced cuts inside speech: the next chunk starts this much earlier
    lead_pad_s: float = 0.5  # silence kept before the first speech of a chunk
    tail_pad_s: float = 0.5  # silence kept after the last speech of the final chunk
    min_split_pause_s: float = 0.096  # shortest pause a max-length cut may use


@dataclass(frozen=True, slots=True)
class SpeechChunk:
    """A closed stretch of the answer, in samples on the answer's timeline."""

    index: int
    start: int
    end: int
    speech: bool  # the VAD heard speech in it
    forced: bool = False  # cut inside speech at max length: the next chunk overlaps this one
    final: bool = False

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.end / SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


class PauseSegmenter:
    """Decides chunk borders at pauses as audio arrives (see the module docstring)."""

    def __init__(self, config: SegmenterConfig | None = None, vad: SileroVad | None = None) -> None:
        self.config = config or SegmenterConfig()
        self._vad = vad or SileroVad()
        self._speech: list[bool] = []  # per window, with hysteresis
        self._probs: list[float] = []
        self._samples = 0
        self._chunk_start = 0
        self._chunk_speech = False
        self._last_speech_end = 0  # sample just after the last speech window
        self._silence_windows = 0
        self._index = 0
        self._heard_speech = False
        self._closed = False

    # -- read-only state, for "long silence" stops and level meters --------------------------

    @property
    def samples(self) -> int:
        """Samples pushed so far."""
        return self._samples

    @property
    def heard_speech(self) -> bool:
        """True once any speech was detected."""
        return self._heard_speech

    @property
    def speaking(self) -> bool:
        return bool(self._speech) and self._speech[-1]

    @property
    def trailing_silence_s(self) -> float:
        """Length of the silence at the end of what was pushed (0 while speaking)."""
        return self._silence_windows * WINDOW / SAMPLE_RATE

    # -- feeding ---------------------------------------------------------------------------

    def push(self, samples: FloatArray, *, eager: bool = False) -> list[SpeechChunk]:
        """Add samples; return the chunks they closed (usually none, sometimes one)."""
        if self._closed:
            raise RuntimeError("push() after finish()")
        samples = np.asarray(samples, dtype=np.float32).ravel()
        self._samples += len(samples)
        probs = self._vad.process(samples)
        cfg = self.config
        closed: list[SpeechChunk] = []
        sr = SAMPLE_RATE
        pause_windows = _windows(cfg.eager_pause_s if eager else cfg.pause_s)
        min_chunk = int((cfg.eager_min_chunk_s if eager else cfg.min_chunk_s) * sr)
        for p in probs:
            i = len(self._speech)
            prev = self._speech[-1] if self._speech else False
            is_speech = bool(p >= cfg.threshold or (prev and p >= cfg.neg_threshold))
            self._speech.append(is_speech)
            self._probs.append(float(p))
            window_end = (i + 1) * WINDOW
            if is_speech:
                self._silence_windows = 0
                self._chunk_speech = True
                self._heard_speech = True
                self._last_speech_end = window_end
            else:
                self._silence_windows += 1
                if not self._chunk_speech:
                    # Nothing said yet in this chunk: drop silence older than the lead-in.
                    lead = int(cfg.lead_pad_s * sr)
                    self._chunk_start = max(self._chunk_start, window_end - lead)
                elif (
                    self._silence_windows >= pause_windows
                    and self._last_speech_end - self._chunk_start >= min_chunk
                ):
                    cut = self._last_speech_end + (window_end - self._last_speech_end) // 2
                    closed.append(self._close(cut))
            if self._chunk_speech and window_end - self._chunk_start >= cfg.max_chunk_s * sr:
                closed.append(self._split_long(window_end))
        return closed

    def finish(self) -> SpeechChunk | None:
        """Close the open chunk at the end of the audio (trailing silence trimmed), if any."""
        if self._closed:
            return None
        self._closed = True
        if not self._chunk_speech:
            return None
        end = min(self._samples, self._last_speech_end + int(self.config.tail_pad_s * SAMPLE_RATE))
        end = max(end, self._chunk_start)
        chunk = SpeechChunk(self._index, self._chunk_start, end, speech=True, final=True)
        self._index += 1
        return chunk

    # -- internals -------------------------------------------------------------------------

    def _close(
        self, cut: int, *, forced: bool = False, next_start: int | None = None
    ) -> SpeechChunk:
        chunk = SpeechChunk(self._index, self._chunk_start, cut, speech=True, forced=forced)
        self._index += 1
        self._chunk_start = cut if next_start is None else next_start
        # Recompute the open chunk's state from the windows it already holds.
        first = self._chunk_start // WINDOW
        held = self._speech[first:]
        self._chunk_speech = any(held)
        if self._chunk_speech:
            last = first + max(k for k, s in enumerate(held) if s)
            self._last_speech_end = (last + 1) * WINDOW
        return chunk

    def _split_long(self, now: int) -> SpeechChunk:
        """The chunk reached max length: cut at the longest pause in its second half, else force."""
        cfg = self.config
        first = self._chunk_start // WINDOW
        last = now // WINDOW
        lo = first + (last - first) // 2
        best: tuple[int, int] | None = None  # (length, start window)
        run_start = None
        for w in range(lo, last + 1):
            silent = w < last and not self._speech[w]
            if silent and run_start is None:
                run_start = w
            elif not silent and run_start is not None:
                length = w - run_start
                if best is None or length >= best[0]:
                    best = (length, run_start)
                run_start = None
        if best is not None and best[0] >= _windows(cfg.min_split_pause_s):
            length, start_w = best
            cut = start_w * WINDOW + length * WINDOW // 2
            return self._close(cut)
        # No pause at all: cut where speech is least likely (usually between two words), with
        # the overlap centred on that point, so both decodes hear each side of it.
        half = _windows(cfg.overlap_s / 2)
        hi = max(lo + 1, last - half)
        probs = np.asarray(self._probs[lo:hi], dtype=np.float64)
        smooth = np.convolve(probs, np.ones(3) / 3, mode="same") if len(probs) >= 3 else probs
        w = lo + int(np.argmin(smooth)) if len(smooth) else last - half
        point = (w + 1) * WINDOW if w + 1 + half <= last else now - half * WINDOW
        end = min(now, point + half * WINDOW)
        return self._close(
            end, forced=True, next_start=max(self._chunk_start, point - half * WINDOW)
        )


def _windows(seconds: float) -> int:
    return max(1, round(seconds * SAMPLE_RATE / WINDOW))
