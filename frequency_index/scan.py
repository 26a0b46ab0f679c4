"""The `scan` backend as datatrove steps: read -> count per task -> merge.

Each task reads its share of the corpus files, finds every form of every fact in one
Aho-Corasick pass per document, and writes its partial counts (``partials/RANK.npz``).
The merge adds the partials up. The executor (local, Ray, Slurm) is chosen at the edge, in
``counting.py``; the steps do not know which one runs them.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from .matching import Matcher, TermIndex, within_window, word_index


TERMS_FILE = "terms.pkl"
_MATCHERS: dict[str, Matcher] = {}  # one automaton per process, reused by its sequential tasks


def save_terms(index: TermIndex, work_folder: str) -> None:
    """The term index goes to the shared work folder once; steps carry only its path.

    (Executors deep-copy and JSON-dump the pipeline per task: a 100k-fact index inside the
    step cost more than the counting itself.)"""
    folder = get_datafolder(work_folder)
    with folder.open(TERMS_FILE + ".tmp", "wb") as f:
        pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
    folder.fs.mv(folder.resolve_paths(TERMS_FILE + ".tmp"), folder.resolve_paths(TERMS_FILE))


def load_matcher(work_folder: str, fingerprint: str) -> Matcher:
    if fingerprint not in _MATCHERS:
        with get_datafolder(work_folder).open(TERMS_FILE, "rb") as f:
            index = pickle.load(f)
        if index.fingerprint() != fingerprint:
            raise RuntimeError(f"{work_folder}/{TERMS_FILE} was made for other facts or options")
        _MATCHERS.clear()
        _MATCHERS[fingerprint] = Matcher(index)
    return _MATCHERS[fingerprint]


class FactCounter(PipelineStep):
    """Count, per task, the documents containing each entity and each (subject, object) pair."""

    name = "🔢 fact counter"
    type = "📊 - STATS"

    def __init__(self, work_folder: str, fingerprint: str, window: int | None = None):
        super().__init__()
        self.output_folder = work_folder
        self.fingerprint = fingerprint
        self.window = window

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        matcher = load_matcher(self.output_folder, self.fingerprint)
        index = matcher.index
        pairs_by_subject = matcher.pairs_by_subject
        entity_counts = [0] * index.n_entities
        pair_counts = [0] * len(index.pairs)
        window_counts = [0] * len(index.pairs)
        window = self.window
        documents = 0
        n_chars = 0
        matched = 0
        for doc in data or ():
            text = doc.text
            documents += 1
            n_chars += len(text)
            found = matcher.find(text, positions=window is not None)
            if not found:
                continue
            matched += 1
            for e in found:
                entity_counts[e] += 1
            to_words = None
            for e in found:
                for pair_id, obj in pairs_by_subject.get(e, ()):
                    if obj in found:
                        pair_counts[pair_id] += 1
                        if window is not None:
                            if to_words is None:
                                to_words = word_index(text, index.lowercase_text)
                            a = sorted(to_words(p) for p in found[e])
                            b = sorted(to_words(p) for p in found[obj])
                            if within_window(a, b, window):
                                window_counts[pair_id] += 1
        self.stat_update("documents_with_a_match", value=matched)
        self.stat_update("documents", value=documents)
        self.stat_update("characters", value=n_chars)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            fingerprint=np.array(self.fingerprint),
            entity_counts=np.asarray(entity_counts, dtype=np.int64),
            pair_counts=np.asarray(pair_counts, dtype=np.int64),
            window_counts=np.asarray(window_counts, dtype=np.int64),
            documents=np.int64(documents),
            characters=np.int64(n_chars),
        )
        # Written before datatrove marks the task complete, so a killed task is simply redone.
        with get_datafolder(self.output_folder).open(f"partials/{rank:05d}.npz", "wb") as f:
            f.write(buffer.getvalue())
        return
        yield  # a generator that passes no documents on: this is the last step


def merge_partials(work_folder: str, tasks: int, fingerprint: str) -> dict:
    """Add up the tasks' partial counts; fail if a task's partial is missing or stale."""
    folder = get_datafolder(work_folder)
    total: dict[str, np.ndarray | int] = {}
    for rank in range(tasks):
        name = f"partials/{rank:05d}.npz"
        if not folder.isfile(name):
            raise RuntimeError(f"{folder.resolve_paths(name)}: partial counts missing (task {rank} did not finish)")
        with folder.open(name, "rb") as f:
            part = np.load(io.BytesIO(f.read()))
            if str(part["fingerprint"]) != fingerprint:
                raise RuntimeError(f"{folder.resolve_paths(name)}: partial counts were made for other facts or options")
            for key in ("entity_counts", "pair_counts", "window_counts", "documents", "characters"):
                total[key] = total[key] + part[key] if key in total else part[key].copy()
    return total


def read_rejects(work_folder: str) -> tuple[int, list[str]]:
    """Lines skipped by the readers of all tasks: total and the first examples."""
    import json

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
