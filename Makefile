# lossbench: `make sweep` runs the main job, `make test` runs the tests (`make test-all` adds the slow
# end-to-end ones). Each sets everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# $(RUN): lossbench and TensorFlow, what a sweep needs (make sweep installs no more); $(STAMP): and the dev tools
RUN    := $(VENV)/.installed-run
STAMP  := $(VENV)/.installed

.PHONY: help setup setup-gpu setup-py312 gpu-check gpu-wheels gpu-results sweep test test-all format camvid catalogue report thread2 thread1 real-hearts transfer reproducibility pruning-check budget-check mlflow dashboard bench bench-data bench-determinism lint clean

help:  ## list the targets
	@grep -E '^[a-z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# the TensorFlow this venv holds: cpu, or gpu after `make setup-gpu` (.venv/.tensorflow), so that a later
# install (pyproject.toml changed) never puts tensorflow-cpu over tensorflow
TF_FLAVOUR := $(shell cat $(VENV)/.tensorflow 2>/dev/null || echo cpu)
RUN_EXTRAS ?= $(TF_FLAVOUR)
EXTRAS ?= $(RUN_EXTRAS),dev
PY312  ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))

# uv installs what pip would (pip's indexes, links and constraints: tools/uv_args.py; the best match across
# the indexes, as pip picks), bytecode compiled, in 22-37 s instead of 59-68 s here; pip itself if uv cannot be had.
PIP_INSTALL = ($(BIN)/pip install --quiet uv && $(BIN)/uv pip install --quiet --python $(BIN)/python \
	--compile-bytecode --index-strategy unsafe-best-match $$($(BIN)/python tools/uv_args.py) $(1)) || $(BIN)/pip install --quiet $(1)

$(RUN): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call PIP_INSTALL,-e '.[$(RUN_EXTRAS)]')
	@touch $(RUN)

$(STAMP): $(RUN)
	$(call PIP_INSTALL,-e '.[$(EXTRAS)]')
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install lossbench with its dev tools (TensorFlow for the CPU)

setup-gpu:  ## .venv with TensorFlow + CUDA instead of the CPU build (exactly one TensorFlow installed)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	-$(BIN)/pip uninstall --quiet --yes tensorflow-cpu
	$(BIN)/pip install --quiet -e '.[gpu,dev]'
	@echo gpu > $(VENV)/.tensorflow
	@touch $(RUN) $(STAMP)

setup-py312:  ## the same install in .venv312 with Python 3.12, then the fast tests there
	$(PY312) -m venv .venv312
	.venv312/bin/pip install --quiet --upgrade pip
	.venv312/bin/pip install --quiet -e '.[cpu,dev]'
	.venv312/bin/python -m pytest -q -m "not slow" -p no:cacheprovider

sweep: $(RUN)  ## the cmr sweep on the built-in synthetic cardiac MRI (3 seeds + adaptive seeds)
	$(BIN)/python -m lossbench.sweep +experiment=cmr $(ARGS)

test: $(STAMP)  ## the fast tests and the doctests (no end-to-end training runs)
	$(BIN)/python -m pytest -m "not slow" $(ARGS)

test-all: test  ## the fast tests, then the slow end-to-end ones (what CI runs)
	$(BIN)/python -m pytest -m slow $(ARGS)

camvid: $(RUN)  ## CamVid street scenes (../shared/data/camvid): the sweep, then the cardiac conclusions re-tested on it
	$(BIN)/python -m lossbench.sweep +experiment=camvid $(ARGS)
	$(BIN)/python -m lossbench.holds +experiment=camvid $(ARGS)

catalogue: $(RUN)  ## every loss in conf/loss/ with Adam + softmax, weighting none / median frequency
	$(BIN)/python -m lossbench.sweep +experiment=catalogue $(ARGS)

report: $(RUN)  ## rebuild results/<experiment>/ from the stores (EXP=cmr)
	$(BIN)/python -m lossbench.report +experiment=$(or $(EXP),cmr)

thread2: $(RUN)  ## thread 2's setting and each single change that might fix it
	$(BIN)/python -m lossbench.sweep +experiment=thread2 $(ARGS)

thread1: $(RUN)  ## thread 1: probabilities vs logits x binary/categorical CE at Adam 1e-3 and 3e-3
	$(BIN)/python -m lossbench.sweep +experiment=thread1 $(ARGS)

real-hearts: $(RUN)  ## 50 ACDC patients (../shared/data) and the calibrated phantom, then results/transfer.md
	$(BIN)/python -m lossbench.sweep +experiment=acdc50 $(ARGS)
	$(BIN)/python -m lossbench.sweep +experiment=cmr_realistic $(ARGS)
	$(BIN)/python -m lossbench.transfer

transfer: $(RUN)  ## results/transfer.md from the cmr, cmr_realistic and acdc50 studies (no training)
	$(BIN)/python -m lossbench.transfer

reproducibility: $(RUN)  ## the experiment twice, seeds [0,1,2] and [3,4,5], conclusions compared (EXP=cmr)
	$(BIN)/python -m lossbench.reproduce +experiment=$(or $(EXP),cmr) $(ARGS)

pruning-check: $(RUN)  ## false prunes: make sweep (pruning on) vs make reproducibility's seeds 0-2 (off)
	$(BIN)/python -m lossbench.pruning +experiment=$(or $(EXP),cmr)

budget-check: $(RUN)  ## rerun every never-converging pairing at 4x the epochs (after make sweep)
	$(BIN)/python -m lossbench.sweep +experiment=$(or $(EXP),cmr) sweep.budget_check=true $(ARGS)

mlflow: $(RUN)  ## the MLflow UI on http://127.0.0.1:5000 (one worker, no background jobs), with each sweep's view URLs
	@$(BIN)/python -m tools.screenshot --list http://127.0.0.1:5000
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow server --workers 1 --host 127.0.0.1 --port 5000 \
	  --backend-store-uri sqlite:///results/mlflow.db --artifacts-destination results/mlartifacts

dashboard: $(RUN)  ## optuna-dashboard on http://127.0.0.1:8080 (EXP=cmr)
	$(BIN)/optuna-dashboard --host 127.0.0.1 --port 8080 results/$(or $(EXP),cmr)/optuna.journal

bench: $(RUN)  ## what lossbench adds to plain Keras (in-process and whole-process ratios), a trial's split, roofline
	$(BIN)/python benchmarks/bench_overhead.py $(ARGS)

gpu-check: $(STAMP)  ## on a GPU: devices, a trial on GPU vs CPU, 1 vs 4 workers per GPU, thread2_full timing (results/gpu/)
	$(BIN)/python benchmarks/gpu_check.py --backend $(or $(BACKEND),jax) $(ARGS)

gpu-wheels:  ## wheels for a Python 3.12 + JAX GPU machine with no package index (.gpu-wheels/, see benchmarks/gpu_offline.sh)
	rm -rf .gpu-wheels
	$(PY312) -m pip download --quiet --dest .gpu-wheels keras==3.15.1 'hydra-core==1.3.*' 'optuna>=5,<6' 'tqdm>=4.66'
	$(PY312) -m pip wheel --quiet --no-deps --wheel-dir .gpu-wheels .gpu-wheels/antlr4-python3-runtime-*.tar.gz
	rm -f .gpu-wheels/*.tar.gz .gpu-wheels/numpy-* .gpu-wheels/ml_dtypes-*
	du -sh .gpu-wheels

.gpu-data/acdc50-128.npz: $(RUN)  # the 50 ACDC patients at 128 px in one file (what travels to the GPU)
	$(BIN)/python -m tools.pack_acdc --size 128 --out $@

gpu-results: $(RUN) .gpu-data/acdc50-128.npz  ## after the GPU run (DIR= the files it brought back): import, report and re-test acdc50_gpu
	$(BIN)/python -m tools.import_records $(DIR) +experiment=acdc50_gpu
	$(BIN)/python -m lossbench.report +experiment=acdc50_gpu
	$(BIN)/python -m lossbench.holds +experiment=acdc50_gpu

bench-data: $(RUN)  ## data generation speed and class shares (both phantoms vs 50 ACDC patients)
	$(BIN)/python benchmarks/bench_data.py

bench-determinism: $(RUN)  ## what trainer.deterministic=true costs, and what is bit-identical
	$(BIN)/python benchmarks/bench_determinism.py

lint: $(STAMP)  ## ruff check and ruff format --check
	$(BIN)/ruff check lossbench tests benchmarks examples tools
	$(BIN)/ruff format --check lossbench tests benchmarks examples tools

format: $(STAMP)  ## ruff format and the fixable ruff checks
	$(BIN)/ruff format lossbench tests benchmarks examples tools
	$(BIN)/ruff check --fix lossbench tests benchmarks examples tools

clean:  ## remove the venv (the results stay)
	rm -rf $(VENV)
