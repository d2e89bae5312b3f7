"""Interview questions: the typed record, and the question bank loaded from TOML.

The shipped bank is ``question_bank/*.toml``; users add their own questions in
``<config dir>/questions/*.toml`` with the same layout (a user question with the id of a
shipped one replaces it). Each file may start with a ``[defaults]`` table (category, timing)
followed by ``[[questions]]`` entries::

    [defaults]
    category = "failed-match"
    think_s = 15
    target_s = [60, 90]     # answer-time target, seconds
    hard_limit_s = 120      # hard warning

    [[questions]]
    id = "fm-my-own"
    text = "Why did you not match last year?"
    follow_ups = ["What would you do differently?"]
    tips = ["Two or three sentences, then pivot."]
    pitfalls = ["Blaming programs."]
    example_answer = "..."

Invalid files raise :class:`~coach.errors.DataFileError` naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach import paths, resources
from coach.errors import CoachError, DataFileError

CATEGORIES_FILE = "categories.toml"


def _shipped_categories() -> dict[str, str]:
    """Category id -> label, in interview order, from the rubric data (``rubrics/categories.toml``).

    The rubric is the one list of categories: the question bank, the scorer, the rubric
    checks, ``coach questions`` and the app all enumerate them from here.
    """
    from coach.datafile import read_toml

    path = resources.rubrics_dir() / CATEGORIES_FILE
    table = read_toml(path).get("categories")
    if not isinstance(table, dict) or not table:
        raise DataFileError(
            f"{path}: key 'categories' is missing or empty",
            "reinstall the package (the shipped rubrics/ folder is incomplete)",
        )
    labels: dict[str, str] = {}
    for category, spec in table.items():
        label = spec.get("label") if isinstance(spec, dict) else None
        labels[category] = label if isinstance(label, str) and label else category
    return labels


#: Category id -> its label from the rubric data, in interview order.
CATEGORY_LABELS: dict[str, str] = _shipped_categories()
#: Every category id (the CLI contract), in interview order.
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_LABELS)


@dataclass(frozen=True, slots=True)
class Question:
    """One interview prompt with its timing targets and coaching material."""

    id: str
    category: str
    text: str
    follow_ups: tuple[str, ...]
    think_s: int  # think time before answering
    target_min_s: int  # answer-time target, lower end
    target_max_s: int  # answer-time target, upper end
    hard_limit_s: int  # stop / hard warning
    tips: tuple[str, ...]
    pitfalls: tuple[str, ...]
    example_answer: str
    subtopic: str = ""  # e.g. red-flag: exam-failure, gap, professionalism, extended-timeline
    source: str = "built-in"  # or the user's TOML file path


SUBTOPICS: dict[str, tuple[str, ...]] = {
    "red-flag": ("exam-failure", "gap", "professionalism", "extended-timeline"),
    "gap-year": ("what-you-did", "what-changed"),
}

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_QUESTION_KEYS = (
    "id",
    "category",
    "subtopic",
    "text",
    "follow_ups",
    "think_s",
    "target_s",
    "hard_limit_s",
    "tips",
    "pitfalls",
    "example_answer",
)
_DEFAULT_KEYS = ("category", "subtopic", "think_s", "target_s", "hard_limit_s", "tips", "pitfalls")


class QuestionBank:
    """All questions, in file order, with lookups that explain how to fix a wrong id."""

    def __init__(self, questions: list[Question]) -> None:
        self._questions = tuple(questions)
        self._by_id = {q.id: q for q in self._questions}

    def __len__(self) -> int:
        return len(self._questions)

    def __iter__(self) -> Iterator[Question]:
        return iter(self._questions)

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category id (the CLI contract), in interview order."""
        return CATEGORIES

    def all(self) -> tuple[Question, ...]:
        return self._questions

    def get(self, question_id: str) -> Question:
        """The question with this id, or a CoachError suggesting close ids."""
        found = self._by_id.get(question_id)
        if found is None:
            from coach.datafile import close_matches

            # A strict cut-off: rapidfuzz's partial matching finds *something* in most ids
            # ("nope" would suggest 'rf-extended-timeline'), and a wrong hint misleads.
            near = close_matches(question_id, self._by_id, score_cutoff=75)
            category = close_matches(question_id, CATEGORIES, limit=1, score_cutoff=85)
            if near:
                fix = "did you mean " + " or ".join(repr(n) for n in near) + "?"
            elif category:
                fix = f"list that category's ids with `coach questions --category {category[0]}`"
            else:
                fix = "list the ids with `coach questions`"
            raise CoachError(f"unknown question '{question_id}'", fix)
        return found

    def by_category(self, category: str) -> tuple[Question, ...]:
        """Questions of one category, or a CoachError naming the valid categories."""
        if category not in CATEGORIES:
            from coach.datafile import did_you_mean

            raise CoachError(f"unknown category '{category}'", did_you_mean(category, CATEGORIES))
        return tuple(q for q in self._questions if q.category == category)


def user_questions_dir() -> Path:
    """Where the user's own question files go."""
    return paths.config_dir() / "questions"


def load_question_bank(*, include_user: bool = True) -> QuestionBank:
    """The shipped questions plus the user's own (validated)."""
    shipped = sorted(resources.question_bank_dir().glob("*.toml"))
    questions: dict[str, Question] = {}
    for path in shipped:
        for q in _load_file(path, "built-in"):
            if q.id in questions:
                raise DataFileError(
                    f"{path}: key 'questions.{q.id}' repeats an id already used in the bank",
                    "give each question a unique id",
                )
            questions[q.id] = q
    if include_user:
        user_dir = user_questions_dir()
        seen_user: dict[str, Path] = {}
        for path in sorted(user_dir.glob("*.toml")) if user_dir.is_dir() else []:
            for q in _load_file(path, str(path)):
                if q.id in seen_user:
                    raise DataFileError(
                        f"{path}: key 'questions.{q.id}' repeats an id from {seen_user[q.id]}",
                        "give each of your questions a unique id",
                    )
                seen_user[q.id] = path
                questions[q.id] = q  # a user question may replace a shipped one
    # Interview order (the category order of CATEGORIES), not file-name order; stable within
    # a category, so a file's own order is kept.
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return QuestionBank(sorted(questions.values(), key=lambda q: rank[q.category]))


def _load_file(path: Path, source: str) -> list[Question]:
    from coach.datafile import Checker, did_you_mean, read_toml

    data = read_toml(path)
    c = Checker(path)
    c.unknown(data, ("defaults", "questions", "description", "version"), "")
    defaults = c.table(data.get("defaults", {}), "defaults")
    c.unknown(defaults, _DEFAULT_KEYS, "defaults")
    entries = data.get("questions")
    if not isinstance(entries, list) or not entries:
        raise c.fail(
            "questions", "must hold at least one [[questions]] entry", "add a [[questions]] table"
        )
    out: list[Question] = []
    for i, raw in enumerate(entries):
        key = f"questions[{i}]"
        entry: dict[str, Any] = {**defaults, **c.table(raw, key)}
        c.unknown(raw, _QUESTION_KEYS, key)
        qid = c.string(entry.get("id"), f"{key}.id")
        key = f"questions.{qid}"
        if not _ID_RE.match(qid):
            raise c.fail(
                f"{key}.id",
                "must be 2-64 lower-case letters, digits or dashes",
                'write an id like "fm-why-unmatched"',
            )
        for required in ("category", "text", "think_s", "target_s", "hard_limit_s"):
            if required not in entry:
                raise c.fail(f"{key}.{required}", "is missing", f"add {required} to the question")
        category = c.string(entry["category"], f"{key}.category")
        if category not in CATEGORIES:
            raise c.fail(
                f"{key}.category",
                f"'{category}' is not a category",
                did_you_mean(category, CATEGORIES),
            )
        subtopic = c.string(entry.get("subtopic", ""), f"{key}.subtopic", allow_empty=True)
        allowed = SUBTOPICS.get(category)
        if subtopic and allowed and subtopic not in allowed:
            raise c.fail(
                f"{key}.subtopic",
                f"'{subtopic}' is not a subtopic of {category}",
                did_you_mean(subtopic, allowed),
            )
        lo, hi = c.pair(entry["target_s"], f"{key}.target_s")
        hard = c.integer(entry["hard_limit_s"], f"{key}.hard_limit_s", lo=1)
        if hard < hi:
            raise c.fail(
                f"{key}.hard_limit_s",
                f"({hard}) is below the target's upper end ({hi:g})",
                "make hard_limit_s at least target_s[1]",
            )
        out.append(
            Question(
                id=qid,
                category=category,
                text=c.string(entry["text"], f"{key}.text"),
                follow_ups=c.strings(entry.get("follow_ups", []), f"{key}.follow_ups"),
                think_s=c.integer(entry["think_s"], f"{key}.think_s"),
                target_min_s=int(lo),
                target_max_s=int(hi),
                hard_limit_s=hard,
                tips=c.strings(entry.get("tips", []), f"{key}.tips"),
                pitfalls=c.strings(entry.get("pitfalls", []), f"{key}.pitfalls"),
                example_answer=c.string(
                    entry.get("example_answer", ""), f"{key}.example_answer", allow_empty=True
                ).strip(),
                subtopic=subtopic,
                source=source,
            )
        )
    return out
