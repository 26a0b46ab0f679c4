"""`freq-unlearn world`, `pretrain` and `knowledge`: the synthetic world and its model."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

from freq_unlearn.core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    from freq_unlearn.pretrain import ARCHITECTURES, DEFAULT_PRESET, PRESETS
    from freq_unlearn.world import DESIGNS, WorldConfig

    p = subparsers.add_parser(
        "world",
        help="generate a synthetic world: people, biographies, hidden QA, facts with true counts",
        description="Write DIR/corpus/*.jsonl.gz (Dolma-style), DIR/facts.parquet and DIR/world.json. "
        "Same seed and parameters give byte-identical files.",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (must be new or empty)")
    defaults = WorldConfig()
    for f in fields(WorldConfig):
        flag = "--" + f.name.replace("_", "-")
        kwargs = {"default": getattr(defaults, f.name), "help": f.metadata.get("help", "") + " (default: %(default)s)"}
        if f.name == "design":
            kwargs["choices"] = DESIGNS
        p.add_argument(flag, type=type(getattr(defaults, f.name)), **kwargs)
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(func=_world)

    p = subparsers.add_parser(
        "pretrain",
        help="train a tokenizer and a small causal LM from scratch on a world's corpus",
        description="Writes an ordinary Hugging Face model folder (loads with "
        "AutoModelForCausalLM.from_pretrained, runs under lm_eval --model hf) with "
        "pretrain_record.json and knowledge/report.md.",
    )
    p.add_argument("--world", type=Path, required=True, help="a folder written by `freq-unlearn world`")
    p.add_argument("--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--size", default=DEFAULT_PRESET, choices=list(PRESETS),
                   help="model size preset (default: %(default)s); "
                   + "; ".join(f"{k}: {v.n_layer}x{v.n_embd}" for k, v in PRESETS.items()))
    p.add_argument("--arch", default="gpt2", choices=ARCHITECTURES, help="model family (default: gpt2)")
    p.add_argument("--epochs", type=int, help="override the preset's epochs")
    p.add_argument("--learning-rate", type=float, help="override the preset's peak learning rate")
    p.add_argument("--batch-size", type=int, help="override the preset's batch size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--packing", action="store_true",
                   help="pack whole documents into fixed-length blocks (no attention across documents)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or loss lines")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model folder")
    p.add_argument("--no-report", action="store_true", help="skip the knowledge report")
    p.set_defaults(func=_pretrain)

    p = subparsers.add_parser(
        "knowledge",
        help="write the knowledge report of a model on a world's facts",
    )
    p.add_argument("--world", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True, help="a model folder")
    p.add_argument("--out", type=Path, required=True, help="report folder")
    p.set_defaults(func=_knowledge)


def _world(args: argparse.Namespace) -> int:
    from freq_unlearn.world import WorldConfig, generate_world, load_world

    config = WorldConfig(**{f.name: getattr(args, f.name) for f in fields(WorldConfig)})
    generate_world(args.out, config, overwrite=args.overwrite)
    meta = load_world(args.out).meta
    s = meta["summary"]
    print(f"wrote world {args.out}: {s['people']} people, {s['facts']} facts, {s['documents']} documents "
          f"(content hash {meta['content_hash'][:12]})")
    for group, g in s["groups"].items():
        print(f"  {group:8s} {g['people']:5d} people  {g['documents']:6d} documents")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
    from freq_unlearn.pretrain import PretrainConfig, pretrain

    config = PretrainConfig(size=args.size, arch=args.arch, epochs=args.epochs,
                            learning_rate=args.learning_rate, batch_size=args.batch_size, seed=args.seed,
                            packing=args.packing)
    out = pretrain(args.world, args.out, config, overwrite=args.overwrite, resume=args.resume,
                   report=not args.no_report, progress=not args.quiet)
    record = json.loads((out / "pretrain_record.json").read_text())
    print(f"wrote model {out}: {record['parameters']:,} parameters, {record['train_seconds']:.0f} s training, "
          f"final loss {record['final_train_loss']:.3f}")
    if not args.no_report:
        print((out / "knowledge" / "report.md").read_text().split("## Accuracy per relation")[0])
    return 0


def _knowledge(args: argparse.Namespace) -> int:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from freq_unlearn.knowledge_report import write_knowledge_report
    from freq_unlearn.world import load_world

    if not (args.model / "config.json").is_file():
        raise UserError(f"{args.model} is not a model folder (config.json is missing)")
    model = AutoModelForCausalLM.from_pretrained(str(args.model)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(args.model))
    write_knowledge_report(model, tokenizer, load_world(args.world), args.out)
    print((args.out / "report.md").read_text())
    return 0
