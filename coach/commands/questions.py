"""``coach questions``: list the interview questions, or show one in full, as text or JSON.

The list is the shipped bank plus the user's own ``<config dir>/questions/*.toml`` (an invalid
file is a one-line error naming the file and the key). Nothing heavy is imported here: no
scoring, no audio, no torch, so the command answers at once.

JSON (other tools rely on it)::

    {"questions": [{"id", "category", "subtopic", "text", "follow_ups", "think_s",
                    "target_s": [lo, hi], "hard_limit_s", "tips", "pitfalls",
                    "example_answer", "source"}]}

``source`` is ``"built-in"`` or the path of the user's file.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import click

from coach.errors import CoachError
from coach.questions import CATEGORIES, CATEGORY_LABELS, Question, QuestionBank

MAX_WIDTH = 100


def question_to_dict(q: Question) -> dict[str, Any]:
    """One question in the JSON layout of ``coach questions --json``."""
    return {
        "id": q.id,
        "category": q.category,
        "subtopic": q.subtopic,
        "text": q.text,
        "follow_ups": list(q.follow_ups),
        "think_s": q.think_s,
        "target_s": [q.target_min_s, q.target_max_s],
        "hard_limit_s": q.hard_limit_s,
        "tips": list(q.tips),
        "pitfalls": list(q.pitfalls),
        "example_answer": q.example_answer,
        "source": q.source,
    }


def timing(q: Question) -> str:
    """``think 15 s · answer 60–90 s · stop 120 s``"""
    return (
        f"think {q.think_s} s · answer {q.target_min_s}–{q.target_max_s} s · "
        f"stop {q.hard_limit_s} s"
    )


def _width() -> int:
    return max(40, min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns))


def _wrap(text: str, indent: str, width: int) -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()), width=width, initial_indent=indent, subsequent_indent=indent
    ) or [indent.rstrip()]


def _bullets(items: Iterable[str], width: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        wrapped = _wrap(item, "    ", width)
        wrapped[0] = "  - " + wrapped[0][4:]
        lines += wrapped
    return lines


def _label(q: Question) -> str:
    label = q.id + (f" ({q.subtopic})" if q.subtopic else "")
    # The user's own questions are marked so a replaced shipped id is not a surprise.
    return label + (" (yours)" if q.source != "built-in" else "")


def render_list(questions: Sequence[Question], *, width: int = 80, full: bool = False) -> str:
    """The plain listing, grouped by category in interview order."""
    if not questions:
        return "No questions to show.\n"
    if full:
        return "\n".join(render_one(q, width=width) for q in questions)
    n_cats = len({q.category for q in questions})
    lines = [
        f"{len(questions)} question{'s' if len(questions) != 1 else ''} "
        f"in {n_cats} categor{'ies' if n_cats != 1 else 'y'}"
    ]
    labels = {q.id: _label(q) for q in questions}
    pad = min(48, max(len(label) for label in labels.values()))
    for cat in CATEGORIES:
        group = [q for q in questions if q.category == cat]
        if not group:
            continue
        count = f"{len(group)} question{'s' if len(group) != 1 else ''}"
        lines += ["", f"{CATEGORY_LABELS[cat]} [{cat}] · {count}"]
        for q in group:
            lines.append(f"  {labels[q.id]:<{pad}}  {timing(q)}")
            lines += _wrap(q.text, "      ", width)
    lines += ["", "Show one in full with `coach questions --id ID`."]
    return "\n".join(lines) + "\n"


def render_one(q: Question, *, width: int = 80) -> str:
    """Everything about one question: timing, follow-ups, tips, pitfalls, example answer."""
    where = q.category + (f" / {q.subtopic}" if q.subtopic else "")
    lines = [f"{q.id} [{where}]"]
    lines += _wrap(q.text, "  ", width)
    lines += ["", f"Timing: {timing(q)}"]
    for title, items in (
        ("Follow-ups", q.follow_ups),
        ("Tips", q.tips),
        ("Pitfalls", q.pitfalls),
    ):
        if items:
            lines += ["", f"{title}:", *_bullets(items, width)]
    if q.example_answer:
        lines += ["", "Example answer:", *_wrap(q.example_answer, "  ", width)]
    lines += ["", f"Source: {q.source}"]
    return "\n".join(lines) + "\n"


def select(
    bank: QuestionBank, *, category: str | None, question_id: str | None
) -> tuple[Question, ...]:
    """The questions asked for, or a CoachError that says how to fix the request."""
    for name, value in (("--category", category), ("--id", question_id)):
        if value is not None and not value.strip():
            example = "failed-match" if name == "--category" else "fm-what-happened"
            raise CoachError(f"{name} is empty", f"give a value, e.g. {name} {example}")
    chosen = bank.by_category(category) if category is not None else bank.all()
    if question_id is None:
        # Interview order (the bank itself is in file-name order); stable within a category.
        rank = {cat: i for i, cat in enumerate(CATEGORIES)}
        return tuple(sorted(chosen, key=lambda q: rank.get(q.category, len(rank))))
    q = bank.get(question_id)
    if category is not None and q.category != category:
        raise CoachError(
            f"question '{q.id}' is in category '{q.category}', not '{category}'",
            "drop --category, or pick an id from `coach questions --category " + category + "`",
        )
    return (q,)


@click.command("questions")
@click.option(
    "--category",
    "-c",
    metavar="CAT",
    help="Only this category (" + ", ".join(CATEGORIES) + ").",
)
@click.option("--id", "question_id", metavar="ID", help="Show one question in full.")
@click.option("--full", is_flag=True, help="Show tips, pitfalls and example answers too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def questions(category: str | None, question_id: str | None, full: bool, as_json: bool) -> None:
    """List the interview questions (the shipped bank plus your own).

    Add your own questions in TOML files in <config dir>/questions/; a question with the id
    of a shipped one replaces it.
    """
    from coach.questions import load_question_bank

    chosen = select(load_question_bank(), category=category, question_id=question_id)
    if as_json:
        data = {"questions": [question_to_dict(q) for q in chosen]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif question_id is not None:
        click.echo(render_one(chosen[0], width=_width()), nl=False)
    else:
        click.echo(render_list(chosen, width=_width(), full=full), nl=False)
