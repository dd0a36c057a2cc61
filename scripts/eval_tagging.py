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


def segmented_vietnamese() -> None:
    """`--segment-vi`: measure Vietnamese word segmentation (underthesea, installed separately) as a
    guard on Vietnamese texts: a label counts only where it starts and ends on a word boundary the
    segmenter finds (as Sudachi's boundaries do for Japanese), so "thông quan" no longer tags inside
    "hệ thống quản lý". Only measured here; the tagger itself does not use it."""
    from underthesea import word_tokenize  # type: ignore[import-untyped]

    from app.matching import concepts
    from app.search.text import fold

    plain = concepts._latin_concepts
    word = concepts._WORD

    def guarded(text: str, index: concepts.ConceptIndex) -> set[str]:
        if concepts._CJK_LABEL_CHARS.search(text) or not any(ch in _VIETNAMESE for ch in text.lower()):
            return plain(text, index)  # Japanese or English: Sudachi or spaces already mark the words
        boundaries, position = {0}, 0
        for token in word_tokenize(text):
            position += len(word.findall(token))
            boundaries.add(position)
        if position != len(word.findall(text)):
            return plain(text, index)  # the two cut the text differently: no guard rather than a wrong one
        raw = word.findall(text)
        tokens = [fold(w.lower()) for w in raw]
        spans = [(i, i + 1, index.acronyms[w]) for i, w in enumerate(raw) if w in index.acronyms]
        for start in range(len(tokens)):
            for length in range(1, min(concepts.MAX_PHRASE_WORDS, len(tokens) - start) + 1):
                ids = index.phrases.get(tuple(tokens[start : start + length]))
                if ids and start in boundaries and start + length in boundaries:
                    spans.append((start, start + length, ids))
        return concepts._innermost_dropped(spans)

    concepts._latin_concepts = guarded


_VIETNAMESE = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def main() -> None:
    if "--segment-vi" in sys.argv:
        segmented_vietnamese()
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
