"""Click parameter types shared by the commands: durations that are real, finite numbers.

``float`` lets ``nan``, ``inf`` and ``1e308`` through, and those crash deep inside the recorder
(``int(nan * rate)``). These types refuse them with the usual one-line error (exit 2); the CLI group turns a
:class:`~coach.errors.CoachError` raised while parsing into that line.
"""

from __future__ import annotations

import math
from typing import Any

import click

from coach.errors import CoachError

#: Longest recording a duration option accepts: a day (a 16 kHz mono WAV of ~2.8 GB).
MAX_SECONDS = 24 * 3600.0


class Duration(click.ParamType[float]):
    """Seconds as a finite number in a range (``positive``: above 0, else 0 allowed)."""

    name = "seconds"

    def __init__(self, *, positive: bool, maximum: float = MAX_SECONDS, example: str) -> None:
        self.positive = positive
        self.maximum = maximum
        self.example = example

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = click.FLOAT.convert(value, param, ctx)  # "'abc' is not a valid float."
        option = param.opts[0] if param is not None and param.opts else "the value"
        if not math.isfinite(number) or number < 0 or (self.positive and number == 0):
            what = "a positive number" if self.positive else "0 or more"
            raise CoachError(
                f"{option} must be {what}, got {value}", f"give e.g. {option} {self.example}"
            )
        if number > self.maximum:
            raise CoachError(
                f"{option} {value} is longer than the {self.maximum:g} s the coach allows",
                f"give e.g. {option} {self.example}",
            )
        return number


#: ``--seconds`` of ``record`` and ``rehearse``.
SECONDS = Duration(positive=True, example="90")
#: ``--silence`` of ``rehearse`` (0: never stop on silence).
SILENCE = Duration(positive=False, maximum=3600.0, example="6")
