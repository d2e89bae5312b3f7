"""The decoding policy the two engines (openai-whisper, faster-whisper) share.

Both take 16 kHz mono float32 audio and return a typed
:class:`~coach.audio.transcript.Transcript` with word timestamps. They share this decoding
policy (:class:`BaseEngine` and the gates below; each engine only loads its library and decodes
one window), so the same weights and options give the same words in either engine (the tests
check it on the embedded tiny.en):

* a short **domain prompt** (Med-Peds, NRMP, SOAP, ERAS, USMLE, COMLEX, PGY-1, sub-I …) so the
  field's words are spelled right; it is written *with fillers* ("Um, uh,") because Whisper
  copies the prompt's style and otherwise drops the fillers that delivery scoring counts;
* **no invented text**: near-silent or very short audio, and audio in which Silero VAD (shipped
  inside faster-whisper as ONNX, nothing to download) finds no speech, is never decoded; decoded
  segments that the model itself marks as non-speech are dropped;
* **no dropped text**: each chunk (at most 28 s, cut at pauses by the VAD) is decoded in *one*
  Whisper window with text tokens only (``<|notimestamps|>``). With timestamp tokens tiny.en
  sometimes emits a timestamp far ahead and silently skips the speech in between (on a 67 s
  answer it lost a whole 20-word sentence); word timestamps come from cross-attention
  alignment either way. Re-decoding the short tail after the last word (what both libraries
  do) is skipped: on real clips it only produced "Thank you." or "." from the padding. If
  the last word ends well before the chunk does and the VAD hears speech there, that rest is
  decoded as a chunk of its own;
* **bounded work**: at most one temperature fallback per window (sampled, never a second
  beam search), no conditioning on the previous window, a token cap per window, at most
  :data:`MAX_TAIL_DECODES` rest decodes per chunk and a compression-ratio gate, so
  repetitive audio cannot send the decoder into minutes of beam-search retries. Both
  engines share one fallback loop, and :attr:`BaseEngine.last_stats` counts every decoder
  call: at most ``len(temperatures) * (1 + MAX_TAIL_DECODES)`` per chunk.

Heavy libraries are imported inside methods; ``load()`` is thread-safe and idempotent.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from coach.audio.protocol import SAMPLE_RATE, Audio
from coach.audio.transcript import Segment, Timings, Transcript, Word

#: Chosen from benchmarks/transcribe.py: same words as openai-whisper, several times faster.
DEFAULT_ENGINE = "faster-whisper"
#: Beam width when :attr:`DecodeOptions.beam_size` is 0, measured with benchmarks/transcribe.py
#: on the embedded tiny.en: for faster-whisper beam 5 cut WER on the domain answer from about
#: 10.7 % to 8.9 % and on the real clips from 2.6 % to 1.8 % for about 1.4x the decoding
#: time (still a small fraction of real time). openai-whisper's PyTorch beam search took
#: over 3x as long as greedy decoding (slower than real time on two cores), so it stays greedy.
DEFAULT_BEAM_SIZE = {"faster-whisper": 5, "whisper": 1}

#: Kept short on purpose: long prompts make Whisper end windows early and drop text.
DOMAIN_PROMPT = (
    "Um, uh, so I'm applying to Med-Peds again, NRMP, SOAP, ERAS, USMLE Step 2, COMLEX, "
    "PGY-1, sub-I."
)
#: The same vocabulary without fillers (benchmark comparison only).
PLAIN_DOMAIN_PROMPT = (
    "I'm applying to Med-Peds again, NRMP, SOAP, ERAS, USMLE Step 2, COMLEX, PGY-1, sub-I."
)
#: At most this many words of ``context`` follow the domain prompt.
CONTEXT_WORDS = 24

#: Audio shorter than this is not speech worth decoding (a click, a cough).
MIN_SPEECH_S = 0.3
#: Peak below this (about -50 dBFS) is silence whatever the VAD says.
SILENCE_PEAK = 0.003
#: Longest chunk given to the decoder (Whisper's window is 30 s).
MAX_CHUNK_S = 28.0
#: A pause longer than this starts a new chunk (long silences invite invented text).
MAX_GAP_S = 2.0
#: When a chunk's last word ends at least this long before the chunk does and the VAD hears
#: speech there, the decoder stopped early: the rest is decoded as a chunk of its own.
TAIL_GAP_S = 1.5
#: At most this many such rest decodes per chunk (bounded work).
MAX_TAIL_DECODES = 2


@dataclass(frozen=True)
class DecodeOptions:
    """How both engines decode. The defaults are the measured best (see the benchmark).

    The same options give the same words in both engines from the same weights (tested;
    exactly so with ``compute_type="float32"``, where both run the same fp32 arithmetic).
    """

    beam_size: int = 0  # 0: the engine's default, DEFAULT_BEAM_SIZE
    prompt: str | None = DOMAIN_PROMPT
    #: Temperatures tried in order when a window fails the gates; one fallback bounds work.
    temperatures: tuple[float, ...] = (0.0, 0.4)
    compression_ratio_threshold: float = 2.4
    logprob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    #: Cap on the tokens one 30 s window may produce (fast speech needs ~150).
    max_new_tokens: int = 200
    vad: bool = True
    word_timestamps: bool = True
    #: faster-whisper only: "int8", "float32" or "default" (the model's own type).
    compute_type: str = "int8"
    threads: int = 0  # 0: every core
    #: Decode Whisper's timestamp tokens and let the library cut segments and re-decode
    #: tails (benchmark comparison). Off: text tokens only, one window per chunk; with
    #: timestamp tokens tiny.en skipped a whole sentence of a 67 s answer.
    timestamp_tokens: bool = False


@dataclass
class DecodeStats:
    """The work one ``transcribe()`` did, so bounded decoding can be checked, not timed."""

    chunks: int = 0  # speech chunks handed to the decoder
    #: Decoder calls: windows, temperature fallbacks and tail decodes (with
    #: ``timestamp_tokens`` the libraries' own fallbacks are not visible: windows only).
    decoder_calls: int = 0
    fallbacks: int = 0  # calls at a temperature above the first
    tail_decodes: int = 0  # chunk rests decoded again because the decoder stopped early
    max_tokens: int = 0  # the most text tokens one call produced

    def count(self, tokens: int, *, fallback: bool = False) -> None:
        self.decoder_calls += 1
        self.fallbacks += fallback
        self.max_tokens = max(self.max_tokens, tokens)


@dataclass(frozen=True)
class DecodedWindow:
    """What one decoder call over one window returned (times relative to the window)."""

    text: str
    tokens: int
    start: float
    end: float
    words: list[tuple[float, float, str, float]]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def threads_for(options: DecodeOptions) -> int:
    return options.threads or max(1, os.cpu_count() or 1)


def build_prompt(options: DecodeOptions, context: str = "") -> str | None:
    """The domain prompt followed by the last few words of ``context``."""
    parts: list[str] = []
    if options.prompt:
        parts.append(options.prompt.strip())
    words = context.split()
    if words:
        parts.append(" ".join(words[-CONTEXT_WORDS:]))
    return " ".join(parts) or None


# ----------------------------------------------------------------------------- speech gates

_vad_lock = threading.Lock()


def speech_chunks(audio: Audio, *, use_vad: bool = True) -> list[tuple[int, int]]:
    """Sample ranges worth decoding, each at most :data:`MAX_CHUNK_S` long.

    Cheap gates first (long enough, loud enough), then Silero VAD. Speech regions are merged
    into chunks that end at pauses, so Whisper never has to cut a word at a 30 s window edge,
    and every chunk starts with the domain prompt (Whisper would give it to the first window
    only). An empty list means "no speech": nothing is decoded, nothing can be invented.
    """
    n = int(audio.size)
    if n < MIN_SPEECH_S * SAMPLE_RATE or float(np.max(np.abs(audio))) < SILENCE_PEAK:
        return []
    if not use_vad:
        step = int(MAX_CHUNK_S * SAMPLE_RATE)
        return [(i, min(n, i + step)) for i in range(0, n, step)]
    from coach import ort

    ort.load()  # telemetry off before faster-whisper loads onnxruntime
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(
        threshold=0.5,
        min_speech_duration_ms=250,
        min_silence_duration_ms=300,
        max_speech_duration_s=MAX_CHUNK_S - 2,
        speech_pad_ms=200,
    )
    with _vad_lock:  # the ONNX session is shared and created lazily
        regions = [(int(r["start"]), int(r["end"])) for r in get_speech_timestamps(audio, vad)]
    max_len = int(MAX_CHUNK_S * SAMPLE_RATE)
    max_gap = int(MAX_GAP_S * SAMPLE_RATE)
    chunks: list[tuple[int, int]] = []
    for start, end in regions:
        if chunks and end - chunks[-1][0] <= max_len and start - chunks[-1][1] <= max_gap:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, min(end, start + max_len)))
    return chunks


def keep_segment(
    text: str, no_speech_prob: float, avg_logprob: float, ratio: float, options: DecodeOptions
) -> bool:
    if not text.strip():
        return False
    # Whisper's own silence rule, applied per segment as well as per window.
    if no_speech_prob > options.no_speech_threshold and avg_logprob < options.logprob_threshold:
        return False
    # A segment that is still a loop after the fallback is not what was said.
    return ratio <= options.compression_ratio_threshold * 1.25


def make_segment(
    text: str,
    start: float,
    end: float,
    words: list[tuple[float, float, str, float]],
    avg_logprob: float,
    no_speech_prob: float,
    offset_s: float,
) -> Segment:
    return Segment(
        float(start) + offset_s,
        float(end) + offset_s,
        text,
        tuple(_join_hyphenated(words, offset_s)),
        float(avg_logprob),
        float(no_speech_prob),
    )


def _join_hyphenated(words: list[tuple[float, float, str, float]], offset_s: float) -> list[Word]:
    """Typed words on the answer's timeline, hyphenated words in one piece.

    Whisper's word splitter treats "-" as punctuation that opens the next word, so
    "Med-Peds", "sub-I" and "PGY-1" come out as "Med" + "-Peds"; they are one spoken word.
    """
    out: list[Word] = []
    for ws, we, wt, wp in words:
        piece = wt.strip()
        if not piece:
            continue
        if piece.startswith("-") and out and not wt.startswith(" "):
            prev = out[-1]
            out[-1] = Word(
                prev.start,
                float(we) + offset_s,
                prev.text + piece,
                min(prev.probability, float(wp)),
            )
        else:
            out.append(Word(float(ws) + offset_s, float(we) + offset_s, piece, float(wp)))
    return out


def _check_audio(audio: Audio) -> Audio:
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim != 1:
        raise ValueError(f"expected 1-D 16 kHz mono audio, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


# ----------------------------------------------------------------------------------- engines


def _needs_fallback(window: DecodedWindow, options: DecodeOptions) -> bool:
    """Whisper's rule: retry a repetitive or improbable window, but not one that is silence."""
    if _is_silence(window, options):
        return False
    return (
        window.compression_ratio > options.compression_ratio_threshold
        or window.avg_logprob < options.logprob_threshold
    )


def _is_silence(window: DecodedWindow, options: DecodeOptions) -> bool:
    return (
        window.no_speech_prob > options.no_speech_threshold
        and window.avg_logprob < options.logprob_threshold
    )


class BaseEngine:
    """The shared transcribe loop: speech gates, chunks, fallbacks, rest decodes, stats."""

    name = ""

    def __init__(self, model: str | None = None, options: DecodeOptions | None = None) -> None:
        from coach.audio.models import resolve_model

        self.spec = resolve_model(model)
        self.model_name = self.spec.label
        opts = options or DecodeOptions()
        if opts.beam_size <= 0:
            opts = replace(opts, beam_size=DEFAULT_BEAM_SIZE[self.name])
        self.options = opts
        self.load_s = 0.0
        #: The work the last ``transcribe()`` did.
        self.last_stats = DecodeStats()
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            t0 = time.perf_counter()
            model = self._load()
            self.load_s = time.perf_counter() - t0
            self._model = model

    def _load(self) -> Any:
        raise NotImplementedError

    def _decode_window(
        self, audio: Audio, prompt: str | None, temperature: float
    ) -> DecodedWindow | None:
        """Decode ``audio`` (at most 30 s) in one window with text tokens only; None: no text."""
        raise NotImplementedError

    def _decode_library(self, audio: Audio, prompt: str | None, offset_s: float) -> list[Segment]:
        """Decode with timestamp tokens through the library's own loop (``timestamp_tokens``)."""
        raise NotImplementedError

    def transcribe(self, audio: Audio, *, offset_s: float = 0.0, context: str = "") -> Transcript:
        """Transcribe 16 kHz mono ``audio``; see :class:`~coach.audio.protocol.Engine`."""
        t0 = time.perf_counter()
        self.load()
        audio = _check_audio(audio)
        segments: list[Segment] = []
        said = context
        stats = DecodeStats()
        with self._run_lock:
            for start, end in speech_chunks(audio, use_vad=self.options.vad):
                stats.chunks += 1
                if self.options.timestamp_tokens:
                    new = self._decode_library(
                        audio[start:end],
                        build_prompt(self.options, said),
                        offset_s + start / SAMPLE_RATE,
                    )
                    stats.decoder_calls += len({(s.start, s.end) for s in new}) or 1
                else:
                    new = self._decode_chunk(audio, start, end, said, offset_s, stats)
                segments.extend(new)
                said = " ".join([said, *(seg.text for seg in new)])
            self.last_stats = stats
        return Transcript(
            text=" ".join(seg.text for seg in segments).strip(),
            segments=tuple(segments),
            duration_s=audio.size / SAMPLE_RATE,
            engine=self.name,
            model=self.model_name,
            timings=Timings(self.load_s, time.perf_counter() - t0),
        )

    def _decode_chunk(
        self, audio: Audio, start: int, end: int, context: str, offset_s: float, stats: DecodeStats
    ) -> list[Segment]:
        """Decode ``audio[start:end]`` in one window, and its rest if the decoder stopped early."""
        segments: list[Segment] = []
        for attempt in range(MAX_TAIL_DECODES + 1):
            chunk_offset = offset_s + start / SAMPLE_RATE
            window = self._decode_with_fallback(
                audio[start:end], build_prompt(self.options, context), stats
            )
            if window is None:
                break
            segments.append(
                make_segment(
                    window.text,
                    window.start,
                    window.end,
                    window.words,
                    window.avg_logprob,
                    window.no_speech_prob,
                    chunk_offset,
                )
            )
            context = f"{context} {window.text}"
            if not window.words or attempt == MAX_TAIL_DECODES:
                break
            rest = start + round(max(w[1] for w in window.words) * SAMPLE_RATE)
            if end - rest < TAIL_GAP_S * SAMPLE_RATE:
                break
            heard = speech_chunks(audio[rest:end], use_vad=self.options.vad)
            if not heard:
                break
            stats.tail_decodes += 1
            start = rest + heard[0][0]
        return segments

    def _decode_with_fallback(
        self, audio: Audio, prompt: str | None, stats: DecodeStats
    ) -> DecodedWindow | None:
        """One window, retried at the next temperature when it fails Whisper's gates."""
        opts = self.options
        window: DecodedWindow | None = None
        for i, temperature in enumerate(opts.temperatures):
            window = self._decode_window(audio, prompt, temperature)
            stats.count(window.tokens if window else 0, fallback=i > 0)
            if window is None or not _needs_fallback(window, opts):
                break
        if window is None or _is_silence(window, opts):
            return None
        if not keep_segment(
            window.text,
            window.no_speech_prob,
            window.avg_logprob,
            window.compression_ratio,
            opts,
        ):
            return None
        return window

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model_name} {self.options}>"
