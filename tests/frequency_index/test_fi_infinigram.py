"""The local infini-gram backend: a real suffix-array index, cross-checked against scan."""

from __future__ import annotations

import pandas as pd
import pytest
from fi_helpers import write_jsonl_gz

from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index import LocalIndexOptions, MatchOptions, count_facts, read_provenance

KEYS = ["count", "subject_count", "object_count"]


@pytest.mark.parametrize("casing", ["sensitive", "paper"])
def test_local_index_agrees_with_scan_and_the_true_counts(small_world, tmp_path, casing):
    corpus, facts = [str(small_world / "corpus")], small_world / "facts.parquet"
    scan = count_facts(corpus, facts, tmp_path / "scan.parquet", match=MatchOptions(casing=casing), progress=False)
    ig = count_facts(corpus, facts, tmp_path / "ig.parquet", backend="infini-gram",
                     options=LocalIndexOptions(index_dir=tmp_path / "index"), match=MatchOptions(casing=casing),
                     progress=False)
    pd.testing.assert_frame_equal(scan[["fact_id"] + KEYS], ig[["fact_id"] + KEYS])
    if casing == "sensitive":
        truth = pd.read_parquet(facts).set_index("fact_id").loc[ig["fact_id"], "true_count"]
        assert list(ig["count"]) == list(truth)
    prov = read_provenance(tmp_path / "ig.parquet")
    assert prov["backend"] == "infini-gram" and prov["mode"] == "docs" and prov["approximate"] is False
    assert (tmp_path / "index" / "table.0").is_file() and prov["documents"] > 0


def test_word_boundaries_on_bytes_match_scan_for_non_ascii_neighbours(tmp_path):
    docs = [
        {"id": "1", "text": "Zoë Ames lives in Évora."},
        {"id": "2", "text": "ZoëAmes was not her; Amesé is no name in Évora."},
        {"id": "3", "text": "«Zoë Ames» wrote from Évora!"},
        {"id": "4", "text": "éZoë Ames and Évoraé."},
    ]
    write_jsonl_gz(tmp_path / "c" / "a.jsonl.gz", docs)
    facts = pd.DataFrame([{"fact_id": "f", "subject": "Zoë Ames", "object": "Évora"},
                          {"fact_id": "g", "subject": "Ames", "object": "Zoë"}])
    scan = count_facts([str(tmp_path / "c")], facts, tmp_path / "s.parquet", progress=False)
    ig = count_facts([str(tmp_path / "c")], facts, tmp_path / "i.parquet", backend="infini-gram",
                     options=LocalIndexOptions(index_dir=tmp_path / "idx"), progress=False)
    assert scan.loc[0, KEYS].tolist() == [2, 2, 3]
    assert scan[KEYS].values.tolist() == ig[KEYS].values.tolist()


def test_cnf_mode_is_not_a_document_count(tmp_path):
    far = "Ada Koss met the board. " + "filler " * 150 + "Later she moved to Brno."
    docs = [{"id": "near", "text": "Ada Koss moved to Brno. Ada Koss liked Brno."}, {"id": "far", "text": far}]
    write_jsonl_gz(tmp_path / "c" / "a.jsonl.gz", docs)
    facts = pd.DataFrame([{"fact_id": "f", "subject": "Ada Koss", "object": "Brno"}])
    docs_mode = count_facts([str(tmp_path / "c")], facts, tmp_path / "d.parquet", backend="infini-gram",
                            options=LocalIndexOptions(index_dir=tmp_path / "idx"), progress=False)
    cnf = count_facts([], facts, tmp_path / "n.parquet", backend="infini-gram",
                      options=LocalIndexOptions(index_dir=tmp_path / "idx", mode="cnf"), progress=False)  # reuses the index: no corpus needed
    assert docs_mode.loc[0, KEYS].tolist() == [2, 2, 2]
    # occurrences, not documents: 'near' counts twice, 'far' not at all (more than 100 tokens apart)
    assert cnf.loc[0, KEYS].tolist() == [2, 3, 3]
    assert read_provenance(tmp_path / "n.parquet")["mode"] == "cnf"


def test_tokenizer_index_agrees_with_scan(small_world, tmp_path):
    import gzip
    import json

    from freq_unlearn.tokenizer import save_tokenizer, train_tokenizer

    texts = [json.loads(line)["text"] for p in sorted((small_world / "corpus").glob("*.jsonl.gz"))
             for line in gzip.open(p, "rt")]
    save_tokenizer(train_tokenizer(texts, vocab_size=1024), tmp_path / "tok")
    corpus, facts = [str(small_world / "corpus")], small_world / "facts.parquet"
    scan = count_facts(corpus, facts, tmp_path / "s.parquet", progress=False)
    ig = count_facts(corpus, facts, tmp_path / "i.parquet", backend="infini-gram",
                     options=LocalIndexOptions(index_dir=tmp_path / "idx", tokenizer=str(tmp_path / "tok")),
                     progress=False)
    assert scan[KEYS].values.tolist() == ig[KEYS].values.tolist()
    assert read_provenance(tmp_path / "i.parquet")["index"]["token_dtype"] == "u16"


def test_index_errors(tmp_path):
    facts = pd.DataFrame([{"fact_id": "f", "subject": "A b", "object": "C d"}])
    with pytest.raises(UserError, match="no index there, and no --corpus"):
        count_facts([], facts, tmp_path / "x.parquet", backend="infini-gram",
                    options=LocalIndexOptions(index_dir=tmp_path / "none"), progress=False)
    write_jsonl_gz(tmp_path / "c" / "a.jsonl.gz", [{"id": "1", "text": "A b C d"}])
    count_facts([str(tmp_path / "c")], facts, tmp_path / "x.parquet", backend="infini-gram",
                options=LocalIndexOptions(index_dir=tmp_path / "idx"), progress=False)
    with pytest.raises(UserError, match="does not fit casing=insensitive"):
        count_facts([], facts, tmp_path / "y.parquet", backend="infini-gram",
                    options=LocalIndexOptions(index_dir=tmp_path / "idx"), match=MatchOptions(casing="insensitive"),
                    progress=False)
