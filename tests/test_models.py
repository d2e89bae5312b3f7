"""The embedded model: integrity check, CTranslate2 reader, conversion, and offline errors."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from coach.audio import models
from coach.audio.engines import create_engine
from coach.errors import ModelError

pytestmark = [pytest.mark.audio, pytest.mark.slow]  # reads, converts and loads real Whisper weights


@pytest.fixture(scope="module")
def ct2() -> models.CT2Model:
    return models.read_ct2_model(models.embedded_model_dir() / "model.bin")


def tampered_copy(tmp_path: Path) -> Path:
    """A copy of the embedded model folder with one byte of model.bin flipped."""
    folder = tmp_path / "tampered-model"
    shutil.copytree(models.embedded_model_dir(), folder)
    model_bin = folder / "model.bin"
    data = bytearray(model_bin.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_bin.write_bytes(bytes(data))
    return folder


def test_embedded_model_verifies() -> None:
    folder = models.verify_embedded_model()
    assert (folder / "model.bin").is_file()
    assert models.file_sha256(folder / "model.bin") == models.EMBEDDED_SHA256


def test_reader_parses_every_variable(ct2: models.CT2Model) -> None:
    assert ct2.spec == "WhisperSpec" and ct2.revision == 3 and ct2.version == 6
    assert ct2.variables["decoder/embeddings/weight"].shape == (51864, 384)
    assert ct2.variables["encoder/position_encodings/encodings"].shape == (1500, 384)
    assert ct2.variables["encoder/layer_0/self_attention/linear_0/weight"].shape == (1152, 384)
    assert ct2.variables["decoder/layer_0/attention/linear_1/weight"].shape == (768, 384)
    assert int(ct2.variables["encoder/num_heads"]) == 6
    assert ct2.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}


def test_fused_key_bias_is_unused(ct2: models.CT2Model) -> None:
    # Whisper's key projections have no bias: the middle third of the fused bias is zero.
    bias = ct2.variables["encoder/layer_0/self_attention/linear_0/bias"]
    assert np.all(bias[384:768] == 0)
    assert np.any(bias[:384] != 0) and np.any(bias[768:] != 0)


def test_position_table_is_whispers_sinusoids(ct2: models.CT2Model) -> None:
    from whisper.model import sinusoids

    table = ct2.variables["encoder/position_encodings/encodings"].astype(np.float32)
    np.testing.assert_allclose(table, sinusoids(1500, 384).numpy(), atol=1e-3)


def test_conversion_matches_openai_whisper_layout(ct2: models.CT2Model) -> None:
    from whisper.model import ModelDimensions, Whisper

    dims, state = models.ct2_to_whisper_state(ct2)
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_vocab": 51864,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }
    reference = Whisper(ModelDimensions(**dims)).state_dict()
    assert set(state) == set(reference)
    for key, value in state.items():
        assert tuple(value.shape) == tuple(reference[key].shape), key


def test_checkpoint_is_cached_and_rebuilt_when_corrupt(tmp_path: Path) -> None:
    folder = models.verify_embedded_model()
    out = models.whisper_checkpoint_path(folder)
    assert out.parent.parent == Path(__import__("os").environ["COACH_CACHE_DIR"])
    model = models.load_whisper_from_ct2(folder)
    assert out.is_file()
    assert model.dims.n_vocab == 51864
    assert int(model.alignment_heads.to_dense().sum()) == 8  # from the model's config.json
    mtime = out.stat().st_mtime_ns
    models.load_whisper_from_ct2(folder)
    assert out.stat().st_mtime_ns == mtime  # reused, not converted again
    out.write_bytes(b"garbage")  # a truncated or damaged cache file
    model = models.load_whisper_from_ct2(folder)
    assert out.stat().st_size > 10_000_000
    assert model.dims.n_text_layer == 4
    assert not list(out.parent.glob("*.tmp"))


def test_tampered_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tampered_copy(tmp_path)
    monkeypatch.setenv("COACH_EMBEDDED_MODEL_DIR", str(folder))
    with pytest.raises(ModelError, match="failed its integrity check") as info:
        models.verify_embedded_model()
    assert "reinstall" in str(info.value)
    for engine in ("faster-whisper", "whisper"):
        with pytest.raises(ModelError, match="refusing to load"):
            create_engine(engine).load()


def test_missing_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "partial"
    shutil.copytree(models.embedded_model_dir(), folder)
    (folder / "tokenizer.json").unlink()
    monkeypatch.setenv("COACH_EMBEDDED_MODEL_DIR", str(folder))
    with pytest.raises(ModelError, match=r"tokenizer\.json is missing"):
        models.verify_embedded_model()


def test_truncated_model_bin_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes((models.embedded_model_dir() / "model.bin").read_bytes()[:5000])
    with pytest.raises(ModelError, match="truncated"):
        models.read_ct2_model(bad)


@pytest.mark.parametrize("engine", ["faster-whisper", "whisper"])
def test_named_model_offline_fails_fast_naming_the_default(engine: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(ModelError) as info:
        create_engine(engine, "base.en").load()
    assert time.monotonic() - t0 < 15
    message = str(info.value)
    assert "base.en" in message and models.EMBEDDED_NAME in message
    assert "\n" not in message


def test_named_model_without_offline_flag_still_fails_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No HF_HUB_OFFLINE: the reachability probe must notice there is no network.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(models, "network_reachable", lambda host, *a, **k: False)
    for engine in ("faster-whisper", "whisper"):
        with pytest.raises(ModelError, match="no network"):
            create_engine(engine, "small.en").load()


def test_network_probe_gives_up_within_its_timeout() -> None:
    t0 = time.monotonic()
    models.network_reachable("10.255.255.1", 443, timeout=1.0)  # unroutable
    assert time.monotonic() - t0 < 3


def test_unknown_whisper_name_and_missing_path() -> None:
    with pytest.raises(ModelError, match=r"unknown Whisper model 'huge\.en'"):
        create_engine("whisper", "huge.en").load()
    with pytest.raises(ModelError, match="does not exist"):
        create_engine("whisper", "/no/such/model.pt")


def test_model_path_kinds(tmp_path: Path) -> None:
    assert models.resolve_model(None).kind == "embedded"
    assert models.resolve_model("embedded").kind == "embedded"
    assert models.resolve_model(str(tmp_path)).kind == "path"
    assert models.resolve_model("base.en").kind == "name"
    with pytest.raises(ModelError, match="not a CTranslate2 model folder"):
        create_engine("faster-whisper", str(tmp_path)).load()
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match=r"cannot load Whisper checkpoint .*bogus\.pt"):
        create_engine("whisper", str(bogus)).load()
