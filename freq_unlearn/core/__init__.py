"""The kernel every part imports: names and schemas (``schema``), errors, atomic writes (``fsutil``),
answer matching (``answers``), direct scoring of a causal LM (``lm``), the benchmark folder
(``benchmark_folder``) and the unlearning run record (``run_record``). It imports nothing else
from the package; importing it loads no torch.
"""
