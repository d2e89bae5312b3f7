"""Live transcript on standard error for ``coach rehearse``.

On a terminal one status line is rewritten as the text grows; otherwise (a pipe, a log, CI) only
the committed text is printed, once, as final lines. Notes from the live worker (falling behind,
an engine error) go on their own line in both modes.
"""

from __future__ import annotations

import shutil
import threading
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from coach.audio.live import LiveUpdate


class LiveText:
    """Shows the live transcript: a rewritten status line on a terminal, final lines otherwise."""

    def __init__(self, *, tty: bool) -> None:
        self.tty = tty
        self.width = shutil.get_terminal_size((100, 20)).columns - 1
        self._printed = ""  # committed text already printed (non-terminal mode)
        self._lock = threading.Lock()
        self._status = ""

    def __call__(self, event: LiveUpdate) -> None:
        from coach.audio.live import FallingBehind, LiveError, TextUpdate

        with self._lock:
            if isinstance(event, TextUpdate):
                if self.tty:
                    self._status = event.text
                    self._draw()
                elif len(event.committed) > len(self._printed):
                    new = event.committed[len(self._printed) :].strip()
                    self._printed = event.committed
                    if new:
                        click.echo(f"  … {new}", err=True)
            elif isinstance(event, FallingBehind | LiveError):
                self._line(f"note: {event.message}")

    def note(self, message: str) -> None:
        with self._lock:
            self._line(f"note: {message}")

    def _draw(self) -> None:
        text = " ".join(self._status.split())
        room = max(10, self.width - 4)
        shown = text if len(text) <= room else "…" + text[-(room - 1) :]
        click.echo("\r\x1b[2K  " + shown, err=True, nl=False)

    def _line(self, message: str) -> None:
        if self.tty:
            click.echo("\r\x1b[2K" + message, err=True)
            self._draw()
        else:
            click.echo(message, err=True)

    def finish(self) -> None:
        with self._lock:
            if self.tty:
                click.echo("\r\x1b[2K", err=True, nl=False)
