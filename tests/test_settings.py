"""Settings: TOML round trip, atomic private writes, and errors that name the file and key."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from coach.errors import DataFileError
from coach.settings import Settings, dumps_settings, load_settings, save_settings, settings_path


def test_missing_file_gives_defaults() -> None:
    assert load_settings() == Settings()


def test_round_trip_and_private_file() -> None:
    s = Settings(
        engine="whisper",
        model='my "quoted" model',
        input_device="USB Mic ünï",
        think_s=10,
        answer_s=45,
        read_aloud=True,
        favour_weak=False,
        export_dir="~/Documents/für mentor",
    )
    path = save_settings(s)
    assert path == settings_path()
    assert load_settings() == s
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".settings-")]


def test_unset_values_are_left_out() -> None:
    text = dumps_settings(Settings())
    data = tomllib.loads(text)
    assert "think_s" not in data and "input_device" not in data
    assert data["engine"] == "faster-whisper"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('engine = "parrot"\n', "engine"),
        ("think_s = -3\n", "think_s"),
        ('answer_s = "long"\n', "answer_s"),
        ('read_aloud = "yes"\n', "read_aloud"),
        ("colour = 3\n", "colour"),
        ("model = 5\n", "model"),
    ],
)
def test_invalid_values_name_file_and_key(content: str, key: str) -> None:
    path = settings_path()
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_settings()
    assert str(path) in str(info.value)
    assert key in str(info.value)
    assert path.read_text(encoding="utf-8") == content  # never overwritten


def test_broken_toml(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("engine = \n", encoding="utf-8")
    with pytest.raises(DataFileError, match="not valid TOML"):
        load_settings(path)


def test_device_index_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("input_device = 3\n", encoding="utf-8")
    assert load_settings(path).input_device == "3"


@pytest.mark.parametrize("value", ["export_dir = 3", 'export_dir = "  "'])
def test_export_dir_must_be_a_folder_path(value: str) -> None:
    path = settings_path()
    path.write_text(value + "\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_settings()
    assert str(path) in str(err.value) and "'export_dir'" in str(err.value)
