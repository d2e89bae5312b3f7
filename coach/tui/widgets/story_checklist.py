"""The review screen's story checklist: "said: research coordinator role · not said: new
pediatrics letter", and any contradiction with the story or your other answers, with both quotes.

Hidden when there is nothing to say. The story file and the history are read, and the answer
checked, in a thread worker (nothing is read on the UI thread).
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static

from coach.errors import CoachError
from coach.story.consistency import ConsistencyFlag
from coach.story.coverage import StoryCoverage, coverage_for_saved_story


def checklist_text(coverage: StoryCoverage) -> Text:
    """The checklist as styled text: what was said in green, what is missing in yellow."""
    out = Text("Your story: ", style="bold")
    if coverage.said:
        out.append("said: ", style="green")
        out.append(", ".join(p.point.label for p in coverage.said))
    if coverage.not_said:
        if coverage.said:
            out.append(" · ")
        out.append("not said: ", style="yellow")
        out.append(", ".join(p.point.label for p in coverage.not_said))
    if not coverage.said and not coverage.not_said:
        out.append("no story points for this question", style="dim")
    return out


class StoryChecklist(Static):
    """Which of the story's points this answer said (hidden without a story)."""

    DEFAULT_CSS = """
    StoryChecklist {
        height: auto;
        padding: 0 1;
        margin-top: 1;
        display: none;
    }
    """

    def __init__(
        self,
        category: str,
        answer: str,
        *,
        question_id: str | None = None,
        attempt_id: int | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__("", id=id)
        self.category = category
        self.answer = answer
        self.question_id = question_id
        self.attempt_id = attempt_id
        self.coverage: StoryCoverage | None = None
        self.flags: list[ConsistencyFlag] = []

    def on_mount(self) -> None:
        self._check()

    @work(thread=True, group="story-checklist")
    def _check(self) -> None:
        from coach.story.readiness import flags_for_answer

        coverage, warning = coverage_for_saved_story(self.category, self.answer)
        flags: list[ConsistencyFlag] = []
        if not warning:
            try:
                flags = flags_for_answer(
                    self.category, self.question_id, self.answer, self.attempt_id
                )
            except CoachError:
                flags = []  # the history is unavailable: the review says so elsewhere
        self.app.call_from_thread(self._show, coverage, warning, flags)

    def _show(
        self, coverage: StoryCoverage | None, warning: str, flags: list[ConsistencyFlag]
    ) -> None:
        self.coverage = coverage
        self.flags = flags
        out = Text()
        if coverage is not None:
            out.append_text(checklist_text(coverage))
        elif warning:
            out.append(warning.removeprefix("warning: "), style="dim")
        for f in flags:
            if out:
                out.append("\n")
            out.append("One story: ", style="bold yellow")
            out.append(f.message)
        if out:
            self.update(out)
            self.display = True
