"""What a relearning attack trains on: half of the forgotten people, or benign text.

* ``split_people``: a deterministic split of the forget split's people into the half that is
  relearned and the half that never is (by a seeded hash of the person id, so it depends on neither
  row order nor the other people, and is recorded in the summary);
* ``fact_texts``: the training text of a fact, in the forms the benchmark asks it: its question in
  the suite's QA prompt followed by the answer, and its biography sentence (``bio_prefix``) followed
  by the answer. The demo unlearns both forms (``forget_format="both"``), so relearning by default
  trains both forms too;
* ``benign_texts``: the same forms for a split that holds none of the forgotten facts (retain), with
  any text that names a forget person dropped, so the benign attack can only work through general
  fine-tuning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from freq_unlearn.core.errors import UserError
from freq_unlearn.core.schema import QA_PROMPT

RELEARNED = "relearned"  # the half whose facts the attack trains on
HELDOUT = "heldout"  # the half it never sees: recovery there is the attack's measure
FORMS = ("qa", "bio", "both")


def person_of(row: Mapping[str, Any]) -> str:
    """The person a fact belongs to (benchmarks without person_id cluster by subject, as evaluation does)."""
    return str(row.get("person_id") or row.get("subject", ""))


def split_people(person_ids: Iterable[str], seed: int = 0) -> dict[str, str]:
    """person id -> RELEARNED or HELDOUT; half each (the heldout half gets the odd one)."""
    people = sorted(set(map(str, person_ids)))
    if len(people) < 2:
        raise UserError(f"a relearning split needs at least 2 people in the forget split, got {len(people)}")
    order = sorted(people, key=lambda p: hashlib.sha256(f"{seed}/{p}".encode()).hexdigest())
    half = len(order) // 2
    return {p: (RELEARNED if i < half else HELDOUT) for i, p in enumerate(order)}


def fact_texts(row: Mapping[str, Any], form: str = "both") -> list[str]:
    """The training texts of one fact: ``"Question: q\\nAnswer: a"`` and/or ``"<bio prefix> a"``."""
    if form not in FORMS:
        raise UserError(f"unknown relearning form {form!r}; choose from {', '.join(FORMS)}")
    answer = str(row["answer"])
    texts = []
    if form in ("qa", "both"):
        texts.append(QA_PROMPT.format(question=row["question"]) + " " + answer)
    prefix = str(row.get("bio_prefix") or "")
    if form in ("bio", "both") and prefix:
        texts.append(prefix + " " + answer)
    return texts


def relearn_texts(forget_rows: Sequence[Mapping[str, Any]], halves: Mapping[str, str], form: str = "both") -> list[str]:
    """Texts of the facts of the relearned half."""
    return [t for row in forget_rows if halves.get(person_of(row)) == RELEARNED for t in fact_texts(row, form)]


def benign_texts(rows: Sequence[Mapping[str, Any]], forget_rows: Sequence[Mapping[str, Any]],
                 form: str = "both") -> tuple[list[str], int]:
    """(texts of `rows` that name no forget person, number dropped because they did)."""
    names = {str(r["subject"]) for r in forget_rows if r.get("subject")}
    texts, dropped = [], 0
    for row in rows:
        for text in fact_texts(row, form):
            if any(name in text for name in names):
                dropped += 1
            else:
                texts.append(text)
    return texts, dropped
