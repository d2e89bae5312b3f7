"""Med-Peds Interview Coach: an offline rehearsal coach for Medicine-Pediatrics reapplicants.

The package is layered; a module imports only from layers below its own (import-linter
contracts in pyproject.toml, run by ``make test``; docs/architecture.md draws them):

* front ends: ``coach.cli`` and ``coach.commands`` (click), ``coach.tui`` (Textual);
* ``coach.core``: the application core both front ends call (capture, practice session,
  engine/model/device from the settings);
* the domain: ``scoring``, ``store``, ``export``, ``history``, ``practice``; below it
  ``questions`` (the question bank);
* ``coach.audio``: recording, audio files and speech-to-text engines (its value types,
  ``Transcript`` and the ``Engine`` protocol, are its own lowest layer);
* shared: ``settings``, ``datafile``, ``paths``, ``resources``, ``errors``.

Only ``coach.tui`` imports Textual.

Importing the package switches onnxruntime's telemetry off (see :mod:`coach.ort`): this file runs
before any coach module, so no entry point can load onnxruntime with it on.
"""

from coach.ort import disable_telemetry as _disable_telemetry

_disable_telemetry()

__version__ = "0.1.0"
