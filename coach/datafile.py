"""Reading and checking TOML data files with errors that name the file and the key.

A shared helper (the lowest layer, next to :mod:`coach.errors`): the question bank, the
rubrics, the labelled answers and the categories all read their TOML through it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from coach.errors import DataFileError


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file; syntax errors become :class:`DataFileError` with the line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError:
        raise DataFileError(
            f"{path}: is not UTF-8 text", "save the file as UTF-8 (plain text)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(
            f"{path}: invalid TOML ({exc})", "fix the syntax at that line and column"
        ) from exc
    except OSError as exc:
        raise DataFileError(
            f"{path}: cannot read the file ({exc.strerror or exc})",
            "check that it exists and is readable",
        ) from exc


def close_matches(
    word: str, choices: Iterable[str], limit: int = 3, score_cutoff: float = 55
) -> list[str]:
    """Up to ``limit`` choices that look like ``word`` (for "did you mean" hints)."""
    from rapidfuzz import process  # only when a hint is needed: keeps start-up light

    found = process.extract(word, list(choices), limit=limit, score_cutoff=score_cutoff)
    return [choice for choice, _, _ in found]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    options = list(choices)
    near = close_matches(word, options)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    return "choose one of: " + ", ".join(options)


class Checker:
    """Type checks for one file; every failure names ``file`` and the dotted key."""

    def __init__(self, path: Path | str) -> None:
        self.path = path

    def fail(self, key: str, problem: str, fix: str) -> DataFileError:
        return DataFileError(f"{self.path}: key '{key}' {problem}", fix)

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table", f"write it as [{key}] with key = value lines")
        return value

    def string(self, value: Any, key: str, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise self.fail(key, "must be a non-empty string", f'write {key} = "..."')
        return value

    def number(
        self, value: Any, key: str, *, lo: float | None = None, hi: float | None = None
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number", f"write {key} = 42")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(
                key,
                f"is {value}, outside {lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}",
                "use a value inside that range",
            )
        return float(value)

    def integer(self, value: Any, key: str, *, lo: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise self.fail(key, f"must be a whole number >= {lo}", f"write {key} = {max(lo, 1)}")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false", f"write {key} = true")
        return value

    def strings(self, value: Any, key: str, *, allow_empty: bool = True) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(
                key, "must be a list of non-empty strings", f'write {key} = ["...", "..."]'
            )
        if not allow_empty and not value:
            raise self.fail(key, "must not be empty", f'write {key} = ["..."]')
        return tuple(value)

    def pair(self, value: Any, key: str) -> tuple[float, float]:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            or value[0] > value[1]
            or value[0] < 0
        ):
            raise self.fail(
                key, "must be [low, high] with 0 <= low <= high", f"write {key} = [60, 90]"
            )
        return float(value[0]), float(value[1])

    def unknown(self, table: dict[str, Any], allowed: Iterable[str], prefix: str) -> None:
        allowed_set = list(allowed)
        for k in table:
            if k not in allowed_set:
                key = f"{prefix}.{k}" if prefix else k
                raise self.fail(key, "is not a known setting", did_you_mean(k, allowed_set))
