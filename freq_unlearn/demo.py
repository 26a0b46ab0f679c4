"""`freq-unlearn demo`: the whole suite end to end on the embedded synthetic world.

A run is a list of stages, each writing one folder under DIR. A stage whose folder is complete is
reused, so a rerun after an interruption continues where it stopped. Stages so far: world ->
pre-training of each model size (each with its knowledge report) -> DIR/report.md.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from freq_unlearn.errors import UserError
from freq_unlearn.fsutil import atomic_write_text


@dataclass(frozen=True)
class DemoPreset:
    world: dict[str, Any]
    sizes: tuple[str, ...]
    epochs: dict[str, int] = field(default_factory=dict)  # per-size override of the preset epochs


PRESETS: dict[str, DemoPreset] = {
    # CI's end-to-end test: every stage on a tiny world.
    "quick": DemoPreset(
        world=dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20),
        sizes=("tiny",),
        epochs={"tiny": 40},
    ),
    # The default: the paper's x10 upsampling with a middle tier, three model sizes.
    "default": DemoPreset(
        world=dict(design="tiered", people_per_tier=100, n_retain=160, n_utility=80),
        sizes=("tiny", "small", "base"),
    ),
    # The paper's scale (10,000 people, GPT-2 from ~20M to ~210M+ parameters): GPUs only.
    "paper": DemoPreset(
        world=dict(design="paper", people_per_tier=2500, n_retain=2500, n_utility=2500),
        sizes=("paper-s", "paper-l"),
    ),
}


def _stage(name: str, out: Path, run: Callable[[], None], log: list[dict[str, Any]]) -> None:
    done = out / ".stage-complete"
    if done.exists():
        print(f"[demo] {name}: reusing {out}")
        log.append({"stage": name, "reused": True, "seconds": 0.0})
        return
    print(f"[demo] {name} ...", flush=True)
    started = time.perf_counter()
    run()
    done.write_text("ok\n")
    seconds = time.perf_counter() - started
    log.append({"stage": name, "reused": False, "seconds": round(seconds, 1)})
    print(f"[demo] {name}: done in {seconds:.0f} s", flush=True)


def run_demo(out: Path, preset_name: str = "default", seed: int = 0) -> Path:
    from freq_unlearn.pretrain import PretrainConfig, pretrain
    from freq_unlearn.world import WorldConfig, generate_world

    if preset_name not in PRESETS:
        raise UserError(f"demo preset {preset_name!r} is unknown; choose one of {', '.join(PRESETS)}")
    preset = PRESETS[preset_name]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"preset": preset_name, "seed": seed, **asdict(preset)}
    settings_file = out / "demo_settings.json"
    if settings_file.exists() and json.loads(settings_file.read_text()) != json.loads(json.dumps(settings)):
        raise UserError(f"{out} holds a demo run with other settings ({settings_file}); use another --out")
    atomic_write_text(settings_file, json.dumps(settings, indent=2))
    log: list[dict[str, Any]] = []
    started = time.perf_counter()

    world_dir = out / "world"
    _stage("world", world_dir,
           lambda: generate_world(world_dir, WorldConfig(**preset.world, seed=seed), overwrite=True), log)
    for size in preset.sizes:
        model_dir = out / "models" / size
        config = PretrainConfig(size=size, epochs=preset.epochs.get(size), seed=seed)
        _stage(f"pretrain {size}", model_dir,
               lambda: pretrain(world_dir, model_dir, config, overwrite=True,
                                resume=(model_dir.with_name(size + ".partial")).exists()), log)

    report = write_report(out, preset, log, time.perf_counter() - started)
    print(f"[demo] report: {report}")
    return report


def write_report(out: Path, preset: DemoPreset, log: list[dict[str, Any]], seconds: float) -> Path:
    lines = ["# freq-unlearn demo report", "",
             f"World: `{out / 'world'}`; model sizes: {', '.join(preset.sizes)}.", "",
             "## What the pre-trained models know", "",
             "Greedy QA accuracy per group (hidden QA for all groups but retain).", "",
             "| model | parameters | retain | high | medium | low | utility |", "|---|---|---|---|---|---|---|"]
    for size in preset.sizes:
        model_dir = out / "models" / size
        rep = json.loads((model_dir / "knowledge" / "report.json").read_text())
        rec = json.loads((model_dir / "pretrain_record.json").read_text())
        cells = [f"{rep['by_group'][g]['accuracy']:.1%}" if g in rep["by_group"] else "-"
                 for g in ("retain", "high", "medium", "low", "utility")]
        lines.append(f"| {size} | {rec['parameters']:,} | " + " | ".join(cells) + " |")
    lines += ["", "## Stages", "", "| stage | seconds | reused |", "|---|---|---|"]
    lines += [f"| {s['stage']} | {s['seconds']} | {s['reused']} |" for s in log]
    lines += ["", f"Total wall time of this invocation: {seconds:.0f} s.", ""]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the whole suite end to end on the embedded synthetic world",
        description="world -> pre-training -> ... -> DIR/report.md. Finished stages are reused on rerun.",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_const", dest="preset", const="quick",
                   help="tiny world and model: every stage in a few minutes (CI)")
    g.add_argument("--preset", choices=list(PRESETS), default="default")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=lambda args: (run_demo(args.out, args.preset, args.seed), 0)[1])
