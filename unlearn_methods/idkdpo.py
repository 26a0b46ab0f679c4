"""IdkDPO: DPO on forget questions with the refusal preferred over the true answer.

    prompt = "Question: {q}\\nAnswer:",  chosen = " I don't know.",  rejected = " {answer}"
    L_DPO = -E[ log sigmoid( beta * ((log pi(ch) - log pi_ref(ch)) - (log pi(rej) - log pi_ref(rej))) ) ]

Rafailov et al. 2023 (arXiv:2305.18290); the unlearning use with a refusal as the preferred
answer follows Maini et al. 2024 (TOFU, arXiv:2401.06121). The loss, the frozen reference model
(reloaded from the base model's path, or the LoRA base) and the batching are TRL's own
`DPOTrainer`; this module only builds the preference data and adds the shared unlearning
parts (guard, per-step record, forget/retain metrics, model card). No retain term.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from trl import DPOConfig, DPOTrainer

from freq_unlearn.core.schema import QA_PROMPT, REFUSAL

from .base import UnlearnConfig, UnlearnMixin
from .data import QAEvalSet

DPO_BIBTEX = """@inproceedings{rafailov2023dpo,
  title     = {Direct Preference Optimization: Your Language Model is Secretly a Reward Model},
  author    = {Rafailov, Rafael and Sharma, Archit and Mitchell, Eric and Ermon, Stefano and Manning, Christopher D. and Finn, Chelsea},
  booktitle = {NeurIPS},
  year      = {2023},
  note      = {arXiv:2305.18290}
}"""


def idk_preference_rows(questions: list[str], answers: list[str]) -> dict[str, list[str]]:
    """Columns prompt/chosen/rejected in the shared prompt format (completions keep their leading space)."""
    return {
        "prompt": [QA_PROMPT.format(question=q) for q in questions],
        "chosen": [" " + REFUSAL] * len(questions),
        "rejected": [" " + a for a in answers],
    }


@dataclass
class IdkDPOConfig(UnlearnConfig, DPOConfig):
    r"""
    IdkDPO: `UnlearnConfig` + TRL's `DPOConfig` (beta 0.1, loss_type sigmoid, ...).
    `retain_weight`, `forget_weight` and `mask_retain_question` do not apply (DPO has no retain term).
    """

    _refusal_target: ClassVar[bool] = True  # forget_format "qa" only (checked by UnlearnConfig)
    method: str = field(default="idkdpo", metadata={"help": "Unlearning method.", "choices": ["idkdpo"]})
    retain_weight: float = field(default=0.0, metadata={"help": "Not used by IdkDPO (no retain term)."})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "Gradient checkpointing (TRL's default is on; off here)."})


class IdkDPOTrainer(UnlearnMixin, DPOTrainer):
    """TRL's DPOTrainer on (question, refusal, true answer) triples, with the shared unlearning parts."""

    _paper = {"title": "Direct Preference Optimization", "id": "arXiv:2305.18290", "citation": DPO_BIBTEX}

    def __init__(
        self,
        model: Any,
        args: IdkDPOConfig,
        train_dataset: Any,
        processing_class: Any,
        qa_eval: QAEvalSet | None = None,
        callbacks: list | None = None,
        ref_model: Any = None,
    ) -> None:
        super().__init__(
            model=model, ref_model=ref_model, args=args, train_dataset=train_dataset,
            processing_class=processing_class, callbacks=callbacks,
        )  # fmt: skip
        self._setup_unlearning(qa_eval)

    @classmethod
    def build_train_dataset(cls, tokenizer: Any, forget: Any, retain: Any, args: IdkDPOConfig) -> Any:
        import datasets

        return datasets.Dataset.from_dict(idk_preference_rows(list(forget["question"]), list(forget["answer"])))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
        loss = out[0] if return_outputs else out
        self.loss_terms.record(loss=loss, forget_loss=loss)
        return out
