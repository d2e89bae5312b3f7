"""The two real speech-to-text engines: openai-whisper and faster-whisper (CTranslate2).

Both take 16 kHz mono float32 audio and return a typed
:class:`~coach.audio.transcript.Transcript` with word timestamps. They share one decoding
policy, so the same weights and options give the same words in either engine (the tests
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
  engines share one fallback loop, and :attr:`_BaseEngine.last_stats` counts every decoder
  call: at most ``len(temperatures) * (1 + MAX_TAIL_DECODES)`` per chunk.

Heavy libraries are imported inside methods; ``load()`` is thread-safe and idempotent.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from coach.audio.protocol import SAMPLE_RATE, Audio, Engine
from coach.audio.transcript import Segment, Timings, Transcript, Word
from coach.errors import ModelError
from coach.settings import ENGINES

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
class _Window:
    """What one decoder call over one window returned (times relative to the window)."""

    text: str
    tokens: int
    start: float
    end: float
    words: list[tuple[float, float, str, float]]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def _threads(options: DecodeOptions) -> int:
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


def _keep_segment(
    text: str, no_speech_prob: float, avg_logprob: float, ratio: float, options: DecodeOptions
) -> bool:
    if not text.strip():
        return False
    # Whisper's own silence rule, applied per segment as well as per window.
    if no_speech_prob > options.no_speech_threshold and avg_logprob < options.logprob_threshold:
        return False
    # A segment that is still a loop after the fallback is not what was said.
    return ratio <= options.compression_ratio_threshold * 1.25


def _segment(
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


def _needs_fallback(window: _Window, options: DecodeOptions) -> bool:
    """Whisper's rule: retry a repetitive or improbable window, but not one that is silence."""
    if _is_silence(window, options):
        return False
    return (
        window.compression_ratio > options.compression_ratio_threshold
        or window.avg_logprob < options.logprob_threshold
    )


def _is_silence(window: _Window, options: DecodeOptions) -> bool:
    return (
        window.no_speech_prob > options.no_speech_threshold
        and window.avg_logprob < options.logprob_threshold
    )


class _BaseEngine:
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
    ) -> _Window | None:
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
                _segment(
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
    ) -> _Window | None:
        """One window, retried at the next temperature when it fails Whisper's gates."""
        opts = self.options
        window: _Window | None = None
        for i, temperature in enumerate(opts.temperatures):
            window = self._decode_window(audio, prompt, temperature)
            stats.count(window.tokens if window else 0, fallback=i > 0)
            if window is None or not _needs_fallback(window, opts):
                break
        if window is None or _is_silence(window, opts):
            return None
        if not _keep_segment(
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


class WhisperEngine(_BaseEngine):
    """openai-whisper (PyTorch, CPU, fp32)."""

    name = "whisper"

    def _load(self) -> Any:
        from coach.audio import models

        try:
            import torch
        except ImportError as exc:
            raise ModelError(
                f"openai-whisper is not installed ({exc})", "run `make install`"
            ) from None
        torch.set_num_threads(_threads(self.options))
        spec = self.spec
        if spec.kind == "embedded":
            return models.load_whisper_from_ct2(models.verify_embedded_model())
        if spec.kind == "path":
            path = spec.path
            if path.is_dir():
                if not (path / "model.bin").is_file():
                    raise ModelError(
                        f"{path} holds no model.bin (not a CTranslate2 Whisper model)",
                        "give a Whisper .pt checkpoint or a CTranslate2 model folder",
                    )
                return models.load_whisper_from_ct2(path)
            import whisper

            try:
                return whisper.load_model(str(path), device="cpu")
            except Exception as exc:
                raise ModelError(
                    f"cannot load Whisper checkpoint {path}: {str(exc).splitlines()[0][:160]}",
                    "give an openai-whisper .pt checkpoint or a model name such as base.en",
                ) from None
        return models.load_named_whisper(spec.value)

    def _tokenizer(self) -> Any:
        from whisper.tokenizer import get_tokenizer

        model = self._model
        return get_tokenizer(
            model.is_multilingual,
            num_languages=model.num_languages,
            language="en",
            task="transcribe",
        )

    def _decode_window(
        self, audio: Audio, prompt: str | None, temperature: float
    ) -> _Window | None:
        # The steps of whisper.transcribe for its first window, without its tail re-decode.
        import torch
        from whisper.audio import HOP_LENGTH, N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim
        from whisper.decoding import DecodingOptions
        from whisper.timing import add_word_timestamps

        opts = self.options
        model = self._model
        tokenizer = self._tokenizer()
        mel = log_mel_spectrogram(torch.from_numpy(audio), model.dims.n_mels, padding=N_SAMPLES)
        frames = min(mel.shape[-1] - N_FRAMES, N_FRAMES)
        mel_window = pad_or_trim(mel[:, :frames], N_FRAMES)
        prompt_tokens = tokenizer.encode(" " + prompt.strip()) if prompt else None
        result = model.decode(
            mel_window,
            DecodingOptions(
                task="transcribe",
                language="en",
                temperature=temperature,
                sample_len=opts.max_new_tokens,
                beam_size=opts.beam_size if temperature == 0 and opts.beam_size > 1 else None,
                prompt=prompt_tokens,
                without_timestamps=True,
                fp16=False,
            ),
        )
        text_tokens = [t for t in result.tokens if t < tokenizer.eot]
        text = tokenizer.decode(text_tokens).strip()
        if not text:
            return None
        seg: dict[str, Any] = {
            "seek": 0,
            "start": 0.0,
            "end": frames * HOP_LENGTH / SAMPLE_RATE,
            "tokens": list(result.tokens),
            "text": text,
        }
        if opts.word_timestamps:
            add_word_timestamps(
                segments=[seg],
                model=model,
                tokenizer=tokenizer,
                mel=mel_window,
                num_frames=frames,
                last_speech_timestamp=0.0,
            )
        return _Window(
            text=text,
            tokens=len(text_tokens),
            start=float(seg["start"]),
            end=float(seg["end"]),
            words=[
                (w["start"], w["end"], str(w["word"]), w["probability"])
                for w in seg.get("words", [])
            ],
            avg_logprob=float(result.avg_logprob),
            no_speech_prob=float(result.no_speech_prob),
            compression_ratio=float(result.compression_ratio),
        )

    def _decode_library(self, audio: Audio, prompt: str | None, offset_s: float) -> list[Segment]:
        import whisper

        opts = self.options
        decode: dict[str, Any] = {"sample_len": opts.max_new_tokens}
        if opts.beam_size > 1:
            decode["beam_size"] = opts.beam_size
        result = whisper.transcribe(
            self._model,
            audio,
            verbose=None,
            language="en",
            temperature=opts.temperatures,
            compression_ratio_threshold=opts.compression_ratio_threshold,
            logprob_threshold=opts.logprob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=opts.word_timestamps,
            fp16=False,
            **decode,
        )
        kept: list[Segment] = []
        for seg in result["segments"]:
            text = str(seg["text"]).strip()
            if _keep_segment(
                text, seg["no_speech_prob"], seg["avg_logprob"], seg["compression_ratio"], opts
            ):
                words = [
                    (w["start"], w["end"], str(w["word"]), w["probability"])
                    for w in seg.get("words", [])
                ]
                kept.append(
                    _segment(
                        text,
                        seg["start"],
                        seg["end"],
                        words,
                        seg["avg_logprob"],
                        seg["no_speech_prob"],
                        offset_s,
                    )
                )
        return kept


class FasterWhisperEngine(_BaseEngine):
    """faster-whisper (CTranslate2, CPU; int8 by default)."""

    name = "faster-whisper"

    def _load(self) -> Any:
        from coach.audio import models
        from coach.paths import cache_dir

        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelError(
                f"faster-whisper is not installed ({exc})", "run `make install`"
            ) from None
        opts = self.options
        kwargs: dict[str, Any] = {
            "device": "cpu",
            "compute_type": opts.compute_type,
            "cpu_threads": _threads(opts),
        }
        spec = self.spec
        if spec.kind == "embedded":
            return WhisperModel(str(models.verify_embedded_model()), **kwargs)
        if spec.kind == "path":
            path = spec.path
            if not (path.is_dir() and (path / "model.bin").is_file()):
                raise ModelError(
                    f"{path} is not a CTranslate2 model folder (no model.bin)",
                    "faster-whisper needs a converted CTranslate2 folder; use --engine whisper "
                    "for .pt checkpoints",
                )
            try:
                return WhisperModel(str(path), **kwargs)
            except Exception as exc:
                raise ModelError(
                    f"cannot load {path}: {str(exc).splitlines()[0][:160]}", models.EMBEDDED_FIX
                ) from None
        local_only = models.faster_whisper_local_only()
        try:
            return WhisperModel(
                spec.value,
                download_root=str(cache_dir() / "faster-whisper"),
                local_files_only=local_only,
                **kwargs,
            )
        except ValueError as exc:  # an unknown size name
            raise ModelError(
                f"unknown faster-whisper model {spec.value!r}: {exc}", models.EMBEDDED_FIX
            ) from None
        except Exception as exc:
            if local_only:
                raise models.offline_error(spec.value, self.name) from None
            raise ModelError(
                f"cannot load faster-whisper model {spec.value!r}: {str(exc).splitlines()[0][:160]}",
                models.EMBEDDED_FIX,
            ) from None

    def _decode_window(
        self, audio: Audio, prompt: str | None, temperature: float
    ) -> _Window | None:
        opts = self.options
        raw_segments, _info = self._model.transcribe(
            audio,
            language="en",
            task="transcribe",
            beam_size=opts.beam_size,
            best_of=1,
            temperature=[temperature],  # the fallback loop is ours, shared with whisper
            compression_ratio_threshold=None,
            log_prob_threshold=None,
            no_speech_threshold=None,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=opts.word_timestamps,
            max_new_tokens=opts.max_new_tokens,
            vad_filter=False,
            without_timestamps=True,
        )
        # Text tokens only: the first window is one segment. Stop there, before the
        # generator re-decodes the tail after the last word (see the module docstring).
        seg = next(iter(raw_segments), None)
        if seg is None or not seg.text.strip():
            return None
        return _Window(
            text=seg.text.strip(),
            tokens=len(seg.tokens),
            start=float(seg.start),
            end=float(seg.end),
            words=[(w.start, w.end, w.word, w.probability) for w in (seg.words or [])],
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
            compression_ratio=float(seg.compression_ratio),
        )

    def _decode_library(self, audio: Audio, prompt: str | None, offset_s: float) -> list[Segment]:
        opts = self.options
        raw_segments, _info = self._model.transcribe(
            audio,
            language="en",
            beam_size=opts.beam_size,
            best_of=1,
            temperature=list(opts.temperatures),
            compression_ratio_threshold=opts.compression_ratio_threshold,
            log_prob_threshold=opts.logprob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=opts.word_timestamps,
            max_new_tokens=opts.max_new_tokens,
            vad_filter=False,
        )
        kept: list[Segment] = []
        for seg in raw_segments:  # a generator: decoding happens while iterating
            text = seg.text.strip()
            if _keep_segment(
                text, seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio, opts
            ):
                words = [(w.start, w.end, w.word, w.probability) for w in (seg.words or [])]
                kept.append(
                    _segment(
                        text,
                        seg.start,
                        seg.end,
                        words,
                        seg.avg_logprob,
                        seg.no_speech_prob,
                        offset_s,
                    )
                )
        return kept


_CLASSES: dict[str, type[_BaseEngine]] = {
    "whisper": WhisperEngine,
    "faster-whisper": FasterWhisperEngine,
}


def create_engine(name: str = DEFAULT_ENGINE, model: str | None = None, **options: Any) -> Engine:
    """Build (not load) an engine: ``create_engine("whisper", "base.en", beam_size=5)``.

    ``options`` are :class:`DecodeOptions` fields. Call ``load()`` in a worker thread; the
    first ``transcribe()`` loads it otherwise.
    """
    key = name.strip().lower().replace("_", "-")
    if key in {"openai-whisper"}:
        key = "whisper"
    if key not in _CLASSES:
        raise ModelError(f"unknown engine {name!r}", f"use one of {', '.join(ENGINES)}")
    fields = set(DecodeOptions.__dataclass_fields__)
    unknown = set(options) - fields
    if unknown:
        raise TypeError(f"unknown engine options: {', '.join(sorted(unknown))}")
    decode = replace(DecodeOptions(), **options)
    engine = _CLASSES[key](model, decode)
    assert isinstance(engine, Engine)
    return engine


def transcribe_file(
    path: str | Path,
    *,
    engine: str = DEFAULT_ENGINE,
    model: str | None = None,
    channel: int | None = None,
    **options: Any,
) -> Transcript:
    """Read an audio file and transcribe it (the ``coach transcribe`` path)."""
    from coach.audio.io import load_audio

    audio = load_audio(path, channel=channel)
    return create_engine(engine, model, **options).transcribe(audio)
