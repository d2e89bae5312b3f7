"""The applicant's story: last cycle's facts, what changed since, and what they must say.

Written once (in the app or by hand) as ``story.toml`` in :func:`coach.paths.config_dir`, then
used to check every answer (coverage), the answers against each other (consistency) and the
interview-day summary (readiness). Every field is optional: a half-filled story still helps.

Layout (top-level keys first, then tables; this is what :func:`dumps_story` writes)::

    reasons = ["My list was too narrow and I had no backup specialty."]
    backup_plan = "Dual applying to Med-Peds and categorical pediatrics."
    red_flags = ["Step 1 failed on the first attempt"]
    must_say = ["transition clinic for young adults", "new pediatrics letter"]

    [last_cycle]
    specialties = ["Med-Peds"]
    programs = 20
    interviews = 3
    soap = true
    outcome = "did not match; no SOAP offer"

    [since]
    role = "clinical research coordinator"
    where = "adult congenital heart disease clinic"
    months = 12
    letters = ["pediatrics attending", "internal medicine attending"]
    sub_i = "Med-Peds sub-internship"
    research_qi = ["transition checklist QI project"]
    remediation = "weekly study plan with a learning specialist"

    [[since.exams]]
    name = "Step 2 CK"
    result = "245"
    attempts = 1

The file is private (0600) and written atomically; invalid content raises
:class:`~coach.errors.DataFileError` naming the file and the key.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach import paths

STORY_FILE = "story.toml"
MAX_MUST_SAY = 5

_TOP_KEYS = ("reasons", "backup_plan", "red_flags", "must_say", "last_cycle", "since")
_LAST_KEYS = ("specialties", "programs", "interviews", "soap", "outcome")
_SINCE_KEYS = (
    "role",
    "where",
    "months",
    "letters",
    "sub_i",
    "exams",
    "research_qi",
    "remediation",
)
_EXAM_KEYS = ("name", "result", "attempts")


@dataclass(frozen=True, slots=True)
class Exam:
    """An exam taken or retaken (``result`` is free text: "245", "pass")."""

    name: str
    result: str = ""
    attempts: int | None = None


@dataclass(frozen=True, slots=True)
class LastCycle:
    """What happened in the unmatched cycle."""

    specialties: tuple[str, ...] = ()
    programs: int | None = None
    interviews: int | None = None
    soap: bool | None = None  # took part in SOAP
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class SinceThen:
    """What changed since: the year's role and where, letters, exams, research, remediation."""

    role: str = ""
    where: str = ""
    months: int | None = None
    letters: tuple[str, ...] = ()  # each names who wrote it: "pediatrics attending, Dr Lee"
    sub_i: str = ""
    exams: tuple[Exam, ...] = ()
    research_qi: tuple[str, ...] = ()
    remediation: str = ""


@dataclass(frozen=True, slots=True)
class StoryProfile:
    """The whole story; every part may be empty."""

    last_cycle: LastCycle = field(default_factory=LastCycle)
    reasons: tuple[str, ...] = ()
    since: SinceThen = field(default_factory=SinceThen)
    backup_plan: str = ""
    red_flags: tuple[str, ...] = ()
    must_say: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self == StoryProfile()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON and for exports that ask for the story)."""
        lc, s = self.last_cycle, self.since
        return {
            "reasons": list(self.reasons),
            "backup_plan": self.backup_plan,
            "red_flags": list(self.red_flags),
            "must_say": list(self.must_say),
            "last_cycle": {
                "specialties": list(lc.specialties),
                "programs": lc.programs,
                "interviews": lc.interviews,
                "soap": lc.soap,
                "outcome": lc.outcome,
            },
            "since": {
                "role": s.role,
                "where": s.where,
                "months": s.months,
                "letters": list(s.letters),
                "sub_i": s.sub_i,
                "exams": [
                    {"name": e.name, "result": e.result, "attempts": e.attempts} for e in s.exams
                ],
                "research_qi": list(s.research_qi),
                "remediation": s.remediation,
            },
        }


def story_path() -> Path:
    """Where the story lives (next to the settings; the config dir is created if needed)."""
    return paths.config_dir() / STORY_FILE


def load_story(path: Path | None = None) -> StoryProfile | None:
    """The saved story, or None when there is none yet; an invalid file raises DataFileError."""
    from coach.datafile import read_toml

    path = path or story_path()
    if not path.exists():
        return None
    return parse_story(read_toml(path), path)


def parse_story(data: dict[str, Any], path: Path | str) -> StoryProfile:
    """Validate a decoded TOML table into a :class:`StoryProfile` (errors name file and key)."""
    from coach.datafile import Checker

    c = Checker(path)
    c.unknown(data, _TOP_KEYS, "")
    last = c.table(data.get("last_cycle", {}), "last_cycle")
    c.unknown(last, _LAST_KEYS, "last_cycle")
    since = c.table(data.get("since", {}), "since")
    c.unknown(since, _SINCE_KEYS, "since")

    def text(table: dict[str, Any], key: str, where: str) -> str:
        return c.string(table.get(key, ""), f"{where}{key}", allow_empty=True).strip()

    def count(table: dict[str, Any], key: str, where: str) -> int | None:
        value = table.get(key)
        return None if value is None else c.integer(value, f"{where}{key}")

    soap = last.get("soap")
    exams: list[Exam] = []
    raw_exams = since.get("exams", [])
    if not isinstance(raw_exams, list):
        raise c.fail("since.exams", "must be a list of [[since.exams]] tables", "see the README")
    for i, raw in enumerate(raw_exams):
        key = f"since.exams[{i}]"
        entry = c.table(raw, key)
        c.unknown(entry, _EXAM_KEYS, key)
        result = entry.get("result", "")
        if isinstance(result, int) and not isinstance(result, bool):
            result = str(result)  # `result = 245` is natural to write
        exams.append(
            Exam(
                name=c.string(entry.get("name"), f"{key}.name"),
                result=c.string(result, f"{key}.result", allow_empty=True).strip(),
                attempts=None
                if entry.get("attempts") is None
                else c.integer(entry["attempts"], f"{key}.attempts", lo=1),
            )
        )
    must_say = c.strings(data.get("must_say", []), "must_say")
    if len(must_say) > MAX_MUST_SAY:
        raise c.fail(
            "must_say",
            f"has {len(must_say)} points",
            f"keep the {MAX_MUST_SAY} that matter most (3-5 is the aim)",
        )
    return StoryProfile(
        last_cycle=LastCycle(
            specialties=c.strings(last.get("specialties", []), "last_cycle.specialties"),
            programs=count(last, "programs", "last_cycle."),
            interviews=count(last, "interviews", "last_cycle."),
            soap=None if soap is None else c.boolean(soap, "last_cycle.soap"),
            outcome=text(last, "outcome", "last_cycle."),
        ),
        reasons=c.strings(data.get("reasons", []), "reasons"),
        since=SinceThen(
            role=text(since, "role", "since."),
            where=text(since, "where", "since."),
            months=count(since, "months", "since."),
            letters=c.strings(since.get("letters", []), "since.letters"),
            sub_i=text(since, "sub_i", "since."),
            exams=tuple(exams),
            research_qi=c.strings(since.get("research_qi", []), "since.research_qi"),
            remediation=text(since, "remediation", "since."),
        ),
        backup_plan=text(data, "backup_plan", ""),
        red_flags=c.strings(data.get("red_flags", []), "red_flags"),
        must_say=must_say,
    )


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(str(value), ensure_ascii=False)


def dumps_story(story: StoryProfile) -> str:
    """The TOML text for ``story``; empty fields are left out so the file stays short."""
    d = story.to_dict()
    lines = ["# My story (Med-Peds Interview Coach). Private to you; every field is optional."]

    def put(table: dict[str, Any], keys: tuple[str, ...]) -> None:
        for k in keys:
            v = table.get(k)
            if v in (None, "", []):
                continue
            lines.append(f"{k} = {_value(v)}")

    put(d, ("reasons", "backup_plan", "red_flags", "must_say"))
    if any(v not in (None, "", []) for v in d["last_cycle"].values()):
        lines += ["", "[last_cycle]"]
        put(d["last_cycle"], _LAST_KEYS)
    since = d["since"]
    if any(v not in (None, "", []) for v in since.values()):
        lines += ["", "[since]"]
        put(since, tuple(k for k in _SINCE_KEYS if k != "exams"))
        for exam in since["exams"]:
            lines += ["", "[[since.exams]]"]
            put(exam, _EXAM_KEYS)
    return "\n".join(lines) + "\n"


def save_story(story: StoryProfile, path: Path | None = None) -> Path:
    """Write ``story`` atomically, private to the user (0600), and return the path."""
    path = path or story_path()
    write_private(path, dumps_story(story))
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + rename), mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".story-", suffix=".toml")
    try:
        os.chmod(tmp, 0o600)  # before any byte is written
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
