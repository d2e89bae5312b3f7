"""Story consistency check: precision and recall on labelled answer pairs, as one JSON document.

* ``tuning``: tests/data/story_pairs.toml, the set the rules were written against.
* ``holdout``: tests/data/story_pairs_holdout.toml, written after the rules and never used to
  tune them (the honest figure).
* ``ms_per_pair``: median time to extract and compare the facts of one pair.

A pair counts as flagged when the check raises any flag. Usage:
``.venv/bin/python benchmarks/story.py``
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coach.story.consistency import compare_answers  # noqa: E402
from coach.story.pairs import evaluate, load_pairs  # noqa: E402

SETS = {
    "tuning": ROOT / "tests" / "data" / "story_pairs.toml",
    "holdout": ROOT / "tests" / "data" / "story_pairs_holdout.toml",
}


def main() -> None:
    out: dict[str, object] = {}
    all_pairs = []
    for name, path in SETS.items():
        pairs = load_pairs(path)
        all_pairs.extend(pairs)
        out[name] = evaluate(pairs)
    times = []
    for _ in range(3):
        for p in all_pairs:
            t0 = time.perf_counter()
            compare_answers(p.a, p.b)
            times.append((time.perf_counter() - t0) * 1000)
    out["ms_per_pair"] = round(statistics.median(times), 3)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
