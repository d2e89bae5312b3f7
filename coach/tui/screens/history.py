"""The history screen: charts over time, progress per question, and export for a mentor.

The charts show every answer in order whatever the question, so they cannot show progress on
its own: going from 50 on one question to 100 on an easier one is not improvement. The screen
says so, and lists each question with its latest and best score (the same question compared
with itself). Exports go to a folder the user sees and can change (remembered in settings); after
saving, the full path is shown and the folder can be opened when this machine allows it.

``s`` adds the story checklist to the next exports (which story points each answer said, and
contradictions). It is off each time the screen opens: the story stays out of exports unless
asked, and is never remembered as a default.

A mentor's comments come back the same way: ``c`` asks for the file they sent (the .json the
exported page saved or the .md they filled in) and imports it through the core's history; a
refused or broken file is one calm line in the status bar and nothing is imported.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from coach.core.plan import timed
from coach.errors import CoachError
from coach.settings import export_dir, save_settings
from coach.tui.messages import CommentsImportDone, ExportFinished, HistoryLoaded
from coach.tui.opener import folder_opener, open_folder
from coach.tui.screens.home import counted
from coach.tui.screens.interview import InterviewScreen
from coach.tui.services import QuestionProgress
from coach.tui.widgets.chart import ScoreChart

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

CHART_NOTE = (
    "Charts: every answer, oldest first, 0–100, all questions mixed: a jump may just be "
    "another question. Below, each question is compared with itself."
)
PER_QUESTION_HEAD = "Latest  Best  Answers  Question"


def trend_label(values: list[float]) -> Text:
    """The latest score on a chart and how many answers it shows.

    No arrow: consecutive points are usually different questions, so their difference is not
    progress (issue 15: "↑50" from 50 on one question to 100 on another).
    """
    if not values:
        return Text("no answers yet", style="dim")
    return Text.assemble(
        ("latest ", "dim"), f"{values[-1]:.0f}", (f" · {counted(len(values), 'answer')}", "dim")
    )


def progress_row(row: QuestionProgress) -> Text:
    """``    70    85       3×  Tell us what happened…``: one question compared with itself.

    One line per question (long questions end in an ellipsis) so the columns stay aligned.
    """
    latest = f"{row.latest:.0f}" if row.latest is not None else "—"
    best = f"{row.best:.0f}" if row.best is not None else "—"
    out = Text.assemble(
        (f"{latest:>6}", "bold"), f"{best:>6}", (f"{row.attempts:>8}×  ", "dim"), row.text
    )
    out.no_wrap = True
    out.overflow = "ellipsis"
    return out


class HistoryScreen(Screen[None]):
    """Scores over time, progress per question, and export for mentors."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export('md')", "Export Markdown"),
        Binding("w", "export('html')", "Export HTML"),
        # Not in the footer (it would push Help off an 80-column one): the hint below names it.
        Binding("s", "toggle_story", "Story", show=False),
        Binding("f", "choose_folder", "Folder"),
        Binding("c", "import_comments", "Comments"),
        Binding("o", "open_folder", "Open folder"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.last_export: Path | None = None
        self.with_story = False  # off by default, never saved: asked for each time

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_folder":
            # Shown once there is something to open and a way to open it.
            return self.last_export is not None and folder_opener() is not None
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="history"):
            yield Static("Loading your history…", id="history-overview")
            yield Static(CHART_NOTE, id="chart-note", classes="hint")
            for key, name in CRITERIA:
                with Horizontal(classes="chart-row"):
                    yield Label(name, classes="chart-label")
                    yield ScoreChart([], id=f"spark-{key}", classes="chart")
                    yield Label("", id=f"trend-{key}", classes="chart-trend")
            yield Static(
                "Per question: latest and best of the same question (weakest first)",
                classes="section",
            )
            yield Static(PER_QUESTION_HEAD, id="per-question-head", classes="hint")
            yield OptionList(id="weakest")
        with Vertical(id="export-bar"):
            yield Static(id="export-folder")
            yield Input(id="export-folder-input", placeholder="a folder, e.g. ~/Documents")
            yield Input(
                id="comments-file-input",
                placeholder="the file your mentor sent, e.g. ~/Downloads/coach-comments-session-3.json",
            )
            yield Static(
                "e saves Markdown, w saves HTML for a mentor; s adds your story checklist; "
                "c imports their comments.",
                id="export-status",
                classes="hint",
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#export-folder-input").display = False
        self.query_one("#comments-file-input").display = False
        self.show_folder()
        self.coach.load_history(self, series=[k for k, _ in CRITERIA])
        self.query_one("#weakest", OptionList).focus()

    # --- progress ---------------------------------------------------------------------

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
            self.query_one(f"#spark-{key}", ScoreChart).data = values
            self.query_one(f"#trend-{key}", Label).update(trend_label(values))
        weakest = self.query_one("#weakest", OptionList)
        weakest.clear_options()
        for row in message.weakest:
            weakest.add_option(Option(progress_row(row), id=row.question_id))
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

    def action_back(self) -> None:
        if self.query_one("#export-folder-input").display:
            self.close_folder_input()  # escape cancels the folder change first
            return
        if self.query_one("#comments-file-input").display:
            self.close_comments_input()
            self.query_one("#export-status", Static).update("No comments were imported.")
            return
        self.app.pop_screen()

    # --- export folder ----------------------------------------------------------------

    def folder(self) -> Path:
        return export_dir(self.coach.settings)

    def show_folder(self) -> None:
        chosen = "" if self.coach.settings.export_dir else " (the default)"
        self.query_one("#export-folder", Static).update(
            Text.assemble(
                ("Export folder: ", "bold"), str(self.folder()), chosen, (" — f to change", "dim")
            )
        )

    def action_choose_folder(self) -> None:
        if self.typing():
            return
        field = self.query_one("#export-folder-input", Input)
        field.value = str(self.folder())
        field.display = True
        field.focus()
        field.cursor_position = len(field.value)
        self.query_one("#export-status", Static).update(
            "Type a folder and press enter (empty: the default); escape keeps the current one."
        )

    def close_folder_input(self) -> None:
        self.query_one("#export-folder-input").display = False
        self.query_one("#weakest", OptionList).focus()

    @on(Input.Submitted, "#export-folder-input")
    def folder_submitted(self, event: Input.Submitted) -> None:
        status = self.query_one("#export-status", Static)
        value = event.value.strip()
        chosen = Path(value).expanduser().absolute() if value else None
        if chosen is not None and chosen.exists() and not chosen.is_dir():
            status.update(f"{chosen} is a file, not a folder — type another folder.")
            return
        new = replace(self.coach.settings, export_dir=str(chosen) if chosen else None)
        self.coach.apply_settings(new)
        self.close_folder_input()
        self.show_folder()
        try:
            save_settings(new)
        except OSError as exc:
            status.update(
                f"Exports go to {self.folder()} until you quit; the settings could not be "
                f"saved ({exc.strerror or exc})."
            )
            return
        status.update(f"Exports go to {self.folder()} (saved in your settings).")

    # --- export -----------------------------------------------------------------------

    def action_toggle_story(self) -> None:
        if self.typing():
            return
        self.with_story = not self.with_story
        self.query_one("#export-status", Static).update(
            "Exports now include your story checklist (story points said and not said, "
            "contradictions); s leaves it out."
            if self.with_story
            else "Exports leave your story out (s adds the checklist)."
        )

    def typing(self) -> bool:
        """A path field is open: its letters are text, not keys."""
        return bool(
            self.query_one("#export-folder-input").display
            or self.query_one("#comments-file-input").display
        )

    def action_export(self, fmt: str) -> None:
        if self.typing():
            return
        story = " with your story checklist" if self.with_story else ""
        self.query_one("#export-status", Static).update(
            f"Exporting the latest session ({fmt}){story}…"
        )
        self.export(fmt, self.folder(), self.with_story)

    @work(thread=True, group="export")
    def export(self, fmt: str, folder: Path, with_story: bool = False) -> None:
        try:
            try:
                # Private like the data folder: the answers are about failures and red flags.
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise CoachError(
                    f"cannot create the export folder {folder} ({exc.strerror or exc})",
                    "press f to choose another folder",
                ) from exc
            path = self.coach.services.history.export_latest(fmt, folder, with_story=with_story)
        except CoachError as exc:
            self.post_message(ExportFinished(None, str(exc)))
        except Exception as exc:
            self.post_message(ExportFinished(None, f"export failed ({exc})"))
        else:
            self.post_message(ExportFinished(path))

    @on(ExportFinished)
    def exported(self, message: ExportFinished) -> None:
        status = self.query_one("#export-status", Static)
        if message.error or message.path is None:
            error = message.error or "export failed"
            status.update(f"Export: {error}")
            self.notify(error, title="Export", severity="warning")
            return
        path = message.path.absolute()
        self.last_export = path
        self.refresh_bindings()
        how = (
            "o opens the folder."
            if folder_opener() is not None
            else "Open it from your file manager."
        )
        status.update(Text.assemble("Saved for your mentor: ", (str(path), "bold"), f" — {how}"))
        self.notify(f"Saved for your mentor: {path}", title="Export")

    def action_open_folder(self) -> None:
        if self.last_export is None:
            return
        try:
            open_folder(self.last_export.parent)
        except CoachError as exc:
            self.notify(str(exc), title="Open folder", severity="warning")
        else:
            self.notify(f"Opening {self.last_export.parent}", title="Open folder", timeout=4)

    # --- mentor comments coming back ------------------------------------------------

    def action_import_comments(self) -> None:
        if self.typing():
            return
        field = self.query_one("#comments-file-input", Input)
        field.value = ""
        field.display = True
        field.focus()
        self.query_one("#export-status", Static).update(
            "Type the path of the comments file and press enter; escape cancels."
        )

    def close_comments_input(self) -> None:
        self.query_one("#comments-file-input").display = False
        self.query_one("#weakest", OptionList).focus()

    @on(Input.Submitted, "#comments-file-input")
    def comments_submitted(self, event: Input.Submitted) -> None:
        status = self.query_one("#export-status", Static)
        value = event.value.strip()
        if not value:
            status.update("Type the path of the file your mentor sent (escape cancels).")
            return
        path = Path(value).expanduser()
        self.close_comments_input()
        status.update(f"Importing comments from {path}…")
        self.import_comments(path)

    @work(thread=True, group="comments", exclusive=True)
    def import_comments(self, path: Path) -> None:
        try:
            done = self.coach.services.history.import_comments(path)
        except CoachError as exc:
            self.post_message(CommentsImportDone(None, str(exc)))
        except Exception as exc:
            self.post_message(CommentsImportDone(None, f"the import failed ({exc})"))
        else:
            self.post_message(CommentsImportDone(done.summary(path)))

    @on(CommentsImportDone)
    def comments_imported(self, message: CommentsImportDone) -> None:
        status = self.query_one("#export-status", Static)
        if message.error or message.summary is None:
            error = message.error or "the import failed"
            status.update(Text.assemble(("Comments: ", "bold"), error))
            self.notify(error, title="Comments", severity="warning")
            return
        status.update(
            Text.assemble(
                ("Comments: ", "bold"),
                message.summary,
                " They show on the review screen beside the coach's feedback.",
            )
        )
        self.notify(message.summary, title="Comments")
