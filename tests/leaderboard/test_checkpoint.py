from __future__ import annotations

import json
import struct

import pytest

from freq_unlearn.leaderboard.checkpoint import (
    CheckpointError,
    base_fingerprint,
    check_folder,
    check_same_base,
    content_hash,
    fetch,
    sanitized_copy,
)


def test_safe_checkpoint_passes_and_hash_is_content_based(checkpoint_factory, tmp_path):
    ckpt = checkpoint_factory(seed=0)
    checked = check_folder(ckpt)
    assert not checked.is_adapter and len(checked.sha256) == 64
    (ckpt / "run_record.json").write_text("{}")  # not behaviour-defining: same hash
    assert content_hash(ckpt) == checked.sha256
    other = checkpoint_factory(seed=1)
    assert content_hash(other) != checked.sha256


def test_trainer_leftovers_are_never_loaded(checkpoint_factory, tmp_path):
    """`freq-unlearn unlearn` leaves training_args.bin and checkpoint-N/ (pickles) next to the
    weights: the checkpoint is accepted, and the copy that gets evaluated holds none of them."""
    ckpt = checkpoint_factory()
    (ckpt / "training_args.bin").write_bytes(b"\x80\x04pickle")
    (ckpt / "checkpoint-5").mkdir()
    (ckpt / "checkpoint-5" / "optimizer.pt").write_bytes(b"\x80\x04pickle")
    (ckpt / "modeling_evil.py").write_text("raise SystemExit")
    checked = check_folder(ckpt)
    clean = sanitized_copy(checked, tmp_path / "cache")
    names = sorted(p.name for p in clean.iterdir())
    assert "model.safetensors" in names and "tokenizer.json" in names and "config.json" in names
    assert not {"training_args.bin", "checkpoint-5", "modeling_evil.py"} & set(names)
    assert sanitized_copy(checked, tmp_path / "cache") == clean  # reused


def test_pickle_weights_are_refused(checkpoint_factory):
    ckpt = checkpoint_factory()
    (ckpt / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(CheckpointError, match="pickle-based weights .*pytorch_model.bin.*only safetensors"):
        check_folder(ckpt)


def test_no_weights_fake_safetensors_remote_code_and_size(checkpoint_factory, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="no \\*.safetensors"):
        check_folder(empty)
    with pytest.raises(CheckpointError, match="checkpoint folder not found"):
        check_folder(tmp_path / "missing")
    ckpt = checkpoint_factory()
    with pytest.raises(CheckpointError, match="over the 1000-byte limit"):
        check_folder(ckpt, max_bytes=1000)
    config = json.loads((ckpt / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.Model"}
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="auto_map.*remote code"):
        check_folder(ckpt)
    bad = checkpoint_factory()
    (bad / "model.safetensors").write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        check_folder(bad)


def test_base_model_must_match(checkpoint_factory):
    base = checkpoint_factory(seed=0)
    fp = base_fingerprint(base)
    check_same_base(check_folder(checkpoint_factory(seed=5)), fp, "base")  # same arch + tokenizer
    deeper = checkpoint_factory(n_layer=3)
    with pytest.raises(CheckpointError, match="n_layer=3 .* has 2: not an unlearned copy"):
        check_same_base(check_folder(deeper), fp, "base")
    retok = checkpoint_factory()
    tok = json.loads((retok / "tokenizer.json").read_text())
    tok["model"]["vocab"]["zebra"] = tok["model"]["vocab"].pop("the")
    (retok / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(CheckpointError, match="tokenizer differs"):
        check_same_base(check_folder(retok), fp, "base")


def test_hub_id_offline_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CheckpointError, match="org/model: not a local folder, and the Hub is unreachable offline"):
        fetch("org/model")


def test_lora_adapter_is_recognised_and_must_name_the_base(checkpoint_factory, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = checkpoint_factory()
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=2, target_modules=["c_attn"], fan_in_fan_out=True))
    adapter = tmp_path / "adapter"
    model.save_pretrained(adapter)
    checked = check_folder(adapter)
    assert checked.is_adapter and (adapter / "adapter_model.safetensors").is_file()
    fp = base_fingerprint(base)
    check_same_base(checked, fp, str(base))
    with pytest.raises(CheckpointError, match="adapter is for base model"):
        check_same_base(checked, fp, "someone/else")
