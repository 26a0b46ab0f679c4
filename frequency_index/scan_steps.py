"""The datatrove steps of the `scan` backend: count per shard, then merge the partial counts.

Each shard (datatrove task) reads its share of the corpus files, finds every form of every fact
in one Aho-Corasick pass per document, and writes its partial counts (``partials/RANK.npz``)
tagged with the term index's fingerprint and the content key of the files it read. The merge
step adds the partials up and writes the counts table. The executor (local, Ray, Slurm) is
chosen at the edge, in ``scan.py``; the steps do not know which one runs them.

The work folder holds what the steps share, as plain data: ``terms.json`` (the term index),
``facts.parquet`` (fact_id, subject, object) and ``shards.json`` (per shard, the content key of
its input files).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from .counts_table import CountingError, counts_frame, write_counts
from .matching import Matcher, TermIndex, within_window, word_index

TERMS_FILE = "terms.json"
FACTS_FILE = "facts.parquet"
SHARDS_FILE = "shards.json"
_MATCHERS: dict[str, Matcher] = {}  # one automaton per process, reused by its sequential tasks


def save_work_inputs(work_folder: str, index: TermIndex, facts: pd.DataFrame, shard_keys: list[str]) -> None:
    """What the steps read, written once to the shared work folder; the steps carry only its path.

    (Executors deep-copy and JSON-dump the pipeline per task: a 100k-fact index inside the
    step cost more than the counting itself.)"""
    folder = get_datafolder(work_folder)
    payloads = {
        TERMS_FILE: index.to_json_bytes(),
        SHARDS_FILE: json.dumps({"keys": shard_keys}).encode(),
    }
    buffer = io.BytesIO()
    facts[["fact_id", "subject", "object"]].to_parquet(buffer, index=False)
    payloads[FACTS_FILE] = buffer.getvalue()
    for name, data in payloads.items():
        with folder.open(name + ".tmp", "wb") as f:
            f.write(data)
        folder.fs.mv(folder.resolve_paths(name + ".tmp"), folder.resolve_paths(name))


def load_terms(work_folder: str) -> TermIndex:
    with get_datafolder(work_folder).open(TERMS_FILE, "rb") as f:
        return TermIndex.from_json(f.read())


def load_shard_keys(work_folder: str) -> list[str]:
    with get_datafolder(work_folder).open(SHARDS_FILE, "rt") as f:
        return json.load(f)["keys"]


def preload_matcher(index: TermIndex) -> None:
    """Build the automaton in this process, before the local executor runs or forks its workers:
    they then reuse it instead of reading terms.json and building it again."""
    _MATCHERS.clear()
    _MATCHERS[index.fingerprint()] = Matcher(index)


def load_matcher(work_folder: str, fingerprint: str) -> Matcher:
    if fingerprint not in _MATCHERS:
        index = load_terms(work_folder)
        if index.fingerprint() != fingerprint:
            raise CountingError(f"{work_folder}/{TERMS_FILE} was made for other facts or options")
        _MATCHERS.clear()
        _MATCHERS[fingerprint] = Matcher(index)
    return _MATCHERS[fingerprint]


_FLUSH_IDS = 1 << 20  # ids buffered before they are added into the count arrays (bounds memory per shard)


def _count_documents(data: DocumentsPipeline, matcher: Matcher, window: int | None) -> dict:
    """Per shard: documents containing each entity and each (subject, object) pair.

    ASCII texts are counted by the compiled scanner when there is one and no window is asked (one
    call per document). The others go through ``Matcher``: a document's entities are collected
    with one set per document; its ids (and those of its pairs) are appended to flat lists and added
    up with ``np.bincount`` every ``_FLUSH_IDS`` ids, instead of one Python step per entity and
    document."""
    index = matcher.index
    pairs_by_subject = subjects = None  # the Python path's tables, fetched at its first text
    entity_counts = np.zeros(index.n_entities, dtype=np.int64)
    pair_counts = np.zeros(len(index.pairs), dtype=np.int64)
    window_counts = np.zeros(len(index.pairs), dtype=np.int64)
    entity_ids: list[int] = []
    pair_ids: list[int] = []

    def flush() -> None:
        entity_counts[:] += np.bincount(np.asarray(entity_ids, dtype=np.int64), minlength=len(entity_counts))
        pair_counts[:] += np.bincount(np.asarray(pair_ids, dtype=np.int64), minlength=len(pair_counts))
        entity_ids.clear()
        pair_ids.clear()

    scanner = matcher.scanner if window is None else None
    if scanner is not None:
        scanner.take()  # drop what a task of this process left when it was interrupted
    count_ascii = scanner.count if scanner is not None else None
    documents = n_chars = matched = 0
    for doc in data or ():
        text = doc.text
        documents += 1
        n_chars += len(text)
        if count_ascii is not None:
            n_found = count_ascii(text)
            if n_found >= 0:  # -1: not ASCII
                matched += n_found > 0
                continue
        if subjects is None:
            pairs_by_subject, subjects = matcher.pairs_by_subject, matcher.subjects
        text = index.prepare(text)
        found = matcher.entities(text) if window is None else matcher.positions(text)
        if not found:
            continue
        matched += 1
        entity_ids.extend(found)
        to_words = None
        for e in subjects.intersection(found):
            for pair_id, obj in pairs_by_subject[e]:
                if obj in found:
                    pair_ids.append(pair_id)
                    if window is not None:
                        to_words = to_words or word_index(text)
                        a = sorted(to_words(p) for p in found[e])
                        b = sorted(to_words(p) for p in found[obj])
                        if within_window(a, b, window):
                            window_counts[pair_id] += 1
        if len(entity_ids) + len(pair_ids) > _FLUSH_IDS:
            flush()
    flush()
    if scanner is not None:
        ascii_entities, ascii_pairs = scanner.take()
        entity_counts += np.frombuffer(ascii_entities, dtype=np.int64)
        pair_counts += np.frombuffer(ascii_pairs, dtype=np.int64)
    return {"entity_counts": entity_counts, "pair_counts": pair_counts, "window_counts": window_counts,
            "documents": documents, "characters": n_chars, "matched": matched}


class FactCounter(PipelineStep):
    """Count, per shard, the documents containing each entity and each (subject, object) pair."""

    name = "🔢 fact counter"
    type = "📊 - STATS"

    def __init__(self, work_folder: str, fingerprint: str, window: int | None = None):
        super().__init__()
        self.output_folder = work_folder
        self.fingerprint = fingerprint
        self.window = window

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        matcher = load_matcher(self.output_folder, self.fingerprint)
        inputs_key = load_shard_keys(self.output_folder)[rank]
        counts = _count_documents(data, matcher, self.window)
        self.stat_update("documents_with_a_match", value=counts["matched"])
        self.stat_update("documents", value=counts["documents"])
        self.stat_update("characters", value=counts["characters"])
        buffer = io.BytesIO()
        np.savez(
            buffer,
            fingerprint=np.array(self.fingerprint),
            inputs=np.array(inputs_key),
            entity_counts=np.asarray(counts["entity_counts"], dtype=np.int64),
            pair_counts=np.asarray(counts["pair_counts"], dtype=np.int64),
            window_counts=np.asarray(counts["window_counts"], dtype=np.int64),
            documents=np.int64(counts["documents"]),
            characters=np.int64(counts["characters"]),
        )
        # Written before datatrove marks the task complete, so a killed task is simply redone.
        with get_datafolder(self.output_folder).open(partial_name(rank), "wb") as f:
            f.write(buffer.getvalue())
        return
        yield  # a generator that passes no documents on: this is the last step


def partial_name(rank: int) -> str:
    return f"partials/{rank:05d}.npz"


def read_partial_keys(work_folder: str, rank: int) -> tuple[str, str] | None:
    """(fingerprint, inputs key) of a shard's partial counts; None when there are none."""
    folder = get_datafolder(work_folder)
    if not folder.isfile(partial_name(rank)):
        return None
    with folder.open(partial_name(rank), "rb") as f:
        part = np.load(io.BytesIO(f.read()))
        return str(part["fingerprint"]), str(part["inputs"]) if "inputs" in part.files else ""


def merge_partials(work_folder: str, fingerprint: str) -> dict:
    """Add up the shards' partial counts; fail if one is missing or was made from other inputs."""
    folder = get_datafolder(work_folder)
    keys = load_shard_keys(work_folder)
    total: dict[str, np.ndarray] = {}
    for rank, key in enumerate(keys):
        name = partial_name(rank)
        if not folder.isfile(name):
            raise CountingError(f"{folder.resolve_paths(name)}: partial counts missing (shard {rank} did not finish)")
        with folder.open(name, "rb") as f:
            part = np.load(io.BytesIO(f.read()))
            if str(part["fingerprint"]) != fingerprint:
                raise CountingError(f"{folder.resolve_paths(name)}: partial counts were made for other facts or options")
            if "inputs" not in part.files or str(part["inputs"]) != key:
                raise CountingError(f"{folder.resolve_paths(name)}: partial counts were made from other corpus content")
            for column in ("entity_counts", "pair_counts", "window_counts", "documents", "characters"):
                total[column] = total[column] + part[column] if column in total else part[column].copy()
    return total


def read_rejects(work_folder: str) -> tuple[int, list[str]]:
    """Lines skipped by the readers of all shards: total and the first examples."""
    folder = get_datafolder(work_folder)
    rejected, examples = 0, []
    if not folder.isdir("rejects"):
        return 0, []
    for name in sorted(n for n in folder.list_files("rejects") if n.endswith(".json")):
        with folder.open(name, "rt") as f:
            data = json.load(f)
        rejected += data["rejected"]
        examples.extend(data["examples"])
    return rejected, examples[:50]


class MergeCounts(PipelineStep):
    """Add up the partial counts of every shard and write the counts table (one task).

    Runs in-process after the local and Ray executors, and as the dependent one-task job on Slurm."""

    name = "➕ merge counts"
    type = "📊 - STATS"

    def __init__(self, work_folder: str, fingerprint: str, out: str, provenance: dict):
        super().__init__()
        self.work_folder = work_folder
        self.fingerprint = fingerprint
        self.out = out
        self.provenance = provenance

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self.merge()
        return
        yield  # nothing passes on

    def merge(self, index: TermIndex | None = None) -> pd.DataFrame:
        """``index``: the term index when the caller holds it (else read from the work folder)."""
        index = index if index is not None else load_terms(self.work_folder)
        total = merge_partials(self.work_folder, self.fingerprint)
        count, subj, obj = index.fact_totals(total["entity_counts"], total["pair_counts"])
        window = None
        if self.provenance.get("window") is not None:
            window = index.per_fact(total["window_counts"])
        rejected, examples = read_rejects(self.work_folder)
        provenance = {
            **self.provenance,
            "documents": int(total["documents"]),
            "characters": int(total["characters"]),
            "skipped_lines": rejected,
            "skipped_line_examples": examples,
        }
        with get_datafolder(self.work_folder).open(FACTS_FILE, "rb") as f:
            facts = pd.read_parquet(io.BytesIO(f.read()))
        self.stat_update("facts", value=len(facts))
        return write_counts(counts_frame(facts, count, subj, obj, window), provenance, self.out)
