"""The ``coach`` command line.

Bare ``coach`` opens the Textual app; subcommands are for scripting. Subcommands live in
``coach/commands/<name>.py`` and are imported only when invoked, so ``coach score`` starts
fast and never imports torch or Whisper.

Every :class:`~coach.errors.CoachError`, and every usage error, becomes one line on stderr
and exit code 2; so does standard output that cannot be written (``> /dev/full``). A closed
pipe (``| head``) ends the command quietly with exit 1 (click's own convention), as cat or grep
stop quietly on SIGPIPE.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import Any

import click

from coach import __version__
from coach.errors import CoachError

# name -> "module:attribute" of a click command
LAZY_COMMANDS: dict[str, str] = {
    "transcribe": "coach.commands.transcribe:transcribe",
    "doctor": "coach.commands.doctor:doctor",
    "questions": "coach.commands.questions:questions",
    "score": "coach.commands.score:score",
    "devices": "coach.commands.record:devices",
    "record": "coach.commands.record:record",
    "rehearse": "coach.commands.rehearse:rehearse",
    "history": "coach.commands.history:history",
    "export": "coach.commands.export:export",
    "import-comments": "coach.commands.comments:import_comments",
    "delete": "coach.commands.history:delete",
    "forget-everything": "coach.commands.history:forget_everything",
    "readiness": "coach.commands.readiness:readiness",
    "story": "coach.commands.story:story",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name].split(":")
            module = importlib.import_module(module_name)
            command = getattr(module, attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CoachError as exc:
            click.echo(one_line(f"error: {exc}"), err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            # Here too, not only in main(), so that `cli` invoked by other callers (click's
            # test runner) gives a subcommand's usage mistakes as one line as well.
            # Click does not always attach the subcommand's context ("requires an argument"
            # comes with none), so the help to point to is named from the group's own state.
            where = f"coach {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "coach"
            click.echo(usage_error_line(exc, where), err=True)
            ctx.exit(exc.exit_code)


def one_line(text: str) -> str:
    """Every error is one line: text quoted from a library (SQLite, the OS) may span several."""
    return " ".join(text.split())


def usage_error_line(exc: click.UsageError, where: str) -> str:
    """Click's usage error as the one line every coach error is: what, then where to look."""
    return f"error: {exc.format_message()} — see `{where} --help`"


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="coach")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Med-Peds Interview Coach: rehearse a reapplicant's interview, offline.

    Run with no command to open the app.
    """
    if ctx.invoked_subcommand is None:
        from coach.tui.app import run_app

        run_app()


def main() -> None:
    """Console-script entry point.

    Click's own errors (a bad option value, a missing argument) are printed as one line too,
    like every other error, instead of click's multi-line usage block.
    """
    try:
        rv = cli.main(prog_name="coach", standalone_mode=False)
        sys.stdout.flush()  # a full disk or closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        # The reader went away (`coach questions --json | head -1`): stop quietly, as cat or
        # grep do on SIGPIPE, with exit 1 as click does for a pipe closed mid-command; the
        # reader chose to stop, so there is nothing to report.
        _silence_stdout()
        sys.exit(1)
    except OSError as exc:
        if exc.filename is not None or exc.errno not in _OUTPUT_ERRNOS:
            raise
        _silence_stdout()
        click.echo(
            f"error: cannot write the output: {exc.strerror or exc} — free some disk space "
            "or send the output somewhere else",
            err=True,
        )
        sys.exit(2)
    except click.UsageError as exc:  # the group's own (`coach --bogus`)
        where = exc.ctx.command_path if exc.ctx is not None else "coach"
        click.echo(usage_error_line(exc, where), err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


#: Errors writing to standard output (a full disk, /dev/full, an I/O error, a size limit).
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EPIPE}


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's own flush at exit cannot print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
