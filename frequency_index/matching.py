"""Which surface strings stand for each fact, and finding all of them in one pass per text.

Meanings (the same for every backend):

* An **entity** is a set of surface forms counted as one thing: a subject and its
  ``subject_aliases`` (or an object and its ``object_aliases``). A document *contains* an
  entity when any of its forms occurs in it.
* **casing** ``sensitive``: forms match exactly. ``insensitive``: forms and text are both
  lower-cased (``str.lower``) before matching. ``paper``: the sum over the four casing pairs
  that Krishnan et al. (2025) queried on Dolma through the infini-gram API
  (McGill-NLP/unequal-unlearning, OLMo_counts.ipynb): (Title, Title), (lower, lower),
  (as written, lower), (lower, as written) for (subject, object). Each pair is counted
  case-sensitively and the four counts are added, so a fact whose forms do not change under
  a casing is counted up to four times, as in the paper.
* **normalization** ``nfkc`` (default) or ``nfc``: texts and forms are both put in that Unicode
  normal form, and every run of whitespace (``str.isspace``: tabs, newlines, non-breaking
  spaces, ...) becomes one space, so ``Zoe\u0308`` (NFD) matches ``Zoë`` and ``Ann\u00a0Lee``
  matches ``Ann Lee``. ``none``: texts and forms are matched as written. Casing applies after.
* **word boundaries** (default on): a match must not be glued to a word character where the
  form itself starts or ends with one, so ``Ann`` does not match inside ``Anna``. Two characters
  are glued when both are word characters (``str.isalnum()`` or ``_``) of scripts written with
  spaces between words. Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao,
  Khmer, Myanmar, Tibetan, Yi, Bopomofo) have no word boundary to check: ``王小明`` matches in
  ``我认识王小明。`` Off: plain substring matching.
* **window** N (optional): a document counts for ``window_count`` when some subject mention and
  some object mention start at most N words apart (words are ``\\w+`` runs).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, fields

import pandas as pd

from .options import MatchOptions

_WORD_RE = re.compile(r"\w+")
# Every character for which str.isspace() holds, but the space (a test checks the list is complete).
_ASCII_SPACES = "\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
WHITESPACE = _ASCII_SPACES + (
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Code-point ranges of scripts written without spaces between words (see the module docstring).
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x31FF),  # Hiragana, Katakana, Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def fold_whitespace(text: str) -> str:
    """Every run of whitespace (``str.isspace``) -> one space. Each kind of space is first replaced
    one for one (``str.replace`` returns the same string at C speed when it is absent), and only a
    text that then holds two spaces in a row is split and joined: on 2 KB documents with newlines
    this took 28 us against 132 us for always splitting (a regex was slower still)."""
    for space in _ASCII_SPACES if text.isascii() else WHITESPACE:
        text = text.replace(space, " ")
    if "  " in text:
        text = " ".join(text.split())  # also strips the ends, which no match can depend on
    return text


def normalize_text(text: str, normalization: str) -> str:
    """The one normalisation applied to corpus texts and to fact forms alike."""
    if normalization == "none":
        return text
    if not text.isascii():
        text = unicodedata.normalize(normalization.upper(), text)
    return fold_whitespace(text)


def is_unspaced(ch: str) -> bool:
    code = ord(ch)
    return code >= 0x0E00 and any(lo <= code <= hi for lo, hi in _UNSPACED)


def _paper_variants(subject: str, obj: str) -> list[tuple[str, str]]:
    return [
        (subject.title(), obj.title()),
        (subject.lower(), obj.lower()),
        (subject, obj.lower()),
        (subject.lower(), obj),
    ]


def is_word_char(ch: str) -> bool:
    """A character that glues to a neighbouring one: alphanumeric or ``_``, of a spaced script."""
    return (ch.isalnum() or ch == "_") and not is_unspaced(ch)


@dataclass
class TermIndex:
    """Plain lists only: saved as JSON for the tasks, fingerprinted to tie partials to it."""

    forms: list[str]  # unique surface strings to search for (normalised, cased)
    form_entities: list[list[int]]  # form -> entities it belongs to
    n_entities: int
    pairs: list[tuple[int, int]]  # unique (subject entity, object entity)
    fact_pairs: list[list[int]]  # per fact (in facts order): pair ids whose counts are summed
    lowercase_text: bool
    word_boundaries: bool
    normalization: str = "nfkc"

    def fingerprint(self) -> str:
        if not getattr(self, "_fingerprint", None):
            payload = json.dumps([self.forms, self.form_entities, self.pairs, self.fact_pairs, self.lowercase_text,
                                  self.word_boundaries, self.normalization])
            self._fingerprint = hashlib.sha256(payload.encode()).hexdigest()[:16]
        return self._fingerprint

    def to_json(self) -> str:
        # not dataclasses.asdict: it deep-copies every list (12 s of a 100k-fact run)
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_json(cls, text: str) -> "TermIndex":
        data = json.loads(text)
        data["pairs"] = [tuple(p) for p in data["pairs"]]
        return cls(**data)

    def prepare(self, text: str) -> str:
        """A corpus text as the forms were made: normalised, then lower-cased where asked."""
        text = normalize_text(text, self.normalization)
        return text.lower() if self.lowercase_text else text

    def per_fact(self, pair_values) -> list[int]:
        """Sum per-pair values into per-fact values (a fact has one pair, or four with casing=paper)."""
        import numpy as np

        lengths = [len(ids) for ids in self.fact_pairs]
        pair_ids = np.fromiter((p for ids in self.fact_pairs for p in ids), dtype=np.int64, count=sum(lengths))
        totals = np.zeros(len(self.fact_pairs), dtype=np.int64)
        np.add.at(totals, np.repeat(np.arange(len(lengths)), lengths), np.asarray(pair_values, dtype=np.int64)[pair_ids])
        return totals.tolist()

    def fact_totals(self, entity_counts, pair_counts) -> tuple[list[int], list[int], list[int]]:
        """Sum entity and pair counts into per-fact (count, subject_count, object_count)."""
        import numpy as np

        entities = np.asarray(entity_counts, dtype=np.int64)
        pairs = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
        return self.per_fact(pair_counts), self.per_fact(entities[pairs[:, 0]]), self.per_fact(entities[pairs[:, 1]])

    def forms_of_entities(self) -> list[list[str]]:
        """Entity -> its forms (the OR-clause of an infini-gram query)."""
        forms_of: list[list[str]] = [[] for _ in range(self.n_entities)]
        for form_id, entities in enumerate(self.form_entities):
            for e in entities:
                forms_of[e].append(self.forms[form_id])
        return forms_of


def _cased_variants(subject_forms: list[str], object_forms: list[str], casing: str) -> list[tuple[list, list]]:
    if casing == "sensitive":
        return [(subject_forms, object_forms)]
    if casing == "insensitive":
        return [([f.lower() for f in subject_forms], [f.lower() for f in object_forms])]
    variants: list[tuple[list, list]] = [([], []) for _ in range(4)]  # paper: each casing pair on every form
    for s in subject_forms:
        for v, (s_cased, _) in enumerate(_paper_variants(s, "")):
            variants[v][0].append(s_cased)
    for o in object_forms:
        for v, (_, o_cased) in enumerate(_paper_variants("", o)):
            variants[v][1].append(o_cased)
    return variants


def build_term_index(facts: pd.DataFrame, match: MatchOptions | None = None) -> TermIndex:
    match = match or MatchOptions()
    entity_ids: dict[frozenset, int] = {}
    form_ids: dict[str, int] = {}
    form_entities: list[list[int]] = []
    pair_ids: dict[tuple[int, int], int] = {}
    fact_pairs: list[list[int]] = []

    def entity(forms: list[str]) -> int:
        key = frozenset(forms)
        if "" in key:  # an empty alias names nothing
            key = key - {""}
        if key not in entity_ids:
            entity_ids[key] = len(entity_ids)
            for form in sorted(key):
                if form not in form_ids:
                    form_ids[form] = len(form_ids)
                    form_entities.append([])
                form_entities[form_ids[form]].append(entity_ids[key])
        return entity_ids[key]

    normalized: dict[str, str] = {}  # objects repeat across facts: normalise each string once

    def forms_of(value: str, aliases) -> list[str]:
        forms = [value] + (list(aliases or []) if match.aliases else [])
        if match.normalization == "none":
            return forms
        for f in forms:
            if f not in normalized:
                normalized[f] = normalize_text(f, match.normalization).strip()
        return [normalized[f] for f in forms]

    no_aliases = [None] * len(facts)
    columns = [facts[c].tolist() if c in facts.columns else no_aliases
               for c in ("subject", "object", "subject_aliases", "object_aliases")]
    for subject, obj, subject_aliases, object_aliases in zip(*columns):  # lists: itertuples is slow on Arrow strings
        subject_forms = forms_of(subject, subject_aliases)
        object_forms = forms_of(obj, object_aliases)
        ids = []
        for s_forms, o_forms in _cased_variants(subject_forms, object_forms, match.casing):
            pair = (entity(s_forms), entity(o_forms))
            pair_ids.setdefault(pair, len(pair_ids))
            ids.append(pair_ids[pair])
        fact_pairs.append(ids)

    return TermIndex(
        forms=list(form_ids),
        form_entities=form_entities,
        n_entities=len(entity_ids),
        pairs=list(pair_ids),
        fact_pairs=fact_pairs,
        lowercase_text=match.casing == "insensitive",
        word_boundaries=match.word_boundaries,
        normalization=match.normalization,
    )


class Matcher:
    """Aho-Corasick over every form of every fact: one pass per document.

    The automaton is ahocorasick-rs (Rust): about 2.5x faster than pyahocorasick here, with
    the same overlapping matches; offsets are in characters of the Python string.
    """

    def __init__(self, index: TermIndex):
        import ahocorasick_rs

        self.index = index
        self.automaton = ahocorasick_rs.AhoCorasick(index.forms, matchkind=ahocorasick_rs.MatchKind.Standard)
        # per form: (must start at a word boundary, must end at one, entities it stands for)
        self.form_info = [
            (index.word_boundaries and is_word_char(form[0]), index.word_boundaries and is_word_char(form[-1]),
             index.form_entities[form_id])
            for form_id, form in enumerate(index.forms)
        ]
        # subject entity -> [(pair id, object entity)], to test co-occurrence only where it can occur
        self.pairs_by_subject: dict[int, list[tuple[int, int]]] = {}
        for pair_id, (s, o) in enumerate(index.pairs):
            self.pairs_by_subject.setdefault(s, []).append((pair_id, o))

    def find(self, text: str, positions: bool = False) -> dict[int, list[int]]:
        """Entities found in ``text`` (made by ``TermIndex.prepare``); with ``positions``, the start
        offsets of their mentions."""
        found: dict[int, list[int]] = {}
        n = len(text)
        info = self.form_info
        for form_id, start, end in self.automaton.find_matches_as_indexes(text, overlapping=True):
            left, right, entities = info[form_id]
            if not positions and len(entities) == 1 and entities[0] in found:
                continue  # a repeated mention: nothing new to learn, skip the boundary checks
            if left and start > 0:
                c = text[start - 1]
                if (c.isalnum() or c == "_") and not is_unspaced(c):
                    continue
            if right and end < n:
                c = text[end]
                if (c.isalnum() or c == "_") and not is_unspaced(c):
                    continue
            for e in entities:
                if positions:
                    found.setdefault(e, []).append(start)
                elif e not in found:
                    found[e] = []
        return found


def word_index(text: str):
    """A function mapping a character offset of a prepared text to the number of words started before it."""
    starts = [m.start() for m in _WORD_RE.finditer(text)]
    return lambda offset: bisect.bisect_right(starts, offset)


def within_window(a: list[int], b: list[int], window: int) -> bool:
    """Whether two sorted lists of word indices hold a pair at most ``window`` apart."""
    i = j = 0
    while i < len(a) and j < len(b):
        if abs(a[i] - b[j]) <= window:
            return True
        if a[i] < b[j]:
            i += 1
        else:
            j += 1
    return False
