"""What becomes of the answer under way when the app is asked to quit (issue 16 item 2).

The interview screen asks the questions; this keeps the bookkeeping of a quit that arrives
while an answer is being recorded or finished (ctrl+q, or SIGTERM / SIGINT to the process):

* the exit code of the first request (a second one abandons the transcript);
* the capture being finished, so that a second request can make its ``stop()`` give up
  (and call it itself when the worker never got to run: Textual cancels workers that have
  not started when the app exits, which would leave the microphone open);
* the outcome, settled by the worker that finished the answer (saved, no words, failed,
  abandoned) and handed to the app once: a line for stderr and/or a kept WAV, told after
  the app has closed (:func:`coach.tui.app.run_app`).

The worker settles from its thread while the quit arrives on the UI thread, in either order;
a lock makes "already settled?" and "closing from now on" one step.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.core.session import AttemptResult
    from coach.tui.services import Capture


class AnswerOnQuit:
    """The state of one interview screen's answer with respect to quitting."""

    def __init__(self, notes: list[str], kept: list[Path], settled: threading.Event) -> None:
        self._notes = notes  # the app's: told on stderr after it closes
        self._kept = kept  # the app's: recordings kept and named after it closes
        # The app's: cleared while closing waits for the outcome, set once it is handed over
        # (an abandoning app may close before its worker has noticed; run_app waits on it).
        self._settled = settled
        self.code: int | None = None  # set once the app was asked to quit
        self.finishing: Capture | None = None
        self._kept_on_abandon: Path | None = None
        self._outcome: tuple[str, Path | None] | None = None
        self._claimed = False  # someone is stopping ``finishing``
        self._reported = False
        self._lock = threading.Lock()

    @property
    def closing(self) -> bool:
        return self.code is not None

    def start(self, capture: Capture | None) -> None:
        """A worker starts finishing an answer (``capture`` None for a typed one)."""
        with self._lock:
            self.finishing, self._outcome, self._claimed = capture, None, False

    def claim(self) -> bool:
        """True for the one caller that stops the capture being finished: its worker, or a
        second quit that came before the worker ran."""
        with self._lock:
            claimed, self._claimed = self._claimed, True
            return not claimed

    def close(self, code: int) -> bool:
        """Closing with ``code`` from now on; True if the answer's outcome is known already
        (then it is handed over here and the app can exit at once)."""
        with self._lock:
            self.code = code
            done = self._outcome is not None
            if not done:
                self._settled.clear()
        if done:
            self._report()
        return done

    def abandon(self) -> None:
        """A second quit: the running ``stop()`` gives up on the transcript (never blocks)."""
        # Under the lock: the worker, seeing the abandon, reads the path only once it is set.
        with self._lock:
            capture = self.finishing
            if capture is not None:
                with contextlib.suppress(Exception):  # the WAV is on disk whatever happens
                    self._kept_on_abandon = capture.abandon()

    def settle(self, note: str, kept: Path | None = None) -> None:
        """The worker's last step: what became of the answer (told only when closing)."""
        with self._lock:
            self._outcome = (note, kept)
            closing = self.code is not None
        if closing:
            self._report()

    def settle_abandoned(self) -> None:
        """The worker gave up on the transcript: the WAV is named after the app closes."""
        with self._lock:
            kept = self._kept_on_abandon
        self.settle("", kept)

    def _report(self) -> None:
        with self._lock:
            if self._reported or self._outcome is None:
                return
            self._reported = True
            note, kept = self._outcome
        if note:
            self._notes.append(note)
        if kept is not None:
            self._kept.append(kept)
        self._settled.set()


def saved_note(attempt: AttemptResult) -> str:
    """The line told after the app closed on an answer finished on the way out."""
    if not attempt.saved:
        return f"note: the answer you were giving was scored but not saved: {attempt.error}"
    return (
        f"note: the answer you were giving was saved before the app closed (attempt "
        f"{attempt.attempt_id}, overall {attempt.report.overall:.0f}/100); `coach history` "
        "lists it"
    )
