"""``freq-unlearn count`` and ``freq-unlearn build``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    count = subparsers.add_parser(
        "count",
        help="count every fact (subject AND object) in a pre-training corpus",
        description=(
            "Count, for every fact, the documents in which its subject and object co-occur, and "
            "each alone. Writes a Parquet table with provenance. Meanings of casing, word "
            "boundaries, aliases and window: see frequency_index/README.md."
        ),
    )
    count.add_argument("--corpus", nargs="+", default=[], metavar="PATH",
                       help="corpus files, folders or globs (.jsonl[.gz|.zst], .parquet; fsspec URLs such as hf://)")
    count.add_argument("--facts", required=True, type=Path, help="facts file (.parquet or .jsonl)")
    count.add_argument("--out", required=True, type=Path, help="counts Parquet file to write")
    count.add_argument("--backend", default="scan", choices=("scan", "infini-gram", "infini-gram-api"))
    count.add_argument("--executor", default="local", choices=("local", "ray", "slurm"),
                       help="datatrove executor for the scan backend")
    count.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    count.add_argument("--shards", type=int, default=None,
                       help="scan: datatrove tasks, each reading a share of the files (default: one per corpus file)")
    count.add_argument("--tasks", dest="tasks_deprecated", type=int, default=None, help=argparse.SUPPRESS)
    count.add_argument("--casing", default="sensitive", choices=("sensitive", "insensitive", "paper"))
    count.add_argument("--normalization", default="nfkc", choices=("nfkc", "nfc", "none"),
                       help="Unicode normal form for texts and facts alike, plus whitespace folding (default nfkc)")
    count.add_argument("--window", type=int, default=None, metavar="N",
                       help="also count documents where subject and object are at most N words apart")
    count.add_argument("--no-word-boundaries", dest="word_boundaries", action="store_false",
                       help="match forms as plain substrings")
    count.add_argument("--no-aliases", dest="aliases", action="store_false",
                       help="ignore subject_aliases / object_aliases columns")
    count.add_argument("--strict", action="store_true", help="fail on the first bad corpus line or fact")
    count.add_argument("--work-dir", type=Path, default=None, help="scratch folder (default: next to --out)")
    count.add_argument("--keep-work", action="store_true", help="keep the scratch folder after success")
    count.add_argument("--index-dir", type=Path, default=None,
                       help="infini-gram: local index folder (built from --corpus when missing)")
    count.add_argument("--tokenizer", default=None,
                       help="infini-gram: local tokenizer folder for the index (default: UTF-8 bytes)")
    count.add_argument("--mode", default=None, choices=("docs", "cnf"),
                       help="exact document co-occurrence (docs; default for scan and infini-gram) or "
                            "infini-gram's 'A AND B' count (cnf; the paper's, and the API's only mode)")
    count.add_argument("--api-url", default=None, help="infini-gram-api: endpoint (default https://api.infini-gram.io/)")
    count.add_argument("--api-index", default=None, help="infini-gram-api: index name (default v4_dolma-v1_7_llama)")
    count.add_argument("--slurm", default=None, metavar="JSON",
                       help='slurm executor options, e.g. \'{"partition": "cpu", "time": "04:00:00", "venv_path": ".venv/bin/activate"}\'')
    count.set_defaults(func=run_count)

    build = subparsers.add_parser(
        "build",
        help="build the frequency-stratified benchmark (DatasetDict folder + dataset card)",
        description="Facts + counts -> forget_{low,medium,high} (+ paraphrased), retain, utility splits.",
    )
    build.add_argument("--facts", required=True, type=Path)
    build.add_argument("--counts", required=True, type=Path)
    build.add_argument("--out", required=True, type=Path, help="benchmark folder to write")
    build.add_argument("--strata", default="terciles", choices=("terciles", "quantiles", "thresholds", "log-bins"))
    build.add_argument("--cuts", type=float, nargs=2, default=None, metavar=("A", "B"),
                       help="two quantiles (--strata quantiles) or two counts (--strata thresholds)")
    build.add_argument("--balance", action="store_true", help="equal strata within each relation x answer length")
    build.add_argument("--allow-empty", action="store_true", help="keep an empty stratum as an empty split")
    build.add_argument("--retain-fraction", type=float, default=0.1,
                       help="facts without a group column: share carved out as retain (default 0.1)")
    build.add_argument("--utility-fraction", type=float, default=0.1,
                       help="facts without a group column: share carved out as utility (default 0.1)")
    build.add_argument("--retain-ids", type=Path, default=None, help="file with one retain fact_id per line")
    build.add_argument("--utility-ids", type=Path, default=None, help="file with one utility fact_id per line")
    build.add_argument("--name", default="freq-unlearn benchmark", help="dataset name on the card")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--push-to-hub", default=None, metavar="ID", help="also publish as this Hub dataset repo")
    build.add_argument("--private", action="store_true", help="with --push-to-hub: a private repo")
    build.set_defaults(func=run_build)


def backend_options(args: argparse.Namespace):
    """The chosen backend's options dataclass from the command line; options of another backend are refused."""
    from freq_unlearn.core.errors import UserError

    from .infinigram_api import DEFAULT_API_INDEX, DEFAULT_API_URL, ApiOptions
    from .infinigram_local import LocalIndexOptions
    from .scan import ScanOptions

    if args.backend != "scan" and args.window is not None:
        raise UserError("--window is supported by the scan backend only")
    if args.backend == "scan":
        if args.mode not in (None, "docs"):
            raise UserError("the scan backend counts documents only: drop --mode cnf")
        if not args.corpus:
            raise UserError("--corpus is required for the scan backend")
        slurm = {}
        if args.slurm:
            try:
                slurm = json.loads(args.slurm)
            except json.JSONDecodeError as err:
                raise UserError(f"--slurm: not JSON ({err})") from None
        return ScanOptions(executor=args.executor, workers=args.workers, shards=args.shards, window=args.window,
                           work_dir=args.work_dir, keep_work=args.keep_work, slurm=slurm)
    if args.backend == "infini-gram":
        return LocalIndexOptions(index_dir=args.index_dir, tokenizer=args.tokenizer, mode=args.mode or "docs")
    if args.mode not in (None, "cnf"):
        raise UserError("the infini-gram API cannot count document co-occurrence: use --mode cnf")
    return ApiOptions(url=args.api_url or DEFAULT_API_URL, index=args.api_index or DEFAULT_API_INDEX)


def run_count(args: argparse.Namespace) -> int:
    import sys

    from .counting import count_facts
    from .options import MatchOptions

    if args.tasks_deprecated is not None:
        print("freq-unlearn count: --tasks is deprecated, use --shards (datatrove tasks)", file=sys.stderr)
        args.shards = args.shards if args.shards is not None else args.tasks_deprecated
    match = MatchOptions(casing=args.casing, aliases=args.aliases, word_boundaries=args.word_boundaries,
                         normalization=args.normalization)
    df = count_facts(args.corpus, args.facts, args.out, backend=args.backend, options=backend_options(args),
                     match=match, strict=args.strict)
    if df is None:
        print(f"submitted to Slurm; the merge job writes {args.out}")
    else:
        print(f"wrote {args.out}: {len(df)} facts, median count {df['count'].median():g}, max {df['count'].max()}")
    return 0


def _read_ids(path: Path | None) -> list[str] | None:
    if path is None:
        return None
    from freq_unlearn.core.errors import UserError

    if not path.is_file():
        raise UserError(f"{path}: id file not found")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_build(args: argparse.Namespace) -> int:
    from .benchmark import build_benchmark, push_benchmark

    dd = build_benchmark(
        args.facts, args.counts, args.out, strata=args.strata, cuts=tuple(args.cuts) if args.cuts else None,
        balance=args.balance, allow_empty=args.allow_empty, retain_ids=_read_ids(args.retain_ids),
        utility_ids=_read_ids(args.utility_ids), retain_fraction=args.retain_fraction,
        utility_fraction=args.utility_fraction, name=args.name, seed=args.seed,
    )
    sizes = ", ".join(f"{split} {len(ds)}" for split, ds in dd.items())
    print(f"wrote {args.out}: {sizes}")
    if args.push_to_hub:
        url = push_benchmark(args.out, args.push_to_hub, private=args.private)
        print(f"pushed to {url}")
    return 0
