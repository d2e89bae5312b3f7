"""Live transcription: transcribe an answer while it is being spoken.

:class:`LiveTranscriber` is fed 16 kHz mono float32 blocks (from the recorder's consumer hook,
or from a file through :func:`feed_audio`). A :class:`~coach.audio.vad.PauseSegmenter` cuts the
audio at pauses into small chunks (a few seconds each), and a background worker thread turns
them into text while the user is still talking. When the user stops, only the last few seconds
are left to do.

How chunks become text (measured on tiny.en, see ``benchmarks/latency.py``):

* Whisper is much less accurate on 3-7 s pieces than on the ~25 s stretches batch
  transcription decodes (on a 71 s answer: 15.7 % WER against 7.8 %), and a Whisper call costs
  about the same for 5 s as for 20 s (the encoder always runs on a 30 s window). So chunks are
  grouped into **windows** of ``window_s``..``max_window_s`` seconds that end at a pause, the
  way batch transcription groups speech, and each window's final text comes from *one*
  decode of the whole window.
* While a window is still open, every time a chunk closes and the worker is idle, the new
  chunk is decoded on its own (with the window's text so far as context) and appended: the
  text appears live. While the speaker goes on, the worker then decodes the whole window
  again in one call (a **provisional** decode that replaces the pieces). When the window
  closes, the last provisional decode is reused if it covers the whole window in one call.
* At stop, the open window is finished from what is already decoded: the whole-window decode
  plus the pieces after it, and only the audio not decoded yet (usually nothing, or the last
  clause) is decoded (``final_tail_only``). Because chunks close eagerly at short pauses while
  the worker is idle, and the worker does not start a whole-window decode while the speaker is
  silent, the decode of the last clause has usually started, and is short, before the user
  even reaches for the stop key. After ``upgrade_after_silence_s`` of silence the idle worker
  does decode the open window whole (the answer may be over); if the user stops during that
  decode, stop does not wait for it: the text it would improve is already complete.

Chunk borders never lose or double words: windows are cut inside pauses; when a speaker talks
for ``max_chunk_s`` without a pause, the cut is made inside speech with an overlap, and words
are kept from one side of the overlap's middle only (by word timestamps), with an exact-repeat
check on top (:func:`merge_overlap`). Word timestamps stay on the answer's global timeline
(``offset_s`` is passed to the engine), so pace and pause figures are those of the answer.

If the machine cannot keep up, the backlog stays bounded: provisional decodes stop (closed
windows come first), at most ``max_pending`` windows wait and further ones are merged into the
last (one longer call, which the engine splits at pauses itself, instead of many), and a typed
:class:`FallingBehind` notice tells the user that the rest will be finished after they stop.

Progress is reported as typed events (:data:`LiveUpdate`): through a callback, called on the
worker thread, and through :meth:`LiveTranscriber.updates` / :meth:`LiveTranscriber.drain`.
:meth:`LiveTranscriber.stop` returns a :class:`~coach.audio.transcript.Transcript` of the same
shape as a batch one.
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

from coach.audio.protocol import SAMPLE_RATE, Audio, Engine
from coach.audio.transcript import Segment, Timings, Transcript, Word
from coach.audio.vad import PauseSegmenter, SegmenterConfig, SileroVad, SpeechChunk

# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChunkClosed:
    """A chunk of the answer closed at a pause (or inside speech, ``forced``)."""

    index: int
    start_s: float
    end_s: float
    forced: bool  # cut inside speech (no pause within max_chunk_s)
    pending: int  # closed windows waiting for the worker
    merged: bool  # its window was merged into one already waiting (the worker is behind)


@dataclass(frozen=True, slots=True)
class TextUpdate:
    """New or revised words are in: ``text`` is everything transcribed so far."""

    start_s: float  # the window this text belongs to (provisional: as far as decoded)
    end_s: float
    new_text: str  # the text of the audio decoded by this call
    decoded_s: float  # seconds of audio decoded by this call (0: a provisional decode reused)
    text: str
    words: tuple[Word, ...]  # all words so far, on the answer's timeline
    lag_s: float  # how far the text trails the audio received
    transcribe_s: float  # time the engine took for this stretch
    provisional: bool  # the open window's text, which may still be revised
    committed: str  # the part of ``text`` that is final (will not change any more)


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
    """The engine failed: to load (fatal, raised by ``stop``) or on one window (retried)."""

    message: str
    fatal: bool = False


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
    #: A window closes at the first chunk border at least this long after its start.
    window_s: float = 16.0
    #: ... and never grows past this (Whisper decodes 30 s at a time).
    max_window_s: float = 28.0
    #: A pause longer than this closes the window (long silences invite invented text).
    max_gap_s: float = 2.0
    max_pending: int = 2  # closed windows that may wait; more are merged into the last
    behind_after_s: float = 30.0  # untranscribed speech that triggers a FallingBehind notice
    context_chars: int = 200  # previous text given to the engine as context
    #: At stop, decode only the audio the last provisional decode did not cover (fast);
    #: False: decode the whole open window again (what batch would do; slower).
    final_tail_only: bool = True
    #: Decode the open window while it grows (live text). False: windows only (less CPU).
    provisional: bool = True
    #: Decode each new chunk on its own first, and the whole window again only while the
    #: speaker goes on (False: always the whole window; slower to finish at stop).
    incremental: bool = True
    #: After this much silence the answer may be over: an idle worker decodes the open window
    #: whole while the user reaches for the stop key (stop never waits for that decode).
    upgrade_after_silence_s: float = 0.8


@dataclass(frozen=True, slots=True)
class LiveStats:
    """How the live run went (for the CLI, the app and the latency benchmark)."""

    chunks: int = 0  # chunks the segmenter closed
    windows: int = 0  # windows committed (final text)
    jobs: int = 0  # engine calls made
    provisional: int = 0  # engine calls on a still-open window
    reused: int = 0  # windows whose provisional decode was already final
    merged: int = 0  # windows merged into a waiting one
    forced_cuts: int = 0
    max_pending: int = 0  # most windows ever waiting at once
    max_backlog_s: float = 0.0
    fell_behind: bool = False
    audio_s: float = 0.0
    tail_s: float = 0.0  # seconds of audio still untranscribed when stop was called
    stop_to_transcript_s: float = 0.0

    def to_dict(self) -> dict[str, float | int | bool]:
        return {
            "chunks": self.chunks,
            "windows": self.windows,
            "jobs": self.jobs,
            "provisional": self.provisional,
            "reused": self.reused,
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


def _norm(word: str) -> str:
    return _NORM.sub("", word.lower())


def _segment_from_words(seg: Segment, words: tuple[Word, ...]) -> Segment:
    text = " ".join(w.text.strip() for w in words)
    return replace(seg, start=words[0].start, end=words[-1].end, text=text, words=words)


def merge_overlap(
    left: list[Segment],
    right: list[Segment],
    boundary_s: float,
    overlap: tuple[float, float] | None = None,
) -> tuple[list[Segment], list[Segment]]:
    """Resolve the overlap of two decodes that share audio around ``boundary_s``.

    Words whose middle lies before the boundary are kept from ``left``, the others from
    ``right``; a word repeated exactly across the border (same text, overlapping in time) is
    kept once. Segments without word timings are kept or dropped whole by their middle.

    With ``overlap`` (the shared stretch, in seconds), the border moves to a word both decodes
    agree on (same text, same place), the one nearest the middle: each decode is least
    reliable near its own edge, where a word may be cut in half, and an agreed word is where
    they meet without guessing.
    """
    if overlap is not None:
        agreed = _agreed_border(left, right, overlap, boundary_s)
        if agreed is not None:
            boundary_s = agreed

    def keep(segs: list[Segment], before: bool) -> list[Segment]:
        out: list[Segment] = []
        for seg in segs:
            if not seg.words:
                mid = (seg.start + seg.end) / 2
                if (mid < boundary_s) == before:
                    out.append(seg)
                continue
            words = tuple(w for w in seg.words if (_mid(w) < boundary_s) == before)
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


def _mid(word: Word) -> float:
    return (word.start + word.end) / 2


#: Two decodes agree on a word when its text matches and it starts within this of each other.
AGREE_S = 0.3


def _agreed_border(
    left: list[Segment], right: list[Segment], overlap: tuple[float, float], middle: float
) -> float | None:
    """Just before a word both sides decoded alike inside ``overlap``, nearest ``middle``."""
    lo, hi = overlap
    left_words = [w for s in left for w in s.words if lo <= _mid(w) <= hi]
    right_words = [w for s in right for w in s.words if lo <= _mid(w) <= hi]
    best: tuple[float, float] | None = None  # (distance to the middle, border)
    for lw in left_words:
        for rw in right_words:
            same = bool(_norm(lw.text)) and _norm(lw.text) == _norm(rw.text)
            if same and abs(lw.start - rw.start) <= AGREE_S:
                # Both copies of the agreed word fall after the border: the right one is
                # kept, and the left decode's words before it.
                border = min(_mid(lw), _mid(rw)) - 1e-3
                candidate = (abs(border - middle), border)
                if best is None or candidate < best:
                    best = candidate
    return None if best is None else best[1]


def _joined(left: list[Segment], right: list[Segment], start: int, overlap: int) -> list[Segment]:
    """``left`` followed by the decode of a window starting at sample ``start``.

    A window after a forced cut shares ``overlap`` samples with the previous one: the words
    of the shared audio are kept from one side of its middle only.
    """
    if overlap and left and right:
        shared = (start / SAMPLE_RATE, (start + overlap) / SAMPLE_RATE)
        middle = (start + overlap / 2) / SAMPLE_RATE
        left, right = merge_overlap(left, right, middle, shared)
    return [*left, *right]


def _text_of(segments: list[Segment]) -> str:
    return " ".join(s.text.strip() for s in segments if s.text.strip())


# ---------------------------------------------------------------------------------------------
# The transcriber
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Window:
    """Consecutive chunks decoded together; samples on the answer's timeline."""

    start: int
    end: int
    overlap_before: int  # samples shared with the previous window (forced cut), 0 otherwise
    chunks: int = 1


@dataclass(slots=True)
class _Decode:
    """A provisional decode of an open window: ``segments`` cover ``start``..``end``."""

    start: int
    end: int
    segments: list[Segment]
    whole: bool  # one call from the window's start (else earlier text plus a decoded tail)


@dataclass(slots=True)
class _Job:
    window: _Window
    commit: bool  # False: a provisional decode of the open window
    start: int  # the audio to decode (a tail when part of the window is already decoded)
    end: int
    keep: list[Segment] = field(default_factory=list)  # provisional text the tail extends
    reused: bool = False  # nothing to decode: the provisional decode is final


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
    """Transcribes an answer window by window while it is spoken.

    Typical use::

        live = LiveTranscriber(engine, on_update=print)
        live.start()                 # loads the engine in the worker thread
        for block in blocks:         # e.g. from Recorder's consumer hook
            live.feed(block)
        transcript = live.stop()     # only the tail is left to do

    ``feed`` is cheap (a VAD pass over the new samples) and must be called from one thread at
    a time (e.g. the recorder's writer thread); the engine is only ever used by the worker.
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
        self._open: _Window | None = None
        self._pending: list[_Window] = []
        self._prov: _Decode | None = None
        # Window ends of the last provisional attempts (success or not), so none is repeated.
        self._tried_tail = -1
        self._tried_whole = -1
        self._was_speaking = False
        self._was_quiet = False
        self._job: _Job | None = None  # the job the worker is on
        self._worker_done = False
        self._abandoned = False  # stop() finished without the worker's last (optional) decode
        self._busy = False
        self._stopping = False
        self._done = False
        self._failed: list[_Window] = []
        self._error: BaseException | None = None
        self._final: list[Segment] = []
        self._last_window_end = 0
        self._events: queue.Queue[LiveUpdate] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._load_s = 0.0
        self._transcribe_s = 0.0
        self._behind = False
        self._ever_behind = False
        self._counts = {k: 0 for k in ("chunks", "windows", "jobs", "prov", "reused", "merged")}
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
        """Everything transcribed so far (the open window's text may still change)."""
        with self._lock:
            return _text_of(self._display_segments())

    @property
    def error(self) -> BaseException | None:
        """The fatal error (the engine failed to load), as soon as it happened."""
        return self._error

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
            # An idle worker can take small chunks: close them at shorter pauses, so that
            # little is left when the user stops.
            eager = not self._busy and not self._pending
        for chunk in self._segmenter.push(block, eager=eager):
            self._add_chunk(chunk)
        seg = self._segmenter
        speaking = seg.speaking
        quiet = seg.heard_speech and seg.trailing_silence_s >= self.config.upgrade_after_silence_s
        if speaking != self._was_speaking or quiet != self._was_quiet:
            # The worker re-decodes the open window while the speaker goes on, or once they
            # have been silent for a while: wake it.
            self._was_speaking, self._was_quiet = speaking, quiet
            with self._lock:
                self._lock.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker has nothing to do (False on timeout or a fatal error).

        Used to feed a file "as fast as the worker keeps up": the same windows and the same
        eager cuts as a live recording on an idle machine, without waiting in real time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._error is None and (
                self._busy or self._pending or self._has_provisional_work()
            ):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left)
            return self._error is None

    def stop(self, timeout: float | None = None) -> Transcript:
        """Close the tail, wait for the worker, and return the whole transcript.

        Raises the engine's error (e.g. :class:`~coach.errors.ModelError`) if loading failed or
        a window failed twice, and :class:`TimeoutError` if ``timeout`` passed first.
        """
        t0 = time.perf_counter()
        with self._lock:
            self._stopping = True
        tail = self._segmenter.finish()
        if tail is not None:
            self._add_chunk(tail)
        with self._lock:
            self._done = True
            tail_samples = self._untranscribed()
            self._lock.notify_all()
        self.start()  # a transcriber that was never started still finishes
        assert self._worker is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        finished_here: TextUpdate | None = None
        with self._lock:
            while not self._worker_done:
                if self._can_finish_without_worker():
                    finished_here = self._finish_from_provisional()
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("live transcription did not finish in time")
                self._lock.wait(left)
        if finished_here is not None:
            self._emit(finished_here)
        if self._error is not None:
            raise self._error
        elapsed = time.perf_counter() - t0
        with self._lock:
            segments = sorted(self._final, key=lambda s: s.start)
        transcript = Transcript(
            text=_text_of(segments),
            segments=tuple(segments),
            duration_s=self.audio_s,
            engine=self.engine.name,
            model=self.engine.model_name,
            timings=Timings(load_s=self._load_s, transcribe_s=self._transcribe_s),
        )
        c = self._counts
        self._stats = LiveStats(
            chunks=c["chunks"],
            windows=c["windows"],
            jobs=c["jobs"],
            provisional=c["prov"],
            reused=c["reused"],
            merged=c["merged"],
            forced_cuts=self._forced,
            max_pending=self._max_pending,
            max_backlog_s=self._max_backlog_s,
            fell_behind=self._ever_behind,
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

    # -- bookkeeping (call with the lock held) ---------------------------------------------

    def _emit(self, event: LiveUpdate) -> None:
        self._events.put(event)
        if self._on_update is not None:
            # A display callback must never kill transcription.
            with contextlib.suppress(Exception):
                self._on_update(event)

    def _display_segments(self) -> list[Segment]:
        """Final text plus the open (or just closed) window's provisional text."""
        prov = self._prov
        if prov is None or prov.start < self._last_final_end():
            return list(self._final)
        return _joined(self._final, prov.segments, prov.start, self._overlap_of(prov.start))

    def _last_final_end(self) -> int:
        """Start of the first window without final text."""
        if self._pending:
            return self._pending[0].start
        return self._open.start if self._open is not None else self._last_window_end

    def _overlap_of(self, start: int) -> int:
        for w in (*self._pending, *([self._open] if self._open else [])):
            if w.start == start:
                return w.overlap_before
        return 0

    def _untranscribed(self) -> int:
        """Samples closed (or still open) with no text yet."""
        total = 0
        prov = self._prov
        for w in (*self._pending, *([self._open] if self._open else [])):
            covered = prov.end if prov is not None and prov.start == w.start else w.start
            total += max(0, w.end - covered)
        return total

    def _close_window(self) -> bool:
        """Move the open window to the queue (merging when it is full); True if merged."""
        window, self._open = self._open, None
        if window is None:
            return False
        self._last_window_end = window.end
        last = self._pending[-1] if self._pending else None
        if last is not None and len(self._pending) >= self.config.max_pending:
            # The worker is behind: one longer call (the engine cuts it at pauses) is cheaper
            # than two, and keeps the queue bounded.
            last.end = max(last.end, window.end)
            last.chunks += window.chunks
            self._counts["merged"] += 1
            return True
        self._pending.append(window)
        self._max_pending = max(self._max_pending, len(self._pending))
        return False

    def _add_chunk(self, chunk: SpeechChunk) -> None:
        """Add a closed chunk to the open window; close windows at their length limits."""
        if not chunk.speech or chunk.end <= chunk.start:
            return
        cfg = self.config
        sr = SAMPLE_RATE
        notice: FallingBehind | None = None
        with self._lock:
            self._counts["chunks"] += 1
            if chunk.forced:
                self._forced += 1
            merged = False
            open_ = self._open
            if open_ is not None and (
                chunk.start - open_.end > cfg.max_gap_s * sr
                or chunk.end - open_.start > cfg.max_window_s * sr
            ):
                merged = self._close_window()
                open_ = None
            if open_ is None:
                overlap = max(0, self._last_window_end - chunk.start)
                self._open = open_ = _Window(chunk.start, chunk.end, overlap)
            else:
                open_.end = max(open_.end, chunk.end)
                open_.chunks += 1
            if open_.end - open_.start >= cfg.window_s * sr or chunk.forced:
                merged = self._close_window() or merged
            pending = len(self._pending)
            backlog_s = self._untranscribed() / sr
            self._max_backlog_s = max(self._max_backlog_s, backlog_s)
            if (
                not self._behind
                and not self._stopping
                and (backlog_s > cfg.behind_after_s or merged)
            ):
                self._behind = self._ever_behind = True
                notice = FallingBehind(
                    backlog_s,
                    pending,
                    f"transcription is {backlog_s:.0f} s behind on this machine; "
                    "it will finish the rest after you stop (a smaller model is faster)",
                )
            self._lock.notify_all()
        self._emit(
            ChunkClosed(chunk.index, chunk.start_s, chunk.end_s, chunk.forced, pending, merged)
        )
        if notice is not None:
            self._emit(notice)

    # -- the worker ------------------------------------------------------------------------

    def _has_provisional_work(self) -> bool:
        return self._provisional_plan() is not None

    def _provisional_plan(self) -> tuple[int, list[Segment]] | None:
        """What to decode of the open window now: (from sample, text kept before it).

        New chunks are decoded on their own first (quick: that is all that is left if the
        answer ends here); while the speaker goes on, the whole window is decoded again in one
        call, which is what batch transcription would do with it.
        """
        open_ = self._open
        if not self.config.provisional or open_ is None or self._stopping:
            return None
        prov = self._prov if self._prov is not None and self._prov.start == open_.start else None
        if prov is None or not self.config.incremental:
            return (open_.start, []) if open_.end > self._tried_whole else None
        if open_.end > prov.end:
            return (prov.end, prov.segments) if open_.end > self._tried_tail else None
        seg = self._segmenter
        quiet = seg.trailing_silence_s >= self.config.upgrade_after_silence_s
        if not prov.whole and (seg.speaking or quiet) and open_.end > self._tried_whole:
            return (open_.start, [])
        return None

    def _next_job(self) -> _Job | None:
        job = self._choose_job()
        with self._lock:
            self._job = job
        return job

    def _choose_job(self) -> _Job | None:
        with self._lock:
            while True:
                if self._abandoned:
                    return None
                if self._done and self._open is not None:
                    self._close_window()
                if self._pending:
                    window = self._pending.pop(0)
                    self._busy = True
                    return self._commit_job(window)
                open_ = self._open
                plan = self._provisional_plan()
                if open_ is not None and plan is not None:
                    start, keep = plan
                    if start == open_.start:
                        self._tried_whole = open_.end
                    self._tried_tail = open_.end
                    self._busy = True
                    return _Job(open_, False, start, open_.end, keep)
                if self._done:
                    return None
                self._lock.wait()

    def _commit_job(self, window: _Window) -> _Job:
        prov = self._prov
        if prov is not None and prov.start == window.start and prov.end <= window.end:
            if prov.end == window.end and (prov.whole or self._done):
                return _Job(window, True, window.end, window.end, prov.segments, reused=True)
            if self._done and self.config.final_tail_only:
                # The user is waiting: keep what was decoded, decode only the rest.
                return _Job(window, True, prov.end, window.end, prov.segments)
        return _Job(window, True, window.start, window.end)

    def _can_finish_without_worker(self) -> bool:
        """Stopping, and the worker is only improving text that is already complete."""
        job, open_, prov = self._job, self._open, self._prov
        return (
            self._done
            and job is not None
            and not job.commit
            and not self._pending
            and not self._failed
            and open_ is not None
            and prov is not None
            and prov.start == open_.start
            and prov.end == open_.end
        )

    def _finish_from_provisional(self) -> TextUpdate:
        """Commit the open window's provisional text; the worker's decode in flight is dropped."""
        open_, prov = self._open, self._prov
        assert open_ is not None and prov is not None
        self._abandoned = True
        self._open, self._prov = None, None
        self._last_window_end = open_.end
        self._final = _joined(self._final, prov.segments, open_.start, open_.overlap_before)
        self._counts["windows"] += 1
        self._counts["reused"] += 1
        text = _text_of(self._final)
        return TextUpdate(
            start_s=open_.start / SAMPLE_RATE,
            end_s=open_.end / SAMPLE_RATE,
            new_text="",
            decoded_s=0.0,
            text=text,
            words=tuple(w for s in self._final for w in s.words),
            lag_s=max(0.0, (len(self._audio) - open_.end) / SAMPLE_RATE),
            transcribe_s=0.0,
            provisional=False,
            committed=text,
        )

    def _run(self) -> None:
        try:
            self._work()
        finally:
            with self._lock:
                self._worker_done = True
                self._job = None
                self._lock.notify_all()

    def _work(self) -> None:
        t0 = time.perf_counter()
        try:
            self.engine.load()
        except BaseException as exc:
            with self._lock:
                self._error = exc
                self._busy = False
                self._lock.notify_all()
            self._emit(LiveError(f"could not load the speech model: {exc}", fatal=True))
            return
        self._load_s = time.perf_counter() - t0
        while True:
            job = self._next_job()
            if job is None:
                break
            self._do_job(job, retry=False)
            if self._abandoned:
                return
        for window in sorted(self._failed, key=lambda w: w.start):
            if self._error is not None:
                break
            self._do_job(_Job(window, True, window.start, window.end), retry=True)

    def _context(self, keep: list[Segment], before: int) -> str:
        """The text said before sample ``before`` (the start of the audio about to be decoded).

        After a forced cut the new window starts inside audio already transcribed: those
        words must not be in the prompt, or Whisper takes them as said and skips them.
        """
        limit = before / SAMPLE_RATE
        segments = [*self._final, *keep]
        if segments and segments[-1].end > limit:
            segments, _ = merge_overlap(segments, [], limit)
        return _text_of(segments)[-self.config.context_chars :]

    def _do_job(self, job: _Job, *, retry: bool) -> None:
        new: list[Segment] = []
        took = 0.0
        if not job.reused and job.end > job.start:
            with self._lock:
                audio = self._audio.slice(job.start, job.end)
                context = self._context(job.keep, job.start)
            t0 = time.perf_counter()
            try:
                result = self.engine.transcribe(
                    audio, offset_s=job.start / SAMPLE_RATE, context=context
                )
            except Exception as exc:
                with self._lock:
                    self._busy = False
                    self._job = None
                    self._lock.notify_all()
                if not job.commit:
                    self._emit(LiveError(f"live text failed for a moment ({exc})"))
                elif retry:
                    self._error = exc
                else:
                    self._failed.append(job.window)
                    self._emit(
                        LiveError(
                            f"a part of the answer failed to transcribe ({exc}); retrying at stop"
                        )
                    )
                return
            took = time.perf_counter() - t0
            new = list(result.segments)
        notice: CaughtUp | None = None
        with self._lock:
            self._job = None
            if self._abandoned:
                return  # stop() already finished with the text this decode would improve
            self._transcribe_s += took
            if took:
                self._counts["jobs"] += 1
            window = job.window
            segments = [*job.keep, *new]
            if not job.commit:
                self._counts["prov"] += 1
                self._prov = _Decode(window.start, job.end, segments, job.start == window.start)
            else:
                self._counts["windows"] += 1
                self._counts["reused"] += job.reused
                if retry:
                    # A retried window lands out of order: keep the timeline sorted.
                    self._final = sorted([*self._final, *segments], key=lambda s: s.start)
                else:
                    self._final = _joined(
                        self._final, segments, window.start, window.overlap_before
                    )
                if self._prov is not None and self._prov.start == window.start:
                    self._prov = None
            self._busy = False
            self._lock.notify_all()
            shown = self._display_segments()
            committed = _text_of(self._final)
            lag = (len(self._audio) - job.end) / SAMPLE_RATE
            if self._behind and not self._pending and not self._stopping:
                self._behind = False
                notice = CaughtUp()
        if took or job.commit:
            self._emit(
                TextUpdate(
                    start_s=job.window.start / SAMPLE_RATE,
                    end_s=job.end / SAMPLE_RATE,
                    new_text=_text_of(new),
                    decoded_s=(job.end - job.start) / SAMPLE_RATE if took else 0.0,
                    text=_text_of(shown),
                    words=tuple(w for s in shown for w in s.words),
                    lag_s=max(0.0, lag),
                    transcribe_s=took,
                    provisional=not job.commit,
                    committed=committed,
                )
            )
        if notice is not None:
            self._emit(notice)


def feed_audio(
    live: LiveTranscriber,
    audio: Audio,
    *,
    speed: float | None = 1.0,
    block_s: float = 0.064,
    should_stop: Callable[[], bool] | None = None,
    keep_up: bool = False,
) -> float:
    """Feed ``audio`` to ``live`` in blocks, at ``speed`` × real time (``None``: at once).

    With ``keep_up`` (and no ``speed``), each block waits until the worker is idle, so the
    file is cut and decoded as a live recording would be on a fast machine, as fast as the
    engine allows. Returns the seconds of audio fed (less than the whole if ``should_stop``
    said so). This is how a file goes through the same pipeline as the microphone (whose
    blocks are 64 ms).
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
        elif keep_up and not live.wait_idle():
            break  # the engine failed: stop() reports it
        live.feed(piece)
        fed += len(piece)
    return fed / SAMPLE_RATE
