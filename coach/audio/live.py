"""Live transcription: transcribe an answer while it is being spoken.

:class:`LiveTranscriber` is fed 16 kHz mono float32 blocks (from the recorder's consumer hook,
or from a file through :func:`feed_audio`). A :class:`~coach.audio.vad.PauseSegmenter` cuts the
audio at pauses into chunks of at most ~30 s; a background worker thread transcribes each chunk
as soon as it closes, passing ``offset_s`` (so word timestamps stay on the answer's timeline) and
the text said so far as ``context``. When the user stops, only the tail is left to transcribe.

Chunk borders never lose or double words: cuts fall inside silence; when a speaker talks for
30 s without a pause, the cut is made inside speech with an overlap, and words are kept from one
side of the overlap's middle only (by word timestamps), with an exact-repeat check on top.

If the machine cannot keep up, the backlog stays bounded: closed chunks waiting for the worker
are merged into larger ones (one call per ~30 s instead of many small ones), at most
``max_pending`` of them ever wait, and a typed :class:`FallingBehind` notice tells the user
that the rest will be finished after they stop.

Progress is reported as typed events (:data:`LiveUpdate`): through a callback, called on the
worker thread, and through the :meth:`LiveTranscriber.updates` generator. :meth:`LiveTranscriber.stop`
returns a :class:`~coach.audio.transcript.Transcript` of the same shape as a batch one.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from coach.audio.engine import SAMPLE_RATE, Audio, Engine
from coach.audio.transcript import Segment, Timings, Transcript, Word
from coach.audio.vad import PauseSegmenter, SegmenterConfig, SileroVad, SpeechChunk

# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChunkClosed:
    """A chunk of the answer closed at a pause and waits for the worker."""

    index: int
    start_s: float
    end_s: float
    forced: bool  # cut inside speech (no pause within max_chunk_s)
    pending: int  # jobs waiting for the worker after this one was queued
    merged: bool  # joined to a chunk that was already waiting


@dataclass(frozen=True, slots=True)
class TextUpdate:
    """New words are in: ``text`` is everything transcribed so far."""

    start_s: float  # the transcribed stretch of audio
    end_s: float
    new_text: str
    text: str
    words: tuple[Word, ...]  # all words so far, on the answer's timeline
    lag_s: float  # how far the text trails the audio received
    transcribe_s: float  # time the engine took for this stretch


@dataclass(frozen=True, slots=True)
class FallingBehind:
    """Transcription cannot keep up with the speaker; the rest is finished after stop."""

    backlog_s: float  # seconds of speech closed but not yet transcribed
    pending: int
    message: str


@dataclass(frozen=True, slots=True)
class CaughtUp:
    """The backlog is gone again after a :class:`FallingBehind` notice."""

    message: str = "live transcription has caught up"


@dataclass(frozen=True, slots=True)
class LiveError:
    """A chunk failed to transcribe; it is retried once at stop."""

    message: str


@dataclass(frozen=True, slots=True)
class Finished:
    """Stop was called and everything is transcribed."""

    transcript: Transcript
    stats: LiveStats


LiveUpdate = ChunkClosed | TextUpdate | FallingBehind | CaughtUp | LiveError | Finished


@dataclass(frozen=True, slots=True)
class LiveConfig:
    """Tuning of live transcription (see :class:`~coach.audio.vad.SegmenterConfig` for cuts)."""

    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    max_pending: int = 2  # jobs that may wait for the worker; more are merged into the last
    behind_after_s: float = 20.0  # backlog of untranscribed speech that triggers a notice
    context_chars: int = 200  # previous text given to the engine as context


@dataclass(frozen=True, slots=True)
class LiveStats:
    """How the live run went (for the CLI, the app and the latency benchmark)."""

    chunks: int = 0  # chunks the segmenter closed
    jobs: int = 0  # engine calls made
    merged: int = 0  # chunks merged into a waiting one
    forced_cuts: int = 0
    max_pending: int = 0  # most jobs ever waiting at once
    max_backlog_s: float = 0.0
    fell_behind: bool = False
    audio_s: float = 0.0
    tail_s: float = 0.0  # seconds of audio still untranscribed when stop was called
    stop_to_transcript_s: float = 0.0

    def to_dict(self) -> dict[str, float | int | bool]:
        return {
            "chunks": self.chunks,
            "jobs": self.jobs,
            "merged": self.merged,
            "forced_cuts": self.forced_cuts,
            "max_pending": self.max_pending,
            "max_backlog_s": round(self.max_backlog_s, 3),
            "fell_behind": self.fell_behind,
            "audio_s": round(self.audio_s, 3),
            "tail_s": round(self.tail_s, 3),
            "stop_to_transcript_s": round(self.stop_to_transcript_s, 3),
        }


# ---------------------------------------------------------------------------------------------
# Word bookkeeping
# ---------------------------------------------------------------------------------------------

_NORM = re.compile(r"[^\w']+")
HALLUCINATION_NO_SPEECH = 0.5
HALLUCINATION_LOGPROB = -0.7


def _norm(word: str) -> str:
    return _NORM.sub("", word.lower())


def _segment_from_words(seg: Segment, words: tuple[Word, ...]) -> Segment:
    text = " ".join(w.text.strip() for w in words)
    return replace(seg, start=words[0].start, end=words[-1].end, text=text, words=words)


def merge_overlap(
    left: list[Segment], right: list[Segment], boundary_s: float
) -> tuple[list[Segment], list[Segment]]:
    """Resolve the overlap of two chunks that share audio around ``boundary_s``.

    Words whose middle lies before the boundary are kept from ``left``, the others from
    ``right``; a word repeated exactly across the border (same text, overlapping in time) is
    kept once.
    """

    def keep(segs: list[Segment], before: bool) -> list[Segment]:
        out: list[Segment] = []
        for seg in segs:
            if not seg.words:
                mid = (seg.start + seg.end) / 2
                if (mid < boundary_s) == before:
                    out.append(seg)
                continue
            words = tuple(w for w in seg.words if ((w.start + w.end) / 2 < boundary_s) == before)
            if words == seg.words:
                out.append(seg)
            elif words:
                out.append(_segment_from_words(seg, words))
        return out

    kept_left, kept_right = keep(left, True), keep(right, False)
    left_words = [w for s in kept_left for w in s.words]
    if left_words and kept_right and kept_right[0].words:
        last, first = left_words[-1], kept_right[0].words[0]
        if _norm(last.text) == _norm(first.text) and first.start < last.end + 0.3:
            rest = kept_right[0].words[1:]
            kept_right = (
                [_segment_from_words(kept_right[0], rest), *kept_right[1:]]
                if rest
                else kept_right[1:]
            )
    return kept_left, kept_right


def drop_trailing_hallucination(segments: list[Segment]) -> list[Segment]:
    """Drop a chunk's last segment when the model itself doubts it is speech.

    Every live chunk ends in a pause, and Whisper likes to fill trailing silence with a stock
    phrase ("Thank you."). The decoder flags such text with a high no-speech probability and a
    low average log-probability; the engines' own gate is tuned for whole answers and lets
    borderline cases through, so live transcription is stricter on the last segment only.
    """
    if not segments:
        return segments
    last = segments[-1]
    if last.no_speech_prob >= HALLUCINATION_NO_SPEECH and last.avg_logprob < HALLUCINATION_LOGPROB:
        return segments[:-1]
    return segments


def _text_of(segments: list[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments if s.text.strip())


# ---------------------------------------------------------------------------------------------
# The transcriber
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Job:
    start: int  # samples
    end: int
    overlap_before: int  # samples shared with the previous job (forced cut), 0 otherwise
    chunks: int = 1


class _AudioBuffer:
    """A growable float32 buffer (amortised O(1) appends, copies out slices)."""

    def __init__(self) -> None:
        self._data = np.zeros(SAMPLE_RATE * 60, dtype=np.float32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, block: Audio) -> None:
        need = self._n + len(block)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=np.float32)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : need] = block
        self._n = need

    def slice(self, start: int, end: int) -> Audio:
        return self._data[start:end].copy()

    def all(self) -> Audio:
        return self._data[: self._n].copy()


class LiveTranscriber:
    """Transcribes an answer chunk by chunk while it is spoken.

    Typical use::

        live = LiveTranscriber(engine, on_update=print)
        live.start()                 # loads the engine in the worker thread
        for block in blocks:         # e.g. from Recorder's consumer hook
            live.feed(block)
        transcript = live.stop()     # only the tail is left to do

    ``feed`` is cheap (a VAD pass over the new samples) and safe to call from the recorder's
    thread; the engine is only ever used by the worker thread.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        config: LiveConfig | None = None,
        on_update: Callable[[LiveUpdate], None] | None = None,
        vad: SileroVad | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or LiveConfig()
        self._on_update = on_update
        self._segmenter = PauseSegmenter(self.config.segmenter, vad)
        self._audio = _AudioBuffer()
        self._lock = threading.Condition()
        self._pending: list[_Job] = []
        self._busy = False
        self._stopping = False
        self._done = False
        self._failed: list[_Job] = []
        self._error: BaseException | None = None
        self._segments: list[Segment] = []
        self._queued_end = 0  # end sample of the last chunk queued
        self._events: queue.Queue[LiveUpdate] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._load_s = 0.0
        self._transcribe_s = 0.0
        self._behind = False
        self._chunks = 0
        self._jobs = 0
        self._merged = 0
        self._forced = 0
        self._max_pending = 0
        self._max_backlog_s = 0.0
        self._stats = LiveStats()
        self._transcript: Transcript | None = None

    # -- public API ------------------------------------------------------------------------

    @property
    def audio_s(self) -> float:
        """Seconds of audio received."""
        return len(self._audio) / SAMPLE_RATE

    @property
    def segmenter(self) -> PauseSegmenter:
        """The VAD state (``heard_speech``, ``trailing_silence_s``) for silence-based stops."""
        return self._segmenter

    @property
    def text(self) -> str:
        """Everything transcribed so far."""
        with self._lock:
            return _text_of(self._segments)

    @property
    def stats(self) -> LiveStats:
        return self._stats

    def start(self) -> None:
        """Start the worker thread (it loads the engine first)."""
        if self._worker is not None:
            return
        self._worker = threading.Thread(target=self._run, name="live-transcriber", daemon=True)
        self._worker.start()

    def feed(self, block: Audio) -> None:
        """Add a block of 16 kHz mono float32 samples."""
        if self._stopping:
            raise RuntimeError("feed() after stop()")
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        if block.size == 0:
            return
        with self._lock:
            self._audio.append(block)
            eager = not self._busy and not self._pending
        for chunk in self._segmenter.push(block, eager=eager):
            self._enqueue(chunk)

    def stop(self, timeout: float | None = None) -> Transcript:
        """Close the tail, wait for the worker, and return the whole transcript.

        Raises the engine's error (e.g. :class:`~coach.errors.ModelError`) if loading failed or
        a chunk failed twice.
        """
        t0 = time.perf_counter()
        with self._lock:
            self._stopping = True
            tail_samples = sum(j.end - j.start for j in self._pending)
        tail = self._segmenter.finish()
        if tail is not None:
            tail_samples += tail.end - tail.start
            self._enqueue(tail)
        with self._lock:
            self._done = True
            self._lock.notify_all()
        self.start()  # a transcriber that was never started still finishes
        assert self._worker is not None
        self._worker.join(timeout)
        if self._worker.is_alive():
            raise TimeoutError("live transcription did not finish in time")
        if self._error is not None:
            raise self._error
        elapsed = time.perf_counter() - t0
        with self._lock:
            segments = list(self._segments)
        transcript = Transcript(
            text=_text_of(segments),
            segments=tuple(segments),
            duration_s=self.audio_s,
            engine=self.engine.name,
            model=self.engine.model_name,
            timings=Timings(load_s=self._load_s, transcribe_s=self._transcribe_s),
        )
        self._stats = LiveStats(
            chunks=self._chunks,
            jobs=self._jobs,
            merged=self._merged,
            forced_cuts=self._forced,
            max_pending=self._max_pending,
            max_backlog_s=self._max_backlog_s,
            fell_behind=self._behind or self._stats.fell_behind,
            audio_s=self.audio_s,
            tail_s=tail_samples / SAMPLE_RATE,
            stop_to_transcript_s=elapsed,
        )
        self._transcript = transcript
        self._emit(Finished(transcript, self._stats))
        return transcript

    def updates(self, timeout: float | None = None) -> Iterator[LiveUpdate]:
        """Yield events as they happen, ending after :class:`Finished` (or ``timeout`` idle)."""
        while True:
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                return
            yield event
            if isinstance(event, Finished):
                return

    def drain(self) -> list[LiveUpdate]:
        """Events waiting right now, without blocking."""
        out: list[LiveUpdate] = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    # -- internals -------------------------------------------------------------------------

    def _emit(self, event: LiveUpdate) -> None:
        self._events.put(event)
        if self._on_update is not None:
            # A display callback must never kill transcription.
            with contextlib.suppress(Exception):
                self._on_update(event)

    def _backlog_samples(self) -> int:
        return sum(j.end - j.start for j in self._pending)

    def _enqueue(self, chunk: SpeechChunk) -> None:
        """Queue a closed chunk, merging it into a waiting one to bound the backlog."""
        if not chunk.speech or chunk.end <= chunk.start:
            return
        max_len = int(self.config.segmenter.max_chunk_s * SAMPLE_RATE)
        notice: FallingBehind | None = None
        with self._lock:
            self._chunks += 1
            if chunk.forced:
                self._forced += 1
            merged = False
            last = self._pending[-1] if self._pending else None
            if last is not None and chunk.start <= last.end:
                fits = chunk.end - last.start <= max_len
                if fits or len(self._pending) >= self.config.max_pending:
                    # Contiguous (or overlapping) audio: one longer job is cheaper than two,
                    # since Whisper pads every call to 30 s anyway.
                    last.end = max(last.end, chunk.end)
                    last.chunks += 1
                    merged = True
                    self._merged += 1
            if not merged:
                overlap = max(0, self._queued_end - chunk.start)
                self._pending.append(_Job(chunk.start, chunk.end, overlap))
            self._queued_end = max(self._queued_end, chunk.end)
            pending = len(self._pending)
            self._max_pending = max(self._max_pending, pending)
            backlog_s = self._backlog_samples() / SAMPLE_RATE
            self._max_backlog_s = max(self._max_backlog_s, backlog_s)
            if (
                not self._behind
                and not self._stopping
                and (backlog_s > self.config.behind_after_s or (merged and not fits))
            ):
                self._behind = True
                notice = FallingBehind(
                    backlog_s,
                    pending,
                    f"transcription is {backlog_s:.0f} s behind on this machine; "
                    "it will finish the rest after you stop (a smaller model is faster)",
                )
            self._lock.notify_all()
        self._emit(
            ChunkClosed(
                chunk.index, chunk.start_s, chunk.end_s, chunk.forced, pending, merged=merged
            )
        )
        if notice is not None:
            self._emit(notice)

    def _next_job(self) -> _Job | None:
        with self._lock:
            while not self._pending and not self._done:
                self._lock.wait()
            if not self._pending:
                return None
            self._busy = True
            return self._pending.pop(0)

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            self.engine.load()
        except BaseException as exc:
            self._error = exc
            self._emit(LiveError(f"could not load the speech model: {exc}"))
            return
        self._load_s = time.perf_counter() - t0
        while True:
            job = self._next_job()
            if job is None:
                break
            self._do_job(job, retry=False)
        for job in self._failed:
            if self._error is not None:
                break
            self._do_job(job, retry=True)

    def _do_job(self, job: _Job, *, retry: bool) -> None:
        with self._lock:
            audio = self._audio.slice(job.start, job.end)
            context = _text_of(self._segments)[-self.config.context_chars :]
        t0 = time.perf_counter()
        try:
            result = self.engine.transcribe(
                audio, offset_s=job.start / SAMPLE_RATE, context=context
            )
        except Exception as exc:
            with self._lock:
                self._busy = False
            if retry:
                self._error = exc
            else:
                self._failed.append(job)
                self._emit(LiveError(f"a chunk failed to transcribe ({exc}); retrying at stop"))
            return
        took = time.perf_counter() - t0
        notice: CaughtUp | None = None
        with self._lock:
            self._transcribe_s += took
            self._jobs += 1
            new = drop_trailing_hallucination(list(result.segments))
            if job.overlap_before and self._segments:
                boundary = (job.start + job.overlap_before / 2) / SAMPLE_RATE
                self._segments, new = merge_overlap(self._segments, new, boundary)
            if retry:
                # A retried job lands out of order: keep the timeline sorted.
                self._segments = sorted([*self._segments, *new], key=lambda s: s.start)
            else:
                self._segments.extend(new)
            self._busy = False
            text = _text_of(self._segments)
            words = tuple(w for s in self._segments for w in s.words)
            lag = (len(self._audio) - job.end) / SAMPLE_RATE
            if self._behind and not self._pending and not self._stopping:
                self._behind = False
                self._stats = replace(self._stats, fell_behind=True)
                notice = CaughtUp()
        self._emit(
            TextUpdate(
                start_s=job.start / SAMPLE_RATE,
                end_s=job.end / SAMPLE_RATE,
                new_text=_text_of(new),
                text=text,
                words=words,
                lag_s=max(0.0, lag),
                transcribe_s=took,
            )
        )
        if notice is not None:
            self._emit(notice)


def feed_audio(
    live: LiveTranscriber,
    audio: Audio,
    *,
    speed: float | None = 1.0,
    block_s: float = 0.1,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """Feed ``audio`` to ``live`` in blocks, at ``speed`` × real time (``None``: at once).

    Returns the seconds of audio fed (less than the whole if ``should_stop`` said so). This is
    how a file goes through the same pipeline as the microphone.
    """
    block = max(1, int(block_s * SAMPLE_RATE))
    t0 = time.perf_counter()
    fed = 0
    for i in range(0, len(audio), block):
        if should_stop is not None and should_stop():
            break
        piece = audio[i : i + block]
        if speed:
            # A block exists only once it has been spoken: wait for its end.
            due = t0 + (i + len(piece)) / SAMPLE_RATE / speed
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        live.feed(piece)
        fed += len(piece)
    return fed / SAMPLE_RATE
