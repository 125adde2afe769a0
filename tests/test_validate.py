"""Every bad input is one line naming the setting and the fix, exit code 2, before any store is touched."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT
from omegaconf import OmegaConf

from lossbench.errors import UserError
from lossbench.sweep import space, validate

# (overrides, what the one line must say)
BAD_CONFIGS = [
    (["trainer.epochs=0"], "trainer.epochs=0 is out of range - train at least one epoch"),
    (["trainer.epochs=-1"], "trainer.epochs=-1 is out of range"),
    (["trainer.epochs=1.5"], "trainer.epochs=1.5 is not an integer"),
    (["trainer.batch_size=0"], "trainer.batch_size=0 is out of range"),
    (["trainer.steps_per_execution=0"], "trainer.steps_per_execution=0 is out of range"),
    (["trainer.threads=-1"], "trainer.threads=-1 is out of range"),
    (["trainer.seed=-3"], "trainer.seed=-3 is out of range"),
    (["data.image_size=40"], "data.image_size=40 is not divisible by 2**model.depth = 16"),
    (["data.image_size=8"], "data.image_size=8 is out of range"),
    (["model.depth=10"], "model.depth=10 is out of range - use 1 to 6"),
    (["model.base=0"], "model.base=0 is out of range"),
    (["data.num_classes=1"], "data.num_classes=1 is out of range"),
    (["sweep.n_workers=0"], "sweep.n_workers=0 is out of range"),
    (["sweep.n_workers=-3"], "sweep.n_workers=-3 is out of range"),
    (["sweep.warmup_epochs=-1"], "sweep.warmup_epochs=-1 is out of range"),
    (["sweep.max_seeds=-1"], "sweep.max_seeds=-1 is out of range"),
    (["sweep.n_trials=0"], "sweep.n_trials=0 is out of range"),
    (["optimizer.learning_rate=0"], "optimizer.learning_rate=0 is out of range"),
    (["sweep.pruner=foo"], "sweep.pruner=foo is not one of median, threshold, hyperband, none"),
    (["data.label_encoding=x"], "data.label_encoding=x is not one of auto, sparse, one_hot"),
    (["data.normalise=minmax"], "data.normalise=minmax is not one of none, zscore"),
    (["sweep.prune_below=2"], "sweep.prune_below=2 is not a Dice in [0, 1]"),
    (["class_weighting=effective_number", "class_weighting.beta=1.5"], "class_weighting.beta=1.5 is not in (0, 1)"),
    (["class_weighting=median_frequency", "+class_weighting.beta=0.5"], "MedianFrequency takes no option 'beta'"),
    (["trainer.precision=float64"], "trainer.precision=float64 is not one of float32, mixed_bfloat16, mixed_float16"),
    (["trainer.backend=torch"], "trainer.backend=torch is not one of tensorflow, jax"),
    (["trainer.jit_compile=maybe"], "trainer.jit_compile=maybe is not one of auto"),
    (["sweep.workers_per_gpu=0"], "sweep.workers_per_gpu=0 is out of range"),
    (["data=acdc"], "data.root is required for data=acdc - add data.root="),
    (["model=custom"], "model._target_ is required for model=custom - add model._target_=my_package.my_module.build"),
    (["+model.builder=lossbench.trial.model:unet"], "model.builder=lossbench.trial.model:unet is no longer read"),
    (["paths.results=/proc/lossbench"], "paths.results=/proc/lossbench: /proc is not a writable folder"),
    (["tracking.uri=ftp://example.org/x"], "tracking.uri=ftp://example.org/x is not a sqlite:/// path"),
    (["+sweep.storage=redis://user:secret@host/0"], "sweep.storage=host/0 is not an RDB URL"),
    (["tracking.uri=http://127.0.0.1:9"], "tracking.uri=http://127.0.0.1:9 does not answer"),
    (
        ["+sweep.storage=postgresql://me:secret@127.0.0.1:9/optuna"],
        "sweep.storage=postgresql://me:***@127.0.0.1:9/optuna is not reachable",
    ),
]
BAD_SPACES = [
    ("grid:\n  loss: [dice, no_such]\n", "grid: loss has no option 'no_such' - choose from"),
    ("grid:\n  losses: [dice]\n", "grid: 'losses' is not a config group"),
    ("grid:\n  trainer.epoch: [1, 2]\n", "grid: no setting trainer.epoch in the config"),
    ("trials:\n  - name: x\n    overrides: [loss=no_such]\n", "trial x: loss has no option 'no_such'"),
    ("grid: [loss\n", "is not valid YAML"),
    ("- just\n- a list\n", "is not a mapping of grid/trials/sample/seeds"),
    ("grdi:\n  loss: [dice]\n", "unknown key 'grdi'"),
]


@pytest.mark.parametrize(("overrides", "says"), BAD_CONFIGS, ids=[o[0] for o, _ in BAD_CONFIGS])
def test_a_bad_setting_is_one_line(compose_cfg, tmp_path, overrides, says):
    extra = [] if any(o.startswith("paths.results") for o in overrides) else [f"paths.results={tmp_path}"]
    cfg = compose_cfg(["+experiment=cmr", *extra, *overrides])
    with pytest.raises(UserError) as error:
        validate.check(cfg)
    assert says in str(error.value) and "\n" not in str(error.value) and " - " in str(error.value)
    assert "secret" not in str(error.value)  # a password in a URL is never printed
    assert not any(tmp_path.iterdir())  # nothing created


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (["sweep.gpus=3"], "sweep.gpus=3 but 0 GPU(s) are visible (none) - use sweep.gpus=auto"),
        (["sweep.gpus=[1]"], "sweep.gpus lists GPU 1 but the visible GPUs are none"),
        (["sweep.gpus=all"], "sweep.gpus='all' - use auto, a count"),
        (["tracking=none"], "tracking=none keeps no MLflow runs to report from - add sweep.report=false"),
    ],
    ids=["too-many-gpus", "absent-gpu", "gpus-word", "none-with-report"],
)
def test_a_bad_sweep_setting_is_one_line(compose_cfg, tmp_path, monkeypatch, overrides, says):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # a machine without GPUs, whatever this one has
    cfg = compose_cfg(["+experiment=cmr", f"paths.results={tmp_path}", *overrides])
    with pytest.raises(UserError) as error:
        validate.check(cfg, space.load_space(str(cfg.sweep.space)))
    assert says in str(error.value) and "\n" not in str(error.value)
    assert not any(tmp_path.iterdir())


def test_tracking_none_without_a_report_and_gpus_auto_on_a_cpu_pass(compose_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    cfg = compose_cfg(["+experiment=cmr", f"paths.results={tmp_path}", "tracking=none", "sweep.report=false"])
    validate.check(cfg, space.load_space(str(cfg.sweep.space)))


@pytest.mark.parametrize(("text", "says"), BAD_SPACES, ids=[s for _, s in BAD_SPACES])
def test_a_bad_sweep_file_is_one_line(compose_cfg, tmp_path, text, says):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        validate.check(compose_cfg([f"paths.results={tmp_path / 'r'}"]), space.load_space(str(path)))
    assert says in str(error.value) and "\n" not in str(error.value)


def test_the_committed_configs_and_sweeps_pass(compose_cfg, tmp_path):
    for experiment in ("cmr", "thread1", "thread2", "catalogue", "acdc50", "cmr_long"):
        cfg = compose_cfg([f"+experiment={experiment}", f"paths.results={tmp_path}"])
        validate.check(cfg, space.load_space(cfg.sweep.space))


def test_a_damaged_journal_is_named_and_left_unwritten(compose_cfg, tmp_path):
    journal = tmp_path / "cmr" / "optuna.journal"
    journal.parent.mkdir()
    journal.write_text('{"op_code": 0, "worker_id": "a"}\ngarbage appended\n')
    before = journal.read_bytes()
    with pytest.raises(UserError, match=r"optuna.journal is damaged at line 2 - remove that line"):
        validate.check(compose_cfg(["+experiment=cmr", f"paths.results={tmp_path}"]))
    assert journal.read_bytes() == before


def test_a_truncated_mlflow_store_is_named(compose_cfg, tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 80)  # a header and nothing else
    with pytest.raises(UserError, match=r"MLflow store .*mlflow.db is damaged .* move it aside"):
        validate.check(compose_cfg(["+experiment=cmr", f"paths.results={tmp_path}"]))


def run(module: str, *args: str, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["loss=no_such"], "lossbench: error: no loss option 'no_such' - choose from binary_crossentropy, "),
        (["+experiment=no_such"], "lossbench: error: no experiment option 'no_such' - choose from acdc, "),
        (["+experiment=cmr", "trainer.epochs=0"], "lossbench: error: trainer.epochs=0 is out of range"),
        (["+experiment=cmr", "trainer.epoch=3"], "lossbench: error: Could not override 'trainer.epoch'."),
        (
            ["+experiment=cmr", "model=custom", "model.builder=my.models:build"],
            "lossbench: error: model.builder=my.models:build is no longer read - name the builder as "
            "model._target_=my.models.build",
        ),
    ],
)
def test_the_sweep_exits_2_with_one_line_and_creates_nothing(tmp_path, args, line):
    done = run("lossbench.sweep", *args, f"paths.results={tmp_path / 'results'}", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), done.stderr
    assert sorted(os.listdir(tmp_path)) == []  # no results/, no outputs/, no store


def test_the_report_on_a_missing_study_is_one_line(tmp_path):
    done = run("lossbench.report", "+experiment=cmr", f"paths.results={tmp_path}", cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"lossbench: error: no study store {tmp_path}/cmr/optuna.journal - run python -m lossbench.sweep "
        "+experiment=cmr first"
    )


def test_omegaconf_missing_is_detected_without_resolving():
    cfg = OmegaConf.create({"data": {"name": "acdc", "root": "???"}})
    with pytest.raises(UserError, match="data.root is required for data=acdc"):
        validate.check_values(cfg)


def test_a_sqlite_study_store_is_refused_for_several_workers(compose_cfg, tmp_path):
    """SQLite's claim of a waiting trial is not atomic across processes (3 workers made 31 claims of 20 trials)."""
    cfg = compose_cfg(["+experiment=cmr", f"paths.results={tmp_path}", f"sweep.storage=sqlite:///{tmp_path}/o.db"])
    with pytest.raises(UserError, match="cannot give each waiting trial to exactly one of sweep.n_workers=2"):
        validate.check_places(cfg)
    validate.check_places(OmegaConf.merge(cfg, {"sweep": {"n_workers": 1}}))


def test_the_report_runs_the_sweeps_checks_first(tmp_path):
    truncated = tmp_path / "mlflow.db"
    truncated.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)  # a store cut short
    done = run("lossbench.report", "+experiment=cmr", f"paths.results={tmp_path}", cwd=ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().startswith(f"lossbench: error: MLflow store {truncated} is damaged")
    done = run("lossbench.report", "+experiment=cmr", "sweep.seeds=[a]", f"paths.results={tmp_path / 'r'}", cwd=ROOT)
    assert done.returncode == 2 and "sweep.seeds: 'a' is not a non-negative integer seed" in done.stderr
