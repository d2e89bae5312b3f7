"""Start-up benchmark: how soon the app paints and the CLI answers; prints JSON.

Each figure comes from a fresh Python process (so imports are really paid) with private
``COACH_*`` folders in a temporary directory, several runs, median reported:

* ``app_first_paint_s`` — from launching ``coach`` to the home screen being on screen, as a
  person sees it: the real app in a real 80x24 terminal (tmux), its pane polled every 10 ms.
  The speech model loads in a background worker; ``app_model_ready_s`` is when the status line
  says it is ready (the embedded tiny.en on the default engine). Target: first paint < 1 s,
  whatever the model is doing.
* ``cli_score_s`` — ``coach score`` on a typed answer, whole command (must stay fast: it never
  imports torch or Whisper).
* ``cli_help_s`` — ``coach --help``.

Usage::

    .venv/bin/python benchmarks/startup.py            # 5 runs each
    .venv/bin/python benchmarks/startup.py --runs 2   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

#: Text that is on the home screen once it has painted, and once the model is ready.
HOME_TEXT = "Mock interview"
READY_TEXT = "ready"


ANSWER = (
    "I did not match last year because my list was too narrow. Since then I have worked as a "
    "research coordinator in a transition clinic and earned new letters. This year I applied "
    "broadly and I am ready to bring that experience to your program."
)


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CONFIG", "DATA", "CACHE"):
        env[f"COACH_{name}_DIR"] = str(tmp / name.lower())
    env["HF_HUB_OFFLINE"] = "1"
    return env


def _coach() -> list[str]:
    return [sys.executable, "-m", "coach"]


def app_start(env: dict[str, str]) -> dict[str, Any]:
    """Start the real ``coach`` in a real 80x24 terminal (tmux) and watch what it shows."""
    server = f"coach-startup-{os.getpid()}"
    tmux = ["tmux", "-L", server]
    exports = [f"-e{k}={env[k]}" for k in env if k.startswith(("COACH_", "HF_"))]
    t0 = time.perf_counter()
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "80", "-y", "24", *exports, *_coach()],
        check=True,
        env=env,
    )
    out: dict[str, Any] = {}
    try:
        while time.perf_counter() - t0 < 120:
            pane = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, env=env
            ).stdout
            now = time.perf_counter() - t0
            if "first_paint_s" not in out and HOME_TEXT in pane:
                out["first_paint_s"] = now
            if "first_paint_s" in out and "Speech model" in pane and READY_TEXT in pane:
                out["model_ready_s"] = now
                break
            time.sleep(0.01)
        out.setdefault("first_paint_s", float("nan"))
        out.setdefault("model_ready_s", float("nan"))
        subprocess.run([*tmux, "send-keys", "C-q"], env=env)
        time.sleep(0.3)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)
    return out


def timed(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coach-startup-") as tmp:
        env = _env(Path(tmp))
        # Warm the OS file cache (a first start after boot reads every library from disk).
        app_start(env)
        apps = [app_start(env) for _ in range(args.runs)]
        score = [
            timed([*_coach(), "score", "--category", "failed-match", "--text", "-"], env, ANSWER)
            for _ in range(args.runs)
        ]
        helps = [timed([*_coach(), "--help"], env) for _ in range(args.runs)]
    paint = [a["first_paint_s"] for a in apps]
    ready = [a["model_ready_s"] for a in apps]
    report = {
        "benchmark": "startup",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": args.runs,
        "app_first_paint_s": round(statistics.median(paint), 3),
        "app_first_paint_max_s": round(max(paint), 3),
        "app_model_ready_s": round(statistics.median(ready), 3),
        "cli_score_s": round(statistics.median(score), 3),
        "cli_help_s": round(statistics.median(helps), 3),
        "targets": {"app_first_paint_s": 1.0},
        "meets": {"app_first_paint_lt_1s": statistics.median(paint) < 1.0},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
