"""Finding the corpus files and reading them line by line, keeping account of bad lines.

Corpus paths are fsspec URLs (local paths, ``hf://datasets/...``, ``s3://...``): a file, a
folder (searched recursively) or a glob. Supported files: ``.jsonl``, ``.json``, ``.ndjson``
(optionally ``.gz``/``.zst``) and ``.parquet``. Each JSON line is a Dolma-style document
``{"id": ..., "text": ..., ...}``.

The readers are datatrove readers. Unlike datatrove's own, they name every bad line (invalid
UTF-8, malformed JSON, missing or non-string text) and either fail on it (strict) or skip it
and record it in a per-task rejects file that the merge adds to the provenance.
"""

from __future__ import annotations

from freq_unlearn.core.errors import UserError

import json
import os
from dataclasses import dataclass

from datatrove.data import Document
from datatrove.io import get_datafolder
from datatrove.pipeline.readers.jsonl import JsonlReader
from datatrove.pipeline.readers.parquet import ParquetReader

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
COMPRESSION_SUFFIXES = ("", ".gz", ".zst", ".zstd")
PARQUET_SUFFIXES = (".parquet",)
_GLOB_CHARS = "*?["


class CorpusError(UserError):
    """Unusable corpus input; the message is one line naming file and line."""


def corpus_kind(path: str) -> str | None:
    lower = path.lower()
    for suffix in JSONL_SUFFIXES:
        if any(lower.endswith(suffix + c) for c in COMPRESSION_SUFFIXES):
            return "jsonl"
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


@dataclass
class CorpusFiles:
    """Resolved corpus files, grouped by kind, as (filesystem root, relative paths)."""

    root: str  # fsspec URL of the common folder
    jsonl: list[str]
    parquet: list[str]
    total_bytes: int

    @property
    def n_files(self) -> int:
        return len(self.jsonl) + len(self.parquet)

    def shard_files(self, rank: int, shards: int) -> list[str]:
        """The files shard ``rank`` reads: each reader deals its own list out round-robin (datatrove)."""
        return self.jsonl[rank::shards] + self.parquet[rank::shards]


_SIGNATURE_FIELDS = ("size", "mtime", "LastModified", "last_modified", "ETag", "etag", "checksum", "last_commit")
_SAMPLE_BYTES = 1 << 16


def file_signature(root: str, rel_path: str) -> str:
    """A content key for one corpus file: size and modification time (what the filesystem reports),
    plus, for local files, a hash of its first and last 64 KiB (cheap; catches an edit that kept
    size and mtime, e.g. a copy with ``cp -p``)."""
    import hashlib

    from fsspec.core import url_to_fs

    fs, path = url_to_fs(os.path.join(root, rel_path) if root else rel_path)
    info = fs.info(path)
    parts = {k: str(info[k]) for k in _SIGNATURE_FIELDS if k in info}
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    if "file" in protocols:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            digest.update(f.read(_SAMPLE_BYTES))
            if int(info.get("size") or 0) > 2 * _SAMPLE_BYTES:
                f.seek(-_SAMPLE_BYTES, os.SEEK_END)
                digest.update(f.read(_SAMPLE_BYTES))
        parts["sample_sha256"] = digest.hexdigest()
    return json.dumps(parts, sort_keys=True)


def resolve_corpus(paths: list[str]) -> CorpusFiles:
    """Expand files, folders and globs; fail naming the first path that matches no corpus file."""
    from fsspec.core import url_to_fs

    if not paths:
        raise CorpusError("no corpus paths given")
    found: list[str] = []
    fs0 = None
    sizes = 0
    for given in paths:
        fs, path = url_to_fs(str(given))
        if fs0 is None:
            fs0 = fs
        elif type(fs) is not type(fs0):
            raise CorpusError(f"{given}: all corpus paths must be on one filesystem ({fs0.protocol} vs {fs.protocol})")
        if any(c in path for c in _GLOB_CHARS):
            candidates = sorted(p for p in fs.glob(path) if fs.isfile(p))
        elif fs.isdir(path):
            candidates = sorted(fs.find(path))
        elif fs.isfile(path):
            candidates = [path]
        else:
            raise CorpusError(f"{given}: corpus path matches nothing")
        if not candidates:
            raise CorpusError(f"{given}: corpus path matches nothing")
        matched = [p for p in candidates if corpus_kind(p)]
        if not matched:
            raise CorpusError(
                f"{given}: corpus path matches no .jsonl[.gz|.zst] or .parquet file ({len(candidates)} other files)"
            )
        for p in matched:
            if p not in found:
                found.append(p)
                sizes += fs.size(p) or 0
    root = os.path.commonpath(found) if len(found) > 1 else os.path.dirname(found[0])
    if root in found:  # a single file
        root = os.path.dirname(root)
    rel = [os.path.relpath(p, root) if root else p for p in found]
    is_local = "file" in (fs0.protocol if isinstance(fs0.protocol, tuple) else (fs0.protocol,))
    root_url = root if is_local else fs0.unstrip_protocol(root)
    return CorpusFiles(
        root=root_url,
        jsonl=[r for r in rel if corpus_kind(r) == "jsonl"],
        parquet=[r for r in rel if corpus_kind(r) == "parquet"],
        total_bytes=sizes,
    )


def _decompression_errors() -> tuple[type[BaseException], ...]:
    import zlib

    errors: list[type[BaseException]] = [OSError, EOFError, zlib.error]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)


class RejectsMixin:
    """Per-task account of skipped lines; strict mode raises on the first one instead."""

    strict: bool
    rejects_folder: str | None
    MAX_EXAMPLES = 50

    def _init_rejects(self, strict: bool, rejects_folder: str | None) -> None:
        self.strict = strict
        self.rejects_folder = rejects_folder
        self.rejected = 0
        self.reject_examples: list[str] = []

    def reject(self, filepath: str, line_no: int, problem: str) -> None:
        where = f"{self.data_folder.resolve_paths(filepath)}:{line_no}"
        message = f"{where}: {problem}"
        if self.strict:
            raise CorpusError(message)
        self.rejected += 1
        self.stat_update("rejected_lines")
        if len(self.reject_examples) < self.MAX_EXAMPLES:
            self.reject_examples.append(message)

    def save_rejects(self, rank: int) -> None:
        if self.rejects_folder is None:
            return
        folder = get_datafolder(self.rejects_folder)
        with folder.open(f"{self.name_for_rejects}-{rank:05d}.json", "wt") as f:
            json.dump({"rejected": self.rejected, "examples": self.reject_examples}, f)

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        self._init_rejects(self.strict, self.rejects_folder)
        try:
            yield from super().run(data, rank, world_size)
        except CorpusError as err:  # strict mode: leave the one-line reason for the caller
            if self.rejects_folder is not None:
                with get_datafolder(self.rejects_folder).open(f"error-{self.name_for_rejects}-{rank:05d}.txt", "wt") as f:
                    f.write(str(err))
            raise
        self.save_rejects(rank)


class CorpusJsonlReader(RejectsMixin, JsonlReader):
    """JSONL reader (plain, gz or zst) that names bad lines instead of silently dropping them."""

    name = "📖 corpus jsonl"
    name_for_rejects = "jsonl"

    def __init__(self, data_folder, paths_file=None, strict: bool = False, rejects_folder: str | None = None, **kwargs):
        super().__init__(data_folder, paths_file=paths_file, **kwargs)
        self._init_rejects(strict, rejects_folder)

    def read_file(self, filepath: str):
        """A file whose compressed data is corrupt or cut short fails the run, named (its remaining
        lines cannot be read, so skipping them would undercount silently)."""
        try:
            yield from self._read_lines(filepath)
        except CorpusError:
            raise
        except _decompression_errors() as err:
            where = self.data_folder.resolve_paths(filepath)
            raise CorpusError(f"{where}: cannot decompress or read ({type(err).__name__}: {err})") from None

    def _read_lines(self, filepath: str):
        import orjson

        with self.data_folder.open(filepath, "rb", compression=self.compression) as f:
            for line_no, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                with self.track_time():
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as err:
                        self.reject(filepath, line_no, f"invalid UTF-8 at byte {err.start}")
                        continue
                    try:
                        data = orjson.loads(line)
                    except orjson.JSONDecodeError as err:
                        self.reject(filepath, line_no, f"malformed JSON ({err})")
                        continue
                    if not isinstance(data, dict):
                        self.reject(filepath, line_no, "not a JSON object")
                        continue
                    text = data.get(self.text_key)
                    if not isinstance(text, str):
                        self.reject(filepath, line_no, f"missing or non-string '{self.text_key}' field")
                        continue
                    doc_id = data.get(self.id_key)
                    document = Document(
                        text=text, id=str(doc_id) if doc_id is not None else f"{filepath}/{line_no}", metadata={}
                    )
                yield document


class CorpusParquetReader(RejectsMixin, ParquetReader):
    """Parquet reader that names rows with a missing text and files without a text column."""

    name = "📒 corpus parquet"
    name_for_rejects = "parquet"

    def __init__(self, data_folder, paths_file=None, strict: bool = False, rejects_folder: str | None = None, **kwargs):
        super().__init__(data_folder, paths_file=paths_file, read_metadata=False, **kwargs)
        self._init_rejects(strict, rejects_folder)

    def read_file(self, filepath: str):
        """A file that is not valid Parquet fails the run, named (as a corrupt JSONL archive does)."""
        import pyarrow as pa

        try:
            yield from self._read_rows(filepath)
        except CorpusError:
            raise
        except (pa.ArrowException, OSError) as err:
            where = self.data_folder.resolve_paths(filepath)
            raise CorpusError(f"{where}: not a readable Parquet file ({type(err).__name__}: {err})") from None

    def _read_rows(self, filepath: str):
        import pyarrow.parquet as pq

        with self.data_folder.open(filepath, "rb") as f, pq.ParquetFile(f) as pqf:
            names = pqf.schema_arrow.names
            if self.text_key not in names:
                self.reject(filepath, 0, f"no '{self.text_key}' column (have: {', '.join(names)})")
                return
            columns = [self.text_key] + ([self.id_key] if self.id_key in names else [])
            row_no = 0
            for batch in pqf.iter_batches(batch_size=self.batch_size, columns=columns):
                texts = batch.column(self.text_key).to_pylist()
                ids = batch.column(self.id_key).to_pylist() if self.id_key in names else [None] * len(texts)
                for text, doc_id in zip(texts, ids):
                    row_no += 1
                    if not isinstance(text, str):
                        self.reject(filepath, row_no, f"missing '{self.text_key}' value")
                        continue
                    yield Document(
                        text=text, id=str(doc_id) if doc_id is not None else f"{filepath}/{row_no}", metadata={}
                    )


def corpus_readers(
    files: CorpusFiles, paths_dir: str, strict: bool, rejects_folder: str | None, progress: bool = False
) -> list:
    """One datatrove reader per file kind, each sharding its own list of files over the tasks."""
    readers = []
    folder = get_datafolder(paths_dir)
    for kind, rel_paths, cls in (
        ("jsonl", files.jsonl, CorpusJsonlReader),
        ("parquet", files.parquet, CorpusParquetReader),
    ):
        if not rel_paths:
            continue
        with folder.open(f"{kind}.txt", "wt") as f:
            f.write("".join(p + "\n" for p in rel_paths))
        readers.append(
            cls(files.root, paths_file=folder.resolve_paths(f"{kind}.txt"), strict=strict,
                rejects_folder=rejects_folder, file_progress=progress)
        )
    return readers


def iter_documents(files: CorpusFiles, strict: bool = False, progress: bool = False, readers_out: list | None = None):
    """All documents in file order, in this process (for building an index).

    ``readers_out`` receives the readers, whose ``rejected`` counts the skipped lines."""
    from tqdm import tqdm

    readers = []
    if files.jsonl:
        readers.append((CorpusJsonlReader(files.root, strict=strict), files.jsonl))
    if files.parquet:
        readers.append((CorpusParquetReader(files.root, strict=strict), files.parquet))
    if readers_out is not None:
        readers_out.extend(r for r, _ in readers)
    total = files.n_files
    with tqdm(total=total, desc="reading corpus", unit="file", disable=not progress) as bar:
        for reader, paths in readers:
            for path in paths:
                yield from reader.read_file(path)
                bar.update()
