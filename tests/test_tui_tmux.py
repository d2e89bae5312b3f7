"""The real ``coach`` console script in tmux, walked through every mode at 80x24 and 120x40.

Runs ``scripts/tmux_drill.py`` (see its docstring for the steps): a person's keys go in with
``tmux send-keys``, the virtual microphone speaks, and every screen is read back with
``tmux capture-pane``. A timed drill runs through to its limit, then a solo rehearsal (spoken,
then a typed retry with the word diff), a mock interview (spoken and typed), history with an
export into a chosen folder, settings with the level test, help and the command palette.
Skipped only when tmux is missing; ``make test`` installs it. About 1.5 minutes per size.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
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
DRILL_STEPS = [
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
]
OTHER_STEPS = [
    "solo-picker",
    "solo-think-time",
    "solo-recording",
    "solo-live-transcript-wraps",
    "solo-review",
    "solo-retry",
    "solo-typing",
    "solo-retry-review",
    "solo-word-diff",
    "solo-back-to-picker",
    "home-after-solo",
    "mock-think-time",
    "mock-recording",
    "mock-live-transcript",
    "mock-review",
    "mock-question-2",
    "mock-typing",
    "mock-typed-review",
    "home-after-mock",
    "history",
    "export-folder-input",
    "export-folder-typed",
    "export-folder-chosen",
    "exported",
    "home-after-history",
    "settings",
    "level-test",
    "home-after-settings",
    "help",
    "home-after-help",
    "command-palette",
    "palette-finds-history",
    "history-from-palette",
    "home-at-the-end",
]
STEPS = [*DRILL_STEPS, *OTHER_STEPS, "quit"]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_every_mode_in_tmux(
    size: tuple[int, int],
    tmp_path: Path,
    session_cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    width, height = size
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
            "--size",
            f"{width}x{height}",
            "--stop",
            "limit",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    assert f"OK: every mode walked at {width}x{height}" in done.stdout

    panes = sorted((work / "panes").glob("*.txt"))
    assert [p.stem.split("-", 1)[1] for p in panes] == STEPS
    for pane in panes[:-1]:  # the last one is the shell after the app quit
        lines = pane.read_text(encoding="utf-8").splitlines()
        assert len(lines) <= height, pane.name
        assert max(len(line) for line in lines) <= width, pane.name
    review = (work / "panes" / "11-review.txt").read_text(encoding="utf-8")
    for name in ("Brevity", "Factual tone", "Growth focus", "Delivery"):
        assert name in review
    diff = (work / "panes" / "24-solo-word-diff.txt").read_text(encoding="utf-8")
    assert "[-" in diff and "{+" in diff

    # The export is in the folder chosen on History, which the settings remember.
    folder = work / "for my mentor"
    assert list(folder.glob("coach-session-*.md"))
    settings = tomllib.loads((work / "config" / "settings.toml").read_text(encoding="utf-8"))
    assert settings["export_dir"] == str(folder)

    # Every answer is in the app's own SQLite history (its isolated data folder).
    monkeypatch.setenv("COACH_DATA_DIR", str(work / "data"))
    store = Store.open()
    try:
        attempts = store.attempts()
        drill = [a for a in attempts if a.mode == "drill"]
        assert len(drill) == 1
        attempt = drill[0]
        assert attempt.mode == "drill" and attempt.category == "failed-match"
        assert attempt.engine == "faster-whisper" and attempt.transcript is not None
        assert "research" in attempt.text.lower()
        assert attempt.audio_path is not None and attempt.audio_path.exists()
        by_mode = sorted((a.mode, a.engine) for a in attempts if a.mode != "drill")
        assert by_mode == [
            ("mock", "faster-whisper"),
            ("mock", "typed"),
            ("solo", "faster-whisper"),
            ("solo", "typed"),
        ]
    finally:
        store.close()
