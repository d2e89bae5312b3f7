"""Live transcription: windows cut at pauses, no words lost or doubled, a bounded backlog.

Two kinds of tests:

* Unit tests of the transcriber's bookkeeping with a fake engine (:class:`WordEngine`) on real
  speech. The speech is built from individually synthesized words with known positions, so
  the fake can "recognize" exactly the words wholly inside the audio it is given: a word cut
  at a chunk border would be lost (or, with overlap, doubled) and the tests would see it.
* Real runs of the default engine (faster-whisper, the embedded tiny.en) on a 71 s
  synthesized answer: the live transcript against batch transcription of the same audio.
"""

from __future__ import annotations

import difflib
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coach.audio.io import load_audio
from coach.audio.live import (
    CaughtUp,
    ChunkClosed,
    FallingBehind,
    Finished,
    LiveConfig,
    LiveError,
    LiveTranscriber,
    LiveUpdate,
    TextUpdate,
    feed_audio,
    merge_overlap,
)
from coach.audio.protocol import SAMPLE_RATE
from coach.audio.transcript import Segment, Timings, Transcript, Word
from coach.audio.vad import SegmenterConfig
from coach.audio.wer import edit_distance, normalize, wer
from coach.errors import ModelError
from tests.conftest import synthesize

# ------------------------------------------------------------------------------------------
# merge_overlap on hand-built segments
# ------------------------------------------------------------------------------------------


def _seg(*words: tuple[float, float, str]) -> Segment:
    ws = tuple(Word(a, b, t) for a, b, t in words)
    return Segment(ws[0].start, ws[-1].end, " ".join(w.text for w in ws), ws)


def _texts(segments: list[Segment]) -> list[str]:
    return [w.text for s in segments for w in s.words]


def test_merge_overlap_keeps_each_word_from_one_side_of_the_middle() -> None:
    # The overlap is 9.0-10.0 s, its middle 9.5 s.
    left = [_seg((8.0, 8.4, "I"), (8.5, 9.0, "applied"), (9.1, 9.4, "to"), (9.6, 9.95, "few"))]
    right = [_seg((9.12, 9.42, "to"), (9.55, 9.9, "few"), (10.0, 10.6, "programs"))]
    kept_left, kept_right = merge_overlap(left, right, 9.5)
    assert _texts(kept_left) + _texts(kept_right) == ["I", "applied", "to", "few", "programs"]
    # Segment texts and spans follow the words kept.
    assert kept_left[0].text == "I applied to" and kept_left[0].end == 9.4
    assert kept_right[0].text == "few programs" and kept_right[0].start == 9.55


def test_merge_overlap_drops_an_exact_repeat_across_the_border() -> None:
    # Timing jitter puts "late" on both sides of the middle: kept once.
    left = [_seg((4.0, 4.3, "came"), (4.35, 4.6, "in"), (4.7, 5.04, "late"))]
    right = [_seg((4.9, 5.3, "late,"), (5.4, 5.8, "and"))]
    kept_left, kept_right = merge_overlap(left, right, 4.9)
    assert _texts(kept_left) + _texts(kept_right) == ["came", "in", "late", "and"]


def test_merge_overlap_keeps_a_real_repeat_and_segments_without_words() -> None:
    # "very very": the second one starts well after the first ends, so it is kept.
    left = [_seg((1.0, 1.3, "a"), (1.4, 1.7, "very"))]
    right = [_seg((2.2, 2.5, "very"), (2.6, 3.0, "hard")), Segment(3.2, 3.6, "year")]
    boundary = 2.0
    kept_left, kept_right = merge_overlap(left, right, boundary)
    assert _texts(kept_left) + _texts(kept_right) == ["a", "very", "very", "hard"]
    assert kept_right[-1].text == "year"
    # A word-less segment before the middle is dropped from the right side.
    _, kept = merge_overlap(left, [Segment(0.5, 1.5, "noise")], boundary)
    assert kept == []


def test_merge_overlap_with_nothing_on_one_side() -> None:
    right = [_seg((0.0, 0.4, "so"))]
    assert merge_overlap([], right, 0.1) == ([], right)
    assert merge_overlap(right, [], 1.0) == (right, [])


# ------------------------------------------------------------------------------------------
# A fake engine over speech with known word positions
# ------------------------------------------------------------------------------------------

SENTENCES = (
    "I did not match last year",
    "I applied to too few programs",
    "my letters came in late",
    "so I asked my mentors for honest feedback",
    "this year I worked in a combined clinic",
    "and I took the exam again",
    "I learned to ask for help early",
    "and I am ready for intern year",
)
WORD_GAP_S = 0.04  # inside a sentence: too short for a cut
SENTENCE_GAP_S = 0.6


@dataclass(frozen=True)
class SpokenWords:
    audio: np.ndarray
    spans: tuple[tuple[int, int], ...]  # samples of word k
    texts: tuple[str, ...]


@pytest.fixture(scope="module")
def spoken_words(tmp_path_factory: pytest.TempPathFactory) -> SpokenWords:
    """The sentences, each word synthesized on its own and placed at a known position."""
    folder = tmp_path_factory.mktemp("words")
    parts: list[np.ndarray] = [np.zeros(int(0.4 * SAMPLE_RATE), np.float32)]
    pos = len(parts[0])
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    for s, sentence in enumerate(SENTENCES):
        for w, word in enumerate(sentence.split()):
            audio = load_audio(synthesize(word, folder))
            loud = np.flatnonzero(np.abs(audio) > 0.005)
            audio = audio[loud[0] : loud[-1] + 1]
            if w:
                parts.append(np.zeros(int(WORD_GAP_S * SAMPLE_RATE), np.float32))
                pos += len(parts[-1])
            parts.append(audio)
            spans.append((pos, pos + len(audio)))
            texts.append(word)
            pos += len(audio)
        gap = SENTENCE_GAP_S if s < len(SENTENCES) - 1 else 0.8
        parts.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
        pos += len(parts[-1])
    return SpokenWords(np.concatenate(parts), tuple(spans), tuple(texts))


class WordEngine:
    """Fake engine: "recognizes" the known words lying wholly inside the audio it is given.

    Words come back as ``w<k>`` with their true times on the answer's timeline (so offsets
    are checked), one segment per call like the real engines. It can be slowed down, fail to
    load, or fail on chosen calls.
    """

    name = "fake"
    model_name = "known words"

    def __init__(
        self,
        spoken: SpokenWords,
        *,
        delay_s: float = 0.0,
        load_error: Exception | None = None,
        fail_calls: tuple[int, ...] = (),
    ) -> None:
        self.spoken = spoken
        self.delay_s = delay_s
        self.load_error = load_error
        self.fail_calls = fail_calls
        self.calls: list[tuple[float, float, str]] = []  # (offset_s, seconds, context)
        self.busy = threading.Lock()

    def load(self) -> None:
        if self.load_error is not None:
            raise self.load_error

    def transcribe(
        self, audio: np.ndarray, *, offset_s: float = 0.0, context: str = ""
    ) -> Transcript:
        assert self.busy.acquire(blocking=False), "the engine was called from two threads"
        try:
            self.calls.append((offset_s, len(audio) / SAMPLE_RATE, context))
            if len(self.calls) in self.fail_calls:
                raise RuntimeError(f"call {len(self.calls)} failed on purpose")
            time.sleep(self.delay_s)
            start = round(offset_s * SAMPLE_RATE)
            end = start + len(audio)
            words = tuple(
                Word(a / SAMPLE_RATE, b / SAMPLE_RATE, f"w{k}")
                for k, (a, b) in enumerate(self.spoken.spans)
                if start <= a and b <= end
            )
            segments: tuple[Segment, ...] = (
                (Segment(words[0].start, words[-1].end, "", words),) if words else ()
            )
            segments = tuple(replace(s, text=" ".join(w.text for w in s.words)) for s in segments)
            return Transcript(
                " ".join(s.text for s in segments),
                segments,
                len(audio) / SAMPLE_RATE,
                self.name,
                self.model_name,
                Timings(),
            )
        finally:
            self.busy.release()


def _all_words(spoken: SpokenWords) -> list[str]:
    return [f"w{k}" for k in range(len(spoken.spans))]


def _run(
    engine: Any,
    audio: np.ndarray,
    config: LiveConfig | None = None,
    *,
    speed: float | None = None,
) -> tuple[Transcript, LiveTranscriber, list[LiveUpdate]]:
    events: list[LiveUpdate] = []
    live = LiveTranscriber(engine, config=config, on_update=events.append)
    live.start()
    feed_audio(live, audio, speed=speed, keep_up=speed is None)
    transcript = live.stop(timeout=120)
    return transcript, live, events


def test_every_word_once_with_its_true_time(spoken_words: SpokenWords) -> None:
    # Small windows, so there are many window borders.
    config = LiveConfig(window_s=3.0, max_window_s=6.0)
    engine = WordEngine(spoken_words)
    transcript, live, events = _run(engine, spoken_words.audio, config)
    assert [w.text for w in transcript.words] == _all_words(spoken_words)
    for word, (a, b) in zip(transcript.words, spoken_words.spans, strict=True):
        assert (word.start, word.end) == (a / SAMPLE_RATE, b / SAMPLE_RATE)
    assert live.stats.windows >= 4
    assert live.stats.forced_cuts == 0
    assert transcript.duration_s == pytest.approx(len(spoken_words.audio) / SAMPLE_RATE)
    assert transcript.engine == "fake" and transcript.text.startswith("w0 w1")
    # Windows are decoded with the text said before them as context.
    assert any(ctx.endswith(f"w{k}") for _, _, ctx in engine.calls for k in range(3, 40))
    # Text came in while "speaking": provisional decodes and committed windows.
    updates = [e for e in events if isinstance(e, TextUpdate)]
    assert any(u.provisional for u in updates) and any(not u.provisional for u in updates)
    assert all(u.committed == u.text[: len(u.committed)] for u in updates)
    assert isinstance(events[-1], Finished) and events[-1].transcript == transcript
    closed = [e for e in events if isinstance(e, ChunkClosed)]
    assert len(closed) == live.stats.chunks >= len(SENTENCES) - 1
    # Each window ended in a sentence gap (no word straddles a commit border).
    for u in updates:
        if not u.provisional:
            end = round(u.end_s * SAMPLE_RATE)
            assert not any(a < end < b for a, b in spoken_words.spans)


def test_forced_cuts_inside_speech_neither_lose_nor_double_words(
    spoken_words: SpokenWords,
) -> None:
    # Never a pause long enough: every cut falls inside a sentence, with 1 s of overlap.
    segmenter = SegmenterConfig(
        pause_s=5.0, eager_pause_s=5.0, max_chunk_s=2.5, overlap_s=1.0, min_split_pause_s=9.0
    )
    config = LiveConfig(segmenter=segmenter, window_s=2.0, max_window_s=3.0)
    transcript, live, _ = _run(WordEngine(spoken_words), spoken_words.audio, config)
    assert live.stats.forced_cuts >= 3
    assert [w.text for w in transcript.words] == _all_words(spoken_words)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)


def test_the_backlog_stays_bounded_when_transcription_is_slow(spoken_words: SpokenWords) -> None:
    config = LiveConfig(window_s=2.0, max_window_s=4.0, max_pending=2, behind_after_s=4.0)
    engine = WordEngine(spoken_words, delay_s=1.5)
    # Fed at 6x real time: a window closes every ~0.6 s, a call takes 1.5 s.
    transcript, live, events = _run(engine, spoken_words.audio, config, speed=6.0)
    stats = live.stats
    notices = [e for e in events if isinstance(e, FallingBehind)]
    assert notices and "behind" in notices[0].message and stats.fell_behind
    assert stats.max_pending <= config.max_pending
    assert stats.merged >= 1  # waiting windows were merged instead of queued
    assert all(e.pending <= config.max_pending for e in events if isinstance(e, ChunkClosed))
    # Fewer engine calls than windows closed: that is what kept the backlog bounded.
    assert len(engine.calls) < stats.chunks
    # ... and still every word, once.
    assert [w.text for w in transcript.words] == _all_words(spoken_words)
    assert isinstance(events[-1], Finished)


def test_caught_up_after_falling_behind(spoken_words: SpokenWords) -> None:
    config = LiveConfig(window_s=2.0, max_window_s=4.0, max_pending=1, behind_after_s=2.0)
    engine = WordEngine(spoken_words, delay_s=0.6)
    audio = np.concatenate([spoken_words.audio, np.zeros(8 * SAMPLE_RATE, np.float32)])
    transcript, _, events = _run(engine, audio, config, speed=4.0)
    kinds = [type(e) for e in events]
    assert FallingBehind in kinds and CaughtUp in kinds
    assert kinds.index(FallingBehind) < kinds.index(CaughtUp)
    assert [w.text for w in transcript.words] == _all_words(spoken_words)


def test_stop_does_not_wait_for_a_decode_that_only_improves_complete_text(
    spoken_words: SpokenWords,
) -> None:
    config = LiveConfig(upgrade_after_silence_s=1.5)  # the answer ends with 0.8 s of silence
    engine = WordEngine(spoken_words, delay_s=0.05)
    events: list[LiveUpdate] = []
    live = LiveTranscriber(engine, config=config, on_update=events.append)
    live.start()
    feed_audio(live, spoken_words.audio, speed=None, keep_up=True)
    assert live.wait_idle(timeout=30)  # every chunk is decoded: the text is complete
    calls = len(engine.calls)
    engine.delay_s = 3.0
    # More silence: the answer may be over, so the idle worker starts decoding the open
    # window whole (a slow call now) ...
    feed_audio(live, np.zeros(SAMPLE_RATE, np.float32), speed=None)
    deadline = time.monotonic() + 10
    while len(engine.calls) == calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(engine.calls) == calls + 1
    # ... and the user stops meanwhile: the text is already there, stop returns at once.
    t0 = time.monotonic()
    transcript = live.stop(timeout=30)
    assert time.monotonic() - t0 < 1.5
    assert [w.text for w in transcript.words] == _all_words(spoken_words)
    assert isinstance(events[-1], Finished)
    offset, seconds, _ = engine.calls[-1]
    assert offset < 20 < offset + seconds  # it was the whole last window
    time.sleep(3.5)  # the dropped decode ends: nothing changes, nothing fails
    assert live.text == transcript.text
    assert not any(isinstance(e, LiveError) for e in events)


def test_silence_only_gives_an_empty_transcript_without_engine_calls() -> None:
    engine = WordEngine(SpokenWords(np.zeros(0, np.float32), (), ()))
    noise = np.random.default_rng(3).normal(0, 0.002, 6 * SAMPLE_RATE).astype(np.float32)
    transcript, live, _ = _run(engine, noise)
    assert transcript.is_empty and transcript.segments == ()
    assert transcript.duration_s == pytest.approx(6.0)
    assert engine.calls == [] and live.stats.chunks == 0
    assert not live.segmenter.heard_speech


def test_engine_load_failure_is_raised_by_stop_without_hanging(spoken_words: SpokenWords) -> None:
    engine = WordEngine(spoken_words, load_error=ModelError("model file is corrupt", "reinstall"))
    events: list[LiveUpdate] = []
    live = LiveTranscriber(engine, on_update=events.append)
    live.start()
    feed_audio(live, spoken_words.audio, speed=None)
    deadline = time.monotonic() + 10
    while live.error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert isinstance(live.error, ModelError)
    assert not live.wait_idle(timeout=5)
    errors = [e for e in events if isinstance(e, LiveError)]
    assert errors and errors[0].fatal and "model file is corrupt" in errors[0].message
    t0 = time.monotonic()
    with pytest.raises(ModelError, match="corrupt"):
        live.stop(timeout=10)
    assert time.monotonic() - t0 < 5
    assert engine.calls == []


def test_a_failed_window_is_retried_at_stop(spoken_words: SpokenWords) -> None:
    config = LiveConfig(window_s=3.0, max_window_s=6.0, provisional=False)
    engine = WordEngine(spoken_words, fail_calls=(1,))
    transcript, _, events = _run(engine, spoken_words.audio, config)
    errors = [e for e in events if isinstance(e, LiveError)]
    assert len(errors) == 1 and not errors[0].fatal and "retrying" in errors[0].message
    assert [w.text for w in transcript.words] == _all_words(spoken_words)


def test_a_window_failing_twice_is_raised(spoken_words: SpokenWords) -> None:
    config = LiveConfig(window_s=3.0, max_window_s=6.0, provisional=False)
    engine = WordEngine(spoken_words, fail_calls=tuple(range(1, 100)))
    live = LiveTranscriber(engine, config=config)
    live.start()
    feed_audio(live, spoken_words.audio, speed=None, keep_up=True)
    with pytest.raises(RuntimeError, match="on purpose"):
        live.stop(timeout=30)


def test_feed_after_stop_and_stop_without_start(spoken_words: SpokenWords) -> None:
    live = LiveTranscriber(WordEngine(spoken_words))
    live.feed(spoken_words.audio)  # never started: stop() still transcribes everything
    transcript = live.stop(timeout=30)
    assert [w.text for w in transcript.words] == _all_words(spoken_words)
    with pytest.raises(RuntimeError):
        live.feed(spoken_words.audio[:100])


# ------------------------------------------------------------------------------------------
# Real runs: faster-whisper tiny.en on a 71 s synthesized answer
# ------------------------------------------------------------------------------------------

ANSWER = (
    "I did not match into Medicine Pediatrics last year, and I want to be direct about what "
    "happened. I applied to too few programs, my letters came in late, and I did not ask my "
    "advisors for honest feedback early enough. After Match Week I took a week to reset, then "
    "I met with my program director and two faculty mentors to review every part of my "
    "application. Since then I have worked as a research fellow in a combined internal "
    "medicine and pediatrics clinic. I follow young adults with sickle cell disease and "
    "congenital heart disease as they move from pediatric to adult care. I present our "
    "transition data at the regional meeting in the spring, and I took Step 2 again with a "
    "much stronger score. I also started a weekly clinic session where I see patients under "
    "supervision, which kept my clinical skills sharp. This year I applied more broadly, I "
    "asked for letters in July, and I practiced interviews with my mentors every week. The "
    "setback taught me to ask for help earlier and to plan with more care. I am more certain "
    "than ever that Med-Peds is the right fit, because I care about patients across the whole "
    "life span, and I am ready to start intern year with that focus."
)


#: More answers (~60 s each), shared with benchmarks/latency.py.
MORE_ANSWERS: tuple[str, ...] = tuple(
    tomllib.loads((Path(__file__).parent / "data" / "live_answers.toml").read_text("utf-8"))["more"]
)


#: Longer answers from the scorer's labelled sets (tests/data), spoken for the pooled WER:
#: with them the pool is ~2,400 words, so one word moving either way (tiny.en's int8 decode
#: is not bit-for-bit repeatable across runs) shifts the pooled WER by 0.04 points, not 0.15.
POOL_ANSWERS = {
    "answers.toml": ("tm-mixed-long", "wmp-mixed-long", "fm-bad-overlong", "tm-good-story"),
    "answers_fresh.toml": (
        "fr-tm-mixed-long",
        "fr-wmp-mixed-rambling",
        "fr-gy-good-fqhc",
        "fr-fm-good-conversational",
    ),
}


def pool_answers() -> list[str]:
    texts: list[str] = []
    for name, ids in POOL_ANSWERS.items():
        with (Path(__file__).parent / "data" / name).open("rb") as f:
            by_id = {a["id"]: a["text"] for a in tomllib.load(f)["answers"]}
        texts += [by_id[i] for i in ids]
    return texts


@dataclass(frozen=True)
class RealRun:
    audio: np.ndarray
    batch: Transcript
    live: Transcript
    stats: Any
    events: list[LiveUpdate]


@pytest.fixture(scope="module")
def answer_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(ANSWER, tmp_path_factory.mktemp("answer"))


@pytest.fixture(scope="module")
def real_run(faster_engine: Any, answer_wav: Path) -> RealRun:
    """One live run (fed as fast as the worker keeps up) and one batch run of the answer."""
    audio = load_audio(answer_wav)
    batch = faster_engine.transcribe(audio)
    transcript, live, events = _run(faster_engine, audio)
    return RealRun(audio, batch, transcript, live.stats, events)


def _matched_words(a: tuple[Word, ...], b: tuple[Word, ...]) -> list[tuple[Word, Word]]:
    """Pairs of identical words (after normalization) in the two transcripts, in order."""
    na = [normalize(w.text) for w in a]
    nb = [normalize(w.text) for w in b]
    pairs: list[tuple[Word, Word]] = []
    for block in difflib.SequenceMatcher(None, na, nb, autojunk=False).get_matching_blocks():
        pairs += [(a[block.a + i], b[block.b + i]) for i in range(block.size)]
    return pairs


def _pooled_wer(runs: list[tuple[str, str, str]]) -> tuple[float, float]:
    """Batch and live WER over all ``(reference, batch text, live text)`` runs together."""
    words = batch = live = 0
    for reference, batch_text, live_text in runs:
        ref = normalize(reference).split()
        words += len(ref)
        batch += edit_distance(ref, normalize(batch_text).split())
        live += edit_distance(ref, normalize(live_text).split())
    return batch / words, live / words


@pytest.mark.audio
@pytest.mark.slow
def test_live_text_is_as_good_as_batch(
    real_run: RealRun, faster_engine: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Live WER ≤ batch WER + 1 point, pooled over twelve answers (~15 min of speech).

    Pooled, because tiny.en is chaotic on any one answer: the slightest change of the audio
    it is given moves a few words either way (prepending 0.1 s of silence to a 71 s answer
    moved batch WER from 7.8 % to 12.4 %), so one answer's live-minus-batch difference
    swings by about two points in both directions, while over many answers it averages out
    (ten answers in the latency work: 7.76 % live, 7.76 % batch).
    """
    assert 60 <= len(real_run.audio) / SAMPLE_RATE <= 90
    assert real_run.stats.windows >= 3  # it really was cut into windows
    assert real_run.stats.provisional >= 3  # and the text grew while "speaking"
    folder = tmp_path_factory.mktemp("corpus")
    runs = [(ANSWER, real_run.batch.text, real_run.live.text)]
    for text in (*MORE_ANSWERS, *pool_answers()):
        audio = load_audio(synthesize(text, folder))
        live, _, _ = _run(faster_engine, audio)
        runs.append((text, faster_engine.transcribe(audio).text, live.text))
    for reference, batch_text, _ in runs:
        assert wer(reference, batch_text) < 0.25, batch_text  # the model works on each answer
    batch_wer, live_wer = _pooled_wer(runs)
    assert live_wer <= batch_wer + 0.01, (live_wer, batch_wer)


@pytest.mark.audio
@pytest.mark.slow
def test_live_word_times_are_on_the_answer_timeline(real_run: RealRun) -> None:
    words = real_run.live.words
    assert len(words) > 150
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(w.start <= w.end for w in words)
    assert words[-1].end <= len(real_run.audio) / SAMPLE_RATE + 0.1
    pairs = _matched_words(words, real_run.batch.words)
    assert len(pairs) >= 0.85 * len(words)
    diffs = np.array([abs(a.start - b.start) for a, b in pairs])
    assert np.median(diffs) <= 0.1 and np.quantile(diffs, 0.9) <= 0.5, diffs.max()
    # The segments hold the words (one per decoded window, like batch).
    assert tuple(w for s in real_run.live.segments for w in s.words) == words


def _border_problems(
    live: Transcript, batch: Transcript, borders: list[tuple[float, float]]
) -> list[Any]:
    """Reference words lost, or live words added, where two decodes meet.

    ``borders`` are stretches of time (a cut in a pause, or a forced cut's overlap). The live
    words are aligned to the reference; a reference word missing next to a live word in such
    a stretch (a deletion) or a live word added there (an insertion) would be a border loss
    or a doubled word. Recognition errors (substitutions) are the model's, not the border's;
    so is a deletion that batch transcription makes too.
    """
    ref = normalize(ANSWER).split()
    flat: list[str] = []
    times: list[float] = []  # middle of the live word each normalized token belongs to
    for word in live.words:
        for part in normalize(word.text).split():
            flat.append(part)
            times.append((word.start + word.end) / 2)
    batch_ops = difflib.SequenceMatcher(None, ref, normalize(batch.text).split(), autojunk=False)
    batch_deleted = {
        i for tag, i1, i2, _, _ in batch_ops.get_opcodes() if tag == "delete" for i in range(i1, i2)
    }
    ops = difflib.SequenceMatcher(None, ref, flat, autojunk=False).get_opcodes()
    problems: list[Any] = []
    for lo, hi in borders:
        tokens = [j for j, t in enumerate(times) if lo <= t <= hi]
        # The stretch may fall between two words: take the token on each side as well.
        first = next((j for j, t in enumerate(times) if t >= lo), len(times) - 1)
        near = set(tokens) | {max(0, first - 1), first}
        for tag, i1, i2, j1, j2 in ops:
            if tag == "delete" and ({j1 - 1, j1} & near):
                missing = [ref[i] for i in range(i1, i2) if i not in batch_deleted]
                if missing:
                    problems.append(("lost at", lo, hi, missing))
            if tag == "insert" and set(range(j1, j2)) & near:
                problems.append(("added at", lo, hi, flat[j1:j2]))
    return problems


@pytest.mark.audio
@pytest.mark.slow
def test_no_word_is_lost_or_doubled_at_window_borders(real_run: RealRun) -> None:
    borders = [
        (e.end_s - 0.3, e.end_s + 0.3)
        for e in real_run.events
        if isinstance(e, TextUpdate)
        and not e.provisional
        and e.end_s < real_run.live.duration_s - 1
    ]
    assert len(borders) >= 2
    assert _border_problems(real_run.live, real_run.batch, borders) == []


@pytest.mark.audio
@pytest.mark.slow
def test_forced_cuts_inside_speech_with_the_real_engine(
    faster_engine: Any,
    real_run: RealRun,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Real decodes meeting inside speech: every word both sides heard is kept exactly once.

    Each merge is checked on the two real decodes it got: words outside the shared audio are
    all kept, a word both decodes agree on (same text, same place) is kept once, nothing is
    invented. What one decode alone heard in the overlap is the model's call, not the merge's.

    The cost in accuracy is pooled over four answers, for the reason given in
    test_live_text_is_as_good_as_batch: on one answer it swung from +1.8 to +4.2 points between
    runs and CPUs, and a fixed +4 bound on that one answer failed CI once (+4.2). Pooled, eleven
    runs (AVX-512 and AVX2, 2026-12-04) cost 3.1 to 5.1 points with a cut every 8 s (the app
    cuts at 30 s, and only when the speaker never pauses). A merge that dropped the shared
    stretch would lose about a quarter of the words; the bound is 8 points.
    """
    import coach.audio.live.merge as live_module

    merges: list[tuple[list[Word], list[Word], tuple[float, float], list[Word]]] = []
    real_merge = live_module.merge_overlap

    def recording_merge(
        left: list[Segment], right: list[Segment], boundary: float, overlap: Any = None
    ) -> tuple[list[Segment], list[Segment]]:
        kept_left, kept_right = real_merge(left, right, boundary, overlap)
        if right and overlap is not None:
            words = [w for part in (left, right) for s in part for w in s.words]
            kept = [w for part in (kept_left, kept_right) for s in part for w in s.words]
            merges.append((words[: sum(len(s.words) for s in left)], words, overlap, kept))
        return kept_left, kept_right

    monkeypatch.setattr(live_module, "merge_overlap", recording_merge)
    # Pauses are ignored: every window is cut inside speech after 8 s, with 2 s of overlap.
    segmenter = SegmenterConfig(
        pause_s=9.0, eager_pause_s=9.0, max_chunk_s=8.0, overlap_s=2.0, min_split_pause_s=9.0
    )
    transcript, live, _ = _run(faster_engine, real_run.audio, LiveConfig(segmenter=segmenter))
    assert live.stats.forced_cuts >= 6 and live.stats.windows >= 6
    assert len(merges) >= live.stats.forced_cuts  # (the display merges too)
    for left_words, all_words, (lo, hi), kept in merges:
        right_words = all_words[len(left_words) :]
        assert all(w in kept for w in left_words if w.end <= lo)
        assert all(w in kept for w in right_words if w.start >= hi)
        assert all(w in left_words or w in right_words for w in kept)
        for lw in left_words:
            for rw in right_words:
                same = normalize(lw.text) == normalize(rw.text) and abs(lw.start - rw.start) < 0.3
                if same and lo <= lw.start <= hi:
                    assert (lw in kept) + (rw in kept) == 1, (lw, rw, kept)
        mids = [(w.start + w.end) / 2 for w in kept]
        assert mids == sorted(mids)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    # Cutting inside words costs a little accuracy, not whole phrases.
    runs = [(ANSWER, real_run.batch.text, transcript.text)]
    folder = tmp_path_factory.mktemp("forced")
    for text in MORE_ANSWERS:
        audio = load_audio(synthesize(text, folder))
        cut, _, _ = _run(faster_engine, audio, LiveConfig(segmenter=segmenter))
        runs.append((text, faster_engine.transcribe(audio).text, cut.text))
    batch_wer, cut_wer = _pooled_wer(runs)
    assert cut_wer <= batch_wer + 0.08, (cut_wer, batch_wer)


@pytest.fixture
def slow_engine(faster_engine: Any) -> Iterator[Any]:
    class Slowed:
        """The real engine, 2 s slower per call (a slow CPU or a large model)."""

        name = faster_engine.name
        model_name = faster_engine.model_name

        def load(self) -> None:
            faster_engine.load()

        def transcribe(self, audio: Any, *, offset_s: float = 0.0, context: str = "") -> Any:
            time.sleep(2.0)
            return faster_engine.transcribe(audio, offset_s=offset_s, context=context)

    yield Slowed()


@pytest.mark.audio
@pytest.mark.slow
def test_backlog_bound_with_the_real_engine_slowed_down(
    slow_engine: Any, real_run: RealRun
) -> None:
    config = LiveConfig(window_s=8.0, max_window_s=12.0, max_pending=2, behind_after_s=15.0)
    # Fed at 6x real time (12 s for 71 s of speech): a window closes every ~1.5 s, and a
    # call takes over 2 s.
    transcript, live, events = _run(slow_engine, real_run.audio, config, speed=6.0)
    stats = live.stats
    assert any(isinstance(e, FallingBehind) for e in events) and stats.fell_behind
    assert stats.max_pending <= config.max_pending and stats.merged >= 1
    assert all(e.pending <= config.max_pending for e in events if isinstance(e, ChunkClosed))
    # Complete anyway: every part of the answer is there (merged windows are decoded in
    # longer pieces, so the words differ a little from batch's, not whole phrases).
    assert wer(ANSWER, transcript.text) <= wer(ANSWER, real_run.batch.text) + 0.05
    assert len(transcript.words) >= 0.95 * len(real_run.batch.words)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)


@pytest.mark.audio
@pytest.mark.slow
def test_real_engine_silence_and_load_failure(faster_engine: Any, tmp_path: Path) -> None:
    from coach.audio.engines import create_engine

    silent, _, _ = _run(faster_engine, np.zeros(4 * SAMPLE_RATE, np.float32))
    assert silent.is_empty and silent.engine == "faster-whisper"
    broken = create_engine("faster-whisper", str(tmp_path))  # a folder without a model
    live = LiveTranscriber(broken)
    live.start()
    live.feed(np.zeros(SAMPLE_RATE, np.float32))
    with pytest.raises(ModelError):
        live.stop(timeout=60)
