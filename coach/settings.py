"""The user's settings: engine, model, microphone, timing overrides, export folder, preferences.

Stored as a small TOML file in :func:`coach.paths.config_dir` (``settings.toml``). ``tomllib``
only reads TOML, so the writer here is a tiny one for the flat keys we own. Writes are atomic
(temporary file + rename) so a crash never leaves a half-written file. An invalid file raises
:class:`~coach.errors.DataFileError` naming the file and the key; callers decide whether to fall
back to the defaults (the app does, and leaves the file alone until the user saves).
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import platformdirs

from coach import paths
from coach.errors import DataFileError

#: The speech engines, the default first (the commands, the engines and Settings share it).
ENGINES: tuple[str, ...] = ("faster-whisper", "whisper")
SETTINGS_FILE = "settings.toml"
# Timing overrides outside these bounds are almost certainly typos.
MIN_SECONDS = 0
MAX_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Settings:
    """What the user chose; ``None`` means "use the default" (bank timing, system microphone)."""

    engine: str = "faster-whisper"
    model: str = "embedded"  # the tiny.en model shipped with the app; or a name or path
    input_device: str | None = None  # a device name or index as text; None = system default
    think_s: int | None = None  # overrides every question's think time
    answer_s: int | None = None  # overrides every question's answer limit
    read_aloud: bool = False
    favour_weak: bool = True
    # The applicant's own name(s) and schools: the patient-detail guard never flags them.
    own_names: tuple[str, ...] = ()
    own_schools: tuple[str, ...] = ()
    export_dir: str | None = None  # where exports for a mentor go; None = default_export_dir()


def default_export_dir() -> Path:
    """Where exports go unless the user chose a folder: a ``medpeds-coach`` folder in their
    documents folder, or ``exports`` in the data folder when there is no documents folder."""
    documents = Path(platformdirs.user_documents_dir())
    if documents.is_dir() and documents != Path.home():
        return documents / paths.APP_NAME
    return paths.data_dir() / "exports"


def export_dir(settings: Settings) -> Path:
    """The export folder for ``settings`` (the user's choice, else the default), absolute."""
    if settings.export_dir:
        return Path(settings.export_dir).expanduser().absolute()
    return default_export_dir()


def settings_path() -> Path:
    """Where the settings live (the config dir is created if needed)."""
    return paths.config_dir() / SETTINGS_FILE


def _check_seconds(path: Path, key: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataFileError(
            f"{path}: key '{key}' must be a whole number of seconds, not {value!r}",
            f"fix or remove '{key}' in {path}",
        )
    if not MIN_SECONDS <= value <= MAX_SECONDS:
        raise DataFileError(
            f"{path}: key '{key}' = {value} is outside {MIN_SECONDS}–{MAX_SECONDS} seconds",
            f"fix or remove '{key}' in {path}",
        )
    return value


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    """Validate a decoded TOML table into :class:`Settings` (errors name ``path`` and the key)."""
    known = {f.name for f in fields(Settings)}
    for key in data:
        if key not in known:
            raise DataFileError(
                f"{path}: unknown key '{key}'",
                f"remove it; known keys are {', '.join(sorted(known))}",
            )
    default = Settings()
    engine = data.get("engine", default.engine)
    if engine not in ENGINES:
        raise DataFileError(
            f"{path}: key 'engine' = {engine!r} is not one of {', '.join(ENGINES)}",
            f"set engine to {ENGINES[0]!r} in {path}",
        )
    model = data.get("model", default.model)
    if not isinstance(model, str) or not model.strip():
        raise DataFileError(
            f"{path}: key 'model' must be a model name such as 'embedded' or 'base.en'",
            f"fix or remove 'model' in {path}",
        )
    device = data.get("input_device")
    if isinstance(device, int) and not isinstance(device, bool):
        device = str(device)
    if device is not None and not isinstance(device, str):
        raise DataFileError(
            f"{path}: key 'input_device' must be a device name or number",
            f"fix or remove 'input_device' in {path}",
        )
    export_dir = data.get("export_dir")
    if export_dir is not None and (not isinstance(export_dir, str) or not export_dir.strip()):
        raise DataFileError(
            f"{path}: key 'export_dir' must be a folder path such as '~/Documents'",
            f"fix or remove 'export_dir' in {path}",
        )
    flags: dict[str, bool] = {}
    for key in ("read_aloud", "favour_weak"):
        value = data.get(key, getattr(default, key))
        if not isinstance(value, bool):
            raise DataFileError(
                f"{path}: key '{key}' must be true or false, not {value!r}",
                f"fix or remove '{key}' in {path}",
            )
        flags[key] = value
    own: dict[str, tuple[str, ...]] = {}
    for key in ("own_names", "own_schools"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataFileError(
                f"{path}: key '{key}' must be a list of text, e.g. {key} = [\"...\"]",
                f"fix or remove '{key}' in {path}",
            )
        own[key] = tuple(" ".join(v.split()) for v in value if v.strip())
    return Settings(
        engine=engine,
        model=model.strip(),
        input_device=device or None,
        think_s=_check_seconds(path, "think_s", data.get("think_s")),
        answer_s=_check_seconds(path, "answer_s", data.get("answer_s")),
        read_aloud=flags["read_aloud"],
        favour_weak=flags["favour_weak"],
        own_names=own["own_names"],
        own_schools=own["own_schools"],
        export_dir=export_dir.strip() if export_dir else None,
    )


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings; a missing file gives the defaults, an invalid one raises DataFileError."""
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(
            f"{path}: not valid TOML ({exc})", "fix the file or delete it to use the defaults"
        ) from exc
    except OSError as exc:
        raise DataFileError(
            f"{path}: cannot be read ({exc.strerror})", "check its permissions"
        ) from exc
    return parse_settings(data, path)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "]"
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(str(value), ensure_ascii=False)


def dumps_settings(settings: Settings) -> str:
    """The TOML text for ``settings`` (unset optional values are left out)."""
    lines = ["# Med-Peds Interview Coach settings (edited by the app; safe to edit by hand)"]
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is None or value == ():
            continue
        lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` atomically (0600) and return the path."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps_settings(settings)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
