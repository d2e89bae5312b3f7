"""The interview-day readiness screen: one line per category, then what is left to do.

Shows :class:`coach.story.readiness.Readiness` (practised, latest and best, story points still
unsaid, open consistency flags). The summary is built in a thread worker (it reads the history
database and checks every current answer), and posted back as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from coach.errors import CoachError
from coach.story.readiness import Readiness

Loader = Callable[[], Readiness]


class ReadinessLoaded(Message):
    """The worker's result: the summary, or why there is none."""

    def __init__(self, readiness: Readiness | None, error: str = "") -> None:
        super().__init__()
        self.readiness = readiness
        self.error = error


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _unsaid_cell(unsaid: tuple[str, ...], has_story: bool, width: int = 16) -> Text:
    """The first unsaid point, shortened to fit 80 columns; the detail line has them all."""
    if not unsaid:
        return Text("—" if has_story else "", style="dim")
    first = unsaid[0] if len(unsaid[0]) <= width else unsaid[0][: width - 1] + "…"
    more = f" +{len(unsaid) - 1}" if len(unsaid) > 1 else ""
    return Text(first + more, style="yellow")


class ReadinessScreen(Screen[None]):
    """Per category: answers, latest and best, unsaid story points and open flags."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f5", "reload", "Refresh"),
    ]

    def __init__(self, loader: Loader | None = None) -> None:
        super().__init__()
        self._readiness: Readiness | None = None
        if loader is None:
            from coach.story.readiness import load_readiness

            loader = load_readiness
        self._loader = loader

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="readiness"):
            yield Static("Interview-day readiness", classes="section")
            yield Static("Gathering your answers…", id="readiness-status", classes="hint")
            yield DataTable(id="readiness-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="readiness-detail", classes="hint")
            yield Static("", id="readiness-must-say")
            yield Static("", id="readiness-flags")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#readiness-table", DataTable)
        table.add_columns("Category", "Answers", "Latest", "Best", "Flags", "Still to say")
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="readiness")
    def _load(self) -> None:
        try:
            result = self._loader()
        except CoachError as exc:
            self.post_message(ReadinessLoaded(None, str(exc)))
        except Exception as exc:  # a broken file must not crash the app
            self.post_message(ReadinessLoaded(None, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(ReadinessLoaded(result))

    @on(ReadinessLoaded)
    def loaded(self, message: ReadinessLoaded) -> None:
        status = self.query_one("#readiness-status", Static)
        r = message.readiness
        if r is None:
            status.update(f"Readiness is unavailable: {message.error}")
            return
        practised = sum(1 for c in r.categories if c.practised)
        status.update(
            f"{practised} of {len(r.categories)} categories practised."
            + ("" if r.has_story else " Write your story to see what each answer still needs.")
        )
        table = self.query_one("#readiness-table", DataTable)
        table.clear()
        self._readiness = r
        for c in r.categories:
            table.add_row(
                c.category if c.practised else Text(c.category, style="dim"),
                f"{c.attempts}",
                _score(c.latest),
                _score(c.best),
                Text(f"{len(c.flags)}", style="bold yellow") if c.flags else "",
                _unsaid_cell(c.unsaid, r.has_story),
                key=c.category,
            )
        must = self.query_one("#readiness-must-say", Static)
        if r.has_story:
            must.update(
                "Must-say points not in any current answer: " + " · ".join(r.must_say_unsaid)
                if r.must_say_unsaid
                else "Every must-say point is in at least one current answer."
            )
        flags = self.query_one("#readiness-flags", Static)
        if r.flags:
            flags.update("\n".join(f"• {f.message}" for f in r.flags))
        elif r.has_story:
            flags.update("Your current answers tell one story.")

    @on(DataTable.RowHighlighted, "#readiness-table")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        """Everything still to say, and the flags, for the highlighted category."""
        r = self._readiness
        if r is None or event.row_key.value is None:
            return
        c = r.category(event.row_key.value)
        parts = []
        if c.unsaid:
            parts.append(f"{c.category}: still to say — " + " · ".join(c.unsaid))
        elif r.has_story:
            parts.append(f"{c.category}: every needed story point is said.")
        if c.flags:
            parts.append(f"Open consistency flags: {len(c.flags)} (below).")
        self.query_one("#readiness-detail", Static).update(" ".join(parts))
