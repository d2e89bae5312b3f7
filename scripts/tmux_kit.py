"""The pieces of the tmux walk-through (``scripts/tmux_drill.py``): a private tmux server with
one pane running the app, and a walk that waits for what a person expects to see.

Kept apart from the walks themselves so both ``tmux_drill.py`` (run as a script) and
``tmux_walks.py`` share one ``StepFailed`` class and one set of pane readers.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

EXIT_MARK = "[coach exited with status"


class StepFailed(Exception):
    """A step's expected text did not appear in time."""


def synthesize(text: str, out_dir: Path) -> Path:
    """``text`` spoken by espeak-ng, as a 16 kHz mono 16-bit WAV (what the virtual mic plays)."""
    raw, out = out_dir / "answer.raw.wav", out_dir / "answer.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return out


class Tmux:
    """One private tmux server (its own socket) with one session running the app."""

    def __init__(self, socket: str, width: int, height: int, session: str = "coach") -> None:
        self.socket = socket
        self.width = width
        self.height = height
        self.target = f"{session}:0.0"
        self.session = session

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        # A running tmux server gives new sessions its own environment: pass ours explicitly.
        env_args = [a for key, value in env.items() for a in ("-e", f"{key}={value}")]
        # Under pytest the new server's environment holds COLUMNS=80 (seen in a probe pane),
        # and Python's terminal size reads COLUMNS/LINES before the tty: the app would draw
        # 80x24 in any pane, and ignore resizes. The pane's own size must win.
        command = f"unset COLUMNS LINES; {command}"
        self.run(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            *env_args,
            command,
        )

    def keys(self, *keys: str) -> None:
        """Send keys one at a time, as a person types (tmux key names such as Tab, C-s)."""
        for key in keys:
            self.run("send-keys", "-t", self.target, key)
            time.sleep(0.15)

    def text(self, literal: str) -> None:
        self.run("send-keys", "-t", self.target, "-l", literal)
        time.sleep(0.15)

    def capture(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def size(self) -> tuple[int, int]:
        out = self.run("display-message", "-p", "-t", self.target, "#{pane_width} #{pane_height}")
        width, height = out.split()
        return int(width), int(height)

    def nudge_size(self) -> None:
        """Resize the window away and back: the app gets a SIGWINCH with the real size.

        Under load, tmux can size the new window after the app read its size but before the
        app listened for resizes; the app then draws 80x24 in a larger pane.
        """
        self.run(
            "resize-window", "-t", self.session, "-x", str(self.width), "-y", str(self.height - 1)
        )
        time.sleep(0.3)
        self.run("resize-window", "-t", self.session, "-x", str(self.width), "-y", str(self.height))

    def kill(self) -> None:
        self.run("kill-server", check=False)


class Walk:
    """The steps, with captures saved and printed."""

    def __init__(self, tmux: Tmux, panes: Path, quiet: bool) -> None:
        self.tmux = tmux
        self.panes = panes
        self.quiet = quiet
        self.count = 0
        self.last = ""

    def save(self, name: str, pane: str) -> None:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        (self.panes / f"{self.count:02d}-{slug}.txt").write_text(pane, encoding="utf-8")
        if not self.quiet:
            print(f"--- {self.count:02d} {name} " + "-" * max(0, 60 - len(name)))
            print(pane.rstrip("\n"))

    def wait(
        self,
        name: str,
        expect: Callable[[str], bool] | str | tuple[str, ...],
        timeout: float,
        detail: Callable[[], str] = str,
    ) -> str:
        """Poll the pane until ``expect`` holds (all given strings shown), then save it."""
        check: Callable[[str], bool]
        if isinstance(expect, str | tuple):
            wanted = (expect,) if isinstance(expect, str) else expect

            def shows_all(pane: str) -> bool:
                # Read wrapped text as a person does: a phrase may continue on the next line
                # (where it wraps depends on the terminal's width and on the paths shown).
                flat = " ".join(line.strip() for line in pane.splitlines())
                return all(w in pane or w in flat for w in wanted)

            check, what = shows_all, " and ".join(repr(w) for w in wanted)
        else:
            check, what = expect, name
        deadline = time.monotonic() + timeout
        while True:
            pane = self.last = self.tmux.capture()
            if check(pane):
                self.save(name, pane)
                return pane
            if EXIT_MARK in pane:
                break  # the app ended: waiting longer cannot help
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.save(f"{name}-FAILED", pane)
        raise StepFailed(
            f"step '{name}': {what} did not appear within {timeout:.0f} s {detail()}\n{pane}"
        )


def field_value(pane: str, label: str) -> str:
    """The text inside the input box on the line that carries ``label`` (e.g. "Think s")."""
    for line in pane.splitlines():
        if label in line:
            boxes = re.findall(r"▊([^▎]*)▎", line)
            index = 0 if line.strip().startswith(label) else 1
            if len(boxes) > index:
                return str(boxes[index]).strip()
    return ""


def live_lines(pane: str) -> list[str]:
    """The non-empty lines inside the "Live transcript" box."""
    inside, out = False, []
    for line in pane.splitlines():
        if "Live transcript" in line and "╭" in line:
            inside = True
        elif inside and "╰" in line:
            break
        elif inside:
            # A notification toast ("▌ Well done") may sit over the box: not transcript text.
            text = line.split("▌")[0].strip().strip("│").strip()
            if text:
                out.append(text)
    return out


def live_box(pane: str) -> str:
    """The text inside the "Live transcript" box."""
    return " ".join(live_lines(pane))


def meter_level(pane: str) -> int | None:
    """The dBFS figure on the level meter line, or None when it is idle (---)."""
    found = re.search(r"^ *mic +(-?\d+) dB", pane, re.MULTILINE)
    return int(found.group(1)) if found else None
