"""Same-relation distractors for facts that come without any.

The probability view scores a fact as known when its answer beats every distractor; with none,
``all([])`` is true and every fact looks known and kept. So ``build_benchmark`` never writes a
fact with an empty distractor list. A fact without distractors (no ``distractors`` column, or an
empty list) gets ``GENERATED_DISTRACTORS`` of them, drawn without replacement from the answers of
the *other* facts of the same relation (all facts of the table, whatever their split; without a
``relation`` column every fact is of one relation), never equal to its own answer or object.
The draw is seeded by the build's ``seed`` and the fact's ``fact_id``, so it does not depend on
row order. When fewer than ``GENERATED_DISTRACTORS`` other answers exist, the fact gets all of
them; when none exists, the build is refused with one line naming the fact and the relation.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from freq_unlearn.core.errors import UserError

GENERATED_DISTRACTORS = 4  # as many as the synthetic world writes per fact (WorldConfig.n_distractors)


def _rng(seed: int, fact_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(hashlib.sha256(fact_id.encode()).hexdigest()[:15], 16)])


def fill_distractors(facts: pd.DataFrame, seed: int, source: str = "facts") -> tuple[pd.DataFrame, int]:
    """Facts (columns fact_id, relation, answer, object, distractors) with every empty distractor
    list filled as the module docstring says; returns the table and how many facts were filled."""
    empty = facts["distractors"].map(len) == 0
    if not empty.any():
        return facts, 0
    answers = facts.groupby("relation", sort=False)["answer"].agg(lambda a: sorted(set(map(str, a))))
    filled = facts["distractors"].copy()
    for i in facts.index[empty]:
        row = facts.loc[i]
        own = {str(row["answer"]), str(row["object"])}
        pool = [a for a in answers[row["relation"]] if a not in own]
        if not pool:
            raise UserError(
                f"{source}: fact {row['fact_id']!r} has no distractors and relation {row['relation']!r} has no "
                "other answer to draw them from; add a 'distractors' column (same-relation wrong answers)"
            )
        picked = _rng(seed, str(row["fact_id"])).choice(len(pool), size=min(GENERATED_DISTRACTORS, len(pool)),
                                                       replace=False)
        filled.at[i] = [pool[j] for j in sorted(picked)]
    facts = facts.copy()
    facts["distractors"] = filled
    return facts, int(empty.sum())
