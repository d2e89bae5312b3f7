#!/usr/bin/env python3
"""Walk a timed drill in the real ``coach`` app as a person would, in tmux at 80x24.

The app runs in a detached tmux session (a private tmux server, 80 columns by 24 rows) with
its own config, data and cache folders and a virtual microphone (``tests/virtual_mic.py``)
that speaks a synthesized answer (espeak-ng + sox) when the recording opens. The script sends
keys with ``tmux send-keys``, reads the screen with ``tmux capture-pane -p`` and, at each step,
waits (polling, with a timeout) for the text a person would expect to see:

1. the home screen paints, then the speech model is ready;
2. ``d`` opens the timed-drill set-up; think and answer times are typed in;
3. ``ctrl+s`` starts the drill: the question and the think-time countdown;
4. when think time ends, recording starts by itself (no key pressed);
5. the virtual microphone speaks; the words appear in the live transcript;
6. the gentle "seconds left" note appears before the limit;
7. the answer stops (space, or the time limit with ``--stop limit``) and the review shows
   the overall score and the per-criterion scores; scrolling down shows the answer text,
   the delivery figures and the example answer, which ``x`` opens;
8. escape ends the drill: home shows the progress; ``ctrl+q`` quits with exit status 0.

Every capture is printed and saved under ``<workdir>/panes/``. Exit status: 0 when every
step was seen, 1 when one was not (the message says which, with the screen at that moment),
2 when tmux, espeak-ng or sox is missing.

Usage::

    .venv/bin/python scripts/tmux_drill.py [--coach .venv/bin/coach] [--workdir DIR]
        [--cache-dir DIR] [--stop key|limit] [--quiet]

``tests/test_tui_tmux.py`` runs it as part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.virtual_mic import VirtualMic, read_pcm16  # noqa: E402

WIDTH, HEIGHT = 80, 24
THINK_S = 3
ANSWER_S = 30  # the spoken answer lasts ~10 s; the wrap-up note shows at 20 s, after the words
ANSWER = (
    "I did not match last year. Since then I asked my advisors for honest feedback, "
    "worked in research, and earned stronger letters. I am ready now."
)
KEY_WORDS = ("match", "feedback", "research", "letters", "ready")
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
    """One private tmux server (its own socket) with one 80x24 session running the app."""

    def __init__(self, socket: str, session: str = "coach") -> None:
        self.socket = socket
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
        env_args = [a for key, value in env.items() for a in ("-e", f"{key}={value}")]
        self.run(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
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
        if isinstance(expect, str | tuple):
            wanted = (expect,) if isinstance(expect, str) else expect

            def check(pane: str) -> bool:
                return all(w in pane for w in wanted)

            what = " and ".join(repr(w) for w in wanted)
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
                return boxes[index].strip()
    return ""


def live_box(pane: str) -> str:
    """The text inside the "Live transcript" box."""
    inside, out = False, []
    for line in pane.splitlines():
        if "Live transcript" in line and "╭" in line:
            inside = True
        elif inside and "╰" in line:
            break
        elif inside:
            out.append(line.strip().strip("│").strip())
    return " ".join(w for w in out if w)


def meter_level(pane: str) -> int | None:
    """The dBFS figure on the level meter line, or None when it is idle (---)."""
    found = re.search(r"^ *mic +(-?\d+) dB", pane, re.MULTILINE)
    return int(found.group(1)) if found else None


def walk_drill(tmux: Tmux, mic: VirtualMic, walk: Walk, stop: str) -> None:
    started = time.monotonic()
    walk.wait("home", ("Mock interview", "Timed drill", "Solo rehearsal"), 30)
    print(f"first paint seen after {time.monotonic() - started:.1f} s (poll interval 0.2 s)")
    if tmux.size() != (WIDTH, HEIGHT):
        raise StepFailed(f"the pane is {tmux.size()}, not {WIDTH}x{HEIGHT}")
    walk.wait("model ready", lambda p: "Speech model:" in p and " ready" in p, 180)

    tmux.keys("d")
    walk.wait("drill set-up", ("Category", "Failed match", "Start drill"), 10)
    # Focus starts on the category; Tab moves to the question list, then to the times.
    tmux.keys("Tab", "Tab")
    tmux.text(str(THINK_S))
    walk.wait("think time typed", lambda p: field_value(p, "Think s") == str(THINK_S), 5)
    tmux.keys("Tab")
    tmux.text(str(ANSWER_S))
    walk.wait("answer time typed", lambda p: field_value(p, "Answer s") == str(ANSWER_S), 5)

    tmux.keys("C-s")
    walk.wait("think time", ("Timed drill · question 1 of", "Think 0:0", "Recording starts"), 10)

    # No key pressed: recording must start by itself when think time runs out.
    walk.wait("recording started by itself", ("Answer 0:", "Recording —"), THINK_S + 60)

    spoken_end = mic.lead_in + len(mic.samples)

    def mic_state() -> str:
        return f"(virtual mic: {mic.connections} connections, {mic.fed_frames} frames fed)"

    def hears_voice(pane: str) -> bool:
        level = meter_level(pane)
        return level is not None and level > -50 and "█" in pane

    def live_words(pane: str) -> bool:
        text = live_box(pane).lower()
        return "will appear here" not in text and sum(w in text for w in KEY_WORDS) >= 2

    walk.wait("level meter moves", hears_voice, 30, mic_state)
    walk.wait("live transcript", live_words, 60, mic_state)
    deadline = time.monotonic() + 30
    while mic.fed_frames < spoken_end and time.monotonic() < deadline:
        time.sleep(0.2)
    walk.wait("gentle warning", "seconds left — start bringing it to a close", ANSWER_S + 5)
    if stop == "key":
        tmux.keys("Space")
    walk.wait("review", ("Overall", "/ 100", "Criterion", "Growth focus"), 120)

    # Scroll like a person reading on, until the answer (with its highlights) shows.
    answer = ""
    for _ in range(12):
        tmux.keys("PageDown")
        pane = tmux.capture()
        if "Your answer" in pane:
            answer = walk.wait(
                "review: your answer",
                lambda p: "Your answer" in p and sum(w in p.lower() for w in KEY_WORDS) >= 3,
                5,
            )
            break
    if not answer:
        walk.save("review-scrolled-FAILED", tmux.capture())
        raise StepFailed("scrolling the review never showed 'Your answer'")
    for _ in range(12):
        tmux.keys("PageDown")
        if "Example answer" in tmux.capture():
            break
    walk.wait("review: delivery and example", ("Delivery", "words/min", "▶ Example answer"), 5)
    tmux.keys("x")  # open the example answer
    walk.wait("review: example answer open", "▼ Example answer", 5)

    tmux.keys("Escape")
    walk.wait("home with progress", ("Progress: 1 answer in 1 session", "Timed drill"), 15)
    tmux.keys("C-q")
    walk.wait("quit", f"{EXIT_MARK} 0]", 15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coach", default=str(ROOT / ".venv" / "bin" / "coach"))
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")
    parser.add_argument("--cache-dir", type=Path, help="COACH_CACHE_DIR to reuse")
    parser.add_argument("--stop", choices=("key", "limit"), default="key")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)

    missing = [tool for tool in ("tmux", "espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        print(
            f"error: {', '.join(missing)} not found — install them (make test does)",
            file=sys.stderr,
        )
        return 2
    coach = Path(args.coach)
    if not coach.exists():
        print(f"error: {coach} does not exist — run make install first", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="coach-tmux-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        panes = work / "panes"
        panes.mkdir(exist_ok=True)
        wav = synthesize(ANSWER, work)
        samples, rate = read_pcm16(wav)
        print(f"virtual microphone will say ({len(samples) / rate:.1f} s): {ANSWER}")
        tmux = Tmux(f"coach-drill-{os.getpid()}")
        with VirtualMic(wav, workdir=work / "mic") as mic:
            env = {
                "COACH_CONFIG_DIR": str(work / "config"),
                "COACH_DATA_DIR": str(work / "data"),
                "COACH_CACHE_DIR": str(args.cache_dir or work / "cache"),
                "HF_HUB_OFFLINE": "1",
                "ALSA_CONFIG_PATH": mic.env["ALSA_CONFIG_PATH"],
            }
            # The shell keeps the pane open after the app ends, so its exit status is seen.
            command = f"{shlex.quote(str(coach))}; echo '{EXIT_MARK}' $?']'; sleep 600"
            walk = Walk(tmux, panes, args.quiet)
            try:
                tmux.start(command, env)
                walk_drill(tmux, mic, walk, args.stop)
            except StepFailed as exc:
                print(f"FAILED: {exc}", file=sys.stderr)
                return 1
            finally:
                tmux.kill()
        print(f"OK: timed drill walked at {WIDTH}x{HEIGHT} in tmux; {walk.count} screens checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
