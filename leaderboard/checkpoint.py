"""Checkpoint intake: fetch (local folder or Hub id), security checks, content hash, base match.

Security rules (README "Security"):

* weights only as safetensors: a folder whose model weights are pickles
  (``pytorch_model.bin``, ``model.pt``, ``adapter_model.bin``, ...) or that has no
  safetensors weights is refused; every safetensors header is parsed (without loading
  tensors) to check that the file is what it says. Other files, e.g. the Trainer's
  ``training_args.bin`` or ``checkpoint-N/`` resume folders that ``freq-unlearn unlearn``
  leaves next to the weights, are never opened: evaluation runs on a *sanitized copy* that
  holds only the files in ``ALLOWED_PATTERNS`` (``sanitized_copy``);
* no remote code: a ``config.json`` with ``auto_map`` is refused, and models are always
  loaded with ``trust_remote_code=False``;
* size limits: the whole folder, and a safetensors header, have a byte ceiling;
* from the Hub only safe file patterns are downloaded (never pickles or Python files).

The base-model check is in ``check_same_base``: a checkpoint must have the registered base
model's architecture and tokenizer (see README "Which base model").
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".h5", ".msgpack")
# A pickle with one of these name stems holds model weights (transformers' and PEFT's names).
WEIGHT_STEMS = ("pytorch_model", "model", "adapter_model", "tf_model", "flax_model", "consolidated")
DEFAULT_MAX_BYTES = 20 * 1024**3
MAX_SAFETENSORS_HEADER = 100 * 1024**2
# Files that define a model's behaviour; their contents make the checkpoint hash.
HASHED_PATTERNS = (
    "*.safetensors",
    "config.json",
    "generation_config.json",
    "adapter_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
)
ALLOWED_PATTERNS = (*HASHED_PATTERNS, "added_tokens.json", "*.safetensors.index.json")
HUB_ALLOW_PATTERNS = [*ALLOWED_PATTERNS, "run_record.json"]
# Architecture fields that unlearning (fine-tuning) never changes.
ARCHITECTURE_KEYS = (
    "model_type",
    "architectures",
    "vocab_size",
    "hidden_size",
    "n_embd",
    "num_hidden_layers",
    "n_layer",
    "num_attention_heads",
    "n_head",
    "intermediate_size",
    "n_positions",
    "max_position_embeddings",
)


class CheckpointError(ValueError):
    """A refused or unreachable checkpoint: the message is one line with the reason."""


@dataclass(frozen=True)
class CheckedCheckpoint:
    folder: Path
    sha256: str
    is_adapter: bool  # a PEFT/LoRA adapter (adapter_config.json + adapter_model.safetensors)
    total_bytes: int


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hashed_files(folder: Path) -> list[Path]:
    files: set[Path] = set()
    for pattern in HASHED_PATTERNS:
        files.update(p for p in folder.glob(pattern) if p.is_file())
    return sorted(files)


def content_hash(folder: Path) -> str:
    """sha256 over (relative name, file sha256) of the behaviour-defining files."""
    digest = hashlib.sha256()
    for path in _hashed_files(folder):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{_sha256_file(path)}\n".encode())
    return digest.hexdigest()


# safetensors dtypes (the format's spec) -> bytes per element; anything else is refused.
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
               "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")


def _check_tensor(path: Path, name: str, info: Any, data_len: int) -> tuple[str, list[int]]:
    offsets = info.get("data_offsets") if isinstance(info, dict) else None
    if not (isinstance(offsets, list) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1] <= data_len):
        raise CheckpointError(f"{path}: not a safetensors file (tensor {name!r} has bad offsets)")
    dtype, shape = info.get("dtype"), info.get("shape")
    if dtype not in DTYPE_BYTES:
        raise CheckpointError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
    if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise CheckpointError(f"{path}: tensor {name!r} has a bad shape {shape!r}")
    if math.prod(shape) * DTYPE_BYTES[dtype] != offsets[1] - offsets[0]:
        raise CheckpointError(f"{path}: tensor {name!r}: shape {shape} x {dtype} does not match its {offsets[1] - offsets[0]} bytes")
    return dtype, shape


def check_safetensors_header(path: Path) -> dict[str, tuple[str, list[int]]]:
    """Parse the 8-byte length + JSON header (the format's spec) without loading tensors;
    returns tensor name -> (dtype, shape)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise CheckpointError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (header_len,) = struct.unpack("<Q", raw)
        if header_len > MAX_SAFETENSORS_HEADER or header_len + 8 > size:
            raise CheckpointError(f"{path}: not a safetensors file (bad header length {header_len})")
        try:
            header = json.loads(fh.read(header_len))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise CheckpointError(f"{path}: not a safetensors file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a safetensors file (header is not an object)")
    data_len = size - 8 - header_len
    return {name: _check_tensor(path, name, info, data_len) for name, info in header.items() if name != "__metadata__"}


def tensor_specs(folder: Path) -> dict[str, list[Any]]:
    """Every tensor of a folder's safetensors weights: name -> [dtype, shape]."""
    specs: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.safetensors")):
        specs.update({name: [dtype, shape] for name, (dtype, shape) in check_safetensors_header(path).items()})
    return specs


def check_tensors(folder: Path, base: dict[str, list[Any]], base_name: str) -> None:
    """The same tensor names and shapes as the base model (a missing tensor would be initialised
    randomly by transformers, without an error); a float tensor may change precision only."""
    specs = tensor_specs(folder)
    for name, (dtype, shape) in base.items():
        if name not in specs:
            raise CheckpointError(f"{folder}: tensor {name!r} of base model {base_name!r} is missing from the weights")
        got_dtype, got_shape = specs[name]
        if got_shape != shape:
            raise CheckpointError(f"{folder}: tensor {name!r} has shape {got_shape}, the base model's is {shape}")
        if got_dtype != dtype and not (dtype in FLOAT_DTYPES and got_dtype in FLOAT_DTYPES):
            raise CheckpointError(f"{folder}: tensor {name!r} has dtype {got_dtype}, the base model's is {dtype}")
    extra = sorted(set(specs) - set(base))
    if extra:
        raise CheckpointError(f"{folder}: tensor {extra[0]!r} is not in base model {base_name!r}")


def allowed_files(folder: Path) -> list[Path]:
    files: set[Path] = set()
    for pattern in ALLOWED_PATTERNS:
        files.update(p for p in folder.glob(pattern) if p.is_file())
    return sorted(files)


def weight_pickles(folder: Path) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES and p.name.split(".")[0].split("-")[0] in WEIGHT_STEMS
    )


def check_folder(folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedCheckpoint:
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: checkpoint folder not found")
    pickles = weight_pickles(folder)
    if pickles:
        raise CheckpointError(
            f"{folder}: holds pickle-based weights ({pickles[0]}); only safetensors are accepted"
        )
    files = allowed_files(folder)
    total = sum(p.stat().st_size for p in files)
    if total > max_bytes:
        raise CheckpointError(f"{folder}: checkpoint is {total} bytes, over the {max_bytes}-byte limit")
    weights = [p for p in files if p.suffix == ".safetensors"]
    if not weights:
        raise CheckpointError(f"{folder}: no *.safetensors weights found")
    for path in weights:
        check_safetensors_header(path)
    is_adapter = (folder / "adapter_config.json").is_file()
    config_path = folder / ("adapter_config.json" if is_adapter else "config.json")
    if not config_path.is_file():
        raise CheckpointError(f"{folder}: missing {config_path.name}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path}: invalid JSON ({err})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path}: top level must be a JSON object")
    if "auto_map" in config:
        raise CheckpointError(f"{config_path}: 'auto_map' asks for remote code, which is never run")
    return CheckedCheckpoint(folder=folder, sha256=content_hash(folder), is_adapter=is_adapter, total_bytes=total)


def sanitized_copy(checked: CheckedCheckpoint, cache_dir: Path) -> Path:
    """A folder holding only the allowed files, keyed by content hash: what lm-eval loads can
    contain no pickle and no code.

    The files are *copied*, never hard-linked (a link shares the inode, so a file changed in place
    would change the cache too), and the copy is re-hashed: it must hold exactly what
    ``check_folder`` hashed, which closes the gap between checking and loading. A cached copy is
    re-hashed before reuse; one that no longer matches is rebuilt.
    """
    target = cache_dir / checked.sha256[:32]
    if (target / ".complete").is_file():
        if content_hash(target) == checked.sha256:
            return target
        shutil.rmtree(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{checked.sha256[:32]}.", suffix=f".{os.getpid()}.tmp", dir=cache_dir))
    try:
        for path in allowed_files(checked.folder):
            shutil.copyfile(path, tmp / path.name)
        copied = content_hash(tmp)
        if copied != checked.sha256:
            raise CheckpointError(
                f"{checked.folder}: files changed while the submission was being checked (sha256 {copied[:12]},"
                f" checked {checked.sha256[:12]}); submit it again once nothing writes to it"
            )
        (tmp / ".complete").write_text(checked.sha256 + "\n")
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished the same copy first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def remove_abandoned_copies(cache_dir: Path) -> list[Path]:
    """Temporary copy folders (``.<hash>.<random>.<pid>.tmp``) left by a process killed while copying:
    removed once their process is gone."""
    removed = []
    for tmp in cache_dir.glob(".*.tmp") if cache_dir.is_dir() else []:
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        if not _alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def looks_like_hub_id(ref: str) -> bool:
    parts = ref.split("/")
    return len(parts) == 2 and all(parts) and not ref.startswith((".", "/", "~"))


def fetch(ref: str, revision: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedCheckpoint:
    """A local folder as is; a Hub id downloaded (safe patterns only) into the HF cache."""
    local = Path(ref).expanduser()
    if local.exists() or not looks_like_hub_id(ref):
        return check_folder(local, max_bytes)
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        raise CheckpointError(f"{ref}: not a local folder, and the Hub is unreachable offline (HF_HUB_OFFLINE=1)")
    try:
        info = HfApi().model_info(ref, revision=revision, files_metadata=True)
        siblings = info.siblings or []
        names = [s.rfilename for s in siblings]
        pickles = [n for n in names if n.lower().endswith(PICKLE_SUFFIXES)]
        if not any(n.endswith(".safetensors") for n in names):
            detail = f" (only pickle weights such as {pickles[0]})" if pickles else ""
            raise CheckpointError(f"{ref}: no *.safetensors weights on the Hub{detail}; only safetensors are accepted")
        size = sum((s.size or 0) for s in siblings if s.rfilename.endswith(".safetensors"))
        if size > max_bytes:
            raise CheckpointError(f"{ref}: weights are {size} bytes, over the {max_bytes}-byte limit")
        folder = snapshot_download(ref, revision=revision, allow_patterns=HUB_ALLOW_PATTERNS)
    except CheckpointError:
        raise
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise CheckpointError(f"{ref}: not found on the Hub ({type(err).__name__})") from None
    except (OfflineModeIsEnabled, LocalEntryNotFoundError) as err:
        raise CheckpointError(f"{ref}: the Hub is unreachable ({type(err).__name__})") from None
    except OSError as err:  # requests' ConnectionError and friends are OSErrors
        raise CheckpointError(f"{ref}: the Hub is unreachable ({type(err).__name__})") from None
    return check_folder(Path(folder), max_bytes)


def architecture(folder: Path) -> dict[str, Any]:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return {key: config[key] for key in ARCHITECTURE_KEYS if key in config}


def tokenizer_fingerprint(folder: Path) -> str:
    """sha256 of the sorted vocabulary (token -> id) as the fast tokenizer reads it: two
    ``save_pretrained`` copies of one tokenizer agree even if their JSON formatting differs."""
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise CheckpointError(f"{folder}: missing tokenizer.json (needed to check the base model)")
    vocab = Tokenizer.from_file(str(path)).get_vocab(with_added_tokens=True)
    canonical = json.dumps(sorted(vocab.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def base_fingerprint(folder: Path) -> dict[str, Any]:
    return {"architecture": architecture(folder), "tokenizer_sha256": tokenizer_fingerprint(folder),
            "tensors": tensor_specs(folder)}


def check_same_base(checkpoint: CheckedCheckpoint, base: dict[str, Any], base_name: str) -> None:
    """Refuse a checkpoint that cannot be an unlearned copy of the registered base model."""
    if checkpoint.is_adapter:
        adapter = json.loads((checkpoint.folder / "adapter_config.json").read_text(encoding="utf-8"))
        declared = str(adapter.get("base_model_name_or_path", ""))
        if declared and Path(declared).name != Path(base_name).name and declared != base_name:
            raise CheckpointError(
                f"{checkpoint.folder}: adapter is for base model {declared!r}, the benchmark's is {base_name!r}"
            )
        return
    arch = architecture(checkpoint.folder)
    for key, expected in base["architecture"].items():
        if arch.get(key) != expected:
            raise CheckpointError(
                f"{checkpoint.folder}: config {key}={arch.get(key)!r} but the benchmark's base model"
                f" {base_name!r} has {expected!r}: not an unlearned copy of it"
            )
    if tokenizer_fingerprint(checkpoint.folder) != base["tokenizer_sha256"]:
        raise CheckpointError(
            f"{checkpoint.folder}: tokenizer differs from the benchmark's base model {base_name!r}"
        )
    if "tensors" in base:
        check_tensors(checkpoint.folder, base["tensors"], base_name)
