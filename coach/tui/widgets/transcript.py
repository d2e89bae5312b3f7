"""Transcripts on screen: live text while speaking, evidence highlighting, and a word diff."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from coach.scoring.report import Evidence

EARNED = "bold green underline"
COST = "bold red underline"


class LiveTranscript(Static):
    """The words heard so far, wrapped; a calm placeholder before any.

    ``layout=True``: the widget's height follows the text, so a long answer grows line by line
    instead of staying at the height of its first render. Its scrolling container is kept at
    the bottom so the newest words stay in view while the user speaks.
    """

    DEFAULT_CLASSES = "live-transcript"
    text: reactive[str] = reactive("", layout=True)

    def render(self) -> Text:
        if not self.text.strip():
            return Text("Your words will appear here as you speak.", style="dim italic")
        return Text(self.text)

    def watch_text(self) -> None:
        # After the new height is laid out, follow the newest words.
        self.call_after_refresh(self._follow)

    def _follow(self) -> None:
        parent = self.parent
        if isinstance(parent, Widget) and parent.is_scrollable:
            parent.scroll_end(animate=False, immediate=True)


# Evidence covering most of the answer (e.g. "steady pace" for the whole delivery) is listed
# but not highlighted: painting every word green would hide the phrases that really mattered.
WHOLE_ANSWER = 0.6
QUOTE_MAX = 60


def covers_answer(e: Evidence, text: str) -> bool:
    """Whether ``e`` spans most of ``text``."""
    size = len(text.strip())
    return size > 0 and (min(len(text), e.end) - max(0, e.start)) >= WHOLE_ANSWER * size


def quote(e: Evidence, text: str) -> str:
    if covers_answer(e, text):
        return "the whole answer"
    phrase = " ".join(e.text.split())
    if len(phrase) > QUOTE_MAX:
        phrase = phrase[: QUOTE_MAX - 1].rstrip() + "…"
    return f"“{phrase}”"


def highlight(text: str, evidence: Iterable[Evidence]) -> Text:
    """``text`` with earned spans green and costly spans red (overlaps keep both styles)."""
    out = Text(text)
    for e in sorted(evidence, key=lambda e: (e.start, e.end)):
        if covers_answer(e, text):
            continue
        start, end = max(0, e.start), min(len(text), e.end)
        if start < end:
            out.stylize(EARNED if e.effect == "+" else COST, start, end)
    return out


def evidence_lines(evidence: Iterable[Evidence | tuple[str, Evidence]], text: str = "") -> Text:
    """One line per distinct piece of evidence: ``+ Growth focus: “I learned” — shows growth``.

    Items may carry the name of the criterion they count for, so the user sees *why* a
    phrase mattered; gains are listed before costs.
    """
    labelled = [item if isinstance(item, tuple) else ("", item) for item in evidence]
    out = Text()
    seen: set[tuple[str, str, str]] = set()
    for name, e in sorted(labelled, key=lambda item: (item[1].effect != "+", item[1].start)):
        key = (e.effect, e.text.lower(), e.reason)
        if key in seen:
            continue
        seen.add(key)
        style = "green" if e.effect == "+" else "red"
        out.append(f"{e.effect} ", style=f"bold {style}")
        if name:
            out.append(f"{name}: ", style="bold")
        out.append(quote(e, text), style=style)
        if e.reason:
            out.append(f" — {e.reason}")
        out.append("\n")
    out.rstrip()
    return out


class HighlightedTranscript(Static):
    """The answer with its rubric evidence marked, followed by the reasons."""

    DEFAULT_CLASSES = "highlighted-transcript"

    def __init__(
        self, text: str, evidence: Iterable[Evidence | tuple[str, Evidence]], **kwargs: str
    ) -> None:
        items = list(evidence)
        spans = [item[1] if isinstance(item, tuple) else item for item in items]
        body = highlight(text, spans)
        reasons = evidence_lines(items, text)
        if reasons.plain:
            body.append("\n\n")
            body.append_text(reasons)
        super().__init__(body, **kwargs)  # type: ignore[arg-type]
        self.evidence = spans


def word_diff(before: str, after: str) -> Text:
    """A word-level diff: removed words struck through, added words underlined."""
    a, b = before.split(), after.split()
    out = Text()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(" ".join(a[i1:i2]) + " ")
            continue
        if op in ("delete", "replace"):
            out.append("[-" + " ".join(a[i1:i2]) + "-]", style="red strike")
            out.append(" ")
        if op in ("insert", "replace"):
            out.append("{+" + " ".join(b[j1:j2]) + "+}", style="green underline")
            out.append(" ")
    out.rstrip()
    return out


class WordDiff(Static):
    """What changed in the wording since the previous attempt."""

    DEFAULT_CLASSES = "word-diff"

    def __init__(self, before: str, after: str, **kwargs: str) -> None:
        super().__init__(word_diff(before, after), **kwargs)  # type: ignore[arg-type]
