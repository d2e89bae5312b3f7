"""Med-Peds Interview Coach: an offline rehearsal coach for Medicine-Pediatrics reapplicants.

The package is split in three layers, and the lower two never import Textual
(``tests/test_architecture.py`` enforces it):

* domain modules (``questions``, ``scoring``, ``store``, ``export``, ...): pure Python;
* ``coach.audio``: recording, audio files and speech-to-text engines;
* ``coach.tui``: the Textual app.
"""

__version__ = "0.1.0"
