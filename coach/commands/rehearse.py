"""``coach rehearse``: answer one question out loud, without the app, and get scored feedback.

The question is printed, then the answer is recorded from the default input (or ``--device``)
while :class:`~coach.audio.live.LiveTranscriber` transcribes it window by window. Recording
stops at ``--seconds`` (default: the question's hard time limit), on Enter (only when standard
input is a terminal; scripts and CI never wait for it), or after ``--silence`` seconds of
silence once speech was heard. Then only the tail is left to transcribe; the answer is scored,
saved to the history (session mode ``rehearse``, with the WAV in the data dir) and printed.

``--audio FILE`` sends a recording through the *same* live pipeline instead of the
microphone. By default it is fed as fast as the transcription worker keeps up (each block
waits until the worker is idle), which cuts and decodes the answer exactly as a live recording
on a fast machine would, without waiting in real time; ``--realtime`` feeds it at the speed it
was spoken, like a microphone. The user's file is never changed; a 16 kHz WAV copy is saved.

Live text goes to standard error (a status line on a terminal, final lines otherwise); the
result goes to standard output, as text or (``--json``) as the ``coach score`` fields plus
``transcript`` ``{text, segments}``, ``timings`` ``{recording_s, stop_to_transcript_s,
stop_to_score_s}``, ``attempt_id`` and ``session_id``.

Every problem (unknown question, missing or corrupt file, no input device, no speech, the
engine failing, Ctrl-C) is one line on standard error and exit code 2; whatever was recorded
is kept and its path is named.
"""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import signal
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from coach.commands.options import SECONDS, SILENCE
from coach.errors import CoachError, StoreError
from coach.settings import ENGINES

if TYPE_CHECKING:
    from coach.audio.live import LiveTranscriber, LiveUpdate
    from coach.audio.protocol import Engine
    from coach.audio.transcript import Transcript
    from coach.questions import Question
    from coach.scoring.report import ScoreReport

#: Default for --silence: a long thinking pause mid-answer is shorter than this.
SILENCE_STOP_S = 6.0


class Interrupted(CoachError):
    """Ctrl-C or SIGTERM while recording or transcribing."""


@dataclass
class _Capture:
    """What the recording phase produced."""

    transcript: Transcript
    audio_path: Path
    recording_s: float
    stop_to_transcript_s: float
    stopped_at: float  # perf_counter() when recording stopped
    stop_reason: str
    note: str = ""


# -- live text on standard error ---------------------------------------------------------------


class _LiveText:
    """Shows the live transcript: a rewritten status line on a terminal, final lines otherwise."""

    def __init__(self, *, tty: bool) -> None:
        self.tty = tty
        self.width = shutil.get_terminal_size((100, 20)).columns - 1
        self._printed = ""  # committed text already printed (non-terminal mode)
        self._lock = threading.Lock()
        self._status = ""

    def __call__(self, event: LiveUpdate) -> None:
        from coach.audio.live import FallingBehind, LiveError, TextUpdate

        with self._lock:
            if isinstance(event, TextUpdate):
                if self.tty:
                    self._status = event.text
                    self._draw()
                elif len(event.committed) > len(self._printed):
                    new = event.committed[len(self._printed) :].strip()
                    self._printed = event.committed
                    if new:
                        click.echo(f"  … {new}", err=True)
            elif isinstance(event, FallingBehind | LiveError):
                self._line(f"note: {event.message}")

    def note(self, message: str) -> None:
        with self._lock:
            self._line(f"note: {message}")

    def _draw(self) -> None:
        text = " ".join(self._status.split())
        room = max(10, self.width - 4)
        shown = text if len(text) <= room else "…" + text[-(room - 1) :]
        click.echo("\r\x1b[2K  " + shown, err=True, nl=False)

    def _line(self, message: str) -> None:
        if self.tty:
            click.echo("\r\x1b[2K" + message, err=True)
            self._draw()
        else:
            click.echo(message, err=True)

    def finish(self) -> None:
        with self._lock:
            if self.tty:
                click.echo("\r\x1b[2K", err=True, nl=False)


# -- the command -------------------------------------------------------------------------------


@click.command()
@click.option("--question", "question_id", required=True, metavar="ID", help="Question id.")
@click.option(
    "--seconds",
    type=SECONDS,
    default=None,
    metavar="N",
    help="Stop recording after N seconds (default: the question's hard time limit).",
)
@click.option(
    "--audio",
    metavar="FILE",
    help="Use a recorded answer instead of the microphone (same live pipeline).",
)
@click.option(
    "--realtime",
    is_flag=True,
    help="With --audio: feed the file at the speed it was spoken, like a microphone.",
)
@click.option("--engine", metavar="NAME", help="whisper or faster-whisper (default: settings).")
@click.option("--model", metavar="NAME|PATH", help="Speech model (default: settings, tiny.en).")
@click.option("--device", metavar="NAME|INDEX", help="Input device (default: settings/system).")
@click.option(
    "--silence",
    type=SILENCE,
    default=SILENCE_STOP_S,
    show_default=True,
    metavar="S",
    help="Stop after S seconds of silence once you have spoken (0: never).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def rehearse(
    question_id: str,
    seconds: float | None,
    audio: str | None,
    realtime: bool,
    engine: str | None,
    model: str | None,
    device: str | None,
    silence: float,
    as_json: bool,
) -> None:
    """Answer one question out loud; get the transcript and scores, saved to your history."""
    from coach.paths import check_private_dirs

    check_private_dirs()  # a folder we cannot save to fails now, not after the answer
    if seconds is not None and seconds <= 0:
        raise CoachError(f"--seconds must be positive, got {seconds:g}", "e.g. --seconds 90")
    if silence < 0:
        raise CoachError(f"--silence must be 0 or more, got {silence:g}", "e.g. --silence 6")
    if engine is not None and engine not in ENGINES:
        raise CoachError(f"unknown engine '{engine}'", f"use one of {', '.join(ENGINES)}")
    if realtime and audio is None:
        raise CoachError("--realtime only applies to --audio", "add --audio FILE")
    if audio is not None and device is not None:
        raise CoachError("give either --audio or --device, not both", "drop one of them")

    from coach.questions import load_question_bank
    from coach.settings import load_settings

    question = load_question_bank().get(question_id.strip())
    settings = load_settings()
    samples = None
    if audio is not None:
        from coach.audio.io import load_audio

        samples = load_audio(audio)  # a missing or corrupt file fails before anything starts

    _say(f"Question ({question.id}): {question.text}", as_json)
    live_engine = _engine(engine or settings.engine, model or settings.model)
    threading.Thread(target=_warm_up_scoring, args=(question,), daemon=True).start()

    interactive = sys.stdin is not None and sys.stdin.isatty()
    display = _LiveText(tty=sys.stderr.isatty())
    stop_flag = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_flag.set()

    previous_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        if samples is not None:
            assert audio is not None
            capture = _from_file(
                live_engine, samples, Path(audio), realtime, display, stop_flag, as_json
            )
        else:
            limit = seconds if seconds is not None else float(question.hard_limit_s)
            spec = device if device is not None else settings.input_device
            capture = _from_microphone(
                live_engine, spec, limit, silence, interactive, display, stop_flag, as_json
            )
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        display.finish()

    transcript = capture.transcript
    if transcript.is_empty and samples is not None:
        raise CoachError(
            f"no speech detected in {capture.audio_path}",
            "check that the file holds the spoken answer",
        )
    if transcript.is_empty:
        raise CoachError(
            f"no speech detected in the answer; the recording is kept at {capture.audio_path}",
            "check the microphone (coach devices) and speak up, or type the answer instead",
        )
    report = _score(transcript, question)
    stop_to_score = time.perf_counter() - capture.stopped_at
    if samples is not None:
        capture.audio_path = _copy_as_wav(samples)
    attempt_id, session_id, stored = _save(
        report, transcript, question, capture.audio_path, live_engine
    )
    timings = {
        "recording_s": round(capture.recording_s, 3),
        "stop_to_transcript_s": round(capture.stop_to_transcript_s, 3),
        "stop_to_score_s": round(stop_to_score, 3),
    }
    if as_json:
        data = report.to_dict()
        data.update(
            {
                "question": question.text,
                "text": report.text,
                "transcript": {
                    "text": transcript.text,
                    "segments": [s.to_dict() for s in transcript.segments],
                },
                "timings": timings,
                "attempt_id": attempt_id,
                "session_id": session_id,
                "audio": str(stored) if stored else None,
                "engine": transcript.engine,
                "model": transcript.model,
                "stop_reason": capture.stop_reason,
            }
        )
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(_render(report, transcript, timings, attempt_id, capture))


# -- pieces ------------------------------------------------------------------------------------


def _say(message: str, as_json: bool) -> None:
    """The question and notes: on stdout as part of the text report, on stderr with --json."""
    click.echo(message, err=as_json)


def _engine(name: str, model: str | None) -> Engine:
    from coach.audio.engines import create_engine

    spec = None if model in (None, "", "embedded", "default") else model
    return create_engine(name, spec)


def _warm_up_scoring(question: Question) -> None:
    """Load the rubric and scorer while the user speaks, so feedback is quick after stop."""
    try:
        from coach.scoring import score_answer

        score_answer("I prepared for this question.", question=question)
    except Exception:  # the real scoring call reports any problem
        pass


def _new_recording_path() -> Path:
    from coach import paths

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return paths.recordings_dir() / f"rehearse-{stamp}.wav"


def _finish_live(live: LiveTranscriber, path: Path) -> Transcript:
    """Stop live transcription; an engine failure names the kept recording."""
    try:
        return live.stop()
    except CoachError as exc:
        raise CoachError(f"{exc.message}; the recording is kept at {path}", exc.fix) from None
    except Exception as exc:
        raise CoachError(
            f"transcription failed ({exc}); the recording is kept at {path}",
            f"score it later with `coach score --audio {path}`",
        ) from None


def _interrupted(path: Path | None) -> Interrupted:
    if path is None:
        return Interrupted("interrupted", "run coach rehearse again")
    return Interrupted(
        f"interrupted; what was recorded is kept at {path}",
        f"score it with `coach score --question ID --audio {path}`",
    )


def _from_microphone(
    engine: Engine,
    device: str | None,
    limit_s: float,
    silence_s: float,
    interactive: bool,
    display: _LiveText,
    stop_flag: threading.Event,
    as_json: bool,
) -> _Capture:
    from coach.audio.live import LiveTranscriber
    from coach.audio.recorder import Recorder, SilenceWarning, SoundDetected

    path = _new_recording_path()
    live = LiveTranscriber(engine, on_update=display)
    spec: str | int | None = (
        int(device)
        if device and device.strip().isdecimal() and device.strip().isascii()
        else device
    )
    recorder = Recorder(path, device=spec, max_seconds=limit_s, on_block=live.feed)
    recorder.start()  # no device, busy device: RecordingError before anything is recorded
    live.start()
    how = "Enter or Ctrl-C stops" if interactive else f"stops after {limit_s:g} s or Ctrl-C"
    if silence_s:
        how += f" or {silence_s:g} s of silence"
    _say(f"Recording ({how}) …", as_json)
    reason = "max_duration"
    try:
        while True:
            if recorder.done:
                break
            if stop_flag.is_set():
                raise KeyboardInterrupt
            for event in recorder.poll_events():
                if isinstance(event, SilenceWarning | SoundDetected):
                    display.note(event.message)
            if live.error is not None:
                reason = "engine_failed"
                break
            seg = live.segmenter
            if silence_s and seg.heard_speech and seg.trailing_silence_s >= silence_s:
                reason = "silence"
                break
            if interactive:
                ready, _, _ = select.select([sys.stdin], [], [], 0.05)
                if ready:
                    sys.stdin.readline()
                    reason = "enter"
                    break
            else:
                stop_flag.wait(0.05)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the WAV
        try:
            recorder.stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        raise _interrupted(path) from None
    result = recorder.stop()
    stopped_at = time.perf_counter()
    if result.error is not None and result.frames == 0:
        raise result.error
    note = ""
    if result.error is not None:
        # Unplugged mid-answer or disk full: score what was kept, and say so.
        reason = result.stop_reason
        note = f"the recording ended early ({result.error.message})"
    try:
        transcript = _finish_live(live, path)
    except KeyboardInterrupt:
        raise _interrupted(path) from None
    return _Capture(
        transcript,
        path,
        result.duration_s,
        time.perf_counter() - stopped_at,
        stopped_at,
        reason,
        note,
    )


def _from_file(
    engine: Engine,
    samples: Any,
    source: Path,
    realtime: bool,
    display: _LiveText,
    stop_flag: threading.Event,
    as_json: bool,
) -> _Capture:
    from coach.audio.live import LiveTranscriber, feed_audio

    live = LiveTranscriber(engine, on_update=display)
    live.start()
    pace = "at the speed it was spoken" if realtime else "as fast as transcription keeps up"
    _say(f"Transcribing {source} {pace} …", as_json)
    try:
        fed = feed_audio(
            live,
            samples,
            speed=1.0 if realtime else None,
            keep_up=not realtime,
            should_stop=stop_flag.is_set,
        )
        if stop_flag.is_set():
            raise KeyboardInterrupt
        stopped_at = time.perf_counter()
        transcript = _finish_live(live, source)
    except KeyboardInterrupt:
        raise _interrupted(None) from None
    return _Capture(
        transcript,
        source,
        fed,
        time.perf_counter() - stopped_at,
        stopped_at,
        "end_of_file",
    )


def _copy_as_wav(samples: Any) -> Path:
    """The answer's 16 kHz WAV in the recordings folder (the user's own file is left alone)."""
    import numpy as np

    from coach.audio.wavfile import WavWriter, write_error

    path = _new_recording_path()
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
    try:
        with WavWriter(path) as writer:
            writer.write(pcm)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise write_error(exc, path) from None
    return path


def _score(transcript: Transcript, question: Question) -> ScoreReport:
    from coach.scoring import score_answer

    return score_answer(transcript.text.strip(), question=question, transcript=transcript)


def _save(
    report: ScoreReport,
    transcript: Transcript,
    question: Question,
    audio_path: Path,
    engine: Engine,
) -> tuple[int, int, Path | None]:
    from coach.pending import park_or_explain
    from coach.store import Store

    attempt: dict[str, Any] = {
        "question_id": question.id,
        "category": question.category,
        "text": report.text,
        "report": report,
        "transcript": transcript,
        "engine": engine.name,
        "model": engine.model_name,
    }
    attempt_id: int | None = None
    stored: Path | None = audio_path
    try:  # a failed save parks the scored answer for the next start (coach/pending.py)
        with Store.open() as store:
            for note in store.imported:  # answers parked by an earlier failed save
                click.echo(note, err=True)
            session_id = store.start_session("rehearse", {"engine": engine.name})
            attempt_id = store.save_attempt(
                session_id, audio_path=audio_path, mode="rehearse", **attempt
            )
            # Saved: what follows only tidies up and must not park a second copy if it fails.
            with contextlib.suppress(StoreError):
                store.finish_session(session_id)
                stored = store.attempt(attempt_id).audio_path
    except StoreError as exc:
        if attempt_id is None:
            raise park_or_explain(
                exc,
                audio_path,
                mode="rehearse",
                session_settings={"engine": engine.name},
                **attempt,
            ) from None
    assert attempt_id is not None  # saved (only the tidying up may have failed)
    return attempt_id, session_id, stored


def _render(
    report: ScoreReport,
    transcript: Transcript,
    timings: dict[str, float],
    attempt_id: int,
    capture: _Capture,
) -> str:
    lines = ["", "Transcript:"]
    lines.extend(textwrap.wrap(transcript.text, 88, initial_indent="  ", subsequent_indent="  "))
    lines += ["", f"Overall {report.overall:.0f}/100"]
    for c in report.criteria:
        verdict = "pass" if c.passed else "work on this"
        lines.append(f"  {c.name:<14} {c.score:5.0f}  {verdict}")
        lines.extend(
            textwrap.wrap(c.feedback, 84, initial_indent="      ", subsequent_indent="      ")
        )
    s = report.stats
    lines += ["", "Stats: " + ", ".join(s.summary_parts())]
    if capture.note:
        lines.append(f"Note: {capture.note}.")
    lines.append(
        f"Saved as attempt {attempt_id} (coach history). Feedback "
        f"{timings['stop_to_score_s']:.1f} s after you stopped."
    )
    return "\n".join(lines)
