"""The real :class:`~coach.tui.services.Services`: question bank, scorer, recorder, live
transcription, history store, espeak-ng and playback.

Nothing heavy is imported at module level: sounddevice, the engines (torch, CTranslate2) and
SQLite are imported inside the functions, which the app calls from thread workers.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.audio.transcript import Transcript
from coach.errors import CoachError, DataFileError, StoreError
from coach.questions import Question
from coach.scoring.report import ScoreReport
from coach.settings import Settings
from coach.tui.services import (
    CaptureResult,
    Overview,
    PreviousAttempt,
    QuestionProgress,
    Services,
)

if TYPE_CHECKING:
    from coach.audio.live import LiveTranscriber
    from coach.audio.protocol import Engine
    from coach.audio.recorder import Recorder
    from coach.store import Store

# -- speech engines (shared, loaded once per engine+model) --------------------------------------

_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


def get_engine(settings: Settings) -> Engine:
    """The loaded engine for ``settings`` (blocking on the first call; thread-safe)."""
    from coach.audio.engines import create_engine

    key = (settings.engine, settings.model)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            model = None if settings.model in ("", "embedded", "default") else settings.model
            engine = create_engine(settings.engine, model)
            _engines[key] = engine
    engine.load()
    return engine


def share_engine(settings: Settings, engine: Engine) -> None:
    """Use an already loaded ``engine`` for ``settings`` (tests and benchmarks load one once)."""
    with _engines_lock:
        _engines[(settings.engine, settings.model)] = engine


def prepare_engine(settings: Settings) -> str:
    engine = get_engine(settings)
    return f"{engine.name} {engine.model_name}"


def _device(settings: Settings) -> str | int | None:
    spec = settings.input_device
    if spec is None:
        return None
    return int(spec) if spec.strip().isdigit() else spec


# -- one recorded answer ---------------------------------------------------------------------


class RealCapture:
    """Recorder -> LiveTranscriber for one answer; the WAV goes to the recordings folder."""

    def __init__(self, settings: Settings, max_seconds: float = 900.0) -> None:
        self.settings = settings
        self.max_seconds = max_seconds
        self.recorder: Recorder | None = None
        self.live: LiveTranscriber | None = None
        self.path: Path | None = None

    def start(self) -> None:
        from coach import paths
        from coach.audio.live import LiveTranscriber
        from coach.audio.recorder import Recorder

        engine = get_engine(self.settings)
        live = LiveTranscriber(engine)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        self.path = paths.recordings_dir() / f"answer-{stamp}.wav"
        recorder = Recorder(
            self.path,
            device=_device(self.settings),
            max_seconds=self.max_seconds,
            on_block=live.feed,
        )
        live.start()
        try:
            recorder.start()
        except BaseException:
            threading.Thread(target=live.stop, daemon=True).start()
            raise
        self.live, self.recorder = live, recorder

    @property
    def level_dbfs(self) -> float | None:
        if self.recorder is None:
            return None
        status = self.recorder.status()
        return status.rms_dbfs if status.elapsed_s > 0 else None

    @property
    def elapsed_s(self) -> float:
        return self.recorder.status().elapsed_s if self.recorder else 0.0

    def live_text(self) -> str:
        return self.live.text if self.live else ""

    def take_warnings(self) -> list[str]:
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

    def stop(self) -> CaptureResult:
        if self.recorder is None or self.live is None:
            raise CoachError("the recording never started", "press r to try again")
        result = self.recorder.stop()
        transcript = self.live.stop()
        note = ""
        if result.error is not None:
            note = f"The recording ended early ({result.error.message}); the part you said is kept."
        elif self.live.stats.fell_behind:
            note = "Transcription fell behind while you spoke and caught up after you stopped."
        return CaptureResult(transcript, result.path, note)

    def cancel(self) -> None:
        if self.recorder is not None:
            self.recorder.stop()
        if self.live is not None:
            # A skipped answer's transcript is not needed; its WAV is already safe on disk.
            with contextlib.suppress(Exception):
                self.live.stop()


# -- questions and scoring -------------------------------------------------------------------


class BankSource:
    """The question bank (built-in plus the user's own files), loaded on first use."""

    def __init__(self) -> None:
        self._bank: Any = None
        self.error: CoachError | None = None

    def _load(self) -> Any:
        if self._bank is None:
            from coach.questions import load_question_bank

            self._bank = load_question_bank()
        return self._bank

    def all(self) -> Sequence[Question]:
        try:
            return tuple(self._load().all())
        except DataFileError as exc:
            self.error = exc
            return ()

    def get(self, question_id: str) -> Question:
        question = self._load().get(question_id)
        assert isinstance(question, Question)
        return question


def score(text: str, question: Question, transcript: Transcript | None) -> ScoreReport:
    from coach.scoring import score_answer

    report = score_answer(text, question=question, transcript=transcript)
    assert isinstance(report, ScoreReport)
    return report


# -- history ---------------------------------------------------------------------------------


class StoreHistory:
    """The SQLite history, opened on first use and shared by workers (the store is thread-safe)."""

    def __init__(
        self, bank: BankSource, path: Path | None = None, export_dir: Path | None = None
    ) -> None:
        self.bank = bank
        self.path = path
        self.export_dir = export_dir  # None: ~/Documents, else the home folder
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                from coach.store import Store

                self._store = Store.open(self.path)
            return self._store

    def take_recovered(self) -> list[str]:
        """Recordings the store repaired when it opened (a crash cut them short), once."""
        store = self.store
        with self._lock:
            found, store.recovered = store.recovered, []
        out: list[str] = []
        for r in found:
            if r.error:
                out.append(f"A recording could not be repaired and was left as it was: {r.message}")
            elif r.recovered:
                out.append(
                    f"An answer cut short by a crash was recovered ({r.duration_s:.0f} s): "
                    f"{r.path}. At most its last second was lost."
                )
        return out

    def close(self) -> None:
        """Close the database (checkpoints the WAL); reopened on next use."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def start_session(self, mode: str) -> int | None:
        return self.store.start_session(mode)

    def save_attempt(
        self,
        *,
        session_id: int | None,
        question: Question,
        report: ScoreReport,
        transcript: Transcript | None,
        audio_path: Path | None,
        engine: str,
        model: str,
    ) -> int | None:
        if session_id is None:
            raise StoreError("no practice session was started", "start the session again")
        return self.store.save_attempt(
            session_id,
            question_id=question.id,
            category=question.category,
            text=report.text,
            report=report,
            transcript=transcript,
            audio_path=audio_path,
            engine=engine,
            model=model,
        )

    def previous_attempt(
        self, question_id: str, before_attempt_id: int | None
    ) -> PreviousAttempt | None:
        attempt = self.store.previous_attempt(question_id, before_attempt_id or 2**62)
        if attempt is None:
            return None
        return PreviousAttempt(
            attempt.id,
            attempt.text,
            attempt.overall,
            attempt.scores(),
            attempt.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
        )

    def overview(self) -> Overview:
        sessions = [s for s in self.store.sessions() if s.attempt_count]
        overall = [score for _, score in self.store.overall_history()]
        return Overview(
            sessions=len(sessions),
            attempts=len(overall),
            recent_overall=tuple(overall[-20:]),
            best_overall=max(overall) if overall else None,
        )

    def criterion_series(self, criterion: str) -> list[float]:
        return [score for _, score in self.store.criterion_history(criterion)][-60:]

    def _text(self, question_id: str) -> str:
        base, _, follow = question_id.partition("#")
        try:
            text = self.bank.get(base).text
        except (CoachError, KeyError, LookupError):
            return question_id
        return f"{text} (follow-up)" if follow else text

    def weakest(self, n: int) -> list[QuestionProgress]:
        return [
            QuestionProgress(s.question_id, self._text(s.question_id), s.attempts, s.latest, s.best)
            for s in self.store.weakest_questions(n)
        ]

    def pick(self, questions: Sequence[Question], n: int, favour_weak: bool) -> list[Question]:
        from coach.practice import pick_questions

        return pick_questions(questions, self.store.question_stats(), n, favour_weak=favour_weak)

    def export_latest(self, fmt: str) -> Path:
        from coach.export import default_export_path, write_export

        session = self.store.resolve_session("latest")
        out = default_export_path(session.id, fmt, self.export_dir)
        return write_export(self.store, session.id, fmt, out)


# -- text-to-speech and playback -------------------------------------------------------------


class EspeakSpeaker:
    """Reads questions aloud with espeak-ng in a child process (never blocks the UI)."""

    def __init__(self) -> None:
        self.exe = shutil.which("espeak-ng")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def available(self) -> bool:
        return self.exe is not None

    def say(self, text: str) -> None:
        if self.exe is None:
            return
        self.stop()
        try:
            self._proc = subprocess.Popen(
                [self.exe, "-s", "165", "--", text],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            self._proc = None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()


def play(path: Path) -> None:
    """Play a WAV on the default output (blocking; call from a worker)."""
    try:
        import soundfile as sf

        from coach.audio.devices import import_sounddevice

        sd = import_sounddevice()
    except CoachError:
        raise
    except Exception as exc:
        raise CoachError(f"audio playback is unavailable ({exc})", "open the WAV yourself") from exc
    if not path.exists():
        raise CoachError(f"the recording {path} is missing", "record the answer again")
    data, rate = sf.read(str(path), dtype="float32")
    try:
        sd.play(data, rate)
        sd.wait()
    except Exception as exc:
        raise CoachError(
            f"no audio output device could play it ({exc})", f"open {path} in a media player"
        ) from exc


def list_devices() -> list[str]:
    from coach.audio.devices import list_input_devices

    return [d.name for d in list_input_devices()]


def level_test(settings: Settings, seconds: float) -> Iterator[float]:
    """Record ``seconds`` from the chosen device to a temporary file and yield RMS levels."""
    from coach.audio.recorder import Recorder

    with tempfile.TemporaryDirectory(prefix="coach-level-") as tmp:
        recorder = Recorder(Path(tmp) / "level.wav", device=_device(settings), max_seconds=seconds)
        recorder.start()
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end and not recorder.done:
                time.sleep(0.1)
                status = recorder.status()
                if status.elapsed_s > 0:
                    yield status.rms_dbfs
        finally:
            result = recorder.stop() if not recorder.done else recorder.wait()
        if result is not None and result.error is not None:
            raise result.error


def default_services() -> Services:
    """The real services; cheap to build (everything heavy happens on first use, in workers)."""
    bank = BankSource()
    return Services(
        questions=bank,
        score=score,
        capture_factory=RealCapture,
        history=StoreHistory(bank),
        speaker=EspeakSpeaker(),
        prepare_engine=prepare_engine,
        play=play,
        list_devices=list_devices,
        level_test=level_test,
        audio_available=True,
    )
