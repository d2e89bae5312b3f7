"""The settings screen: engine, model, microphone (with a level test), timings, read-aloud."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static, Switch

from coach.errors import CoachError
from coach.settings import ENGINES, Settings, save_settings
from coach.tui.messages import DevicesListed, LevelSample
from coach.tui.screens.pickers import parse_seconds
from coach.tui.widgets import LevelMeter

if TYPE_CHECKING:
    from coach.tui.app import CoachApp

DEFAULT_DEVICE = "__default__"


class SettingsScreen(Screen[None]):
    """Edit and save ``settings.toml``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+l", "level_test", "Level test"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.testing = False
        self.peak: float | None = None  # loudest level heard during the current level test

    @property
    def coach(self) -> CoachApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        s = self.coach.settings
        yield Header()
        with VerticalScroll(id="settings-form"):
            with Horizontal(classes="form-row"):
                yield Label("Engine", classes="form-label")
                yield Select(
                    [(e, e) for e in ENGINES], value=s.engine, allow_blank=False, id="engine"
                )
            with Horizontal(classes="form-row"):
                yield Label("Model", classes="form-label")
                yield Input(s.model, placeholder="embedded", id="model")
            with Horizontal(classes="form-row"):
                yield Label("Microphone", classes="form-label")
                yield Select(
                    [("System default", DEFAULT_DEVICE)]
                    + ([(s.input_device, s.input_device)] if s.input_device else []),
                    value=s.input_device or DEFAULT_DEVICE,
                    allow_blank=False,
                    id="device",
                )
            with Horizontal(classes="form-row"):
                yield Button("Test level (ctrl+l)", id="level-test")
                yield LevelMeter(id="settings-level")
            with Horizontal(classes="form-row"):
                yield Label("Think s", classes="form-label")
                yield Input(
                    "" if s.think_s is None else str(s.think_s),
                    placeholder="bank default",
                    id="think",
                    type="integer",
                )
                yield Label("Answer s", classes="form-label")
                yield Input(
                    "" if s.answer_s is None else str(s.answer_s),
                    placeholder="bank default",
                    id="answer",
                    type="integer",
                )
            with Horizontal(classes="form-row"):
                yield Label("Read aloud", classes="form-label")
                yield Switch(s.read_aloud, id="read-aloud")
                yield Label("Favour weak", classes="form-label")
                yield Switch(s.favour_weak, id="favour-weak")
            if not self.coach.services.speaker.available:
                yield Static(
                    "Read aloud needs espeak-ng (e.g. apt install espeak-ng); until then "
                    "questions are shown only.",
                    id="tts-hint",
                    classes="hint",
                )
            yield Button("Save (ctrl+s)", id="save", variant="primary")
            yield Static("", id="settings-status", classes="hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#engine", Select).focus()
        self.list_devices()

    @work(thread=True, group="devices")
    def list_devices(self) -> None:
        try:
            names = self.coach.services.list_devices()
        except CoachError as exc:
            self.post_message(DevicesListed([], str(exc)))
        except Exception as exc:
            self.post_message(DevicesListed([], f"could not list devices ({exc})"))
        else:
            self.post_message(DevicesListed(names))

    @on(DevicesListed)
    def devices_listed(self, message: DevicesListed) -> None:
        select = self.query_one("#device", Select)
        current = select.value
        names = list(message.names)
        chosen = self.coach.settings.input_device
        if chosen and chosen not in names:
            names.append(chosen)
        select.set_options([("System default", DEFAULT_DEVICE)] + [(n, n) for n in names])
        select.value = current if current in names or current == DEFAULT_DEVICE else DEFAULT_DEVICE
        if message.error:
            self.query_one("#settings-status", Static).update(
                f"No microphone list: {message.error}. Typed answers still work."
            )

    def current(self) -> Settings:
        """The form as Settings (ValueError explains a bad field)."""
        engine = self.query_one("#engine", Select).value
        device = self.query_one("#device", Select).value
        model = self.query_one("#model", Input).value.strip()
        if not model:
            raise ValueError("Model needs a name, such as embedded (the built-in tiny.en)")
        # Starts from the current settings so what this form does not show (the export
        # folder, chosen on the History screen) is kept when saving.
        return replace(
            self.coach.settings,
            engine=engine if isinstance(engine, str) else ENGINES[0],
            model=model,
            input_device=device if isinstance(device, str) and device != DEFAULT_DEVICE else None,
            think_s=parse_seconds(self.query_one("#think", Input).value, "Think time"),
            answer_s=parse_seconds(self.query_one("#answer", Input).value, "Answer time") or None,
            read_aloud=self.query_one("#read-aloud", Switch).value,
            favour_weak=self.query_one("#favour-weak", Switch).value,
        )

    @on(Button.Pressed, "#save")
    def save_pressed(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        try:
            new = self.current()
        except ValueError as exc:
            self.notify(str(exc), title="Settings", severity="warning")
            return
        try:
            path = save_settings(new)
        except OSError as exc:
            self.notify(
                f"Could not save the settings ({exc.strerror}); they apply until you quit.",
                title="Settings",
                severity="warning",
            )
            path = None
        self.coach.apply_settings(new)
        where = f" to {path}" if path else ""
        self.query_one("#settings-status", Static).update(f"Saved{where}.")
        self.notify("Settings saved.", title="Settings", timeout=3)

    @on(Button.Pressed, "#level-test")
    def level_pressed(self) -> None:
        self.action_level_test()

    def action_level_test(self) -> None:
        if self.testing:
            return
        try:
            settings = self.current()
        except ValueError as exc:
            self.notify(str(exc), title="Settings", severity="warning")
            return
        self.testing = True
        self.peak = None
        self.query_one("#settings-status", Static).update(
            "Listening for 3 seconds — say a few words…"
        )
        self.level_test(settings)

    @work(thread=True, group="level")
    def level_test(self, settings: Settings) -> None:
        try:
            for level in self.coach.services.level_test(settings, 3.0):
                self.post_message(LevelSample(level))
        except CoachError as exc:
            self.post_message(LevelSample(None, str(exc)))
            return
        except Exception as exc:
            self.post_message(LevelSample(None, f"the microphone could not be opened ({exc})"))
            return
        self.post_message(LevelSample(None))

    @on(LevelSample)
    def level_sample(self, message: LevelSample) -> None:
        meter = self.query_one("#settings-level", LevelMeter)
        if message.dbfs is not None:
            meter.level = message.dbfs
            self.peak = message.dbfs if self.peak is None else max(self.peak, message.dbfs)
            return
        self.testing = False
        status = self.query_one("#settings-status", Static)
        if message.error:
            status.update(f"Level test: {message.error}. Typed answers still work.")
            self.notify(message.error, title="Microphone", severity="warning")
            return
        peak = self.peak
        if peak is None or peak < -50:
            status.update("We heard almost nothing — check the microphone and its volume.")
        elif peak > -3:
            status.update("That's quite loud — move back a little or lower the input volume.")
        else:
            status.update("Sounds good — the microphone is working.")
