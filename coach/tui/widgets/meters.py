"""The live input level meter and the think/answer countdown with its progress bar."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

FLOOR_DB = -60.0
CLIP_DB = -1.0


def format_clock(seconds: float) -> str:
    """``75.2`` -> ``1:16`` (rounded up, so a countdown reaches 0:00 exactly at the end)."""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}"


def level_bar(dbfs: float | None, width: int) -> Text:
    """A bar from -60 dBFS (empty) to 0 dBFS (full), coloured quiet / good / hot."""
    if dbfs is None:
        return Text("·" * width, style="dim")
    frac = min(1.0, max(0.0, (dbfs - FLOOR_DB) / -FLOOR_DB))
    filled = round(frac * width)
    style = "yellow" if dbfs < -45 else ("red" if dbfs >= CLIP_DB - 5 else "green")
    return Text.assemble(("█" * filled, style), ("·" * (width - filled), "dim"))


class LevelMeter(Static):
    """Input level in dBFS; ``None`` shows an idle meter."""

    DEFAULT_CLASSES = "level-meter"
    level: reactive[float | None] = reactive(None)

    def render(self) -> Text:
        width = max(10, self.size.width - 16)
        label = "mic  --- dB " if self.level is None else f"mic {self.level:5.0f} dB "
        return Text.assemble((label, "bold"), level_bar(self.level, width))


def progress_bar(fraction: float, width: int, warn: bool) -> Text:
    frac = min(1.0, max(0.0, fraction))
    filled = round(frac * width)
    style = "yellow" if warn else "cyan"
    return Text.assemble(("━" * filled, style), ("━" * (width - filled), "grey37"))


class Countdown(Static):
    """``Think 0:23`` / ``Answer 1:02 left`` with a bar that fills as time passes."""

    DEFAULT_CLASSES = "countdown"
    label: reactive[str] = reactive("Ready")
    total: reactive[float] = reactive(0.0)
    remaining: reactive[float] = reactive(0.0)
    warn: reactive[bool] = reactive(False)

    def set(self, label: str, total: float, remaining: float, warn: bool = False) -> None:
        self.label, self.total, self.remaining, self.warn = label, total, remaining, warn

    def render(self) -> Text:
        if not self.total:
            return Text(self.label, style="bold")
        head = f"{self.label} {format_clock(self.remaining)} "
        width = max(10, self.size.width - len(head) - 1)
        done = 1.0 - (self.remaining / self.total) if self.total else 0.0
        return Text.assemble((head, "bold"), progress_bar(done, width, self.warn))
