"""Reusable widgets: level meter, countdown, transcripts with evidence, score table, word diff."""

from coach.tui.widgets.meters import Countdown, LevelMeter
from coach.tui.widgets.scores import ScoreTable
from coach.tui.widgets.transcript import HighlightedTranscript, LiveTranscript, WordDiff

__all__ = [
    "Countdown",
    "HighlightedTranscript",
    "LevelMeter",
    "LiveTranscript",
    "ScoreTable",
    "WordDiff",
]
