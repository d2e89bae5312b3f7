"""The data-file helpers moved to :mod:`coach.datafile` (the shared layer, below scoring).

Kept so that scoring's modules keep their imports while scoring is being split; new code
imports :mod:`coach.datafile`.
"""

from coach.datafile import Checker, close_matches, did_you_mean, read_toml

__all__ = ["Checker", "close_matches", "did_you_mean", "read_toml"]
