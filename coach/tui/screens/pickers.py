"""Choosing what to practise: the timed-drill set-up and the solo-rehearsal question picker."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
    Static,
)
from textual.widgets.option_list import Option

from coach.core.plan import PlanItem, drill_plan, timed
from coach.questions import CATEGORIES, Question
from coach.tui.screens.interview import InterviewScreen, category_label

if TYPE_CHECKING:
    from coach.tui.app import CoachApp

ALL = "all"


def category_options(questions: list[Question]) -> list[tuple[str, str]]:
    present = {q.category for q in questions}
    ordered = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    return [(category_label(c), c) for c in ordered]


def parse_seconds(raw: str, what: str) -> int | None:
    """Blank means the bank's default; otherwise whole seconds 0–600 (ValueError says why)."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 <= int(raw) <= 600:
        raise ValueError(f"{what} should be a number of seconds from 0 to 600")
    return int(raw)


class DrillSetupScreen(Screen[None]):
    """A timed drill: one category or a custom set, with adjustable think and answer times."""

    starting = False  # a start is being prepared (ignore a second ctrl+s)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start drill"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        questions = list(self.coach.services.questions.all())
        yield Header()
        with Vertical(id="drill-form"):
            with Horizontal(classes="form-row"):
                yield Label("Category", classes="form-label")
                yield Select(
                    category_options(questions),
                    prompt="Custom set (tick below)",
                    allow_blank=True,
                    value=(
                        "failed-match"
                        if any(q.category == "failed-match" for q in questions)
                        else Select.NULL
                    ),
                    id="drill-category",
                )
            yield SelectionList[str](id="drill-questions")
            with Horizontal(classes="form-row"):
                yield Label("Think s", classes="form-label")
                yield Input(placeholder="bank default", id="drill-think", type="integer")
                yield Label("Answer s", classes="form-label")
                yield Input(placeholder="bank default", id="drill-answer", type="integer")
            yield Static(
                "Blank keeps each question's own think time and limit (in brackets above). "
                "Recording starts by itself when think time ends.",
                id="drill-hint",
                classes="hint",
            )
            yield Button("Start drill (ctrl+s)", id="drill-start", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.fill_questions()
        self.query_one("#drill-category", Select).focus()

    @on(Select.Changed, "#drill-category")
    def category_changed(self) -> None:
        self.fill_questions()

    def fill_questions(self) -> None:
        value = self.query_one("#drill-category", Select).value
        questions = list(self.coach.services.questions.all())
        chosen = value if isinstance(value, str) else None
        sel = self.query_one("#drill-questions", SelectionList)
        sel.clear_options()
        for q in questions:
            if chosen is None or q.category == chosen:
                label = f"{q.text}  ({q.think_s}s / {q.hard_limit_s}s)"
                sel.add_option((label, q.id, chosen is not None))

    @on(Button.Pressed, "#drill-start")
    def start_pressed(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        bank = self.coach.services.questions
        ids = list(self.query_one("#drill-questions", SelectionList).selected)
        if not ids:
            self.notify("Tick at least one question (space), or choose a category.", title="Drill")
            return
        try:
            think = parse_seconds(self.query_one("#drill-think", Input).value, "Think time")
            answer = parse_seconds(self.query_one("#drill-answer", Input).value, "Answer time")
        except ValueError as exc:
            self.notify(str(exc), title="Drill", severity="warning")
            return
        if answer == 0:
            self.notify("Answer time needs at least a few seconds.", title="Drill")
            return
        questions = [bank.get(i) for i in ids]
        if self.starting:
            return
        self.starting = True
        self.prepare(questions, think, answer)

    @work(thread=True, exclusive=True, group="drill")
    def prepare(self, questions: list[Question], think: int | None, answer: int | None) -> None:
        # Ordering weak questions first reads the history database: not on the UI thread.
        if self.coach.settings.favour_weak and len(questions) > 1:
            questions = self.coach.order_questions(questions)
        plan = drill_plan(questions, self.coach.settings, think_s=think, answer_s=answer)
        self.app.call_from_thread(self.begin, plan)

    def begin(self, plan: list[PlanItem]) -> None:
        self.starting = False
        if self.is_current:
            self.app.switch_screen(InterviewScreen(plan, "drill"))


class SoloPickerScreen(Screen[None]):
    """Solo rehearsal: filter by category, search, and answer any question."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+f", "focus_search", "Search"),
    ]

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        questions = list(self.coach.services.questions.all())
        yield Header()
        with Horizontal(classes="form-row", id="solo-filters"):
            yield Input(placeholder="Search questions…", id="solo-search")
            yield Select(
                category_options(questions),
                prompt="All categories",
                allow_blank=True,
                id="solo-category",
            )
        yield OptionList(id="solo-questions")
        yield Static(
            "Enter to rehearse · retry as often as you like", id="solo-hint", classes="hint"
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refill()
        self.query_one("#solo-questions", OptionList).focus()

    def action_focus_search(self) -> None:
        self.query_one("#solo-search", Input).focus()

    def matching(self) -> list[Question]:
        needle = self.query_one("#solo-search", Input).value.strip().lower()
        value = self.query_one("#solo-category", Select).value
        category = value if isinstance(value, str) else None
        out = []
        for q in self.coach.services.questions.all():
            if category and q.category != category:
                continue
            haystack = f"{q.text} {q.category} {q.id} {' '.join(q.follow_ups)}".lower()
            if needle and not all(w in haystack for w in needle.split()):
                continue
            out.append(q)
        return out

    @on(Input.Changed, "#solo-search")
    @on(Select.Changed, "#solo-category")
    def refill(self) -> None:
        opts = self.query_one("#solo-questions", OptionList)
        opts.clear_options()
        found = self.matching()
        for q in found:
            opts.add_option(
                Option(Text.assemble(q.text, (f"  · {category_label(q.category)}", "dim")), id=q.id)
            )
        if not found:
            opts.add_option(
                Option(Text("No questions match — try fewer words.", "dim"), disabled=True)
            )
        else:
            opts.highlighted = 0

    @on(Input.Submitted, "#solo-search")
    def search_submitted(self) -> None:
        self.query_one("#solo-questions", OptionList).focus()

    @on(OptionList.OptionSelected, "#solo-questions")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.rehearse(event.option.id)

    def rehearse(self, question_id: str) -> None:
        q = self.coach.services.questions.get(question_id)
        self.app.push_screen(InterviewScreen([timed(q, self.coach.settings)], "solo"))
