"""Text normalisation for search: Vietnamese diacritic folding, Japanese bigrams, highlighting.

Pure functions; both the embedded engine and the query builder use them, so a
word is cut and folded the same way at indexing and at query time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Letters that NFKD does not decompose into a base letter plus a combining mark.
_SPECIAL_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ơ": "o", "ư": "u"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_WORD = re.compile(r"\w+", re.UNICODE)
HIGHLIGHT_PRE, HIGHLIGHT_POST = "<mark>", "</mark>"


# Every combining mark of the Basic Multilingual Plane, deleted by str.translate (C speed).
_DROP_COMBINING = dict.fromkeys(c for c in range(0x10000) if unicodedata.combining(chr(c)))


def fold(text: str) -> str:
    """Lower-case without diacritics: "Xử lý nước thải" → "xu ly nuoc thai", "Đường" → "duong"."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SPECIAL_FOLDS))
    return decomposed.translate(_DROP_COMBINING).translate(_SPECIAL_FOLDS)


# Telex spelling of Vietnamese marks: a vowel's shape follows the letter, the tone ends the word.
_SHAPE_MARKS = {"\u0302": "", "\u0306": "w", "\u031b": "w"}  # circumflex doubles the vowel; breve, horn
_TONE_MARKS = {"\u0300": "f", "\u0301": "s", "\u0309": "r", "\u0303": "x", "\u0323": "j"}


@lru_cache(maxsize=65_536)
def tone_key(word: str) -> str:
    """A word's ASCII spelling that keeps its marks (Telex: "đường" → "dduwowngf", "Dương" → "duwowng"),
    so an engine that folds every mark (Meilisearch) can still tell "đường" from "Dương"; a word
    without marks is its folded self."""
    tone = ""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", word.lower()):
        if char == "đ":
            out.append("dd")
        elif char in _SHAPE_MARKS:
            out.append(_SHAPE_MARKS[char] or (out[-1][-1:] if out else ""))
        elif char in _TONE_MARKS:
            tone = _TONE_MARKS[char]
        elif unicodedata.combining(char):
            continue
        else:
            out.append(char)
    return "".join(out) + tone


def tone_text(text: str) -> str:
    """The Telex keys of the text's marked words (unmarked words are already in the folded text)."""
    return " ".join(key for word in words(text) if (key := tone_key(word)) != fold_word(word))


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def words(text: str) -> list[str]:
    """Lower-cased words of Latin-script text (CJK runs are left to `cjk_bigrams`)."""
    found = _WORD.findall(text.lower())
    if not _CJK.search(text):  # most texts: no word to leave out, no per-word check
        return found
    return [w for w in found if not _CJK.search(w)]


def without_names(text: str, names: list[str]) -> str:
    """The text with every occurrence of the names (any case) blanked out: an owner's name says who
    speaks, not what about — an institute of animal husbandry offering a vaccine is not about husbandry."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare letter changed length when lower-cased: let `re` do it
        pattern = "|".join(re.escape(name) for name in sorted(filter(None, names), key=len, reverse=True))
        return re.sub(pattern, " ", text, flags=re.IGNORECASE) if pattern else text
    for name in sorted({name.lower() for name in names if name}, key=len, reverse=True):
        start = lowered.find(name)
        while start >= 0:  # literal search, no pattern to compile: matching does this for every candidate
            end = start + len(name)
            text = text[:start] + " " * len(name) + text[end:]
            lowered = lowered[:start] + " " * len(name) + lowered[end:]
            start = lowered.find(name, end)
    return text


_CJK_RUN = re.compile(f"(?:{_CJK.pattern})+")


def cjk_bigrams(text: str) -> list[str]:
    """Overlapping character pairs of each CJK run; a lone character stands for itself."""
    grams: list[str] = []
    for run in _CJK_RUN.findall(text):
        grams.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return grams


def cjk_text(text: str) -> str:
    """The text's CJK bigrams joined by spaces: what the bigram field indexes."""
    return " ".join(cjk_bigrams(text))


MIN_WORD_SIZE_ONE_TYPO = 4
MIN_WORD_SIZE_TWO_TYPOS = 8


def typo_distance(word: str) -> int:
    """Edits allowed for a word of this length: 4+ letters one ("oxyt" → "oxit"), 8+ letters two."""
    if len(word) >= MIN_WORD_SIZE_TWO_TYPOS:
        return 2
    if len(word) >= MIN_WORD_SIZE_ONE_TYPO:
        return 1
    return 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau–Levenshtein (adjacent transpositions), stopping early once past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class QueryTerms:
    """A query cut into what the engines match: folded words (the last one a prefix) and CJK bigrams."""

    raw_words: tuple[str, ...]
    folded_words: tuple[str, ...]
    bigrams: tuple[str, ...]
    last_is_prefix: bool
    # The bigrams of each CJK run apart: a run is one "word" of the query, matched or not as a whole.
    cjk_runs: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def parse(cls, query: str) -> QueryTerms:
        raw = tuple(words(query))
        prefix = bool(raw) and not query[-1:].isspace()  # still typing the last word
        runs = tuple(tuple(cjk_bigrams(run)) for run in _CJK_RUN.findall(query))
        return cls(raw, tuple(fold(w) for w in raw), tuple(cjk_bigrams(query)), prefix, runs)

    @property
    def has_marks(self) -> bool:
        """Does any word carry diacritics (so its exact spelling can be preferred)?"""
        return self.raw_words != self.folded_words

    def matches(self, token: str) -> bool:
        """Does a word of a text match one of the query's words (exactly, by prefix or with typos)?"""
        return _token_matches(fold_word(token), self.folded_words, self.last_is_prefix)


@lru_cache(maxsize=65_536)
def fold_word(token: str) -> str:
    """`fold` for one word, cached: the same words recur across texts."""
    return fold(token)


@lru_cache(maxsize=65_536)
def _token_matches(folded: str, query_words: tuple[str, ...], last_is_prefix: bool) -> bool:
    """Highlighting asks this for every word of every hit; the same words recur, so answers are cached."""
    for index, word in enumerate(query_words):
        if folded == word:
            return True
        if last_is_prefix and index == len(query_words) - 1 and folded.startswith(word):
            return True
        distance = typo_distance(word)
        if distance and edit_distance(folded, word, distance) <= distance:
            return True
    return False


def highlight(text: str, terms: QueryTerms) -> str | None:
    """The text with matched words (and CJK bigrams) wrapped in <mark>; None when nothing matched."""
    spans: list[tuple[int, int]] = []
    for match in _WORD.finditer(text):
        token = match.group(0)
        if not is_cjk(token) and terms.matches(token):
            spans.append(match.span())
    for gram in terms.bigrams:
        start = text.find(gram)
        while start != -1:
            spans.append((start, start + len(gram)))
            start = text.find(gram, start + 1)
    if not spans:
        return None
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, cursor = [], 0
    for start, end in merged:
        out += [_escape(text[cursor:start]), HIGHLIGHT_PRE, _escape(text[start:end]), HIGHLIGHT_POST]
        cursor = end
    out.append(_escape(text[cursor:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
