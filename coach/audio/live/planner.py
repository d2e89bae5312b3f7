"""The decisions of live transcription, without threads or a clock.

:class:`LivePlanner` holds the state of one answer (the open window, the closed windows waiting
for the engine, the provisional text, the final text) and decides, event by event:

* :meth:`~LivePlanner.add_chunk` (a chunk closed at a pause): which window it joins, when a
  window closes, when waiting windows are merged, when the user is told transcription fell
  behind;
* :meth:`~LivePlanner.next_job`: what the engine decodes next (a closed window first, else the
  new tail of the open window, else the whole open window while the speaker goes on or after a
  silence), and what it reuses from a provisional decode;
* :meth:`~LivePlanner.job_done` / :meth:`~LivePlanner.job_failed`: how a decode's text is
  merged into the answer, and what is retried at stop;
* :meth:`~LivePlanner.stop_input` / :meth:`~LivePlanner.finish_from_provisional`: how stop
  finishes from what is decoded already.

The threaded :class:`~coach.audio.live.worker.LiveTranscriber` calls these with its lock held;
the tests call them directly and assert the decisions. Time comes in as arguments (``took``
seconds, samples received), the speaker's state through :class:`VoiceState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from coach.audio.live.events import (
    CaughtUp,
    ChunkClosed,
    FallingBehind,
    LiveConfig,
    LiveError,
    LiveStats,
    TextUpdate,
)
from coach.audio.live.merge import joined, merge_overlap, text_of
from coach.audio.protocol import SAMPLE_RATE
from coach.audio.transcript import Segment
from coach.audio.vad import SpeechChunk


class VoiceState(Protocol):
    """What the planner needs to know of the speaker (a :class:`~coach.audio.vad.PauseSegmenter`)."""

    @property
    def speaking(self) -> bool: ...

    @property
    def trailing_silence_s(self) -> float: ...


@dataclass(slots=True)
class Window:
    """Consecutive chunks decoded together; samples on the answer's timeline."""

    start: int
    end: int
    overlap_before: int  # samples shared with the previous window (forced cut), 0 otherwise
    chunks: int = 1


@dataclass(slots=True)
class Decode:
    """A provisional decode of an open window: ``segments`` cover ``start``..``end``."""

    start: int
    end: int
    segments: list[Segment]
    whole: bool  # one call from the window's start (else earlier text plus a decoded tail)


@dataclass(slots=True)
class Job:
    """One engine call the planner asks for (or none, ``reused``)."""

    window: Window
    commit: bool  # False: a provisional decode of the open window
    start: int  # the audio to decode (a tail when part of the window is already decoded)
    end: int
    keep: list[Segment] = field(default_factory=list)  # provisional text the tail extends
    reused: bool = False  # nothing to decode: the provisional decode is final


class LivePlanner:
    """State and decisions of one live answer (see the module docstring). Not thread-safe."""

    def __init__(self, config: LiveConfig, voice: VoiceState) -> None:
        self.config = config
        self.voice = voice
        self.open: Window | None = None
        self.pending: list[Window] = []
        self.prov: Decode | None = None
        # Window ends of the last provisional attempts (success or not), so none is repeated.
        self._tried_tail = -1
        self._tried_whole = -1
        self.job: Job | None = None  # the job the engine is on
        self.abandoned = False  # stop finished without the worker's last (optional) decode
        self.busy = False
        self.stopping = False
        self.done = False
        self.failed: list[Window] = []
        self.final: list[Segment] = []
        self._last_window_end = 0
        self.transcribe_s = 0.0
        self._behind = False
        self._ever_behind = False
        self._counts = {k: 0 for k in ("chunks", "windows", "jobs", "prov", "reused", "merged")}
        self._forced = 0
        self._max_pending = 0
        self._max_backlog_s = 0.0

    # -- what the worker asks ----------------------------------------------------------------

    @property
    def eager(self) -> bool:
        """An idle worker can take small chunks: close them at shorter pauses."""
        return not self.busy and not self.pending

    @property
    def idle(self) -> bool:
        """Nothing to decode now."""
        return not (self.busy or self.pending or self.provisional_plan() is not None)

    def display_segments(self) -> list[Segment]:
        """Final text plus the open (or just closed) window's provisional text."""
        prov = self.prov
        if prov is None or prov.start < self._last_final_end():
            return list(self.final)
        return joined(self.final, prov.segments, prov.start, self._overlap_of(prov.start))

    def untranscribed(self) -> int:
        """Samples closed (or still open) with no text yet."""
        total = 0
        prov = self.prov
        for w in (*self.pending, *([self.open] if self.open else [])):
            covered = prov.end if prov is not None and prov.start == w.start else w.start
            total += max(0, w.end - covered)
        return total

    def context(self, keep: list[Segment], before: int) -> str:
        """The text said before sample ``before`` (the start of the audio about to be decoded).

        After a forced cut the new window starts inside audio already transcribed: those
        words must not be in the prompt, or Whisper takes them as said and skips them.
        """
        limit = before / SAMPLE_RATE
        segments = [*self.final, *keep]
        if segments and segments[-1].end > limit:
            segments, _ = merge_overlap(segments, [], limit)
        return text_of(segments)[-self.config.context_chars :]

    def stats(self, *, audio_s: float, tail_s: float, stop_to_transcript_s: float) -> LiveStats:
        c = self._counts
        return LiveStats(
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
            audio_s=audio_s,
            tail_s=tail_s,
            stop_to_transcript_s=stop_to_transcript_s,
        )

    # -- chunks come in ------------------------------------------------------------------------

    def add_chunk(self, chunk: SpeechChunk) -> list[ChunkClosed | FallingBehind]:
        """Add a closed chunk to the open window; close windows at their length limits."""
        if not chunk.speech or chunk.end <= chunk.start:
            return []
        cfg = self.config
        sr = SAMPLE_RATE
        self._counts["chunks"] += 1
        if chunk.forced:
            self._forced += 1
        merged = False
        open_ = self.open
        if open_ is not None and (
            chunk.start - open_.end > cfg.max_gap_s * sr
            or chunk.end - open_.start > cfg.max_window_s * sr
        ):
            merged = self._close_window()
            open_ = None
        if open_ is None:
            overlap = max(0, self._last_window_end - chunk.start)
            self.open = open_ = Window(chunk.start, chunk.end, overlap)
        else:
            open_.end = max(open_.end, chunk.end)
            open_.chunks += 1
        if open_.end - open_.start >= cfg.window_s * sr or chunk.forced:
            merged = self._close_window() or merged
        pending = len(self.pending)
        backlog_s = self.untranscribed() / sr
        self._max_backlog_s = max(self._max_backlog_s, backlog_s)
        events: list[ChunkClosed | FallingBehind] = [
            ChunkClosed(chunk.index, chunk.start_s, chunk.end_s, chunk.forced, pending, merged)
        ]
        if not self._behind and not self.stopping and (backlog_s > cfg.behind_after_s or merged):
            self._behind = self._ever_behind = True
            events.append(
                FallingBehind(
                    backlog_s,
                    pending,
                    f"transcription is {backlog_s:.0f} s behind on this machine; "
                    "it will finish the rest after you stop (a smaller model is faster)",
                )
            )
        return events

    def _close_window(self) -> bool:
        """Move the open window to the queue (merging when it is full); True if merged."""
        window, self.open = self.open, None
        if window is None:
            return False
        self._last_window_end = window.end
        last = self.pending[-1] if self.pending else None
        if last is not None and len(self.pending) >= self.config.max_pending:
            # The worker is behind: one longer call (the engine cuts it at pauses) is cheaper
            # than two, and keeps the queue bounded.
            last.end = max(last.end, window.end)
            last.chunks += window.chunks
            self._counts["merged"] += 1
            return True
        self.pending.append(window)
        self._max_pending = max(self._max_pending, len(self.pending))
        return False

    def _last_final_end(self) -> int:
        """Start of the first window without final text."""
        if self.pending:
            return self.pending[0].start
        return self.open.start if self.open is not None else self._last_window_end

    def _overlap_of(self, start: int) -> int:
        for w in (*self.pending, *([self.open] if self.open else [])):
            if w.start == start:
                return w.overlap_before
        return 0

    # -- what to decode next ---------------------------------------------------------------------

    def provisional_plan(self) -> tuple[int, list[Segment]] | None:
        """What to decode of the open window now: (from sample, text kept before it).

        New chunks are decoded on their own first (quick: that is all that is left if the
        answer ends here); while the speaker goes on, the whole window is decoded again in one
        call, which is what batch transcription would do with it.
        """
        open_ = self.open
        if not self.config.provisional or open_ is None or self.stopping:
            return None
        prov = self.prov if self.prov is not None and self.prov.start == open_.start else None
        if prov is None or not self.config.incremental:
            return (open_.start, []) if open_.end > self._tried_whole else None
        if open_.end > prov.end:
            return (prov.end, prov.segments) if open_.end > self._tried_tail else None
        voice = self.voice
        quiet = voice.trailing_silence_s >= self.config.upgrade_after_silence_s
        if not prov.whole and (voice.speaking or quiet) and open_.end > self._tried_whole:
            return (open_.start, [])
        return None

    def next_job(self) -> Job | None:
        """The next engine call, or None: wait for more audio (or end, if :attr:`finished`)."""
        self.job = self._choose_job()
        return self.job

    @property
    def finished(self) -> bool:
        """No job now means no job ever: the worker may end."""
        return self.abandoned or self.done

    def _choose_job(self) -> Job | None:
        if self.abandoned:
            return None
        if self.done and self.open is not None:
            self._close_window()
        if self.pending:
            window = self.pending.pop(0)
            self.busy = True
            return self._commit_job(window)
        open_ = self.open
        plan = self.provisional_plan()
        if open_ is not None and plan is not None:
            start, keep = plan
            if start == open_.start:
                self._tried_whole = open_.end
            self._tried_tail = open_.end
            self.busy = True
            return Job(open_, False, start, open_.end, keep)
        return None

    def _commit_job(self, window: Window) -> Job:
        prov = self.prov
        if prov is not None and prov.start == window.start and prov.end <= window.end:
            if prov.end == window.end and (prov.whole or self.done):
                return Job(window, True, window.end, window.end, prov.segments, reused=True)
            if self.done and self.config.final_tail_only:
                # The user is waiting: keep what was decoded, decode only the rest.
                return Job(window, True, prov.end, window.end, prov.segments)
        return Job(window, True, window.start, window.end)

    def retry_jobs(self) -> list[Job]:
        """The windows that failed once, in order, to decode again at the end."""
        return [Job(w, True, w.start, w.end) for w in sorted(self.failed, key=lambda w: w.start)]

    # -- decodes come back -----------------------------------------------------------------------

    def job_failed(self, job: Job, exc: Exception, *, retry: bool) -> LiveError | None:
        """The engine raised on ``job``: a commit is retried at stop (once; None: give up)."""
        self.busy = False
        self.job = None
        if not job.commit:
            return LiveError(f"live text failed for a moment ({exc})")
        if retry:
            return None
        self.failed.append(job.window)
        return LiveError(f"a part of the answer failed to transcribe ({exc}); retrying at stop")

    def job_done(
        self, job: Job, new: list[Segment], *, took: float, received: int, retry: bool = False
    ) -> list[TextUpdate | CaughtUp]:
        """Merge a decode (``new``, ``took`` seconds) into the answer; ``received`` samples so far."""
        self.job = None
        if self.abandoned:
            return []  # stop already finished with the text this decode would improve
        self.transcribe_s += took
        if took:
            self._counts["jobs"] += 1
        window = job.window
        segments = [*job.keep, *new]
        if not job.commit:
            self._counts["prov"] += 1
            self.prov = Decode(window.start, job.end, segments, job.start == window.start)
        else:
            self._counts["windows"] += 1
            self._counts["reused"] += job.reused
            if retry:
                # A retried window lands out of order: keep the timeline sorted.
                self.final = sorted([*self.final, *segments], key=lambda s: s.start)
            else:
                self.final = joined(self.final, segments, window.start, window.overlap_before)
            if self.prov is not None and self.prov.start == window.start:
                self.prov = None
        self.busy = False
        shown = self.display_segments()
        events: list[TextUpdate | CaughtUp] = []
        if took or job.commit:
            events.append(
                TextUpdate(
                    start_s=window.start / SAMPLE_RATE,
                    end_s=job.end / SAMPLE_RATE,
                    new_text=text_of(new),
                    decoded_s=(job.end - job.start) / SAMPLE_RATE if took else 0.0,
                    text=text_of(shown),
                    words=tuple(w for s in shown for w in s.words),
                    lag_s=max(0.0, (received - job.end) / SAMPLE_RATE),
                    transcribe_s=took,
                    provisional=not job.commit,
                    committed=text_of(self.final),
                )
            )
        if self._behind and not self.pending and not self.stopping:
            self._behind = False
            events.append(CaughtUp())
        return events

    # -- stop --------------------------------------------------------------------------------------

    def stop_input(self) -> int:
        """No more audio: returns the samples still without text (the tail left to do)."""
        self.done = True
        return self.untranscribed()

    def can_finish_without_worker(self) -> bool:
        """Stopping, and the worker is only improving text that is already complete."""
        job, open_, prov = self.job, self.open, self.prov
        return (
            self.done
            and job is not None
            and not job.commit
            and not self.pending
            and not self.failed
            and open_ is not None
            and prov is not None
            and prov.start == open_.start
            and prov.end == open_.end
        )

    def finish_from_provisional(self, received: int) -> TextUpdate:
        """Commit the open window's provisional text; the worker's decode in flight is dropped."""
        open_, prov = self.open, self.prov
        assert open_ is not None and prov is not None
        self.abandoned = True
        self.open, self.prov = None, None
        self._last_window_end = open_.end
        self.final = joined(self.final, prov.segments, open_.start, open_.overlap_before)
        self._counts["windows"] += 1
        self._counts["reused"] += 1
        text = text_of(self.final)
        return TextUpdate(
            start_s=open_.start / SAMPLE_RATE,
            end_s=open_.end / SAMPLE_RATE,
            new_text="",
            decoded_s=0.0,
            text=text,
            words=tuple(w for s in self.final for w in s.words),
            lag_s=max(0.0, (received - open_.end) / SAMPLE_RATE),
            transcribe_s=0.0,
            provisional=False,
            committed=text,
        )
