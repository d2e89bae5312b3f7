"""The help screen: key bindings and how the feedback works."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

# (where, keys, what they do). A compact table rather than a Markdown one: at 80x24 the
# Markdown table's borders and row padding left room for only a handful of rows.
KEYS: tuple[tuple[str, str, str], ...] = (
    ("Anywhere", "ctrl+q", "quit"),
    ("", "ctrl+p", "command palette (all main actions)"),
    ("", "f1", "this help"),
    ("", "escape", "back to the previous screen"),
    ("Home", "m d s", "mock interview, timed drill, solo rehearsal"),
    ("", "h ,", "history, settings"),
    ("Drill set-up", "tab ctrl+s", "next field (think / answer seconds), start"),
    ("Solo picker", "ctrl+f enter", "search, rehearse the highlighted question"),
    ("Interview", "space", "start answering now / stop recording"),
    ("", "t", "type the answer instead (no microphone needed)"),
    ("", "ctrl+s", "submit a typed answer"),
    ("", "s r", "skip this question, start it again"),
    ("", "a", "read the question aloud (needs espeak-ng)"),
    ("", "escape", "end the session (saved answers stay saved)"),
    ("Review", "n r", "next question, try this one again"),
    ("", "p x", "replay the recording, show the example answer"),
    ("History", "e w", "export the latest session (Markdown, HTML)"),
    ("", "f o", "choose the export folder, open it"),
    ("", "enter", "rehearse the highlighted question"),
    ("Settings", "ctrl+s ctrl+l", "save, test the microphone level"),
)

GUIDE = """\
## How a session runs

Each question starts with **think time**. Recording then starts by itself and the
**answer time** counts down; a gentle note appears shortly before the limit and recording
stops at the limit. Your words appear live while you speak. No microphone? Press `t` and
type: every feature works with typed answers.

## Reading the feedback

Words in **green** earned points, words in **red** cost points; each is listed under the
answer with the criterion it counted for. Each criterion (brevity, factual tone, growth
focus, delivery, content) scores 0–100 with one suggestion. Scores are a rehearsal aid,
not a verdict on you.

Everything stays on this computer: recordings, transcripts and scores.
"""


def keys_table() -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
    table.add_column("Where", style="bold", no_wrap=True)
    table.add_column("Keys", style="bold cyan", no_wrap=True)
    table.add_column("Does", ratio=1)
    for where, keys, does in KEYS:
        table.add_row(where, Text(keys), does)
    return table


class HelpScreen(Screen[None]):
    """Key bindings and a short guide."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="help"):
            yield Static(keys_table(), id="help-keys")
            yield Markdown(GUIDE, id="help-guide")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#help", VerticalScroll).focus()
