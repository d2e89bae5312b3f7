"""The labelled answer corpus (corpus/answers/*.toml, see corpus/ANNOTATION.md) and its split.

Used by scripts/train_scorer.py, scripts/tune_encoder.py, scripts/split_corpus.py, benchmarks/scoring.py and the
tests; never by the scorer at run time (the corpus is not in the wheel). Every file is
checked on load and a problem names the file and the key.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from coach.errors import DataFileError
from coach.questions import CATEGORIES

#: Sentence roles shared by every category (corpus/ANNOTATION.md).
ROLES = (
    "setback",
    "own_cause",
    "blame",
    "venting",
    "self_pity",
    "excuse",
    "over_disclosure",
    "lesson",
    "action",
    "vague_growth",
    "plan",
    "strength",
    "filler",
)
CONTENT: dict[str, tuple[str, ...]] = {
    "failed-match": ("acknowledge", "diagnosis", "actions", "pivot"),
    "why-med-peds": (
        "combined_training",
        "continuity",
        "chronic",
        "transitions",
        "careers",
        "experience",
    ),
    "why-this-program": ("program_feature", "contact", "fit", "contribute"),
    "backup-plan": ("honest", "commitment", "value_alternative", "plan"),
    "red-flag": ("name_it", "own_it", "remediation", "result"),
    "gap-year": ("role", "medpeds_link", "changed", "structure"),
    "tell-me-about-yourself": ("background", "path", "now", "strengths", "human"),
    "weakness": ("real_weakness", "strategy", "progress", "relevance"),
    "conflict": ("situation", "my_actions", "outcome", "learning"),
    "mistake": ("name_it", "disclose", "system_fix", "learning"),
    "teamwork": ("team", "my_role", "outcome", "learning"),
}
VOICES = frozenset({"us-md", "us-do", "img", "non-native", "nervous", "terse", "rambling"})
#: Roles that put the cause elsewhere or sound bitter or defeated; any of them is ``tone_risk``.
TONE = ("blame", "excuse", "venting", "self_pity")
JUDGED = ("brevity", "factual_tone", "growth_focus", "content")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True, slots=True)
class CorpusSentence:
    text: str
    labels: frozenset[str]

    @property
    def tone_risk(self) -> bool:
        """Blame, excuse, venting or self-pity: what fails an answer's factual_tone."""
        return not self.labels.isdisjoint(TONE)


@dataclass(frozen=True, slots=True)
class CorpusAnswer:
    id: str
    category: str
    voice: str
    form: str  # typed | asr
    label: str  # good | mixed | bad
    expect: dict[str, bool]
    sentences: tuple[CorpusSentence, ...]
    note: str

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


def _need(cond: bool, path: Path, key: str, what: str) -> None:
    if not cond:
        raise DataFileError(f"{path}: '{key}' {what}", "fix it as corpus/ANNOTATION.md describes")


def load_file(path: Path) -> list[CorpusAnswer]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DataFileError(f"{path}: cannot read it ({e})", "fix the TOML syntax") from None
    answers = data.get("answers", [])
    _need(isinstance(answers, list), path, "answers", "must be an array of tables")
    out: list[CorpusAnswer] = []
    for k, a in enumerate(answers):
        _need(isinstance(a, dict), path, f"answers[{k}]", "must be a table")
        aid = a.get("id")
        _need(isinstance(aid, str) and bool(aid), path, f"answers[{k}].id", "is missing")
        key = f"answers.{aid}"
        cat = a.get("category")
        _need(cat in CATEGORIES, path, f"{key}.category", f"is not a category: {cat!r}")
        _need(a.get("voice") in VOICES, path, f"{key}.voice", "is not a known voice")
        _need(a.get("form") in ("typed", "asr"), path, f"{key}.form", "must be typed or asr")
        _need(a.get("label") in ("good", "mixed", "bad"), path, f"{key}.label", "is wrong")
        expect = a.get("expect", {})
        _need(isinstance(expect, dict), path, f"{key}.expect", "must be a table")
        for c, v in expect.items():
            _need(c in JUDGED and isinstance(v, bool), path, f"{key}.expect.{c}", "is wrong")
        sents = a.get("sentences")
        _need(isinstance(sents, list) and len(sents) >= 1, path, f"{key}.sentences", "is empty")
        allowed = set(ROLES) | {f"c:{c}" for c in CONTENT[cat]}
        parsed: list[CorpusSentence] = []
        for j, s in enumerate(sents):
            skey = f"{key}.sentences[{j}]"
            _need(isinstance(s, dict), path, skey, "must be a table")
            t, labels = s.get("t"), s.get("l", [])
            _need(isinstance(t, str) and bool(t.strip()), path, f"{skey}.t", "is empty")
            _need(isinstance(labels, list), path, f"{skey}.l", "must be a list")
            for lab in labels:
                _need(lab in allowed, path, f"{skey}.l", f"has an unknown label {lab!r}")
            parsed.append(CorpusSentence(t.strip(), frozenset(labels)))
        out.append(
            CorpusAnswer(
                aid,
                cat,
                a["voice"],
                a["form"],
                a["label"],
                dict(expect),
                tuple(parsed),
                str(a.get("note", "")),
            )
        )
    return out


def load_corpus(
    folder: Path, part: str = "answers", batch: str | None = None
) -> list[CorpusAnswer]:
    """Every answer under ``folder/<part>``, in file then id order; ids must be unique.
    ``part="reserve"`` reads the reserve set, which is in no split and never trained on;
    ``batch`` (a letter) only that batch's files, ``<category>-<batch>.toml``."""
    answers: list[CorpusAnswer] = []
    seen: dict[str, Path] = {}
    for path in sorted((folder / part).glob(f"*-{batch}.toml" if batch else "*.toml")):
        for a in load_file(path):
            _need(a.id not in seen, path, f"answers.{a.id}.id", f"repeats one in {seen.get(a.id)}")
            seen[a.id] = path
            answers.append(a)
    return answers


def corpus_hash(answers: list[CorpusAnswer]) -> str:
    """A fingerprint of the labelled content (ids, texts, labels, expectations)."""
    h = hashlib.sha256()
    for a in sorted(answers, key=lambda a: a.id):
        h.update(repr((a.id, a.category, a.label, sorted(a.expect.items()))).encode())
        for s in a.sentences:
            h.update(repr((s.text, sorted(s.labels))).encode())
    return h.hexdigest()


def head_labels() -> list[str]:
    """Every label a sentence reader may learn: the roles, ``tone_risk`` and the content points
    as ``c:<category>:<point>`` (point ids such as "learning" repeat across categories)."""
    return [*ROLES, "tone_risk"] + [f"c:{c}:{p}" for c in sorted(CONTENT) for p in CONTENT[c]]


def label_rows(
    answers: list[CorpusAnswer],
) -> tuple[list[str], list[str], list[frozenset[str]]]:
    """Each sentence's text, its answer's category and its labels as the readers learn them
    (:func:`head_labels`: ``tone_risk`` added, content points named with their category)."""
    texts, cats, labels = [], [], []
    for a in answers:
        for s in a.sentences:
            texts.append(s.text)
            cats.append(a.category)
            labs = set(s.labels)
            if s.tone_risk:
                labs.add("tone_risk")
            labels.append(
                frozenset(f"c:{a.category}:{x[2:]}" if x.startswith("c:") else x for x in labs)
            )
    return texts, cats, labels


def load_split(path: Path) -> dict[str, str]:
    """answer id -> train | dev | test, from corpus/split.toml."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DataFileError(
            f"{path}: cannot read it ({e})", "run scripts/split_corpus.py"
        ) from None
    out: dict[str, str] = {}
    for split in SPLITS:
        ids = data.get(split, [])
        _need(isinstance(ids, list), path, split, "must be a list of answer ids")
        for aid in ids:
            _need(isinstance(aid, str) and aid not in out, path, split, f"repeats {aid!r}")
            out[aid] = split
    return out
