"""The home screen: the three modes, progress at a glance, settings and help."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from coach.tui.messages import HistoryLoaded

if TYPE_CHECKING:
    from coach.tui.app import CoachApp

SPARK = "▁▂▃▄▅▆▇█"

# (action, title, key, blurb): the key is shown so the menu teaches the shortcuts.
MENU: tuple[tuple[str, str, str, str], ...] = (
    (
        "mock",
        "Mock interview",
        "m",
        "3–5 questions like a real 30-minute interview, with follow-ups",
    ),
    ("drill", "Timed drill", "d", "rapid-fire: think time, then recording starts by itself"),
    ("solo", "Solo rehearsal", "s", "pick any question and retry as often as you like"),
    ("history", "History & progress", "h", "progress per question, export for a mentor"),
    ("settings", "Settings", ",", "engine, model, microphone, timings, read-aloud"),
    ("help", "Help", "f1", "keys and how scoring works"),
)


def spark(values: tuple[float, ...] | list[float]) -> str:
    """A one-line text sparkline of 0–100 scores."""
    return "".join(SPARK[min(7, max(0, int(v / 100 * 7.999)))] for v in values)


def counted(n: int, noun: str) -> str:
    """``1 answer``, ``3 answers``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def menu_prompt(title: str, key: str, blurb: str) -> Text:
    return Text.assemble((title, "bold"), (f"  {key}", "dim"), "\n", (f"  {blurb}", "dim"))


class HomeScreen(Screen[None]):
    """Where every session starts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "app.mock", "Mock"),
        Binding("d", "app.drill", "Drill"),
        Binding("s", "app.solo", "Solo"),
        Binding("h", "app.history", "History"),
        Binding("comma", "app.settings", "Settings"),
    ]

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "Welcome. Practise at your own pace — your answers stay on this machine.",
            id="home-intro",
        )
        yield OptionList(
            *(
                Option(menu_prompt(title, key, blurb), id=action)
                for action, title, key, blurb in MENU
            ),
            id="menu",
        )
        yield Static("Progress: loading…", id="progress")
        yield Static(id="model-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#menu", OptionList).focus()
        self.refresh_status()
        self.coach.load_history(self)
        self.call_after_refresh(self.coach.start_model_load)

    def on_screen_resume(self) -> None:
        self.refresh_status()
        self.coach.load_history(self)

    def refresh_status(self) -> None:
        self.query_one("#model-status", Static).update(self.coach.model_status_text())

    @on(OptionList.OptionSelected, "#menu")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.run_worker(self.app.run_action(f"app.{event.option.id}"))

    @on(HistoryLoaded)
    def history_loaded(self, message: HistoryLoaded) -> None:
        o = message.overview
        widget = self.query_one("#progress", Static)
        if message.error:
            widget.update(Text(f"Progress: unavailable — {message.error}", style="dim"))
        elif not o.attempts:
            widget.update("Progress: no answers yet — a short solo rehearsal is a kind start.")
        else:
            best = f" · best {o.best_overall:.0f}" if o.best_overall is not None else ""
            latest = f" · latest {o.recent_overall[-1]:.0f}" if o.recent_overall else ""
            widget.update(
                f"Progress: {counted(o.attempts, 'answer')} in {counted(o.sessions, 'session')}"
                " · recent "
                f"{spark(o.recent_overall)}{latest}{best}"
            )
