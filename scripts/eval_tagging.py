"""Measure concept tagging on the labelled list (tests/data/tagging_labels.yaml).

    .venv/bin/python scripts/eval_tagging.py [--errors]

Prints micro-averaged precision and recall of `infer_concepts` against the
concepts a careful reader assigned, overall and per language, and the time
to tag the list; `--errors` lists each text's false positives and misses.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.matching.concepts import infer_concepts  # noqa: E402

LABELS = ROOT / "tests" / "data" / "tagging_labels.yaml"


@dataclass
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positive + self.false_negative
        return self.true_positive / expected if expected else 1.0


def load_labels() -> list[dict[str, object]]:
    return list(yaml.safe_load(LABELS.read_text(encoding="utf-8")))


def measure(labels: list[dict[str, object]], show_errors: bool = False) -> dict[str, Counts]:
    """Counts per language and for all ("all")."""
    counts: dict[str, Counts] = {"all": Counts()}
    for label in labels:
        expected = set(label["concepts"])  # type: ignore[call-overload]
        found = set(infer_concepts(str(label["text"])))
        for key in ("all", str(label["language"])):
            c = counts.setdefault(key, Counts())
            c.true_positive += len(found & expected)
            c.false_positive += len(found - expected)
            c.false_negative += len(expected - found)
        if show_errors and found != expected:
            print(f"{label['text']}\n   extra: {sorted(found - expected)}  missed: {sorted(expected - found)}")
    return counts


def main() -> None:
    labels = load_labels()
    infer_concepts("warm-up", "準備")  # build the index and load the analyser outside the timing
    counts = measure(labels, "--errors" in sys.argv)
    timings = []
    for label in labels:
        start = time.perf_counter()
        infer_concepts(str(label["text"]))
        timings.append((time.perf_counter() - start) * 1000)
    print(f"{len(labels)} labelled texts")
    print(f"{'language':<9} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for language, c in counts.items():
        print(
            f"{language:<9} {c.precision:>9.3f} {c.recall:>7.3f} "
            f"{c.true_positive:>4} {c.false_positive:>4} {c.false_negative:>4}"
        )
    timings.sort()
    p95 = timings[int(0.95 * len(timings))]
    print(f"tagging time per text: median {statistics.median(timings):.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
