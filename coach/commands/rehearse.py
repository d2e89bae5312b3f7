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

The recording, the live transcription, the scoring and the saving are the application
core's (:mod:`coach.core`), the same functions the app's interview screen calls; this command
only adds the terminal: the prompt, live text, the stop conditions and the report.

Ctrl-C or SIGTERM stops the recording cleanly: what was recorded is transcribed, scored and
saved, the report printed, and the exit code is 130 (Ctrl-C) or 143 (SIGTERM). A second
Ctrl-C gives up on the transcript: the WAV is kept and named, exit 130 / 143. No native
transcription thread is ever left running when the process exits.

Every problem (unknown question, missing or corrupt file, no input device, no speech, the
engine failing) is one line on standard error and exit code 2; whatever was recorded is
kept and its path is named.
"""

from __future__ import annotations

import json
import select
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from coach.commands.live_text import LiveText
from coach.commands.options import SECONDS, SILENCE
from coach.core.capture import (
    Abandoned,
    AnswerCapture,
    CaptureResult,
    exit_now,
    new_recording_path,
)
from coach.core.session import AttemptResult, NoSpeech, answer_text
from coach.errors import CoachError
from coach.settings import ENGINES

if TYPE_CHECKING:
    from coach.audio.transcript import Transcript
    from coach.questions import Question
    from coach.scoring.report import ScoreReport

#: Default for --silence: a long thinking pause mid-answer is shorter than this.
SILENCE_STOP_S = 6.0


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

    from coach.core import speech
    from coach.questions import load_question_bank

    question = load_question_bank().get(question_id.strip())
    choice = speech.resolve(engine=engine, model=model, device=device)
    samples = None
    if audio is not None:
        from coach.audio.io import load_audio

        samples = load_audio(audio)  # a missing or corrupt file fails before anything starts

    _say(f"Question ({question.id}): {question.text}", as_json)
    live_engine = speech.create(choice)
    # Not a daemon: the warm-up loads the sentence encoder (an onnxruntime session), and an
    # interpreter that exits under a native session being built aborts ("terminate called
    # without an active exception"); shutdown waits for it instead (well under a second).
    threading.Thread(target=_warm_up_scoring, args=(question,), daemon=False).start()

    interactive = sys.stdin is not None and sys.stdin.isatty()
    display = LiveText(tty=sys.stderr.isatty())
    limit = seconds if seconds is not None else float(question.hard_limit_s)
    capture = AnswerCapture(
        live_engine,
        device=choice.device,
        max_seconds=limit,
        on_update=display,
        prefix="rehearse",
    )
    stop = _Signals(display)
    try:
        with stop:
            if samples is not None:
                assert audio is not None
                result = _from_file(capture, samples, Path(audio), realtime, stop, as_json)
            else:
                result = _from_microphone(
                    capture, limit, silence, interactive, display, stop, as_json
                )
    except Abandoned as exc:
        # A decode may still be running in a native thread: leave without interpreter teardown.
        display.finish()
        click.echo(f"error: {exc}", err=True)
        exit_now(stop.exit_code or 130)
    except BaseException:
        capture.cancel()  # whatever failed, no recorder or decoding thread is left running
        raise
    finally:
        display.finish()

    transcript = result.transcript
    audio_path = result.audio_path
    try:
        answer_text(transcript)  # the no-speech rule, before a copy of a silent file is made
    except NoSpeech:
        if samples is not None:
            raise _exiting(
                CoachError(
                    f"no speech detected in {audio}", "check that the file holds the spoken answer"
                ),
                stop.exit_code,
            ) from None
        raise _exiting(
            CoachError(
                f"no speech detected in the answer; the recording is kept at {audio_path}",
                "check the microphone (coach devices) and speak up, or type the answer instead",
            ),
            stop.exit_code,
        ) from None
    if samples is not None:
        fed = round(result.recording_s * 16_000)
        audio_path = _copy_as_wav(samples[:fed] if stop.exit_code else samples)
    attempt, stored = _score_and_save(question, transcript, audio_path, live_engine.name)
    stop_to_score = time.perf_counter() - result.stopped_at
    report = attempt.report
    timings = {
        "recording_s": round(result.recording_s, 3),
        "stop_to_transcript_s": round(result.stop_to_transcript_s, 3),
        "stop_to_score_s": round(stop_to_score, 3),
    }
    note = ""
    if result.ended_early is not None:
        note = f"the recording ended early ({result.ended_early.message})"
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
                "attempt_id": attempt.attempt_id,
                "session_id": attempt.session_id,
                "audio": str(stored) if stored else None,
                "engine": transcript.engine,
                "model": transcript.model,
                "stop_reason": result.stop_reason,
            }
        )
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        assert attempt.attempt_id is not None
        click.echo(_render(report, transcript, timings, attempt.attempt_id, note))
    if stop.exit_code:
        # Stopped by Ctrl-C or SIGTERM: what was recorded is scored and saved; the exit code
        # still says how the command ended (130 / 143), as a shell expects.
        click.get_current_context().exit(stop.exit_code)


# -- pieces ------------------------------------------------------------------------------------


def _say(message: str, as_json: bool) -> None:
    """The question and notes: on stdout as part of the text report, on stderr with --json."""
    click.echo(message, err=as_json)


def _warm_up_scoring(question: Question) -> None:
    """Load the rubric and scorer while the user speaks, so feedback is quick after stop."""
    try:
        from coach.scoring import score_answer

        score_answer("I prepared for this question.", question=question)
    except Exception:  # the real scoring call reports any problem
        pass


def _exiting(error: CoachError, code: int | None) -> CoachError:
    """``error``, exiting with the signal's code (130 / 143) when a signal ended the answer."""
    if code:
        error.exit_code = code
    return error


class _Signals:
    """Ctrl-C and SIGTERM while answering: the first stops, a second abandons.

    The handlers only set flags, so no KeyboardInterrupt can land inside the recorder, the
    transcriber or a native decode. The first signal ends the recording (what was recorded
    is transcribed, scored and saved; the exit code is then 130 or 143); a second one gives
    up on the transcript, keeping the WAV.
    """

    def __init__(self, display: LiveText) -> None:
        self.display = display
        self.first: int | None = None
        self._abandon = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # Plain assignments only: the handler runs in the main thread between any two
        # bytecodes, maybe while it holds a lock (the display's, an Event's), so printing or
        # setting a threading.Event here could deadlock.
        if self.first is None:
            self.first = signum
        else:
            self._abandon = True

    def announce(self) -> None:
        """Say what the first signal does (called by the main loop, never by the handler)."""
        if self.first is not None:
            self.display.note(
                "stopping: finishing the transcript of what was recorded "
                "(press Ctrl-C again to leave it unscored; the recording is kept)"
            )

    @property
    def exit_code(self) -> int | None:
        return 128 + self.first if self.first is not None else None

    def stopped(self) -> bool:
        return self.first is not None

    def abandoned(self) -> bool:
        return self._abandon


def _from_microphone(
    capture: AnswerCapture,
    limit_s: float,
    silence_s: float,
    interactive: bool,
    display: LiveText,
    stop: _Signals,
    as_json: bool,
) -> CaptureResult:
    from coach.audio.recorder import SilenceWarning, SoundDetected

    capture.start()  # no device, busy device: RecordingError before anything is recorded
    recorder, live = capture.recorder, capture.live
    assert recorder is not None and live is not None
    how = "Enter or Ctrl-C stops" if interactive else f"stops after {limit_s:g} s or Ctrl-C"
    if silence_s:
        how += f" or {silence_s:g} s of silence"
    _say(f"Recording ({how}) …", as_json)
    reason = "max_duration"
    while not recorder.done:
        if stop.stopped():
            reason = "interrupted"
            stop.announce()
            break
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
            time.sleep(0.05)
    return _finish(capture, reason, stop)


def _finish(capture: AnswerCapture, reason: str, stop: _Signals) -> CaptureResult:
    """Stop and finish the transcript; a second signal abandons it (the WAV is kept)."""
    try:
        return capture.stop(reason, abandon=stop.abandoned)
    except Abandoned:
        raise
    except CoachError as exc:
        raise _exiting(exc, stop.exit_code) from None


def _from_file(
    capture: AnswerCapture,
    samples: Any,
    source: Path,
    realtime: bool,
    stop: _Signals,
    as_json: bool,
) -> CaptureResult:
    pace = "at the speed it was spoken" if realtime else "as fast as transcription keeps up"
    _say(f"Transcribing {source} {pace} …", as_json)
    capture.feed_file(samples, source, realtime=realtime, should_stop=stop.stopped)
    reason = "interrupted" if stop.stopped() else "end_of_file"
    stop.announce()
    return _finish(capture, reason, stop)


def _copy_as_wav(samples: Any) -> Path:
    """The answer's 16 kHz WAV in the recordings folder (the user's own file is left alone)."""
    import numpy as np

    from coach.audio.wavfile import WavWriter, write_error

    path = new_recording_path("rehearse")
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
    try:
        with WavWriter(path) as writer:
            writer.write(pcm)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise write_error(exc, path) from None
    return path


def _score_and_save(
    question: Question, transcript: Transcript, audio_path: Path | None, engine: str
) -> tuple[AttemptResult, Path | None]:
    """Score and save through the core's practice session (one ``rehearse`` session)."""
    from coach.core.library import BankSource, StoreHistory
    from coach.core.session import PracticeSession

    history = StoreHistory(BankSource())
    try:
        practice = PracticeSession(history, "rehearse", session_settings={"engine": engine})
        attempt = practice.spoken(question, transcript, audio_path)
        if attempt.saved:  # the history opened: say what it imported (answers parked before)
            for note in history.take_recovered():
                click.echo(note, err=True)
        if not attempt.saved:
            assert attempt.error is not None
            raise attempt.error
        practice.finish()
        assert attempt.attempt_id is not None
        stored = history.store.attempt(attempt.attempt_id).audio_path
    finally:
        history.close()
    return attempt, stored


def _render(
    report: ScoreReport,
    transcript: Transcript,
    timings: dict[str, float],
    attempt_id: int,
    note: str,
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
    if note:
        lines.append(f"Note: {note}.")
    lines.append(
        f"Saved as attempt {attempt_id} (coach history). Feedback "
        f"{timings['stop_to_score_s']:.1f} s after you stopped."
    )
    return "\n".join(lines)
