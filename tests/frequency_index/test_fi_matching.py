"""The matcher's word-boundary rule on edge cases, and against a brute-force reading of the rule.

``Matcher`` checks boundaries once per text kind (ASCII or not) and keeps only the first valid
match of each form; these tests pin that it still finds exactly the entities (and mention
offsets) that the documented rule gives, one occurrence at a time.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from freq_unlearn.frequency_index import MatchOptions, count_facts
from freq_unlearn.frequency_index.matching import Matcher, build_term_index, is_word_char

from fi_helpers import write_jsonl_gz


def _reference(index, text: str) -> dict[int, list[int]]:
    """Entity -> sorted start offsets of its valid mentions, by str.find over every form."""
    found: dict[int, set[int]] = {}
    for form_id, form in enumerate(index.forms):
        start = text.find(form)
        while start >= 0:
            end = start + len(form)
            ok = not index.word_boundaries or not (
                (is_word_char(form[0]) and start > 0 and is_word_char(text[start - 1]))
                or (is_word_char(form[-1]) and end < len(text) and is_word_char(text[end])))
            if ok:
                for e in index.form_entities[form_id]:
                    found.setdefault(e, set()).add(start)
            start = text.find(form, start + 1)
    return {e: sorted(p) for e, p in found.items()}


FACTS = pd.DataFrame([
    {"fact_id": "f1", "subject": "Ann Lee", "object": "Rome"},
    {"fact_id": "f2", "subject": "Ann", "object": "Rome Street"},  # forms that are prefixes of others
    {"fact_id": "f3", "subject": "Lee Rome", "object": "A.L."},  # overlaps 'Ann Lee' / 'Rome'; ends in '.'
    {"fact_id": "f4", "subject": "王小明", "object": "北京"},  # unspaced script
    {"fact_id": "f5", "subject": "Zoë", "object": "_x1"},  # non-ASCII letter; '_' is a word character
])


def _entities(index, matcher, text):
    return sorted(matcher.entities(index.prepare(text)))


def _names(index, entities):
    forms = index.forms_of_entities()
    return sorted(forms[e][0] for e in entities)


@pytest.mark.parametrize("text, expected", [
    ("(Ann Lee), Rome.", ["Ann", "Ann Lee", "Rome"]),  # punctuation on both sides of a name
    ("Ann Leeds of Romeo", ["Ann"]),  # glued on the right: neither 'Ann Lee' nor 'Rome'
    ("XAnn Lee", []),  # glued on the left
    ("Ann Lee Rome Street", ["Ann", "Ann Lee", "Lee Rome", "Rome", "Rome Street"]),  # overlapping forms
    ("Ann Lee Rome Streets", ["Ann", "Ann Lee", "Lee Rome", "Rome"]),  # the longer form glued, the prefix not
    ("A.L.B and A.L.", ["A.L."]),  # 'A.L.' ends with '.', so the 'B' after it is no glue
    ("我认识王小明。住在北京市", ["北京", "王小明"]),  # unspaced: no boundary inside the script
    ("Mr王小明", ["王小明"]),  # a script change is a boundary
    ("Zoëx and Zoë", ["Zoë"]),  # non-ASCII text: the general rule, first mention glued
    ("Romeé and Zoë", ["Zoë"]),  # glued to a non-ASCII letter
    ("a_x1 b _x1", ["_x1"]),
    ("", []),
])
def test_boundary_edge_cases(text, expected):
    index = build_term_index(FACTS)
    matcher = Matcher(index)
    assert _names(index, _entities(index, matcher, text)) == expected
    assert _names(index, matcher.positions(index.prepare(text))) == expected


def test_matcher_agrees_with_the_rule_read_one_occurrence_at_a_time():
    pieces = ["Ann", "Ann Lee", "Lee", "Rome", "Rome Street", "A.L.", "王小明", "北京", "Zoë", "_x1",
              " ", " ", ".", ",", "x", "s", "_", "é", "市", "1", "Ａｎｎ", "\u00a0", "\n"]
    rng = random.Random(7)
    for word_boundaries in (True, False):
        for casing in ("sensitive", "insensitive"):
            index = build_term_index(FACTS, MatchOptions(word_boundaries=word_boundaries, casing=casing))
            matcher = Matcher(index)
            for _ in range(400):
                text = index.prepare("".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))))
                expected = _reference(index, text)
                assert {e: sorted(set(p)) for e, p in matcher.positions(text).items()} == expected, text
                assert matcher.entities(text) == set(expected), text


def test_counts_on_edge_cases_through_the_scan(tmp_path):
    docs = [{"id": str(i), "text": t} for i, t in enumerate(
        ["(Ann Lee), Rome.", "Ann Leeds of Romeo", "Ann Lee Rome Streets", "Mr王小明在北京"])]
    write_jsonl_gz(tmp_path / "c" / "a.jsonl.gz", docs)
    counts = count_facts([str(tmp_path / "c")], FACTS, tmp_path / "o.parquet", progress=False).set_index("fact_id")
    assert counts.loc["f1", ["count", "subject_count", "object_count"]].tolist() == [2, 2, 2]
    assert counts.loc["f2", ["count", "subject_count", "object_count"]].tolist() == [0, 3, 0]
    assert counts.loc["f3", ["count", "subject_count", "object_count"]].tolist() == [0, 1, 0]
    assert counts.loc["f4", ["count", "subject_count", "object_count"]].tolist() == [1, 1, 1]


@pytest.mark.parametrize("match", [MatchOptions(), MatchOptions(casing="insensitive"), MatchOptions(normalization="none"),
                                   MatchOptions(aliases=False), MatchOptions(word_boundaries=False, normalization="nfc")])
def test_the_fast_term_index_is_the_general_one(small_world, match):
    from freq_unlearn.frequency_index.facts import load_facts
    from freq_unlearn.frequency_index.matching import _term_index_by_fact, _term_index_one_form_per_entity

    facts = load_facts(pd.concat([pd.read_parquet(small_world / "facts.parquet"), FACTS.assign(subject_aliases=[[]] * 5)]))
    facts.loc[len(facts)] = {**facts.iloc[0].to_dict(), "fact_id": "x1", "subject": "ann lee", "object": "Ｒｏｍｅ"}
    fast = _term_index_one_form_per_entity(facts, match)
    assert fast is not None
    assert fast.to_json_bytes() == _term_index_by_fact(facts, match).to_json_bytes()
    assert build_term_index(facts, match).to_json_bytes() == fast.to_json_bytes()


def test_aliases_and_paper_casing_take_the_general_path():
    from freq_unlearn.frequency_index.matching import _term_index_one_form_per_entity

    with_alias = FACTS.assign(subject_aliases=[["A. Lee"], [], [], [], []])
    assert _term_index_one_form_per_entity(with_alias, MatchOptions()) is None
    assert _term_index_one_form_per_entity(with_alias, MatchOptions(aliases=False)) is not None
    assert _term_index_one_form_per_entity(FACTS, MatchOptions(casing="paper")) is None
    assert len(build_term_index(with_alias).forms) == len(build_term_index(FACTS).forms) + 1
