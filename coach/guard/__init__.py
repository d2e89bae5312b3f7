"""The patient-detail guard: finds likely patient and third-party identifiers in answer text.

Before an answer leaves the computer (an export for a mentor), the guard lists what a careful
person would redact: person names, ages, dates more specific than a year, named places and
institutions, record numbers, phone numbers and e-mail addresses. Each hit is a
:class:`Finding` with its kind, character span, text and a confidence, so the caller can offer
a choice per kind (redact, keep, review one by one).

The applicant's own name and schools are never flagged when they are given as an
:class:`OwnProfile` (from the settings, later the story profile): they are not patient data.

The detector is rules plus rapidfuzz (:mod:`coach.guard.rules`), chosen over Microsoft
Presidio with spaCy and over philter-lite by measuring all three on a labelled set
(``benchmarks/guard.py``; figures in the README). It needs no model and loads in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["name", "age", "date", "place", "record", "phone", "email"]
KINDS: Final[tuple[Kind, ...]] = ("name", "age", "date", "place", "record", "phone", "email")
KIND_LABELS: Final[dict[str, str]] = {
    "name": "person names",
    "age": "ages",
    "date": "dates",
    "place": "places and institutions",
    "record": "record numbers",
    "phone": "phone numbers",
    "email": "e-mail addresses",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One likely identifier: ``text == answer[start:end]``."""

    kind: Kind
    start: int
    end: int
    text: str
    confidence: float  # 0..1: how sure the rule that found it is
    rule: str = ""  # which rule found it (for explanations and tests)


@dataclass(frozen=True, slots=True)
class OwnProfile:
    """What the applicant says about themself: never flagged."""

    names: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    @classmethod
    def of(cls, names: Iterable[str] = (), places: Iterable[str] = ()) -> OwnProfile:
        def clean(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(" ".join(v.split()) for v in values if v and v.strip()))

        return cls(clean(names), clean(places))


def find_identifiers(text: str, own: OwnProfile | None = None) -> list[Finding]:
    """Likely identifiers in ``text``, in order, not overlapping (see :mod:`coach.guard.rules`)."""
    from coach.guard.rules import find

    return find(text, own or OwnProfile())


__all__ = ["KINDS", "KIND_LABELS", "Finding", "Kind", "OwnProfile", "find_identifiers"]
