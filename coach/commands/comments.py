"""``coach import-comments FILE``: a mentor's comments back into the history.

FILE is the JSON the exported HTML page saved (its "Save comments" button) or a Markdown export
the mentor filled in. The comments go to the session and answers the export came from; a file
from another session is refused with a one-line error (exit 2) and nothing is imported.
Earlier comments are never changed, and importing the same file twice adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from coach.commands.history import open_store


@click.command("import-comments")
@click.argument("file", metavar="FILE")
def import_comments(file: str) -> None:
    """Bring a mentor's comments (saved .json or filled-in .md) back into the history.

    Example: coach import-comments ~/Downloads/coach-comments-session-3.json
    """
    from coach.mentor import import_comments as run_import

    path = Path(file).expanduser()
    with open_store() as store:
        result = run_import(store, path)
    noun = "comment" if result.added == 1 else "comments"
    line = f"Imported {result.added} {noun} into session {result.session_id}"
    if result.already:
        line += f" ({result.already} already there)"
    if not result.added and not result.already:
        line = f"No comments in {path}: every box was empty; nothing was imported"
    click.echo(line)
