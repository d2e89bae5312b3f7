"""The export as a typed document, built once from the store; every format renders it.

:func:`build_document` reads a session's attempts, applies redaction and returns an
:class:`ExportDocument` of frozen dataclasses; :meth:`ExportDocument.to_dict` is the JSON
format (``schema_version`` 1: field names and order are the documented keys), and the
Markdown and HTML renderers read the same fields, so the formats never disagree.

The story checklist (issue 13) is in an export only when asked (``coach export
--with-story``): ``build_document(story=...)`` takes, per attempt id, the coverage and the
consistency flags as the story layer writes them (``StoryCoverage.to_dict()``,
``ConsistencyFlag.to_dict()``), redacts them like the answers and adds a :class:`StoryDoc` to
each answer. Such a document is ``schema_version`` 2 (version 1 plus a ``story`` key on each
answer); without it nothing from the story is in the document and the JSON stays version 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from coach import __version__
from coach.export.redaction import Redactor, redact_tree
from coach.history import question_lookup
from coach.mentor import rubric_view
from coach.questions import Question
from coach.store import Attempt, Store

SCHEMA_VERSION: Final = 1
#: Per attempt: the coverage (``StoryCoverage.to_dict()``) and the flags' ``to_dict()``s.
StoryNotes = tuple[dict[str, Any], Sequence[dict[str, Any]]]
#: A document with the story checklist: version 1 plus a ``story`` key on every answer.
SCHEMA_VERSION_STORY: Final = 2
_MIME: Final = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
}
_STAT_LABELS: Final = (
    ("duration_s", "Length", "{:.0f} s"),
    ("words", "Words", "{}"),
    ("wpm", "Pace", "{:.0f} words/min"),
    ("fillers", "Fillers", "{}"),
    ("long_pauses", "Long pauses", "{}"),
    ("hedges", "Hedges", "{}"),
    ("sentences", "Sentences", "{}"),
)


@dataclass(frozen=True, slots=True)
class EvidenceDoc:
    """A span of the (redacted) answer that earned (``+``) or cost (``-``) points."""

    start: int
    end: int
    text: str
    effect: str
    reason: str


@dataclass(frozen=True, slots=True)
class CriterionDoc:
    id: str
    name: str
    score: float
    passed: bool
    feedback: str
    weight: float
    evidence: tuple[EvidenceDoc, ...]


@dataclass(frozen=True, slots=True)
class QuestionDoc:
    id: str | None
    category: str | None
    text: str | None  # None: a free answer, or a question no longer in the bank
    tips: tuple[str, ...]
    pitfalls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TranscriptDoc:
    text: str
    duration_s: float
    engine: str
    model: str
    #: As :meth:`coach.audio.transcript.Segment.to_dict` writes them, redacted.
    segments: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AudioDoc:
    path: str
    exists: bool
    mime: str


@dataclass(frozen=True, slots=True)
class StoryPointDoc:
    """One story point for this answer: said (with the sentence that said it) or not."""

    id: str
    label: str
    needed: bool  # the question's category needs it (otherwise it just fits)
    said: bool
    quote: str
    score: float


@dataclass(frozen=True, slots=True)
class StorySaidDoc:
    """One side of a consistency flag: where it was said ("your story", an answer) and how."""

    source: str
    quote: str
    attempt_id: int | None


@dataclass(frozen=True, slots=True)
class StoryFlagDoc:
    """A contradiction with the story or another answer of the session, with both quotes."""

    kind: str
    first: StorySaidDoc
    second: StorySaidDoc
    message: str


@dataclass(frozen=True, slots=True)
class StoryDoc:
    """The story checklist of one answer ("said: … · not said: …") and its consistency flags."""

    category: str
    said: tuple[str, ...]
    not_said: tuple[str, ...]
    points: tuple[StoryPointDoc, ...]
    flags: tuple[StoryFlagDoc, ...]

    @classmethod
    def from_dicts(
        cls, coverage: dict[str, Any], flags: Sequence[dict[str, Any]], redactor: Redactor
    ) -> StoryDoc:
        """From ``StoryCoverage.to_dict()`` and ``ConsistencyFlag.to_dict()``, redacted."""
        cov = redact_tree(coverage, redactor)
        fl = [redact_tree(f, redactor) for f in flags]
        return cls(
            category=str(cov["category"]),
            said=tuple(cov["said"]),
            not_said=tuple(cov["not_said"]),
            points=tuple(
                StoryPointDoc(
                    id=p["id"],
                    label=p["label"],
                    needed=bool(p["needed"]),
                    said=bool(p["said"]),
                    quote=p["quote"],
                    score=float(p["score"]),
                )
                for p in cov["points"]
            ),
            flags=tuple(
                StoryFlagDoc(
                    kind=f["kind"],
                    first=StorySaidDoc(**f["first"]),
                    second=StorySaidDoc(**f["second"]),
                    message=f["message"],
                )
                for f in fl
            ),
        )

    @property
    def said_points(self) -> tuple[StoryPointDoc, ...]:
        return tuple(p for p in self.points if p.said)

    @property
    def not_said_points(self) -> tuple[StoryPointDoc, ...]:
        """Points the category needs that the answer left out (fitting ones are optional)."""
        return tuple(p for p in self.points if p.needed and not p.said)


@dataclass(frozen=True, slots=True)
class AttemptDoc:
    id: int
    mode: str
    created_at: str
    duration_s: float | None
    engine: str | None
    model: str | None
    question: QuestionDoc
    text: str
    overall: float
    previous_overall: float | None
    criteria: tuple[CriterionDoc, ...]
    stats: dict[str, Any]  # :meth:`coach.scoring` stats ``to_dict``
    tips: tuple[str, ...]
    transcript: TranscriptDoc | None
    audio: AudioDoc | None
    #: Comments mentors sent back on this answer (:meth:`coach.store.MentorComment.to_dict`).
    mentor_comments: tuple[dict[str, Any], ...] = ()
    #: The story checklist, only in a ``--with-story`` export (left out of the JSON otherwise).
    story: StoryDoc | None = None

    @property
    def delta(self) -> str:
        """`` (+4 since last time)`` against the previous attempt at the question, or ``""``."""
        prev = self.previous_overall
        if prev is None:
            return ""
        diff = self.overall - prev
        return f" ({'+' if diff >= 0 else '−'}{abs(diff):.0f} since last time)"

    @property
    def stats_rows(self) -> list[tuple[str, str]]:
        """Delivery figures as (label, formatted value)."""
        return [
            (label, _fmt_stat(self.stats[key], pattern))
            for key, label, pattern in _STAT_LABELS
            if self.stats.get(key) is not None
        ]


@dataclass(frozen=True, slots=True)
class SessionDoc:
    id: int
    mode: str
    started_at: str
    finished_at: str | None
    settings: dict[str, Any]
    attempt_count: int
    best: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class ExportDocument:
    """One session for a mentor; field order is the JSON format's key order."""

    schema_version: int
    generator: str
    exported_at: str
    redacted: bool
    audio: str  # "included", "omitted" or "omitted: redacted"
    session: SessionDoc
    attempts: tuple[AttemptDoc, ...]
    #: Mentors' overall notes on the session, and how the coach scores (coach.mentor).
    mentor_notes: tuple[dict[str, Any], ...] = ()
    rubric: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        s = self.session
        return f"Practice session {s.id} ({s.mode}), {s.started_at[:10]}"

    @property
    def with_story(self) -> bool:
        return self.schema_version >= SCHEMA_VERSION_STORY

    def to_dict(self) -> dict[str, Any]:
        """The JSON format (tuples become lists when dumped).

        Without the story (version 1) the answers have no ``story`` key at all, so nothing
        from the story is in the file, not even that there is one.
        """
        out = asdict(self)
        if not self.with_story:
            for a in out["attempts"]:
                del a["story"]
        return out


def _fmt_stat(value: Any, pattern: str) -> str:
    try:
        return pattern.format(value)
    except (ValueError, TypeError):
        return str(value)


def build_document(
    store: Store,
    session_id: int | str,
    *,
    include_audio: bool = True,
    redact: Sequence[str] = (),
    lookup: Callable[[str | None], Question | None] | None = None,
    redact_words: Sequence[str] = (),
    story: Mapping[int, StoryNotes] | None = None,
) -> ExportDocument:
    """The session (an id or ``"latest"``) as a typed, redacted document.

    ``redact`` names are replaced anywhere, ``redact_words`` (the patient-detail guard's
    findings) only as whole words. ``story`` (attempt id to the coverage dict and the flag
    dicts, from :func:`coach.story.sharing.session_story`) adds the story checklist and makes
    the document version 2; None (the default) leaves the story out.
    """
    session = store.resolve_session(session_id)
    redactor = Redactor.for_names(redact, redact_words)
    find = lookup or question_lookup()
    with_audio = include_audio and not redactor.active
    # Comments mentors sent back (coach import-comments), shown in later exports.
    comments = [redact_tree(c.to_dict(), redactor) for c in store.comments(session.id)]
    attempts = tuple(
        replace(
            _attempt_doc(store, a, find(a.question_id), redactor, with_audio),
            mentor_comments=tuple(c for c in comments if c["attempt_id"] == a.id),
            story=_story_doc(story, a.id, redactor),
        )
        for a in store.attempts(session_id=session.id)
    )
    s = redact_tree(session.to_dict(), redactor)
    return ExportDocument(
        schema_version=SCHEMA_VERSION if story is None else SCHEMA_VERSION_STORY,
        generator=f"medpeds-interview-coach {__version__}",
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        redacted=redactor.active,
        audio="included" if with_audio else ("omitted: redacted" if include_audio else "omitted"),
        session=SessionDoc(**s),
        attempts=attempts,
        mentor_notes=tuple(c for c in comments if c["attempt_id"] is None),
        rubric=redact_tree(rubric_view(), redactor),
    )


def _story_doc(
    story: Mapping[int, StoryNotes] | None, attempt_id: int, redactor: Redactor
) -> StoryDoc | None:
    if story is None or attempt_id not in story:
        return None
    coverage, flags = story[attempt_id]
    return StoryDoc.from_dicts(coverage, flags, redactor)


def _attempt_doc(
    store: Store,
    a: Attempt,
    question: Question | None,
    redactor: Redactor,
    with_audio: bool,
) -> AttemptDoc:
    text, remap = redactor.with_offsets(a.text)
    criteria = []
    for c in a.report.criteria:
        evidence = []
        for e in c.evidence:
            start = max(0, min(len(a.text), e.start))
            end = max(start, min(len(a.text), e.end))
            new_start, new_end = remap(start, False), remap(end, True)
            evidence.append(
                EvidenceDoc(
                    start=new_start,
                    end=new_end,
                    text=text[new_start:new_end],
                    effect=e.effect,
                    reason=redactor.text(e.reason),
                )
            )
        criteria.append(
            CriterionDoc(
                id=c.id,
                name=redactor.text(c.name),
                score=round(c.score, 1),
                passed=c.passed,
                feedback=redactor.text(c.feedback),
                weight=c.weight,
                evidence=tuple(evidence),
            )
        )
    transcript = None
    if a.transcript is not None:
        t = a.transcript.to_dict()
        segments = tuple(
            {**s, "text": redactor.text(s["text"]), "words": redactor.words(s["words"])}
            for s in t["segments"]
        )
        transcript = TranscriptDoc(
            text=redactor.text(t["text"]),
            duration_s=t["duration_s"],
            engine=t["engine"],
            model=t["model"],
            segments=segments,
        )
    audio = None
    if with_audio and a.audio_path is not None:
        audio = AudioDoc(
            path=redactor.text(str(a.audio_path)),
            exists=a.audio_path.is_file(),
            mime=_MIME.get(a.audio_path.suffix.lower(), "audio/wav"),
        )
    previous = store.previous_attempt(a.question_id, a.id) if a.question_id else None
    q = QuestionDoc(
        id=redact_tree(a.question_id, redactor),
        category=redact_tree(a.category, redactor),
        text=redactor.text(question.text) if question else None,
        tips=tuple(redactor.text(t) for t in question.tips) if question else (),
        pitfalls=tuple(redactor.text(t) for t in question.pitfalls) if question else (),
    )
    return AttemptDoc(
        id=a.id,
        mode=a.mode,
        created_at=a.created_at.isoformat(timespec="seconds"),
        duration_s=None if a.duration_s is None else round(a.duration_s, 2),
        engine=a.engine,
        model=a.model,
        question=q,
        text=text,
        overall=round(a.overall, 1),
        previous_overall=round(previous.overall, 1) if previous else None,
        criteria=tuple(criteria),
        stats=a.report.stats.to_dict(),
        tips=tuple(redactor.text(t) for t in a.report.tips),
        transcript=transcript,
        audio=audio,
    )
