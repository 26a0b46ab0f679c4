"""DIR/report.md, results.json, items.parquet and plots/: one function per report section."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.core.schema import STRATA
from freq_unlearn.demo import plots
from freq_unlearn.demo.analysis import COMPACT_COLUMNS, MEASURE_NAMES, UTILITY_COLUMNS, Results
from freq_unlearn.tasks.statistics import MIN_ITEMS

if TYPE_CHECKING:
    from freq_unlearn.demo.pipeline import Demo


def _num(value: Any, digits: int = 2, pct: bool = False, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if pct:
        return f"{value:+.0%}" if signed else f"{value:.0%}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _interval(est: dict[str, Any] | None, digits: int = 2, pct: bool = False) -> str:
    if not est or est.get("value") is None:
        return "n/a"
    value = _num(est["value"], digits, pct, signed=True)
    if est.get("low") is None or est.get("high") is None:
        return value
    return f"{value} [{_num(est['low'], digits, pct, True)}, {_num(est['high'], digits, pct, True)}]"


def header(demo: Demo) -> list[str]:
    p = demo.preset
    world = json.loads((demo.world_dir(p.main_model) / "world.json").read_text())
    summary = world["summary"]
    checks = [json.loads((demo.model_root(m) / "counts" / "check.json").read_text()) for m in p.models]
    exact = sum(c["exact"] for c in checks)
    facts = sum(c["facts"] for c in checks)
    return [
        "# freq-unlearn demo: pre-training frequency and unlearning, measured", "",
        f"Preset `{demo.settings_name}`: {p.description}.", "",
        f"- **Models (the unit of replication):** {len(p.models)} pre-trained ({', '.join(m.id for m in p.models)}); "
        "models of one world seed see rotated worlds: the same people, each forget person high-count in one world, "
        "medium in another, low in the third.",
        f"- **World** `{world['config']['design']}`: {summary['people']} people, {summary['facts']} facts, "
        f"{summary['documents']} documents per world; counting (`scan`) matched the true counts on {exact}/{facts} facts.",
        f"- **Unlearning** (fixed before any result, `freq_unlearn/demo/presets.py`): methods {', '.join(p.methods)}; "
        f"each targets each forget stratum in turn; seeds {list(p.seeds)} per model; settings `{json.dumps(p.unlearn)}`; "
        + (f"in-run evaluation every {p.inrun_steps} steps." if p.inrun_steps else "no in-run evaluation in the grid.")
        + (f" Equal-utility arm: {', '.join(p.utility_arm.methods)}, the grid's settings at a constant learning rate (at most "
           f"{p.utility_arm.max_steps} steps, evaluated every {p.utility_arm.eval_steps}) until retain accuracy fell by "
           f"{max(p.utility_arm.levels):.0%}." if p.utility_arm else ""),
        f"- **Evaluation:** lm-eval tasks of every forget stratum, retain and utility, probes {', '.join(p.probes)} "
        "(QA: the question; BIO: the biography sentence up to the attribute), both views, every item. "
        "Per-item records: `items.parquet` (every number below can be recomputed from it).", "",
    ]


def models_section(results: Results) -> list[str]:
    lines = ["## What the pre-trained models knew", "",
             "Accuracy before unlearning (generation view: the greedy answer contains the gold answer; MC: the gold "
             "answer beats every distractor). *Guess floor*: share of items a name-blind rule that answers each "
             "relation's most common value gets right. *Known*: correct in both views and not explained by that guess "
             "(the items binary retention is measured on).", "",
             "| model | parameters | probe | split | items | accuracy (gen) | accuracy (MC) | guess floor | known |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results.models:
        lines.append(f"| {r['model']} | {r['parameters']:,} | {r['probe']} | {r['split']} | {r['items']} | "
                     f"{_num(r['accuracy_gen'], pct=True)} | {_num(r['accuracy_mc'], pct=True)} | "
                     f"{_num(r['guess_floor'], pct=True)} | {r['known_above_floor']} |")
    return lines + [""]


def finding1_section(demo: Demo, results: Results) -> list[str]:
    lines = ["## Finding 1: are frequent facts harder to unlearn?", "",
             "Outcome: **net forgetting** of every forget item (before - after, positive = forgotten) minus the same "
             "item's forgetting when another stratum was targeted (the untargeted control). Effect: slope of net "
             "forgetting on log(count), adjusted for the item's value before unlearning and its relation; per model "
             "with a people bootstrap, combined over models by random effects. The paper predicts a **negative** "
             f"slope. Rule (fixed in advance): *as predicted* / *opposite* when the Holm-adjusted p < 0.05 (over all "
             f"{len(results.slopes)} slopes of this report), else *inconclusive*; *no verdict* with < {MIN_ITEMS} "
             "items per stratum and model or a degenerate interval. Power target: 95% half-width <= 0.3 SD of the outcome.",
             "", "![net forgetting per stratum](plots/net_forgetting.png)", "",
             "| method | probe | measure | slope per log(count) [95% CI] | half-width / SD | Holm p | interval from | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results.slopes:
        e = r["estimate"]
        lines.append(f"| {r['method']} | {r['probe']} | {MEASURE_NAMES[r['measure']]} | {_interval(e, 3)} | "
                     f"{_num(r['half_width_sd'])} | {_num(r['p_holm'], 3)} | {e['method']} | **{r['verdict']}** |")
    lines += ["", "Per stratum (gold log-probability; mean over items, 95% intervals over models):", "",
              "| method | probe | stratum | targeted forgetting | control | net |", "|---|---|---|---|---|---|"]
    for r in results.strata:
        lines.append(f"| {r['method']} | {r['probe']} | {r['stratum']} | {_interval(r['forgetting'])} | "
                     f"{_interval(r['control'])} | {_interval(r['net'])} |")
    lines += ["", "![net forgetting against count](plots/net_vs_count.png)", ""]
    return lines + _verdict_summary(results)


def _verdict_summary(results: Results) -> list[str]:
    out = ["**In words:**", ""]
    for probe in sorted({r["probe"] for r in results.slopes}):
        rows = [r for r in results.slopes if r["probe"] == probe]
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        out.append(f"- {probe.upper()} probe: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
                   + f" (of {len(rows)} method x measure slopes).")
    return out + [""]


def retention_section(results: Results) -> list[str]:
    lines = ["## Known facts still known after unlearning (binary, above the guessing floor)", "",
             f"Retention = share of the targeted stratum's known items still correct after unlearning. Strata with fewer "
             f"than {MIN_ITEMS} known items are marked *descriptive*: no conclusion is drawn from them.", "",
             "| method | probe | stratum | known / items | retention (gen) | retention (MC) | misalignment | disagreement | |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results.retention:
        lines.append(f"| {r['method']} | {r['probe']} | {r['stratum']} | {r['known']} / {r['items']} | "
                     f"{_interval(r['retention_gen'], pct=True)} | {_interval(r['retention_prob'], pct=True)} | "
                     f"{_num(r['misalignment'], signed=True)} | {_interval(r['disagreement'])} | "
                     f"{'descriptive' if r['descriptive'] else ''} |")
    return lines + ["", "Misalignment = retention (MC) - retention (gen); disagreement = share of known items on which "
                    "exactly one view says forgotten.", ""]


def costs_section(results: Results) -> list[str]:
    lines = ["## Costs: what the runs damaged beyond their target", "",
             "QA probe, mean over each method's runs (95% intervals over models). Collateral = forgetting of log p(gold) "
             "on the forget strata a run did not target.", "",
             "| method | collateral (untargeted strata) | retain: log p forgetting | retain: accuracy drop | "
             "utility: log p forgetting | utility: accuracy drop |", "|---|---|---|---|---|---|"]
    for r in results.costs:
        lines.append(f"| {r['method']} | {_interval(r['collateral_logprob'])} | {_interval(r['retain_logprob'])} | "
                     f"{_interval(r['retain_accuracy_drop'], pct=True)} | {_interval(r['utility_logprob'])} | "
                     f"{_interval(r['utility_accuracy_drop'], pct=True)} |")
    return lines + [""]


def equal_utility_section(results: Results) -> list[str]:
    lines = ["## At equal utility cost", ""]
    if not results.equal_utility:
        return lines + ["This preset has no equal-utility arm (`--preset default` or `thorough` have one).", ""]
    lines += ["The utility arm continues each targeted stratum's run until retain accuracy (QA, generation view) has "
              "fallen by the largest level. At the step where it first fell by each level (scores interpolated "
              "between in-run evaluations), every targeted item's forgetting (QA probe; before - at, positive = "
              "forgotten) is averaged per stratum (95% intervals over models), and the frequency slope is fitted over "
              "all three strata (forgetting on log(count), adjusted for the item's value before unlearning and its "
              "relation; Holm over this table). The paper predicts a negative slope. Runs reaching the level are "
              "counted per stratum; a stratum whose runs did not all reach it is n/r, and its row gets no verdict. "
              "Per-item values: `utility_items.parquet`.", "",
              "![equal utility](plots/equal_utility.png)", "",
              "| method | retain accuracy down | measure | " + " | ".join(f"{s} (runs, mean step)" for s in STRATA)
              + " | slope on log(count) [95% CI] | p (Holm) | verdict |",
              "|---|---|---|" + "---|" * len(STRATA) + "---|---|---|"]
    for r in results.equal_utility:
        cells = []
        for s in STRATA:
            step = f", {r[f'{s}_step']:.0f}" if r[f"{s}_step"] is not None else ""
            cells.append((_interval(r[s]) if r[s] else "n/r") + f" ({r[f'{s}_runs_reached']}{step})")
        lines.append(f"| {r['method']} | {r['level']:.0%} | {MEASURE_NAMES[r['measure']]} | " + " | ".join(cells)
                     + f" | {_interval(r['slope'], 3)} | {_num(r['p_holm'], 3)} | {r['verdict']} |")
    return lines + [""]


def finding2_section(results: Results) -> list[str]:
    s = results.sizes
    lines = ["## Finding 2: do the two views disagree more in larger models?", "",
             "Compared at matched generation-view forgetting (the step at which half of the known targeted items are "
             "forgotten in the generation view, from the in-run curves), never at a fixed learning rate alone: a larger "
             "model unlearned harder disagrees more for that reason alone. A verdict needs >= 2 pre-trained models of "
             "each of >= 2 sizes (`--preset sizes` or `--preset thorough`).", ""]
    if s.get("per_model"):
        lines += ["| model | disagreement at matched forgetting |", "|---|---|"]
        lines += [f"| {m} | {_num(v)} |" for m, v in sorted(s["per_model"].items())]
        lines.append("")
    if "difference" in s:
        lines.append(f"**Verdict: {s['verdict']}** — disagreement {s['large']} minus {s['small']}: "
                     f"{_num(s['difference'], signed=True)}, 95% Welch interval [{_num(s['ci'][0], signed=True)}, "
                     f"{_num(s['ci'][1], signed=True)}] over models (p = {_num(s['p_value'], 3)}).")
    else:
        lines.append(f"**{s.get('verdict', 'descriptive')}**.")
    return lines + [""]


def count_aware_section(results: Results) -> list[str]:
    rows = results.count_aware
    if not rows:
        return []
    cost = rows[0]["retain_accuracy_drop_difference"]
    lines = ["## Does the count-aware method narrow the frequency gap?", "",
             "`countaware` is NPO with each forget item's loss weighted by (log(1 + count) / log 2)^power "
             "(`unlearn_methods/countaware.py`). Rule fixed before the run: narrowing = |slope of NPO| - |slope of "
             "count-aware| (net forgetting on log(count), adjusted as in Finding 1), the two methods paired on the same "
             "items and people; Holm over this table; narrows / widens only when the corrected interval excludes 0.", "",
             "| probe | measure | narrowing [95% CI] | slope difference (count-aware - NPO) | p (Holm) | verdict |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['probe']} | {MEASURE_NAMES[r['measure']]} | {_interval(r['narrowing'], 3)} | "
                     f"{_interval(r['slope_difference'], 3)} | {_num(r['p_holm'], 3)} | {r['verdict']} |")
    equal = "the interval contains 0: equal utility cost" if rows[0]["equal_cost"] else "not equal utility cost"
    lines += ["", f"Utility cost: retain accuracy drop, count-aware minus NPO: {_interval(cost, pct=True)} ({equal}).",
              ""]
    return lines


def _unsigned(est: dict[str, Any] | None, digits: int = 3) -> str:
    if not est or est.get("value") is None or not math.isfinite(est["value"]):
        return "n/a"
    if est.get("low") is None or not math.isfinite(est["low"]):
        return _num(est["value"], digits)
    return f"{_num(est['value'], digits)} [{_num(est['low'], digits)}, {_num(est['high'], digits)}]"


def robustness_section(results: Results) -> list[str]:
    r = results.robustness
    if not r:
        return []
    steps = r["relearn_steps"]
    lines = ["## Robustness: does forgetting survive relearning and membership inference?", "",
             f"Model `{r['model']}` only ({r['verdict']}). **Relearning** (`freq-unlearn relearn`): each unlearned "
             f"model is fine-tuned at the unlearning step size for {max(steps)} steps (schedule {steps}) on half of "
             "the targeted stratum's people (recovery read on the other, never-relearned half) or on benign retain "
             "text (all items); recovery = mean gain / mean removed: 0 = still unlearned, 1 = back at the base model "
             "(people-bootstrap 95% interval; n/a when unlearning removed nothing on average). Measures: gold "
             "log-probability (prob view) and `contains` (generation view).", "",
             "| method | target | attack | QA log p | QA contains | BIO log p | BIO contains |", "|---|---|---|---|---|---|---|"]
    cells: dict[tuple, dict] = {(e["method"], e["target"], e["mode"], e["probe"], e["measure"]): e for e in r["relearning"]}
    keys = sorted({(e["method"], e["target"], e["mode"]) for e in r["relearning"]},
                  key=lambda k: (k[0], STRATA.index(k[1]), k[2]))
    for method, target, mode in keys:
        row = [_interval(cells[(method, target, mode, p, m)]["recovery"]) if (method, target, mode, p, m) in cells
               else "-" for p in ("qa", "bio") for m in ("logprob", "contains")]
        lines.append(f"| {method} | {target} | {mode} | " + " | ".join(row) + " |")
    lines += ["", "**Membership inference** (`freq_unlearn.robustness.mia`): AUC of telling the targeted stratum's "
              "biographies from those of never-seen people (0.5 = indistinguishable), before and after unlearning "
              "(members and non-members bootstrapped, 95% interval).", "",
              "| method | target | attack | AUC before | AUC after | members / non-members |", "|---|---|---|---|---|---|"]
    for e in r["membership"]:
        before, after = _unsigned(e["before"]), _unsigned(e["after"])
        lines.append(f"| {e['method']} | {e['target']} | {e['attack']} | {before} | {after} | "
                     f"{e['n_members']} / {e['n_nonmembers']} |")
    return lines + [""]


def leaderboard_section(demo: Demo) -> list[str]:
    board = demo.out / "leaderboard" / "site" / "leaderboard.md"
    if not board.exists():
        return []
    return ["## Leaderboard", "",
            f"Every method submitted under the leaderboard's protocol (each forget stratum targeted, model "
            f"`{demo.preset.main_model.id}`); the page is `leaderboard/site/index.html`.", "", board.read_text(), ""]


def stages_section(demo: Demo, seconds: float) -> list[str]:
    lines = ["## Stages", "", "| stage | seconds | reused |", "|---|---|---|"]
    lines += [f"| {s['stage']} | {s['seconds']} | {s['reused']} |" for s in demo.log]
    return lines + ["", f"Wall time of this invocation: {seconds:.0f} s.", ""]


def write_report(demo: Demo, results: Results, seconds: float) -> Path:
    out = demo.out
    (out / "plots").mkdir(exist_ok=True)
    p = demo.preset
    plots.net_forgetting_by_stratum(results.strata, p.methods, p.probes, out / "plots" / "net_forgetting.png")
    plots.net_forgetting_vs_count(results.outcomes, p.methods, out / "plots" / "net_vs_count.png")
    columns = [c for c in COMPACT_COLUMNS if c in results.outcomes.columns]
    results.outcomes[columns].to_parquet(out / "items.parquet", index=False, compression="zstd")
    if p.utility_arm is not None:
        plots.equal_utility(results.equal_utility, p.utility_arm.methods, out / "plots" / "equal_utility.png")
        if results.utility_items is not None and len(results.utility_items):
            results.utility_items[list(UTILITY_COLUMNS)].to_parquet(out / "utility_items.parquet", index=False,
                                                                   compression="zstd")
    atomic_write_text(out / "results.json", json.dumps(results.as_json(), indent=1, default=float))
    sections = (header(demo) + models_section(results) + finding1_section(demo, results) + retention_section(results)
                + costs_section(results) + equal_utility_section(results) + finding2_section(results)
                + count_aware_section(results) + robustness_section(results) + leaderboard_section(demo) + stages_section(demo, seconds))
    path = out / "report.md"
    atomic_write_text(path, "\n".join(sections))
    return path
