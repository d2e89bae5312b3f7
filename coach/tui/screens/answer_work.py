"""The interview screen's thread workers: opening the microphone, finishing a spoken answer
(transcript, score, save) and scoring a typed one, each posting a typed message back.

Split from :mod:`coach.tui.screens.interview` (which drives the flow) so each reads in one
sitting; the workers call the application core (:class:`coach.core.session.PracticeSession`)
and never touch widgets: what they learn reaches the screen only as messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from coach.core.capture import Abandoned
from coach.core.plan import PlanItem
from coach.core.session import NoSpeech, PracticeSession
from coach.errors import CoachError
from coach.tui.messages import AnswerFailed, AnswerReady, CaptureFailed, CaptureStarted
from coach.tui.quitting import AnswerOnQuit, saved_note
from coach.tui.services import Capture

if TYPE_CHECKING:
    from pathlib import Path

    from coach.tui.app import CoachApp


class AnswerWork(Screen[int]):
    """The workers and the core objects they share; :class:`InterviewScreen` sets the state."""

    mode: str
    _practice: PracticeSession | None
    _quitting: AnswerOnQuit | None

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    @property
    def quitting(self) -> AnswerOnQuit:
        """What becomes of the answer under way if the app is asked to quit."""
        if self._quitting is None:
            app = self.coach
            self._quitting = AnswerOnQuit(app.closing_notes, app.kept_recordings, app.settled)
        return self._quitting

    @work(thread=True, exclusive=False, group="capture")
    def start_capture(self, capture: Capture, token: int) -> None:
        try:
            capture.start()
        except CoachError as exc:
            # Only the "what": the notification gives the next step itself (typing is open).
            self.post_message(CaptureFailed(token, exc.message))
        except Exception as exc:  # a driver or model crash must not take the app down
            self.post_message(CaptureFailed(token, f"recording could not start ({exc})"))
        else:
            self.post_message(CaptureStarted(token))

    @property
    def practice(self) -> PracticeSession:
        """The core's practice session: scores, starts the history session, saves."""
        if self._practice is None:
            services = self.coach.services
            self._practice = PracticeSession(services.history, self.mode, scorer=services.score)
        return self._practice

    @property
    def session_id(self) -> int | None:
        return self._practice.session_id if self._practice else None

    @work(thread=True, group="finish")
    def finish_capture(self, capture: Capture, item: PlanItem, token: int) -> None:
        kept: Path | None = None
        if not self.quitting.claim():
            return  # a second quit came first and stopped it (see close_after_answer)
        try:
            result = capture.stop()
            kept = result.audio_path
            attempt = self.practice.spoken(
                item.question, result.transcript, result.audio_path, result.note
            )
        except Abandoned:
            # A second quit: the app is closing already; the WAV is named after it has.
            self.quitting.settle_abandoned()
            return
        except NoSpeech:
            where = f"; the recording is kept at {kept}" if kept else ""
            self.quitting.settle(f"note: no words were heard in the answer you were giving{where}")
            self.post_message(
                AnswerFailed(
                    token,
                    "We didn't catch any words in that answer (the recording is kept). "
                    "Press r to try again, or t to type it.",
                )
            )
            return
        except CoachError as exc:
            self.quitting.settle(f"note: the answer you were giving could not be scored: {exc}")
            self.post_message(AnswerFailed(token, f"{exc}. Press r to try again, or t to type it."))
            return
        except Exception as exc:
            self.quitting.settle(
                f"note: the answer you were giving could not be transcribed ({exc}); "
                f"the recording is kept{f' at {kept}' if kept else ''}"
            )
            self.post_message(
                AnswerFailed(
                    token,
                    f"Something went wrong while transcribing ({exc}); the recording is kept. "
                    "Press r to try again, or t to type it.",
                )
            )
            return
        self.quitting.settle(saved_note(attempt))
        self.post_message(AnswerReady(token, attempt))

    @work(thread=True, group="finish")
    def score_typed(self, text: str, item: PlanItem, token: int) -> None:
        try:
            attempt = self.practice.typed(item.question, text)
        except CoachError as exc:
            self.quitting.settle(f"note: your typed answer could not be scored: {exc}")
            self.post_message(AnswerFailed(token, f"{exc}."))
            return
        except Exception as exc:
            self.quitting.settle(f"note: your typed answer could not be scored ({exc})")
            self.post_message(AnswerFailed(token, f"Scoring failed ({exc}); your text is kept."))
            return
        self.quitting.settle(saved_note(attempt))
        self.post_message(AnswerReady(token, attempt))
