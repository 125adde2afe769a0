#!/usr/bin/env bash
# The GPU run on a machine that has Python 3.12, JAX (CUDA) and numpy but no package index: install the
# wheels `make gpu-wheels` collected (carried as .gpu-wheels/) into a venv that sees the machine's own JAX,
# then run one of the GPU scripts with the JAX backend and tracking=none.
#   bash benchmarks/gpu_offline.sh [practice|check] [ARGS]   # writes $LOSSBENCH_GPU_OUT (or results/gpu/...)
#   practice (default): benchmarks/gpu_practice.py, the acdc50_gpu sweep and trials per hour (needs .gpu-data/
#                       from `python -m tools.pack_acdc --size 128`); check: benchmarks/gpu_check.py
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-practice}"
[ $# -gt 0 ] && shift
venv="${TMPDIR:-/tmp}/lossbench-gpu-venv"
python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --quiet --no-index --find-links .gpu-wheels keras hydra-core optuna tqdm
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
case "$which" in
  practice) "$venv/bin/python" benchmarks/gpu_practice.py --out "${LOSSBENCH_GPU_OUT:-results/gpu/run}" "$@" ;;
  check) "$venv/bin/python" benchmarks/gpu_check.py --backend jax --out "${LOSSBENCH_GPU_OUT:-results/gpu}" "$@" ;;
  *) echo "gpu_offline.sh: '$which' is not practice or check - name one of the two" >&2; exit 2 ;;
esac
