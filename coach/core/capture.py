"""One spoken answer: recorder (or a file) -> live transcriber -> final transcript.

:class:`AnswerCapture` is the only place the recorder and the live transcriber are wired
together, for the app and for ``coach rehearse``. The order is fixed: the recorder opens the
microphone first (no device, busy device: a :class:`~coach.errors.RecordingError` before any
thread exists), then the transcriber's worker starts; blocks that arrive in between wait in
the transcriber, which also loads the model while the user is already speaking.

A file goes through the same transcriber (:meth:`AnswerCapture.feed_file`): as fast as the
worker keeps up (each block waits until it is idle, so the file is cut and decoded as a
recording would be on a fast machine), or in real time.

Native threads: the transcriber's worker runs CTranslate2 / PyTorch decodes and the
recorder's writer thread runs the Silero VAD (onnxruntime). If the interpreter exits while
one of them is inside native code, the process dies with "terminate called without an active
exception" (134) or a segfault (139). So :meth:`AnswerCapture.stop` joins the worker, every
started worker is registered, and front ends call :func:`join_native_workers` before exiting
(or :func:`exit_now`, which skips interpreter teardown, when the user abandons).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CoachError, RecordingError

if TYPE_CHECKING:
    from coach.audio.live import LiveTranscriber, LiveUpdate
    from coach.audio.protocol import Engine
    from coach.audio.recorder import Recorder
    from coach.audio.transcript import Transcript
    from coach.settings import Settings

#: The app's answer limit when a question sets none (a safety net, not a target).
MAX_ANSWER_S = 900.0


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """What a stopped capture produced: the final transcript and the WAV on disk."""

    transcript: Transcript
    audio_path: Path | None
    note: str = ""  # e.g. "transcription fell behind and finished after stop"
    recording_s: float = 0.0  # seconds recorded (or fed from the file)
    stop_to_transcript_s: float = 0.0
    stopped_at: float = 0.0  # perf_counter() when recording stopped
    stop_reason: str = "stopped"
    ended_early: RecordingError | None = None  # the device was lost or the disk filled


class Abandoned(CoachError):
    """The user gave up on finishing the transcript (a second Ctrl-C); the WAV is kept."""


# -- native worker threads ---------------------------------------------------------------------

_workers: set[threading.Thread] = set()
_workers_lock = threading.Lock()


def _register(live: LiveTranscriber) -> None:
    # LiveTranscriber keeps its worker thread private; it is the one thread that decodes.
    worker = getattr(live, "_worker", None)
    if isinstance(worker, threading.Thread):
        with _workers_lock:
            _workers.add(worker)


def _join(live: LiveTranscriber, timeout: float | None = None) -> bool:
    worker = getattr(live, "_worker", None)
    if isinstance(worker, threading.Thread):
        worker.join(timeout)
        if worker.is_alive():
            return False
        with _workers_lock:
            _workers.discard(worker)
    return True


def join_native_workers(timeout: float = 60.0) -> bool:
    """Wait until no transcription worker is inside a decode; False if one still is."""
    deadline = time.monotonic() + timeout
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    with _workers_lock:
        _workers.difference_update(w for w in workers if not w.is_alive())
        return not _workers


def exit_now(code: int) -> None:
    """Exit at once with ``code``, without interpreter teardown under a running decode.

    Only for an abandoned answer: everything worth keeping (the WAV) is closed already.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


# -- one answer --------------------------------------------------------------------------------


def new_recording_path(prefix: str = "answer") -> Path:
    """A fresh WAV path in the recordings folder, e.g. ``answer-20261201-231500-123456.wav``."""
    from coach import paths

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return paths.recordings_dir() / f"{prefix}-{stamp}.wav"


class AnswerCapture:
    """Recorder (or a file) -> :class:`~coach.audio.live.LiveTranscriber` for one answer.

    ``engine`` is an engine or a function returning one (the app loads it in the worker that
    calls :meth:`start`). ``start``, ``feed_file`` and ``stop`` may block; the properties
    are cheap and polled by the UI a few times a second.
    """

    def __init__(
        self,
        engine: Engine | Callable[[], Engine],
        *,
        device: str | None = None,
        max_seconds: float = MAX_ANSWER_S,
        on_update: Callable[[LiveUpdate], None] | None = None,
        prefix: str = "answer",
    ) -> None:
        self._engine = engine
        self.device = device
        self.max_seconds = max_seconds
        self.on_update = on_update
        self.prefix = prefix
        self.recorder: Recorder | None = None
        self.live: LiveTranscriber | None = None
        self.path: Path | None = None
        self._fed_s = 0.0
        self._source: Path | None = None
        self._abandoned = False  # set by abandon(), from any thread

    def _new_live(self) -> LiveTranscriber:
        from coach.audio.live import LiveTranscriber

        engine = self._engine if not callable(self._engine) else self._engine()
        return LiveTranscriber(engine, on_update=self.on_update)

    def start(self) -> None:
        """Open the microphone and record; raises RecordingError / ModelError."""
        from coach.audio.recorder import Recorder

        live = self._new_live()
        path = new_recording_path(self.prefix)
        recorder = Recorder(
            path, device=self.device, max_seconds=self.max_seconds, on_block=live.feed
        )
        recorder.start()  # no device, busy device: an error before any thread exists
        live.start()
        _register(live)
        self.live, self.recorder, self.path = live, recorder, path

    def feed_file(
        self,
        samples: Any,
        source: Path,
        *,
        realtime: bool = False,
        should_stop: Callable[[], bool] | None = None,
    ) -> float:
        """Feed a recorded answer (16 kHz mono float32) as a microphone would; returns seconds fed.

        ``realtime``: at the speed it was spoken; otherwise as fast as the worker keeps up.
        """
        from coach.audio.live import feed_audio

        live = self._new_live()
        live.start()
        _register(live)
        self.live, self._source = live, source
        self._fed_s = feed_audio(
            live,
            samples,
            speed=1.0 if realtime else None,
            keep_up=not realtime,
            should_stop=should_stop,
        )
        return self._fed_s

    # -- what the UI polls -----------------------------------------------------------------

    @property
    def level_dbfs(self) -> float | None:
        """The latest input level (RMS, dBFS) or None before the first block."""
        if self.recorder is None:
            return None
        status = self.recorder.status()
        return status.rms_dbfs if status.elapsed_s > 0 else None

    @property
    def elapsed_s(self) -> float:
        return self.recorder.status().elapsed_s if self.recorder else self._fed_s

    def live_text(self) -> str:
        return self.live.text if self.live else ""

    def take_warnings(self) -> list[str]:
        """New warnings since the last call (silence, clipping, falling behind), as sentences."""
        from coach.audio.live import FallingBehind, LiveError
        from coach.audio.recorder import (
            ClippingWarning,
            DeviceLost,
            OverflowWarning,
            SilenceWarning,
        )

        out: list[str] = []
        if self.recorder is not None:
            for event in self.recorder.poll_events():
                if isinstance(event, SilenceWarning | ClippingWarning | OverflowWarning):
                    out.append(event.message[0].upper() + event.message[1:] + ".")
                elif isinstance(event, DeviceLost):
                    out.append(
                        f"The microphone stopped ({event.message}); what you said is kept. "
                        "Press space to get feedback on it, or t to type."
                    )
        if self.live is not None:
            for update in self.live.drain():
                if isinstance(update, FallingBehind | LiveError):
                    out.append(update.message)
        return out

    # -- the end of an answer --------------------------------------------------------------

    def stop(
        self, reason: str = "stopped", abandon: Callable[[], bool] | None = None
    ) -> CaptureResult:
        """Stop recording (or feeding) and finish the transcript; joins the decoding thread.

        ``abandon`` is polled while the transcript finishes: when it returns True,
        :class:`Abandoned` is raised (the WAV is kept; the decode may still be running, so
        leave with :func:`exit_now`). :meth:`abandon`, from another thread, does the same.
        Engine failures name the kept recording.
        """
        given = abandon

        def abandoned() -> bool:
            return self._abandoned or (given is not None and given())

        live = self.live
        if live is None:
            raise CoachError("the recording never started", "press r to try again")
        ended_early: RecordingError | None = None
        path: Path | None  # named in errors: the WAV, or the user's file
        kept: Path | None  # the WAV this capture wrote (none for a file)
        if self.recorder is not None:
            result = self.recorder.stop()
            stopped_at = time.perf_counter()
            if result.error is not None and result.frames == 0:
                self._finish_quietly()
                raise result.error
            if result.error is not None:
                # Unplugged mid-answer or disk full: score what was kept, and say so.
                ended_early, reason = result.error, result.stop_reason
            recording_s, path, kept = result.duration_s, result.path, result.path
        else:
            stopped_at = time.perf_counter()
            recording_s, path, kept = self._fed_s, self._source, None
        transcript = self._finish(live, path, abandoned)
        note = ""
        if ended_early is not None:
            note = f"The recording ended early ({ended_early.message}); the part you said is kept."
        elif live.stats.fell_behind:
            note = "Transcription fell behind while you spoke and caught up after you stopped."
        return CaptureResult(
            transcript,
            kept,
            note,
            recording_s,
            time.perf_counter() - stopped_at,
            stopped_at,
            reason,
            ended_early,
        )

    def _finish(
        self, live: LiveTranscriber, path: Path | None, abandon: Callable[[], bool]
    ) -> Transcript:
        """``live.stop()`` in a helper thread, so that the caller can still react to signals."""
        box: dict[str, Any] = {}

        def finish() -> None:
            try:
                box["transcript"] = live.stop()
                _join(live)  # stop() may return before an optional last decode ends
            except BaseException as exc:
                box["error"] = exc

        finisher = threading.Thread(target=finish, name="coach-finish-answer")
        finisher.start()
        while True:
            # Checked before waiting: a second Ctrl-C that came before stop() abandons too.
            if not abandon():
                if not finisher.is_alive():
                    break
                finisher.join(0.05)
                continue
            where = f"; the recording is kept at {path}" if path else ""
            fix = (
                f"score it with `coach score --question ID --audio {path}`"
                if path
                else "run it again"
            )
            raise Abandoned(f"stopped before the transcript was finished{where}", fix)
        error = box.get("error")
        if error is None:
            transcript: Transcript = box["transcript"]
            return transcript
        where = f"; the recording is kept at {path}" if path else ""
        if isinstance(error, CoachError):
            raise CoachError(f"{error.message}{where}", error.fix) from None
        fix = f"score it later with `coach score --audio {path}`" if path else "try again"
        raise CoachError(f"transcription failed ({error}){where}", fix) from None

    def _finish_quietly(self) -> None:
        if self.live is not None:
            with contextlib.suppress(Exception):
                self.live.stop()
            _join(self.live)

    def abandon(self) -> Path | None:
        """Give up on finishing the transcript (a second quit); returns the WAV kept on disk.

        Never blocks: it only tells :meth:`stop`, running (or about to run) in another
        thread, to raise :class:`Abandoned` instead of waiting for the decode. The decode may
        still be running afterwards, so the front end leaves with :func:`exit_now`.
        """
        self._abandoned = True
        return self.path

    def cancel(self) -> Path | None:
        """Stop without transcribing (skip / typing instead / quit); returns the kept WAV.

        Waits for the transcriber's worker, so no decode is left running.
        """
        if self.recorder is not None:
            with contextlib.suppress(Exception):
                self.recorder.stop()
        self._finish_quietly()
        return self.path


def microphone_capture(settings: Settings, max_seconds: float = MAX_ANSWER_S) -> AnswerCapture:
    """The app's capture for ``settings``: engine, model and device from :mod:`coach.core.speech`."""
    from coach.core import speech

    return AnswerCapture(
        lambda: speech.get_engine(settings),
        device=speech.resolve(settings).device,
        max_seconds=max_seconds,
    )
