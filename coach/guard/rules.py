"""Rules-only detector (stub while the benchmark harness is built)."""

from __future__ import annotations

import re
from typing import Final

from rapidfuzz import fuzz

from coach.guard import Finding, OwnProfile

_TITLES: Final = frozenset({"dr", "doctor", "mr", "mrs", "ms", "mister", "miss", "nurse", "the"})
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'s", "").replace("’s", ""))


def is_own(piece: str, own: OwnProfile | None) -> bool:
    """Whether ``piece`` is (part of) the applicant's own name or school, allowing typos."""
    if own is None:
        return False
    own_words = {w for entry in (*own.names, *own.places) for w in _words(entry)}
    words = [w for w in _words(piece) if w not in _TITLES]
    if not words or not own_words:
        return False
    return all(any(fuzz.ratio(w, o) >= 85 for o in own_words) for w in words)


def find(text: str, own: OwnProfile) -> list[Finding]:
    return []
