"""Membership inference per frequency stratum: can an attack still tell forgotten people from strangers?

Members are people whose biographies the model was pre-trained on (the forget strata, and retain /
utility people as never-unlearned controls); non-members are held-out people the corpus never
contained, written with the same templates. Per stratum and attack, the AUC of separating one
stratum's biographies from the held-out ones: 0.5 = indistinguishable from never-seen people. An
unlearned model should move its forgotten stratum towards 0.5 while the controls stay put.

Attacks (larger score = more likely a member), all from one forward pass over each biography, every
token scored after the model's prefix token (as lm-eval's ``loglikelihood_rolling`` scores it):

* ``loss``: mean token log-likelihood (Yeom et al., 2018), and ``zlib``: that mean divided by the zlib
  length (Carlini et al., 2021), both via ``freq_unlearn.tasks.scores.membership_scores``, which the
  lm-eval ``mia_*`` tasks use too;
* ``mink``: Min-K% Prob (Shi et al., ICLR 2024, arXiv 2310.16789): the mean of the k% lowest token
  log-probabilities;
* ``minkpp``: Min-K%++ (Zhang et al., ICLR 2025, arXiv 2404.02936): each token's log-probability is
  standardised by the mean and standard deviation of log p over the model's whole next-token
  distribution at that position, ``(log p(x_t) - mu_t) / sigma_t`` with ``mu_t = E_z[log p(z)]`` and
  ``sigma_t^2 = E_z[(log p(z))^2] - mu_t^2`` (z ~ p(.|x_<t)), then the k% lowest are averaged (as in
  the authors' reference code, github.com/zjysteven/mink-plus-plus, run.py). Neither Min-K variant
  fits lm-eval's request types (they need every token's score, and Min-K%++ the full distribution),
  so they are computed here, directly on the model.

The input is a table of (person_id, group, biography[, stratum]): from the world's facts.parquet
(``people_from_facts``), or from a benchmark's ``mia_<group>`` splits (``people_from_benchmark``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from freq_unlearn.core.errors import UserError
from freq_unlearn.tasks.scores import MIA_GROUPS, MIA_NONMEMBER, membership_scores, mia_split

ATTACKS = ("loss", "zlib", "mink", "minkpp")
DEFAULT_K = 0.2  # the share of lowest-scoring tokens the Min-K attacks average (the papers' 20%)
PEOPLE_COLUMNS = ("person_id", "group", "biography")


def lowest_mean(values: np.ndarray, k: float) -> float:
    """Mean of the int(n * k) lowest values (at least one), as the reference code cuts them."""
    if not len(values):
        return math.nan
    n = max(1, int(len(values) * k))
    return float(np.sort(values)[:n].mean())


def attack_scores(token_logprobs: np.ndarray, mu: np.ndarray, sigma2: np.ndarray, text: str,
                  k: float = DEFAULT_K) -> dict[str, float]:
    """Every attack's score of one text from its per-token statistics (larger = member)."""
    base = membership_scores(float(token_logprobs.sum()), len(token_logprobs), text)
    standardised = (token_logprobs - mu) / np.sqrt(np.maximum(sigma2, 1e-12))
    return {"loss": -base["mia_loss"], "zlib": base["mia_zlib"], "mink": lowest_mean(token_logprobs, k),
            "minkpp": lowest_mean(standardised, k), "logprob": base["mia_logprob"]}


def token_statistics(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 16
                     ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per text: (log p of each token, mu_t, sigma_t^2), every token scored after the prefix token."""
    import torch

    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    limit = int(getattr(model.config, "max_position_embeddings", 0) or getattr(model.config, "n_positions", 0) or 1024)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else prefix
    device = next(model.parameters()).device
    out = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(texts), batch_size):
            rows = [[prefix] + tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts[start:start + batch_size]]
            if max(map(len, rows)) > limit:
                raise UserError(f"a biography of {max(map(len, rows)) - 1} tokens exceeds the model's {limit - 1}-token window")
            ids = torch.full((len(rows), max(map(len, rows))), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, row in enumerate(rows):
                ids[i, :len(row)], mask[i, :len(row)] = torch.tensor(row), 1
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float(), -1)
            for i, row in enumerate(rows):
                lp = logp[i, :len(row) - 1]
                probs = lp.exp()
                mu = (probs * lp).sum(-1)
                sigma2 = (probs * lp.square()).sum(-1) - mu.square()
                token = lp.gather(-1, ids[i, 1:len(row), None].to(device)).squeeze(-1)
                out.append((token.cpu().numpy(), mu.cpu().numpy(), sigma2.cpu().numpy()))
    finally:
        model.train(was_training)
    return out


def _check_people(people: Any) -> None:
    missing = [c for c in PEOPLE_COLUMNS if c not in people.columns]
    if missing:
        raise UserError(f"membership inference needs columns {', '.join(PEOPLE_COLUMNS)}; missing {', '.join(missing)}")
    if not (people["group"].astype(str) == MIA_NONMEMBER).any():
        raise UserError(f"membership inference needs non-members: no person of group {MIA_NONMEMBER!r}")


def mia_scores(model: Any, tokenizer: Any, people: Any, k: float = DEFAULT_K, batch_size: int = 16) -> Any:
    """One row per person: person_id, group, stratum, member, n_tokens and every attack's score."""
    import pandas as pd

    _check_people(people)
    people = people.drop_duplicates("person_id").reset_index(drop=True)
    texts = people["biography"].astype(str).tolist()
    rows = []
    for text, (lp, mu, sigma2) in zip(texts, token_statistics(model, tokenizer, texts, batch_size)):
        rows.append({"n_tokens": len(lp)} | attack_scores(lp, mu, sigma2, text, k))
    stratum = people["stratum"] if "stratum" in people.columns else people["group"]
    out = pd.DataFrame({"person_id": people["person_id"].astype(str), "group": people["group"].astype(str),
                        "stratum": stratum.astype(str)})
    out["member"] = out["group"] != MIA_NONMEMBER
    return pd.concat([out, pd.DataFrame(rows)], axis=1)


def people_from_facts(facts: Any) -> Any:
    """The (person_id, group, biography) table from a world's facts table (one row per person)."""
    missing = [c for c in PEOPLE_COLUMNS if c not in facts.columns]
    if missing:
        raise UserError(f"facts table: no column {missing[0]!r} (membership inference needs each person's biography)")
    return facts.drop_duplicates("person_id")[list(PEOPLE_COLUMNS)].reset_index(drop=True)


def people_table(path: str) -> Any:
    """The people table of a file: a world's facts.parquet (one row per fact) or a (person_id, group,
    biography) Parquet table; it must hold held-out people (the non-members)."""
    import pandas as pd

    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: not a readable Parquet table ({str(err).splitlines()[0]})") from None
    try:
        people = people_from_facts(table)
        _check_people(people)
    except UserError as err:
        raise UserError(f"{path}: {err}") from None
    return people


def people_from_benchmark(benchmark: str, groups: Sequence[str] = MIA_GROUPS) -> Any:
    """The (person_id, group, biography) table from a benchmark's ``mia_<group>`` splits (those present)."""
    import pandas as pd

    from freq_unlearn.core.benchmark_folder import MIA_CONFIG, load_splits

    splits = load_splits(str(benchmark), MIA_CONFIG)
    frames = [splits[mia_split(g)].to_pandas().assign(group=g) for g in groups if mia_split(g) in splits]
    if not frames:
        raise UserError(f"benchmark {benchmark}: no mia_<group> split (membership inference needs biographies)")
    return pd.concat(frames, ignore_index=True)


def auc(members: np.ndarray, nonmembers: np.ndarray, axis: int = -1) -> Any:
    """ROC AUC of "member" scores, as the Mann-Whitney U statistic over n1 * n2 (ties count half).

    Equal to ``sklearn.metrics.roc_auc_score`` (tested), but vectorised over a leading resample axis so
    a thousand bootstrap AUCs cost one ranking.
    """
    from scipy.stats import rankdata

    n1, n2 = members.shape[axis], nonmembers.shape[axis]
    ranks = rankdata(np.concatenate([members, nonmembers], axis=axis), axis=axis)
    member_ranks = np.take(ranks, np.arange(n1), axis=axis).sum(axis=axis)
    return (member_ranks - n1 * (n1 + 1) / 2) / (n1 * n2)


def _auc_with_interval(members: np.ndarray, nonmembers: np.ndarray, n_resamples: int, seed: int) -> tuple[float, float, float]:
    """AUC and its percentile interval, members and non-members resampled independently (people)."""
    from scipy import stats

    value = float(auc(members, nonmembers))
    if len(members) < 2 or len(nonmembers) < 2:
        return value, math.nan, math.nan
    result = stats.bootstrap((members, nonmembers), auc, vectorized=True, paired=False, n_resamples=n_resamples,
                             method="percentile", random_state=seed)
    return value, float(result.confidence_interval.low), float(result.confidence_interval.high)


def mia_aucs(scores: Any, attacks: Sequence[str] = ATTACKS, by: Sequence[str] = ("model",),
             n_resamples: int = 999, seed: int = 0) -> Any:
    """AUC per (model, stratum, attack): that stratum's members against all non-members, 95% interval.

    ``scores``: ``mia_scores`` rows, optionally stacked for several models with a ``model`` column
    (``by``: the columns that tell evaluations apart; missing ones are ignored).
    """
    import pandas as pd

    by = [c for c in by if c in scores.columns]
    rows = []
    for key, part in (scores.groupby(by, sort=True) if by else [((), scores)]):
        key = key if isinstance(key, tuple) else (key,)
        outsiders = part[~part["member"].astype(bool)]
        for stratum, members in part[part["member"].astype(bool)].groupby("stratum", sort=True):
            for attack in attacks:
                a, b = members[attack].to_numpy(float), outsiders[attack].to_numpy(float)
                value, low, high = _auc_with_interval(a, b, n_resamples, seed) if len(b) else (math.nan,) * 3
                rows.append(dict(zip(by, key)) | {"stratum": stratum, "attack": attack, "auc": value, "low": low,
                                                  "high": high, "n_members": len(a), "n_nonmembers": len(b)})
    return pd.DataFrame(rows)


def records_from_mia_samples(samples: Any) -> Any:
    """Per-person records of the lm-eval ``mia_*`` tasks (``results["samples"]``) for ``mia_aucs``.

    Carries the attacks lm-eval can compute (``loss``, ``zlib``), in the same sign as ``mia_scores``.
    """
    import pandas as pd

    rows = []
    for name, task_samples in samples.items():
        if "_mia_" not in name:
            continue
        group = name.rsplit("_mia_", 1)[1]
        for sample in task_samples:
            doc = sample["doc"]
            rows.append({"person_id": str(doc["person_id"]), "group": group, "stratum": str(doc.get("stratum") or group),
                         "member": group != MIA_NONMEMBER, "loss": -float(sample["mia_loss"]),
                         "zlib": float(sample["mia_zlib"]), "logprob": float(sample["mia_logprob"])})
    if not rows:
        raise UserError("no freq-unlearn mia_* samples to score (run the tasks with log_samples)")
    return pd.DataFrame(rows)


def membership_inference(models: dict[str, str], people: Any, k: float = DEFAULT_K, n_resamples: int = 999,
                         seed: int = 0) -> tuple[Any, Any]:
    """(per-person scores, AUC table) of each named model (e.g. {"base": ..., "ga": ...}) on `people`."""
    import pandas as pd

    from freq_unlearn.robustness.relearn import load_model

    frames = []
    for name, path in models.items():
        model, tokenizer = load_model(path)
        frames.append(mia_scores(model, tokenizer, people, k).assign(model=name))
    scores = pd.concat(frames, ignore_index=True)
    return scores, mia_aucs(scores, n_resamples=n_resamples, seed=seed)
