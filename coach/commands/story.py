"""``coach story``: where the story lives, a template to start from, and a session check.

* ``coach story``: the story's path and what it holds (``--json`` for the data).
* ``coach story --init``: write a commented template (never over an existing story).
* ``coach story --check [--session ID|latest]``: contradictions between the answers of a
  session and the story, each with both quotes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from coach.errors import CoachError

if TYPE_CHECKING:
    from coach.story.profile import StoryProfile

TEMPLATE = """\
# My story (Med-Peds Interview Coach): written once, checked in every answer.
# Private to you (0600). Every field is optional; remove the # to fill one in.

# reasons = ["In your own words: why you think you did not match."]
# backup_plan = "This cycle: e.g. dual applying to Med-Peds and categorical pediatrics."
# red_flags = ["What an interviewer may ask about: an exam attempt, a gap, a leave."]
# must_say = ["3-5 points of your own", "that every interview should hear"]

[last_cycle]
# specialties = ["Med-Peds"]
# programs = 20
# interviews = 3
# soap = true
# outcome = "did not match; no SOAP offer"

[since]
# role = "clinical research coordinator"
# where = "adult congenital heart disease clinic"
# months = 12
# letters = ["pediatrics attending", "internal medicine attending"]
# sub_i = "Med-Peds sub-internship"
# research_qi = ["transition checklist QI project"]
# remediation = "weekly study plan with a learning specialist"

# [[since.exams]]
# name = "Step 2 CK"
# result = "245"
# attempts = 1
"""


@click.command()
@click.option("--init", "init", is_flag=True, help="Write a commented template to fill in.")
@click.option(
    "--check", "check", is_flag=True, help="Check a session's answers for contradictions."
)
@click.option(
    "--session",
    "session_ref",
    default="latest",
    show_default=True,
    metavar="ID|latest",
    help="The session --check reads.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def story(init: bool, check: bool, session_ref: str, as_json: bool) -> None:
    """Your story: the facts every answer should agree on (story.toml in the config folder)."""
    from coach.story.profile import load_story, story_path

    path = story_path()
    if session_ref != "latest" and not check:
        raise CoachError("--session only applies to --check", "add --check")
    if init:
        if path.exists():
            raise CoachError(f"{path}: a story already exists", "edit it, or move it away first")
        from coach.story.profile import write_private

        write_private(path, TEMPLATE)
        click.echo(f"Wrote a template to {path}; fill in what applies to you.")
        return
    current = load_story(path)
    if check:
        _check(session_ref, current, as_json)
        return
    if as_json:
        data = {"path": str(path), "story": current.to_dict() if current else None}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if current is None:
        click.echo(f"No story yet. Run `coach story --init`, then edit {path}.")
        return
    from coach.story.coverage import story_points

    click.echo(f"Your story ({path}):")
    for p in story_points(current):
        click.echo(f"  - {p.label}")


def _check(session_ref: str, current: StoryProfile | None, as_json: bool) -> None:
    from coach.commands.history import open_store
    from coach.story.consistency import AnswerText, check_answers

    with open_store() as store:
        session = store.resolve_session(session_ref)
        attempts = store.attempts(session_id=session.id)
    answers = [
        AnswerText(
            f"{a.category} answer" + (f" ({a.question_id})" if a.question_id else ""), a.text, a.id
        )
        for a in attempts
    ]
    flags = check_answers(answers, current)
    if as_json:
        data = {"session_id": session.id, "flags": [f.to_dict() for f in flags]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not flags:
        click.echo(f"Session {session.id}: {len(answers)} answers tell one story.")
        return
    where = "place" if len(flags) == 1 else "places"
    click.echo(f"Session {session.id}: {len(flags)} {where} where the story changes:")
    for f in flags:
        click.echo(f"  - {f.message}")
