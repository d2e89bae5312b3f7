"""``coach readiness``: the interview-day summary per category, as text or JSON.

JSON (``--json``)::

    {"schema_version", "has_story",
     "categories": [{"category", "attempts", "questions_practised", "questions_total",
                     "latest", "best", "unsaid": [label], "flags": [flag]}],
     "must_say_unsaid": [label],
     "flags": [{"kind", "message", "first": {"source", "quote", "attempt_id"}, "second": {…}}]}

Read-only: safe to run while the app is open.
"""

from __future__ import annotations

import json
import shutil

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def readiness(as_json: bool) -> None:
    """Per category: practised, latest and best, story points still unsaid, open flags."""
    from coach.commands.history import open_store
    from coach.questions import load_question_bank
    from coach.story.profile import load_story
    from coach.story.readiness import build_readiness, render_readiness

    story = load_story()  # an invalid story is an error here: the summary is about it
    bank = load_question_bank()
    with open_store() as store:
        attempts = store.attempts()
    summary = build_readiness(attempts, bank, story)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return
    width = shutil.get_terminal_size((80, 24)).columns
    click.echo(render_readiness(summary, width), nl=False)
