"""The help screen: key bindings and how the feedback works."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown

HELP = """\
# Keys

| Where | Key | Does |
|---|---|---|
| Anywhere | `ctrl+q` | quit |
| Anywhere | `ctrl+p` | command palette (all main actions) |
| Anywhere | `f1` | this help |
| Home | `m` `d` `s` | mock interview, timed drill, solo rehearsal |
| Home | `h` `,` | history, settings |
| Interview | `space` | start answering now / stop recording |
| Interview | `t` | type the answer instead (no microphone needed) |
| Interview | `ctrl+s` | submit a typed answer |
| Interview | `s` `r` | skip this question, start it again |
| Interview | `a` | read the question aloud (espeak-ng) |
| Interview | `escape` | end the session (saved answers stay saved) |
| Review | `n` `r` | next question, try this one again |
| Review | `p` `x` | replay the recording, show the example answer |
| History | `e` `w` | export the latest session (Markdown, HTML) |
| Settings | `ctrl+s` `l` | save, test the microphone level |

# How a session runs

Each question starts with **think time**. Recording then starts by itself and the
**answer time** counts down; a gentle note appears about 15 seconds before the limit and
recording stops at the limit. Your words appear live while you speak.

# Reading the feedback

Words in **green** earned points, words in **red** cost points; the reason is listed under
the answer. Each criterion (brevity, factual tone, growth focus, delivery, content) scores
0–100 with one suggestion. Scores are a rehearsal aid, not a verdict on you.

Everything stays on this computer: recordings, transcripts and scores.
"""


class HelpScreen(Screen[None]):
    """Key bindings and a short guide."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Markdown(HELP, id="help")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help", Markdown).focus()
