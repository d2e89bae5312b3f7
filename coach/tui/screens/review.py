"""The review screen: what earned points, what cost them, and how to do better next time.

Shows the transcript with rubric evidence highlighted, the per-criterion scores with their
feedback, the guide's tips, delivery figures, the example answer, the comparison with the
previous attempt at the same question (score deltas and a word diff) and replay. Beside the
coach's own feedback, what a mentor wrote back (``coach import-comments`` or the History
screen) on this answer, or on the previous answer to the same question, which is where a new
attempt's advice usually comes from; read off the UI thread through the core's history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, Footer, Header, Static

from coach.errors import CoachError
from coach.questions import Question
from coach.scoring.report import AnswerStats, ScoreReport
from coach.tui.messages import AttemptResult, MentorNotesLoaded, PlaybackFinished
from coach.tui.services import MentorNote, PreviousAttempt
from coach.tui.widgets import HighlightedTranscript, ScoreTable, WordDiff
from coach.tui.widgets.scores import delta_text
from coach.tui.widgets.story_checklist import StoryChecklist

if TYPE_CHECKING:
    from coach.tui.app import CoachApp


def overall_line(report: ScoreReport, previous: PreviousAttempt | None = None) -> Text:
    score = report.overall
    if score >= 80:
        word = "strong answer"
    elif score >= 60:
        word = "solid base to build on"
    else:
        word = "a starting point — every rehearsal helps"
    out = Text.assemble(("Overall ", "bold"), (f"{score:.0f}", "bold cyan"), " / 100")
    if previous is not None:
        out.append(" (")
        out.append_text(delta_text(score, previous.overall))
        out.append(" since last time)")
    out.append(f" · {word}")
    return out


def mentor_text(notes: list[MentorNote], attempt_id: int | None) -> Text:
    """Each comment under who wrote it and when; long comments wrap with the screen."""
    out = Text()
    for n, note in enumerate(notes):
        if n:
            out.append("\n\n")
        which = "this answer" if note.attempt_id == attempt_id else "your previous answer"
        when = f", {note.received}" if note.received else ""
        out.append(f"{note.mentor or 'Your mentor'} on {which}{when}:", "bold")
        out.append("\n")
        out.append(note.body)
    return out


def delivery_text(stats: AnswerStats, question: Question | None = None) -> Text:
    target = (question.target_min_s, question.target_max_s) if question is not None else None
    text = Text(" · ".join(stats.summary_parts(target)))
    if stats.duration_s is None:
        text.append("\nTyped answer: pace and pauses are measured on spoken answers.", "dim")
    return text


class ReviewScreen(Screen[str]):
    """Dismisses with ``"next"``, ``"retry"`` or ``"done"``."""

    # Short labels so the footer fits 80 columns with every key shown.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "Next"),
        Binding("r", "retry", "Retry"),
        Binding("p", "replay", "Replay"),
        Binding("x", "example", "Example"),
        Binding("escape", "done", "Done"),
    ]

    def __init__(self, result: AttemptResult, *, has_next: bool) -> None:
        super().__init__()
        self.result = result
        self.has_next = has_next
        self.playing = False

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        r = self.result
        report = r.report
        yield Header()
        with VerticalScroll(id="review"):
            yield Static(r.question.text, id="review-question", classes="question")
            yield Static(overall_line(report, r.previous), id="overall")
            yield ScoreTable(report, r.previous, id="scores")
            # Filled in when the history has answered (MentorNotesLoaded); hidden when empty.
            yield Static("From your mentor", classes="section", id="mentor-title")
            yield Static("", id="mentor-notes")
            yield Static("Your answer", classes="section", id="answer-title")
            yield Static(
                Text.assemble(
                    ("green", "bold green underline"),
                    " earned points · ",
                    ("red", "bold red underline"),
                    " cost points",
                ),
                classes="hint legend",
            )
            # Each highlight is listed with the criterion it counted for, so the score table
            # and the words it came from can be read together.
            evidence = [(c.name, e) for c in report.criteria for e in c.evidence]
            yield HighlightedTranscript(report.text, evidence, id="answer")
            yield StoryChecklist(
                report.category,
                report.text,
                question_id=r.question.id,
                attempt_id=r.attempt_id,
                id="story-checklist",
            )
            if r.previous is not None:
                when = f" ({r.previous.when})" if r.previous.when else ""
                yield Static(f"Since your last attempt{when}", classes="section", id="since")
                d = report.overall - r.previous.overall
                trend = "up" if d > 0.5 else ("down" if d < -0.5 else "about the same")
                sign = f"{d:+.0f}" if abs(d) >= 0.5 else "±0"  # as in the table, never "+0"
                change = Text(
                    f"Overall {r.previous.overall:.0f} → {report.overall:.0f} ({sign}, {trend}). "
                )
                if r.previous.text.split() == report.text.split():
                    # Repeating the whole answer under a diff legend reads as if it changed.
                    change.append("Wording: the same words as last time.")
                    yield Static(change, id="delta")
                else:
                    change.append_text(
                        Text.assemble(
                            "Wording: ",
                            ("[-removed-]", "red strike"),
                            " ",
                            ("{+added+}", "green underline"),
                        )
                    )
                    yield Static(change, id="delta")
                    yield WordDiff(r.previous.text, report.text, id="diff")
            yield Static("Delivery", classes="section")
            yield Static(delivery_text(report.stats, r.question), id="delivery")
            tips = report.tips or r.question.tips
            if tips:
                yield Static("Tips from the guide", classes="section")
                yield Static("\n".join(f"• {t}" for t in tips), id="tips")
            if r.question.example_answer:
                with Collapsible(title="Example answer (x)", id="example", collapsed=True):
                    yield Static(r.question.example_answer, id="example-text")
            yield Static(self.hint(), id="review-hint", classes="hint")
        yield Footer(compact=True)

    def hint(self) -> str:
        nxt = "n next question · " if self.has_next else ""
        play = "p replay · " if self.result.audio_path else ""
        return f"{nxt}r try again · {play}escape finish"

    def on_mount(self) -> None:
        self.query_one("#mentor-title").display = False
        self.query_one("#mentor-notes").display = False
        self.query_one("#review", VerticalScroll).focus()
        ids = [self.result.attempt_id]
        if self.result.previous is not None:
            ids.append(self.result.previous.attempt_id)
        wanted = [i for i in ids if i is not None]
        if wanted:
            self.load_notes(wanted)

    @work(thread=True, group="mentor-notes", exclusive=True)
    def load_notes(self, attempt_ids: list[int]) -> None:
        try:
            notes = [
                n for aid in attempt_ids for n in self.coach.services.history.mentor_comments(aid)
            ]
        except CoachError as exc:
            self.post_message(MentorNotesLoaded([], str(exc)))
        except Exception as exc:  # the review itself must never fail over comments
            self.post_message(MentorNotesLoaded([], f"comments could not be read ({exc})"))
        else:
            self.post_message(MentorNotesLoaded(notes))

    @on(MentorNotesLoaded)
    def notes_loaded(self, message: MentorNotesLoaded) -> None:
        body = self.query_one("#mentor-notes", Static)
        if message.error:
            body.update(Text(f"Your mentor's comments could not be shown: {message.error}", "dim"))
        elif message.notes:
            body.update(mentor_text(message.notes, self.result.attempt_id))
        else:
            return
        self.query_one("#mentor-title").display = True
        body.display = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            return self.has_next
        if action == "replay":
            return self.result.audio_path is not None
        return True

    def action_next(self) -> None:
        self.coach.services.speaker.stop()
        self.dismiss("next")

    def action_retry(self) -> None:
        self.dismiss("retry")

    def action_done(self) -> None:
        self.dismiss("done")

    def action_example(self) -> None:
        for c in self.query("#example").results(Collapsible):
            c.collapsed = not c.collapsed
            if not c.collapsed:
                self.query_one("#review", VerticalScroll).scroll_to_widget(c)

    def action_replay(self) -> None:
        path = self.result.audio_path
        if path is None:
            self.notify("There is no recording for a typed answer.", title="Replay")
            return
        if self.playing:
            return
        self.playing = True
        self.notify("Playing your answer…", title="Replay", timeout=3)
        self.play(path)

    @work(thread=True, group="playback")
    def play(self, path: object) -> None:
        from pathlib import Path

        assert isinstance(path, Path)
        try:
            self.coach.services.play(path)
        except CoachError as exc:
            self.post_message(PlaybackFinished(str(exc)))
        except Exception as exc:
            self.post_message(PlaybackFinished(f"playback is not available here ({exc})"))
        else:
            self.post_message(PlaybackFinished())

    @on(PlaybackFinished)
    def playback_finished(self, message: PlaybackFinished) -> None:
        self.playing = False
        if message.error:
            self.notify(
                f"We couldn't play the recording: {message.error}. "
                f"The file is at {self.result.audio_path}.",
                title="Replay",
                severity="warning",
                timeout=10,
            )
