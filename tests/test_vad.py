"""Streaming Silero VAD and the pause segmenter, on real synthesized speech.

The VAD is the ONNX model bundled with faster-whisper (no download); the speech comes from
espeak-ng. Sentences are joined with known silences so the tests know where the pauses are.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coach.audio.io import load_audio
from coach.audio.vad import (
    SAMPLE_RATE,
    WINDOW,
    PauseSegmenter,
    SegmenterConfig,
    SileroVad,
    SpeechChunk,
    speech_probabilities,
)

pytestmark = pytest.mark.audio

SENTENCES = (
    "I did not match last year, and I want to be direct about it.",
    "I applied to too few programs and asked for feedback too late.",
    "This year I worked in a combined clinic and took Step 2 again.",
    "I am ready to start intern year in Medicine Pediatrics.",
)
GAP_S = 0.8  # silence between sentences


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@pytest.fixture
def spoken(speech: Callable[..., Path]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Four sentences with GAP_S of silence between them; returns (audio, gap ranges)."""
    parts: list[np.ndarray] = [_silence(0.3)]
    gaps: list[tuple[int, int]] = []
    pos = len(parts[0])
    for i, text in enumerate(SENTENCES):
        audio = load_audio(speech(text))
        # espeak pads each file with a little silence; trim it so the gaps are exact.
        loud = np.flatnonzero(np.abs(audio) > 0.01)
        audio = audio[loud[0] : loud[-1] + 1]
        parts.append(audio)
        pos += len(audio)
        if i < len(SENTENCES) - 1:
            gaps.append((pos, pos + int(GAP_S * SAMPLE_RATE)))
            parts.append(_silence(GAP_S))
            pos += int(GAP_S * SAMPLE_RATE)
    parts.append(_silence(0.5))
    return np.concatenate(parts), gaps


def _push_all(
    seg: PauseSegmenter, audio: np.ndarray, block: int = 1024, *, eager: bool = False
) -> list[SpeechChunk]:
    chunks: list[SpeechChunk] = []
    for i in range(0, len(audio), block):
        chunks += seg.push(audio[i : i + block], eager=eager)
    tail = seg.finish()
    return chunks + ([tail] if tail else [])


def test_streaming_probabilities_equal_a_whole_file_pass(
    spoken: tuple[np.ndarray, list[tuple[int, int]]],
) -> None:
    audio, _ = spoken
    audio = audio[: len(audio) - len(audio) % WINDOW]
    whole = SileroVad().process(audio)
    vad = SileroVad()
    rng = np.random.default_rng(7)
    pieces: list[np.ndarray] = []
    i = 0
    while i < len(audio):
        n = int(rng.integers(1, 3000))  # odd sizes: windows straddle the pieces
        pieces.append(vad.process(audio[i : i + n]))
        i += n
    streamed = np.concatenate(pieces)
    assert len(whole) == len(streamed) == len(audio) // WINDOW
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    # ... and they are faster-whisper's own probabilities (its pass zeroes the last window's
    # final samples in place, so the last window is left out).
    from faster_whisper.vad import get_vad_model

    theirs = np.asarray(get_vad_model()(audio.copy())).reshape(-1)
    np.testing.assert_allclose(whole[:-1], theirs[: len(whole) - 1], atol=1e-4)
    assert whole.max() > 0.9 and whole.min() < 0.1  # it does hear speech and silence
    np.testing.assert_allclose(speech_probabilities(audio), whole, atol=1e-5)


def test_cuts_fall_inside_the_pauses(spoken: tuple[np.ndarray, list[tuple[int, int]]]) -> None:
    audio, gaps = spoken
    seg = PauseSegmenter(SegmenterConfig(min_chunk_s=1.0))
    chunks = _push_all(seg, audio)
    assert len(chunks) == len(SENTENCES)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert not any(c.final for c in chunks[:-1])
    assert not any(c.forced for c in chunks)
    for chunk, (gap_start, gap_end) in zip(chunks, gaps, strict=False):
        assert gap_start <= chunk.end <= gap_end, (chunk, gap_start, gap_end)
        # Nothing audible at the cut.
        assert np.abs(audio[chunk.end - 160 : chunk.end + 160]).max() < 0.01
    # The chunks tile the speech: each starts where the previous ended, or later in silence.
    for a, b in itertools.pairwise(chunks):
        assert b.start >= a.end
        assert np.abs(audio[a.end : b.start]).max(initial=0.0) < 0.01
    # The last sentence closed at the trailing pause too: nothing was left for finish().
    assert not chunks[-1].final and chunks[-1].end < len(audio)
    assert seg.heard_speech


def test_eager_mode_closes_short_last_clauses_at_shorter_pauses(
    spoken: tuple[np.ndarray, list[tuple[int, int]]],
) -> None:
    audio, _ = spoken
    lazy = _push_all(PauseSegmenter(SegmenterConfig(min_chunk_s=60.0)), audio)
    eager = _push_all(PauseSegmenter(SegmenterConfig(min_chunk_s=60.0)), audio, eager=True)
    # min_chunk_s=60: without eager mode nothing closes before finish().
    assert len(lazy) == 1 and lazy[0].final
    assert len(eager) == len(SENTENCES) and not eager[0].final


def test_chunks_never_exceed_max_and_long_speech_is_cut_at_its_longest_short_pause(
    spoken: tuple[np.ndarray, list[tuple[int, int]]],
) -> None:
    audio, _ = spoken
    cfg = SegmenterConfig(min_chunk_s=100.0, pause_s=5.0, max_chunk_s=6.0)
    chunks = _push_all(PauseSegmenter(cfg), audio)
    assert len(chunks) >= 2
    for c in chunks:
        assert c.duration_s <= cfg.max_chunk_s + WINDOW / SAMPLE_RATE
    # Sentences are ~3 s long with 0.8 s gaps: every cut finds a pause, none is forced.
    assert not any(c.forced for c in chunks)
    for c in chunks[:-1]:
        assert np.abs(audio[c.end - 160 : c.end + 160]).max() < 0.01


def test_speech_without_pauses_is_force_cut_with_overlap(
    spoken: tuple[np.ndarray, list[tuple[int, int]]],
) -> None:
    audio, _ = spoken
    # No pause is long enough to split at: cuts fall inside speech, with overlap.
    cfg = SegmenterConfig(
        min_chunk_s=100.0, pause_s=5.0, max_chunk_s=4.0, overlap_s=1.0, min_split_pause_s=9.0
    )
    chunks = _push_all(PauseSegmenter(cfg), audio)
    forced = [c for c in chunks if c.forced]
    assert forced
    for a, b in itertools.pairwise(chunks):
        if a.forced:
            # The next chunk starts overlap_s before this one ends (the cut point, where speech
            # was least likely, is in the middle of the overlap).
            assert abs(a.end - b.start - cfg.overlap_s * SAMPLE_RATE) <= 2 * WINDOW
        assert a.duration_s <= cfg.max_chunk_s + WINDOW / SAMPLE_RATE
    # Together the chunks still cover every audible sample.
    covered = np.zeros(len(audio), dtype=bool)
    for c in chunks:
        covered[c.start : c.end] = True
    loud = np.abs(audio) > 0.02
    assert covered[loud].all()


def test_silence_only_gives_no_chunk() -> None:
    seg = PauseSegmenter()
    audio = _silence(5.0)
    noise = np.random.default_rng(1).normal(0, 0.002, len(audio)).astype(np.float32)
    assert _push_all(seg, audio + noise) == []
    assert not seg.heard_speech
    assert seg.trailing_silence_s == pytest.approx(5.0, abs=0.05)


def test_leading_silence_is_dropped_beyond_the_lead_in(speech: Callable[..., Path]) -> None:
    voice = load_audio(speech("I learned to ask for help early."))
    audio = np.concatenate([_silence(4.0), voice, _silence(1.0)])
    cfg = SegmenterConfig()
    seg = PauseSegmenter(cfg)
    chunks = _push_all(seg, audio)
    assert len(chunks) == 1
    onset = int(np.flatnonzero(np.abs(audio) > 0.01)[0])
    lead = int(cfg.lead_pad_s * SAMPLE_RATE)
    assert onset - lead - WINDOW <= chunks[0].start <= onset
    # The trailing second of silence is trimmed to the tail pad.
    offset = int(np.flatnonzero(np.abs(audio) > 0.01)[-1])
    assert chunks[0].end <= offset + int(cfg.tail_pad_s * SAMPLE_RATE) + 2 * WINDOW
    assert seg.trailing_silence_s > 0.5
    with pytest.raises(RuntimeError):
        seg.push(voice)
