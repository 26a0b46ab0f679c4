"""Estimates with intervals, tests and verdicts: the one statistics layer of the suite.

Every number the demo and the leaderboard report with an interval comes from ``estimate``:

* the data are per-item rows (one row per fact and probe, outcomes already averaged over the
  unlearning seeds of a model, so an item is counted once);
* a *statistic* maps the rows of one unit (a pre-trained model) to a number: a mean
  (``mean_of``), a difference of means between two groups (``difference_of_means``) or an adjusted
  slope (``ols_slope``: ordinary least squares, the coefficient of one term);
* within a unit, the standard error comes from a cluster bootstrap over people
  (``scipy.stats.bootstrap`` resampling the people, each with all of its rows), because the facts
  of one person are not independent;
* across units, the per-unit estimates are combined by a random-effects meta-analysis
  (``statsmodels.stats.meta_analysis.combine_effects``, Paule-Mandel between-unit variance), so the
  interval widens when the pre-trained models disagree. With one unit the interval is the bootstrap's
  own percentile interval, labelled "people only (one model)": it says nothing about other models.

``holm`` corrects the p-values of one report for multiplicity (statsmodels' ``multipletests``), and
``verdict`` turns an estimate into words by a rule fixed in advance: no verdict from fewer than
``MIN_ITEMS`` items per stratum or from a degenerate (non-finite or zero-width) interval.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

Columns = Mapping[str, np.ndarray]
# A statistic sees the rows of one unit and a weight per row: a bootstrap resample is the same rows
# weighted by how often each row's person was drawn (no copies needed).
Statistic = Callable[[Columns, np.ndarray], float]

MIN_ITEMS = 30
CONFIDENCE = 0.95
N_RESAMPLES = 999


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval and where the interval comes from."""

    value: float
    low: float
    high: float
    se: float
    p_value: float  # two-sided, against 0
    n_items: int
    n_people: int
    n_units: int  # pre-trained models (or 1)
    method: str  # "random effects over N models" | "people only (one model)" | "none"
    tau2: float = math.nan  # between-unit variance of the random-effects model

    @property
    def degenerate(self) -> bool:
        return not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high - self.low <= 0

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def as_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}

    @classmethod
    def missing(cls, n_items: int = 0, n_people: int = 0, n_units: int = 0) -> Estimate:
        nan = math.nan
        return cls(nan, nan, nan, nan, nan, n_items, n_people, n_units, "none")


# ------------------------------------------------------------------ statistics of one unit


class UnitColumns(dict):
    """The columns of one unit; ``memo`` keeps what a statistic derives once from them (design
    matrices, masks), so a thousand bootstrap weightings cost only the weighted solve."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memo: dict[Any, Any] = {}


def _memo(cols: Columns, key: Any, build: Callable[[], Any]) -> Any:
    memo = getattr(cols, "memo", None)
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = build()
    return memo[key]


def mean_of(column: str, where: Callable[[Columns], np.ndarray] | None = None) -> Statistic:
    """Mean of a column over the rows (optionally those selected by ``where``); NaN rows ignored."""

    def stat(cols: Columns, weights: np.ndarray) -> float:
        def build() -> tuple[np.ndarray, np.ndarray]:
            values = np.asarray(cols[column], dtype=float)
            mask = np.isfinite(values) & (where(cols) if where is not None else True)
            return values, mask

        values, mask = _memo(cols, ("mean", column, where), build)
        keep = mask & (weights > 0)
        total = weights[keep].sum()
        return float((values[keep] * weights[keep]).sum() / total) if total > 0 else math.nan

    return stat


def difference_of_means(column: str, group: str, first: str, second: str) -> Statistic:
    """mean(column | group == first) - mean(column | group == second)."""
    a = mean_of(column, lambda c: np.asarray(c[group]).astype(str) == first)
    b = mean_of(column, lambda c: np.asarray(c[group]).astype(str) == second)
    return lambda cols, weights: a(cols, weights) - b(cols, weights)


def within(statistic: Statistic, where: Callable[[Columns], np.ndarray]) -> Statistic:
    """``statistic`` over the rows selected by ``where`` only (the others get weight 0), so that two
    subsets of one unit (two methods on the same people) are resampled together: a paired comparison."""

    def stat(cols: Columns, weights: np.ndarray) -> float:
        mask = _memo(cols, ("within", where), lambda: np.asarray(where(cols), dtype=bool))
        return statistic(cols, weights * mask)

    return stat


def ols_slope(outcome: str, term: str, covariates: Sequence[str] = (), categorical: Sequence[str] = ()) -> Statistic:
    """The OLS coefficient of ``term`` in outcome ~ 1 + term + covariates + dummies(categorical)."""

    def design() -> Callable[[Columns], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        def build(cols: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            y = np.asarray(cols[outcome], dtype=float)
            parts = [np.ones_like(y), np.asarray(cols[term], dtype=float)]
            parts += [np.asarray(cols[c], dtype=float) for c in covariates]
            for name in categorical:
                levels = np.asarray(cols[name]).astype(str)
                parts += [(levels == level).astype(float) for level in sorted(set(levels.tolist()))[1:]]
            x = np.column_stack(parts)
            return x, y, np.isfinite(y) & np.isfinite(x).all(axis=1)

        return build

    build = design()
    key = ("ols", outcome, term, tuple(covariates), tuple(categorical))

    def stat(cols: Columns, weights: np.ndarray) -> float:
        x, y, finite = _memo(cols, key, lambda: build(cols))
        keep = finite & (weights > 0)
        x, y, root_w = x[keep], y[keep], np.sqrt(weights[keep])
        if len(y) <= x.shape[1] or np.ptp(x[:, 1]) == 0:
            return math.nan
        coef, *_ = np.linalg.lstsq(x * root_w[:, None], y * root_w, rcond=None)
        return float(coef[1])

    return stat


# ------------------------------------------------------------------ intervals


def _columns(frame: Any) -> UnitColumns:
    return UnitColumns({c: frame[c].to_numpy() for c in frame.columns})


def _cluster_bootstrap(cols: UnitColumns, statistic: Statistic, cluster: str, n_resamples: int,
                       seed: int, confidence: float) -> tuple[float, float, float, float]:
    """(value, se, low, high) of one unit: people resampled with all their rows (scipy.stats.bootstrap)."""
    from scipy import stats

    people, inverse = np.unique(np.asarray(cols[cluster]).astype(str), return_inverse=True)
    value = statistic(cols, np.ones(len(inverse)))
    if not math.isfinite(value) or len(people) < 2:
        return value, math.nan, math.nan, math.nan

    def resampled(chosen: np.ndarray) -> float:
        drawn = np.bincount(chosen.astype(int), minlength=len(people)).astype(float)
        return statistic(cols, drawn[inverse])

    with warnings.catch_warnings():  # a constant statistic is reported as a degenerate interval instead
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap((np.arange(len(people)),), resampled, vectorized=False, n_resamples=n_resamples,
                                 confidence_level=confidence, method="percentile", random_state=seed)
    low, high = result.confidence_interval
    return value, float(result.standard_error), float(low), float(high)


def estimate(frame: Any, statistic: Statistic, unit: str = "model", cluster: str = "person_id",
             n_resamples: int = N_RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE) -> Estimate:
    """The statistic per unit with a people bootstrap, combined across units (random effects)."""
    from scipy import stats as sps

    n_items, n_people = len(frame), int(frame[cluster].nunique()) if len(frame) else 0
    units = sorted(frame[unit].astype(str).unique()) if len(frame) else []
    if not units:
        return Estimate.missing()
    per_unit = []
    for k, name in enumerate(units):
        rows = frame[frame[unit].astype(str) == name]
        per_unit.append(_cluster_bootstrap(_columns(rows), statistic, cluster, n_resamples, seed + k, confidence))
    if len(units) == 1:
        value, se, low, high = per_unit[0]
        p = 2 * sps.norm.sf(abs(value / se)) if se and math.isfinite(se) and se > 0 else math.nan
        return Estimate(value, low, high, se, p, n_items, n_people, 1, "people only (one model)")
    usable = [(v, se) for v, se, _, _ in per_unit if math.isfinite(v) and math.isfinite(se) and se > 0]
    if len(usable) < 2:
        return Estimate.missing(n_items, n_people, len(units))
    from statsmodels.stats.meta_analysis import combine_effects

    effects, ses = np.array([v for v, _ in usable]), np.array([s for _, s in usable])
    combined = combine_effects(effects, ses**2, method_re="iterated", alpha=1 - confidence)
    frame_ = combined.summary_frame()
    row = frame_.loc["random effect"]
    value, se = float(row["eff"]), float(row["sd_eff"])
    p = 2 * sps.norm.sf(abs(value / se)) if se > 0 else math.nan
    return Estimate(value, float(row["ci_low"]), float(row["ci_upp"]), se, p, n_items, n_people, len(usable),
                    f"random effects over {len(usable)} models", tau2=float(combined.tau2))


# ------------------------------------------------------------------ decisions


def holm(p_values: Sequence[float], alpha: float = 1 - CONFIDENCE) -> list[float]:
    """Holm-adjusted p-values (NaN stays NaN and is not counted as a test)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), math.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=alpha, method="holm")[1]
    return out.tolist()


def verdict(est: Estimate, adjusted_p: float, predicted_sign: int, min_items: int | None = None,
            alpha: float = 1 - CONFIDENCE, min_units: int = 2) -> str:
    """'as predicted' / 'opposite' / 'inconclusive', or 'no verdict (...)' when the data cannot say.

    ``min_items`` is the smallest per-stratum item count behind the estimate (checked against MIN_ITEMS).
    A claim about models needs ``min_units`` pre-trained models: from fewer, the direction and
    interval are reported as *descriptive* (a people bootstrap says nothing about other models).
    """
    if est.n_units < min_units:
        return f"descriptive (fewer than {min_units} pre-trained models)"
    if min_items is not None and min_items < MIN_ITEMS:
        return f"no verdict (fewer than {MIN_ITEMS} items per stratum)"
    if est.degenerate or not math.isfinite(adjusted_p):
        return "no verdict (degenerate interval)"
    if adjusted_p >= alpha:
        return "inconclusive"
    return "as predicted" if np.sign(est.value) == predicted_sign else "opposite"
