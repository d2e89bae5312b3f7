"""The live planner's decisions, event by event: no threads, no clock, no engine, no audio.

Each test feeds :class:`~coach.audio.live.planner.LivePlanner` closed chunks and decode
results by hand and asserts what it decides: which window a chunk joins, what the engine
decodes next, what is reused, merged, retried, and how stop finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from coach.audio.live import CaughtUp, ChunkClosed, FallingBehind, LiveConfig, LiveError, TextUpdate
from coach.audio.live.planner import Job, LivePlanner
from coach.audio.protocol import SAMPLE_RATE
from coach.audio.transcript import Segment, Word
from coach.audio.vad import SpeechChunk

SR = SAMPLE_RATE


@dataclass
class Voice:
    """The speaker as the segmenter sees them."""

    speaking: bool = False
    trailing_silence_s: float = 0.0


def chunk(index: int, start_s: float, end_s: float, *, forced: bool = False) -> SpeechChunk:
    return SpeechChunk(index, round(start_s * SR), round(end_s * SR), True, forced)


def said(*words: tuple[float, float, str]) -> list[Segment]:
    """One decoded segment holding ``words`` (start, end, text) on the answer's timeline."""
    ws = tuple(Word(a, b, t) for a, b, t in words)
    return [Segment(ws[0].start, ws[-1].end, " ".join(w.text for w in ws), ws)]


def planner(voice: Voice | None = None, **config: Any) -> LivePlanner:
    return LivePlanner(LiveConfig(**config), voice or Voice())


def span(job: Job) -> tuple[float, float]:
    return job.start / SR, job.end / SR


def test_chunks_fill_a_window_that_closes_at_window_s_and_is_decoded_whole() -> None:
    p = planner(window_s=6.0, max_window_s=10.0, provisional=False)
    (closed,) = p.add_chunk(chunk(0, 0.0, 3.0))
    assert isinstance(closed, ChunkClosed) and closed.pending == 0 and not closed.merged
    assert p.next_job() is None and not p.finished  # the window is still open: wait
    (closed,) = p.add_chunk(chunk(1, 3.5, 7.0))
    assert closed.pending == 1  # 7 s >= window_s: the window closed
    assert not p.eager  # a window waits: the segmenter need not cut small chunks
    job = p.next_job()
    assert job is not None and job.commit and span(job) == (0.0, 7.0) and job.keep == []
    assert p.busy and not p.eager and p.job is job
    (update,) = p.job_done(
        job, said((0.2, 0.5, "I"), (5.0, 5.4, "matched")), took=1.0, received=8 * SR
    )
    assert isinstance(update, TextUpdate) and not update.provisional
    assert update.text == update.committed == "I matched"
    assert update.lag_s == pytest.approx(1.0) and update.decoded_s == pytest.approx(7.0)
    assert not p.busy and p.job is None
    stats = p.stats(audio_s=8.0, tail_s=0.0, stop_to_transcript_s=0.0)
    assert (stats.chunks, stats.windows, stats.jobs, stats.provisional) == (2, 1, 1, 0)


def test_words_without_speech_and_empty_chunks_are_ignored() -> None:
    p = planner()
    assert p.add_chunk(SpeechChunk(0, 0, SR, False)) == []
    assert p.add_chunk(SpeechChunk(1, SR, SR, True)) == []
    assert p.open is None and p.idle


def test_a_long_pause_or_the_window_limit_closes_the_open_window_first() -> None:
    p = planner(window_s=16.0, max_window_s=8.0, max_gap_s=2.0, provisional=False)
    p.add_chunk(chunk(0, 0.0, 2.0))
    p.add_chunk(chunk(1, 5.0, 6.0))  # 3 s of silence > max_gap_s
    assert [(w.start / SR, w.end / SR) for w in p.pending] == [(0.0, 2.0)]
    p.add_chunk(chunk(2, 6.5, 13.5))  # would make the window 8.5 s > max_window_s
    assert [(w.start / SR, w.end / SR) for w in p.pending] == [(0.0, 2.0), (5.0, 6.0)]
    assert p.open is not None and (p.open.start, p.open.end) == (round(6.5 * SR), round(13.5 * SR))


def test_the_open_window_is_decoded_new_chunk_first_then_whole_while_the_speaker_goes_on() -> None:
    voice = Voice()
    p = planner(voice, window_s=16.0)
    p.add_chunk(chunk(0, 0.0, 3.0))
    first = p.next_job()
    assert first is not None and not first.commit and span(first) == (0.0, 3.0)
    (update,) = p.job_done(first, said((0.5, 1.0, "I")), took=0.5, received=3 * SR)
    assert isinstance(update, TextUpdate) and update.provisional and update.committed == ""
    assert p.next_job() is None  # nothing new: no decode repeated
    p.add_chunk(chunk(1, 3.4, 6.0))
    tail = p.next_job()
    assert tail is not None and not tail.commit and span(tail) == (3.0, 6.0)  # only the new chunk
    assert [s.text for s in tail.keep] == ["I"]
    p.job_done(tail, said((4.0, 4.5, "applied")), took=0.5, received=6 * SR)
    assert p.prov is not None and not p.prov.whole
    assert p.display_segments()[-1].text == "applied"
    # Silent, but not for long: the answer may go on, the worker waits.
    voice.trailing_silence_s = 0.3
    assert p.next_job() is None and p.idle
    # The speaker goes on: the whole window again in one call.
    voice.speaking, voice.trailing_silence_s = True, 0.0
    assert not p.idle
    whole = p.next_job()
    assert whole is not None and not whole.commit and span(whole) == (0.0, 6.0) and whole.keep == []
    p.job_done(whole, said((0.5, 1.0, "I"), (4.0, 4.5, "applied")), took=0.9, received=7 * SR)
    assert p.prov is not None and p.prov.whole
    assert p.next_job() is None  # a whole decode is not repeated
    stats = p.stats(audio_s=7.0, tail_s=0.0, stop_to_transcript_s=0.0)
    assert stats.provisional == 3 and stats.windows == 0


def test_after_a_silence_the_idle_worker_decodes_the_open_window_whole() -> None:
    voice = Voice()
    p = planner(voice, window_s=16.0, upgrade_after_silence_s=0.8)
    p.add_chunk(chunk(0, 0.0, 3.0))
    p.job_done(p.next_job() or pytest.fail(), said((0.5, 1.0, "so")), took=0.1, received=3 * SR)
    p.add_chunk(chunk(1, 3.2, 5.0))
    p.job_done(p.next_job() or pytest.fail(), said((3.5, 4.0, "yes")), took=0.1, received=5 * SR)
    assert p.next_job() is None
    voice.trailing_silence_s = 0.8
    job = p.next_job()
    assert job is not None and span(job) == (0.0, 5.0)


def test_without_incremental_decodes_the_whole_window_each_time() -> None:
    p = planner(window_s=16.0, incremental=False)
    p.add_chunk(chunk(0, 0.0, 3.0))
    p.job_done(p.next_job() or pytest.fail(), said((0.5, 1.0, "I")), took=0.1, received=3 * SR)
    p.add_chunk(chunk(1, 3.2, 5.0))
    job = p.next_job()
    assert job is not None and span(job) == (0.0, 5.0) and job.keep == []


def test_a_closed_window_reuses_a_whole_provisional_decode_without_an_engine_call() -> None:
    p = planner(window_s=5.0)
    p.add_chunk(chunk(0, 0.0, 3.0))
    p.job_done(p.next_job() or pytest.fail(), said((0.5, 1.0, "fine")), took=0.4, received=3 * SR)
    p.add_chunk(chunk(1, 7.0, 8.0))  # after a 4 s pause: the first window closes as it is
    job = p.next_job()
    assert job is not None and job.commit and job.reused and job.start == job.end
    (update,) = p.job_done(job, [], took=0.0, received=8 * SR)
    assert isinstance(update, TextUpdate) and update.committed == "fine" and update.decoded_s == 0
    stats = p.stats(audio_s=8.0, tail_s=0.0, stop_to_transcript_s=0.0)
    assert (stats.windows, stats.reused, stats.jobs) == (1, 1, 1)


def test_at_stop_only_the_undecoded_tail_is_decoded() -> None:
    p = planner(window_s=16.0)
    p.add_chunk(chunk(0, 0.0, 3.0))
    p.job_done(p.next_job() or pytest.fail(), said((0.5, 1.0, "I")), took=0.4, received=3 * SR)
    p.stopping = True
    p.add_chunk(chunk(1, 3.3, 4.0))  # the last clause, closed by stop
    assert p.stop_input() == round(4.0 * SR) - round(3.0 * SR)  # samples without text
    job = p.next_job()
    assert job is not None and job.commit and span(job) == (3.0, 4.0)
    assert [s.text for s in job.keep] == ["I"]
    p.job_done(job, said((3.4, 3.8, "learned")), took=0.2, received=4 * SR)
    assert [s.text for s in p.final] == ["I", "learned"]
    assert p.next_job() is None and p.finished


def test_at_stop_the_whole_window_again_without_final_tail_only() -> None:
    p = planner(window_s=16.0, final_tail_only=False)
    p.add_chunk(chunk(0, 0.0, 3.0))
    p.job_done(p.next_job() or pytest.fail(), said((0.5, 1.0, "I")), took=0.4, received=3 * SR)
    p.stopping = True
    p.add_chunk(chunk(1, 3.3, 4.0))
    p.stop_input()
    job = p.next_job()
    assert job is not None and job.commit and span(job) == (0.0, 4.0) and job.keep == []


def test_stop_finishes_from_complete_provisional_text_while_an_upgrade_decode_runs() -> None:
    voice = Voice()
    p = planner(voice, window_s=16.0)
    p.add_chunk(chunk(0, 0.0, 3.0))
    p.job_done(p.next_job() or pytest.fail(), said((0.5, 1.0, "a")), took=0.1, received=3 * SR)
    p.add_chunk(chunk(1, 3.2, 5.0))
    p.job_done(p.next_job() or pytest.fail(), said((3.5, 4.0, "b")), took=0.1, received=5 * SR)
    voice.trailing_silence_s = 1.0
    upgrade = p.next_job()  # the whole window, in flight
    assert upgrade is not None and span(upgrade) == (0.0, 5.0)
    assert not p.can_finish_without_worker()  # not stopping yet
    p.stopping = True
    assert p.stop_input() == 0
    assert p.can_finish_without_worker()
    update = p.finish_from_provisional(received=6 * SR)
    assert update.committed == update.text == "a b" and not update.provisional
    assert p.abandoned and p.finished and p.open is None
    # The dropped decode comes back: nothing changes.
    assert p.job_done(upgrade, said((0.5, 1.0, "x")), took=2.0, received=6 * SR) == []
    assert [s.text for s in p.final] == ["a", "b"]
    assert p.next_job() is None


def test_waiting_windows_are_merged_and_the_user_told_once_then_caught_up() -> None:
    p = planner(
        window_s=2.0, max_window_s=4.0, max_pending=1, behind_after_s=30.0, provisional=False
    )
    p.add_chunk(chunk(0, 0.0, 2.5))
    assert len(p.pending) == 1
    events = p.add_chunk(chunk(1, 3.0, 5.5))
    closed, behind = events
    assert isinstance(closed, ChunkClosed) and closed.merged and closed.pending == 1
    assert isinstance(behind, FallingBehind) and "behind" in behind.message
    assert [(w.start / SR, w.end / SR, w.chunks) for w in p.pending] == [(0.0, 5.5, 2)]
    (closed,) = p.add_chunk(chunk(2, 6.0, 8.5))  # merged again, but told only once
    assert isinstance(closed, ChunkClosed) and closed.merged
    job = p.next_job()
    assert job is not None and span(job) == (0.0, 8.5)
    update, caught_up = p.job_done(job, said((1.0, 1.5, "ok")), took=3.0, received=9 * SR)
    assert isinstance(update, TextUpdate) and isinstance(caught_up, CaughtUp)
    stats = p.stats(audio_s=9.0, tail_s=0.0, stop_to_transcript_s=0.0)
    assert stats.merged == 2 and stats.max_pending == 1 and stats.fell_behind


def test_a_backlog_of_untranscribed_speech_is_a_falling_behind_notice() -> None:
    p = planner(
        window_s=2.0, max_window_s=4.0, max_pending=5, behind_after_s=5.0, provisional=False
    )
    assert not any(isinstance(e, FallingBehind) for e in p.add_chunk(chunk(0, 0.0, 3.0)))
    events = p.add_chunk(chunk(1, 3.0, 6.0))  # 6 s closed, nothing decoded
    assert any(isinstance(e, FallingBehind) and e.backlog_s == pytest.approx(6.0) for e in events)
    p.add_chunk(chunk(2, 6.0, 9.0))
    assert p.untranscribed() == round(9.0 * SR)


def test_a_forced_cut_overlaps_the_next_window_and_each_shared_word_is_kept_once() -> None:
    p = planner(window_s=16.0, provisional=False)
    p.add_chunk(chunk(0, 0.0, 8.0, forced=True))  # cut inside speech: the window closes
    p.add_chunk(chunk(1, 6.0, 12.0, forced=True))  # 2 s shared with the previous chunk
    first, second = p.pending
    assert first.overlap_before == 0 and second.overlap_before == round(2.0 * SR)
    job = p.next_job()
    assert job is not None
    p.job_done(
        job,
        said((5.0, 5.5, "care"), (6.2, 6.6, "for"), (7.6, 7.95, "kids")),
        took=1,
        received=12 * SR,
    )
    job = p.next_job()
    assert job is not None and span(job) == (6.0, 12.0)
    # The prompt holds only what was said before the new window's audio starts.
    assert p.context([], job.start) == "care"
    p.job_done(
        job,
        said((6.21, 6.6, "for"), (7.62, 8.0, "kids"), (9.0, 9.5, "too")),
        took=1,
        received=12 * SR,
    )
    assert [w.text for s in p.final for w in s.words] == ["care", "for", "kids", "too"]
    assert p.stats(audio_s=12, tail_s=0, stop_to_transcript_s=0).forced_cuts == 2


def test_a_failed_window_is_retried_at_stop_and_lands_in_order() -> None:
    p = planner(window_s=2.0, provisional=False)
    p.add_chunk(chunk(0, 0.0, 2.5))
    p.add_chunk(chunk(1, 3.0, 5.5))
    first = p.next_job()
    assert first is not None
    error = p.job_failed(first, RuntimeError("boom"), retry=False)
    assert isinstance(error, LiveError) and not error.fatal and "retrying at stop" in error.message
    assert not p.busy and p.failed == [first.window]
    second = p.next_job()
    assert second is not None
    p.job_done(second, said((3.5, 4.0, "later")), took=1.0, received=6 * SR)
    p.stopping = True
    p.stop_input()
    assert p.next_job() is None and p.finished
    (retry,) = p.retry_jobs()
    assert span(retry) == (0.0, 2.5) and retry.commit
    p.job_done(retry, said((0.5, 1.0, "first")), took=1.0, received=6 * SR, retry=True)
    assert [s.text for s in p.final] == ["first", "later"]
    # A retry that fails again is fatal: the caller raises it.
    assert p.job_failed(retry, RuntimeError("again"), retry=True) is None


def test_a_failed_provisional_decode_is_only_a_notice() -> None:
    p = planner(window_s=16.0)
    p.add_chunk(chunk(0, 0.0, 3.0))
    job = p.next_job()
    assert job is not None and not job.commit
    error = p.job_failed(job, RuntimeError("hiccup"), retry=False)
    assert isinstance(error, LiveError) and "for a moment" in error.message and p.failed == []
    assert p.next_job() is None  # the same provisional decode is not tried again at once
