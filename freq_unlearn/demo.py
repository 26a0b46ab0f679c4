"""`freq-unlearn demo`: the whole suite end to end on the embedded synthetic world.

A run is a list of stages, each writing one folder or file under DIR; a finished stage is reused,
so a rerun after an interruption continues where it stopped:

    world -> pretrain (each size) -> count (checked against the true counts) -> build benchmark
    -> evaluate base models (lm-eval tasks) -> unlearn (size x method x stratum x seed)
    -> evaluate unlearned models (lm-eval tasks) -> leaderboard -> analysis -> DIR/report.md

Every setting of a run (world, sizes, methods and their hyperparameters, seeds) is fixed in a
preset below, before any result is seen; `demo_settings.json` records it and a rerun with other
settings into the same folder is refused.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import atomic_write_text

ALL_METHODS = ("ga", "graddiff", "npo", "simnpo", "idk", "idkdpo", "rmu")
STRATA = ("low", "medium", "high")


@dataclass(frozen=True)
class DemoPreset:
    world: dict[str, Any]
    sizes: tuple[str, ...]
    epochs: dict[str, int] = field(default_factory=dict)  # per-size override of the preset epochs
    methods: tuple[str, ...] = ALL_METHODS
    sweep_methods: tuple[str, ...] = ALL_METHODS  # methods run on every size (the others: main size)
    main_size: str = "small"
    seeds: tuple[int, ...] = (0, 1)
    eval_limit: int | None = 60  # items per split and task in the lm-eval evaluations
    unlearn: dict[str, Any] = field(default_factory=dict)  # shared TrainingArguments overrides
    leaderboard_methods: tuple[str, ...] = ALL_METHODS
    leaderboard_stratum: str = "high"


# Unlearning hyperparameters, the same for every method and fixed before looking at any frequency
# result: the paper's recipe (each forget example paired with a retain example, answer-only loss)
# at a strength chosen once on one GA run of the tiny model on forget_high, as the learning rate at
# which 40 steps of batch 16 forget most known facts while retain accuracy stays >= 90%
# (forget exact-contains 0.47 -> 0.06, retain 1.00 -> 0.91; 3e-4 destroyed retain, 1e-4 did not).
UNLEARN = dict(learning_rate=1e-4, max_steps=40, per_device_train_batch_size=16, warmup_steps=0,
               metrics_steps=10, metrics_max_items=32)

PRESETS: dict[str, DemoPreset] = {
    # CI's end-to-end test: every stage, on a tiny world, one size, two methods.
    "quick": DemoPreset(
        world=dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20),
        sizes=("tiny",), methods=("ga", "npo"), sweep_methods=("ga", "npo"),
        main_size="tiny", seeds=(0,), eval_limit=24, unlearn=dict(UNLEARN, metrics_max_items=16),
        leaderboard_methods=("ga", "npo"),
    ),
    # The default: the paper's x10 upsampling with a middle tier, three model sizes, every fact of
    # every split evaluated. The world is the quick one (96 people), so that three sizes, seven
    # methods, three strata and two seeds fit in about 15 minutes on 2 cores.
    "default": DemoPreset(
        world=dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20),
        sizes=("tiny", "mini", "small"), main_size="mini", eval_limit=None,
        sweep_methods=("ga", "simnpo"), unlearn=UNLEARN,
    ),
    # The paper's scale (10,000 people; GPT-2 from ~26M to ~300M parameters): GPUs only. The tiered
    # design keeps the paper's x10 and x1 groups and adds the x3 tier the three strata need.
    "paper": DemoPreset(
        world=dict(design="tiered", people_per_tier=2000, n_retain=2000, n_utility=2000, n_cities=150),
        sizes=("paper-s", "paper-l"), main_size="paper-s", seeds=(0, 1, 2), eval_limit=None,
        unlearn=dict(UNLEARN, learning_rate=1e-5, max_steps=200, per_device_train_batch_size=32),
    ),
}


class Demo:
    def __init__(self, out: Path, preset: DemoPreset, seed: int = 0) -> None:
        self.out, self.preset, self.seed = Path(out), preset, seed
        self.log: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ paths
    @property
    def world_dir(self) -> Path:
        return self.out / "world"

    @property
    def benchmark_dir(self) -> Path:
        return self.out / "benchmark"

    def model_dir(self, size: str) -> Path:
        return self.out / "models" / size

    def run_dir(self, size: str, method: str, stratum: str, seed: int) -> Path:
        return self.out / "unlearn" / size / method / stratum / f"seed{seed}"

    def eval_file(self, size: str, method: str | None = None, stratum: str | None = None,
                  seed: int | None = None) -> Path:
        if method is None:
            return self.out / "eval" / size / "base.json"
        return self.out / "eval" / size / method / stratum / f"seed{seed}.json"

    def runs(self) -> list[tuple[str, str, str, int]]:
        p = self.preset
        return [(size, method, stratum, seed)
                for size in p.sizes
                for method in (p.methods if size == p.main_size else p.sweep_methods)
                for stratum in STRATA for seed in p.seeds]

    # ------------------------------------------------------------------ stages
    def stage(self, name: str, done: Path, run: Callable[[], None], marker: bool = True) -> None:
        """Run `run` unless `done` exists; folders get a completion marker, files are atomic."""
        flag = done / ".stage-complete" if marker else done
        if flag.exists():
            self.log.append({"stage": name, "reused": True, "seconds": 0.0})
            return
        print(f"[demo] {name} ...", flush=True)
        started = time.perf_counter()
        run()
        if marker:
            flag.write_text("ok\n")
        seconds = time.perf_counter() - started
        self.log.append({"stage": name, "reused": False, "seconds": round(seconds, 1)})
        print(f"[demo] {name}: {seconds:.0f} s", flush=True)

    def make_world(self) -> None:
        from freq_unlearn.world import WorldConfig, generate_world

        generate_world(self.world_dir, WorldConfig(**self.preset.world, seed=self.seed), overwrite=True)

    def make_model(self, size: str) -> None:
        from freq_unlearn.pretrain import PretrainConfig, pretrain

        out = self.model_dir(size)
        config = PretrainConfig(size=size, epochs=self.preset.epochs.get(size), seed=self.seed)
        partial = out.with_name(size + ".partial")
        pretrain(self.world_dir, out, config, overwrite=True, resume=partial.exists())

    def make_counts(self) -> None:
        """Count with the `scan` backend and check every count against the world's truth."""
        from freq_unlearn.frequency_index import count_facts
        from freq_unlearn.world import load_world

        world = load_world(self.world_dir)
        out = self.out / "counts"
        out.mkdir(parents=True, exist_ok=True)
        counts = count_facts([str(p) for p in world.corpus_files], world.facts_path, out / "counts.parquet")
        truth = world.facts().set_index("fact_id")["true_count"]
        merged = counts.set_index("fact_id")["count"].reindex(truth.index)
        wrong = merged[merged != truth]
        check = {"facts": int(len(truth)), "exact": int((merged == truth).sum()), "mismatches": int(len(wrong)),
                 "first_mismatch": None if wrong.empty else str(wrong.index[0])}
        atomic_write_text(out / "check.json", json.dumps(check, indent=2))
        if len(wrong):
            raise UserError(f"counting disagrees with the world's true counts on {len(wrong)} facts "
                            f"(first: {wrong.index[0]}); see {out / 'check.json'}")

    def make_benchmark(self) -> None:
        from freq_unlearn.frequency_index import build_benchmark

        build_benchmark(self.world_dir / "facts.parquet", self.out / "counts" / "counts.parquet",
                        self.benchmark_dir, name="freq-unlearn synthetic demo", overwrite=True, seed=self.seed)

    def tasks_for(self, splits: tuple[str, ...]) -> list[str]:
        return [f"freq_unlearn_synthetic_{s}_{v}" for s in splits for v in ("gen", "ll")]

    def evaluate(self, model: Path, splits: tuple[str, ...], out: Path) -> None:
        from freq_unlearn.leaderboard.scoring import evaluate_model

        records = evaluate_model(model, str(self.benchmark_dir), self.tasks_for(splits), self.preset.eval_limit)
        atomic_write_text(out, json.dumps({"model": str(model), "splits": list(splits), "records": records}))

    def unlearn(self, size: str, method: str, stratum: str, seed: int) -> None:
        from freq_unlearn.unlearn_methods import unlearn

        out = self.run_dir(size, method, stratum, seed)
        if out.exists():  # an interrupted run: start it again from scratch (runs are short)
            shutil.rmtree(out)
        unlearn(model=str(self.model_dir(size)), benchmark=str(self.benchmark_dir), forget=stratum,
                method=method, out=str(out), retain="retain", seed=seed, **self.preset.unlearn)

    def make_leaderboard(self) -> None:
        from freq_unlearn.leaderboard.store import LocalStore
        from freq_unlearn.leaderboard.submission import CheckpointRef, Submission
        from freq_unlearn.leaderboard.submit import init_store, submit
        from freq_unlearn.leaderboard.export import export

        p = self.preset
        store = LocalStore(self.out / "leaderboard" / "store")
        init_store(store, str(self.benchmark_dir), str(self.model_dir(p.main_size)), limit=p.eval_limit, force=True)
        for method in p.leaderboard_methods:
            runs = [self.run_dir(p.main_size, method, p.leaderboard_stratum, s) for s in p.seeds]
            record = json.loads((runs[0] / "run_record.json").read_text())
            sub = Submission(
                method=method, base_model=str(self.model_dir(p.main_size)),
                forget_split=f"forget_{p.leaderboard_stratum}", hyperparameters=record["hyperparameters"],
                checkpoints=[CheckpointRef(str(r), s) for r, s in zip(runs, p.seeds)],
                compute={"device": record["device"], "wall_time_s": record["wall_time_s"]},
                code_url="freq-unlearn demo", source="run_record",
            )
            submit(store, sub, progress=lambda m: print(f"[demo]   leaderboard: {m}", flush=True))
        export(store.results(), self.out / "leaderboard" / "site", store.config(),
               title="freq-unlearn demo leaderboard")

    # ------------------------------------------------------------------ the run
    def run(self) -> Path:
        _quiet_libraries()
        p = self.preset
        started = time.perf_counter()
        self.stage("world", self.world_dir, self.make_world)
        for size in p.sizes:
            self.stage(f"pretrain {size}", self.model_dir(size), lambda size=size: self.make_model(size))
        self.stage("count + check against the true counts", self.out / "counts", self.make_counts)
        self.stage("build benchmark", self.benchmark_dir, self.make_benchmark)
        every_split = tuple(f"forget_{s}" for s in STRATA) + ("retain", "utility")
        for size in p.sizes:
            self.stage(f"evaluate base {size}", self.eval_file(size),
                       lambda size=size: self.evaluate(self.model_dir(size), every_split, self.eval_file(size)),
                       marker=False)
        runs = self.runs()
        for i, (size, method, stratum, seed) in enumerate(runs, 1):
            tag = f"[{i}/{len(runs)}] {size} {method} forget_{stratum} seed {seed}"
            run_dir = self.run_dir(size, method, stratum, seed)
            self.stage(f"unlearn {tag}", run_dir, lambda a=(size, method, stratum, seed): self.unlearn(*a))
            self.stage(f"evaluate {tag}", self.eval_file(size, method, stratum, seed),
                       lambda r=run_dir, a=(size, method, stratum, seed): self.evaluate(
                           r, (f"forget_{stratum}", "retain", "utility"), self.eval_file(*a)),
                       marker=False)
        if p.leaderboard_methods:
            self.stage("leaderboard", self.out / "leaderboard", self.make_leaderboard)
        from freq_unlearn.demo_report import write_report

        report = write_report(self, time.perf_counter() - started)
        print(f"[demo] report: {report}", flush=True)
        return report


def _quiet_libraries() -> None:
    """Keep the demo's own progress lines readable: libraries report errors only."""
    import logging

    for name in ("lm_eval", "datasets", "transformers", "accelerate", "datatrove", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.logging.set_verbosity_error()
    except ImportError:
        pass


def run_demo(out: Path, preset_name: str = "default", seed: int = 0) -> Path:
    if preset_name not in PRESETS:
        raise UserError(f"demo preset {preset_name!r} is unknown; choose one of {', '.join(PRESETS)}")
    preset = PRESETS[preset_name]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = json.loads(json.dumps({"preset": preset_name, "seed": seed, **asdict(preset)}))
    settings_file = out / "demo_settings.json"
    if settings_file.exists() and json.loads(settings_file.read_text()) != settings:
        raise UserError(f"{out} holds a demo run with other settings ({settings_file}); use another --out")
    atomic_write_text(settings_file, json.dumps(settings, indent=2))
    return Demo(out, preset, seed).run()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the whole suite end to end on the embedded synthetic world",
        description="world -> pre-training -> counting -> benchmark -> lm-eval -> unlearning -> "
        "leaderboard -> DIR/report.md. Finished stages are reused when rerun into the same folder.",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_const", dest="preset", const="quick",
                   help="tiny world, one tiny model, two methods: every stage in a few minutes (CI)")
    g.add_argument("--preset", choices=list(PRESETS), default="default",
                   help="default: 3 model sizes, 7 methods; paper: the paper's scale (GPUs)")
    p.add_argument("--seed", type=int, default=0, help="seed of the world and pre-training")
    p.set_defaults(preset="default")  # --quick and --preset share the destination
    p.set_defaults(func=lambda args: (run_demo(args.out, args.preset, args.seed), 0)[1])
