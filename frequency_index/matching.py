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
* **word boundaries** (default on): a match must not be preceded or followed by a word
  character (``str.isalnum()`` or ``_``) where the form itself starts or ends with one, so
  ``Ann`` does not match inside ``Anna``. Off: plain substring matching.
* **window** N (optional): a document counts for ``window_count`` when some subject mention and
  some object mention start at most N words apart (words are ``\\w+`` runs).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import dataclass

import pandas as pd

CASINGS = ("sensitive", "insensitive", "paper")
_WORD_RE = re.compile(r"\w+")


def _paper_variants(subject: str, obj: str) -> list[tuple[str, str]]:
    return [
        (subject.title(), obj.title()),
        (subject.lower(), obj.lower()),
        (subject, obj.lower()),
        (subject.lower(), obj),
    ]


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass
class TermIndex:
    """Plain lists only, so datatrove can pickle it to every task cheaply."""

    forms: list[str]  # unique surface strings to search for
    form_entities: list[list[int]]  # form -> entities it belongs to
    n_entities: int
    pairs: list[tuple[int, int]]  # unique (subject entity, object entity)
    fact_pairs: list[list[int]]  # per fact (in facts order): pair ids whose counts are summed
    lowercase_text: bool
    word_boundaries: bool

    def fingerprint(self) -> str:
        if not getattr(self, "_fingerprint", None):
            payload = json.dumps(
                [self.forms, self.form_entities, self.pairs, self.fact_pairs, self.lowercase_text, self.word_boundaries]
            )
            self._fingerprint = hashlib.sha256(payload.encode()).hexdigest()[:16]
        return self._fingerprint

    def fact_totals(self, entity_counts, pair_counts) -> tuple[list[int], list[int], list[int]]:
        """Sum entity and pair counts into per-fact (count, subject_count, object_count)."""
        count, subj, obj = [], [], []
        for pair_ids in self.fact_pairs:
            count.append(int(sum(pair_counts[p] for p in pair_ids)))
            subj.append(int(sum(entity_counts[self.pairs[p][0]] for p in pair_ids)))
            obj.append(int(sum(entity_counts[self.pairs[p][1]] for p in pair_ids)))
        return count, subj, obj


def build_term_index(
    facts: pd.DataFrame, casing: str = "sensitive", aliases: bool = True, word_boundaries: bool = True
) -> TermIndex:
    if casing not in CASINGS:
        raise ValueError(f"unknown casing {casing!r}; choose one of {', '.join(CASINGS)}")
    entity_ids: dict[frozenset, int] = {}
    form_ids: dict[str, int] = {}
    form_entities: list[list[int]] = []
    pair_ids: dict[tuple[int, int], int] = {}
    fact_pairs: list[list[int]] = []

    def entity(forms: list[str]) -> int:
        key = frozenset(f for f in forms if f)
        if key not in entity_ids:
            entity_ids[key] = len(entity_ids)
            for form in sorted(key):
                if form not in form_ids:
                    form_ids[form] = len(form_ids)
                    form_entities.append([])
                form_entities[form_ids[form]].append(entity_ids[key])
        return entity_ids[key]

    for row in facts.itertuples(index=False):
        subject_forms = [row.subject] + (list(getattr(row, "subject_aliases", None) or []) if aliases else [])
        object_forms = [row.object] + (list(getattr(row, "object_aliases", None) or []) if aliases else [])
        if casing == "sensitive":
            variants = [(subject_forms, object_forms)]
        elif casing == "insensitive":
            variants = [([f.lower() for f in subject_forms], [f.lower() for f in object_forms])]
        else:  # paper: apply each casing pair to every form
            variants = [([], []) for _ in range(4)]
            for s in subject_forms:
                for v, (s_cased, _) in enumerate(_paper_variants(s, "")):
                    variants[v][0].append(s_cased)
            for o in object_forms:
                for v, (_, o_cased) in enumerate(_paper_variants("", o)):
                    variants[v][1].append(o_cased)
        ids = []
        for s_forms, o_forms in variants:
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
        lowercase_text=casing == "insensitive",
        word_boundaries=word_boundaries,
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
        """Entities found in ``text``; with ``positions``, the start offsets of their mentions."""
        if self.index.lowercase_text:
            text = text.lower()
        found: dict[int, list[int]] = {}
        n = len(text)
        info = self.form_info
        for form_id, start, end in self.automaton.find_matches_as_indexes(text, overlapping=True):
            left, right, entities = info[form_id]
            if not positions and len(entities) == 1 and entities[0] in found:
                continue  # a repeated mention: nothing new to learn, skip the boundary checks
            if left and start > 0:
                c = text[start - 1]
                if c.isalnum() or c == "_":
                    continue
            if right and end < n:
                c = text[end]
                if c.isalnum() or c == "_":
                    continue
            for e in entities:
                if positions:
                    found.setdefault(e, []).append(start)
                elif e not in found:
                    found[e] = []
        return found


def word_index(text: str, lowercase: bool):
    """A function mapping a character offset to the number of words started before it."""
    if lowercase:
        text = text.lower()
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
