"""The README.md model card written next to an unlearned checkpoint (and pushed with it)."""

from __future__ import annotations

import json

from .run_record import RunRecord


def render_model_card(record: RunRecord, paper: dict[str, str] | None = None) -> str:
    """Markdown with YAML front matter: base model, method, hyperparameters, forget split and counts."""
    lo, hi = record.forget_count_range
    hp = json.dumps(record.hyperparameters, indent=2, sort_keys=True, default=str)
    front = [
        "---",
        "library_name: transformers",
        f"base_model: {json.dumps(record.base_model)}",
        "tags:",
        "- freq-unlearn",
        "- unlearning",
        f"- {record.method}",
        "---",
    ]
    last = record.evaluations[-1] if record.evaluations else None
    first = record.evaluations[0] if record.evaluations else None
    lines = [
        *front,
        "",
        f"# {record.method} unlearning of {record.base_model}",
        "",
        f"Made with freq-unlearn {record.library_version}: the **{record.method}** method unlearned the "
        f"`{record.forget_split}` split of the benchmark `{record.benchmark}` "
        f"(facts seen {lo} to {hi} times in pre-training)"
        + (f", regularized on `{record.retain_split}`." if record.retain_split else "."),
        "",
        "| field | value |",
        "|---|---|",
        f"| base model | `{record.base_model}` |",
        f"| method | `{record.method}` |",
        f"| forget split | `{record.forget_split}` (count range [{lo}, {hi}]) |",
        f"| retain split | `{record.retain_split}` |",
        f"| LoRA (merged) | {record.lora} |",
        f"| seed | {record.seed} |",
        f"| device | {record.device} |",
        f"| steps | {record.steps[-1].step if record.steps else 0} |",
        f"| status | {record.status}" + (f": {record.status_reason}" if record.status_reason else "") + " |",
        f"| forget data | {record.hyperparameters.get('forget_format', 'qa')} |",
        f"| wall time (s) | {record.wall_time_s:.1f} |",
        f"| freq-unlearn | {record.library_version} |",
        "",
    ]
    if first is not None and last is not None and first is not last:
        lines += ["## Forget / retain metrics (before -> after)", "", "| split | metric | before | after |", "|---|---|---|---|"]
        for part in ("forget", "retain"):
            for name, after in getattr(last, part).items():
                before = getattr(first, part).get(name)
                lines.append(f"| {part} | {name} | {_num(before)} | {_num(after)} |")
        lines.append("")
    lines += [
        "## Hyperparameters",
        "",
        "```json",
        hp,
        "```",
        "",
        "The full record (losses per step, metrics per evaluation) is `run_record.json` in this repository.",
        "",
    ]
    if paper:
        lines += [f"## Method reference", "", f"{paper['title']} ({paper['id']})", "", "```bibtex", paper["citation"], "```", ""]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
