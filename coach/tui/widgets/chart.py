"""A score chart on a fixed 0–100 scale: one bar per answer, oldest to newest.

Textual's Sparkline scales to the data's own minimum and maximum, so two answers that both
scored 98 were drawn as the lowest bars, which reads as "scored 0", and a change from 80 to 82
filled the whole height. Here the bar height is the score itself.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Sparkline

BARS = " ▁▂▃▄▅▆▇█"
MAX_COLUMNS_PER_ANSWER = 3


def score_bars(values: list[float], width: int) -> Text:
    """The newest answers that fit in ``width`` columns, each a bar as tall as its score."""
    if width <= 0 or not values:
        return Text("")
    shown = values[-width:]
    per = max(1, min(MAX_COLUMNS_PER_ANSWER, width // len(shown)))
    out = Text()
    for value in shown:
        level = round(min(100.0, max(0.0, value)) / 100 * (len(BARS) - 2)) + 1  # never blank
        out.append(BARS[level] * per, style="green" if value >= 70 else "yellow")
    return out


class ScoreChart(Sparkline):
    """Scores (0–100) over time; ``data`` as for a Sparkline."""

    def render(self) -> Text:
        return score_bars(list(self.data or []), self.size.width)
