"""Typed messages and settings of live transcription.

The events (:data:`LiveUpdate`) are what the transcriber reports to the app, the CLI and the
latency benchmark; :class:`LiveConfig` tunes it and :class:`LiveStats` sums a run up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.audio.transcript import Transcript, Word
from coach.audio.vad import SegmenterConfig


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
