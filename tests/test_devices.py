"""GPU slots for sweep workers (`lossbench.devices`), checked with made-up device lists: no GPU needed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lossbench import devices
from lossbench.errors import UserError


@pytest.mark.parametrize(
    "setting, available, expected",
    [
        ("auto", ["0", "1", "2"], ["0", "1", "2"]),
        (None, ["0"], ["0"]),
        ("auto", [], []),
        (2, ["0", "1", "2"], ["0", "1"]),
        ("1", ["3", "5"], ["3"]),
        (0, ["0", "1"], []),
        ([1, 2], ["0", "1", "2"], ["1", "2"]),
        (["5"], ["3", "5"], ["5"]),
    ],
)
def test_resolve_auto_a_count_or_a_list(setting, available, expected):
    assert devices.resolve(setting, available) == expected


@pytest.mark.parametrize(
    "setting, available, words",
    [
        (3, ["0", "1"], "sweep.gpus=3 but 2 GPU(s) are visible (0, 1)"),
        (1, [], "sweep.gpus=1 but 0 GPU(s) are visible (none)"),
        ([0, 4], ["0", "1"], "sweep.gpus lists GPU 4 but the visible GPUs are 0, 1"),
        ("all", ["0"], "sweep.gpus='all' - use auto, a count"),
        (True, ["0"], "sweep.gpus=True - use auto"),
    ],
)
def test_resolve_refuses_gpus_that_are_not_there_in_one_line(setting, available, words):
    with pytest.raises(UserError) as error:
        devices.resolve(setting, available)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_slots_spread_workers_round_robin_over_gpus():
    assert devices.slots(["0"], 2, n_workers=1) == ["0", "0"]  # two workers share one GPU
    assert devices.slots(["0", "1"], 3, n_workers=1) == ["0", "1", "0", "1", "0", "1"]
    assert devices.slots(["0", "1"], 1, n_workers=8) == ["0", "1"]  # with GPUs, n_workers is for CPU machines


def test_a_cpu_machine_keeps_its_n_workers():
    assert devices.slots([], 1, n_workers=2) == [None, None]
    assert devices.slots([], 4, n_workers=1) == [None]


def test_workers_per_gpu_must_be_positive():
    with pytest.raises(UserError, match="sweep.workers_per_gpu=0"):
        devices.slots(["0"], 0, n_workers=1)


@pytest.mark.parametrize("listed, expected", [("0,1", ["0", "1"]), ("", []), ("-1", []), (" 2 ", ["2"])])
def test_visible_gpus_honours_cuda_visible_devices(monkeypatch, listed, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", listed)
    assert devices.visible_gpus() == expected


def test_visible_gpus_without_nvidia_smi_is_none(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert devices.visible_gpus() == []


def test_pin_sets_the_gpu_and_memory_growth_before_any_framework_loads():
    """In a fresh process: after `pin`, TensorFlow's and JAX's settings are in the environment, and no
    framework has been imported by lossbench.devices itself."""
    code = (
        "import os, sys; from lossbench import devices; devices.pin('1');"
        "print(os.environ['CUDA_VISIBLE_DEVICES'], os.environ['TF_FORCE_GPU_ALLOW_GROWTH'],"
        " os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'], devices.device(),"
        " any(m in sys.modules for m in ('tensorflow', 'keras', 'jax')))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "LOSSBENCH_GPU")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["1", "true", "false", "gpu:1", "False"]


def test_a_cpu_worker_is_left_alone(monkeypatch):
    monkeypatch.delenv("LOSSBENCH_GPU", raising=False)
    before = dict(os.environ)
    devices.pin(None)
    assert dict(os.environ) == before and devices.device() == "cpu"


@pytest.mark.slow
def test_two_workers_share_one_gpu_slot_and_record_it_without_mlflow(tmp_path):
    """``sweep.workers_per_gpu=2`` on one visible GPU: two worker processes, both pinned to GPU 0 and
    tagged ``gpu:0``, recorded with ``tracking=none`` (JSON lines, no MLflow store). On this CPU
    machine ``CUDA_VISIBLE_DEVICES=0`` names a GPU that is not there, so TensorFlow trains on the CPU:
    this checks the assignment and its records, not a GPU, and that ``trained_on`` tells the two apart."""
    import json

    from test_sweep import study_of, sweep

    grid = "grid:\n  loss: [categorical_crossentropy, dice]\nseeds: [0]\n"
    done = sweep(
        tmp_path,
        grid,
        "tracking=none",
        "sweep.report=false",
        "sweep.workers_per_gpu=2",
        "sweep.max_seeds=0",
        env={"CUDA_VISIBLE_DEVICES": "0"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in (tmp_path / "results" / "tiny" / "records.jsonl").read_text().splitlines()]
    starts = [line for line in lines if line["event"] == "start"]
    assert len(starts) == 2 and {s["tags"]["device"] for s in starts} == {"gpu:0"}
    # planned on GPU 0, but no GPU is here: the weights lived on the CPU, and the record says so
    assert {line["trained_on"] for line in lines if line["event"] == "result"} == {"cpu:0"}
    assert sorted(line["event"] for line in lines).count("end") == 2
    assert "with 2 worker(s)" in done.stdout  # one process per GPU slot
    assert all(t.user_attrs["state"] == "complete" for t in study_of(tmp_path).trials)
    assert not (tmp_path / "results" / "mlflow.db").exists()


def test_the_parent_hides_the_gpus_from_itself_and_its_workers_see_them(monkeypatch):
    import os

    monkeypatch.setattr(devices, "_HIDDEN", {})
    monkeypatch.setattr(devices, "_LOADED_BEFORE_HIDING", [])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)
    devices.hide_from_parent()
    assert devices.hidden() and devices.visible_gpus() == [] and os.environ["CUDA_VISIBLE_DEVICES"] == "-1"
    assert devices.worker_gpus() == ["0", "1"]  # what the workers are planned on
    os.environ["JAX_PLATFORMS"] = "cpu"  # as runtime.configure sets it in a parent that sees no GPU
    with devices.unhidden():  # a GPU worker starts with the parent's settings as they were
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1" and "JAX_PLATFORMS" not in os.environ
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "-1" and os.environ["JAX_PLATFORMS"] == "cpu"
    devices.hide_from_parent()  # twice: the first settings are kept
    assert devices.worker_gpus() == ["0", "1"]


@pytest.mark.parametrize(
    "steps, refused",
    [
        ("pass", False),  # the sweep's parent as it is: no framework loaded
        ("devices.hide_from_parent(); import jax; jax.devices()", False),  # hidden first, then loaded
        ("import jax; jax.devices()", True),  # loaded with the GPUs visible
        ("import jax; devices.hide_from_parent()", True),  # hidden too late: jax was already loaded
    ],
)
def test_a_parent_that_loaded_a_framework_with_the_gpus_visible_starts_no_workers(steps, refused):
    """`devices.check_parent`, which the sweep calls before it spawns its workers, in fresh processes that
    really import JAX (CPU build here)."""
    code = f"from lossbench import devices; {steps}; devices.check_parent(); print('ok')"
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env | {"JAX_PLATFORMS": "cpu"}
    )
    if refused:
        assert done.returncode == 1 and "loaded jax with the GPUs visible" in done.stderr
    else:
        assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
