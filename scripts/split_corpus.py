"""Assign each corpus answer to train, dev or test, once, and write corpus/split.toml.

An answer keeps the split it was given; only answers not yet in the file are assigned, so the
split never changes under a trained head or a reported figure. New answers are assigned per
stratum (category, label, form) in a fixed order (sorted by a hash of the id, so the order
does not follow how the writers numbered them), each to the split furthest below its share
(70 / 15 / 15 %) in that stratum. Deterministic: the same corpus gives the same file.

    python scripts/split_corpus.py            # corpus/ next to this script
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coach.scoring.corpus import SPLITS, load_corpus, load_split  # noqa: E402

SHARE = {"train": 0.70, "dev": 0.15, "test": 0.15}


def main() -> int:
    folder = REPO / "corpus"
    path = folder / "split.toml"
    answers = load_corpus(folder)
    split = load_split(path) if path.exists() else {}
    strata: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for a in answers:
        if a.id in split:
            strata[(a.category, a.label, a.form)][split[a.id]] += 1
    new = [a for a in answers if a.id not in split]
    new.sort(key=lambda a: hashlib.sha256(a.id.encode()).hexdigest())
    for a in new:
        counts = strata[(a.category, a.label, a.form)]
        n = sum(counts.values()) + 1
        # The split whose count is furthest below its share once this answer is added.
        choice = max(SPLITS, key=lambda s: (SHARE[s] * n - counts[s], SHARE[s]))
        counts[choice] += 1
        split[a.id] = choice
    known = {a.id for a in answers}
    lines = [
        "# Which corpus answers are train, dev and test. Written by scripts/split_corpus.py;",
        "# an answer keeps its split once given one. Never edit by hand; never tune on test.",
    ]
    for s in SPLITS:
        ids = sorted(i for i, v in split.items() if v == s)
        lines.append(f"{s} = [")
        lines.extend(f'  "{i}",' for i in ids)
        lines.append("]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gone = sorted(set(split) - known)
    tally = Counter(split[a.id] for a in answers)
    print(f"{len(new)} new answers assigned; {dict(tally)}", file=sys.stderr)
    if gone:
        print(
            f"note: {len(gone)} ids in the split are not in the corpus: {gone[:5]}", file=sys.stderr
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
