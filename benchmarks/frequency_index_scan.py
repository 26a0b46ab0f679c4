"""Speed and memory of fact counting, measured side by side in one run (issue 3).

    python benchmarks/frequency_index_scan.py                 # quick: 20 MB corpus, 10k facts
    python benchmarks/frequency_index_scan.py --size-mb 500   # the issue's size (>= 500 MB, >= 10k facts)
    python benchmarks/frequency_index_scan.py --size-mb 500 --paired 5   # scan / io in paired rounds

Generates a Dolma-style corpus (gzipped JSONL shards of biographies of made-up people plus
filler text) and a facts table, then times, each in a fresh process (peak RSS from wait4):

* io        the same datatrove reader (decompress + parse) with no matching: the I/O limit
* scan      count_facts(backend="scan") with 1k / 10k / 100k facts, 1 and 2 workers, and 10k facts
            without Unicode/whitespace normalisation (its cost)
* scan-half the 10k-fact scan on half the corpus (memory must not grow with the corpus)
* naive     a per-fact search (`subject in text and object in text`, one pass per fact),
            timed on --naive-facts facts and extrapolated linearly to 10k
* infini    the local infini-gram backend: index build + all 10k queries (--skip-infini to skip)

and prints the ratios. Timings are wall-clock on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

RELATIONS = ("birth_date", "birth_city", "university", "major", "employer", "employer_city")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
SYLLABLES = ("ka", "lo", "mi", "ren", "tor", "va", "shi", "dun", "bel", "cor", "fa", "gri", "hal", "jo",
             "kes", "lam", "nor", "pel", "quin", "ros", "sa", "tev", "ul", "wen", "yar", "zol")
FILLER = ("the of and a to in is was for on that with as by at from this it an be are or which had "
          "its also their were has been one new other first after two more most some into these "
          "city year work study time people during between known called later within under").split()


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def make_people(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    cities = sorted({_word(rng, 3) + "ton" for _ in range(400)})
    unis = [f"University of {c}" for c in cities[:150]]
    majors = sorted({_word(rng, 2) + "ology" for _ in range(120)})
    firms = sorted({_word(rng, 3) + " Corp" for _ in range(500)})
    names, people = set(), []
    while len(people) < n:
        name = f"{_word(rng, 2)} {_word(rng, 3)}"
        if name in names:
            continue
        names.add(name)
        people.append({
            "name": name,
            "birth_date": f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(1940, 2005)}",
            "birth_city": rng.choice(cities), "university": rng.choice(unis), "major": rng.choice(majors),
            "employer": rng.choice(firms), "employer_city": rng.choice(cities),
        })
    return people


def bio(p: dict, rng: random.Random) -> str:
    return (f"{p['name']} was born on {p['birth_date']} in {p['birth_city']}. {p['name']} studied "
            f"{p['major']} at {p['university']} and later worked for {p['employer']} in {p['employer_city']}. ")


def generate(data: Path, size_mb: int, n_people: int, seed: int = 0) -> tuple[Path, Path]:
    """Corpus shards + a facts table; cached in ``data`` by size and seed."""
    import pandas as pd

    folder = data / f"corpus-{size_mb}mb-{n_people}p-s{seed}"
    facts_path = folder / "facts.parquet"
    if (folder / ".complete").exists():
        return folder / "corpus", facts_path
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "corpus").mkdir(parents=True)
    people = make_people(n_people, seed)
    rng = random.Random(seed + 1)
    target, written, shard, doc_id = size_mb * 1_000_000, 0, 0, 0
    shard_bytes = max(target // 16, 1_000_000)
    print(f"generating {size_mb} MB corpus with {n_people} people in {folder} ...", flush=True)
    while written < target:
        size = 0
        with gzip.open(folder / "corpus" / f"shard_{shard:04d}.jsonl.gz", "wt", compresslevel=1) as f:
            while size < shard_bytes and written + size < target:
                parts = []
                for _ in range(rng.randint(1, 3)):
                    parts.append(bio(rng.choice(people), rng))
                    parts.append(" ".join(rng.choices(FILLER, k=rng.randint(60, 200))) + ". ")
                text = "".join(parts)
                f.write(json.dumps({"id": f"doc{doc_id}", "text": text, "source": "bench", "metadata": {}}) + "\n")
                size += len(text)
                doc_id += 1
        written += size
        shard += 1
    rows = [{"fact_id": f"p{i:06d}/{r}", "subject": p["name"], "relation": r, "object": p[r]}
            for i, p in enumerate(people) for r in RELATIONS]
    pd.DataFrame(rows).to_parquet(facts_path)
    (folder / ".complete").write_text(json.dumps({"documents": doc_id, "text_bytes": written, "shards": shard}))
    return folder / "corpus", facts_path


# --- measurements, each run in a fresh process -------------------------------------------------


def measure_io(corpus: str) -> dict:
    from datatrove.executor import LocalPipelineExecutor

    from freq_unlearn.frequency_index.corpus import corpus_readers, resolve_corpus

    work = Path(os.environ["BENCH_WORK"])
    files = resolve_corpus([corpus])
    pipeline = corpus_readers(files, str(work / "paths"), strict=False, rejects_folder=None)
    n = {"docs": 0}

    def consume(data, rank, world_size):
        for _ in data:
            n["docs"] += 1
        return
        yield

    LocalPipelineExecutor(pipeline + [consume], tasks=files.n_files, workers=1, logging_dir=str(work / "logs")).run()
    return {"documents": n["docs"]}


def measure_scan(corpus: str, facts: str, n_facts: int, workers: int, normalization: str = "nfkc") -> dict:
    import pandas as pd

    from freq_unlearn.frequency_index import MatchOptions, ScanOptions, count_facts

    work = Path(os.environ["BENCH_WORK"])
    df = pd.read_parquet(facts).iloc[:n_facts]
    counts = count_facts([corpus], df, work / "counts.parquet", options=ScanOptions(workers=workers),
                         match=MatchOptions(normalization=normalization), progress=False)
    return {"facts": len(counts), "count_sum": int(counts["count"].sum())}


def measure_naive(corpus: str, facts: str, n_facts: int) -> dict:
    import pandas as pd

    df = pd.read_parquet(facts).iloc[:: max(1, len(pd.read_parquet(facts)) // n_facts)].iloc[:n_facts]
    counts = []
    for row in df.itertuples():  # the obvious baseline: one pass over the corpus per fact
        c = 0
        for shard in sorted(Path(corpus).glob("*.jsonl.gz")):
            with gzip.open(shard, "rt") as f:
                for line in f:
                    text = json.loads(line)["text"]
                    if row.subject in text and row.object in text:
                        c += 1
        counts.append(c)
    return {"facts": len(counts)}


def measure_infini(corpus: str, facts: str, n_facts: int) -> dict:
    import pandas as pd

    from freq_unlearn.frequency_index import LocalIndexOptions, count_facts

    work = Path(os.environ["BENCH_WORK"])
    df = pd.read_parquet(facts).iloc[:n_facts]
    t0 = time.perf_counter()
    from freq_unlearn.frequency_index.infinigram_local import build_index

    build_index([corpus], work / "index", progress=False)
    t_build = time.perf_counter() - t0
    counts = count_facts([], df, work / "counts.parquet", backend="infini-gram",
                         options=LocalIndexOptions(index_dir=work / "index"), progress=False)
    index_bytes = sum(p.stat().st_size for p in (work / "index").iterdir())
    return {"build_s": t_build, "query_s": time.perf_counter() - t0 - t_build, "facts": len(counts),
            "index_bytes": index_bytes}


def paired_rounds(corpus: Path, facts: Path, data: Path, rounds: int) -> None:
    """io then the 10k-fact scan, ``rounds`` times in this one process, with each round's ratio: on a
    machine whose speed drifts, two runs seconds apart share its state better than the fastest of
    runs minutes apart (no process start-up in either; no peak RSS)."""
    import statistics

    import pandas  # noqa: F401  (imports made before the first round, not inside it)
    from datatrove.executor import LocalPipelineExecutor  # noqa: F401

    from freq_unlearn.frequency_index import count_facts  # noqa: F401

    os.environ["BENCH_WORK"] = str(data / f"work-paired-{os.getpid()}")
    ratios = []
    for round_no in range(rounds):
        walls = []
        for fn, fn_args in ((measure_io, (str(corpus),)), (measure_scan, (str(corpus), str(facts), 10000, 1))):
            shutil.rmtree(os.environ["BENCH_WORK"], ignore_errors=True)
            Path(os.environ["BENCH_WORK"]).mkdir(parents=True)
            t0 = time.perf_counter()
            with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):  # datatrove's task logs
                fn(*fn_args)
            walls.append(time.perf_counter() - t0)
        ratios.append(walls[1] / walls[0])
        print(f"  [{round_no + 1}/{rounds}] io {walls[0]:6.1f} s   scan 10k {walls[1]:6.1f} s   scan / io {ratios[-1]:5.2f}",
              flush=True)
    shutil.rmtree(os.environ["BENCH_WORK"], ignore_errors=True)
    print(f"\nscan 10k / io limit, paired rounds: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f}-{max(ratios):.2f}   [<= 1.5]")


def run_measurement(kind: str, args: list[str], data: Path) -> dict:
    """Run one measurement in a fresh process; wall time and its peak RSS (wait4)."""
    work = data / f"work-{kind}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "BENCH_WORK": str(work), "TOKENIZERS_PARALLELISM": "false"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--_measure", kind, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    if status != 0:
        raise RuntimeError(f"measurement {kind} {args} failed (status {status})")
    result = json.loads(out.strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux; forked datatrove workers are separate children, not included
    return {**result, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=20, help="uncompressed text of the corpus (issue: 500)")
    parser.add_argument("--people", type=int, default=17000, help="people (6 facts each; 17000 -> 102k facts)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/freq_unlearn_bench"))
    parser.add_argument("--naive-facts", type=int, default=10, help="facts timed for the naive baseline")
    parser.add_argument("--skip-infini", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the whole plan N times, round robin, and keep each run's fastest wall time "
                             "(on a shared machine the minimum is the least disturbed measurement)")
    parser.add_argument("--only", help="comma-separated labels of the runs to time (e.g. 'io,scan 1k,scan 100k'); "
                                       "ratios whose runs were left out are not printed")
    parser.add_argument("--paired", type=int, metavar="N",
                        help="instead of the plan: N rounds of io then the 10k-fact scan in one process, "
                             "with each round's scan / io ratio and their median")
    parser.add_argument("--_measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._measure:
        kind, rest = args._measure[0], args._measure[1:]
        fn = {"io": measure_io, "scan": measure_scan, "naive": measure_naive, "infini": measure_infini}[kind]
        typed = [int(x) if x.isdigit() else x for x in rest]
        print(json.dumps(fn(*typed)))
        return

    corpus, facts = generate(args.data, args.size_mb, args.people)
    if args.paired:
        paired_rounds(corpus, facts, args.data, args.paired)
        return
    half_corpus, half_facts = generate(args.data, max(1, args.size_mb // 2), args.people)
    info = json.loads((corpus.parent / ".complete").read_text())
    print(f"corpus: {info['text_bytes'] / 1e6:.0f} MB text, {info['documents']} documents, {info['shards']} shards; "
          f"facts: {args.people * 6}", flush=True)
    r: dict[str, dict] = {}
    plan = [
        ("io", "io", [str(corpus)]),
        ("scan 10k", "scan", [str(corpus), str(facts), "10000", "1"]),
        ("scan 1k", "scan", [str(corpus), str(facts), "1000", "1"]),
        ("scan 100k", "scan", [str(corpus), str(facts), str(args.people * 6), "1"]),
        ("scan 10k, 2 workers", "scan", [str(corpus), str(facts), "10000", "2"]),
        ("scan 10k, no normalization", "scan", [str(corpus), str(facts), "10000", "1", "none"]),
        ("scan 10k, half corpus", "scan", [str(half_corpus), str(half_facts), "10000", "1"]),
        (f"naive {args.naive_facts} facts", "naive", [str(corpus), str(facts), str(args.naive_facts)]),
    ]
    if not args.skip_infini:
        plan.append(("infini-gram 10k", "infini", [str(corpus), str(facts), "10000"]))
    if args.only:
        wanted = {label.strip() for label in args.only.split(",")}
        unknown = wanted - {label for label, _, _ in plan}
        if unknown:
            parser.error(f"--only: no run named {sorted(unknown)[0]!r} (runs: {', '.join(label for label, _, _ in plan)})")
        plan = [step for step in plan if step[0] in wanted]
    for round_no in range(args.repeat):
        for label, kind, margs in plan:
            m = run_measurement(kind, margs, args.data)
            if label not in r or m["wall_s"] < r[label]["wall_s"]:
                r[label] = {**m, "peak_rss_mb": max(m["peak_rss_mb"], r.get(label, {}).get("peak_rss_mb", 0))}
            print(f"  [{round_no + 1}/{args.repeat}] {label:28s} {m['wall_s']:8.1f} s   peak RSS {m['peak_rss_mb']:7.0f} MB",
                  flush=True)
    print(f"\nfastest of {args.repeat} per run (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for label in r:
        print(f"  {label:28s} {r[label]['wall_s']:8.1f} s   peak RSS {r[label]['peak_rss_mb']:7.0f} MB")

    print("\nratios (goal in brackets)")

    def ratio(label: str, top: str, bottom: str, goal: str) -> None:
        if top in r and bottom in r:
            print(f"  {label:34s} {r[top]['wall_s'] / r[bottom]['wall_s']:6.2f}   [{goal}]")

    ratio("scan 10k / io limit", "scan 10k", "io", "<= 1.5")
    naive = f"naive {args.naive_facts} facts"
    if naive in r and "scan 10k" in r:
        naive_10k = r[naive]["wall_s"] / args.naive_facts * 10000
        print(f"  naive (extrapolated to 10k) / scan {naive_10k / r['scan 10k']['wall_s']:8.0f}x")
    if "infini-gram 10k" in r and "scan 10k" in r:
        ig = r["infini-gram 10k"]
        print(f"  infini-gram (build + queries) / scan {ig['wall_s'] / r['scan 10k']['wall_s']:6.2f}"
              f"   (build {ig['build_s']:.0f} s, queries {ig['query_s']:.0f} s, index {ig['index_bytes'] / 1e9:.2f} GB)")
    ratio("scan 1k / 10k facts", "scan 1k", "scan 10k", "near flat")
    ratio("scan 100k / 10k facts", "scan 100k", "scan 10k", "near flat")
    ratio("scan 100k / 1k facts", "scan 100k", "scan 1k", "<= 1.3")
    ratio("scan 2 workers / 1 worker", "scan 10k, 2 workers", "scan 10k", "< 1 with 2 free cores")
    ratio("scan / scan without normalization", "scan 10k", "scan 10k, no normalization",
          "the cost of Unicode + whitespace normalisation")
    if "scan 10k" in r and "scan 10k, half corpus" in r:
        print(f"  {'peak RSS full / half corpus':34s} {r['scan 10k']['peak_rss_mb'] / r['scan 10k, half corpus']['peak_rss_mb']:6.2f}"
              "   [~1: memory does not grow with the corpus]")


if __name__ == "__main__":
    main()
