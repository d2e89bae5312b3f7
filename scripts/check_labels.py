"""List near-identical corpus sentences whose tone labels disagree, for an annotator to review.

    make check-labels                        # cosine >= 0.85 (the default)
    python scripts/check_labels.py --min 0.8 # a wider net

The corpus was written in batches months apart (corpus/ANNOTATION.md); a sentence labelled
``blame`` in one batch and its near twin labelled calm in another teaches the readers two
things at once. Sentences are compared by the published encoder's embeddings (not the tuned
one, which was trained on these labels and would pull each label's sentences together), over
every split and the reserve set. A listed pair is not necessarily an error: the same words can
be an excuse after a failure and a plain fact elsewhere (the answer's other sentences decide);
the annotator reads both answers and fixes a label only by the guide. Labels of the test split
are reported, never changed to suit a model.

Whether each answer's ``factual_tone`` expectation follows its sentence labels is a test
(tests/test_scoring_semantic.py); this script is the slower, by-meaning half of the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coach.errors import CoachError  # noqa: E402
from coach.scoring.corpus import load_corpus, load_split  # noqa: E402
from coach.scoring.encoder import load_encoder  # noqa: E402


def conflicts(minimum: float) -> tuple[int, list[tuple[float, tuple[str, ...], tuple[str, ...]]]]:
    """(sentences compared, pairs at cosine >= ``minimum`` whose tone-risk labels differ), each
    pair as (cosine, (split, id, labels, text) of one side, the same of the other)."""
    corpus = REPO / "corpus"
    split = load_split(corpus / "split.toml")
    rows = [
        (split.get(a.id, "reserve"), a.id, s)
        for a in load_corpus(corpus) + load_corpus(corpus, "reserve")
        for s in a.sentences
    ]
    emb = load_encoder(tuned=False, graph="float").embed([r[2].text for r in rows], batch=32)
    risky = np.array([r[2].tone_risk for r in rows])
    sims = emb @ emb.T
    i, j = np.nonzero(np.triu(sims >= minimum, k=1) & (risky[:, None] != risky[None, :]))
    out = []
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        side = [
            (p, i, ", ".join(sorted(s.labels)) or "-", s.text) for p, i, s in (rows[a], rows[b])
        ]
        out.append((float(sims[a, b]), side[0], side[1]))
    return len(rows), sorted(out, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=0.85, help="cosine floor (default 0.85)")
    args = parser.parse_args()
    if not 0.0 < args.min <= 1.0:
        print(f"error: --min {args.min}: must be in (0, 1]; try 0.85", file=sys.stderr)
        return 2
    try:
        n, pairs = conflicts(args.min)
    except CoachError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{n} sentences; {len(pairs)} pairs at cosine >= {args.min} with differing tone labels")
    for sim, one, other in pairs:
        print(f"\n{sim:.3f}")
        for part, aid, labels, text in (one, other):
            print(f"  {part:<7} {aid:<9} [{labels}] {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
