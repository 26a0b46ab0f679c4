"""Wall time of world generation + default pre-training (+ knowledge report), as a user runs them.

Goal: <= 180 s on the project's 2-core machine. Prints each command's time and the ratio to the goal.

    python benchmarks/pretrain_wall_time.py [--size small] [-- extra world flags]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 180.0


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small")
    parser.add_argument("world_args", nargs="*", help="extra `freq-unlearn world` flags")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "freq_unlearn"]
    with tempfile.TemporaryDirectory() as tmp:
        world, model = Path(tmp) / "world", Path(tmp) / "model"
        t_world = timed(cli + ["world", "--out", str(world), *args.world_args])
        t_pre = timed(cli + ["pretrain", "--world", str(world), "--size", args.size, "--out", str(model)])
        rec = json.loads((model / "pretrain_record.json").read_text())
        rep = json.loads((model / "knowledge" / "report.json").read_text())
    total = t_world + t_pre
    print(f"world: {t_world:.1f} s; pretrain --size {args.size} (incl. tokenizer + knowledge report): {t_pre:.1f} s "
          f"(training alone {rec['train_seconds']:.1f} s, {rec['parameters']:,} parameters, "
          f"{rec['documents']} documents x {rec['preset']['epochs']} epochs)")
    print("greedy QA accuracy: " + ", ".join(f"{g} {b['accuracy']:.1%}" for g, b in rep["by_group"].items()))
    print(f"total {total:.1f} s; ratio to the {GOAL_S:.0f} s goal = {total / GOAL_S:.2f}")


if __name__ == "__main__":
    main()
