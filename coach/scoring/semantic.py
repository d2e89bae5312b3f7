"""The semantic layer: what each sentence of an answer *does*, read by a small trained head.

Each segment of the answer (coach.scoring.segment) is embedded by the sentence encoder
(coach.scoring.encoder) and a logistic-regression head per label gives the probability that the
segment carries that label (the labels of corpus/ANNOTATION.md: blame, excuse, action, lesson,
the category's content points, ...). The head is trained by scripts/train_scorer.py and ships as
coach/scoring/data/semantic_head.npz with the corpus fingerprint, the label list, the decision
thresholds (calibrated on the corpus's dev split) and the encoder's SHA-256.

Run time needs numpy only (plus onnxruntime and tokenizers inside the encoder). When the encoder
or the head cannot load, :func:`read_answer` returns ``None`` and the scorer works on its rules
alone; :func:`unavailable` says why, once per process.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import CoachError
from coach.scoring.lexical import Lexical
from coach.scoring.segment import Segment, segments
from coach.scoring.text import Analysis

HEAD_FORMAT = 3
#: Labels that make a sentence cost factual tone, with the reason the coach gives.
TONE_REASONS = {
    "blame": "puts the cause on others",
    "excuse": "sounds like an excuse",
    "venting": "sounds bitter",
    "self_pity": "sounds defeated",
}
#: Growth group ids of the rubric, by the sentence label that delivers them.
GROWTH_GROUPS = {"lesson": "learned", "action": "actions", "plan": "plan", "strength": "pivot"}
GROWTH_REASONS = {
    "lesson": "a specific lesson",
    "action": "a concrete step since",
    "plan": "a forward plan",
    "strength": "what you bring now",
}

_lock = threading.Lock()
_state: dict[str, Any] = {}


def features(emb: np.ndarray) -> np.ndarray:
    """Each segment's embedding next to the mean of its neighbours' (the one before and the
    one after): "she was right" after "I was defensive" is not the same sentence alone. On
    the dev split this context lifted the tone head's sentence AUC from 0.90 to 0.92."""
    if len(emb) == 0:
        return np.zeros((0, 2 * emb.shape[1]), dtype=emb.dtype)
    prev = np.vstack([emb[:1], emb[:-1]])
    nxt = np.vstack([emb[1:], emb[-1:]])
    return np.hstack([emb, (prev + nxt) / 2])


def head_path() -> Path:
    return Path(__file__).parent / "data" / "semantic_head.npz"


@dataclass(frozen=True)
class Head:
    labels: tuple[str, ...]
    weights: np.ndarray  # (labels, dim)
    bias: np.ndarray  # (labels,)
    thresholds: dict[str, float]
    meta: dict[str, Any]
    #: The word n-gram reader (coach.scoring.lexical); its probability is averaged in.
    lexical: Lexical | None = None
    #: The encoder this head reads, when not the process's own (training reads each train
    #: answer with a head and encoder tuned without it); never saved.
    encoder: Any = None

    def index(self, label: str) -> int | None:
        try:
            return self.labels.index(label)
        except ValueError:
            return None

    def probs(self, feats: np.ndarray, texts: list[str]) -> np.ndarray:
        """(segments, labels) probabilities from the segments' features (:func:`features`)
        and their texts."""
        p = _sigmoid(product(feats, self.weights) + self.bias)
        if self.lexical is not None and len(texts):
            p = (p + _sigmoid(self.lexical.logits(texts))) / 2
        return p


def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T`` without BLAS. Why: numpy's OpenBLAS splits even these small products over
    its threads, which then spin for a while after; the encoder's next run (the next answer,
    the rewrite hint) shared the two cores with them and took ~15 ms longer on a 2-core
    AVX2 host. numpy's own loops do an answer's product in well under a millisecond."""
    return np.asarray(np.einsum("ij,kj->ik", a, b))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))


def save_head(path: Path, head: Head) -> None:
    meta = {**head.meta, "format": HEAD_FORMAT, "labels": list(head.labels)}
    meta["thresholds"] = {k: round(float(v), 4) for k, v in sorted(head.thresholds.items())}
    buf = path.open("wb")
    with buf:
        # Fixed member order and no timestamps inside, so the same training gives the same bytes.
        arrays: dict[str, np.ndarray] = {
            "weights": head.weights.astype(np.float32),
            "bias": head.bias.astype(np.float32),
            "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        }
        lex = head.lexical
        if lex is not None:
            # float16 halves the file; the weights are small L2-shrunk numbers.
            arrays["lex_vocab"] = np.frombuffer("\n".join(lex.vocab).encode(), dtype=np.uint8)
            arrays["lex_weights"] = lex.weights.astype(np.float16)
            arrays["lex_bias"] = lex.bias.astype(np.float32)
        np.savez(buf, **arrays)  # type: ignore[arg-type]


def load_head(path: Path | None = None) -> Head:
    path = path or head_path()
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            weights, bias = z["weights"], z["bias"]
            lexical = None
            if "lex_vocab" in z.files:
                vocab = tuple(bytes(z["lex_vocab"]).decode().split("\n"))
                lexical = Lexical(vocab, z["lex_weights"].astype(np.float32), z["lex_bias"])
    except (OSError, ValueError, KeyError) as e:
        raise CoachError(
            f"semantic head {path} cannot be read ({e})", "reinstall the coach"
        ) from None
    from coach.scoring.encoder import MODEL_SHA256, TOP_SHA256

    if (
        meta.get("format") != HEAD_FORMAT
        or meta.get("encoder_sha256") != MODEL_SHA256
        or meta.get("encoder_top_sha256") != TOP_SHA256
    ):
        raise CoachError(
            f"semantic head {path} was trained for another encoder or format",
            "run `make train-scorer`",
        )
    labels = tuple(meta["labels"])
    if weights.shape != (len(labels), weights.shape[1]) or bias.shape != (len(labels),):
        raise CoachError(f"semantic head {path} has mismatched shapes", "run `make train-scorer`")
    if lexical is not None and lexical.weights.shape != (len(labels), len(lexical.vocab)):
        raise CoachError(f"semantic head {path} has mismatched shapes", "run `make train-scorer`")
    return Head(labels, weights, bias, dict(meta["thresholds"]), meta, lexical)


@dataclass
class Reading:
    """The semantic layer's reading of one answer."""

    head: Head
    segments: list[Segment]
    probs: np.ndarray  # (segments, labels)
    category: str
    notes: list[str] = field(default_factory=list)

    def p(self, k: int, label: str) -> float:
        i = self.head.index(label)
        return 0.0 if i is None else float(self.probs[k, i])

    def t(self, name: str) -> float:
        return float(self.head.thresholds[name])

    def tone(self, k: int) -> tuple[float, str]:
        """The segment's tone risk and the reason for its likeliest tone label.

        A sentence that also reads as owning a cause, a lesson, an action or a plain statement
        of the setback is discounted by that much: "That was on me: I was commuting an hour"
        names a circumstance and owns it, which is what the guide asks for."""
        owned = max(self.p(k, lab) for lab in ("own_cause", "lesson", "action", "setback"))
        risk = self.p(k, "tone_risk") * (1.0 - owned)
        label = max(TONE_REASONS, key=lambda lab: self.p(k, lab))
        return risk, TONE_REASONS[label]

    def segment_at(self, start: int, end: int) -> int | None:
        """The segment holding the span's start."""
        for k, s in enumerate(self.segments):
            if s.start <= start < max(s.end, s.start + 1):
                return k
        return None


def _get_head() -> Head:
    with _lock:
        if "head" not in _state:
            _state["head"] = load_head()
        head: Head = _state["head"]
        return head


def unavailable() -> str | None:
    """Why the semantic layer is off in this process (after a failed load), else None."""
    with _lock:
        reason = _state.get("error")
        return None if reason is None else str(reason)


def read_answer(analysis: Analysis, category: str, head: Head | None = None) -> Reading | None:
    """Classify each segment of the answer; None when the encoder or head cannot load."""
    from coach.scoring.encoder import get_encoder

    with _lock:
        if "error" in _state:
            return None
    try:
        head = head or _get_head()
        enc = head.encoder if head.encoder is not None else get_encoder()
    except CoachError as e:
        with _lock:
            first = "error" not in _state
            _state["error"] = str(e)
        if first:  # said once per process; scoring goes on with the phrase rules
            print(
                f"note: semantic scoring is off ({e}); using the phrase rules alone",
                file=sys.stderr,
            )
        return None
    segs = segments(analysis)
    if not segs:
        return None
    texts = [s.text for s in segs]
    # The cache holds the process encoder's embeddings only.
    emb = enc.embed(texts) if head.encoder is not None else embed_cached(enc, texts)
    return Reading(head, segs, head.probs(features(emb), texts), category)


_emb_cache: dict[str, np.ndarray] = {}
_EMB_CACHE_MAX = 4096


def embed_cached(enc: Any, texts: list[str]) -> np.ndarray:
    """Embeddings, remembered per text (re-scoring an edited answer embeds only what changed)."""
    known = {t: _emb_cache[t] for t in dict.fromkeys(texts) if t in _emb_cache}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        new = dict(zip(missing, enc.embed(missing), strict=True))
        known.update(new)
        # Bounded: cleared before this answer's new texts go in (the answer uses ``known``).
        if len(_emb_cache) + len(new) > _EMB_CACHE_MAX:
            _emb_cache.clear()
        _emb_cache.update(new)
    return np.stack([known[t] for t in texts])
