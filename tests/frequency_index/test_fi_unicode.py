"""Unicode: texts and facts normalised alike (NFKC + whitespace), word boundaries for unspaced scripts."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
from fi_helpers import write_jsonl_gz

from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index import LocalIndexOptions, MatchOptions, count_facts
from freq_unlearn.frequency_index.matching import normalize_text

KEYS = ["count", "subject_count", "object_count"]
NFD = unicodedata.normalize("NFD", "Zoë Amès")
DOCS = [
    {"id": "nfd", "text": f"{NFD} was born in Évora."},  # decomposed letters in the text
    {"id": "nbsp", "text": "Zoë\u00a0Amès moved to\u2003Évora."},  # no-break and em spaces
    {"id": "newline", "text": "Zoë\n  Amès, Évora"},
    {"id": "cjk", "text": "我认识王小明。王小明住在北京市。"},  # no spaces anywhere
    {"id": "cjk-glued", "text": "王小明在東京"},  # not Beijing
    {"id": "mixed", "text": "Mr王小明 and 北京市"},  # a script change is a boundary too
    {"id": "latin-glued", "text": "XZoë Amès of Évora"},  # still no match inside a Latin word
    {"id": "fullwidth", "text": "Ｚｏë Amès, Évora"},  # NFKC folds full-width letters
]
FACTS = pd.DataFrame([
    {"fact_id": "f1", "subject": "Zoë Amès", "object": "Évora"},  # NFC facts
    {"fact_id": "f2", "subject": "王小明", "object": "北京市"},
])


@pytest.fixture()
def corpus(tmp_path):
    write_jsonl_gz(tmp_path / "c" / "a.jsonl.gz", DOCS)
    return str(tmp_path / "c")


def test_scan_matches_nfd_nbsp_and_cjk(corpus, tmp_path):
    counts = count_facts([corpus], FACTS, tmp_path / "s.parquet", progress=False)
    assert counts.loc[0, KEYS].tolist() == [4, 4, 5]  # nfd, nbsp, newline, fullwidth; Évora also in latin-glued
    assert counts.loc[1, KEYS].tolist() == [2, 3, 2]  # cjk, mixed; cjk-glued has the name only


def test_facts_are_normalised_like_the_text(corpus, tmp_path):
    facts = pd.DataFrame([{"fact_id": "f1", "subject": unicodedata.normalize("NFD", "Zoë\u00a0Amès"),
                           "object": " Évora"}])
    counts = count_facts([corpus], facts, tmp_path / "s.parquet", progress=False)
    assert counts.loc[0, "count"] == 4


def test_without_normalisation_only_exact_forms_match(corpus, tmp_path):
    counts = count_facts([corpus], FACTS, tmp_path / "s.parquet", match=MatchOptions(normalization="none"),
                         progress=False)
    assert counts.loc[0, "count"] == 0  # no document writes "Zoë Amès" in NFC with a plain space
    assert counts.loc[1, "count"] == 2  # the CJK rule does not depend on normalisation


def test_local_index_agrees_with_scan(corpus, tmp_path):
    for casing in ("sensitive", "insensitive"):
        match = MatchOptions(casing=casing)
        scan = count_facts([corpus], FACTS, tmp_path / f"s-{casing}.parquet", match=match, progress=False)
        ig = count_facts([corpus], FACTS, tmp_path / f"i-{casing}.parquet", backend="infini-gram",
                         options=LocalIndexOptions(index_dir=tmp_path / f"idx-{casing}"), match=match, progress=False)
        assert scan[KEYS].values.tolist() == ig[KEYS].values.tolist()
    with pytest.raises(UserError, match="normalization=nfkc, which does not fit normalization=nfc"):
        count_facts([], FACTS, tmp_path / "x.parquet", backend="infini-gram",
                    options=LocalIndexOptions(index_dir=tmp_path / "idx-sensitive"),
                    match=MatchOptions(normalization="nfc"), progress=False)


def test_every_unicode_space_is_folded():
    from freq_unlearn.frequency_index.matching import WHITESPACE

    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()} - {" "}
    assert set(WHITESPACE) == spaces
    for space in spaces:
        assert normalize_text(f"a{space}b", "nfc") == "a b"


def test_normalize_text_rule():
    assert normalize_text("a\u00a0 b\tc\n", "nfkc") == "a b c"
    assert normalize_text("ﬁne", "nfkc") == "fine" and normalize_text("ﬁne", "nfc") == "ﬁne"
    assert normalize_text(unicodedata.normalize("NFD", "é"), "nfc") == "é"
    assert normalize_text("a  b", "none") == "a  b"
    with pytest.raises(UserError, match="unknown normalization 'nfd'"):
        MatchOptions(normalization="nfd")
