"""The review screen's story checklist: "said: research coordinator role · not said: new
pediatrics letter".

Hidden when the user has no story. The story file is read and the answer checked in a thread
worker (matching is quick, but reading a file never happens on the UI thread).
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Static

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

    def __init__(self, category: str, answer: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.category = category
        self.answer = answer
        self.coverage: StoryCoverage | None = None

    def on_mount(self) -> None:
        self._check()

    @work(thread=True, group="story-checklist")
    def _check(self) -> None:
        coverage, warning = coverage_for_saved_story(self.category, self.answer)
        self.app.call_from_thread(self._show, coverage, warning)

    def _show(self, coverage: StoryCoverage | None, warning: str) -> None:
        self.coverage = coverage
        if coverage is not None:
            self.update(checklist_text(coverage))
            self.display = True
        elif warning:
            self.update(Text(warning.removeprefix("warning: "), style="dim"))
            self.display = True
