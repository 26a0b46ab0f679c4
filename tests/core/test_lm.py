"""The kernel's direct scoring (freq_unlearn.core.lm) agrees with lm-eval's hf backend."""

from __future__ import annotations

import math

import pytest


@pytest.fixture(scope="module")
def model_and_tokenizer(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval(), AutoTokenizer.from_pretrained(str(tiny_model))


def test_encode_pair_moves_trailing_space_to_the_continuation(model_and_tokenizer):
    from freq_unlearn.core.lm import encode_pair

    _, tok = model_and_tokenizer
    assert encode_pair(tok, "Question: Who?\nAnswer: ", "Ada") == encode_pair(tok, "Question: Who?\nAnswer:", " Ada")
    ctx, cont = encode_pair(tok, "Question: Who?\nAnswer:", " Ada Lind")
    assert tok.decode(ctx + cont) == "Question: Who?\nAnswer: Ada Lind" and cont


def test_logprobs_and_greedy_match_lm_eval(model_and_tokenizer):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from freq_unlearn.core.lm import continuation_logprobs, greedy_continuations

    model, tok = model_and_tokenizer
    pairs = [("Question: Where was Ada Lind born?\nAnswer:", " Amberford"), ("Ada Lind was born in", " Emberport Vale")]
    ours = continuation_logprobs(model, tok, pairs, batch_size=1) + continuation_logprobs(model, tok, pairs, batch_size=2)
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=2)
    theirs = lm.loglikelihood([Instance("loglikelihood", {}, p, i) for i, p in enumerate(pairs)], disable_tqdm=True)
    for (lp, n), (ll, _) in zip(ours, theirs + theirs):
        assert math.isclose(lp, ll, rel_tol=1e-4, abs_tol=1e-4) and n >= 1
    contexts = [p[0] for p in pairs]
    generated = lm.generate_until([Instance("generate_until", {}, (c, {"until": ["\n"], "max_gen_toks": 8, "do_sample": False}), i)
                                   for i, c in enumerate(contexts)], disable_tqdm=True)
    assert greedy_continuations(model, tok, contexts, max_new_tokens=8, until=("\n",)) == generated
