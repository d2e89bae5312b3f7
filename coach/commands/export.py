"""``coach export``: a session for a mentor as Markdown, self-contained HTML or JSON.

Every format is written to a file: ``--out FILE`` (or a folder), by default
``coach-session-ID.<format>`` in the current folder; the path is printed. An existing file is
replaced only with ``--force`` or after asking on a terminal; links, pipes, devices and folders
are refused (:mod:`coach.outfile`). ``--out -`` prints
Markdown or JSON to stdout instead (for pipes). Files are written atomically and readable by
the user only (0600). Safe to run while the app is open (the history is read in WAL mode).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from coach.commands.history import open_store
from coach.errors import CoachError
from coach.export import FORMATS, Redactor, default_export_name, export_session, write_export
from coach.outfile import check_target


@click.command()
@click.argument("session", metavar="(SESSION_ID|latest)", default="latest")
@click.option("--format", "-f", "fmt", default="md", show_default=True, help="md, html or json.")
@click.option(
    "--out",
    "-o",
    "out",
    default=None,
    help="File or folder to write to (default: coach-session-ID.FORMAT here); - for stdout.",
)
@click.option("--no-audio", is_flag=True, help="Leave the recordings out.")
@click.option("--force", is_flag=True, help="Replace an existing file without asking.")
@click.option(
    "--redact",
    multiple=True,
    metavar="NAME",
    help="Replace this name everywhere (repeatable). Implies --no-audio.",
)
def export(
    session: str,
    fmt: str,
    out: str | None,
    no_audio: bool,
    force: bool,
    redact: tuple[str, ...],
) -> None:
    """Export a practice session to share with a mentor.

    Examples: coach export latest --format html; coach export 3 -f md --redact "Dr. Okafor"
    """
    fmt = fmt.lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else fmt
    if fmt not in FORMATS:
        raise CoachError(f"unknown export format {fmt!r}", "use --format md, html or json")
    if out == "-" and fmt == "html":
        raise CoachError(
            "an HTML export is a file, not text for the terminal",
            "leave out --out - (or give a file name) to write coach-session-ID.html",
        )
    if out is not None and not out.strip():
        raise CoachError("--out is empty", "give a file or folder name, or - for stdout")
    Redactor.for_names(redact)  # a bad name is refused before the history is opened
    with open_store() as store:
        # Resolve first: a missing session is an error before anything is written.
        resolved = store.resolve_session(session)
        if redact and not no_audio:
            click.echo(
                "note: recordings are left out because names were redacted "
                "(they are spoken in them)",
                err=True,
            )
        if out == "-":
            click.echo(
                export_session(store, resolved.id, fmt, include_audio=not no_audio, redact=redact),
                nl=False,
            )
            return
        target = (
            Path(out).expanduser() if out else Path.cwd() / default_export_name(resolved.id, fmt)
        )
        if target.is_dir():  # a folder (or a link to one): the default name inside it
            target = target / default_export_name(resolved.id, fmt)
        check_target(target, force=force, ask=_asker())
        written = write_export(
            store, resolved.id, fmt, target, include_audio=not no_audio, redact=redact
        )
    click.echo(f"Wrote {written}")


def _asker() -> Callable[[str], bool] | None:
    """Ask on the terminal; None when stdin is not one (scripts get an error naming --force)."""
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    return lambda question: click.confirm(question, default=False, err=True)
