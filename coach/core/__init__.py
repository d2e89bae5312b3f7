"""The application core: one practice pipeline that the app and the CLI both call.

``coach.tui`` (the Textual app) and ``coach.commands`` (the click CLI) are thin front ends over
this package, as Harlequin's app and CLI share one execution core:

* :mod:`coach.core.speech` resolves the engine, model and input device from the settings
  (with command-line overrides) for every command, and keeps loaded engines for reuse;
* :mod:`coach.core.capture` records one answer from a microphone, or feeds a file, into the
  live transcriber, and finishes it without ever leaving a native decode running;
* :mod:`coach.core.session` scores an answer, applies the no-speech rule, starts the history
  session on first use, saves the attempt and returns it with the previous one;
* :mod:`coach.core.plan`, :mod:`coach.core.library` and :mod:`coach.core.media`: what a
  session asks, the question bank and history as the app reads them, and playback,
  text-to-speech and level tests.

Nothing here imports Textual (``lint-imports`` enforces the layers; see docs/architecture.md).
Heavy modules (engines, sounddevice, SQLite) are imported inside functions, off the UI thread.
"""
