"""The story as the app's form shows it: one text field per part, lists separated by ";".

Pure (no Textual), so the round trip is tested on its own: :func:`story_to_fields` fills the
form, :func:`fields_to_story` reads it back, raising a CoachError that names the field.
Exams are written ``Step 2 CK: 245; Step 1: pass (2 attempts)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.errors import CoachError
from coach.story.profile import MAX_MUST_SAY, Exam, LastCycle, SinceThen, StoryProfile

SEP = ";"


@dataclass(frozen=True, slots=True)
class FormField:
    key: str
    label: str
    placeholder: str
    number: bool = False


#: The form, in order, with a section title before each group (key "" = a title).
FIELDS: tuple[FormField, ...] = (
    FormField("", "Last cycle", ""),
    FormField("specialties", "Specialties", "Med-Peds; pediatrics"),
    FormField("programs", "Programs", "20", number=True),
    FormField("interviews", "Interviews", "3", number=True),
    FormField("soap", "SOAP (yes/no)", "yes"),
    FormField("outcome", "Outcome", "did not match; no SOAP offer"),
    FormField("", "In your own words", ""),
    FormField("reasons", "Reasons", "my list was too narrow; no backup specialty"),
    FormField("", "What changed since", ""),
    FormField("role", "Role", "clinical research coordinator"),
    FormField("where", "Where", "adult congenital heart disease clinic"),
    FormField("months", "Months", "12", number=True),
    FormField("letters", "Letters from", "pediatrics attending; IM attending"),
    FormField("sub_i", "Sub-I", "Med-Peds sub-internship"),
    FormField("exams", "Exams", "Step 2 CK: 245; Step 1: pass (2 attempts)"),
    FormField("research_qi", "Research/QI", "transition checklist QI project"),
    FormField("remediation", "Remediation", "weekly study plan with a learning specialist"),
    FormField("", "This cycle", ""),
    FormField("backup_plan", "Backup plan", "dual applying to Med-Peds and pediatrics"),
    FormField("red_flags", "Red flags", "Step 1 on the second attempt"),
    FormField("must_say", "Must-say (3-5)", "transition clinic; new pediatrics letter"),
)
_EXAM = re.compile(r"^(?P<name>[^:]+?)\s*(?::\s*(?P<result>.*?))?\s*(?:\((?P<n>\d+) attempts?\))?$")


def _join(items: tuple[str, ...]) -> str:
    return f"{SEP} ".join(items)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(SEP) if part.strip())


def story_to_fields(story: StoryProfile) -> dict[str, str]:
    lc, s = story.last_cycle, story.since
    exams = []
    for e in s.exams:
        text = e.name + (f": {e.result}" if e.result else "")
        if e.attempts is not None:
            text += f" ({e.attempts} attempt{'s' if e.attempts != 1 else ''})"
        exams.append(text)
    return {
        "specialties": _join(lc.specialties),
        "programs": "" if lc.programs is None else str(lc.programs),
        "interviews": "" if lc.interviews is None else str(lc.interviews),
        "soap": "" if lc.soap is None else ("yes" if lc.soap else "no"),
        "outcome": lc.outcome,
        "reasons": _join(story.reasons),
        "role": s.role,
        "where": s.where,
        "months": "" if s.months is None else str(s.months),
        "letters": _join(s.letters),
        "sub_i": s.sub_i,
        "exams": _join(tuple(exams)),
        "research_qi": _join(s.research_qi),
        "remediation": s.remediation,
        "backup_plan": story.backup_plan,
        "red_flags": _join(story.red_flags),
        "must_say": _join(story.must_say),
    }


def _number(values: dict[str, str], key: str, label: str) -> int | None:
    text = values.get(key, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise CoachError(f"{label}: '{text}' is not a whole number", "write digits, e.g. 20")
    return int(text)


def fields_to_story(values: dict[str, str]) -> StoryProfile:
    """The story from the form's texts (empty fields stay empty)."""
    v = {k: values.get(k, "").strip() for k in (f.key for f in FIELDS if f.key)}
    soap_text = v["soap"].lower()
    if soap_text in ("", "-"):
        soap = None
    elif soap_text in ("yes", "y", "true"):
        soap = True
    elif soap_text in ("no", "n", "false"):
        soap = False
    else:
        raise CoachError(
            f"SOAP: '{v['soap']}' is not yes or no", "write yes, no, or leave it empty"
        )
    exams = []
    for part in _split(v["exams"]):
        m = _EXAM.match(part)
        if m is None:  # pragma: no cover - the pattern accepts any non-empty text
            raise CoachError(f"Exams: cannot read '{part}'", "write e.g. Step 2 CK: 245")
        n = m.group("n")
        exams.append(
            Exam(m.group("name").strip(), (m.group("result") or "").strip(), int(n) if n else None)
        )
    must_say = _split(v["must_say"])
    if len(must_say) > MAX_MUST_SAY:
        raise CoachError(
            f"Must-say: {len(must_say)} points", f"keep the {MAX_MUST_SAY} that matter most"
        )
    return StoryProfile(
        last_cycle=LastCycle(
            specialties=_split(v["specialties"]),
            programs=_number(v, "programs", "Programs"),
            interviews=_number(v, "interviews", "Interviews"),
            soap=soap,
            outcome=v["outcome"],
        ),
        reasons=_split(v["reasons"]),
        since=SinceThen(
            role=v["role"],
            where=v["where"],
            months=_number(v, "months", "Months"),
            letters=_split(v["letters"]),
            sub_i=v["sub_i"],
            exams=tuple(exams),
            research_qi=_split(v["research_qi"]),
            remediation=v["remediation"],
        ),
        backup_plan=v["backup_plan"],
        red_flags=_split(v["red_flags"]),
        must_say=must_say,
    )
