"""The one door to onnxruntime: telemetry is switched off before the library can load.

onnxruntime (run by faster-whisper for its bundled Silero VAD) ships with telemetry on: when
loaded it keeps a device id and a queue of events (OS, CPU, process path) under
``~/.cache/Microsoft/DeveloperTools/.onnxruntime/`` and looks up a Microsoft host over DNS.
``onnxruntime.disable_telemetry_events()`` does not stop that; the environment variable
``ORT_DISABLE_TELEMETRY=1`` does, but only if it is set before onnxruntime is first imported.

So ``coach/__init__.py`` calls :func:`disable_telemetry` (it runs before any coach module, so
every entry point, the CLI, ``python -m coach`` and the app, is covered without relying on the
user's shell), and every project place that loads onnxruntime, directly or through
faster-whisper / CTranslate2, calls :func:`load` first. ``tests/test_architecture.py`` fails if a
module imports onnxruntime other than here, or if onnxruntime is ever imported with the variable
unset. This module stays import-light: it must not import onnxruntime at import time.
"""

from __future__ import annotations

import os
from types import ModuleType

TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"


def disable_telemetry() -> None:
    """Force ``ORT_DISABLE_TELEMETRY=1`` in this process (and the children it starts).

    Forced, not ``setdefault``: a user's ``ORT_DISABLE_TELEMETRY=0`` must not break the
    zero-network promise.
    """
    os.environ[TELEMETRY_ENV] = "1"


def load() -> ModuleType:
    """Import onnxruntime with telemetry off; call before faster-whisper's VAD or any ONNX use."""
    disable_telemetry()
    import importlib

    return importlib.import_module("onnxruntime")
