"""The real ``coach`` console script in tmux at 80x24, walked through a timed drill.

Runs ``scripts/tmux_drill.py`` (see its docstring for the steps): a person's keys go in with
``tmux send-keys``, the virtual microphone speaks, and every screen is read back with
``tmux capture-pane``. Skipped only when tmux is missing; ``make test`` installs it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coach.store import Store

pytestmark = [
    pytest.mark.tui,
    pytest.mark.tmux,
    pytest.mark.e2e,
    pytest.mark.audio,
    pytest.mark.slow,
]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "tmux_drill.py"
STEPS = [
    "home",
    "model-ready",
    "drill-set-up",
    "think-time-typed",
    "answer-time-typed",
    "think-time",
    "recording-started-by-itself",
    "level-meter-moves",
    "live-transcript",
    "gentle-warning",
    "review",
    "review-your-answer",
    "review-delivery-and-example",
    "review-example-answer-open",
    "home-with-progress",
    "quit",
]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_timed_drill_in_tmux_at_80x24(
    tmp_path: Path, session_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    coach = Path(sys.executable).parent / "coach"
    assert coach.exists(), f"{coach} is missing: the project is not installed in this venv"
    work = tmp_path / "walk"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--coach",
            str(coach),
            "--workdir",
            str(work),
            "--cache-dir",
            str(session_cache_dir),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    assert "OK: timed drill walked at 80x24" in done.stdout

    panes = sorted((work / "panes").glob("*.txt"))
    assert [p.stem.split("-", 1)[1] for p in panes] == STEPS
    for pane in panes[:-1]:  # the last one is the shell after the app quit
        lines = pane.read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 24, pane.name
        assert max(len(line) for line in lines) <= 80, pane.name
    review = (work / "panes" / "11-review.txt").read_text(encoding="utf-8")
    for name in ("Brevity", "Factual tone", "Growth focus", "Delivery"):
        assert name in review

    # The drill's answer is in the app's own SQLite history (its isolated data folder).
    monkeypatch.setenv("COACH_DATA_DIR", str(work / "data"))
    store = Store.open()
    try:
        attempts = store.attempts()
        assert len(attempts) == 1
        attempt = attempts[0]
        assert attempt.mode == "drill" and attempt.category == "failed-match"
        assert attempt.engine == "faster-whisper" and attempt.transcript is not None
        assert "research" in attempt.text.lower()
        assert attempt.audio_path is not None and attempt.audio_path.exists()
    finally:
        store.close()
