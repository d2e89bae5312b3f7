"""The ``coach`` entry point: usage errors are one line, help and version work, commands load lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

COACH = [sys.executable, "-m", "coach"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COACH, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("record", "--seconds", "abc", "x.wav"), "'abc' is not a valid float"),
        (("no-such-command",), "No such command 'no-such-command'"),
        (("questions", "--category"), "requires an argument"),
        (("score", "--no-such-flag"), "No such option"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(
    args: tuple[str, ...], expected: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [*COACH, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "--help" in lines[0]  # says where to look
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (("questions", "--category"), "coach questions --help"),
        (("rehearse", "--question"), "coach rehearse --help"),
        (("record", "--seconds", "abc", "x.wav"), "coach record --help"),
        (("no-such-command",), "coach --help"),
    ],
)
def test_usage_errors_point_to_the_commands_own_help(args: tuple[str, ...], where: str) -> None:
    assert run(*args).stderr.rstrip().endswith(f"see `{where}`")


def test_help_lists_every_command_and_exits_0() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in (
        "transcribe",
        "score",
        "record",
        "devices",
        "questions",
        "rehearse",
        "history",
        "export",
        "doctor",
    ):
        assert name in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert "coach, version" in result.stdout
