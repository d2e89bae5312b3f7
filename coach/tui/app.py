"""The Textual app: home, interview, review, history, settings and help screens.

``CoachApp`` receives a :class:`~coach.tui.services.Services` bundle (real by default, fakes in
tests). It paints first and loads the speech model in a thread worker, showing the status on
screen; every blocking call runs in a worker that posts a typed message back.

Quitting (ctrl+q, or SIGTERM / SIGINT sent to the process) goes through
:meth:`CoachApp.request_quit`: an answer under way is saved first (see the interview
screen), and the exit code says how the app was ended (0, or 128 + the signal).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from coach.core.plan import mock_plan
from coach.errors import CoachError, DataFileError
from coach.questions import Question
from coach.settings import Settings, load_settings
from coach.tui.messages import HistoryLoaded, ModelStatus
from coach.tui.services import Overview, Services


class CoachApp(App[None]):
    """Med-Peds Interview Coach."""

    CSS_PATH = "app.tcss"
    TITLE = "Med-Peds Interview Coach"
    SUB_TITLE = "rehearse kindly, offline"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
    ]

    model_state: reactive[str] = reactive("loading")

    def __init__(
        self,
        services: Services | None = None,
        settings: Settings | None = None,
        *,
        rng: random.Random | None = None,
        load_model: bool = True,
    ) -> None:
        super().__init__()
        self._services = services
        self.settings = settings or Settings()
        self._settings_given = settings is not None
        self.rng = rng or random.Random()
        self.model_detail = ""
        self._load_model = load_model
        self._model_pending = False
        # Recordings cut off by quitting mid-answer: kept on disk, named after the app exits.
        self.kept_recordings: list[Path] = []
        # What became of an answer finished on the way out (told on stderr after the app
        # exits), and whether a second quit abandoned it (then no waiting for a decode).
        self.closing_notes: list[str] = []
        self.abandoned = False
        # Set unless a quit is waiting for the answer's outcome (see coach/tui/quitting.py).
        self.settled = threading.Event()
        self.settled.set()
        self._signals: list[signal.Signals] = []

    @property
    def services(self) -> Services:
        if self._services is None:
            from coach.tui.services import default_services

            self._services = default_services()
        return self._services

    def on_mount(self) -> None:
        from coach.tui.screens.home import HomeScreen

        if not self._settings_given:
            try:
                self.settings = load_settings()
            except DataFileError as exc:
                # Keep the file as it is: the user may want to fix it by hand.
                self.notify(
                    f"{exc.message}. Using the default settings for now; the file stays "
                    "untouched until you save from Settings.",
                    title="Settings",
                    severity="warning",
                    timeout=12,
                )
        self.push_screen(HomeScreen())
        self._handle_signals()
        if self._load_model:
            # Started once the home screen has painted (HomeScreen calls start_model_load):
            # importing CTranslate2/torch in the worker holds the GIL for a while, which
            # would otherwise delay the first paint.
            self._model_pending = True
        else:
            self.model_state = "ready"

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals = []
        # Close the history database cleanly (the real store checkpoints its WAL on close).
        history = self._services.history if self._services is not None else None
        close = getattr(history, "close", None)
        if callable(close):
            # Nothing is lost if closing fails: every attempt was committed when it was saved.
            with contextlib.suppress(CoachError):
                close()

    # --- quitting -------------------------------------------------------------------------

    def _handle_signals(self) -> None:
        """SIGTERM and SIGINT quit as ctrl+q does (an answer under way is saved first).

        Without this, SIGTERM killed the app mid-answer with the terminal left raw, and the
        recording was neither scored nor named. Only possible on the main thread's loop.
        """
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (ValueError, RuntimeError, NotImplementedError):
                return  # not the main thread (or no signals here): ctrl+q still works
            self._signals.append(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        # Through the message queue, so that the request runs like a key binding does.
        self.call_later(self.request_quit, 128 + sig)

    async def action_quit(self) -> None:
        self.request_quit(0)

    def request_quit(self, code: int) -> None:
        """Quit with exit ``code``, once an answer under way is saved (a second request
        abandons it, keeping the WAV)."""
        from coach.tui.screens.interview import InterviewScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, InterviewScreen) and screen.close_after_answer(code):
                return
        self.exit(return_code=code)

    # --- speech model -------------------------------------------------------------------

    def model_status_text(self) -> str:
        s = self.settings
        if self.model_state == "loading":
            return f"Speech model: loading {s.engine} {s.model} in the background…"
        if self.model_state == "failed":
            return (
                f"Speech model unavailable ({self.model_detail}) — typed answers work; "
                "see Settings."
            )
        return f"Speech model: {self.model_detail or s.engine + ' ' + s.model} ready"

    def start_model_load(self) -> None:
        """Load the speech model in the background, once, after the first paint."""
        if self._model_pending:
            self._model_pending = False
            self.prepare_model(self.settings)

    @work(thread=True, exclusive=True, group="model")
    def prepare_model(self, settings: Settings) -> None:
        self.post_message(ModelStatus("loading"))
        try:
            detail = self.services.prepare_engine(settings)
        except CoachError as exc:
            self.post_message(ModelStatus("failed", str(exc)))
        except Exception as exc:  # a broken install must not crash the app
            self.post_message(ModelStatus("failed", f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(ModelStatus("ready", detail))

    @on(ModelStatus)
    def model_status(self, message: ModelStatus) -> None:
        self.model_state = message.state
        self.model_detail = message.detail
        if message.state == "failed":
            self.notify(
                f"The speech model could not load: {message.detail}. You can still type "
                "answers; Settings lets you pick another engine or model.",
                title="Speech model",
                severity="warning",
                timeout=12,
            )
        for widget in self.screen.query("#model-status"):
            widget.update(self.model_status_text())  # type: ignore[attr-defined]

    def apply_settings(self, new: Settings) -> None:
        old, self.settings = self.settings, new
        if (old.engine, old.model) != (new.engine, new.model) and self._load_model:
            self.model_state = "loading"
            self.prepare_model(new)

    # --- history ------------------------------------------------------------------------

    def load_history(self, target: Screen[Any], series: Sequence[str] = ()) -> None:
        """Fetch history figures in a worker; ``target`` receives a HistoryLoaded message."""
        self._load_history(target, tuple(series))

    @work(thread=True, group="history")
    def _load_history(self, target: Screen[Any], series: tuple[str, ...]) -> None:
        history = self.services.history
        try:
            overview = history.overview()
            values = {
                key: (list(overview.recent_overall) if key == "overall" else []) for key in series
            }
            for key in series:
                if key != "overall":
                    values[key] = history.criterion_series(key)
            # Every practised question, weakest first (the history screen scrolls).
            weakest = history.weakest(100) if series else []
            recovered = history.take_recovered()
        except CoachError as exc:
            target.post_message(HistoryLoaded(Overview(), {}, [], str(exc)))
            return
        except Exception as exc:
            target.post_message(HistoryLoaded(Overview(), {}, [], f"{type(exc).__name__}: {exc}"))
            return
        target.post_message(HistoryLoaded(overview, values, weakest))
        for message in recovered:
            # A crash cut a recording short; it was repaired, not deleted: say where it is.
            self.call_from_thread(
                self.notify,
                message,
                title="Recording recovered",
                timeout=15,
            )

    def order_questions(self, questions: Sequence[Question]) -> list[Question]:
        """Weak and unpractised questions first (spaced repetition), when history allows."""
        try:
            return self.services.history.pick(questions, len(questions), True)
        except CoachError:
            return list(questions)

    # --- actions --------------------------------------------------------------------------

    def questions_or_explain(self) -> list[Question]:
        """The question bank, or a calm notification saying why there is nothing to ask."""
        source = self.services.questions
        questions = list(source.all())
        if not questions:
            problem = getattr(source, "error", None)
            self.notify(
                f"The questions could not be loaded: {problem}."
                if problem
                else "The question bank is empty; `coach questions` shows where to add some.",
                title="Questions",
                severity="warning",
                timeout=12,
            )
        return questions

    def action_mock(self) -> None:
        from coach.tui.screens.interview import InterviewScreen

        questions = self.questions_or_explain()
        if not questions:
            return
        plan = mock_plan(questions, self.settings, n=4, rng=self.rng)
        self.push_screen(InterviewScreen(plan, "mock"))

    def action_drill(self) -> None:
        from coach.tui.screens.pickers import DrillSetupScreen

        if self.questions_or_explain():
            self.push_screen(DrillSetupScreen())

    def action_solo(self) -> None:
        from coach.tui.screens.pickers import SoloPickerScreen

        if self.questions_or_explain():
            self.push_screen(SoloPickerScreen())

    def action_history(self) -> None:
        from coach.tui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen())

    def action_story(self) -> None:
        from coach.tui.screens.story import StoryScreen

        self.push_screen(StoryScreen())

    def action_readiness(self) -> None:
        from coach.tui.screens.readiness import ReadinessScreen

        self.push_screen(ReadinessScreen())

    def action_settings(self) -> None:
        from coach.tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen())

    def action_help(self) -> None:
        from coach.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_export_latest(self) -> None:
        from coach.tui.screens.history import HistoryScreen

        if isinstance(self.screen, HistoryScreen):
            # Already there: export from it rather than stacking a second History screen.
            self.screen.action_export("md")
            return
        screen = HistoryScreen()
        self.push_screen(screen)
        self.call_after_refresh(screen.action_export, "md")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Mock interview", "3–5 questions with follow-ups", self.action_mock)
        yield SystemCommand("Timed drill", "Rapid-fire with countdowns", self.action_drill)
        yield SystemCommand("Solo rehearsal", "Pick any question", self.action_solo)
        yield SystemCommand(
            "History", "Progress per question, export for a mentor", self.action_history
        )
        yield SystemCommand(
            "Export latest session",
            "Markdown for a mentor, into your export folder",
            self.action_export_latest,
        )
        yield SystemCommand("My story", "The facts every answer should agree on", self.action_story)
        yield SystemCommand(
            "Interview-day readiness", "Per category: what is left to say", self.action_readiness
        )
        yield SystemCommand("Coach settings", "Engine, model, microphone", self.action_settings)
        yield SystemCommand("Coach help", "Keys and how scoring works", self.action_help)


def run_app() -> None:
    """Entry point for bare ``coach``.

    After the app closes: say what became of an answer finished on the way out, name any
    recording cut off by quitting mid-answer, and never let the interpreter exit while a
    transcription worker is still inside a native decode. The exit code is 0 for ctrl+q,
    143 after SIGTERM and 130 after SIGINT.
    """
    from coach.core.capture import exit_now, join_native_workers

    app = CoachApp()
    app.run()
    code = app.return_code or 0
    # After a second quit the app closes at once; the worker that was finishing the answer
    # notices within a moment and says whether the WAV was kept (or the answer saved after all).
    app.settled.wait(10.0)
    for note in app.closing_notes:
        print(note, file=sys.stderr)
    for path in app.kept_recordings:
        print(
            f"note: the answer you were recording when you quit was not scored; it is kept at "
            f"{path} — score it with `coach score --question ID --audio {path}`",
            file=sys.stderr,
        )
    # Abandoned: the tail's decode may still be running, and the user chose not to wait.
    if not join_native_workers(2.0 if app.abandoned else 60.0):
        exit_now(code)
    if code:
        sys.exit(code)
