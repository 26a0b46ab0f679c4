"""Bad corpus lines and bad facts: named in one line, skipped and counted, or fatal with --strict."""

from __future__ import annotations

import pandas as pd
import pytest
from fi_helpers import write_jsonl_gz

from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index import count_facts, read_provenance

FACTS = pd.DataFrame([{"fact_id": "f1", "subject": "Ivo Brand", "object": "Lisbon"}])


@pytest.fixture()
def dirty_corpus(tmp_path):
    write_jsonl_gz(
        tmp_path / "corpus" / "dirty.jsonl.gz",
        [
            {"id": "ok1", "text": "Ivo Brand lives in Lisbon."},
            b'{"id": "broken", "text": "Ivo Brand\n',  # malformed JSON
            {"id": "no-text", "body": "Ivo Brand lives in Lisbon."},
            b'{"id": "bad-utf8", "text": "Ivo Brand \xff\xfe Lisbon"}\n',
            {"id": "ok2", "text": "Lisbon again, with Ivo Brand."},
            {"id": "empty", "text": ""},
        ],
    )
    return tmp_path


def test_bad_lines_are_skipped_and_counted(dirty_corpus):
    out = dirty_corpus / "counts.parquet"
    counts = count_facts([str(dirty_corpus / "corpus")], FACTS, out, progress=False)
    assert counts.loc[0, "count"] == 2
    prov = read_provenance(out)
    assert prov["skipped_lines"] == 3 and prov["documents"] == 3
    examples = "\n".join(prov["skipped_line_examples"])
    assert "dirty.jsonl.gz:2: malformed JSON" in examples
    assert "dirty.jsonl.gz:3: missing or non-string 'text' field" in examples
    assert "dirty.jsonl.gz:4: invalid UTF-8" in examples


def test_strict_fails_on_the_first_bad_line_and_keeps_the_old_output(dirty_corpus):
    out = dirty_corpus / "counts.parquet"
    out.write_bytes(b"previous result")
    with pytest.raises(UserError, match=r"dirty\.jsonl\.gz:2: malformed JSON") as err:
        count_facts([str(dirty_corpus / "corpus")], FACTS, out, strict=True, progress=False)
    assert "\n" not in str(err.value)
    assert out.read_bytes() == b"previous result"
    assert not [p for p in dirty_corpus.iterdir() if p.name.startswith(".counts.parquet.tmp")]


def test_corpus_path_matching_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="missing.*matches nothing"):
        count_facts([str(tmp_path / "missing")], FACTS, tmp_path / "c.parquet", progress=False)
    with pytest.raises(UserError, match=r"matches no \.jsonl"):
        count_facts([str(tmp_path / "empty")], FACTS, tmp_path / "c.parquet", progress=False)
    with pytest.raises(UserError, match="matches nothing"):
        count_facts([str(tmp_path / "*.parquet")], FACTS, tmp_path / "c.parquet", progress=False)
    assert not (tmp_path / "c.parquet").exists()


def test_bad_facts_are_named(tmp_path):
    write_jsonl_gz(tmp_path / "corpus" / "a.jsonl.gz", [{"id": "1", "text": "Ivo Brand in Lisbon"}])
    facts = pd.DataFrame(
        [
            {"fact_id": "f1", "subject": "Ivo Brand", "object": "Lisbon"},
            {"fact_id": "f1", "subject": "Ivo Brand", "object": "Porto"},  # duplicate id
            {"fact_id": "f2", "subject": "Lisbon", "object": "Lisbon"},  # subject == object
            {"fact_id": "f3", "subject": " ", "object": "Porto"},  # empty subject
            {"fact_id": "f4", "subject": "Ivo Brand", "object": "Lisbon"},  # duplicate fact
        ]
    )
    out = tmp_path / "c.parquet"
    counts = count_facts([str(tmp_path / "corpus")], facts, out, progress=False)
    assert list(counts["fact_id"]) == ["f1"]
    prov = read_provenance(out)
    assert prov["skipped_facts"] == 4
    assert any("'f2'" in e and "subject equals object" in e for e in prov["skipped_fact_examples"])
    for strict_error in ("duplicate fact_id",):
        with pytest.raises(UserError, match=f"fact 'f1' \\(row 2\\): {strict_error}"):
            count_facts([str(tmp_path / "corpus")], facts, tmp_path / "d.parquet", strict=True, progress=False)
    with pytest.raises(UserError, match="missing required column 'object'"):
        count_facts([str(tmp_path / "corpus")], facts[["fact_id", "subject"]], out, progress=False)
    bad_jsonl = tmp_path / "facts.jsonl"
    bad_jsonl.write_text('{"subject": "A", "object": "B"}\nnot json\n')
    with pytest.raises(UserError, match=r"facts\.jsonl:2: not a JSON line"):
        count_facts([str(tmp_path / "corpus")], bad_jsonl, out, progress=False)


def test_parquet_corpus_and_facts_without_ids(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pd.DataFrame({"id": ["a", "b", "c"], "text": ["Ivo Brand in Lisbon", None, "Lisbon only"]}).to_parquet(
        corpus / "part.parquet"
    )
    facts = tmp_path / "facts.jsonl"
    facts.write_text('{"subject": "Ivo Brand", "object": "Lisbon"}\n')
    out = tmp_path / "c.parquet"
    counts = count_facts([str(corpus / "*.parquet")], facts, out, progress=False)
    assert (counts.loc[0, "fact_id"], counts.loc[0, "count"], counts.loc[0, "object_count"]) == ("f00000", 1, 2)
    prov = read_provenance(out)
    assert prov["skipped_lines"] == 1 and "part.parquet:2: missing 'text' value" in prov["skipped_line_examples"][0]
