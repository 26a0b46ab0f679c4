"""The dataset card (README.md) of a benchmark folder: the `configs:` block naming the splits,
the counts' provenance, the strata, the sizes and the citation."""

from __future__ import annotations

from typing import Any

from freq_unlearn.core import schema
from freq_unlearn.core.benchmark_folder import MIA_CONFIG

DATA_DIR = "data"


def dataset_card(info: dict[str, Any]) -> str:
    prov = info["counts_provenance"] or {}
    paths = [str(p) for p in prov.get("corpus", [])]
    corpus = ", ".join(paths[:3]) + (f", ... ({len(paths)} paths)" if len(paths) > 3 else "")
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in schema.BENCHMARK_SPLITS:
        lines += [f"  - split: {split}", f"    path: {DATA_DIR}/{split}.parquet"]
    # `datasets` caches a local folder with a `configs:` block under a key made of the card's
    # YAML alone (data paths are relative, file contents ignored): without the content hash
    # here, two benchmark folders -- or one folder rebuilt -- would load each other's cached rows.
    if info.get("mia_sizes"):  # membership-inference biographies: their own columns, so their own config
        lines += [f"- config_name: {MIA_CONFIG}", "  data_files:"]
        for split in info["mia_sizes"]:
            lines += [f"  - split: {split}", f"    path: {DATA_DIR}/{split}.parquet"]
    if info.get("data_sha256"):
        lines += ["dataset_info:", "  config_name: default",
                  f"  description: 'freq-unlearn benchmark, data sha256 {info['data_sha256']}'"]
    lines += [
        "license: apache-2.0",
        "task_categories:",
        "- question-answering",
        "language:",
        "- en",
        "tags:",
        "- unlearning",
        "- frequency",
        f"pretty_name: {info['name']}",
        "---",
        "",
        f"# {info['name']}",
        "",
        "A frequency-stratified unlearning benchmark built by `freq-unlearn build`, after Krishnan,",
        "Reddy & Mosbach, *Not All Data Are Unlearned Equally* (arXiv 2504.05058). Every forget item",
        "carries the number of pre-training documents in which its subject and object co-occur.",
        "",
        "## Counts",
        "",
        f"- corpus: {corpus or 'n/a'}"
        f" ({prov.get('corpus_files', 'n/a')} files, {prov.get('documents', 'n/a')} documents)",
        f"- backend: {prov.get('backend', 'n/a')} (mode {prov.get('mode', 'n/a')}), casing {prov.get('casing', 'n/a')},"
        f" word boundaries {prov.get('word_boundaries', 'n/a')}, window {prov.get('window')}",
        f"- approximate: {prov.get('approximate', 'n/a')}; skipped corpus lines: {prov.get('skipped_lines', 0)}",
        "",
        "## Strata",
        "",
        f"- method: {info['strata']}, cut points {info['cut_points'][0]:g} / {info['cut_points'][1]:g}"
        " (low: count <= first; high: count >= second; medium: strictly between)",
        f"- balanced on relation and answer length: {info['balance']} (seed {info['seed']})",
        f"- facts given generated same-relation distractors: {info.get('generated_distractors', 0)}",
        "",
        "## Splits",
        "",
        "| split | rows |",
        "| --- | ---: |",
    ]
    lines += [f"| {split} | {n} |" for split, n in info["sizes"].items()]
    lines += [f"| {split} (config `{MIA_CONFIG}`) | {n} |" for split, n in (info.get("mia_sizes") or {}).items()]
    lines += [
        "",
        "`*_paraphrased` splits hold the same facts with the first paraphrase as `question`",
        "(the original in `original_question`). `retain` facts may be kept; `utility` facts are never unlearned.",
        "",
        "## Use",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("<this folder or hub id>")',
        'ds["forget_high"][0]',
        "```",
        "",
        "## Citation",
        "",
        "```bibtex",
        "@inproceedings{krishnan2025notall,",
        "  title={Not All Data Are Unlearned Equally},",
        "  author={Krishnan, Aravind and Reddy, Siva and Mosbach, Marius},",
        "  booktitle={Conference on Language Modeling (COLM)},",
        "  year={2025},",
        "  eprint={2504.05058},",
        "}",
        "```",
        "",
    ]
    return "\n".join(lines)
