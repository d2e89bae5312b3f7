"""Med-Peds Interview Coach: an offline rehearsal coach for Medicine-Pediatrics reapplicants.

The package is split in three layers, and the lower two never import Textual
(``tests/test_architecture.py`` enforces it):

* domain modules (``questions``, ``scoring``, ``store``, ``export``, ...): pure Python;
* ``coach.audio``: recording, audio files and speech-to-text engines;
* ``coach.tui``: the Textual app.

Importing the package switches onnxruntime's telemetry off (see :mod:`coach.ort`): this file runs
before any coach module, so no entry point can load onnxruntime with it on.
"""

from coach.ort import disable_telemetry as _disable_telemetry

_disable_telemetry()

__version__ = "0.1.0"
