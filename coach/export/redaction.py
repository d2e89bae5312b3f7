"""Redaction of names from an export, keeping evidence offsets right.

:class:`Redactor` replaces every occurrence of each name, case-insensitively and also inside
longer words (erring on the side of privacy), with :data:`PLACEHOLDER`, and maps offsets of
the original text to the redacted one, so ``text[start:end] == evidence.text`` still holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from coach.errors import CoachError

PLACEHOLDER: Final = "[redacted]"


@dataclass(frozen=True, slots=True)
class Redactor:
    """Replaces names case-insensitively; maps offsets of the original text to the new one."""

    pattern: re.Pattern[str] | None

    @classmethod
    def for_names(cls, names: Iterable[str], words: Iterable[str] = ()) -> Redactor:
        """``names`` match anywhere, also inside longer words; ``words`` only as whole words.

        The patient-detail guard's findings are whole words ("Eli"), which must not cut
        "delivery" apart; names the user types keep erring on the side of privacy.
        """
        whole = {" ".join(w.split()) for w in words if w and w.strip()}
        cleaned = sorted({" ".join(n.split()) for n in names if n and n.strip()} | whole, key=len)
        if not cleaned:
            return cls(None)
        short = [n for n in cleaned if len(n) < 2]
        if short:
            raise CoachError(
                f"cannot redact {short[0]!r}: a name must have at least 2 characters",
                "give whole names, e.g. --redact 'Dr. Okafor'",
            )
        # Longest first so "Jane Doe" wins over "Jane"; any run of spaces matches a space.
        alternatives = [
            r"\s+".join(re.escape(part) for part in n.split()) for n in reversed(cleaned)
        ]
        alternatives = [
            rf"(?<!\w){alt}(?!\w)" if n in whole else alt
            for n, alt in zip(reversed(cleaned), alternatives, strict=True)
        ]
        return cls(re.compile("|".join(alternatives), re.IGNORECASE))

    @property
    def active(self) -> bool:
        return self.pattern is not None

    def text(self, value: str) -> str:
        return self.pattern.sub(PLACEHOLDER, value) if self.pattern else value

    def with_offsets(self, value: str) -> tuple[str, Callable[[int, bool], int]]:
        """The redacted text and a function mapping an old offset to the new text.

        An offset inside a redacted name snaps to the start of the placeholder (for a span
        start) or its end (for a span end), so a span never cuts the placeholder in half.
        """
        if not self.pattern:
            return value, lambda i, _end: i
        matches = [(m.start(), m.end()) for m in self.pattern.finditer(value)]
        new = self.pattern.sub(PLACEHOLDER, value)
        return new, _offset_mapper(matches)

    def words(self, words: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Redact a run of timed words so names split across words are caught too.

        The words' texts are joined (they carry their own leading spaces), redacted as one
        string, and each word keeps the part of the result that falls in its own span; the
        placeholder goes to the word where the name starts.
        """
        if not self.pattern:
            return [dict(w) for w in words]
        joined = "".join(str(w["text"]) for w in words)
        matches = [(m.start(), m.end()) for m in self.pattern.finditer(joined)]
        out = []
        pos = 0
        for w in words:
            text = str(w["text"])
            start = pos
            pos += len(text)
            pieces = []
            for i, ch in enumerate(text, start):
                hit = next((m for m in matches if m[0] <= i < m[1]), None)
                if hit is None:
                    pieces.append(ch)
                elif i == hit[0]:
                    pieces.append(PLACEHOLDER)
            new = dict(w)
            new["text"] = "".join(pieces)
            out.append(new)
        return out


def _offset_mapper(matches: list[tuple[int, int]]) -> Callable[[int, bool], int]:
    delta = len(PLACEHOLDER)

    def mapping(i: int, is_end: bool) -> int:
        shift = 0
        for start, end in matches:
            if i <= start:
                break
            if i < end:  # inside a redacted name: snap to the placeholder's edge
                return start + shift + (delta if is_end else 0)
            shift += delta - (end - start)
        return i + shift

    return mapping


def redact_tree(value: Any, redactor: Redactor) -> Any:
    """Every string in a JSON-like tree (dicts, lists) redacted."""
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, list):
        return [redact_tree(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: redact_tree(v, redactor) for k, v in value.items()}
    return value
