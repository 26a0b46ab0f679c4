#!/usr/bin/env bash
# Set up freq-unlearn in ./.venv on a fresh machine (Python 3.10+, pip, venv). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first, pinned: on the project's CPU machines this takes the local CPU wheel; a range that
# admits newer releases would make pip fetch a multi-GB CUDA build instead.
python -c "import torch" 2>/dev/null || pip install -q "torch==2.13.0" || pip install -q "torch>=2.4"
pip install -q -e ".[all]"
# The leaderboard's browser test uses Debian's chromium (playwright's own browser download fails
# offline); skip quietly where apt is unavailable: that one test then skips with a reason.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "setup: could not install chromium; the browser test will be skipped" >&2
fi
echo "setup: ready ($(python -c 'import torch, transformers, lm_eval; print("torch", torch.__version__, "transformers", transformers.__version__)'))"
