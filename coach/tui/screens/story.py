"""The "My story" form: the applicant's facts, written once, every field optional.

Saved as ``story.toml`` (0600) in the config folder; coverage, consistency and readiness read it
from there. Loading and saving run in thread workers.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Static

from coach.errors import CoachError
from coach.story.formfields import FIELDS, fields_to_story, story_to_fields


class StoryLoaded(Message):
    def __init__(self, values: dict[str, str] | None, error: str = "") -> None:
        super().__init__()
        self.values = values
        self.error = error


class StorySaved(Message):
    def __init__(self, path: str, error: str = "") -> None:
        super().__init__()
        self.path = path
        self.error = error


class StoryScreen(Screen[None]):
    """Fill in as much or as little as you like; ctrl+s saves."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="story-form"):
            yield Static(
                "Write your story once; every answer is checked against it. Every field is "
                "optional. Separate list items with ;",
                classes="hint",
            )
            for f in FIELDS:
                if not f.key:
                    yield Static(f.label, classes="section")
                    continue
                with Horizontal(classes="form-row"):
                    yield Label(f.label, classes="story-label")
                    yield Input(
                        placeholder=f.placeholder,
                        id=f"story-{f.key.replace('_', '-')}",
                        type="integer" if f.number else "text",
                        classes="story-input",
                    )
            yield Static("", id="story-status", classes="hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._load()

    def _input(self, key: str) -> Input:
        return self.query_one(f"#story-{key.replace('_', '-')}", Input)

    @work(thread=True, group="story")
    def _load(self) -> None:
        from coach.story.profile import load_story

        try:
            story = load_story()
        except CoachError as exc:
            self.post_message(StoryLoaded(None, str(exc)))
            return
        self.post_message(StoryLoaded(story_to_fields(story) if story else {}))

    @on(StoryLoaded)
    def loaded(self, message: StoryLoaded) -> None:
        status = self.query_one("#story-status", Static)
        if message.values is None:
            # Never overwrite a file the user may want to fix by hand.
            status.update(f"Your story file could not be read: {message.error}")
            self.notify(message.error, title="My story", severity="warning", timeout=12)
            return
        for key, value in message.values.items():
            self._input(key).value = value
        status.update("Loaded your story." if message.values else "No story yet.")

    def action_save(self) -> None:
        values = {f.key: self._input(f.key).value for f in FIELDS if f.key}
        try:
            story = fields_to_story(values)
        except CoachError as exc:
            self.query_one("#story-status", Static).update(str(exc))
            self.notify(str(exc), title="My story", severity="warning")
            return
        self._save(story)

    @work(thread=True, group="story")
    def _save(self, story: object) -> None:
        from coach.story.profile import StoryProfile, save_story

        assert isinstance(story, StoryProfile)
        try:
            path = save_story(story)
        except OSError as exc:
            self.post_message(StorySaved("", f"could not save ({exc.strerror or exc})"))
        else:
            self.post_message(StorySaved(str(path)))

    @on(StorySaved)
    def saved(self, message: StorySaved) -> None:
        status = self.query_one("#story-status", Static)
        if message.error:
            status.update(message.error)
            self.notify(message.error, title="My story", severity="error")
        else:
            status.update(f"Saved to {message.path}")
            self.notify("Saved. Your answers will be checked against it.", title="My story")
