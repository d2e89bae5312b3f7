"""The history screen: progress per criterion over time, weakest questions, and export."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from coach.core.plan import timed
from coach.errors import CoachError
from coach.tui.messages import ExportFinished, HistoryLoaded
from coach.tui.screens.home import counted
from coach.tui.screens.interview import InterviewScreen

if TYPE_CHECKING:
    from coach.tui.app import CoachApp

CRITERIA: tuple[tuple[str, str], ...] = (
    ("overall", "Overall"),
    ("brevity", "Brevity"),
    ("factual_tone", "Factual tone"),
    ("growth_focus", "Growth focus"),
    ("delivery", "Delivery"),
    ("content", "Content"),
)


def trend_label(values: list[float]) -> Text:
    if not values:
        return Text("no answers yet", style="dim")
    last = f"{values[-1]:.0f}"
    if len(values) == 1:
        return Text(f"{last} (1 answer)")
    d = values[-1] - values[0]
    arrow = "↑" if d > 0.5 else ("↓" if d < -0.5 else "→")
    return Text(f"{last} {arrow}{abs(d):.0f} ({len(values)})", style="green" if d > 0.5 else "")


class HistoryScreen(Screen[None]):
    """Scores over time, the questions that need the most care, and export for mentors."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export('md')", "Export Markdown"),
        Binding("w", "export('html')", "Export HTML"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="history"):
            yield Static("Loading your history…", id="history-overview")
            for key, name in CRITERIA:
                with Horizontal(classes="chart-row"):
                    yield Label(name, classes="chart-label")
                    yield Sparkline([], id=f"spark-{key}", classes="chart")
                    yield Label("", id=f"trend-{key}", classes="chart-trend")
            yield Static("Questions to give some extra care", classes="section")
            yield OptionList(id="weakest")
            yield Static("", id="export-status", classes="hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.coach.load_history(self, series=[k for k, _ in CRITERIA])
        self.query_one("#weakest", OptionList).focus()

    @on(HistoryLoaded)
    def loaded(self, message: HistoryLoaded) -> None:
        o = message.overview
        overview = self.query_one("#history-overview", Static)
        if message.error:
            overview.update(f"History is unavailable: {message.error}")
            return
        if not o.attempts:
            overview.update("No answers yet. Your progress will show here after your first one.")
        else:
            best = f", best overall {o.best_overall:.0f}" if o.best_overall is not None else ""
            overview.update(
                f"{counted(o.attempts, 'answer')} in {counted(o.sessions, 'session')}{best}."
            )
        for key, _ in CRITERIA:
            values = message.series.get(key, [])
            # No data: an empty chart, not a flat line that could read as "scored 0".
            self.query_one(f"#spark-{key}", Sparkline).data = values
            self.query_one(f"#trend-{key}", Label).update(trend_label(values))
        weakest = self.query_one("#weakest", OptionList)
        weakest.clear_options()
        for row in message.weakest:
            latest = f"{row.latest:.0f}" if row.latest is not None else "—"
            weakest.add_option(
                Option(
                    Text.assemble(
                        (f"{latest:>3} ", "bold"),
                        row.text,
                        (f"  · {row.attempts}×", "dim"),
                    ),
                    id=row.question_id,
                )
            )
        if not message.weakest:
            weakest.add_option(Option(Text("Nothing here yet.", "dim"), disabled=True))
        else:
            weakest.highlighted = 0

    @on(OptionList.OptionSelected, "#weakest")
    def rehearse(self, event: OptionList.OptionSelected) -> None:
        qid = event.option.id
        if not qid:
            return
        try:
            q = self.coach.services.questions.get(qid.split("#")[0])
        except CoachError as exc:
            self.notify(str(exc), title="Rehearse")
            return
        self.app.push_screen(InterviewScreen([timed(q, self.coach.settings)], "solo"))

    def action_export(self, fmt: str) -> None:
        self.query_one("#export-status", Static).update(f"Exporting the latest session ({fmt})…")
        self.export(fmt)

    @work(thread=True, group="export")
    def export(self, fmt: str) -> None:
        try:
            path = self.coach.services.history.export_latest(fmt)
        except CoachError as exc:
            self.post_message(ExportFinished(None, str(exc)))
        except Exception as exc:
            self.post_message(ExportFinished(None, f"export failed ({exc})"))
        else:
            self.post_message(ExportFinished(path))

    @on(ExportFinished)
    def exported(self, message: ExportFinished) -> None:
        status = self.query_one("#export-status", Static)
        if message.error:
            status.update(f"Export: {message.error}")
            self.notify(message.error, title="Export", severity="warning")
        else:
            status.update(f"Exported to {message.path}")
            self.notify(f"Saved for your mentor: {message.path}", title="Export")
