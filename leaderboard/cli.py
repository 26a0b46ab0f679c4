"""`freq-unlearn leaderboard {init,submit,reset,list,export,serve}`.

    freq-unlearn leaderboard init   --store DIR --benchmark B --base-model M [--limit N] [--people FACTS]
    freq-unlearn leaderboard submit --store DIR CHECKPOINT... | --metadata FILE
    freq-unlearn leaderboard list   --store DIR [--sort COLUMN] [--search TEXT]
    freq-unlearn leaderboard reset  --store DIR SUBMISSION_ID
    freq-unlearn leaderboard export --store DIR --out OUT [--force]
    freq-unlearn leaderboard serve  --store DIR [--host 127.0.0.1] [--port 7860]

``--hub-requests ID --hub-results ID`` keep the store in two Hub dataset repos instead
(``--store`` is then the local cache folder). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _store_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default="leaderboard_store", help="store folder (default: ./leaderboard_store)")
    p.add_argument("--hub-requests", metavar="ID", help="Hub dataset repo for requests (with --hub-results)")
    p.add_argument("--hub-results", metavar="ID", help="Hub dataset repo for results (with --hub-requests)")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "leaderboard",
        help="submit unlearned checkpoints, rank them per frequency stratum, serve or export the page",
        description="Leaderboard: submissions -> lm-eval evaluation through the suite's tasks -> store -> ranking, "
        "Gradio page and static export. See leaderboard/README.md for the headline score.",
    )
    sub = p.add_subparsers(dest="leaderboard_command", metavar="ACTION", required=True)

    q = sub.add_parser("init", help="register the benchmark and its base model in a store")
    _store_args(q)
    q.add_argument("--benchmark", required=True, help="benchmark folder or Hub dataset id")
    q.add_argument("--base-model", required=True, help="the model the benchmark was built on (folder or Hub id)")
    q.add_argument("--dataset", default="synthetic", help="task family name: freq_unlearn_<dataset>_<split>_<variant>")
    q.add_argument("--limit", type=int, help="evaluate only the first N items of every split (same for all)")
    q.add_argument("--max-checkpoint-gb", type=float, default=20.0, help="refuse checkpoints larger than this")
    q.add_argument("--force", action="store_true", help="replace the registration of a store that holds results")
    q.add_argument("--people", help="a world's facts.parquet (or a person_id/group/biography table with held-out "
                   "people): every submission also gets the relearning and membership-inference columns")
    q.add_argument("--relearn-steps", default="0,10", help="relearning attack schedule with --people (default 0,10)")
    q.set_defaults(func=_init)

    q = sub.add_parser("submit", help="validate, evaluate and store a submission")
    _store_args(q)
    q.add_argument("checkpoints", nargs="*", type=Path, help="checkpoint folders with run_record.json (one per seed)")
    q.add_argument("--metadata", type=Path, help="submission metadata JSON (schema freq_unlearn.submission/1)")
    q.add_argument("--device", default="cpu", help="torch device for evaluation (default cpu)")
    q.add_argument("--batch-size", type=int, default=16)
    q.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for one-seed intervals")
    q.set_defaults(func=_submit)

    q = sub.add_parser("reset", help="mark a PENDING/RUNNING request whose evaluation died as FAILED")
    _store_args(q)
    q.add_argument("submission_id", help="the request's id (see `list --requests`)")
    q.set_defaults(func=_reset)

    q = sub.add_parser("list", help="print the ranking as a Markdown table")
    _store_args(q)
    q.add_argument("--sort", default="Headline", help="column to sort by (default Headline)")
    q.add_argument("--ascending", action="store_true")
    q.add_argument("--search", default="", help="only rows whose method/split/id contains this text")
    q.add_argument("--columns", help="comma-separated columns to show (default: all)")
    q.add_argument("--requests", action="store_true", help="list the requests and their status instead")
    q.set_defaults(func=_list)

    q = sub.add_parser("export", help="write a static page (HTML + PNG/SVG plots)")
    _store_args(q)
    q.add_argument("--out", required=True, type=Path, help="output folder")
    q.add_argument("--title", default="freq-unlearn leaderboard")
    q.add_argument("--force", action="store_true", help="replace an existing, non-empty --out folder")
    q.set_defaults(func=_export)

    q = sub.add_parser("serve", help="serve the Gradio page")
    _store_args(q)
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--port", type=int, default=7860)
    q.set_defaults(func=_serve)


def _open(args: argparse.Namespace):
    from freq_unlearn.leaderboard.store import open_store

    return open_store(args.store, args.hub_requests, args.hub_results)


def _user_errors():
    """Map the leaderboard's own error types to the CLI's one-line UserError."""
    import contextlib

    from freq_unlearn.core.errors import UserError
    from freq_unlearn.leaderboard.checkpoint import CheckpointError
    from freq_unlearn.leaderboard.store import StoreError
    from freq_unlearn.leaderboard.submission import SubmissionError

    @contextlib.contextmanager
    def mapped():
        try:
            yield
        except (CheckpointError, StoreError, SubmissionError) as err:
            raise UserError(str(err)) from None

    return mapped()


def _init(args: argparse.Namespace) -> int:
    from freq_unlearn.core.errors import UserError
    from freq_unlearn.leaderboard.submit import init_store

    with _user_errors():
        try:
            steps = tuple(int(x) for x in args.relearn_steps.split(",") if x.strip())
        except ValueError:
            raise UserError(f"--relearn-steps: expected comma-separated integers like 0,10, got {args.relearn_steps!r}") from None
        config = init_store(_open(args), args.benchmark, args.base_model, args.dataset, args.limit,
                            int(args.max_checkpoint_gb * 1024**3), args.force, args.people, steps)
    print(f"registered benchmark {config['benchmark']} with base model {config['base_model']}"
          f" ({len(config['tasks'])} tasks, limit {config['limit']})")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from freq_unlearn.leaderboard.submission import load_submission
    from freq_unlearn.leaderboard.submit import submit

    with _user_errors():
        store = _open(args)
        submission = load_submission(list(args.checkpoints), args.metadata)
        sid, result = submit(store, submission, args.device, args.batch_size, args.n_boot)
    h = result["metrics"]["headline"]
    ci = f" [{h['ci_low']:.3f}, {h['ci_high']:.3f}]" if h.get("ci_low") is not None else ""
    value = f"{h['value']:.3f}" if h.get("value") is not None else "n/a"
    print(f"{submission.method}: submission {sid} FINISHED; headline {value}{ci} over {len(result['seeds'])} seed(s)")
    return 0


def _reset(args: argparse.Namespace) -> int:
    with _user_errors():
        was = _open(args).reset(args.submission_id)
    print(f"request {args.submission_id}: FAILED (was {was}); it may be submitted again")
    return 0


def _list(args: argparse.Namespace) -> int:
    from freq_unlearn.leaderboard.ranking import filter_rows, format_table, rank, sort_rows

    with _user_errors():
        store = _open(args)
        store.config()
        if args.requests:
            from freq_unlearn.leaderboard.ranking import one_line

            for r in store.requests():  # one line per request, whatever its text holds
                print(one_line(f"{r['submission_id']}  {r['status']:<8}  {r['method']}  {r.get('reason') or ''}"))
            return 0
        rows = rank(store.results())
    try:
        rows = sort_rows(filter_rows(rows, args.search), args.sort, descending=not args.ascending)
    except KeyError as err:
        from freq_unlearn.core.errors import UserError

        raise UserError(str(err.args[0])) from None
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    print(format_table(rows, columns))
    return 0


def _export(args: argparse.Namespace) -> int:
    from freq_unlearn.leaderboard.export import export

    with _user_errors():
        store = _open(args)
        files = export(store.results(), args.out, store.config(), title=args.title, force=args.force)
    print(f"wrote {files['index']} and {len(files) - 1} more files")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from freq_unlearn.core.errors import UserError
    from freq_unlearn.leaderboard.app import serve

    try:  # before anything is printed: the page cannot be served without it
        import gradio  # noqa: F401
    except ImportError:
        raise UserError("`leaderboard serve` needs gradio, which is not installed:"
                        " pip install 'freq-unlearn[leaderboard]'") from None
    with _user_errors():
        store = _open(args)
        store.config()
        store.results()  # fail fast, in one line, on a tampered store
    print(f"serving on http://{args.host}:{args.port}/ (Ctrl-C stops)")
    serve(store, args.host, args.port, block=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m freq_unlearn.leaderboard ACTION ...`: this subcommand alone."""
    import sys

    from freq_unlearn.core.errors import UserError

    parser = argparse.ArgumentParser(prog="freq-unlearn")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["leaderboard", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"freq-unlearn leaderboard: error: {err}", file=sys.stderr)
        return 2
