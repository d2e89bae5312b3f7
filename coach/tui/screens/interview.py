"""The interview screen: one question at a time, think time, recording, live transcript.

It walks a plan (see :mod:`coach.core.plan`). For each question: a think-time countdown (the
question may be read aloud), then recording starts by itself with an answer-time countdown, a
gentle warning shortly before the limit and a stop at the limit. The user can stop early
(space), skip (s), retry (r) or type the answer instead (t) at any time; typing needs no
microphone and always works. Blocking work (opening the microphone, finishing the
transcript, scoring, saving) runs in thread workers that post typed messages back.

Quitting mid-answer (ctrl+q, or SIGTERM / SIGINT to the app, see
:meth:`InterviewScreen.close_after_answer`): the first request stops the recording, and the
answer is transcribed, scored and saved before the app closes; a second one abandons it (the
WAV is kept and named after the app closes). What became of it is told on stderr then;
the bookkeeping is :class:`coach.tui.quitting.AnswerOnQuit`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Static, TextArea

from coach.core.plan import PlanItem
from coach.core.session import PracticeSession
from coach.tui.messages import (
    AnswerFailed,
    AnswerReady,
    CaptureFailed,
    CaptureStarted,
)
from coach.tui.quitting import AnswerOnQuit
from coach.tui.screens.answer_work import AnswerWork
from coach.tui.services import Capture
from coach.tui.widgets import Countdown, LevelMeter, LiveTranscript

if TYPE_CHECKING:
    pass

MODE_TITLES = {"mock": "Mock interview", "drill": "Timed drill", "solo": "Solo rehearsal"}
TICK_S = 0.1
CATEGORY_LABELS = {
    "why-med-peds": "Why Med-Peds",
    "tell-me-about-yourself": "Tell me about yourself",
}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category) or category.replace("-", " ").capitalize()


class InterviewScreen(AnswerWork):
    """Asks the questions of a plan; dismisses with the number of answers saved."""

    # Short labels: the footer must fit 80 columns; check_action hides the ones that do not
    # apply right now (e.g. "Type" while typing, "Read" without espeak-ng).
    BINDINGS: ClassVar[list[BindingType]] = [
        # One key, three meanings; only the one that applies is enabled (and shown).
        Binding("space", "start_now", "Start now"),
        Binding("space", "stop", "Stop"),
        Binding("space", "again", "Record again"),
        Binding("ctrl+s", "submit_typed", "Submit"),
        Binding("t", "type_answer", "Type"),
        Binding("s", "skip", "Skip"),
        Binding("r", "retry", "Retry"),
        Binding("a", "read_aloud", "Read"),
        Binding("escape", "leave", "End"),
    ]

    def __init__(self, plan: list[PlanItem], mode: str) -> None:
        super().__init__()
        self.plan = plan
        self.mode = mode
        self.index = 0
        # think | starting | answer | paused | typing | typing-leaving | processing | review | done
        self._phase = "idle"
        self.phase_started = 0.0
        self.token = 0
        self.capture: Capture | None = None
        self.warned = False
        self.answers_saved = 0
        self._practice: PracticeSession | None = None
        self.typed_pending = False  # the answer being scored was typed
        self.tts_explained = False
        self._quitting: AnswerOnQuit | None = None

    @property
    def item(self) -> PlanItem:
        return self.plan[self.index]

    @property
    def phase(self) -> str:
        return self._phase

    @phase.setter
    def phase(self, value: str) -> None:
        if value != self._phase:
            self._phase = value
            self.refresh_bindings()  # the footer shows only the keys that work now

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        phase = self._phase
        typing = phase in ("typing", "typing-leaving")
        if action == "start_now":
            return phase == "think"
        if action == "stop":
            return phase == "answer"
        if action == "again":
            return phase == "paused"
        if action == "submit_typed":
            return typing
        if action == "type_answer":
            return phase in ("think", "starting", "answer", "paused")
        if action in ("skip", "retry"):
            return phase in ("think", "starting", "answer", "paused")
        if action == "read_aloud":
            return phase in ("think", "paused") and self.coach.services.speaker.available
        return True

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="interview-top"):
            yield Static(id="interview-progress")
            yield Static(id="question-text")
            yield Countdown(id="countdown")
            yield LevelMeter(id="level")
            yield Static(id="interview-status")
        with VerticalScroll(id="live-box") as live_box:
            live_box.border_title = "Live transcript"
            yield LiveTranscript(id="live")
        with Vertical(id="typed-box"):
            yield TextArea(id="typed", soft_wrap=True)
            yield Button("Submit typed answer (ctrl+s)", id="submit-typed", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        _ = self.practice  # made on the UI thread, before any worker needs it
        _ = self.quitting
        self.query_one("#typed-box").display = False
        self.set_interval(TICK_S, self.tick)
        self.begin_question()

    def on_unmount(self) -> None:
        # Quitting (ctrl+q) mid-answer: close the microphone and wait for the transcription
        # worker (no native decode may outlive the app); the WAV written so far stays on
        # disk and is named after the app exits.
        capture, self.capture = self.capture, None
        if capture is not None:
            kept = None
            with contextlib.suppress(Exception):
                kept = capture.cancel()
            if kept is not None:
                self.coach.kept_recordings.append(kept)
        self.coach.services.speaker.stop()

    # --- flow -------------------------------------------------------------------------

    def now(self) -> float:
        return self.coach.services.clock()

    def set_status(self, text: str, *, attention: bool = False) -> None:
        status = self.query_one("#interview-status", Static)
        status.update(text)
        status.set_class(attention, "attention")

    def begin_question(self) -> None:
        """Show the current question and start its think time."""
        item = self.item
        total = len(self.plan)
        kind = "follow-up" if item.follow_up_of else category_label(item.question.category)
        self.query_one("#interview-progress", Static).update(
            f"{MODE_TITLES.get(self.mode, self.mode)} · question {self.index + 1} of {total}"
            f" · {kind}"
        )
        self.query_one("#question-text", Static).update(item.question.text)
        self.query_one("#live", LiveTranscript).text = ""
        self.query_one(LevelMeter).level = None
        self.query_one("#typed-box").display = False
        self.query_one("#live-box").display = True
        self.query_one(LevelMeter).display = True
        self.warned = False
        self.token += 1
        self.phase = "think"
        self.phase_started = self.now()
        if item.think_s <= 0:
            self.begin_answer()
            return
        self.set_status(
            "Take a moment to think. Recording starts by itself — space to start now, "
            "t to type instead."
        )
        if self.coach.settings.read_aloud:
            self.read_aloud()
        self.tick()

    def begin_answer(self) -> None:
        """Open the microphone (in a worker); typing takes over if that is not possible."""
        self.coach.services.speaker.stop()
        if self.coach.model_state == "failed":
            self.notify(
                "Speech recognition is not available right now, so let's type this one. "
                "Settings has the engine and model choices.",
                title="Typing instead",
            )
            self.enter_typing()
            return
        self.token += 1
        self.phase = "starting"
        waiting = (
            " (the speech model is still loading)" if self.coach.model_state == "loading" else ""
        )
        self.set_status(f"Opening the microphone…{waiting}")
        self.query_one(Countdown).set("Answer", self.item.answer_s, self.item.answer_s)
        capture = self.coach.services.capture_factory(self.coach.settings)
        self.capture = capture
        self.start_capture(capture, self.token)

    @on(CaptureStarted)
    def capture_started(self, message: CaptureStarted) -> None:
        if message.token != self.token or self.phase != "starting":
            return
        self.phase = "answer"
        self.phase_started = self.now()
        self.set_status("Recording — speak when ready. Space to stop, t to type instead.")
        self.tick()

    @on(CaptureFailed)
    def capture_failed(self, message: CaptureFailed) -> None:
        if message.token != self.token:
            return
        self.capture = None
        self.notify(
            f"We couldn't record this time ({message.message}). Type your answer below; "
            "Settings has a microphone test.",
            title="Microphone",
            severity="warning",
            timeout=10,
        )
        self.enter_typing()

    def tick(self) -> None:
        """Advance the countdowns and refresh the live figures (runs on the UI thread)."""
        if self.phase == "think":
            remaining = self.item.think_s - (self.now() - self.phase_started)
            self.query_one(Countdown).set("Think", self.item.think_s, remaining)
            if remaining <= 0:
                self.begin_answer()
        elif self.phase == "answer" and self.capture is not None:
            elapsed = self.now() - self.phase_started
            remaining = self.item.answer_s - elapsed
            warn = elapsed >= self.item.warn_at_s
            self.query_one(Countdown).set("Answer", self.item.answer_s, remaining, warn)
            self.query_one(LevelMeter).level = self.capture.level_dbfs
            live = self.query_one("#live", LiveTranscript)
            heard = self.capture.live_text()
            # The live engine can report no text for a moment while it re-decodes a window;
            # the words already shown stay rather than flashing back to the placeholder.
            if heard.strip() or not live.text.strip():
                live.text = heard
            for warning in self.capture.take_warnings():
                self.notify(warning, title="Microphone", severity="warning")
            if warn and not self.warned:
                self.warned = True
                left = max(0, round(remaining))
                self.set_status(
                    f"About {left} seconds left — start bringing it to a close.", attention=True
                )
            if remaining <= 0:
                self.set_status("Time's up — that's the limit for this question.")
                self.stop_answer()

    def stop_answer(self) -> None:
        capture = self.capture
        if capture is None:
            return
        self.capture = None
        self.typed_pending = False
        self.phase = "processing"
        self.query_one(LevelMeter).level = None
        self.set_status("Finishing the transcript and scoring…")
        self.quitting.start(capture)
        self.finish_capture(capture, self.item, self.token)

    # --- quitting mid-answer ----------------------------------------------------------

    def close_after_answer(self, code: int) -> bool:
        """The app was asked to quit with exit ``code``; True when this screen closes it.

        While recording or finishing an answer, the first request stops the recording and
        lets the worker transcribe, score and save what was said; the app exits once it has.
        A second request abandons the transcript: the app exits now and the WAV is named
        after it closes. With no answer under way there is nothing to wait for (False).
        """
        quitting = self.quitting
        if quitting.code is not None:
            quitting.abandon()
            capture = quitting.finishing
            if capture is not None and quitting.claim():
                # The worker never ran (both keys came at once): stop here. Abandoned, stop()
                # closes the microphone and returns at once, leaving the tail undecoded.
                with contextlib.suppress(Exception):
                    capture.stop()
                quitting.settle_abandoned()
            self.coach.abandoned = True
            self.coach.exit(return_code=quitting.code)
            return True
        recording = self.phase == "answer" and self.capture is not None
        if not recording and self.phase != "processing":
            return False
        if recording:
            self.stop_answer()  # the worker starts finishing this answer (a fresh outcome)
        if quitting.close(code):  # the worker has finished already; its message is on the way
            self.coach.exit(return_code=code)
            return True
        self.set_status(
            "Saving your answer before closing… (ctrl+q again closes now; the recording is kept)",
            attention=True,
        )
        self.notify("Saving your answer before closing…", title="Closing", timeout=30)
        return True

    @on(AnswerFailed)
    def answer_failed(self, message: AnswerFailed) -> None:
        if self.quitting.code is not None:  # the outcome is told after the app closes
            self.coach.exit(return_code=self.quitting.code)
            return
        if message.token != self.token:
            return
        # A typed answer goes back to its (kept) text; a spoken one waits for r, t or space.
        self.phase = "typing" if self.typed_pending else "paused"
        self.set_status(message.message, attention=True)
        self.notify(message.message, title="Let's try that again", severity="warning", timeout=10)

    @on(AnswerReady)
    def answer_ready(self, message: AnswerReady) -> None:
        if self.quitting.code is not None:
            self.coach.exit(return_code=self.quitting.code)
            return
        if message.token != self.token:
            return
        from coach.tui.screens.review import ReviewScreen

        self.phase = "review"
        result = message.result
        if result.saved:
            self.answers_saved += 1
        if result.note:
            self.notify(result.note, title="Note", timeout=8)
        has_next = self.index + 1 < len(self.plan)
        if has_next:  # the planned follow-up listens to this answer (coach/tui/listening.py)
            from coach.tui.listening import listen

            nxt = self.index + 1
            self.plan[nxt] = listen(
                self.plan[nxt],
                result.question,
                result.report.text,
                self.coach.services.questions.get,
            )
        self.app.push_screen(ReviewScreen(result, has_next=has_next), self.after_review)

    def after_review(self, choice: str | None) -> None:
        if choice == "retry":
            self.begin_question()
        elif choice == "next" and self.index + 1 < len(self.plan):
            self.index += 1
            self.begin_question()
        else:
            self.finish()

    def finish(self) -> None:
        self.phase = "done"
        self.coach.services.speaker.stop()
        if self.answers_saved:
            plural = "answer" if self.answers_saved == 1 else "answers"
            self.notify(
                f"Session finished — {self.answers_saved} {plural} saved. Steady practice is "
                "what moves the needle.",
                title="Well done",
            )
        self.dismiss(self.answers_saved)

    # --- typing -----------------------------------------------------------------------

    def enter_typing(self) -> None:
        self.phase = "typing"
        self.token += 1
        self.query_one(LevelMeter).level = None
        self.query_one(LevelMeter).display = False  # no microphone in use while typing
        self.query_one(Countdown).set("Typing — no time limit", 0, 0)
        self.query_one("#live-box").display = False
        self.query_one("#typed-box").display = True
        self.set_status("Type your answer, then ctrl+s (or the button) to get feedback.")
        self.query_one("#typed", TextArea).focus()

    @on(Button.Pressed, "#submit-typed")
    def submit_pressed(self) -> None:
        self.action_submit_typed()

    def action_submit_typed(self) -> None:
        if self.phase not in ("typing", "typing-leaving"):
            return
        text = self.query_one("#typed", TextArea).text.strip()
        if not text:
            self.notify("Type a few sentences first — there's no rush.", title="Empty answer")
            return
        self.typed_pending = True
        self.phase = "processing"
        self.set_status("Scoring your typed answer…")
        self.quitting.start(None)
        self.score_typed(text, self.item, self.token)

    # --- actions ----------------------------------------------------------------------

    def _cancel_capture(self) -> None:
        capture, self.capture = self.capture, None
        if capture is not None:
            self.cancel_capture(capture)

    @work(thread=True, group="cancel")
    def cancel_capture(self, capture: Capture) -> None:
        # The recording is on disk already; a failing cancel has nothing more to lose.
        with contextlib.suppress(Exception):
            capture.cancel()

    def action_start_now(self) -> None:
        if self.phase == "think":
            self.begin_answer()

    def action_stop(self) -> None:
        if self.phase == "answer":
            self.stop_answer()

    def action_again(self) -> None:
        if self.phase == "paused":
            self.begin_question()

    def action_type_answer(self) -> None:
        if self.phase in ("think", "starting", "answer", "paused"):
            self._cancel_capture()
            self.coach.services.speaker.stop()
            self.enter_typing()

    def action_skip(self) -> None:
        if self.phase in ("processing", "review", "done"):
            return
        self._cancel_capture()
        self.coach.services.speaker.stop()
        if self.index + 1 < len(self.plan):
            self.index += 1
            self.notify("Skipped — you can come back to it any time.", timeout=3)
            self.begin_question()
        else:
            self.finish()

    def action_retry(self) -> None:
        if self.phase in ("processing", "review", "done"):
            return
        self._cancel_capture()
        self.begin_question()

    def read_aloud(self) -> None:
        speaker = self.coach.services.speaker
        if not speaker.available:
            if not self.tts_explained:  # once per session is enough
                self.tts_explained = True
                self.notify(
                    "Reading aloud needs espeak-ng (apt install espeak-ng); the questions "
                    "stay on screen.",
                    title="Read aloud",
                )
            return
        speaker.say(self.item.question.text)

    def action_read_aloud(self) -> None:
        if self.phase in ("think", "paused"):
            self.read_aloud()

    def action_leave(self) -> None:
        if self.phase == "typing" and self.query_one("#typed", TextArea).text.strip():
            # Don't throw away typed words by accident: first escape just leaves the box.
            self.set_status("Press escape again to end the session; ctrl+s submits your text.")
            self.phase = "typing-leaving"
            return
        if self.capture is not None:
            self.notify("Recording stopped; the audio file is kept.", timeout=4)
        self._cancel_capture()
        self.finish()
