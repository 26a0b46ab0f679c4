"""The local ``infini-gram`` backend: a suffix-array index of a local corpus, queried offline.

Building: infini-gram's indexer only knows Hub tokenizers, so we write its input ourselves:
``tokenized.0`` (every document as a separator followed by its tokens) and ``offset.0`` (the
byte offset of every document, uint64), then run ``python -m infini_gram.indexing``, which
finds both files and only builds the suffix array ``table.0``. Tokens are the UTF-8 bytes of
the text (``u8``, the default: exact, and the same matching as ``scan``) or the ids of a local
tokenizer (``--tokenizer DIR``, e.g. the synthetic world's model folder).

Modes:

* ``docs`` (exact document co-occurrence, the same meaning as ``scan``): ``engine.find`` gives
  the suffix-array range of every form; we read the pointers in that range from ``table.0``,
  map each position to its document through ``offset.0``, check word boundaries on the bytes
  around it (u8 only), and intersect the subject's and object's document sets.
* ``cnf`` (what the paper got from the public API): ``count_cnf`` of "S AND O". This is not a
  document count: infini-gram counts occurrences of the rarer clause that have the other clause
  within ``max_diff_tokens`` tokens in the same document, and it is approximate above
  ``max_clause_freq`` occurrences. ``subject_count`` / ``object_count`` are occurrence counts.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from freq_unlearn.core.errors import UserError

from .corpus import iter_documents, resolve_corpus
from .counts_table import counts_frame
from .matching import TermIndex, build_term_index, is_word_char, normalize_text
from .options import MatchOptions, OptionError, check_choice

INDEX_META = "freq_unlearn_index.json"
MAX_CLAUSE_FREQ = 50000  # infini-gram's default
MAX_DIFF_TOKENS = 100  # infini-gram's default (the API's too)
MODES = ("docs", "cnf")


@dataclass(frozen=True)
class LocalIndexOptions:
    """Options of the local `infini-gram` backend.

    Attributes:
        index_dir: the index folder; built from the corpus when it holds no index yet (required).
        tokenizer: a local tokenizer folder for the index (default: UTF-8 bytes, the same matching
            as `scan`).
        mode: ``docs`` (exact document co-occurrence, default) or ``cnf`` (infini-gram's count of
            "S AND O", the paper's; see the module docstring).
    """

    index_dir: str | Path | None = None
    tokenizer: str | None = None
    mode: str = "docs"

    def __post_init__(self) -> None:
        check_choice("infini-gram mode", self.mode, MODES)
        if self.index_dir is None:
            raise OptionError("the infini-gram backend needs --index-dir (built from --corpus when it does not exist)")


def _token_dtype(vocab_size: int) -> tuple[str, type]:
    return ("u16", np.uint16) if vocab_size < 2**16 - 1 else ("u32", np.uint32)


def build_index(
    corpus: list[str], index_dir: str | Path, tokenizer: str | None = None, lowercase: bool = False,
    strict: bool = False, progress: bool = True, normalization: str = "nfkc",
) -> dict:
    """Write tokenized.0 + offset.0 from the corpus and build the suffix array; returns the meta."""
    index_dir = Path(index_dir).resolve()  # the indexer changes directory: absolute paths only
    files = resolve_corpus(corpus)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=False)
    tok = None
    if tokenizer is None:
        dtype_name, dtype, sep = "u8", np.uint8, b"\xff"
    else:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(tokenizer)
        dtype_name, dtype = _token_dtype(len(tok))
        sep = b"\xff" * np.dtype(dtype).itemsize
    documents = rejected = 0
    position = 0
    try:
        with open(tmp / "tokenized.0", "wb") as ds, open(tmp / "offset.0", "wb") as od:
            readers: list = []
            for doc in iter_documents(files, strict=strict, progress=progress, readers_out=readers):
                text = normalize_text(doc.text, normalization)
                text = text.lower() if lowercase else text
                if tok is None:
                    payload = text.encode("utf-8")
                else:
                    payload = np.asarray(tok(text, add_special_tokens=False)["input_ids"], dtype=dtype).tobytes()
                od.write(np.uint64(position).tobytes())
                ds.write(sep + payload)
                position += len(sep) + len(payload)
                documents += 1
            rejected = sum(r.rejected for r in readers)
        if documents == 0:
            raise UserError(f"{', '.join(corpus)}: no documents to index")
        hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        cmd = [
            sys.executable, "-m", "infini_gram.indexing", "--data_dir", str(tmp), "--save_dir", str(tmp),
            "--token_dtype", dtype_name, "--cpus", "1", "--mem", "2",
            "--ulimit", str(hard_limit if hard_limit != resource.RLIM_INFINITY else 1048576),
        ]
        # --cpus 1: with more, the suffix array came out wrong on small corpora (see NOTES.md)
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not (tmp / "table.0").exists():
            tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
            raise UserError(f"infini-gram indexer failed on {tmp}: {tail[0]}")
        meta = {
            "format": "freq_unlearn.infini-gram/1",
            "tokenizer": str(tokenizer) if tokenizer else None,
            "token_dtype": dtype_name,
            "vocab_size": 255 if tok is None else len(tok),
            "lowercase": lowercase,
            "normalization": normalization,
            "documents": documents,
            "skipped_lines": rejected,
            "corpus": [str(c) for c in corpus],
            "corpus_files": files.n_files,
            "corpus_bytes": files.total_bytes,
        }
        (tmp / INDEX_META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        if index_dir.exists():
            raise UserError(f"{index_dir}: exists; remove it or pass it as --index-dir to reuse it")
        os.replace(tmp, index_dir)
    finally:
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return meta


class LocalIndex:
    """An infini-gram engine plus direct reads of the suffix array, offsets and token data."""

    def __init__(self, index_dir: str | Path):
        from infini_gram.engine import InfiniGramEngine

        self.dir = Path(index_dir)
        meta_path = self.dir / INDEX_META
        if not meta_path.is_file():
            raise UserError(f"{self.dir}: not an index made by freq-unlearn (no {INDEX_META})")
        self.meta = json.loads(meta_path.read_text())
        self.dtype = {"u8": np.uint8, "u16": np.uint16, "u32": np.uint32}[self.meta["token_dtype"]]
        self.width = np.dtype(self.dtype).itemsize
        self.tokenizer = None
        if self.meta["tokenizer"]:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(self.meta["tokenizer"])
        self.engine = InfiniGramEngine(
            index_dir=str(self.dir), eos_token_id=0, vocab_size=self.meta["vocab_size"],
            token_dtype=self.meta["token_dtype"], version=4,
        )
        self.data = np.memmap(self.dir / "tokenized.0", dtype=np.uint8, mode="r")
        self.offsets = np.fromfile(self.dir / "offset.0", dtype=np.uint64).astype(np.int64)
        self.ratio = int(np.ceil(np.log2(len(self.data)) / 8))
        self.table = np.memmap(self.dir / "table.0", dtype=np.uint8, mode="r")

    def encode(self, form: str) -> list[list[int]]:
        """Token sequences that stand for a form (bytes: one; a tokenizer: with/without a leading space)."""
        if self.tokenizer is None:
            return [list(form.encode("utf-8"))]
        variants = []
        for text in (form, " " + form):
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if ids and ids not in variants:
                variants.append(ids)
        return variants

    def _pointers(self, start: int, end: int) -> np.ndarray:
        """Byte positions stored in suffix-array ranks [start, end) (little-endian, ``ratio`` bytes)."""
        raw = np.asarray(self.table[start * self.ratio : end * self.ratio]).reshape(-1, self.ratio).astype(np.int64)
        return (raw << (8 * np.arange(self.ratio, dtype=np.int64))).sum(axis=1)

    def positions(self, ids: list[int]) -> np.ndarray:
        found = self.engine.find(input_ids=ids)
        if "error" in found:
            raise UserError(f"infini-gram find failed: {found['error']}")
        parts = [self._pointers(a, b) for a, b in found["segment_by_shard"] if b > a]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def documents_of(self, form: str, word_boundaries: bool) -> np.ndarray:
        """Sorted unique indices of the documents containing the form."""
        docs = []
        for ids in self.encode(form):
            pos = self.positions(ids)
            if len(pos) and self.tokenizer is None and word_boundaries:
                pos = pos[self._bounded(pos, form)]
            docs.append(np.searchsorted(self.offsets, pos, side="right") - 1)
        return np.unique(np.concatenate(docs)) if docs else np.zeros(0, dtype=np.int64)

    def _bounded(self, pos: np.ndarray, form: str) -> np.ndarray:
        """Mask of byte positions where the form is not glued to a word character (as in scan)."""
        length = len(form.encode("utf-8"))
        keep = np.ones(len(pos), dtype=bool)
        if is_word_char(form[0]):
            keep &= ~self._is_word_char_before(pos)
        if is_word_char(form[-1]):
            keep &= ~self._is_word_char_at(pos + length)
        return keep

    _ASCII_WORD = np.array([chr(i).isalnum() or chr(i) == "_" for i in range(128)] + [False] * 128)

    def _is_word_char_at(self, pos: np.ndarray) -> np.ndarray:
        inside = pos < len(self.data)
        byte = np.where(inside, self.data[np.minimum(pos, len(self.data) - 1)], 0xFF).astype(np.int64)
        out = self._ASCII_WORD[byte]
        for i in np.nonzero((byte >= 0x80) & (byte != 0xFF))[0]:  # a multi-byte character: decode it
            chunk = bytes(self.data[pos[i] : pos[i] + 4]).decode("utf-8", errors="ignore")
            out[i] = bool(chunk) and is_word_char(chunk[0])
        return out

    def _is_word_char_before(self, pos: np.ndarray) -> np.ndarray:
        prev = pos - 1
        byte = np.where(prev >= 0, self.data[np.maximum(prev, 0)], 0xFF).astype(np.int64)
        out = self._ASCII_WORD[byte]
        for i in np.nonzero((byte >= 0x80) & (byte != 0xFF))[0]:
            start = max(int(pos[i]) - 4, 0)
            chunk = bytes(self.data[start : pos[i]]).decode("utf-8", errors="ignore")
            out[i] = bool(chunk) and is_word_char(chunk[-1])
        return out

    def count_cnf(self, clauses: list[list[str]]) -> tuple[int, bool]:
        """infini-gram's count of a CNF query (a list of OR-clauses of forms), as the API does it."""
        cnf = [[ids for form in clause for ids in self.encode(form)] for clause in clauses]
        if len(cnf) == 1 and len(cnf[0]) == 1:
            result = self.engine.count(input_ids=cnf[0][0])
        else:
            result = self.engine.count_cnf(cnf=cnf, max_clause_freq=MAX_CLAUSE_FREQ, max_diff_tokens=MAX_DIFF_TOKENS)
        if "error" in result:
            raise UserError(f"infini-gram count failed: {result['error']}")
        return int(result["count"]), bool(result["approx"])


def _open_index(corpus: list[str], match: MatchOptions, options: LocalIndexOptions, strict: bool,
                progress: bool) -> LocalIndex:
    """The index of ``options.index_dir``, built first when the folder holds none; it must fit ``match``."""
    index_dir = Path(options.index_dir)
    lowercase = match.casing == "insensitive"
    if not (index_dir / INDEX_META).is_file():
        if not corpus:
            raise UserError(f"{index_dir}: no index there, and no --corpus to build one from")
        build_index(corpus, index_dir, tokenizer=options.tokenizer, lowercase=lowercase, strict=strict,
                    progress=progress, normalization=match.normalization)
    index = LocalIndex(index_dir)
    if index.meta["lowercase"] != lowercase:
        raise UserError(
            f"{index_dir}: index was built {'lower-cased' if index.meta['lowercase'] else 'cased'}, "
            f"which does not fit casing={match.casing}; build another index"
        )
    built_with = index.meta.get("normalization", "none")  # indexes made before normalisation existed
    if built_with != match.normalization:
        raise UserError(f"{index_dir}: index was built with normalization={built_with}, which does not fit "
                        f"normalization={match.normalization}; build another index")
    return index


def count_with_local_index(
    facts: pd.DataFrame, corpus: list[str], match: MatchOptions, options: LocalIndexOptions, strict: bool = False,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Count with a local index; returns the counts table and its backend-specific provenance."""
    index = _open_index(corpus, match, options, strict, progress)
    terms = build_term_index(facts, match)
    extra = {
        "mode": options.mode,
        "index_dir": str(options.index_dir),
        "index": {k: index.meta.get(k) for k in ("tokenizer", "token_dtype", "lowercase", "normalization",
                                                 "documents", "corpus")},
        "documents": index.meta["documents"],
        "skipped_lines": index.meta["skipped_lines"],
        "corpus_files": index.meta["corpus_files"],
        "corpus_bytes": index.meta["corpus_bytes"],
        "matching": "utf-8 bytes" if index.tokenizer is None else "token sequences (word boundaries = token boundaries)",
    }
    if options.mode == "docs":
        count, subj, obj = _docs_counts(index, terms, match.word_boundaries, progress)
        return counts_frame(facts, count, subj, obj, approximate=False), {**extra, "approximate": False}
    count, subj, obj, approx = _cnf_counts(index, terms, progress)
    frame = counts_frame(facts, count, subj, obj, approximate=approx)
    return frame, {**extra, "approximate": any(approx), "max_clause_freq": MAX_CLAUSE_FREQ,
                   "max_diff_tokens": MAX_DIFF_TOKENS}


def _docs_counts(index: LocalIndex, terms: TermIndex, word_boundaries: bool, progress: bool):
    from tqdm import tqdm

    form_docs = [index.documents_of(f, word_boundaries)
                 for f in tqdm(terms.forms, desc="infini-gram find", disable=not progress)]
    entity_docs: list[list[np.ndarray]] = [[] for _ in range(terms.n_entities)]
    for form_id, entities in enumerate(terms.form_entities):
        for e in entities:
            entity_docs[e].append(form_docs[form_id])
    entity_docs_u = [np.unique(np.concatenate(d)) if d else np.zeros(0, dtype=np.int64) for d in entity_docs]
    entity_counts = [len(d) for d in entity_docs_u]
    pair_counts = [len(np.intersect1d(entity_docs_u[s], entity_docs_u[o], assume_unique=True)) for s, o in terms.pairs]
    return terms.fact_totals(entity_counts, pair_counts)


def _cnf_counts(index: LocalIndex, terms: TermIndex, progress: bool):
    from tqdm import tqdm

    forms_of = terms.forms_of_entities()
    entity_counts, entity_approx = [], []
    for forms in forms_of:
        c, a = index.count_cnf([forms])
        entity_counts.append(c)
        entity_approx.append(a)
    pair_counts, pair_approx = [], []
    for s, o in tqdm(terms.pairs, desc="infini-gram count_cnf", disable=not progress):
        c, a = index.count_cnf([forms_of[s], forms_of[o]])
        pair_counts.append(c)
        pair_approx.append(a)
    count, subj, obj = terms.fact_totals(entity_counts, pair_counts)
    approx = [any(pair_approx[p] or entity_approx[terms.pairs[p][0]] or entity_approx[terms.pairs[p][1]]
                  for p in ids) for ids in terms.fact_pairs]
    return count, subj, obj, approx
