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

The package: :mod:`~coach.audio.live.events` (typed messages, settings, stats),
:mod:`~coach.audio.live.merge` (pure functions joining neighbouring decodes),
:mod:`~coach.audio.live.planner` (every decision, without threads or a clock, tested
deterministically) and :mod:`~coach.audio.live.worker` (the threaded transcriber).
"""

from coach.audio.live.events import (
    CaughtUp,
    ChunkClosed,
    FallingBehind,
    Finished,
    LiveConfig,
    LiveError,
    LiveStats,
    LiveUpdate,
    TextUpdate,
)
from coach.audio.live.merge import AGREE_S, merge_overlap
from coach.audio.live.planner import LivePlanner
from coach.audio.live.worker import LiveTranscriber, feed_audio

__all__ = [
    "AGREE_S",
    "CaughtUp",
    "ChunkClosed",
    "FallingBehind",
    "Finished",
    "LiveConfig",
    "LiveError",
    "LivePlanner",
    "LiveStats",
    "LiveTranscriber",
    "LiveUpdate",
    "TextUpdate",
    "feed_audio",
    "merge_overlap",
]
