"""The demo's stages, each writing files under the run folder; a finished stage is reused.

    per model: world -> count (checked against the world's true counts) -> benchmark -> pre-training
               -> base evaluation (per-item records, every forget stratum + retain + utility, QA and BIO)
    grid:      model x method x target stratum x seed: unlearning (with in-run per-item records
               when the preset asks) -> evaluation of every split again (the untargeted strata are the control)
    arm:       the utility arm's methods x target stratum x seed at a constant learning rate until retain
               accuracy has fallen by the largest level, with in-run records (QA) of the target and retain
    robustness (main model, first seed, the preset's robustness methods, every target):
               relearning attack -> membership inference (the base model once, each run)
    then (freq_unlearn.demo.run_demo): leaderboard (first model) -> analysis -> report

Layout::

    DIR/models/<model>/{world,counts,benchmark,model}/   DIR/models/<model>/base.parquet
    DIR/runs/<model>/<method>/<target>/seed<k>/           checkpoint, run_record.json, inrun/, after.parquet,
                                                          relearn/ (robustness), mia.parquet (robustness)
    DIR/models/<model>/mia.parquet                        membership-inference scores of the base model
    DIR/utility/<model>/<method>/<target>/seed<k>/        the utility arm's runs: run_record.json, inrun/
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.core.schema import FORGET_SPLITS, RETAIN_SPLIT, STRATA, UTILITY_SPLIT
from freq_unlearn.demo.presets import DemoPreset, ModelSpec

EVAL_SPLITS = FORGET_SPLITS + (RETAIN_SPLIT, UTILITY_SPLIT)
# Aggregate in-run metrics of a grid run without per-item curves: the run record's forgetting curve,
# which the leaderboard draws (~0.2 s per evaluation against ~1.8 s for per-item records).
METRICS_STEPS = 10
DONE = ".stage-complete"


@dataclass(frozen=True)
class Run:
    model: ModelSpec
    method: str
    target: str  # the forget stratum this run unlearns
    seed: int

    @property
    def tag(self) -> str:
        return f"{self.model.id} {self.method} forget_{self.target} seed {self.seed}"


class Demo:
    def __init__(self, out: Path, preset: DemoPreset, settings_name: str = "custom",
                 say: Callable[[str], None] = print) -> None:
        self.out, self.preset, self.settings_name, self.say = Path(out), preset, settings_name, say
        self.log: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ paths
    def model_root(self, model: ModelSpec) -> Path:
        return self.out / "models" / model.id

    def world_dir(self, model: ModelSpec) -> Path:
        return self.model_root(model) / "world"

    def benchmark_dir(self, model: ModelSpec) -> Path:
        return self.model_root(model) / "benchmark"

    def model_dir(self, model: ModelSpec) -> Path:
        return self.model_root(model) / "model"

    def base_records(self, model: ModelSpec) -> Path:
        return self.model_root(model) / "base.parquet"

    def run_dir(self, run: Run) -> Path:
        return self.out / "runs" / run.model.id / run.method / run.target / f"seed{run.seed}"

    def arm_dir(self, run: Run) -> Path:
        return self.out / "utility" / run.model.id / run.method / run.target / f"seed{run.seed}"

    def after_records(self, run: Run) -> Path:
        return self.run_dir(run) / "after.parquet"

    def relearn_dir(self, run: Run) -> Path:
        return self.run_dir(run) / "relearn"

    def mia_records(self, run: Run | None = None) -> Path:
        """Membership-inference scores of a run's model, or of the main base model (``run=None``)."""
        return (self.run_dir(run) if run else self.model_root(self.preset.main_model)) / "mia.parquet"

    def robustness_runs(self) -> list[Run]:
        p = self.preset
        return [r for r in self.runs() if r.model == p.main_model and r.method in p.robustness_methods
                and r.seed == p.seeds[0]]

    def runs(self) -> list[Run]:
        p = self.preset
        return [Run(m, method, target, seed) for m in p.models for method in p.methods for target in STRATA
                for seed in p.seeds]

    def arm_runs(self) -> list[Run]:
        arm = self.preset.utility_arm
        return [r for r in self.runs() if arm and r.method in arm.methods]

    # ------------------------------------------------------------------ stages
    def stage(self, name: str, done: Path, work: Callable[[], None], quiet: bool = False) -> None:
        """Run ``work`` unless ``done`` exists (a file written last, so an interrupted stage reruns)."""
        if done.exists():
            self.log.append({"stage": name, "seconds": 0.0, "reused": True})
            return
        if not quiet:
            self.say(f"[demo] {name} ...")
        started = time.perf_counter()
        work()
        done.parent.mkdir(parents=True, exist_ok=True)
        if done.name == DONE:
            done.write_text("ok\n")
        seconds = time.perf_counter() - started
        self.log.append({"stage": name, "seconds": round(seconds, 1), "reused": False})
        if not quiet:
            self.say(f"[demo] {name}: {seconds:.0f} s")

    def make_world(self, model: ModelSpec) -> None:
        from freq_unlearn.world import WorldConfig, generate_world

        config = WorldConfig(**self.preset.world, seed=model.world_seed, rotation=model.rotation)
        generate_world(self.world_dir(model), config, overwrite=True)

    def make_counts(self, model: ModelSpec) -> None:
        """Count with the `scan` backend and check every count against the world's truth."""
        from freq_unlearn.frequency_index import count_facts
        from freq_unlearn.world import load_world

        world = load_world(self.world_dir(model))
        out = self.model_root(model) / "counts"
        out.mkdir(parents=True, exist_ok=True)
        counts = count_facts([str(p) for p in world.corpus_files], world.facts_path, out / "counts.parquet",
                             progress=False)
        truth = world.facts().set_index("fact_id")["true_count"]
        counted = counts.set_index("fact_id")["count"].reindex(truth.index)
        wrong = counted[counted != truth]
        check = {"facts": int(len(truth)), "exact": int((counted == truth).sum()), "mismatches": int(len(wrong)),
                 "first_mismatch": None if wrong.empty else str(wrong.index[0])}
        atomic_write_text(out / "check.json", json.dumps(check, indent=2))
        if len(wrong):
            raise UserError(f"counting disagrees with the world's true counts on {len(wrong)} facts "
                            f"(first: {wrong.index[0]}); see {out / 'check.json'}")

    def make_benchmark(self, model: ModelSpec) -> None:
        from freq_unlearn.frequency_index import build_benchmark
        from freq_unlearn.world import load_world

        build_benchmark(self.world_dir(model) / "facts.parquet", self.model_root(model) / "counts" / "counts.parquet",
                        self.benchmark_dir(model), name=f"freq-unlearn demo, world {model.id}", overwrite=True,
                        seed=model.world_seed, world_hash=load_world(self.world_dir(model)).content_hash)

    def make_model(self, model: ModelSpec) -> None:
        from freq_unlearn.pretrain import PretrainConfig, pretrain

        out = self.model_dir(model)
        config = PretrainConfig(size=model.size, epochs=self.preset.epochs.get(model.size), seed=model.pretrain_seed)
        partial = out.with_name(out.name + ".partial")
        pretrain(self.world_dir(model), out, config, overwrite=True, resume=partial.exists(), progress=False)

    def evaluate(self, model_dir: Path, model: ModelSpec, out: Path) -> None:
        from freq_unlearn.tasks.evaluation import evaluate, write_records

        records = evaluate(model_dir, str(self.benchmark_dir(model)), EVAL_SPLITS, probes=self.preset.probes)
        write_records(records, out)

    def unlearn(self, run: Run) -> None:
        from freq_unlearn.unlearn_methods import unlearn

        out = self.run_dir(run)
        if out.exists():  # an interrupted run: start it again (runs are short)
            shutil.rmtree(out)
        unlearn(model=str(self.model_dir(run.model)), benchmark=str(self.benchmark_dir(run.model)), forget=run.target,
                method=run.method, out=str(out), retain=RETAIN_SPLIT, seed=run.seed, progress=False,
                inrun_records=self.preset.inrun_steps > 0, metrics_steps=self.preset.inrun_steps or METRICS_STEPS,
                **self.preset.overrides(run.method))

    def unlearn_to_utility_levels(self, run: Run) -> None:
        """The run's settings at a constant learning rate, until retain accuracy (QA, generation view) has
        fallen by the arm's largest level below the base model's, or to the arm's step cap."""
        import pandas as pd

        from freq_unlearn.unlearn_methods import unlearn

        arm = self.preset.utility_arm
        assert arm is not None
        base = pd.read_parquet(self.base_records(run.model))
        start = retain_accuracy(base)
        level = max(arm.levels)

        def stop(records: Any) -> str | None:
            drop = start - retain_accuracy(records)
            return f"retain accuracy fell by {drop:.1%} (>= {level:.0%})" if drop >= level else None

        out = self.arm_dir(run)
        if out.exists():
            shutil.rmtree(out)
        # A constant learning rate: with the Trainer's linear decay the first steps would depend on the cap.
        settings = dict(self.preset.overrides(run.method), max_steps=arm.max_steps, lr_scheduler_type="constant")
        unlearn(model=str(self.model_dir(run.model)), benchmark=str(self.benchmark_dir(run.model)), forget=run.target,
                method=run.method, out=str(out), retain=RETAIN_SPLIT, seed=run.seed, progress=False, inrun_records=True,
                metrics_steps=arm.eval_steps, metrics_max_items=0, inrun_probes=("qa",), inrun_stop=stop,
                save_strategy="no", **settings)

    def relearn(self, run: Run) -> None:
        import pandas as pd

        from freq_unlearn.robustness.relearn import RelearnConfig, relearn

        config = RelearnConfig(steps=self.preset.relearn_steps, probes=self.preset.probes, seed=run.seed,
                               n_resamples=self.preset.n_resamples)
        relearn(self.run_dir(run), base=self.model_dir(run.model), benchmark=self.benchmark_dir(run.model),
                forget=run.target, out=self.relearn_dir(run), config=config, overwrite=True, progress=False,
                ceiling=pd.read_parquet(self.base_records(run.model)), floor=pd.read_parquet(self.after_records(run)))

    def membership(self, model_dir: Path, out: Path) -> None:
        from freq_unlearn.robustness.mia import mia_scores, people_from_facts
        from freq_unlearn.robustness.relearn import load_model
        from freq_unlearn.tasks.evaluation import write_records
        from freq_unlearn.world import load_world

        people = people_from_facts(load_world(self.world_dir(self.preset.main_model)).facts())
        write_records(mia_scores(*load_model(model_dir), people), out)

    # ------------------------------------------------------------------ the run
    def prepare_model(self, model: ModelSpec) -> None:
        root = self.model_root(model)
        self.stage(f"{model.id}: world", self.world_dir(model) / DONE, lambda: self.make_world(model))
        self.stage(f"{model.id}: count + check", root / "counts" / DONE, lambda: self.make_counts(model))
        self.stage(f"{model.id}: benchmark", self.benchmark_dir(model) / DONE, lambda: self.make_benchmark(model))
        self.stage(f"{model.id}: pre-training ({model.size})", self.model_dir(model) / DONE, lambda: self.make_model(model))
        self.stage(f"{model.id}: base evaluation", self.base_records(model),
                   lambda: self.evaluate(self.model_dir(model), model, self.base_records(model)))

    def unlearning_grid(self) -> None:
        from tqdm import tqdm

        runs = self.runs()
        todo = [r for r in runs if not self.after_records(r).exists()]
        self.say(f"[demo] unlearning grid: {len(runs)} runs ({len(runs) - len(todo)} already done) ...")
        started = time.perf_counter()
        with tqdm(total=len(runs), initial=len(runs) - len(todo), desc="[demo] unlearning", unit="run",
                  disable=False, dynamic_ncols=True) as bar:
            for run in todo:
                bar.set_postfix_str(run.tag)
                self.stage(f"unlearn {run.tag}", self.run_dir(run) / "run_record.json", lambda r=run: self.unlearn(r),
                           quiet=True)
                self.stage(f"evaluate {run.tag}", self.after_records(run),
                           lambda r=run: self.evaluate(self.run_dir(r), r.model, self.after_records(r)), quiet=True)
                bar.update()
        self.say(f"[demo] unlearning grid: {time.perf_counter() - started:.0f} s")

    def utility_arm(self) -> None:
        runs = self.arm_runs()
        if not runs:
            return
        todo = [r for r in runs if not (self.arm_dir(r) / "run_record.json").exists()]
        self.say(f"[demo] equal-utility arm: {len(runs)} runs to a retain-accuracy drop of "
                 f"{max(self.preset.utility_arm.levels):.0%} ({len(runs) - len(todo)} already done) ...")
        started = time.perf_counter()
        for run in runs:
            self.stage(f"utility arm {run.tag}", self.arm_dir(run) / "run_record.json",
                       lambda r=run: self.unlearn_to_utility_levels(r), quiet=True)
        self.say(f"[demo] equal-utility arm: {time.perf_counter() - started:.0f} s")

    def robustness(self) -> None:
        """Relearning attack and membership inference on the main model's runs of the robustness methods."""
        runs = self.robustness_runs()
        if not runs:
            return
        todo = [r for r in runs if not (self.mia_records(r).exists() and (self.relearn_dir(r) / "summary.json").exists())]
        self.say(f"[demo] robustness: relearning and membership inference, {len(runs)} runs "
                 f"({len(runs) - len(todo)} already done) ...")
        started = time.perf_counter()
        main = self.preset.main_model
        self.stage(f"membership inference {main.id} base", self.mia_records(),
                   lambda: self.membership(self.model_dir(main), self.mia_records()), quiet=True)
        for run in runs:
            self.stage(f"relearn {run.tag}", self.relearn_dir(run) / "summary.json", lambda r=run: self.relearn(r),
                       quiet=True)
            self.stage(f"membership inference {run.tag}", self.mia_records(run),
                       lambda r=run: self.membership(self.run_dir(r), self.mia_records(r)), quiet=True)
        self.say(f"[demo] robustness: {time.perf_counter() - started:.0f} s")


def retain_accuracy(records: Any) -> float:
    """Share of retain questions whose greedy answer contains the gold answer (QA probe)."""
    cut = records[(records["split"] == RETAIN_SPLIT) & (records["probe"] == "qa")]
    return float(cut["contains"].mean())
