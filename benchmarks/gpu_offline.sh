#!/usr/bin/env bash
# make gpu-check on a GPU machine that has Python 3.12, JAX (CUDA) and numpy but no package index:
# install the wheels `make gpu-wheels` collected (carried as .gpu-wheels/) into a venv that sees the
# machine's own JAX, then run benchmarks/gpu_check.py with the JAX backend and tracking=none.
#   bash benchmarks/gpu_offline.sh            # writes results/gpu/, or $LOSSBENCH_GPU_OUT
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${TMPDIR:-/tmp}/lossbench-gpu-venv"
python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --quiet --no-index --find-links .gpu-wheels keras hydra-core optuna tqdm
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$venv/bin/python" benchmarks/gpu_check.py --backend jax --out "${LOSSBENCH_GPU_OUT:-results/gpu}" "$@"
