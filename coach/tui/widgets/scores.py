"""The per-criterion score table, with deltas against the previous attempt."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from coach.scoring.report import ScoreReport
from coach.tui.services import PreviousAttempt


def delta_text(now: float, before: float | None) -> Text:
    if before is None:
        return Text("")
    d = now - before
    if abs(d) < 0.5:
        return Text("±0", style="dim")
    return Text(f"{d:+.0f}", style="green" if d > 0 else "yellow")


def score_table(report: ScoreReport, previous: PreviousAttempt | None = None) -> Table:
    """Rows: criterion, score, a kind verdict, change since last time, and the feedback."""
    table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    table.add_column("Criterion", no_wrap=True)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    if previous is not None:
        table.add_column("Δ", justify="right", no_wrap=True)
    table.add_column("Feedback", ratio=1)
    for c in report.criteria:
        verdict = Text("✓ on track", style="green") if c.passed else Text("↻ keep at it", "yellow")
        row: list[Text | str] = [c.name, f"{c.score:.0f}", verdict]
        if previous is not None:
            row.append(delta_text(c.score, previous.scores.get(c.id)))
        row.append(c.feedback)
        table.add_row(*row)
    return table


class ScoreTable(Static):
    """Renders :func:`score_table` for a report."""

    DEFAULT_CLASSES = "score-table"

    def __init__(
        self, report: ScoreReport, previous: PreviousAttempt | None = None, **kwargs: str
    ) -> None:
        super().__init__(score_table(report, previous), **kwargs)  # type: ignore[arg-type]
        self.report = report
        self.previous = previous
