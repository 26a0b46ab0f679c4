"""The ranking: pure functions from result JSON objects (as the store holds them) to table rows.

No I/O, no Gradio: the page, the static export and ``leaderboard list`` all call these.
A row is a dict ``column -> value``; numbers stay numbers (sorting is numeric), and
``None`` marks a value the submission does not have (sorted last).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STRATA = ("low", "medium", "high")
INTRO = (
    "Each submission is one method and setting run separately on each forget stratum (low, medium, high"
    " pre-training count). Ranked by the headline: frequency robustness (the least-forgotten stratum when each"
    " is targeted: the share of the facts known before that neither the generation nor the probability view"
    " recovers, net of the same stratum's forgetting when another was targeted), lowered when utility falls more"
    " than 10% below the base model's."
)


@dataclass(frozen=True)
class Column:
    name: str  # header text (also the row key)
    metric: str | None  # key in result["metrics"], or None for non-metric columns
    help: str
    numeric: bool = True
    higher_is_better: bool | None = None
    compact: bool = False  # shown by default; the others sit behind the page's "all columns" toggle


def _columns() -> list[Column]:
    cols = [
        Column("Rank", None, "position by headline score (ties share a rank)", compact=True),
        Column("Method", None, "method name as submitted", False, compact=True),
        Column("Headline", "headline", "README 'Headline score': max(0, robustness) x min(1, utility / 0.9)", True, True, True),
        Column("Headline CI", None, "95% interval of the headline (see the Interval column for its kind)", False, compact=True),
        Column("Robustness", "robustness", "least-forgotten stratum when each is targeted: min over strata of the net"
               " erased share of known facts", True, True, True),
        Column("Freq gap", "frequency_gap", "erased share of low when low is targeted - of high when high is targeted",
               True, compact=True),
        Column("Collateral", "collateral", "gold log p forgetting (nats) on the strata a run did not target", True, False,
               True),
        Column("Utility", "utility", "min(retain kept, utility kept, perplexity before/after)", True, True, True),
        Column("Seeds", None, "seeds per targeted stratum (fewest)", compact=True),
    ]
    for b in STRATA:
        cols.append(Column(f"Erased {b}", f"erased/{b}", f"net share of known {b}-count facts neither view recovers,"
                           f" when {b} is targeted", True, True))
    for view, label, unit in (("prob", "Δlog p", "gold log p, nats"), ("gen", "ΔROUGE", "ROUGE-L recall")):
        for b in STRATA:
            cols.append(Column(f"{label} {b}", f"forget_{view}/{b}", f"net targeted forgetting of {b}-count facts"
                               f" ({unit}), all items", True, True))
    for b in STRATA:
        cols.append(Column(f"Relearn {b}", f"relearn/{b}", f"relearning recovery of {b}-count facts (gold log p, QA) on"
                           " the never-relearned half after the attack (0 = still unlearned, 1 = base)", True, False))
    for b in STRATA:
        cols.append(Column(f"Benign relearn {b}", f"relearn_benign/{b}", f"recovery of {b}-count facts after benign"
                           " fine-tuning on retain text (0 = still unlearned, 1 = base)", True, False))
    for b in STRATA:
        cols.append(Column(f"MIA AUC {b}", f"mia_auc/{b}", f"Min-K%++ AUC of {b}-count people's biographies against"
                           " never-seen people, after unlearning them (0.5 = indistinguishable)", True, False))
    cols += [
        Column("Retain kept", "retain_kept", "share of known retain facts still known (mean of both views)", True, True),
        Column("Utility kept", "utility_kept", "share of known utility-split facts still known", True, True),
        Column("Retain Δlog p", "retain_forgetting", "gold log p forgetting on the retain split (nats)", True, False),
        Column("PPL ratio", "ppl_ratio", "held-out perplexity after / before (utility-split answers)", True, False),
        Column("Interval", None, "how the intervals were computed (seeds as units, or a people bootstrap)", False),
        Column("GPU-h", None, "GPU hours reported with the submission", True),
        Column("Submitted", None, "UTC time of submission", False),
        Column("ID", None, "submission id (hash of checkpoints + metadata)", False),
    ]
    return cols


COLUMNS: tuple[Column, ...] = tuple(_columns())
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COMPACT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.compact)


def _metric(result: Mapping[str, Any], name: str, field: str = "value") -> float | None:
    entry = result.get("metrics", {}).get(name)
    if not isinstance(entry, Mapping):
        return None
    value = entry.get(field)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return float(value)


def _fmt_ci(result: Mapping[str, Any], name: str) -> str:
    low, high = _metric(result, name, "ci_low"), _metric(result, name, "ci_high")
    if low is None or high is None:
        return ""
    return f"[{low:.3f}, {high:.3f}]"


def row(result: Mapping[str, Any], digits: int = 3) -> dict[str, Any]:
    submission = result.get("submission", {})
    out: dict[str, Any] = {}
    for col in COLUMNS:
        if col.metric is not None:
            value = _metric(result, col.metric)
            out[col.name] = None if value is None else round(value, digits)
    out["Method"] = str(result.get("method", ""))
    out["Headline CI"] = _fmt_ci(result, "headline")
    runs = result.get("runs") or []
    per_target = [sum(1 for r in runs if r.get("target") == b) for b in STRATA]
    out["Seeds"] = min(per_target) if runs else len(result.get("seeds", []))
    headline = result.get("metrics", {}).get("headline")
    out["Interval"] = str(headline.get("interval", "")) if isinstance(headline, Mapping) else ""
    gpu = submission.get("compute", {}).get("gpu_hours")
    out["GPU-h"] = round(float(gpu), 4) if isinstance(gpu, (int, float)) and not isinstance(gpu, bool) else None
    out["Submitted"] = str(result.get("submitted_time", ""))
    out["ID"] = str(result.get("submission_id", ""))
    return {name: out.get(name) for name in COLUMN_NAMES}


def sort_rows(rows: Sequence[Mapping[str, Any]], column: str, descending: bool = True) -> list[dict[str, Any]]:
    """Stable sort by one column: numbers numerically, text case-insensitively, missing last."""
    if column not in COLUMN_NAMES:
        raise KeyError(f"unknown column {column!r}; columns: {', '.join(COLUMN_NAMES)}")
    present = [dict(r) for r in rows if r.get(column) is not None]
    missing = [dict(r) for r in rows if r.get(column) is None]

    def key(r: Mapping[str, Any]) -> Any:
        v = r[column]
        return (0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v).lower())

    return sorted(present, key=key, reverse=descending) + missing


def rank(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered by headline (best first, missing last), with competition ranks (1, 2, 2, 4)."""
    rows = sort_rows([row(r) for r in results], "Headline", descending=True)
    previous, position = object(), 0
    for i, r in enumerate(rows, start=1):
        if r["Headline"] != previous:
            position, previous = i, r["Headline"]
        r["Rank"] = position if r["Headline"] is not None else None
    return rows


def filter_rows(rows: Sequence[Mapping[str, Any]], query: str = "", columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Case-insensitive substring search over the text columns (method, split, id)."""
    needle = query.strip().lower()
    if not needle:
        return [dict(r) for r in rows]
    searched = columns or [c.name for c in COLUMNS if not c.numeric]
    return [dict(r) for r in rows if any(needle in str(r.get(c, "")).lower() for c in searched)]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def one_line(value: Any) -> str:
    """Text printed on one terminal line: control, format and line-separator characters become spaces."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in str(value))


def markdown_text(value: Any) -> str:
    """Text safe inside a Markdown table cell: no line breaks or control characters (a newline
    would start a new row), markup characters backslash-escaped, HTML brackets as entities."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A Markdown table (``leaderboard list``, the closing notes); every cell escaped."""
    cols = list(columns or COLUMN_NAMES)

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        return f"{v:.3f}" if isinstance(v, float) else markdown_text(v)

    lines = ["| " + " | ".join(markdown_text(c) for c in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


# ---- the per-method view: one submission's per-stratum scores and its reported curves ----------

STRATUM_VIEWS = (("Δlog p", "forget_prob", "gold log p forgetting, nats"),
                 ("ΔROUGE", "forget_gen", "ROUGE-L recall forgetting"),
                 ("Erased", "erased", "share of known facts neither view recovers"))
METHOD_TABLE_COLUMNS: tuple[str, ...] = ("Stratum", *(f"{name}{part}" for name, _, _ in STRATUM_VIEWS for part in ("", " CI")))
# the metric a curve plots, by preference: what `freq-unlearn unlearn` logs (unlearn_methods.evaluation)
CURVE_METRICS = ("answer_prob", "exact_contains", "answer_nll")
CURVES_SOURCE = ("Reported by the submitter's run records (run_record.json: per-step evaluations on the forget and"
                 " retain data during unlearning), kept as submitted: the leaderboard verifies only the final checkpoints.")


def method_table(result: Mapping[str, Any], digits: int = 3) -> list[dict[str, Any]]:
    """Per targeted stratum: net forgetting in both views and the erased share, each with its 95%
    interval; then the collateral cost (log p forgetting of the untargeted strata, in the Δlog p
    columns). Values as stored (rounded), ``None`` where the result has none."""

    def value(metric: str) -> float | None:
        v = _metric(result, metric)
        return None if v is None else round(v, digits)

    rows = []
    for b in STRATA:
        r: dict[str, Any] = {"Stratum": f"{b} (targeted)"}
        for name, prefix, _ in STRATUM_VIEWS:
            r[name], r[f"{name} CI"] = value(f"{prefix}/{b}"), _fmt_ci(result, f"{prefix}/{b}")
        rows.append(r)
    collateral = {"Stratum": "collateral (untargeted strata)", "Δlog p": value("collateral"),
                  "Δlog p CI": _fmt_ci(result, "collateral")}
    rows.append({c: collateral.get(c, None if not c.endswith("CI") else "") for c in METHOD_TABLE_COLUMNS})
    return rows


def run_curves(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The result's runs ``{"target", "seed", "evaluations"}`` in stratum then seed order;
    ``evaluations`` is None where the result holds none for the run."""
    runs = [r for r in result.get("runs") or [] if isinstance(r, Mapping)]
    order = {b: i for i, b in enumerate(STRATA)}
    runs = sorted(runs, key=lambda r: (order.get(str(r.get("target")), len(order)), str(r.get("seed"))))
    return [{"target": str(r.get("target")), "seed": r.get("seed"),
             "evaluations": list(r["evaluations"]) if isinstance(r.get("evaluations"), list) and r["evaluations"] else None}
            for r in runs]


def curve_metric(evaluations: Sequence[Mapping[str, Any]]) -> str | None:
    """The metric to draw for a run: the first of ``CURVE_METRICS`` its forget evaluations hold, else
    the first name they hold at all."""
    names: list[str] = []
    for e in evaluations:
        names += [k for k in (e.get("forget") or {}) if k not in names]
    return next((m for m in CURVE_METRICS if m in names), names[0] if names else None)


def curves_note(result: Mapping[str, Any]) -> str | None:
    """One line when runs have no per-step evaluations (all of them, or which ones); None when all do."""
    runs = [r for r in result.get("runs") or [] if isinstance(r, Mapping)]
    if runs and not any("evaluations" in r for r in runs):
        if "schema" in result:  # a stored result of a format before /3
            return (f"No forgetting curves: this result's format ({result['schema']}) did not keep the run records'"
                    " per-step evaluations.")
        return "No forgetting curves: this result does not hold the run records' per-step evaluations."
    missing = [r for r in run_curves(result) if r["evaluations"] is None]
    if not runs or len(missing) == len(runs):
        return "No forgetting curves: the run records of this submission hold no per-step evaluations."
    if missing:
        return "No per-step evaluations in the run records of: " + ", ".join(
            f"{r['target']} seed {r['seed']}" for r in missing) + "."
    return None


def ranked_order(results: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions in ``results`` of the ranked ``rows`` (matched by submission id, in row order)."""
    free = list(range(len(results)))
    order = []
    for r in rows:
        i = next((i for i in free if str(results[i].get("submission_id", "")) == r.get("ID")), None)
        if i is not None:
            free.remove(i)
            order.append(i)
    return order + free
