"""The guard before sharing: scan a session's answers, decide per kind, and list what to redact.

An export calls :func:`scan_session` to find likely patient details in every answer of the
session, lets the user choose per kind (:data:`REDACT`, :data:`KEEP` or :data:`REVIEW` one by
one), and hands :func:`redaction_terms` to the exporter's ``redact=`` list, which replaces every
occurrence everywhere (answer, transcript, feedback, evidence) and leaves recordings out.

Short numbers are redacted with the word before them ("was 4", "at 16"), because the exporter
replaces text everywhere, also inside longer words: "4" alone would also hit "2024" and "14".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from coach.guard import KIND_LABELS, KINDS, Finding, Kind, OwnProfile, find_identifiers
from coach.store import Store

Choice = Literal["redact", "keep", "review"]
REDACT: Final = "redact"
KEEP: Final = "keep"
REVIEW: Final = "review"
_MIN_TERM = 3  # shorter findings are redacted with the word before them


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding in one answer, with a little context to show the user."""

    attempt_id: int
    answer: str  # the text the finding is in: an answer, or a piece of the story
    finding: Finding
    #: "answer", or "story" for the story checklist an export adds (``--with-story``).
    source: str = "answer"

    @property
    def where(self) -> str:
        """``answer 12`` or ``your story (answer 12's checklist)``, for a prompt."""
        if self.source == "story":
            return f"your story (answer {self.attempt_id}'s checklist)"
        return f"answer {self.attempt_id}"

    @property
    def context(self) -> str:
        """``…the words [around] it…`` on one line, for a prompt."""
        f = self.finding
        left = " ".join(self.answer[: f.start].split()[-6:])
        right = " ".join(self.answer[f.end :].split()[:6])
        return f"…{left} [{f.text}] {right}…"


@dataclass(frozen=True, slots=True)
class GuardReport:
    """Everything the guard found in a session, grouped by kind on demand."""

    hits: tuple[Hit, ...]

    def by_kind(self) -> dict[Kind, list[Hit]]:
        out: dict[Kind, list[Hit]] = {}
        for kind in KINDS:
            found = [h for h in self.hits if h.finding.kind == kind]
            if found:
                out[kind] = found
        return out

    def plus(self, other: GuardReport) -> GuardReport:
        """Both reports' hits (the answers', then the story checklist's)."""
        return GuardReport(self.hits + other.hits)

    def summary(self) -> str:
        """``2 person names, 1 date`` (empty when nothing was found)."""
        parts = []
        for kind, hits in self.by_kind().items():
            label = KIND_LABELS[kind]
            parts.append(f"{len(hits)} {label if len(hits) != 1 else _singular(label)}")
        return ", ".join(parts)


def _singular(label: str) -> str:
    return {
        "person names": "person name",
        "ages": "age",
        "dates": "date",
        "places and institutions": "place or institution",
        "record numbers": "record number",
        "phone numbers": "phone number",
        "e-mail addresses": "e-mail address",
    }.get(label, label)


def own_profile() -> tuple[OwnProfile, str | None]:
    """The applicant's own names and schools from the settings, and a note if they are unreadable.

    An invalid settings file must not stop a share: the guard then knows no own name (and may
    flag it, which errs on the side of privacy).
    """
    from coach.errors import CoachError
    from coach.settings import load_settings

    try:
        settings = load_settings()
    except CoachError as exc:
        return OwnProfile(), f"settings not read ({exc.message}); own name not known"
    return OwnProfile.of(settings.own_names, settings.own_schools), None


def guarded_terms(
    store: Store, session_id: int | str, extra: Iterable[tuple[int, str]] = ()
) -> tuple[GuardReport, list[str]]:
    """What the app's export does: scan the session (and ``extra`` story texts an export adds)
    and redact everything found."""
    own, _note = own_profile()
    report = scan_session(store, session_id, own).plus(scan_texts(extra, own, "story"))
    return report, redaction_terms(report.hits)


def scan_texts(
    texts: Iterable[tuple[int, str]], own: OwnProfile | None = None, source: str = "answer"
) -> GuardReport:
    """The guard over ``(attempt_id, answer text)`` pairs (``source="story"``: story texts)."""
    hits = [
        Hit(attempt_id, text, f, source)
        for attempt_id, text in texts
        for f in find_identifiers(text, own)
    ]
    return GuardReport(tuple(hits))


def scan_session(store: Store, session_id: int | str, own: OwnProfile | None = None) -> GuardReport:
    """The guard over every answer of a session (an id or ``"latest"``)."""
    session = store.resolve_session(session_id)
    return scan_texts(((a.id, a.text) for a in store.attempts(session_id=session.id)), own)


def parse_kinds(values: Iterable[str]) -> set[Kind]:
    """``--keep`` values: kinds by name (``name``, ``names``, ``all``); raises ValueError."""
    out: set[Kind] = set()
    for raw in values:
        value = raw.strip().lower()
        if value == "all":
            out.update(KINDS)
            continue
        singular = value[:-1] if value.endswith("s") and value[:-1] in KINDS else value
        match = next((k for k in KINDS if k == singular), None)
        if match is None:
            raise ValueError(raw)
        out.add(match)
    return out


def decide(
    report: GuardReport,
    choices: Mapping[Kind, Choice],
    review: Callable[[Hit], bool] | None = None,
) -> list[Hit]:
    """The hits to redact: every hit of a ``redact`` kind, and those ``review`` says yes to.

    A kind with no choice is redacted (the safe default). ``review`` is asked once per
    distinct text of a kind under review; without it, reviewed kinds are redacted.
    """
    chosen: list[Hit] = []
    for kind, hits in report.by_kind().items():
        choice = choices.get(kind, REDACT)
        if choice == KEEP:
            continue
        if choice == REVIEW and review is not None:
            answers: dict[str, bool] = {}
            for hit in hits:
                key = hit.finding.text.lower()
                if key not in answers:
                    answers[key] = review(hit)
                if answers[key]:
                    chosen.append(hit)
            continue
        chosen.extend(hits)
    return chosen


def redaction_terms(hits: Sequence[Hit]) -> list[str]:
    """The strings to pass as the exporter's ``redact=`` list, without duplicates."""
    terms: dict[str, None] = {}
    for hit in hits:
        f = hit.finding
        term = f.text
        short = len(term.strip()) < _MIN_TERM or (term.strip().isdigit() and len(term.strip()) < 5)
        if short:
            before = hit.answer[: f.start].split()
            term = f"{before[-1]} {term}" if before else term
        term = " ".join(term.split())
        if len(term) >= 2:
            terms.setdefault(term, None)
    return list(terms)
