"""The knowledge effect with and without packing, on the same world (issue 15).

Pre-trains the same preset on the demo's world twice per seed, one document per sequence and
packed, and prints the knowledge report per group side by side: greedy hidden-QA accuracy (95%
Wilson interval) and mean gold-answer probability, plus the training time of each run. Several
`--seeds` show how much two unpacked runs differ from each other (the noise to compare with).

    python benchmarks/pretrain_packing_knowledge.py [--size tiny] [--seeds 0 1] [--out DIR]
        [--epochs N] [--people-per-tier N] [--only single|packed]

`--epochs` and `--people-per-tier` (retain = 2x, utility = 1x) scale the run down on a busy
machine; `--only` runs one arm, so that two processes can run the arms side by side.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from freq_unlearn.pretrain import PretrainConfig, pretrain
from freq_unlearn.world import WorldConfig, generate_world

# The demo's world (freq_unlearn/demo/presets.py DEMO_WORLD).
WORLD = dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20)


def run(world: Path, out: Path, size: str, seed: int, packing: bool, epochs: int | None) -> dict:
    config = PretrainConfig(size=size, seed=seed, packing=packing, epochs=epochs)
    model = pretrain(world, out, config, overwrite=True, progress=False)
    report = json.loads((model / "knowledge" / "report.json").read_text())
    record = json.loads((model / "pretrain_record.json").read_text())
    return {"by_group": report["by_group"], "seconds": record["train_seconds"],
            "loss": record["final_train_loss"], "packing": record.get("packing")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, help="keep the models here (default: a temporary folder)")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--people-per-tier", type=int, default=WORLD["people_per_tier"])
    parser.add_argument("--only", choices=("single", "packed"), help="run one arm only")
    args = parser.parse_args()
    n = args.people_per_tier
    world_config = dict(WORLD, people_per_tier=n, n_retain=2 * n, n_utility=n)
    arms = [a == "packed" for a in ((args.only,) if args.only else ("single", "packed"))]

    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        world = generate_world(root / f"world-{args.only or 'both'}", WorldConfig(**world_config), overwrite=True)
        results = {}
        for seed in args.seeds:
            for packing in arms:
                name = f"seed {seed}, " + ("packed" if packing else "one doc per seq")
                results[name] = run(world, root / f"model-s{seed}-{'packed' if packing else 'single'}",
                                    args.size, seed, packing, args.epochs)
                print(f"{name}: {results[name]['seconds']:.0f} s training, final loss {results[name]['loss']:.3f}",
                      flush=True)
        groups = list(next(iter(results.values()))["by_group"])
        print(f"\nmodel {args.size}, epochs {args.epochs or 'preset'}, world {world_config}")
        print("| run | " + " | ".join(groups) + " | train s |")
        print("|---|" + "---|" * (len(groups) + 1))
        for name, r in results.items():
            cells = []
            for g in groups:
                b = r["by_group"][g]
                lo, hi = b["accuracy_ci95"]
                cells.append(f"{b['accuracy']:.1%} [{lo:.0%}-{hi:.0%}] p={b['mean_answer_prob']:.3f}")
            print(f"| {name} | " + " | ".join(cells) + f" | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
