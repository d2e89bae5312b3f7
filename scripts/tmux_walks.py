"""The walks after the timed drill (see ``scripts/tmux_drill.py``): solo rehearsal with a
spoken answer and a typed retry (word diff), a mock interview with a spoken and a typed answer,
history with per-question progress and an export into a chosen folder, settings with the level
test, help, and the command palette. Each waits for what a person would expect to see.
"""

from __future__ import annotations

import time
from pathlib import Path

from scripts.tmux_kit import StepFailed, Tmux, Walk, live_box, live_lines
from tests.virtual_mic import VirtualMic

# A typed retry that changes some words of the spoken answer, so the word diff has work to do.
TYPED_RETRY = (
    "I did not match last year because my list was too narrow and my letters came late. "
    "Since then I worked as a research coordinator and earned two strong letters. "
    "I am applying broadly this year and I am ready now."
)
TYPED_MOCK = (
    "Medicine-Pediatrics lets me care for patients across the whole lifespan. In my research "
    "year I followed young adults with heart disease as they moved to adult clinics, and I "
    "saw how much a physician trained in both can help them. I want to be that doctor."
)


def wrapped_lines(width: int) -> int:
    """How many lines of live transcript a ~20 s answer must fill at this width (it wraps)."""
    return 3 if width <= 80 else 2


def wait_spoken(mic: VirtualMic, timeout: float = 40) -> None:
    """Until the virtual microphone has played the whole answer on this connection."""
    spoken_end = mic.lead_in + len(mic.samples)
    deadline = time.monotonic() + timeout
    while mic.fed_frames < spoken_end and time.monotonic() < deadline:
        time.sleep(0.2)


def scroll_until(tmux: Tmux, text: str, presses: int = 14) -> bool:
    for _ in range(presses):
        if text in tmux.capture():
            return True
        tmux.keys("PageDown")
    return text in tmux.capture()


def walk_solo(tmux: Tmux, mic: VirtualMic, walk: Walk) -> None:
    """Solo rehearsal: a spoken answer that wraps in the live box, then a typed retry."""
    tmux.keys("s")
    walk.wait("solo picker", ("Search questions", "Enter to rehearse"), 10)
    tmux.keys("Enter")
    walk.wait("solo think time", ("Solo rehearsal · question 1 of 1", "Think 0:"), 10)
    tmux.keys("Space")  # start now
    walk.wait("solo recording", ("Answer ", "Recording —"), 60)
    lines = wrapped_lines(tmux.width)
    walk.wait(
        "solo live transcript wraps",
        lambda p: len(live_lines(p)) >= lines and "research" in live_box(p).lower(),
        60,
        lambda: f"(live box: {live_lines(walk.last)})",
    )
    wait_spoken(mic)
    tmux.keys("Space")
    walk.wait("solo review", ("Overall", "/ 100", "Criterion"), 120)
    tmux.keys("r")
    walk.wait("solo retry", ("Solo rehearsal · question 1 of 1", "Think 0:"), 10)
    tmux.keys("t")
    walk.wait("solo typing", "Type your answer, then ctrl+s", 10)
    tmux.text(TYPED_RETRY)
    tmux.keys("C-s")
    walk.wait("solo retry review", ("Overall", "since last time"), 30)
    if not scroll_until(tmux, "Since your last attempt"):
        walk.save("solo-word-diff-FAILED", tmux.capture())
        raise StepFailed("scrolling the review never showed 'Since your last attempt'")
    tmux.keys("PageDown")
    walk.wait("solo word diff", lambda p: "[-" in p and "{+" in p, 5)
    tmux.keys("Escape")
    walk.wait("solo back to picker", "Enter to rehearse", 10)
    tmux.keys("Escape")
    walk.wait("home after solo", ("Progress: 3 answers in 2 sessions", "Solo rehearsal"), 15)


def walk_mock(tmux: Tmux, mic: VirtualMic, walk: Walk) -> None:
    """Mock interview: the first answer spoken, the second typed, then end the session."""
    tmux.keys("m")
    walk.wait("mock think time", ("Mock interview · question 1 of", "Think 0:"), 10)
    tmux.keys("Space")
    walk.wait("mock recording", ("Answer ", "Recording —"), 60)
    walk.wait("mock live transcript", lambda p: len(live_lines(p)) >= 2, 60)
    tmux.keys("Space")  # stop mid-answer: what was said is transcribed and scored
    walk.wait("mock review", ("Overall", "/ 100", "n Next"), 120)
    tmux.keys("n")
    walk.wait("mock question 2", ("Mock interview · question 2 of", "Think 0:"), 10)
    tmux.keys("t")
    walk.wait("mock typing", "Type your answer, then ctrl+s", 10)
    tmux.text(TYPED_MOCK)
    tmux.keys("C-s")
    walk.wait("mock typed review", ("Overall", "/ 100", "n Next"), 30)
    tmux.keys("Escape")
    walk.wait("home after mock", ("Progress: 5 answers in 3 sessions", "Mock interview"), 15)


def walk_history(tmux: Tmux, walk: Walk, export_folder: Path) -> None:
    """History: per-question progress, a chosen export folder and an export into it."""
    tmux.keys("h")
    walk.wait(
        "history",
        ("5 answers in 3 sessions", "all questions mixed", "Latest  Best", "Export folder:"),
        15,
    )
    tmux.keys("f")
    walk.wait("export folder input", "Type a folder and press enter", 5)
    tmux.keys("C-u")
    tmux.text(str(export_folder))
    # A long path scrolls inside the field: its end is what shows.
    walk.wait(
        "export folder typed",
        lambda p: any("▊" in line and export_folder.name in line for line in p.splitlines()),
        5,
    )
    tmux.keys("Enter")
    walk.wait("export folder chosen", "saved in your settings", 5)
    tmux.keys("e")
    walk.wait("exported", ("Saved for your mentor:", "coach-session-"), 20)
    if not list(export_folder.glob("coach-session-*.md")):
        raise StepFailed(f"the export is not in {export_folder}")
    tmux.keys("Escape")
    walk.wait("home after history", ("Progress: 5 answers", "Mock interview"), 10)


def walk_settings_help_palette(tmux: Tmux, walk: Walk) -> None:
    """Settings with the microphone level test, help, and History from the command palette."""
    tmux.text(",")  # tmux sends the comma itself (a key name would be typed as text)
    walk.wait("settings", ("Engine", "Model", "Test level"), 10)
    tmux.keys("C-l")
    walk.wait("level test", "the microphone is working", 20)
    tmux.keys("Escape")
    walk.wait("home after settings", "Mock interview", 10)
    tmux.keys("F1")
    walk.wait("help", ("Where", "Keys", "Does", "ctrl+p"), 10)
    tmux.keys("Escape")
    walk.wait("home after help", "Mock interview", 10)
    tmux.keys("C-p")
    walk.wait("command palette", "Search for commands", 10)
    tmux.text("history")
    walk.wait("palette finds history", "Progress per question", 10)
    tmux.keys("Enter")
    walk.wait("history from palette", ("Latest  Best", "Export folder:"), 10)
    tmux.keys("Escape")
    walk.wait("home at the end", "Mock interview", 10)
