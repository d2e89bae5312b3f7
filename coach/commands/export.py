"""``coach export``: a session for a mentor as Markdown, self-contained HTML or JSON.

Markdown and JSON go to stdout unless ``--out`` is given; HTML (with embedded recordings) is
written to ``coach-session-ID.html`` in the current folder by default. Files are written
atomically and readable by the user only (0600). Safe to run while the app is open.
"""

from __future__ import annotations

from pathlib import Path

import click

from coach.errors import CoachError
from coach.export import FORMATS, default_export_name, export_session, write_export
from coach.store import Store


@click.command()
@click.argument("session", metavar="(SESSION_ID|latest)", default="latest")
@click.option("--format", "-f", "fmt", default="md", show_default=True, help="md, html or json.")
@click.option("--out", "-o", "out", default=None, help="File (or folder) to write to.")
@click.option("--no-audio", is_flag=True, help="Leave the recordings out.")
@click.option(
    "--redact",
    multiple=True,
    metavar="NAME",
    help="Replace this name everywhere (repeatable). Implies --no-audio.",
)
def export(
    session: str, fmt: str, out: str | None, no_audio: bool, redact: tuple[str, ...]
) -> None:
    """Export a practice session to share with a mentor.

    Examples: coach export latest --format html; coach export 3 -f md --redact "Dr. Okafor"
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise CoachError(f"unknown export format {fmt!r}", "use --format md, html or json")
    if redact and not no_audio:
        click.echo(
            "note: recordings are left out because names were redacted (they are spoken in them)",
            err=True,
        )
    with Store.open() as store:
        if out is None and fmt in ("md", "json"):
            click.echo(
                export_session(store, session, fmt, include_audio=not no_audio, redact=redact),
                nl=False,
            )
            return
        target = (
            Path(out)
            if out
            else Path.cwd() / default_export_name(store.resolve_session(session).id, fmt)
        )
        written = write_export(
            store, session, fmt, target, include_audio=not no_audio, redact=redact
        )
    click.echo(f"Wrote {written}", err=True)
