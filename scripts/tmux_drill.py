#!/usr/bin/env python3
"""Walk every mode of the real ``coach`` app as a person would, in tmux (80x24 by default).

The app runs in a detached tmux session (a private tmux server, ``--size`` columns by rows)
with its own config, data, cache and home folders and a virtual microphone
(``tests/virtual_mic.py``) that speaks a synthesized answer of about 20 seconds (espeak-ng +
sox) each time a recording opens. The script sends keys with ``tmux send-keys``, reads the
screen with ``tmux capture-pane -p`` and, at each step, waits (polling, with a timeout) for
the text a person would expect to see:

1. the home screen paints, then the speech model is ready;
2. a timed drill: think and answer times typed in, recording starts by itself when think time
   ends, the level meter moves, the words appear live, the gentle "seconds left" note shows
   and recording stops at the limit (``--stop key``: space instead); the review shows the
   scores, the answer, delivery figures and the example answer; home shows the progress;
3. a solo rehearsal (``--walk all``): the spoken answer wraps over several lines of the live
   transcript; a typed retry; the review's word diff with the previous attempt;
4. a mock interview: the first answer spoken (stopped early), the second typed;
5. history: per-question progress, a chosen export folder and a Markdown export into it;
6. settings with the microphone level test, help, and History from the command palette;
7. ``ctrl+q`` quits with exit status 0.

Every capture is printed and saved under ``<workdir>/panes/``. Exit status: 0 when every
step was seen, 1 when one was not (the message says which, with the screen at that moment),
2 when tmux, espeak-ng or sox is missing.

Usage::

    .venv/bin/python scripts/tmux_drill.py [--coach .venv/bin/coach] [--workdir DIR]
        [--cache-dir DIR] [--stop key|limit] [--walk drill|all] [--size 80x24] [--quiet]

``tests/test_tui_tmux.py`` runs it as part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.tmux_kit import (  # noqa: E402
    EXIT_MARK,
    StepFailed,
    Tmux,
    Walk,
    field_value,
    live_box,
    meter_level,
    synthesize,
)
from tests.virtual_mic import VirtualMic, read_pcm16  # noqa: E402

THINK_S = 3
# The spoken answer lasts ~20 s; the wrap-up note shows at 20 s and recording stops at 30 s.
ANSWER_S = 30
ANSWER = (
    "I did not match last year. I applied only to Med-Peds programs in one region, and my "
    "letters came late. Since then I asked my advisors for honest feedback, worked as a "
    "research coordinator in a transition clinic for young adults, and earned stronger "
    "letters. I am applying more broadly this year, and I am ready now."
)
KEY_WORDS = ("match", "feedback", "research", "letters", "ready")


def walk_drill(tmux: Tmux, mic: VirtualMic, walk: Walk, stop: str) -> None:
    started = time.monotonic()
    walk.wait("home", ("Mock interview", "Timed drill", "Solo rehearsal"), 30)
    print(f"first paint seen after {time.monotonic() - started:.1f} s (poll interval 0.2 s)")
    if tmux.size() != (tmux.width, tmux.height):
        raise StepFailed(f"the pane is {tmux.size()}, not {tmux.width}x{tmux.height}")

    def fills_the_pane(pane: str) -> bool:  # the footer (with its palette hint) on the last row
        rows = pane.rstrip("\n").split("\n")
        return len(rows) >= tmux.height and "palette" in rows[tmux.height - 1]

    # Not a saved step (the test checks the list of steps): a quiet check, nudged once.
    if not fills_the_pane(tmux.capture()):
        tmux.nudge_size()
        deadline = time.monotonic() + 10
        while not fills_the_pane(tmux.capture()):
            if time.monotonic() > deadline:
                raise StepFailed(f"the app does not fill the {tmux.width}x{tmux.height} pane")
            time.sleep(0.2)
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
        pane = tmux.capture()
        if "Your answer" in pane:
            answer = walk.wait(
                "review: your answer",
                lambda p: "Your answer" in p and sum(w in p.lower() for w in KEY_WORDS) >= 3,
                5,
            )
            break
        tmux.keys("PageDown")
        time.sleep(0.3)  # let the scroll repaint before looking again
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--coach", default=str(ROOT / ".venv" / "bin" / "coach"))
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")
    parser.add_argument("--cache-dir", type=Path, help="COACH_CACHE_DIR to reuse")
    parser.add_argument("--stop", choices=("key", "limit"), default="limit")
    parser.add_argument("--walk", choices=("drill", "all"), default="all")
    parser.add_argument("--size", default="80x24", help="COLUMNSxROWS, e.g. 120x40")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)
    try:
        width, height = (int(n) for n in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size {args.size!r} is not COLUMNSxROWS — try 80x24", file=sys.stderr)
        return 2

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

    from scripts.tmux_walks import walk_history, walk_mock, walk_settings_help_palette, walk_solo

    with tempfile.TemporaryDirectory(prefix="coach-tmux-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        panes = work / "panes"
        panes.mkdir(exist_ok=True)
        (work / "home").mkdir(exist_ok=True)
        wav = synthesize(ANSWER, work)
        samples, rate = read_pcm16(wav)
        print(f"virtual microphone will say ({len(samples) / rate:.1f} s): {ANSWER}")
        tmux = Tmux(f"coach-drill-{os.getpid()}", width, height)
        started = time.monotonic()
        with VirtualMic(wav, workdir=work / "mic") as mic:
            env = {
                "COACH_CONFIG_DIR": str(work / "config"),
                "COACH_DATA_DIR": str(work / "data"),
                "COACH_CACHE_DIR": str(args.cache_dir or work / "cache"),
                # A home of its own: the default export folder must not be the user's.
                "HOME": str(work / "home"),
                "HF_HUB_OFFLINE": "1",
                # This checkout's code, even when the console script was installed elsewhere.
                "PYTHONPATH": str(ROOT),
                "ALSA_CONFIG_PATH": mic.env["ALSA_CONFIG_PATH"],
            }
            # The shell keeps the pane open after the app ends, so its exit status is seen.
            command = f"{shlex.quote(str(coach))}; echo '{EXIT_MARK}' $?']'; sleep 600"
            walk = Walk(tmux, panes, args.quiet)
            try:
                tmux.start(command, env)
                walk_drill(tmux, mic, walk, args.stop)
                if args.walk == "all":
                    walk_solo(tmux, mic, walk)
                    walk_mock(tmux, mic, walk)
                    walk_history(tmux, walk, work / "for my mentor")
                    walk_settings_help_palette(tmux, walk)
                tmux.keys("C-q")
                walk.wait("quit", f"{EXIT_MARK} 0]", 15)
            except StepFailed as exc:
                print(f"FAILED: {exc}", file=sys.stderr)
                return 1
            finally:
                tmux.kill()
        what = "timed drill" if args.walk == "drill" else "every mode"
        print(
            f"OK: {what} walked at {width}x{height} in tmux; {walk.count} screens checked "
            f"in {time.monotonic() - started:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
