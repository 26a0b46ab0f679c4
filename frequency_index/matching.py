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
import functools
import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, fields

import pandas as pd

from .facts import gc_paused
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
    this took 28 us against 132 us for always splitting (a regex was slower still). A printable
    text (``str.isprintable``: no whitespace but the space) without two spaces in a row is returned
    as it is: most fact forms."""
    if text.isprintable() and "  " not in text:
        return text
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


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")  # is_word_char on ASCII


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
    if ch in _ASCII_WORD:
        return True
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
            self._fingerprint = hashlib.sha256(self.to_json_bytes()).hexdigest()[:16]
        return self._fingerprint

    def to_json_bytes(self) -> bytes:
        """UTF-8 JSON of every field (orjson: ~10x faster than json for 100k facts); made once, as the
        fingerprint is, so the index must not change after it is first saved or fingerprinted."""
        if getattr(self, "_json", None) is None:
            import orjson

            self._json = orjson.dumps({f.name: getattr(self, f.name) for f in fields(self)})
        return self._json

    def to_json(self) -> str:
        return self.to_json_bytes().decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> "TermIndex":
        import orjson

        data = orjson.loads(text)
        data["pairs"] = [tuple(p) for p in data["pairs"]]
        return cls(**data)

    def prepare(self, text: str) -> str:
        """A corpus text as the forms were made: normalised, then lower-cased where asked."""
        text = normalize_text(text, self.normalization)
        return text.lower() if self.lowercase_text else text

    def per_fact(self, pair_values):
        """Sum per-pair values into per-fact values (a fact has one pair, or four with casing=paper):
        an int64 array in facts order."""
        import numpy as np

        pair_ids, fact_of_pair = self._fact_pair_arrays()
        values = np.asarray(pair_values, dtype=np.int64)[pair_ids]
        if fact_of_pair is None:  # one pair per fact
            return values
        totals = np.zeros(len(self.fact_pairs), dtype=np.int64)
        np.add.at(totals, fact_of_pair, values)
        return totals

    def _fact_pair_arrays(self):
        """(pair id of each (fact, pair) entry in fact order, fact of each entry or None when every
        fact has exactly one pair), made once."""
        if getattr(self, "_pair_arrays", None) is None:
            import numpy as np

            lengths = np.fromiter(map(len, self.fact_pairs), dtype=np.int64, count=len(self.fact_pairs))
            if (lengths == 1).all():
                arrays = (np.fromiter((ids[0] for ids in self.fact_pairs), dtype=np.int64, count=len(lengths)), None)
            else:
                pair_ids = np.fromiter((p for ids in self.fact_pairs for p in ids), dtype=np.int64, count=int(lengths.sum()))
                arrays = (pair_ids, np.repeat(np.arange(len(lengths)), lengths))
            self._pair_arrays = arrays
        return self._pair_arrays

    def fact_totals(self, entity_counts, pair_counts):
        """Sum entity and pair counts into per-fact (count, subject_count, object_count) arrays."""
        import numpy as np

        entities = np.asarray(entity_counts, dtype=np.int64)
        # fromiter over the flattened pairs: np.asarray on 102k tuples took ~0.1 s
        pairs = np.fromiter(itertools.chain.from_iterable(self.pairs), dtype=np.int64,
                            count=2 * len(self.pairs)).reshape(-1, 2)
        return self.per_fact(pair_counts), self.per_fact(entities[pairs[:, 0]]), self.per_fact(entities[pairs[:, 1]])

    def forms_of_entities(self) -> list[list[str]]:
        """Entity -> its forms (the OR-clause of an infini-gram query)."""
        forms_of: list[list[str]] = [[] for _ in range(self.n_entities)]
        for form_id, entities in enumerate(self.form_entities):
            for e in entities:
                forms_of[e].append(self.forms[form_id])
        return forms_of


def _cased_variants(forms: list[str], casing: str, side: int) -> list[list[str]]:
    """One entity's forms under each casing variant: one variant, or four with casing=paper
    (``side`` 0: the subject's casing in each pair of ``_paper_variants``, 1: the object's)."""
    if casing == "sensitive":
        return [forms]
    if casing == "insensitive":
        return [[f.lower() for f in forms]]
    variants: list[list[str]] = [[] for _ in range(4)]  # paper: each casing pair on every form
    for f in forms:
        for v, cased in enumerate(_paper_variants(f, f)):
            variants[v].append(cased[side])
    return variants


def build_term_index(facts: pd.DataFrame, match: MatchOptions | None = None) -> TermIndex:
    match = match or MatchOptions()
    with gc_paused():
        index = _term_index_one_form_per_entity(facts, match)
        return index if index is not None else _term_index_by_fact(facts, match)


def _has_aliases(facts: pd.DataFrame) -> bool:
    return any(a is not None and len(a) > 0 for column in ("subject_aliases", "object_aliases")
               if column in facts.columns for a in facts[column].tolist())


def _term_index_one_form_per_entity(facts: pd.DataFrame, match: MatchOptions) -> TermIndex | None:
    """The common case (no aliases, casing ``sensitive`` or ``insensitive``: every entity is one
    form) with ``pd.factorize`` instead of a Python step per fact: the same index as
    ``_term_index_by_fact`` (ids in order of first appearance, subject before object; a test
    compares the two). None when the case does not apply."""
    import numpy as np

    if match.casing == "paper" or (match.aliases and _has_aliases(facts)):
        return None
    n = len(facts)
    values = np.empty(2 * n, dtype=object)
    values[0::2], values[1::2] = facts["subject"].tolist(), facts["object"].tolist()
    value_codes, unique_values = pd.factorize(values)
    if (value_codes < 0).any():
        return None
    forms = unique_values.tolist()
    if match.normalization != "none":
        forms = [normalize_text(f, match.normalization).strip() for f in forms]
    if match.casing == "insensitive":
        forms = [f.lower() for f in forms]
    if "" in forms:  # a form that normalises to nothing: the general path drops it
        return None
    form_codes, unique_forms = pd.factorize(np.asarray(forms, dtype=object))
    entities = form_codes[value_codes]
    n_entities = len(unique_forms)
    pair_codes, unique_pairs = pd.factorize(entities[0::2] * n_entities + entities[1::2])
    index = TermIndex(
        forms=unique_forms.tolist(),
        form_entities=[[e] for e in range(n_entities)],
        n_entities=n_entities,
        pairs=list(zip((unique_pairs // n_entities).tolist(), (unique_pairs % n_entities).tolist())),
        fact_pairs=[[p] for p in pair_codes.tolist()],
        lowercase_text=match.casing == "insensitive",
        word_boundaries=match.word_boundaries,
        normalization=match.normalization,
    )
    index._pair_arrays = (pair_codes.astype(np.int64), None)  # what _fact_pair_arrays would make
    return index


def _term_index_by_fact(facts: pd.DataFrame, match: MatchOptions) -> TermIndex:
    """Any facts and options (aliases, casing=paper): entities memoised per subject/object."""
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

    def entities_of(value: str, aliases, side: int) -> list[int]:
        """The entity ids of one subject or object (with its aliases), one per casing variant."""
        forms = [value] + (list(aliases or []) if match.aliases else [])
        if match.normalization != "none":
            forms = [normalize_text(f, match.normalization).strip() for f in forms]
        return [entity(cased) for cased in _cased_variants(forms, match.casing, side)]

    # Subjects and objects repeat across facts (an object such as a city in thousands of them):
    # each distinct (value, aliases) is normalised, cased and looked up once per side.
    memo: tuple[dict, dict] = ({}, {})

    def memo_entities(value: str, aliases, side: int) -> list[int]:
        key = (value, tuple(aliases)) if match.aliases and aliases is not None and len(aliases) else value
        found = memo[side].get(key)
        if found is None:
            found = memo[side][key] = entities_of(value, aliases, side)
        return found

    no_aliases = [None] * len(facts)
    columns = [facts[c].tolist() if c in facts.columns else no_aliases
               for c in ("subject", "object", "subject_aliases", "object_aliases")]
    for subject, obj, subject_aliases, object_aliases in zip(*columns):  # lists: itertuples is slow on Arrow strings
        subjects = memo_entities(subject, subject_aliases, 0)
        objects = memo_entities(obj, object_aliases, 1)
        ids = []
        for pair in zip(subjects, objects):
            pair_id = pair_ids.get(pair)
            if pair_id is None:
                pair_id = pair_ids[pair] = len(pair_ids)
            ids.append(pair_id)
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


_CHECK_START, _CHECK_END = 1, 2  # a form that begins / ends with a word character


def _scanner_type():
    """``_ascii_count.Scanner``, or None when the extension was not built (no C compiler when the
    package was installed)."""
    try:
        from ._ascii_count import Scanner
    except ImportError:
        return None
    return Scanner


def compiled_counter_built() -> bool:
    """Whether the compiled counter of ASCII texts was built when the package was installed."""
    return _scanner_type() is not None


def ascii_scanner(index: TermIndex):
    """The compiled counter of ASCII texts for ``index``, or None when it was not built: then every
    text goes through ``Matcher``, with the same counts, more slowly.

    It applies the same rule as ``Matcher`` to texts that are pure ASCII: there Unicode
    normalisation changes nothing, and casing and word characters are ASCII's. Forms that are not
    ASCII cannot occur in such a text and are left out of its trie."""
    scanner = _scanner_type()
    if scanner is None:
        return None
    return scanner(index.forms, index.form_entities, index.n_entities, [s for s, _ in index.pairs],
                   [o for _, o in index.pairs], index.word_boundaries, index.lowercase_text,
                   index.normalization != "none")


class Matcher:
    """Aho-Corasick over every form of every fact: one pass per document.

    The automaton is ahocorasick-rs (Rust): about 2.5x faster than pyahocorasick here, with
    the same overlapping matches; offsets are in characters of the Python string. ``scanner``
    (``ascii_scanner``) counts ASCII texts in compiled code when it was built; ``compiled=False``
    leaves it out. The automaton and the tables of the Python path are made on first use, so a
    corpus that is all ASCII never pays for them.
    """

    def __init__(self, index: TermIndex, compiled: bool = True):
        self.index = index
        self.scanner = ascii_scanner(index) if compiled else None
        self.form_entities = index.form_entities

    @functools.cached_property
    def automaton(self):
        import ahocorasick_rs

        return ahocorasick_rs.AhoCorasick(self.index.forms, matchkind=ahocorasick_rs.MatchKind.Standard)

    @functools.cached_property
    def form_checks(self) -> list[int]:
        """Per form: which of its ends must sit at a word boundary (_CHECK_START | _CHECK_END)."""
        if not self.index.word_boundaries:
            return [0] * len(self.index.forms)
        return [(_CHECK_START if is_word_char(form[0]) else 0) | (_CHECK_END if is_word_char(form[-1]) else 0)
                for form in self.index.forms]

    @functools.cached_property
    def pairs_by_subject(self) -> dict[int, list[tuple[int, int]]]:
        """Subject entity -> [(pair id, object entity)], to test co-occurrence only where it can occur."""
        pairs: dict[int, list[tuple[int, int]]] = {}
        with gc_paused():
            for pair_id, (s, o) in enumerate(self.index.pairs):
                pairs.setdefault(s, []).append((pair_id, o))
        return pairs

    @functools.cached_property
    def subjects(self) -> frozenset:
        return frozenset(self.pairs_by_subject)

    def _valid_matches(self, text: str, distinct: bool):
        """The automaton's overlapping matches (form id, start, end) that sit at word boundaries;
        with ``distinct``, only the set of forms with a valid match (all a document count needs:
        a form's later mentions are not checked)."""
        matches = self.automaton.find_matches_as_indexes(text, overlapping=True)
        seen: set[int] = set()
        if not matches:
            return seen if distinct else matches
        checks = self.form_checks
        glued = _ASCII_WORD.__contains__ if text.isascii() else is_word_char  # one test per text, not per match
        last = len(text) - 1
        valid = []
        for match in matches:
            form_id, start, end = match
            if distinct and form_id in seen:
                continue
            check = checks[form_id]
            if check:
                if check & _CHECK_START and start and glued(text[start - 1]):
                    continue
                if check & _CHECK_END and end <= last and glued(text[end]):
                    continue
            seen.add(form_id)
            valid.append(match)
        return seen if distinct else valid

    def entities(self, text: str) -> set[int]:
        """Entities found in ``text`` (made by ``TermIndex.prepare``)."""
        forms = self._valid_matches(text, True)
        return set(itertools.chain.from_iterable(map(self.form_entities.__getitem__, forms)))

    def positions(self, text: str) -> dict[int, list[int]]:
        """Entities found in ``text`` (made by ``TermIndex.prepare``), each with the start offsets of
        its mentions."""
        found: dict[int, list[int]] = {}
        for form_id, start, _ in self._valid_matches(text, False):
            for e in self.form_entities[form_id]:
                found.setdefault(e, []).append(start)
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
