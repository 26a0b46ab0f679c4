"""Issue 11 for counting: stale partials, the work folder's format, corrupt gzip, Ray without its extra."""

from __future__ import annotations

import json
import os
import sys

import pandas as pd
import pytest
from fi_helpers import write_jsonl_gz

from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index import LocalIndexOptions, ScanOptions, count_facts, read_provenance

FACTS = pd.DataFrame([{"fact_id": "f1", "subject": "Ivo Brand", "object": "Rome"},
                      {"fact_id": "f2", "subject": "Ada Koss", "object": "Oslo"}])


def _corpus(root, shards: int = 3):
    """Shard 1 is plain JSONL (edited in place below); the others are gzipped."""
    for i in range(shards):
        docs = [{"id": f"{i}-{d}", "text": f"Ivo Brand went to Rome. Doc {d} of shard {i}."} for d in range(5)]
        if i == 1:
            (root / "part1.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
        else:
            write_jsonl_gz(root / f"part{i}.jsonl.gz", docs)
    return root


def test_edited_corpus_redoes_the_changed_shards_only(tmp_path):
    """The issue's case: a rerun after editing the corpus must not mix in stale partial counts."""
    corpus = _corpus(tmp_path / "corpus")
    work = tmp_path / "work"
    options = ScanOptions(work_dir=work, keep_work=True)
    first = count_facts([str(corpus)], FACTS, tmp_path / "a.parquet", options=options, progress=False)
    assert first["count"].tolist() == [15, 0]
    before = {p.name: p.stat().st_mtime_ns for p in (work / "partials").iterdir()}

    # Same size, same mtime: only the content changed (as `cp -p` or an rsync could leave it).
    edited = corpus / "part1.jsonl"
    stat = edited.stat()
    edited.write_bytes(edited.read_bytes().replace(b"Ivo Brand went to Rome", b"Ada Koss went to Oslo."))
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert edited.stat().st_size == stat.st_size

    rerun = count_facts([str(corpus)], FACTS, tmp_path / "b.parquet", options=options, progress=False)
    fresh = count_facts([str(corpus)], FACTS, tmp_path / "c.parquet", progress=False)
    pd.testing.assert_frame_equal(rerun, fresh)
    assert fresh["count"].tolist() == [10, 5]
    assert read_provenance(tmp_path / "b.parquet")["documents"] == 15
    after = {p.name: p.stat().st_mtime_ns for p in (work / "partials").iterdir()}
    assert after["00000.npz"] == before["00000.npz"] and after["00002.npz"] == before["00002.npz"]
    assert after["00001.npz"] != before["00001.npz"]


def test_fewer_documents_after_an_edit_are_recorded(tmp_path):
    corpus = _corpus(tmp_path / "corpus", shards=2)
    options = ScanOptions(work_dir=tmp_path / "work", keep_work=True)
    count_facts([str(corpus)], FACTS, tmp_path / "a.parquet", options=options, progress=False)
    write_jsonl_gz(corpus / "part0.jsonl.gz", [{"id": "x", "text": "nothing here"}])
    counts = count_facts([str(corpus)], FACTS, tmp_path / "b.parquet", options=options, progress=False)
    assert counts["count"].tolist() == [5, 0]
    assert read_provenance(tmp_path / "b.parquet")["documents"] == 6


def test_work_folder_holds_no_pickle(tmp_path):
    corpus = _corpus(tmp_path / "corpus", shards=1)
    work = tmp_path / "work"
    count_facts([str(corpus)], FACTS, tmp_path / "a.parquet", options=ScanOptions(work_dir=work, keep_work=True),
                progress=False)
    terms = json.loads((work / "terms.json").read_text())
    assert "Ivo Brand" in terms["forms"]
    assert not [p for p in work.rglob("*") if p.suffix in (".pkl", ".pickle")]


def test_corrupt_gzip_is_named_in_one_line(tmp_path):
    corpus = _corpus(tmp_path / "corpus", shards=1)
    write_jsonl_gz(corpus / "part1.jsonl.gz", [{"id": str(d), "text": f"Ivo Brand {d} " * 50} for d in range(50)])
    good = (corpus / "part1.jsonl.gz").read_bytes()
    (corpus / "part1.jsonl.gz").write_bytes(good[: len(good) // 2])  # truncated
    for kwargs in ({}, {"backend": "infini-gram", "options": LocalIndexOptions(index_dir=tmp_path / "idx")}):
        with pytest.raises(UserError, match=r"part1\.jsonl\.gz: cannot decompress or read") as err:
            count_facts([str(corpus)], FACTS, tmp_path / "c.parquet", progress=False, **kwargs)
        assert "\n" not in str(err.value)
    assert not (tmp_path / "c.parquet").exists()


def test_corrupt_parquet_is_named_in_one_line(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pd.DataFrame({"id": ["a"], "text": ["Ivo Brand in Rome"]}).to_parquet(corpus / "good.parquet")
    (corpus / "bad.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(UserError, match=r"bad\.parquet: not a readable Parquet file") as err:
        count_facts([str(corpus)], FACTS, tmp_path / "c.parquet", progress=False)
    assert "\n" not in str(err.value) and not (tmp_path / "c.parquet").exists()


def test_ray_executor_without_ray_names_the_extra(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path / "corpus", shards=1)
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees on the core install
    with pytest.raises(UserError, match=r"needs Ray, which is not installed: pip install 'freq-unlearn\[ray\]'"):
        count_facts([str(corpus)], FACTS, tmp_path / "c.parquet", options=ScanOptions(executor="ray"), progress=False)
    assert not list(tmp_path.glob(".c.parquet*"))
