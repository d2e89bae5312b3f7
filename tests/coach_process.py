"""A ``coach`` subprocess watched as a person would watch it: stderr lines as they arrive.

Shared by the CLI tests that drive recording through the virtual microphone
(``coach record``, ``coach rehearse``), with the check that an error is one line.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest

COACH = [sys.executable, "-m", "coach"]


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2 with one ``error: ...`` line on stderr, no traceback; returns the line."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


class Running:
    """A ``coach`` subprocess whose stderr lines are collected with their arrival time."""

    def __init__(self, args: list[str], env: dict[str, str], stdin: Any = subprocess.DEVNULL):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [*COACH, *args],
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float = 30) -> float:
        """The time ``text`` appeared on stderr (fails after ``timeout`` or if the process ends)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for at, line in list(self.lines):
                if text in line:
                    return at
            if self.proc.poll() is not None:
                self._reader.join(timeout=5)
                for at, line in self.lines:
                    if text in line:
                        return at
                pytest.fail(f"coach exited ({self.proc.returncode}) without {text!r}: {self.lines}")
            time.sleep(0.02)
        pytest.fail(f"no {text!r} on stderr within {timeout} s: {self.lines}")

    def finish(self, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Wait for the exit; stdout, and stderr as the lines collected."""
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        err = "\n".join(line for _, line in self.lines)
        return subprocess.CompletedProcess(self.proc.args, code, out, err)
