"""The threaded live transcriber: audio in on the caller's thread, decodes on a worker thread.

:class:`LiveTranscriber` owns the audio buffer, the :class:`~coach.audio.vad.PauseSegmenter`,
the worker thread and the lock; every decision (windows, jobs, merges, notices) is made by its
:class:`~coach.audio.live.planner.LivePlanner`, called with the lock held. :func:`feed_audio`
feeds a file through the same pipeline as the microphone.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from coach.audio.live.events import (
    Finished,
    LiveConfig,
    LiveError,
    LiveStats,
    LiveUpdate,
    TextUpdate,
)
from coach.audio.live.merge import text_of
from coach.audio.live.planner import Job, LivePlanner
from coach.audio.protocol import SAMPLE_RATE, Audio, Engine
from coach.audio.transcript import Segment, Timings, Transcript
from coach.audio.vad import PauseSegmenter, SileroVad, SpeechChunk


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
        self._plan = LivePlanner(self.config, self._segmenter)
        self._was_speaking = False
        self._was_quiet = False
        self._worker_done = False
        self._error: BaseException | None = None
        self._events: queue.Queue[LiveUpdate] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._load_s = 0.0
        self._stats = LiveStats()

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
            return text_of(self._plan.display_segments())

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
        if self._plan.stopping:
            raise RuntimeError("feed() after stop()")
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        if block.size == 0:
            return
        with self._lock:
            self._audio.append(block)
            # An idle worker can take small chunks: close them at shorter pauses, so that
            # little is left when the user stops.
            eager = self._plan.eager
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
            while self._error is None and not self._plan.idle:
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
            self._plan.stopping = True
        tail = self._segmenter.finish()
        if tail is not None:
            self._add_chunk(tail)
        with self._lock:
            tail_samples = self._plan.stop_input()
            self._lock.notify_all()
        self.start()  # a transcriber that was never started still finishes
        assert self._worker is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        finished_here: TextUpdate | None = None
        with self._lock:
            while not self._worker_done:
                if self._plan.can_finish_without_worker():
                    finished_here = self._plan.finish_from_provisional(len(self._audio))
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
            segments = sorted(self._plan.final, key=lambda s: s.start)
            transcribe_s = self._plan.transcribe_s
        transcript = Transcript(
            text=text_of(segments),
            segments=tuple(segments),
            duration_s=self.audio_s,
            engine=self.engine.name,
            model=self.engine.model_name,
            timings=Timings(load_s=self._load_s, transcribe_s=transcribe_s),
        )
        self._stats = self._plan.stats(
            audio_s=self.audio_s,
            tail_s=tail_samples / SAMPLE_RATE,
            stop_to_transcript_s=elapsed,
        )
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

    # -- plumbing around the planner -------------------------------------------------------

    def _emit(self, event: LiveUpdate) -> None:
        self._events.put(event)
        if self._on_update is not None:
            # A display callback must never kill transcription.
            with contextlib.suppress(Exception):
                self._on_update(event)

    def _add_chunk(self, chunk: SpeechChunk) -> None:
        with self._lock:
            events = self._plan.add_chunk(chunk)
            self._lock.notify_all()
        for event in events:
            self._emit(event)

    def _next_job(self) -> Job | None:
        with self._lock:
            while True:
                job = self._plan.next_job()
                if job is not None or self._plan.finished:
                    return job
                self._lock.wait()

    def _run(self) -> None:
        try:
            self._work()
        finally:
            with self._lock:
                self._worker_done = True
                self._plan.job = None
                self._lock.notify_all()

    def _work(self) -> None:
        t0 = time.perf_counter()
        try:
            self.engine.load()
        except BaseException as exc:
            with self._lock:
                self._error = exc
                self._plan.busy = False
                self._lock.notify_all()
            self._emit(LiveError(f"could not load the speech model: {exc}", fatal=True))
            return
        self._load_s = time.perf_counter() - t0
        while True:
            job = self._next_job()
            if job is None:
                break
            self._do_job(job, retry=False)
            if self._plan.abandoned:
                return
        with self._lock:
            retries = self._plan.retry_jobs()
        for job in retries:
            if self._error is not None:
                break
            self._do_job(job, retry=True)

    def _do_job(self, job: Job, *, retry: bool) -> None:
        new: list[Segment] = []
        took = 0.0
        if not job.reused and job.end > job.start:
            with self._lock:
                audio = self._audio.slice(job.start, job.end)
                context = self._plan.context(job.keep, job.start)
            t0 = time.perf_counter()
            try:
                result = self.engine.transcribe(
                    audio, offset_s=job.start / SAMPLE_RATE, context=context
                )
            except Exception as exc:
                with self._lock:
                    error = self._plan.job_failed(job, exc, retry=retry)
                    self._lock.notify_all()
                if error is None:
                    self._error = exc
                else:
                    self._emit(error)
                return
            took = time.perf_counter() - t0
            new = list(result.segments)
        with self._lock:
            events = self._plan.job_done(
                job, new, took=took, received=len(self._audio), retry=retry
            )
            self._lock.notify_all()
        for event in events:
            self._emit(event)


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
